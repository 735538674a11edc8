//! Children are cleaned up, the way a user meets it, through the real
//! binary: a secret `command:` reference and a notification command, each a
//! shell that starts a grandchild meant to outlive it, are stopped at their
//! timeout (60 s, the product's own: no setting shortens it), the grandchild
//! with them; the error names the reference or the program, never the
//! secret. (The process module's unit tests cover the same guarantees on
//! `process::System` directly; these prove the commands use it.)

mod common;

use std::path::Path;
use std::time::Duration;

use common::setup::Setup;

/// What the secret command prints before it hangs: never shown anywhere.
const VALUE: &str = "correct horse battery staple";

/// A shell snippet that prints nothing, starts a `sleep` that would outlive
/// it (its pid into `pid_file`) and then waits far past any timeout.
fn outliving(pid_file: &Path) -> String {
    format!("sleep 300 & echo $! > '{}'; sleep 300", pid_file.display())
}

/// The pid the grandchild wrote (once it has been started).
fn grandchild(pid_file: &Path) -> u32 {
    let text = std::fs::read_to_string(pid_file)
        .unwrap_or_else(|e| panic!("{}: the command never ran: {e}", pid_file.display()));
    text.trim().parse().unwrap()
}

/// Asserts the grandchild `pid` ended with its command.
fn grandchild_ended(pid: u32) {
    common::tools::assert_ended(pid, "the grandchild");
    // Not left for the next test run either.
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status();
}

#[test]
fn a_secret_command_whose_grandchild_would_outlive_it_is_stopped_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let pid_file = tmp.path().join("grandchild.pid");
    // It prints the value first (spelled so the reference itself does not
    // hold it), then hangs holding its output.
    let reference = format!(
        "command:printf 'correct %s\\n' 'horse battery staple'; {}",
        outliving(&pid_file)
    );
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let conf = tmp.path().join("photos_backup.conf");
    std::fs::write(
        &conf,
        format!(
            "[staging]\ndir = {staging}\n[threshold]\ndefault = \"2024-01-01\"\n\
             [remote]\nhost = \"nas.home.arpa\"\nport = 22\nuser = \"photos\"\n\
             dir = \"/volume1/backup/photos.cipher\"\nidentity_file = \"~/.ssh/id_ed25519\"\n\
             cipher_mount = {cipher}\nplain_mount = {plain}\npassword = {password}\n",
            staging = quote(&tmp.path().join("staging").display().to_string()),
            cipher = quote(&tmp.path().join("mnt/cipher").display().to_string()),
            plain = quote(&tmp.path().join("mnt/plain").display().to_string()),
            password = quote(&reference),
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_photos-backup"))
        .args(["secret", "check", "--config"])
        .arg(&conf)
        .env_remove("PHOTOS_BACKUP_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A guard against a hang (the timeout is 60 s), not a measure.
    let status = common::ends_within(&mut child, Duration::from_secs(120));
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("remote.password (command:printf")
            && stdout.contains("did not finish within 60 s"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(VALUE) && !stderr.contains(VALUE),
        "the value was shown:\n{stdout}\n{stderr}"
    );
    grandchild_ended(grandchild(&pid_file));
}

#[test]
fn a_notification_command_whose_grandchild_would_outlive_it_is_stopped_whole() {
    let mut setup = Setup::new();
    // A library that is not there: the run fails, so it notifies.
    let gone = setup.root().join("nowhere.photoslibrary");
    setup.add_library("gone", &gone);
    let pid_file = setup.root().join("grandchild.pid");
    setup.set_extra(format!(
        "\n[notify]\nmethod = \"command\"\ncommand = [\"sh\", \"-c\", {}]\n",
        toml::Value::String(outliving(&pid_file))
    ));
    let mut child = setup.spawn();
    let status = common::ends_within(&mut child, Duration::from_secs(120));
    let said = setup.spawned_output();
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{said}");
    assert!(
        said.contains("notification: sh did not finish within 60 s and was stopped"),
        "{said}"
    );
    grandchild_ended(grandchild(&pid_file));
}
