//! The backfill of the back catalogue, as the ledger keeps it (schema V5):
//! a part is a rollover with `backfill = 1` (one month), the assets it was
//! planned to take (`backfill_asset`, so a killed run stages the same ones
//! again), its staged files marked with its archive (`staged_file.batch`),
//! and the months held because originals are still only in iCloud.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{time_required, time_text, Ledger, Result, Rollover};
use crate::archive::period::Month;

/// A month of the back catalogue waiting for originals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub month: Month,
    pub reason: String,
    pub since: DateTime<Utc>,
}

/// What the last census of a library's back catalogue found left to do
/// (beyond the part it started), and on what basis (the library's state,
/// the threshold and the start month).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Census {
    pub at: DateTime<Utc>,
    pub(crate) basis: String,
    pub months: u64,
    pub assets: u64,
    pub bytes: u64,
    /// At least this many runs to go (one part a run).
    pub runs: u64,
    /// The next part waits for staging to have this many bytes free.
    pub waiting: Option<u64>,
}

impl Ledger {
    /// Records the last census of `library`'s back catalogue.
    pub(crate) fn set_backfill_census(&self, library: &str, c: &Census) -> Result<()> {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.conn
            .execute(
                "INSERT OR REPLACE INTO backfill_census
                     (library, at, basis, months, assets, bytes, runs, waiting)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    library,
                    time_text(&c.at),
                    c.basis,
                    n(c.months),
                    n(c.assets),
                    n(c.bytes),
                    n(c.runs),
                    c.waiting.map(n)
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The last census of `library`'s back catalogue, if any.
    pub fn backfill_census(&self, library: &str) -> Result<Option<Census>> {
        self.conn
            .query_row(
                "SELECT at, basis, months, assets, bytes, runs, waiting FROM backfill_census
                 WHERE library = ?1",
                params![library],
                |r| {
                    let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
                    Ok(Census {
                        at: time_required(r, 0)?,
                        basis: r.get(1)?,
                        months: n(2)?,
                        assets: n(3)?,
                        bytes: n(4)?,
                        runs: n(5)?,
                        waiting: r.get::<_, Option<i64>>(6)?.map(|v| v.max(0) as u64),
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every month of `library` held for originals in iCloud.
    pub fn backfill_holds(&self, library: &str) -> Result<Vec<Hold>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT month, reason, since FROM backfill_hold WHERE library = ?1
                 ORDER BY month",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![library], |r| {
                let text: String = r.get(0)?;
                let month = text.parse::<Month>().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        0,
                        rusqlite::types::Type::Text,
                        e.into(),
                    )
                })?;
                Ok(Hold {
                    month,
                    reason: r.get(1)?,
                    since: time_required(r, 2)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Records a new backfill part of `library`'s `month` into `archive`
    /// (step `planned`) and the assets it takes, in one transaction.
    pub(crate) fn plan_backfill(
        &mut self,
        library: &str,
        archive: &str,
        month: Month,
        uuids: &[String],
        now: DateTime<Utc>,
    ) -> Result<Rollover> {
        self.transaction(|l| {
            l.conn
                .execute(
                    "INSERT INTO rollover (library, archive, first_month, last_month, step,
                                           planned_at, backfill)
                     VALUES (?1, ?2, ?3, ?3, 'planned', ?4, 1)",
                    params![library, archive, month.to_string(), time_text(&now)],
                )
                .map_err(|e| l.err(e))?;
            let mut insert = l
                .conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO backfill_asset (library, archive, uuid)
                     VALUES (?1, ?2, ?3)",
                )
                .map_err(|e| l.err(e))?;
            for uuid in uuids {
                insert
                    .execute(params![library, archive, uuid])
                    .map_err(|e| l.err(e))?;
            }
            Ok(())
        })?;
        self.rollover(library, archive)?
            .ok_or_else(|| self.err(rusqlite::Error::QueryReturnedNoRows))
    }

    /// The backfill part of `library` not finished yet, if any.
    pub fn open_backfill(&self, library: &str) -> Result<Option<Rollover>> {
        Ok(self
            .rollovers()?
            .into_iter()
            .find(|r| r.library == library && r.backfill && r.step != super::Step::Purged))
    }

    /// Every backfill part of `library` (finished or not), oldest month first.
    pub fn backfills(&self, library: &str) -> Result<Vec<Rollover>> {
        Ok(self
            .rollovers()?
            .into_iter()
            .filter(|r| r.library == library && r.backfill)
            .collect())
    }

    /// The assets a backfill part was planned to take.
    pub(crate) fn backfill_assets(&self, library: &str, archive: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT uuid FROM backfill_asset WHERE library = ?1 AND archive = ?2
                 ORDER BY uuid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![library, archive], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Marks the staged (not purged) files of the part's assets as the
    /// part's: its archive takes them, the monthly rollover leaves them.
    /// Returns how many files are marked.
    pub(crate) fn mark_backfill_files(&self, library: &str, archive: &str) -> Result<u64> {
        self.conn
            .execute(
                "UPDATE staged_file SET batch = ?2
                 WHERE library = ?1 AND purged_at IS NULL AND uuid IN (
                     SELECT uuid FROM backfill_asset WHERE library = ?1 AND archive = ?2)",
                params![library, archive],
            )
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Every uuid `library` has a file row of (staged, archived or purged):
    /// what is not the back catalogue.
    pub(crate) fn staged_uuids(&self, library: &str) -> Result<HashSet<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT uuid FROM staged_file WHERE library = ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![library], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Bytes in staging now, every library together (the triggers' totals).
    pub(crate) fn staged_bytes_all(&self) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT coalesce(sum(bytes), 0) FROM staged_total",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.err(e))
    }

    /// Records (or keeps, with its first time) that `month` is held.
    pub(crate) fn hold_backfill(
        &self,
        library: &str,
        month: Month,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO backfill_hold (library, month, reason, since) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (library, month) DO UPDATE SET reason = excluded.reason",
                params![library, month.to_string(), reason, time_text(&now)],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// `month` is no longer held.
    pub(crate) fn release_backfill(&self, library: &str, month: Month) -> Result<()> {
        self.conn
            .execute(
                "DELETE FROM backfill_hold WHERE library = ?1 AND month = ?2",
                params![library, month.to_string()],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The hold of `month`, if held.
    pub fn backfill_hold(&self, library: &str, month: Month) -> Result<Option<Hold>> {
        self.conn
            .query_row(
                "SELECT reason, since FROM backfill_hold WHERE library = ?1 AND month = ?2",
                params![library, month.to_string()],
                |r| {
                    Ok(Hold {
                        month,
                        reason: r.get(0)?,
                        since: time_required(r, 1)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, temp_ledger};
    use super::super::{StagedFile, Step};
    use super::*;

    fn staged(uuid: &str, path: &str) -> StagedFile {
        super::super::tests::staged(uuid, path, &format!("h-{uuid}"))
    }

    fn month(s: &str) -> Month {
        s.parse().unwrap()
    }

    #[test]
    fn a_part_takes_only_its_files_and_the_monthly_rollover_none_of_them() {
        let (_dir, mut ledger) = temp_ledger();
        ledger
            .record_file(&staged("NEW", "anna/2026/10/n.jpg"))
            .unwrap();
        ledger
            .record_file(&staged("OLD", "anna/2014/03/o.jpg"))
            .unwrap();
        let part = "photos-anna-backfill-2014-03";
        let r = ledger
            .plan_backfill("anna", part, month("2014-03"), &["OLD".into()], at(1))
            .unwrap();
        assert!(r.backfill);
        assert_eq!(ledger.open_backfill("anna").unwrap().unwrap().archive, part);
        // A backfill part is no monthly rollover.
        assert_eq!(ledger.open_rollover("anna").unwrap(), None);
        let monthly = "photos-anna-2026-10";
        ledger
            .plan_rollover(
                "anna",
                monthly,
                (month("2026-10"), month("2026-10")),
                &[],
                at(2),
            )
            .unwrap();
        // Staged, not marked yet (a run killed in between): neither takes it.
        assert_eq!(ledger.snapshot_rollover("anna", part).unwrap(), (0, 0));
        assert_eq!(ledger.snapshot_rollover("anna", monthly).unwrap(), (1, 10));
        assert_eq!(ledger.mark_backfill_files("anna", part).unwrap(), 1);
        assert_eq!(ledger.snapshot_rollover("anna", part).unwrap(), (1, 10));
        assert_eq!(ledger.snapshot_rollover("anna", monthly).unwrap(), (1, 10));
        let paths = |a| -> Vec<String> {
            ledger
                .rollover_files("anna", a)
                .unwrap()
                .into_iter()
                .map(|f| f.path)
                .collect()
        };
        assert_eq!(paths(part), ["anna/2014/03/o.jpg"]);
        assert_eq!(paths(monthly), ["anna/2026/10/n.jpg"]);

        // Staged again by the normal cycle (an edit) while the part is not
        // archived yet: the part takes the new version when it marks its
        // files again, the month never.
        ledger
            .record_file(&StagedFile {
                hash: "edited".into(),
                ..staged("OLD", "anna/2014/03/o.jpg")
            })
            .unwrap();
        assert_eq!(ledger.snapshot_rollover("anna", monthly).unwrap(), (1, 10));
        assert_eq!(ledger.snapshot_rollover("anna", part).unwrap(), (0, 0));
        ledger.mark_backfill_files("anna", part).unwrap();
        assert_eq!(ledger.snapshot_rollover("anna", part).unwrap(), (1, 10));
        assert_eq!(
            ledger.rollover_files("anna", part).unwrap()[0].hash,
            "edited"
        );

        // Once the part is past its listing and archived, a later edit is
        // the month's.
        ledger
            .set_rollover_step("anna", part, Step::Created, at(3))
            .unwrap();
        ledger
            .record_file(&StagedFile {
                hash: "edited again".into(),
                ..staged("OLD", "anna/2014/03/o.jpg")
            })
            .unwrap();
        assert_eq!(ledger.snapshot_rollover("anna", monthly).unwrap(), (2, 20));

        // A finished part does not count as the monthly rollover's.
        ledger
            .set_rollover_step("anna", part, Step::Purged, at(3))
            .unwrap();
        assert_eq!(ledger.archived_through("anna").unwrap(), None);
        assert_eq!(ledger.open_backfill("anna").unwrap(), None);
        assert_eq!(ledger.backfills("anna").unwrap().len(), 1);
        assert_eq!(ledger.backfill_assets("anna", part).unwrap(), ["OLD"]);
    }

    #[test]
    fn the_last_census_is_kept() {
        let (_dir, ledger) = temp_ledger();
        assert_eq!(ledger.backfill_census("anna").unwrap(), None);
        let c = Census {
            at: at(3),
            basis: "b".into(),
            months: 2,
            assets: 5,
            bytes: 900,
            runs: 3,
            waiting: Some(40),
        };
        ledger.set_backfill_census("anna", &c).unwrap();
        ledger.set_backfill_census("anna", &c).unwrap();
        assert_eq!(ledger.backfill_census("anna").unwrap(), Some(c));
    }

    #[test]
    fn holds_keep_their_first_time() {
        let (_dir, ledger) = temp_ledger();
        let m = month("2014-03");
        assert_eq!(ledger.backfill_hold("anna", m).unwrap(), None);
        ledger
            .hold_backfill("anna", m, "2 in iCloud", at(1))
            .unwrap();
        ledger
            .hold_backfill("anna", m, "1 in iCloud", at(5))
            .unwrap();
        let h = ledger.backfill_hold("anna", m).unwrap().unwrap();
        assert_eq!((h.reason.as_str(), h.since), ("1 in iCloud", at(1)));
        assert_eq!(ledger.backfill_holds("anna").unwrap(), [h]);
        ledger.release_backfill("anna", m).unwrap();
        assert_eq!(ledger.backfill_hold("anna", m).unwrap(), None);
        assert!(ledger.backfill_holds("anna").unwrap().is_empty());
    }
}
