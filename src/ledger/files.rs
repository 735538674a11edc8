//! Staged files: one row per (library, asset, role) saying what lies in
//! staging under which path, with its size, time and hash, and what the
//! library file looked like when it was copied (the source signature), so the
//! next run copies again exactly what changed.
//!
//! Paths are unique per library as the filesystem sees them: APFS ignores
//! case and Unicode normalization, so `IMG_1.JPG` and `img_1.jpg` are one file
//! and the ledger refuses to give them to two assets.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use unicode_normalization::UnicodeNormalization;

use super::{time_at, time_required, time_text, Ledger, LedgerError, Result};

/// One file in staging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    pub library: String,
    pub uuid: String,
    /// What the file is to its asset (`original`, `xmp`, ...).
    pub role: String,
    /// Relative to the staging root.
    pub path: String,
    pub size: u64,
    pub mtime_ns: i64,
    /// BLAKE3 of the content, hex.
    pub hash: String,
    /// Opaque to the ledger: what the export compares to decide whether the
    /// library's file changed since (e.g. `size:mtime`, or an XMP's hash).
    pub source_signature: String,
    pub exported_at: DateTime<Utc>,
    /// The borg archive that holds the file, once archived.
    pub archive: Option<String>,
}

const COLUMNS: &str =
    "library, uuid, role, path, size, mtime_ns, hash, source_signature, exported_at, archive";

/// Of a staged file, what planning compares (`sources_of_assets`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedSource {
    pub(crate) uuid: String,
    pub(crate) role: String,
    /// Relative to the staging root.
    pub(crate) path: String,
    pub(crate) source_signature: String,
}

/// A file's row with where it went since it was staged (`locate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    pub file: StagedFile,
    /// When this version reached the remote volume (`None`: not yet, or
    /// changed since).
    pub(crate) mirrored_at: Option<DateTime<Utc>>,
    /// When it left staging; it is then in `file.archive`.
    pub purged_at: Option<DateTime<Utc>>,
}

impl StagedFile {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            library: row.get(0)?,
            uuid: row.get(1)?,
            role: row.get(2)?,
            path: row.get(3)?,
            size: row.get(4)?,
            mtime_ns: row.get(5)?,
            hash: row.get(6)?,
            source_signature: row.get(7)?,
            exported_at: time_required(row, 8)?,
            archive: row.get(9)?,
        })
    }
}

