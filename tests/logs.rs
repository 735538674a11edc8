//! Logs that tell the truth, through the real binary: a run rotates the
//! LaunchAgent's own output files (launchd opens them at each launch and
//! never rotates them) by the run log's rule, `status` says where the run
//! log is, in its text and in `status --json`, and a `borg create` (real
//! borg) says how far it got in the log while it works, its result the
//! same as ever.

mod common;

use common::borg::require_borg;
use common::setup::Setup;
use common::timeline::{archived, september};

/// The agent's log folder under `home` (`launchd::log_dir`).
fn agent_logs(home: &std::path::Path) -> std::path::PathBuf {
    home.join("Library/Logs/photos-backup")
}

#[test]
fn a_run_rotates_the_agent_output_files_once_full_and_status_names_the_log() {
    let mut setup = Setup::new();
    // A library that is not there: the run fails, quickly, and says so.
    let gone = setup.root().join("nowhere.photoslibrary");
    setup.add_library("gone", &gone);
    let home = setup.root().join("home");
    let logs = agent_logs(&home);
    std::fs::create_dir_all(&logs).unwrap();
    // One over the size, one under: the run log's limit (1 MiB).
    let full = "x".repeat((1 << 20) + 1);
    std::fs::write(logs.join("launchd.err.log"), &full).unwrap();
    std::fs::write(logs.join("launchd.out.log"), "a line\n").unwrap();
    let home_env = home.to_str().unwrap();

    let ran = setup.run_with(&[], &[("HOME", home_env)]);
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    assert_eq!(
        std::fs::read_to_string(logs.join("launchd.err.log.1")).unwrap(),
        full
    );
    assert!(!logs.join("launchd.err.log").exists());
    assert_eq!(
        std::fs::read_to_string(logs.join("launchd.out.log")).unwrap(),
        "a line\n"
    );
    assert!(!logs.join("launchd.out.log.1").exists());

    // The run log (the config's log folder: STATE/logs here) is named.
    let log = setup.state().join("logs/photos-backup.log");
    assert!(log.exists());
    let status = setup
        .command(&["status"], &[("HOME", home_env)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("Log:") && l.ends_with(&log.display().to_string())),
        "{text}"
    );
    let json = setup
        .command(&["status", "--json"], &[("HOME", home_env)])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["log"], log.display().to_string());
    // status.json itself carries it, for whoever reads the file.
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(setup.state().join("status.json")).unwrap()).unwrap();
    assert_eq!(file["log"], log.display().to_string());
}

#[test]
fn a_long_borg_create_logs_its_progress_and_archives_the_same() {
    require_borg();
    // 200 MB in five photos: long enough for borg to report as it reads.
    let (_tmp, repo, _lib, setup) = september(5, 40_000_000, "");
    let out = setup.run_at("2026-10-01T00:05:00Z");
    let archive = "photos-kim-2026-09";
    assert!(out.contains(&format!("into {archive}: 10 files")), "{out}");
    let log = std::fs::read_to_string(setup.state().join("logs/photos-backup.log")).unwrap();
    let progress: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(&format!("archiving {archive}: ")))
        .collect();
    assert!(!progress.is_empty(), "no progress line:\n{log}");
    for line in &progress {
        // Sizes for people, of the known total.
        assert!(line.contains(" MB of 200.0 MB ("), "{line}");
    }
    // Not a record per file or per fraction of a second: a few lines.
    assert!(progress.len() <= 4, "{progress:?}");
    // The archive is what it always was: every file, as the ledger says.
    let by_archive = archived(&setup, &repo, "kim");
    assert_eq!(by_archive[archive].len(), 5, "{by_archive:?}");
    assert_eq!(repo.archives(), [archive]);
}
