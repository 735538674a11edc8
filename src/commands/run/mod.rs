//! `photos-backup run`: one backup cycle. With a `[remote]` section: the
//! gate (server unreachable: skipped), the mounts, then for each configured
//! library the export of what changed since the threshold (plus what is
//! pending) into local staging and its mirror onto the decrypted remote
//! volume, and finally the unmount (on every path, errors included).
//! `--dry-run` prints the plan and changes nothing anywhere: no mounts, no
//! staging or ledger writes, no temp files left.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};

use crate::config::{Config, Library as LibraryConfig};
use crate::error_text::describe_error;
use crate::export::batches;
use crate::export::copy;
use crate::export::download::Downloader;
use crate::export::plan::{Options, Plan};
use crate::export::stage::{self, Downloads, Progress};
use crate::ledger::{Ledger, LibraryState};
use crate::photos::snapshot::Fingerprint;
use crate::photos::{Library, Selection};
use crate::process::CommandRunner;
use crate::remote::mirror;
use crate::remote::mount::{self, MountEnv};
use crate::remote::network::{self, Reachability};
use crate::report::{Line, Status};
use crate::secrets::SecretStore;
use crate::text::human_bytes;
use crate::threshold;

mod backfill;
mod coverage;
mod deadline;
mod drill;
mod rollover;
mod skips;
mod takeout;
pub(crate) mod unattended;

/// What `run` needs from the outside world.
pub struct Deps<'a> {
    pub now: DateTime<Utc>,
    pub downloader: Option<&'a dyn Downloader>,
    pub progress: &'a mut dyn Progress,
    pub runner: &'a dyn CommandRunner,
    pub secrets: &'a dyn SecretStore,
    pub mount_env: MountEnv,
    /// On battery with `only_on_ac_power`: the archive waits (and the
    /// caller gives no downloader).
    pub on_battery: bool,
    /// Called once when the run begins real work: past the network gate (a
    /// skipped run never calls it), before the mounts. The monitor's start
    /// ping; what it has to say goes to the run's output.
    pub on_begin: Option<OnBegin<'a>>,
    /// Where a line said while a long step works goes (`borg create`'s
    /// progress): the log, as it happens.
    pub note: &'a dyn Fn(&str),
}

/// What `Deps::on_begin` calls, with the run's output.
pub type OnBegin<'a> = &'a dyn Fn(&mut dyn Write);

/// How a whole run ended: the exit code's meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// Done, every library (or nothing to do); with the lines that need the
    /// user's attention all the same (a month archived without originals).
    Done(Vec<Line>),
    /// At least one library (or its rollover) failed; the others were done.
    /// The failed lines, for the notification.
    Failed(Vec<Line>),
    /// Not attempted: the server is not reachable (off the home network).
    Skipped(String),
}

/// How one library's run ended, for the summary and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Database unchanged since the last run and nothing pending: no rows read.
    Unchanged,
    /// What a dry run would stage.
    Planned(Summary),
    Staged(Summary),
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Summary {
    files: usize,
    bytes: u64,
    assets: usize,
    unchanged: usize,
    pending: Vec<(String, usize)>,
    downloaded: usize,
    /// The reader's doubt about the library, such as a Photos model newer
    /// than any it was tested with: in the run's line (and log), not a
    /// notification, since it would repeat every five minutes.
    warning: Option<String>,
}

