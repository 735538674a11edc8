//! The mirror: staged files copied onto the decrypted remote volume (the
//! gocryptfs view), same layout, each atomically (temp name, fsync, rename),
//! so between monthly archives the month's photos are already off the
//! laptop. What to copy comes from the ledger (staged, not yet mirrored, or
//! changed since); nothing is ever deleted here: only a later verified
//! archive purges. It reports its progress as staging does (a bar on a
//! terminal, log lines otherwise: `export::progress`).

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::export::copy;
use crate::export::stage::{Progress, Step};
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
/// same relative path under `remote_root`, and records it as mirrored;
/// `progress` counts the files as they are copied (or found there).
pub fn mirror(
    library: &str,
    (staging, remote_root): (&Path, &Path),
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    progress: &mut dyn Progress,
) -> anyhow::Result<Mirrored> {
    let mut done = Mirrored::default();
    let pending = ledger.unmirrored(library)?;
    progress.start(
        Step::Mirror,
        pending.len(),
        pending.iter().map(|f| f.size).sum(),
    );
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
                progress.file_done(file.size);
                continue;
            }
            match copy::copy_unhashed_in(&staging.join(&file.path), &target, &mut dirs) {
                Ok(written) => {
                    done.files += 1;
                    done.bytes += written.size;
                    copied.push(file);
                    progress.file_done(written.size);
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
    progress.finish();
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::export::progress::Lines;
    use crate::export::stage::Silent;
    use crate::ledger::StagedFile;

    /// A staging folder of `n` files recorded in a fresh ledger; the
    /// folder, the ledger's and the remote root inside `dir`.
    fn staged(dir: &Path, n: usize) -> (std::path::PathBuf, Ledger, std::path::PathBuf) {
        let staging = dir.join("staging");
        let remote = dir.join("remote");
        std::fs::create_dir_all(staging.join("anna/2026/03")).unwrap();
        std::fs::create_dir_all(&remote).unwrap();
        let ledger = Ledger::open(&dir.join("ledger.sqlite")).unwrap();
        for i in 0..n {
            let path = format!("anna/2026/03/IMG_{i:04}.JPG");
            let file = staging.join(&path);
            std::fs::write(&file, vec![b'x'; 1000 + i]).unwrap();
            let meta = std::fs::metadata(&file).unwrap();
            ledger
                .record_file(&StagedFile {
                    library: "anna".into(),
                    uuid: format!("U{i}"),
                    role: "original".into(),
                    path,
                    size: meta.len(),
                    mtime_ns: copy::unix_ns(meta.modified().unwrap()),
                    hash: copy::hash_file(&file).unwrap(),
                    source_signature: String::new(),
                    exported_at: DateTime::UNIX_EPOCH,
                    archive: None,
                })
                .unwrap();
        }
        (staging, ledger, remote)
    }

    #[test]
    fn a_mirror_logs_its_progress_and_copies_the_same() {
        let n = 2 * BATCH + 5;
        let now = DateTime::UNIX_EPOCH;
        let quiet = tempfile::tempdir().unwrap();
        let (staging, mut ledger, remote) = staged(quiet.path(), n);
        let silent = mirror("anna", (&staging, &remote), &mut ledger, now, &mut Silent).unwrap();

        let logged = tempfile::tempdir().unwrap();
        let (staging, mut ledger, remote) = staged(logged.path(), n);
        let mut out = Vec::new();
        let mut lines = Lines::new(&mut out, Duration::ZERO);
        let shown = mirror("anna", (&staging, &remote), &mut ledger, now, &mut lines).unwrap();

        let total: u64 = (0..n as u64).map(|i| 1000 + i).sum();
        assert_eq!(
            shown,
            Mirrored {
                files: n,
                bytes: total,
                found: 0
            }
        );
        assert_eq!(shown, silent);
        assert!(ledger.unmirrored("anna").unwrap().is_empty());
        for i in [0, n - 1] {
            let path = format!("anna/2026/03/IMG_{i:04}.JPG");
            assert_eq!(
                std::fs::read(remote.join(&path)).unwrap(),
                std::fs::read(staging.join(&path)).unwrap()
            );
        }
        // A line per file at this pace (every 30 s in a run), then the end.
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), n + 1, "{text}");
        assert_eq!(
            lines[0],
            format!(
                "mirror: 1/{n} files, 1.0 KB/{}",
                crate::text::human_bytes(total)
            )
        );
        assert_eq!(
            lines[n],
            format!(
                "mirror: done, {n} files ({})",
                crate::text::human_bytes(total)
            )
        );
    }
}
