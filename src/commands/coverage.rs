//! `photos-backup coverage [--library NAME] [--list] [--json]`: is every
//! photo safe? The libraries' census against the ledger (`coverage`), one
//! line per library for people (what is not covered grouped by reason,
//! `--list` naming the assets, then the library by year as a bar chart) or
//! JSON for scripts; the figures are kept in
//! `STATE/coverage.json` for `status`. Exit 0 when everything is covered or
//! on its way within the normal cycle, 1 when something is not.
//!
//! The run lock is tried (never waited for): free, coverage holds it and
//! reads the run's kept copy of each database; held by a run, it reads a
//! private copy of its own and says so (`database_copy` in the JSON).

use std::io::Write;

use anyhow::{bail, Result};
use chrono::{DateTime, Utc};

use crate::cli::CoverageArgs;
use crate::config::{Config, Library as LibraryConfig, Takeout};
use crate::coverage::chart::{self, Glyphs};
use crate::coverage::gather::{self, Settings};
use crate::coverage::{file, render, takeout_render, DatabaseCopy, Report};
use crate::exit::Code;

/// Computes, keeps and prints the coverage; the exit code says whether
/// everything is covered.
pub(crate) fn run(
    config: &Config,
    args: &CoverageArgs,
    now: DateTime<Utc>,
    (out, err): (&mut dyn Write, &mut dyn Write),
) -> Result<Code> {
    let (libraries, takeouts) = chosen(config, args.library.as_deref())?;
    let settings = Settings::of(config, now)?;
    let ledger = gather::ledger(config)?;
    let lock = crate::lock::acquire(&config.state_dir, now)?;
    let copy = match lock {
        Ok(_) => DatabaseCopy::Kept,
        Err(_) => DatabaseCopy::Private,
    };
    let report = gather::report(
        config,
        (&libraries, &takeouts),
        ledger.as_ref(),
        (&settings, copy, args.list),
    )?;
    drop(lock);
    if let Some(warning) = keep(config, &report)? {
        writeln!(err, "warning: {warning}")?;
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        let glyphs = glyphs();
        for lib in &report.libraries {
            for line in render::library(lib) {
                writeln!(out, "{line}")?;
            }
            for line in chart::chart(&lib.library, &lib.years, glyphs) {
                writeln!(out, "{line}")?;
            }
        }
        for t in &report.takeouts {
            for line in takeout_render::lines(t) {
                writeln!(out, "{line}")?;
            }
            for line in chart::chart(&t.source, &t.years, glyphs) {
                writeln!(out, "{line}")?;
            }
        }
    }
    out.flush()?;
    Ok(if report.covered {
        Code::Ok
    } else {
        Code::Failed
    })
}

/// How a chart on stdout is drawn: blocks on a UTF-8 terminal, else ASCII.
#[must_use]
pub(crate) fn glyphs() -> Glyphs {
    use std::io::IsTerminal;
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
    Glyphs::choose(std::io::stdout().is_terminal(), locale.as_deref())
}

/// The configured libraries and Takeout sources, or the one named.
#[allow(clippy::type_complexity)]
fn chosen<'a>(
    config: &'a Config,
    name: Option<&str>,
) -> Result<(Vec<&'a LibraryConfig>, Vec<&'a Takeout>)> {
    let all: Vec<&LibraryConfig> = config.libraries.iter().collect();
    let takeouts: Vec<&Takeout> = config.takeouts.iter().collect();
    let Some(name) = name else {
        return Ok((all, takeouts));
    };
    if let Some(lib) = all.iter().find(|l| l.name == name) {
        return Ok((vec![*lib], Vec::new()));
    }
    if let Some(t) = takeouts.iter().find(|t| t.name == name) {
        return Ok((Vec::new(), vec![*t]));
    }
    bail!(
        "no library named {:?} in {} (nor a takeout; configured: {})",
        crate::printable::printable(name),
        config.file.display(),
        all.iter()
            .map(|l| l.name.as_str())
            .chain(takeouts.iter().map(|t| t.name.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Keeps the figures in `STATE/coverage.json`; the figures of configured
/// libraries not computed this time (`--library`) are carried over. A
/// damaged file is replaced, never read: the warning says so.
fn keep(config: &Config, report: &Report) -> Result<Option<String>> {
    let mut kept = report.clone();
    let mut warning = None;
    match file::read(&config.state_dir) {
        Ok(previous) => {
            let previous = previous.unwrap_or_else(|| Report {
                libraries: Vec::new(),
                takeouts: Vec::new(),
                ..report.clone()
            });
            for old in previous.takeouts {
                let configured = config.takeouts.iter().any(|t| t.name == old.source);
                let computed = report.takeouts.iter().any(|t| t.source == old.source);
                if configured && !computed {
                    kept.covered &= old.covered;
                    kept.takeouts.push(old);
                }
            }
            for old in previous.libraries {
                let configured = config.libraries.iter().any(|l| l.name == old.library);
                let computed = report.libraries.iter().any(|l| l.library == old.library);
                if configured && !computed {
                    kept.covered &= old.covered;
                    kept.libraries.push(old);
                }
            }
        }
        Err(e) => {
            warning = Some(format!("{}; replaced", crate::error_text::describe(&e)));
        }
    }
    file::write(&config.state_dir, &kept)?;
    Ok(warning)
}
