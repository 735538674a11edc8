//! Each library's database fingerprint at its last completed run: when
//! `Photos.sqlite` and its WAL still have the same size and modification
//! time, and nothing is pending, the run skips reading the library at all.

use rusqlite::{params, OptionalExtension};

use super::{Ledger, Result};

/// Size and modification time (ns since the epoch) of `Photos.sqlite` and of
/// its `-wal`, which may not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LibraryState {
    pub(crate) db_size: u64,
    pub(crate) db_mtime_ns: i64,
    pub(crate) wal_size: Option<u64>,
    pub(crate) wal_mtime_ns: Option<i64>,
}

impl Ledger {
    /// The fingerprint recorded for `library`, if any.
    pub(crate) fn library_state(&self, library: &str) -> Result<Option<LibraryState>> {
        let sql = "
            SELECT db_size, db_mtime_ns, wal_size, wal_mtime_ns
            FROM library_state WHERE library = ?1";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.query_row(params![library], |r| {
                    Ok(LibraryState {
                        db_size: r.get(0)?,
                        db_mtime_ns: r.get(1)?,
                        wal_size: r.get(2)?,
                        wal_mtime_ns: r.get(3)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// Records `library`'s fingerprint after a completed run.
    pub(crate) fn set_library_state(&self, library: &str, state: &LibraryState) -> Result<()> {
        // One WAL field without the other is no fingerprint: store both or none.
        let wal = state.wal_size.zip(state.wal_mtime_ns);
        let sql = "
            INSERT OR REPLACE INTO library_state
                (library, db_size, db_mtime_ns, wal_size, wal_mtime_ns)
            VALUES (?1, ?2, ?3, ?4, ?5)";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.execute(params![
                    library,
                    state.db_size,
                    state.db_mtime_ns,
                    wal.map(|w| w.0),
                    wal.map(|w| w.1),
                ])
            })
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Forgets `library`'s fingerprint, so the next run reads it in full.
    #[cfg(test)]
    fn clear_library_state(&self, library: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM library_state WHERE library = ?1")
            .and_then(|mut stmt| stmt.execute(params![library]))
            .map(drop)
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp_ledger;
    use super::*;

    #[test]
    fn library_state_round_trip_replace_and_clear() {
        let (_dir, ledger) = temp_ledger();
        assert_eq!(ledger.library_state("Main").unwrap(), None);
        let with_wal = LibraryState {
            db_size: 4096,
            db_mtime_ns: 1_700_000_000_000_000_001,
            wal_size: Some(32_768),
            wal_mtime_ns: Some(1_700_000_000_000_000_002),
        };
        ledger.set_library_state("Main", &with_wal).unwrap();
        assert_eq!(ledger.library_state("Main").unwrap(), Some(with_wal));
        assert_eq!(ledger.library_state("Other").unwrap(), None);

        let without_wal = LibraryState {
            wal_size: None,
            wal_mtime_ns: None,
            ..with_wal
        };
        ledger.set_library_state("Main", &without_wal).unwrap();
        assert_eq!(ledger.library_state("Main").unwrap(), Some(without_wal));

        // Half a WAL fingerprint is stored as none.
        let half = LibraryState {
            wal_mtime_ns: None,
            ..with_wal
        };
        ledger.set_library_state("Main", &half).unwrap();
        assert_eq!(ledger.library_state("Main").unwrap(), Some(without_wal));

        ledger.clear_library_state("Main").unwrap();
        assert_eq!(ledger.library_state("Main").unwrap(), None);
    }
}
