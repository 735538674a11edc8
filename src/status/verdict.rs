//! What needs the user's attention, decided once: the ATTENTION lines of
//! `status`, the `verdict` in `status.json` and the exit code of
//! `status --check` all come from [`attention`], so a monitor and a person
//! are told the same thing. Pure: the time is passed in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{RunResult, Status};

/// A run older than this without success is worth a warning.
pub(super) const STALE_HOURS: i64 = 24;

/// One thing that needs the user's attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attention {
    /// No run has gone through, or none for more than [`STALE_HOURS`].
    Stale,
    /// The last run failed, with why.
    LastRunFailed { detail: Option<String> },
    /// Photos of a library not completely backed up yet.
    Pending { library: String, count: u64 },
    /// A finished month held open for originals still in iCloud.
    Held { library: String, what: String },
    /// A rollover a failed or killed run left.
    UnfinishedArchive { library: String, archive: String },
    /// The last archive went without some originals.
    ArchivedWithoutOriginals {
        library: String,
        archive: String,
        assets: usize,
    },
    /// The last `borg check` failed.
    RepoCheckFailed { message: String },
    /// The last restore drill found files that do not come back.
    DrillFailed { failures: Vec<String> },
}

impl std::fmt::Display for Attention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Attention::Stale => f.write_str("no successful run for more than a day"),
            Attention::LastRunFailed { detail } => write!(
                f,
                "the last run failed: {}",
                detail.as_deref().unwrap_or("(no detail)")
            ),
            Attention::Pending { library, count } => {
                write!(f, "{library}: {count} photos not backed up yet (pending)")
            }
            Attention::Held { library, what } => write!(f, "{library}: {what}"),
            Attention::UnfinishedArchive { library, archive } => {
                write!(f, "{library}: unfinished archive {archive}")
            }
            Attention::ArchivedWithoutOriginals {
                library,
                archive,
                assets,
            } => write!(
                f,
                "{library}: {archive} archived without the originals of {assets} assets"
            ),
            Attention::RepoCheckFailed { message } => write!(f, "borg check failed: {message}"),
            Attention::DrillFailed { failures } => write!(
                f,
                "the last restore drill found files that do not come back as recorded: {}",
                failures.join("; ")
            ),
        }
    }
}

/// What needs the user's attention at `now`, most important first.
#[must_use]
pub(crate) fn attention(status: &Status, now: DateTime<Utc>) -> Vec<Attention> {
    let mut attention = Vec::new();
    if status
        .last_success
        .is_none_or(|t| (now - t).num_hours() >= STALE_HOURS)
    {
        attention.push(Attention::Stale);
    }
    if status.last_run.outcome == RunResult::Failed {
        attention.push(Attention::LastRunFailed {
            detail: status.last_run.detail.clone(),
        });
    }
    for lib in &status.libraries {
        let library = || lib.name.clone();
        let count: u64 = lib.pending.iter().map(|p| p.count).sum();
        if count > 0 {
            attention.push(Attention::Pending {
                library: library(),
                count,
            });
        }
        if let Some(h) = &lib.held {
            attention.push(Attention::Held {
                library: library(),
                what: h.clone(),
            });
        }
        if let Some(r) = &lib.unfinished_rollover {
            attention.push(Attention::UnfinishedArchive {
                library: library(),
                archive: r.clone(),
            });
        }
        if let Some(a) = lib.last_archive.as_ref().filter(|a| !a.missing.is_empty()) {
            attention.push(Attention::ArchivedWithoutOriginals {
                library: library(),
                archive: a.name.clone(),
                assets: a.missing.len(),
            });
        }
    }
    if let Some(c) = status.repo_check.as_ref().filter(|c| !c.ok) {
        attention.push(Attention::RepoCheckFailed {
            message: c.message.clone(),
        });
    }
    if let Some(d) = status.drill.as_ref().filter(|d| !d.passed()) {
        attention.push(Attention::DrillFailed {
            failures: d.failures.clone(),
        });
    }
    attention
}

/// The verdict in `status.json`: healthy, or the attention lines, as of `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Verdict {
    /// When it was decided (the stale rule depends on it).
    pub(crate) at: DateTime<Utc>,
    /// Nothing needs attention.
    pub(crate) healthy: bool,
    /// The ATTENTION lines of `status`, most important first.
    pub(crate) attention: Vec<String>,
}

impl Verdict {
    /// The verdict on `status` at `now`, by [`attention`].
    #[must_use]
    pub(crate) fn of(status: &Status, now: DateTime<Utc>) -> Self {
        let attention: Vec<String> = attention(status, now)
            .iter()
            .map(ToString::to_string)
            .collect();
        Verdict {
            at: now,
            healthy: attention.is_empty(),
            attention,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::render::tests::{sample, t};
    use super::super::{render, CheckInfo};
    use super::*;
    use chrono::FixedOffset;

    /// The sample, with nothing pending: nothing needs attention.
    fn healthy() -> Status {
        let mut s = sample();
        s.libraries[0].pending.clear();
        s
    }

    #[test]
    fn a_fresh_successful_run_with_nothing_open_is_healthy() {
        let s = healthy();
        assert_eq!(attention(&s, t(22, 7)), []);
        let v = Verdict::of(&s, t(22, 7));
        assert!(v.healthy);
        assert!(v.attention.is_empty());
        assert_eq!(v.at, t(22, 7));
    }

    #[test]
    fn a_success_older_than_a_day_is_stale() {
        let s = healthy();
        // The last success ended on the 22nd at 06:00.
        assert_eq!(attention(&s, t(23, 5)), []);
        assert_eq!(attention(&s, t(23, 6)), [Attention::Stale]);
        let mut never = healthy();
        never.last_success = None;
        assert_eq!(attention(&never, t(22, 7)), [Attention::Stale]);
    }

    #[test]
    fn each_rule_says_what_needs_attention_in_order() {
        let mut s = healthy();
        s.last_run.outcome = RunResult::Failed;
        s.last_run.detail = Some("anna: mirror FAILED: server gone".into());
        let lib = &mut s.libraries[0];
        lib.pending = sample().libraries[0].pending.clone();
        lib.held = Some("2026-10 waits for 3 originals".into());
        lib.unfinished_rollover = Some("photos-anna-2026-10 (reached: Created)".into());
        lib.last_archive.as_mut().unwrap().missing = vec!["u1".into(), "u2".into()];
        s.repo_check = Some(CheckInfo {
            at: t(22, 1),
            ok: false,
            message: "segment 3 damaged".into(),
        });
        let lines: Vec<String> = attention(&s, t(22, 7))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            [
                "the last run failed: anna: mirror FAILED: server gone",
                "anna: 3 photos not backed up yet (pending)",
                "anna: 2026-10 waits for 3 originals",
                "anna: unfinished archive photos-anna-2026-10 (reached: Created)",
                "anna: photos-anna-2026-10 archived without the originals of 2 assets",
                "borg check failed: segment 3 damaged",
            ]
        );
        // The text for people shows the same lines, and only them.
        let text = render(&s, t(22, 7), &FixedOffset::east_opt(0).unwrap());
        let shown: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("ATTENTION: "))
            .collect();
        assert_eq!(shown, lines);
        let v = Verdict::of(&s, t(22, 7));
        assert!(!v.healthy);
        assert_eq!(v.attention, lines);
    }

    #[test]
    fn a_skipped_run_alone_needs_no_attention() {
        let mut s = healthy();
        s.last_run.outcome = RunResult::Skipped;
        s.last_run.detail = Some("off network".into());
        assert_eq!(attention(&s, t(22, 7)), []);
    }
}
