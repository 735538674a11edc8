//! Private scratch folders in the system temp dir (database snapshots,
//! downloads) that never outlive their run, even a killed one: each holds a
//! lock on a file inside it for as long as it is in use, and creating a new
//! one first removes those whose lock nobody holds any more (their process
//! died). A snapshot of a large library can be a gigabyte: leaking one per
//! killed run would fill the disk.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

const LOCK: &str = ".in-use";

/// A scratch folder, removed on drop.
pub(crate) struct Scratch {
    dir: TempDir,
    _lock: File,
}

impl Scratch {
    #[must_use]
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Creates `$TMPDIR/photos-backup-<kind>-XXXX`, after removing stale ones.
pub(crate) fn create(kind: &str) -> io::Result<Scratch> {
    let prefix = format!("photos-backup-{kind}-");
    let _ = remove_stale(&std::env::temp_dir(), &prefix);
    let dir = tempfile::Builder::new().prefix(&prefix).tempdir()?;
    // Locked under another name first, then renamed: another process's
    // `remove_stale` must never find the lock file before it is held.
    let unheld = dir.path().join(".locking");
    let lock = crate::private_fs::create_new(&unheld)?;
    lock.lock()?;
    std::fs::rename(&unheld, dir.path().join(LOCK))?;
    Ok(Scratch { dir, _lock: lock })
}

/// Removes folders in `root` named `prefix*` that no live process holds.
fn remove_stale(root: &Path, prefix: &str) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        if !entry.file_name().to_string_lossy().starts_with(prefix) || !entry.file_type()?.is_dir()
        {
            continue;
        }
        let path = entry.path();
        // No lock file yet: it is being created right now, or was never finished.
        let Ok(lock) = File::open(path.join(LOCK)) else {
            continue;
        };
        if lock.try_lock().is_ok() {
            drop(lock);
            std::fs::remove_dir_all(&path)?;
            removed.push(path);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_folders_nobody_holds_are_removed() {
        let root = tempfile::tempdir().unwrap();
        let live = root.path().join("photos-backup-x-live");
        let dead = root.path().join("photos-backup-x-dead");
        let other = root.path().join("unrelated");
        for d in [&live, &dead, &other] {
            std::fs::create_dir(d).unwrap();
            File::create(d.join(LOCK)).unwrap();
        }
        let held = File::open(live.join(LOCK)).unwrap();
        held.lock().unwrap();
        let removed = remove_stale(root.path(), "photos-backup-x-").unwrap();
        assert_eq!(removed, std::slice::from_ref(&dead));
        assert!(live.exists() && other.exists() && !dead.exists());
    }

    #[test]
    fn a_scratch_folder_goes_away_on_drop() {
        let s = create("unit-test").unwrap();
        let path = s.path().to_owned();
        assert!(path.is_dir());
        drop(s);
        assert!(!path.exists());
    }
}
