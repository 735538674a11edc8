//! Gathering coverage's inputs (the edge around the pure `classify` and
//! `summarize`): the settings from the config and the threshold file, each
//! library's census from a copy of its database, and the ledger's rows of
//! that library. The caller chooses the copy: the run's kept copy when it
//! holds the run lock (the `coverage` command took it, or it is the run),
//! else a private copy of its own, so it never races a run over the kept one.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};

use super::classify::{self, Limits, Scope};
use super::takeout::{InboxSet, TakeoutCoverage};
use super::{summarize, DatabaseCopy, Inputs, LibraryCoverage, Report};
use crate::config::{Config, Library as LibraryConfig, Takeout};
use crate::export::plan::Options;
use crate::ledger::{Ledger, LibraryRows};
use crate::photos::{Check, CheckLog, Library};
use crate::takeout::inbox;

/// What coverage is judged with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) threshold: NaiveDate,
    pub(crate) options: Options,
    pub(crate) limits: Limits,
    /// `[backfill]` is on (with `[borg]`): a back catalogue is on its way;
    /// off, it is not covered.
    pub(crate) backfill: bool,
}

impl Settings {
    /// The settings at `now`: the threshold the run uses locally (the
    /// staging folder's `date_threshold.txt`, else `[threshold] default`).
    pub(crate) fn of(config: &Config, now: DateTime<Utc>) -> Result<Self> {
        let threshold = crate::threshold::read(&config.staging_dir)?;
        Ok(Self {
            threshold: threshold.unwrap_or(config.default_threshold),
            options: Options {
                edited: config.export.edited,
                unpicked_bursts: config.export.unpicked_bursts,
            },
            limits: Limits {
                now,
                max_pending_days: config.borg.as_ref().map(|b| b.max_pending_days),
            },
            backfill: config.backfill.enabled && config.borg.is_some(),
        })
    }
}

/// The ledger of `config`, read-only; `None` before the first run.
pub(crate) fn ledger(config: &Config) -> Result<Option<Ledger>> {
    Ok(Ledger::open_existing_read_only(
        &config.state_dir.join("ledger.sqlite"),
    )?)
}

/// The coverage of the libraries `libraries`, each read from the kept
/// copy of its database (`copy` = `Kept`: the caller holds the run lock)
/// or a private one, and of the Takeout sources `takeouts`.
pub(crate) fn report(
    config: &Config,
    (libraries, takeouts): (&[&LibraryConfig], &[&Takeout]),
    ledger: Option<&Ledger>,
    (settings, copy, list): (&Settings, DatabaseCopy, bool),
) -> Result<Report> {
    let mut out = Vec::new();
    for lib in libraries {
        out.push(
            library(&config.state_dir, lib, ledger, (settings, copy, list))
                .with_context(|| format!("coverage of library {}", lib.name))?,
        );
    }
    let mut sources = Vec::new();
    for t in takeouts {
        sources.push(
            takeout(t, ledger, settings.limits)
                .with_context(|| format!("coverage of takeout {}", t.name))?,
        );
    }
    Ok(Report {
        version: super::VERSION,
        computed_at: settings.limits.now,
        threshold: settings.threshold,
        covered: out.iter().all(|l| l.covered) && sources.iter().all(|t| t.covered),
        libraries: out,
        takeouts: sources,
    })
}

/// One Takeout source: its inbox listed (bounded; no part is read), its
/// parts' and sets' rows in the ledger.
fn takeout(t: &Takeout, ledger: Option<&Ledger>, limits: Limits) -> Result<TakeoutCoverage> {
    let scan = inbox::scan(&t.inbox, inbox::BOUND).map_err(|e| crate::error_text::describe(&e));
    let mut sets = Vec::new();
    if let Ok(scan) = &scan {
        for set in &scan.sets {
            let mut parts = Vec::new();
            for p in &set.parts {
                let state = match ledger {
                    Some(l) => l.takeout_part(&t.name, &p.name)?,
                    None => None,
                };
                parts.push((p.name.clone(), p.size, state));
            }
            sets.push(InboxSet {
                id: set.id.clone(),
                parts,
                missing: set.missing.clone(),
            });
        }
    }
    let (reports, rows) = match ledger {
        Some(l) => (l.takeout_reports(&t.name)?, l.takeout_contents(&t.name)?),
        None => (Vec::new(), Vec::new()),
    };
    Ok(super::takeout::summarize(
        (&t.name, limits),
        scan.map(|_| sets),
        reports,
        &rows,
    ))
}

fn library(
    state_dir: &Path,
    lib: &LibraryConfig,
    ledger: Option<&Ledger>,
    (settings, copy, list): (&Settings, DatabaseCopy, bool),
) -> Result<LibraryCoverage> {
    let library = match copy {
        DatabaseCopy::Kept => Library::open_for_run(
            &lib.path,
            Some(&CheckLog::in_dir(state_dir)),
            settings.limits.now,
        )?,
        DatabaseCopy::Private => Library::open_with(&lib.path, Check::PagesRead)?,
    };
    let census = library.census(crate::clock::local_midnight(settings.threshold))?;
    let rows = match ledger {
        Some(l) => l.coverage_rows(&lib.name)?,
        None => LibraryRows::default(),
    };
    // The version only where the class depends on it.
    let asked: Vec<i64> = census
        .iter()
        .filter(|a| {
            classify::scope(a, settings.options) == Scope::BackedUp
                && classify::needs_version(a, rows.assets.get(&a.uuid))
        })
        .map(|a| a.pk)
        .collect();
    let versions = library.versions_of(&asked)?;
    drop(library);
    Ok(summarize(&Inputs {
        library: &lib.name,
        census: &census,
        rows: &rows,
        versions: &versions,
        options: settings.options,
        limits: settings.limits,
        backfill: settings.backfill,
        copy,
        list,
    }))
}
