//! Originals that are only in iCloud ("Optimize Mac Storage"): the only way to
//! get them without Apple's private frameworks is to ask Photos itself, through
//! its `AppleScript` `export ... with using originals`. The `Downloader` trait is
//! the seam: on macOS it drives Photos through `osascript`; tests use a fake.
//! When and how often to retry, and which exported file is the original,
//! are decided by pure functions here.
//!
//! Three things about Photos' scripting: a command waits 120 s for Photos
//! by default and then fails with -1712, shorter than a large video takes
//! to download, so the script says `with timeout of N seconds` for the
//! configured time; Photos scripts only the library it has open, and an
//! asset of another library is "not found" (-1728): that asset stays
//! pending with that reason, it is not a failure of Photos; and the first
//! run asks the user to let the agent control Photos (System Settings >
//! Privacy & Security > Automation), refused or never answered: -1743.

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
    #[error(
        "Photos exported {files} for {uuid} but none with the original's extension .{extension}"
    )]
    NoMatchingFile {
        uuid: String,
        extension: String,
        files: String,
    },
    #[error("Photos has another library open; {uuid} waits until its library is the one open")]
    OtherLibraryOpen { uuid: String },
    #[error(
        "Photos may not be controlled by photos-backup (-1743); allow it under System Settings > \
         Privacy & Security > Automation > photos-backup > Photos"
    )]
    NotAuthorized,
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
pub(crate) struct PhotosApp<'a> {
    pub(crate) runner: &'a dyn CommandRunner,
}

