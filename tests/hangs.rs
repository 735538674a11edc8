//! Fakes on `PATH` (or in the config) for every hang a real Mac can meet,
//! through the real binary: an `sshfs` that mounts and then stays in the
//! foreground (sshfs 3.7.6 with macFUSE 5.3.3), a `borg create` that never
//! returns, and a notification command that never returns. Each run ends
//! within its bound with the failure code, its hung children killed, nothing
//! left mounted, nothing purged, the failure in `status.json` and notified,
//! and the next run takes the lock and does the job. What is checked is read
//! from the harness's side: the process table, `/proc/self/mountinfo`,
//! `status.json` and the notification record.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::borg::require_borg;
use common::ends_within;
use common::remote::{processes, require_fusectl, TestServer};
use common::setup::Setup;
use common::timeline::{archived, one_photo, september, staged_files, threshold};
use common::tools::{fake_tool, path_with, real_tool};

const OCTOBER: &str = "2026-10-01T00:05:00Z";

/// The pids a fake wrote to `pids`; asserts there is at least one.
fn pids_in(pids: &Path) -> Vec<u32> {
    let text = std::fs::read_to_string(pids)
        .unwrap_or_else(|e| panic!("{}: the fake never ran: {e}", pids.display()));
    let found: Vec<u32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
    assert!(!found.is_empty(), "{}: no pid", pids.display());
    found
}

/// True while `pid` is a live process (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next().map(|st| st != "Z"))
        })
        .unwrap_or(false)
}

/// The process group of `pid` (from `/proc/PID/stat`).
fn group_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

/// Asserts that no process the fake recorded in `pids` still runs, nor
/// any of its process group (sshfs's ssh, say).
fn assert_all_ended(pids: &Path) {
    let recorded = pids_in(pids);
    for pid in &recorded {
        assert!(!alive(*pid), "{} (pid {pid}) still runs", pids.display());
    }
    for (pid, args) in processes() {
        let in_group = group_of(pid).is_some_and(|g| recorded.contains(&g));
        assert!(
            !(in_group && alive(pid)),
            "{pid} {args:?} of the fake's group still runs"
        );
    }
}

/// Mount points under `root`, read from `/proc/self/mountinfo` directly.
fn mounts_under(root: &Path) -> Vec<String> {
    let root = std::fs::canonicalize(root).unwrap();
    let root = root.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_owned))
        .filter(|point| point.starts_with(&root))
        .collect()
}

