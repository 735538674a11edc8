//! Skips are watched. A skipped run (off the home network, another run
//! active) is not a failure and notifies nothing; but a Mac that never
//! comes home is a backup that stopped all the same. So the first skip of
//! a stretch is remembered in `STATE/skips.json`, and when the stretch has
//! lasted longer than `[run] skip_alert_hours`, one notification says "no
//! backup since ...". Any run that is not a skip ends the stretch.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The file name in the state dir.
pub(super) const FILE_NAME: &str = "skips.json";

/// A stretch of skipped runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Stretch {
    /// The first skip of the stretch.
    since: DateTime<Utc>,
    /// The last run that was not a skip, when known.
    last_backup: Option<DateTime<Utc>>,
    /// The notification for this stretch went out.
    notified: bool,
}

/// After a skip at `now`: the stretch as it is now, and the message to
/// send, once, when it has gone on longer than `limit`.
#[must_use]
pub(super) fn after_skip(
    stretch: Option<Stretch>,
    last_backup: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    limit: Duration,
    why: &str,
) -> (Stretch, Option<String>) {
    let mut stretch = stretch.unwrap_or(Stretch {
        since: now,
        last_backup,
        notified: false,
    });
    let long = chrono::Duration::from_std(limit).is_ok_and(|l| now - stretch.since > l);
    if !long || stretch.notified {
        return (stretch, None);
    }
    stretch.notified = true;
    let since = stretch.last_backup.unwrap_or(stretch.since);
    let message = format!(
        "no backup since {}: every run since {} was skipped (last: {why})",
        since.to_rfc3339_opts(SecondsFormat::Secs, true),
        stretch.since.to_rfc3339_opts(SecondsFormat::Secs, true),
    );
    (stretch, Some(message))
}

/// Reads the stretch in `state_dir` (none, or unreadable: none).
#[must_use]
pub(super) fn read(state_dir: &Path) -> Option<Stretch> {
    let text = std::fs::read_to_string(state_dir.join(FILE_NAME)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Saves the stretch (owner-only, as everything in the state dir).
pub(super) fn write(state_dir: &Path, stretch: &Stretch) -> std::io::Result<()> {
    let text = serde_json::to_string(stretch).map_err(std::io::Error::other)?;
    let path = state_dir.join(FILE_NAME);
    let tmp = state_dir.join(format!("{FILE_NAME}.tmp"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

/// A run that was not a skip: the stretch is over.
pub(super) fn end(state_dir: &Path) {
    let _ = std::fs::remove_file(state_dir.join(FILE_NAME));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn one_notification_once_the_stretch_is_long() {
        let limit = Duration::from_secs(72 * 3600);
        let backup = Some(at("2026-03-01T09:00:00Z"));
        let (s, sent) = after_skip(None, backup, at("2026-03-01T10:00:00Z"), limit, "off");
        assert_eq!(sent, None);
        assert_eq!(s.since, at("2026-03-01T10:00:00Z"));
        let (s, sent) = after_skip(Some(s), None, at("2026-03-04T09:00:00Z"), limit, "off");
        assert_eq!(sent, None, "not yet 72 hours");
        let (s, sent) = after_skip(Some(s), None, at("2026-03-04T10:05:00Z"), limit, "off");
        assert_eq!(
            sent.as_deref(),
            Some(
                "no backup since 2026-03-01T09:00:00Z: every run since \
                 2026-03-01T10:00:00Z was skipped (last: off)"
            )
        );
        assert!(s.notified);
        let (_, sent) = after_skip(Some(s), None, at("2026-03-09T10:05:00Z"), limit, "off");
        assert_eq!(sent, None, "said once per stretch");
    }

    #[test]
    fn the_stretch_is_kept_in_the_state_dir_and_ended_by_a_run() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), None);
        let s = Stretch {
            since: at("2026-03-01T10:00:00Z"),
            last_backup: None,
            notified: true,
        };
        write(dir.path(), &s).unwrap();
        assert_eq!(read(dir.path()), Some(s));
        end(dir.path());
        assert_eq!(read(dir.path()), None);
    }
}
