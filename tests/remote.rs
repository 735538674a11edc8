//! The encrypted remote volume end to end, on the real stack: sshd on
//! loopback, sshfs, gocryptfs and the kernel's FUSE. The gate sees the server
//! come and go; the mounts encrypt (the server holds only ciphertext), are
//! reused rather than stacked, recover from a killed or frozen sshfs, and
//! every failure (wrong password, missing or uninitialised folder, impostor
//! host key, unknown client key, server gone, missing tool) is its own
//! error, leaves nothing mounted, and never shows the password, which no
//! process ever has in its argv.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::remote::{daemon_of, kill, processes, TestServer};
use photos_backup::host::Os;
use photos_backup::process::System;
use photos_backup::remote::mount::{self, MountEnv, MountError, Mounted};
use photos_backup::remote::mount_table::{self as mounts, FsKind};
use photos_backup::remote::network::{self, Reachability, Unreachable};
use photos_backup::secrets::Secret;

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

fn mount_err(server: &TestServer, remote: &photos_backup::config::Remote) -> MountError {
    let err = mount::ensure_mounted(remote, &server.password(), &System, &env())
        .expect_err("the mount should fail");
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains(server.password_text()),
        "the password leaked: {text}"
    );
    assert!(
        server.mounts().is_empty(),
        "left mounted after {err}: {:?}",
        server.mounts()
    );
    err
}

/// The table entries on `path`: exactly one is the only healthy answer.
fn entries_at(path: &Path) -> Vec<mounts::MountEntry> {
    mounts::read(Os::Linux, &System)
        .unwrap()
        .at(path)
        .into_iter()
        .cloned()
        .collect()
}

fn assert_mounted_once(m: &Mounted) {
    let cipher = entries_at(&m.cipher);
    assert_eq!(cipher.len(), 1, "{cipher:?}");
    assert_eq!(cipher[0].kind(), FsKind::Sshfs);
    let plain = entries_at(&m.plain);
    assert_eq!(plain.len(), 1, "{plain:?}");
    assert_eq!(plain[0].kind(), FsKind::Gocryptfs);
}

#[test]
fn the_gate_sees_the_server_and_then_not() {
    let mut server = TestServer::start();
    let reach = network::probe("127.0.0.1", server.port(), Duration::from_secs(2));
    assert!(reach.is_reachable(), "{reach:?}");

    let mut remote = server.remote();
    let dirs = photos_backup::tools::search_dirs(std::env::var_os("PATH").as_deref());
    remote.interface = Some("lo".into());
    let reach = network::gate(&remote, Os::Linux, &dirs, &System);
    assert!(
        matches!(&reach, Reachability::Reachable { interface: Some(i), .. } if i == "lo"),
        "{reach:?}"
    );
    // Loopback is not a VPN: required `utun*`, the run skips.
    remote.interface = Some("utun*".into());
    let reach = network::gate(&remote, Os::Linux, &dirs, &System);
    let Reachability::Unreachable(why @ Unreachable::Route { .. }) = reach else {
        panic!("went through lo although utun* was required: {reach:?}");
    };
    assert!(why.to_string().contains("127.0.0.1 via lo"), "{why}");

    server.stop();
    let reach = network::probe("127.0.0.1", server.port(), Duration::from_secs(2));
    let Reachability::Unreachable(why) = reach else {
        panic!("a stopped server is reachable");
    };
    assert!(why.to_string().contains("connection refused"), "{why}");
}

