//! `file:PATH`: a secret kept in a file that only its owner can read. A file
//! that others can read is refused rather than used: the secret in it may
//! already have leaked, and the user should know. So is one that belongs
//! to another user, one in a folder others can write to (they could swap
//! it), and a symbolic link (it is opened no-follow, and non-blocking, so
//! a FIFO cannot hang the run; the checks are made on the open file).

use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::{Secret, SourceError};

/// Reads the secret in `path`: a regular file of the current user (or
/// root), mode 0600 or stricter (no permission for group or others), in a
/// folder only its owner can write to; one trailing newline removed.
pub(super) fn read(path: &Path) -> Result<Secret, SourceError> {
    let read_error = |source| SourceError::FileRead {
        path: path.to_owned(),
        source,
    };
    let (mut file, meta) = crate::private_fs::open_source(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidInput {
            SourceError::NotAFile {
                path: path.to_owned(),
            }
        } else {
            read_error(e)
        }
    })?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let folder_mode = std::fs::metadata(folder).map_err(read_error)?.mode() & 0o7777;
    if crate::private_fs::others_can_write(folder_mode) {
        return Err(SourceError::FileFolder {
            path: path.to_owned(),
            folder: folder.to_owned(),
            mode: folder_mode,
        });
    }
    let me = crate::private_fs::current_uid();
    if meta.uid() != me && meta.uid() != 0 {
        return Err(SourceError::FileOwner {
            path: path.to_owned(),
            uid: meta.uid(),
            me,
        });
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(SourceError::FileMode {
            path: path.to_owned(),
            mode,
        });
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(read_error)?;
    super::from_output(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, content: &str, mode: u32) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn an_owner_only_file_is_read_without_its_final_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "pw", "hunter2\n", 0o600);
        assert_eq!(read(&path).unwrap().expose(), "hunter2");
        let path = write(dir.path(), "pw2", "two\n\n", 0o400);
        assert_eq!(read(&path).unwrap().expose(), "two\n", "one newline only");
    }

    #[test]
    fn a_file_others_can_read_is_refused_naming_path_and_mode_not_content() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            let path = write(dir.path(), "pw", "hunter2\n", mode);
            let err = read(&path).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(
                err.to_string().contains(&path.display().to_string())
                    && err.to_string().contains(&format!("{mode:04o}")),
                "{err}"
            );
        }
    }

    #[test]
    fn links_other_owners_and_open_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = write(dir.path(), "pw", "hunter2\n", 0o600);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(read(&link), Err(SourceError::NotAFile { .. })));

        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        let inside = write(&open, "pw", "hunter2\n", 0o600);
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let err = read(&inside).unwrap_err().to_string();
        assert!(
            err.contains("other users can write") && err.contains("1777"),
            "{err}"
        );
        assert!(!err.contains("hunter2"));

        if !rustix::process::getuid().is_root() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs the tests as root"
            );
            eprintln!("SKIPPED: not root, cannot give a file to another user");
            return;
        }
        std::os::unix::fs::chown(&real, Some(65534), None).unwrap();
        let err = read(&real).unwrap_err().to_string();
        assert!(err.contains("belongs to user 65534"), "{err}");
    }

    #[test]
    fn missing_empty_and_non_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let err = read(&missing).unwrap_err().to_string();
        assert!(err.contains(&missing.display().to_string()), "{err}");
        let empty = write(dir.path(), "empty", "\n", 0o600);
        assert!(matches!(read(&empty), Err(SourceError::Empty)));
        assert!(matches!(
            read(dir.path()),
            Err(SourceError::NotAFile { .. })
        ));
    }
}
