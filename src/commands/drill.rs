//! `photos-backup drill [--files N] [--json]`: a restore drill now, whatever
//! `[drill] every_days` says. A random sample of archived files (`--files`,
//! else `[drill] files`, else 20) is extracted with borg into a private
//! temp folder and compared with the ledger; with a `[remote]` section and
//! `[drill] mirror_files`, a sample of the mirror is read back through the
//! decrypted view (mounted for it, then released). It holds the run lock, so
//! it never meets a run halfway through a rollover, and keeps its result in
//! `drill.json` and `status.json` as a run's drill does. Exit 0 when every
//! file came back as recorded, 1 when one did not or the repository could
//! not be reached, 2 without a `[borg]` section.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::access::{self, Access, Deps};
use crate::clock::When;
use crate::config::Config;
use crate::drill::{self, random::Rng, record, Checked, Outcome, Place, Want};
use crate::exit::Failure;
use crate::host::Host;
use crate::ledger::Ledger;
use crate::remote::mount::{self, MountEnv};
use crate::remote::network::{self, Reachability};

/// The longest a drill of this command may take.
const BOUND: Duration = Duration::from_secs(4 * 3600);
/// Files when neither `--files` nor `[drill] files` says.
const DEFAULT_FILES: u32 = 20;

/// What the command needs from the machine.
pub(crate) struct Machine<'a> {
    pub(crate) borg: &'a Deps<'a>,
    pub(crate) host: &'a Host,
    pub(crate) now: DateTime<Utc>,
}

/// Makes a drill now; `Ok(true)` when every sampled file matched. No
/// `[borg]` section is a config failure.
pub(crate) fn run(
    config: &Config,
    files: Option<u32>,
    json: bool,
    machine: &Machine,
    out: &mut dyn Write,
) -> Result<bool, Failure> {
    let section = access::section(config, "drill")?;
    Ok(drill_now(config, section, (files, json), machine, out)?)
}

fn drill_now(
    config: &Config,
    section: &crate::config::Borg,
    (files, json): (Option<u32>, bool),
    machine: &Machine,
    out: &mut dyn Write,
) -> Result<bool> {
    let _lock = match crate::lock::acquire(&config.state_dir, machine.now)? {
        Ok(lock) => lock,
        Err(busy) => bail!("{busy}: the drill waits for it to end; try again later"),
    };
    let Some(ledger) = Ledger::open_existing_read_only(&config.state_dir.join("ledger.sqlite"))?
    else {
        writeln!(out, "nothing to drill yet: no run has recorded anything")?;
        return Ok(true);
    };
    let want = Want {
        files: files
            .or(config.drill.map(|d| d.files))
            .unwrap_or(DEFAULT_FILES) as usize,
        mirror_files: config.drill.map_or(0, |d| d.mirror_files) as usize,
    };
    // The files the last drill could not read back are read again first (a
    // damaged record: none; the new drill replaces it).
    let retry = record::read(&config.state_dir)
        .ok()
        .flatten()
        .map(|last| last.retry)
        .unwrap_or_default();
    let until = Instant::now() + BOUND;
    let (outcome, mirror_skipped) = with_mirror(config, machine, want, |plain| {
        let open = || Access::open(section, machine.borg);
        let repo = drill::Repo {
            open: &open,
            runner: machine.borg.runner,
        };
        drill::perform(
            &ledger,
            &repo,
            plain,
            (want, &retry),
            &mut Rng::from_entropy(),
            until,
        )
    })?;
    let said = Said {
        json,
        mirror_skipped,
    };
    report(config, machine.now, &outcome, &said, out)
}