#[test]
fn the_server_holds_only_ciphertext_and_unmount_leaves_nothing() {
    let server = TestServer::start();
    let started = Instant::now();
    let m = mount(&server);
    let mount_time = started.elapsed();
    assert!(!m.reused && m.cleared.is_empty(), "{m:?}");
    assert_mounted_once(&m);

    let marker = b"PLAINTEXT-MARKER-0123456789-abcdefghijklmnopqrstuvwxyz-".repeat(200);
    let dir = m.plain.join("ann/2024/07/14");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Holiday Beach.heic"), &marker).unwrap();
    assert_eq!(
        std::fs::read(dir.join("Holiday Beach.heic")).unwrap(),
        marker
    );

    // Server side: names and bytes are encrypted.
    let mut files = 0;
    for entry in walkdir::WalkDir::new(server.cipher_dir()) {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy();
        assert!(
            !name.contains("Holiday") && !name.contains("2024") && name != "ann",
            "plain name on the server: {}",
            entry.path().display()
        );
        if entry.file_type().is_file() {
            files += 1;
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !bytes
                    .windows(b"PLAINTEXT-MARKER".len())
                    .any(|w| w == b"PLAINTEXT-MARKER"),
                "plaintext on the server in {}",
                entry.path().display()
            );
        }
    }
    assert!(files >= 2, "nothing written to the server");

    // While mounted, no process has the password in its argv.
    for (pid, argv) in processes() {
        assert!(
            !argv.iter().any(|a| a.contains(server.password_text())),
            "pid {pid} has the password in its argv: {argv:?}"
        );
    }

    let started = Instant::now();
    mount::unmount(&server.remote(), &System, &env()).unwrap();
    let unmount_time = started.elapsed();
    assert!(server.mounts().is_empty(), "{:?}", server.mounts());
    assert!(std::fs::read_dir(&m.plain).unwrap().next().is_none());
    // A second unmount has nothing to do.
    mount::unmount(&server.remote(), &System, &env()).unwrap();

    // Mounted again, the photo is still there.
    let again = mount(&server);
    assert_eq!(
        std::fs::read(again.plain.join("ann/2024/07/14/Holiday Beach.heic")).unwrap(),
        marker
    );
    mount::unmount(&server.remote(), &System, &env()).unwrap();
    eprintln!(
        "loopback timings: mount (sshfs + gocryptfs) {} ms, unmount {} ms",
        mount_time.as_millis(),
        unmount_time.as_millis()
    );
}

#[test]
fn a_healthy_mount_is_reused_not_stacked() {
    let server = TestServer::start();
    let first = mount(&server);
    let started = Instant::now();
    let second = mount(&server);
    eprintln!(
        "reusing healthy mounts: {} ms",
        started.elapsed().as_millis()
    );
    assert!(second.reused, "{second:?}");
    assert_eq!(
        (&first.cipher, &first.plain),
        (&second.cipher, &second.plain)
    );
    assert_mounted_once(&second);
}

#[test]
fn a_killed_sshfs_is_cleared_and_remounted() {
    let server = TestServer::start();
    let m = mount(&server);
    std::fs::write(m.plain.join("kept.jpg"), b"still here").unwrap();
    let pid = daemon_of("sshfs", &m.cipher).expect("the sshfs daemon");
    kill(pid, "KILL");

    let started = Instant::now();
    let again = mount(&server);
    eprintln!(
        "dead mount cleared and remounted: {} ms",
        started.elapsed().as_millis()
    );
    assert!(!again.reused);
    let cleared: Vec<_> = again.cleared.iter().map(|(p, _)| p.clone()).collect();
    assert!(cleared.contains(&m.cipher), "{:?}", again.cleared);
    let reason = &again
        .cleared
        .iter()
        .find(|(p, _)| *p == m.cipher)
        .unwrap()
        .1;
    // ENOTCONN, or ECONNABORTED when the kernel was still tearing the connection down.
    let reason = reason.to_lowercase();
    assert!(
        reason.contains("not connected") || reason.contains("connection abort"),
        "{reason}"
    );
    assert_mounted_once(&again);
    assert_eq!(
        std::fs::read(again.plain.join("kept.jpg")).unwrap(),
        b"still here"
    );
}

#[test]
fn a_frozen_sshfs_is_cleared_after_the_stat_timeout() {
    let server = TestServer::start();
    let m = mount(&server);
    let frozen = daemon_of("sshfs", &m.cipher).expect("the sshfs daemon");
    kill(frozen, "STOP");

    let env = MountEnv {
        stat_timeout: Duration::from_millis(500),
        ..env()
    };
    let started = Instant::now();
    let again = mount::ensure_mounted(&server.remote(), &server.password(), &System, &env);
    let took = started.elapsed();
    // The frozen daemon goes, whatever happened, so no request stays stuck on it.
    kill(frozen, "KILL");
    let again = again.unwrap();
    eprintln!("hung mount cleared and remounted: {} ms", took.as_millis());
    assert!(!again.reused);
    assert!(
        again
            .cleared
            .iter()
            .any(|(p, why)| *p == m.cipher && why.contains("hung")),
        "{:?}",
        again.cleared
    );
    assert_mounted_once(&again);
    std::fs::write(again.plain.join("after.jpg"), b"ok").unwrap();
}

