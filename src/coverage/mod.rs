//! Coverage: is every photo of a library safe? Each asset the library holds
//! (as the run would back it up; trashed ones counted apart) is classified
//! against the ledger (`classify`, pure), the classes are added up per
//! library into figures (`summarize`, pure) with the verdict "covered, or on
//! its way within the normal cycle" or what is not, and the figures are
//! rendered for people (`render`, and by year as a bar chart: `chart`) and
//! kept in `STATE/coverage.json` (`file`) for `status`. The command (`commands::coverage`) and the run's
//! step (`commands::run::coverage`) gather the inputs.

pub(crate) mod chart;
pub(crate) mod classify;
pub(crate) mod file;
pub(crate) mod gather;
pub(crate) mod render;
pub(crate) mod takeout;
pub(crate) mod takeout_render;
pub(crate) mod takeout_set;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::archive::period::Month;
use crate::export::plan::Options;
use crate::ledger::LibraryRows;
use crate::photos::CensusAsset;
use classify::{Class, Limits, NewVersion, Scope, Why};

/// Bumped when a field of the JSON changes meaning.
pub(crate) const VERSION: u32 = 1;

/// The coverage of every library, as `coverage --json` prints it and
/// `coverage.json` keeps it (without the lists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Report {
    pub(crate) version: u32,
    pub(crate) computed_at: DateTime<Utc>,
    /// The run's threshold the classes were judged with.
    pub(crate) threshold: NaiveDate,
    /// Every library covered or on its way (the exit code 0).
    pub(crate) covered: bool,
    pub(crate) libraries: Vec<LibraryCoverage>,
    /// The `[[takeout]]` sources (issue 19).
    #[serde(default)]
    pub(crate) takeouts: Vec<takeout::TakeoutCoverage>,
}

/// One library's figures. Counts are assets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LibraryCoverage {
    pub(crate) library: String,
    /// Which copy of the database was read: `kept` (the run's, under the
    /// run lock) or `private` (a run held the lock: a copy of our own).
    pub(crate) database_copy: DatabaseCopy,
    /// Assets the run backs up (trashed and left-out frames not included).
    pub(crate) assets: u64,
    /// Of `assets`, in a verified archive (current or changed since), in
    /// percent, rounded down to 0.1 (100.0 only when all are).
    pub(crate) archived_percent: f64,
    pub(crate) archived_current: u64,
    pub(crate) changed: Changed,
    pub(crate) mirrored: u64,
    pub(crate) staged: u64,
    pub(crate) pending: PendingCounts,
    /// Not staged yet, newer than the threshold: the next run takes them.
    pub(crate) on_its_way: u64,
    pub(crate) back_catalogue: BackCatalogue,
    /// Archived once, the archive since removed by retention: in no archive.
    #[serde(default)]
    pub(crate) pruned: u64,
    pub(crate) trashed: u64,
    /// Unpicked burst frames, with `[export] unpicked_bursts` off.
    pub(crate) left_out: u64,
    /// Nothing below needs the user: all covered or on its way.
    pub(crate) covered: bool,
    /// What is not, by reason (empty when `covered`).
    pub(crate) not_covered: Vec<NotCovered>,
    /// The assets by the year of their creation date (own zone), oldest
    /// first: the bar chart's figures.
    #[serde(default)]
    pub(crate) years: Vec<YearCount>,
    /// With `--list`: the assets not in a verified archive, current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) assets_listed: Option<Vec<Listed>>,
}

/// One year of a library, its assets in four groups that add up to all
/// the run backs up of that year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct YearCount {
    pub(crate) year: i32,
    /// In a verified archive (current, or changed since).
    pub(crate) archived: u64,
    /// Staged (mirrored or not), waiting for the month's archive.
    pub(crate) staged: u64,
    /// Pending: in iCloud only, a download failed, a file missing.
    pub(crate) pending: u64,
    /// In no archive and not staged: on its way, the back catalogue, pruned.
    pub(crate) not_backed_up: u64,
}

impl YearCount {
    /// `year`, no asset counted yet.
    #[must_use]
    fn of(year: i32) -> Self {
        Self {
            year,
            ..Self::default()
        }
    }

    /// Every asset of the year.
    #[must_use]
    pub(crate) fn total(&self) -> u64 {
        self.archived + self.staged + self.pending + self.not_backed_up
    }

