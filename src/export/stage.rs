//! Carries out a `Plan`: each file is written to a temp name, fsynced and
//! renamed into staging, and only then recorded in the ledger, so a run
//! killed at any instant leaves nothing the next run would trust wrongly.
//! Pending marks are updated last, from what actually got staged.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::copy;
use super::download::{self, Downloader};
use super::layout::Role;
use super::plan::{download_failed, Action, PendingReason, Plan, IN_ICLOUD};
use crate::ledger::{Ledger, StagedFile};
use crate::photos::Asset;

/// What a progress display counts: the copy into staging, or the one from
/// staging onto the remote volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Staging,
    Mirror,
}

impl Step {
    /// The word a progress line starts with.
    #[must_use]
    pub(crate) fn word(self) -> &'static str {
        match self {
            Step::Staging => "staging",
            Step::Mirror => "mirror",
        }
    }
}

/// Reports progress: bytes done, files done. A progress bar or log lines.
pub trait Progress {
    /// `files` of `bytes` to copy in `step`; called again in the same step
    /// before `finish`, it adds to the totals.
    fn start(&mut self, step: Step, files: usize, bytes: u64);
    fn file_done(&mut self, bytes: u64);
    fn finish(&mut self);
}

/// No progress output (tests, `-q`).
pub struct Silent;

impl Progress for Silent {
    fn start(&mut self, _: Step, _: usize, _: u64) {}
    fn file_done(&mut self, _: u64) {}
    fn finish(&mut self) {}
}

/// What staging did, for the report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Staged {
    pub files: usize,
    pub(crate) bytes: u64,
    pub(crate) downloaded: usize,
    download_failures: usize,
}

/// How originals in iCloud are fetched during a run.
pub(crate) struct Downloads<'a> {
    pub(crate) downloader: &'a dyn Downloader,
    pub(crate) max: u32,
    pub(crate) timeout: Duration,
}

/// Executes `plan` for `library` into `staging` (the staging root; its
/// files readable by the group when `[staging] group_readable` says so);
/// `already` holds the uuids the ledger had as pending before the run.
pub(super) fn execute<S: std::hash::BuildHasher>(
    library: &str,
    staging: (&Path, bool),
    (plan, assets): (&Plan, &[Asset]),
    already: &std::collections::HashSet<&str, S>,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    progress: &mut dyn Progress,
) -> anyhow::Result<Staged> {
    let mut staged = Staged::default();
    progress.start(Step::Staging, plan.actions.len(), plan.bytes());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    super::folders::allow_open_handles();
    let state_dir = ledger.path().parent().unwrap_or(Path::new(".")).to_owned();
    let list = super::temps::list_path(&state_dir, library);
    let mut temps = super::temps::TempFolders::new(&list, &staging.0.join(library));
    // Batch k is made durable (its own thread: the disk writes it back)
    // while batch k+1 is copied and hashed (the CPUs), as `cp -r` then
    // `sync` lets the disk and the copy overlap; each batch is recorded
    // only after its sync, in batch order, on this thread (the ledger).
    // Leaving the scope early (an error) waits for the batch being synced.
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut syncing: Option<std::thread::ScopedJoinHandle<'_, Synced>> = None;
        for batch in plan.actions.chunks(BATCH) {
            let dests: Vec<std::path::PathBuf> = batch
                .iter()
                .map(|a| match a {
                    Action::Copy { dest, .. } | Action::Write { dest, .. } => staging.0.join(dest),
                })
                .collect();
            temps.note(dests.iter().map(std::path::PathBuf::as_path))?;
            // Copy on a few threads (copies and hashing overlap; each file
            // fsynced before its rename, at the sync where copies are not
            // clones). What a batch copied before a failure is still
            // synced and recorded; the error then ends the run.
            let (records, failure, mut dirs) =
                stage_batch(library, staging, (batch, assets), now, workers);
            // A kill here leaves this batch as temp files (tests/kill.rs).
            crate::failpoint::pause("staging-batch-copied");
            if let Some(previous) = syncing.take() {
                record(staging, joined(previous), ledger, progress, &mut staged)?;
            }
            if failure.is_some() {
                let synced = dirs.sync().map(|()| (records, failure));
                return record(
                    staging,
                    synced.map_err(Into::into),
                    ledger,
                    progress,
                    &mut staged,
                );
            }
            syncing = Some(scope.spawn(move || {
                dirs.sync()?;
                Ok((records, None))
            }));
        }
        if let Some(last) = syncing {
            record(staging, joined(last), ledger, progress, &mut staged)?;
        }
        Ok(())
    })?;
    progress.finish();
    // Only what changes: an asset already pending keeps its attempts count
    // and last attempt, which pace the downloads (backoff).
    ledger.transaction(|l| {
        for uuid in plan
            .complete
            .iter()
            .filter(|u| already.contains(u.as_str()))
        {
            l.clear_pending(library, uuid)?;
        }
        for p in plan
            .pending
            .iter()
            .filter(|p| !already.contains(p.uuid.as_str()))
        {
            l.set_pending(library, &p.uuid, &p.reason, now)?;
        }
        Ok::<(), crate::ledger::LedgerError>(())
    })?;
    Ok(staged)
}

