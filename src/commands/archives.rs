//! `photos-backup archives`: the monthly borg archives as the ledger records
//! them: which library and months each holds, how many files and bytes,
//! how far its rollover got (planned, created, verified, done), whether
//! retention has pruned it, and how many assets went in without their
//! original. The ledger, not borg, answers: it works offline, at once, and
//! without the passphrase. (`borg list` is the repository's own view.)

use std::io::Write;

use anyhow::Result;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

use super::locate::ledger_path;
use crate::config::Config;
use crate::ledger::{Ledger, Rollover, Step};
use crate::text::{human_bytes, plural};

/// How far a rollover got, as one word.
#[must_use]
fn state(r: &Rollover) -> &'static str {
    match r.step {
        _ if r.pruned_at.is_some() => "pruned",
        Step::Purged if r.files == 0 => "empty",
        Step::Purged => "done",
        Step::Verified => "verified",
        Step::Created => "created",
        Step::Planned => "planned",
    }
}

fn period(r: &Rollover) -> String {
    if r.first == r.last {
        r.first.to_string()
    } else {
        format!("{}..{}", r.first, r.last)
    }
}

/// `archives`: the table (or JSON) of every rollover in the ledger.
pub(crate) fn run(config: &Config, json: bool, out: &mut dyn Write) -> Result<()> {
    let path = ledger_path(config);
    let Some(ledger) = Ledger::open_existing_read_only(&path)? else {
        if json {
            writeln!(out, "[]")?;
        } else {
            writeln!(
                out,
                "no ledger at {}: nothing has been backed up or archived yet",
                path.display()
            )?;
        }
        return Ok(());
    };
    let rollovers = ledger.rollovers()?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &to_json(&rollovers))?;
        writeln!(out)?;
    } else {
        for line in render(&rollovers, &chrono::Local) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// The table, times shown in `tz`, and a line of totals and of what the
/// states mean.
#[must_use]
fn render<Tz: TimeZone>(rollovers: &[Rollover], tz: &Tz) -> Vec<String>
where
    Tz::Offset: std::fmt::Display,
{
    if rollovers.is_empty() {
        return vec!["no archives yet: the first is made after the first month end".into()];
    }
    let time = |t: Option<DateTime<Utc>>| {
        t.map_or_else(
            || "-".to_owned(),
            |t| t.with_timezone(tz).format("%Y-%m-%d %H:%M").to_string(),
        )
    };
    let header = [
        "LIBRARY", "ARCHIVE", "PERIOD", "FILES", "SIZE", "MISSING", "STATE", "MADE", "VERIFIED",
    ]
    .map(str::to_owned);
    let mut rows = vec![header];
    for r in rollovers {
        let made = match (r.created_at, r.pruned_at) {
            (_, Some(pruned)) => format!("{} (pruned {})", time(r.created_at), time(Some(pruned))),
            (Some(_), None) => time(r.created_at),
            (None, None) => time(None),
        };
        rows.push([
            r.library.clone(),
            r.archive.clone(),
            period(r),
            r.files.to_string(),
            human_bytes(r.bytes),
            r.missing.len().to_string(),
            state(r).to_owned(),
            made,
            time(r.verified_at),
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut lines: Vec<String> = rows
        .iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect();
    // In the repository: made and not pruned.
    let archives: Vec<&Rollover> = rollovers
        .iter()
        .filter(|r| r.step >= Step::Created && r.files > 0 && r.pruned_at.is_none())
        .collect();
    lines.push(format!(
        "{} archive{} in the repository, {} files ({}); \
         this is the ledger's record, `borg list` shows the repository's own",
        archives.len(),
        plural(archives.len() as u64),
        archives.iter().map(|r| r.files).sum::<u64>(),
        human_bytes(archives.iter().map(|r| r.bytes).sum())
    ));
    let mut notes = Vec::new();
    let has = |s: &str| rollovers.iter().any(|r| state(r) == s);
    if has("planned") || has("created") || has("verified") {
        notes.push(
            "planned/created/verified: a rollover the next run finishes (files still staged)",
        );
    }
    if has("empty") {
        notes.push("empty: the months closed with nothing staged; no archive was made");
    }
    if has("pruned") {
        notes.push("pruned: retention deleted the archive from the repository");
    }
    if rollovers.iter().any(|r| !r.missing.is_empty()) {
        notes.push("missing: assets archived without their original (still pending in iCloud)");
    }
    lines.extend(notes.into_iter().map(str::to_owned));
    lines
}

/// One object per rollover, times in RFC 3339 (UTC).
#[must_use]
fn to_json(rollovers: &[Rollover]) -> serde_json::Value {
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339());
    serde_json::Value::Array(
        rollovers
            .iter()
            .map(|r| {
                json!({
                    "library": r.library,
                    "archive": r.archive,
                    "first_month": r.first.to_string(),
                    "last_month": r.last.to_string(),
                    "files": r.files,
                    "bytes": r.bytes,
                    "state": state(r),
                    "missing": r.missing,
                    "planned_at": time(Some(r.planned_at)),
                    "created_at": time(r.created_at),
                    "verified_at": time(r.verified_at),
                    "purged_at": time(r.purged_at),
                    "pruned_at": time(r.pruned_at),
                    "warning": r.warning,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::locate::versions::tests::rollover;
    use super::*;
    use crate::archive::period::Month;

    fn sample() -> Vec<Rollover> {
        let mut oct = Rollover {
            last: Month {
                year: 2026,
                month: 11,
            },
            files: 0,
            bytes: 0,
            ..rollover("photos-anna-2026-10..2026-11", 10, false)
        };
        oct.archive = "photos-anna-2026-10..2026-11".into();
        let dec = Rollover {
            step: Step::Created,
            verified_at: None,
            purged_at: None,
            files: 3,
            bytes: 3_500_000,
            missing: vec!["U9".into()],
            ..rollover("photos-anna-2026-12", 12, false)
        };
        let sept = Rollover {
            files: 6,
            bytes: 12_345,
            ..rollover("photos-anna-2026-09", 9, false)
        };
        vec![sept, oct, dec]
    }

    #[test]
    fn states_by_step_files_and_retention() {
        let rs = sample();
        let states: Vec<&str> = rs.iter().map(state).collect();
        assert_eq!(states, ["done", "empty", "created"]);
        assert_eq!(state(&rollover("x", 1, true)), "pruned");
    }

    #[test]
    fn the_table_shows_every_rollover_and_explains_its_states() {
        let lines = render(&sample(), &Utc);
        assert_eq!(
            lines[0],
            "LIBRARY  ARCHIVE                       PERIOD            FILES  SIZE     MISSING  STATE    MADE              VERIFIED"
        );
        assert_eq!(
            lines[1],
            "anna     photos-anna-2026-09           2026-09           6      12.3 KB  0        done     2026-10-01 00:05  2026-10-01 00:05"
        );
        assert!(lines[2].contains("2026-10..2026-11  0      0 B") && lines[2].contains("empty"));
        assert!(lines[3].contains("3.5 MB   1        created") && lines[3].ends_with('-'));
        assert_eq!(
            lines[4],
            "2 archives in the repository, 9 files (3.5 MB); \
             this is the ledger's record, `borg list` shows the repository's own"
        );
        assert!(lines[5].starts_with("planned/created/verified"));
        assert!(lines[6].starts_with("empty"));
        assert!(lines[7].starts_with("missing"));
        assert_eq!(lines.len(), 8);
        assert!(render(&[], &Utc)[0].starts_with("no archives yet"));
    }

    #[test]
    fn json_has_the_state_and_the_times() {
        let value = to_json(&sample());
        assert_eq!(value[0]["state"], "done");
        assert_eq!(value[0]["files"], 6);
        assert_eq!(value[0]["created_at"], "2026-10-01T00:05:00+00:00");
        assert_eq!(value[2]["verified_at"], serde_json::Value::Null);
        assert_eq!(value[2]["missing"][0], "U9");
        assert_eq!(value[1]["last_month"], "2026-11");
    }
}