    /// Counts one asset of `class`.
    fn add(&mut self, class: &Class) {
        let group = match class {
            Class::Archived { .. } | Class::ArchivedChanged { .. } => &mut self.archived,
            Class::Mirrored | Class::Staged => &mut self.staged,
            Class::Pending(_) => &mut self.pending,
            Class::OnItsWay | Class::BackCatalogue | Class::Pruned => &mut self.not_backed_up,
        };
        *group += 1;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DatabaseCopy {
    Kept,
    Private,
}

/// Archived, but changed since: where the new version is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Changed {
    pub(crate) mirrored: u64,
    pub(crate) staged: u64,
    /// Not staged; the next run takes it.
    pub(crate) not_yet: u64,
}

impl Changed {
    fn total(self) -> u64 {
        self.mirrored + self.staged + self.not_yet
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PendingCounts {
    pub(crate) in_icloud: u64,
    pub(crate) download_failed: u64,
    pub(crate) file_missing: u64,
    /// Of the above, waiting longer than `[borg] max_pending_days`.
    pub(crate) overdue: u64,
}

/// Assets never backed up and older than the threshold, by the month of
/// their creation date in its own time zone (the staging folder's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BackCatalogue {
    pub(crate) assets: u64,
    /// The oldest month still holding such assets (`YYYY-MM`).
    pub(crate) first_month: Option<String>,
    /// The span: the library's oldest month to the newest month of the back catalogue.
    pub(crate) span: Option<(String, String)>,
    /// Assets per month, oldest first.
    pub(crate) months: Vec<MonthCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonthCount {
    pub(crate) month: String,
    pub(crate) assets: u64,
}

/// A reason something is not covered, with how many assets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotCovered {
    pub(crate) reason: Reason,
    pub(crate) assets: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Reason {
    /// A back catalogue, and no backfill to take it.
    BackCatalogue,
    /// A file is missing and iCloud will not bring it.
    FileMissing,
    /// Pending longer than `[borg] max_pending_days`.
    PendingOverdue,
    /// Their archive was removed by retention.
    Pruned,
    /// Takeout: contents of a set read with no staged original in the ledger.
    MissingFromLedger,
    /// Takeout: sets with parts missing from the inbox (counted as sets).
    PartsMissing,
    /// Takeout: sets whose reading failed (counted as sets).
    ReadFailed,
}

/// One asset of `--list`: where it stands, its creation date (own zone),
/// its name (untrusted: escape it before printing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Listed {
    pub(crate) class: String,
    /// The verified archive holding an older version (`archived_changed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) archive: Option<String>,
    pub(crate) uuid: String,
    pub(crate) date: String,
    pub(crate) original_filename: String,
}

/// The last figures as `status` shows them (from `coverage.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Figures {
    pub(crate) computed_at: DateTime<Utc>,
    pub(crate) covered: bool,
    pub(crate) libraries: Vec<LibraryFigures>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LibraryFigures {
    pub(crate) library: String,
    pub(crate) assets: u64,
    /// In a verified archive, current or changed since.
    pub(crate) archived: u64,
    pub(crate) back_catalogue: u64,
    pub(crate) back_catalogue_first_month: Option<String>,
    pub(crate) back_catalogue_span: Option<(String, String)>,
    pub(crate) not_covered: Vec<NotCovered>,
    /// By year, for `status --chart` (empty in figures kept before it).
    #[serde(default)]
    pub(crate) years: Vec<YearCount>,
}

impl Report {
    /// The figures `status` keeps of this report.
    #[must_use]
    pub(crate) fn figures(&self) -> Figures {
        Figures {
            computed_at: self.computed_at,
            covered: self.covered,
            libraries: self
                .libraries
                .iter()
                .map(|l| LibraryFigures {
                    library: l.library.clone(),
                    assets: l.assets,
                    archived: l.archived_current + l.changed.total(),
                    back_catalogue: l.back_catalogue.assets,
                    back_catalogue_first_month: l.back_catalogue.first_month.clone(),
                    back_catalogue_span: l.back_catalogue.span.clone(),
                    not_covered: l.not_covered.clone(),
                    years: l.years.clone(),
                })
                .chain(self.takeouts.iter().map(takeout_figures))
                .collect(),
        }
    }
}

/// A Takeout source's figures as `status` shows a library's: its distinct
/// contents, those in a verified archive, what is not covered (sets count
/// as one each), by year.
fn takeout_figures(t: &takeout::TakeoutCoverage) -> LibraryFigures {
    LibraryFigures {
        library: t.source.clone(),
        assets: t.contents,
        archived: t.archived,
        back_catalogue: 0,
        back_catalogue_first_month: None,
        back_catalogue_span: None,
        not_covered: t
            .not_covered
            .iter()
            .map(|p| NotCovered {
                reason: match p.reason {
                    takeout::TakeoutReason::MissingFromLedger => Reason::MissingFromLedger,
                    takeout::TakeoutReason::PartsMissing => Reason::PartsMissing,
                    takeout::TakeoutReason::ReadFailed => Reason::ReadFailed,
                    takeout::TakeoutReason::Pruned => Reason::Pruned,
                },
                assets: p.count,
            })
            .collect(),
        years: t.years.clone(),
    }
}

impl LibraryFigures {
    /// `anna: 99.2% of 104,233 assets in verified archives, back catalogue
    /// 2014-03 of 2009-01..2023-12`.
    #[must_use]
    pub(crate) fn line(&self) -> String {
        let mut line = format!(
            "{}: {:.1}% of {} assets in verified archives",
            crate::printable::printable(&self.library),
            percent(self.archived, self.assets),
            render::grouped(self.assets)
        );
        match (&self.back_catalogue_first_month, &self.back_catalogue_span) {
            (Some(first), Some((from, to))) => line.push_str(&format!(
                ", back catalogue {} assets, {first} of {from}..{to}",
                render::grouped(self.back_catalogue)
            )),
            _ => line.push_str(", no back catalogue"),
        }
        line
    }
}

/// What one library's figures are computed from.
pub(crate) struct Inputs<'a> {
    pub(crate) library: &'a str,
    pub(crate) census: &'a [CensusAsset],
    pub(crate) rows: &'a LibraryRows,
    /// The current version of the assets whose class depends on it
    /// (`classify::needs_version`), by row number.
    pub(crate) versions: &'a HashMap<i64, u64>,
    pub(crate) options: Options,
    pub(crate) limits: Limits,
    /// `[backfill]` is on: the back catalogue is on its way.
    pub(crate) backfill: bool,
    pub(crate) copy: DatabaseCopy,
    pub(crate) list: bool,
}

/// The class's name in `--list` and JSON.
fn class_name(class: &Class) -> &'static str {
    match class {
        Class::Archived { .. } => "archived",
        Class::ArchivedChanged { .. } => "archived_changed",
        Class::Mirrored => "mirrored",
        Class::Staged => "staged",
        Class::Pending(p) => match p.why {
            Why::InIcloud => "pending_in_icloud",
            Why::DownloadFailed => "pending_download_failed",
            Why::FileMissing => "pending_file_missing",
        },
        Class::OnItsWay => "on_its_way",
        Class::BackCatalogue => "back_catalogue",
        Class::Pruned => "pruned",
    }
}

