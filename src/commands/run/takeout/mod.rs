//! The run step of each `[[takeout]]` source (issue 19), after the
//! libraries' staging and before the mirror: look at the inbox, and read
//! each complete set of Takeout parts that is new or changed, once its
//! parts have stayed the same a while (a download or a Drive sync still
//! writing them changes them).
//!
//! A real set (16 parts of 50 GB, fetched on demand by Google Drive) takes
//! many runs to read, so it is read part by part, member by member, across
//! runs: each part on a worker thread (`takeout::ingest`), every member's
//! row kept in the ledger in checkpoints, its new contents in the holding
//! folder by hash. Reading stops between members once half of the run's
//! deadline is gone, and the next run goes on from the next member. A part
//! that sends no byte for `STALL` (a Drive file not downloaded yet, or
//! never) ends the source's step with a failure naming part and member;
//! the next run goes on from the last checkpoint.
//!
//! Only once every part is read to its end with its current fingerprint is
//! the set planned (`takeout::plan`: a JSON may sit in a later part) and
//! its new contents moved into `STAGING/NAME/YYYY/MM/DD/` with their XMP
//! sidecars, recorded like a library's files (the uuid is the content
//! hash), in one ledger transaction that marks its parts read and forgets
//! its member rows. A part that breaks fails the source's line naming part
//! and member; nothing of its set is staged, and it is not read again until
//! it changes. The inbox is only ever read.

mod bounds;
mod reading;
mod stage;
mod state;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::config::{Config, Takeout};
use crate::error_text::describe_error;
use crate::export::layout;
use crate::ledger::{Ledger, PartState};
use crate::report::{Line, Status};
use crate::takeout::inbox::{self, Fingerprint, TakeoutSet};
use crate::takeout::ingest::Holding;
use crate::text::human_bytes;

use bounds::Bounds;
use reading::SetReading;
use state::{read_so_far, set_state, sighted, SetState};

/// The holding folder of a source, inside its staging folder (a rename
/// away from where files go; never mirrored or archived: nothing records
/// what is in it but the member rows).
pub(super) const HOLDING: &str = ".holding";

/// One line per source; `ready`: the sources done without a failure.
pub(super) fn step<'a>(
    config: &'a Config,
    mut ledger: Option<&mut Ledger>,
    dry_run: bool,
    now: DateTime<Utc>,
    ready: &mut Vec<&'a str>,
) -> Vec<Line> {
    let mut lines = Vec::new();
    let bounds = Bounds::of_this_build();
    for t in &config.takeouts {
        let result = match ledger.as_deref_mut() {
            _ if dry_run => dry_source(t, ledger.as_deref(), now),
            Some(ledger) => source(config, t, ledger, now, bounds),
            None => Err(anyhow::anyhow!("no ledger to record the takeout in")),
        };
        let line = match result {
            Ok(line) => line,
            Err(e) => Line::failed(&t.name, format!("takeout FAILED: {}", describe_error(&e))),
        };
        if line.status != Status::Failed && !dry_run {
            ready.push(&t.name);
        }
        lines.push(line);
    }
    lines
}

/// A line that was fine now warns (a failure stays one).
pub(super) fn warn(status: &mut Status) {
    if *status == Status::Ok {
        *status = Status::Warning;
    }
}

/// A fingerprint as the ledger keeps it.
fn fingerprint_text(f: &Fingerprint) -> String {
    let edges = blake3::Hash::from(f.edges).to_hex();
    format!(
        "{}:{}:{}:{}:{edges}",
        f.size, f.modified_ns, f.device, f.inode
    )
}

/// The fingerprint of each part of `set`, as the ledger keeps them (each
/// taken within `inbox::BOUND`).
fn fingerprints(t: &Takeout, set: &TakeoutSet) -> Result<Vec<String>> {
    (set.parts.iter())
        .map(|part| {
            let path = t.inbox.join(&part.name);
            Ok(fingerprint_text(&inbox::fingerprint(
                &path,
                set.format,
                inbox::BOUND,
            )?))
        })
        .collect()
}

