//! A notification that never returns cannot hold a run, or its lock: the
//! real binary with a fake `osascript` on `PATH` that hangs forever (as it
//! does when macOS shows a dialog nobody answers under launchd). The run
//! ends within the notification's bound with its own exit code, the hung
//! program is killed, the failure is recorded in `status.json`, and the
//! next run takes the lock.

mod common;

use std::path::Path;

use common::timeline::one_photo;
use common::tools::{assert_ended, fake_tool, path_with};

fn hanging_osascript(dir: &Path) -> std::path::PathBuf {
    let bin = dir.join("fakebin");
    fake_tool(
        &bin,
        "osascript",
        &format!(
            "echo $$ >> '{}/osascript.pids'\nexec sleep 3600",
            bin.display()
        ),
    );
    bin
}

#[test]
fn an_osascript_that_never_returns_cannot_hold_the_run_or_its_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let (_lib, mut setup) = one_photo(tmp.path(), "Una");
    setup.push_extra("\n[notify]\nmethod = \"osascript\"\n");
    // A library that is gone: the run fails, so it notifies.
    let config = std::fs::read_to_string(setup.config())
        .unwrap()
        .replace("Una.photoslibrary", "Gone.photoslibrary");
    let broken = setup.root().join("broken.conf");
    std::fs::write(&broken, config).unwrap();
    let bin = hanging_osascript(tmp.path());
    let path = path_with(&bin);
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_photos-backup"))
            .args(["--config", broken.to_str().unwrap(), "run"])
            .env("PATH", &path)
            .output()
            .unwrap()
    };

    let first = run();
    let err = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(1), "{err}");
    assert!(
        err.contains("warning: notification") && err.contains("osascript"),
        "{err}"
    );
    // The hung program was killed, not left behind (SIGKILL takes effect
    // a moment later on a loaded machine: a grace of seconds, not the hour
    // it would sleep).
    let pids = std::fs::read_to_string(bin.join("osascript.pids")).unwrap();
    for pid in pids.lines() {
        assert_ended(pid.parse().unwrap(), "osascript");
    }
    // The failure is recorded.
    let status = std::fs::read_to_string(setup.state().join("status.json")).unwrap();
    assert!(status.contains("\"failed\""), "{status}");
    // The lock was released: the next run is not skipped (75), it fails again.
    assert_eq!(run().status.code(), Some(1));
}
