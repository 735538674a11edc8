//! Telling the user when an unattended run fails, and when it works again.
//!
//! A backup that fails every five minutes must not go unnoticed, nor
//! must it send a notification every five minutes. `policy` decides, as a
//! pure function of the previous `state`, this run's `Outcome` and the time,
//! what to send; `after_run` is the one entry point the run command calls at
//! its end: it loads the state, decides, sends through the configured
//! `Notifier` and saves the state. Backends: Notification Center (`center`,
//! macOS), `osascript`, a user's `command`, or none. Every program is started
//! through `process::CommandRunner`.

mod center;
mod command;
pub(crate) mod osascript;
mod policy;
pub(crate) mod settings;
mod state;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::process::{CommandRunner, ProcessError};
pub use settings::{Method, Settings};

/// One message for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notification {
    pub(crate) kind: Kind,
    pub(crate) title: String,
    pub(crate) body: String,
}

/// Why a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A run failed after runs that did not.
    Failure,
    /// Runs keep failing; said again every `repeat_after`.
    Reminder,
    /// A run succeeded after failures.
    Recovered,
    /// A run succeeded (only with `on_success`, for monitors).
    Success,
    /// A run went through but something needs the user: a month archived
    /// without originals still in iCloud. Sent once, when it happens.
    Warning,
}

impl Kind {
    /// The event name a `command` receives in `PHOTOS_BACKUP_EVENT`.
    #[must_use]
    fn event(self) -> &'static str {
        match self {
            Kind::Failure => "failure",
            Kind::Reminder => "reminder",
            Kind::Recovered => "recovered",
            Kind::Success => "success",
            Kind::Warning => "warning",
        }
    }
}

/// How a run ended, as far as notifications care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Done (or nothing to do).
    Ok,
    /// Failed; the message says why (the error, one line).
    Failed(String),
    /// Not attempted: off the home network, another run active. Not a
    /// failure, and changes nothing.
    Skipped,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum NotifyError {
    #[error("cannot read notification state {path}")]
    ReadState {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot save notification state: {message}")]
    WriteState { path: PathBuf, message: String },
    #[error("notification through {program} failed: {detail}")]
    Failed { program: String, detail: String },
    #[error("Notification Center: {0}")]
    Center(String),
    #[error("{first}; then {second}")]
    Fallback {
        first: Box<NotifyError>,
        second: Box<NotifyError>,
    },
    #[error(transparent)]
    Process(#[from] ProcessError),
}

/// Delivers notifications. A trait so tests (and the run command's tests)
/// can stand in for the real thing.
pub(crate) trait Notifier {
    fn send(&self, n: &Notification) -> Result<(), NotifyError>;
}

/// Tries `first`; when it fails, `second`. Fails only when both do.
struct Fallback<'a> {
    first: Box<dyn Notifier + 'a>,
    second: Box<dyn Notifier + 'a>,
}

impl Notifier for Fallback<'_> {
    fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        match self.first.send(n) {
            Ok(()) => Ok(()),
            Err(first) => self.second.send(n).map_err(|second| NotifyError::Fallback {
                first: Box::new(first),
                second: Box::new(second),
            }),
        }
    }
}

/// The notifier for `method`; `None` for `Method::None`. `osascript` is
/// looked for in `tool_dirs` (the host's).
#[must_use]
pub(crate) fn notifier_for<'a>(
    method: &Method,
    tool_dirs: &[PathBuf],
    runner: &'a dyn CommandRunner,
) -> Option<Box<dyn Notifier + 'a>> {
    let osascript = || osascript::Osascript {
        program: osascript::program(tool_dirs),
        runner,
    };
    match method {
        Method::None => None,
        Method::NotificationCenter => Some(Box::new(Fallback {
            first: Box::new(center::NotificationCenter::default()),
            second: Box::new(osascript()),
        })),
        Method::Osascript => Some(Box::new(osascript())),
        Method::Command(argv) => Some(Box::new(command::Command {
            argv: argv.clone(),
            runner,
        })),
    }
}

/// Where a run's notifications go: the `[notify]` settings, the state
/// folder that remembers what was said and when, and the folders programs
/// (`osascript`) are looked for in. What `after_run` and `warn` need, and
/// no more of the config or the host.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Channel<'a> {
    pub(crate) settings: &'a Settings,
    pub(crate) state_dir: &'a Path,
    pub(crate) tool_dirs: &'a [PathBuf],
}

/// Sends a one-off warning (not rate-limited: the caller sends it once,
/// when the thing happens) through the configured method; `false` when
/// notifications are off.
pub(crate) fn warn(
    channel: &Channel,
    body: &str,
    runner: &dyn CommandRunner,
) -> Result<bool, NotifyError> {
    let Some(notifier) = notifier_for(&channel.settings.method, channel.tool_dirs, runner) else {
        return Ok(false);
    };
    notifier.send(&Notification {
        kind: Kind::Warning,
        title: "Photos backup: needs your attention".into(),
        body: body.to_owned(),
    })?;
    Ok(true)
}