/// Runs one backup cycle.
pub fn run(
    config: &Config,
    dry_run: bool,
    deps: &mut Deps,
    out: &mut dyn Write,
) -> Result<RunOutcome> {
    let local_threshold = threshold::read(&config.staging_dir)?;
    let Some(remote) = config.remote.as_ref().filter(|_| !dry_run) else {
        if config.remote.is_some() {
            writeln!(out, "remote: not contacted in a dry run")?;
        }
        let threshold = local_threshold.unwrap_or(config.default_threshold);
        if local_threshold.is_none() && !dry_run {
            write_first_threshold(&config.staging_dir, threshold)?;
        }
        if !dry_run {
            begin(deps, out);
        }
        return export_all(config, threshold, dry_run, None, deps, out);
    };
    match network::gate(
        remote,
        deps.mount_env.os,
        &deps.mount_env.tool_dirs,
        deps.runner,
    ) {
        Reachability::Unreachable(why) => {
            let reason = format!("off network: {why}");
            record_skip(config, &reason, deps.now)?;
            return Ok(RunOutcome::Skipped(reason));
        }
        // Not off network: skipping would go on forever, unnoticed.
        Reachability::Refused(refused) => {
            anyhow::bail!("{refused}; fix: {}", refused.fix())
        }
        Reachability::Reachable { .. } => {}
    }
    begin(deps, out);
    let password = deps.secrets.get(&remote.password)?;
    let mut mounted = mount::ensure_mounted(remote, &password, deps.runner, &deps.mount_env)?;
    let repaired =
        crate::remote::repair::remove_broken_dirs_within(&mounted.cipher, REPAIR_TIMEOUT);
    if repaired.as_ref().is_ok_and(|r| !r.is_empty()) {
        // gocryptfs may still hold the removed folders: mount it afresh.
        mount::unmount(remote, deps.runner, &deps.mount_env)?;
        mounted = mount::ensure_mounted(remote, &password, deps.runner, &deps.mount_env)?;
    }
    let plain = mounted.plain.clone();
    // Whatever happens next, the mounts are released (unless kept).
    let result = (|| {
        let repaired = repaired
            .with_context(|| format!("checking {} for broken folders", mounted.cipher.display()))?;
        if !repaired.is_empty() {
            writeln!(
                out,
                "remote: removed {} empty folders a lost connection left half-made",
                repaired.len()
            )?;
        }
        let remote_threshold = threshold::read(&plain)?;
        let threshold = [local_threshold, remote_threshold]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(config.default_threshold);
        writeln!(
            out,
            "remote: {}@{}:{} mounted on {}",
            remote.user,
            remote.host,
            remote.dir,
            plain.display()
        )?;
        // Both copies of the threshold exist from the first run on.
        if local_threshold.is_none() {
            write_first_threshold(&config.staging_dir, threshold)?;
        }
        if remote_threshold.is_none() {
            threshold::write(&plain, threshold)?;
        }
        export_all(config, threshold, false, Some(&plain), deps, out)
    })();
    if let Err(e) = &result {
        mirror::write_error_log(&plain, deps.now, &describe_error(e));
    }
    let released = if remote.keep_mounted {
        Ok(())
    } else {
        mount::unmount(remote, deps.runner, &deps.mount_env)
    };
    let outcome = result?;
    released?;
    Ok(outcome)
}

/// Tells the caller the run begins real work (`Deps::on_begin`).
fn begin(deps: &Deps, out: &mut dyn Write) {
    if let Some(on_begin) = deps.on_begin {
        on_begin(out);
    }
}

/// How long the walk of the cipher folder for half-made folders may take.
const REPAIR_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The threshold file is written on the first run, so the user can see
/// (and edit) where the backup starts.
fn write_first_threshold(staging: &Path, date: NaiveDate) -> Result<()> {
    std::fs::create_dir_all(staging)
        .with_context(|| format!("creating staging dir {}", staging.display()))?;
    Ok(threshold::write(staging, date)?)
}

/// A skipped run is recorded too (outcome `skipped` and why), so the status
/// can tell "off network since Tuesday" from "not running at all".
fn record_skip(config: &Config, reason: &str, now: DateTime<Utc>) -> Result<()> {
    std::fs::create_dir_all(&config.state_dir)
        .with_context(|| format!("creating state dir {}", config.state_dir.display()))?;
    let ledger = Ledger::open(&config.state_dir.join("ledger.sqlite"))?;
    let id = ledger.begin_run(now, false)?;
    ledger.finish_run(id, now, "skipped", &serde_json::json!({ "reason": reason }))?;
    Ok(())
}

