//! Faults during the month rollover, each against real borg: a wrong
//! passphrase, a repository locked by another client, a missing repository,
//! a full disk and a network cut during `borg create`. Each gives a clear
//! error naming the repository, raises the failure notification, purges
//! nothing and moves no threshold; the next run, once the fault is gone,
//! finishes the job.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::borg::Repo;
use common::remote::{kill, processes, TestServer};
use common::setup::Setup;
use common::timeline::{archived, september, staged_files, threshold};
use common::tmpfs::Tmpfs;

const OCTOBER: &str = "2026-10-01T00:05:00Z";

/// The run at the start of October fails; nothing of September is lost.
fn assert_failed_safely(setup: &Setup, repo_location: &str, says: &str) -> String {
    let before = staged_files(setup);
    let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", OCTOBER)]);
    let all = format!("{}{}", ran.out, ran.err);
    assert_eq!(ran.code, 1, "{all}");
    assert!(all.contains("rollover FAILED"), "{all}");
    assert!(
        all.contains(repo_location),
        "the error names the repository: {all}"
    );
    assert!(
        all.to_lowercase().contains(says),
        "expected {says:?}: {all}"
    );
    assert_eq!(staged_files(setup), before, "nothing purged");
    assert_eq!(threshold(setup), "2026-09-01");
    all
}

/// The next run, fault gone: one archive holding all of September.
fn assert_recovers(setup: &Setup, repo: &Repo, n: usize) {
    let out = setup.run_at("2026-10-01T01:00:00Z");
    assert_eq!(repo.archives(), ["photos-kim-2026-09"], "{out}");
    assert_eq!(archived(setup, repo, "kim")["photos-kim-2026-09"].len(), n);
    assert_eq!(staged_files(setup), Vec::<String>::new());
    assert_eq!(threshold(setup), "2026-10-01");
}

#[test]
fn a_wrong_passphrase_fails_clearly_alerts_and_purges_nothing() {
    let (_tmp, repo, _lib, mut setup) = september(3, 1000, "");
    let notified = setup.notify_log();
    std::fs::write(&repo.passphrase_file, "not the passphrase").unwrap();
    let all = assert_failed_safely(&setup, &repo.location, "passphrase");
    assert!(!all.contains("not the passphrase") && !all.contains(repo.passphrase()));
    let alert = std::fs::read_to_string(&notified).unwrap();
    assert!(
        alert.starts_with("failure|") && alert.contains("rollover FAILED"),
        "{alert}"
    );
    assert!(!alert.contains("not the passphrase"), "{alert}");

    std::fs::write(&repo.passphrase_file, repo.passphrase()).unwrap();
    assert_recovers(&setup, &repo, 3);
    let alerts = std::fs::read_to_string(&notified).unwrap();
    assert!(
        alerts
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("recovered|")),
        "{alerts}"
    );
}

#[test]
fn a_repository_locked_by_another_client_is_waited_for_then_an_error() {
    let (_tmp, repo, _lib, mut setup) = september(3, 1000, "lock_wait_seconds = 1");
    let mut holder = repo
        .borg(&["with-lock", &repo.location, "sleep", "600"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the other client holds the lock.
    let lock = std::path::Path::new(&repo.location).join("lock.exclusive");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !lock.exists() {
        assert!(Instant::now() < deadline, "borg with-lock never locked");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_failed_safely(&setup, &repo.location, "lock");
    let _ = holder.kill();
    let _ = holder.wait();
    setup.set_extra(repo.config("lock_wait_seconds = 30"));
    assert_recovers(&setup, &repo, 3);
}

#[test]
fn a_missing_repository_is_named() {
    let (tmp, repo, _lib, mut setup) = september(3, 1000, "");
    let moved = tmp.path().join("repo.away");
    std::fs::rename(&repo.location, &moved).unwrap();
    assert_failed_safely(&setup, &repo.location, "does not exist");
    std::fs::rename(&moved, &repo.location).unwrap();
    setup.set_extra(repo.config(""));
    assert_recovers(&setup, &repo, 3);
}

#[test]
fn a_full_disk_during_create_fails_and_the_next_run_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = Tmpfs::mount(&tmp.path().join("disk"), "1m");
    let location = disk.0.join("repo").display().to_string();
    let repo = Repo::init_at(tmp.path(), &location, None);
    let (_t, _r, _lib, mut setup) = september(8, 400_000, "");
    setup.set_extra(repo.config("compression = \"none\""));
    assert_failed_safely(&setup, &repo.location, "space");
    disk.resize("64m");
    assert_recovers(&setup, &repo, 8);
}

#[test]
fn a_network_cut_during_create_over_ssh_fails_and_the_next_run_recovers() {
    let server = TestServer::start();
    let repo = Repo::on_server(&server);
    let location = repo.location.clone();
    let (_t, _r, _lib, mut setup) = september(12, 2_000_000, "");
    setup.set_extra(repo.config_on(&server, "compression = \"none\""));
    let child = setup.spawn_with(&[("PHOTOS_BACKUP_NOW", OCTOBER)]);
    // Cut the connection while borg create runs: end the server side.
    let deadline = Instant::now() + Duration::from_secs(120);
    let is_borg = |args: &[String], word: &str| {
        args.iter().any(|a| a.contains("borg")) && args.iter().any(|a| a == word)
    };
    loop {
        let all = processes();
        if all.iter().any(|(_, args)| is_borg(args, "create")) {
            let serving: Vec<u32> = all
                .iter()
                .filter(|(_, args)| is_borg(args, "serve"))
                .map(|(pid, _)| *pid)
                .collect();
            if !serving.is_empty() {
                for pid in serving {
                    kill(pid, "KILL");
                }
                break;
            }
        }
        assert!(Instant::now() < deadline, "borg create never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", setup.spawned_output());
    let said = setup.spawned_output();
    assert!(
        said.contains("rollover FAILED") && said.contains(&location),
        "{said}"
    );
    assert_eq!(threshold(&setup), "2026-09-01");
    assert!(!staged_files(&setup).is_empty());
    assert_recovers(&setup, &repo, 12);
}

#[test]
fn an_archive_that_does_not_hold_what_it_was_given_purges_nothing() {
    let (tmp, repo, _lib, setup) = september(3, 1000, "");
    // Someone else made an archive of that name, holding something else.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(other.join("kim")).unwrap();
    std::fs::write(other.join("kim/stranger.txt"), b"not a photo").unwrap();
    let spec = format!("{}::photos-kim-2026-09", repo.location);
    let made = repo
        .borg(&["create", &spec, "kim"])
        .current_dir(&other)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let all = assert_failed_safely(&setup, &repo.location, "does not hold what it was given");
    assert!(
        all.contains("Nothing was purged") && all.contains("files missing"),
        "{all}"
    );
    // Again: still refused, still nothing purged.
    assert_failed_safely(&setup, &repo.location, "does not hold what it was given");
    // As the error advises: delete it; the next run makes it anew.
    let deleted = repo.borg(&["delete", &spec]).output().unwrap();
    assert!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    assert_recovers(&setup, &repo, 3);
}