impl Ledger {
    /// Records a file just renamed into staging, replacing what the ledger
    /// held for the same (library, uuid, role). A file whose path, size, time
    /// or hash changed counts as not mirrored yet; a recorded file is staged,
    /// so not purged. Fails with `PathTaken` when another asset's file has
    /// the same path (ignoring case and normalization).
    pub fn record_file(&self, file: &StagedFile) -> Result<()> {
        let sql = "
            INSERT INTO staged_file (library, uuid, role, path, path_key, size, mtime_ns, hash,
                                     source_signature, exported_at, archive)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
            ON CONFLICT (library, uuid, role) DO UPDATE SET
                mirrored_at = CASE WHEN path = excluded.path AND size = excluded.size
                                    AND mtime_ns = excluded.mtime_ns AND hash = excluded.hash
                              THEN mirrored_at END,
                path = excluded.path,
                path_key = excluded.path_key,
                size = excluded.size,
                mtime_ns = excluded.mtime_ns,
                hash = excluded.hash,
                source_signature = excluded.source_signature,
                exported_at = excluded.exported_at,
                archive = excluded.archive,
                batch = NULL,
                purged_at = NULL";
        let result = self.conn.prepare_cached(sql).and_then(|mut stmt| {
            stmt.execute(params![
                file.library,
                file.uuid,
                file.role,
                file.path,
                path_key(&file.path),
                file.size,
                file.mtime_ns,
                file.hash,
                file.source_signature,
                time_text(&file.exported_at),
                file.archive,
            ])
        });
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(LedgerError::PathTaken {
                path: self.path.clone(),
                library: file.library.clone(),
                staged: file.path.clone(),
                owner: self
                    .path_owner(&file.library, &file.path)?
                    .unwrap_or_default(),
            }),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Every file of `library`, by uuid and role: one query, for planning.
    pub fn files(&self, library: &str) -> Result<Vec<StagedFile>> {
        let sql =
            format!("SELECT {COLUMNS} FROM staged_file WHERE library = ?1 ORDER BY uuid, role");
        self.query_files(&sql, params![library])
    }

    /// The files of one asset, by role.
    #[cfg(test)]
    pub(crate) fn files_of(&self, library: &str, uuid: &str) -> Result<Vec<StagedFile>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM staged_file WHERE library = ?1 AND uuid = ?2 ORDER BY role"
        );
        self.query_files(&sql, params![library, uuid])
    }

    /// What planning needs of the files of the assets `uuids` of `library`
    /// (uuid, role, path, source signature), in one query through the
    /// primary key: a run plans a batch of assets at a time and never holds
    /// the library's whole ledger.
    pub(crate) fn sources_of_assets(
        &self,
        library: &str,
        uuids: &[&str],
    ) -> Result<Vec<StagedSource>> {
        let list = serde_json::to_string(uuids)
            .map_err(|e| self.err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        let sql = "SELECT uuid, role, path, source_signature FROM staged_file
             WHERE library = ?1 AND uuid IN (SELECT value FROM json_each(?2))";
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![library, list], |r| {
                Ok(StagedSource {
                    uuid: r.get(0)?,
                    role: r.get(1)?,
                    path: r.get(2)?,
                    source_signature: r.get(3)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let files: Vec<StagedSource> = rows
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))?;
        self.check_paths(library, files.iter().map(|f| f.path.as_str()))?;
        Ok(files)
    }

    /// The (uuid, path) of the files of `library` whose path starts with
    /// `prefix` as the filesystem compares names (ignoring case and Unicode
    /// normalization), in the order of `files`: a range of the
    /// `(library, path_key)` index, for the claims of staged names.
    pub(crate) fn paths_starting_with(
        &self,
        library: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String)>> {
        // The key of a prefix is a prefix of the key of any path starting
        // with it when what follows begins with a character that composes
        // with nothing (`.`, `_`, ...); a 0xF4 0x90 byte sorts after any
        // UTF-8 character, so the range holds every such path.
        let sql = "SELECT uuid, path FROM staged_file
             WHERE library = ?1 AND path_key >= ?2 AND path_key < ?2 || CAST(x'F490' AS TEXT)
             ORDER BY uuid, role";
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![library, path_key(prefix)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// The asset whose file has `path` in `library` (ignoring case and
    /// Unicode normalization, as APFS does).
    fn path_owner(&self, library: &str, path: &str) -> Result<Option<String>> {
        let sql = "SELECT uuid FROM staged_file WHERE library = ?1 AND path_key = ?2";
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params![library, path_key(path)])
            .map_err(|e| self.err(e))?;
        match rows.next().map_err(|e| self.err(e))? {
            Some(row) => row.get(0).map(Some).map_err(|e| self.err(e)),
            None => Ok(None),
        }
    }

    /// Files of `library` staged but not yet (or no longer) on the remote
    /// volume: never mirrored, or changed since they were.
    pub fn unmirrored(&self, library: &str) -> Result<Vec<StagedFile>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM staged_file
             WHERE library = ?1 AND mirrored_at IS NULL AND purged_at IS NULL
             ORDER BY path"
        );
        self.query_files(&sql, params![library])
    }

    /// Records that the file of (library, uuid, role), as it is recorded now,
    /// is on the remote volume.
    pub(crate) fn set_mirrored(
        &self,
        library: &str,
        uuid: &str,
        role: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let sql = "UPDATE staged_file SET mirrored_at = ?4 WHERE library = ?1 AND uuid = ?2 AND role = ?3";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params![library, uuid, role, time_text(&at)]))
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// What `library` has in staging now: (files, bytes, of which not on
    /// the remote volume). One row kept current by triggers (schema V3):
    /// free on every run, whatever the size of the library.
    pub(crate) fn staged_totals(&self, library: &str) -> Result<(u64, u64, u64)> {
        let sql = "SELECT files, bytes, unmirrored FROM staged_total WHERE library = ?1";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.query_row(params![library], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()
            })
            .map(Option::unwrap_or_default)
            .map_err(|e| self.err(e))
    }

    /// Forgets a file; returns whether the ledger had it.
    #[cfg(test)]
    pub(super) fn remove_file(&self, library: &str, uuid: &str, role: &str) -> Result<bool> {
        let sql = "DELETE FROM staged_file WHERE library = ?1 AND uuid = ?2 AND role = ?3";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params![library, uuid, role]))
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// Every file of `library` with its mirror and purge times, by path;
    /// purged rows too.
    pub fn file_records(&self, library: &str) -> Result<Vec<FileRecord>> {
        let sql = format!(
            "SELECT {COLUMNS}, mirrored_at, purged_at FROM staged_file
             WHERE library = ?1 ORDER BY path"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![library], |row| {
                Ok(FileRecord {
                    file: StagedFile::from_row(row)?,
                    mirrored_at: time_at(row, 10)?,
                    purged_at: time_at(row, 11)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let records: Vec<FileRecord> = rows
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))?;
        self.check_paths(library, records.iter().map(|r| r.file.path.as_str()))?;
        Ok(records)
    }

    /// Every library the ledger holds files or rollovers of, by name.
    pub(crate) fn libraries(&self) -> Result<Vec<String>> {
        let sql = "SELECT library FROM staged_file UNION SELECT library FROM rollover
                   ORDER BY library";
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    fn query_files(&self, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<StagedFile>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params, StagedFile::from_row)
            .map_err(|e| self.err(e))?;
        let files: Vec<StagedFile> = rows
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))?;
        for f in &files {
            self.check_paths(&f.library, [f.path.as_str()])?;
        }
        Ok(files)
    }
}

