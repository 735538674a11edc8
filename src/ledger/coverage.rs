//! What the ledger knows of one library's assets, for `coverage`, added up
//! per asset in four reads, with no new index: how many staged files an
//! asset has (its current version, purged or not), how many of them are
//! not in a verified archive as they are now, and of those how many are
//! not mirrored; the newest verified archive holding any file of it;
//! whether it is pending; the version the run recorded. "Verified" is a
//! `rollover` row at step `verified` or `purged`, whatever the archive's
//! name: monthly and backfill archives alike.

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
    /// Of `unarchived`, purged from staging after their archive was
    /// verified, and that archive since removed by retention
    /// (`rollover.pruned_at`): in no archive now.
    pub(crate) pruned: u32,
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

/// A verified archive, still in the repository (not removed by retention).
pub(super) const VERIFIED: &str = "r.step IN ('verified', 'purged') AND r.pruned_at IS NULL";

impl Ledger {
    /// Everything `coverage` reads of `library`.
    pub(crate) fn coverage_rows(&self, library: &str) -> Result<LibraryRows> {
        let mut rows = LibraryRows::default();
        // A staged file is in a verified archive as it is now when the
        // rollover marked it so (`archive`, set once its archive was
        // verified, cleared when it is staged again); between the check and
        // that mark, when a verified archive's file has its role, size and
        // hash. The table is read in its own order, not through an index
        // of `library`: fetching each row through the index costs three to
        // four times the plain scan at 100k files (docs/benchmarks.md).
        // An archive retention removed holds nothing any more: its mark does
        // not count.
        let sql = format!(
            "SELECT s.uuid, s.mirrored_at IS NOT NULL, s.purged_at IS NOT NULL,
                 CASE WHEN s.archive IS NOT NULL AND s.archive NOT IN (
                     SELECT archive FROM rollover WHERE library = ?1 AND pruned_at IS NOT NULL)
                 THEN 1 ELSE EXISTS (
                     SELECT 1 FROM rollover_file AS f JOIN rollover AS r
                       ON r.library = f.library AND r.archive = f.archive
                     WHERE f.library = s.library AND f.uuid = s.uuid AND f.role = s.role
                       AND f.size = s.size AND f.hash = s.hash AND {VERIFIED}) END
             FROM staged_file AS s NOT INDEXED WHERE s.library = ?1"
        );
        self.each_row(
            &sql,
            library,
            |r, a| {
                let (mirrored, purged, held): (bool, bool, bool) =
                    (r.get(1)?, r.get(2)?, r.get(3)?);
                a.staged += 1;
                a.unarchived += u32::from(!held);
                a.unmirrored += u32::from(!held && !mirrored && !purged);
                a.pruned += u32::from(!held && purged);
                Ok(())
            },
            &mut rows,
        )?;
        // The newest verified archive of each asset: read from the primary
        // key's index alone (library, archive, uuid), archive by archive.
        let sql = format!(
            "SELECT f.uuid, f.archive FROM rollover_file AS f
             WHERE f.library = ?1 AND f.archive IN (
                 SELECT r.archive FROM rollover AS r WHERE r.library = ?1 AND {VERIFIED})"
        );
        let mut current: Option<Rc<str>> = None;
        self.each_row(
            &sql,
            library,
            |r, a| {
                let name = r.get_ref(1)?.as_str()?;
                let name = match &current {
                    Some(c) if &**c == name => c.clone(),
                    _ => current.insert(Rc::from(name)).clone(),
                };
                if a.archive.as_ref().is_none_or(|old| *old < name) {
                    a.archive = Some(name);
                }
                Ok(())
            },
            &mut rows,
        )?;
        let sql = "SELECT uuid, version FROM asset_version WHERE library = ?1";
        self.each_row(
            sql,
            library,
            |r, a| {
                // Stored as the i64 of the same 64 bits (`record_versions`).
                a.version = Some(r.get::<_, i64>(1)? as u64);
                Ok(())
            },
            &mut rows,
        )?;
        for p in self.pending(library)? {
            let uuid = p.uuid.clone();
            rows.assets.entry(uuid).or_default().pending = Some(p);
        }
        Ok(rows)
    }

    /// Runs `sql` (one parameter, the library) and hands each row and the
    /// rows of the asset its first column names (a uuid) to `f`.
    fn each_row(
        &self,
        sql: &str,
        library: &str,
        mut f: impl FnMut(&rusqlite::Row, &mut AssetRows) -> rusqlite::Result<()>,
        rows: &mut LibraryRows,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let mut q = stmt.query(params![library]).map_err(|e| self.err(e))?;
        while let Some(r) = q.next().map_err(|e| self.err(e))? {
            let uuid = r
                .get_ref(0)
                .and_then(|v| Ok(v.as_str()?))
                .map_err(|e| self.err(e))?;
            let asset = match rows.assets.get_mut(uuid) {
                Some(a) => a,
                None => rows.assets.entry(uuid.to_owned()).or_default(),
            };
            f(r, asset).map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}
