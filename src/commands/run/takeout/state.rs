//! What to do with a Takeout set now, decided from its parts' ledger rows
//! and fingerprints (pure): done, failed until a part changes, parts
//! missing, settling, or to be read; and for a dry run, the rows a sighting
//! would write and how much of a set is read already.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ledger::PartState;
use crate::takeout::inbox::TakeoutSet;

/// What to do with a set, from its parts' fingerprints and the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SetState {
    /// Every part read with its current fingerprint.
    Done,
    /// Its reading failed with the parts as they are: not read again until
    /// one changes; the error again.
    Failed(String),
    /// Numbers missing below the highest part.
    Incomplete(Vec<u32>),
    /// A part new or changed less than the settle time ago; the longest
    /// wait left.
    Settling(Duration),
    Read,
}

/// Decides a set's state from its parts' ledger rows (after this run's
/// sighting) and their fingerprints now; `settle`: how long they must
/// have stayed the same (`TakeoutSet::settle_time`).
pub(super) fn set_state(
    set: &TakeoutSet,
    parts: &[(Option<PartState>, String)],
    now: DateTime<Utc>,
    settle: Duration,
) -> SetState {
    let current = |s: &PartState, fp: &str| s.fingerprint == fp;
    // Read with these very parts before: not again until one changes.
    let read_before = parts
        .iter()
        .all(|(s, fp)| s.as_ref().is_some_and(|s| current(s, fp) && s.done()));
    if read_before {
        let failed = parts.iter().find_map(|(s, _)| {
            s.as_ref()
                .filter(|s| s.outcome.as_deref() == Some("failed"))
                .map(|s| s.error.clone().unwrap_or_default())
        });
        return failed.map_or(SetState::Done, SetState::Failed);
    }
    if !set.missing.is_empty() {
        return SetState::Incomplete(set.missing.clone());
    }
    let wait_left = |s: &Option<PartState>, fp: &str| match s {
        Some(s) if current(s, fp) => {
            settle.saturating_sub((now - s.seen_at).to_std().unwrap_or_default())
        }
        _ => settle,
    };
    let longest = parts
        .iter()
        .map(|(s, fp)| wait_left(s, fp))
        .max()
        .unwrap_or_default();
    if longest.is_zero() {
        SetState::Read
    } else {
        SetState::Settling(longest)
    }
}

/// A part's ledger state once sighted now with `fp` (what
/// `Ledger::sight_takeout_part` writes), computed without writing: for a
/// dry run.
pub(super) fn sighted(state: Option<PartState>, fp: &str, now: DateTime<Utc>) -> PartState {
    match state {
        Some(s) if s.fingerprint == fp => s,
        _ => PartState {
            fingerprint: fp.to_owned(),
            seen_at: now,
            processed_at: None,
            outcome: None,
            error: None,
            members_read: 0,
            bytes_read: 0,
            read_to_end: false,
        },
    }
}

/// How much of a set is read: bytes of the parts (a part read part-way
/// counts its members' bytes, at most its size), and of all of them.
pub(super) fn read_so_far(set: &TakeoutSet, states: &[PartState]) -> (u64, u64) {
    let total = set.parts.iter().map(|p| p.size).sum();
    let read = (set.parts.iter())
        .zip(states)
        .map(|(p, s)| {
            if s.read_to_end {
                p.size
            } else {
                s.bytes_read.min(p.size)
            }
        })
        .sum();
    (read, total)
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::takeout::archive::Format;
    use crate::takeout::inbox::Part;

    fn set(missing: Vec<u32>) -> TakeoutSet {
        let part = |n: u32| Part {
            name: format!("takeout-20250101T000000Z-00{n}.zip"),
            number: n,
            size: 1,
            modified: SystemTime::UNIX_EPOCH,
        };
        TakeoutSet {
            id: "takeout-20250101T000000Z".into(),
            format: Format::Zip,
            parts: vec![part(1), part(3)],
            missing,
            downloading: Vec::new(),
            may_continue_after: None,
        }
    }

    fn state(fp: &str, seen: i64, outcome: Option<&str>) -> PartState {
        PartState {
            fingerprint: fp.into(),
            seen_at: DateTime::from_timestamp(seen, 0).unwrap(),
            processed_at: outcome.map(|_| DateTime::from_timestamp(seen, 0).unwrap()),
            outcome: outcome.map(str::to_owned),
            error: outcome.filter(|o| *o == "failed").map(|_| "cut".to_owned()),
            members_read: 0,
            bytes_read: 0,
            read_to_end: false,
        }
    }

    #[test]
    fn a_dry_run_sights_in_memory_and_counts_what_is_read() {
        let now = DateTime::from_timestamp(10_000, 0).unwrap();
        let mut partly = state("f1", 5, None);
        partly.members_read = 3;
        partly.bytes_read = 7;
        // The same fingerprint keeps its row; another starts over, seen now.
        assert_eq!(sighted(Some(partly.clone()), "f1", now), partly);
        let fresh = sighted(Some(partly.clone()), "f2", now);
        assert_eq!((fresh.seen_at, fresh.members_read), (now, 0));
        assert_eq!(sighted(None, "f1", now).fingerprint, "f1");
        // Part 1 (size 1) read whole, part 3 part-way (at most its size).
        let mut whole = state("f1", 5, None);
        whole.read_to_end = true;
        let mut s = set(Vec::new());
        s.parts[1].size = 100;
        assert_eq!(read_so_far(&s, &[whole, partly]), (1 + 7, 101));
    }

    #[test]
    fn a_set_is_read_once_settled_complete_and_not_done() {
        let now = DateTime::from_timestamp(10_000, 0).unwrap();
        let settle = Duration::from_secs(600);
        let old = 10_000 - 601;
        let fresh = 10_000 - 60;
        let parts = |a, b| vec![(Some(a), "f1".to_owned()), (Some(b), "f2".to_owned())];
        let s = set(Vec::new());
        assert_eq!(
            set_state(
                &s,
                &parts(state("f1", old, None), state("f2", old, None)),
                now,
                settle
            ),
            SetState::Read
        );
        assert_eq!(
            set_state(
                &s,
                &parts(state("f1", old, None), state("f2", fresh, None)),
                now,
                settle
            ),
            SetState::Settling(Duration::from_secs(540))
        );
        assert_eq!(
            set_state(
                &s,
                &parts(state("f1", old, Some("ok")), state("f2", old, Some("ok"))),
                now,
                settle
            ),
            SetState::Done
        );
        // One part replaced since: read again (its new row is not done).
        assert_eq!(
            set_state(
                &s,
                &parts(state("f1", old, Some("ok")), state("f2", old, None)),
                now,
                settle
            ),
            SetState::Read
        );
        let failed = || state("f1", old, Some("failed"));
        assert_eq!(
            set_state(
                &s,
                &parts(failed(), state("f2", old, Some("failed"))),
                now,
                settle
            ),
            SetState::Failed("cut".into())
        );
        // A failed set with a part replaced since: read again.
        assert_eq!(
            set_state(&s, &parts(failed(), state("f2", old, None)), now, settle),
            SetState::Read
        );
        assert_eq!(
            set_state(
                &set(vec![2]),
                &parts(state("f1", old, None), state("f2", old, None)),
                now,
                settle
            ),
            SetState::Incomplete(vec![2])
        );
    }
}
