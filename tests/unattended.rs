//! `run` as the LaunchAgent runs it: one at a time (75 for a second, a dead
//! run's lock taken over), the mounts released on SIGTERM, `caffeinate` kept
//! alongside, the archive held on battery when configured, the log file and
//! `status.json` written after every run and rendered by `status`. Fake
//! `caffeinate` and `pmset` on PATH record how they were called.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::borg::Repo;
use common::remote::{kill, TestServer};
use common::setup::Setup;
use common::timeline::one_photo;
use common::tools::{fake_tool, path_with};

/// A one-photo library staged from September, with a borg repository.
fn setup() -> (tempfile::TempDir, Repo, Setup) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let (_lib, mut setup) = one_photo(tmp.path(), "Una");
    setup.set_extra(repo.config(""));
    (tmp, repo, setup)
}

/// A folder with fake tools: each records its arguments in `NAME.args`,
/// prints `output` and exits 0.
fn fake_tools(dir: &Path, tools: &[(&str, &str)]) -> PathBuf {
    let bin = dir.join("fakebin");
    for (name, output) in tools {
        fake_tool(
            &bin,
            name,
            &format!(
                "echo \"$@\" >> '{}/{name}.args'\nprintf '%s\\n' {output:?}",
                bin.display()
            ),
        );
    }
    bin
}

#[test]
fn a_second_run_is_skipped_and_a_dead_runs_lock_is_taken_over() {
    let (_tmp, _repo, setup) = setup();
    let mut first = setup.spawn_with(&[(photos_backup::failpoint::VAR, "run-locked")]);
    setup.wait_for_output(&mut first, "paused at run-locked", Duration::from_secs(60));
    let second = setup.run(&[]);
    assert_eq!(second.code, 75, "{}{}", second.out, second.err);
    assert!(
        second.out.contains(&format!(
            "skipped: another run in progress (pid {}, since ",
            first.id()
        )),
        "{}",
        second.out
    );
    kill(first.id(), "KILL");
    let _ = first.wait();
    // The kernel released the dead run's lock.
    let third = setup.run(&[]);
    assert_eq!(third.code, 0, "{}{}", third.out, third.err);
}

#[test]
fn sigterm_releases_the_mounts_and_exits_143() {
    let server = TestServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let (_lib, mut setup) = one_photo(tmp.path(), "Vic");
    setup.set_extra(server.config_toml(setup.root()));
    // Paused where the volume is mounted: the rollover's first step.
    let repo = Repo::init(tmp.path());
    setup.push_extra(&repo.config(""));
    let mut child = setup.spawn_with(&[
        ("PHOTOS_BACKUP_NOW", "2026-10-01T06:00:00Z"),
        (photos_backup::failpoint::VAR, "rollover-planned"),
    ]);
    setup.wait_for_output(
        &mut child,
        "paused at rollover-planned",
        Duration::from_secs(60),
    );
    assert!(!server.mounts().is_empty(), "mounted while paused");
    kill(child.id(), "TERM");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "{}", setup.spawned_output());
    assert!(server.mounts().is_empty(), "{:?}", server.mounts());
    assert!(setup.spawned_output().contains("stopped by signal 15"));
    // And the next run finishes the job.
    let out = setup.run_at("2026-10-01T06:10:00Z");
    assert!(out.contains("vic: archived 2026-09"), "{out}");
}

#[test]
fn caffeinate_keeps_the_mac_awake_while_a_run_works() {
    let (tmp, _repo, setup) = setup();
    let bin = fake_tools(tmp.path(), &[("caffeinate", "")]);
    let ran = setup.run_with(&[], &[("PATH", &path_with(&bin))]);
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    let args = std::fs::read_to_string(bin.join("caffeinate.args")).unwrap();
    let words: Vec<&str> = args.split_whitespace().collect();
    assert_eq!(words[..2], ["-i", "-w"], "{args}");
    assert!(words[2].parse::<u32>().is_ok(), "{args}");
    // A dry run does not.
    std::fs::remove_file(bin.join("caffeinate.args")).unwrap();
    setup.run_with(&["--dry-run"], &[("PATH", &path_with(&bin))]);
    assert!(!bin.join("caffeinate.args").exists());
}

