//! `photos-backup coverage` through the real binary: a synthetic library
//! staged by a real run, then a ledger built by hand on top of it (archives
//! verified or not, changes since, pending reasons, a file let go) so that
//! every class occurs; the JSON's counts, the exit code, the text for
//! people with hostile names, the run lock, the figures kept for `status`;
//! and a real fixture library whose counts must equal the reader's own
//! listing of it.

mod common;

use std::collections::BTreeMap;

use common::setup::Setup;
use common::timeline::{named_photo, photo, Growing};
use common::{utc, uuid};
use serde_json::Value;
use synthetic::{AssetSpec, Burst};

const NOW: &str = "2026-11-20T12:00:00Z";
const ARCHIVE: &str = "photos-anna-2026-11";
/// An archive retention removed (`rollover.pruned_at`).
const PRUNED: &str = "photos-anna-2016-07";

/// A `[borg]` section (never reached by `coverage`) for `max_pending_days`.
const BORG: &str = "[borg]\nrepository = \"/nonexistent/repo\"\npassphrase = \"env:NONE\"\nmax_pending_days = 30\n";

fn coverage(setup: &Setup, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["coverage"];
    all.extend_from_slice(args);
    let out = setup
        .command(&all, &[("PHOTOS_BACKUP_NOW", NOW)])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(setup: &Setup, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, out, err) = coverage(setup, &all);
    let value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, value)
}

/// Runs SQL on the ledger, as a hand-built ledger is made.
fn sql(setup: &Setup, statements: &str) {
    let conn = rusqlite::Connection::open(setup.state().join("ledger.sqlite")).unwrap();
    conn.execute_batch(statements).unwrap();
}