/// A batch made durable: its records and the error that ended its copies.
type Synced = anyhow::Result<(Vec<StagedFile>, Option<anyhow::Error>)>;

/// The outcome of a batch's sync thread (a panic is an error).
fn joined(handle: std::thread::ScopedJoinHandle<'_, Synced>) -> Synced {
    handle
        .join()
        .unwrap_or_else(|_| Err(anyhow::anyhow!("a staging sync thread panicked")))
}

/// Records a synced batch in the ledger (after sharing its files with the
/// group, when asked), counts it, and returns the error that ended it.
fn record(
    staging: (&Path, bool),
    synced: Synced,
    ledger: &mut Ledger,
    progress: &mut dyn Progress,
    staged: &mut Staged,
) -> anyhow::Result<()> {
    let (records, failure) = synced?;
    if staging.1 {
        // Once in place (a deferred batch renames its files at the sync).
        for r in &records {
            crate::private_fs::share_with_group(staging.0, Path::new(&r.path)).with_context(
                || {
                    format!(
                        "sharing {} with the group",
                        staging.0.join(&r.path).display()
                    )
                },
            )?;
        }
    }
    ledger.transaction(|l| records.iter().try_for_each(|r| l.record_file(r)))?;
    for r in &records {
        progress.file_done(r.size);
    }
    staged.files += records.len();
    staged.bytes += records.iter().map(|r| r.size).sum::<u64>();
    failure.map_or(Ok(()), Err)
}

/// The backoff step of a pending asset whose download failed: its attempts
/// count the marking as pending (1) and then each failure, so the first
/// failure is step 0.
fn backoff_step(attempts: u32) -> u32 {
    attempts.saturating_sub(2)
}

/// Whether Photos may be asked for this pending asset's original now: it is
/// in iCloud, and it never failed or its backoff since the last failure is
/// over. (Marking an asset pending is not a failure.)
#[must_use]
pub(crate) fn download_due(p: &crate::ledger::Pending, now: DateTime<Utc>) -> bool {
    let reason = PendingReason::parse(&p.reason);
    reason.original_in_icloud
        && (!reason.download_failed || download::due(backoff_step(p.attempts), p.last_attempt, now))
}

/// Files per ledger transaction and folder fsync.
const BATCH: usize = 256;

