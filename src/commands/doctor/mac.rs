//! The doctor's Mac permission checks, apart from the others: which
//! "permission denied" is which, whether the agent may drive Photos
//! (Automation), and a test notification.
//!
//! Two errors read "permission denied" and mean different things. `EPERM`
//! ("Operation not permitted") is macOS privacy (TCC) refusing a process
//! without Full Disk Access; `EACCES` ("Permission denied") is plain Unix
//! permissions: another user's `~/Pictures` is `drwx------`, and no
//! privacy setting changes that. Only the first is blamed on Full Disk
//! Access (the distinction as told in blog.postcandide.151e.org,
//! "Pre-launching tmux on macOS: a TCC rabbit hole").

use std::time::Duration;

use super::facts::LibraryFailure;
use super::{Check, Machine};
use crate::config::Config;
use crate::export::download;
use crate::host::Os;
use crate::notify::{self, Kind, Notification};
use crate::process::{CommandLine, CommandRunner};

/// `EPERM` and `EACCES`: the same numbers on macOS and Linux.
const EPERM: i32 = 1;
const EACCES: i32 = 13;

/// Which refusal an I/O error is: `PermissionDenied` (privacy, `EPERM`),
/// `AccessDenied` (Unix permissions, `EACCES`), or neither.
#[must_use]
pub(super) fn permission_failure(e: &std::io::Error) -> Option<LibraryFailure> {
    match e.raw_os_error() {
        Some(EPERM) => Some(LibraryFailure::PermissionDenied),
        Some(EACCES) => Some(LibraryFailure::AccessDenied),
        _ if e.kind() == std::io::ErrorKind::PermissionDenied => {
            Some(LibraryFailure::PermissionDenied)
        }
        _ => None,
    }
}

/// The verdict on a library the Unix permissions keep out.
#[must_use]
pub(super) fn access_denied(subject: String, message: &str, path: &std::path::Path) -> Check {
    Check::failed(
        subject,
        format!(
            "{message}: the folder's owner and mode keep this user out (Full Disk Access \
             does not change that; another user's ~/Pictures is drwx------)"
        ),
        format!(
            "`ls -ld` the library and its parents: keep the library in this user's home, or \
             have its owner share it (Photos > Settings: a library of another user cannot be \
             read): {}",
            crate::text::sh_quote(&path.display().to_string())
        ),
    )
}

/// How long the Automation probe may take (Photos may have to start).
const AUTOMATION_TIMEOUT: Duration = Duration::from_secs(60);

/// `osascript` asking Photos for its version: the smallest Apple event,
/// which macOS refuses with -1743 without the Automation permission (and,
/// the first time, asks the user).
#[must_use]
fn automation_command(osascript: &std::path::Path) -> CommandLine {
    CommandLine::new(
        osascript,
        [
            "-e",
            "with timeout of 45 seconds",
            "-e",
            "tell application \"Photos\" to get version",
            "-e",
            "end timeout",
        ],
    )
}

/// The verdict on the Automation probe: exit code and stderr.
#[must_use]
fn automation(success: bool, stderr: &str) -> Check {
    let subject = "automation Photos";
    if success {
        return Check::ok(
            subject,
            "photos-backup may ask Photos for originals in iCloud",
        );
    }
    match download::applescript_error(stderr) {
        Some(download::NOT_AUTHORIZED) => Check::failed(
            subject,
            "macOS does not let photos-backup control Photos (-1743): originals only in iCloud \
             stay pending",
            "System Settings > Privacy & Security > Automation > photos-backup: turn on \
             Photos (run `photos-backup doctor --as-agent` to be asked as the agent is)",
        ),
        _ => Check::warning(
            subject,
            format!("Photos did not answer: {}", stderr.trim()),
            "open Photos once with the library to back up, then run the doctor again",
        ),
    }
}

