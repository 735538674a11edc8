//! `run` as the LaunchAgent runs it, around the backup cycle itself: one run
//! at a time (a second one leaves at once, exit 75), the mounts released on
//! SIGTERM, the Mac kept awake while it works, the heavy steps held on
//! battery when so configured, every line also in the log file, and at the
//! end `status.json` and the notification. A dry run takes no lock, writes
//! no log or status and never notifies.

use std::io::Write;

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::{Deps, RunOutcome};
use crate::app::{describe_error, exit};
use crate::config::Config;
use crate::export::stage::Progress;
use crate::logfile::{LogFile, Tee};
use crate::process::{CommandLine, CommandRunner};
use crate::remote::mount::{self, MountEnv};
use crate::status::{self, RunInfo};

/// What the command needs from outside: time, programs, secrets, progress.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub runner: &'a dyn CommandRunner,
    pub secrets: &'a dyn crate::secrets::SecretStore,
    pub downloader: Option<&'a dyn crate::export::download::Downloader>,
    pub progress: &'a mut dyn Progress,
}

/// Runs `photos-backup run`; returns the exit code.
pub fn command(
    config: &Config,
    (dry_run, quiet): (bool, bool),
    ctx: Context,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    if dry_run {
        let mut deps = deps(config, ctx, false);
        return exit_code(&super::run(config, true, &mut deps, out)?, out);
    }
    // Refuses folders others can write to; tightens an older installation once.
    let tightened = crate::private_fs::prepare(
        &config.state_dir,
        &config.log_dir,
        (&config.staging_dir, config.staging_group_readable),
    )?;
    let _lock = match crate::lock::acquire(&config.state_dir)? {
        Ok(lock) => lock,
        Err(busy) => {
            // The active run writes the status; this one only says why not.
            writeln!(out, "skipped: {busy}")?;
            return Ok(exit::SKIPPED);
        }
    };
    crate::failpoint::pause("run-locked");
    release_mounts_on_signal(config)?;
    let env = MountEnv::current();
    keep_awake(&env.tool_dirs);
    let on_battery = config.only_on_ac_power
        && crate::power::current(find(&env, "pmset").as_deref(), ctx.runner)
            == crate::power::Power::Battery;
    let (now, runner) = (ctx.now, ctx.runner);
    let mut deps = deps(config, ctx, on_battery);

    let mut log = match LogFile::open(&config.log_dir, crate::logfile::MAX_BYTES, now) {
        Ok(log) => Some(log),
        Err(e) => {
            writeln!(err, "photos-backup: warning: {e}")?;
            None
        }
    };
    // Quiet (the LaunchAgent): the lines go to the log only.
    let mut sink = std::io::sink();
    let mut tee = Tee {
        out: if quiet { &mut sink } else { out },
        log: log.as_mut(),
    };
    if let Some(line) = tightened {
        writeln!(tee, "{line}")?;
    }
    let result = super::run(config, false, &mut deps, &mut tee);
    if let (Err(e), Some(log)) = (&result, tee.log.as_mut()) {
        // The caller prints the error; the log gets it too.
        let _ = writeln!(log, "error: {}", describe_error(e));
    }
    let ended = crate::app::now().unwrap_or(now).max(now);
    let (outcome, detail) = match &result {
        Ok(RunOutcome::Done(_)) => ("ok", None),
        Ok(RunOutcome::Failed(why)) => ("failed", Some(why.clone())),
        Ok(RunOutcome::Skipped(why)) => ("skipped", Some(why.clone())),
        Err(e) => ("failed", Some(describe_error(e))),
    };
    if let (true, Ok(RunOutcome::Failed(why))) = (quiet, &result) {
        // Quiet still says what failed (launchd keeps stderr).
        writeln!(err, "photos-backup: run failed: {why}")?;
    }
    let info = RunInfo {
        started: now,
        ended,
        outcome: outcome.into(),
        detail: detail.clone(),
    };
    if let Err(e) = write_status(config, info) {
        writeln!(
            tee,
            "photos-backup: warning: status: {}",
            describe_error(&e)
        )?;
    }
    let event = match outcome {
        "ok" => crate::notify::Outcome::Ok,
        "skipped" => crate::notify::Outcome::Skipped,
        _ => crate::notify::Outcome::Failed(detail.unwrap_or_default()),
    };
    // A notification that cannot be sent never changes the run's result.
    match crate::notify::after_run(config, &event, now, runner) {
        Ok(after) => {
            if let Some(w) = after.warning {
                writeln!(err, "photos-backup: warning: {w}")?;
            }
        }
        Err(e) => writeln!(err, "photos-backup: warning: notification: {e}")?,
    }
    if let Ok(RunOutcome::Done(warnings)) = &result {
        for w in warnings {
            if let Err(e) = crate::notify::warn(config, w, runner) {
                writeln!(err, "photos-backup: warning: notification: {e}")?;
            }
        }
    }
    exit_code(&result?, &mut tee)
}