/// Mirrors `library` from staging onto the decrypted view, said in its
/// `line`; `false` when the mirror failed (the library is then not ready
/// to archive).
fn mirror_library(
    library: &str,
    paths: (&Path, &Path),
    ledger: &mut Ledger,
    deps: &mut Deps,
    line: &mut Line,
) -> bool {
    match mirror::mirror(library, paths, ledger, deps.now, &mut *deps.progress) {
        Ok(m) => {
            if m.files > 0 {
                line.text.push_str(&format!(
                    "; mirrored {} files ({})",
                    m.files,
                    human_bytes(m.bytes)
                ));
            }
            true
        }
        Err(e) => {
            line.status = Status::Failed;
            line.text
                .push_str(&format!("; mirror FAILED: {}", describe_error(&e)));
            false
        }
    }
}

/// Exports (and, with a remote volume mounted at `plain`, mirrors) every library.
fn export_all(
    config: &Config,
    threshold: NaiveDate,
    dry_run: bool,
    plain: Option<&Path>,
    deps: &mut Deps,
    out: &mut dyn Write,
) -> Result<RunOutcome> {
    writeln!(
        out,
        "threshold: {threshold}{}",
        if dry_run {
            " (dry run: nothing will be changed)"
        } else {
            ""
        }
    )?;
    let ledger_path = config.state_dir.join("ledger.sqlite");
    let mut ledger = if dry_run {
        Ledger::open_existing_read_only(&ledger_path)?
    } else {
        std::fs::create_dir_all(&config.state_dir)
            .with_context(|| format!("creating state dir {}", config.state_dir.display()))?;
        std::fs::create_dir_all(&config.staging_dir)
            .with_context(|| format!("creating staging dir {}", config.staging_dir.display()))?;
        Some(Ledger::open(&ledger_path)?)
    };
    let run_id = match ledger.as_ref().filter(|_| !dry_run) {
        Some(l) => Some(l.begin_run(deps.now, dry_run)?),
        None => None,
    };
    let mut report = serde_json::Map::new();
    // Libraries exported and mirrored without a failure: ready to archive.
    let mut ready = Vec::new();
    let mut lines = Vec::new();
    for lib in &config.libraries {
        let mut line = match run_library(config, lib, threshold, dry_run, ledger.as_mut(), deps) {
            Ok(outcome) => {
                ready.push(lib.name.as_str());
                describe(&lib.name, &outcome)
            }
            Err(e) => Line::failed(&lib.name, format!("FAILED: {}", describe_error(&e))),
        };
        // The mirror also catches up on files an earlier run could not copy.
        if let (Some(plain), Some(l)) = (plain, ledger.as_mut()) {
            if !mirror_library(&lib.name, (&config.staging_dir, plain), l, deps, &mut line) {
                ready.retain(|name| *name != lib.name);
            }
        }
        writeln!(out, "{line}")?;
        report.insert(
            lib.name.clone(),
            serde_json::Value::String(line.to_string()),
        );
        lines.push(line);
    }
    // The Takeout sources: staged, then mirrored like a library.
    let mut took_ready = Vec::new();
    let took = takeout::step(config, ledger.as_mut(), dry_run, deps.now, &mut took_ready);
    for (t, mut line) in config.takeouts.iter().zip(took) {
        if let (Some(plain), Some(l)) = (plain, ledger.as_mut()) {
            if !mirror_library(&t.name, (&config.staging_dir, plain), l, deps, &mut line) {
                took_ready.retain(|name| *name != t.name);
            }
        }
        writeln!(out, "{line}")?;
        report.insert(t.name.clone(), serde_json::Value::String(line.to_string()));
        lines.push(line);
    }
    ready.extend(took_ready);
    let phase = rollover::Phase {
        config,
        threshold,
        ready: &ready,
        plain,
    };
    let rolled = match (dry_run, ledger.as_mut()) {
        (false, Some(l)) => rollover::run(&phase, l, deps),
        (_, l) => rollover::preview(&phase, l.map(|l| &*l), deps)?,
    };
    emit("rollover", &rolled, &mut report, out)?;
    lines.extend(rolled);
    let backfilled = backfill::step(&phase, ledger.as_mut(), dry_run, deps, &lines)?;
    emit("backfill", &backfilled, &mut report, out)?;
    lines.extend(backfilled);
    let covered = coverage::step(
        config,
        ledger.as_ref().filter(|_| !dry_run),
        &lines,
        deps.now,
    );
    emit("coverage", &covered, &mut report, out)?;
    lines.extend(covered);
    // The restore drill, last, and only after everything before it went through.
    let failed = lines.iter().any(|l| l.status == Status::Failed);
    let drilled = match (&ledger, dry_run, failed) {
        (_, true, _) => drill::preview(config, deps),
        (Some(l), false, false) => drill::run(config, l, plain, deps),
        _ => Vec::new(),
    };
    emit("drill", &drilled, &mut report, out)?;
    lines.extend(drilled);
    let outcome = outcome_of(&lines);
    if let (Some(id), Some(l)) = (run_id, ledger.as_ref()) {
        let word = if matches!(outcome, RunOutcome::Failed(_)) {
            "failed"
        } else {
            "ok"
        };
        l.finish_run(id, deps.now, word, &serde_json::Value::Object(report))?;
    }
    Ok(outcome)
}

