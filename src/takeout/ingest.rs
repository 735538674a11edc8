//! Reading a Takeout set's members into holding files, part by part, across
//! runs. Google may put a photo's JSON in a later part than the photo, and
//! a `.tgz` part can only be read front to back, so nothing is staged until
//! every part is read; a real set (16 parts of 50 GB, fetched on demand by
//! Google Drive) takes many runs, so what is read is kept (the ledger's
//! member rows, written by the caller in checkpoints) and the next run goes
//! on from the next member (`archive::read_members_after`).
//!
//! A media member is copied into a temporary file in the holding folder,
//! hashed while copied and fsynced, then renamed to its content hash; if
//! the source staged that content before, or the holding folder has it
//! already, the copy is removed at once. So holding needs at most the new
//! contents plus one member, and a scheduled export of a library staged
//! before writes nothing that stays. A JSON's bytes are kept in the member
//! row (small: capped at `metadata::MAX_JSON_BYTES`).
//!
//! A read from a Drive folder can block for minutes or forever, so a part
//! is read on a worker thread ([`PartReader`]) that sends each member read
//! and a heartbeat of bytes over a channel; the run's thread writes the
//! checkpoints and waits with a bound. The worker writes only its own
//! temporary file and holding files, never the ledger: left behind blocked,
//! it changes nothing the next run relies on.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;

use super::archive::{self, Format, Item, Modified, ReadError};
use super::metadata::MAX_JSON_BYTES;
use super::names;
use super::sidecar_match::Member;
use crate::ledger::{MemberKind, TakeoutMember};
use crate::private_fs;

/// Free space left on the staging file system beyond a member copied into
/// holding: a full disk breaks more than this run.
pub const FREE_MARGIN: u64 = 1 << 30;

/// A media member held, waiting for the whole set to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The holding file (absent when the content was staged before).
    pub file: PathBuf,
    pub size: u64,
    /// BLAKE3 of the bytes, lowercase hex.
    pub hash: String,
    pub modified: Option<Modified>,
}

/// What a member turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Media(Held),
    /// A JSON's bytes.
    Json(Vec<u8>),
    /// A JSON larger than one can be, with its size: not kept in memory,
    /// listed as unreadable.
    OversizeJson(u64),
}

/// A whole set, read.
#[derive(Debug, Default)]
pub struct SetRead {
    /// Every regular member, by part then archive order (for `sidecar_match`).
    pub members: Vec<Member>,
    /// The content of each member, same index.
    pub contents: Vec<Content>,
    /// Members left alone: the part's name, and the member's name with why.
    pub refused: Vec<(String, String)>,
}

/// The holding folder of a source: a content's file is named by its hash;
/// temporary files (a copy under way, an XMP sidecar on its way into
/// staging) start with `tmp-`.
#[derive(Debug, Clone)]
pub struct Holding {
    dir: PathBuf,
}

/// Unique temporary names within the process.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

