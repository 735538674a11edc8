//! The run step of each `[[takeout]]` source (issue 19), after the
//! libraries' staging and before the mirror: look at the inbox, and read
//! each complete set of Takeout parts that is new or changed, once its
//! parts have stayed the same a while (a download or a Drive sync still
//! writing them changes them). A set is read whole into holding files
//! (`takeout::ingest`), planned (`takeout::plan`), and only then are its
//! new contents moved into `STAGING/NAME/YYYY/MM/DD/` with their XMP
//! sidecars and recorded like a library's files (the uuid is the content
//! hash), in one ledger transaction with its parts marked read. A part
//! that breaks fails the source's line naming part and member; nothing of
//! its set is staged, and it is not read again until it changes. A set is
//! begun only while half of the run's deadline is left. The inbox is only
//! ever read.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Utc};

use crate::config::{Config, Takeout};
use crate::error_text::{describe, describe_error};
use crate::export::{layout, xmp};
use crate::ledger::{Ledger, PartState, StagedFile};
use crate::private_fs;
use crate::report::{Line, Status};
use crate::takeout::archive::ReadError;
use crate::takeout::inbox::{self, Fingerprint, TakeoutSet};
use crate::takeout::ingest::{self, Content, Holding};
use crate::takeout::plan::{self, SetPlan};
use crate::takeout::xmp_fields;
use crate::text::human_bytes;

/// The holding folder of a source, inside its staging folder (a rename
/// away from where files go; never mirrored or archived: nothing records
/// what is in it).
const HOLDING: &str = ".holding";

