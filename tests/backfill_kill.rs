//! SIGKILL at every step of a backfill part, then a normal run: the part is
//! finished, nothing is lost, nothing is archived twice, and staging never
//! holds a file twice (what is in staging is exactly what the ledger says is
//! staged). The run is stopped exactly at each step boundary: a failpoint
//! pauses it there, then it gets a real SIGKILL.

mod common;

use std::collections::BTreeSet;

use common::borg::Repo;
use common::setup::Setup;
use common::timeline::{archived, photo, staged_files, Growing};
use common::{utc, uuid};

/// Library `anna`: two photos of 2023-01 (the back catalogue) and one of
/// this month; the backfill on.
fn back_catalogue() -> (tempfile::TempDir, Repo, Growing, Setup) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let mut lib = Growing::new(tmp.path(), "Anna");
    for (n, created) in [
        (1, utc(2023, 1, 5)),
        (2, utc(2023, 1, 6)),
        (3, utc(2026, 11, 1)),
    ] {
        let mut p = photo(n, created, created);
        p.size = Some(20_000);
        lib.add(p);
    }
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("anna", &lib.path);
    setup.set_threshold("2026-11-01");
    setup.set_extra(format!(
        "{}[backfill]\nenabled = true\nmax_staging_gb = 1\n",
        repo.config("verify = \"content\"")
    ));
    (tmp, repo, lib, setup)
}

/// Files the ledger says are staged and not purged exist in staging, and
/// staging holds nothing else: a kill never loses a file no verified
/// archive holds, nor leaves a second copy.
fn assert_staging_is_the_ledger(setup: &Setup) {
    let ledger = setup.ledger();
    let mut expected = BTreeSet::new();
    for r in ledger.file_records("anna").unwrap() {
        let verified = r.file.archive.as_ref().is_some_and(|a| {
            ledger
                .rollover("anna", a)
                .unwrap()
                .is_some_and(|r| r.verified_at.is_some())
        });
        let on_disk = setup.staging().join(&r.file.path).exists();
        assert!(
            on_disk || verified,
            "{} is gone but in no verified archive",
            r.file.path
        );
        if r.purged_at.is_none() {
            expected.insert(r.file.path.clone());
        }
    }
    let on_disk: BTreeSet<String> = staged_files(setup).into_iter().collect();
    let extra: Vec<&String> = on_disk.difference(&expected).collect();
    assert!(
        extra.is_empty(),
        "staging holds files the ledger does not: {extra:?}"
    );
}

fn kill_at(point: &str) {
    let (_tmp, repo, lib, setup) = back_catalogue();
    setup.killed_at("2026-11-02T08:00:00Z", point);
    // Before the next run, the part's files may be anywhere between
    // staged and purged, but never lost.
    let ledger = setup.ledger();
    for r in ledger.file_records("anna").unwrap() {
        if r.purged_at.is_none() {
            assert!(
                setup.staging().join(&r.file.path).exists(),
                "{} lost",
                r.file.path
            );
        }
    }
    drop(ledger);

    let out = setup.run_at("2026-11-02T08:10:00Z");
    assert_eq!(
        repo.archives(),
        ["photos-anna-backfill-2023-01"],
        "one archive, never a second part:\n{out}"
    );
    let by_archive = archived(&setup, &repo, "anna");
    let part = &by_archive["photos-anna-backfill-2023-01"];
    assert_eq!(
        part.keys().cloned().collect::<Vec<_>>(),
        [uuid(1), uuid(2)],
        "{out}"
    );
    for roles in part.values() {
        assert_eq!(roles, &["original", "xmp"], "{out}");
    }
    for n in [1, 2] {
        let f = setup
            .ledger()
            .archived_versions("anna", &uuid(n))
            .unwrap()
            .into_iter()
            .find(|f| f.role == "original")
            .unwrap();
        assert_eq!(
            repo.content(&f.archive, &f.path),
            lib.original(&uuid(n)),
            "{}",
            f.path
        );
    }
    assert!(setup.ledger().open_backfill("anna").unwrap().is_none());
    // Only this month's photo is left in staging.
    let left = staged_files(&setup);
    assert_eq!(left.len(), 2, "{left:?}\n{out}");
    assert!(
        left.iter().all(|p| p.starts_with("anna/2026/11/")),
        "{left:?}"
    );
    assert_staging_is_the_ledger(&setup);
    // A further run has nothing to backfill.
    let again = setup.run_at("2026-11-02T08:20:00Z");
    assert!(!again.contains("backfill"), "{again}");
    assert_eq!(repo.archives(), ["photos-anna-backfill-2023-01"]);
}

#[test]
fn killed_after_planning_the_part() {
    kill_at("backfill-planned");
}

#[test]
fn killed_after_staging_before_the_files_are_marked() {
    kill_at("backfill-staged");
}

#[test]
fn killed_after_the_files_are_marked() {
    kill_at("backfill-files-marked");
}

#[test]
fn killed_after_the_part_is_listed() {
    kill_at("backfill-listed");
}

#[test]
fn killed_before_borg_create() {
    kill_at("backfill-before-create");
}

#[test]
fn killed_after_borg_create_before_it_is_recorded() {
    kill_at("backfill-created");
}

#[test]
fn killed_after_the_archive_is_recorded() {
    kill_at("backfill-created-recorded");
}

#[test]
fn killed_after_verification() {
    kill_at("backfill-verified");
}

#[test]
fn killed_after_files_are_marked_archived() {
    kill_at("backfill-marked");
}

#[test]
fn killed_in_the_middle_of_the_purge() {
    kill_at("backfill-purged-one");
}

#[test]
fn killed_after_the_purge() {
    kill_at("backfill-purged-files");
}

#[test]
fn killed_after_staging_then_the_month_ends_before_the_part_resumes() {
    // The next run closes November first: the part's files, staged but not
    // yet marked as the part's, must not go into November's archive.
    let (_tmp, repo, _lib, setup) = back_catalogue();
    let point = "backfill-staged";
    setup.killed_at("2026-11-02T08:00:00Z", point);
    let out = setup.run_at("2026-12-01T00:05:00Z");
    assert_eq!(
        repo.archives(),
        ["photos-anna-2026-11", "photos-anna-backfill-2023-01"],
        "{out}"
    );
    let by_archive = archived(&setup, &repo, "anna");
    assert_eq!(
        by_archive["photos-anna-2026-11"]
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        [uuid(3)],
        "{out}"
    );
    assert_eq!(
        by_archive["photos-anna-backfill-2023-01"]
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        [uuid(1), uuid(2)],
        "{out}"
    );
    assert_eq!(staged_files(&setup), Vec::<String>::new(), "{out}");
    assert_staging_is_the_ledger(&setup);
}
