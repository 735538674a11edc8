//! `STATE/status.json`: what the last run did and where the photos are, for
//! people (`photos-backup status`) and for monitors. It is rewritten after
//! every real run, skipped ones included, from the ledger and the run's
//! outcome; what must outlive a run (the last success, the last error) is
//! carried over from the previous file. It answers "is my data safe, and
//! since when?" without reading anything else.

mod render;
mod verdict;

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::archive::period::Month;
use crate::ledger::{Ledger, Step};

pub(crate) use render::{chart, render};
pub(crate) use verdict::Verdict;

/// The file name in the state dir.
pub(crate) const FILE_NAME: &str = "status.json";

/// Bumped when a field changes meaning.
const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Status {
    version: u32,
    last_run: RunInfo,
    /// The end of the last run that went through.
    pub(crate) last_success: Option<DateTime<Utc>>,
    last_error: Option<ErrorInfo>,
    /// Photos added or changed on or after this day are being staged.
    threshold: Option<NaiveDate>,
    /// The first day a run closes the threshold's month.
    next_rollover: Option<NaiveDate>,
    libraries: Vec<LibraryStatus>,
    repo_check: Option<CheckInfo>,
    /// The last coverage figures (`STATE/coverage.json`), when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) coverage: Option<crate::coverage::Figures>,
    /// The last restore drill (`STATE/drill.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    drill: Option<crate::drill::record::Record>,
    /// The backfill of the back catalogue, per library that has one.
    #[serde(default)]
    backfill: Option<Vec<BackfillStatus>>,
    /// Healthy, or what needs attention, as of the last write
    /// ([`Verdict::of`], the rules of the ATTENTION lines). Absent in files
    /// written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) verdict: Option<Verdict>,
    /// The run log (`logfile::path` of the config's log folder), so
    /// whoever reads the status knows where to look next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    log: Option<String>,
}

/// How far the backfill of one library's back catalogue got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct BackfillStatus {
    library: String,
    /// Months with a verified archive, and what those archives hold.
    months_done: u64,
    parts_done: u64,
    bytes_archived: u64,
    /// What the last look at the back catalogue found left (besides the
    /// part then started), and when.
    left: Option<BackfillLeft>,
    /// A part a killed or held run left, and the step it reached.
    unfinished: Option<String>,
    /// Months held for originals still only in iCloud, with why.
    held: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct BackfillLeft {
    at: DateTime<Utc>,
    months: u64,
    assets: u64,
    bytes: u64,
    /// At least this many runs to go (one part a run).
    runs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunInfo {
    pub(crate) started: DateTime<Utc>,
    pub(crate) ended: DateTime<Utc>,
    pub(crate) outcome: RunResult,
    /// Why it failed or was skipped.
    pub(crate) detail: Option<String>,
}

/// How the last run ended; `ok`, `failed` or `skipped` in `status.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RunResult {
    Ok,
    Failed,
    Skipped,
}

