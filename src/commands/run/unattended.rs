//! `run` as the LaunchAgent runs it, around the backup cycle itself: one run
//! at a time (a second one leaves at once, exit 75, unless the lock has been
//! held longer than any run may take: then the holder is stuck, and that is
//! a failure), a whole-run deadline, the mounts released on SIGTERM (both
//! bounded), the Mac kept awake while it works, the heavy steps held on
//! battery when so configured, every line also in the log file, and at the
//! end `status.json`, the monitor's ping, the notification, and the watch
//! on long stretches of skips. A dry run takes no lock, writes no log or
//! status, never pings and never notifies.

use std::io::Write;
use std::sync::{Arc, OnceLock};

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};

use super::{Deps, RunOutcome};
use crate::clock::Clock;
use crate::config::Config;
use crate::error_text::describe_error;
use crate::exit::Code;
use crate::export::progress::{Both, Lines};
use crate::export::stage::Progress;
use crate::host::Host;
use crate::logfile::{LogFile, Tee};
use crate::monitor::{Event, Monitor, MonitorError, OnSkip};
use crate::process::{CommandLine, CommandRunner};
use crate::remote::mount::{self, MountEnv};
use crate::report::{join, Status};
use crate::status::{self, RunInfo, RunResult};

/// The state dir's list of the running children's process groups.
const CHILDREN_FILE: &str = "children";

/// How often a long copy says how far it is in the log.
const LOG_PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// What the command needs from outside: time, programs, secrets.
pub(crate) struct Context<'a> {
    /// The run's time, read once by `app`.
    pub(crate) now: DateTime<Utc>,
    /// Read again only when the run ends (its end time in `status.json`).
    pub(crate) clock: Clock,
    pub(crate) runner: &'a dyn CommandRunner,
    pub(crate) secrets: &'a dyn crate::secrets::SecretStore,
    pub(crate) downloader: Option<&'a dyn crate::export::download::Downloader>,
    /// The machine, described once by the caller.
    pub(crate) host: &'a Host,
}

/// Progress said while a step works, to the log through a handle of its
/// own (and on stderr unless quiet).
fn notes(log: Option<&LogFile>, clock: Clock, quiet: bool) -> crate::logfile::Notes {
    let stamp = move || clock.now();
    crate::logfile::Notes::new(log.and_then(|l| l.try_clone(Box::new(stamp))), !quiet)
}

/// The run log, its lines stamped by `clock`, or `None` with a warning: a
/// log that cannot be opened does not stop the backup.
fn open_log(config: &Config, clock: Clock, err: &mut dyn Write) -> Result<Option<LogFile>> {
    let now = Box::new(move || clock.now());
    match LogFile::open(&config.log_dir, crate::logfile::MAX_BYTES, now) {
        Ok(log) => Ok(Some(log)),
        Err(e) => {
            writeln!(
                err,
                "photos-backup: warning: {}",
                crate::error_text::describe(&e)
            )?;
            Ok(None)
        }
    }
}

