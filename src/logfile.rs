//! The run's log file: what `run` prints, each line with the time it was
//! written (read from the clock it is given, not the run's start), appended
//! to `photos-backup.log` in the log folder (`~/Library/Logs/photos-backup`
//! on macOS, where Console.app finds it; `STATE/logs` elsewhere). Rotated by
//! size when opened: a LaunchAgent running every five minutes for years must
//! not fill the disk with its log. The same rotation keeps launchd's own
//! files of the agent's output ([`rotate`]), which launchd never rotates.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

/// The current log's name; older ones get `.1`, `.2`, ...
const FILE_NAME: &str = "photos-backup.log";

/// The current log in the log folder `dir`.
#[must_use]
pub(crate) fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Rotate once the log reaches this size.
pub(crate) const MAX_BYTES: u64 = 1 << 20;

/// How many rotated logs to keep.
const KEEP: u32 = 5;

/// The time a line is written: the run's clock (`clock::Clock::now`), a
/// fake that moves in tests.
pub(crate) type Now = Box<dyn FnMut() -> DateTime<Utc> + Send>;

/// An open log: each line written to it gets the time it began in front.
pub(crate) struct LogFile {
    file: File,
    now: Now,
    at_line_start: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot write the log {path}")]
pub(crate) struct LogError {
    path: PathBuf,
    source: std::io::Error,
}

/// The renames that rotate the log `file` in a folder, oldest first so
/// none is overwritten: `.4` → `.5`, ..., `.1` → `.2`, the log → `.1` (and
/// `.KEEP` is dropped by being overwritten).
#[must_use]
fn rotation(file: &str, keep: u32) -> Vec<(String, String)> {
    let name = |n: u32| {
        if n == 0 {
            file.to_owned()
        } else {
            format!("{file}.{n}")
        }
    };
    (0..keep).rev().map(|n| (name(n), name(n + 1))).collect()
}

/// Rotates `dir/name` when it has reached `max_bytes`: `name` becomes
/// `name.1`, `name.1` becomes `name.2` and so on, [`KEEP`] kept. A log
/// that is not there is left so.
pub(crate) fn rotate(dir: &Path, name: &str, max_bytes: u64) -> std::io::Result<()> {
    if !std::fs::metadata(dir.join(name)).is_ok_and(|m| m.len() >= max_bytes) {
        return Ok(());
    }
    for (from, to) in rotation(name, KEEP) {
        match std::fs::rename(dir.join(&from), dir.join(&to)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

impl LogFile {
    /// Opens the log in `dir` for appending, rotating it first when it has
    /// reached `max_bytes`. Each line is stamped with `now()` as it begins.
    pub(crate) fn open(dir: &Path, max_bytes: u64, now: Now) -> Result<Self, LogError> {
        let path = dir.join(FILE_NAME);
        let err = |source| LogError {
            path: path.clone(),
            source,
        };
        crate::private_fs::create_dir_all(dir).map_err(err)?;
        rotate(dir, FILE_NAME, max_bytes).map_err(err)?;
        // Owner-only, and never through a link planted at its name.
        let file = crate::private_fs::open_append(&path).map_err(err)?;
        Ok(Self {
            file,
            now,
            at_line_start: true,
        })
    }
}

impl LogFile {
    /// A second handle on the same log, its lines stamped by `now`, or
    /// `None` when the file cannot be opened again.
    pub(crate) fn try_clone(&self, now: Now) -> Option<Self> {
        Some(Self {
            file: self.file.try_clone().ok()?,
            now,
            at_line_start: true,
        })
    }
}

/// Lines said from deep in a run while it works (`borg create`'s
/// progress), whole lines at a time: to the log through a handle of its
/// own, and on standard error unless quiet, as the staging progress is.
pub(crate) struct Notes {
    log: std::sync::Mutex<Option<LogFile>>,
    echo: bool,
}

impl Notes {
    #[must_use]
    pub(crate) fn new(log: Option<LogFile>, echo: bool) -> Self {
        Self {
            log: std::sync::Mutex::new(log),
            echo,
        }
    }

    /// Says `line`; a log that cannot be written never fails the backup.
    pub(crate) fn say(&self, line: &str) {
        if self.echo {
            eprintln!("{line}");
        }
        self.record(line);
    }

    /// Writes `line` to the log only.
    fn record(&self, line: &str) {
        if let Ok(mut log) = self.log.lock() {
            if let Some(log) = log.as_mut() {
                let _ = log.write_all(format!("{line}\n").as_bytes());
            }
        }
    }

    /// A writer whose whole lines go to the log only (the staging and
    /// mirror progress, which the terminal shows its own way).
    #[must_use]
    pub(crate) fn log_lines(&self) -> LogLines<'_> {
        LogLines {
            notes: self,
            partial: Vec::new(),
        }
    }
}

/// See [`Notes::log_lines`].
pub(crate) struct LogLines<'a> {
    notes: &'a Notes,
    partial: Vec<u8>,
}

impl Write for LogLines<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.partial.extend_from_slice(buf);
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.notes
                .record(String::from_utf8_lossy(&line[..end]).as_ref());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut text = Vec::with_capacity(buf.len() + 32);
        for &b in buf {
            if self.at_line_start {
                let stamp = (self.now)().format("%Y-%m-%dT%H:%M:%SZ ").to_string();
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
            rotation(FILE_NAME, 3),
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

    /// A clock that moves on a minute each time it is read.
    fn ticking() -> Now {
        let mut next = Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap();
        Box::new(move || {
            let now = next;
            next += chrono::Duration::minutes(1);
            now
        })
    }

    fn still() -> Now {
        Box::new(|| Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap())
    }

    #[test]
    fn each_line_has_the_time_it_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = LogFile::open(dir.path(), 1 << 20, ticking()).unwrap();
        // A line written in pieces has the time it began.
        write!(log, "one\ntw").unwrap();
        writeln!(log, "o").unwrap();
        writeln!(log, "three").unwrap();
        drop(log);
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(
            text,
            "2026-11-22T06:00:00Z one\n2026-11-22T06:01:00Z two\n2026-11-22T06:02:00Z three\n"
        );
    }

    #[test]
    fn notes_go_to_the_same_log_through_their_own_handle() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = LogFile::open(dir.path(), 1 << 20, still()).unwrap();
        let notes = Notes::new(log.try_clone(ticking()), false);
        writeln!(log, "staged").unwrap();
        notes.say("archiving a: 1.0 GB of 4.0 GB (25%)");
        notes.say("archiving a: 2.0 GB of 4.0 GB (50%)");
        writeln!(log, "archived").unwrap();
        drop((log, notes));
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(
            text,
            "2026-11-22T06:00:00Z staged\n\
             2026-11-22T06:00:00Z archiving a: 1.0 GB of 4.0 GB (25%)\n\
             2026-11-22T06:01:00Z archiving a: 2.0 GB of 4.0 GB (50%)\n\
             2026-11-22T06:00:00Z archived\n"
        );
    }

    #[test]
    fn progress_written_in_pieces_reaches_the_log_as_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = LogFile::open(dir.path(), 1 << 20, still()).unwrap();
        let notes = Notes::new(log.try_clone(ticking()), false);
        {
            let mut lines = notes.log_lines();
            write!(lines, "staging: 1/3 files, ").unwrap();
            write!(lines, "1.0 MB/2.5 MB\nmirror: 1/").unwrap();
            writeln!(lines, "1 file").unwrap();
        }
        drop((notes, log));
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(
            text,
            "2026-11-22T06:00:00Z staging: 1/3 files, 1.0 MB/2.5 MB\n\
             2026-11-22T06:01:00Z mirror: 1/1 file\n"
        );
    }

