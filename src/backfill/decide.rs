//! The backfill's decisions, pure: which month of the back catalogue comes
//! next, which of its assets fit what is left of the staging budget (the
//! part), the part's archive name, and what is left to do.

use crate::archive::period::Month;

/// An asset of the back catalogue: never staged, not taken by the normal
/// cycle, exported by the run's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) uuid: String,
    /// Of its creation date, in its own time zone (its staging folder).
    pub(crate) month: Month,
    /// What staging it takes at most: its files (an original only in
    /// iCloud by the size Photos records) and its sidecar.
    pub(crate) bytes: u64,
}

/// The oldest month with candidates, from `start` on, leaving out `busy`
/// months (those with a part not finished: held, or being archived).
#[must_use]
pub(crate) fn next_month(
    candidates: &[Candidate],
    start: Option<Month>,
    busy: &[Month],
) -> Option<Month> {
    candidates
        .iter()
        .map(|c| c.month)
        .filter(|m| start.is_none_or(|s| *m >= s) && !busy.contains(m))
        .min()
}

/// What the backfill does with a month this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Stage these assets (in the order given) as one part.
    Take {
        uuids: Vec<String>,
        bytes: u64,
        /// A single asset larger than the whole budget: it goes alone, and
        /// staging holds more than the budget while it does.
        oversized: bool,
    },
    /// Not even the first asset fits what is left: wait for the normal
    /// cycle's rollover (or a held part) to free staging.
    Wait { left: u64, needed: u64 },
}

/// The assets of one month (in the order to take them) that fit what is
/// left of `budget` with `used` bytes in staging now.
#[must_use]
pub(crate) fn part(month: &[Candidate], used: u64, budget: u64) -> Option<Part> {
    let first = month.first()?;
    let left = budget.saturating_sub(used);
    if first.bytes > budget {
        return Some(Part::Take {
            uuids: vec![first.uuid.clone()],
            bytes: first.bytes,
            oversized: true,
        });
    }
    let mut uuids = Vec::new();
    let mut bytes = 0u64;
    for c in month {
        if bytes + c.bytes > left {
            break;
        }
        bytes += c.bytes;
        uuids.push(c.uuid.clone());
    }
    Some(if uuids.is_empty() {
        Part::Wait {
            left,
            needed: first.bytes,
        }
    } else {
        Part::Take {
            uuids,
            bytes,
            oversized: false,
        }
    })
}

/// The next part: the oldest month not busy (from `start` on), how many
/// photos of the back catalogue it has, and what of it fits.
#[must_use]
pub(crate) fn next_part(
    candidates: &[Candidate],
    start: Option<Month>,
    busy: &[Month],
    (used, budget): (u64, u64),
) -> Option<(Month, usize, Part)> {
    let month = next_month(candidates, start, busy)?;
    let of_month: Vec<Candidate> = candidates
        .iter()
        .filter(|c| c.month == month)
        .cloned()
        .collect();
    let part = part(&of_month, used, budget)?;
    Some((month, of_month.len(), part))
}

/// What the last census of a library found, as far as it decides whether
/// the library must be read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LastCensus<'a> {
    /// The library's state, threshold, start and budget it was taken on.
    pub(crate) basis: &'a str,
    pub(crate) months: u64,
    /// The bytes of staging its next part waited for, if it waited.
    pub(crate) waiting: Option<u64>,
}

/// Whether the back catalogue must be read again: not while nothing it
/// rests on changed (the same basis) and it found nothing left, or a part
/// that still does not fit what is left of the budget (`left` bytes).
#[must_use]
pub(crate) fn census_needed(last: Option<LastCensus>, basis: &str, left: u64) -> bool {
    match last {
        Some(c) if c.basis == basis => {
            !(c.months == 0 || c.waiting.is_some_and(|needed| left < needed))
        }
        _ => true,
    }
}

/// `PREFIX-LIBRARY-backfill-YYYY-MM`, and `-N` for the month's part N > 1.
#[must_use]
pub(crate) fn archive_name(prefix: &str, library: &str, month: Month, part: usize) -> String {
    if part <= 1 {
        format!("{prefix}-{library}-backfill-{month}")
    } else {
        format!("{prefix}-{library}-backfill-{month}-{part}")
    }
}

/// What is left of the back catalogue (for `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Left {
    pub(crate) months: u64,
    pub(crate) assets: u64,
    pub(crate) bytes: u64,
    /// One part a run, each at most the budget: at least this many runs.
    pub(crate) runs: u64,
}

