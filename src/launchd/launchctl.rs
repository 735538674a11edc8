//! Talking to launchd: the `launchctl` command lines, built by pure
//! functions (`bootstrap gui/UID PLIST`, `bootout gui/UID/LABEL`,
//! `print gui/UID/LABEL`), what their exit codes mean, and a thin wrapper
//! that runs them through `CommandRunner`.
//!
//! The user id names the GUI domain. It comes from `id -u`, run like every
//! other program: the standard library has no `getuid` without `unsafe`
//! (forbidden here), and the owner of the home folder need not be the user
//! running the command.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::LaunchdError;
use crate::process::{self, CommandLine, CommandRunner};

/// How long one `launchctl` call may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

/// Exit codes of `bootout` that mean "was not loaded": 3 (`ESRCH`, "No such
/// process", older macOS) and 113 ("Could not find specified service").
pub(crate) const NOT_LOADED: [i32; 2] = [3, 113];

/// `id -u`: the user id, for the `gui/UID` domain.
#[must_use]
fn id_command() -> CommandLine {
    CommandLine::new("/usr/bin/id", ["-u"])
}

/// The user id in `id -u`'s output.
#[must_use]
fn parse_uid(stdout: &[u8]) -> Option<u32> {
    std::str::from_utf8(stdout).ok()?.trim().parse().ok()
}

/// `launchctl bootstrap gui/UID PLIST`: load and start the agent.
#[must_use]
fn bootstrap(launchctl: &Path, uid: u32, plist: &Path) -> CommandLine {
    CommandLine::new(
        launchctl,
        [
            "bootstrap".to_owned(),
            format!("gui/{uid}"),
            plist.display().to_string(),
        ],
    )
}

/// `launchctl bootout gui/UID/LABEL`: stop and unload the agent.
#[must_use]
fn bootout(launchctl: &Path, uid: u32, label: &str) -> CommandLine {
    CommandLine::new(
        launchctl,
        ["bootout".to_owned(), format!("gui/{uid}/{label}")],
    )
}

/// `launchctl print gui/UID/LABEL`: succeeds when the agent is loaded.
#[must_use]
pub(crate) fn print(launchctl: &Path, uid: u32, label: &str) -> CommandLine {
    CommandLine::new(
        launchctl,
        ["print".to_owned(), format!("gui/{uid}/{label}")],
    )
}

/// Runs `launchctl` for one user.
pub(crate) struct Launchctl<'a> {
    runner: &'a dyn CommandRunner,
    pub(crate) program: PathBuf,
    pub(crate) uid: u32,
}

impl<'a> Launchctl<'a> {
    /// For the user running this process (`id -u`).
    pub(crate) fn for_current_user(
        runner: &'a dyn CommandRunner,
        program: PathBuf,
    ) -> Result<Self, LaunchdError> {
        let cmd = id_command();
        let output = runner.run(&cmd, TIMEOUT)?;
        let uid = output
            .status
            .success()
            .then(|| parse_uid(&output.stdout))
            .flatten()
            .ok_or_else(|| LaunchdError::Command {
                command: cmd.to_string(),
                detail: format!(
                    "no user id ({}): {}",
                    output.status,
                    process::stderr_excerpt(&output)
                ),
            })?;
        Ok(Self {
            runner,
            program,
            uid,
        })
    }

    /// Whether `label` is loaded (`print` succeeds; any failure: not loaded).
    pub(crate) fn is_loaded(&self, label: &str) -> Result<bool, LaunchdError> {
        let output = self
            .runner
            .run(&print(&self.program, self.uid, label), TIMEOUT)?;
        Ok(output.status.success())
    }

    /// Stops and unloads `label`; `false` when it was not loaded.
    pub(crate) fn bootout(&self, label: &str) -> Result<bool, LaunchdError> {
        let cmd = bootout(&self.program, self.uid, label);
        let output = self.runner.run(&cmd, TIMEOUT)?;
        match output.status.code() {
            Some(0) => Ok(true),
            Some(code) if NOT_LOADED.contains(&code) => Ok(false),
            _ => Err(failed(&cmd, &output)),
        }
    }