fn status_json(setup: &Setup) -> serde_json::Value {
    let text = std::fs::read_to_string(setup.state().join("status.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `status.json` says the last run failed, and `detail` is in its detail.
fn assert_failure_recorded(setup: &Setup, detail: &str) {
    let status = status_json(setup);
    let text = status.to_string();
    assert!(text.contains("\"failed\""), "{text}");
    assert!(text.contains(detail), "{detail:?} not in {text}");
}

/// A run whose `sshfs` (first on `PATH`) mounts, then stays in the
/// foreground, as sshfs 3.7.6 does under macFUSE 5.3.3: the real sshfs
/// with `-f`. With `run_section` in the config, the run ends (within
/// `bound`) with the failure code, having said `says`; nothing of sshfs is
/// left, no mount, the failure is recorded and notified, and the next run,
/// with the real sshfs, works.
fn an_sshfs_in_the_foreground(run_section: &str, bound: Duration, says: &str) {
    require_fusectl();
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let (_lib, mut setup) = one_photo(tmp.path(), "Una");
    let pids = tmp.path().join("fakebin/sshfs.pids");
    let sshfs = fake_tool(
        &tmp.path().join("fakebin"),
        "sshfs",
        &format!(
            "echo $$ >> '{}'\nexec '{}' -f \"$@\"",
            pids.display(),
            real_tool("sshfs", "sshfs").display()
        ),
    );
    let path = path_with(sshfs.parent().unwrap());
    let remote = server.config_toml(setup.root());
    setup.set_extra(format!("{remote}{run_section}"));
    let notified = setup.notify_log();

    let mut child = setup.spawn_with(&[
        ("PHOTOS_BACKUP_NOW", "2026-09-20T06:00:00Z"),
        ("PATH", &path),
    ]);
    // The hang is after the mount: it must show up, then go.
    let mut mounted = false;
    let deadline = Instant::now() + bound;
    let code = loop {
        mounted |= !mounts_under(server.root()).is_empty();
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let said = setup.spawned_output();
    assert_eq!(code.and_then(|c| c.code()), Some(1), "{said}");
    assert!(said.contains(says), "{said}");
    assert!(mounted, "the fake sshfs never mounted: {said}");
    assert_all_ended(&pids);
    assert_eq!(mounts_under(setup.root()), Vec::<String>::new());
    assert_eq!(mounts_under(server.root()), Vec::<String>::new());
    assert_failure_recorded(&setup, says);
    let sent = std::fs::read_to_string(&notified).unwrap();
    assert!(
        sent.starts_with("failure|") && sent.contains(says),
        "{sent}"
    );

    // The next run, with the real sshfs, takes the lock and mirrors.
    setup.set_extra(remote);
    setup.notify_log();
    let out = setup.run_at("2026-09-20T06:10:00Z");
    assert!(out.contains("mounted on"), "{out}");
    assert_eq!(mounts_under(setup.root()), Vec::<String>::new(), "{out}");
    let sent = std::fs::read_to_string(&notified).unwrap();
    assert!(
        sent.lines()
            .last()
            .is_some_and(|l| l.starts_with("recovered|")),
        "{sent}"
    );
}

#[test]
fn an_sshfs_in_the_foreground_is_stopped_by_the_run_deadline() {
    an_sshfs_in_the_foreground(
        "[run]\ndeadline_seconds = 5\narchive_deadline_seconds = 5\n",
        Duration::from_secs(90),
        "deadline of 5 s",
    );
}

/// The mount's own bound (60 s, not configurable) with the default deadline.
#[test]
fn an_sshfs_in_the_foreground_is_stopped_by_the_mount_timeout() {
    an_sshfs_in_the_foreground("", Duration::from_secs(180), "sshfs");
}

/// A run whose `borg create` hangs as `on_create` (a shell snippet, `$real`
/// the real borg, `$pids` the file for the pids) makes it: stopped at the
/// archive's deadline, its borg gone, nothing purged, the threshold
/// unmoved, the failure recorded and notified; the next run, with the real
/// borg, archives the month.
fn a_hanging_borg_create(on_create: &str) {
    require_borg();
    let bin = tempfile::tempdir().unwrap();
    let pids = bin.path().join("fakebin/borg.pids");
    // Everything but `create` is the real borg.
    let borg = fake_tool(
        &bin.path().join("fakebin"),
        "borg",
        &format!(
            "real='{}'\npids='{}'\nfor a in \"$@\"; do\n  if [ \"$a\" = create ]; then\n{on_create}\n  fi\ndone\nexec \"$real\" \"$@\"",
            real_tool("borg", "borgbackup").display(),
            pids.display(),
        ),
    );
    let (_tmp, repo, _lib, mut setup) =
        september(3, 1000, &format!("borg = {:?}", borg.display().to_string()));
    let notified = setup.notify_log();
    setup.push_extra("\n[run]\ndeadline_seconds = 3\narchive_deadline_seconds = 4\n");
    let before = staged_files(&setup);
    assert!(!before.is_empty());

    let mut child = setup.spawn_with(&[("PHOTOS_BACKUP_NOW", OCTOBER)]);
    let code = ends_within(&mut child, Duration::from_secs(90));
    let said = setup.spawned_output();
    assert_eq!(code.and_then(|c| c.code()), Some(1), "{said}");
    // The archive's deadline applied, not the run's.
    assert!(said.contains("deadline of 4 s"), "{said}");
    assert_all_ended(&pids);
    assert_eq!(staged_files(&setup), before, "nothing purged");
    assert_eq!(threshold(&setup), "2026-09-01");
    assert_eq!(repo.archives(), Vec::<String>::new());
    assert_failure_recorded(&setup, "deadline");
    let sent = std::fs::read_to_string(&notified).unwrap();
    assert!(
        sent.starts_with("failure|") && sent.contains("deadline"),
        "{sent}"
    );

    // The next run, with the real borg, takes the lock and archives.
    setup.set_extra(repo.config(""));
    setup.push_extra(&format!(
        "\n[notify]\ncommand = [{:?}]\n",
        setup.root().join("notify.sh").display().to_string()
    ));
    setup.run_at("2026-10-01T01:00:00Z");
    assert_eq!(repo.archives(), ["photos-kim-2026-09"]);
    assert_eq!(
        archived(&setup, &repo, "kim")["photos-kim-2026-09"].len(),
        3
    );
    assert_eq!(staged_files(&setup), Vec::<String>::new());
    assert_eq!(threshold(&setup), "2026-10-01");
    let sent = std::fs::read_to_string(&notified).unwrap();
    assert!(
        sent.lines()
            .last()
            .is_some_and(|l| l.starts_with("recovered|")),
        "{sent}"
    );
}

#[test]
fn a_borg_create_that_never_returns_is_stopped_and_purges_nothing() {
    a_hanging_borg_create("echo $$ >> \"$pids\"; exec sleep 3600");
}

#[test]
fn a_notification_command_that_never_returns_cannot_hold_the_run_or_its_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let (lib, mut setup) = one_photo(tmp.path(), "Una");
    let pids = tmp.path().join("fakebin/notify.pids");
    let hang = fake_tool(
        &tmp.path().join("fakebin"),
        "notify",
        &format!("echo $$ >> '{}'\nexec sleep 3600", pids.display()),
    );
    setup.set_extra(format!(
        "\n[run]\ndeadline_seconds = 3\narchive_deadline_seconds = 3\n\
         [notify]\ncommand = [{:?}]\n",
        hang.display().to_string()
    ));
    // A library that is gone: the run fails, so it notifies.
    std::fs::rename(&lib.path, tmp.path().join("away")).unwrap();

    let mut child = setup.spawn_with(&[("PHOTOS_BACKUP_NOW", "2026-09-20T06:00:00Z")]);
    // Well under the command's own 60 s: the run's deadline holds it.
    let code = ends_within(&mut child, Duration::from_secs(30));
    let said = setup.spawned_output();
    assert_eq!(code.and_then(|c| c.code()), Some(1), "{said}");
    assert_all_ended(&pids);
    // The run was stopped in its notification, at its deadline.
    assert!(said.contains("deadline of 3 s"), "{said}");
    assert_failure_recorded(&setup, "deadline");
    // The lock is free: the next run, library back, is not skipped.
    std::fs::rename(tmp.path().join("away"), &lib.path).unwrap();
    setup.set_extra("");
    let mut next = setup.spawn_with(&[("PHOTOS_BACKUP_NOW", "2026-09-20T06:10:00Z")]);
    let code = ends_within(&mut next, Duration::from_secs(30));
    let said = setup.spawned_output();
    assert_eq!(code.and_then(|c| c.code()), Some(0), "{said}");
    assert!(!staged_files(&setup).is_empty(), "{said}");
}