/// Runs `photos-backup run`; returns the exit code.
pub(crate) fn command(
    config: &Config,
    (dry_run, quiet): (bool, bool),
    ctx: Context,
    progress: &mut dyn Progress,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Code> {
    if dry_run {
        let mut deps = deps(config, ctx, progress, false, None, &|_| {});
        return exit_code(&super::run(config, true, &mut deps, out)?, out);
    }
    let host = ctx.host;
    // Refuses folders others can write to; tightens an older installation once.
    let tightened = crate::private_fs::prepare(
        &config.state_dir,
        &config.log_dir,
        (&config.staging_dir, config.staging_group_readable),
    )?;
    let _lock = match crate::lock::acquire(&config.state_dir, ctx.now)? {
        Ok(lock) => lock,
        Err(busy) => return not_locked(config, &busy, &ctx, out, err),
    };
    // No Keychain dialog: under launchd nobody answers it, and the lock is held.
    let _no_keychain_ui = crate::platform::forbid_keychain_ui()?;
    // Armed before anything can hang, test hooks included.
    release_mounts_on_signal(config, host)?;
    // The monitor is opened later; the watchdog pings its failure too.
    let pinger = Arc::new(OnceLock::new());
    stop_at_deadline(config, host, (ctx.now, ctx.clock), Arc::clone(&pinger))?;
    tidy_up(config, host, err)?;
    crate::failpoint::pause("run-locked");
    keep_awake(&host.tool_dirs);
    let pmset = crate::tools::find("pmset", None, &host.tool_dirs).ok();
    let on_battery = config.only_on_ac_power
        && crate::power::current(pmset.as_deref(), ctx.runner) == crate::power::Power::Battery;
    let (now, clock, runner) = (ctx.now, ctx.clock, ctx.runner);
    let monitor = open_monitor(config, host, ctx.secrets, Some(&pinger));
    let begin = |out: &mut dyn Write| ping(&monitor, Event::Start, runner, out);
    let mut log = open_log(config, clock, err)?;
    let notes = notes(log.as_ref(), clock, quiet);
    let note = |line: &str| notes.say(line);
    // Staging's and the mirror's progress go to the log as well: under
    // launchd (quiet) the log is the only place a long copy shows.
    let mut logged = Lines::new(notes.log_lines(), LOG_PROGRESS_EVERY).only_long_steps();
    let mut progress = Both(progress, &mut logged);
    let mut deps = deps(config, ctx, &mut progress, on_battery, Some(&begin), &note);

    // Quiet (the LaunchAgent): the lines go to the log only.
    let mut sink = std::io::sink();
    let mut tee = Tee {
        out: if quiet { &mut sink } else { out },
        log: log.as_mut(),
    };
    if let Some(line) = tightened {
        writeln!(tee, "{line}")?;
    }
    warn_unopened(&monitor, &mut tee);
    // The run's last lines, for a failure ping.
    let mut tail = crate::monitor::Tail::new(&mut tee, crate::monitor::MAX_BODY);
    let result = super::run(config, false, &mut deps, &mut tail);
    let tail = tail.text();
    if let (Err(e), Some(log)) = (&result, tee.log.as_mut()) {
        // The caller prints the error; the log gets it too.
        let _ = writeln!(log, "error: {}", describe_error(e));
    }
    let ended = clock.now().max(now);
    let (outcome, detail) = result_of(&result);
    if let (true, Ok(RunOutcome::Failed(_)), Some(why)) = (quiet, &result, &detail) {
        // Quiet still says what failed (launchd keeps stderr).
        writeln!(err, "photos-backup: run failed: {why}")?;
    }
    let info = RunInfo {
        started: now,
        ended,
        outcome,
        detail: detail.clone(),
    };
    if let Err(e) = write_status(config, info) {
        writeln!(
            tee,
            "photos-backup: warning: status: {}",
            describe_error(&e)
        )?;
    }
    ping_after(
        &monitor,
        (&result, detail.as_deref()),
        ended - now,
        &tail,
        runner,
        &mut tee,
    );
    let event = match outcome {
        RunResult::Ok => crate::notify::Outcome::Ok,
        RunResult::Skipped => crate::notify::Outcome::Skipped,
        RunResult::Failed => crate::notify::Outcome::Failed(detail.unwrap_or_default()),
    };
    notify_outcome(config, host, &event, now, runner, err)?;
    match &result {
        Ok(RunOutcome::Skipped(why)) => watch_skips(config, host, why, now, runner, err)?,
        _ => super::skips::end(&config.state_dir),
    }
    if let Ok(RunOutcome::Done(warnings)) = &result {
        for w in warnings {
            if let Err(e) = crate::notify::warn(&channel(config, host), &w.to_string(), runner) {
                writeln!(
                    err,
                    "photos-backup: warning: notification: {}",
                    crate::error_text::describe(&e)
                )?;
            }
        }
    }
    exit_code(&result?, &mut tee)
}

/// Before the work: the children of a run that was killed (SIGKILL ends
/// only the run) go now, and a mount one of them finished is judged like
/// any other; this run's children are recorded from now on; launchd's
/// files of our output, which nothing else rotates, are rotated.
fn tidy_up(config: &Config, host: &Host, err: &mut dyn Write) -> Result<()> {
    let children = config.state_dir.join(CHILDREN_FILE);
    for (group, name) in crate::process::stop_orphans(&children, &crate::process::process_names) {
        writeln!(
            err,
            "photos-backup: stopped {name} (process group {group}), left running by a killed run"
        )?;
    }
    crate::process::record_children_in(children);
    if let Err((path, e)) = crate::launchd::rotate_logs(&host.home) {
        writeln!(
            err,
            "photos-backup: warning: cannot rotate {}: {e}",
            path.display()
        )?;
    }
    Ok(())
}

/// How a run ended for `status.json` and the notification, and why.
fn result_of(result: &Result<RunOutcome>) -> (RunResult, Option<String>) {
    match result {
        Ok(RunOutcome::Done(_)) => (RunResult::Ok, None),
        Ok(RunOutcome::Failed(lines)) => (RunResult::Failed, Some(join(lines, Status::Failed))),
        Ok(RunOutcome::Skipped(why)) => (RunResult::Skipped, Some(why.clone())),
        Err(e) => (RunResult::Failed, Some(describe_error(e))),
    }
}

#[allow(clippy::needless_pass_by_value)] // the context is taken apart into the deps
fn deps<'a: 'b, 'b>(
    config: &Config,
    ctx: Context<'a>,
    progress: &'b mut dyn Progress,
    on_battery: bool,
    on_begin: Option<super::OnBegin<'b>>,
    note: &'b dyn Fn(&str),
) -> Deps<'b> {
    Deps {
        now: ctx.now,
        downloader: ctx.downloader.filter(|_| !on_battery),
        progress,
        runner: ctx.runner,
        secrets: ctx.secrets,
        mount_env: MountEnv::on(ctx.host),
        on_battery: on_battery && config.only_on_ac_power,
        on_begin,
        note,
    }
}