/// Runs the Automation probe.
fn check_automation(osascript: &std::path::Path, runner: &dyn CommandRunner) -> Check {
    match runner.run(&automation_command(osascript), AUTOMATION_TIMEOUT) {
        Ok(out) => automation(out.status.success(), &String::from_utf8_lossy(&out.stderr)),
        Err(e) => Check::warning(
            "automation Photos",
            crate::error_text::describe(&e),
            "open Photos once, then run the doctor again",
        ),
    }
}

/// The Mac checks the doctor adds: Automation when downloads from iCloud
/// are on (macOS), and the test notification when asked for.
pub(super) fn checks(config: &Config, machine: &Machine, runner: &dyn CommandRunner) -> Vec<Check> {
    let mut checks = Vec::new();
    if machine.host.os == Os::MacOs && config.export.download_missing {
        checks.push(check_automation(
            &notify::osascript::program(&machine.host.tool_dirs),
            runner,
        ));
    }
    if let (Os::MacOs, Some(remote)) = (machine.host.os, &config.remote) {
        let found = crate::tools::find("sshfs", remote.sshfs.as_deref(), &machine.agent_tool_dirs);
        if let Ok(sshfs) = found {
            checks.push(match crate::remote::sshfs_mode::check(&sshfs, runner) {
                Ok(()) => Check::ok("sshfs with macFUSE", "not the pair that never returns"),
                Err(e) => Check::failed("sshfs with macFUSE", e.problem(), e.fix()),
            });
        }
    }
    if machine.test_notification {
        let sent =
            match notify::notifier_for(&config.notify.method, &machine.host.tool_dirs, runner) {
                Some(notifier) => notification_sent(notifier.send(&test_notification())),
                None => Check::warning(
                    "notification",
                    "notifications are off (notify.method = \"none\")",
                    "set [notify] method in the config to be told when a run fails",
                ),
            };
        checks.push(sent);
    }
    checks
}

/// The test notification `doctor --test-notification` sends.
#[must_use]
fn test_notification() -> Notification {
    Notification {
        kind: Kind::Warning,
        title: "Photos backup: test".into(),
        body: "If you read this, notifications from photos-backup reach you.".into(),
    }
}

