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

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Utc};

use crate::config::{Config, Limits, Takeout};
use crate::error_text::{describe, describe_error};
use crate::export::{layout, xmp};
use crate::ledger::{Ledger, MemberKind, PartProgress, PartState, StagedFile, TakeoutMember};
use crate::private_fs;
use crate::report::{Line, Status};
use crate::takeout::archive::ReadError;
use crate::takeout::camera_time;
use crate::takeout::inbox::{self, Fingerprint, TakeoutSet};
use crate::takeout::ingest::{self, Content, End, Event, Holding, PartJob};
use crate::takeout::plan::{self, SetPlan};
use crate::takeout::xmp_fields;
use crate::text::human_bytes;

/// How long a part may send no byte before its reading is given up for
/// this run (a file in a Drive folder is fetched on demand; the fetch can
/// take minutes, or never end).
const STALL: Duration = Duration::from_secs(2 * 60);

/// A checkpoint is written after this many bytes, this long, or this many
/// members read since the last, and at a part's end.
const CHECKPOINT_BYTES: u64 = 256 << 20;
const CHECKPOINT_AFTER: Duration = Duration::from_secs(30);
const CHECKPOINT_MEMBERS: usize = 2000;

/// The holding folder of a source, inside its staging folder (a rename
/// away from where files go; never mirrored or archived: nothing records
/// what is in it but the member rows).
const HOLDING: &str = ".holding";

/// Test hooks, in builds with the failpoints only (see `crate::failpoint`):
/// `PHOTOS_BACKUP_TAKEOUT_HOOKS="members_per_run=3,checkpoint_members=2,stall_seconds=2,free_margin_bytes=N"`
/// stands in for a run's deadline running out, for a large set's
/// checkpoints, for the stall bound and for a full disk, so tests need
/// neither large sets, long waits nor a full disk.
const HOOKS_VAR: &str = "PHOTOS_BACKUP_TAKEOUT_HOOKS";

fn hook(key: &str) -> Option<u64> {
    if !cfg!(any(debug_assertions, feature = "test-hooks")) {
        return None;
    }
    let text = std::env::var(HOOKS_VAR).ok()?;
    text.split(',')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
}

/// The bounds a read works within.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    stall: Duration,
    checkpoint_members: usize,
    /// Members a run may read (a test's stand-in for the deadline).
    members_per_run: Option<u64>,
    /// Free space to leave beyond a member copied into holding.
    free_margin: u64,
}

impl Bounds {
    fn of_this_build() -> Self {
        Self {
            stall: hook("stall_seconds").map_or(STALL, Duration::from_secs),
            checkpoint_members: hook("checkpoint_members")
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(CHECKPOINT_MEMBERS),
            members_per_run: hook("members_per_run"),
            free_margin: hook("free_margin_bytes").unwrap_or(ingest::FREE_MARGIN),
        }
    }
}

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

