//! What the ledger knows of one library's assets, for `coverage`, added up
//! per asset by SQLite in a few range scans of primary keys and indexes (no
//! new index): how many staged files an asset has (its current version,
//! purged or not), how many of them are not in a verified archive as they
//! are now, and of those how many are not mirrored; the newest verified
//! archive holding any file of it; whether it is pending; the version the
//! run recorded. "Verified" is a `rollover` row at step `verified` or
//! `purged`, whatever the archive's name: monthly and backfill archives
//! alike. A file is in such an archive "as it is now" when a
//! `rollover_file` row of it has its role, size and hash.

use std::collections::HashMap;
use std::rc::Rc;

use rusqlite::params;

use super::{Ledger, Pending, Result};

/// The ledger's facts about one asset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AssetRows {
    /// Staged files (current version).
    pub(crate) staged: u32,
    /// Of `staged`, not in a verified archive as they are now.
    pub(crate) unarchived: u32,
    /// Of `unarchived`, not on the remote volume.
    pub(crate) unmirrored: u32,
    /// The newest (by name) verified archive holding a file of the asset.
    pub(crate) archive: Option<Rc<str>>,
    pub(crate) pending: Option<Pending>,
    /// The version recorded when it was last staged (`asset_versions`).
    pub(crate) version: Option<u64>,
}

/// The ledger's rows of one library, by asset uuid.
#[derive(Debug, Default)]
pub(crate) struct LibraryRows {
    pub(crate) assets: HashMap<String, AssetRows>,
}

/// A verified archive's step.
const VERIFIED: &str = "r.step IN ('verified', 'purged')";

impl Ledger {
    /// Everything `coverage` reads of `library`.
    pub(crate) fn coverage_rows(&self, library: &str) -> Result<LibraryRows> {
        let mut rows = LibraryRows::default();
        let sql = format!(
            "SELECT uuid, count(*), sum(held IS NULL), sum(held IS NULL AND NOT mirrored)
             FROM (SELECT s.uuid AS uuid, s.mirrored_at IS NOT NULL AS mirrored,
                     (SELECT 1 FROM rollover_file AS f JOIN rollover AS r
                        ON r.library = f.library AND r.archive = f.archive
                      WHERE f.library = s.library AND f.uuid = s.uuid AND f.role = s.role
                        AND f.size = s.size AND f.hash = s.hash AND {VERIFIED} LIMIT 1) AS held
                   FROM staged_file AS s WHERE s.library = ?1)
             GROUP BY uuid"
        );
        self.each_row(&sql, library, |uuid, r| {
            let count = |i| {
                r.get::<_, i64>(i)
                    .map(|n| n.clamp(0, i64::from(u32::MAX)) as u32)
            };
            let a = rows.assets.entry(uuid).or_default();
            (a.staged, a.unarchived, a.unmirrored) = (count(1)?, count(2)?, count(3)?);
            Ok(())
        })?;
        let sql = format!(
            "SELECT f.uuid, max(f.archive) FROM rollover_file AS f JOIN rollover AS r
               ON r.library = f.library AND r.archive = f.archive
             WHERE f.library = ?1 AND {VERIFIED} GROUP BY f.uuid"
        );
        let mut names: HashMap<String, Rc<str>> = HashMap::new();
        self.each_row(&sql, library, |uuid, r| {
            let name: String = r.get(1)?;
            let name = names
                .entry(name)
                .or_insert_with_key(|n| Rc::from(n.as_str()))
                .clone();
            rows.assets.entry(uuid).or_default().archive = Some(name);
            Ok(())
        })?;
        let sql = "SELECT uuid, version FROM asset_version WHERE library = ?1";
        self.each_row(sql, library, |uuid, r| {
            // Stored as the i64 of the same 64 bits (`record_versions`).
            rows.assets.entry(uuid).or_default().version = Some(r.get::<_, i64>(1)? as u64);
            Ok(())
        })?;
        for p in self.pending(library)? {
            let uuid = p.uuid.clone();
            rows.assets.entry(uuid).or_default().pending = Some(p);
        }
        Ok(rows)
    }

    /// Runs `sql` (one parameter, the library) and hands each row's first
    /// column (a uuid) and the row to `f`.
    fn each_row(
        &self,
        sql: &str,
        library: &str,
        mut f: impl FnMut(String, &rusqlite::Row) -> rusqlite::Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let mut q = stmt.query(params![library]).map_err(|e| self.err(e))?;
        while let Some(r) = q.next().map_err(|e| self.err(e))? {
            let uuid: String = r.get(0).map_err(|e| self.err(e))?;
            f(uuid, r).map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}