/// Adds up the classes of one library, judges them, and lists (with
/// `list`) the assets not current in a verified archive.
#[must_use]
pub(crate) fn summarize(inputs: &Inputs) -> LibraryCoverage {
    let mut c = LibraryCoverage {
        library: inputs.library.to_owned(),
        database_copy: inputs.copy,
        assets: 0,
        archived_percent: 0.0,
        archived_current: 0,
        changed: Changed::default(),
        mirrored: 0,
        staged: 0,
        pending: PendingCounts::default(),
        on_its_way: 0,
        back_catalogue: BackCatalogue::default(),
        pruned: 0,
        trashed: 0,
        left_out: 0,
        covered: true,
        not_covered: Vec::new(),
        years: Vec::new(),
        assets_listed: inputs.list.then(Vec::new),
    };
    let mut months: BTreeMap<Month, u64> = BTreeMap::new();
    let mut years: BTreeMap<i32, YearCount> = BTreeMap::new();
    let mut oldest: Option<Month> = None;
    for asset in inputs.census {
        match classify::scope(asset, inputs.options) {
            Scope::Trashed => {
                c.trashed += 1;
                continue;
            }
            Scope::LeftOut => {
                c.left_out += 1;
                continue;
            }
            Scope::BackedUp => {}
        }
        c.assets += 1;
        let month = Month::of(asset.date.date_naive());
        oldest = Some(oldest.map_or(month, |m| m.min(month)));
        let class = classify::classify(
            asset,
            inputs.rows.assets.get(&asset.uuid),
            inputs.versions.get(&asset.pk).copied(),
            inputs.limits,
        );
        count(&mut c, &class);
        if class == Class::BackCatalogue {
            *months.entry(month).or_default() += 1;
        }
        let year = asset.date.year();
        years
            .entry(year)
            .or_insert_with(|| YearCount::of(year))
            .add(&class);
        if let (Some(list), false) = (
            &mut c.assets_listed,
            matches!(class, Class::Archived { .. }),
        ) {
            list.push(Listed {
                class: class_name(&class).to_owned(),
                archive: match &class {
                    Class::ArchivedChanged { archive, .. } => Some(archive.clone()),
                    _ => None,
                },
                uuid: asset.uuid.clone(),
                date: asset.date.format("%Y-%m-%d %H:%M:%S %:z").to_string(),
                original_filename: asset.original_filename.clone(),
            });
        }
    }
    let archived = c.archived_current + c.changed.total();
    c.archived_percent = percent(archived, c.assets);
    if let (Some(first), Some(last)) = (months.keys().next(), months.keys().next_back()) {
        c.back_catalogue.first_month = Some(first.to_string());
        let from = oldest.map_or(*first, |o| o.min(*first));
        c.back_catalogue.span = Some((from.to_string(), last.to_string()));
    }
    c.back_catalogue.months = months
        .into_iter()
        .map(|(m, n)| MonthCount {
            month: m.to_string(),
            assets: n,
        })
        .collect();
    c.years = years.into_values().collect();
    judge(&mut c, inputs.backfill);
    c
}

