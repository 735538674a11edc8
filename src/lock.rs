//! One run at a time. The LaunchAgent starts a run every five minutes, and a
//! first export or a rollover can take hours: a second run must leave at once
//! ("skipped: another run in progress", exit 75) instead of racing the first
//! over staging, the mounts and the ledger.
//!
//! The lock is an advisory `flock` on `STATE/run.lock`, which the kernel
//! releases when its holder dies, however it dies: a lock left by a killed
//! run is simply free again. The file holds the holder's pid, for the message.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Held for as long as this value lives.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot open the run lock {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Who holds the lock, as far as its file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    pub pid: Option<u32>,
}

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "another run in progress (pid {pid})"),
            None => write!(f, "another run in progress"),
        }
    }
}

/// The lock file's name in the state dir.
pub const FILE_NAME: &str = "run.lock";

/// Takes the run lock in `state_dir` (creating both when missing), or says
/// who has it.
pub fn acquire(state_dir: &Path) -> Result<Result<RunLock, Busy>, LockError> {
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
            return Ok(Err(Busy {
                pid: text.trim().parse().ok(),
            }));
        }
        Err(TryLockError::Error(e)) => return Err(err(e)),
    }
    // Ours: say who holds it (best effort; the lock is what counts).
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = writeln!(file, "{}", std::process::id());
    Ok(Ok(RunLock { _file: file }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path()).unwrap().unwrap();
        let busy = acquire(dir.path()).unwrap().unwrap_err();
        assert_eq!(busy.pid, Some(std::process::id()));
        assert_eq!(
            busy.to_string(),
            format!("another run in progress (pid {})", std::process::id())
        );
        drop(first);
        assert!(acquire(dir.path()).unwrap().is_ok());
    }

    #[test]
    fn an_unwritable_state_dir_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let msg = acquire(&file).unwrap_err().to_string();
        assert!(msg.contains("not-a-dir"), "{msg}");
    }
}
