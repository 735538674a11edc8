//! Step 9 of a run: the month rollover of every library whose export and
//! mirror went through in this run, then the threshold, moved to the first
//! day of this month (locally and on the remote volume) only once every
//! configured library is archived up to last month. The borg passphrase is
//! read only when there is something to archive: the other runs of the month
//! never touch the Keychain or the repository.

use std::path::Path;

use anyhow::{Context as _, Result};
use chrono::NaiveDate;

use super::Deps;
use crate::archive::borg::Repository;
use crate::archive::period::{self, Month};
use crate::archive::rollover::{self, Archived, Context, Held, Preview};
use crate::archive::upkeep;
use crate::clock::When;
use crate::config::Config;
use crate::error_text::describe_error;
use crate::ledger::Ledger;
use crate::report::Line;
use crate::text::human_bytes;
use crate::threshold;

/// What the rollover phase works on.
pub(super) struct Phase<'a> {
    pub(super) config: &'a Config,
    /// The threshold this run exported from.
    pub(super) threshold: NaiveDate,
    /// Libraries exported (and mirrored) without a failure in this run.
    pub(super) ready: &'a [&'a str],
    /// The decrypted remote volume, when mounted.
    pub(super) plain: Option<&'a Path>,
}

/// Rolls over what is due, then prunes (if configured) and checks the
/// repository (when due); returns the lines to print, a failed one for
/// anything that did not go through (which is left in place for the next
/// run).
pub(super) fn run(phase: &Phase, ledger: &mut Ledger, deps: &Deps) -> Vec<Line> {
    let mut lines = Vec::new();
    if let Some(borg) = &phase.config.borg {
        let mut access = Access {
            borg,
            phase,
            deps,
            opened: None,
        };
        let steps: [(&str, Step); 3] = [
            ("rollover", roll_over_ready),
            ("retention", prune),
            ("borg check", check),
        ];
        for (name, step) in steps {
            if let Err(e) = step(&mut access, ledger, &mut lines) {
                lines.push(Line::failed(
                    name,
                    format!("FAILED: {}", describe_error(&e)),
                ));
            }
        }
    } else if let Err(e) = warn_without_borg(phase, ledger, deps, &mut lines) {
        lines.push(Line::failed(
            "rollover",
            format!("FAILED: {}", describe_error(&e)),
        ));
    }
    if let Err(e) = move_threshold(phase, ledger, deps, &mut lines) {
        lines.push(Line::failed(
            "threshold",
            format!("FAILED: {}", describe_error(&e)),
        ));
    }
    lines
}

/// A step of the rollover phase: its lines (a failed one for what failed
/// and was handled), or an error that stops the step.
type Step = fn(&mut Access<'_, '_>, &mut Ledger, &mut Vec<Line>) -> Result<()>;

/// The repository, opened (passphrase read, borg found) only when a step
/// needs it.
pub(super) struct Access<'a, 'd> {
    pub(super) borg: &'a crate::config::Borg,
    pub(super) phase: &'a Phase<'a>,
    pub(super) deps: &'a Deps<'d>,
    pub(super) opened: Option<(crate::secrets::Secret, std::path::PathBuf)>,
}

impl Access<'_, '_> {
    pub(super) fn context(&mut self) -> Result<Context<'_>> {
        if self.opened.is_none() {
            let access = crate::archive::access::Access::open(
                self.borg,
                &crate::archive::access::Deps {
                    runner: self.deps.runner,
                    secrets: self.deps.secrets,
                    tool_dirs: &self.deps.mount_env.tool_dirs,
                },
            )?;
            self.opened = Some((access.passphrase, access.program));
        }
        let Some((passphrase, program)) = &self.opened else {
            unreachable!("opened above")
        };
        Ok(Context {
            program: program.clone(),
            repo: Repository::of(self.borg),
            passphrase,
            prefix: &self.borg.prefix,
            compression: &self.borg.compression,
            verify: self.borg.verify,
            max_pending_days: self.borg.max_pending_days,
            runner: self.deps.runner,
            staging: &self.phase.config.staging_dir,
            plain: self.phase.plain,
            when: When::at(self.deps.now),
            note: self.deps.note,
        })
    }
}

