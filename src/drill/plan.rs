//! The drill's decisions, on data passed in: when a drill is due, which
//! archives may be sampled (verified, still in the repository, not empty),
//! how many files each gives (archives first, then files: a sample of 20
//! from seven archives takes about three from each, so a small archive is
//! never starved by a big one), and which files. Nothing here reads the
//! ledger, the clock or the repository.

use chrono::{DateTime, Utc};

use super::random::Rng;
use crate::ledger::{Rollover, Step};

/// A drill is due when none was ever made, or the last one is `every_days`
/// old (or the clock went back before it: the record is not trusted).
#[must_use]
pub(crate) fn due(last: Option<DateTime<Utc>>, every_days: u32, now: DateTime<Utc>) -> bool {
    last.is_none_or(|at| at > now || now - at >= chrono::Duration::days(i64::from(every_days)))
}

/// An archive a drill may take files from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) library: String,
    pub(crate) archive: String,
    /// How many files the ledger says it was given.
    pub(crate) files: u64,
}

/// The archives a drill may sample: verified (or verified and purged), not
/// deleted by retention, holding files. From the generic rollover rows, so
/// backfill archives count like monthly ones.
#[must_use]
pub(crate) fn candidates(rollovers: &[Rollover]) -> Vec<Candidate> {
    rollovers
        .iter()
        .filter(|r| r.step >= Step::Verified && r.pruned_at.is_none() && r.files > 0)
        .map(|r| Candidate {
            library: r.library.clone(),
            archive: r.archive.clone(),
            files: r.files,
        })
        .collect()
}

/// How many of `want` files each archive gives (same order as `sizes`, the
/// archives' file counts): archives in a random order, one file at a time
/// from each in turn, never more than an archive holds. Fewer than `want`
/// only when all the archives together hold fewer.
#[must_use]
pub(crate) fn shares(sizes: &[u64], want: usize, rng: &mut Rng) -> Vec<usize> {
    let order = choose((0..sizes.len()).collect(), sizes.len(), rng);
    let mut shares = vec![0usize; sizes.len()];
    let mut given = 0;
    while given < want {
        let before = given;
        for &i in &order {
            if given == want {
                break;
            }
            if (shares[i] as u64) < sizes[i] {
                shares[i] += 1;
                given += 1;
            }
        }
        if given == before {
            break;
        }
    }
    shares
}

/// `k` of `items` picked at random (all of them when there are fewer), in
/// the order picked.
#[must_use]
pub(crate) fn choose<T>(mut items: Vec<T>, k: usize, rng: &mut Rng) -> Vec<T> {
    let k = k.min(items.len());
    for i in 0..k {
        let j = i + rng.below(items.len() - i);
        items.swap(i, j);
    }
    items.truncate(k);
    items
}

