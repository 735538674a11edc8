//! When a run may read only the assets whose version changed
//! (`photos::versions`), and when it reads every selected asset in full,
//! as every run did before: the safety net under the versions.
//!
//! A full read happens when any of these holds, so a change the versions
//! miss (a file of the library replaced on disk without a database change,
//! a write that did not bump `Z_OPT`) is caught within a day:
//!
//! - the ledger holds no basis for the library: first run, a ledger from
//!   before versions (schema 3), or the basis was forgotten after an error;
//! - the last full read is a day old or more (`FULL_READ_EVERY`), or in the
//!   future (a clock set back is not believed);
//! - the basis differs: another build of the reader or planner (a hash of
//!   their sources), another Photos model, other export options;
//! - the copy of the database was checked whole this run (first run, daily,
//!   after a read error: `photos::integrity`), or the walk restarted on a
//!   fresh copy after a damaged page;
//! - the library's schema has no `Z_OPT`;
//! - a dry run (it records nothing, so it reads everything).
//!
//! A full read forgets the library's versions first and records each
//! asset's version as its batch is staged; its basis is recorded only when
//! the whole walk succeeded. Any error of a walk forgets the basis.

use chrono::{DateTime, TimeDelta, Utc};

use super::plan::Options;
use crate::ledger::VersionBasis;

/// How long the versions are trusted after a full read.
const FULL_READ_EVERY: TimeDelta = TimeDelta::hours(24);

/// How a walk reads the selected assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// Every selected asset in full; versions recorded afresh.
    Full,
    /// Only the assets whose version changed, and the pending ones.
    Changed,
}

/// Whether the run at `now` may read only what changed (see the notes).
#[must_use]
pub(super) fn read(
    stored: Option<&VersionBasis>,
    basis: &str,
    copy_checked_whole: bool,
    versions_supported: bool,
    now: DateTime<Utc>,
) -> Read {
    match stored {
        Some(s)
            if s.basis == basis
                && versions_supported
                && !copy_checked_whole
                && s.full_at <= now
                && now - s.full_at < FULL_READ_EVERY =>
        {
            Read::Changed
        }
        _ => Read::Full,
    }
}

/// What the versions of a library rest on: this build's reader and
/// planner (a hash of their sources), the Photos model and the options.
#[must_use]
pub(super) fn basis(model_version: i64, options: Options) -> String {
    let mut h = blake3::Hasher::new();
    for source in SOURCES {
        h.update(&(source.len() as u64).to_le_bytes());
        h.update(source.as_bytes());
    }
    let code = h.finalize().to_hex();
    format!(
        "v1 code={} model={model_version} edited={} unpicked_bursts={}",
        &code.as_str()[..16],
        options.edited,
        options.unpicked_bursts
    )
}

/// The code an asset's files and version are derived with: any edit of
/// these makes the next run read everything in full.
const SOURCES: [&str; 14] = [
    include_str!("../photos/query.rs"),
    include_str!("../photos/derive.rs"),
    include_str!("../photos/model.rs"),
    include_str!("../photos/time.rs"),
    include_str!("../photos/paths.rs"),
    include_str!("../photos/schema.rs"),
    include_str!("../photos/versions.rs"),
    include_str!("plan.rs"),
    include_str!("layout.rs"),
    include_str!("xmp.rs"),
    include_str!("batches.rs"),
    include_str!("source.rs"),
    include_str!("stage.rs"),
    include_str!("versions.rs"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_recent_full_read_on_the_same_basis_lets_a_run_read_what_changed() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let options = Options {
            edited: true,
            unpicked_bursts: false,
        };
        let b = basis(19_000, options);
        let stored = |hours_ago: i64| VersionBasis {
            basis: b.clone(),
            full_at: now - TimeDelta::hours(hours_ago),
        };
        assert_eq!(read(Some(&stored(1)), &b, false, true, now), Read::Changed);
        assert_eq!(read(None, &b, false, true, now), Read::Full);
        assert_eq!(read(Some(&stored(24)), &b, false, true, now), Read::Full);
        assert_eq!(read(Some(&stored(-1)), &b, false, true, now), Read::Full);
        assert_eq!(read(Some(&stored(1)), &b, true, true, now), Read::Full);
        assert_eq!(read(Some(&stored(1)), &b, false, false, now), Read::Full);
        for other in [
            basis(19_001, options),
            basis(
                19_000,
                Options {
                    edited: false,
                    ..options
                },
            ),
            basis(
                19_000,
                Options {
                    unpicked_bursts: true,
                    ..options
                },
            ),
        ] {
            assert_ne!(other, b);
            assert_eq!(read(Some(&stored(1)), &other, false, true, now), Read::Full);
        }
    }
}
