//! The run's coverage step: after the rollover, when every earlier step went
//! through, the coverage figures are computed again and kept in
//! `STATE/coverage.json` (for `status`), once a day or as soon as an archive
//! was verified or a Takeout set staged since the last figures. The run
//! holds the lock, so the census reads the kept copy of each database, just
//! refreshed by the export. It is bounded by what is left of the run's deadline (skipped
//! below `MIN_LEFT`), and whatever goes wrong is a warning line: the
//! backup itself is done by then and never fails because of it.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::coverage::gather::{self, Settings};
use crate::coverage::{file, render, takeout_render, DatabaseCopy};
use crate::error_text::{describe, describe_error};
use crate::ledger::Ledger;
use crate::report::{Line, Status};

/// Below this much time left before the run's deadline, the step waits
/// for a later run (100k assets take well under a second).
const MIN_LEFT: Duration = Duration::from_secs(60);

/// How often the figures are computed again when nothing was archived.
const EVERY: chrono::Duration = chrono::Duration::hours(24);

/// The step, with the run's `lines` so far (it runs only when none
/// failed) and its ledger (`None`: a dry run, which changes nothing).
/// Returns its lines.
pub(super) fn step(
    config: &Config,
    ledger: Option<&Ledger>,
    lines: &[Line],
    now: DateTime<Utc>,
) -> Vec<Line> {
    let Some(ledger) = ledger else {
        return Vec::new();
    };
    if lines.iter().any(|l| l.status == Status::Failed) {
        return Vec::new();
    }
    match figures(config, ledger, now) {
        Ok(lines) => lines,
        Err(why) => {
            let mut line = Line::ok("coverage", format!("WARNING: not computed: {why}"));
            line.status = Status::Warning;
            vec![line]
        }
    }
}

/// The figures when due, as lines; an `Err` is the warning's text.
fn figures(config: &Config, ledger: &Ledger, now: DateTime<Utc>) -> Result<Vec<Line>, String> {
    let (last, damaged) = match file::read(&config.state_dir) {
        Ok(report) => (report.map(|r| r.computed_at), None),
        Err(e) => (None, Some(describe(&e))),
    };
    let verified = ledger
        .rollovers()
        .map_err(|e| describe(&e))?
        .into_iter()
        .filter_map(|r| r.verified_at)
        .max();
    // A Takeout set staged since changes its source's figures as much.
    let takeout_read = ledger
        .latest_takeout_report_at()
        .map_err(|e| describe(&e))?;
    if !due(last, verified.max(takeout_read), now) {
        return Ok(Vec::new());
    }
    if let Some(left) = super::deadline::remaining().filter(|l| *l < MIN_LEFT) {
        return Err(format!(
            "{} s left before the run's deadline; a later run computes it",
            left.as_secs()
        ));
    }
    let settings = Settings::of(config, now).map_err(|e| describe_error(&e))?;
    let libraries: Vec<_> = config.libraries.iter().collect();
    let takeouts: Vec<_> = config.takeouts.iter().collect();
    let report = gather::report(
        config,
        (&libraries, &takeouts),
        Some(ledger),
        (&settings, DatabaseCopy::Kept, false),
    )
    .map_err(|e| describe_error(&e))?;
    file::write(&config.state_dir, &report).map_err(|e| describe(&e))?;
    let mut lines: Vec<Line> = report
        .libraries
        .iter()
        .map(|l| Line::ok("coverage", render::headline(l)))
        .chain((report.takeouts.iter()).map(|t| Line::ok("coverage", takeout_render::headline(t))))
        .collect();
    if let Some(damaged) = damaged {
        lines.push(Line::ok(
            "coverage",
            format!("the last figures were unreadable and are replaced: {damaged}"),
        ));
    }
    Ok(lines)
}

/// Due: no figures yet, a day since the last, or an archive verified
/// since (the run archived something).
#[must_use]
fn due(last: Option<DateTime<Utc>>, verified: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    match last {
        None => true,
        Some(last) => now - last >= EVERY || now < last || verified.is_some_and(|v| v > last),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn due_daily_after_an_archive_and_when_never_computed() {
        let at = |h: u32| Utc.with_ymd_and_hms(2026, 12, 6, h, 0, 0).unwrap();
        assert!(due(None, None, at(10)));
        assert!(!due(Some(at(9)), None, at(10)));
        assert!(!due(Some(at(9)), Some(at(8)), at(10)));
        assert!(due(
            Some(at(9)),
            Some(at(9) + chrono::Duration::minutes(5)),
            at(10)
        ));
        assert!(due(Some(at(0)), None, at(0) + EVERY));
        // A clock set back: the figures are from the future, computed again.
        assert!(due(Some(at(11)), None, at(10)));
    }
}
