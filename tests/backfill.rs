//! The backfill of the back catalogue through the real binary and real borg,
//! on a simulated timeline: a library of several years, the threshold at the
//! start of the current month, the backfill on with a small staging budget.
//! Run after run, the oldest months are archived (a month larger than the
//! budget in parts), staging never holds more than the budget, photos of the
//! current month are staged by the run they appear in, and in the end every
//! photo of the library is in a verified archive, byte for byte.

mod common;

use std::collections::BTreeSet;

use common::borg::Repo;
use common::setup::Setup;
use common::timeline::{archived, photo, Growing};
use common::{utc, uuid};
use photos_backup::ledger::Step;

/// Bytes of each synthetic original.
const PHOTO: u64 = 50_000;
/// The staging budget: about seven photos with their sidecars.
const BUDGET_GB: &str = "0.0004";
const BUDGET: u64 = 400_000;

/// Bytes of every file under staging (the threshold file included).
fn staging_bytes(setup: &Setup) -> u64 {
    walkdir::WalkDir::new(setup.staging())
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

fn sized(n: u32, year: i32, month: u32, day: u32) -> synthetic::AssetSpec {
    let mut spec = photo(n, utc(year, month, day), utc(year, month, day));
    spec.size = Some(PHOTO);
    spec
}

/// Every asset of the library has its original in a verified archive, equal
/// to the library's byte for byte.
fn assert_all_archived(setup: &Setup, repo: &Repo, lib: &Growing, uuids: &[String]) {
    let ledger = setup.ledger();
    for u in uuids {
        let versions = ledger.archived_versions("anna", u).unwrap();
        let original = versions
            .iter()
            .find(|f| f.role == "original")
            .unwrap_or_else(|| panic!("{u} has no archived original: {versions:?}"));
        let r = ledger.rollover("anna", &original.archive).unwrap().unwrap();
        assert!(
            matches!(r.step, Step::Verified | Step::Purged),
            "{} not verified",
            r.archive
        );
        assert_eq!(
            repo.content(&original.archive, &original.path),
            lib.original(u),
            "{u} in {}",
            original.archive
        );
        assert!(versions.iter().any(|f| f.role == "xmp"), "{u}: no sidecar");
    }
}

#[test]
#[allow(clippy::too_many_lines)] // one timeline, read top to bottom
fn the_back_catalogue_is_archived_month_by_month_within_the_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let mut lib = Growing::new(tmp.path(), "Anna");
    // The back catalogue: 2023-01 (2 photos), 2024-06 (8 photos: more
    // than the budget, so in parts), 2025-03 (1 photo), and one in the
    // trash (never exported, never archived).
    lib.add(sized(1, 2023, 1, 5)).add(sized(2, 2023, 1, 20));
    for n in 3..=10 {
        lib.add(sized(n, 2024, 6, n));
    }
    lib.add(sized(11, 2025, 3, 1));
    let mut trashed = sized(12, 2022, 2, 2);
    trashed.trashed = true;
    lib.add(trashed);
    // This month: one photo.
    lib.add(sized(20, 2026, 11, 1));
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("anna", &lib.path);
    setup.set_threshold("2026-11-01");
    setup.set_extra(format!(
        "{}[backfill]\nenabled = true\nmax_staging_gb = {BUDGET_GB}\n",
        repo.config("verify = \"content\"")
    ));

    // A dry run says what the first run would back fill, and changes nothing.
    let dry = setup.run_with(
        &["--dry-run"],
        &[("PHOTOS_BACKUP_NOW", "2026-11-02T07:00:00Z")],
    );
    assert_eq!(dry.code, 0, "{}\n{}", dry.out, dry.err);
    for said in [
        "anna: would back fill 2023-01: 2 of its 2 photos (",
        " into photos-anna-backfill-2023-01, verify it, and purge them",
    ] {
        assert!(dry.out.contains(said), "{}", dry.out);
    }
    assert!(!setup.state().join("ledger.sqlite").exists());
    assert!(repo.archives().is_empty());

    // coverage names the back catalogue, on its way with [backfill] on.
    let coverage = setup
        .command(&["coverage", "--json"], &[])
        .output()
        .unwrap();
    let figures: serde_json::Value = serde_json::from_slice(&coverage.stdout).unwrap();
    assert_eq!(coverage.status.code(), Some(0), "{figures:#}");
    assert_eq!(
        figures["libraries"][0]["back_catalogue"]["first_month"], "2023-01",
        "{figures:#}"
    );

    let mut outputs = Vec::new();
    let mut current = vec![uuid(20)];
    let days = ["02", "03", "04", "05", "06", "07"];
    for (i, day) in days.iter().enumerate() {
        if i > 0 {
            // A photo of today appears between runs: the run stages it.
            let n = 20 + i as u32;
            lib.add(sized(n, 2026, 11, day.parse().unwrap()));
            lib.write();
            current.push(uuid(n));
        }
        let out = setup.run_at(&format!("2026-11-{day}T08:00:00Z"));
        let staged = setup.staged("anna");
        for u in &current {
            assert!(
                staged.contains_key(&(u.clone(), "original".into())),
                "{u} not staged by the run at 2026-11-{day}:\n{out}"
            );
        }
        let used = staging_bytes(&setup);
        assert!(used <= BUDGET, "staging holds {used} bytes after:\n{out}");
        // While this run's part was staged, staging held it and at most
        // what it holds now (this month's files only grow).
        let ledger = setup.ledger();
        for archive in repo.archives() {
            if !archive.contains("backfill") || !out.contains(&format!("into {archive}:")) {
                continue;
            }
            let part: u64 = ledger
                .rollover_files("anna", &archive)
                .unwrap()
                .iter()
                .map(|f| f.size)
                .sum();
            assert!(
                used + part <= BUDGET,
                "{archive} ({part} bytes) beside {used} bytes:\n{out}"
            );
        }
        outputs.push(out);
    }
    let all = outputs.join("\n");
    // Oldest first, one part a run, the large month in parts.
    assert!(
        outputs[0].contains("backfilled 2023-01 into photos-anna-backfill-2023-01: 4 files"),
        "{}",
        outputs[0]
    );
    assert!(
        outputs[1].contains("backfilled 2024-06 into photos-anna-backfill-2024-06:"),
        "{}",
        outputs[1]
    );
    assert!(
        all.contains("into photos-anna-backfill-2024-06-2:"),
        "{all}"
    );
    let archives: BTreeSet<String> = repo.archives().into_iter().collect();
    assert!(archives.contains("photos-anna-backfill-2025-03"), "{all}");
    assert!(
        !archives.iter().any(|a| a.contains("2022")),
        "the trashed photo is not backfilled: {archives:?}"
    );
    // The backfill never swept this month's photos into its archives.
    let by_archive = archived(&setup, &repo, "anna");
    for (archive, uuids) in &by_archive {
        for u in &current {
            assert!(!uuids.contains_key(u), "{u} is in {archive}");
        }
    }
    // Nothing left to do: a further run archives nothing more.
    let idle = setup.run_at("2026-11-08T08:00:00Z");
    assert!(!idle.contains("backfill"), "{idle}");
    // status.json says how far the backfill got.
    let status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(setup.state().join("status.json")).unwrap())
            .unwrap();
    let b = &status["backfill"][0];
    assert_eq!(b["library"], "anna", "{status:#}");
    assert_eq!(b["months_done"], 3, "{status:#}");
    assert_eq!(b["parts_done"], 4, "{status:#}");
    assert_eq!(b["left"]["months"], 0, "{status:#}");
    // Counted by the last run that read the library; the idle run, on an
    // unchanged library with nothing left, did not read it again.
    assert_eq!(b["left"]["at"], "2026-11-07T08:00:00Z", "{status:#}");
    assert!(
        b["bytes_archived"].as_u64().unwrap() > 11 * PHOTO,
        "{status:#}"
    );
    let shown = setup.command(&["status"], &[]).output().unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("backfill:   3 months done (4 archives,") && shown.contains("nothing left"),
        "{shown}"
    );

    // The month ends: the monthly rollover archives November; then every
    // photo of the library is in a verified archive.
    let out = setup.run_at("2026-12-01T00:05:00Z");
    assert!(
        out.contains("archived 2026-11 into photos-anna-2026-11"),
        "{out}"
    );
    let mut every: Vec<String> = (1..=11).map(uuid).collect();
    every.extend(current.iter().cloned());
    assert_all_archived(&setup, &repo, &lib, &every);
    // And coverage says so: every photo in a verified archive.
    let coverage = setup
        .command(&["coverage", "--json"], &[])
        .output()
        .unwrap();
    let figures: serde_json::Value = serde_json::from_slice(&coverage.stdout).unwrap();
    assert_eq!(coverage.status.code(), Some(0), "{figures:#}");
    assert_eq!(figures["covered"], true, "{figures:#}");
    let anna = &figures["libraries"][0];
    assert_eq!(anna["archived_percent"], 100.0, "{figures:#}");
    assert_eq!(anna["back_catalogue"]["assets"], 0, "{figures:#}");
    let backfilled: Vec<&String> = by_archive
        .keys()
        .filter(|a| a.contains("backfill"))
        .collect();
    assert!(backfilled.len() >= 4, "{backfilled:?}");
    // Each photo is in exactly one archive.
    let mut seen = BTreeSet::new();
    for uuids in archived(&setup, &repo, "anna").values() {
        for u in uuids.keys() {
            assert!(seen.insert(u.clone()), "{u} archived twice");
        }
    }
    assert!(staging_bytes(&setup) <= BUDGET);
}