impl Holding {
    /// Holding files go into `dir` (made owner-only if missing): it must be
    /// on the same file system as staging, so a file moves by a rename.
    pub fn new(dir: &Path) -> io::Result<Self> {
        private_fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    /// The holding file of a content.
    #[must_use]
    pub fn file_of(&self, hash: &str) -> PathBuf {
        self.dir.join(hash)
    }

    /// Removes from the holding folder `dir` every regular file not named
    /// by a hash in `keep` (temporary files of a killed run, contents of a
    /// set staged or started over); never follows a link, never enters a
    /// folder. Returns how many went.
    pub fn clear_unreferenced(dir: &Path, keep: &HashSet<String>) -> io::Result<usize> {
        let mut removed = 0;
        match fs::symlink_metadata(dir) {
            Ok(m) if !m.is_dir() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("is {}, not a folder; refused", private_fs::kind(&m)),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            _ => {}
        }
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let kept = entry.file_name().to_str().is_some_and(|n| keep.contains(n));
            if !kept && entry.file_type()?.is_file() {
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn temp(&self) -> PathBuf {
        let n = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
        self.dir.join(format!("tmp-{}-{n}", std::process::id()))
    }

    /// A new owner-only temporary file with `bytes` (a sidecar), fsynced.
    pub fn hold_bytes(&self, bytes: &[u8]) -> io::Result<PathBuf> {
        let path = self.temp();
        let mut file = private_fs::create_new(&path)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        Ok(path)
    }

    /// Copies `from` into a temporary file, hashing it, fsynced; then keeps
    /// it under its hash unless `known` has the hash or the holding folder
    /// has it already. Returns the size and hash.
    fn hold_content(
        &self,
        from: &mut dyn Read,
        known: &HashSet<String>,
    ) -> io::Result<(u64, String)> {
        let temp = self.temp();
        let result = self.copy_into(&temp, from, known);
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    fn copy_into(
        &self,
        temp: &Path,
        from: &mut dyn Read,
        known: &HashSet<String>,
    ) -> io::Result<(u64, String)> {
        let mut file = private_fs::create_new(temp)?;
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n])?;
            size += n as u64;
            crate::failpoint::pause("takeout-copying");
        }
        let hash = hasher.finalize().to_hex().to_string();
        let target = self.file_of(&hash);
        if known.contains(&hash) || fs::symlink_metadata(&target).is_ok_and(|m| m.is_file()) {
            drop(file);
            fs::remove_file(temp)?;
        } else {
            file.sync_all()?;
            drop(file);
            fs::rename(temp, &target)?;
            crate::failpoint::pause("takeout-held");
        }
        Ok((size, hash))
    }
}

/// An archive time as a member row keeps it.
#[must_use]
pub fn modified_text(m: Modified) -> String {
    match m {
        Modified::Unix(s) => format!("unix:{s}"),
        Modified::Dos(t) => format!("dos:{}", t.format("%Y-%m-%dT%H:%M:%S")),
    }
}

/// An archive time back from a member row (`None` for anything else).
#[must_use]
pub fn parse_modified(text: &str) -> Option<Modified> {
    if let Some(s) = text.strip_prefix("unix:") {
        return s.parse().ok().map(Modified::Unix);
    }
    let t = text.strip_prefix("dos:")?;
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(Modified::Dos)
}

/// What the worker reading a part sends.
#[derive(Debug)]
pub enum Event {
    /// A member begins (its path, printable).
    Begin(String),
    /// Bytes of the current member read so far: the reading is alive.
    Heartbeat(u64),
    /// A member read whole (its holding file, if any, durable).
    Read(TakeoutMember),
    /// The reading ended.
    End(End),
}

/// How the reading of a part ended.
#[derive(Debug)]
pub enum End {
    /// Every member read.
    ToItsEnd,
    /// Asked to stop (between members).
    Stopped,
    /// The staging file system has too little room for the next member.
    LowDisk {
        needed: u64,
        available: u64,
    },
    Failed(ReadError),
}

/// A part being read on its own thread.
pub struct PartReader {
    pub events: Receiver<Event>,
    stop: Arc<AtomicBool>,
}

impl PartReader {
    /// Asks the worker to stop before its next member.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// What a worker needs to read one part.
#[derive(Debug, Clone)]
pub struct PartJob {
    pub path: PathBuf,
    pub format: Format,
    /// Members read before (by an earlier run): passed over.
    pub skip: u64,
    /// Contents the source staged before: not kept in holding.
    pub known: Arc<HashSet<String>>,
    /// Free space to leave on the holding folder's file system beyond a
    /// member copied (`FREE_MARGIN`).
    pub free_margin: u64,
}

/// Starts reading `job` on a worker thread into `holding`.
pub fn spawn_part_reader(job: PartJob, holding: Holding) -> io::Result<PartReader> {
    let (tx, rx) = mpsc::sync_channel(256);
    let stop = Arc::new(AtomicBool::new(false));
    let asked = Arc::clone(&stop);
    std::thread::Builder::new()
        .name("takeout-part".into())
        .spawn(move || {
            let send = |e: Event| tx.send(e).is_ok();
            let end = read_part(&job, &holding, &asked, &send);
            // The run may have gone on without us (a stall): nobody listens.
            send(Event::End(end));
        })?;
    Ok(PartReader { events: rx, stop })
}

/// A reader that sends a heartbeat with the bytes read so far, each MiB.
struct Beating<'a, R> {
    inner: R,
    read: u64,
    send: &'a dyn Fn(Event) -> bool,
}

impl<R: Read> Read for Beating<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let before = self.read;
        self.read += n as u64;
        // One beat per MiB: alive, without a message per small read.
        if before >> 20 != self.read >> 20 {
            (self.send)(Event::Heartbeat(self.read));
        }
        Ok(n)
    }
}

