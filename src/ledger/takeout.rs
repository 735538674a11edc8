//! The Takeout parts a `[[takeout]]` source has looked at: a part is read
//! only once it stayed the same for a while (its fingerprint unchanged
//! since `seen_at`), and only once per fingerprint: a set whose parts are
//! all processed with their current fingerprints is not read again, and a
//! part that changes (a download replaced, a damaged part fixed) is read
//! again. The fingerprint is opaque text to the ledger.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{time_at, time_required, time_text, Ledger, Result};

/// What the ledger knows of one part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartState {
    pub fingerprint: String,
    /// First seen with this fingerprint.
    pub seen_at: DateTime<Utc>,
    /// When its set was last read to the end with this fingerprint.
    pub processed_at: Option<DateTime<Utc>>,
    /// `ok` or `failed`, with `processed_at`.
    pub outcome: Option<String>,
    pub error: Option<String>,
}

impl PartState {
    /// Read with this fingerprint already, well or not: not read again
    /// until it changes.
    #[must_use]
    pub fn done(&self) -> bool {
        self.processed_at.is_some()
    }
}

impl Ledger {
    /// The state of `part` of `source`, if it was ever seen.
    pub fn takeout_part(&self, source: &str, part: &str) -> Result<Option<PartState>> {
        let sql = "SELECT fingerprint, seen_at, processed_at, outcome, error
                   FROM takeout_part WHERE source = ?1 AND part = ?2";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.query_row(params![source, part], |r| {
                    Ok(PartState {
                        fingerprint: r.get(0)?,
                        seen_at: time_required(r, 1)?,
                        processed_at: time_at(r, 2)?,
                        outcome: r.get(3)?,
                        error: r.get(4)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// Records that `part` was seen now with `fingerprint`: a new part or a
    /// changed one starts over (seen now, not processed); the same one
    /// keeps its row.
    pub fn sight_takeout_part(
        &self,
        source: &str,
        part: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let sql = "
            INSERT INTO takeout_part (source, part, fingerprint, seen_at)
            VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (source, part) DO UPDATE SET
                fingerprint = excluded.fingerprint,
                seen_at = excluded.seen_at,
                processed_at = NULL,
                outcome = NULL,
                error = NULL
            WHERE fingerprint != excluded.fingerprint";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params![source, part, fingerprint, time_text(&now)]))
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Records how reading `parts` (a whole set, each with the fingerprint
    /// it was read with) ended: `error` `None` is success.
    pub fn finish_takeout_parts(
        &self,
        source: &str,
        parts: &[(&str, &str)],
        now: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<()> {
        let sql = "
            UPDATE takeout_part SET processed_at = ?4, outcome = ?5, error = ?6
            WHERE source = ?1 AND part = ?2 AND fingerprint = ?3";
        let outcome = if error.is_some() { "failed" } else { "ok" };
        for (part, fingerprint) in parts {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        source,
                        part,
                        fingerprint,
                        time_text(&now),
                        outcome,
                        error
                    ])
                })
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, temp_ledger};

    #[test]
    fn a_part_is_done_once_per_fingerprint() {
        let (_dir, ledger) = temp_ledger();
        assert_eq!(ledger.takeout_part("g", "p-001.zip").unwrap(), None);
        ledger
            .sight_takeout_part("g", "p-001.zip", "f1", at(0))
            .unwrap();
        // Seen again unchanged: the first sighting counts.
        ledger
            .sight_takeout_part("g", "p-001.zip", "f1", at(60))
            .unwrap();
        let state = ledger.takeout_part("g", "p-001.zip").unwrap().unwrap();
        assert_eq!((state.seen_at, state.done()), (at(0), false));
        ledger
            .finish_takeout_parts("g", &[("p-001.zip", "f1")], at(120), Some("damaged"))
            .unwrap();
        let state = ledger.takeout_part("g", "p-001.zip").unwrap().unwrap();
        assert!(state.done());
        assert_eq!(state.outcome.as_deref(), Some("failed"));
        assert_eq!(state.error.as_deref(), Some("damaged"));
        // Another source's part of the same name is its own.
        assert_eq!(ledger.takeout_part("h", "p-001.zip").unwrap(), None);
        // Changed: starts over.
        ledger
            .sight_takeout_part("g", "p-001.zip", "f2", at(180))
            .unwrap();
        let state = ledger.takeout_part("g", "p-001.zip").unwrap().unwrap();
        assert_eq!((state.seen_at, state.done()), (at(180), false));
        // A result for an older fingerprint does not mark the new one.
        ledger
            .finish_takeout_parts("g", &[("p-001.zip", "f1")], at(200), None)
            .unwrap();
        assert!(!ledger
            .takeout_part("g", "p-001.zip")
            .unwrap()
            .unwrap()
            .done());
        ledger
            .finish_takeout_parts("g", &[("p-001.zip", "f2")], at(240), None)
            .unwrap();
        let state = ledger.takeout_part("g", "p-001.zip").unwrap().unwrap();
        assert_eq!(state.outcome.as_deref(), Some("ok"));
        assert_eq!(state.error, None);
    }
}
