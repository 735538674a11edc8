//! The classifier: each asset of a library, as the census saw it, against
//! the ledger's rows of that library, gets one class. Pure: the census, the
//! rows, the export options, the time and the pending limit are passed in.
//!
//! The rules, in order, for an asset the run backs up (not trashed, not an
//! unpicked burst frame left out by `[export] unpicked_bursts`):
//!
//! - no staged file: pending when the ledger says why; else on its way
//!   when the run's selection takes it (one of its dates is on or after the
//!   threshold's midnight); else the back catalogue;
//! - every staged file in a verified archive as it is now (role, size,
//!   hash; the ledger adds that up, `ledger::coverage`): pending again when
//!   the ledger says so (a part missing); else archived, current, unless
//!   its version differs from the one the ledger recorded (edited, new
//!   metadata): archived but changed, the new version not yet staged;
//! - a file purged from staging whose archive retention removed since:
//!   pruned, in no archive now;
//! - some staged file in no verified archive as it is now: archived but
//!   changed (new version mirrored, or staged only) when a verified archive
//!   holds a file of the asset; else pending when the ledger says why,
//!   mirrored when every file is, staged otherwise.

use chrono::{DateTime, Utc};

use crate::export::plan::{self, Options, PendingReason};
use crate::ledger::AssetRows;
use crate::photos::CensusAsset;

/// Where an asset's backup stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Class {
    /// Every file of its current version is in a verified archive.
    Archived { archive: String },
    /// A version is in a verified archive, but the asset changed since.
    ArchivedChanged { archive: String, new: NewVersion },
    /// Staged and mirrored, not yet archived.
    Mirrored,
    /// Staged only: the remote volume was not reached (or there is none).
    Staged,
    /// Not completely staged, with why.
    Pending(Pending),
    /// Not staged yet, but the next run takes it (newer than the threshold).
    OnItsWay,
    /// Never backed up and older than any threshold.
    BackCatalogue,
    /// Archived and purged from staging, but retention (`[borg]
    /// prune_keep_*`) has since removed the archive: in no archive now.
    Pruned,
}

/// Where the new version of a changed asset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NewVersion {
    Mirrored,
    Staged,
    /// Not staged yet: the next run takes it.
    NotYet,
}

/// Why an asset is pending, as data, and whether it waited too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) why: Why,
    /// Waiting longer than `[borg] max_pending_days` since first seen.
    pub(crate) overdue: bool,
}

/// The kinds of pending reason coverage tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Why {
    /// The original (or a RAW partner, a Live Photo video) is only in iCloud.
    InIcloud,
    /// Photos was asked for the original and failed.
    DownloadFailed,
    /// A file is not there and iCloud will not bring it.
    FileMissing,
}

impl Why {
    /// The one kind that best says why, from the reason as data: a file
    /// missing outweighs a download, a failed download a plain wait.
    #[must_use]
    pub(crate) fn of(reason: PendingReason) -> Self {
        if reason.file_missing {
            Self::FileMissing
        } else if reason.download_failed {
            Self::DownloadFailed
        } else {
            Self::InIcloud
        }
    }
}

/// What a run backs up of an asset: all of it, or it is counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    BackedUp,
    Trashed,
    /// An unpicked burst frame, with `[export] unpicked_bursts` off.
    LeftOut,
}

/// Whether the run backs the asset up (the run's own rule, `plan::left_out`).
#[must_use]
pub(crate) fn scope(asset: &CensusAsset, options: Options) -> Scope {
    if asset.trashed {
        Scope::Trashed
    } else if plan::left_out(false, (asset.burst, asset.burst_selected), options) {
        Scope::LeftOut
    } else {
        Scope::BackedUp
    }
}

/// The limits a pending asset is judged against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) now: DateTime<Utc>,
    /// `[borg] max_pending_days`; `None` (no `[borg]`): never overdue.
    pub(crate) max_pending_days: Option<u32>,
}

