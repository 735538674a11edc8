//! Step 10 of a run: the backfill of the back catalogue (`crate::backfill`),
//! after the normal cycle and the rollover went through, on AC power, and
//! with at least half of the run's deadline left: the current month's backup
//! is never delayed by it. Per library and run, parts a killed run left are
//! finished first; then, unless one of them was archived, at most one new
//! part: the oldest month of the back catalogue not yet taken, as much of it
//! as fits the staging budget, staged through the export (asking Photos for
//! originals only in iCloud within `[export]`'s limits), and archived with
//! the rollover's steps into `PREFIX-LIBRARY-backfill-YYYY-MM[-N]`.
//!
//! A part whose originals are still only in iCloud is held: it stays in
//! staging (counted against the budget), is never archived incomplete, and
//! is staged again (downloads asked again) by every later run until it is
//! complete. Later months proceed meanwhile, within what is left of the
//! budget.

use std::collections::HashSet;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Datelike, FixedOffset};

use super::rollover::{Access, Phase};
use super::Deps;
use crate::archive::period::Month;
use crate::archive::rollover::{self, Archived};
use crate::backfill::decide::{self, Candidate, Part};
use crate::config::Library as LibraryConfig;
use crate::error_text::describe_error;
use crate::export::batches;
use crate::export::plan::{self, Options, Plan, IN_ICLOUD};
use crate::export::stage::{self, Downloads};
use crate::ledger::{Census, Ledger, Rollover, Step};
use crate::photos::{Library, Selection};
use crate::report::Line;
use crate::text::human_bytes;

/// The run's backfill step after the lines of the run so far (none
/// failed: the cycle went through); a dry run's preview reads the ledger.
pub(super) fn step(
    phase: &Phase,
    ledger: Option<&mut Ledger>,
    dry_run: bool,
    deps: &mut Deps,
    so_far: &[Line],
) -> Result<Vec<Line>> {
    let cycle_ok = !so_far
        .iter()
        .any(|l| l.status == crate::report::Status::Failed);
    match (dry_run, ledger) {
        (false, Some(l)) => Ok(run(phase, l, deps, cycle_ok)),
        (_, l) => preview(phase, l.map(|l| &*l), deps),
    }
}

/// Backfills every library ready in this run; `cycle_ok`: nothing of this
/// run failed so far. With `[backfill]` turned off, parts already begun are
/// still finished (their files are staged, and only their part takes them),
/// and no new one is begun.
fn run(phase: &Phase, ledger: &mut Ledger, deps: &mut Deps, cycle_ok: bool) -> Vec<Line> {
    let begun = match begun(phase, Some(ledger)) {
        Ok(begun) => begun,
        Err(e) => {
            return vec![Line::failed(
                "backfill",
                format!("FAILED: {}", describe_error(&e)),
            )]
        }
    };
    if let Some(lines) = gate(phase, deps, cycle_ok, begun) {
        return lines;
    }
    let config = phase.config;
    let mut lines = Vec::new();
    for name in phase.ready {
        let Some(lib) = config.libraries.iter().find(|l| l.name == *name) else {
            continue;
        };
        if let Err(e) = library(phase, lib, ledger, deps, &mut lines) {
            lines.push(Line::failed(
                *name,
                format!("backfill FAILED: {}", describe_error(&e)),
            ));
        }
    }
    lines
}

