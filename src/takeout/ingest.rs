//! Reading a whole Takeout set once, streaming, before anything is staged.
//! Google may put a photo's JSON in a later part than the photo, and a
//! `.tgz` part can only be read front to back, so nothing can be decided
//! per member: each media member is copied as it streams by into an
//! owner-only holding file (hashed while copied, fsynced), each JSON kept
//! in memory (small: capped at `metadata::MAX_JSON_BYTES`), and only when
//! every part has been read to its end do matching and staging begin
//! (`plan`). A part that breaks ends the reading with the error naming the
//! part and member; the holding files go with the [`Holding`] that owns
//! them, whatever happened.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::archive::{self, Format, Item, Modified, ReadError, Refused};
use super::metadata::MAX_JSON_BYTES;
use super::names;
use super::sidecar_match::Member;
use crate::private_fs;

/// A media member copied out, waiting for the whole set to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The holding file.
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
    /// Members left alone, with the part's name: listed, never staged.
    pub refused: Vec<(String, Refused)>,
}

/// The holding folder's files of one set: removed when dropped, unless
/// moved away before (a rename into staging).
#[derive(Debug)]
pub struct Holding {
    dir: PathBuf,
    files: Vec<PathBuf>,
}

impl Holding {
    /// Holding files go into `dir` (made owner-only if missing): it must be
    /// on the same file system as staging, so a file moves by a rename.
    pub fn new(dir: &Path) -> io::Result<Self> {
        private_fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            files: Vec::new(),
        })
    }

    /// Removes what a killed run left in the holding folder `dir` (only its
    /// regular files; nothing else is ever there).
    pub fn clear_leftovers(dir: &Path) -> io::Result<usize> {
        let mut removed = 0;
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// A new owner-only holding file with `bytes` (a sidecar), fsynced.
    pub fn hold_bytes(&mut self, bytes: &[u8]) -> io::Result<PathBuf> {
        Ok(self.hold(&mut &bytes[..])?.0)
    }

    /// A new owner-only file, hashed while `from` is copied into it, fsynced.
    fn hold(&mut self, from: &mut dyn Read) -> io::Result<(PathBuf, u64, String)> {
        // Unique within the run; a killed run's files are cleared first.
        let path = (self.dir).join(format!("{}-{}", std::process::id(), self.files.len()));
        let mut file = private_fs::create_new(&path)?;
        self.files.push(path.clone());
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
        }
        file.sync_all()?;
        Ok((path, size, hasher.finalize().to_hex().to_string()))
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        for file in &self.files {
            // Moved into staging already, or never fully made: nothing to do.
            let _ = fs::remove_file(file);
        }
    }
}

/// Reads every part (`parts`: path and format, by number) into `holding`
/// and memory. Stops at the first part that cannot be read, with its error.
pub fn read_set(parts: &[(PathBuf, Format)], holding: &mut Holding) -> Result<SetRead, ReadError> {
    let mut read = SetRead::default();
    for (index, (part, format)) in parts.iter().enumerate() {
        let part_name = part
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        archive::read_members(part, *format, &mut |item| {
            match item {
                Item::Refused(refused) => read.refused.push((part_name.clone(), refused)),
                Item::File(mut member) => {
                    let path = member.path.as_str().to_owned();
                    let content = if names::json_key(member.path.file_name()).is_some() {
                        let mut bytes = Vec::new();
                        (&mut member)
                            .take(MAX_JSON_BYTES as u64 + 1)
                            .read_to_end(&mut bytes)?;
                        if bytes.len() <= MAX_JSON_BYTES {
                            Content::Json(bytes)
                        } else {
                            let rest = io::copy(&mut member, &mut io::sink())?;
                            Content::OversizeJson(bytes.len() as u64 + rest)
                        }
                    } else {
                        let modified = member.modified;
                        let (file, size, hash) = holding.hold(&mut member)?;
                        Content::Media(Held {
                            file,
                            size,
                            hash,
                            modified,
                        })
                    };
                    read.members.push(Member { part: index, path });
                    read.contents.push(content);
                }
            }
            Ok(())
        })?;
    }
    Ok(read)
}