#[test]
fn a_month_with_originals_in_icloud_is_held_and_later_months_go_on() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let mut lib = Growing::new(tmp.path(), "Anna");
    let mut cloud = sized(1, 2023, 1, 5);
    cloud.cloud_only = true;
    lib.add(cloud)
        .add(sized(2, 2023, 1, 6))
        .add(sized(3, 2023, 4, 1));
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("anna", &lib.path);
    setup.set_threshold("2026-11-01");
    setup.set_extra(format!(
        "{}[backfill]\nenabled = true\nmax_staging_gb = 1\n",
        repo.config("")
    ));
    let out = setup.run_at("2026-11-02T08:00:00Z");
    assert!(
        out.contains("backfill of 2023-01 held: 1 originals still only in iCloud"),
        "{out}"
    );
    assert!(repo.archives().is_empty());
    // Still in iCloud: held again, never archived without it; the next
    // month goes on meanwhile.
    let out = setup.run_at("2026-11-03T08:00:00Z");
    assert!(out.contains("backfill of 2023-01 held"), "{out}");
    assert!(
        out.contains("backfilled 2023-04 into photos-anna-backfill-2023-04"),
        "{out}"
    );
    assert_eq!(repo.archives(), ["photos-anna-backfill-2023-04"]);

    // The backfill is turned off, and Photos has downloaded the original:
    // the part already begun is finished, whole; no new one is begun (a
    // photo of 2023-08 appears in the back catalogue meanwhile).
    setup.set_extra(format!("{}[backfill]\nenabled = false\n", repo.config("")));
    lib.spec(&uuid(1)).cloud_only = false;
    lib.add(sized(4, 2023, 8, 1));
    lib.write();
    let out = setup.run_at("2026-11-04T08:00:00Z");
    assert!(
        out.contains("backfilled 2023-01 into photos-anna-backfill-2023-01: 4 files"),
        "{out}"
    );
    assert_eq!(
        repo.archives(),
        [
            "photos-anna-backfill-2023-01",
            "photos-anna-backfill-2023-04"
        ]
    );
    let out = setup.run_at("2026-11-05T08:00:00Z");
    assert!(!out.contains("backfill"), "{out}");
    assert_all_archived(&setup, &repo, &lib, &[uuid(1), uuid(2), uuid(3)]);
    // locate and restore find it like any archived photo.
    let located = setup.command(&["locate", &uuid(1)], &[]).output().unwrap();
    let located = String::from_utf8_lossy(&located.stdout);
    assert!(
        located.contains("archived in photos-anna-backfill-2023-01 at anna/2023/01/05/"),
        "{located}"
    );
    let to = tmp.path().join("restored");
    std::fs::create_dir(&to).unwrap();
    let restored = setup
        .command(&["restore", &uuid(1), "--to", to.to_str().unwrap()], &[])
        .output()
        .unwrap();
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let original = lib.original(&uuid(1));
    let found = walkdir::WalkDir::new(&to)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .any(|e| std::fs::read(e.path()).unwrap() == original);
    assert!(found, "the restored original is not under {}", to.display());
    assert!(setup
        .ledger()
        .backfill_hold("anna", "2023-01".parse().unwrap())
        .unwrap()
        .is_none());
}