/// One line per source; `ready`: the sources done without a failure.
pub(super) fn step<'a>(
    config: &'a Config,
    ledger: Option<&mut Ledger>,
    dry_run: bool,
    now: DateTime<Utc>,
    ready: &mut Vec<&'a str>,
) -> Vec<Line> {
    let mut lines = Vec::new();
    let Some(ledger) = ledger.filter(|_| !dry_run) else {
        for t in &config.takeouts {
            lines.push(Line::ok(&t.name, "takeout: not read in a dry run"));
        }
        return lines;
    };
    for t in &config.takeouts {
        let line = match source(config, t, ledger, now) {
            Ok(line) => line,
            Err(e) => Line::failed(&t.name, format!("takeout FAILED: {}", describe_error(&e))),
        };
        if line.status != Status::Failed {
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
    /// A part new or changed less than the settle time ago.
    Settling,
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
    let settled = |s: &PartState, fp: &str| {
        current(s, fp)
            && (now - s.seen_at)
                .to_std()
                .is_ok_and(|waited| waited >= settle)
    };
    if parts
        .iter()
        .all(|(s, fp)| s.as_ref().is_some_and(|s| settled(s, fp)))
    {
        SetState::Read
    } else {
        SetState::Settling
    }
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

fn source(config: &Config, t: &Takeout, ledger: &mut Ledger, now: DateTime<Utc>) -> Result<Line> {
    let zone = jiff::tz::TimeZone::get(&t.time_zone)
        .with_context(|| format!("the time zone {} of takeout {}", t.time_zone, t.name))?;
    let holding_dir = config
        .staging_dir
        .join(layout::library_dir(&t.name))
        .join(HOLDING);
    Holding::clear_leftovers(&holding_dir)
        .with_context(|| format!("clearing {}", holding_dir.display()))?;
    let scan = inbox::scan(&t.inbox, inbox::BOUND)?;
    let mut said = Vec::new();
    let mut status = Status::Ok;
    for set in &scan.sets {
        if let Some(note) = set.downloading_note() {
            said.push(format!("{}: {note}", set.id));
            continue;
        }
        let mut parts = Vec::new();
        for part in &set.parts {
            let path = t.inbox.join(&part.name);
            let fp = fingerprint_text(&inbox::fingerprint(&path, set.format, inbox::BOUND)?);
            ledger.sight_takeout_part(&t.name, &part.name, &fp, now)?;
            parts.push((ledger.takeout_part(&t.name, &part.name)?, fp));
        }
        match set_state(set, &parts, now, set.settle_time(t.settle)) {
            SetState::Done => {}
            SetState::Settling => said.push(format!(
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
            // A set may take long to read: begun only with half the
            // run's deadline left, else the next run takes it.
            SetState::Read if super::deadline::half_gone(&config.limits) => said.push(format!(
                "{}: left for the next run (half of the run's deadline is gone)",
                set.id
            )),
            SetState::Read => {
                let fps: Vec<(&str, &str)> = (set.parts.iter())
                    .zip(&parts)
                    .map(|(p, (_, fp))| (p.name.as_str(), fp.as_str()))
                    .collect();
                match read_set(config, t, set, &holding_dir, &zone, ledger, now, &fps) {
                    Ok((mut text, warns)) => {
                        if warns {
                            warn(&mut status);
                        }
                        if let Some(note) = set.may_continue_note() {
                            warn(&mut status);
                            text.push_str(&format!("; WARNING: {note}"));
                        }
                        said.push(text);
                    }
                    Err(SetError::Part(error)) => {
                        status = Status::Failed;
                        ledger.finish_takeout_parts(&t.name, &fps, now, Some(&error))?;
                        said.push(format!("{}: FAILED: {error}", set.id));
                    }
                    // Ours (staging, the ledger): the next run tries again.
                    Err(SetError::Local(error)) => {
                        status = Status::Failed;
                        said.push(format!("{}: FAILED: {error}", set.id));
                    }
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

/// Why a set was not staged, as text for its line.
#[derive(Debug)]
enum SetError {
    /// A part is cut or damaged: the set waits until a part changes.
    Part(String),
    /// Our side failed (staging, the ledger, a part that vanished): the
    /// next run tries again.
    Local(String),
}

/// Reads, plans and stages one set; its parts (`fps`) are marked read in
/// the same transaction as its files. `Err`: nothing recorded (what was
/// moved into staging before a local failure is taken over by the next
/// run, its bytes being the same). `Ok`: what it did and whether it warns.
#[allow(clippy::too_many_arguments)]
fn read_set(
    config: &Config,
    t: &Takeout,
    set: &TakeoutSet,
    holding_dir: &Path,
    zone: &jiff::tz::TimeZone,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    fps: &[(&str, &str)],
) -> std::result::Result<(String, bool), SetError> {
    let local = |e: &dyn std::error::Error| SetError::Local(describe(e));
    let mut holding = Holding::new(holding_dir)
        .map_err(|e| SetError::Local(format!("cannot create {}: {e}", holding_dir.display())))?;
    let paths: Vec<(PathBuf, _)> = (set.parts.iter())
        .map(|p| (t.inbox.join(&p.name), set.format))
        .collect();
    let read = ingest::read_set(&paths, &mut holding).map_err(|e| match e {
        ReadError::Damaged { .. } => SetError::Part(describe(&e)),
        ReadError::Open { .. } | ReadError::Visit { .. } => local(&e),
    })?;
    let files = ledger.files(&t.name).map_err(|e| local(&e))?;
    let known: HashSet<String> = files
        .iter()
        .filter(|f| f.role == "original")
        .map(|f| f.uuid.clone())
        .collect();
    let mut taken: HashSet<String> = files.iter().map(|f| f.path.to_lowercase()).collect();
    let planned = plan::plan(&read, &|h| known.contains(h), zone, now);
    let mut records = Vec::new();
    for item in &planned.stage {
        let Content::Media(held) = &read.contents[item.member] else {
            continue;
        };
        let staged =
            stage_one(config, t, item, held, &mut holding, &mut taken, now).map_err(|e| {
                SetError::Local(format!("staging {}: {}", item.name, describe_error(&e)))
            })?;
        records.extend(staged);
    }
    let bytes: u64 = records
        .iter()
        .filter(|r| r.role == "original")
        .map(|r| r.size)
        .sum();
    ledger
        .transaction(|l| {
            for r in &records {
                l.record_file(r)?;
            }
            l.finish_takeout_parts(&t.name, fps, now, None)
        })
        .map_err(|e| local(&e))?;
    Ok(summary(set, &planned, read.refused.len(), bytes))
}

/// What a set read gave, and whether it warns.
fn summary(set: &TakeoutSet, p: &SetPlan, refused: usize, bytes: u64) -> (String, bool) {
    let mut text = format!(
        "{}: staged {} new files ({}), {} already staged, {} duplicate copies",
        set.id,
        p.stage.len(),
        human_bytes(bytes),
        p.known,
        p.duplicates
    );
    let warn = !p.without_json.is_empty() || !p.bad_json.is_empty() || refused > 0;
    if !p.without_json.is_empty() {
        text.push_str(&format!(
            "; WARNING: {} without JSON (dated by the archive), e.g. {}",
            p.without_json.len(),
            p.without_json[0]
        ));
    }
    if !p.bad_json.is_empty() {
        text.push_str(&format!(
            "; WARNING: {} JSON unreadable (their media staged without), e.g. {}",
            p.bad_json.len(),
            p.bad_json[0]
        ));
    }
    if refused > 0 {
        text.push_str(&format!(
            "; WARNING: {refused} members refused (unsafe names or links)"
        ));
    }
    (text, warn)
}

/// Moves one content into its day folder with its XMP sidecar (both
/// durable); the ledger rows to record.
fn stage_one(
    config: &Config,
    t: &Takeout,
    item: &plan::ToStage,
    held: &ingest::Held,
    holding: &mut Holding,
    taken: &mut HashSet<String>,
    now: DateTime<Utc>,
) -> Result<Vec<StagedFile>> {
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
    fs::rename(&held.file, &media_path)
        .with_context(|| format!("moving into {}", media_path.display()))?;
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
    Ok(vec![media, sidecar])
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
        }
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
            SetState::Settling
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
