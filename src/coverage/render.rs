//! Coverage as text for people: one line per library with its totals and
//! the share in verified archives, then what is not covered grouped by
//! reason (and what is on its way), with `--list` the assets themselves.
//! Pure; names from the library are escaped (`printable`).

use super::{LibraryCoverage, Listed, Reason};
use crate::printable::printable;

/// `1234567` as `1,234,567`.
#[must_use]
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The library's line: `anna: 99.2% of 104,233 assets in verified archives
/// (103,400 current, 12 changed since: 12 staged); back catalogue: 821
/// assets, 2014-03 of 2009-01..2023-12`.
#[must_use]
pub(crate) fn headline(c: &LibraryCoverage) -> String {
    let changed = c.changed;
    let mut line = format!(
        "{}: {:.1}% of {} assets in verified archives ({} current",
        printable(&c.library),
        c.archived_percent,
        grouped(c.assets),
        grouped(c.archived_current)
    );
    let total = changed.mirrored + changed.staged + changed.not_yet;
    if total > 0 {
        let parts: Vec<String> = [
            (changed.mirrored, "mirrored"),
            (changed.staged, "staged"),
            (changed.not_yet, "not yet staged"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{} {what}", grouped(*n)))
        .collect();
        line.push_str(&format!(
            ", {} changed since: {}",
            grouped(total),
            parts.join(", ")
        ));
    }
    line.push(')');
    let b = &c.back_catalogue;
    match (&b.first_month, &b.span) {
        (Some(first), Some((from, to))) => line.push_str(&format!(
            "; back catalogue: {} assets, {first} of {from}..{to}",
            grouped(b.assets)
        )),
        _ => line.push_str("; no back catalogue"),
    }
    line
}

/// Every line for one library; `list`: the assets under their group.
#[must_use]
pub(crate) fn library(c: &LibraryCoverage) -> Vec<String> {
    let mut lines = vec![headline(c)];
    let listed = |class: &str| -> Vec<String> {
        c.assets_listed
            .iter()
            .flatten()
            .filter(|l| l.class == class)
            .map(list_line)
            .collect()
    };
    if !c.not_covered.is_empty() {
        lines.push("  not covered:".into());
    }
    for n in &c.not_covered {
        let what = match n.reason {
            Reason::BackCatalogue => {
                "never backed up, older than the threshold (the back catalogue): \
                 set [backfill] enabled = true to archive it month by month"
            }
            Reason::FileMissing => "a file is missing and iCloud will not bring it",
            Reason::PendingOverdue => "pending longer than [borg] max_pending_days",
            Reason::Pruned => {
                "in no archive: their archive was removed by retention \
                 ([borg] prune_keep_monthly / prune_keep_yearly)"
            }
            // Takeout sources only (`takeout_lines`).
            Reason::MissingFromLedger | Reason::PartsMissing | Reason::ReadFailed => continue,
        };
        lines.push(format!("    {}: {what}", assets(n.assets)));
    }
    let p = &c.pending;
    let waiting: Vec<(u64, &str, &str)> = vec![
        (
            c.on_its_way,
            "newer than the threshold, taken by the next run",
            "on_its_way",
        ),
        (c.staged, "staged, not yet mirrored", "staged"),
        (
            c.mirrored,
            "staged and mirrored, archived at the month's end",
            "mirrored",
        ),
        (
            p.in_icloud,
            "pending: original only in iCloud",
            "pending_in_icloud",
        ),
        (
            p.download_failed,
            "pending: download failed, tried again",
            "pending_download_failed",
        ),
        (
            p.file_missing,
            "pending: file missing",
            "pending_file_missing",
        ),
        (c.back_catalogue.assets, "back catalogue", "back_catalogue"),
        (
            c.pruned,
            "in no archive: their archive was removed by retention",
            "pruned",
        ),
        (
            c.changed.mirrored + c.changed.staged + c.changed.not_yet,
            "changed since their archive",
            "archived_changed",
        ),
    ];
    if waiting.iter().any(|(n, _, _)| *n > 0) {
        lines.push("  not in a verified archive as they are now:".into());
    }
    for (n, what, class) in waiting {
        if n > 0 {
            lines.push(format!("    {}: {what}", assets(n)));
            lines.extend(listed(class));
        }
    }
    if c.trashed + c.left_out > 0 {
        lines.push(format!(
            "  counted apart: {} in the trash, {} unpicked burst frames left out",
            grouped(c.trashed),
            grouped(c.left_out)
        ));
    }
    lines
}

/// `1 asset`, `1,204 assets`.
fn assets(n: u64) -> String {
    format!("{} asset{}", grouped(n), crate::text::plural(n))
}

fn list_line(l: &Listed) -> String {
    format!(
        "      {}  {}  {}",
        printable(&l.uuid),
        l.date,
        printable(&l.original_filename)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(104_233), "104,233");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