/// What to do with a set, from its parts' fingerprints and the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SetState {
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
fn set_state(
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
fn sighted(state: Option<PartState>, fp: &str, now: DateTime<Utc>) -> PartState {
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
fn read_so_far(set: &TakeoutSet, states: &[PartState]) -> (u64, u64) {
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

/// A line that was fine now warns (a failure stays one).
fn warn(status: &mut Status) {
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
    let text = if said.is_empty() {
        "takeout: nothing new".to_owned()
    } else {
        format!("takeout: {}", said.join("; "))
    };
    let mut line = Line::ok(&t.name, text);
    line.status = status;
    Ok(line)
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
enum SetError {
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
enum Outcome {
    /// Staged: what it did and whether it warns.
    Staged(String, bool),
    /// Read part-way: how far (the deadline).
    GoesOn(String),
    /// Read part-way: too little free space to go on (a warning).
    LowDisk(String),
}

/// One set's reading in this run.
struct SetReading<'a> {
    config: &'a Config,
    t: &'a Takeout,
    set: &'a TakeoutSet,
    holding_dir: &'a Path,
    zone: &'a jiff::tz::TimeZone,
    now: DateTime<Utc>,
    bounds: Bounds,
    /// Members read by this run so far, every set counted.
    read_this_run: &'a mut u64,
}

/// How the reading of one part in this run ended.
enum PartEnd {
    ToItsEnd,
    Stopped,
    LowDisk { needed: u64, available: u64 },
}

impl SetReading<'_> {
    fn out_of_time(&self, limits: &Limits) -> bool {
        super::deadline::half_gone(limits)
            || (self.bounds.members_per_run).is_some_and(|n| *self.read_this_run >= n)
    }

    /// Reads what is left of the set's parts (`states`: each part's state,
    /// same order), then, once all are read, plans and stages it.
    fn run(
        &mut self,
        ledger: &mut Ledger,
        fps: &[(&str, &str)],
        mut states: Vec<PartState>,
    ) -> std::result::Result<Outcome, SetError> {
        let local = |e: &dyn std::error::Error| SetError::Local(describe(e));
        let holding = Holding::new(self.holding_dir).map_err(|e| {
            SetError::Local(format!("cannot create {}: {e}", self.holding_dir.display()))
        })?;
        let files = ledger.files(&self.t.name).map_err(|e| local(&e))?;
        let known: Arc<HashSet<String>> = Arc::new(
            files
                .iter()
                .filter(|f| f.role == "original")
                .map(|f| f.uuid.clone())
                .collect(),
        );
        for i in 0..self.set.parts.len() {
            if states[i].read_to_end {
                continue;
            }
            let end = if self.out_of_time(&self.config.limits) {
                PartEnd::Stopped
            } else {
                let job = PartJob {
                    path: self.t.inbox.join(&self.set.parts[i].name),
                    format: self.set.format,
                    skip: states[i].members_read,
                    known: Arc::clone(&known),
                    free_margin: self.bounds.free_margin,
                };
                self.read_part(ledger, job, &holding, fps[i], &mut states[i])?
            };
            match end {
                PartEnd::ToItsEnd => {}
                PartEnd::Stopped => {
                    let (read, total) = read_so_far(self.set, &states);
                    return Ok(Outcome::GoesOn(format!(
                        "{}: part {} of {}, {} of {} read; goes on next run",
                        self.set.id,
                        i + 1,
                        self.set.parts.len(),
                        human_bytes(read),
                        human_bytes(total)
                    )));
                }
                PartEnd::LowDisk { needed, available } => {
                    return Ok(Outcome::LowDisk(format!(
                        "{}: WARNING: reading stopped in part {} of {}: the next member needs {} \
                         free in {} (with a margin), {} are free; goes on next run",
                        self.set.id,
                        i + 1,
                        self.set.parts.len(),
                        human_bytes(needed),
                        self.holding_dir.display(),
                        human_bytes(available)
                    )));
                }
            }
        }
        self.stage(ledger, fps, &holding)
    }

    /// Reads one part from where it was left, writing checkpoints.
    fn read_part(
        &mut self,
        ledger: &mut Ledger,
        job: PartJob,
        holding: &Holding,
        (part, fp): (&str, &str),
        state: &mut PartState,
    ) -> std::result::Result<PartEnd, SetError> {
        let source = self.t.name.as_str();
        let reader = ingest::spawn_part_reader(job, holding.clone())
            .map_err(|e| SetError::Local(format!("cannot start reading part {part}: {e}")))?;
        let mut pending: Vec<TakeoutMember> = Vec::new();
        let mut pending_bytes = 0u64;
        let mut last = Instant::now();
        let mut member: Option<String> = None;
        let mut checkpoint = |pending: &mut Vec<TakeoutMember>, state: &PartState| {
            let progress = PartProgress {
                members_read: state.members_read,
                bytes_read: state.bytes_read,
                read_to_end: state.read_to_end,
            };
            ledger
                .checkpoint_takeout_part(source, part, fp, pending, progress)
                .map_err(|e| SetError::Local(describe(&e)))?;
            pending.clear();
            Ok::<_, SetError>(())
        };
        loop {
            match reader.events.recv_timeout(self.bounds.stall) {
                Ok(Event::Begin(path)) => member = Some(path),
                Ok(Event::Heartbeat(_)) => {}
                Ok(Event::Read(m)) => {
                    let size = match &m.kind {
                        MemberKind::Media { size, .. } | MemberKind::OversizeJson(size) => *size,
                        MemberKind::Json(bytes) => bytes.len() as u64,
                        MemberKind::Refused(_) => 0,
                    };
                    state.members_read = m.index + 1;
                    state.bytes_read += size;
                    pending_bytes += size;
                    pending.push(m);
                    *self.read_this_run += 1;
                    if pending.len() >= self.bounds.checkpoint_members
                        || pending_bytes >= CHECKPOINT_BYTES
                        || last.elapsed() >= CHECKPOINT_AFTER
                    {
                        checkpoint(&mut pending, state)?;
                        pending_bytes = 0;
                        last = Instant::now();
                        crate::failpoint::pause("takeout-checkpointed");
                    }
                    if self.out_of_time(&self.config.limits) {
                        reader.stop();
                    }
                }
                Ok(Event::End(end)) => {
                    state.read_to_end = matches!(end, End::ToItsEnd);
                    checkpoint(&mut pending, state)?;
                    return match end {
                        End::ToItsEnd => Ok(PartEnd::ToItsEnd),
                        End::Stopped => Ok(PartEnd::Stopped),
                        End::LowDisk { needed, available } => {
                            Ok(PartEnd::LowDisk { needed, available })
                        }
                        End::Failed(e @ ReadError::Damaged { .. }) => {
                            Err(SetError::Part(describe(&e)))
                        }
                        End::Failed(e) => Err(SetError::Local(describe(&e))),
                    };
                }
                Err(RecvTimeoutError::Timeout) => {
                    // Left behind: it writes only holding files, never the
                    // ledger; the process's exit ends it.
                    checkpoint(&mut pending, state)?;
                    let at = member.map_or_else(
                        || "before its first member".to_owned(),
                        |m| format!("in member {m}"),
                    );
                    return Err(SetError::Stalled(format!(
                        "reading part {part} stalled {at}: no byte for {} s; is it still being \
                         downloaded by Google Drive? Goes on from there next run",
                        self.bounds.stall.as_secs()
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    checkpoint(&mut pending, state)?;
                    return Err(SetError::Local(format!(
                        "the reading of part {part} ended without a word"
                    )));
                }
            }
        }
    }

    /// Plans the set from its member rows and the holding files, stages its
    /// new contents and records them, its parts read and its rows gone, in
    /// one transaction.
    fn stage(
        &self,
        ledger: &mut Ledger,
        fps: &[(&str, &str)],
        holding: &Holding,
    ) -> std::result::Result<Outcome, SetError> {
        let local = |e: &dyn std::error::Error| SetError::Local(describe(e));
        let t = self.t;
        let mut rows = Vec::new();
        for (part, _) in fps {
            let members = ledger
                .takeout_members(&t.name, part)
                .map_err(|e| local(&e))?;
            rows.push(((*part).to_owned(), members));
        }
        let read = ingest::set_read(&rows, holding);
        let files = ledger.files(&t.name).map_err(|e| local(&e))?;
        let known: HashSet<String> = files
            .iter()
            .filter(|f| f.role == "original")
            .map(|f| f.uuid.clone())
            .collect();
        let mut taken: HashSet<String> = files.iter().map(|f| f.path.to_lowercase()).collect();
        // The capture time of a content from its holding file (asked only
        // when its JSON has no taken time).
        let camera = |hash: &str| camera_time::read(&holding.file_of(hash));
        let planned = plan::plan(&read, &|h| known.contains(h), &camera, self.zone, self.now);
        let mut records = Vec::new();
        for item in &planned.stage {
            let Content::Media(held) = &read.contents[item.member] else {
                continue;
            };
            match stage_one(self.config, t, item, held, holding, &mut taken, self.now) {
                Ok(Some(staged)) => records.extend(staged),
                Ok(None) => {
                    // Its holding file is gone (removed by hand?): read
                    // the set again from its start.
                    let names: Vec<&str> = fps.iter().map(|(p, _)| *p).collect();
                    ledger
                        .forget_takeout_members(&t.name, &names)
                        .map_err(|e| local(&e))?;
                    return Err(SetError::Local(format!(
                        "the holding file of {} ({}) is missing; the set is read again from its \
                         start next run",
                        item.name, item.hash
                    )));
                }
                Err(e) => {
                    return Err(SetError::Local(format!(
                        "staging {}: {}",
                        item.name,
                        describe_error(&e)
                    )))
                }
            }
        }
        crate::failpoint::pause("takeout-staged-moved");
        let bytes: u64 = records
            .iter()
            .filter(|r| r.role == "original")
            .map(|r| r.size)
            .sum();
        let names: Vec<&str> = fps.iter().map(|(p, _)| *p).collect();
        // What the read found, for `coverage`.
        let report = crate::coverage::takeout_set::set_report(
            &t.name,
            (self.set, &read, &planned),
            &|h| known.contains(h),
            self.now,
        );
        ledger
            .transaction(|l| {
                for r in &records {
                    l.record_file(r)?;
                }
                l.record_takeout_report(&report)?;
                l.finish_takeout_parts(&t.name, fps, self.now, None)?;
                l.forget_takeout_members(&t.name, &names)
            })
            .map_err(|e| local(&e))?;
        // What the set held and did not stage (left out: trashed, known,
        // Takeout's own files) goes now, unless another set's rows still
        // name it; a failure here is met again, loudly, at the next run's
        // start.
        if let Ok(keep) = ledger.takeout_held_hashes(&t.name) {
            let _ = Holding::clear_unreferenced(self.holding_dir, &keep);
        }
        let (text, warns) = summary(self.set, &planned, &read.refused, bytes);
        Ok(Outcome::Staged(text, warns))
    }
}

/// What a set read gave, and whether it warns.
fn summary(
    set: &TakeoutSet,
    p: &SetPlan,
    refused: &[(String, String)],
    bytes: u64,
) -> (String, bool) {
    let mut text = format!(
        "{}: staged {} new files ({}), {} already staged, {} duplicate copies",
        set.id,
        p.stage.len(),
        human_bytes(bytes),
        p.known,
        p.duplicates
    );
    let refused: Vec<String> = refused
        .iter()
        .map(|(part, r)| format!("{part}: {r}"))
        .collect();
    // What a person should look at (`coverage` lists every name), then
    // what is only said.
    let lists = [
        (
            true,
            "without JSON (dated by their own bytes or the archive)",
            &p.without_json,
        ),
        (
            true,
            "JSON unreadable (their media staged without)",
            &p.bad_json,
        ),
        (
            true,
            "JSON without their media in the set",
            &p.json_without_media,
        ),
        (true, "members refused (unsafe names or links)", &refused),
        (false, "in Google Photos' trash, left out", &p.trashed),
    ];
    let mut warn = false;
    for (warns, what, names) in lists {
        if let Some(first) = names.first() {
            warn |= warns;
            let label = if warns { "WARNING: " } else { "" };
            text.push_str(&format!("; {label}{} {what}, e.g. {first}", names.len()));
        }
    }
    (text, warn)
}

/// Moves one content into its day folder with its XMP sidecar (both
/// durable); the ledger rows to record. `None`: its holding file is gone,
/// and it is not in its place in staging either (a run killed after the
/// move leaves it there, taken over).
fn stage_one(
    config: &Config,
    t: &Takeout,
    item: &plan::ToStage,
    held: &ingest::Held,
    holding: &Holding,
    taken: &mut HashSet<String>,
    now: DateTime<Utc>,
) -> Result<Option<Vec<StagedFile>>> {
    let d = item.taken;
    let day = format!(
        "{}/{:04}/{:02}/{:02}",
        layout::library_dir(&t.name),
        d.year(),
        d.month(),
        d.day()
    );
    let dir = private_fs::create_dirs_below(&config.staging_dir, Path::new(&day))
        .with_context(|| format!("creating {day} in staging"))?;
    let safe = layout::sanitize_name(&item.name);
    // A name is free unless the ledger has it (or its sidecar's), or a file
    // with other bytes lies there. The same bytes unrecorded are what a run
    // killed between the rename and the ledger left: taken over.
    let in_use = |name: &str| {
        let recorded = [name.to_owned(), format!("{name}.xmp")]
            .iter()
            .any(|n| taken.contains(&format!("{day}/{n}").to_lowercase()));
        recorded
            || fs::symlink_metadata(dir.join(name)).is_ok_and(|m| {
                !m.is_file()
                    || crate::export::copy::hash_file(&dir.join(name))
                        .ok()
                        .as_deref()
                        != Some(item.hash.as_str())
            })
    };
    let name = plan::unique_name(&safe, &item.hash, &in_use);
    let xmp_name = format!("{name}.xmp");
    let albums: Vec<&str> = item.albums.iter().map(String::as_str).collect();
    let fields = xmp_fields::fields(item.sidecar.as_ref(), d, &albums, &item.hash, &item.name);
    let xmp_text = xmp::write(&fields);
    let xmp_held = holding
        .hold_bytes(xmp_text.as_bytes())
        .context("writing the XMP sidecar")?;
    let media_path = dir.join(&name);
    if fs::symlink_metadata(&held.file).is_ok() {
        fs::rename(&held.file, &media_path)
            .with_context(|| format!("moving into {}", media_path.display()))?;
    } else if !fs::symlink_metadata(&media_path).is_ok_and(|m| m.is_file()) {
        // `unique_name` gave a free name or one with these very bytes.
        let _ = fs::remove_file(&xmp_held);
        return Ok(None);
    }
    let xmp_path = dir.join(&xmp_name);
    fs::rename(&xmp_held, &xmp_path)
        .with_context(|| format!("moving into {}", xmp_path.display()))?;
    fs::File::open(&dir)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    if config.staging_group_readable {
        for n in [&name, &xmp_name] {
            private_fs::share_with_group(&config.staging_dir, &Path::new(&day).join(n))?;
        }
    }
    let mut record = |role: &str, file: &str, path: &Path, hash: String, signature: String| {
        let meta = fs::symlink_metadata(path).with_context(|| format!("{}", path.display()))?;
        let rel = format!("{day}/{file}");
        taken.insert(rel.to_lowercase());
        anyhow::Ok(StagedFile {
            library: t.name.clone(),
            uuid: item.hash.clone(),
            role: role.to_owned(),
            path: rel,
            size: meta.len(),
            mtime_ns: crate::export::copy::unix_ns(meta.modified()?),
            hash,
            source_signature: signature,
            exported_at: now,
            archive: None,
        })
    };
    let media = record(
        "original",
        &name,
        &media_path,
        held.hash.clone(),
        format!("takeout:{}", held.hash),
    )?;
    let sidecar = record(
        "xmp",
        &xmp_name,
        &xmp_path,
        blake3::hash(xmp_text.as_bytes()).to_hex().to_string(),
        xmp_fields::fingerprint(&fields),
    )?;
    Ok(Some(vec![media, sidecar]))
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