/// Whether a ready library has a backfill part not finished.
fn begun(phase: &Phase, ledger: Option<&Ledger>) -> Result<bool> {
    let Some(ledger) = ledger else {
        return Ok(false);
    };
    for name in phase.ready {
        if ledger.open_backfill(name)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Why the backfill does nothing this run, if it does not: the lines that
/// say so (none when it is off and has no part to finish).
fn gate(phase: &Phase, deps: &Deps, cycle_ok: bool, begun: bool) -> Option<Vec<Line>> {
    let config = phase.config;
    let say = |text: &str| Some(vec![Line::ok("backfill", text)]);
    if !config.backfill.enabled && !begun {
        return Some(Vec::new());
    }
    if config.borg.is_none() {
        return say("there is no [borg] section: nothing is backfilled");
    }
    if !cycle_ok {
        return say("waits: this run's backup did not go through");
    }
    if deps.on_battery {
        return say("waits for AC power (only_on_ac_power)");
    }
    if super::deadline::half_gone(&config.limits) {
        return say("waits for the next run: half of this run's deadline is gone");
    }
    None
}

/// What a dry run says the backfill would do (the ledger is only read).
fn preview(phase: &Phase, ledger: Option<&Ledger>, deps: &Deps) -> Result<Vec<Line>> {
    if let Some(lines) = gate(phase, deps, true, begun(phase, ledger)?) {
        return Ok(lines);
    }
    let settings = phase.config.backfill;
    let mut lines = Vec::new();
    for name in phase.ready {
        let Some(lib) = phase.config.libraries.iter().find(|l| l.name == *name) else {
            continue;
        };
        let open: Vec<Rollover> = match ledger {
            Some(l) => l
                .backfills(name)?
                .into_iter()
                .filter(|r| r.step != Step::Purged)
                .collect(),
            None => Vec::new(),
        };
        for part in &open {
            lines.push(Line::ok(
                *name,
                format!(
                    "would resume the backfill into {} (step reached: {:?})",
                    part.archive, part.step
                ),
            ));
        }
        if !settings.enabled {
            continue;
        }
        let candidates = census(phase, lib, ledger, deps.now, true)?;
        let busy: Vec<Month> = open.iter().map(|r| r.first).collect();
        let used = match ledger {
            Some(l) => l.staged_bytes_all()?,
            None => 0,
        };
        let budget = settings.max_staging_bytes;
        let text = match decide::next_part(&candidates, settings.start, &busy, (used, budget)) {
            Some((month, photos, Part::Take { uuids, bytes, .. })) => format!(
                "would back fill {month}: {} of its {photos} photos ({}) into {}, verify it, \
                 and purge them",
                uuids.len(),
                human_bytes(bytes),
                archive_of(phase, ledger, name, month)?
            ),
            Some((month, _, Part::Wait { left, needed })) => {
                format!("backfill of {month} would wait: {}", short_of(left, needed))
            }
            None => continue,
        };
        lines.push(Line::ok(*name, text));
    }
    Ok(lines)
}

/// The backfill of one library this run.
fn library(
    phase: &Phase,
    lib: &LibraryConfig,
    ledger: &mut Ledger,
    deps: &mut Deps,
    lines: &mut Vec<Line>,
) -> Result<()> {
    let open: Vec<Rollover> = ledger
        .backfills(&lib.name)?
        .into_iter()
        .filter(|r| r.step != Step::Purged)
        .collect();
    let mut archived = false;
    for part in &open {
        archived |= finish_part(phase, lib, ledger, deps, part.clone(), lines)?;
    }
    let settings = phase.config.backfill;
    if archived || !settings.enabled {
        return Ok(());
    }
    let budget = settings.max_staging_bytes;
    let used = ledger.staged_bytes_all()?;
    // Done, or still waiting for room, and nothing changed since: the
    // library is not read again.
    let basis = format!(
        "threshold={} start={:?} budget={budget} library={:?}",
        phase.threshold,
        settings.start,
        ledger.library_state(&lib.name)?
    );
    let last = ledger.backfill_census(&lib.name)?;
    let last_seen = last.as_ref().map(|c| decide::LastCensus {
        basis: &c.basis,
        months: c.months,
        waiting: c.waiting,
    });
    if !decide::census_needed(last_seen, &basis, budget.saturating_sub(used)) {
        return Ok(());
    }
    let candidates = census(phase, lib, Some(ledger), deps.now, false)?;
    let busy: Vec<Month> = open.iter().map(|r| r.first).collect();
    let next = decide::next_part(&candidates, settings.start, &busy, (used, budget));
    let part = next.as_ref().map(|(_, _, part)| part);
    record_census(
        ledger,
        &lib.name,
        &candidates,
        part,
        basis,
        deps.now,
        settings,
    )?;
    match next {
        None => Ok(()),
        Some((month, _, Part::Wait { left, needed })) => {
            lines.push(Line::ok(
                &lib.name,
                format!("backfill of {month} waits: {}", short_of(left, needed)),
            ));
            Ok(())
        }
        Some((
            month,
            _,
            Part::Take {
                uuids,
                bytes,
                oversized,
            },
        )) => {
            if oversized {
                lines.push(Line::ok(
                    &lib.name,
                    format!(
                        "backfill of {month}: one photo ({}) is larger than the whole staging \
                         budget ({}); it goes alone, and staging holds more than the budget \
                         until it is archived",
                        human_bytes(bytes),
                        human_bytes(budget)
                    ),
                ));
            }
            let archive = archive_of(phase, Some(ledger), &lib.name, month)?;
            let part = ledger.plan_backfill(&lib.name, &archive, month, &uuids, deps.now)?;
            crate::failpoint::pause("backfill-planned");
            finish_part(phase, lib, ledger, deps, part, lines)?;
            Ok(())
        }
    }
}

/// Why a part waits for staging to empty.
fn short_of(left: u64, needed: u64) -> String {
    format!(
        "staging has {} left of its budget, the next photo needs {}",
        human_bytes(left),
        human_bytes(needed)
    )
}

/// The archive name of the next part of `month` (its number: one more
/// than the parts the ledger has of that month).
fn archive_of(
    phase: &Phase,
    ledger: Option<&Ledger>,
    library: &str,
    month: Month,
) -> Result<String> {
    let done = match ledger {
        Some(l) => l
            .backfills(library)?
            .iter()
            .filter(|r| r.first == month)
            .count(),
        None => 0,
    };
    let prefix = phase.config.borg.as_ref().map_or("", |b| b.prefix.as_str());
    Ok(decide::archive_name(prefix, library, month, done + 1))
}

/// Records what is left once this run's part (if any) is archived.
fn record_census(
    ledger: &Ledger,
    library: &str,
    candidates: &[Candidate],
    part: Option<&Part>,
    basis: String,
    now: chrono::DateTime<chrono::Utc>,
    settings: crate::backfill::settings::Settings,
) -> Result<()> {
    let taken: HashSet<&str> = match part {
        Some(Part::Take { uuids, .. }) => uuids.iter().map(String::as_str).collect(),
        _ => HashSet::new(),
    };
    let rest: Vec<Candidate> = candidates
        .iter()
        .filter(|c| !taken.contains(c.uuid.as_str()))
        .cloned()
        .collect();
    let left = decide::left(&rest, settings.start, settings.max_staging_bytes);
    ledger.set_backfill_census(
        library,
        &Census {
            at: now,
            basis,
            months: left.months,
            assets: left.assets,
            bytes: left.bytes,
            runs: left.runs,
            waiting: match part {
                Some(Part::Wait { needed, .. }) => Some(*needed),
                _ => None,
            },
        },
    )?;
    Ok(())
}

/// Takes a part from the step it reached to the end, staging it first when
/// it is only planned; returns whether it was archived in this call (a
/// held part is not).
fn finish_part(
    phase: &Phase,
    lib: &LibraryConfig,
    ledger: &mut Ledger,
    deps: &mut Deps,
    part: Rollover,
    lines: &mut Vec<Line>,
) -> Result<bool> {
    // Staging a part and archiving it may take the archive's deadline.
    super::deadline::archiving();
    let mut fresh = None;
    if part.step == Step::Planned {
        if let Some(waiting) = stage_part(phase, lib, ledger, deps, &part)? {
            lines.push(Line::ok(
                &lib.name,
                format!(
                    "backfill of {} held: {waiting} originals still only in iCloud; \
                     it stays staged and is tried again next run",
                    part.first
                ),
            ));
            return Ok(false);
        }
        fresh = Some(ledger.snapshot_rollover(&lib.name, &part.archive)?.0);
        crate::failpoint::pause("backfill-listed");
    }
    let Some(borg) = &phase.config.borg else {
        return Ok(false);
    };
    let mut access = Access {
        borg,
        phase,
        deps,
        opened: None,
    };
    let ctx = access.context()?;
    let month = part.first;
    let done = rollover::finish(&ctx, ledger, part, fresh)?;
    ledger.release_backfill(&lib.name, month)?;
    lines.push(archived_line(&lib.name, &done));
    Ok(true)
}

/// Stages the part's assets (again, after a kill or a hold: what is staged
/// unchanged is left alone), asks Photos for the originals only in iCloud,
/// and marks the part's files. Returns how many originals are still only in
/// iCloud, if any (the part is then held).
fn stage_part(
    phase: &Phase,
    lib: &LibraryConfig,
    ledger: &mut Ledger,
    deps: &mut Deps,
    part: &Rollover,
) -> Result<Option<usize>> {
    let config = phase.config;
    let uuids = ledger.backfill_assets(&lib.name, &part.archive)?;
    let pending = ledger.pending(&lib.name)?;
    let already: HashSet<&str> = pending.iter().map(|p| p.uuid.as_str()).collect();
    // A killed copy's temp files go first, as in the normal cycle (which
    // skips that when the library is unchanged).
    crate::export::temps::clean(
        &crate::export::temps::list_path(&config.state_dir, &lib.name),
        &config.staging_dir.join(&lib.name),
    )
    .with_context(|| format!("cleaning temp files in {}", config.staging_dir.display()))?;
    let checks = crate::photos::CheckLog::in_dir(&config.state_dir);
    let library = Library::open_for_run(&lib.path, Some(&checks), deps.now)?;
    let totals = batches::walk_assets(
        &lib.name,
        library,
        &uuids,
        options(config),
        ledger,
        batches::Staging {
            root: &config.staging_dir,
            group_readable: config.staging_group_readable,
            progress: &mut *deps.progress,
            download_due: &|_| true,
        },
        &already,
        deps.now,
    )?;
    crate::failpoint::pause("backfill-staged");
    if let Some(downloader) = deps.downloader.filter(|_| config.export.download_missing) {
        let plan = Plan {
            pending: totals.pending,
            ..Plan::default()
        };
        stage::download_pending(
            &lib.name,
            (&config.staging_dir, config.staging_group_readable),
            &plan,
            ledger,
            &Downloads {
                downloader,
                max: config.export.max_downloads_per_run,
                timeout: config.export.download_timeout,
            },
            deps.now,
        )?;
    }
    ledger.mark_backfill_files(&lib.name, &part.archive)?;
    crate::failpoint::pause("backfill-files-marked");
    let ours: HashSet<&str> = uuids.iter().map(String::as_str).collect();
    let waiting = ledger
        .pending(&lib.name)?
        .into_iter()
        .filter(|p| ours.contains(p.uuid.as_str()) && p.reason.contains(IN_ICLOUD))
        .count();
    if waiting == 0 {
        return Ok(None);
    }
    ledger.hold_backfill(
        &lib.name,
        part.first,
        &format!("{waiting} originals still only in iCloud"),
        deps.now,
    )?;
    Ok(Some(waiting))
}

fn options(config: &crate::config::Config) -> Options {
    Options {
        edited: config.export.edited,
        unpicked_bursts: config.export.unpicked_bursts,
    }
}

/// The back catalogue of `lib`: every asset exported by the run's rules that
/// the ledger has no file of and that the normal cycle does not select (its
/// own selection, read from the library), oldest first, each with the
/// staging it needs at most.
/// Without a ledger (a dry run before the first run) nothing is staged;
/// a dry run reads a temporary copy of the database and records nothing.
fn census(
    phase: &Phase,
    lib: &LibraryConfig,
    ledger: Option<&Ledger>,
    now: chrono::DateTime<chrono::Utc>,
    dry_run: bool,
) -> Result<Vec<Candidate>> {
    let config = phase.config;
    let checks = (!dry_run).then(|| crate::photos::CheckLog::in_dir(&config.state_dir));
    let library = Library::open_for_run(&lib.path, checks.as_ref(), now)?;
    let mut recent = HashSet::new();
    library.for_each_asset(
        &Selection {
            all: true,
            since: Some(crate::clock::local_midnight(phase.threshold)),
            uuids: Vec::new(),
        },
        |a| {
            recent.insert(a.uuid);
            Ok::<(), anyhow::Error>(())
        },
    )?;
    let staged = match ledger {
        Some(l) => l.staged_uuids(&lib.name)?,
        None => HashSet::new(),
    };
    let options = options(config);
    let mut found: Vec<(DateTime<FixedOffset>, Candidate)> = Vec::new();
    library.for_each_asset(
        &Selection {
            all: true,
            since: None,
            uuids: Vec::new(),
        },
        |a| {
            let left_out = plan::left_out(a.intrash, (a.burst, a.burst_selected), options);
            if left_out || recent.contains(&a.uuid) || staged.contains(&a.uuid) {
                return Ok::<(), anyhow::Error>(());
            }
            let bytes = needed_bytes(&lib.path, &a, options);
            found.push((
                a.date,
                Candidate {
                    month: Month {
                        year: a.date.year(),
                        month: a.date.month(),
                    },
                    uuid: a.uuid,
                    bytes,
                },
            ));
            Ok(())
        },
    )?;
    found.sort_by(|a, b| (a.0, &a.1.uuid).cmp(&(b.0, &b.1.uuid)));
    Ok(found.into_iter().map(|(_, c)| c).collect())
}

/// The most an asset takes in staging: its files on disk (an original only
/// in iCloud by the size Photos records for it) and its sidecar.
fn needed_bytes(root: &std::path::Path, asset: &crate::photos::Asset, options: Options) -> u64 {
    use crate::photos::ResourceRole;
    let mut bytes = plan::sidecar(asset).len() as u64;
    for r in &asset.resources {
        if !options.edited && matches!(r.role, ResourceRole::Edited | ResourceRole::EditedLiveVideo)
        {
            continue;
        }
        let on_disk = r
            .present
            .then(|| std::fs::metadata(root.join(&r.path)).map(|m| m.len()).ok())
            .flatten();
        bytes += match (on_disk, r.role) {
            (Some(size), _) => size,
            (None, ResourceRole::Original) => asset.original_filesize.max(0) as u64,
            (None, _) => 0,
        };
    }
    bytes
}

fn archived_line(library: &str, a: &Archived) -> Line {
    let text = if a.files == 0 {
        format!("backfill of {}: nothing left to archive", a.first)
    } else {
        format!(
            "backfilled {} {}",
            a.first,
            super::rollover::archive_done(a)
        )
    };
    Line::ok(library, text)
}
