//! The run's last step: a restore drill when one is due (`[drill]`, from
//! `STATE/drill.json`), after the rollover, only when every earlier step of
//! the run went through, never on battery with `only_on_ac_power`, and only
//! with enough of the run's deadline left (its children end before the
//! watchdog would). A file that does not come back as recorded fails the
//! run, naming archive and file (so the notification does); a repository
//! that does not answer is a warning, and the drill stays due for the next
//! run. The result goes to `drill.json`, where `status` finds it.

use std::path::Path;
use std::time::{Duration, Instant};

use super::Deps;
use crate::archive::access::{self, Access};
use crate::clock::When;
use crate::config::Config;
use crate::drill::{self, plan, random::Rng, record, Outcome, Want};
use crate::error_text::{describe, describe_error};
use crate::ledger::Ledger;
use crate::report::{Line, Status};

/// Less than this left before the deadline: the drill waits for a later run.
const LEAST_TIME: Duration = Duration::from_secs(5 * 60);
/// Kept back from what is left, for the run's own end (status, unmount).
const MARGIN: Duration = Duration::from_secs(60);
/// The drill's time when no watchdog runs (the cycle called on its own).
const UNWATCHED: Duration = Duration::from_secs(2 * 3600);

/// The line's subject.
const SUBJECT: &str = "drill";

/// Makes the drill if due; its lines (none when nothing was due).
pub(super) fn run(
    config: &Config,
    ledger: &Ledger,
    plain: Option<&Path>,
    deps: &Deps,
) -> Vec<Line> {
    let (Some(settings), Some(borg)) = (config.drill, config.borg.as_ref()) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    let last = match record::read(&config.state_dir) {
        Ok(last) => last,
        Err(e) => {
            lines.push(Line::ok(
                SUBJECT,
                format!("{}; making a restore drill now", describe(&e)),
            ));
            None
        }
    };
    // A drill that failed stays a failure until one reads its files back
    // as recorded: a run that cannot drill again says so.
    let failed = last.as_ref().filter(|r| !r.passed());
    if deps.on_battery {
        lines.extend(failed.map(|r| still_failed(r, "on battery")));
        return lines;
    }
    if failed.is_none() && !plan::due(last.as_ref().map(|r| r.at), settings.every_days, deps.now) {
        return lines;
    }
    let left = super::deadline::remaining().unwrap_or(UNWATCHED);
    if left < LEAST_TIME {
        let why = format!("{} s to the run's deadline", left.as_secs());
        lines.push(match failed {
            Some(r) => still_failed(r, &why),
            None => Line::ok(
                SUBJECT,
                format!("restore drill due, left for a later run: {why}"),
            ),
        });
        return lines;
    }
    let retry = failed.map_or(&[][..], |r| r.retry.as_slice());
    let until = Instant::now() + left.saturating_sub(MARGIN);
    let want = Want {
        files: settings.files as usize,
        mirror_files: settings.mirror_files as usize,
    };
    let open = || {
        Access::open(
            borg,
            &access::Deps {
                runner: deps.runner,
                secrets: deps.secrets,
                tool_dirs: &deps.mount_env.tool_dirs,
            },
        )
    };
    let repo = drill::Repo {
        open: &open,
        runner: deps.runner,
    };
    let outcome = drill::perform(
        ledger,
        &repo,
        plain,
        (want, retry),
        &mut Rng::from_entropy(),
        until,
    );
    lines.push(match outcome {
        Ok(Outcome::Nothing) => return lines,
        Ok(Outcome::Unreachable(why)) => match failed {
            Some(r) => still_failed(
                r,
                &format!("the borg repository could not be reached: {why}"),
            ),
            None => not_reached(&why),
        },
        Ok(Outcome::Drilled(report)) => {
            let record = report.record(deps.now);
            let mut line = line_of(&record, When::at(deps.now).today);
            if let Err(e) = record::write(&config.state_dir, &record) {
                line.status = Status::Failed;
                line.text
                    .push_str(&format!("; FAILED to keep it: {}", describe(&e)));
            }
            line
        }
        Err(e) => Line::failed(
            SUBJECT,
            format!("restore drill FAILED: {}", describe_error(&e)),
        ),
    });
    lines
}

/// What a dry run says: that a drill is due (the ledger and the repository
/// are not read).
pub(super) fn preview(config: &Config, deps: &Deps) -> Vec<Line> {
    let (Some(settings), Some(_)) = (config.drill, config.borg.as_ref()) else {
        return Vec::new();
    };
    let last = record::read(&config.state_dir).ok().flatten();
    if !plan::due(last.as_ref().map(|r| r.at), settings.every_days, deps.now) {
        return Vec::new();
    }
    let since = last.map_or_else(
        || "none yet".to_owned(),
        |r| When::at(r.at).today.to_string(),
    );
    vec![Line::ok(
        SUBJECT,
        format!(
            "would make a restore drill of {} archived files (last drill: {since})",
            settings.files
        ),
    )]
}

/// The repository could not be reached: a warning; the drill stays due.
fn not_reached(why: &str) -> Line {
    let mut line = Line::ok(
        SUBJECT,
        format!(
            "WARNING: restore drill not made, the borg repository could not be reached \
             (tried again next run): {why}"
        ),
    );
    line.status = Status::Warning;
    line
}

/// The last drill failed and this run could not make another (`why`):
/// the failure stands, with the files it named.
fn still_failed(last: &record::Record, why: &str) -> Line {
    Line::failed(
        SUBJECT,
        format!(
            "the last restore drill FAILED ({}), not made again ({why}): {}",
            last.summary(When::at(last.at).today),
            last.failures.join("; ")
        ),
    )
}

/// "proven restore: 20/20 files from 7 archives, ..." or FAILED naming
/// every file that did not come back as recorded.
fn line_of(record: &record::Record, today: chrono::NaiveDate) -> Line {
    if record.passed() {
        return Line::ok(
            SUBJECT,
            format!("proven restore: {}", record.summary(today)),
        );
    }
    Line::failed(
        SUBJECT,
        format!(
            "restore drill FAILED ({}): {}",
            record.summary(today),
            record.failures.join("; ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn a_drill_line_names_every_file_that_failed() {
        let mut record = record::Record {
            at: Utc.with_ymd_and_hms(2026, 12, 5, 8, 0, 0).unwrap(),
            files: 2,
            matched: 2,
            archives: 1,
            mirror_files: 0,
            mirror_matched: 0,
            failures: Vec::new(),
            retry: Vec::new(),
        };
        let day = record.at.date_naive();
        let ok = line_of(&record, day);
        assert_eq!(ok.status, Status::Ok);
        assert_eq!(
            ok.to_string(),
            "drill: proven restore: 2/2 files from 1 archive, 2026-12-05"
        );
        record.matched = 1;
        record.failures = vec!["archive p-a-2026-09: a/1.jpg could not be restored: x".into()];
        let failed = line_of(&record, day);
        assert_eq!(failed.status, Status::Failed);
        assert!(
            failed
                .text
                .ends_with("archive p-a-2026-09: a/1.jpg could not be restored: x"),
            "{failed}"
        );
        assert_eq!(not_reached("off").status, Status::Warning);
        let stands = still_failed(&record, "on battery");
        assert_eq!(stands.status, Status::Failed);
        assert!(
            stands
                .text
                .contains("not made again (on battery): archive p-a-2026-09: a/1.jpg"),
            "{stands}"
        );
    }
}