/// The path as a case-insensitive, normalization-insensitive filesystem
/// compares it.
fn path_key(path: &str) -> String {
    path.chars().flat_map(char::to_lowercase).nfd().collect()
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    e.sqlite_error()
        .is_some_and(|e| e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, temp_ledger};
    use super::*;

    fn file(uuid: &str, role: &str, path: &str) -> StagedFile {
        StagedFile {
            library: "Main".into(),
            uuid: uuid.into(),
            role: role.into(),
            path: path.into(),
            size: 1234,
            mtime_ns: 1_700_000_000_123_456_789,
            hash: "ab".repeat(32),
            source_signature: "1234:1700000000123456789".into(),
            exported_at: at(1_700_000_100),
            archive: None,
        }
    }

    fn mirrored_at(ledger: &Ledger, uuid: &str, role: &str) -> Option<String> {
        ledger
            .conn
            .query_row(
                "SELECT mirrored_at FROM staged_file WHERE uuid = ?1 AND role = ?2",
                [uuid, role],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn sources_of_assets_gives_the_rows_of_those_assets_of_that_library_only() {
        let (_dir, ledger) = temp_ledger();
        for (uuid, role, path) in [
            ("A", "original", "Main/2024/05/01/a.jpg"),
            ("A", "xmp", "Main/2024/05/01/a.xmp"),
            ("B", "original", "Main/2024/05/01/b.jpg"),
            ("C", "original", "Main/2024/05/01/c.jpg"),
        ] {
            ledger.record_file(&file(uuid, role, path)).unwrap();
        }
        ledger
            .record_file(&StagedFile {
                library: "Other".into(),
                ..file("A", "original", "Other/2024/05/01/a.jpg")
            })
            .unwrap();
        let mut got: Vec<(String, String)> = ledger
            .sources_of_assets("Main", &["A", "C", "Z", "it's \"odd\""])
            .unwrap()
            .into_iter()
            .map(|f| (f.uuid, f.path))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("A".into(), "Main/2024/05/01/a.jpg".into()),
                ("A".into(), "Main/2024/05/01/a.xmp".into()),
                ("C".into(), "Main/2024/05/01/c.jpg".into()),
            ]
        );
        assert!(ledger.sources_of_assets("Main", &[]).unwrap().is_empty());
    }

    #[test]
    fn paths_starting_with_ignore_case_and_normalization_and_nothing_else() {
        let (_dir, ledger) = temp_ledger();
        // "é" composed in one name, decomposed in the other.
        for (uuid, role, path) in [
            ("A", "original", "Main/2024/05/01/IMG_1.HEIC"),
            ("A", "edited", "Main/2024/05/01/IMG_1_edited.jpeg"),
            ("B", "original", "Main/2024/05/01/img_10.heic"),
            ("C", "original", "Main/2024/05/01/IMG_2.heic"),
            ("D", "original", "Main/2024/05/01/Caf\u{e9}.jpg"),
            ("E", "original", "Main/2024/05/01/cafe\u{301}_1.jpg"),
        ] {
            ledger.record_file(&file(uuid, role, path)).unwrap();
        }
        let starting = |prefix: &str| -> Vec<(String, String)> {
            ledger.paths_starting_with("Main", prefix).unwrap()
        };
        assert_eq!(
            starting("main/2024/05/01/img_1"),
            [
                ("A".into(), "Main/2024/05/01/IMG_1_edited.jpeg".into()),
                ("A".into(), "Main/2024/05/01/IMG_1.HEIC".into()),
                ("B".into(), "Main/2024/05/01/img_10.heic".into()),
            ]
        );
        let cafe: Vec<String> = starting("main/2024/05/01/caf\u{e9}")
            .into_iter()
            .map(|(uuid, _)| uuid)
            .collect();
        assert_eq!(cafe, ["D", "E"]);
        assert!(starting("main/2024/05/01/img_3").is_empty());
        assert!(ledger
            .paths_starting_with("Other", "main/2024/05/01/img_1")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn crafted_paths_stop_every_read_with_an_error_naming_them() {
        for bad in [
            "/etc/passwd",
            "Main/../../etc/passwd",
            "Other/2024/a.jpg",
            "Main",
            "Mainx/a.jpg",
            "Main//a.jpg",
            "Main/a\\b",
        ] {
            let (_dir, ledger) = temp_ledger();
            ledger
                .record_file(&file("A", "original", "Main/2024/05/01/ok.jpg"))
                .unwrap();
            // A crafted row, as an attacker or a damaged disk would leave it.
            ledger
                .conn
                .execute("UPDATE staged_file SET path = ?1 WHERE uuid = 'A'", [bad])
                .unwrap();
            for result in [
                ledger.files("Main").map(drop),
                ledger.files_of("Main", "A").map(drop),
                ledger.sources_of_assets("Main", &["A"]).map(drop),
                ledger.file_records("Main").map(drop),
            ] {
                let msg = result.unwrap_err().to_string();
                assert!(msg.contains(&format!("{bad:?}")), "{bad}: {msg}");
                assert!(msg.contains("refused"), "{msg}");
            }
        }
        assert!(super::super::is_library_path(
            "Main",
            "Main/2024/05/01/a.jpg"
        ));
    }

    #[test]
    fn files_round_trip_by_library_and_asset() {
        let (_dir, ledger) = temp_ledger();
        let a = file("A", "original", "Main/2024/05/01/IMG_1.HEIC");
        let a_xmp = StagedFile {
            archive: Some("photos-Main-2024-05".into()),
            size: u64::try_from(i64::MAX).unwrap(),
            mtime_ns: -5,
            ..file("A", "xmp", "Main/2024/05/01/IMG_1.xmp")
        };
        let b = file("B", "original", "Main/2024/05/02/IMG_2.HEIC");
        let other = StagedFile {
            library: "Other".into(),
            ..file("A", "original", "Other/2024/05/01/IMG_1.HEIC")
        };
        for f in [&b, &a_xmp, &a, &other] {
            ledger.record_file(f).unwrap();
        }
        assert_eq!(
            ledger.files("Main").unwrap(),
            [a.clone(), a_xmp.clone(), b.clone()]
        );
        assert_eq!(ledger.files_of("Main", "A").unwrap(), [a.clone(), a_xmp]);
        assert_eq!(ledger.files("Other").unwrap(), [other]);
        assert_eq!(ledger.files("None").unwrap(), []);

        assert!(ledger.remove_file("Main", "A", "xmp").unwrap());
        assert!(!ledger.remove_file("Main", "A", "xmp").unwrap());
        assert_eq!(ledger.files_of("Main", "A").unwrap(), [a]);
    }

    #[test]
    fn record_file_replaces_the_row_of_the_same_asset_and_role() {
        let (_dir, ledger) = temp_ledger();
        let old = file("A", "original", "Main/2024/05/01/IMG_1.HEIC");
        ledger.record_file(&old).unwrap();
        let new = StagedFile {
            path: "Main/2024/05/01/IMG_1 (edited).HEIC".into(),
            size: 99,
            hash: "cd".repeat(32),
            source_signature: "99:1".into(),
            exported_at: at(1_800_000_000),
            ..old
        };
        ledger.record_file(&new).unwrap();
        assert_eq!(ledger.files("Main").unwrap(), [new]);
        // The old path is free again.
        assert_eq!(
            ledger
                .path_owner("Main", "Main/2024/05/01/IMG_1.HEIC")
                .unwrap(),
            None
        );
    }

    #[test]
    fn a_changed_file_is_no_longer_mirrored_and_an_unchanged_one_stays_mirrored() {
        let (_dir, ledger) = temp_ledger();
        let f = file("A", "original", "Main/a.jpg");
        ledger.record_file(&f).unwrap();
        let mark = "UPDATE staged_file SET mirrored_at = 'then', purged_at = 'then'";
        ledger.conn.execute(mark, []).unwrap();

        let same_content = StagedFile {
            exported_at: at(1_900_000_000),
            ..f.clone()
        };
        ledger.record_file(&same_content).unwrap();
        assert_eq!(
            mirrored_at(&ledger, "A", "original").as_deref(),
            Some("then")
        );
        let purged: Option<String> = ledger
            .conn
            .query_row("SELECT purged_at FROM staged_file", [], |r| r.get(0))
            .unwrap();
        assert_eq!(purged, None);

        ledger.conn.execute(mark, []).unwrap();
        let changed = StagedFile {
            hash: "ff".repeat(32),
            ..f
        };
        ledger.record_file(&changed).unwrap();
        assert_eq!(mirrored_at(&ledger, "A", "original"), None);
    }

    #[test]
    fn paths_are_unique_per_library_ignoring_case_and_normalization() {
        let (_dir, ledger) = temp_ledger();
        let composed = "Main/2024/05/01/Caf\u{e9}.JPG";
        let decomposed_lower = "main/2024/05/01/cafe\u{301}.jpg";
        ledger
            .record_file(&file("A", "original", composed))
            .unwrap();
        assert_eq!(
            ledger.path_owner("Main", composed).unwrap().as_deref(),
            Some("A")
        );
        assert_eq!(
            ledger
                .path_owner("Main", decomposed_lower)
                .unwrap()
                .as_deref(),
            Some("A")
        );
        assert_eq!(ledger.path_owner("Other", composed).unwrap(), None);
        assert_eq!(
            ledger
                .path_owner("Main", "Main/2024/05/01/Cafe.JPG")
                .unwrap(),
            None
        );

        let err = ledger
            .record_file(&file("B", "original", decomposed_lower))
            .unwrap_err();
        assert!(
            matches!(&err, LedgerError::PathTaken { owner, .. } if owner == "A"),
            "{err}"
        );
        let msg = err.to_string();
        assert!(msg.contains(&ledger.path().display().to_string()), "{msg}");
        // The same path in another library, or another name, is fine.
        let other = StagedFile {
            library: "Other".into(),
            ..file("B", "original", composed)
        };
        ledger.record_file(&other).unwrap();
        ledger
            .record_file(&file("B", "original", "Main/2024/05/01/Cafe.JPG"))
            .unwrap();
        // The owner may record its own path in another case.
        ledger
            .record_file(&file("A", "original", decomposed_lower))
            .unwrap();
    }

    #[test]
    fn records_say_when_a_file_was_mirrored_and_purged() {
        let (_dir, ledger) = temp_ledger();
        let a = file("A", "original", "Main/2024/05/01/b.jpg");
        let b = file("B", "original", "Main/2024/05/01/a.jpg");
        ledger.record_file(&a).unwrap();
        ledger.record_file(&b).unwrap();
        ledger.set_mirrored("Main", "A", "original", at(5)).unwrap();
        ledger
            .conn
            .execute(
                "UPDATE staged_file SET archive = 'x', purged_at = ?1 WHERE uuid = 'B'",
                [time_text(&at(6))],
            )
            .unwrap();
        let records = ledger.file_records("Main").unwrap();
        let summary: Vec<_> = records
            .iter()
            .map(|r| (r.file.uuid.as_str(), r.mirrored_at, r.purged_at))
            .collect();
        assert_eq!(
            summary,
            [("B", None, Some(at(6))), ("A", Some(at(5)), None)]
        );
        assert_eq!(records[0].file.archive.as_deref(), Some("x"));
        assert!(ledger.file_records("Other").unwrap().is_empty());

        ledger
            .record_file(&StagedFile {
                library: "Other".into(),
                ..a
            })
            .unwrap();
        ledger
            .conn
            .execute(
                "INSERT INTO rollover (library, archive, first_month, last_month, step, planned_at)
                 VALUES ('Alone', 'p-Alone-2024-05', '2024-05', '2024-05', 'planned', 'x')",
                [],
            )
            .unwrap();
        assert_eq!(ledger.libraries().unwrap(), ["Alone", "Main", "Other"]);
    }

    #[test]
    fn many_files_in_one_transaction() {
        let (_dir, mut ledger) = temp_ledger();
        ledger
            .transaction(|l| {
                for i in 0..2000 {
                    l.record_file(&file(
                        &format!("U{i:05}"),
                        "original",
                        &format!("Main/{i}.jpg"),
                    ))?;
                }
                Ok::<_, LedgerError>(())
            })
            .unwrap();
        let files = ledger.files("Main").unwrap();
        assert_eq!(files.len(), 2000);
        assert_eq!(files[1999].uuid, "U01999");
    }

    /// What `staged_totals` must say: the rows counted the slow way.
    fn counted(ledger: &Ledger, library: &str) -> (u64, u64, u64) {
        let sql = "SELECT count(*), coalesce(sum(size), 0), count(*) - count(mirrored_at)
                   FROM staged_file WHERE library = ?1 AND purged_at IS NULL";
        ledger
            .conn
            .query_row(sql, [library], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
    }

    #[test]
    fn staged_totals_follow_every_kind_of_write() {
        let (_dir, ledger) = temp_ledger();
        assert_eq!(ledger.staged_totals("Main").unwrap(), (0, 0, 0));
        let mut seed = 0x5eed_u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for step in 0..1000 {
            let library = ["Main", "Other"][next(2) as usize];
            let uuid = format!("U{}", next(20));
            let role = ["original", "xmp"][next(2) as usize];
            match next(5) {
                0 | 1 => {
                    let f = StagedFile {
                        library: library.into(),
                        size: next(4) * 1000,
                        ..file(&uuid, role, &format!("{library}/{uuid}.{role}"))
                    };
                    ledger.record_file(&f).unwrap();
                }
                2 => ledger.set_mirrored(library, &uuid, role, at(5)).unwrap(),
                3 => {
                    ledger.remove_file(library, &uuid, role).unwrap();
                }
                _ => {
                    let purge = "UPDATE staged_file SET archive = 'x', purged_at = 'then'
                                 WHERE library = ?1 AND uuid = ?2";
                    ledger.conn.execute(purge, [library, &uuid]).unwrap();
                }
            }
            for library in ["Main", "Other"] {
                assert_eq!(
                    ledger.staged_totals(library).unwrap(),
                    counted(&ledger, library),
                    "{library} after step {step}"
                );
            }
        }
        assert_ne!(counted(&ledger, "Main"), (0, 0, 0), "the walk left files");
    }
}
