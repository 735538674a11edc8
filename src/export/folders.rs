//! Open handles on staging's folders, shared by the copies of one batch, so
//! each folder is created or checked once per batch instead of once per
//! file and folder level (a first export spent more system calls on
//! `mkdir` and `stat` of folders that existed than on its copies), and so
//! no path below staging is looked up again between the check and the
//! write.
//!
//! A folder is reached one level at a time from the staging root, each
//! level opened relative to its parent's handle, no-follow and as a folder
//! (`openat` with `O_NOFOLLOW | O_DIRECTORY`), and created owner-only
//! (`mkdirat`, `0700`) where missing. The temp files of `copy` are then
//! created, renamed and removed relative to the handle (`openat`,
//! `renameat`, `unlinkat`): a folder swapped for a symbolic link after it
//! was opened cannot redirect a write, since the handle still names the
//! folder that was checked (a moved folder takes its files with it, inside
//! staging's tree or wherever the mover put it; nothing is written through
//! the link). The staging root itself may be a link (a home folder behind
//! a link is not ours to judge), as before.
//!
//! The handles of a batch stay open until its files are renamed and synced
//! (a deferred batch renames at its sync); at most `MAX_OPEN` are cached
//! at once, and `execute` raises the process's open-file limit for them.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustix::fs::{Mode, OFlags};

/// At most this many folder handles in a cache (a batch of 256 files in
/// 256 day folders, their month and year folders, and some spare); past
/// it the cache starts again (the files being written keep theirs).
const MAX_OPEN: usize = 512;

/// A folder of staging, open: where a temp file is created and renamed.
#[derive(Debug, Clone)]
pub(super) struct Folder {
    /// For messages, and where an operation needs a path (a clone on APFS).
    pub(super) path: PathBuf,
    /// The folder as it was checked: operations are relative to it.
    pub(super) handle: Arc<File>,
}

/// The folders opened so far below one root (see the notes).
#[derive(Debug)]
pub(super) struct Folders {
    root: PathBuf,
    open: Mutex<HashMap<PathBuf, Folder>>,
}

impl Folders {
    /// A cache of the folders below `root` (opened on first use).
    #[must_use]
    pub(super) fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// The folder `root/rel`, each missing level created owner-only, each
    /// level a real folder (a symbolic link is an error naming it). `rel`
    /// must be relative, without `..`.
    pub(super) fn get(&self, rel: &Path) -> io::Result<Folder> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(folder) = open.get(rel) {
            return Ok(folder.clone());
        }
        if open.len() >= MAX_OPEN {
            open.clear();
        }
        // The deepest level opened already, then down from it.
        let parts: Vec<OsString> = plain_parts(rel)?;
        let mut depth = parts.len();
        let mut key: PathBuf = parts.iter().collect();
        let mut folder = loop {
            if let Some(found) = open.get(&key) {
                break found.clone();
            }
            if depth == 0 {
                let handle = rustix::fs::open(
                    &self.root,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| named(&self.root, &e.into()))?;
                let root = Folder {
                    path: self.root.clone(),
                    handle: Arc::new(File::from(handle)),
                };
                open.insert(PathBuf::new(), root.clone());
                break root;
            }
            depth -= 1;
            key.pop();
        };
        for name in &parts[depth..] {
            key.push(name);
            let path = folder.path.join(name);
            let handle = open_or_create(&folder.handle, name).map_err(|e| named(&path, &e))?;
            folder = Folder {
                path,
                handle: Arc::new(handle),
            };
            open.insert(key.clone(), folder.clone());
        }
        Ok(folder)
    }
}

/// Raises this process's soft limit of open files, if below, to what two
/// batches in flight may hold (`MAX_OPEN` each, and the rest of the run),
/// or to the hard limit when that is lower (macOS starts at 256). Best
/// effort: a run that still meets the limit gets an error naming a folder.
pub(super) fn allow_open_handles() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let want = 4 * MAX_OPEN as u64;
    let now = getrlimit(Resource::Nofile);
    if now.current.is_some_and(|c| c < want) {
        let current = Some(now.maximum.map_or(want, |m| m.min(want)));
        let _ = setrlimit(Resource::Nofile, Rlimit { current, ..now });
    }
}