fn exit_code(outcome: &RunOutcome, out: &mut dyn Write) -> Result<Code> {
    Ok(match outcome {
        RunOutcome::Done(_) => Code::Ok,
        RunOutcome::Failed(_) => Code::Failed,
        RunOutcome::Skipped(why) => {
            writeln!(out, "skipped: {why}")?;
            Code::Skipped
        }
    })
}

/// The run's notification, then, past the deadline, the wait for the
/// watchdog that ends the process (both of its steps are bounded by
/// `RELEASE_BOUND`). A notification that cannot be sent never changes the
/// run's result.
fn notify_outcome(
    config: &Config,
    host: &Host,
    event: &crate::notify::Outcome,
    now: DateTime<Utc>,
    runner: &dyn CommandRunner,
    err: &mut dyn Write,
) -> Result<()> {
    match crate::notify::after_run(&channel(config, host), event, now, runner) {
        Ok(after) => {
            if let Some(w) = after.warning {
                writeln!(err, "photos-backup: warning: {w}")?;
            }
        }
        Err(e) => writeln!(
            err,
            "photos-backup: warning: notification: {}",
            crate::error_text::describe(&e)
        )?,
    }
    super::deadline::yield_to_watchdog(crate::terminate::RELEASE_BOUND * 3);
    Ok(())
}

/// `status.json` from the ledger and this run, the rest carried over.
fn write_status(config: &Config, run: RunInfo) -> Result<()> {
    let previous = status::read(&config.state_dir).ok().flatten();
    let ledger =
        crate::ledger::Ledger::open_existing_read_only(&config.state_dir.join("ledger.sqlite"))?;
    // Takeout sources are staged and archived like libraries: same figures.
    let names: Vec<&str> = (config.libraries.iter().map(|l| l.name.as_str()))
        .chain(config.takeouts.iter().map(|t| t.name.as_str()))
        .collect();
    let threshold = crate::threshold::read(&config.staging_dir)
        .ok()
        .flatten()
        .or(Some(config.default_threshold));
    let has_remote = config.remote.is_some();
    let ended = run.ended;
    let mut status = status::gather(
        run,
        previous.as_ref(),
        ledger.as_ref(),
        &names,
        threshold,
        (has_remote, config.borg.as_ref().map(|b| b.max_pending_days)),
    )?;
    status.coverage = crate::coverage::file::read(&config.state_dir)
        .ok()
        .flatten()
        .map(|r| r.figures());
    // A damaged drill record is said by the run's drill line, not trusted here.
    status.set_drill(crate::drill::record::read(&config.state_dir).ok().flatten());
    status.set_log(&crate::logfile::path(&config.log_dir));
    status::write(&config.state_dir, &status, ended)?;
    Ok(())
}

