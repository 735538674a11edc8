//! `photos-backup status [--json] [--check]`: is my data safe, and since
//! when? Reads `STATE/status.json`, which every real run writes, and renders
//! it for people (or prints it, for scripts), its verdict decided at the
//! time of asking. `--check` answers in the exit code for monitors, by the
//! rules of the ATTENTION lines (`status::Verdict`). Both forms say where
//! the run log is. `--chart` adds each library by year as a bar chart,
//! from the last coverage figures. It never touches the libraries, the
//! server or the repository, so it answers at once.

use std::io::Write;

use anyhow::{bail, Result};
use chrono::{DateTime, Local, Utc};

use crate::cli::StatusArgs;
use crate::config::Config;
use crate::status;

/// Prints the status; whether it is healthy (only `--check` makes that the
/// exit code). No status file yet is an error, or with `--check` (and
/// without `--json`) an attention line.
pub(crate) fn run(
    config: &Config,
    args: &StatusArgs,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<bool> {
    let path = config.state_dir.join(status::FILE_NAME);
    let Some(status) = status::read(&config.state_dir)? else {
        let why = format!("no run has finished yet: {} does not exist", path.display());
        if args.check && !args.json {
            writeln!(out, "ATTENTION: {why}")?;
            return Ok(false);
        }
        bail!("{why} (run `photos-backup run`, or install the LaunchAgent)");
    };
    let mut status = status.judged(now);
    // Where the log is by the config read now (a file written before the
    // field existed, or a log folder moved since).
    status.set_log(&crate::logfile::path(&config.log_dir));
    let healthy = status.verdict.as_ref().is_some_and(|v| v.healthy);
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &status)?;
        writeln!(out)?;
    } else if args.check {
        for line in status.verdict.iter().flat_map(|v| &v.attention) {
            writeln!(out, "ATTENTION: {line}")?;
        }
        if healthy {
            writeln!(out, "healthy")?;
        }
    } else {
        write!(out, "{}", status::render(&status, now, &Local))?;
        if let Some(log) = status.log() {
            writeln!(out, "\nLog:          {log}")?;
        }
        if args.chart {
            let glyphs = crate::commands::coverage::glyphs();
            write!(out, "{}", status::chart(&status, now, &Local, glyphs))?;
        }
    }
    Ok(healthy)
}