#[test]
fn a_wrong_password_is_named_and_leaves_nothing_mounted() {
    let server = TestServer::start();
    let wrong = Secret::new(format!("{}-wrong", server.password_text()));
    let err = mount::ensure_mounted(&server.remote(), &wrong, &System, &env())
        .expect_err("a wrong password mounts");
    let text = format!("{err} {err:?}");
    assert!(matches!(err, MountError::WrongPassword { .. }), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");
    assert!(
        !text.contains(server.password_text()) && !text.contains(wrong.expose()),
        "{text}"
    );
    assert!(server.mounts().is_empty(), "{:?}", server.mounts());
}

#[test]
fn a_missing_or_uninitialised_cipher_folder_is_named() {
    let server = TestServer::start();
    let mut remote = server.remote();
    let missing = server.root().join("server/nope");
    remote.dir = missing.display().to_string();
    let err = mount_err(&server, &remote);
    assert!(matches!(err, MountError::RemoteDirMissing { .. }), "{err}");
    assert!(err.to_string().contains(&remote.dir), "{err}");

    let empty = server.root().join("server/empty");
    std::fs::create_dir_all(&empty).unwrap();
    remote.dir = empty.display().to_string();
    let err = mount_err(&server, &remote);
    assert!(matches!(err, MountError::NotCipherDir { .. }), "{err}");
    assert!(err.to_string().contains("gocryptfs.conf"), "{err}");
}

#[test]
fn an_impostor_or_unknown_host_key_is_refused() {
    let server = TestServer::start();
    server.forge_known_hosts();
    let err = mount_err(&server, &server.remote());
    assert!(matches!(err, MountError::HostKeyChanged { .. }), "{err}");
    assert!(err.to_string().contains("known_hosts"), "{err}");

    std::fs::write(server.root().join("client/known_hosts"), "").unwrap();
    let err = mount_err(&server, &server.remote());
    assert!(matches!(err, MountError::HostKeyUnknown { .. }), "{err}");
}

#[test]
fn an_unknown_client_key_is_refused() {
    let server = TestServer::start();
    let mut remote = server.remote();
    remote.identity_file = Some(server.foreign_identity());
    let err = mount_err(&server, &remote);
    assert!(matches!(err, MountError::Auth { .. }), "{err}");
    assert!(err.to_string().contains("root@127.0.0.1"), "{err}");
}

#[test]
fn a_stopped_server_is_named_unreachable() {
    let mut server = TestServer::start();
    server.stop();
    let err = mount_err(&server, &server.remote());
    assert!(matches!(err, MountError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("Connection refused"), "{err}");
}

#[test]
fn a_missing_tool_is_named() {
    let server = TestServer::start();
    let mut remote = server.remote();
    remote.gocryptfs = Some("/nonexistent/gocryptfs".into());
    let err = mount_err(&server, &remote);
    assert_eq!(
        err.to_string(),
        "gocryptfs not found at /nonexistent/gocryptfs (remote.gocryptfs in the config)"
    );
}

#[test]
fn paths_with_spaces_and_commas_work() {
    let server = TestServer::start();
    let mut remote = server.remote();
    let odd = server
        .root()
        .join("client/keys, with \"quotes\" and spaces");
    std::fs::create_dir_all(&odd).unwrap();
    for name in ["id_ed25519", "known_hosts"] {
        std::fs::copy(server.root().join("client").join(name), odd.join(name)).unwrap();
    }
    remote.identity_file = Some(odd.join("id_ed25519"));
    remote.known_hosts = Some(odd.join("known_hosts"));
    remote.cipher_mount = server.root().join("mnt/cipher, raw");
    remote.plain_mount = server.root().join("mnt/Photos Backup");
    let m = mount::ensure_mounted(&remote, &server.password(), &System, &env())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_mounted_once(&m);
    assert!(m.plain.ends_with("Photos Backup"));
    let again = mount::ensure_mounted(&remote, &server.password(), &System, &env()).unwrap();
    assert!(again.reused, "{again:?}");
    mount::unmount(&remote, &System, &env()).unwrap();
    assert!(server.mounts().is_empty(), "{:?}", server.mounts());
}
