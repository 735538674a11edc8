//! The mirror: staged files copied onto the decrypted remote volume (the
//! gocryptfs view), same layout, each atomically (temp name, fsync, rename),
//! so between monthly archives the month's photos are already off the
//! laptop. What to copy comes from the ledger (staged, not yet mirrored, or
//! changed since); nothing is ever deleted here: only a later verified
//! archive purges.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::export::copy;
use crate::ledger::Ledger;

/// What a mirror pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Mirrored {
    pub files: usize,
    pub(crate) bytes: u64,
    /// Already there from a run killed before it recorded them.
    pub found: usize,
}

/// Files per ledger transaction and folder fsync.
const BATCH: usize = 128;

/// Copies every unmirrored staged file of `library` from `staging` to the
/// same relative path under `remote_root`, and records it as mirrored.
pub fn mirror(
    library: &str,
    staging: &Path,
    remote_root: &Path,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
) -> anyhow::Result<Mirrored> {
    let mut done = Mirrored::default();
    let pending = ledger.unmirrored(library)?;
    // A copy a killed run left half-done sits beside a file still unmirrored:
    // clean those folders only (walking the whole remote volume is slow).
    let folders: std::collections::BTreeSet<std::path::PathBuf> = pending
        .iter()
        .filter_map(|f| remote_root.join(&f.path).parent().map(Path::to_path_buf))
        .collect();
    for folder in &folders {
        remove_temp_files_in(folder)?;
    }
    for batch in pending.chunks(BATCH) {
        let mut dirs = copy::UnsyncedDirs::default();
        let mut copied = Vec::with_capacity(batch.len());
        let mut failure = None;
        for file in batch {
            let target = remote_root.join(&file.path);
            // A run killed after the copy but before the record: same size and
            // time as staged means the same file (copies keep the time).
            if same_file(&target, file.size, file.mtime_ns) {
                done.found += 1;
                copied.push(file);
                continue;
            }
            match copy::copy_unhashed_in(&staging.join(&file.path), &target, &mut dirs) {
                Ok(written) => {
                    done.files += 1;
                    done.bytes += written.size;
                    copied.push(file);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        dirs.sync()?;
        ledger.transaction(|l| {
            copied
                .iter()
                .try_for_each(|f| l.set_mirrored(&f.library, &f.uuid, &f.role, now))
        })?;
        if let Some(e) = failure {
            return Err(e.into());
        }
    }
    Ok(done)
}

/// Removes our temp files directly in `folder` (a missing folder has none).
fn remove_temp_files_in(folder: &Path) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => anyhow::bail!("cannot list {}: {e}", folder.display()),
    };
    for entry in entries.flatten() {
        if entry.file_name().to_str().is_some_and(copy::is_temp_name) {
            std::fs::remove_file(entry.path())
                .map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn same_file(path: &Path, size: u64, mtime_ns: i64) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|m| m.len() == size && m.modified().map(copy::unix_ns).ok() == Some(mtime_ns))
}

/// Writes `error.log` at the root of the remote volume, so the server side
/// can see why the last run failed. Best effort: the run failed already.
pub(crate) fn write_error_log(remote_root: &Path, now: DateTime<Utc>, message: &str) {
    let text = format!("{} photos-backup run failed: {message}\n", now.to_rfc3339());
    let _ = copy::write_atomic(&remote_root.join("error.log"), text.as_bytes(), None);
}
