//! Owner-only, no-follow file operations: everything the backup creates
//! (staging, state, logs, restore output, scratch copies) holds photos or
//! facts about them, and a family Mac has one account per member, so all of
//! it is created folders `0700`, files `0600`, whatever the umask. And
//! nothing we open follows a symbolic link someone planted in our folders,
//! or blocks on a FIFO swapped in for a file.
//!
//! One place for these rules, so every module calls the same few functions:
//! `restrict_umask` at start-up, `create_dir_all` / `create_dirs_below` for
//! folders, `create_new` / `open_append` / `open_rw` for our files,
//! `open_source` for files we copy from, and `tighten` for an installation
//! made before these rules.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use rustix::fs::OFlags;

/// Mode of every folder we create.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Mode of every file we create.
pub(crate) const FILE_MODE: u32 = 0o600;

/// A staged file when `[staging] group_readable` is on.
const GROUP_FILE_MODE: u32 = 0o640;
/// A staging folder when `[staging] group_readable` is on.
const GROUP_DIR_MODE: u32 = 0o750;

/// Group and others bits: none of them on anything of ours.
const OTHERS: u32 = 0o077;

/// Makes every file and folder this process (and its children) creates
/// owner-only, whatever umask launchd or the shell gave it.
pub(crate) fn restrict_umask() {
    rustix::process::umask(rustix::fs::Mode::RWXG | rustix::fs::Mode::RWXO);
}

/// The user this process runs as.
#[must_use]
pub(crate) fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

fn no_follow() -> i32 {
    (OFlags::NOFOLLOW | OFlags::CLOEXEC).bits() as i32
}

/// Creates `path` and its missing parents as owner-only folders. The last
/// folder must be a real folder, not a symbolic link to one (its parents
/// may be: a home folder behind a link is not ours to judge).
pub(crate) fn create_dir_all(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(path)?;
    refuse_symlink(path)
}

/// Creates `root/rel` folder by folder, each owner-only; every folder below
/// `root` must be a real folder (a planted symbolic link would send our
/// writes elsewhere). `rel` must be relative, without `..`.
pub(crate) fn create_dirs_below(root: &Path, rel: &Path) -> io::Result<PathBuf> {
    let mut path = root.to_path_buf();
    for part in rel.components() {
        let Component::Normal(name) = part else {
            if part == Component::CurDir {
                continue;
            }
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a plain relative path", rel.display()),
            ));
        };
        path.push(name);
        match fs::DirBuilder::new().mode(DIR_MODE).create(&path) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => refuse_symlink(&path)?,
        }
    }
    Ok(path)
}

/// Makes `root/rel` readable by the owner's group (file `0640`, every
/// folder from `root` down to it `0750`), for `[staging] group_readable`.
pub(crate) fn share_with_group(root: &Path, rel: &Path) -> io::Result<()> {
    let mut path = root.to_path_buf();
    fs::set_permissions(&path, fs::Permissions::from_mode(GROUP_DIR_MODE))?;
    let parts: Vec<_> = rel.components().collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let mode = if i + 1 == parts.len() {
            GROUP_FILE_MODE
        } else {
            refuse_symlink(&path)?;
            GROUP_DIR_MODE
        };
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// An error when `path` is a symbolic link, or not a folder.
fn refuse_symlink(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is a symbolic link; refused (our folders are never links)",
                path.display()
            ),
        ));
    }
    if !meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("{} is not a folder", path.display()),
        ));
    }
    Ok(())
}

/// Creates a new owner-only file, failing when anything (a link included)
/// is already there.
pub(crate) fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(no_follow())
        .open(path)
}

/// Opens our file for appending (a log), creating it owner-only; a symbolic
/// link there is an error, never followed.
pub(crate) fn open_append(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .custom_flags(no_follow())
        .open(path)?;
    regular_private(file)
}

/// Opens our file for reading and writing without truncating it (a lock),
/// creating it owner-only; a symbolic link there is an error.
pub(crate) fn open_rw(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .custom_flags(no_follow())
        .open(path)?;
    regular_private(file)
}

/// Our file must be a regular file; an older one is made owner-only.
fn regular_private(file: File) -> io::Result<File> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    if meta.mode() & 0o7777 != FILE_MODE {
        file.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(file)
}

/// Sets an open file of ours to owner-only (`fchmod`, so no path is
/// followed): whatever mode the file came with (a copy keeps its
/// source's, setuid bits included) is replaced.
pub(crate) fn make_private(file: &File) -> io::Result<()> {
    file.set_permissions(fs::Permissions::from_mode(FILE_MODE))
}

