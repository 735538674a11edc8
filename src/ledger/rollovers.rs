//! Rollovers: for each library and archive, the step the monthly rollover
//! reached (`planned` → `created` → `verified` → `purged`) and the files
//! the archive was given. A run killed anywhere finds here where to resume;
//! the files stay listed after the purge, as the record of which version of
//! which photo is in which archive (`locate`, `restore`).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

use super::{time_at, time_required, time_text, Ledger, Result};
use crate::archive::period::Month;

/// How far a rollover got. Each step is recorded after it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// Decided; the archive may or may not exist yet.
    Planned,
    /// `borg create` finished (or the archive was found in the repository).
    Created,
    /// The archive holds every file it was given.
    Verified,
    /// The verified files are gone from staging and the remote volume.
    Purged,
}

impl Step {
    fn as_str(self) -> &'static str {
        match self {
            Step::Planned => "planned",
            Step::Created => "created",
            Step::Verified => "verified",
            Step::Purged => "purged",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "planned" => Step::Planned,
            "created" => Step::Created,
            "verified" => Step::Verified,
            "purged" => Step::Purged,
            _ => return None,
        })
    }
}

/// One rollover as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollover {
    pub library: String,
    pub archive: String,
    pub(crate) first: Month,
    pub(crate) last: Month,
    pub step: Step,
    pub(crate) planned_at: DateTime<Utc>,
    pub(crate) created_at: Option<DateTime<Utc>>,
    pub verified_at: Option<DateTime<Utc>>,
    pub(crate) purged_at: Option<DateTime<Utc>>,
    /// When retention removed the archive from the repository.
    pub pruned_at: Option<DateTime<Utc>>,
    pub(crate) files: u64,
    pub(crate) bytes: u64,
    /// Assets archived without their original (still pending).
    pub missing: Vec<String>,
    /// What borg said when it finished with a warning.
    pub(crate) warning: Option<String>,
    /// A part of the backfill of the back catalogue (one month, its own
    /// files), not a monthly rollover.
    pub backfill: bool,
}

/// One file an archive was given, as it was then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedFile {
    pub archive: String,
    pub uuid: String,
    pub role: String,
    /// Relative to the staging root: also its path inside the archive.
    pub path: String,
    pub size: u64,
    pub hash: String,
}

const COLUMNS: &str = "library, archive, first_month, last_month, step, planned_at, created_at,
     verified_at, purged_at, pruned_at, files, bytes, missing, warning, backfill";

fn conversion(idx: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Invalid(String);

impl Rollover {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        let month = |idx: usize| -> rusqlite::Result<Month> {
            let text: String = row.get(idx)?;
            text.parse().map_err(|e| conversion(idx, Invalid(e)))
        };
        let step: String = row.get(4)?;
        let missing: String = row.get(12)?;
        Ok(Self {
            library: row.get(0)?,
            archive: row.get(1)?,
            first: month(2)?,
            last: month(3)?,
            step: Step::parse(&step)
                .ok_or_else(|| conversion(4, Invalid(format!("unknown step {step:?}"))))?,
            planned_at: time_required(row, 5)?,
            created_at: time_at(row, 6)?,
            verified_at: time_at(row, 7)?,
            purged_at: time_at(row, 8)?,
            pruned_at: time_at(row, 9)?,
            files: row.get(10)?,
            bytes: row.get(11)?,
            missing: serde_json::from_str(&missing).map_err(|e| conversion(12, e))?,
            warning: row.get(13)?,
            backfill: row.get(14)?,
        })
    }
}

impl ArchivedFile {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            archive: row.get(0)?,
            uuid: row.get(1)?,
            role: row.get(2)?,
            path: row.get(3)?,
            size: row.get(4)?,
            hash: row.get(5)?,
        })
    }
}