#[test]
fn a_photo_larger_than_the_budget_goes_alone_and_a_full_staging_makes_the_backfill_wait() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let mut lib = Growing::new(tmp.path(), "Anna");
    let mut big = photo(1, utc(2023, 1, 5), utc(2023, 1, 5));
    big.size = Some(200_000);
    lib.add(big);
    for n in [2, 3] {
        let mut p = photo(n, utc(2023, 2, n), utc(2023, 2, n));
        p.size = Some(20_000);
        lib.add(p);
    }
    let mut now = photo(4, utc(2026, 11, 1), utc(2026, 11, 1));
    now.size = Some(40_000);
    lib.add(now);
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("anna", &lib.path);
    setup.set_threshold("2026-11-01");
    setup.set_extra(format!(
        "{}[backfill]\nenabled = true\nmax_staging_gb = 0.00005\n",
        repo.config("")
    ));
    let out = setup.run_at("2026-11-02T08:00:00Z");
    assert!(
        out.contains("backfill of 2023-01: one photo (") && out.contains("goes alone"),
        "{out}"
    );
    assert!(
        out.contains("backfilled 2023-01 into photos-anna-backfill-2023-01: 2 files"),
        "{out}"
    );
    // This month's photo fills staging: 2023-02 waits for it to be archived.
    let out = setup.run_at("2026-11-03T08:00:00Z");
    assert!(
        out.contains("backfill of 2023-02 waits: staging has ")
            && out.contains(" left of its budget, the next photo needs "),
        "{out}"
    );
    assert_eq!(repo.archives(), ["photos-anna-backfill-2023-01"]);
    // Still no room, nothing changed: the library is not read again.
    let out = setup.run_at("2026-11-04T08:00:00Z");
    assert!(!out.contains("backfill"), "{out}");
    let census = setup.ledger().backfill_census("anna").unwrap().unwrap();
    assert_eq!(
        census.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "2026-11-03T08:00:00Z"
    );
    assert_eq!(census.months, 1);
    // The month ends: November is archived, and 2023-02 fits again.
    let out = setup.run_at("2026-12-01T08:00:00Z");
    assert!(
        out.contains("archived 2026-11 into photos-anna-2026-11"),
        "{out}"
    );
    assert!(
        out.contains("backfilled 2023-02 into photos-anna-backfill-2023-02: 4 files"),
        "{out}"
    );
    assert_all_archived(&setup, &repo, &lib, &[uuid(1), uuid(2), uuid(3), uuid(4)]);
}

