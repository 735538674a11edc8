//! Notifications through a program of the user's: `curl` to a push service
//! or a monitor, a mail script, anything. The program and its arguments come
//! from `notify.command` as a list (no shell); the message goes in its
//! environment (`PHOTOS_BACKUP_TITLE`, `PHOTOS_BACKUP_MESSAGE`,
//! `PHOTOS_BACKUP_EVENT`), never into its arguments, so error text can
//! neither become an option nor be parsed by a shell.
//!
//! Errors name the program but not its arguments: they may hold a token
//! (a push service's URL, say).

use std::time::Duration;

use super::{Notification, Notifier, NotifyError};
use crate::process::{self, CommandLine, CommandRunner};

/// How long the command may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The environment variables that carry the message.
const TITLE_VAR: &str = "PHOTOS_BACKUP_TITLE";
const MESSAGE_VAR: &str = "PHOTOS_BACKUP_MESSAGE";
const EVENT_VAR: &str = "PHOTOS_BACKUP_EVENT";

/// The command line for `n`: `argv` as configured, the message in env.
/// `argv` is never empty (the config checks it).
#[must_use]
pub(super) fn command_line(argv: &[String], n: &Notification) -> CommandLine {
    let (program, rest) = argv.split_first().map_or(("", &[][..]), |(p, r)| (p, r));
    CommandLine::new(program, rest.iter().cloned())
        .env(TITLE_VAR, &n.title)
        .env(MESSAGE_VAR, &n.body)
        .env(EVENT_VAR, n.kind.event())
}

/// Runs the configured command for each notification.
pub(super) struct Command<'a> {
    pub(super) argv: Vec<String>,
    pub(super) runner: &'a dyn CommandRunner,
}

impl Notifier for Command<'_> {
    fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let cmd = command_line(&self.argv, n);
        let output = self.runner.run(&cmd, TIMEOUT)?;
        if output.status.success() {
            return Ok(());
        }
        Err(NotifyError::Failed {
            program: format!("notify command {}", cmd.name()),
            detail: process::failure_detail(&output),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_runner::FakeRunner;
    use crate::notify::testing::notification;
    use crate::notify::Kind;

    fn argv() -> Vec<String> {
        [
            "curl",
            "-fsS",
            "--data-binary",
            "@-",
            "https://push.example/TOKEN",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn the_message_is_in_the_environment_not_the_arguments() {
        let body = "$(rm -rf ~) `x` \"; --evil";
        let n = notification(Kind::Failure, "backup failed", body);
        let cmd = command_line(&argv(), &n);
        assert_eq!(cmd.program, std::path::Path::new("curl"));
        assert_eq!(cmd.args, argv()[1..]);
        let env: Vec<(&str, &str, bool)> = cmd
            .env
            .iter()
            .map(|v| (v.name.as_str(), v.value.as_str(), v.secret))
            .collect();
        assert_eq!(
            env,
            [
                ("PHOTOS_BACKUP_TITLE", "backup failed", false),
                ("PHOTOS_BACKUP_MESSAGE", body, false),
                ("PHOTOS_BACKUP_EVENT", "failure", false),
            ]
        );
        assert!(cmd.args.iter().all(|a| !a.contains("rm -rf")));
    }

    #[test]
    fn runs_once_per_notification_and_a_failure_names_the_program_only() {
        let n = notification(Kind::Recovered, "t", "b");
        let ok = FakeRunner::exiting(0, "");
        Command {
            argv: argv(),
            runner: &ok,
        }
        .send(&n)
        .unwrap();
        assert_eq!(ok.commands(), [command_line(&argv(), &n)]);

        let failing = FakeRunner::exiting(22, "curl: (22) The requested URL returned error: 500");
        let msg = Command {
            argv: argv(),
            runner: &failing,
        }
        .send(&n)
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("notify command curl") && msg.contains("error: 500"),
            "{msg}"
        );
        assert!(!msg.contains("TOKEN"), "arguments shown: {msg}");
    }

    #[test]
    fn a_real_program_sees_the_message_in_its_environment() {
        let n = notification(Kind::Reminder, "still failing", "it's \"bad\"\n$HOME");
        let argv = [
            "sh",
            "-c",
            "printf '%s|%s|%s' \"$PHOTOS_BACKUP_EVENT\" \"$PHOTOS_BACKUP_TITLE\" \"$PHOTOS_BACKUP_MESSAGE\"",
        ]
        .map(String::from);
        let out = process::System
            .run(&command_line(&argv, &n), TIMEOUT)
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "reminder|still failing|it's \"bad\"\n$HOME"
        );
    }
}
