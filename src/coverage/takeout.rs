//! Coverage of a `[[takeout]]` source (issue 19): is every Google photo
//! safe? The sets in the inbox and where each stands (read, waiting,
//! parts missing, failed, not read yet; a set read and since removed from
//! the inbox stays listed), and for each set read, every content of it
//! (the reports the run keeps, `ledger::SetReport`) accounted for: in a
//! verified archive, staged and mirrored, staged only, in no archive any
//! more (retention), or MISSING from the ledger (which must never happen:
//! not covered, the exit code shows it). Then the lists a person must see
//! (media without JSON, JSON without media, JSON that did not parse,
//! members refused, trashed contents left out): counts always, the names
//! in full in `--json`. A set's state comes from its parts' rows, not from
//! reading them: a part replaced since its set was read shows as read
//! until a run sees it changed. Pure: `gather` reads the inbox and the
//! ledger.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::classify::Limits;
use super::YearCount;
use crate::ledger::{ContentRow, PartState, SetReport};

/// One source's coverage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TakeoutCoverage {
    pub(crate) source: String,
    /// The inbox could not be looked at (why): the sets listed are those
    /// the ledger has reports of.
    pub(crate) inbox_error: Option<String>,
    pub(crate) sets: Vec<SetCoverage>,
    /// Distinct contents of the sets read (a content in two sets once).
    pub(crate) contents: u64,
    pub(crate) archived: u64,
    pub(crate) mirrored: u64,
    /// Staged, not yet mirrored.
    pub(crate) staged: u64,
    /// Archived once, the archive since removed by retention.
    pub(crate) pruned: u64,
    /// With no staged original in the ledger: must never happen.
    pub(crate) missing: u64,
    pub(crate) covered: bool,
    pub(crate) not_covered: Vec<TakeoutProblem>,
    /// The contents by the year of their day folder (as a library's).
    pub(crate) years: Vec<YearCount>,
}

/// What is not covered in a source, with how many (contents or sets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TakeoutProblem {
    pub(crate) reason: TakeoutReason,
    pub(crate) count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TakeoutReason {
    /// Contents of a set read with no staged original in the ledger.
    MissingFromLedger,
    /// Sets whose parts are not all in the inbox, longer than `[borg]
    /// max_pending_days` (as a library's pending originals).
    PartsMissing,
    /// Sets whose reading failed (a damaged part): read again once it changes.
    ReadFailed,
    /// Contents whose archive was removed by retention.
    Pruned,
}

/// One set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetCoverage {
    pub(crate) id: String,
    pub(crate) state: SetState,
    /// Its parts in the inbox (name, bytes); as read when it is gone.
    pub(crate) parts: Vec<(String, u64)>,
    /// What its latest read found, and where its contents are now.
    pub(crate) read: Option<ReadFigures>,
}

/// Where a set stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub(crate) enum SetState {
    /// Read with its parts as they are.
    Read,
    /// Read, and no longer in the inbox (its contents stay accounted for).
    Removed,
    /// Its parts seen by a run, not read yet: waiting for them to settle or
    /// for the next run.
    Waiting { since: DateTime<Utc> },
    /// Numbers below the highest part that are not in the inbox; since a
    /// run first saw a part of it; `overdue`: longer than `[borg]
    /// max_pending_days` (not covered; before, on its way like a library's
    /// original still in iCloud).
    PartsMissing {
        numbers: Vec<u32>,
        since: Option<DateTime<Utc>>,
        overdue: bool,
    },
    /// Its reading failed with the parts as they are.
    Failed { why: String },
    /// Read part-way: runs go on with it until every part is read to its
    /// end (a set too large for one run).
    Reading {
        parts_read: usize,
        parts: usize,
        bytes_read: u64,
    },
    /// Not seen by a run yet.
    NotReadYet,
}

/// A set's latest read, and its contents now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadFigures {
    pub(crate) read_at: DateTime<Utc>,
    pub(crate) media_members: u64,
    pub(crate) contents: u64,
    pub(crate) staged_new: u64,
    pub(crate) known: u64,
    pub(crate) duplicates: u64,
    pub(crate) archived: u64,
    pub(crate) mirrored: u64,
    pub(crate) staged: u64,
    pub(crate) pruned: u64,
    /// Content hashes with no staged original in the ledger, every one.
    pub(crate) missing: Vec<String>,
    pub(crate) lists: Lists,
}