/// What a run would do with each set, without writing anything.
fn dry_source(t: &Takeout, ledger: Option<&Ledger>, now: DateTime<Utc>) -> Result<Line> {
    let scan = inbox::scan(&t.inbox, inbox::BOUND)?;
    let mut said = Vec::new();
    for set in &scan.sets {
        if let Some(note) = set.downloading_note() {
            said.push(format!("{}: {note}", set.id));
            continue;
        }
        let mut parts = Vec::new();
        for (part, fp) in set.parts.iter().zip(fingerprints(t, set)?) {
            let state = match ledger {
                Some(l) => l.takeout_part(&t.name, &part.name)?,
                None => None,
            };
            parts.push((Some(sighted(state, &fp, now)), fp));
        }
        let states: Vec<PartState> = parts.iter().filter_map(|(s, _)| s.clone()).collect();
        said.push(
            match set_state(set, &parts, now, set.settle_time(t.settle)) {
                SetState::Done => format!("{}: done", set.id),
                SetState::Settling(left) => format!(
                    "{}: settling ({} min still)",
                    set.id,
                    left.as_secs().div_ceil(60)
                ),
                SetState::Incomplete(missing) => format!("{}: parts {missing:?} missing", set.id),
                SetState::Failed(error) => format!("{}: failed ({error})", set.id),
                SetState::Read => {
                    let (read, total) = read_so_far(set, &states);
                    let left = states.iter().filter(|s| !s.read_to_end).count();
                    format!(
                        "{}: would read {left} parts, {} ({} already read)",
                        set.id,
                        human_bytes(total - read),
                        human_bytes(read)
                    )
                }
            },
        );
    }
    let text = if said.is_empty() {
        "takeout (dry run): nothing new".to_owned()
    } else {
        format!("takeout (dry run): {}", said.join("; "))
    };
    Ok(Line::ok(&t.name, text))
}

fn source(
    config: &Config,
    t: &Takeout,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    bounds: Bounds,
) -> Result<Line> {
    let zone = jiff::tz::TimeZone::get(&t.time_zone)
        .with_context(|| format!("the time zone {} of takeout {}", t.time_zone, t.name))?;
    let holding_dir = config
        .staging_dir
        .join(layout::library_dir(&t.name))
        .join(HOLDING);
    let keep = ledger.takeout_held_hashes(&t.name)?;
    Holding::clear_unreferenced(&holding_dir, &keep)
        .with_context(|| format!("clearing {}", holding_dir.display()))?;
    let scan = inbox::scan(&t.inbox, inbox::BOUND)?;
    let mut said = Vec::new();
    let mut status = Status::Ok;
    let mut read_this_run = 0u64;
    for set in &scan.sets {
        if let Some(note) = set.downloading_note() {
            said.push(format!("{}: {note}", set.id));
            continue;
        }
        let mut parts = Vec::new();
        for (part, fp) in set.parts.iter().zip(fingerprints(t, set)?) {
            ledger.sight_takeout_part(&t.name, &part.name, &fp, now)?;
            parts.push((ledger.takeout_part(&t.name, &part.name)?, fp));
        }
        match set_state(set, &parts, now, set.settle_time(t.settle)) {
            SetState::Done => {}
            SetState::Settling(_) => said.push(format!(
                "{}: waiting for its parts to settle{}",
                set.id,
                set.may_continue_note()
                    .map_or(String::new(), |n| format!(" ({n}: waiting twice as long)"))
            )),
            SetState::Incomplete(missing) => {
                warn(&mut status);
                said.push(format!(
                    "{}: WARNING: parts {missing:?} are missing",
                    set.id
                ));
            }
            SetState::Failed(error) => {
                status = Status::Failed;
                said.push(format!(
                    "{}: FAILED (read again once the part changes): {error}",
                    set.id
                ));
            }
            // Begun only with half the run's deadline left, else the next
            // run takes it.
            SetState::Read if super::deadline::half_gone(&config.limits) => said.push(format!(
                "{}: left for the next run (half of the run's deadline is gone)",
                set.id
            )),
            SetState::Read => {
                let mut reading = SetReading {
                    config,
                    t,
                    set,
                    holding_dir: &holding_dir,
                    zone: &zone,
                    now,
                    bounds,
                    read_this_run: &mut read_this_run,
                };
                let fps: Vec<(&str, &str)> = (set.parts.iter())
                    .zip(&parts)
                    .map(|(p, (_, fp))| (p.name.as_str(), fp.as_str()))
                    .collect();
                let part_states = parts.iter().map(|(s, fp)| sighted(s.clone(), fp, now));
                let outcome = reading.run(ledger, &fps, part_states.collect());
                let stalled = matches!(outcome, Err(SetError::Stalled(_)));
                said.push(outcome_text(set, outcome, &mut status, |error| {
                    ledger.finish_takeout_parts(&t.name, &fps, now, Some(error))
                })?);
                if stalled {
                    break;
                }
            }
        }
    }
    let unread = unread_notes(&scan.ignored);
    if !unread.is_empty() {
        warn(&mut status);
        said.extend(unread);
    }
    let text = if said.is_empty() {
        "takeout: nothing new".to_owned()
    } else {
        format!("takeout: {}", said.join("; "))
    };
    let mut line = Line::ok(&t.name, text);
    line.status = status;
    Ok(line)
}

