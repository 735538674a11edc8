//! Pending assets: ones a run could not stage completely (original only in
//! iCloud, a file missing), kept with the reason so that every later run
//! tries them again whatever their dates, and the status can say why the
//! month cannot be archived yet.

use chrono::{DateTime, Utc};
use rusqlite::{params, Row};

use super::{time_at, time_required, time_text, Ledger, Result};

/// An asset waiting to be staged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub(crate) library: String,
    pub uuid: String,
    pub reason: String,
    /// How often it was found pending: 1 when first seen.
    pub(crate) attempts: u32,
    pub(crate) first_seen: DateTime<Utc>,
    /// Set by every `set_pending`; `None` only for rows written otherwise.
    pub(crate) last_attempt: Option<DateTime<Utc>>,
}

impl Pending {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            library: row.get(0)?,
            uuid: row.get(1)?,
            reason: row.get(2)?,
            attempts: row.get(3)?,
            first_seen: time_required(row, 4)?,
            last_attempt: time_at(row, 5)?,
        })
    }
}

impl Ledger {
    /// Marks an asset pending at `now`: a new one with 1 attempt, a known one
    /// with the new reason and one attempt more.
    pub(crate) fn set_pending(
        &self,
        library: &str,
        uuid: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let sql = "
            INSERT INTO pending (library, uuid, reason, attempts, first_seen, last_attempt)
            VALUES (?1, ?2, ?3, 1, ?4, ?4)
            ON CONFLICT (library, uuid) DO UPDATE SET
                reason = excluded.reason,
                attempts = attempts + 1,
                last_attempt = excluded.last_attempt";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params![library, uuid, reason, time_text(&now)]))
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The asset is staged (or gone): no longer pending. Returns whether it was.
    pub(crate) fn clear_pending(&self, library: &str, uuid: &str) -> Result<bool> {
        let sql = "DELETE FROM pending WHERE library = ?1 AND uuid = ?2";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params![library, uuid]))
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// The pending assets of `library`, by uuid.
    pub fn pending(&self, library: &str) -> Result<Vec<Pending>> {
        let sql = "
            SELECT library, uuid, reason, attempts, first_seen, last_attempt
            FROM pending WHERE library = ?1 ORDER BY uuid";
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![library], Pending::from_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// How many assets of `library` are pending for each reason, by reason.
    #[cfg(test)]
    fn pending_count_by_reason(&self, library: &str) -> Result<Vec<(String, u64)>> {
        let sql = "
            SELECT reason, count(*) FROM pending WHERE library = ?1
            GROUP BY reason ORDER BY reason";
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![library], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, temp_ledger};

    #[test]
    fn set_pending_inserts_then_counts_attempts_and_keeps_first_seen() {
        let (_dir, ledger) = temp_ledger();
        ledger
            .set_pending("Main", "B", "original in iCloud", at(10))
            .unwrap();
        ledger
            .set_pending("Main", "A", "original in iCloud", at(11))
            .unwrap();
        ledger
            .set_pending("Main", "B", "live photo video missing", at(20))
            .unwrap();
        ledger
            .set_pending("Other", "C", "original in iCloud", at(12))
            .unwrap();

        let p = ledger.pending("Main").unwrap();
        assert_eq!(
            p.iter().map(|p| p.uuid.as_str()).collect::<Vec<_>>(),
            ["A", "B"]
        );
        let b = &p[1];
        assert_eq!(b.library, "Main");
        assert_eq!(b.reason, "live photo video missing");
        assert_eq!(b.attempts, 2);
        assert_eq!(b.first_seen, at(10));
        assert_eq!(b.last_attempt, Some(at(20)));
        assert_eq!((p[0].attempts, p[0].last_attempt), (1, Some(at(11))));

        assert_eq!(
            ledger.pending_count_by_reason("Main").unwrap(),
            [
                ("live photo video missing".to_owned(), 1),
                ("original in iCloud".to_owned(), 1)
            ]
        );
        ledger
            .set_pending("Main", "D", "original in iCloud", at(30))
            .unwrap();
        assert_eq!(
            ledger.pending_count_by_reason("Main").unwrap()[1],
            ("original in iCloud".to_owned(), 2)
        );

        assert!(ledger.clear_pending("Main", "B").unwrap());
        assert!(!ledger.clear_pending("Main", "B").unwrap());
        assert_eq!(ledger.pending("Main").unwrap().len(), 2);
        assert_eq!(ledger.pending("Other").unwrap().len(), 1);
        assert_eq!(ledger.pending("None").unwrap(), []);
    }
}