/// What `after_run` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AfterRun {
    /// The notification sent, if any.
    sent: Option<Notification>,
    /// Worth a line in the log: the state file was unreadable and ignored.
    pub(crate) warning: Option<String>,
}

/// The run command's last step: tell the user about this run's `outcome`
/// when the `[notify]` settings and the previous runs say so, at `now`.
///
/// Call it once per real run (not for `--dry-run`), after the outcome is
/// known: `Outcome::Failed(describe_error(&e))` for an error,
/// `Outcome::Skipped` for a skipped run, `Outcome::Ok` otherwise. With
/// `method = "none"` it does nothing at all. Its error (a notification that
/// could not be sent, the state that could not be saved) should be logged,
/// not turn a successful run into a failed one. When sending fails, the
/// state is left as it was, so the next run tries again.
pub(crate) fn after_run(
    channel: &Channel,
    outcome: &Outcome,
    now: DateTime<Utc>,
    runner: &dyn CommandRunner,
) -> Result<AfterRun, NotifyError> {
    match notifier_for(&channel.settings.method, channel.tool_dirs, runner) {
        None => Ok(AfterRun {
            sent: None,
            warning: None,
        }),
        Some(notifier) => after_run_with(
            channel.settings,
            channel.state_dir,
            outcome,
            now,
            notifier.as_ref(),
        ),
    }
}

/// `after_run` with the notifier given: load state, decide, send, save.
fn after_run_with(
    settings: &Settings,
    state_dir: &Path,
    outcome: &Outcome,
    now: DateTime<Utc>,
    notifier: &dyn Notifier,
) -> Result<AfterRun, NotifyError> {
    let loaded = state::load(state_dir)?;
    let policy = policy::Policy {
        repeat_after: chrono::Duration::from_std(settings.repeat_after)
            .unwrap_or(chrono::Duration::MAX),
        on_success: settings.on_success,
    };
    let decision = policy::decide(&loaded.state, outcome, now, policy);
    if let Some(n) = &decision.send {
        notifier.send(n)?;
    }
    if decision.next != loaded.state || loaded.warning.is_some() {
        state::save(state_dir, &decision.next)?;
    }
    Ok(AfterRun {
        sent: decision.send,
        warning: loaded.warning,
    })
}

#[cfg(test)]
mod testing {
    use super::{Kind, Notification};

    pub(crate) fn notification(kind: Kind, title: &str, body: &str) -> Notification {
        Notification {
            kind,
            title: title.into(),
            body: body.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::Duration;

    use super::*;
    use crate::fake_runner::FakeRunner;

    /// Records what it is asked to send; fails when told to.
    #[derive(Default)]
    struct Inbox {
        sent: RefCell<Vec<Notification>>,
        broken: std::cell::Cell<bool>,
    }

    impl Notifier for Inbox {
        fn send(&self, n: &Notification) -> Result<(), NotifyError> {
            if self.broken.get() {
                return Err(NotifyError::Center("broken".into()));
            }
            self.sent.borrow_mut().push(n.clone());
            Ok(())
        }
    }

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
            .unwrap()
            .to_utc()
            + chrono::Duration::minutes(minutes)
    }

    fn settings() -> Settings {
        Settings {
            method: Method::Osascript,
            repeat_after: Duration::from_secs(3600),
            on_success: false,
        }
    }

    fn kinds(inbox: &Inbox) -> Vec<Kind> {
        inbox.sent.borrow().iter().map(|n| n.kind).collect()
    }

    #[test]
    fn state_carries_from_run_to_run_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::default();
        let run = |m, o: Outcome| after_run_with(&settings(), dir.path(), &o, t(m), &inbox);
        let failed = || Outcome::Failed("server said no".into());
        assert_eq!(run(0, failed()).unwrap().sent.unwrap().kind, Kind::Failure);
        assert_eq!(run(5, failed()).unwrap().sent, None);
        assert_eq!(run(10, Outcome::Skipped).unwrap().sent, None);
        assert_eq!(
            run(60, failed()).unwrap().sent.unwrap().kind,
            Kind::Reminder
        );
        assert_eq!(
            run(65, Outcome::Ok).unwrap().sent.unwrap().kind,
            Kind::Recovered
        );
        assert_eq!(run(70, Outcome::Ok).unwrap().sent, None);
        assert_eq!(
            kinds(&inbox),
            [Kind::Failure, Kind::Reminder, Kind::Recovered]
        );
    }

