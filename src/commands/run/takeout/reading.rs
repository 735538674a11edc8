//! One set's turn in a run: each part not read to its end is read from its
//! next member on a worker thread (`takeout::ingest`) while this thread
//! writes the checkpoints and watches for a stall, the deadline and the
//! free disk; once every part is read to its end, the set is planned and
//! staged (`stage`) in one ledger transaction.

use std::collections::HashSet;
use std::path::Path;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::config::{Config, Limits, Takeout};
use crate::error_text::{describe, describe_error};
use crate::ledger::{Ledger, MemberKind, PartProgress, PartState, TakeoutMember};
use crate::takeout::archive::ReadError;
use crate::takeout::camera_time;
use crate::takeout::inbox::TakeoutSet;
use crate::takeout::ingest::{self, Content, End, Event, Holding, PartJob};
use crate::takeout::plan;
use crate::text::human_bytes;

use super::bounds::{Bounds, CHECKPOINT_AFTER, CHECKPOINT_BYTES};
use super::stage::{stage_one, summary};
use super::state::read_so_far;
use super::{Outcome, SetError};

/// One set's reading in this run.
pub(super) struct SetReading<'a> {
    pub(super) config: &'a Config,
    pub(super) t: &'a Takeout,
    pub(super) set: &'a TakeoutSet,
    pub(super) holding_dir: &'a Path,
    pub(super) zone: &'a jiff::tz::TimeZone,
    pub(super) now: DateTime<Utc>,
    pub(super) bounds: Bounds,
    /// Members read by this run so far, every set counted.
    pub(super) read_this_run: &'a mut u64,
}

/// How the reading of one part in this run ended.
enum PartEnd {
    ToItsEnd,
    Stopped,
    LowDisk { needed: u64, available: u64 },
}

impl SetReading<'_> {
    fn out_of_time(&self, limits: &Limits) -> bool {
        super::super::deadline::half_gone(limits)
            || (self.bounds.members_per_run).is_some_and(|n| *self.read_this_run >= n)
    }

    /// Reads what is left of the set's parts (`states`: each part's state,
    /// same order), then, once all are read, plans and stages it.
    pub(super) fn run(
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
