//! What tells one state of a Takeout part from another, read-only and
//! bounded: a file's size, time, device, inode and the hash of its first
//! and last bytes; a folder's walk of its `Takeout/` (no link followed),
//! ended only by a silence of a whole bound, not by its length (a large
//! Google Drive folder walks slowly; a blocked one stops answering).

use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::InboxError;
use crate::private_fs;
use crate::takeout::archive::Format;

/// What tells one state of a part from another: a part rewritten,
/// replaced, grown or still being written differs in at least one. For a
/// folder: the total size of its files, the newest time, the device and
/// inode of its `Takeout/`, and `edges` the hash of its whole listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub modified_ns: i128,
    /// Device and inode: a file replaced under the same name.
    pub device: u64,
    pub inode: u64,
    /// BLAKE3 of the first and last `EDGE` bytes: a zip's or gzip's end
    /// (central directory, trailer) changes when the file is rewritten even
    /// with the same size and time. For a folder, of every entry below
    /// `Takeout/`: path, type, size, time, a link's target.
    pub edges: [u8; 32],
}

/// Bytes read at each end of a part for its fingerprint.
pub const EDGE: u64 = 64 * 1024;

/// The fingerprint of the part at `path` (read-only, no link followed),
/// within `bound`: a file's whole reading, or for a folder each step of
/// its walk (a large folder takes long, a blocked one stops answering).
pub fn fingerprint(
    path: &Path,
    format: Format,
    bound: Duration,
) -> Result<Fingerprint, InboxError> {
    let owned = path.to_owned();
    let answer = match format {
        Format::Folder => while_answering(bound, move |alive| folder_fingerprint(&owned, alive)),
        Format::Zip | Format::TarGz => {
            crate::terminate::bounded(bound, move || fingerprint_of(&owned))
        }
    };
    match answer {
        Some(result) => result.map_err(|source| InboxError::Part {
            part: path.to_owned(),
            source,
        }),
        None => Err(InboxError::PartHung {
            part: path.to_owned(),
            bound,
        }),
    }
}

/// Runs `f` on a thread of its own as long as it says it is `alive` (a
/// counter, cheap per step) within every `bound`: `None` after a whole
/// `bound` without a step (so it was silent for between one and two
/// bounds; the thread is left behind, like `terminate::bounded`'s).
fn while_answering<T: Send + 'static>(
    bound: Duration,
    f: impl FnOnce(&dyn Fn()) -> T + Send + 'static,
) -> Option<T> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let steps = std::sync::Arc::new(AtomicU64::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    let counted = std::sync::Arc::clone(&steps);
    std::thread::spawn(move || {
        let alive = move || {
            counted.fetch_add(1, Ordering::Relaxed);
        };
        let _ = tx.send(f(&alive));
    });
    let mut seen = 0;
    loop {
        match rx.recv_timeout(bound) {
            Ok(t) => return Some(t),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let now = steps.load(Ordering::Relaxed);
                if now == seen {
                    return None;
                }
                seen = now;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    }
}

fn ns_since_epoch(t: SystemTime) -> i128 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

fn fingerprint_of(path: &Path) -> io::Result<Fingerprint> {
    let (mut file, meta) = private_fs::open_source(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; EDGE as usize];
    let head = read_up_to(&mut file, &mut buf)?;
    hasher.update(&buf[..head]);
    if meta.len() > EDGE {
        file.seek(SeekFrom::Start(meta.len().saturating_sub(EDGE).max(EDGE)))?;
        let tail = read_up_to(&mut file, &mut buf)?;
        hasher.update(&buf[..tail]);
    }
    Ok(Fingerprint {
        size: meta.len(),
        modified_ns: ns_since_epoch(meta.modified()?),
        device: meta.dev(),
        inode: meta.ino(),
        edges: *hasher.finalize().as_bytes(),
    })
}

/// Walks `root/Takeout` as the reader does (no link followed, one file
/// system, by name) and hashes what it lists; nothing is opened. `alive`
/// after each entry.
fn folder_fingerprint(root: &Path, alive: &dyn Fn()) -> io::Result<Fingerprint> {
    let top = root.join("Takeout");
    let top_meta = fs::symlink_metadata(&top)?;
    if !top_meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "its Takeout is not a folder; refused",
        ));
    }
    let mut hasher = blake3::Hasher::new();
    let mut record = Vec::with_capacity(512);
    let mut size = 0u64;
    let mut newest = ns_since_epoch(top_meta.modified()?);
    let walk = walkdir::WalkDir::new(&top)
        .follow_links(false)
        .follow_root_links(false)
        .same_file_system(true)
        .sort_by_file_name();
    for entry in walk {
        alive();
        let entry = entry.map_err(io::Error::from)?;
        let meta = entry.metadata().map_err(io::Error::from)?;
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let rel = rel.as_os_str().as_encoded_bytes();
        let t = entry.file_type();
        let (tag, target) = if t.is_symlink() {
            let target = fs::read_link(entry.path())?;
            (b'l', target.into_os_string().into_encoded_bytes())
        } else if t.is_dir() {
            (b'd', Vec::new())
        } else if t.is_file() {
            size = size.saturating_add(meta.len());
            (b'f', Vec::new())
        } else {
            (b'o', Vec::new())
        };
        let modified = ns_since_epoch(meta.modified()?);
        newest = newest.max(modified);
        // Lengths first: no two listings hash alike by shifting bytes.
        // One record, one update (many small updates cost more).
        record.clear();
        record.extend_from_slice(&(rel.len() as u64).to_le_bytes());
        record.extend_from_slice(rel);
        record.push(tag);
        record.extend_from_slice(&meta.len().to_le_bytes());
        record.extend_from_slice(&modified.to_le_bytes());
        record.extend_from_slice(&(target.len() as u64).to_le_bytes());
        record.extend_from_slice(&target);
        hasher.update(&record);
    }
    Ok(Fingerprint {
        size,
        modified_ns: newest,
        device: top_meta.dev(),
        inode: top_meta.ino(),
        edges: *hasher.finalize().as_bytes(),
    })
}

