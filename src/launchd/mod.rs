//! The launch agent that runs `photos-backup run` every few minutes: its
//! plist (`agent`, pure), where it lives, and `launchctl` (`launchctl`:
//! command lines pure, running them thin). `commands::install` puts the
//! pieces together for `install` and `uninstall`.

pub mod agent;
pub(crate) mod binary_path;
pub(crate) mod launchctl;
pub(crate) mod probe;

use std::path::{Path, PathBuf};

use crate::process::ProcessError;

/// The default label, also the plist's file name.
pub(crate) const DEFAULT_LABEL: &str = "org.photos-backup";
/// Five minutes between runs.
pub(crate) const DEFAULT_INTERVAL: u32 = 300;
/// `PATH` for the job: Homebrew (Apple silicon, then Intel) before the system.
pub(crate) const PATH_ENV: &str = "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
/// Seconds launchd waits after SIGTERM before SIGKILL (`ExitTimeOut`): the
/// unmount of both mounts, each up to five tries of 15 s, fits.
const EXIT_TIMEOUT_SECONDS: u32 = 180;
/// File names of the job's standard output and error, in `log_dir`.
pub(crate) const STDOUT_LOG: &str = "launchd.out.log";
pub(crate) const STDERR_LOG: &str = "launchd.err.log";

#[derive(Debug, thiserror::Error)]
pub(crate) enum LaunchdError {
    #[error("{command} failed: {detail}")]
    Command { command: String, detail: String },
    #[error(transparent)]
    Process(#[from] ProcessError),
}

/// `~/Library/LaunchAgents/LABEL.plist`.
#[must_use]
pub fn plist_path(home: &Path, label: &str) -> PathBuf {
    home.join("Library")
        .join("LaunchAgents")
        .join(format!("{label}.plist"))
}

/// `~/Library/Logs/photos-backup`: Console.app shows it.
#[must_use]
pub(crate) fn log_dir(home: &Path) -> PathBuf {
    home.join("Library").join("Logs").join("photos-backup")
}

/// Rotates the agent's stdout and stderr files in `log_dir(home)` that have
/// reached [`crate::logfile::MAX_BYTES`], by the run log's rule. launchd
/// opens them at each launch and never rotates them, so the run does, at
/// its start (this run's output goes on into the renamed file; the next
/// launch starts a new one). Returns the file that could not be rotated.
pub(crate) fn rotate_logs(home: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    let dir = log_dir(home);
    for name in [STDOUT_LOG, STDERR_LOG] {
        crate::logfile::rotate(&dir, name, crate::logfile::MAX_BYTES)
            .map_err(|e| (dir.join(name), e))?;
    }
    Ok(())
}

/// A label is a reverse-DNS name and becomes a file name: letters, digits,
/// `.`, `-` and `_`, not starting with `.` or `-`, at most 128 characters.
pub(crate) fn check_label(label: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if label.is_empty() || label.len() > 128 {
        Err("a label must be 1 to 128 characters".into())
    } else if label.starts_with(['.', '-']) || !label.chars().all(ok_char) {
        Err(format!(
            "{label:?} is not a label: use letters, digits, '.', '-' and '_' (like org.photos-backup)"
        ))
    } else {
        Ok(())
    }
}

/// A plist dictionary as XML, the form launchd and people read.
fn to_xml(d: plist::Dictionary) -> Result<Vec<u8>, plist::Error> {
    let mut xml = Vec::new();
    plist::Value::Dictionary(d).to_writer_xml(&mut xml)?;
    xml.push(b'\n');
    Ok(xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_under_home() {
        let home = Path::new("/Users/ann");
        assert_eq!(
            plist_path(home, "org.photos-backup"),
            Path::new("/Users/ann/Library/LaunchAgents/org.photos-backup.plist")
        );
        assert_eq!(
            log_dir(home),
            Path::new("/Users/ann/Library/Logs/photos-backup")
        );
    }

    #[test]
    fn the_agent_logs_rotate_once_full() {
        let home = tempfile::tempdir().unwrap();
        // Nothing there (Linux, or never installed): nothing to do.
        rotate_logs(home.path()).unwrap();
        let dir = log_dir(home.path());
        std::fs::create_dir_all(&dir).unwrap();
        let full = vec![b'x'; usize::try_from(crate::logfile::MAX_BYTES).unwrap()];
        std::fs::write(dir.join(STDERR_LOG), &full).unwrap();
        std::fs::write(dir.join(STDOUT_LOG), b"a line\n").unwrap();
        rotate_logs(home.path()).unwrap();
        assert!(!dir.join(STDERR_LOG).exists());
        assert_eq!(
            std::fs::metadata(dir.join(format!("{STDERR_LOG}.1")))
                .unwrap()
                .len(),
            crate::logfile::MAX_BYTES
        );
        assert_eq!(std::fs::read(dir.join(STDOUT_LOG)).unwrap(), b"a line\n");
        assert!(!dir.join(format!("{STDOUT_LOG}.1")).exists());
    }

    #[test]
    fn labels_that_could_escape_the_folder_are_refused() {
        for good in ["org.photos-backup", "com.example.pb_2", "a"] {
            assert_eq!(check_label(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/b",
            ".hidden",
            "-x",
            "a b",
            "é",
            &"a".repeat(129),
        ] {
            assert!(check_label(bad).is_err(), "{bad:?}");
        }
    }
}