/// The names of `rel`, which must be a plain relative path.
fn plain_parts(rel: &Path) -> io::Result<Vec<OsString>> {
    let mut parts = Vec::new();
    for part in rel.components() {
        match part {
            Component::Normal(name) => parts.push(name.to_owned()),
            Component::CurDir => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a plain relative path", rel.display()),
                ))
            }
        }
    }
    Ok(parts)
}

/// Opens the folder `name` of `parent` no-follow, creating it owner-only
/// when missing (and opening it again: another thread may have made it).
fn open_or_create(parent: &File, name: &std::ffi::OsStr) -> io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let open = || rustix::fs::openat(parent, name, flags, Mode::empty()).map(File::from);
    match open() {
        Err(rustix::io::Errno::NOENT) => {}
        other => return other.map_err(|e| refusal(parent, name, e)),
    }
    match rustix::fs::mkdirat(
        parent,
        name,
        Mode::RWXU, // private_fs::DIR_MODE
    ) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(e.into()),
    }
    open().map_err(|e| refusal(parent, name, e))
}

/// A link or a file where a folder goes, in words. (Linux says `ENOTDIR`
/// for a link opened no-follow as a folder, macOS `ELOOP`.)
fn refusal(parent: &File, name: &std::ffi::OsStr, e: rustix::io::Errno) -> io::Error {
    let is_link = || {
        rustix::fs::statat(parent, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).is_ok_and(|st| {
            rustix::fs::FileType::from_raw_mode(st.st_mode as _) == rustix::fs::FileType::Symlink
        })
    };
    match e {
        rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR if is_link() => io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a symbolic link; refused (our folders are never links)",
        ),
        rustix::io::Errno::NOTDIR => {
            io::Error::new(io::ErrorKind::NotADirectory, "is not a folder")
        }
        e => e.into(),
    }
}

/// `e` about `path`.
fn named(path: &Path, e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn folders_are_created_owner_only_once_and_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let old = rustix::process::umask(Mode::WGRP | Mode::WOTH);
        let folders = Folders::new(dir.path());
        let day = folders.get(Path::new("lib/2024/05/01")).unwrap();
        let other = folders.get(Path::new("lib/2024/05/02")).unwrap();
        rustix::process::umask(old);
        assert_eq!(day.path, dir.path().join("lib/2024/05/01"));
        for p in [
            "lib",
            "lib/2024",
            "lib/2024/05",
            "lib/2024/05/01",
            "lib/2024/05/02",
        ] {
            assert_eq!(
                std::fs::metadata(dir.path().join(p)).unwrap().mode() & 0o7777,
                0o700,
                "{p}"
            );
        }
        assert_eq!(
            other.handle.metadata().unwrap().ino(),
            std::fs::metadata(&other.path).unwrap().ino()
        );
        // Cached: the same open folder, even after its path changed.
        std::fs::rename(dir.path().join("lib/2024/05/01"), dir.path().join("moved")).unwrap();
        let again = folders.get(Path::new("lib/2024/05/01")).unwrap();
        assert!(Arc::ptr_eq(&day.handle, &again.handle));

        // A fresh cache meets a link planted for a folder, and a file.
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("lib/2025")).unwrap();
        std::fs::write(dir.path().join("lib/file"), b"").unwrap();
        let fresh = Folders::new(dir.path());
        let e = fresh.get(Path::new("lib/2025/01")).unwrap_err().to_string();
        assert!(e.contains("symbolic link") && e.contains("lib/2025"), "{e}");
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
        let e = fresh.get(Path::new("lib/file/x")).unwrap_err().to_string();
        assert!(e.contains("not a folder") && e.contains("lib/file"), "{e}");
        assert!(fresh.get(Path::new("lib/../x")).is_err());
    }
}
