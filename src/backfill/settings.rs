//! The `[backfill]` section: whether the back catalogue (the assets older
//! than any threshold, never staged) is archived a part at a time after the
//! normal cycle, from which month, and how much staging it may fill. Off by
//! default: it asks Photos for originals and fills the borg repository.

use serde::Deserialize;

use crate::archive::period::Month;

/// The section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBackfill {
    enabled: Option<bool>,
    /// `"YYYY-MM"`: the oldest month taken.
    start: Option<String>,
    max_staging_gb: Option<f64>,
}

/// The backfill settings, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) enabled: bool,
    /// The oldest month taken; `None`: the library's oldest asset.
    pub(crate) start: Option<Month>,
    /// The budget of staging as a whole (what the normal cycle staged and
    /// has not archived counts too), in bytes.
    pub(crate) max_staging_bytes: u64,
}

/// The budget when none is written.
const DEFAULT_MAX_STAGING_GB: f64 = 20.0;

/// A bad value, with the key that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyError {
    pub(crate) key: String,
    pub(crate) message: String,
}

/// Checks the raw section.
pub(crate) fn validate(raw: &RawBackfill) -> Result<Settings, KeyError> {
    let error = |key: &str, message: String| KeyError {
        key: format!("backfill.{key}"),
        message,
    };
    let start = raw
        .start
        .as_deref()
        .map(|s| {
            let shaped = s.len() == 7 && s.as_bytes()[4] == b'-';
            s.parse::<Month>()
                .ok()
                .filter(|_| shaped)
                .ok_or_else(|| error("start", "must be a month \"YYYY-MM\"".into()))
        })
        .transpose()?;
    let gb = raw.max_staging_gb.unwrap_or(DEFAULT_MAX_STAGING_GB);
    // Up to 1 PB: more is a typo, and the bytes must fit a u64.
    if !gb.is_finite() || gb <= 0.0 || gb > 1_000_000.0 {
        return Err(error(
            "max_staging_gb",
            "must be a number of gigabytes above 0 (e.g. 20 or 0.5)".into(),
        ));
    }
    Ok(Settings {
        enabled: raw.enabled.unwrap_or(false),
        start,
        max_staging_bytes: (gb * 1e9) as u64,
    })
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            enabled: false,
            start: None,
            max_staging_bytes: (DEFAULT_MAX_STAGING_GB * 1e9) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, KeyError> {
        validate(&toml::from_str(text).unwrap())
    }

    #[test]
    fn off_by_default_with_a_budget() {
        assert_eq!(parse("").unwrap(), Settings::default());
        assert!(!Settings::default().enabled);
        let s = parse("enabled = true\nstart = \"2014-03\"\nmax_staging_gb = 0.5").unwrap();
        assert!(s.enabled);
        assert_eq!(s.start, Some("2014-03".parse().unwrap()));
        assert_eq!(s.max_staging_bytes, 500_000_000);
    }

    #[test]
    fn errors_name_the_key() {
        for (text, key) in [
            ("start = \"2014\"", "backfill.start"),
            ("start = \"2014-13\"", "backfill.start"),
            ("max_staging_gb = 0", "backfill.max_staging_gb"),
            ("max_staging_gb = -3", "backfill.max_staging_gb"),
            ("max_staging_gb = nan", "backfill.max_staging_gb"),
        ] {
            assert_eq!(parse(text).unwrap_err().key, key, "{text}");
        }
        assert!(toml::from_str::<RawBackfill>("budget = 3").is_err());
    }
}