/// Why the visit of a member ended the reading early (not an error of the
/// part).
enum Halt {
    Stopped,
    LowDisk { needed: u64, available: u64 },
}

fn free_space(dir: &Path) -> io::Result<u64> {
    let s = rustix::fs::statvfs(dir)?;
    Ok(s.f_bavail.saturating_mul(s.f_frsize))
}

fn read_part(
    job: &PartJob,
    holding: &Holding,
    stop: &AtomicBool,
    send: &dyn Fn(Event) -> bool,
) -> End {
    let mut index = job.skip;
    let mut halt: Option<Halt> = None;
    let result = archive::read_members_after(&job.path, job.format, job.skip, &mut |item| {
        if stop.load(Ordering::SeqCst) {
            halt = Some(Halt::Stopped);
            return Err(io::Error::other("asked to stop"));
        }
        let row = match item {
            Item::Refused(refused) => TakeoutMember {
                index,
                path: refused.name.clone(),
                kind: MemberKind::Refused(refused.kind.to_string()),
            },
            Item::File(mut member) => {
                let path = member.path.as_str().to_owned();
                send(Event::Begin(crate::printable::printable(&path)));
                crate::failpoint::pause("takeout-member-read");
                let kind = if names::json_key(member.path.file_name()).is_some() {
                    let mut bytes = Vec::new();
                    (&mut member)
                        .take(MAX_JSON_BYTES as u64 + 1)
                        .read_to_end(&mut bytes)?;
                    if bytes.len() <= MAX_JSON_BYTES {
                        MemberKind::Json(bytes)
                    } else {
                        let rest = io::copy(&mut member, &mut io::sink())?;
                        MemberKind::OversizeJson(bytes.len() as u64 + rest)
                    }
                } else if names::is_takeout_index(&path) {
                    // Takeout's own index page: no photo, never staged;
                    // hashed for its row, not held.
                    let mut hasher = blake3::Hasher::new();
                    let size = io::copy(&mut member, &mut hasher)?;
                    MemberKind::Media {
                        hash: hasher.finalize().to_hex().to_string(),
                        size,
                        modified: member.modified.map(modified_text),
                    }
                } else {
                    let available = free_space(&holding.dir)?;
                    let needed = member.size.saturating_add(job.free_margin);
                    if available < needed {
                        halt = Some(Halt::LowDisk { needed, available });
                        return Err(io::Error::other("too little free space"));
                    }
                    let modified = member.modified;
                    let mut beating = Beating {
                        inner: &mut member,
                        read: 0,
                        send,
                    };
                    let (size, hash) = holding.hold_content(&mut beating, &job.known)?;
                    MemberKind::Media {
                        hash,
                        size,
                        modified: modified.map(modified_text),
                    }
                };
                TakeoutMember { index, path, kind }
            }
        };
        index += 1;
        if send(Event::Read(row)) {
            Ok(())
        } else {
            Err(io::Error::other("the run stopped listening"))
        }
    });
    match (result, halt) {
        (Err(ReadError::Visit { .. }), Some(Halt::Stopped)) => End::Stopped,
        (Err(ReadError::Visit { .. }), Some(Halt::LowDisk { needed, available })) => {
            End::LowDisk { needed, available }
        }
        (Ok(()), _) => End::ToItsEnd,
        (Err(e), _) => End::Failed(e),
    }
}

/// The set for planning, from the member rows of each of its parts (in
/// part order) and the holding folder.
#[must_use]
pub fn set_read(parts: &[(String, Vec<TakeoutMember>)], holding: &Holding) -> SetRead {
    let mut read = SetRead::default();
    for (number, (part, rows)) in parts.iter().enumerate() {
        for row in rows {
            let content = match &row.kind {
                MemberKind::Refused(why) => {
                    read.refused
                        .push((part.clone(), format!("{}: {why}", row.path)));
                    continue;
                }
                MemberKind::Json(bytes) => Content::Json(bytes.clone()),
                MemberKind::OversizeJson(size) => Content::OversizeJson(*size),
                MemberKind::Media {
                    hash,
                    size,
                    modified,
                } => Content::Media(Held {
                    file: holding.file_of(hash),
                    size: *size,
                    hash: hash.clone(),
                    modified: modified.as_deref().and_then(parse_modified),
                }),
            };
            read.members.push(Member {
                part: number,
                path: row.path.clone(),
            });
            read.contents.push(content);
        }
    }
    read
}

