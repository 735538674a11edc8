//! Finding the programs the backup runs (sshfs, gocryptfs, borg, osascript,
//! caffeinate, `find`...): the path the config gives, else the first match
//! in the folders of `$PATH` followed by Homebrew's and the system's, which
//! the `PATH` of a launchd job lacks. It sits below everything that starts
//! a program and depends on nothing in the crate; its error names the
//! program and every folder it looked in, and says nothing of what the
//! program was wanted for (the caller's context does). The search is
//! bounded: one `stat` per folder of a finite list, never a walk.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Folders searched after those of `$PATH`: Homebrew (Apple silicon, then
/// Intel) and the system folders.
const USUAL_DIRS: [&str; 6] = [
    "/opt/homebrew/bin",
    "/usr/local/bin",
    "/usr/bin",
    "/bin",
    "/usr/sbin",
    "/sbin",
];

/// Why a program was not found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ToolError {
    #[error("{program} not found (looked in {})", shown(searched))]
    NotFound {
        program: String,
        searched: Vec<PathBuf>,
    },
    #[error("{program} not found at {path}")]
    NotAt { program: String, path: PathBuf },
}

/// Folders as a message shows them: `PATH`-style, joined with `:`.
#[must_use]
pub(crate) fn shown(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

/// The folders to search, in order: the absolute ones of `path_var` (a
/// `PATH` value), then [`USUAL_DIRS`] not already among them.
#[must_use]
pub fn search_dirs(path_var: Option<&OsStr>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = path_var
        .map(|p| {
            std::env::split_paths(p)
                .filter(|d| d.is_absolute())
                .collect()
        })
        .unwrap_or_default();
    for extra in USUAL_DIRS.map(PathBuf::from) {
        if !dirs.contains(&extra) {
            dirs.push(extra);
        }
    }
    dirs
}

/// The program `name`: `configured` if given (it must exist), else the
/// first `dir/name` for which `exists` holds.
fn find_with(
    name: &str,
    configured: Option<&Path>,
    dirs: &[PathBuf],
    exists: &dyn Fn(&Path) -> bool,
) -> Result<PathBuf, ToolError> {
    if let Some(path) = configured {
        return if exists(path) {
            Ok(path.to_owned())
        } else {
            Err(ToolError::NotAt {
                program: name.to_owned(),
                path: path.to_owned(),
            })
        };
    }
    dirs.iter()
        .map(|d| d.join(name))
        .find(|p| exists(p))
        .ok_or_else(|| ToolError::NotFound {
            program: name.to_owned(),
            searched: dirs.to_vec(),
        })
}

/// [`find_with`] on the file system: a regular file (symlinks followed).
pub(crate) fn find(
    name: &str,
    configured: Option<&Path>,
    dirs: &[PathBuf],
) -> Result<PathBuf, ToolError> {
    find_with(name, configured, dirs, &|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_first_then_the_usual_folders_once() {
        let dirs = search_dirs(Some(OsStr::new("/usr/bin:relative:/opt/homebrew/bin")));
        assert_eq!(dirs[0], PathBuf::from("/usr/bin"));
        assert_eq!(dirs[1], PathBuf::from("/opt/homebrew/bin"));
        assert_eq!(
            dirs.iter().filter(|d| d.ends_with("homebrew/bin")).count(),
            1
        );
        assert!(dirs.contains(&PathBuf::from("/usr/local/bin")));
        assert!(!dirs.iter().any(|d| d.ends_with("relative")));
        assert_eq!(search_dirs(None).len(), USUAL_DIRS.len());
    }

    #[test]
    fn configured_path_or_first_match_and_errors_name_where() {
        let dirs = search_dirs(Some(OsStr::new("/usr/bin:/opt/homebrew/bin")));
        let only_brew = |p: &Path| p == Path::new("/opt/homebrew/bin/sshfs");
        assert_eq!(
            find_with("sshfs", None, &dirs, &only_brew).unwrap(),
            PathBuf::from("/opt/homebrew/bin/sshfs")
        );
        let err = find_with("gocryptfs", None, &dirs, &only_brew).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("gocryptfs not found (looked in /usr/bin:/opt/homebrew/bin:"),
            "{err}"
        );
        assert!(matches!(&err, ToolError::NotFound { searched, .. } if *searched == dirs));
        let err = find_with("sshfs", Some(Path::new("/x/sshfs")), &dirs, &only_brew).unwrap_err();
        assert_eq!(err.to_string(), "sshfs not found at /x/sshfs");
        let configured = |p: &Path| p == Path::new("/x/sshfs");
        assert_eq!(
            find_with("sshfs", Some(Path::new("/x/sshfs")), &dirs, &configured).unwrap(),
            PathBuf::from("/x/sshfs")
        );
    }

    #[test]
    fn only_regular_files_count() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tool")).unwrap();
        let dirs = [dir.path().to_owned()];
        assert!(find("tool", None, &dirs).is_err());
        std::fs::write(dir.path().join("other"), b"").unwrap();
        assert_eq!(
            find("other", None, &dirs).unwrap(),
            dir.path().join("other")
        );
    }
}