/// On SIGTERM (launchd) or SIGINT/SIGHUP: stop the children, release the
/// mounts (unless kept mounted), within `terminate::RELEASE_BOUND`.
fn release_mounts_on_signal(config: &Config, host: &Host) -> Result<()> {
    let remote = config.remote.clone();
    let host = host.clone();
    crate::terminate::on_signal(crate::terminate::RELEASE_BOUND, move || {
        release_everything(remote.as_ref(), &host)
    })?;
    Ok(())
}

/// Kills every child's process group, then lets go of the mounts (unless
/// kept mounted and healthy): a gentle unmount, and by force what does not
/// go (a dead or busy mount, its FUSE connection aborted first). Every step
/// is a bounded child; what is left is in the `Err`.
fn release_everything(remote: Option<&crate::config::Remote>, host: &Host) -> Result<(), String> {
    crate::process::stop_all_children();
    let Some(remote) = remote.filter(|r| !r.keep_mounted) else {
        return Ok(());
    };
    // Short steps: all of it must fit in `terminate::RELEASE_BOUND`.
    let env = MountEnv {
        stat_timeout: std::time::Duration::from_secs(3),
        unmount_timeout: std::time::Duration::from_secs(3),
        ..MountEnv::on(host)
    };
    let system = crate::process::System;
    mount::unmount(remote, &system, &env)
        .or_else(|_| mount::release_now(remote, &system, &env))
        .map_err(|e| crate::error_text::describe(&e))
}

/// The whole-run deadline: past it, the children are stopped, the mounts
/// released, the failure recorded in `status.json` and notified, and the
/// process exits with the failure code.
fn stop_at_deadline(
    config: &Config,
    host: &Host,
    (started, clock): (DateTime<Utc>, Clock),
    monitor: Arc<OnceLock<Monitor>>,
) -> Result<()> {
    let config = config.clone();
    let host = host.clone();
    super::deadline::watch(config.limits, move |limit| {
        let mut why = format!(
            "the run did not finish within its deadline of {} s and was stopped",
            limit.as_secs()
        );
        eprintln!("photos-backup: {why}");
        let released = crate::terminate::bounded(crate::terminate::RELEASE_BOUND, {
            let (remote, host) = (config.remote.clone(), host.clone());
            move || release_everything(remote.as_ref(), &host)
        });
        match released {
            Some(Ok(())) => {}
            Some(Err(left)) => why.push_str(&format!("; left behind: {left}")),
            None => why.push_str("; the mounts could not be released in time"),
        }
        let body = format!("photos-backup run failed: {why}");
        // Bounded: the notification may be the very thing that hangs.
        let reported = crate::terminate::bounded(crate::terminate::RELEASE_BOUND, move || {
            report_failure(
                &config,
                &host,
                (started, clock),
                &why,
                &crate::process::System,
            );
        });
        if reported.is_none() {
            eprintln!("photos-backup: the failure could not be recorded and notified in time");
        }
        if let Some(monitor) = monitor.get().cloned() {
            // Bounded by the ping's own timeout too.
            let pinged = crate::terminate::bounded(crate::terminate::RELEASE_BOUND, move || {
                if let Err(e) = monitor.ping(Event::Failure(&body), &crate::process::System) {
                    warn_failed(&e, &mut std::io::stderr());
                }
            });
            if pinged.is_none() {
                eprintln!(
                    "photos-backup: warning: [monitor]: the failure ping did not end in time"
                );
            }
        }
        // Nothing of this run outlives it, a hung notification included.
        crate::process::stop_all_children();
        std::process::exit(i32::from(Code::Failed.value()));
    })?;
    Ok(())
}