    /// Waits until `label` is unloaded (launchd finishes a bootout
    /// asynchronously, and a bootstrap before that fails); `false` when it
    /// is still loaded after `patience`.
    pub(crate) fn wait_unloaded(
        &self,
        label: &str,
        patience: Duration,
    ) -> Result<bool, LaunchdError> {
        let deadline = Instant::now() + patience;
        loop {
            if !self.is_loaded(label)? {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Loads and starts the agent in `plist`.
    pub(crate) fn bootstrap(&self, plist: &Path) -> Result<(), LaunchdError> {
        let cmd = bootstrap(&self.program, self.uid, plist);
        let output = self.runner.run(&cmd, TIMEOUT)?;
        if output.status.success() {
            Ok(())
        } else {
            Err(failed(&cmd, &output))
        }
    }
}

fn failed(cmd: &CommandLine, output: &std::process::Output) -> LaunchdError {
    LaunchdError::Command {
        command: cmd.to_string(),
        detail: process::failure_detail(output),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_runner::FakeRunner;

    fn argv(cmd: &CommandLine) -> Vec<String> {
        std::iter::once(cmd.name())
            .chain(cmd.args.iter().cloned())
            .collect()
    }

    #[test]
    fn command_lines() {
        let l = Path::new("launchctl");
        assert_eq!(
            argv(&bootstrap(
                l,
                501,
                Path::new("/Users/ann/Library/LaunchAgents/org.photos-backup.plist")
            )),
            [
                "launchctl",
                "bootstrap",
                "gui/501",
                "/Users/ann/Library/LaunchAgents/org.photos-backup.plist"
            ]
        );
        assert_eq!(
            argv(&bootout(l, 501, "org.photos-backup")),
            ["launchctl", "bootout", "gui/501/org.photos-backup"]
        );
        assert_eq!(
            argv(&print(l, 502, "x.y")),
            ["launchctl", "print", "gui/502/x.y"]
        );
        assert_eq!(argv(&id_command()), ["/usr/bin/id", "-u"]);
    }

    #[test]
    fn uid_from_id() {
        assert_eq!(parse_uid(b"501\n"), Some(501));
        assert_eq!(parse_uid(b"0"), Some(0));
        for bad in [&b""[..], b"-1\n", b"ann\n", b"501 502\n"] {
            assert_eq!(parse_uid(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_user_id_comes_from_id_and_a_failure_names_it() {
        let runner = FakeRunner::answering(|_| (0, "501\n".into(), String::new()));
        let l = Launchctl::for_current_user(&runner, "launchctl".into()).unwrap();
        assert_eq!(l.uid, 501);
        let runner = FakeRunner::answering(|_| (1, String::new(), "id: broken".into()));
        let msg = Launchctl::for_current_user(&runner, "launchctl".into())
            .err()
            .unwrap()
            .to_string();
        assert!(
            msg.contains("/usr/bin/id -u") && msg.contains("id: broken"),
            "{msg}"
        );
    }

    fn launchctl(runner: &FakeRunner) -> Launchctl<'_> {
        Launchctl {
            runner,
            program: "launchctl".into(),
            uid: 501,
        }
    }

    #[test]
    fn bootout_of_an_agent_that_is_not_loaded_is_not_an_error() {
        let loaded = FakeRunner::exiting(0, "");
        assert!(launchctl(&loaded).bootout("a.b").unwrap());
        for code in NOT_LOADED {
            let gone = FakeRunner::exiting(code, "Boot-out failed: No such process");
            assert!(!launchctl(&gone).bootout("a.b").unwrap());
        }
        let denied = FakeRunner::exiting(1, "Boot-out failed: 1: Operation not permitted");
        let msg = launchctl(&denied).bootout("a.b").unwrap_err().to_string();
        assert!(
            msg.contains("launchctl bootout gui/501/a.b") && msg.contains("not permitted"),
            "{msg}"
        );
    }

    #[test]
    fn bootstrap_failure_names_the_command_and_says_why() {
        let runner = FakeRunner::exiting(5, "Bootstrap failed: 5: Input/output error");
        let l = launchctl(&runner);
        let msg = l.bootstrap(Path::new("/p.plist")).unwrap_err().to_string();
        assert!(
            msg.contains("launchctl bootstrap gui/501 /p.plist")
                && msg.contains("Input/output error"),
            "{msg}"
        );
    }

    #[test]
    fn waits_until_unloaded_or_gives_up() {
        let calls = std::rc::Rc::new(std::cell::Cell::new(0));
        let counter = calls.clone();
        // Loaded for the first two `print`s, then gone.
        let runner = FakeRunner::answering(move |_| {
            counter.set(counter.get() + 1);
            (
                if counter.get() <= 2 { 0 } else { 113 },
                String::new(),
                String::new(),
            )
        });
        let l = launchctl(&runner);
        assert!(l.wait_unloaded("a.b", Duration::from_secs(10)).unwrap());
        assert_eq!(calls.get(), 3);
        let stuck = FakeRunner::exiting(0, "");
        let l = launchctl(&stuck);
        assert!(!l.wait_unloaded("a.b", Duration::ZERO).unwrap());
    }
}