    #[test]
    fn quiet_runs_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::default();
        after_run_with(&settings(), dir.path(), &Outcome::Ok, t(0), &inbox).unwrap();
        after_run_with(&settings(), dir.path(), &Outcome::Skipped, t(5), &inbox).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_notification_that_could_not_be_sent_is_tried_again_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::default();
        inbox.broken.set(true);
        let failed = Outcome::Failed("x".into());
        let err = after_run_with(&settings(), dir.path(), &failed, t(0), &inbox).unwrap_err();
        assert!(err.to_string().contains("broken"), "{err}");
        inbox.broken.set(false);
        let done = after_run_with(&settings(), dir.path(), &failed, t(5), &inbox).unwrap();
        assert_eq!(done.sent.map(|n| n.kind), Some(Kind::Failure));
    }

    #[test]
    fn a_corrupt_state_file_warns_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = state::path(dir.path());
        std::fs::write(&file, "garbage").unwrap();
        let inbox = Inbox::default();
        let done = after_run_with(&settings(), dir.path(), &Outcome::Ok, t(0), &inbox).unwrap();
        assert!(done
            .warning
            .is_some_and(|w| w.contains(&file.display().to_string())));
        assert_eq!(state::load(dir.path()).unwrap().warning, None);
    }

    #[test]
    fn the_fallback_is_used_only_when_the_first_fails() {
        let n = testing::notification(Kind::Failure, "t", "b");
        for first_broken in [false, true] {
            let first = Inbox::default();
            first.broken.set(first_broken);
            let runner = FakeRunner::exiting(0, "");
            Fallback {
                first: Box::new(first),
                second: Box::new(osascript::Osascript {
                    program: osascript::OSASCRIPT.into(),
                    runner: &runner,
                }),
            }
            .send(&n)
            .unwrap();
            let expected = if first_broken {
                vec![osascript::command_line(Path::new(osascript::OSASCRIPT), &n)]
            } else {
                vec![]
            };
            assert_eq!(runner.commands(), expected, "first broken: {first_broken}");
        }
    }

    #[test]
    fn notification_center_is_backed_up_by_osascript() {
        // Where there is a Notification Center this would show a real
        // notification: only where there is none (Linux, CI) does the test
        // send, and there it must reach osascript.
        if crate::platform::has_notification_center() {
            return;
        }
        let runner = FakeRunner::exiting(0, "");
        let n = testing::notification(Kind::Failure, "t", "b");
        notifier_for(&Method::NotificationCenter, &[], &runner)
            .unwrap()
            .send(&n)
            .unwrap();
        assert_eq!(
            runner.commands(),
            [osascript::command_line(Path::new(osascript::OSASCRIPT), &n)]
        );
    }

    #[test]
    fn each_method_gets_its_backend() {
        let runner = FakeRunner::exiting(0, "");
        let n = testing::notification(Kind::Success, "t", "b");
        assert!(notifier_for(&Method::None, &[], &runner).is_none());
        notifier_for(&Method::Osascript, &[], &runner)
            .unwrap()
            .send(&n)
            .unwrap();
        let argv = vec!["/bin/hook".to_owned()];
        notifier_for(&Method::Command(argv.clone()), &[], &runner)
            .unwrap()
            .send(&n)
            .unwrap();
        assert_eq!(
            runner.commands(),
            [
                osascript::command_line(Path::new(osascript::OSASCRIPT), &n),
                command::command_line(&argv, &n)
            ]
        );
    }

    #[test]
    fn both_failures_are_reported_when_the_fallback_fails_too() {
        let broken = Inbox::default();
        broken.broken.set(true);
        let err = Fallback {
            first: Box::new(broken),
            second: Box::new(osascript::Osascript {
                program: osascript::OSASCRIPT.into(),
                runner: &FakeRunner::exiting(1, "no osascript here"),
            }),
        }
        .send(&testing::notification(Kind::Failure, "t", "b"))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("broken") && err.contains("no osascript here"),
            "{err}"
        );
    }

    #[test]
    fn after_run_sends_with_the_configured_method_and_none_does_nothing() {
        fn channel(c: &crate::config::Config) -> Channel<'_> {
            Channel {
                settings: &c.notify,
                state_dir: &c.state_dir,
                tool_dirs: &[],
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let text = |notify: &str| {
            format!(
                "[state]\ndir = {:?}\n[staging]\ndir = \"/s\"\n[threshold]\ndefault = \"2024-01-01\"\n{notify}",
                dir.path().display().to_string()
            )
        };
        let env = crate::host::Host {
            home: "/home/ann".into(),
            default_state_dir: "/unused".into(),
            ..crate::host::Host::current()
        };
        let parse = |t: &str| {
            crate::config::parse(t, Path::new("/etc/pb/photos_backup.conf"), &env).unwrap()
        };
        let failed = Outcome::Failed("boom".into());

        let none = parse(&text("[notify]\nmethod = \"none\"\n"));
        let runner = FakeRunner::exiting(0, "");
        let done = after_run(&channel(&none), &failed, t(0), &runner).unwrap();
        assert_eq!(done.sent, None);
        assert!(runner.commands().is_empty());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        let hook = parse(&text("[notify]\ncommand = [\"/bin/alert\", \"-x\"]\n"));
        let done = after_run(&channel(&hook), &failed, t(0), &runner).unwrap();
        let sent = done.sent.unwrap();
        assert_eq!(
            runner.commands(),
            [command::command_line(
                &["/bin/alert".into(), "-x".into()],
                &sent
            )]
        );
        assert!(state::path(dir.path()).is_file());
    }
}