#[test]
fn on_battery_the_backfill_waits_for_ac_power() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let mut lib = Growing::new(tmp.path(), "Anna");
    lib.add(sized(1, 2023, 1, 5)).add(sized(2, 2026, 11, 1));
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("anna", &lib.path);
    setup.set_threshold("2026-11-01");
    setup.set_extra(format!(
        "{}[backfill]\nenabled = true\n[run]\nonly_on_ac_power = true\n",
        repo.config("")
    ));
    let power = |name: &str, said: &str| {
        let bin = tmp.path().join(name);
        common::tools::fake_tool(&bin, "pmset", &format!("printf '%s\\n' {said:?}"));
        common::tools::path_with(&bin)
    };
    let battery = power("battery", "Now drawing from 'Battery Power'");
    let ran = setup.run_with(
        &[],
        &[
            ("PATH", &battery),
            ("PHOTOS_BACKUP_NOW", "2026-11-02T08:00:00Z"),
        ],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    assert!(
        ran.out
            .contains("backfill: waits for AC power (only_on_ac_power)"),
        "{}",
        ran.out
    );
    // This month's photo is backed up all the same.
    assert!(setup
        .staged("anna")
        .contains_key(&(uuid(2), "original".into())));
    assert!(repo.archives().is_empty());
    let ac = power("ac", "Now drawing from 'AC Power'");
    let ran = setup.run_with(
        &[],
        &[("PATH", &ac), ("PHOTOS_BACKUP_NOW", "2026-11-02T09:00:00Z")],
    );
    assert!(
        ran.out
            .contains("backfilled 2023-01 into photos-anna-backfill-2023-01"),
        "{}",
        ran.out
    );
}