#[test]
fn on_battery_the_archive_waits_for_ac_power() {
    let (tmp, repo, mut setup) = setup();
    setup.push_extra("\n[run]\nonly_on_ac_power = true\n");
    let battery = fake_tools(
        &tmp.path().join("battery"),
        &[("pmset", "Now drawing from 'Battery Power'")],
    );
    setup.run_at("2026-09-25T08:00:00Z");
    let ran = setup.run_with(
        &[],
        &[
            ("PATH", &path_with(&battery)),
            ("PHOTOS_BACKUP_NOW", "2026-10-01T08:00:00Z"),
        ],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    assert!(
        ran.out.contains("rollover: una waits for AC power"),
        "{}",
        ran.out
    );
    assert!(repo.archives().is_empty());
    let ac = fake_tools(
        &tmp.path().join("ac"),
        &[("pmset", "Now drawing from 'AC Power'")],
    );
    let ran = setup.run_with(
        &[],
        &[
            ("PATH", &path_with(&ac)),
            ("PHOTOS_BACKUP_NOW", "2026-10-01T09:00:00Z"),
        ],
    );
    assert!(ran.out.contains("una: archived 2026-09"), "{}", ran.out);
    assert_eq!(
        std::fs::read_to_string(ac.join("pmset.args")).unwrap(),
        "-g batt\n"
    );
}

#[test]
fn every_run_writes_the_status_and_the_log() {
    let (_tmp, _repo, setup) = setup();
    setup.run_at("2026-09-25T08:00:00Z");
    let status = |args: &[&str]| {
        let out = setup
            .command(
                &[&["status"][..], args].concat(),
                &[("PHOTOS_BACKUP_NOW", "2026-09-25T08:10:00Z")],
            )
            .output()
            .unwrap();
        String::from_utf8(common::succeeded(out).stdout).unwrap()
    };
    let text = status(&[]);
    assert!(
        text.starts_with("Backed up as of 2026-09-25 08:00 (10 minutes ago)."),
        "{text}"
    );
    assert!(text.contains("una:\n  staged:     2 files"), "{text}");
    assert!(text.contains("archived:   no archive yet"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&status(&["--json"])).unwrap();
    assert_eq!(json["last_run"]["outcome"], "ok");
    assert_eq!(json["libraries"][0]["staged_files"], 2);

    // A failing run: the library is gone. The status says so first, and
    // keeps when the photos were last safe.
    std::fs::rename(
        setup.root().join("../Una.photoslibrary"),
        setup.root().join("../Una.moved"),
    )
    .ok();
    let config = std::fs::read_to_string(setup.config()).unwrap();
    assert!(config.contains("Una.photoslibrary"));
    let broken = setup.root().join("broken.conf");
    std::fs::write(
        &broken,
        config.replace("Una.photoslibrary", "Gone.photoslibrary"),
    )
    .unwrap();
    let ran = std::process::Command::new(env!("CARGO_BIN_EXE_photos-backup"))
        .args(["--config", broken.to_str().unwrap(), "run"])
        .env("PHOTOS_BACKUP_NOW", "2026-09-26T08:00:00Z")
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert_eq!(ran.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&status(&["--json"])).unwrap();
    assert_eq!(json["last_run"]["outcome"], "failed");
    assert_eq!(json["last_success"], "2026-09-25T08:00:00Z");
    assert!(json["last_error"]["message"]
        .as_str()
        .unwrap()
        .contains("Gone.photoslibrary"));

    let log = std::fs::read_to_string(setup.state().join("logs/photos-backup.log")).unwrap();
    assert!(log.contains("2026-09-25T08:00:00Z una: staged"), "{log}");
    assert!(log.contains("2026-09-26T08:00:00Z una: FAILED"), "{log}");
}

#[test]
fn a_failing_run_notifies_through_osascript_once() {
    let (tmp, _repo, mut setup) = setup();
    let bin = fake_tools(tmp.path(), &[("osascript", "")]);
    setup.push_extra("\n[notify]\nmethod = \"osascript\"\n");
    let mut config = std::fs::read_to_string(setup.config()).unwrap();
    config = config.replace("Una.photoslibrary", "Gone.photoslibrary");
    let broken = setup.root().join("broken.conf");
    std::fs::write(&broken, config).unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_photos-backup"))
            .args(["--config", broken.to_str().unwrap(), "run"])
            .env("PATH", path_with(&bin))
            .output()
            .unwrap()
    };
    assert_eq!(run().status.code(), Some(1));
    assert_eq!(run().status.code(), Some(1));
    let calls = std::fs::read_to_string(bin.join("osascript.args")).unwrap();
    // Once, not twice: the second failure is within repeat_after.
    assert_eq!(calls.lines().count(), 1, "{calls}");
    assert!(
        calls.contains("display notification") && calls.contains(" failure "),
        "{calls}"
    );
    assert!(calls.contains("Gone.photoslibrary"), "{calls}");
}
