//! The copy of a library's database kept between runs (`snapshot::take_kept`):
//! reused while the database file is the very one copied, so a run after
//! Photos wrote to its WAL copies the WAL, not the whole database.
//!
//! `copy.json` beside the copy records the database file it was made from
//! (inode, size, modification and change times) and the copy as written
//! (size and times). The copy is reused only when both still match; the
//! change time, which no writer can set back, makes a rewrite in place
//! visible even when size and modification time were restored. A copy is
//! recorded only after the database was seen unchanged across the copy.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::snapshot::{shm_path, wal_path, Copier};
use super::PhotosError;

const COPY: &str = "Photos.sqlite";
const RECORD: &str = "copy.json";

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
}

impl Identity {
    fn of(path: &Path) -> io::Result<Self> {
        let m = fs::metadata(path)?;
        Ok(Self {
            dev: m.dev(),
            ino: m.ino(),
            size: m.len(),
            mtime_ns: m.mtime().saturating_mul(1_000_000_000) + m.mtime_nsec(),
            ctime_ns: m.ctime().saturating_mul(1_000_000_000) + m.ctime_nsec(),
        })
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Record {
    source: Identity,
    copy: Identity,
}

/// Makes `kept/Photos.sqlite` a copy of `db` (reused when still one, or
/// copied anew; always anew when `fresh`), without a WAL or `-shm` beside
/// it, and returns its path.
pub(super) fn refresh(
    db: &Path,
    kept: &Path,
    copy: Copier,
    fresh: bool,
) -> Result<PathBuf, PhotosError> {
    let io_err = |p: &Path| {
        let p = p.to_owned();
        move |e| PhotosError::io(&p, e)
    };
    create_private_dir(kept).map_err(io_err(kept))?;
    let target = kept.join(COPY);
    for stale in [wal_path(&target), shm_path(&target)] {
        remove_file(&stale)?;
    }
    if !fresh && still_the_copy(db, kept) {
        return Ok(target);
    }
    forget(kept)?;
    let temp = kept.join("Photos.sqlite.partial");
    remove_file(&temp)?;
    super::snapshot::copy_owner_only(copy, db, &temp).map_err(io_err(db))?;
    fs::rename(&temp, &target).map_err(io_err(&target))?;
    Ok(target)
}

/// Records that the copy in `kept` is one of `db` as it is now (called once
/// the database was seen unchanged across the copy).
pub(super) fn remember(db: &Path, kept: &Path) -> Result<(), PhotosError> {
    let record = Record {
        source: Identity::of(db).map_err(|e| PhotosError::io(db, e))?,
        copy: Identity::of(&kept.join(COPY)).map_err(|e| PhotosError::io(kept, e))?,
    };
    let path = kept.join(RECORD);
    let bytes =
        serde_json::to_vec(&record).map_err(|e| PhotosError::io(&path, io::Error::other(e)))?;
    write_private(&path, &bytes).map_err(|e| PhotosError::io(&path, e))
}

/// Forgets the copy in `kept`: the next run copies the database anew.
pub(super) fn forget(kept: &Path) -> Result<(), PhotosError> {
    remove_file(&kept.join(RECORD))
}

/// Whether `kept` holds an untouched copy of `db` as it is now.
fn still_the_copy(db: &Path, kept: &Path) -> bool {
    let Ok(bytes) = fs::read(kept.join(RECORD)) else {
        return false;
    };
    let Ok(record) = serde_json::from_slice::<Record>(&bytes) else {
        return false;
    };
    Identity::of(db).is_ok_and(|now| now == record.source)
        && Identity::of(&kept.join(COPY)).is_ok_and(|now| now == record.copy)
}

/// Removes a file; one that is not there is fine.
fn remove_file(path: &Path) -> Result<(), PhotosError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(PhotosError::io(path, e)),
        _ => Ok(()),
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let temp = path.with_extension("json.tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&temp, path)
}
