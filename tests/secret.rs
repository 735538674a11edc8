//! `photos-backup secret` through the real binary: `check` reads the secrets
//! the config refers to and says ok or why not, and whatever happens, the
//! secret's value never reaches stdout or stderr.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const VALUE: &str = "correct horse battery staple";

/// A config with a full `[remote]` section whose password is `password`.
fn config(dir: &Path, password: &str) -> PathBuf {
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let text = format!(
        "[staging]\ndir = {staging}\n[threshold]\ndefault = \"2024-01-01\"\n\
         [remote]\nhost = \"nas.home.arpa\"\nport = 22\nuser = \"photos\"\n\
         dir = \"/volume1/backup/photos.cipher\"\nidentity_file = \"~/.ssh/id_ed25519\"\n\
         cipher_mount = {cipher}\nplain_mount = {plain}\npassword = {password}\n\
         keep_mounted = false\nprobe_timeout_seconds = 3\n",
        staging = quote(&dir.join("staging").display().to_string()),
        cipher = quote(&dir.join("mnt/cipher").display().to_string()),
        plain = quote(&dir.join("mnt/plain").display().to_string()),
        password = quote(password),
    );
    let path = dir.join("photos_backup.conf");
    std::fs::write(&path, text).unwrap();
    path
}

fn password_file(dir: &Path, mode: u32) -> PathBuf {
    let path = dir.join("gocryptfs.pw");
    std::fs::write(&path, format!("{VALUE}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn photos_backup(args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_photos-backup"))
        .args(args)
        .env_remove("PHOTOS_BACKUP_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child may exit without reading: a broken pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    );
    assert!(
        !out.contains(VALUE) && !err.contains(VALUE),
        "the value was shown:\n{out}\n{err}"
    );
    (status.code(), out, err)
}

fn check(conf: &Path) -> (Option<i32>, String, String) {
    photos_backup(&["secret", "check", "--config", conf.to_str().unwrap()], "")
}

#[test]
fn check_reads_an_owner_only_password_file() {
    let tmp = tempfile::tempdir().unwrap();
    let pw = password_file(tmp.path(), 0o600);
    let conf = config(tmp.path(), &format!("file:{}", pw.display()));
    let (code, out, err) = check(&conf);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(
        out,
        format!("remote.password (file:{}): ok\n", pw.display())
    );
}

#[test]
fn check_refuses_a_password_file_others_can_read() {
    let tmp = tempfile::tempdir().unwrap();
    let pw = password_file(tmp.path(), 0o644);
    let conf = config(tmp.path(), "file:gocryptfs.pw");
    let (code, out, err) = check(&conf);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(
        out.starts_with("remote.password (file:gocryptfs.pw): error: ")
            && out.contains(&pw.display().to_string())
            && out.contains("0644"),
        "{out}"
    );
}

#[test]
fn check_names_a_missing_variable_and_a_failing_command() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = config(tmp.path(), "env:PB_TEST_NOT_SET_ANYWHERE");
    let (code, out, _) = check(&conf);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("environment variable PB_TEST_NOT_SET_ANYWHERE is not set"),
        "{out}"
    );
    // It prints the value (spelled differently here, so the check above can see it).
    let printer = "printf 'correct %s\\n' 'horse battery staple'";
    let conf = config(
        tmp.path(),
        &format!("command:{printer}; {printer} >&2; exit 7"),
    );
    let (code, out, _) = check(&conf);
    assert_eq!(code, Some(1));
    assert!(out.contains("exit status: 7"), "{out}");
}

#[test]
fn check_without_a_remote_has_nothing_to_check() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("photos_backup.conf");
    std::fs::write(
        &conf,
        "[staging]\ndir = 's'\n[threshold]\ndefault = '2024-01-01'\n",
    )
    .unwrap();
    let (code, out, _) = check(&conf);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("no secrets configured"), "{out}");
}

#[test]
fn set_without_a_keychain_says_what_to_use_instead() {
    if photos_backup::platform::has_keychain() {
        eprintln!("SKIPPED: this system has a Keychain; not writing to it from a test");
        return;
    }
    let (code, _, err) = photos_backup(
        &["secret", "set", "photos-backup-test"],
        &format!("{VALUE}\n"),
    );
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err,
        "photos-backup: error: cannot store keychain:photos-backup-test: the Keychain is only \
         available on macOS; use file:, env: or command:\n"
    );
}
