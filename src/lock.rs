//! One run at a time. The LaunchAgent starts a run every five minutes, and a
//! first export or a rollover can take hours: a second run must leave at once
//! ("skipped: another run in progress", exit 75) instead of racing the first
//! over staging, the mounts and the ledger.
//!
//! The lock is an advisory `flock` on `STATE/run.lock`, which the kernel
//! releases when its holder dies, however it dies: a lock left by a killed
//! run is simply free again. The file holds the holder's pid and when it
//! started (`PID RFC3339`): a holder that is alive but never ends (stuck in
//! the kernel on a dead mount, which not even SIGKILL ends) would otherwise
//! turn every later run into a silent skip. [`Busy::stuck`] says when the
//! lock has been held longer than any run may take: that is a failure.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

/// Held for as long as this value lives.
#[derive(Debug)]
pub(crate) struct RunLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum LockError {
    #[error("cannot open the run lock {path}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Who holds the lock, as far as its file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Busy {
    pid: Option<u32>,
    /// When the holder took the lock (its clock).
    since: Option<DateTime<Utc>>,
}

impl Busy {
    /// Held for longer than `longest_run` at `now`: the holder is stuck.
    #[must_use]
    pub(crate) fn stuck(&self, now: DateTime<Utc>, longest_run: Duration) -> bool {
        self.since.is_some_and(|since| {
            chrono::Duration::from_std(longest_run).is_ok_and(|longest| now - since > longest)
        })
    }

    /// Parses the lock file's text: `PID RFC3339`, or an old `PID`.
    #[must_use]
    fn parse(text: &str) -> Self {
        let mut words = text.split_whitespace();
        Self {
            pid: words.next().and_then(|w| w.parse().ok()),
            since: words
                .next()
                .and_then(|w| DateTime::parse_from_rfc3339(w).ok())
                .map(|t| t.with_timezone(&Utc)),
        }
    }
}

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "another run in progress")?;
        match (self.pid, self.since) {
            (Some(pid), Some(since)) => write!(
                f,
                " (pid {pid}, since {})",
                since.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
            (Some(pid), None) => write!(f, " (pid {pid})"),
            (None, _) => Ok(()),
        }
    }
}

/// The lock file's name in the state dir.
const FILE_NAME: &str = "run.lock";

/// Takes the run lock in `state_dir` (creating both when missing) at `now`,
/// or says who has it and since when.
pub(crate) fn acquire(
    state_dir: &Path,
    now: DateTime<Utc>,
) -> Result<Result<RunLock, Busy>, LockError> {
    let path = state_dir.join(FILE_NAME);
    let err = |source| LockError::Open {
        path: path.clone(),
        source,
    };
    crate::private_fs::create_dir_all(state_dir).map_err(err)?;
    // Owner-only; a link planted at its name is refused, never truncated.
    let mut file = crate::private_fs::open_rw(&path).map_err(err)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Ok(Err(Busy::parse(&text)));
        }
        Err(TryLockError::Error(e)) => return Err(err(e)),
    }
    // Ours: say who holds it (best effort; the lock is what counts).
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = writeln!(
        file,
        "{} {}",
        std::process::id(),
        now.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    Ok(Ok(RunLock { _file: file }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let started = at("2026-03-01T10:00:00Z");
        let first = acquire(dir.path(), started).unwrap().unwrap();
        let busy = acquire(dir.path(), started).unwrap().unwrap_err();
        assert_eq!(busy.pid, Some(std::process::id()));
        assert_eq!(busy.since, Some(started));
        assert_eq!(
            busy.to_string(),
            format!(
                "another run in progress (pid {}, since 2026-03-01T10:00:00Z)",
                std::process::id()
            )
        );
        drop(first);
        assert!(acquire(dir.path(), started).unwrap().is_ok());
    }

    #[test]
    fn a_lock_held_past_the_longest_run_is_stuck() {
        let busy = Busy::parse("4242 2026-03-01T10:00:00Z\n");
        let hour = Duration::from_secs(3600);
        assert_eq!(busy.pid, Some(4242));
        assert!(!busy.stuck(at("2026-03-01T10:59:00Z"), hour));
        assert!(busy.stuck(at("2026-03-01T11:00:01Z"), hour));
        // An old lock file (pid only) or garbage: never called stuck.
        let old = Busy::parse("4242\n");
        assert_eq!((old.pid, old.since), (Some(4242), None));
        assert!(!old.stuck(at("2030-01-01T00:00:00Z"), hour));
        assert_eq!(
            Busy::parse("x y"),
            Busy {
                pid: None,
                since: None
            }
        );
    }

    #[test]
    fn an_unwritable_state_dir_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let msg = acquire(&file, at("2026-03-01T10:00:00Z"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not-a-dir"), "{msg}");
    }
}