/// Opens a file to copy from: never through a symbolic link at its last
/// component, without blocking (a FIFO swapped in for a photo must not
/// hang the run), and only when the open descriptor is a regular file.
pub(crate) fn open_source(path: &Path) -> io::Result<(File, fs::Metadata)> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(no_follow() | (OFlags::NONBLOCK.bits() as i32))
        .open(path)
        .map_err(|e| {
            // ELOOP: the last component is a symbolic link.
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                io::Error::new(io::ErrorKind::InvalidInput, "is a symbolic link; refused")
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("is not a regular file ({}); refused", kind(&meta)),
        ));
    }
    Ok((file, meta))
}

/// A small file of ours (a state file) read whole, as `open_source` opens
/// it: `None` when there is none, `InvalidData` when it is larger than
/// `max` bytes (not ours: never read into memory).
pub(crate) fn read_small(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    let (file, _) = match open_source(path) {
        Ok(opened) => opened,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {max} bytes"),
        ));
    }
    Ok(Some(bytes))
}

/// What a non-regular file is, in words.
#[must_use]
pub(crate) fn kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else if t.is_file() {
        "a file"
    } else {
        "not a file"
    }
}

/// Whether group or others may do anything with a file of this mode.
#[must_use]
fn others_can_access(mode: u32) -> bool {
    mode & OTHERS != 0
}

/// Whether group or others may write to a folder of this mode.
#[must_use]
pub(crate) fn others_can_write(mode: u32) -> bool {
    mode & 0o022 != 0
}

/// Makes `root` and everything below it owner-only (folders `0700`, files
/// `0600`, setuid/setgid/sticky and execute bits gone), never following a
/// link; returns how many paths it changed. A missing root changes nothing.
fn tighten(root: &Path) -> io::Result<usize> {
    let mut changed = 0;
    for entry in walkdir::WalkDir::new(root) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e)
                if e.depth() == 0
                    && e.io_error().map(io::Error::kind) == Some(io::ErrorKind::NotFound) =>
            {
                return Ok(0)
            }
            Err(e) => {
                let kind = e.io_error().map_or(io::ErrorKind::Other, io::Error::kind);
                return Err(io::Error::new(kind, e));
            }
        };
        let t = entry.file_type();
        if !(t.is_dir() || t.is_file()) {
            continue;
        }
        let meta = entry.metadata().map_err(io::Error::other)?;
        if meta.uid() != current_uid() {
            continue;
        }
        let mode = meta.mode() & 0o7777;
        let target = if t.is_dir() {
            DIR_MODE
        } else {
            mode & FILE_MODE
        };
        if mode != target {
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(target)).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot make {} owner-only: {e}", entry.path().display()),
                )
            })?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// The file in the state dir that says an older installation was tightened.
const TIGHTENED_MARKER: &str = "private-v1";

/// Before a run touches them: refuses a state or staging dir that group or
/// others can write to (they could plant links or swap files in it), then,
/// once per installation, makes everything already in the state, log and
/// staging dirs owner-only. Returns the line that says so, when it did.
/// A staging dir shared with the group (`group_readable`) is left as it is.
pub(crate) fn prepare(
    state_dir: &Path,
    log_dir: &Path,
    (staging_dir, group_readable): (&Path, bool),
) -> io::Result<Option<String>> {
    for dir in [state_dir, staging_dir] {
        refuse_writable_by_others(dir)?;
    }
    let marker = state_dir.join(TIGHTENED_MARKER);
    if fs::symlink_metadata(&marker).is_ok() {
        return Ok(None);
    }
    let mut changed = 0;
    for dir in [state_dir, log_dir, staging_dir] {
        if !(group_readable && dir == staging_dir) {
            changed += tighten(dir)?;
        }
    }
    create_dir_all(state_dir)?;
    match create_new(&marker) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            return Err(io::Error::new(
                e.kind(),
                format!("cannot create {}: {e}", marker.display()),
            ))
        }
        _ => {}
    }
    Ok((changed > 0).then(|| {
        format!(
            "privacy: made {changed} existing files and folders owner-only (in {}, {} and {}); \
             done once",
            state_dir.display(),
            log_dir.display(),
            staging_dir.display()
        )
    }))
}

/// An error naming `dir` and the fix when group or others may write to it;
/// a missing `dir` is fine (it is created owner-only).
fn refuse_writable_by_others(dir: &Path) -> io::Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() && others_can_write(meta.mode()) => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} can be written by other users (mode {:o}); refused: run `chmod 700 {}`",
                dir.display(),
                meta.mode() & 0o7777,
                crate::text::sh_quote(&dir.to_string_lossy())
            ),
        )),
        _ => Ok(()),
    }
}

