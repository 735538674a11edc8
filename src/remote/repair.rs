//! Repairs of the encrypted volume that a lost connection can leave behind.
//!
//! gocryptfs creates a folder in two steps on the server: the folder, then
//! its `gocryptfs.diriv`. A connection lost in between (the laptop sleeps,
//! the VPN drops) leaves an empty folder without `gocryptfs.diriv`, in which
//! gocryptfs can neither create nor remove anything, so every later mirror
//! into it would fail. Such a folder holds nothing, so removing it on the
//! cipher side (the SSHFS mount) is safe and lets gocryptfs create it anew.
//! The remote volume holds only what is not archived yet, so the walk is short.

use std::path::{Path, PathBuf};

/// The name gocryptfs gives each folder's IV file.
const DIRIV: &str = "gocryptfs.diriv";

/// Removes empty folders without `gocryptfs.diriv` under `cipher_root` (the
/// SSHFS mount of the cipher folder); returns them. A non-empty one is left
/// alone (and never occurs: gocryptfs writes the IV before anything else).
pub fn remove_broken_dirs(cipher_root: &Path) -> std::io::Result<Vec<PathBuf>> {
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
        if dir.join(DIRIV).exists() {
            continue;
        }
        let empty = std::fs::read_dir(&dir)?.next().is_none();
        if empty {
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
    fn only_empty_folders_without_an_iv_are_removed() {
        let root = tempfile::tempdir().unwrap();
        let good = root.path().join("good");
        let broken = root.path().join("good/broken");
        let odd = root.path().join("odd");
        for d in [&good, &broken, &odd] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(good.join(DIRIV), b"0123456789abcdef").unwrap();
        std::fs::write(odd.join("file"), b"x").unwrap();
        let removed = remove_broken_dirs(root.path()).unwrap();
        assert_eq!(removed, std::slice::from_ref(&broken));
        assert!(good.exists() && odd.join("file").exists() && !broken.exists());
    }
}