/// Prints the lines of a step and keeps them in the run's report under `key`.
fn emit(
    key: &str,
    lines: &[Line],
    report: &mut serde_json::Map<String, serde_json::Value>,
    out: &mut dyn Write,
) -> Result<()> {
    for line in lines {
        writeln!(out, "{line}")?;
    }
    if !lines.is_empty() {
        let texts: Vec<String> = lines.iter().map(ToString::to_string).collect();
        report.insert(key.into(), serde_json::json!(texts));
    }
    Ok(())
}

/// A run failed when any of its lines did; otherwise it is done, with the
/// lines that warn.
fn outcome_of(lines: &[Line]) -> RunOutcome {
    let of = |status| -> Vec<Line> {
        lines
            .iter()
            .filter(|l| l.status == status)
            .cloned()
            .collect()
    };
    let failed = of(Status::Failed);
    if failed.is_empty() {
        RunOutcome::Done(of(Status::Warning))
    } else {
        RunOutcome::Failed(failed)
    }
}

fn run_library(
    config: &Config,
    lib: &LibraryConfig,
    threshold: NaiveDate,
    dry_run: bool,
    ledger: Option<&mut Ledger>,
    deps: &mut Deps,
) -> Result<Outcome> {
    let db = crate::photos::database_path(&lib.path)?;
    let fingerprint = Fingerprint::of(&db)?;
    let pending = match &ledger {
        Some(l) => l.pending(&lib.name)?,
        None => Vec::new(),
    };
    let last = match &ledger {
        Some(l) => l.library_state(&lib.name)?,
        None => None,
    };
    let downloads_on = config.export.download_missing && deps.downloader.is_some();
    if unchanged(
        last,
        state_of(&fingerprint),
        &pending,
        downloads_on,
        deps.now,
    ) {
        return Ok(Outcome::Unchanged);
    }
    if !dry_run {
        crate::export::temps::clean(
            &crate::export::temps::list_path(&config.state_dir, &lib.name),
            &config.staging_dir.join(&lib.name),
        )
        .with_context(|| format!("cleaning temp files in {}", config.staging_dir.display()))?;
    }

    let checks = (!dry_run).then(|| crate::photos::CheckLog::in_dir(&config.state_dir));
    let library = Library::open_for_run(&lib.path, checks.as_ref(), deps.now)?;
    let selection = Selection {
        all: true,
        since: Some(crate::clock::local_midnight(threshold)),
        uuids: pending.iter().map(|p| p.uuid.clone()).collect(),
    };
    let options = Options {
        edited: config.export.edited,
        unpicked_bursts: config.export.unpicked_bursts,
    };
    let warning = library.schema.warning.clone();
    let already: std::collections::HashSet<&str> =
        pending.iter().map(|p| p.uuid.as_str()).collect();
    let due: std::collections::HashSet<&str> = pending
        .iter()
        .filter(|p| downloads_on && stage::download_due(p, deps.now))
        .map(|p| p.uuid.as_str())
        .collect();
    let download_due = |uuid: &str| due.contains(uuid);
    let staging = (!dry_run && ledger.is_some()).then(|| batches::Staging {
        root: &config.staging_dir,
        group_readable: config.staging_group_readable,
        progress: &mut *deps.progress,
        download_due: &download_due,
    });
    let mut ledger = ledger;
    let totals = batches::walk(
        &lib.name,
        library,
        &selection,
        options,
        ledger.as_deref_mut(),
        staging,
        &already,
        (deps.now, batches::ASSETS),
    )?;
    let mut summary = summarize(&totals, warning);
    // Pending assets no longer in the library (deleted there) are let go.
    let gone: Vec<&str> = already
        .iter()
        .copied()
        .filter(|u| !totals.seen_pending.contains(*u))
        .collect();

    let Some(ledger) = ledger.filter(|_| !dry_run) else {
        return Ok(Outcome::Planned(summary));
    };
    let staged = totals.staged;
    let plan = Plan {
        pending: totals.pending,
        ..Plan::default()
    };
    for uuid in gone {
        ledger.clear_pending(&lib.name, uuid)?;
    }
    let fetched = fetch_missing(config, &lib.name, &plan, ledger, deps)?;
    summary.downloaded = fetched.downloaded;
    summary.files = staged.files + fetched.files;
    summary.bytes = staged.bytes + fetched.bytes;
    summary.pending = count_reasons(
        &ledger
            .pending(&lib.name)?
            .into_iter()
            .map(|p| p.reason)
            .collect::<Vec<_>>(),
    );
    // Only a run that went through records the fingerprint that lets the
    // next one skip reading an unchanged library.
    ledger.set_library_state(&lib.name, &state_of(&fingerprint))?;
    Ok(Outcome::Staged(summary))
}