#[allow(clippy::needless_pass_by_value)] // the context is taken apart into the deps
fn deps<'a>(config: &Config, ctx: Context<'a>, on_battery: bool) -> Deps<'a> {
    Deps {
        now: ctx.now,
        downloader: ctx.downloader.filter(|_| !on_battery),
        progress: ctx.progress,
        runner: ctx.runner,
        secrets: ctx.secrets,
        mount_env: MountEnv::current(),
        on_battery: on_battery && config.only_on_ac_power,
    }
}

fn exit_code(outcome: &RunOutcome, out: &mut dyn Write) -> Result<u8> {
    Ok(match outcome {
        RunOutcome::Done(_) => exit::OK,
        RunOutcome::Failed(_) => exit::FAILED,
        RunOutcome::Skipped(why) => {
            writeln!(out, "skipped: {why}")?;
            exit::SKIPPED
        }
    })
}

/// `status.json` from the ledger and this run, the rest carried over.
fn write_status(config: &Config, run: RunInfo) -> Result<()> {
    let previous = status::read(&config.state_dir).ok().flatten();
    let ledger =
        crate::ledger::Ledger::open_existing_read_only(&config.state_dir.join("ledger.sqlite"))?;
    let names: Vec<&str> = config.libraries.iter().map(|l| l.name.as_str()).collect();
    let threshold = crate::threshold::read(&config.staging_dir)
        .ok()
        .flatten()
        .or(Some(config.default_threshold));
    let has_remote = config.remote.is_some();
    let status = status::gather(
        run,
        previous.as_ref(),
        ledger.as_ref(),
        &names,
        threshold,
        (has_remote, config.borg.as_ref().map(|b| b.max_pending_days)),
    )?;
    status::write(&config.state_dir, &status)?;
    Ok(())
}

/// On SIGTERM (launchd) or SIGINT/SIGHUP: unmount, unless kept mounted.
fn release_mounts_on_signal(config: &Config) -> Result<()> {
    let remote = config.remote.clone().filter(|r| !r.keep_mounted);
    crate::terminate::on_signal(move || {
        if let Some(remote) = remote {
            let _ = mount::unmount(&remote, &crate::process::System, &MountEnv::current());
        }
    })?;
    Ok(())
}

fn find(env: &MountEnv, tool: &str) -> Option<std::path::PathBuf> {
    mount::find_tool(tool, None, &env.tool_dirs, &|p| p.is_file()).ok()
}

/// `caffeinate -i -w PID` where there is one (macOS): no idle sleep while
/// this process lives.
fn keep_awake(tool_dirs: &[std::path::PathBuf]) {
    if let Ok(program) = mount::find_tool("caffeinate", None, tool_dirs, &|p| p.is_file()) {
        let pid = std::process::id().to_string();
        let _ = crate::process::spawn_background(&CommandLine::new(program, ["-i", "-w", &pid]));
    }
}