/// The lists of a set: counts always; the names in `--json` (left out of
/// `coverage.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Lists {
    pub(crate) without_json: Names,
    pub(crate) json_without_media: Names,
    pub(crate) bad_json: Names,
    pub(crate) refused: Names,
    pub(crate) trashed: Names,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Names {
    pub(crate) count: u64,
    /// Untrusted (printable already): escape nothing more, print as is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) names: Vec<String>,
}

impl Names {
    fn of(names: &[String]) -> Self {
        Self {
            count: names.len() as u64,
            names: names.to_vec(),
        }
    }
}

impl Lists {
    /// Each list with its label, in the order they are shown.
    pub(crate) fn labelled(&self) -> [(&'static str, &Names); 5] {
        [
            (
                "media without JSON (dated from the file itself or the archive)",
                &self.without_json,
            ),
            ("JSON without media", &self.json_without_media),
            (
                "JSON that did not parse (media staged without it)",
                &self.bad_json,
            ),
            ("members refused", &self.refused),
            ("trashed, left out", &self.trashed),
        ]
    }

    /// Drops the names, keeps the counts (for `coverage.json`).
    pub(crate) fn drop_names(&mut self) {
        for n in [
            &mut self.without_json,
            &mut self.json_without_media,
            &mut self.bad_json,
            &mut self.refused,
            &mut self.trashed,
        ] {
            n.names = Vec::new();
        }
    }
}

/// A set in the inbox as the source's scan found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InboxSet {
    pub(crate) id: String,
    /// Name, bytes, and the ledger's state of the part.
    pub(crate) parts: Vec<(String, u64, Option<PartState>)>,
    pub(crate) missing: Vec<u32>,
}

/// Where a set in the inbox stands, from its parts' ledger rows, judged
/// with `limits` (now, `[borg] max_pending_days`).
#[must_use]
pub(crate) fn state(set: &InboxSet, limits: Limits) -> SetState {
    if !set.missing.is_empty() {
        let since = set
            .parts
            .iter()
            .filter_map(|(_, _, s)| s.as_ref())
            .map(|s| s.seen_at)
            .min();
        let overdue = match (since, limits.max_pending_days) {
            (Some(since), Some(days)) => {
                limits.now >= since + chrono::Duration::days(i64::from(days))
            }
            _ => false,
        };
        return SetState::PartsMissing {
            numbers: set.missing.clone(),
            since,
            overdue,
        };
    }
    let states: Vec<Option<&PartState>> = set.parts.iter().map(|(_, _, s)| s.as_ref()).collect();
    if let Some(failed) = states
        .iter()
        .flatten()
        .find(|s| s.done() && s.outcome.as_deref() == Some("failed"))
    {
        return SetState::Failed {
            why: failed.error.clone().unwrap_or_default(),
        };
    }
    if states.iter().all(|s| s.is_some_and(PartState::done)) {
        return SetState::Read;
    }
    if states.iter().any(Option::is_none) {
        return SetState::NotReadYet;
    }
    if states.iter().flatten().any(|s| s.members_read > 0) {
        return SetState::Reading {
            parts_read: states.iter().flatten().filter(|s| s.read_to_end).count(),
            parts: states.len(),
            bytes_read: states.iter().flatten().map(|s| s.bytes_read).sum(),
        };
    }
    let since = states.iter().flatten().map(|s| s.seen_at).max();
    since.map_or(SetState::NotReadYet, |since| SetState::Waiting { since })
}

/// Where one content stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    Archived,
    Mirrored,
    Staged,
    Pruned,
    Missing,
}

fn where_is(row: &ContentRow) -> Where {
    match &row.staged {
        None => Where::Missing,
        Some(s) if s.archived => Where::Archived,
        Some(s) if s.purged => Where::Pruned,
        Some(s) if s.mirrored => Where::Mirrored,
        Some(_) => Where::Staged,
    }
}

/// The year of a staging path `NAME/YYYY/MM/DD/file`.
fn year_of(path: &str) -> Option<i32> {
    path.split('/').nth(1)?.parse().ok()
}

