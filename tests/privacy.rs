//! Nothing a run writes is readable by another user: with the usual umask
//! 022, every folder and file it creates (staging, its temp files, the
//! state dir with ledger, status, lock and logs) is owner-only; an older,
//! world-readable installation is tightened once, with a line saying so; a
//! state or staging folder others can write to is refused; the borg archive
//! keeps the owner-only modes (what a restore gives back). As root, a second
//! local user is created and must fail to read a staged photo, the ledger
//! and the log.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::borg::Repo;
use common::setup::Setup;
use common::timeline::{photo, Growing};
use common::utc;

/// The test process (and so the runs it starts) gets the usual umask.
fn usual_umask() {
    rustix::process::umask(rustix::fs::Mode::WGRP | rustix::fs::Mode::WOTH);
}

/// A library `kim` with two September photos, staged once.
fn staged_once(tmp: &Path, extra: &str) -> Setup {
    let mut lib = Growing::new(tmp, "Kim");
    lib.add(photo(1, utc(2026, 9, 3), utc(2026, 9, 3)))
        .add(photo(2, utc(2026, 9, 4), utc(2026, 9, 4)));
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("kim", &lib.path);
    setup.set_threshold("2026-09-01");
    setup.set_extra(extra);
    setup
}

/// Every path under `root` (itself included) with its mode.
fn modes(root: &Path) -> Vec<(String, u32)> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .map(|e| {
            let mode = e.path().symlink_metadata().unwrap().mode() & 0o7777;
            (e.path().display().to_string(), mode)
        })
        .collect()
}

fn assert_owner_only(root: &Path) -> usize {
    let all = modes(root);
    for (path, mode) in &all {
        let want = if Path::new(path).is_dir() {
            0o700
        } else {
            0o600
        };
        assert_eq!(*mode, want, "{path} has mode {mode:o}");
    }
    all.len()
}

#[test]
fn everything_a_run_creates_is_owner_only_with_umask_022() {
    usual_umask();
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let setup = staged_once(tmp.path(), &repo.config(""));
    setup.run_at("2026-09-29T08:00:00Z");
    // Staging, ledger, status, lock, logs, threshold: all owner-only.
    assert!(assert_owner_only(&setup.staging()) >= 8);
    let state = assert_owner_only(&setup.state());
    assert!(state >= 5, "state dir, ledger, status, lock, logs");
    for name in [
        "ledger.sqlite",
        "status.json",
        "run.lock",
        "logs/photos-backup.log",
    ] {
        assert!(setup.state().join(name).exists(), "{name}");
    }

    // The month closes: the archive holds the files with their owner-only
    // modes, which is what a restore gives back.
    setup.run_at("2026-10-01T00:05:00Z");
    let spec = format!("{}::photos-kim-2026-09", repo.location);
    let listed = repo
        .borg(&["list", "--json-lines", &spec])
        .output()
        .unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let mut files = 0;
    for line in String::from_utf8_lossy(&listed.stdout).lines() {
        let item: serde_json::Value = serde_json::from_str(line).unwrap();
        let mode = item["mode"].as_str().unwrap();
        match item["type"].as_str() {
            Some("-") => {
                assert_eq!(mode, "-rw-------", "{line}");
                files += 1;
            }
            Some("d") => assert_eq!(mode, "drwx------", "{line}"),
            _ => {}
        }
    }
    assert_eq!(files, 4, "2 originals + 2 XMP");
    assert_owner_only(&setup.staging());
    assert_owner_only(&setup.state());
}

#[test]
fn an_older_installation_is_tightened_once_with_a_line() {
    usual_umask();
    let tmp = tempfile::tempdir().unwrap();
    let setup = staged_once(tmp.path(), "");
    setup.run_at("2026-09-29T08:00:00Z");
    // As an older version left it: world-readable everywhere, the marker
    // of a tightened installation absent.
    std::fs::remove_file(setup.state().join("private-v1")).unwrap();
    for root in [setup.staging(), setup.state()] {
        for (path, _) in modes(&root) {
            let loose = if Path::new(&path).is_dir() {
                0o755
            } else {
                0o644
            };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(loose)).unwrap();
        }
    }
    let out = setup.run_at("2026-09-29T08:05:00Z");
    assert!(out.contains("privacy: made"), "{out}");
    assert!(out.contains("owner-only"), "{out}");
    assert_owner_only(&setup.staging());
    assert_owner_only(&setup.state());
    // Once: the next run says nothing about it.
    let out = setup.run_at("2026-09-29T08:10:00Z");
    assert!(!out.contains("privacy"), "{out}");
}

