//! Repairs of the encrypted volume that a lost connection can leave behind.
//!
//! gocryptfs creates a folder in two steps on the server: the folder, then
//! its 16-byte `gocryptfs.diriv`. A connection lost in between (the laptop
//! sleeps, the VPN drops) leaves an empty folder without `gocryptfs.diriv`,
//! or with one whose bytes never arrived (empty, found by the soak harness),
//! in which gocryptfs can neither create nor remove anything, so every later
//! mirror into it would fail. Such a folder holds nothing, so removing it on the
//! cipher side (the SSHFS mount) is safe and lets gocryptfs create it anew.
//! The remote volume holds only what is not archived yet, so the walk is short.
//!
//! The walk reads the SSHFS mount from the run's own process, so it runs on
//! a thread of its own and is waited for a bounded time
//! ([`remove_broken_dirs_within`]): an SSHFS that stops answering midway
//! costs the run that time and an error, never the run itself (the mounts'
//! release then aborts the connection, which frees the thread).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// [`remove_broken_dirs`] on a thread, waited for at most `timeout`.
pub(crate) fn remove_broken_dirs_within(
    cipher_root: &Path,
    timeout: Duration,
) -> std::io::Result<Vec<PathBuf>> {
    let root = cipher_root.to_owned();
    crate::terminate::bounded(timeout, move || remove_broken_dirs(&root)).unwrap_or_else(|| {
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} s (the mount hangs)", timeout.as_secs()),
        ))
    })
}

/// The name gocryptfs gives each folder's IV file.
const DIRIV: &str = "gocryptfs.diriv";

/// The size of a whole IV file.
const IV_LEN: u64 = 16;

/// Removes the half-made folders under `cipher_root` (the SSHFS mount of the
/// cipher folder): empty, or holding nothing but a `gocryptfs.diriv` that is
/// not the 16 bytes of an IV; returns them. A folder with anything else in
/// it is left alone (gocryptfs writes the IV before anything else).
fn remove_broken_dirs(cipher_root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    // Deepest first, so a broken folder inside a broken folder goes first.
    let dirs: Vec<PathBuf> = walkdir::WalkDir::new(cipher_root)
        .min_depth(1)
        .contents_first(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir())
        .map(walkdir::DirEntry::into_path)
        .collect();
    for dir in dirs {
        let entries: Vec<std::ffi::OsString> = std::fs::read_dir(&dir)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<std::io::Result<_>>()?;
        let iv = dir.join(DIRIV);
        let broken = match entries.as_slice() {
            [] => true,
            [only] if only == DIRIV => std::fs::metadata(&iv)?.len() != IV_LEN,
            _ => false,
        };
        if broken {
            if !entries.is_empty() {
                std::fs::remove_file(&iv)?;
            }
            std::fs::remove_dir(&dir)?;
            removed.push(dir);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounded_walk_gives_the_walks_answer() {
        let root = tempfile::tempdir().unwrap();
        let broken = root.path().join("broken");
        std::fs::create_dir(&broken).unwrap();
        let removed = remove_broken_dirs_within(root.path(), Duration::from_secs(60)).unwrap();
        assert_eq!(removed, std::slice::from_ref(&broken));
        assert!(!broken.exists());
        // The walk's own errors come through as they are.
        std::fs::write(root.path().join("f"), b"x").unwrap();
        let not_dir = remove_broken_dirs_within(&root.path().join("f"), Duration::from_secs(60));
        assert!(not_dir.is_ok_and(|r| r.is_empty()));
    }

    #[test]
    fn only_empty_folders_without_an_iv_are_removed() {
        let root = tempfile::tempdir().unwrap();
        let good = root.path().join("good");
        let broken = root.path().join("good/broken");
        let odd = root.path().join("odd");
        let torn = root.path().join("torn");
        let lonely = root.path().join("lonely");
        for d in [&good, &broken, &odd, &torn, &lonely] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(good.join(DIRIV), b"0123456789abcdef").unwrap();
        std::fs::write(odd.join("file"), b"x").unwrap();
        std::fs::write(odd.join(DIRIV), b"").unwrap();
        // Its IV's bytes never reached the server.
        std::fs::write(torn.join(DIRIV), b"").unwrap();
        // A whole IV, nothing else yet: a healthy new folder.
        std::fs::write(lonely.join(DIRIV), b"fedcba9876543210").unwrap();
        let mut removed = remove_broken_dirs(root.path()).unwrap();
        removed.sort();
        assert_eq!(removed, [broken.clone(), torn.clone()]);
        assert!(good.exists() && odd.join("file").exists() && lonely.join(DIRIV).exists());
        assert!(!broken.exists() && !torn.exists());
    }
}