impl Downloader for PhotosApp<'_> {
    fn fetch(
        &self,
        uuid: &str,
        into: &Path,
        timeout: Duration,
    ) -> Result<Vec<PathBuf>, DownloadError> {
        let cmd = osascript_command(uuid, into, timeout)?;
        // A little longer than the script's own timeout, so Photos' answer
        // (-1712) comes before the runner's kill.
        let output = self.runner.run(&cmd, timeout + Duration::from_secs(15))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(match applescript_error(&stderr) {
                Some(NO_SUCH_OBJECT) => DownloadError::OtherLibraryOpen {
                    uuid: uuid.to_owned(),
                },
                Some(NOT_AUTHORIZED) => DownloadError::NotAuthorized,
                _ => DownloadError::Failed {
                    uuid: uuid.to_owned(),
                    detail: process::stderr_excerpt(&output),
                },
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
fn is_asset_id(uuid: &str) -> bool {
    uuid.len() == 36 && uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// `errAENoSuchObject`: Photos has no media item with that id (its open
/// library is another one).
const NO_SUCH_OBJECT: i32 = -1728;
/// `errAEEventNotPermitted`: the Automation permission is missing.
pub(crate) const NOT_AUTHORIZED: i32 = -1743;

/// The error number `osascript` ends its message with:
/// `execution error: Photos got an error: Can’t get media item id "…". (-1728)`.
#[must_use]
pub(crate) fn applescript_error(stderr: &str) -> Option<i32> {
    let line = stderr.lines().rev().find(|l| !l.trim().is_empty())?.trim();
    let inner = line.strip_suffix(')')?;
    let start = inner.rfind('(')?;
    inner[start + 1..].parse().ok()
}

/// The file Photos exported that is the original: the one with the
/// original's extension (compared without case). A RAW+JPEG pair exports
/// both; which one the library calls original only its extension says.
#[must_use]
fn pick_original<'a>(files: &'a [PathBuf], original: &Path) -> Option<&'a PathBuf> {
    let wanted = original.extension()?.to_str()?.to_ascii_lowercase();
    files.iter().find(|f| {
        f.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.to_ascii_lowercase() == wanted)
    })
}

/// [`pick_original`], or the error that names what Photos exported.
pub(super) fn original_of<'a>(
    uuid: &str,
    files: &'a [PathBuf],
    original: &Path,
) -> Result<&'a PathBuf, DownloadError> {
    pick_original(files, original).ok_or_else(|| DownloadError::NoMatchingFile {
        uuid: uuid.to_owned(),
        extension: original
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default(),
        files: files
            .iter()
            .filter_map(|f| f.file_name())
            .map(|f| f.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// `osascript -e SCRIPT`: Photos exports the unmodified original of `uuid`
/// into `into` (downloading it from iCloud first when needed), waiting for
/// Photos at most `timeout` (at least a second).
fn osascript_command(
    uuid: &str,
    into: &Path,
    timeout: Duration,
) -> Result<CommandLine, DownloadError> {
    if !is_asset_id(uuid) {
        return Err(DownloadError::BadId(uuid.to_owned()));
    }
    let dir = into
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let seconds = timeout.as_secs().max(1);
    let script = format!(
        "with timeout of {seconds} seconds\n\
         tell application \"Photos\"\n\
         \tset theItems to {{media item id \"{uuid}/L0/001\"}}\n\
         \texport theItems to (POSIX file \"{dir}\") with using originals\n\
         end tell\n\
         end timeout"
    );
    Ok(CommandLine::new(
        "/usr/bin/osascript",
        ["-e".to_owned(), script],
    ))
}

/// How long to wait before asking again after `attempts` failures:
/// 5 minutes, doubling, at most a day.
#[must_use]
fn backoff(attempts: u32) -> Duration {
    let minutes = 5u64.saturating_mul(1 << attempts.min(9));
    Duration::from_secs((minutes * 60).min(24 * 3600))
}

/// Whether an asset that failed `attempts` times, last at `last`, is due.
#[must_use]
pub(super) fn due(attempts: u32, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
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
            Duration::from_secs(600),
        )
        .unwrap();
        assert_eq!(cmd.program, Path::new("/usr/bin/osascript"));
        assert_eq!(cmd.args[0], "-e");
        assert!(
            cmd.args[1].contains("media item id \"1EB2B765-0765-43BA-A90C-0D0580E6172C/L0/001\"")
        );
        assert!(cmd.args[1].contains("POSIX file \"/tmp/a \\\"b\\\"\""));
        assert!(cmd.args[1].contains("with using originals"));
        // Photos' own 120 s default would cut a long download short.
        assert!(cmd.args[1].starts_with("with timeout of 600 seconds\n"));
        assert!(cmd.args[1].ends_with("end tell\nend timeout"));
        for bad in ["\" & do shell script \"rm -rf ~\" & \"", "", "1EB2B765"] {
            assert!(matches!(
                osascript_command(bad, Path::new("/tmp"), Duration::from_secs(60)),
                Err(DownloadError::BadId(_))
            ));
        }
    }

    #[test]
    fn the_original_is_the_file_with_its_extension_not_the_first_by_name() {
        // A RAW+JPEG pair whose original (the library's) is the JPEG: Photos
        // exports both, and `.CR2` sorts before `.JPG`.
        let files = vec![
            PathBuf::from("/tmp/x/IMG_0001.CR2"),
            PathBuf::from("/tmp/x/IMG_0001.JPG"),
        ];
        assert_eq!(
            pick_original(&files, Path::new("s/2024/05/01/IMG_0001.jpg")),
            Some(&files[1])
        );
        assert_eq!(
            pick_original(&files, Path::new("s/2024/05/01/IMG_0001.CR2")),
            Some(&files[0])
        );
        // Nothing with that extension: nothing is staged under a wrong name.
        assert_eq!(pick_original(&files, Path::new("s/IMG_0001.HEIC")), None);
        assert_eq!(pick_original(&files, Path::new("s/IMG_0001")), None);
        let err = original_of("u", &files, Path::new("s/IMG_0001.HEIC")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Photos exported IMG_0001.CR2, IMG_0001.JPG for u but none with the original's extension .HEIC"
        );
    }

    #[test]
    fn applescript_error_numbers() {
        // Photos' -1728 text as quoted in osxphotos (RhetTbull/osxphotos,
        // its PhotosSelection.get_selected comment: "Photos got an error: Can’t
        // get media item id \"…/L0/001\". (-1728)"); osascript prefixes
        // "execution error:". -1743 as other projects capture it
        // ("execution error: Not authorized to send Apple events to
        // Terminal. (-1743)").
        let other = "36:120: execution error: Photos got an error: Can’t get media item id \"1EB2B765-0765-43BA-A90C-0D0580E6172C/L0/001\". (-1728)\n";
        assert_eq!(applescript_error(other), Some(NO_SUCH_OBJECT));
        let denied = "execution error: Not authorized to send Apple events to Photos. (-1743)\n";
        assert_eq!(applescript_error(denied), Some(NOT_AUTHORIZED));
        assert_eq!(
            applescript_error(
                "execution error: Photos got an error: AppleEvent timed out. (-1712)"
            ),
            Some(-1712)
        );
        assert_eq!(applescript_error("Killed: 9\n"), None);
        assert_eq!(applescript_error(""), None);
    }

    #[test]
    fn photos_errors_become_typed_outcomes() {
        use crate::fake_runner::FakeRunner;
        let uuid = "1EB2B765-0765-43BA-A90C-0D0580E6172C";
        let dir = tempfile::tempdir().unwrap();
        let fetch = |stderr: &str| {
            PhotosApp {
                runner: &FakeRunner::exiting(1, stderr),
            }
            .fetch(uuid, dir.path(), Duration::from_secs(60))
            .unwrap_err()
        };
        assert!(matches!(
            fetch("execution error: Photos got an error: Can’t get media item id \"x\". (-1728)"),
            DownloadError::OtherLibraryOpen { .. }
        ));
        let denied =
            fetch("execution error: Not authorized to send Apple events to Photos. (-1743)");
        assert!(denied.to_string().contains("Automation"), "{denied}");
        assert!(matches!(
            fetch("execution error: Photos got an error: AppleEvent timed out. (-1712)"),
            DownloadError::Failed { .. }
        ));
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
