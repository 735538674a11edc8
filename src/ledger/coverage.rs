//! What the ledger knows of one library's assets, for `coverage`, read in a
//! few range scans of primary keys (no new index): every staged file (with
//! whether it is mirrored), every file given to an archive that was
//! verified (a `rollover_file` row whose `rollover.step` is `verified` or
//! `purged`, whatever the archive's name: monthly and backfill archives
//! alike), every pending asset and every asset's recorded version.

use std::collections::HashMap;

use rusqlite::params;

use super::{Ledger, Pending, Result};

/// One staged file of an asset (its current version, purged or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StagedRow {
    pub(crate) role: String,
    pub(crate) size: u64,
    pub(crate) hash: String,
    pub(crate) mirrored: bool,
}

/// One file a verified archive holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArchivedRow {
    pub(crate) archive: String,
    pub(crate) role: String,
    pub(crate) size: u64,
    pub(crate) hash: String,
}

/// The ledger's rows of one library, by asset uuid.
#[derive(Debug, Default)]
pub(crate) struct LibraryRows {
    pub(crate) staged: HashMap<String, Vec<StagedRow>>,
    pub(crate) archived: HashMap<String, Vec<ArchivedRow>>,
    pub(crate) pending: HashMap<String, Pending>,
    pub(crate) versions: HashMap<String, u64>,
}

impl Ledger {
    /// Everything `coverage` reads of `library`.
    pub(crate) fn coverage_rows(&self, library: &str) -> Result<LibraryRows> {
        let mut rows = LibraryRows::default();
        let sql = "SELECT uuid, role, size, hash, mirrored_at IS NOT NULL
                   FROM staged_file WHERE library = ?1";
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let mut q = stmt.query(params![library]).map_err(|e| self.err(e))?;
        while let Some(r) = q.next().map_err(|e| self.err(e))? {
            let uuid: String = r.get(0).map_err(|e| self.err(e))?;
            let row = StagedRow {
                role: r.get(1).map_err(|e| self.err(e))?,
                size: r.get::<_, i64>(2).map_err(|e| self.err(e))?.max(0) as u64,
                hash: r.get(3).map_err(|e| self.err(e))?,
                mirrored: r.get(4).map_err(|e| self.err(e))?,
            };
            rows.staged.entry(uuid).or_default().push(row);
        }
        let sql = "SELECT f.uuid, f.archive, f.role, f.size, f.hash
                   FROM rollover_file AS f JOIN rollover AS r
                     ON r.library = f.library AND r.archive = f.archive
                   WHERE f.library = ?1 AND r.step IN ('verified', 'purged')";
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let mut q = stmt.query(params![library]).map_err(|e| self.err(e))?;
        while let Some(r) = q.next().map_err(|e| self.err(e))? {
            let uuid: String = r.get(0).map_err(|e| self.err(e))?;
            let row = ArchivedRow {
                archive: r.get(1).map_err(|e| self.err(e))?,
                role: r.get(2).map_err(|e| self.err(e))?,
                size: r.get::<_, i64>(3).map_err(|e| self.err(e))?.max(0) as u64,
                hash: r.get(4).map_err(|e| self.err(e))?,
            };
            rows.archived.entry(uuid).or_default().push(row);
        }
        rows.pending = self
            .pending(library)?
            .into_iter()
            .map(|p| (p.uuid.clone(), p))
            .collect();
        let sql = "SELECT uuid, version FROM asset_version WHERE library = ?1";
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let mut q = stmt.query(params![library]).map_err(|e| self.err(e))?;
        while let Some(r) = q.next().map_err(|e| self.err(e))? {
            let uuid: String = r.get(0).map_err(|e| self.err(e))?;
            // Stored as the i64 of the same 64 bits (`record_versions`).
            let version: i64 = r.get(1).map_err(|e| self.err(e))?;
            rows.versions.insert(uuid, version as u64);
        }
        Ok(rows)
    }
}
