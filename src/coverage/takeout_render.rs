//! A Takeout source's coverage as text for people: a headline with where
//! its contents are, a line per set in the inbox (or read and since
//! removed) with its state, for each set read its contents accounted for
//! and the counts of its lists, the first few names of each with "and N
//! more" (`--json` has them all). Pure; names are printable already (made
//! so when the set was read), the source name is escaped here.

use super::render::grouped;
use super::takeout::{Names, ReadFigures, SetCoverage, SetState, TakeoutCoverage};
use crate::printable::printable;
use crate::text::human_bytes;

/// How many names of a list the text shows.
const SHOWN: usize = 3;

/// `carla-google (Takeout): 1,204 contents in 2 sets read: 1,000 in
/// verified archives, 200 staged and mirrored, 4 staged only`.
#[must_use]
pub(crate) fn headline(t: &TakeoutCoverage) -> String {
    let read = t.sets.iter().filter(|s| s.read.is_some()).count();
    let mut line = format!(
        "{} (Takeout): {} contents in {} set{} read: {} in verified archives, {} staged and \
         mirrored, {} staged only",
        printable(&t.source),
        grouped(t.contents),
        read,
        crate::text::plural(read as u64),
        grouped(t.archived),
        grouped(t.mirrored),
        grouped(t.staged)
    );
    if t.pruned > 0 {
        line.push_str(&format!(
            ", {} in no archive (removed by retention)",
            grouped(t.pruned)
        ));
    }
    if t.missing > 0 {
        line.push_str(&format!(
            "; ERROR: {} MISSING from the ledger",
            grouped(t.missing)
        ));
    }
    line
}

/// Every line of a source.
#[must_use]
pub(crate) fn lines(t: &TakeoutCoverage) -> Vec<String> {
    let mut out = vec![headline(t)];
    if let Some(why) = &t.inbox_error {
        out.push(format!(
            "  WARNING: the inbox was not looked at ({why}); the sets read before:"
        ));
    }
    if t.sets.is_empty() {
        out.push(if t.inbox_error.is_some() {
            "  none read before".into()
        } else {
            "  no Takeout set in the inbox yet".into()
        });
    }
    for set in &t.sets {
        out.push(set_line(set));
        if let Some(read) = &set.read {
            out.extend(read_lines(read));
        }
    }
    out
}

fn set_line(set: &SetCoverage) -> String {
    let bytes: u64 = set.parts.iter().map(|(_, b)| b).sum();
    let state = match &set.state {
        SetState::Read => "read".to_owned(),
        SetState::Removed => "read, no longer in the inbox".to_owned(),
        SetState::Waiting { since } => format!(
            "seen since {}, waiting for its parts to settle or for the next run",
            since.format("%Y-%m-%d %H:%M UTC")
        ),
        SetState::PartsMissing {
            numbers,
            since,
            overdue,
        } => {
            let n: Vec<String> = numbers.iter().map(u32::to_string).collect();
            let (part, are) = if n.len() == 1 {
                ("part", "is")
            } else {
                ("parts", "are")
            };
            let mut text = format!(
                "NOT READ: {part} {} {are} missing from the inbox (download {})",
                n.join(", "),
                if n.len() == 1 { "it" } else { "them" }
            );
            if let Some(since) = since {
                text.push_str(&format!(", since {}", since.format("%Y-%m-%d %H:%M UTC")));
            }
            if *overdue {
                text.push_str(", longer than [borg] max_pending_days");
            }
            text
        }
        SetState::Failed { why } => {
            format!("FAILED: {why} (read again once the part is replaced)")
        }
        SetState::Reading {
            parts_read,
            parts,
            bytes_read,
        } => format!(
            "being read across runs: {parts_read} of {parts} parts read to their end, {} of {} \
             read",
            crate::text::human_bytes(*bytes_read),
            crate::text::human_bytes(bytes)
        ),
        SetState::NotReadYet => "not read yet (the next run looks at it)".to_owned(),
    };
    format!(
        "  set {} ({} part{}, {}): {state}",
        printable(&set.id),
        set.parts.len(),
        crate::text::plural(set.parts.len() as u64),
        human_bytes(bytes)
    )
}

fn read_lines(r: &ReadFigures) -> Vec<String> {
    let mut out = vec![format!(
        "    read {}: {} media members, {} contents ({} staged new, {} known before), {} \
         duplicate copies",
        r.read_at.format("%Y-%m-%d %H:%M UTC"),
        grouped(r.media_members),
        grouped(r.contents),
        grouped(r.staged_new),
        grouped(r.known),
        grouped(r.duplicates)
    )];
    let mut accounted = format!(
        "    contents: {} in verified archives, {} staged and mirrored, {} staged only",
        grouped(r.archived),
        grouped(r.mirrored),
        grouped(r.staged)
    );
    if r.pruned > 0 {
        accounted.push_str(&format!(
            ", {} in no archive (retention)",
            grouped(r.pruned)
        ));
    }
    if r.missing.is_empty() {
        accounted.push_str(", none missing");
    } else {
        accounted.push_str(&format!(
            "; ERROR: {} MISSING from the ledger: {}",
            r.missing.len(),
            shown(&r.missing, r.missing.len() as u64)
        ));
    }
    out.push(accounted);
    let counts: Vec<String> = r
        .lists
        .labelled()
        .iter()
        .map(|(label, n)| format!("{} {label}", grouped(n.count)))
        .collect();
    out.push(format!("    lists: {}", counts.join(", ")));
    for (label, n) in r.lists.labelled() {
        if n.count > 0 {
            out.push(format!("      {label}: {}", names(n)));
        }
    }
    out
}

/// The first few names, and how many more.
fn names(n: &Names) -> String {
    if n.names.is_empty() {
        return "(names in --json)".into();
    }
    shown(&n.names, n.count)
}

fn shown(names: &[String], count: u64) -> String {
    let first: Vec<&str> = names.iter().take(SHOWN).map(String::as_str).collect();
    let more = count.saturating_sub(first.len() as u64);
    let mut text = first.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {} more", grouped(more)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inbox_not_looked_at_is_said_with_the_sets_read_before() {
        let t = TakeoutCoverage {
            source: "g".into(),
            inbox_error: Some("cannot list the Takeout inbox /x".into()),
            sets: Vec::new(),
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
        assert_eq!(
            lines(&t)[1..],
            [
                "  WARNING: the inbox was not looked at (cannot list the Takeout inbox /x); \
                 the sets read before:",
                "  none read before"
            ]
        );
    }

    #[test]
    fn the_first_few_names_and_how_many_more() {
        let list: Vec<String> = ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            names(&Names {
                count: 5,
                names: list.clone()
            }),
            "a.jpg, b.jpg, c.jpg and 2 more"
        );
        assert_eq!(
            names(&Names {
                count: 2,
                names: list[..2].to_vec()
            }),
            "a.jpg, b.jpg"
        );
    }
}
