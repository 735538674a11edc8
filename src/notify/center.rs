//! macOS Notification Center (through `platform`, the one place with
//! `#[cfg]`s). Apple's call can block: an unset bundle id makes it ask
//! `AppleScript` about an app that does not exist, and a session without a
//! window server may never answer. A run must not hang on a notification
//! with the run lock held, so the call runs on its own thread and the run
//! waits at most `timeout`; after that it is a failure like any other, and
//! `notifier_for` falls back to `osascript` (itself bounded by the runner).
//! A thread still blocked goes away with the process at the end of the run.
//! Elsewhere than on macOS the call always fails, and the config does not
//! let this method be chosen there.

use std::sync::mpsc;
use std::time::Duration;

use super::{Notification, Notifier, NotifyError};

/// How long Notification Center may take to accept a notification.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The call that shows a notification: `platform::show_notification`, or a
/// stand-in in tests.
type Show = fn(&str, &str) -> Result<(), String>;

/// Shows notifications in Notification Center, within `timeout`.
#[derive(Debug, Clone, Copy)]
pub(super) struct NotificationCenter {
    show: Show,
    timeout: Duration,
}

impl Default for NotificationCenter {
    fn default() -> Self {
        Self {
            show: crate::platform::show_notification,
            timeout: TIMEOUT,
        }
    }
}

impl Notifier for NotificationCenter {
    fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let (tx, rx) = mpsc::channel();
        let (show, title, body) = (self.show, n.title.clone(), n.body.clone());
        std::thread::Builder::new()
            .name("notification-center".into())
            .spawn(move || {
                let _ = tx.send(show(&title, &body));
            })
            .map_err(|e| NotifyError::Center(format!("cannot start a thread: {e}")))?;
        match rx.recv_timeout(self.timeout) {
            Ok(result) => result.map_err(NotifyError::Center),
            Err(_) => Err(NotifyError::Center(format!(
                "no answer within {} s",
                self.timeout.as_secs_f32()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_runner::FakeRunner;
    use crate::notify::testing::notification;
    use crate::notify::{osascript, Fallback, Kind};
    use std::path::Path;

    fn blocks_forever(_: &str, _: &str) -> Result<(), String> {
        loop {
            std::thread::park();
        }
    }

    fn refuses(_: &str, _: &str) -> Result<(), String> {
        Err("Notification Center refused".into())
    }

    #[allow(clippy::unnecessary_wraps)] // the signature of `Show`
    fn accepts(_: &str, _: &str) -> Result<(), String> {
        Ok(())
    }

    fn center(show: Show) -> NotificationCenter {
        NotificationCenter {
            show,
            timeout: Duration::from_millis(50),
        }
    }

    #[test]
    fn a_call_that_never_returns_is_a_failure_and_osascript_takes_over() {
        let n = notification(Kind::Failure, "t", "b");
        let err = center(blocks_forever).send(&n).unwrap_err().to_string();
        assert!(err.contains("no answer within 0.05 s"), "{err}");
        let runner = FakeRunner::exiting(0, "");
        Fallback {
            first: Box::new(center(blocks_forever)),
            second: Box::new(osascript::Osascript {
                program: osascript::OSASCRIPT.into(),
                runner: &runner,
            }),
        }
        .send(&n)
        .unwrap();
        assert_eq!(
            runner.commands(),
            [osascript::command_line(Path::new(osascript::OSASCRIPT), &n)]
        );
    }

    #[test]
    fn an_error_is_returned_not_dropped_so_the_fallback_runs() {
        let n = notification(Kind::Failure, "t", "b");
        let runner = FakeRunner::exiting(0, "");
        let fallback = |show| Fallback {
            first: Box::new(center(show)),
            second: Box::new(osascript::Osascript {
                program: osascript::OSASCRIPT.into(),
                runner: &runner,
            }),
        };
        fallback(accepts).send(&n).unwrap();
        assert!(runner.commands().is_empty());
        fallback(refuses).send(&n).unwrap();
        assert_eq!(
            runner.commands(),
            [osascript::command_line(Path::new(osascript::OSASCRIPT), &n)]
        );
    }
}