/// Reads every part (`parts`: path and format, by number) into `holding`
/// in one go on this thread (a bench, a tool): no contents known before.
/// Stops at the first part that cannot be read, with its error.
pub fn read_set(parts: &[(PathBuf, Format)], holding: &mut Holding) -> Result<SetRead, ReadError> {
    let mut rows = Vec::new();
    let known = Arc::new(HashSet::new());
    for (path, format) in parts {
        let job = PartJob {
            path: path.clone(),
            format: *format,
            skip: 0,
            known: Arc::clone(&known),
            free_margin: FREE_MARGIN,
        };
        let members = RefCell::new(Vec::new());
        let send = |e: Event| {
            if let Event::Read(m) = e {
                members.borrow_mut().push(m);
            }
            true
        };
        let end = read_part(&job, holding, &AtomicBool::new(false), &send);
        let members = members.into_inner();
        match end {
            End::Failed(e) => return Err(e),
            End::LowDisk { needed, available } => {
                return Err(ReadError::Visit {
                    part: path.clone(),
                    member: String::new(),
                    source: io::Error::other(format!(
                        "{available} bytes free in the holding folder, {needed} needed"
                    )),
                })
            }
            End::ToItsEnd | End::Stopped => {}
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        rows.push((name, members));
    }
    Ok(set_read(&rows, holding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_times_round_trip_through_their_text() {
        let dos = chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_opt(23, 59, 58)
            .unwrap();
        for m in [
            Modified::Unix(-5),
            Modified::Unix(1_700_000_000),
            Modified::Dos(dos),
        ] {
            assert_eq!(parse_modified(&modified_text(m)), Some(m));
        }
        assert_eq!(parse_modified("dos:yesterday"), None);
        assert_eq!(parse_modified("other"), None);
    }

    #[test]
    fn a_content_is_held_once_and_not_at_all_when_known() {
        let dir = tempfile::tempdir().unwrap();
        let holding = Holding::new(&dir.path().join("h")).unwrap();
        let none = HashSet::new();
        let (size, hash) = holding.hold_content(&mut &b"photo"[..], &none).unwrap();
        assert_eq!(
            (size, hash.as_str()),
            (5, blake3::hash(b"photo").to_hex().as_str())
        );
        assert_eq!(fs::read(holding.file_of(&hash)).unwrap(), b"photo");
        // Again: the same one file.
        holding.hold_content(&mut &b"photo"[..], &none).unwrap();
        let known: HashSet<String> = [blake3::hash(b"old").to_hex().to_string()].into();
        holding.hold_content(&mut &b"old"[..], &known).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path().join("h"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![hash.clone()], "one file, no temp left");
        // What no row refers to goes; a link is never followed.
        fs::write(dir.path().join("h/tmp-1-1"), b"cut").unwrap();
        fs::write(dir.path().join("outside"), b"keep").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), dir.path().join("h/link")).unwrap();
        let keep: HashSet<String> = [hash.clone()].into();
        assert_eq!(
            Holding::clear_unreferenced(&dir.path().join("h"), &keep).unwrap(),
            1
        );
        assert!(holding.file_of(&hash).exists());
        assert_eq!(fs::read(dir.path().join("outside")).unwrap(), b"keep");
        assert_eq!(
            Holding::clear_unreferenced(&dir.path().join("h"), &HashSet::new()).unwrap(),
            1
        );
        assert!(!holding.file_of(&hash).exists());
        // A holding folder that is a link is refused, its target untouched.
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        fs::write(elsewhere.join("victim"), b"keep").unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.path().join("linked")).unwrap();
        let err = Holding::clear_unreferenced(&dir.path().join("linked"), &HashSet::new());
        assert!(err.unwrap_err().to_string().contains("refused"));
        assert!(elsewhere.join("victim").exists());
    }
}
