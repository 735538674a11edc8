//! The status as text for people: first whether the photos are safe and
//! since when, then what needs attention, then the details per library.
//! Pure: the time and the time zone are passed in, so snapshot tests pin it.
//! Each past time is shown with the offset it had in that zone (a July run
//! in summer time, a December one in winter time). With `--chart`, each
//! library by year as a bar chart from the last coverage figures.

use chrono::{DateTime, Utc};

use super::verdict::attention;
use super::{RunResult, Status};
use crate::coverage::chart::Glyphs;
use crate::local_time::Zone;
use crate::text::human_bytes;

/// The status as lines of text, at `now`, times shown in `zone`.
#[must_use]
pub(crate) fn render(status: &Status, now: DateTime<Utc>, zone: &dyn Zone) -> String {
    let when = |t: DateTime<Utc>| {
        format!(
            "{} ({})",
            zone.local(t).format("%Y-%m-%d %H:%M"),
            ago(now - t)
        )
    };
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };

    match status.last_success {
        Some(t) => line(format!("Backed up as of {}.", when(t))),
        None => line("Not backed up yet: no run has gone through.".into()),
    }
    for a in attention(status, now) {
        line(format!("ATTENTION: {a}"));
    }
    line(String::new());
    line(format!(
        "Last run:     {}, {}{}",
        when(status.last_run.ended),
        status.last_run.outcome,
        status
            .last_run
            .detail
            .as_ref()
            .filter(|_| status.last_run.outcome == RunResult::Skipped)
            .map(|d| format!(" ({d})"))
            .unwrap_or_default()
    ));
    if let Some(e) = &status.last_error {
        line(format!("Last error:   {}: {}", when(e.at), e.message));
    }
    if let Some(t) = status.threshold {
        line(format!(
            "Staging:      photos added or changed since {t}{}",
            status
                .next_rollover
                .map(|d| format!("; archived by the first run from {d}"))
                .unwrap_or_default()
        ));
    }
    if let Some(c) = &status.repo_check {
        line(format!(
            "borg check:   {}, {}",
            when(c.at),
            if c.ok { "ok" } else { "FAILED" }
        ));
    }
    if let Some(c) = &status.coverage {
        for l in &c.libraries {
            let open: u64 = l.not_covered.iter().map(|n| n.assets).sum();
            line(format!(
                "Coverage:     {}{} (as of {})",
                l.line(),
                if open > 0 {
                    format!("; {open} not covered (photos-backup coverage says why)")
                } else {
                    String::new()
                },
                when(c.computed_at)
            ));
        }
    }
    if let Some(d) = &status.drill {
        let day = zone.local(d.at).date_naive();
        line(if d.passed() {
            format!("Restore drill: last proven restore: {}", d.summary(day))
        } else {
            format!("Restore drill: FAILED: {}", d.summary(day))
        });
    }
    for lib in &status.libraries {
        line(String::new());
        for l in library_lines(lib, zone) {
            line(l);
        }
        let backfill = status.backfill.iter().flatten();
        for b in backfill.filter(|b| b.library == lib.name) {
            for l in backfill_lines(b) {
                line(l);
            }
        }
    }
    out
}

