//! SIGKILL during the month rollover, then a normal run: nothing lost,
//! nothing purged that a verified archive does not hold, no duplicate
//! archive, threshold right. The run is stopped exactly at each step
//! boundary (a failpoint pauses it there, then it gets a real SIGKILL), and
//! at random instants while `borg create` runs (the run and borg killed
//! together, as launchd kills a job's process group).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::borg::Repo;
use common::remote::{kill, processes};
use common::setup::Setup;
use common::timeline::{
    archived, assert_original_archived, september, staged_files, threshold, Growing,
};

/// After the kill and a normal run: one archive with every file, verified
/// against the library's content, staging empty, threshold moved.
fn assert_recovered(setup: &Setup, repo: &Repo, lib: &Growing, n: u32) {
    let out = setup.run_at("2026-10-01T00:10:00Z");
    assert_eq!(repo.archives(), ["photos-kim-2026-09"], "{out}");
    let by_archive = archived(setup, repo, "kim");
    assert_eq!(by_archive["photos-kim-2026-09"].len(), n as usize, "{out}");
    assert_eq!(staged_files(setup), Vec::<String>::new(), "{out}");
    assert_eq!(threshold(setup), "2026-10-01");
    let ledger = setup.ledger();
    assert!(ledger.open_rollover("kim").unwrap().is_none());
    for f in ledger.files("kim").unwrap() {
        assert_eq!(
            f.archive.as_deref(),
            Some("photos-kim-2026-09"),
            "{}",
            f.path
        );
    }
    assert_original_archived(setup, repo, lib, "kim", 1);
}

/// The files the ledger says are staged and not purged exist in staging:
/// a kill never loses a file that no verified archive holds.
fn assert_nothing_lost(setup: &Setup) {
    let ledger = setup.ledger();
    for f in ledger.files("kim").unwrap() {
        let on_disk = setup.staging().join(&f.path).exists();
        let verified = f.archive.as_ref().is_some_and(|a| {
            ledger
                .rollover("kim", a)
                .unwrap()
                .is_some_and(|r| r.verified_at.is_some())
        });
        assert!(
            on_disk || verified,
            "{} is gone but in no verified archive",
            f.path
        );
    }
}

fn kill_at(point: &str) {
    let (_tmp, repo, lib, setup) = september(4, 2000, "verify = \"content\"");
    setup.killed_at("2026-10-01T00:05:00Z", point);
    assert_nothing_lost(&setup);
    assert_recovered(&setup, &repo, &lib, 4);
}

#[test]
fn killed_after_planning() {
    kill_at("rollover-planned");
}

#[test]
fn killed_before_borg_create() {
    kill_at("rollover-before-create");
}

#[test]
fn killed_after_borg_create_before_it_is_recorded() {
    // The archive exists; the next run must reuse it, not make a second.
    kill_at("rollover-created");
}

#[test]
fn killed_after_the_archive_is_recorded() {
    kill_at("rollover-created-recorded");
}

#[test]
fn killed_after_verification() {
    kill_at("rollover-verified");
}

#[test]
fn killed_after_files_are_marked_archived() {
    kill_at("rollover-marked");
}

#[test]
fn killed_in_the_middle_of_the_purge() {
    kill_at("rollover-purged-one");
}

#[test]
fn killed_after_the_purge() {
    kill_at("rollover-purged-files");
}

#[test]
fn killed_between_the_two_threshold_writes() {
    kill_at("threshold-remote-written");
}

/// The pid of a `borg create` started by the run `parent` (in a process
/// group of its own, as every child of a run).
fn borg_create_of(parent: u32) -> Option<u32> {
    processes().into_iter().find_map(|(pid, args)| {
        let is_create =
            args.iter().any(|a| a.contains("borg")) && args.iter().any(|a| a == "create");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let ppid: u32 = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        (is_create && ppid == parent).then_some(pid)
    })
}

#[test]
fn killed_with_borg_at_random_instants_inside_borg_create() {
    const TRIES: u32 = 6;
    // Bigger files so borg runs long enough to be hit.
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
    let mut hit_inside = 0;
    for _ in 0..TRIES {
        let (_tmp, repo, lib, setup) = september(12, 2_000_000, "");
        let child = setup.spawn_with(&[("PHOTOS_BACKUP_NOW", "2026-10-01T00:05:00Z")]);
        let group = child.id();
        let deadline = Instant::now() + Duration::from_secs(120);
        while borg_create_of(group).is_none() {
            assert!(Instant::now() < deadline, "borg create never started");
            std::thread::sleep(Duration::from_millis(5));
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(rng % 400));
        let borg = borg_create_of(group);
        if borg.is_some() {
            hit_inside += 1;
        }
        // The run's whole group, as launchd stops a job. borg, in a group
        // of its own, lives on as an orphan: the next run stops it.
        kill(group, "KILL");
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .status();
        let mut child = child;
        let _ = child.wait();
        assert_nothing_lost(&setup);
        assert_recovered(&setup, &repo, &lib, 12);
        if let Some(pid) = borg {
            let gone = !Path::new(&format!("/proc/{pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                    s.rsplit_once(')')
                        .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
                });
            assert!(gone, "the orphaned borg create {pid} outlived the next run");
        }
    }
    eprintln!(
        "kill points inside borg create: {hit_inside} of {TRIES} kills landed while borg ran"
    );
    assert!(hit_inside > 0, "no kill landed inside borg create");
}
