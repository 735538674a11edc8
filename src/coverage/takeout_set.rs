//! The report kept of a Takeout set once it is staged (`ledger::SetReport`),
//! made from what reading it found (`takeout::ingest::SetRead`) and what
//! was decided (`takeout::plan::SetPlan`): its parts and their sizes, the
//! counts, the lists a person must see and every content hash of the set.
//! Pure; the run records it in the transaction that records the set's files.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::ledger::{ReportLists, ReportPart, SetReport};
use crate::takeout::inbox::TakeoutSet;
use crate::takeout::ingest::{Content, SetRead};
use crate::takeout::plan::SetPlan;

/// The report of `set` of `source`, read at `now` into `read` and planned
/// as `plan` for a source that had staged the contents `known` says. The
/// hashes kept are those the ledger must hold once the set is recorded:
/// each content staged now or known before (a content left out, such as
/// one in the trash, is in a list instead).
#[must_use]
pub(crate) fn set_report(
    source: &str,
    (set, read, plan): (&TakeoutSet, &SetRead, &SetPlan),
    known: &dyn Fn(&str) -> bool,
    now: DateTime<Utc>,
) -> SetReport {
    let staged: BTreeSet<&str> = plan.stage.iter().map(|s| s.hash.as_str()).collect();
    let mut contents = BTreeSet::new();
    let mut hashes = BTreeSet::new();
    let mut media_members = 0u64;
    for (member, content) in read.members.iter().zip(&read.contents) {
        if crate::takeout::names::is_takeout_index(&member.path) {
            continue;
        }
        if let Content::Media(held) = content {
            media_members += 1;
            contents.insert(held.hash.as_str());
            if staged.contains(held.hash.as_str()) || known(&held.hash) {
                hashes.insert(held.hash.clone());
            }
        }
    }
    SetReport {
        source: source.to_owned(),
        set_id: set.id.clone(),
        read_at: now,
        parts: set
            .parts
            .iter()
            .map(|p| ReportPart {
                name: p.name.clone(),
                size: p.size,
            })
            .collect(),
        media_members,
        contents: contents.len() as u64,
        staged_new: plan.stage.len() as u64,
        known: plan.known as u64,
        duplicates: plan.duplicates as u64,
        lists: ReportLists {
            without_json: plan.without_json.clone(),
            bad_json: plan.bad_json.clone(),
            refused: read
                .refused
                .iter()
                .map(|(part, r)| format!("{part}: {r}"))
                .collect(),
            json_without_media: plan.json_without_media.clone(),
            trashed: plan.trashed.clone(),
        },
        hashes: hashes.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::SystemTime;

    use super::*;
    use crate::takeout::archive::{Format, RefusedKind};
    use crate::takeout::inbox::Part;
    use crate::takeout::ingest::Held;
    use crate::takeout::plan::ToStage;
    use crate::takeout::sidecar_match::Member;

    #[test]
    fn every_hash_once_the_counts_and_the_lists() {
        let media = |hash: &str| {
            Content::Media(Held {
                file: PathBuf::from("/h"),
                size: 1,
                hash: hash.into(),
                modified: None,
            })
        };
        let member = |p: &str| Member {
            part: 0,
            path: p.into(),
        };
        let read = SetRead {
            members: vec![member("a.jpg"), member("b.jpg"), member("Trip/a.jpg")],
            contents: vec![media("h2"), media("h1"), media("h2")],
            refused: vec![(
                "t-001.zip".into(),
                format!("../x.jpg: {}", RefusedKind::SymbolicLink),
            )],
        };
        let plan = SetPlan {
            stage: vec![ToStage {
                member: 0,
                hash: "h2".into(),
                name: "a.jpg".into(),
                sidecar: None,
                albums: Vec::new(),
                taken: DateTime::UNIX_EPOCH.fixed_offset(),
            }],
            known: 1,
            duplicates: 1,
            without_json: vec!["a.jpg".into()],
            bad_json: vec!["c.json: bad".into()],
            json_without_media: vec!["d.jpg.json".into()],
            trashed: vec!["Trip/a.jpg".into()],
        };
        let set = TakeoutSet {
            id: "t".into(),
            format: Format::Zip,
            parts: vec![Part {
                name: "t-001.zip".into(),
                number: 1,
                size: 42,
                modified: SystemTime::UNIX_EPOCH,
            }],
            missing: Vec::new(),
            downloading: Vec::new(),
            may_continue_after: None,
        };
        // A content neither staged nor known (left out: in the trash) is
        // not expected in the ledger; it still counts as the set's.
        let r = set_report("g", (&set, &read, &plan), &|_| false, DateTime::UNIX_EPOCH);
        assert_eq!(
            (r.hashes.as_slice(), r.contents),
            (&["h2".to_owned()][..], 2)
        );
        let r = set_report(
            "g",
            (&set, &read, &plan),
            &|h| h == "h1",
            DateTime::UNIX_EPOCH,
        );
        assert_eq!(r.hashes, ["h1", "h2"]);
        assert_eq!(
            (
                r.media_members,
                r.contents,
                r.staged_new,
                r.known,
                r.duplicates
            ),
            (3, 2, 1, 1, 1)
        );
        assert_eq!(
            r.parts,
            [ReportPart {
                name: "t-001.zip".into(),
                size: 42
            }]
        );
        assert_eq!(r.lists.without_json, ["a.jpg"]);
        assert_eq!(r.lists.bad_json, ["c.json: bad"]);
        assert_eq!(r.lists.json_without_media, ["d.jpg.json"]);
        assert_eq!(r.lists.trashed, ["Trip/a.jpg"]);
        assert_eq!(r.lists.refused, ["t-001.zip: ../x.jpg: a symbolic link"]);
    }
}