fn ids(ns: &[u32]) -> String {
    ns.iter()
        .map(|n| format!("'{}'", uuid(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An unpicked frame of a burst.
fn unpicked(n: u32) -> AssetSpec {
    AssetSpec {
        burst: Some(Burst {
            uuid: "BURST-1".into(),
            pick: 2,
        }),
        ..photo(n, utc(2026, 11, 3), utc(2026, 11, 3))
    }
}

/// The library of every class: assets 1 to 9, 11 and 12 new (taken
/// after the threshold), 10, 14 and 15 old (15 archived by hand, its
/// recorded version not the library's), 12 trashed, 13 an unpicked burst
/// frame (left out: `unpicked_bursts = false`), 7 to 9 in iCloud only.
fn every_class() -> (tempfile::TempDir, Setup) {
    let tmp = tempfile::tempdir().unwrap();
    let mut lib = Growing::new(tmp.path(), "Anna");
    for n in 1..=9 {
        let mut spec = photo(n, utc(2026, 11, 2), utc(2026, 11, 2));
        spec.cloud_only = (7..=9).contains(&n);
        lib.add(spec);
    }
    lib.add(photo(10, utc(2019, 5, 1), utc(2019, 5, 1)));
    lib.add(photo(11, utc(2026, 11, 4), utc(2026, 11, 4)));
    let mut trashed = photo(12, utc(2026, 11, 5), utc(2026, 11, 5));
    trashed.trashed = true;
    lib.add(trashed);
    lib.add(unpicked(13));
    lib.add(named_photo(
        &uuid(14),
        "evil\u{1b}[31m\nname.jpg",
        utc(2018, 3, 2),
        utc(2018, 3, 2),
    ));
    lib.add(photo(15, utc(2017, 1, 5), utc(2017, 1, 5)));
    lib.add(photo(16, utc(2016, 7, 9), utc(2016, 7, 9)));
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("anna", &lib.path);
    setup.set_threshold("2026-11-01");
    setup.set_extra("[export]\nunpicked_bursts = false\n");
    setup.run_at(NOW);
    let (a, b) = ("2026-11-20T12:00:00Z", "2026-09-01T00:00:00Z");
    sql(
        &setup,
        &format!(
            "INSERT INTO rollover (library, archive, first_month, last_month, step, planned_at, verified_at)
                 VALUES ('anna', '{ARCHIVE}', '2026-11', '2026-11', 'verified', '{a}', '{a}');
             INSERT INTO rollover_file SELECT library, '{ARCHIVE}', uuid, role, path, size, hash
                 FROM staged_file WHERE uuid IN ({archived});
             INSERT INTO rollover (library, archive, first_month, last_month, step, planned_at)
                 VALUES ('anna', 'photos-anna-2026-12', '2026-12', '2026-12', 'created', '{a}');
             INSERT INTO rollover_file SELECT library, 'photos-anna-2026-12', uuid, role, path, size, hash
                 FROM staged_file WHERE uuid IN ({mirrored});
             UPDATE asset_version SET version = version + 1 WHERE uuid = '{u2}';
             UPDATE staged_file SET hash = 'new', mirrored_at = NULL WHERE uuid = '{u3}' AND role = 'xmp';
             UPDATE staged_file SET hash = 'new', mirrored_at = '{a}' WHERE uuid = '{u4}' AND role = 'xmp';
             UPDATE staged_file SET mirrored_at = '{a}' WHERE uuid = '{u5}';
             UPDATE pending SET reason = 'original only in iCloud (download failed: Photos did not answer)',
                 first_seen = '{b}' WHERE uuid = '{u8}';
             UPDATE pending SET reason = 'referenced file not found' WHERE uuid = '{u9}';
             DELETE FROM staged_file WHERE uuid = '{u11}';
             INSERT INTO staged_file (library, uuid, role, path, path_key, size, mtime_ns, hash,
                 source_signature, exported_at, archive, purged_at)
                 VALUES ('anna', '{u15}', 'original', 'anna/2017/01/05/old.jpeg',
                     'anna/2017/01/05/old.jpeg', 3, 0, 'h15', '3:0', '{a}', '{ARCHIVE}', '{a}');
             INSERT INTO rollover_file VALUES ('anna', '{ARCHIVE}', '{u15}', 'original',
                 'anna/2017/01/05/old.jpeg', 3, 'h15');
             INSERT INTO asset_version VALUES ('anna', '{u15}', 1, 1);
             INSERT INTO rollover (library, archive, first_month, last_month, step, planned_at,
                 verified_at, purged_at, pruned_at)
                 VALUES ('anna', '{PRUNED}', '2016-07', '2016-07', 'purged', '{b}', '{b}', '{b}', '{a}');
             INSERT INTO staged_file (library, uuid, role, path, path_key, size, mtime_ns, hash,
                 source_signature, exported_at, archive, purged_at)
                 VALUES ('anna', '{u16}', 'original', 'anna/2016/07/09/gone.jpeg',
                     'anna/2016/07/09/gone.jpeg', 3, 0, 'h16', '3:0', '{b}', '{PRUNED}', '{b}');
             INSERT INTO rollover_file VALUES ('anna', '{PRUNED}', '{u16}', 'original',
                 'anna/2016/07/09/gone.jpeg', 3, 'h16');",
            archived = ids(&[1, 2, 3, 4]),
            mirrored = ids(&[5]),
            u2 = uuid(2),
            u3 = uuid(3),
            u4 = uuid(4),
            u5 = uuid(5),
            u8 = uuid(8),
            u9 = uuid(9),
            u11 = uuid(11),
            u15 = uuid(15),
            u16 = uuid(16),
        ),
    );
    setup.push_extra(BORG);
    (tmp, setup)
}

fn setup_without_borg(setup: &mut Setup) {
    let extra = setup.extra().replace(BORG, "");
    setup.set_extra(extra);
}

/// `class` of each asset of `--list` (archived current ones are not listed).
fn classes(report: &Value) -> BTreeMap<String, String> {
    report["libraries"][0]["assets_listed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["uuid"].as_str().unwrap().to_owned(),
                a["class"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_class_of_a_hand_built_ledger_is_found() {
    let (_tmp, setup) = every_class();
    let (code, report) = json(&setup, &["--list"]);
    assert_eq!(code, 1, "a back catalogue and a file missing: {report:#}");
    let lib = &report["libraries"][0];
    let expected: BTreeMap<String, String> = [
        (2, "archived_changed"),
        (3, "archived_changed"),
        (4, "archived_changed"),
        (5, "mirrored"),
        (6, "staged"),
        (7, "pending_in_icloud"),
        (8, "pending_download_failed"),
        (9, "pending_file_missing"),
        (10, "back_catalogue"),
        (11, "on_its_way"),
        (14, "back_catalogue"),
        (16, "pruned"),
    ]
    .into_iter()
    .map(|(n, c)| (uuid(n), c.to_owned()))
    .collect();
    assert_eq!(classes(&report), expected, "{report:#}");
    let listed = report["libraries"][0]["assets_listed"].as_array().unwrap();
    let archive_of = |n: u32| {
        listed
            .iter()
            .find(|a| a["uuid"] == uuid(n).as_str())
            .map(|a| a["archive"].clone())
    };
    assert_eq!(archive_of(3), Some(Value::from(ARCHIVE)));
    assert_eq!(archive_of(6), Some(Value::Null), "not archived: no archive");
    assert_eq!(
        lib["assets"], 14,
        "1 to 11, 14 to 16; 12 trashed, 13 left out"
    );
    // 15: its version differs too, but no date of it moved: neither a run
    // nor coverage reads it again.
    assert_eq!(lib["archived_current"], 2);
    assert_eq!(
        lib["changed"],
        serde_json::json!({"mirrored": 1, "staged": 1, "not_yet": 1})
    );
    assert_eq!(
        (lib["mirrored"].as_u64(), lib["staged"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        lib["pending"],
        serde_json::json!({"in_icloud": 1, "download_failed": 1, "file_missing": 1, "overdue": 1})
    );
    assert_eq!(lib["on_its_way"], 1);
    assert_eq!(
        (lib["trashed"].as_u64(), lib["left_out"].as_u64()),
        (Some(1), Some(1))
    );
    // 5 of 14 in a verified archive (the 'created' one does not count, nor
    // the one retention removed).
    assert_eq!(lib["archived_percent"], 35.7);
    assert_eq!(lib["pruned"], 1);
    assert_eq!(
        lib["back_catalogue"],
        serde_json::json!({
            "assets": 2,
            "first_month": "2018-03",
            "span": ["2016-07", "2019-05"],
            "months": [{"month": "2018-03", "assets": 1}, {"month": "2019-05", "assets": 1}]
        })
    );
    let reasons: Vec<&str> = lib["not_covered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "back_catalogue",
            "file_missing",
            "pending_overdue",
            "pruned"
        ]
    );
    assert_eq!(lib["database_copy"], "kept");
    assert_eq!(report["covered"], false);
    // By year, oldest first: the classes in four groups, adding up.
    let years = lib["years"].as_array().unwrap();
    let sum = |key: &str| years.iter().map(|y| y[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(
        (
            sum("archived"),
            sum("staged"),
            sum("pending"),
            sum("not_backed_up")
        ),
        (5, 2, 3, 4),
        "archived current or changed; mirrored or staged; pending; \
         on its way, back catalogue or pruned: {years:#?}"
    );
    let order: Vec<i64> = years.iter().map(|y| y["year"].as_i64().unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert_eq!(order.first(), Some(&2016), "the pruned photo of 2016-07");
}

#[test]
fn the_text_names_reasons_and_escapes_hostile_names() {
    let (_tmp, setup) = every_class();
    let (code, out, err) = coverage(&setup, &["--list"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with(
            "anna: 35.7% of 14 assets in verified archives (2 current, 3 changed since: \
             1 mirrored, 1 staged, 1 not yet staged); back catalogue: 2 assets, 2018-03 of 2016-07..2019-05\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "    1 asset: in no archive: their archive was removed by retention \
             ([borg] prune_keep_monthly / prune_keep_yearly)\n"
        ) && out.contains(&format!("{}  2016-07-09", uuid(16))),
        "{out}"
    );
    assert!(out.contains("set [backfill] enabled = true"), "{out}");
    assert!(out.contains(&format!("{}  2018-03-02", uuid(14))), "{out}");
    assert!(out.contains("evil\\u{1b}[31m\\nname.jpg"), "{out}");
    assert!(
        !out.contains('\u{1b}'),
        "a raw escape reached the terminal: {out}"
    );
    // Without --list, no asset is named.
    let (_, out, _) = coverage(&setup, &[]);
    assert!(!out.contains(&uuid(14)), "{out}");
    // The library by year, in ASCII (not a terminal): a row per year with
    // its count, the legend.
    let (_, report) = json(&setup, &[]);
    let chart: Vec<&str> = out.lines().skip_while(|l| *l != "anna by year:").collect();
    let years = report["libraries"][0]["years"].as_array().unwrap();
    assert_eq!(chart.len(), years.len() + 2, "{out}");
    for (row, year) in chart[1..].iter().zip(years) {
        let total: u64 = ["archived", "staged", "pending", "not_backed_up"]
            .iter()
            .map(|k| year[k].as_u64().unwrap())
            .sum();
        assert!(
            row.starts_with(&format!("  {} ", year["year"]))
                && row.ends_with(&format!(" {total}"))
                && row.is_ascii()
                && row.len() <= 80,
            "{row:?} for {year}"
        );
    }
    assert_eq!(
        chart.last().unwrap(),
        &"  # in verified archives  = staged  ~ pending  . not backed up"
    );
}

#[test]
fn everything_covered_or_on_its_way_is_exit_0() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lib = Growing::new(tmp.path(), "Ben");
    lib.add(photo(1, utc(2026, 11, 2), utc(2026, 11, 2)));
    lib.add(photo(2, utc(2026, 11, 3), utc(2026, 11, 3)));
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("ben", &lib.path);
    setup.set_threshold("2026-11-01");
    let (code, report) = json(&setup, &[]);
    assert_eq!(code, 0, "before any run, both on their way: {report:#}");
    assert_eq!(report["libraries"][0]["on_its_way"], 2);
    setup.run_at(NOW);
    let (code, report) = json(&setup, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["libraries"][0]["staged"], 2);
    // The threshold moves past them unstaged: now they are the back catalogue.
    std::fs::write(setup.staging().join("date_threshold.txt"), "2026-12-01\n").unwrap();
    sql(&setup, "DELETE FROM staged_file;");
    let (code, report) = json(&setup, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["libraries"][0]["back_catalogue"]["assets"], 2);
}

#[test]
fn a_run_holding_the_lock_makes_coverage_read_a_private_copy() {
    let (_tmp, setup) = every_class();
    let lock = std::fs::File::options()
        .read(true)
        .write(true)
        .open(setup.state().join("run.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let (code, report) = json(&setup, &["--library", "anna"]);
    assert_eq!(code, 1);
    assert_eq!(report["libraries"][0]["database_copy"], "private");
    drop(lock);
    let (_, report) = json(&setup, &[]);
    assert_eq!(report["libraries"][0]["database_copy"], "kept");
    let (code, _, err) = coverage(&setup, &["--library", "nobody"]);
    assert_eq!(code, 1);
    assert!(err.contains("no library named \"nobody\""), "{err}");
}

#[test]
fn the_figures_are_kept_for_status_by_the_command_and_by_the_run() {
    let (_tmp, mut setup) = every_class();
    let kept = setup.state().join("coverage.json");
    // The run of `every_class` computed them first (none existed).
    let first: Value = serde_json::from_slice(&std::fs::read(&kept).unwrap()).unwrap();
    assert_eq!(first["libraries"][0]["assets"], 14);
    assert!(first["libraries"][0].get("assets_listed").is_none());
    coverage(&setup, &["--list"]);
    let now: Value = serde_json::from_slice(&std::fs::read(&kept).unwrap()).unwrap();
    assert_eq!(now["libraries"][0]["pending"]["file_missing"], 1);
    assert!(now["libraries"][0].get("assets_listed").is_none());
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&kept).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "owner-only: {mode:o}");
    // The next run a day later computes them again, and status shows them
    // (a run without the `[borg]` that `every_class` added for its limit).
    setup_without_borg(&mut setup);
    let out = setup.run_at("2026-11-21T12:00:00Z");
    assert!(out.contains("coverage: anna: 35.7% of 14 assets"), "{out}");
    let ran = setup
        .command(
            &["status"],
            &[("PHOTOS_BACKUP_NOW", "2026-11-21T12:01:00Z")],
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&ran.stdout);
    assert!(text.contains("Coverage:     anna: 35.7% of 14 assets in verified archives, back catalogue 2 assets, 2018-03 of 2016-07..2019-05"), "{text}");
    assert!(!text.contains("by year"), "a chart only when asked: {text}");
    // `status --chart`: the same rows as `coverage` draws, from the kept figures.
    let ran = setup
        .command(
            &["status", "--chart"],
            &[("PHOTOS_BACKUP_NOW", "2026-11-21T12:01:00Z")],
        )
        .output()
        .unwrap();
    assert!(ran.status.success(), "{ran:?}");
    let with_chart = String::from_utf8_lossy(&ran.stdout);
    let (_, drawn, _) = coverage(&setup, &[]);
    let rows = |t: &str| -> Vec<String> {
        t.lines()
            .skip_while(|l| *l != "anna by year:")
            .map(str::to_owned)
            .collect()
    };
    assert!(
        with_chart.starts_with(text.as_ref())
            && with_chart
                .contains("\nBy year, as of 2026-11-21 12:00 (1 minute ago):\nanna by year:\n"),
        "{with_chart}"
    );
    assert!(rows(&with_chart).len() > 2, "{with_chart}");
    assert_eq!(rows(&with_chart), rows(&drawn));
    // A damaged file: reported by the command's run step, never trusted.
    std::fs::write(&kept, "{\"version\": 1").unwrap();
    let out = setup.run_at("2026-11-21T12:05:00Z");
    assert!(
        out.contains("the last figures were unreadable and are replaced"),
        "{out}"
    );
    let again: Value = serde_json::from_slice(&std::fs::read(&kept).unwrap()).unwrap();
    assert_eq!(again["libraries"][0]["assets"], 14);
    // ...and by the command, on stderr.
    std::fs::write(&kept, "[]").unwrap();
    let (_, out, err) = coverage(&setup, &["--json"]);
    assert!(err.contains("coverage.json is damaged"), "{err}");
    assert!(
        serde_json::from_str::<Value>(&out).is_ok(),
        "stdout stays JSON: {out}"
    );
}

#[test]
fn a_fixture_library_counts_as_the_reader_lists_it() {
    let Some((_tmp, lib)) = common::fixture_copy("Test-13.0.0") else {
        common::skip("the fixture libraries are not here");
        return;
    };
    let threshold = "2020-04-15";
    let mut setup = Setup::new();
    setup.add_library("fixture", &lib);
    setup.set_threshold(threshold);
    let listing = common::assets_json(&lib, &["--all"]);
    let since = chrono::NaiveDate::parse_from_str(threshold, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let newer = |a: &Value| {
        ["date", "date_added", "date_modified", "date_changed"]
            .iter()
            .filter_map(|k| a[*k].as_str())
            .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .any(|t| t >= since)
    };
    let kept: Vec<&Value> = listing.iter().filter(|a| a["intrash"] == false).collect();
    let trashed = listing.len() - kept.len();
    let taken = kept.iter().filter(|a| newer(a)).count();
    let (code, report) = json(&setup, &[]);
    let figures = &report["libraries"][0];
    assert_eq!(figures["assets"], kept.len(), "{report:#}");
    assert_eq!(figures["trashed"], trashed);
    assert_eq!(figures["on_its_way"], taken, "{report:#}");
    assert_eq!(figures["back_catalogue"]["assets"], kept.len() - taken);
    assert_eq!(code, i32::from(kept.len() > taken));
    // After a run, each asset is staged or pending, as the run left it.
    setup.run_at(NOW);
    let (_, report) = json(&setup, &[]);
    let figures = &report["libraries"][0];
    let pending = setup.ledger().pending("fixture").unwrap().len() as u64;
    let p = &figures["pending"];
    let counted = ["in_icloud", "download_failed", "file_missing"]
        .iter()
        .map(|k| p[*k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(counted, pending);
    assert_eq!(
        figures["staged"].as_u64().unwrap() + pending,
        taken as u64,
        "{report:#}"
    );
}