/// A failure outside the backup cycle (deadline, stuck lock): `status.json`
/// says it (its ATTENTION lines name it), and it is notified.
fn report_failure(
    config: &Config,
    host: &Host,
    (started, clock): (DateTime<Utc>, Clock),
    why: &str,
    runner: &dyn CommandRunner,
) {
    let ended = clock.now().max(started);
    let info = RunInfo {
        started,
        ended,
        outcome: RunResult::Failed,
        detail: Some(why.to_owned()),
    };
    if let Err(e) = write_status(config, info) {
        eprintln!("photos-backup: warning: status: {}", describe_error(&e));
    }
    let event = crate::notify::Outcome::Failed(why.to_owned());
    if let Err(e) = crate::notify::after_run(&channel(config, host), &event, started, runner) {
        eprintln!(
            "photos-backup: warning: notification: {}",
            crate::error_text::describe(&e)
        );
    }
}

/// The lock is held by a run that has lasted longer than any may: stuck
/// (in the kernel, on a dead mount: not even SIGKILL ends that). Not a
/// skip: a failure, recorded and notified, naming the pid and since when.
fn stuck_lock(
    config: &Config,
    host: &Host,
    busy: &crate::lock::Busy,
    (now, clock): (DateTime<Utc>, Clock),
    runner: &dyn CommandRunner,
    err: &mut dyn Write,
) -> Result<Code> {
    let why = format!(
        "{busy}, longer than any run may take ({} s): that run is stuck; \
         end it (kill -9 the pid, or restart the Mac if it will not die)",
        config.limits.longest_run().as_secs()
    );
    writeln!(err, "photos-backup: run failed: {why}")?;
    report_failure(config, host, (now, clock), &why, runner);
    Ok(Code::Failed)
}

/// After a skip: one notification when skips have gone on too long.
fn watch_skips(
    config: &Config,
    host: &Host,
    why: &str,
    now: DateTime<Utc>,
    runner: &dyn CommandRunner,
    err: &mut dyn Write,
) -> Result<()> {
    let last_backup = status::read(&config.state_dir)
        .ok()
        .flatten()
        .and_then(|s| s.last_success);
    let (stretch, message) = super::skips::after_skip(
        super::skips::read(&config.state_dir),
        last_backup,
        now,
        config.limits.skip_alert_after,
        why,
    );
    if let Some(message) = message {
        writeln!(err, "photos-backup: {message}")?;
        if let Err(e) = crate::notify::warn(&channel(config, host), &message, runner) {
            writeln!(
                err,
                "photos-backup: warning: notification: {}",
                crate::error_text::describe(&e)
            )?;
        }
    }
    if let Err(e) = super::skips::write(&config.state_dir, &stretch) {
        writeln!(
            err,
            "photos-backup: warning: {}: {e}",
            super::skips::FILE_NAME
        )?;
    }
    Ok(())
}

/// The run's monitor when `[monitor]` is set, its URL read through
/// `secrets`, also handed to `watchdog` when given; an `Err` is said as a
/// warning, and nothing is pinged.
fn open_monitor(
    config: &Config,
    host: &Host,
    secrets: &dyn crate::secrets::SecretStore,
    watchdog: Option<&OnceLock<Monitor>>,
) -> Result<Option<Monitor>> {
    let Some(settings) = &config.monitor else {
        return Ok(None);
    };
    let url = secrets.get(&settings.url).context("[monitor] url")?;
    let monitor = Monitor::open(settings, url.expose(), &host.tool_dirs)?;
    if let Some(watchdog) = watchdog {
        let _ = watchdog.set(monitor.clone());
    }
    Ok(Some(monitor))
}

/// A monitor that cannot be pinged is a warning line.
fn warn_unopened(monitor: &Result<Option<Monitor>>, out: &mut dyn Write) {
    if let Err(e) = monitor {
        let _ = writeln!(out, "photos-backup: warning: {}", describe_error(e));
    }
}

/// A ping that failed is a warning line, never the run's result.
fn warn_failed(error: &MonitorError, out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "photos-backup: warning: {}",
        crate::error_text::describe(error)
    );
}

/// Sends `event` when there is a monitor.
fn ping(
    monitor: &Result<Option<Monitor>>,
    event: Event,
    runner: &dyn CommandRunner,
    out: &mut dyn Write,
) {
    if let Ok(Some(monitor)) = monitor {
        if let Err(e) = monitor.ping(event, runner) {
            warn_failed(&e, out);
        }
    }
}