/// One source's coverage from its inbox (`None`: could not be looked at,
/// with why), its reports and their contents' rows.
#[must_use]
pub(crate) fn summarize(
    (source, limits): (&str, Limits),
    inbox: Result<Vec<InboxSet>, String>,
    reports: Vec<SetReport>,
    rows: &[ContentRow],
) -> TakeoutCoverage {
    let mut by_set: HashMap<&str, Vec<&ContentRow>> = HashMap::new();
    for row in rows {
        by_set.entry(&row.set_id).or_default().push(row);
    }
    let mut reports: BTreeMap<String, SetReport> =
        reports.into_iter().map(|r| (r.set_id.clone(), r)).collect();
    let (inbox_sets, inbox_error) = match inbox {
        Ok(sets) => (sets, None),
        Err(why) => (Vec::new(), Some(why)),
    };
    let mut sets = Vec::new();
    for set in &inbox_sets {
        let state = state(set, limits);
        // Its last read, whatever its state now (a part replaced since is
        // read again; what the last read staged stays accounted for).
        let report = reports.remove(&set.id);
        sets.push(SetCoverage {
            id: set.id.clone(),
            parts: set.parts.iter().map(|(n, b, _)| (n.clone(), *b)).collect(),
            read: report.map(|r| figures(&r, by_set.get(r.set_id.as_str()))),
            state,
        });
    }
    // Sets read before whose parts are gone, or all of them when the inbox
    // could not be looked at.
    for (id, r) in reports {
        let in_inbox = sets.iter().any(|s| s.id == id);
        if in_inbox {
            continue;
        }
        sets.push(SetCoverage {
            id: id.clone(),
            state: if inbox_error.is_some() {
                SetState::Read
            } else {
                SetState::Removed
            },
            parts: r.parts.iter().map(|p| (p.name.clone(), p.size)).collect(),
            read: Some(figures(&r, by_set.get(id.as_str()))),
        });
    }
    sets.sort_by(|a, b| a.id.cmp(&b.id));
    let mut c = TakeoutCoverage {
        source: source.to_owned(),
        inbox_error,
        sets,
        contents: 0,
        archived: 0,
        mirrored: 0,
        staged: 0,
        pruned: 0,
        missing: 0,
        covered: true,
        not_covered: Vec::new(),
        years: Vec::new(),
    };
    count_contents(&mut c, rows);
    let sets_in = |f: fn(&SetState) -> bool| c.sets.iter().filter(|s| f(&s.state)).count() as u64;
    let problems = [
        (TakeoutReason::MissingFromLedger, c.missing),
        (
            TakeoutReason::PartsMissing,
            sets_in(|s| matches!(s, SetState::PartsMissing { overdue: true, .. })),
        ),
        (
            TakeoutReason::ReadFailed,
            sets_in(|s| matches!(s, SetState::Failed { .. })),
        ),
        (TakeoutReason::Pruned, c.pruned),
    ];
    c.not_covered = problems
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(reason, count)| TakeoutProblem { reason, count })
        .collect();
    c.covered = c.not_covered.is_empty();
    c
}

/// Counts each content once (across sets) where it stands, and by the year
/// of its day folder.
fn count_contents(c: &mut TakeoutCoverage, rows: &[ContentRow]) {
    // Each content once, across sets.
    let mut seen: HashSet<&str> = HashSet::new();
    let mut years: BTreeMap<i32, YearCount> = BTreeMap::new();
    for row in rows {
        if !seen.insert(&row.hash) {
            continue;
        }
        let w = where_is(row);
        c.contents += 1;
        let count = match w {
            Where::Archived => &mut c.archived,
            Where::Mirrored => &mut c.mirrored,
            Where::Staged => &mut c.staged,
            Where::Pruned => &mut c.pruned,
            Where::Missing => &mut c.missing,
        };
        *count += 1;
        let Some(year) = row.staged.as_ref().and_then(|s| year_of(&s.path)) else {
            continue;
        };
        let y = years.entry(year).or_insert_with(|| YearCount {
            year,
            ..YearCount::default()
        });
        match w {
            Where::Archived => y.archived += 1,
            Where::Mirrored | Where::Staged => y.staged += 1,
            Where::Pruned | Where::Missing => y.not_backed_up += 1,
        }
    }
    c.years = years.into_values().collect();
}