impl Ledger {
    /// Records a new rollover of `library` into `archive`, step `planned`.
    pub fn plan_rollover(
        &self,
        library: &str,
        archive: &str,
        (first, last): (Month, Month),
        missing: &[String],
        now: DateTime<Utc>,
    ) -> Result<Rollover> {
        let missing_json = serde_json::to_string(missing).unwrap_or_else(|_| "[]".into());
        self.conn
            .execute(
                "INSERT INTO rollover (library, archive, first_month, last_month, step, planned_at, missing)
                 VALUES (?1, ?2, ?3, ?4, 'planned', ?5, ?6)",
                params![
                    library,
                    archive,
                    first.to_string(),
                    last.to_string(),
                    time_text(&now),
                    missing_json
                ],
            )
            .map_err(|e| self.err(e))?;
        self.rollover(library, archive)?
            .ok_or_else(|| self.err(rusqlite::Error::QueryReturnedNoRows))
    }

    /// Makes the files of a planned rollover the files of `library` staged
    /// and not purged, as they are now (replacing an earlier list: staging
    /// may have changed since a killed run made it): a monthly rollover's,
    /// those of no backfill part and of no asset a backfill part not yet
    /// archived takes (a run killed before it marked them, an edit staged
    /// meanwhile: the part takes them when it marks its files again); a
    /// backfill part's, its own (`batch`).
    /// Returns (files, bytes).
    pub fn snapshot_rollover(&self, library: &str, archive: &str) -> Result<(u64, u64)> {
        let sql = "
            DELETE FROM rollover_file WHERE library = ?1 AND archive = ?2;
            INSERT INTO rollover_file (library, archive, uuid, role, path, size, hash)
                SELECT library, ?2, uuid, role, path, size, hash FROM staged_file
                WHERE library = ?1 AND purged_at IS NULL AND batch IS (
                    SELECT CASE WHEN backfill = 1 THEN archive END FROM rollover
                    WHERE library = ?1 AND archive = ?2)
                AND (batch IS NOT NULL OR NOT EXISTS (
                    SELECT 1 FROM backfill_asset b JOIN rollover p
                        ON p.library = b.library AND p.archive = b.archive
                    WHERE b.library = ?1 AND b.uuid = staged_file.uuid
                      AND p.step = 'planned'));
            UPDATE rollover SET
                files = (SELECT count(*) FROM rollover_file WHERE library = ?1 AND archive = ?2),
                bytes = (SELECT coalesce(sum(size), 0) FROM rollover_file
                         WHERE library = ?1 AND archive = ?2)
            WHERE library = ?1 AND archive = ?2;";
        let mut stmts = sql.split(';').map(str::trim).filter(|s| !s.is_empty());
        for stmt in &mut stmts {
            self.conn
                .execute(stmt, params![library, archive])
                .map_err(|e| self.err(e))?;
        }
        let r = self
            .rollover(library, archive)?
            .ok_or_else(|| self.err(rusqlite::Error::QueryReturnedNoRows))?;
        Ok((r.files, r.bytes))
    }

