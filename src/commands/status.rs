//! `photos-backup status [--json]`: is my data safe, and since when? Reads
//! `STATE/status.json`, which every real run writes, and renders it for
//! people (or prints it as it is, for scripts). It never touches the
//! libraries, the server or the repository, so it answers at once.

use std::io::Write;

use anyhow::{bail, Result};
use chrono::{DateTime, Local, Offset, Utc};

use crate::config::Config;
use crate::status;

/// Prints the status; an error when no run has written one yet.
pub(crate) fn run(
    config: &Config,
    json: bool,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<()> {
    let Some(status) = status::read(&config.state_dir)? else {
        bail!(
            "no run has finished yet: {} does not exist (run `photos-backup run`, or install the LaunchAgent)",
            config.state_dir.join(status::FILE_NAME).display()
        );
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &status)?;
        writeln!(out)?;
    } else {
        let zone = now.with_timezone(&Local).offset().fix();
        write!(out, "{}", status::render(&status, now, zone))?;
    }
    Ok(())
}