/// The verdict on sending it: sent is not seen, since macOS drops a
/// notification of an app the user never allowed without an error.
#[must_use]
pub(super) fn notification_sent(result: Result<(), notify::NotifyError>) -> Check {
    let subject = "notification";
    match result {
        Ok(()) => Check::warning(
            subject,
            "a test notification was handed to macOS",
            "if none appeared, allow \"Script Editor\" in System Settings > Notifications \
             (macOS drops notifications it was not allowed to show, without an error)",
        ),
        Err(e) => Check::failed(
            subject,
            crate::error_text::describe(&e),
            "check [notify] in the config; on macOS allow \"Script Editor\" in System \
             Settings > Notifications",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::doctor::Status;

    #[test]
    fn eperm_is_privacy_eacces_is_unix_permissions() {
        let eperm = std::io::Error::from_raw_os_error(EPERM);
        let eacces = std::io::Error::from_raw_os_error(EACCES);
        assert_eq!(
            permission_failure(&eperm),
            Some(LibraryFailure::PermissionDenied)
        );
        assert_eq!(
            permission_failure(&eacces),
            Some(LibraryFailure::AccessDenied)
        );
        let missing = std::io::Error::from_raw_os_error(2);
        assert_eq!(permission_failure(&missing), None);
    }

    #[test]
    fn access_denied_does_not_blame_full_disk_access() {
        let c = access_denied(
            "library bob".into(),
            "cannot open /Users/bob/Pictures/P.photoslibrary",
            std::path::Path::new("/Users/bob/Pictures/P.photoslibrary"),
        );
        assert_eq!(c.status, Status::Failed);
        assert!(c.found.contains("drwx------"), "{}", c.found);
        assert!(!c.fix.unwrap().contains("Full Disk Access"));
    }

    #[test]
    fn automation_verdicts() {
        assert_eq!(automation(true, "").status, Status::Ok);
        // osascript's text for a refused Apple event (as other projects capture it).
        let denied = automation(
            false,
            "0:40: execution error: Not authorized to send Apple events to Photos. (-1743)\n",
        );
        assert_eq!(denied.status, Status::Failed);
        assert!(denied.fix.unwrap().contains("Automation > photos-backup"));
        let other = automation(
            false,
            "execution error: Photos got an error: AppleEvent timed out. (-1712)",
        );
        assert_eq!(other.status, Status::Warning);
        let cmd = automation_command(std::path::Path::new("/usr/bin/osascript"));
        assert!(cmd
            .args
            .contains(&"tell application \"Photos\" to get version".to_owned()));
    }

    fn mac_config(extra: &str) -> Config {
        let text = format!(
            "[staging]\ndir = \"/s\"\n[threshold]\ndefault = \"2024-01-01\"\n{extra}\
             [remote]\nhost = \"nas.local\"\nuser = \"ann\"\ndir = \"/photos\"\n\
             cipher_mount = \"/Users/ann/.pb/c\"\nplain_mount = \"/Users/ann/.pb/p\"\n\
             password = \"keychain:pb\"\n"
        );
        let env = crate::host::Host {
            home: "/Users/ann".into(),
            default_state_dir: "/Users/ann/state".into(),
            ..crate::host::Host::current()
        };
        crate::config::parse(&text, std::path::Path::new("/Users/ann/pb.conf"), &env).unwrap()
    }

    #[test]
    fn on_a_mac_the_broken_sshfs_pair_and_automation_are_checked() {
        let bin = tempfile::tempdir().unwrap();
        std::fs::write(bin.path().join("sshfs"), "").unwrap();
        let machine = Machine {
            host: crate::host::Host {
                os: Os::MacOs,
                tool_dirs: vec![bin.path().to_owned()],
                home: "/Users/ann".into(),
                binary: Some("/usr/local/bin/photos-backup".into()),
                default_state_dir: "/unused".into(),
            },
            agent_tool_dirs: vec![bin.path().to_owned()],
            label: "org.photos-backup".into(),
            test_notification: false,
        };
        // macfuse/macfuse#1180's `sshfs --version`; Photos refuses Apple events.
        let runner = crate::fake_runner::FakeRunner::answering(|cmd| {
            if cmd.args == ["--version"] {
                (
                    0,
                    "SSHFS version 3.7.5\nmacFUSE mount version 5.3.3\n".into(),
                    String::new(),
                )
            } else {
                (
                    1,
                    String::new(),
                    "execution error: Not authorized to send Apple events to Photos. (-1743)"
                        .into(),
                )
            }
        });
        let config = mac_config("[export]\ndownload_missing = true\n");
        let found = checks(&config, &machine, &runner);
        let subjects: Vec<(&str, Status)> = found
            .iter()
            .map(|c| (c.subject.as_str(), c.status))
            .collect();
        assert_eq!(
            subjects,
            [
                ("automation Photos", Status::Failed),
                ("sshfs with macFUSE", Status::Failed)
            ]
        );
        assert!(found[1].fix.as_ref().unwrap().contains("macFUSE 5.3.2"));
        // On Linux none of these is asked.
        let linux = Machine {
            host: crate::host::Host {
                os: Os::Linux,
                ..machine.host.clone()
            },
            ..machine
        };
        assert!(checks(&config, &linux, &runner).is_empty());
    }

    #[test]
    fn a_sent_notification_is_not_claimed_seen() {
        let sent = notification_sent(Ok(()));
        assert_eq!(sent.status, Status::Warning);
        assert!(sent.fix.unwrap().contains("Script Editor"));
        let failed = notification_sent(Err(notify::NotifyError::Center("refused".into())));
        assert_eq!(failed.status, Status::Failed);
    }
}
