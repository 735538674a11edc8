//! Runs: when each began and ended and how it went, so `status` can tell
//! "last run an hour ago, ok" from "the last run was killed" (begun, never
//! finished).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

use super::{time_at, time_required, time_text, Ledger, LedgerError, Result};

/// Identifies a run in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RunId(pub i64);

/// A run as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    id: RunId,
    started: DateTime<Utc>,
    /// `None`: still running, or killed.
    ended: Option<DateTime<Utc>>,
    dry_run: bool,
    pub outcome: Option<String>,
    pub summary: Option<serde_json::Value>,
}

impl RunRecord {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        let summary: Option<String> = row.get(5)?;
        let summary = summary
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    5,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?;
        Ok(Self {
            id: RunId(row.get(0)?),
            started: time_required(row, 1)?,
            ended: time_at(row, 2)?,
            dry_run: row.get(3)?,
            outcome: row.get(4)?,
            summary,
        })
    }
}

impl Ledger {
    /// Records the start of a run.
    pub(crate) fn begin_run(&self, started: DateTime<Utc>, dry_run: bool) -> Result<RunId> {
        self.conn
            .prepare_cached("INSERT INTO run (started_at, dry_run) VALUES (?1, ?2)")
            .and_then(|mut stmt| stmt.insert(params![time_text(&started), dry_run]))
            .map(RunId)
            .map_err(|e| self.err(e))
    }

    /// Records the end of run `id`: its outcome (`ok`, `failed`, ...) and a
    /// summary for `status`.
    pub(crate) fn finish_run(
        &self,
        id: RunId,
        ended: DateTime<Utc>,
        outcome: &str,
        summary: &serde_json::Value,
    ) -> Result<()> {
        let sql = "UPDATE run SET ended_at = ?2, outcome = ?3, summary = ?4 WHERE id = ?1";
        let changed = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.execute(params![
                    id.0,
                    time_text(&ended),
                    outcome,
                    summary.to_string()
                ])
            })
            .map_err(|e| self.err(e))?;
        if changed == 0 {
            return Err(LedgerError::NoSuchRun {
                path: self.path.clone(),
                id: id.0,
            });
        }
        Ok(())
    }

    /// The run begun last, finished or not.
    pub fn last_run(&self) -> Result<Option<RunRecord>> {
        let sql = "
            SELECT id, started_at, ended_at, dry_run, outcome, summary
            FROM run ORDER BY id DESC LIMIT 1";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.query_row([], RunRecord::from_row).optional())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, temp_ledger};
    use super::*;

    #[test]
    fn runs_begin_finish_and_the_last_one_is_reported() {
        let (_dir, ledger) = temp_ledger();
        assert_eq!(ledger.last_run().unwrap(), None);

        let first = ledger.begin_run(at(100), false).unwrap();
        let summary = serde_json::json!({"files": 3, "libraries": ["Main"]});
        ledger.finish_run(first, at(160), "ok", &summary).unwrap();
        assert_eq!(
            ledger.last_run().unwrap(),
            Some(RunRecord {
                id: first,
                started: at(100),
                ended: Some(at(160)),
                dry_run: false,
                outcome: Some("ok".into()),
                summary: Some(summary),
            })
        );

        // A run that was killed: begun, never finished.
        let second = ledger.begin_run(at(400), true).unwrap();
        assert_ne!(second, first);
        let last = ledger.last_run().unwrap().unwrap();
        assert_eq!(
            (last.id, last.ended, last.dry_run, last.outcome),
            (second, None, true, None)
        );

        let msg = ledger
            .finish_run(RunId(999), at(500), "ok", &serde_json::Value::Null)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("999") && msg.contains(&ledger.path().display().to_string()),
            "{msg}"
        );
    }
}