/// Stages one batch on `workers` threads, each taking every n-th file.
/// Returns the records of the files staged, the first error if any, and the
/// folders whose renames still need an fsync.
fn stage_batch(
    library: &str,
    staging: (&Path, bool),
    (batch, assets): (&[Action], &[Asset]),
    now: DateTime<Utc>,
    workers: usize,
) -> (Vec<StagedFile>, Option<anyhow::Error>, copy::UnsyncedDirs) {
    // The batch's folders, each created or checked once and kept open.
    let folders = &super::folders::Folders::new(staging.0);
    let results: Vec<(Vec<StagedFile>, Option<anyhow::Error>, copy::UnsyncedDirs)> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    scope.spawn(move || {
                        // Without clones, fsyncs wait for the disk: one
                        // batch written back at once, not file by file.
                        // After a clone (APFS) there is little to write
                        // back, and each fsync stays on its worker.
                        let mut dirs = if crate::platform::copy_clones() {
                            copy::UnsyncedDirs::default()
                        } else {
                            copy::UnsyncedDirs::deferred()
                        };
                        let mut records = Vec::new();
                        for action in batch.iter().skip(w).step_by(workers) {
                            match stage_one(library, folders, (action, assets), now, &mut dirs) {
                                Ok(r) => records.push(r),
                                Err(e) => return (records, Some(e), dirs),
                            }
                        }
                        (records, None, dirs)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        let panic = anyhow::anyhow!("a staging thread panicked");
                        (Vec::new(), Some(panic), copy::UnsyncedDirs::default())
                    })
                })
                .collect()
        });
    let mut all = Vec::new();
    let mut failure = None;
    let mut dirs = copy::UnsyncedDirs::default();
    for (records, error, d) in results {
        all.extend(records);
        failure = failure.or(error);
        dirs.extend(d);
    }
    (all, failure, dirs)
}

/// Copies or writes one file into staging; returns its ledger record.
fn stage_one(
    library: &str,
    folders: &super::folders::Folders,
    (action, assets): (&Action, &[Asset]),
    now: DateTime<Utc>,
    dirs: &mut copy::UnsyncedDirs,
) -> anyhow::Result<StagedFile> {
    let (uuid, role, dest, signature, written) = match action {
        Action::Copy {
            uuid,
            role,
            source,
            dest,
            signature,
            ..
        } => {
            let (folder, name) = staged_folder(folders, dest)?;
            let written = copy::copy_atomic_at(source, (&folder, name), dirs)?;
            (uuid, *role, dest, signature, written)
        }
        Action::Write {
            uuid,
            role,
            dest,
            asset,
            signature,
            ..
        } => {
            let asset = assets
                .get(*asset)
                .filter(|a| &a.uuid == uuid)
                .ok_or_else(|| {
                    anyhow::anyhow!("the plan's asset {uuid} is not among those read")
                })?;
            if &super::xmp::fingerprint(asset) != signature {
                anyhow::bail!("the XMP sidecar of {uuid} changed between planning and writing");
            }
            let bytes = super::plan::sidecar(asset);
            let (folder, name) = staged_folder(folders, dest)?;
            let written = copy::write_atomic_at((&folder, name), &bytes, None, dirs)?;
            (uuid, *role, dest, signature, written)
        }
    };
    Ok(StagedFile {
        library: library.to_owned(),
        uuid: uuid.clone(),
        role: role.as_str().to_owned(),
        path: dest.clone(),
        size: written.size,
        mtime_ns: written.mtime_ns,
        hash: written.hash,
        source_signature: signature.clone(),
        exported_at: now,
        archive: None,
    })
}

/// The open folder of `staging/dest` and the file's name, after checking
/// that `dest` (from the plan) is a plain relative path; its folders are
/// created owner-only, refusing any that is a symbolic link (`folders`).
fn staged_folder<'a>(
    folders: &super::folders::Folders,
    dest: &'a str,
) -> anyhow::Result<(super::folders::Folder, &'a std::ffi::OsStr)> {
    let (Some(dir), Some(name)) = (Path::new(dest).parent(), Path::new(dest).file_name()) else {
        anyhow::bail!("refusing to stage to {dest:?}: not a plain path inside staging");
    };
    if !crate::export::layout::is_safe_relative(dest) {
        anyhow::bail!("refusing to stage to {dest:?}: not a plain path inside staging");
    }
    let folder = folders
        .get(dir)
        .with_context(|| format!("creating the folders of {dest}"))?;
    Ok((folder, name))
}

