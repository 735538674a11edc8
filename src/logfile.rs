//! The run's log file: what `run` prints, each line with its time, appended
//! to `photos-backup.log` in the log folder (`~/Library/Logs/photos-backup`
//! on macOS, where Console.app finds it; `STATE/logs` elsewhere). Rotated by
//! size when opened: a LaunchAgent running every five minutes for years must
//! not fill the disk with its log.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

/// The current log's name; older ones get `.1`, `.2`, ...
const FILE_NAME: &str = "photos-backup.log";

/// Rotate once the log reaches this size.
pub(crate) const MAX_BYTES: u64 = 1 << 20;

/// How many rotated logs to keep.
const KEEP: u32 = 5;

/// An open log: lines written to it get `now` in front.
pub(crate) struct LogFile {
    file: File,
    now: DateTime<Utc>,
    at_line_start: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot write the log {path}")]
pub(crate) struct LogError {
    path: PathBuf,
    source: std::io::Error,
}

/// The renames that rotate the logs in a folder, oldest first so none is
/// overwritten: `.4` → `.5`, ..., `.1` → `.2`, the log → `.1` (and `.KEEP`
/// is dropped by being overwritten).
#[must_use]
fn rotation(keep: u32) -> Vec<(String, String)> {
    let name = |n: u32| {
        if n == 0 {
            FILE_NAME.to_owned()
        } else {
            format!("{FILE_NAME}.{n}")
        }
    };
    (0..keep).rev().map(|n| (name(n), name(n + 1))).collect()
}

impl LogFile {
    /// Opens the log in `dir` for appending, rotating it first when it has
    /// reached `max_bytes`. Lines are stamped with `now` (the run's start).
    pub(crate) fn open(dir: &Path, max_bytes: u64, now: DateTime<Utc>) -> Result<Self, LogError> {
        let path = dir.join(FILE_NAME);
        let err = |source| LogError {
            path: path.clone(),
            source,
        };
        crate::private_fs::create_dir_all(dir).map_err(err)?;
        if std::fs::metadata(&path).is_ok_and(|m| m.len() >= max_bytes) {
            for (from, to) in rotation(KEEP) {
                match std::fs::rename(dir.join(&from), dir.join(&to)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(err(e)),
                    _ => {}
                }
            }
        }
        // Owner-only, and never through a link planted at its name.
        let file = crate::private_fs::open_append(&path).map_err(err)?;
        Ok(Self {
            file,
            now,
            at_line_start: true,
        })
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let stamp = self.now.format("%Y-%m-%dT%H:%M:%SZ ").to_string();
        let mut text = Vec::with_capacity(buf.len() + 32);
        for &b in buf {
            if self.at_line_start {
                text.extend_from_slice(stamp.as_bytes());
            }
            text.push(b);
            self.at_line_start = b == b'\n';
        }
        self.file.write_all(&text)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Writes to the terminal (or launchd's file) and to the log.
pub(crate) struct Tee<'a> {
    pub(crate) out: &'a mut dyn Write,
    pub(crate) log: Option<&'a mut LogFile>,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write_all(buf)?;
        if let Some(log) = self.log.as_mut() {
            // A log that cannot be written never fails the backup.
            let _ = log.write_all(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if let Some(log) = self.log.as_mut() {
            let _ = log.flush();
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rotation_moves_the_oldest_first() {
        assert_eq!(
            rotation(3),
            [
                (
                    "photos-backup.log.2".to_owned(),
                    "photos-backup.log.3".to_owned()
                ),
                (
                    "photos-backup.log.1".to_owned(),
                    "photos-backup.log.2".to_owned()
                ),
                (
                    "photos-backup.log".to_owned(),
                    "photos-backup.log.1".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn lines_are_stamped_and_the_log_rotates_when_full() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap();
        let mut log = LogFile::open(dir.path(), 64, now).unwrap();
        write!(log, "one\ntw").unwrap();
        writeln!(log, "o").unwrap();
        drop(log);
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(text, "2026-11-22T06:00:00Z one\n2026-11-22T06:00:00Z two\n");
        for _ in 0..(KEEP + 2) {
            let mut log = LogFile::open(dir.path(), 64, now).unwrap();
            writeln!(log, "{}", "x".repeat(70)).unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), KEEP as usize + 1, "{names:?}");
        assert!(names.iter().all(|n| n.starts_with(FILE_NAME)));
    }

    #[test]
    fn the_log_is_owner_only_and_a_planted_link_is_not_followed() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        // An older log, world-readable: tightened when opened.
        std::fs::write(logs.join(FILE_NAME), b"old\n").unwrap();
        std::fs::set_permissions(logs.join(FILE_NAME), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        drop(LogFile::open(&logs, 1 << 20, now).unwrap());
        let mode = std::fs::metadata(logs.join(FILE_NAME)).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let other = dir.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::os::unix::fs::symlink(&victim, other.join(FILE_NAME)).unwrap();
        let Err(err) = LogFile::open(&other, 1 << 20, now) else {
            panic!("a link was followed")
        };
        let err = err.to_string();
        assert!(err.contains(FILE_NAME), "{err}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    }
}
