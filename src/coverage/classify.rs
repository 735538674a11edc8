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
//! - every staged file equal (role, size, hash) to a file of a verified
//!   archive: archived, current; unless its version differs from the one
//!   the ledger recorded (edited, new metadata), then archived but changed,
//!   the new version not yet staged; or pending again (a part missing);
//! - some staged file newer than any verified archive's: archived but
//!   changed (new version mirrored, or staged only) when the asset has a
//!   file in a verified archive; else pending when the ledger says why,
//!   mirrored when every file is, staged otherwise.

use chrono::{DateTime, Utc};

use crate::export::plan::{self, Options, PendingReason};
use crate::ledger::{ArchivedRow, LibraryRows, StagedRow};
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
}

/// Where the new version of a changed asset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NewVersion {
    Mirrored,
    Staged,
    /// Not staged. `taken`: the next run takes it (its dates say it
    /// changed since the threshold); else the run never will by itself.
    NotYet {
        taken: bool,
    },
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

/// The class of one asset the run backs up.
#[must_use]
pub(crate) fn classify(asset: &CensusAsset, rows: &LibraryRows, limits: Limits) -> Class {
    let none_staged: &[StagedRow] = &[];
    let none_archived: &[ArchivedRow] = &[];
    let staged = rows
        .staged
        .get(&asset.uuid)
        .map_or(none_staged, Vec::as_slice);
    let archived = rows
        .archived
        .get(&asset.uuid)
        .map_or(none_archived, Vec::as_slice);
    let pending = rows.pending.get(&asset.uuid).map(|p| Pending {
        why: Why::of(PendingReason::parse(&p.reason)),
        overdue: limits.max_pending_days.is_some_and(|days| {
            limits.now >= p.first_seen + chrono::Duration::days(i64::from(days))
        }),
    });
    if staged.is_empty() {
        return match pending {
            Some(p) => Class::Pending(p),
            None if asset.selected => Class::OnItsWay,
            None => Class::BackCatalogue,
        };
    }
    let in_archive = |f: &StagedRow| {
        archived
            .iter()
            .filter(|a| a.role == f.role && a.size == f.size && a.hash == f.hash)
            .map(|a| a.archive.as_str())
            .max()
    };
    let holding: Vec<Option<&str>> = staged.iter().map(in_archive).collect();
    let newest_archive = || {
        holding
            .iter()
            .flatten()
            .copied()
            .chain(archived.iter().map(|a| a.archive.as_str()))
            .max()
            .unwrap_or_default()
            .to_owned()
    };
    if holding.iter().all(Option::is_some) {
        let archive = holding.iter().flatten().copied().max().unwrap_or_default();
        let changed = match (asset.version, rows.versions.get(&asset.uuid)) {
            (Some(now), Some(recorded)) => now != *recorded,
            _ => false,
        };
        return if let Some(p) = pending {
            Class::Pending(p)
        } else if changed {
            Class::ArchivedChanged {
                archive: archive.to_owned(),
                new: NewVersion::NotYet {
                    taken: asset.selected,
                },
            }
        } else {
            Class::Archived {
                archive: archive.to_owned(),
            }
        };
    }
    let all_mirrored = staged
        .iter()
        .zip(&holding)
        .filter(|(_, h)| h.is_none())
        .all(|(f, _)| f.mirrored);
    if !archived.is_empty() {
        return Class::ArchivedChanged {
            archive: newest_archive(),
            new: if all_mirrored {
                NewVersion::Mirrored
            } else {
                NewVersion::Staged
            },
        };
    }
    match pending {
        Some(p) => Class::Pending(p),
        None if all_mirrored => Class::Mirrored,
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

    fn asset(uuid: &str, selected: bool) -> CensusAsset {
        CensusAsset {
            uuid: uuid.to_owned(),
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
            in_icloud: false,
            version: Some(7),
        }
    }

    fn staged(role: &str, hash: &str, mirrored: bool) -> StagedRow {
        StagedRow {
            role: role.into(),
            size: 10,
            hash: hash.into(),
            mirrored,
        }
    }

    fn archived(archive: &str, role: &str, hash: &str) -> ArchivedRow {
        ArchivedRow {
            archive: archive.into(),
            role: role.into(),
            size: 10,
            hash: hash.into(),
        }
    }

    fn pending(uuid: &str, reason: &str, days_ago: i64) -> LedgerPending {
        LedgerPending {
            library: "anna".into(),
            uuid: uuid.into(),
            reason: reason.into(),
            attempts: 1,
            first_seen: now() - chrono::Duration::days(days_ago),
            last_attempt: None,
        }
    }

    const LIMITS: Limits = Limits {
        now: DateTime::<Utc>::UNIX_EPOCH,
        max_pending_days: Some(30),
    };

    fn limits() -> Limits {
        Limits {
            now: now(),
            ..LIMITS
        }
    }

    #[test]
    fn never_staged_is_pending_on_its_way_or_the_back_catalogue() {
        let mut rows = LibraryRows::default();
        assert_eq!(
            classify(&asset("a", true), &rows, limits()),
            Class::OnItsWay
        );
        assert_eq!(
            classify(&asset("a", false), &rows, limits()),
            Class::BackCatalogue
        );
        rows.pending.insert(
            "a".into(),
            pending(
                "a",
                "original only in iCloud (download failed: timeout)",
                31,
            ),
        );
        assert_eq!(
            classify(&asset("a", false), &rows, limits()),
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
            classify(&asset("a", false), &rows, no_borg),
            Class::Pending(Pending {
                why: Why::DownloadFailed,
                overdue: false
            })
        );
    }

    #[test]
    fn archived_current_changed_and_not_archived_are_told_apart() {
        let mut rows = LibraryRows::default();
        rows.staged.insert(
            "a".into(),
            vec![staged("original", "h1", true), staged("xmp", "x1", true)],
        );
        rows.archived.insert(
            "a".into(),
            vec![
                archived("p-anna-2026-10", "original", "h1"),
                archived("p-anna-2026-10", "xmp", "x0"),
                archived("p-anna-2026-11", "xmp", "x1"),
            ],
        );
        rows.versions.insert("a".into(), 7);
        assert_eq!(
            classify(&asset("a", false), &rows, limits()),
            Class::Archived {
                archive: "p-anna-2026-11".into()
            }
        );
        // Edited in Photos since: the version differs.
        let mut edited = asset("a", true);
        edited.version = Some(8);
        assert_eq!(
            classify(&edited, &rows, limits()),
            Class::ArchivedChanged {
                archive: "p-anna-2026-11".into(),
                new: NewVersion::NotYet { taken: true }
            }
        );
        edited.selected = false;
        assert_eq!(
            classify(&edited, &rows, limits()),
            Class::ArchivedChanged {
                archive: "p-anna-2026-11".into(),
                new: NewVersion::NotYet { taken: false }
            }
        );
        // The new XMP staged, then mirrored.
        rows.staged.insert(
            "a".into(),
            vec![staged("original", "h1", true), staged("xmp", "x2", false)],
        );
        let changed = |new| Class::ArchivedChanged {
            archive: "p-anna-2026-11".into(),
            new,
        };
        assert_eq!(
            classify(&asset("a", false), &rows, limits()),
            changed(NewVersion::Staged)
        );
        rows.staged.get_mut("a").unwrap()[1].mirrored = true;
        assert_eq!(
            classify(&asset("a", false), &rows, limits()),
            changed(NewVersion::Mirrored)
        );
        // Never archived: mirrored, staged, or pending with its reason.
        rows.archived.clear();
        assert_eq!(
            classify(&asset("a", false), &rows, limits()),
            Class::Mirrored
        );
        rows.staged.get_mut("a").unwrap()[0].mirrored = false;
        assert_eq!(classify(&asset("a", false), &rows, limits()), Class::Staged);
        rows.pending
            .insert("a".into(), pending("a", "referenced file not found", 1));
        assert_eq!(
            classify(&asset("a", false), &rows, limits()),
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
        let mut a = asset("a", false);
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