/// Asks Photos for originals only in iCloud, when configured and possible.
fn fetch_missing(
    config: &Config,
    library: &str,
    plan: &Plan,
    ledger: &mut Ledger,
    deps: &Deps,
) -> Result<stage::Staged> {
    let Some(downloader) = deps.downloader.filter(|_| config.export.download_missing) else {
        return Ok(stage::Staged::default());
    };
    let downloads = Downloads {
        downloader,
        max: config.export.max_downloads_per_run,
        timeout: config.export.download_timeout,
    };
    stage::download_pending(
        library,
        (&config.staging_dir, config.staging_group_readable),
        plan,
        ledger,
        &downloads,
        deps.now,
    )
}

/// The fast path: nothing to do without reading a single row when the
/// database and its WAL are as the last completed run left them, and no
/// pending asset could get further without a change to the database. An
/// original in iCloud arrives only through Photos, which then updates the
/// database; the exception is one we may ask Photos for (downloads on, due).
#[must_use]
fn unchanged(
    last: Option<LibraryState>,
    now_state: LibraryState,
    pending: &[crate::ledger::Pending],
    downloads_on: bool,
    now: DateTime<Utc>,
) -> bool {
    last == Some(now_state)
        && !(downloads_on && pending.iter().any(|p| stage::download_due(p, now)))
}

