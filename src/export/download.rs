//! Originals that are only in iCloud ("Optimize Mac Storage"): the only way to
//! get them without Apple's private frameworks is to ask Photos itself, through
//! its `AppleScript` `export ... with using originals`. The `Downloader` trait is
//! the seam: on macOS it drives Photos through `osascript`; tests use a fake.
//! When and how often to retry is decided by pure functions here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::process::{self, CommandLine, CommandRunner};

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("asking Photos for the original of {uuid} failed: {detail}")]
    Failed { uuid: String, detail: String },
    #[error("Photos exported no file for {uuid}")]
    NothingExported { uuid: String },
    #[error("{0:?} is not a Photos asset id")]
    BadId(String),
    #[error(transparent)]
    Process(#[from] process::ProcessError),
}

/// Fetches the original of one asset into a folder.
pub trait Downloader {
    /// Asks for the original(s) of `uuid`; returns the files written to `into`.
    fn fetch(
        &self,
        uuid: &str,
        into: &Path,
        timeout: Duration,
    ) -> Result<Vec<PathBuf>, DownloadError>;
}

/// Drives Photos.app through `osascript` (macOS).
pub struct PhotosApp<'a> {
    pub runner: &'a dyn CommandRunner,
}

impl Downloader for PhotosApp<'_> {
    fn fetch(
        &self,
        uuid: &str,
        into: &Path,
        timeout: Duration,
    ) -> Result<Vec<PathBuf>, DownloadError> {
        let cmd = osascript_command(uuid, into)?;
        let output = self.runner.run(&cmd, timeout)?;
        if !output.status.success() {
            return Err(DownloadError::Failed {
                uuid: uuid.to_owned(),
                detail: process::stderr_excerpt(&output),
            });
        }
        let files: Vec<PathBuf> = std::fs::read_dir(into)
            .map_err(|e| DownloadError::Failed {
                uuid: uuid.to_owned(),
                detail: format!("{}: {e}", into.display()),
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        if files.is_empty() {
            return Err(DownloadError::NothingExported {
                uuid: uuid.to_owned(),
            });
        }
        Ok(files)
    }
}

/// A Photos asset uuid: 36 characters of hex digits and dashes. Checked
/// before it goes into a script, since it comes from the database.
#[must_use]
pub fn is_asset_id(uuid: &str) -> bool {
    uuid.len() == 36 && uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// `osascript -e SCRIPT`: Photos exports the unmodified original of `uuid`
/// into `into` (downloading it from iCloud first when needed).
pub fn osascript_command(uuid: &str, into: &Path) -> Result<CommandLine, DownloadError> {
    if !is_asset_id(uuid) {
        return Err(DownloadError::BadId(uuid.to_owned()));
    }
    let dir = into
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let script = format!(
        "tell application \"Photos\"\n\
         \tset theItems to {{media item id \"{uuid}/L0/001\"}}\n\
         \texport theItems to (POSIX file \"{dir}\") with using originals\n\
         end tell"
    );
    Ok(CommandLine::new(
        "/usr/bin/osascript",
        ["-e".to_owned(), script],
    ))
}

/// How long to wait before asking again after `attempts` failures:
/// 5 minutes, doubling, at most a day.
#[must_use]
pub fn backoff(attempts: u32) -> Duration {
    let minutes = 5u64.saturating_mul(1 << attempts.min(9));
    Duration::from_secs((minutes * 60).min(24 * 3600))
}

/// Whether an asset that failed `attempts` times, last at `last`, is due.
#[must_use]
pub fn due(attempts: u32, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    match last {
        None => true,
        Some(last) => {
            let wait =
                chrono::Duration::from_std(backoff(attempts)).unwrap_or(chrono::Duration::MAX);
            now >= last + wait
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_names_the_asset_and_folder_and_refuses_other_ids() {
        let cmd = osascript_command(
            "1EB2B765-0765-43BA-A90C-0D0580E6172C",
            Path::new("/tmp/a \"b\""),
        )
        .unwrap();
        assert_eq!(cmd.program, Path::new("/usr/bin/osascript"));
        assert_eq!(cmd.args[0], "-e");
        assert!(
            cmd.args[1].contains("media item id \"1EB2B765-0765-43BA-A90C-0D0580E6172C/L0/001\"")
        );
        assert!(cmd.args[1].contains("POSIX file \"/tmp/a \\\"b\\\"\""));
        assert!(cmd.args[1].contains("with using originals"));
        for bad in ["\" & do shell script \"rm -rf ~\" & \"", "", "1EB2B765"] {
            assert!(matches!(
                osascript_command(bad, Path::new("/tmp")),
                Err(DownloadError::BadId(_))
            ));
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(0), Duration::from_secs(300));
        assert_eq!(backoff(1), Duration::from_secs(600));
        assert_eq!(backoff(30), Duration::from_secs(86_400));
        let t = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        assert!(due(0, None, t));
        assert!(!due(1, Some(t), t + chrono::Duration::minutes(9)));
        assert!(due(1, Some(t), t + chrono::Duration::minutes(10)));
    }
}
