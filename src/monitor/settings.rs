//! The `[monitor]` section: where a dead-man monitor (healthchecks.io,
//! Uptime Kuma) is pinged, in which style, what a skipped run sends, and
//! how long a ping may take. Independent of `[notify]`: the notification
//! tells the user on the Mac, the monitor tells a service elsewhere that
//! runs still happen. The URL is a secret reference, never a URL: it lets
//! anyone mark the backup healthy. Checked here; errors name the key.

use std::time::Duration;

use serde::Deserialize;

/// `[monitor]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMonitor {
    /// A secret reference (`keychain:`, `env:`, `file:`, `command:`).
    url: String,
    style: Option<Style>,
    on_skip: Option<OnSkip>,
    timeout_seconds: Option<u64>,
}

/// Which service's conventions a ping follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Style {
    /// healthchecks.io (and its self-hosted builds): `URL/start`, `URL`,
    /// `URL/fail` and `URL/log`, each a POST with a body.
    Healthchecks,
    /// An Uptime Kuma push monitor: `URL?status=up|down&msg=...` (GET); no
    /// start and no log ping, which Kuma has no notion of.
    UptimeKuma,
}

/// What a skipped run (off network, another run holds the lock) sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnSkip {
    /// Nothing: the monitor alerts when skips go on past its grace time.
    Nothing,
    /// A log ping (healthchecks' `/log`), which changes no state.
    Log,
}

/// The checked `[monitor]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The secret reference of the ping URL, as the config holds it.
    pub url: String,
    pub style: Style,
    pub on_skip: OnSkip,
    /// The longest one ping may take (curl's `--max-time`).
    pub timeout: Duration,
}

/// The most seconds a ping may take: a run waits for it.
const MAX_TIMEOUT_SECONDS: u64 = 120;
const DEFAULT_TIMEOUT_SECONDS: u64 = 10;

/// A bad value, with the key that holds it; `config` adds the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyError {
    pub(crate) key: String,
    pub(crate) message: String,
}

/// Checks `[monitor]`. Whether `url` is a well-formed secret reference is
/// `config`'s check, as for every secret.
pub(crate) fn validate(raw: RawMonitor) -> Result<Settings, KeyError> {
    let error = |key: &str, message: String| KeyError {
        key: format!("monitor.{key}"),
        message,
    };
    let seconds = raw.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    if !(1..=MAX_TIMEOUT_SECONDS).contains(&seconds) {
        return Err(error(
            "timeout_seconds",
            format!("must be 1 to {MAX_TIMEOUT_SECONDS} (seconds), not {seconds}"),
        ));
    }
    Ok(Settings {
        url: raw.url,
        style: raw.style.unwrap_or(Style::Healthchecks),
        on_skip: raw.on_skip.unwrap_or(OnSkip::Nothing),
        timeout: Duration::from_secs(seconds),
    })
}

impl Style {
    /// The name the config uses.
    #[must_use]
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Healthchecks => "healthchecks",
            Self::UptimeKuma => "uptime-kuma",
        }
    }
}

impl OnSkip {
    /// The name the config uses.
    #[must_use]
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Nothing => "nothing",
            Self::Log => "log",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, KeyError> {
        validate(toml::from_str(text).unwrap())
    }

    #[test]
    fn defaults_and_explicit_values() {
        let s = parse("url = \"keychain:pb-monitor\"").unwrap();
        assert_eq!(
            s,
            Settings {
                url: "keychain:pb-monitor".into(),
                style: Style::Healthchecks,
                on_skip: OnSkip::Nothing,
                timeout: Duration::from_secs(10),
            }
        );
        let s = parse(
            "url = \"env:PING\"\nstyle = \"uptime-kuma\"\non_skip = \"log\"\ntimeout_seconds = 3",
        )
        .unwrap();
        assert_eq!(
            (s.style, s.on_skip, s.timeout),
            (Style::UptimeKuma, OnSkip::Log, Duration::from_secs(3))
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            (
                "url = \"env:P\"\ntimeout_seconds = 0",
                "monitor.timeout_seconds",
            ),
            (
                "url = \"env:P\"\ntimeout_seconds = 121",
                "monitor.timeout_seconds",
            ),
        ] {
            assert_eq!(parse(text).unwrap_err().key, key, "{text}");
        }
        for shape in [
            "url = \"env:P\"\nstyle = \"ntfy\"",
            "url = \"env:P\"\non_skip = \"always\"",
            "url = \"env:P\"\nretries = 3",
        ] {
            assert!(toml::from_str::<RawMonitor>(shape).is_err(), "{shape}");
        }
    }
}