/// Whether the asset's class depends on its version: every staged file of
/// it is in a verified archive as it is now, it is not pending, and the
/// run's selection takes it (one of its dates says it changed since the
/// threshold): only the version then tells current from changed since.
/// An asset none of whose dates moved is not read again by the run, so
/// its version is not read here either: the cost is the selection's, as a
/// run's (a change that moves no date is seen by neither).
#[must_use]
pub(crate) fn needs_version(asset: &CensusAsset, rows: Option<&AssetRows>) -> bool {
    asset.selected && rows.is_some_and(|r| r.staged > 0 && r.unarchived == 0 && r.pending.is_none())
}

/// The class of one asset the run backs up, from the ledger's `rows` of
/// it and its current `version` (`None`: not known; then never "changed").
#[must_use]
pub(crate) fn classify(
    asset: &CensusAsset,
    rows: Option<&AssetRows>,
    version: Option<u64>,
    limits: Limits,
) -> Class {
    let empty = AssetRows::default();
    let r = rows.unwrap_or(&empty);
    let pending = r.pending.as_ref().map(|p| Pending {
        why: Why::of(PendingReason::parse(&p.reason)),
        overdue: limits.max_pending_days.is_some_and(|days| {
            limits.now >= p.first_seen + chrono::Duration::days(i64::from(days))
        }),
    });
    let archive = || r.archive.as_deref().unwrap_or_default().to_owned();
    if r.staged == 0 {
        return match pending {
            Some(p) => Class::Pending(p),
            None if asset.selected => Class::OnItsWay,
            None => Class::BackCatalogue,
        };
    }
    if r.pruned > 0 {
        return Class::Pruned;
    }
    if r.unarchived == 0 {
        let changed = matches!((version, r.version), (Some(now), Some(then)) if now != then);
        return match pending {
            Some(p) => Class::Pending(p),
            None if changed => Class::ArchivedChanged {
                archive: archive(),
                new: NewVersion::NotYet,
            },
            None => Class::Archived { archive: archive() },
        };
    }
    if r.archive.is_some() {
        return Class::ArchivedChanged {
            archive: archive(),
            new: if r.unmirrored == 0 {
                NewVersion::Mirrored
            } else {
                NewVersion::Staged
            },
        };
    }
    match pending {
        Some(p) => Class::Pending(p),
        None if r.unmirrored == 0 => Class::Mirrored,
        None => Class::Staged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Pending as LedgerPending;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
    }

    fn asset(selected: bool) -> CensusAsset {
        CensusAsset {
            pk: 1,
            uuid: "a".to_owned(),
            original_filename: "IMG_1.HEIC".into(),
            date: Utc
                .with_ymd_and_hms(2020, 3, 1, 12, 0, 0)
                .unwrap()
                .fixed_offset(),
            selected,
            trashed: false,
            hidden: false,
            shared: false,
            burst: false,
            burst_selected: false,
        }
    }

    fn pending(reason: &str, days_ago: i64) -> LedgerPending {
        LedgerPending {
            library: "anna".into(),
            uuid: "a".into(),
            reason: reason.into(),
            attempts: 1,
            first_seen: now() - chrono::Duration::days(days_ago),
            last_attempt: None,
        }
    }

    fn limits() -> Limits {
        Limits {
            now: now(),
            max_pending_days: Some(30),
        }
    }

    fn staged(files: u32, unarchived: u32, unmirrored: u32, archive: Option<&str>) -> AssetRows {
        AssetRows {
            staged: files,
            unarchived,
            unmirrored,
            pruned: 0,
            archive: archive.map(std::rc::Rc::from),
            pending: None,
            version: Some(7),
        }
    }

    #[test]
    fn a_file_whose_archive_retention_removed_is_in_no_archive() {
        // Purged from staging after its archive was verified; the archive
        // since pruned: neither staged nor archived.
        let rows = AssetRows {
            pruned: 1,
            ..staged(2, 1, 0, Some("p-a-2016-07"))
        };
        assert_eq!(
            classify(&asset(false), Some(&rows), Some(7), limits()),
            Class::Pruned
        );
    }

    #[test]
    fn never_staged_is_pending_on_its_way_or_the_back_catalogue() {
        assert_eq!(
            classify(&asset(true), None, None, limits()),
            Class::OnItsWay
        );
        assert_eq!(
            classify(&asset(false), None, None, limits()),
            Class::BackCatalogue
        );
        let rows = AssetRows {
            pending: Some(pending(
                "original only in iCloud (download failed: timeout)",
                31,
            )),
            ..AssetRows::default()
        };
        assert_eq!(
            classify(&asset(false), Some(&rows), None, limits()),
            Class::Pending(Pending {
                why: Why::DownloadFailed,
                overdue: true
            })
        );
        let no_borg = Limits {
            max_pending_days: None,
            ..limits()
        };
        assert_eq!(
            classify(&asset(false), Some(&rows), None, no_borg),
            Class::Pending(Pending {
                why: Why::DownloadFailed,
                overdue: false
            })
        );
    }

    #[test]
    fn archived_current_changed_and_not_archived_are_told_apart() {
        let archived = staged(2, 0, 0, Some("p-anna-2026-11"));
        assert!(needs_version(&asset(true), Some(&archived)));
        assert!(!needs_version(&asset(false), Some(&archived)));
        assert_eq!(
            classify(&asset(false), Some(&archived), Some(7), limits()),
            Class::Archived {
                archive: "p-anna-2026-11".into()
            }
        );
        // An unknown version never makes it "changed".
        assert_eq!(
            classify(&asset(false), Some(&archived), None, limits()),
            Class::Archived {
                archive: "p-anna-2026-11".into()
            }
        );
        let changed = |new| Class::ArchivedChanged {
            archive: "p-anna-2026-11".into(),
            new,
        };
        // Edited in Photos since: the version differs.
        assert_eq!(
            classify(&asset(true), Some(&archived), Some(8), limits()),
            changed(NewVersion::NotYet)
        );
        // The new XMP staged, then mirrored.
        let restaged = staged(2, 1, 1, Some("p-anna-2026-11"));
        assert!(!needs_version(&asset(true), Some(&restaged)));
        assert_eq!(
            classify(&asset(false), Some(&restaged), None, limits()),
            changed(NewVersion::Staged)
        );
        assert_eq!(
            classify(
                &asset(false),
                Some(&staged(2, 1, 0, Some("p-anna-2026-11"))),
                None,
                limits()
            ),
            changed(NewVersion::Mirrored)
        );
        // Never archived: mirrored, staged, or pending with its reason.
        assert_eq!(
            classify(&asset(false), Some(&staged(2, 2, 0, None)), None, limits()),
            Class::Mirrored
        );
        let mut only_staged = staged(2, 2, 1, None);
        assert_eq!(
            classify(&asset(false), Some(&only_staged), None, limits()),
            Class::Staged
        );
        only_staged.pending = Some(pending("referenced file not found", 1));
        assert_eq!(
            classify(&asset(false), Some(&only_staged), None, limits()),
            Class::Pending(Pending {
                why: Why::FileMissing,
                overdue: false
            })
        );
    }

    #[test]
    fn the_reason_kinds_follow_the_typed_reason() {
        let kind = |text: &str| Why::of(PendingReason::parse(text));
        assert_eq!(kind(plan::IN_ICLOUD), Why::InIcloud);
        assert_eq!(
            kind(&plan::download_failed(&"Photos did not answer")),
            Why::DownloadFailed
        );
        assert_eq!(
            kind(&format!("{}; referenced file not found", plan::IN_ICLOUD)),
            Why::FileMissing
        );
    }

    #[test]
    fn trashed_and_unpicked_frames_are_counted_apart() {
        let on = Options {
            edited: true,
            unpicked_bursts: true,
        };
        let off = Options {
            unpicked_bursts: false,
            ..on
        };
        let mut a = asset(false);
        assert_eq!(scope(&a, off), Scope::BackedUp);
        a.burst = true;
        assert_eq!(scope(&a, on), Scope::BackedUp);
        assert_eq!(scope(&a, off), Scope::LeftOut);
        a.burst_selected = true;
        assert_eq!(scope(&a, off), Scope::BackedUp);
        a.trashed = true;
        assert_eq!(scope(&a, on), Scope::Trashed);
    }
}
