//! `file:PATH`: a secret kept in a file that only its owner can read. A file
//! that others can read is refused rather than used: the secret in it may
//! already have leaked, and the user should know.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{Secret, SourceError};

/// Reads the secret in `path`: a regular file, mode 0600 or stricter (no
/// permission for group or others), one trailing newline removed.
pub fn read(path: &Path) -> Result<Secret, SourceError> {
    let read_error = |source| SourceError::FileRead {
        path: path.to_owned(),
        source,
    };
    // Type first, so a FIFO is refused before opening blocks on it; mode
    // from the open file, so what is checked is what is read.
    if !std::fs::metadata(path).map_err(read_error)?.is_file() {
        return Err(SourceError::NotAFile {
            path: path.to_owned(),
        });
    }
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let mode = file.metadata().map_err(read_error)?.permissions().mode() & 0o7777;
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
