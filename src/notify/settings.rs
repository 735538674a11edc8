//! The `[notify]` section of the config: how to reach the user when an
//! unattended run fails, and how often to say it again. Parsed and checked
//! here so `config` only has to hold it; errors name the key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// `[notify]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotify {
    method: Option<RawMethod>,
    command: Option<Vec<String>>,
    repeat_after_hours: Option<u64>,
    on_success: Option<bool>,
}

/// The values `notify.method` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RawMethod {
    NotificationCenter,
    Osascript,
    Command,
    None,
}

/// How notifications are delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// macOS Notification Center (mac-notification-sys, bounded in time),
    /// `osascript` when that fails.
    NotificationCenter,
    /// `osascript -e 'display notification ...'` (macOS).
    Osascript,
    /// A program of the user's (`[program, args...]`); the message is in its
    /// environment, never its arguments.
    Command(Vec<String>),
    /// No notifications; no state is kept either.
    None,
}

/// The checked `[notify]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub method: Method,
    /// A failure still not fixed is notified again after this long.
    pub repeat_after: Duration,
    /// Also notify every successful run (for a dead man's switch monitor).
    pub on_success: bool,
}

/// Longest `repeat_after_hours`: a year.
const MAX_REPEAT_HOURS: u64 = 24 * 366;
const DEFAULT_REPEAT_HOURS: u64 = 24;

/// A problem with one key of `[notify]`; `config` adds the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyError {
    pub(crate) key: String,
    pub(crate) message: String,
}

/// Checks `[notify]`. `has_notification_center`: whether this system has one
/// (macOS); it decides the default method and whether `notification-center`
/// may be chosen. A program path with a `/` in `command` is resolved like
/// every path of the config (`~`, relative to `base`); a bare name is looked
/// up on `PATH` when it runs.
pub(crate) fn validate(
    raw: RawNotify,
    has_notification_center: bool,
    home: &Path,
    base: &Path,
) -> Result<Settings, KeyError> {
    let error = |key: &str, message: &str| KeyError {
        key: format!("notify.{key}"),
        message: message.to_owned(),
    };
    let method = match (raw.method, &raw.command) {
        (Some(method), _) => method,
        // A command alone means: use it.
        (None, Some(_)) => RawMethod::Command,
        (None, None) if has_notification_center => RawMethod::NotificationCenter,
        (None, None) => RawMethod::None,
    };
    let method = match method {
        RawMethod::NotificationCenter if !has_notification_center => {
            return Err(error(
                "method",
                "\"notification-center\" needs macOS; use \"command\" or \"none\" here",
            ))
        }
        RawMethod::NotificationCenter => Method::NotificationCenter,
        RawMethod::Osascript => Method::Osascript,
        RawMethod::None => Method::None,
        RawMethod::Command => Method::Command(command(raw.command, home, base)?),
    };
    let hours = raw.repeat_after_hours.unwrap_or(DEFAULT_REPEAT_HOURS);
    if !(1..=MAX_REPEAT_HOURS).contains(&hours) {
        return Err(error(
            "repeat_after_hours",
            &format!("must be 1 to {MAX_REPEAT_HOURS} (hours), not {hours}"),
        ));
    }
    Ok(Settings {
        method,
        repeat_after: Duration::from_secs(hours * 3600),
        on_success: raw.on_success.unwrap_or(false),
    })
}

fn command(argv: Option<Vec<String>>, home: &Path, base: &Path) -> Result<Vec<String>, KeyError> {
    let error = |message: &str| KeyError {
        key: "notify.command".into(),
        message: message.to_owned(),
    };
    let Some(mut argv) = argv else {
        return Err(error(
            "is required with method = \"command\": the program and its arguments, \
             e.g. [\"curl\", \"-fsS\", \"https://...\"]",
        ));
    };
    let Some(program) = argv.first_mut() else {
        return Err(error("must name a program: [\"PROGRAM\", \"ARG\", ...]"));
    };
    if program.trim().is_empty() || program.chars().any(char::is_control) {
        return Err(error(
            "the program (the first element) must be a name or a path",
        ));
    }
    if program.contains('/') {
        let resolved: PathBuf = crate::config::resolve_path(program, home, base);
        *program = resolved.display().to_string();
    }
    Ok(argv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: RawNotify, center: bool) -> Result<Settings, KeyError> {
        validate(raw, center, Path::new("/home/ann"), Path::new("/etc/pb"))
    }

    #[test]
    fn default_is_notification_center_where_there_is_one_else_none() {
        assert_eq!(
            check(RawNotify::default(), true).unwrap().method,
            Method::NotificationCenter
        );
        let none = check(RawNotify::default(), false).unwrap();
        assert_eq!(none.method, Method::None);
        assert_eq!(none.repeat_after, Duration::from_secs(24 * 3600));
        assert!(!none.on_success);
    }

    #[test]
    fn a_command_alone_selects_the_command_method_and_paths_resolve() {
        let raw = RawNotify {
            command: Some(vec!["~/bin/alert".into(), "--loud".into()]),
            ..RawNotify::default()
        };
        assert_eq!(
            check(raw, true).unwrap().method,
            Method::Command(vec!["/home/ann/bin/alert".into(), "--loud".into()])
        );
        let raw = RawNotify {
            command: Some(vec!["hooks/alert".into()]),
            ..RawNotify::default()
        };
        assert_eq!(
            check(raw, false).unwrap().method,
            Method::Command(vec!["/etc/pb/hooks/alert".into()])
        );
        let raw = RawNotify {
            command: Some(vec!["curl".into(), "-fsS".into()]),
            ..RawNotify::default()
        };
        assert_eq!(
            check(raw, false).unwrap().method,
            Method::Command(vec!["curl".into(), "-fsS".into()])
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            (
                RawNotify {
                    method: Some(RawMethod::Command),
                    ..RawNotify::default()
                },
                "notify.command",
            ),
            (
                RawNotify {
                    command: Some(vec![]),
                    ..RawNotify::default()
                },
                "notify.command",
            ),
            (
                RawNotify {
                    command: Some(vec![" ".into()]),
                    ..RawNotify::default()
                },
                "notify.command",
            ),
            (
                RawNotify {
                    repeat_after_hours: Some(0),
                    ..RawNotify::default()
                },
                "notify.repeat_after_hours",
            ),
            (
                RawNotify {
                    repeat_after_hours: Some(MAX_REPEAT_HOURS + 1),
                    ..RawNotify::default()
                },
                "notify.repeat_after_hours",
            ),
            (
                RawNotify {
                    method: Some(RawMethod::NotificationCenter),
                    ..RawNotify::default()
                },
                "notify.method",
            ),
        ];
        for (raw, key) in cases {
            let shown = format!("{raw:?}");
            let err = check(raw, false).unwrap_err();
            assert_eq!(err.key, key, "{shown}: {err:?}");
        }
    }

    #[test]
    fn explicit_values_are_kept() {
        let raw = RawNotify {
            method: Some(RawMethod::Osascript),
            command: Some(vec!["kept-for-later".into()]),
            repeat_after_hours: Some(6),
            on_success: Some(true),
        };
        let s = check(raw, false).unwrap();
        assert_eq!(
            s,
            Settings {
                method: Method::Osascript,
                repeat_after: Duration::from_secs(6 * 3600),
                on_success: true,
            }
        );
    }
}