#[test]
fn a_staging_or_state_folder_others_can_write_is_refused() {
    usual_umask();
    let tmp = tempfile::tempdir().unwrap();
    let setup = staged_once(tmp.path(), "");
    setup.run_at("2026-09-29T08:00:00Z");
    for dir in [setup.staging(), setup.state()] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-09-29T09:00:00Z")]);
        assert_eq!(ran.code, 1, "{}{}", ran.out, ran.err);
        assert!(ran.err.contains(&dir.display().to_string()), "{}", ran.err);
        assert!(ran.err.contains("other users"), "{}", ran.err);
        assert!(ran.err.contains("chmod 700"), "{}", ran.err);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    setup.run_at("2026-09-29T09:05:00Z");
}

/// The local user the test reads as (created when missing), as `(uid, gid)`.
fn other_user() -> Option<(u32, u32)> {
    const NAME: &str = "pb-privacy-test";
    if !rustix::process::getuid().is_root() {
        common::skip("not root (CI is), cannot create a second local user");
        return None;
    }
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, NAME]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    if id("-u").is_none() {
        let made = Command::new("useradd")
            .args(["--no-create-home", "--shell", "/usr/sbin/nologin", NAME])
            .output()
            .expect("useradd (package passwd)");
        // Another test binary may have made it meanwhile.
        assert!(
            made.status.success() || id("-u").is_some(),
            "useradd {NAME}: {}",
            String::from_utf8_lossy(&made.stderr)
        );
    }
    Some((id("-u").unwrap(), id("-g").unwrap()))
}

/// Whether `user` can read `path` (`cat` run as that user).
fn can_read(user: (u32, u32), path: &Path) -> bool {
    Command::new("setpriv")
        .arg(format!("--reuid={}", user.0))
        .arg(format!("--regid={}", user.1))
        .arg("--clear-groups")
        .arg("cat")
        .arg(path)
        .output()
        .expect("setpriv (package util-linux)")
        .status
        .success()
}

#[test]
fn another_user_cannot_read_a_staged_photo_the_ledger_or_the_log() {
    usual_umask();
    let Some(user) = other_user() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let setup = staged_once(tmp.path(), "");
    // The folders above ours are open to all, as a home folder on macOS is
    // listable: only our own modes may stop the other user.
    for dir in [tmp.path(), setup.root()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    setup.run_at("2026-09-29T08:00:00Z");
    let photo = walkdir::WalkDir::new(setup.staging().join("kim"))
        .into_iter()
        .map(Result::unwrap)
        .find(|e| e.file_type().is_file() && !e.path().to_string_lossy().ends_with(".xmp"))
        .expect("a staged photo")
        .into_path();
    // The user works: a file left world-readable is readable to them.
    let open = setup.root().join("open.txt");
    std::fs::write(&open, b"anyone").unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(
        can_read(user, &open),
        "the second user cannot read anything"
    );
    for ours in [
        photo.clone(),
        setup.state().join("ledger.sqlite"),
        setup.state().join("logs/photos-backup.log"),
    ] {
        assert!(ours.is_file(), "{}", ours.display());
        assert!(
            !can_read(user, &ours),
            "{} is readable by another user",
            ours.display()
        );
    }
    // Even with the file's own mode loosened, its folders stop them.
    std::fs::set_permissions(&photo, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(!can_read(user, &photo), "{}", photo.display());
}

#[test]
fn a_staging_shared_with_the_group_on_purpose_is_group_readable_only() {
    usual_umask();
    let tmp = tempfile::tempdir().unwrap();
    let setup = staged_once(tmp.path(), "");
    let config = std::fs::read_to_string(setup.config()).unwrap();
    // The key belongs to [staging]: written right after its `dir`.
    let shared = config.replacen("[threshold]", "group_readable = true\n[threshold]", 1);
    assert_ne!(shared, config);
    let mut setup = setup;
    setup.set_extra(String::new());
    let conf = setup.config();
    std::fs::write(&conf, &shared).unwrap();
    let ran = Command::new(env!("CARGO_BIN_EXE_photos-backup"))
        .arg("--config")
        .arg(&conf)
        .arg("run")
        .env("PHOTOS_BACKUP_NOW", "2026-09-29T08:00:00Z")
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let staged = modes(&setup.staging().join("kim"));
    assert!(staged.len() >= 6);
    for (path, mode) in &staged {
        let want = if Path::new(path).is_dir() {
            0o750
        } else {
            0o640
        };
        assert_eq!(*mode, want, "{path}");
    }
    // The state stays owner-only, and doctor accepts the shared staging.
    assert_owner_only(&setup.state());
    let doctor = Command::new(env!("CARGO_BIN_EXE_photos-backup"))
        .arg("--config")
        .arg(&conf)
        .arg("doctor")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&doctor.stdout);
    assert!(out.contains("ok      privacy: owner-only"), "{out}");
}