/// The libraries ready in this run that have a rollover to finish or a
/// closed period.
fn due_libraries<'a>(phase: &Phase<'a>, ledger: &Ledger, today: NaiveDate) -> Result<Vec<&'a str>> {
    let mut due = Vec::new();
    for name in phase.ready {
        let open = ledger.open_rollover(name)?.is_some();
        let closed = period::due(phase.threshold, ledger.archived_through(name)?, today);
        if open || closed.is_some() {
            due.push(*name);
        }
    }
    Ok(due)
}

fn warn_without_borg(
    phase: &Phase,
    ledger: &Ledger,
    deps: &Deps,
    lines: &mut Vec<Line>,
) -> Result<()> {
    if !due_libraries(phase, ledger, When::at(deps.now).today)?.is_empty() {
        lines.push(Line::ok(
            "rollover",
            format!(
                "the months since {} are over, but there is no [borg] section: \
                 nothing is archived and staging keeps growing",
                phase.threshold
            ),
        ));
    }
    Ok(())
}

fn roll_over_ready(access: &mut Access, ledger: &mut Ledger, lines: &mut Vec<Line>) -> Result<()> {
    let phase = access.phase;
    let due = due_libraries(phase, ledger, When::at(access.deps.now).today)?;
    if due.is_empty() {
        return Ok(());
    }
    if access.deps.on_battery {
        lines.push(Line::ok(
            "rollover",
            format!("{} waits for AC power (only_on_ac_power)", due.join(", ")),
        ));
        return Ok(());
    }
    super::deadline::archiving();
    let ctx = access.context()?;
    for name in due {
        match rollover::roll_over(&ctx, ledger, name, phase.threshold) {
            Ok(report) => {
                lines.extend(report.archived.iter().map(|a| archived_line(name, a)));
                lines.extend(report.held.iter().map(|h| held_line(name, h)));
            }
            Err(e) => lines.push(Line::failed(
                name,
                format!("rollover FAILED: {}", describe_error(&e)),
            )),
        }
    }
    Ok(())
}

/// Retention, when configured: only archives the ledger knows as finished.
fn prune(access: &mut Access, ledger: &mut Ledger, lines: &mut Vec<Line>) -> Result<()> {
    let (monthly, yearly) = (
        access.borg.prune_keep_monthly,
        access.borg.prune_keep_yearly,
    );
    for name in access.phase.ready {
        let doomed = upkeep::prunable(ledger, name, monthly, yearly)?;
        if doomed.is_empty() {
            continue;
        }
        let ctx = access.context()?;
        upkeep::prune(&ctx, ledger, name, &doomed)?;
        lines.push(Line::ok(
            *name,
            format!(
                "retention deleted {} archives: {}",
                doomed.len(),
                doomed.join(", ")
            ),
        ));
    }
    Ok(())
}

/// `borg check` when its schedule says so; a failed check fails the run.
fn check(access: &mut Access, ledger: &mut Ledger, lines: &mut Vec<Line>) -> Result<()> {
    let Some(every) = access
        .borg
        .check_every_days
        .filter(|_| !access.deps.on_battery)
    else {
        return Ok(());
    };
    let last = ledger.last_repo_check()?.map(|(at, _, _)| at);
    if !upkeep::check_due(last, every, access.deps.now) {
        return Ok(());
    }
    let ctx = access.context()?;
    let (ok, said) = upkeep::check(&ctx, ledger)?;
    lines.push(if ok {
        Line::ok("borg check", said)
    } else {
        Line::failed("borg check", format!("FAILED: {said}"))
    });
    Ok(())
}

