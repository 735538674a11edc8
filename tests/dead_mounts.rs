//! Every dead state the FUSE stack (gocryptfs above SSHFS) can be left in,
//! on the real stack: a dead decrypted view over a live SSHFS, a dead SSHFS
//! under a live view, both dead (mount points that answer "Transport
//! endpoint is not connected" with no daemon behind them), and a process
//! stuck on a frozen daemon. After each, the next mount clears what is
//! there and mounts once, never stacked; and releasing by force wakes a
//! process blocked in the dead mount, which a plain unmount cannot.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::remote::{daemon_of, kill, require_fusectl, TestServer};
use photos_backup::host::Os;
use photos_backup::process::System;
use photos_backup::remote::mount::{self, MountEnv, Mounted};
use photos_backup::remote::mount_table as mounts;

fn env() -> MountEnv {
    MountEnv {
        stat_timeout: Duration::from_secs(2),
        mount_timeout: Duration::from_secs(30),
        ..MountEnv::on(&photos_backup::host::Host::current())
    }
}

fn mount(server: &TestServer) -> Mounted {
    mount::ensure_mounted(&server.remote(), &server.password(), &System, &env())
        .unwrap_or_else(|e| panic!("mount failed: {e}"))
}

fn count_at(path: &Path) -> usize {
    mounts::read(Os::Linux, &System).unwrap().at(path).len()
}

/// Kills `which` daemons of a mounted stack, then mounts again: the dead
/// ones are cleared, the stack is mounted once, and the data is there.
fn dies_then_remounts(which: &[&str]) {
    require_fusectl();
    let server = TestServer::start();
    let m = mount(&server);
    std::fs::write(m.plain.join("kept.jpg"), b"still here").unwrap();
    for program in which {
        let point = if *program == "sshfs" {
            &m.cipher
        } else {
            &m.plain
        };
        let pid = daemon_of(program, point).unwrap_or_else(|| panic!("no {program} daemon"));
        kill(pid, "KILL");
    }
    std::thread::sleep(Duration::from_millis(200));
    let again = mount(&server);
    assert!(!again.reused, "{which:?} dead, yet reused");
    let cleared: Vec<_> = again.cleared.iter().map(|(p, _)| p.clone()).collect();
    // A dead SSHFS takes the view above it down, so both are redone then.
    assert!(cleared.contains(&m.plain), "{which:?}: {:?}", again.cleared);
    assert_eq!(
        count_at(&again.cipher),
        1,
        "{which:?}: cipher stacked or gone"
    );
    assert_eq!(count_at(&again.plain), 1, "{which:?}: view stacked or gone");
    assert_eq!(
        std::fs::read(again.plain.join("kept.jpg")).unwrap(),
        b"still here"
    );
    mount::unmount(&server.remote(), &System, &env()).unwrap();
    assert!(server.mounts().is_empty(), "{:?}", server.mounts());
}

#[test]
fn a_dead_view_over_a_live_sshfs_is_cleared() {
    dies_then_remounts(&["gocryptfs"]);
}

#[test]
fn a_dead_sshfs_under_a_live_view_is_cleared() {
    dies_then_remounts(&["sshfs"]);
}

#[test]
fn both_dead_with_no_daemon_left_are_cleared() {
    dies_then_remounts(&["gocryptfs", "sshfs"]);
}

/// A process blocked in the view of a frozen stack (SIGSTOP of sshfs: the
/// daemon lives but never answers) is woken by `release_now`, which aborts
/// the FUSE connections before unmounting; nothing is left mounted.
#[test]
fn releasing_by_force_wakes_a_process_stuck_in_a_frozen_mount() {
    require_fusectl();
    let server = TestServer::start();
    let m = mount(&server);
    std::fs::write(m.plain.join("a.jpg"), b"data").unwrap();
    let sshfs = daemon_of("sshfs", &m.cipher).expect("the sshfs daemon");
    kill(sshfs, "STOP");
    // A reader of a file it has not seen yet: gocryptfs must ask SSHFS.
    let mut stuck = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cat {}/b.jpg; ls {}",
            m.plain.display(),
            m.plain.display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        stuck.try_wait().unwrap().is_none(),
        "the reader was not stuck"
    );

    let started = Instant::now();
    let released = mount::release_now(&server.remote(), &System, &env());
    let took = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ended = None;
    while ended.is_none() && Instant::now() < deadline {
        ended = stuck.try_wait().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(sshfs, "CONT");
    kill(sshfs, "KILL");
    if ended.is_none() {
        let _ = stuck.kill();
    }
    released.unwrap_or_else(|e| panic!("release failed: {e}"));
    assert!(
        ended.is_some(),
        "the reader is still stuck after release_now"
    );
    assert!(server.mounts().is_empty(), "{:?}", server.mounts());
    eprintln!("frozen stack released in {} ms", took.as_millis());
}