    #[test]
    fn the_log_rotates_when_full() {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..(KEEP + 2) {
            let mut log = LogFile::open(dir.path(), 64, still()).unwrap();
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
    fn any_log_rotates_by_the_same_rule_and_a_small_or_missing_one_stays() {
        let dir = tempfile::tempdir().unwrap();
        let name = "launchd.err.log";
        rotate(dir.path(), name, 8).unwrap();
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
        std::fs::write(dir.path().join(name), "small").unwrap();
        rotate(dir.path(), name, 8).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(name)).unwrap(),
            "small"
        );
        std::fs::write(dir.path().join(name), "now too big").unwrap();
        rotate(dir.path(), name, 8).unwrap();
        assert!(!dir.path().join(name).exists());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(format!("{name}.1"))).unwrap(),
            "now too big"
        );
    }

    #[test]
    fn the_log_is_owner_only_and_a_planted_link_is_not_followed() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        // An older log, world-readable: tightened when opened.
        std::fs::write(logs.join(FILE_NAME), b"old\n").unwrap();
        std::fs::set_permissions(logs.join(FILE_NAME), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        drop(LogFile::open(&logs, 1 << 20, still()).unwrap());
        let mode = std::fs::metadata(logs.join(FILE_NAME)).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let other = dir.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::os::unix::fs::symlink(&victim, other.join(FILE_NAME)).unwrap();
        let Err(err) = LogFile::open(&other, 1 << 20, still()) else {
            panic!("a link was followed")
        };
        let err = err.to_string();
        assert!(err.contains(FILE_NAME), "{err}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    }
}