    /// One rollover.
    pub fn rollover(&self, library: &str, archive: &str) -> Result<Option<Rollover>> {
        let sql = format!("SELECT {COLUMNS} FROM rollover WHERE library = ?1 AND archive = ?2");
        self.conn
            .query_row(&sql, params![library, archive], Rollover::from_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The monthly rollover of `library` a killed run left unfinished, if any.
    pub fn open_rollover(&self, library: &str) -> Result<Option<Rollover>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM rollover WHERE library = ?1 AND step != 'purged'
             AND backfill = 0 ORDER BY planned_at LIMIT 1"
        );
        self.conn
            .query_row(&sql, params![library], Rollover::from_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The last month `library` has a finished monthly rollover for (the
    /// backfill's archives of older months do not count).
    pub fn archived_through(&self, library: &str) -> Result<Option<Month>> {
        Ok(self
            .rollovers()?
            .into_iter()
            .filter(|r| r.library == library && r.step == Step::Purged && !r.backfill)
            .map(|r| r.last)
            .max())
    }

    /// Every rollover, oldest period first.
    pub fn rollovers(&self) -> Result<Vec<Rollover>> {
        let sql =
            format!("SELECT {COLUMNS} FROM rollover ORDER BY first_month, library, planned_at");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], Rollover::from_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Records that a rollover reached `step` at `at`.
    pub fn set_rollover_step(
        &self,
        library: &str,
        archive: &str,
        step: Step,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let column = match step {
            Step::Planned => "planned_at",
            Step::Created => "created_at",
            Step::Verified => "verified_at",
            Step::Purged => "purged_at",
        };
        let sql = format!(
            "UPDATE rollover SET step = ?3, {column} = ?4 WHERE library = ?1 AND archive = ?2"
        );
        self.conn
            .execute(
                &sql,
                params![library, archive, step.as_str(), time_text(&at)],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Keeps what borg said when it finished with a warning.
    pub(crate) fn set_rollover_warning(
        &self,
        library: &str,
        archive: &str,
        warning: &str,
    ) -> Result<()> {
        self.conn
            .execute(
                "UPDATE rollover SET warning = ?3 WHERE library = ?1 AND archive = ?2",
                params![library, archive, warning],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Records that retention removed `archive` from the repository.
    pub(crate) fn set_pruned(&self, library: &str, archive: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE rollover SET pruned_at = ?3 WHERE library = ?1 AND archive = ?2",
                params![library, archive, time_text(&at)],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The files `archive` was given, by path.
    pub fn rollover_files(&self, library: &str, archive: &str) -> Result<Vec<ArchivedFile>> {
        self.archived_files(
            library,
            "WHERE library = ?1 AND archive = ?2 ORDER BY path",
            params![library, archive],
        )
    }

    /// Every archived version of the files of one asset, oldest archive first.
    pub fn archived_versions(&self, library: &str, uuid: &str) -> Result<Vec<ArchivedFile>> {
        self.archived_files(
            library,
            "WHERE library = ?1 AND uuid = ?2 AND archive IN
                 (SELECT archive FROM rollover WHERE library = ?1 AND step = 'purged')
             ORDER BY archive, role",
            params![library, uuid],
        )
    }

    fn archived_files(
        &self,
        library: &str,
        clause: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ArchivedFile>> {
        let sql =
            format!("SELECT archive, uuid, role, path, size, hash FROM rollover_file {clause}");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params, ArchivedFile::from_row)
            .map_err(|e| self.err(e))?;
        let files: Vec<ArchivedFile> = rows
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))?;
        self.check_paths(library, files.iter().map(|f| f.path.as_str()))?;
        Ok(files)
    }

    /// Marks as archived in `archive` (and purged at `at`) every staged file
    /// of `library` that is still exactly as the archive was given it; a file
    /// staged again since (an edit) keeps its new version and stays. Returns
    /// how many were marked. Call once the archive is verified.
    pub(crate) fn mark_archived(
        &self,
        library: &str,
        archive: &str,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        let sql = "
            UPDATE staged_file SET archive = ?2, purged_at = ?3
            WHERE library = ?1 AND purged_at IS NULL AND EXISTS (
                SELECT 1 FROM rollover_file r
                WHERE r.library = staged_file.library AND r.archive = ?2
                  AND r.uuid = staged_file.uuid AND r.role = staged_file.role
                  AND r.path = staged_file.path AND r.size = staged_file.size
                  AND r.hash = staged_file.hash)";
        self.conn
            .execute(sql, params![library, archive, time_text(&at)])
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// The staged paths marked purged into `archive` (to delete, or already
    /// deleted by a run that was then killed).
    pub(crate) fn purged_paths(&self, library: &str, archive: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT path FROM staged_file
                 WHERE library = ?1 AND archive = ?2 AND purged_at IS NOT NULL ORDER BY path",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![library, archive], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let paths: Vec<String> = rows
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))?;
        self.check_paths(library, paths.iter().map(String::as_str))?;
        Ok(paths)
    }

    /// Records the result of a `borg check`.
    pub(crate) fn record_repo_check(
        &self,
        at: DateTime<Utc>,
        ok: bool,
        message: &str,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO repo_check (at, ok, message) VALUES (?1, ?2, ?3)",
                params![time_text(&at), ok, message],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The last `borg check`: when, whether it passed, what it said.
    pub fn last_repo_check(&self) -> Result<Option<(DateTime<Utc>, bool, String)>> {
        self.conn
            .query_row(
                "SELECT at, ok, message FROM repo_check ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((time_required(r, 0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, staged, temp_ledger};
    use super::*;

    fn oct() -> (Month, Month) {
        let m = Month {
            year: 2026,
            month: 10,
        };
        (m, m)
    }

    #[test]
    fn a_rollover_walks_its_steps_and_purges_only_what_it_was_given() {
        let (_dir, ledger) = temp_ledger();
        ledger
            .record_file(&staged("A", "anna/a.jpg", "h1"))
            .unwrap();
        ledger
            .record_file(&staged("B", "anna/b.jpg", "h2"))
            .unwrap();
        let name = "photos-anna-2026-10";
        let r = ledger
            .plan_rollover("anna", name, oct(), &["P".into()], at(200))
            .unwrap();
        assert_eq!(
            (r.step, r.missing.as_slice()),
            (Step::Planned, &["P".to_owned()][..])
        );
        assert_eq!(ledger.open_rollover("anna").unwrap(), Some(r));
        assert_eq!(ledger.snapshot_rollover("anna", name).unwrap(), (2, 20));

        // B is edited (staged again) after the archive was made; C is new.
        ledger
            .record_file(&staged("B", "anna/b.jpg", "h3"))
            .unwrap();
        ledger
            .record_file(&staged("C", "anna/c.jpg", "h4"))
            .unwrap();
        ledger
            .set_rollover_step("anna", name, Step::Verified, at(300))
            .unwrap();
        assert_eq!(ledger.mark_archived("anna", name, at(400)).unwrap(), 1);
        assert_eq!(ledger.purged_paths("anna", name).unwrap(), ["anna/a.jpg"]);
        // Marking again (a resumed run) changes nothing more.
        assert_eq!(ledger.mark_archived("anna", name, at(500)).unwrap(), 0);
        let unpurged: Vec<String> = ledger
            .unmirrored("anna")
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(unpurged, ["anna/b.jpg", "anna/c.jpg"]);

        assert_eq!(ledger.archived_through("anna").unwrap(), None);
        ledger
            .set_rollover_step("anna", name, Step::Purged, at(600))
            .unwrap();
        assert_eq!(ledger.open_rollover("anna").unwrap(), None);
        assert_eq!(ledger.archived_through("anna").unwrap(), Some(oct().1));
        let versions = ledger.archived_versions("anna", "B").unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(
            (versions[0].archive.as_str(), versions[0].hash.as_str()),
            (name, "h2")
        );

        // The file staged again later is no longer marked purged.
        ledger
            .record_file(&staged("A", "anna/a.jpg", "h5"))
            .unwrap();
        assert!(ledger.purged_paths("anna", name).unwrap().is_empty());
    }

    #[test]
    fn a_planned_rollover_takes_a_fresh_snapshot() {
        let (_dir, ledger) = temp_ledger();
        ledger
            .record_file(&staged("A", "anna/a.jpg", "h1"))
            .unwrap();
        let name = "photos-anna-2026-10";
        ledger
            .plan_rollover("anna", name, oct(), &[], at(1))
            .unwrap();
        assert_eq!(ledger.snapshot_rollover("anna", name).unwrap(), (1, 10));
        ledger
            .record_file(&staged("B", "anna/b.jpg", "h2"))
            .unwrap();
        assert_eq!(ledger.snapshot_rollover("anna", name).unwrap(), (2, 20));
        let paths: Vec<String> = ledger
            .rollover_files("anna", name)
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(paths, ["anna/a.jpg", "anna/b.jpg"]);
    }

    #[test]
    fn repo_checks_are_kept() {
        let (_dir, ledger) = temp_ledger();
        assert_eq!(ledger.last_repo_check().unwrap(), None);
        ledger.record_repo_check(at(1), true, "ok").unwrap();
        ledger
            .record_repo_check(at(2), false, "segment 3 damaged")
            .unwrap();
        assert_eq!(
            ledger.last_repo_check().unwrap(),
            Some((at(2), false, "segment 3 damaged".into()))
        );
    }
}