fn read_up_to(file: &mut fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::super::BOUND;
    use super::*;

    #[test]
    fn a_walk_is_bounded_by_its_silences_not_its_length() {
        let bound = Duration::from_millis(300);
        // Longer than the bound in all, but never silent for as long.
        let steady = while_answering(bound, |alive| {
            for _ in 0..8 {
                std::thread::sleep(Duration::from_millis(60));
                alive();
            }
            7
        });
        assert_eq!(steady, Some(7));
        let started = std::time::Instant::now();
        let stuck = while_answering(bound, |alive| {
            alive();
            std::thread::sleep(Duration::from_secs(3600));
        });
        assert_eq!(stuck, None);
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn a_folder_fingerprint_changes_with_what_it_lists_and_never_follows_a_link() {
        let inbox = tempfile::tempdir().unwrap();
        let root = inbox.path().join("takeout-20240701T221728Z-001");
        let photos = root.join("Takeout/Google Photos/Photos from 2024");
        fs::create_dir_all(&photos).unwrap();
        fs::write(photos.join("a.jpg"), b"aaaa").unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("b.jpg"), b"bb").unwrap();
        let fp = || fingerprint(&root, Format::Folder, BOUND).unwrap();
        let first = fp();
        assert_eq!(first.size, 4);
        assert_eq!(fp(), first, "unchanged, the same");

        std::os::unix::fs::symlink(outside.path(), photos.join("out")).unwrap();
        let linked = fp();
        assert_ne!(linked, first, "a link is listed");
        assert_eq!(linked.size, 4, "and not followed");
        fs::write(outside.path().join("b.jpg"), b"bbbbbbbb").unwrap();
        fs::write(outside.path().join("c.jpg"), b"c").unwrap();
        assert_eq!(fp(), linked, "what the link points at is not read");

        // Still being unpacked: a file grows, one more arrives.
        let f = fs::OpenOptions::new()
            .append(true)
            .open(photos.join("a.jpg"))
            .unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1))
            .unwrap();
        let touched = fp();
        assert_ne!(touched, linked, "a time changed");
        std::io::Write::write_all(&mut &f, b"a").unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1))
            .unwrap();
        let grown = fp();
        assert_ne!(grown, touched, "a size changed");
        assert_eq!(grown.size, 5);
        fs::write(photos.join("z.json"), b"{}").unwrap();
        assert_ne!(fp(), grown, "a file more");

        let not_takeout = inbox.path().join("Holi\x1b[2Jday");
        fs::create_dir(&not_takeout).unwrap();
        let e = fingerprint(&not_takeout, Format::Folder, BOUND).unwrap_err();
        assert!(matches!(e, InboxError::Part { .. }), "{e:?}");
        assert!(e.to_string().contains("Holi\\u{1b}[2Jday"), "{e}");
        assert!(!e.to_string().contains('\x1b'), "{e}");
    }
}