/// What is left of `candidates` from `start` on, for a staging `budget`.
#[must_use]
pub(crate) fn left(candidates: &[Candidate], start: Option<Month>, budget: u64) -> Left {
    let mut by_month: std::collections::BTreeMap<Month, u64> = std::collections::BTreeMap::new();
    let mut assets = 0;
    for c in candidates
        .iter()
        .filter(|c| start.is_none_or(|s| c.month >= s))
    {
        *by_month.entry(c.month).or_default() += c.bytes;
        assets += 1;
    }
    Left {
        months: by_month.len() as u64,
        assets,
        bytes: by_month.values().sum(),
        // A month needs one part, a large one as many as its bytes need budgets.
        runs: by_month
            .values()
            .map(|b| b.div_ceil(budget.max(1)).max(1))
            .sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Month {
        s.parse().unwrap()
    }

    fn c(uuid: &str, month: &str, bytes: u64) -> Candidate {
        Candidate {
            uuid: uuid.into(),
            month: m(month),
            bytes,
        }
    }

    #[test]
    fn the_oldest_month_from_the_start_that_is_not_busy() {
        let all = [
            c("a", "2015-01", 1),
            c("b", "2013-07", 1),
            c("d", "2014-02", 1),
        ];
        assert_eq!(next_month(&all, None, &[]), Some(m("2013-07")));
        assert_eq!(
            next_month(&all, Some(m("2014-01")), &[]),
            Some(m("2014-02"))
        );
        assert_eq!(
            next_month(&all, None, &[m("2013-07"), m("2014-02")]),
            Some(m("2015-01"))
        );
        assert_eq!(next_month(&all, Some(m("2016-01")), &[]), None);
        assert_eq!(next_month(&[], None, &[]), None);
    }

    #[test]
    fn a_part_takes_what_fits_what_is_left() {
        let month = [
            c("a", "2014-03", 40),
            c("b", "2014-03", 40),
            c("d", "2014-03", 40),
        ];
        let take = |uuids: &[&str], bytes| Part::Take {
            uuids: uuids.iter().map(|s| (*s).to_owned()).collect(),
            bytes,
            oversized: false,
        };
        assert_eq!(part(&month, 0, 200), Some(take(&["a", "b", "d"], 120)));
        assert_eq!(part(&month, 0, 100), Some(take(&["a", "b"], 80)));
        assert_eq!(
            part(&month, 70, 100),
            Some(Part::Wait {
                left: 30,
                needed: 40
            })
        );
        assert_eq!(
            part(&month, 150, 100),
            Some(Part::Wait {
                left: 0,
                needed: 40
            })
        );
        assert_eq!(part(&[], 0, 100), None);
        // Larger than the whole budget: alone, and said so.
        let big = [c("huge", "2014-03", 500), c("a", "2014-03", 1)];
        assert_eq!(
            part(&big, 10, 100),
            Some(Part::Take {
                uuids: vec!["huge".into()],
                bytes: 500,
                oversized: true
            })
        );
    }

    #[test]
    fn what_is_left() {
        let all = [
            c("a", "2014-03", 150),
            c("b", "2014-03", 100),
            c("d", "2014-05", 10),
            c("e", "2012-05", 10),
        ];
        assert_eq!(
            left(&all, Some(m("2013-01")), 100),
            Left {
                months: 2,
                assets: 3,
                bytes: 260,
                runs: 4
            }
        );
        assert_eq!(left(&[], None, 100).runs, 0);
    }

    #[test]
    fn the_next_part_is_of_the_oldest_month_not_busy() {
        let all = [
            c("a", "2014-05", 40),
            c("b", "2014-03", 40),
            c("d", "2014-03", 40),
            c("e", "2014-04", 40),
        ];
        let (month, photos, part) = next_part(&all, None, &[], (0, 60)).unwrap();
        assert_eq!((month, photos), (m("2014-03"), 2));
        assert_eq!(
            part,
            Part::Take {
                uuids: vec!["b".into()],
                bytes: 40,
                oversized: false
            }
        );
        let (month, ..) = next_part(&all, None, &[m("2014-03")], (0, 60)).unwrap();
        assert_eq!(month, m("2014-04"));
        assert_eq!(next_part(&all, Some(m("2014-06")), &[], (0, 60)), None);
    }

    #[test]
    fn the_library_is_read_again_only_when_something_may_have_changed() {
        let last = |basis, months, waiting| {
            Some(LastCensus {
                basis,
                months,
                waiting,
            })
        };
        assert!(census_needed(None, "b", 0));
        assert!(!census_needed(last("b", 0, None), "b", 0));
        assert!(census_needed(last("a", 0, None), "b", 0));
        // Work left: read again each run to take the next part...
        assert!(census_needed(last("b", 3, None), "b", 0));
        // ...unless it waits for room that is still not there.
        assert!(!census_needed(last("b", 3, Some(50)), "b", 49));
        assert!(census_needed(last("b", 3, Some(50)), "b", 50));
        assert!(census_needed(last("a", 3, Some(50)), "b", 0));
    }

    #[test]
    fn part_names() {
        assert_eq!(
            archive_name("photos", "anna", m("2014-03"), 1),
            "photos-anna-backfill-2014-03"
        );
        assert_eq!(
            archive_name("photos", "anna", m("2014-03"), 2),
            "photos-anna-backfill-2014-03-2"
        );
    }
}