/// Runs `f` with the decrypted view mounted when the config has a remote
/// volume and the drill wants mirrored files (released afterwards unless
/// kept mounted). Without one `f` gets `None`; off network too, and then
/// the second value says why the mirror was not drilled.
fn with_mirror(
    config: &Config,
    machine: &Machine,
    want: Want,
    f: impl FnOnce(Option<&Path>) -> Result<Outcome>,
) -> Result<(Outcome, Option<String>)> {
    let Some(remote) = config.remote.as_ref().filter(|_| want.mirror_files > 0) else {
        return Ok((f(None)?, None));
    };
    let env = MountEnv::on(machine.host);
    let runner = machine.borg.runner;
    match network::gate(remote, env.os, &env.tool_dirs, runner) {
        Reachability::Reachable { .. } => {}
        Reachability::Unreachable(why) => {
            let why = format!("the server is out of reach: {why}");
            return Ok((f(None)?, Some(why)));
        }
        Reachability::Refused(refused) => bail!("{refused}; fix: {}", refused.fix()),
    }
    let password = machine
        .borg
        .secrets
        .get(&remote.password)
        .context("reading the remote volume's password ([remote].password)")?;
    let mounted = mount::ensure_mounted(remote, &password, runner, &env)?;
    let result = f(Some(&mounted.plain));
    let released = if remote.keep_mounted {
        Ok(())
    } else {
        mount::unmount(remote, runner, &env)
    };
    let outcome = result?;
    released?;
    Ok((outcome, None))
}

/// How to say it: JSON or lines, and why the mirror was left out.
struct Said {
    json: bool,
    mirror_skipped: Option<String>,
}

/// Says how the drill went, keeps it (`drill.json`, `status.json`), and
/// whether it passed.
fn report(
    config: &Config,
    now: DateTime<Utc>,
    outcome: &Outcome,
    said: &Said,
    out: &mut dyn Write,
) -> Result<bool> {
    let report = match outcome {
        Outcome::Nothing => {
            writeln!(
                out,
                "nothing to drill yet: no verified archive and no mirrored file"
            )?;
            return Ok(true);
        }
        Outcome::Unreachable(why) => bail!("the borg repository could not be reached: {why}"),
        Outcome::Drilled(report) => report,
    };
    let record = report.record(now);
    record::write(&config.state_dir, &record)?;
    if let Some(mut status) = crate::status::read(&config.state_dir)? {
        status.set_drill(Some(record.clone()));
        crate::status::write(&config.state_dir, &status, now)?;
    }
    if said.json {
        let json = Json::of(&record, report, said.mirror_skipped.clone());
        serde_json::to_writer_pretty(&mut *out, &json)?;
        writeln!(out)?;
    } else {
        if let Some(why) = &said.mirror_skipped {
            writeln!(out, "mirror: not drilled, {why}")?;
        }
        for checked in report.archived.iter().chain(&report.mirrored) {
            let word = if checked.verdict.matched() {
                "ok"
            } else {
                "FAILED"
            };
            writeln!(out, "{word}: {checked}")?;
        }
        let summary = record.summary(When::at(now).today);
        if record.passed() {
            writeln!(out, "proven restore: {summary}")?;
        } else {
            writeln!(out, "restore drill FAILED: {summary}")?;
        }
    }
    Ok(record.passed())
}

/// `--json`: the record, and every file with its verdict.
#[derive(Serialize)]
struct Json<'a> {
    passed: bool,
    #[serde(flatten)]
    record: &'a record::Record,
    checked: Vec<JsonFile>,
    /// Why no mirrored file was read back, when one should have been.
    mirror_skipped: Option<String>,
}

#[derive(Serialize)]
struct JsonFile {
    /// The archive, or `null` for the mirror.
    archive: Option<String>,
    path: String,
    matched: bool,
    /// What went wrong, for a file that did not match.
    problem: Option<String>,
}

impl<'a> Json<'a> {
    fn of(
        record: &'a record::Record,
        report: &drill::Report,
        mirror_skipped: Option<String>,
    ) -> Self {
        let file = |c: &Checked| JsonFile {
            archive: match &c.place {
                Place::Archive(name) => Some(name.clone()),
                Place::Mirror => None,
            },
            path: c.path.clone(),
            matched: c.verdict.matched(),
            problem: (!c.verdict.matched()).then(|| c.verdict.to_string()),
        };
        Self {
            passed: record.passed(),
            record,
            checked: report
                .archived
                .iter()
                .chain(&report.mirrored)
                .map(file)
                .collect(),
            mirror_skipped,
        }
    }
}
