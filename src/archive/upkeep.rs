//! Looking after the repository once the rollover is done: retention (off
//! by default: a monthly archive of every month is the point of the tool)
//! and `borg check` on a schedule. The decisions are pure (`to_prune` in
//! `borg`, `check_due` here); the borg calls go through the rollover's
//! `Context`, so the passphrase and repository are handled in one place.

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::borg;
use super::rollover::{run_borg, Context};
use crate::ledger::{Ledger, Step};

/// `borg check` of a whole repository reads every archive: hours for 1 TB.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(48 * 3600);

/// Whether a `borg check` is due: never done, or the last one is at least
/// `every_days` old.
#[must_use]
pub(crate) fn check_due(last: Option<DateTime<Utc>>, every_days: u32, now: DateTime<Utc>) -> bool {
    last.is_none_or(|at| now - at >= chrono::Duration::days(i64::from(every_days)))
}

/// Archives of `library` that retention removes now (from the ledger's
/// finished rollovers that made an archive and are not pruned yet).
pub(crate) fn prunable(
    ledger: &Ledger,
    library: &str,
    keep_monthly: Option<u32>,
    keep_yearly: Option<u32>,
) -> Result<Vec<String>> {
    let archives: Vec<(String, super::period::Month)> = ledger
        .rollovers()?
        .into_iter()
        .filter(|r| {
            // The backfill's archives hold the only copy of old months.
            r.library == library
                && r.step == Step::Purged
                && r.files > 0
                && r.pruned_at.is_none()
                && !r.backfill
        })
        .map(|r| (r.archive, r.last))
        .collect();
    Ok(borg::to_prune(&archives, keep_monthly, keep_yearly))
}

/// Deletes `archives` from the repository (each recorded as pruned once
/// gone), then compacts it to free the space.
pub(crate) fn prune(
    ctx: &Context,
    ledger: &Ledger,
    library: &str,
    archives: &[String],
) -> Result<()> {
    for archive in archives {
        let cmd = borg::delete(&ctx.program, &ctx.repo, ctx.passphrase, archive);
        run_borg(
            ctx,
            &cmd,
            std::time::Duration::from_secs(3600),
            &format!("deleting archive {archive}"),
        )?;
        ledger.set_pruned(library, archive, ctx.when.now)?;
    }
    if !archives.is_empty() {
        let cmd = borg::compact(&ctx.program, &ctx.repo, ctx.passphrase);
        run_borg(
            ctx,
            &cmd,
            std::time::Duration::from_secs(6 * 3600),
            "compacting",
        )?;
    }
    Ok(())
}

/// Runs `borg check` and records its result; returns whether it passed and
/// what borg said. Unlike `create`, exit code 1 is a failure here: it is
/// how `borg check` reports damage.
pub(crate) fn check(ctx: &Context, ledger: &Ledger) -> Result<(bool, String)> {
    let cmd = borg::check(&ctx.program, &ctx.repo, ctx.passphrase);
    let (ok, said) = match run_borg(ctx, &cmd, CHECK_TIMEOUT, "checking") {
        Ok((_, None)) => (true, "ok".to_owned()),
        // `borg check` says "errors found" with exit code 1.
        Ok((_, Some(said))) => (false, format!("errors found: {said}")),
        Err(e) => (false, crate::error_text::describe_error(&e)),
    };
    ledger.record_repo_check(ctx.when.now, ok, &said)?;
    Ok((ok, said))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_check_is_due_when_never_done_or_old_enough() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        assert!(check_due(None, 30, now));
        assert!(!check_due(Some(now - chrono::Duration::days(29)), 30, now));
        assert!(check_due(Some(now - chrono::Duration::days(30)), 30, now));
    }
}