/// The paths under `roots` (not following links) that group or others can
/// read or write beyond each root's allowed bits (`0` for owner-only; the
/// group's read and search bits for a shared staging), at most `max` of
/// them: what `doctor` reports.
#[must_use]
pub(crate) fn exposed(roots: &[(&Path, u32)], max: usize) -> Vec<(PathBuf, u32)> {
    let mut found = Vec::new();
    for (root, allowed) in roots {
        for entry in walkdir::WalkDir::new(root).into_iter().flatten() {
            let t = entry.file_type();
            if !(t.is_dir() || t.is_file()) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if others_can_access(meta.mode() & !allowed) {
                found.push((entry.into_path(), meta.mode() & 0o7777));
                if found.len() >= max {
                    return found;
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn created_folders_and_files_are_owner_only_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let old = rustix::process::umask(rustix::fs::Mode::WGRP | rustix::fs::Mode::WOTH);
        let deep = dir.path().join("a/b/c");
        create_dir_all(&deep).unwrap();
        let below = create_dirs_below(&deep, Path::new("2024/05/01")).unwrap();
        let file = below.join("x");
        drop(create_new(&file).unwrap());
        drop(open_append(&deep.join("log")).unwrap());
        drop(open_rw(&deep.join("lock")).unwrap());
        rustix::process::umask(old);
        for d in [
            "a",
            "a/b",
            "a/b/c",
            "a/b/c/2024",
            "a/b/c/2024/05",
            "a/b/c/2024/05/01",
        ] {
            assert_eq!(mode(&dir.path().join(d)), DIR_MODE, "{d}");
        }
        for f in [file, deep.join("log"), deep.join("lock")] {
            assert_eq!(mode(&f), FILE_MODE, "{}", f.display());
        }
    }

    #[test]
    fn planted_links_are_refused_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        fs::write(elsewhere.join("victim"), b"keep").unwrap();
        let ours = dir.path().join("ours");
        fs::create_dir(&ours).unwrap();
        std::os::unix::fs::symlink(&elsewhere, ours.join("2024")).unwrap();
        std::os::unix::fs::symlink(elsewhere.join("victim"), ours.join("log")).unwrap();
        std::os::unix::fs::symlink(elsewhere.join("victim"), ours.join("lock")).unwrap();

        let e = create_dirs_below(&ours, Path::new("2024/05")).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(!elsewhere.join("05").exists());
        assert!(open_append(&ours.join("log")).is_err());
        assert!(open_rw(&ours.join("lock")).is_err());
        assert!(create_new(&ours.join("log")).is_err());
        assert!(create_dir_all(&ours.join("2024")).is_err());
        assert_eq!(fs::read(elsewhere.join("victim")).unwrap(), b"keep");
        assert!(create_dirs_below(&ours, Path::new("../x")).is_err());
    }

    #[test]
    fn sources_through_links_fifos_and_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.jpg");
        fs::write(&real, b"photo").unwrap();
        let link = dir.path().join("link.jpg");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let fifo = dir.path().join("fifo.jpg");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");

        assert_eq!(open_source(&real).unwrap().1.len(), 5);
        let e = open_source(&link).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        // Returns at once (non-blocking open), refused by the descriptor's type.
        let e = open_source(&fifo).unwrap_err().to_string();
        assert!(e.contains("FIFO"), "{e}");
        let e = open_source(dir.path()).unwrap_err().to_string();
        assert!(e.contains("folder"), "{e}");
    }

    #[test]
    fn a_small_file_is_read_whole_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state.json");
        assert_eq!(read_small(&file, 5).unwrap(), None);
        fs::write(&file, b"12345").unwrap();
        assert_eq!(read_small(&file, 5).unwrap().unwrap(), b"12345");
        let e = read_small(&file, 4).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("larger than 4 bytes"), "{e}");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(read_small(&link, 5).is_err());
    }

    #[test]
    fn tighten_removes_group_others_and_special_bits_once() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("lib/2024");
        fs::create_dir_all(&sub).unwrap();
        fs::write(sub.join("a.jpg"), b"x").unwrap();
        fs::set_permissions(&sub, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(sub.join("a.jpg"), fs::Permissions::from_mode(0o6777)).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        assert!(!exposed(&[(dir.path(), 0)], 10).is_empty());
        assert!(tighten(dir.path()).unwrap() >= 3);
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&sub.join("a.jpg")), 0o600);
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(tighten(dir.path()).unwrap(), 0);
        assert!(exposed(&[(dir.path(), 0)], 10).is_empty());
        assert_eq!(tighten(&dir.path().join("missing")).unwrap(), 0);
    }

    #[test]
    fn mode_predicates() {
        assert!(!others_can_access(0o700));
        assert!(!others_can_access(0o600));
        assert!(others_can_access(0o640));
        assert!(others_can_access(0o604));
        assert!(others_can_write(0o777));
        assert!(others_can_write(0o720));
        assert!(!others_can_write(0o755));
    }
}