/// The threshold moves to the first day of this month once no configured
/// library has a period left to archive (or a rollover left unfinished).
fn move_threshold(
    phase: &Phase,
    ledger: &Ledger,
    deps: &Deps,
    lines: &mut Vec<Line>,
) -> Result<()> {
    let when = When::at(deps.now);
    let new = Month::of(when.today).first_day();
    if phase.config.borg.is_none() || phase.threshold >= new {
        return Ok(());
    }
    for lib in &phase.config.libraries {
        let through = ledger.archived_through(&lib.name)?;
        if ledger.open_rollover(&lib.name)?.is_some()
            || period::due(phase.threshold, through, when.today).is_some()
        {
            return Ok(());
        }
    }
    // Remote first: the run uses the earlier of the two, so a kill between
    // the writes leaves the old threshold in force and this step redone.
    if let Some(plain) = phase.plain {
        threshold::write(plain, new)?;
    }
    crate::failpoint::pause("threshold-remote-written");
    std::fs::create_dir_all(&phase.config.staging_dir).with_context(|| {
        format!(
            "creating staging dir {}",
            phase.config.staging_dir.display()
        )
    })?;
    threshold::write(&phase.config.staging_dir, new)?;
    lines.push(Line::ok(
        "threshold",
        format!("moved from {} to {new}", phase.threshold),
    ));
    Ok(())
}

/// What a dry run says about the rollover (the ledger is only read).
pub(super) fn preview(phase: &Phase, ledger: Option<&Ledger>, deps: &Deps) -> Result<Vec<Line>> {
    let when = When::at(deps.now);
    let mut lines = Vec::new();
    let Some(borg) = &phase.config.borg else {
        return Ok(lines);
    };
    for name in phase.ready {
        let p = rollover::preview(
            (&borg.prefix, borg.max_pending_days),
            when,
            ledger,
            name,
            phase.threshold,
        )?;
        match p {
            Preview::Nothing => {}
            Preview::Resume { archive, step } => lines.push(Line::ok(
                *name,
                format!("would resume the rollover into {archive} (step reached: {step:?})"),
            )),
            Preview::Archive {
                archive,
                files,
                bytes,
                missing,
            } => {
                let mut text = format!(
                    "would archive {files} staged files ({}) into {archive}, \
                     verify it, and purge them",
                    human_bytes(bytes)
                );
                if missing > 0 {
                    text.push_str(&format!("; {missing} assets still lack their original"));
                }
                lines.push(Line::ok(*name, text));
            }
            Preview::Held(h) => lines.push(held_line(name, &h)),
        }
    }
    Ok(lines)
}

fn period_text(first: Month, last: Month) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first} to {last}")
    }
}

/// "into ARCHIVE: N files (SIZE), verified, N purged": the end of the line
/// of a monthly archive and of a backfill part.
pub(super) fn archive_done(a: &Archived) -> String {
    format!(
        "into {}{}: {} files ({}), verified, {} purged",
        a.archive,
        if a.reused {
            " (made by an interrupted run)"
        } else {
            ""
        },
        a.files,
        human_bytes(a.bytes),
        a.purged
    )
}

fn archived_line(library: &str, a: &Archived) -> Line {
    let mut text = if a.files == 0 {
        format!(
            "{} closed with nothing staged: no archive needed",
            period_text(a.first, a.last)
        )
    } else {
        format!(
            "archived {} {}",
            period_text(a.first, a.last),
            archive_done(a)
        )
    };
    let mut line = Line::ok(library, "");
    if !a.missing.is_empty() {
        line.status = crate::report::Status::Warning;
        let shown: Vec<&str> = a.missing.iter().take(5).map(String::as_str).collect();
        text.push_str(&format!(
            "; WARNING: archived without the originals of {} assets still pending \
             (they stay pending): {}{}",
            a.missing.len(),
            shown.join(", "),
            if a.missing.len() > shown.len() {
                ", ..."
            } else {
                ""
            }
        ));
    }
    if let Some(w) = &a.warning {
        text.push_str(&format!("; borg warned: {w}"));
    }
    line.text = text;
    line
}

fn held_line(library: &str, h: &Held) -> Line {
    Line::ok(
        library,
        format!(
            "{} not archived yet: {} originals still pending in iCloud; \
             waiting for them until {} at the latest",
            period_text(h.first, h.last),
            h.waiting,
            h.until.format("%Y-%m-%d")
        ),
    )
}