/// The items `again` picks (in their order), then `k` of the others at
/// random: a drill reads the files the last one could not read back
/// before its new sample.
#[must_use]
pub(crate) fn choose_after<T>(
    items: Vec<T>,
    again: impl Fn(&T) -> bool,
    k: usize,
    rng: &mut Rng,
) -> Vec<T> {
    let (mut chosen, rest): (Vec<T>, Vec<T>) = items.into_iter().partition(|item| again(item));
    chosen.extend(choose(rest, k, rng));
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, day, 8, 0, 0).unwrap()
    }

    #[test]
    fn a_drill_is_due_after_its_interval_or_never_made() {
        assert!(due(None, 7, at(5)));
        assert!(!due(Some(at(1)), 7, at(7)));
        assert!(due(Some(at(1)), 7, at(8)));
        // A record from the future (the clock went back) is not trusted.
        assert!(due(Some(at(9)), 7, at(8)));
    }

    #[test]
    fn only_verified_archives_still_in_the_repository_with_files_are_candidates() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = crate::ledger::Ledger::open(&dir.path().join("ledger.sqlite")).unwrap();
        let now = at(1);
        let month = |m| crate::archive::period::Month {
            year: 2026,
            month: m,
        };
        for (name, m, step) in [
            ("p-a-2026-01", 1, Some(Step::Purged)),
            ("p-a-2026-02", 2, Some(Step::Verified)),
            ("p-a-2026-03", 3, Some(Step::Created)),
            ("p-a-2026-04", 4, Some(Step::Purged)),
            ("p-a-2026-05", 5, None),
        ] {
            ledger
                .plan_rollover("a", name, (month(m), month(m)), &[], now)
                .unwrap();
            if let Some(step) = step {
                ledger.set_rollover_step("a", name, step, now).unwrap();
            }
        }
        ledger.set_pruned("a", "p-a-2026-04", now).unwrap();
        // Files as the ledger counts them: the rows say how many.
        let mut rollovers = ledger.rollovers().unwrap();
        for r in &mut rollovers {
            r.files = if r.archive == "p-a-2026-02" { 0 } else { 3 };
        }
        let names: Vec<String> = candidates(&rollovers)
            .into_iter()
            .map(|c| c.archive)
            .collect();
        assert_eq!(names, ["p-a-2026-01"]);
        rollovers[1].files = 2;
        assert_eq!(candidates(&rollovers).len(), 2);
    }

    #[test]
    fn the_sample_is_spread_across_archives_and_capped_by_their_size() {
        let mut rng = Rng::seeded(7);
        // Seven archives, 20 files: three from six of them, two from one.
        let s = shares(&[1000, 5, 3000, 40, 7, 9, 100], 20, &mut rng);
        assert_eq!(s.iter().sum::<usize>(), 20);
        assert!(s.iter().all(|&n| n == 2 || n == 3), "{s:?}");
        // A small archive gives what it has, the others make up the rest.
        let s = shares(&[1, 100, 2], 10, &mut rng);
        assert_eq!((s[0], s[2], s[1]), (1, 2, 7));
        // Fewer files than wanted: all of them.
        assert_eq!(shares(&[2, 1], 10, &mut rng), [2, 1]);
        // More archives than files: each picked archive gives one, and
        // different seeds pick different archives.
        let picked = |seed| {
            shares(&[50; 10], 3, &mut Rng::seeded(seed))
                .iter()
                .map(|&n| n.min(1))
                .collect::<Vec<_>>()
        };
        assert_eq!(picked(1).iter().sum::<usize>(), 3);
        assert!((2..20).any(|seed| picked(seed) != picked(1)));
        assert!(shares(&[], 5, &mut rng).is_empty());
    }

    #[test]
    fn choose_picks_distinct_items_at_random() {
        let mut rng = Rng::seeded(3);
        let picked = choose((0..100).collect::<Vec<u32>>(), 10, &mut rng);
        let distinct: std::collections::BTreeSet<u32> = picked.iter().copied().collect();
        assert_eq!((picked.len(), distinct.len()), (10, 10));
        assert_ne!(picked, (0..10).collect::<Vec<_>>());
        assert_eq!(choose(vec![1, 2], 5, &mut rng).len(), 2);
    }

    #[test]
    fn the_files_to_read_again_come_first_then_the_sample() {
        let mut rng = Rng::seeded(5);
        let picked = choose_after(
            (0..100).collect::<Vec<u32>>(),
            |&n| n == 97 || n == 3,
            2,
            &mut rng,
        );
        assert_eq!(picked.len(), 4);
        assert_eq!(&picked[..2], [3, 97]);
        assert!(picked[2..].iter().all(|n| *n != 3 && *n != 97));
        // Nothing to read again: a plain sample.
        assert_eq!(choose_after(vec![1, 2, 3], |_| false, 1, &mut rng).len(), 1);
        // Only files to read again.
        assert_eq!(choose_after(vec![1, 2, 3], |&n| n == 2, 0, &mut rng), [2]);
    }
}