/// Each library by year as a bar chart (`status --chart`), from the last
/// coverage figures, after a blank line.
#[must_use]
pub(crate) fn chart(
    status: &Status,
    now: DateTime<Utc>,
    zone: &dyn Zone,
    glyphs: Glyphs,
) -> String {
    let mut out = String::from("\n");
    let Some(c) = &status.coverage else {
        out.push_str("By year: no coverage figures yet (photos-backup coverage computes them)\n");
        return out;
    };
    out.push_str(&format!(
        "By year, as of {} ({}):\n",
        zone.local(c.computed_at).format("%Y-%m-%d %H:%M"),
        ago(now - c.computed_at)
    ));
    for l in &c.libraries {
        let lines = if l.years.is_empty() && l.assets > 0 {
            // Figures kept by a version without the years.
            vec![format!(
                "{} by year: not in the last figures (photos-backup coverage computes them)",
                crate::printable::printable(&l.library)
            )]
        } else {
            crate::coverage::chart::chart(&l.library, &l.years, glyphs)
        };
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// The backfill of one library: what is done, what is left, what waits.
fn backfill_lines(b: &super::BackfillStatus) -> Vec<String> {
    let mut lines = vec![format!(
        "  backfill:   {} months done ({} archives, {})",
        b.months_done,
        b.parts_done,
        human_bytes(b.bytes_archived)
    )];
    match &b.left {
        Some(l) if l.months == 0 => lines.push("  backfill:   nothing left".into()),
        Some(l) => lines.push(format!(
            "  backfill:   left {} months, {} photos ({}); {} runs to go at least",
            l.months,
            l.assets,
            human_bytes(l.bytes),
            l.runs
        )),
        None => {}
    }
    if let Some(u) = &b.unfinished {
        lines.push(format!("  backfill:   in progress: {u}"));
    }
    for h in &b.held {
        lines.push(format!("  backfill:   held {h}"));
    }
    lines
}

/// The lines of one library.
fn library_lines(lib: &super::LibraryStatus, zone: &dyn Zone) -> Vec<String> {
    let mut lines = Vec::new();
    lines.push(format!("{}:", lib.name));
    let mirrored = match lib.unmirrored_files {
        None => String::new(),
        Some(0) => ", all on the remote volume".to_owned(),
        Some(n) => format!(", {n} not yet on the remote volume"),
    };
    lines.push(format!(
        "  staged:     {} files ({}){mirrored}",
        lib.staged_files,
        human_bytes(lib.staged_bytes)
    ));
    for p in &lib.pending {
        lines.push(format!("  pending:    {} ({})", p.count, p.reason));
    }
    match (&lib.archived_through, &lib.last_archive) {
        (Some(month), Some(a)) => lines.push(format!(
            "  archived:   through {month}; last archive {} ({} files, {}{})",
            a.name,
            a.files,
            human_bytes(a.bytes),
            a.verified_at
                .map(|t| format!(", verified {}", zone.local(t).format("%Y-%m-%d")))
                .unwrap_or_default()
        )),
        (Some(month), None) => lines.push(format!(
            "  archived:   through {month} (nothing to archive)"
        )),
        _ => lines.push("  archived:   no archive yet".into()),
    }
    lines
}

/// "5 minutes ago", "3 hours ago", "2 days ago".
fn ago(d: chrono::Duration) -> String {
    let (n, unit) = if d.num_days() >= 2 {
        (d.num_days(), "days")
    } else if d.num_hours() >= 2 {
        (d.num_hours(), "hours")
    } else if d.num_minutes() >= 1 {
        (d.num_minutes(), "minutes")
    } else {
        return "just now".into();
    };
    let unit = if n == 1 {
        unit.trim_end_matches('s')
    } else {
        unit
    };
    format!("{n} {unit} ago")
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::*;
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    pub(in crate::status) fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
    }

    pub(in crate::status) fn sample() -> Status {
        Status {
            version: VERSION,
            last_run: RunInfo {
                started: t(22, 5),
                ended: t(22, 6),
                outcome: RunResult::Ok,
                detail: None,
            },
            last_success: Some(t(22, 6)),
            last_error: Some(ErrorInfo {
                at: t(20, 5),
                message: "anna: rollover FAILED: borg: lock".into(),
            }),
            threshold: NaiveDate::from_ymd_opt(2026, 11, 1),
            next_rollover: NaiveDate::from_ymd_opt(2026, 12, 1),
            libraries: vec![LibraryStatus {
                name: "anna".into(),
                staged_files: 1234,
                staged_bytes: 2_500_000_000,
                unmirrored_files: Some(0),
                pending: vec![PendingCount {
                    reason: "original only in iCloud".into(),
                    count: 3,
                }],
                oldest_pending: Some(t(18, 9)),
                archived_through: Some("2026-10".into()),
                last_archive: Some(ArchiveInfo {
                    name: "photos-anna-2026-10".into(),
                    files: 120,
                    bytes: 1_200_000_000,
                    verified_at: Some(t(1, 0)),
                    missing: vec![],
                }),
                unfinished_rollover: None,
                held: None,
            }],
            repo_check: Some(CheckInfo {
                at: t(1, 1),
                ok: true,
                message: "ok".into(),
            }),
            coverage: None,
            drill: None,
            backfill: None,
            verdict: None,
            log: None,
        }
    }

    #[test]
    fn a_status_with_a_backfill() {
        let zone = FixedOffset::east_opt(3600).unwrap();
        let mut status = sample();
        status.backfill = Some(vec![super::super::BackfillStatus {
            library: "anna".into(),
            months_done: 14,
            parts_done: 17,
            bytes_archived: 61_000_000_000,
            left: Some(super::super::BackfillLeft {
                at: t(22, 6),
                months: 95,
                assets: 88_123,
                bytes: 700_000_000_000,
                runs: 120,
            }),
            unfinished: None,
            held: vec!["2014-03: 2 originals still only in iCloud, since 2026-11-20".into()],
        }]);
        let text = render(&status, t(22, 6) + chrono::Duration::minutes(4), &zone);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn the_last_coverage_figures_are_shown() {
        use crate::coverage::{Figures, LibraryFigures, NotCovered, Reason};
        let mut s = sample();
        s.coverage = Some(Figures {
            computed_at: t(22, 5),
            covered: false,
            libraries: vec![LibraryFigures {
                library: "anna".into(),
                assets: 104_233,
                archived: 103_412,
                back_catalogue: 821,
                back_catalogue_first_month: Some("2014-03".into()),
                back_catalogue_span: Some(("2009-01".into(), "2023-12".into())),
                not_covered: vec![NotCovered {
                    reason: Reason::BackCatalogue,
                    assets: 821,
                }],
                years: Vec::new(),
            }],
        });
        let text = render(&s, t(22, 6), &FixedOffset::east_opt(0).unwrap());
        assert!(
            text.contains(
                "Coverage:     anna: 99.2% of 104,233 assets in verified archives, back \
                 catalogue 821 assets, 2014-03 of 2009-01..2023-12; 821 not covered \
                 (photos-backup coverage says why) (as of 2026-11-22 05:00 (60 minutes ago))"
            ),
            "{text}"
        );
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &s, t(22, 6)).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Some(s.judged(t(22, 6))));
    }

    #[test]
    fn a_chart_by_year_from_the_last_figures() {
        use crate::coverage::{Figures, LibraryFigures, YearCount};
        let zone = FixedOffset::east_opt(3600).unwrap();
        let now = t(22, 7);
        let mut s = sample();
        assert_eq!(
            chart(&s, now, &zone, Glyphs::Ascii),
            "\nBy year: no coverage figures yet (photos-backup coverage computes them)\n"
        );
        let figures = |library: &str, assets, years| LibraryFigures {
            library: library.into(),
            assets,
            archived: 0,
            back_catalogue: 0,
            back_catalogue_first_month: None,
            back_catalogue_span: None,
            not_covered: Vec::new(),
            years,
        };
        let year = |year, archived, staged, pending, not_backed_up| YearCount {
            year,
            archived,
            staged,
            pending,
            not_backed_up,
        };
        s.coverage = Some(Figures {
            computed_at: t(22, 5),
            covered: false,
            libraries: vec![
                figures(
                    "anna",
                    2_436,
                    vec![
                        year(2016, 300, 0, 0, 12),
                        year(2024, 1_100, 0, 0, 0),
                        year(2026, 700, 290, 4, 30),
                    ],
                ),
                figures("ben", 0, Vec::new()),
                figures("cleo", 10, Vec::new()),
            ],
        });
        insta::assert_snapshot!(chart(&s, now, &zone, Glyphs::Blocks));
    }

    #[test]
    fn a_healthy_status() {
        let zone = FixedOffset::east_opt(3600).unwrap();
        insta::assert_snapshot!(render(
            &sample(),
            t(22, 6) + chrono::Duration::minutes(4),
            &zone
        ));
    }

    /// A December status with runs from July (summer time) and December
    /// (winter time): each shown with the offset it had, not today's.
    fn across_a_clock_change(zone: &str) -> String {
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let mut s = sample();
        s.last_run.started = utc("2026-12-06T05:55:00Z");
        s.last_run.ended = utc("2026-12-06T06:00:00Z");
        s.last_success = Some(s.last_run.ended);
        s.last_error = Some(ErrorInfo {
            at: utc("2026-07-14T06:30:00Z"),
            message: "anna: mirror FAILED: server gone".into(),
        });
        s.repo_check = Some(CheckInfo {
            at: utc("2026-07-31T22:30:00Z"),
            ok: true,
            message: "ok".into(),
        });
        s.libraries[0].pending.clear();
        let zone = crate::local_time::tests::Named::of(zone);
        render(&s, utc("2026-12-06T06:10:00Z"), &zone)
    }

    #[test]
    fn past_times_have_the_offset_they_had_in_berlin() {
        let text = across_a_clock_change("Europe/Berlin");
        insta::assert_snapshot!(text);
        // December at +01:00, July at +02:00 (the check crosses midnight).
        assert!(text.contains("as of 2026-12-06 07:00 ("), "{text}");
        assert!(text.contains("Last error:   2026-07-14 08:30 ("), "{text}");
        assert!(text.contains("borg check:   2026-08-01 00:30 ("), "{text}");
    }

    #[test]
    fn past_times_have_the_offset_they_had_in_chicago() {
        let text = across_a_clock_change("America/Chicago");
        // December at -06:00, July at -05:00.
        assert!(text.contains("as of 2026-12-06 00:00 ("), "{text}");
        assert!(text.contains("Last error:   2026-07-14 01:30 ("), "{text}");
        assert!(text.contains("borg check:   2026-07-31 17:30 ("), "{text}");
    }

    #[test]
    fn a_failing_status_says_so_first() {
        let mut s = sample();
        s.last_run.outcome = RunResult::Failed;
        s.last_run.detail = Some("anna: mirror FAILED: server gone".into());
        s.last_success = Some(t(19, 6));
        s.libraries[0].unmirrored_files = Some(7);
        s.libraries[0].unfinished_rollover = Some("photos-anna-2026-10 (reached: Created)".into());
        s.libraries[0].held = Some(
            "2026-10 waits for 3 originals still in iCloud, until 2026-11-25 at the latest".into(),
        );
        let text = render(&s, t(22, 6), &FixedOffset::east_opt(0).unwrap());
        insta::assert_snapshot!(text);
        assert!(text.starts_with(
            "Backed up as of 2026-11-19 06:00 (3 days ago).\nATTENTION: no successful run"
        ));
    }

    #[test]
    fn the_last_drill_is_shown_and_a_failed_one_needs_attention() {
        let mut s = sample();
        let mut drill = crate::drill::record::Record {
            at: t(5, 23),
            files: 20,
            matched: 20,
            archives: 7,
            mirror_files: 0,
            mirror_matched: 0,
            failures: Vec::new(),
            retry: Vec::new(),
        };
        s.drill = Some(drill.clone());
        let zone = FixedOffset::east_opt(3600).unwrap();
        let text = render(&s, t(22, 7), &zone);
        assert!(
            text.contains(
                "Restore drill: last proven restore: 20/20 files from 7 archives, 2026-11-06\n"
            ),
            "{text}"
        );
        assert!(
            !text.contains("ATTENTION: the last restore drill"),
            "{text}"
        );
        drill.matched = 19;
        drill.failures = vec![
            "archive photos-anna-2026-10: anna/2026/10/01/a.jpg could not be restored: x".into(),
        ];
        s.drill = Some(drill);
        let text = render(&s, t(22, 7), &zone);
        assert!(
            text.contains("Restore drill: FAILED: 19/20 files"),
            "{text}"
        );
        assert!(
            text.contains("ATTENTION: the last restore drill found files that do not come back as recorded: archive photos-anna-2026-10: anna/2026/10/01/a.jpg"),
            "{text}"
        );
        // An older status.json without the field still reads.
        let mut json = serde_json::to_value(sample()).unwrap();
        json.as_object_mut().unwrap().remove("drill");
        assert_eq!(serde_json::from_value::<Status>(json).unwrap(), sample());
    }

    #[test]
    fn the_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
        write(dir.path(), &sample(), t(22, 7)).unwrap();
        let read_back = read(dir.path()).unwrap().unwrap();
        assert_eq!(read_back, sample().judged(t(22, 7)));
        // The verdict is the ATTENTION lines, as of the write.
        let verdict = read_back.verdict.unwrap();
        assert!(!verdict.healthy);
        assert_eq!(
            verdict.attention,
            ["anna: 3 photos not backed up yet (pending)"]
        );
        std::fs::write(dir.path().join(FILE_NAME), "{").unwrap();
        let msg = read(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("status.json"), "{msg}");
    }
}