/// What the inbox holds that may hold photos and is not read, in words
/// (a part inside a folder, a name that is not UTF-8): warnings, since a
/// person must act. Downloads under way, second downloads, links, hidden
/// and other files are left alone without a word (a set waiting for its
/// download says so itself).
fn unread_notes(ignored: &[inbox::Ignored]) -> Vec<String> {
    ignored
        .iter()
        .filter(|i| matches!(i.why, inbox::Ignore::Nested | inbox::Ignore::UnreadableName))
        .map(|i| format!("WARNING: {} not read: {}", i.name, i.why.reason()))
        .collect()
}

/// A set's turn in words, its line's status updated; `failed_part`
/// records a damaged part's error against the set's parts.
fn outcome_text(
    set: &TakeoutSet,
    outcome: std::result::Result<Outcome, SetError>,
    status: &mut Status,
    failed_part: impl FnOnce(&str) -> crate::ledger::Result<()>,
) -> Result<String> {
    Ok(match outcome {
        Ok(Outcome::Staged(mut text, warns)) => {
            if warns {
                warn(status);
            }
            if let Some(note) = set.may_continue_note() {
                warn(status);
                text.push_str(&format!("; WARNING: {note}"));
            }
            text
        }
        Ok(Outcome::GoesOn(text)) => text,
        Ok(Outcome::LowDisk(text)) => {
            warn(status);
            text
        }
        Err(SetError::Part(error)) => {
            *status = Status::Failed;
            failed_part(&error)?;
            format!("{}: FAILED: {error}", set.id)
        }
        // Ours (staging, the ledger), or a part that stalled: the next run
        // goes on from the last checkpoint.
        Err(SetError::Local(error) | SetError::Stalled(error)) => {
            *status = Status::Failed;
            format!("{}: FAILED: {error}", set.id)
        }
    })
}

/// Why a set was not staged, as text for its line.
#[derive(Debug)]
pub(super) enum SetError {
    /// A part is cut or damaged: the set waits until a part changes.
    Part(String),
    /// Our side failed (staging, the ledger, a part that vanished): the
    /// next run goes on.
    Local(String),
    /// A part sent no byte for the bound: the source's step ends (its
    /// other sets are likely in the same Drive folder), the next run goes on.
    Stalled(String),
}

/// How a set's turn in this run ended, well.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Staged: what it did and whether it warns.
    Staged(String, bool),
    /// Read part-way: how far (the deadline).
    GoesOn(String),
    /// Read part-way: too little free space to go on (a warning).
    LowDisk(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::takeout::inbox::{Ignore, Ignored};

    #[test]
    fn only_what_may_hold_photos_and_is_not_read_is_said() {
        let ignored = |name: &str, why| Ignored {
            name: name.into(),
            why,
        };
        let notes = unread_notes(&[
            ignored("old/takeout-20240101T000000Z-001.zip", Ignore::Nested),
            ignored(".DS_Store", Ignore::Hidden),
            ignored(
                "takeout-x-002.zip.crdownload",
                Ignore::PartialDownload("Chrome or Edge"),
            ),
            ignored("notes.txt", Ignore::NotTakeout),
            ignored("\\xff.zip", Ignore::UnreadableName),
        ]);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with(
                "WARNING: old/takeout-20240101T000000Z-001.zip not read: a part inside a folder"
            ),
            "{notes:?}"
        );
        assert!(notes[1].contains("not UTF-8"), "{notes:?}");
    }
}
