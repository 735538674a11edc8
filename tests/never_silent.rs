//! A backup that stops is never silent: a run lock held longer than any run
//! may take is a failure (exit 1, notified, named in `status`), not one more
//! silent skip; a stretch of skips longer than `skip_alert_hours` notifies
//! once; a run past its deadline is stopped, its mounts released, and the
//! failure recorded and notified; and SIGTERM while the mounts hang still
//! ends the run in bounded time, with nothing left mounted.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::borg::Repo;
use common::ends_within;
use common::remote::{daemon_of, kill, require_fusectl, TestServer};
use common::setup::Setup;
use common::timeline::one_photo;

fn library(tmp: &Path) -> Setup {
    one_photo(tmp, "Una").1
}

/// Another process holds the run lock, its file saying `pid since`; in a
/// process group of its own, for [`release`].
fn hold_lock(setup: &Setup, since: &str) -> Child {
    use std::os::unix::process::CommandExt;
    std::fs::create_dir_all(setup.state()).unwrap();
    let lock = setup.state().join("run.lock");
    let holder = Command::new("flock")
        .arg(&lock)
        .args(["sleep", "600"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    std::fs::write(&lock, format!("{} {since}\n", holder.id())).unwrap();
    // Until flock has it, a run would take it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while Command::new("flock")
        .args(["-n", "-E", "9"])
        .arg(&lock)
        .arg("true")
        .status()
        .unwrap()
        .code()
        != Some(9)
    {
        assert!(Instant::now() < deadline, "flock never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    holder
}

/// Ends the holder and the `sleep` that has the lock with it, and waits
/// until the kernel has let the lock go.
fn release(setup: &Setup, mut holder: Child) {
    photos_backup::process::kill_group(holder.id());
    holder.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Command::new("flock")
        .arg("-n")
        .arg(setup.state().join("run.lock"))
        .arg("true")
        .status()
        .unwrap()
        .success()
    {
        assert!(Instant::now() < deadline, "the lock was never let go");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn status_text(setup: &Setup, now: &str) -> String {
    let out = setup
        .command(&["status"], &[("PHOTOS_BACKUP_NOW", now)])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_lock_held_past_the_longest_run_is_a_failure_not_a_skip() {
    let tmp = tempfile::tempdir().unwrap();
    let mut setup = library(tmp.path());
    let notified = setup.notify_log();
    setup.push_extra("\n[run]\ndeadline_seconds = 600\narchive_deadline_seconds = 1800\n");
    let holder = hold_lock(&setup, "2026-09-20T10:00:00Z");
    let pid = holder.id();

    // Within the longest run (30 min): a skip, as ever.
    let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-09-20T10:20:00Z")]);
    assert_eq!(ran.code, 75, "{}{}", ran.out, ran.err);
    assert!(!notified.exists(), "a skip notified");

    // Past it: the holder is stuck; a failure, said and notified.
    let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-09-20T10:31:00Z")]);
    assert_eq!(ran.code, 1, "{}{}", ran.out, ran.err);
    let named = format!("pid {pid}, since 2026-09-20T10:00:00Z");
    assert!(ran.err.contains(&named), "{}", ran.err);
    let status = status_text(&setup, "2026-09-20T10:32:00Z");
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("ATTENTION") && l.contains(&named)),
        "{status}"
    );
    let sent = std::fs::read_to_string(&notified).unwrap();
    assert!(
        sent.starts_with("failure|") && sent.contains(&named),
        "{sent}"
    );

    // The holder gone, the kernel frees the lock: the next run works.
    release(&setup, holder);
    let out = setup.run_at("2026-09-20T10:40:00Z");
    assert!(out.contains("una: staged 2 files"), "{out}");
}

#[test]
fn skips_that_go_on_too_long_notify_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mut setup = library(tmp.path());
    let notified = setup.notify_log();
    // Runs may last 10 days here, so the held lock stays a plain skip.
    setup.push_extra(
        "\n[run]\ndeadline_seconds = 864000\narchive_deadline_seconds = 864000\nskip_alert_hours = 72\n",
    );
    let holder = hold_lock(&setup, "2026-09-20T10:00:00Z");
    let skip_at = |now: &str| {
        let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", now)]);
        assert_eq!(ran.code, 75, "{now}: {}{}", ran.out, ran.err);
    };
    skip_at("2026-09-20T10:05:00Z");
    skip_at("2026-09-23T10:00:00Z");
    assert!(!notified.exists(), "notified before 72 hours");
    skip_at("2026-09-23T10:10:00Z");
    let sent = std::fs::read_to_string(&notified).unwrap();
    assert_eq!(sent.lines().count(), 1, "{sent}");
    assert!(
        sent.starts_with("warning|no backup since 2026-09-20T10:05:00Z"),
        "{sent}"
    );
    skip_at("2026-09-25T10:00:00Z");
    assert_eq!(
        std::fs::read_to_string(&notified).unwrap().lines().count(),
        1,
        "said twice"
    );
    // A run that goes through ends the stretch.
    release(&setup, holder);
    setup.run_at("2026-09-25T10:05:00Z");
    assert!(!setup.state().join("skips.json").exists());
}

/// A run with the remote stack and borg, paused where both are mounted.
fn paused_remote_run(
    tmp: &Path,
    server: &TestServer,
    run_section: &str,
) -> (Setup, Child, std::path::PathBuf, Repo) {
    require_fusectl();
    let mut setup = library(tmp);
    setup.set_extra(server.config_toml(setup.root()));
    let repo = Repo::init(tmp);
    setup.push_extra(&repo.config(""));
    let notified = setup.notify_log();
    setup.push_extra(run_section);
    let mut child = setup.spawn_with(&[
        ("PHOTOS_BACKUP_NOW", "2026-10-01T06:00:00Z"),
        (photos_backup::failpoint::VAR, "rollover-planned"),
    ]);
    setup.wait_for_output(
        &mut child,
        "paused at rollover-planned",
        Duration::from_secs(60),
    );
    (setup, child, notified, repo)
}

#[test]
fn a_run_past_its_deadline_is_stopped_released_and_notified() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let short = "\n[run]\ndeadline_seconds = 4\narchive_deadline_seconds = 4\n";
    let (mut setup, mut child, notified, _repo) = paused_remote_run(tmp.path(), &server, short);
    // And the SSHFS under it freezes: the release must not hang on it.
    let cipher = server.remote().cipher_mount;
    let sshfs = daemon_of("sshfs", &cipher);
    if let Some(pid) = sshfs {
        kill(pid, "STOP");
    }
    let code = ends_within(&mut child, Duration::from_secs(120));
    if let Some(pid) = sshfs {
        kill(pid, "CONT");
        kill(pid, "KILL");
    }
    assert_eq!(
        code.and_then(|c| c.code()),
        Some(1),
        "{}",
        setup.spawned_output()
    );
    assert!(
        setup.spawned_output().contains("deadline of 4 s"),
        "{}",
        setup.spawned_output()
    );
    assert!(server.mounts().is_empty(), "{:?}", server.mounts());
    let sent = std::fs::read_to_string(&notified).unwrap();
    assert!(
        sent.starts_with("failure|") && sent.contains("deadline"),
        "{sent}"
    );
    let status = status_text(&setup, "2026-10-01T06:05:00Z");
    assert!(
        status.contains("ATTENTION: the last run failed: the run did not finish"),
        "{status}"
    );
    // The next run, with the default deadlines (4 s is too short for a whole
    // rollover on a busy machine), mounts afresh and finishes the job.
    setup.set_extra(setup.extra().replace(short, ""));
    let out = setup.run_at("2026-10-01T06:10:00Z");
    assert!(out.contains("una: archived 2026-09"), "{out}");
}

#[test]
fn sigterm_while_the_mounts_hang_still_ends_and_releases() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let (setup, mut child, _, _repo) = paused_remote_run(tmp.path(), &server, "");
    let sshfs = daemon_of("sshfs", &server.remote().cipher_mount).expect("the sshfs daemon");
    kill(sshfs, "STOP");
    kill(child.id(), "TERM");
    let code = ends_within(&mut child, Duration::from_secs(60));
    kill(sshfs, "CONT");
    kill(sshfs, "KILL");
    assert_eq!(
        code.and_then(|c| c.code()),
        Some(143),
        "{}",
        setup.spawned_output()
    );
    assert!(server.mounts().is_empty(), "{:?}", server.mounts());
    let out = setup.run_at("2026-10-01T06:10:00Z");
    assert!(out.contains("una: archived 2026-09"), "{out}");
}