/// `staging/dest`, after checking that `dest` (from the plan, or read back
/// from the ledger) is a plain relative path and creating its folders
/// owner-only, refusing any that is a symbolic link.
fn staged_dest(staging: &Path, dest: &str) -> anyhow::Result<std::path::PathBuf> {
    if !crate::export::layout::is_safe_relative(dest) {
        anyhow::bail!("refusing to stage to {dest:?}: not a plain path inside staging");
    }
    let dest = Path::new(dest);
    if let Some(dir) = dest.parent() {
        crate::private_fs::create_dirs_below(staging, dir)
            .with_context(|| format!("creating the folders of {}", staging.join(dest).display()))?;
    }
    Ok(staging.join(dest))
}

/// Asks Photos for originals that are only in iCloud, for the pending assets
/// that are due (backoff) up to the per-run limit, and stages what arrives.
pub(crate) fn download_pending(
    library: &str,
    (staging, group_readable): (&Path, bool),
    plan: &Plan,
    ledger: &mut Ledger,
    downloads: &Downloads,
    now: DateTime<Utc>,
) -> anyhow::Result<Staged> {
    let mut staged = Staged::default();
    let known: std::collections::HashMap<String, crate::ledger::Pending> = ledger
        .pending(library)?
        .into_iter()
        .map(|p| (p.uuid.clone(), p))
        .collect();
    let mut asked = 0;
    for p in plan
        .pending
        .iter()
        .filter(|p| PendingReason::parse(&p.reason).original_in_icloud)
    {
        let Some(dest) = &p.original_dest else {
            continue;
        };
        if asked >= downloads.max {
            break;
        }
        if known.get(&p.uuid).is_some_and(|k| !download_due(k, now)) {
            continue;
        }
        asked += 1;
        let tmp = tempfile::Builder::new()
            .prefix("photos-backup-download-")
            .tempdir()?;
        match downloads
            .downloader
            .fetch(&p.uuid, tmp.path(), downloads.timeout)
        {
            Ok(files) => {
                // A RAW+JPEG pair exports two files: the original is the one
                // with the original's extension, not the first by name.
                let original = match download::original_of(&p.uuid, &files, Path::new(dest)) {
                    Ok(original) => original,
                    Err(e) => {
                        staged.download_failures += 1;
                        let reason = download_failed(&e);
                        ledger.set_pending(library, &p.uuid, &reason, now)?;
                        continue;
                    }
                };
                let target = staged_dest(staging, dest)?;
                let state_dir = ledger.path().parent().unwrap_or(Path::new("."));
                super::temps::TempFolders::new(
                    &super::temps::list_path(state_dir, library),
                    &staging.join(library),
                )
                .note([target.as_path()])?;
                let written = copy::copy_atomic(original, &target)?;
                if group_readable {
                    crate::private_fs::share_with_group(staging, Path::new(dest))?;
                }
                ledger.record_file(&StagedFile {
                    library: library.to_owned(),
                    uuid: p.uuid.clone(),
                    role: Role::Original.as_str().to_owned(),
                    path: dest.clone(),
                    size: written.size,
                    mtime_ns: written.mtime_ns,
                    hash: written.hash,
                    source_signature: format!("downloaded:{}", written.size),
                    exported_at: now,
                    archive: None,
                })?;
                staged.files += 1;
                staged.bytes += written.size;
                staged.downloaded += 1;
                // What else was missing (if anything) keeps it pending.
                let rest: Vec<&str> = p.reason.split("; ").filter(|r| *r != IN_ICLOUD).collect();
                if rest.is_empty() {
                    ledger.clear_pending(library, &p.uuid)?;
                } else {
                    ledger.set_pending(library, &p.uuid, &rest.join("; "), now)?;
                }
            }
            Err(e) => {
                staged.download_failures += 1;
                ledger.set_pending(library, &p.uuid, &download_failed(&e), now)?;
            }
        }
    }
    Ok(staged)
}