fn state_of(f: &Fingerprint) -> LibraryState {
    let ns = |t: Option<std::time::SystemTime>| t.map_or(0, copy::unix_ns);
    LibraryState {
        db_size: f.db.0,
        db_mtime_ns: ns(f.db.1),
        wal_size: f.wal.map(|w| w.0),
        wal_mtime_ns: f.wal.map(|w| ns(w.1)),
    }
}

/// What the batches planned, for the run's line.
fn summarize(totals: &batches::Totals, warning: Option<String>) -> Summary {
    Summary {
        files: totals.files,
        bytes: totals.bytes,
        assets: totals.assets,
        unchanged: totals.unchanged,
        pending: count_reasons(
            &totals
                .pending
                .iter()
                .map(|p| p.reason.clone())
                .collect::<Vec<_>>(),
        ),
        downloaded: 0,
        warning,
    }
}

fn count_reasons(reasons: &[String]) -> Vec<(String, usize)> {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for r in reasons {
        *counts.entry(r.as_str()).or_default() += 1;
    }
    counts.into_iter().map(|(r, n)| (r.to_owned(), n)).collect()
}

/// One line per library for people.
#[must_use]
fn describe(name: &str, outcome: &Outcome) -> Line {
    let (verb, s) = match outcome {
        Outcome::Unchanged => return Line::ok(name, "unchanged since the last run, nothing to do"),
        Outcome::Planned(s) => ("would stage", s),
        Outcome::Staged(s) => ("staged", s),
    };
    let mut line = format!(
        "{verb} {} files ({}) of {} assets; {} files already staged",
        s.files,
        human_bytes(s.bytes),
        s.assets,
        s.unchanged
    );
    if s.downloaded > 0 {
        line.push_str(&format!("; {} downloaded from iCloud", s.downloaded));
    }
    let pending: usize = s.pending.iter().map(|(_, n)| n).sum();
    if pending > 0 {
        let reasons: Vec<String> = s.pending.iter().map(|(r, n)| format!("{n} {r}")).collect();
        line.push_str(&format!("; {pending} pending: {}", reasons.join(", ")));
    }
    if let Some(w) = &s.warning {
        line.push_str(&format!("; note: {w}"));
    }
    Line::ok(name, line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Pending;
    use chrono::TimeZone;

    fn state(size: u64) -> LibraryState {
        LibraryState {
            db_size: size,
            db_mtime_ns: 1,
            wal_size: Some(2),
            wal_mtime_ns: Some(3),
        }
    }

    fn pending(reason: &str, attempts: u32, last: DateTime<Utc>) -> Pending {
        Pending {
            library: "l".into(),
            uuid: "u".into(),
            reason: reason.into(),
            attempts,
            first_seen: last,
            last_attempt: Some(last),
        }
    }

    #[test]
    fn the_fast_path_needs_an_unchanged_database_and_nothing_to_ask_photos() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert!(unchanged(Some(state(1)), state(1), &[], true, now));
        assert!(!unchanged(Some(state(1)), state(2), &[], false, now));
        assert!(!unchanged(None, state(1), &[], false, now));
        // Waiting for Photos to download on its own: nothing to do until the database changes.
        let waiting = [pending(crate::export::plan::IN_ICLOUD, 1, now)];
        assert!(unchanged(Some(state(1)), state(1), &waiting, false, now));
        // We may ask Photos ourselves, and have not yet: a run must read.
        assert!(!unchanged(Some(state(1)), state(1), &waiting, true, now));
        // We asked and it failed a minute ago: wait for the backoff.
        let failed = [pending(
            "original only in iCloud (download failed: x)",
            2,
            now,
        )];
        assert!(unchanged(
            Some(state(1)),
            state(1),
            &failed,
            true,
            now + chrono::Duration::minutes(1)
        ));
        assert!(!unchanged(
            Some(state(1)),
            state(1),
            &failed,
            true,
            now + chrono::Duration::minutes(6)
        ));
    }
}