/// A set's report with where its contents are now.
fn figures(r: &SetReport, rows: Option<&Vec<&ContentRow>>) -> ReadFigures {
    let mut f = ReadFigures {
        read_at: r.read_at,
        media_members: r.media_members,
        contents: r.contents,
        staged_new: r.staged_new,
        known: r.known,
        duplicates: r.duplicates,
        archived: 0,
        mirrored: 0,
        staged: 0,
        pruned: 0,
        missing: Vec::new(),
        lists: Lists {
            without_json: Names::of(&r.lists.without_json),
            json_without_media: Names::of(&r.lists.json_without_media),
            bad_json: Names::of(&r.lists.bad_json),
            refused: Names::of(&r.lists.refused),
            trashed: Names::of(&r.lists.trashed),
        },
    };
    for row in rows.into_iter().flatten() {
        match where_is(row) {
            Where::Archived => f.archived += 1,
            Where::Mirrored => f.mirrored += 1,
            Where::Staged => f.staged += 1,
            Where::Pruned => f.pruned += 1,
            Where::Missing => f.missing.push(row.hash.clone()),
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{ReportLists, StagedState};

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    fn part(outcome: Option<&str>) -> PartState {
        PartState {
            fingerprint: "f".into(),
            seen_at: at(10),
            processed_at: outcome.map(|_| at(20)),
            outcome: outcome.map(str::to_owned),
            error: outcome
                .filter(|o| *o == "failed")
                .map(|_| "cut at 12 MB".into()),
            members_read: 0,
            bytes_read: 0,
            read_to_end: false,
        }
    }

    fn set(id: &str, parts: Vec<Option<PartState>>, missing: Vec<u32>) -> InboxSet {
        InboxSet {
            id: id.into(),
            parts: parts
                .into_iter()
                .enumerate()
                .map(|(i, s)| (format!("{id}-00{}.zip", i + 1), 100, s))
                .collect(),
            missing,
        }
    }

    fn limits(days: Option<u32>) -> Limits {
        Limits {
            now: at(10 + 86_400 * 3),
            max_pending_days: days,
        }
    }

    #[test]
    fn a_set_state_from_its_parts() {
        let judged = |set: &InboxSet| state(set, limits(Some(3)));
        let ok = || Some(part(Some("ok")));
        assert_eq!(judged(&set("a", vec![ok(), ok()], vec![])), SetState::Read);
        // Parts missing: on their way until `max_pending_days` after a run
        // first saw the set; never overdue without `[borg]`.
        let seen_at = |s: i64| {
            Some(PartState {
                seen_at: at(s),
                ..part(Some("ok"))
            })
        };
        let missing =
            |seen: i64, days| state(&set("a", vec![seen_at(seen)], vec![2]), limits(days));
        assert_eq!(
            missing(10, Some(3)),
            SetState::PartsMissing {
                numbers: vec![2],
                since: Some(at(10)),
                overdue: true
            }
        );
        assert!(matches!(
            missing(11, Some(3)),
            SetState::PartsMissing { overdue: false, .. }
        ));
        assert!(matches!(
            missing(10, None),
            SetState::PartsMissing { overdue: false, .. }
        ));
        assert!(matches!(
            state(&set("a", vec![None], vec![2]), limits(Some(0))),
            SetState::PartsMissing {
                since: None,
                overdue: false,
                ..
            }
        ));
        assert_eq!(
            judged(&set(
                "a",
                vec![Some(part(Some("failed"))), Some(part(Some("failed")))],
                vec![]
            )),
            SetState::Failed {
                why: "cut at 12 MB".into()
            }
        );
        assert_eq!(
            judged(&set("a", vec![ok(), Some(part(None))], vec![])),
            SetState::Waiting { since: at(10) }
        );
        assert_eq!(
            judged(&set("a", vec![Some(part(None)), None], vec![])),
            SetState::NotReadYet
        );
        // Read part-way by earlier runs: one part to its end, one begun.
        let read = |members_read, bytes_read, read_to_end| {
            Some(PartState {
                members_read,
                bytes_read,
                read_to_end,
                ..part(None)
            })
        };
        assert_eq!(
            judged(&set(
                "a",
                vec![read(9, 700, true), read(2, 50, false)],
                vec![]
            )),
            SetState::Reading {
                parts_read: 1,
                parts: 2,
                bytes_read: 750
            }
        );
    }

    fn row(set: &str, hash: &str, staged: Option<(&str, bool, bool, bool)>) -> ContentRow {
        ContentRow {
            set_id: set.into(),
            hash: hash.into(),
            staged: staged.map(|(path, mirrored, purged, archived)| StagedState {
                path: path.into(),
                mirrored,
                purged,
                archived,
            }),
        }
    }

    fn report(id: &str) -> SetReport {
        SetReport {
            source: "g".into(),
            set_id: id.into(),
            read_at: at(20),
            parts: vec![],
            media_members: 4,
            contents: 3,
            staged_new: 3,
            known: 0,
            duplicates: 1,
            lists: ReportLists {
                without_json: vec!["x.jpg".into()],
                ..ReportLists::default()
            },
            hashes: vec![],
        }
    }

    #[test]
    fn every_content_accounted_for_once_and_a_missing_one_is_not_covered() {
        let ok = || Some(part(Some("ok")));
        let inbox = vec![set("a", vec![ok()], vec![]), set("c", vec![ok()], vec![2])];
        let rows = vec![
            row("a", "h1", Some(("g/2019/07/04/a.jpg", true, true, true))),
            row("a", "h2", Some(("g/2020/01/01/b.jpg", true, false, false))),
            row("a", "h3", None),
            // A set read before and since removed from the inbox.
            row("b", "h2", Some(("g/2020/01/01/b.jpg", true, false, false))),
            row("b", "h4", Some(("g/2020/02/01/d.jpg", false, false, false))),
        ];
        let c = summarize(
            ("g", limits(Some(3))),
            Ok(inbox.clone()),
            vec![report("a"), report("b")],
            &rows,
        );
        assert_eq!(
            (c.contents, c.archived, c.mirrored, c.staged, c.missing),
            (4, 1, 1, 1, 1)
        );
        let ids: Vec<(&str, &SetState)> =
            c.sets.iter().map(|s| (s.id.as_str(), &s.state)).collect();
        assert_eq!(
            ids,
            [
                ("a", &SetState::Read),
                ("b", &SetState::Removed),
                (
                    "c",
                    &SetState::PartsMissing {
                        numbers: vec![2],
                        since: Some(at(10)),
                        overdue: true
                    }
                )
            ]
        );
        let a = c.sets[0].read.as_ref().unwrap();
        assert_eq!((a.archived, a.mirrored, a.staged), (1, 1, 0));
        assert_eq!(a.missing, ["h3"]);
        assert_eq!(a.lists.without_json.count, 1);
        assert!(!c.covered);
        assert_eq!(
            c.not_covered,
            [
                TakeoutProblem {
                    reason: TakeoutReason::MissingFromLedger,
                    count: 1
                },
                TakeoutProblem {
                    reason: TakeoutReason::PartsMissing,
                    count: 1
                }
            ]
        );
        // A part of a set read replaced since: waiting, its last read kept.
        let mut replaced = inbox;
        replaced[0].parts[0].2 = Some(part(None));
        let c2 = summarize(
            ("g", limits(Some(3))),
            Ok(replaced),
            vec![report("a")],
            &rows,
        );
        assert_eq!(c2.sets[0].state, SetState::Waiting { since: at(10) });
        assert_eq!(c2.sets[0].read.as_ref().unwrap().missing, ["h3"]);
        let years: Vec<(i32, u64, u64)> = c
            .years
            .iter()
            .map(|y| (y.year, y.archived, y.staged))
            .collect();
        assert_eq!(years, [(2019, 1, 0), (2020, 0, 2)]);
    }

    #[test]
    fn an_inbox_that_cannot_be_listed_keeps_the_sets_read() {
        let rows = vec![row(
            "a",
            "h1",
            Some(("g/2019/07/04/a.jpg", true, false, false)),
        )];
        let c = summarize(
            ("g", limits(None)),
            Err("timed out".into()),
            vec![report("a")],
            &rows,
        );
        assert_eq!(c.inbox_error.as_deref(), Some("timed out"));
        assert_eq!(c.sets[0].state, SetState::Read);
        assert!(c.covered);
    }
}