/// Counts one asset of `class` in the library's figures.
fn count(c: &mut LibraryCoverage, class: &Class) {
    match class {
        Class::Archived { .. } => c.archived_current += 1,
        Class::ArchivedChanged { new, .. } => match new {
            NewVersion::Mirrored => c.changed.mirrored += 1,
            NewVersion::Staged => c.changed.staged += 1,
            NewVersion::NotYet => c.changed.not_yet += 1,
        },
        Class::Mirrored => c.mirrored += 1,
        Class::Staged => c.staged += 1,
        Class::Pending(p) => {
            match p.why {
                Why::InIcloud => c.pending.in_icloud += 1,
                Why::DownloadFailed => c.pending.download_failed += 1,
                Why::FileMissing => c.pending.file_missing += 1,
            }
            c.pending.overdue += u64::from(p.overdue && p.why != Why::FileMissing);
        }
        Class::OnItsWay => c.on_its_way += 1,
        Class::BackCatalogue => c.back_catalogue.assets += 1,
        Class::Pruned => c.pruned += 1,
    }
}

/// What is not covered, by reason, and so whether all is.
fn judge(c: &mut LibraryCoverage, backfill: bool) {
    let mut not = Vec::new();
    if c.back_catalogue.assets > 0 && !backfill {
        not.push((Reason::BackCatalogue, c.back_catalogue.assets));
    }
    not.push((Reason::FileMissing, c.pending.file_missing));
    not.push((Reason::PendingOverdue, c.pending.overdue));
    not.push((Reason::Pruned, c.pruned));
    c.not_covered = not
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(reason, assets)| NotCovered { reason, assets })
        .collect();
    c.covered = c.not_covered.is_empty();
}

/// `part` of `whole` in percent, rounded down to a tenth: 99.99% is not
/// shown as 100.0%.
#[must_use]
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 100.0;
    }
    let tenths = (u128::from(part) * 1000 / u128::from(whole)) as u64;
    tenths as f64 / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_percentage_never_rounds_up_to_everything() {
        let shown = |part, whole| format!("{:.1}", percent(part, whole));
        assert_eq!(shown(99_999, 100_000), "99.9");
        assert_eq!(shown(100_000, 100_000), "100.0");
        assert_eq!(shown(0, 3), "0.0");
        assert_eq!(shown(2, 3), "66.6");
        assert_eq!(shown(0, 0), "100.0");
    }
}
