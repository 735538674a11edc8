//! `photos-backup config init` and `config check` through the real binary,
//! as a new user meets them: a home folder with or without a Photos
//! library, the default config path, an existing file left alone, a file
//! readable by its owner only whatever the umask, and a check that names
//! the bad key and never shows a secret's value.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const SECRET: &str = "correct horse battery staple";

/// The binary with `args`, `HOME` = `home`, under umask 022 (a shell's
/// usual one), without `$PHOTOS_BACKUP_CONFIG` unless `env` sets it.
fn photos_backup(home: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_photos-backup"))
        .args(args)
        .env("HOME", home)
        .env_remove("PHOTOS_BACKUP_CONFIG")
        .env_remove("XDG_CONFIG_HOME");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code().expect("exited"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn default_config(home: &Path) -> PathBuf {
    home.join(".config/photos-backup/photos_backup.conf")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_fills_in_the_library_it_finds_and_check_loads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("anna");
    let library = home.join("Pictures/Photos Library.photoslibrary");
    std::fs::create_dir_all(&library).unwrap();

    let (code, out, err) = photos_backup(&home, &["config", "init"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let file = default_config(&home);
    assert!(out.contains(&file.display().to_string()), "{out}");
    assert!(out.contains("Next steps"), "{out}");
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.matches("[[library]]\n").count(), 1, "{text}");
    assert!(text.contains("name = \"anna\""), "{text}");

    let (code, out, err) = photos_backup(&home, &["config", "check"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("[[library]] anna = {}", library.display())),
        "{out}"
    );
    // Paths resolved against this home, defaults filled.
    let staging = home.join("PhotosBackup/staging");
    assert!(out.contains(&staging.display().to_string()), "{out}");
    assert!(out.contains("lock_wait_seconds = 600"), "{out}");
}

#[test]
fn init_without_a_library_says_so_and_writes_a_file_that_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("ben");
    std::fs::create_dir_all(&home).unwrap();
    let file = tmp.path().join("elsewhere/pb.conf");
    let path = file.to_str().unwrap();

    let (code, out, err) = photos_backup(&home, &["config", "init", "--path", path], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("No Photos library at"), "{out}");
    assert!(!default_config(&home).exists());
    assert_eq!(mode(&file), 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("No Photos library was found"), "{text}");

    // `--config` reaches `config check` as it reaches every command.
    let (code, out, err) = photos_backup(&home, &["--config", path, "config", "check"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("config file {path}: ok")), "{out}");
}

#[test]
fn init_never_overwrites_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().to_owned();
    let file = tmp.path().join("mine.conf");
    std::fs::write(&file, "# mine\n").unwrap();

    let env = [("PHOTOS_BACKUP_CONFIG", file.to_str().unwrap())];
    let (code, out, err) = photos_backup(&home, &["config", "init"], &env);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("exists already"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "# mine\n");
}

#[test]
fn check_names_the_bad_key_and_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().to_owned();
    let (code, _, err) = photos_backup(&home, &["config", "init"], &[]);
    assert_eq!(code, 0, "{err}");
    let file = default_config(&home);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\ndeadline_seconds = 2700\n"));
    std::fs::write(
        &file,
        text.replace("\ndeadline_seconds = 2700\n", "\ndeadline_seconds = 0\n"),
    )
    .unwrap();

    let (code, out, err) = photos_backup(&home, &["config", "check"], &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("deadline_seconds"), "{err}");
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(out.is_empty(), "{out}");
}

#[test]
fn check_shows_secret_references_never_their_values() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().to_owned();
    let (code, _, err) = photos_backup(&home, &["config", "init"], &[]);
    assert_eq!(code, 0, "{err}");
    let file = default_config(&home);
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text
        .replace("keychain:photos-backup-gocryptfs", "env:PB_TEST_PASSWORD")
        .replace("keychain:photos-backup-borg", "env:PB_TEST_PASSPHRASE");
    std::fs::write(&file, text).unwrap();

    let env = [("PB_TEST_PASSWORD", SECRET), ("PB_TEST_PASSPHRASE", SECRET)];
    let (code, out, err) = photos_backup(&home, &["config", "check"], &env);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("password = env:PB_TEST_PASSWORD"), "{out}");
    assert!(out.contains("passphrase = env:PB_TEST_PASSPHRASE"), "{out}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET), "{out}{err}");
}
