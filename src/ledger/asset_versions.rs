//! The version of each staged asset (`photos::versions`) and what those
//! versions rest on, so a run reads in full only the assets whose version
//! changed since they were staged (`export::versions` decides when every
//! asset is read in full instead).
//!
//! An asset's row is written in the same transaction as nothing else but
//! after its batch was staged and recorded: a version is never newer than
//! the files the ledger holds for it. A lost version only costs a full read
//! of that asset.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{time_required, time_text, Ledger, Result};

/// What a library's versions rest on: the program, Photos model and export
/// options they were taken with (`basis`) and when every selected asset
/// was last read in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionBasis {
    pub(crate) basis: String,
    pub(crate) full_at: DateTime<Utc>,
}

impl Ledger {
    /// The basis of `library`'s versions, if a full read recorded one.
    pub fn version_basis(&self, library: &str) -> Result<Option<VersionBasis>> {
        let sql = "SELECT basis, full_at FROM version_basis WHERE library = ?1";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.query_row(params![library], |r| {
                    Ok(VersionBasis {
                        basis: r.get(0)?,
                        full_at: time_required(r, 1)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// Records that a full read of `library` with `basis` completed at `at`.
    pub(crate) fn set_version_basis(&self, library: &str, basis: &VersionBasis) -> Result<()> {
        let sql = "INSERT OR REPLACE INTO version_basis (library, basis, full_at)
                   VALUES (?1, ?2, ?3)";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.execute(params![library, basis.basis, time_text(&basis.full_at)])
            })
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Forgets `library`'s basis (its next run reads in full), and with
    /// `versions` its assets' versions too (a full read starting over).
    pub(crate) fn forget_versions(&self, library: &str, versions: bool) -> Result<()> {
        let mut sql = "DELETE FROM version_basis WHERE library = ?1;".to_owned();
        if versions {
            sql.push_str("DELETE FROM asset_version WHERE library = ?1;");
        }
        for statement in sql.split_terminator(';') {
            self.conn
                .prepare_cached(statement)
                .and_then(|mut stmt| stmt.execute(params![library]))
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// For each (uuid, version) of `assets` of `library`: the number of
    /// files recorded with that version when it is the one the ledger
    /// holds, else `None` (changed, or never recorded). One query through
    /// the primary key, as `sources_of_assets`.
    pub(crate) fn unchanged_assets(
        &self,
        library: &str,
        assets: &[(&str, u64)],
    ) -> Result<Vec<Option<u64>>> {
        let uuids: Vec<&str> = assets.iter().map(|(u, _)| *u).collect();
        let list = serde_json::to_string(&uuids)
            .map_err(|e| self.err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        let sql = "SELECT uuid, version, files FROM asset_version
             WHERE library = ?1 AND uuid IN (SELECT value FROM json_each(?2))";
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![library, list], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut known = std::collections::HashMap::new();
        for row in rows {
            let (uuid, version, files) = row.map_err(|e| self.err(e))?;
            known.insert(uuid, (version as u64, files.max(0) as u64));
        }
        Ok(assets
            .iter()
            .map(|(uuid, version)| match known.get(*uuid) {
                Some((v, files)) if v == version => Some(*files),
                _ => None,
            })
            .collect())
    }

    /// Records the (uuid, version, files) of staged assets of `library`, in
    /// one transaction.
    pub(crate) fn record_versions(
        &mut self,
        library: &str,
        assets: &[(&str, u64, u64)],
    ) -> Result<()> {
        self.transaction(|l| {
            let sql = "INSERT OR REPLACE INTO asset_version (library, uuid, version, files)
                       VALUES (?1, ?2, ?3, ?4)";
            let mut stmt = l.conn.prepare_cached(sql).map_err(|e| l.err(e))?;
            for (uuid, version, files) in assets {
                stmt.execute(params![library, uuid, *version as i64, *files as i64])
                    .map_err(|e| l.err(e))?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, temp_ledger};
    use super::super::StagedFile;
    use super::*;

    #[test]
    fn versions_answer_only_for_the_same_version_and_library_and_go_with_their_files() {
        let (_dir, mut ledger) = temp_ledger();
        assert_eq!(ledger.version_basis("Main").unwrap(), None);
        let basis = VersionBasis {
            basis: "b1".into(),
            full_at: at(10),
        };
        ledger.set_version_basis("Main", &basis).unwrap();
        assert_eq!(ledger.version_basis("Main").unwrap(), Some(basis));
        assert_eq!(ledger.version_basis("Other").unwrap(), None);

        ledger
            .record_versions("Main", &[("A", 1, 2), ("B", u64::MAX, 1)])
            .unwrap();
        ledger.record_versions("Other", &[("A", 5, 1)]).unwrap();
        let asked = [("A", 1), ("B", u64::MAX), ("C", 3), ("A", 2)];
        assert_eq!(
            ledger.unchanged_assets("Main", &asked).unwrap(),
            [Some(2), Some(1), None, None]
        );

        // Removing a file of A forgets A's version.
        let file = StagedFile {
            library: "Main".into(),
            uuid: "A".into(),
            role: "xmp".into(),
            path: "Main/2024/05/01/a.xmp".into(),
            size: 1,
            mtime_ns: 2,
            hash: "h".into(),
            source_signature: "s".into(),
            exported_at: at(0),
            archive: None,
        };
        ledger.record_file(&file).unwrap();
        assert!(ledger.remove_file("Main", "A", "xmp").unwrap());
        assert_eq!(
            ledger.unchanged_assets("Main", &asked[..2]).unwrap(),
            [None, Some(1)]
        );

        ledger.forget_versions("Main", false).unwrap();
        assert_eq!(ledger.version_basis("Main").unwrap(), None);
        assert_eq!(
            ledger.unchanged_assets("Main", &asked[1..2]).unwrap(),
            [Some(1)]
        );
        ledger.forget_versions("Main", true).unwrap();
        assert_eq!(
            ledger.unchanged_assets("Main", &asked[1..2]).unwrap(),
            [None]
        );
        assert_eq!(
            ledger.unchanged_assets("Other", &[("A", 5)]).unwrap(),
            [Some(1)]
        );
    }
}