/// The ping of a run that ended: success with its one-line summary, failure
/// with its summary and last log lines (capped), a skip per `on_skip`.
fn ping_after(
    monitor: &Result<Option<Monitor>>,
    (result, detail): (&Result<RunOutcome>, Option<&str>),
    took: chrono::TimeDelta,
    log_tail: &str,
    runner: &dyn CommandRunner,
    out: &mut dyn Write,
) {
    let Ok(Some(pinged)) = monitor else {
        return;
    };
    let took = took.num_seconds();
    let text = match result {
        Ok(RunOutcome::Done(warnings)) if warnings.is_empty() => {
            format!("photos-backup run ok in {took} s")
        }
        Ok(RunOutcome::Done(warnings)) => format!(
            "photos-backup run ok in {took} s, {} warning{}: {}",
            warnings.len(),
            crate::text::plural(warnings.len() as u64),
            join(warnings, Status::Warning)
        ),
        Ok(RunOutcome::Skipped(why)) if pinged.on_skip() == OnSkip::Log => {
            format!("skipped: {why}")
        }
        Ok(RunOutcome::Skipped(_)) => return,
        Ok(RunOutcome::Failed(_)) | Err(_) => crate::monitor::failure_body(
            &format!(
                "photos-backup run failed after {took} s: {}",
                detail.unwrap_or("")
            ),
            log_tail,
            crate::monitor::MAX_BODY,
        ),
    };
    let event = match result {
        Ok(RunOutcome::Done(_)) => Event::Success(&text),
        Ok(RunOutcome::Skipped(_)) => Event::Skipped(&text),
        _ => Event::Failure(&text),
    };
    ping(monitor, event, runner, out);
}

/// The lock is held. By a stuck run: a failure (and the monitor's failure
/// ping); else a skip (and a log ping with `on_skip = "log"`).
fn not_locked(
    config: &Config,
    busy: &crate::lock::Busy,
    ctx: &Context,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Code> {
    let (host, now, runner) = (ctx.host, ctx.now, ctx.runner);
    if busy.stuck(now, config.limits.longest_run()) {
        let code = stuck_lock(config, host, busy, (now, ctx.clock), runner, err)?;
        let why = format!("photos-backup run failed: {busy}, longer than any run may take");
        ping_without_lock(config, ctx, Event::Failure(&why), err)?;
        return Ok(code);
    }
    // The active run writes the status; this one only says why not.
    writeln!(out, "skipped: {busy}")?;
    watch_skips(config, host, &busy.to_string(), now, runner, err)?;
    let why = format!("skipped: {busy}");
    ping_without_lock(config, ctx, Event::Skipped(&why), err)?;
    Ok(Code::Skipped)
}

/// The ping of a run that did not get the lock: a skip's (`on_skip =
/// "log"`), or a stuck lock's failure. No Keychain dialog meanwhile.
fn ping_without_lock(
    config: &Config,
    ctx: &Context,
    event: Event,
    err: &mut dyn Write,
) -> Result<()> {
    let Some(settings) = &config.monitor else {
        return Ok(());
    };
    if matches!(event, Event::Skipped(_)) && settings.on_skip == OnSkip::Nothing {
        return Ok(());
    }
    let _no_keychain_ui = crate::platform::forbid_keychain_ui()?;
    let monitor = open_monitor(config, ctx.host, ctx.secrets, None);
    warn_unopened(&monitor, err);
    ping(&monitor, event, ctx.runner, err);
    Ok(())
}

/// Where this run's notifications go.
fn channel<'a>(config: &'a Config, host: &'a Host) -> crate::notify::Channel<'a> {
    crate::notify::Channel {
        settings: &config.notify,
        state_dir: &config.state_dir,
        tool_dirs: &host.tool_dirs,
    }
}

/// `caffeinate -i -w PID` where there is one (macOS): no idle sleep while
/// this process lives.
fn keep_awake(tool_dirs: &[std::path::PathBuf]) {
    if let Ok(program) = crate::tools::find("caffeinate", None, tool_dirs) {
        let pid = std::process::id().to_string();
        let _ = crate::process::spawn_background(&CommandLine::new(program, ["-i", "-w", &pid]));
    }
}
