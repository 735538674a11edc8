//! `photos-backup run` with the real remote stack on loopback: our own sshd,
//! SSHFS and gocryptfs. The run mounts, exports a real fixture library,
//! mirrors it, unmounts; the server holds only ciphertext and the decrypted
//! view equals staging. With the server down the run is skipped (75).

mod common;

use common::remote::TestServer;
use common::setup::{tree, Setup};
use photos_backup::remote::mount::{self, MountEnv};

/// A setup whose `[remote]` is `server`, the password in a 0600 file.
fn setup_for(server: &TestServer, library: &std::path::Path) -> Setup {
    let mut setup = Setup::new();
    setup.add_library("t", library);
    point_at(&mut setup, server);
    setup
}

/// Writes the `[remote]` of `setup` for `server` (again after a restart).
fn point_at(setup: &mut Setup, server: &TestServer) {
    setup.set_extra(server.config_toml(setup.root()));
}

/// Mounts the volume and checks that its decrypted view holds exactly the
/// staged files, byte for byte, plus the threshold file; no temp files.
fn assert_view_is_staging(server: &TestServer, setup: &Setup) {
    let remote = server.remote();
    let env = MountEnv::on(&photos_backup::host::Host::current());
    let system = photos_backup::process::System;
    let mounted = mount::ensure_mounted(&remote, &server.password(), &system, &env).unwrap();
    let mut view = tree(&mounted.plain);
    assert!(
        view.remove("date_threshold.txt").is_some(),
        "no threshold on the remote"
    );
    view.remove("error.log");
    let mut staged = tree(&setup.staging());
    staged.remove("date_threshold.txt");
    assert_eq!(
        view.keys().collect::<Vec<_>>(),
        staged.keys().collect::<Vec<_>>()
    );
    for p in staged.keys() {
        let hash = photos_backup::export::copy::hash_file;
        assert_eq!(
            hash(&mounted.plain.join(p)).unwrap(),
            hash(&setup.staging().join(p)).unwrap(),
            "{p}"
        );
    }
    mount::unmount(&remote, &system, &env).unwrap();
}

#[test]
fn a_run_mirrors_a_real_library_onto_the_encrypted_volume() {
    common::remote::require_tools();
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let server = TestServer::start();
    let library = common::library(&fixtures, "Test-10.15.7");
    let setup = setup_for(&server, &library);

    let ran = setup.run(&[]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    assert!(ran.out.contains("mirrored"), "{}", ran.out);
    // Not on a terminal: the mirror's progress is a log line, as staging's.
    let mirrored = ran
        .out
        .split("; mirrored ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("{}", ran.out));
    assert!(
        ran.err.contains(&format!("mirror: done, {mirrored})\n"))
            && ran.err.contains("staging: done, "),
        "{}\n{}",
        ran.out,
        ran.err
    );
    for text in [&ran.out, &ran.err] {
        assert!(
            !text.contains(server.password_text()),
            "the password was printed"
        );
    }
    // Unmounted afterwards.
    assert!(
        server.mounts().is_empty(),
        "left mounted: {:?}",
        server.mounts()
    );

    // The server holds ciphertext only: no name and no content of a photo.
    let staged = tree(&setup.staging());
    let sample = std::fs::read(
        setup.staging().join(
            staged
                .keys()
                .find(|p| {
                    std::path::Path::new(p)
                        .extension()
                        .is_some_and(|e| e == "jpg")
                })
                .unwrap(),
        ),
    )
    .unwrap();
    let probe = &sample[sample.len() / 2..sample.len() / 2 + 64];
    for (path, _) in tree(&server.cipher_dir()) {
        assert!(
            !path.contains("wedding") && !path.contains(".jpg") && !path.contains(".xmp"),
            "{path}"
        );
        let bytes = std::fs::read(server.cipher_dir().join(&path)).unwrap();
        assert!(
            !bytes.windows(probe.len()).any(|w| w == probe),
            "plaintext in {path}"
        );
    }

    // Decrypted, the volume holds exactly staging (and the threshold file).
    assert_view_is_staging(&server, &setup);

    // A second run: nothing to copy, nothing to mirror.
    let again = setup.run(&[]);
    assert_eq!(again.code, 0, "{}", again.err);
    assert!(!again.out.contains("mirrored"), "{}", again.out);
}

#[test]
fn with_the_server_down_the_run_is_skipped() {
    common::remote::require_tools();
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let mut server = TestServer::start();
    let setup = setup_for(&server, &common::library(&fixtures, "Test-13.0.0"));
    server.stop();
    let ran = setup.run(&[]);
    assert_eq!(ran.code, 75, "{}\n{}", ran.out, ran.err);
    assert!(ran.out.contains("skipped: off network"), "{}", ran.out);
    assert!(!setup.staging().exists(), "a skipped run staged something");
    let last = setup
        .ledger()
        .last_run()
        .unwrap()
        .expect("the skip is recorded");
    assert_eq!(last.outcome.as_deref(), Some("skipped"));
    assert!(last.summary.unwrap()["reason"]
        .as_str()
        .unwrap()
        .contains("off network"));
}

#[test]
fn a_server_lost_mid_mirror_fails_cleanly_and_the_next_run_completes() {
    common::remote::require_tools();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("Big.photoslibrary");
    let mut lib = synthetic::SyntheticLibrary::new(synthetic::Flavor::Modern);
    lib.random(120, 9, 2025..=2025).file_size(1 << 20);
    lib.write(&root).unwrap();
    let mut server = TestServer::start();
    let mut setup = setup_for(&server, &root);

    // Stop the server as soon as the mirror has written a few files.
    let mut child = setup.spawn();
    let started = std::time::Instant::now();
    loop {
        let written = walkdir::WalkDir::new(server.cipher_dir())
            .into_iter()
            .count();
        if written > 12 || started.elapsed() > std::time::Duration::from_secs(60) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the mirror could be interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.stop();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "the interrupted run must fail");
    assert!(
        server.mounts().is_empty(),
        "left mounted: {:?}",
        server.mounts()
    );

    // The server is back: the next run completes the mirror, once.
    server.restart();
    point_at(&mut setup, &server);
    let ran = setup.run(&[]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    assert_view_is_staging(&server, &setup);
}

#[test]
fn a_wrong_password_or_a_missing_secret_fails_clearly_and_mounts_nothing() {
    common::remote::require_tools();
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let server = TestServer::start();
    let setup = setup_for(&server, &common::library(&fixtures, "Test-13.0.0"));
    let pass = setup.root().join("gocryptfs.pass");
    std::fs::write(&pass, "not-the-password").unwrap();
    let ran = setup.run(&[]);
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    assert!(ran.err.to_lowercase().contains("password"), "{}", ran.err);
    assert!(!ran.err.contains("not-the-password") && !ran.out.contains("not-the-password"));
    assert!(
        server.mounts().is_empty(),
        "left mounted: {:?}",
        server.mounts()
    );

    std::fs::remove_file(&pass).unwrap();
    let ran = setup.run(&[]);
    assert_eq!(ran.code, 1, "{}", ran.err);
    assert!(
        ran.err.contains(&format!("file:{}", pass.display())),
        "names the reference: {}",
        ran.err
    );
    assert!(server.mounts().is_empty());
}
