//! The shipped `photos_backup.conf.example` must stay a valid config: users
//! copy it, so every key in it must be one the parser accepts.

use std::path::{Path, PathBuf};

use photos_backup::config;
use photos_backup::host::Host;

#[test]
fn the_example_config_parses_and_means_what_it_says() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("photos_backup.conf.example");
    let env = Host {
        home: PathBuf::from("/Users/anna"),
        default_state_dir: PathBuf::from("/state"),
        ..Host::current()
    };
    let config = config::load(&path, &env).expect("example config parses");
    assert_eq!(
        config.staging_dir,
        Path::new("/Users/anna/PhotosBackup/staging")
    );
    assert_eq!(
        config.state_dir,
        Path::new("/Users/anna/Library/Application Support/photos-backup")
    );
    let names: Vec<&str> = config.libraries.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["anna", "ben"]);
    let remote = config.remote.expect("a [remote] section");
    assert_eq!(
        (remote.user.as_str(), remote.host.as_str(), remote.port),
        ("photos", "nas.home.arpa", 22)
    );
    assert_eq!(
        remote.identity_file,
        Some(PathBuf::from("/Users/anna/.ssh/id_ed25519"))
    );
    assert_eq!(remote.password, "keychain:photos-backup-gocryptfs");
    assert!(!remote.keep_mounted);
    assert_eq!(
        config.notify.repeat_after,
        std::time::Duration::from_secs(24 * 3600)
    );
    assert!(!config.notify.on_success);
    // `method` is left to its default: Notification Center where there is one.
    let default = if photos_backup::platform::has_notification_center() {
        photos_backup::notify::Method::NotificationCenter
    } else {
        photos_backup::notify::Method::None
    };
    assert_eq!(config.notify.method, default);
}

#[test]
fn the_commented_notify_command_of_the_example_parses() {
    // Uncommenting the example `command` line must give a valid config.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("photos_backup.conf.example");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("# command = ["))
        .expect("an example notify command");
    let text = text.replace(line, &line[2..]);
    let env = Host {
        home: PathBuf::from("/Users/anna"),
        default_state_dir: PathBuf::from("/state"),
        ..Host::current()
    };
    let config = config::parse(&text, &path, &env).expect("uncommented example parses");
    let photos_backup::notify::Method::Command(argv) = config.notify.method else {
        panic!("a command alone selects the command method")
    };
    assert_eq!(argv[..2], ["sh", "-c"]);
    assert!(argv[2].contains("$PHOTOS_BACKUP_MESSAGE"), "{argv:?}");
}

#[test]
fn assets_without_library_reads_the_configured_ones_and_names_a_bad_config() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("photos_backup.conf");
    std::fs::write(
        &conf,
        "[staging]\ndir = 'x'\n[threshold]\ndefault = '2024-1-32'\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_photos-backup"))
        .args(["assets", "--config"])
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a config error is a usage error"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&conf.display().to_string()) && err.contains("threshold.default"),
        "{err}"
    );
}

#[test]
fn a_missing_config_file_is_named_once() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_photos-backup"))
        .args(["assets", "--config", "/nonexistent/photos_backup.conf"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("/nonexistent/photos_backup.conf"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}