impl std::fmt::Display for RunResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RunResult::Ok => "ok",
            RunResult::Failed => "failed",
            RunResult::Skipped => "skipped",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ErrorInfo {
    at: DateTime<Utc>,
    message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CheckInfo {
    at: DateTime<Utc>,
    ok: bool,
    message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LibraryStatus {
    name: String,
    /// Files in staging now, their bytes, and (with a remote volume) how
    /// many are not yet on it.
    staged_files: u64,
    staged_bytes: u64,
    unmirrored_files: Option<u64>,
    /// Assets not completely backed up yet, by reason.
    pending: Vec<PendingCount>,
    oldest_pending: Option<DateTime<Utc>>,
    /// The last month archived and verified.
    archived_through: Option<String>,
    last_archive: Option<ArchiveInfo>,
    /// A rollover a failed or killed run left, and the step it reached.
    unfinished_rollover: Option<String>,
    /// A finished month not archived yet because originals are still in
    /// iCloud: which months, how many, and until when it waits.
    #[serde(default)]
    held: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PendingCount {
    reason: String,
    count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ArchiveInfo {
    name: String,
    files: u64,
    bytes: u64,
    verified_at: Option<DateTime<Utc>>,
    /// Assets archived without their original.
    missing: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum StatusError {
    #[error("cannot read status file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("status file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write status file {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The status in `state_dir`, or `None` before the first run.
pub(crate) fn read(state_dir: &Path) -> Result<Option<Status>, StatusError> {
    let path = state_dir.join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StatusError::Read { path, source }),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| StatusError::Invalid {
            path,
            message: e.to_string(),
        })
}

/// Writes the status atomically (temp file, fsync, rename), with its
/// verdict as of `now`.
pub(crate) fn write(
    state_dir: &Path,
    status: &Status,
    now: DateTime<Utc>,
) -> Result<(), StatusError> {
    let path = state_dir.join(FILE_NAME);
    let err = |source| StatusError::Write {
        path: path.clone(),
        source,
    };
    let judged = status.judged(now);
    let mut text = serde_json::to_string_pretty(&judged).unwrap_or_default();
    text.push('\n');
    crate::private_fs::create_dir_all(state_dir).map_err(err)?;
    crate::export::copy::write_atomic(&path, text.as_bytes(), None)
        .map(drop)
        .map_err(|e| err(std::io::Error::other(e.to_string())))
}

/// The status after a run that ended with `run`: libraries from the
/// ledger (when there is one), the rest carried over from `previous`.
pub(crate) fn gather(
    run: RunInfo,
    previous: Option<&Status>,
    ledger: Option<&Ledger>,
    libraries: &[&str],
    threshold: Option<NaiveDate>,
    (has_remote, max_pending_days): (bool, Option<u32>),
) -> crate::ledger::Result<Status> {
    let ok = run.outcome == RunResult::Ok;
    let failed = run.outcome == RunResult::Failed;
    let mut status = Status {
        version: VERSION,
        last_success: if ok {
            Some(run.ended)
        } else {
            previous.and_then(|p| p.last_success)
        },
        last_error: if failed {
            Some(ErrorInfo {
                at: run.ended,
                message: run.detail.clone().unwrap_or_default(),
            })
        } else {
            previous.and_then(|p| p.last_error.clone())
        },
        threshold,
        next_rollover: threshold.map(|t| Month::of(t).next().first_day()),
        libraries: Vec::new(),
        repo_check: None,
        coverage: None,
        drill: None,
        backfill: None,
        verdict: None,
        log: None,
        last_run: run,
    };
    let Some(ledger) = ledger else {
        return Ok(status);
    };
    status.repo_check = ledger
        .last_repo_check()?
        .map(|(at, ok, message)| CheckInfo { at, ok, message });
    let rollovers = ledger.rollovers()?;
    for name in libraries {
        let (staged_files, staged_bytes, unmirrored_files) = ledger.staged_totals(name)?;
        let pending = ledger.pending(name)?;
        let mut counts: Vec<PendingCount> = Vec::new();
        for p in &pending {
            match counts.iter_mut().find(|c| c.reason == p.reason) {
                Some(c) => c.count += 1,
                None => counts.push(PendingCount {
                    reason: p.reason.clone(),
                    count: 1,
                }),
            }
        }
        // The backfill's archives have a status of their own.
        let mine: Vec<_> = rollovers
            .iter()
            .filter(|r| r.library == *name && !r.backfill)
            .collect();
        let done = mine
            .iter()
            .filter(|r| r.step == Step::Purged)
            .max_by_key(|r| r.last);
        let made = mine
            .iter()
            .filter(|r| r.step == Step::Purged && r.files > 0)
            .max_by_key(|r| r.last);
        let held = match (threshold, max_pending_days) {
            (Some(t), Some(days)) if !mine.iter().any(|r| r.step != Step::Purged) => held(
                t,
                done.map(|r| r.last),
                &pending,
                status.last_run.ended,
                days,
            ),
            _ => None,
        };
        status.libraries.push(LibraryStatus {
            name: (*name).to_owned(),
            staged_files,
            staged_bytes,
            unmirrored_files: has_remote.then_some(unmirrored_files),
            pending: counts,
            oldest_pending: pending.iter().map(|p| p.first_seen).min(),
            archived_through: done.map(|r| r.last.to_string()),
            last_archive: made.map(|r| ArchiveInfo {
                name: r.archive.clone(),
                files: r.files,
                bytes: r.bytes,
                verified_at: r.verified_at,
                missing: r.missing.clone(),
            }),
            unfinished_rollover: mine
                .iter()
                .find(|r| r.step != Step::Purged)
                .map(|r| format!("{} (reached: {:?})", r.archive, r.step)),
            held,
        });
        if let Some(b) = backfill_status(ledger, &rollovers, name)? {
            status.backfill.get_or_insert_with(Vec::new).push(b);
        }
    }
    Ok(status)
}

/// The backfill of `library`, when it has begun.
fn backfill_status(
    ledger: &Ledger,
    rollovers: &[crate::ledger::Rollover],
    library: &str,
) -> crate::ledger::Result<Option<BackfillStatus>> {
    let parts: Vec<_> = rollovers
        .iter()
        .filter(|r| r.library == library && r.backfill)
        .collect();
    let census = ledger.backfill_census(library)?;
    if parts.is_empty() && census.is_none() {
        return Ok(None);
    }
    let done: Vec<_> = parts.iter().filter(|r| r.step == Step::Purged).collect();
    let mut months: Vec<Month> = done.iter().map(|r| r.first).collect();
    months.dedup();
    Ok(Some(BackfillStatus {
        library: library.to_owned(),
        months_done: months.len() as u64,
        parts_done: done.len() as u64,
        bytes_archived: done.iter().map(|r| r.bytes).sum(),
        left: census.map(|c| BackfillLeft {
            at: c.at,
            months: c.months,
            assets: c.assets,
            bytes: c.bytes,
            runs: c.runs,
        }),
        unfinished: parts
            .iter()
            .find(|r| r.step != Step::Purged)
            .map(|r| format!("{} (reached: {:?})", r.archive, r.step)),
        held: ledger
            .backfill_holds(library)?
            .into_iter()
            .map(|h| {
                format!(
                    "{}: {}, since {}",
                    h.month,
                    h.reason,
                    h.since.format("%Y-%m-%d")
                )
            })
            .collect(),
    }))
}

impl Status {
    /// This status with its verdict as of `now`.
    #[must_use]
    pub(crate) fn judged(&self, now: DateTime<Utc>) -> Status {
        Status {
            verdict: Some(Verdict::of(self, now)),
            ..self.clone()
        }
    }

    /// Sets where the run log is.
    pub(crate) fn set_log(&mut self, path: &Path) {
        self.log = Some(path.display().to_string());
    }

    /// Where the run log is, when known.
    #[must_use]
    pub(crate) fn log(&self) -> Option<&str> {
        self.log.as_deref()
    }

    /// Sets the last restore drill, as `drill.json` has it.
    pub(crate) fn set_drill(&mut self, drill: Option<crate::drill::record::Record>) {
        self.drill = drill;
    }
}

/// "2026-09 waits for 3 originals still in iCloud, until 2026-10-05", when
/// the rules of the rollover hold a finished month open.
fn held(
    threshold: NaiveDate,
    archived_through: Option<Month>,
    pending: &[crate::ledger::Pending],
    now: DateTime<Utc>,
    max_pending_days: u32,
) -> Option<String> {
    use crate::archive::period::{decide, due, Decision};
    let when = crate::clock::When::at(now);
    let (first, last) = due(threshold, archived_through, when.today)?;
    let seen: Vec<(String, DateTime<Utc>)> = pending
        .iter()
        .map(|p| (p.uuid.clone(), p.first_seen))
        .collect();
    match decide(&seen, when.month_began, now, max_pending_days) {
        Decision::Hold { waiting, until } => {
            let months = if first == last {
                first.to_string()
            } else {
                format!("{first} to {last}")
            };
            Some(format!(
                "{months} waits for {} originals still in iCloud, until {} at the latest",
                waiting.len(),
                until.format("%Y-%m-%d")
            ))
        }
        Decision::Archive { .. } => None,
    }
}
