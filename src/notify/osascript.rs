//! Notifications through `osascript` (macOS): the fallback when Notification
//! Center refuses a program that is not an app, and a method of its own.
//!
//! The script is a constant; the title and message (error text: untrusted)
//! reach it as arguments of its `run` handler, so nothing is escaped or
//! interpolated into `AppleScript`. The first argument is the event name, a
//! fixed word: `osascript` reads options up to its first plain argument, so
//! an error text that begins with `-` is never taken for one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Notification, Notifier, NotifyError};
use crate::process::{self, CommandLine, CommandRunner};

/// Where macOS keeps the program.
pub(super) const OSASCRIPT: &str = "/usr/bin/osascript";

/// The program: the first `osascript` in `tool_dirs` (the host's: `PATH`
/// and the usual folders, `/usr/bin` among them, so on a Mac the system's),
/// else `OSASCRIPT`. Found like every other tool, so tests can put a fake
/// one first.
#[must_use]
pub(crate) fn program(tool_dirs: &[PathBuf]) -> PathBuf {
    crate::tools::find("osascript", None, tool_dirs).unwrap_or_else(|_| OSASCRIPT.into())
}

/// How long `osascript` may take: it answers in well under a second, and
/// one that hangs (a dialog nobody answers) must not hold the run long.
const TIMEOUT: Duration = Duration::from_secs(15);

const SCRIPT: [&str; 3] = [
    "on run argv",
    "display notification (item 3 of argv) with title (item 2 of argv)",
    "end run",
];

/// The command line that shows `n`.
#[must_use]
pub(super) fn command_line(program: &Path, n: &Notification) -> CommandLine {
    let mut args: Vec<String> = SCRIPT
        .iter()
        .flat_map(|line| ["-e".to_owned(), (*line).to_owned()])
        .collect();
    args.extend([n.kind.event().to_owned(), n.title.clone(), n.body.clone()]);
    CommandLine::new(program, args)
}

/// Shows notifications with `osascript`.
pub(super) struct Osascript<'a> {
    /// `osascript` ([`program`]).
    pub(super) program: PathBuf,
    pub(super) runner: &'a dyn CommandRunner,
}

impl Notifier for Osascript<'_> {
    fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let cmd = command_line(&self.program, n);
        let output = self.runner.run(&cmd, TIMEOUT)?;
        if output.status.success() {
            Ok(())
        } else {
            Err(NotifyError::Failed {
                program: cmd.name(),
                detail: format!("{}: {}", output.status, process::stderr_excerpt(&output)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_runner::FakeRunner;
    use crate::notify::testing::notification;
    use crate::notify::Kind;

    #[test]
    fn title_and_message_are_arguments_of_a_constant_script() {
        let n = notification(
            Kind::Failure,
            "t \"quoted\"",
            "-e 'do shell script' \\ \"x\"",
        );
        let cmd = command_line(Path::new(OSASCRIPT), &n);
        assert_eq!(cmd.program, std::path::Path::new("/usr/bin/osascript"));
        assert_eq!(
            cmd.args,
            [
                "-e",
                "on run argv",
                "-e",
                "display notification (item 3 of argv) with title (item 2 of argv)",
                "-e",
                "end run",
                "failure",
                "t \"quoted\"",
                "-e 'do shell script' \\ \"x\"",
            ]
        );
        assert!(cmd.env.is_empty() && cmd.stdin.is_none());
    }

    #[test]
    fn sends_through_the_runner_and_names_osascript_when_it_fails() {
        let n = notification(Kind::Reminder, "title", "body");
        let ok = FakeRunner::exiting(0, "");
        Osascript {
            program: OSASCRIPT.into(),
            runner: &ok,
        }
        .send(&n)
        .unwrap();
        assert_eq!(ok.commands(), [command_line(Path::new(OSASCRIPT), &n)]);

        let failing = FakeRunner::exiting(1, "execution error: Not authorized (-1743)");
        let msg = Osascript {
            program: OSASCRIPT.into(),
            runner: &failing,
        }
        .send(&n)
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("/usr/bin/osascript") && msg.contains("Not authorized"),
            "{msg}"
        );
    }
}
