//! What reading each Takeout set found, kept so `coverage` can answer "is
//! every Google photo safe?" long after the run: the set's parts and their
//! sizes, how many media members and distinct contents it held, what was
//! staged new, known before or a duplicate copy, the lists a person must
//! see (media without JSON, JSON without media, JSON that did not parse,
//! members refused and why, trashed contents left out), and every content
//! hash of the set, so each one can be proved to be in the ledger. Only the
//! latest report of a set is kept (a set read again replaces it). Written
//! in the transaction that records the set's files.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{time_required, time_text, Ledger, Result};

/// One part of a set as it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportPart {
    pub name: String,
    pub size: u64,
}

/// The lists of a set: names (printable) a person must see, never dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportLists {
    /// Media staged without any JSON (dated from their own bytes or the archive).
    pub without_json: Vec<String>,
    /// JSON whose media is in no part of the set.
    #[serde(default)]
    pub json_without_media: Vec<String>,
    /// JSON that did not parse, with why (its media staged without it).
    pub bad_json: Vec<String>,
    /// Members left alone: `part: member: why`.
    pub refused: Vec<String>,
    /// Contents every copy of which is in the trash: left out.
    #[serde(default)]
    pub trashed: Vec<String>,
}

/// What reading one set found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetReport {
    pub source: String,
    /// `takeout-20240701T221728Z`.
    pub set_id: String,
    pub read_at: DateTime<Utc>,
    pub parts: Vec<ReportPart>,
    /// Media members, every copy counted.
    pub media_members: u64,
    /// Distinct contents (`staged_new + known`).
    pub contents: u64,
    pub staged_new: u64,
    /// Distinct contents the source had staged before.
    pub known: u64,
    /// Media copies beyond the first of their content.
    pub duplicates: u64,
    pub lists: ReportLists,
    /// Every content hash of the set, sorted, once each.
    pub hashes: Vec<String>,
}

/// Where one content of a set stands in the ledger: the source's staged
/// original with that hash (its uuid), if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentRow {
    pub set_id: String,
    pub hash: String,
    /// `None`: no `staged_file` row for it (MISSING).
    pub staged: Option<StagedState>,
}

/// The staged original of a content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedState {
    /// Its staging path (`NAME/YYYY/MM/DD/file`).
    pub path: String,
    pub mirrored: bool,
    pub purged: bool,
    /// In a verified archive still in the repository, as it is now.
    pub archived: bool,
}

fn conversion(idx: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
}

impl Ledger {
    /// Keeps `report` as the latest of its set (the one before, if any,
    /// with its hashes, goes).
    pub fn record_takeout_report(&self, report: &SetReport) -> Result<()> {
        let key = params![report.source, report.set_id];
        let run = |sql: &str, p: &[&dyn rusqlite::ToSql]| {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut s| s.execute(p))
                .map(drop)
                .map_err(|e| self.err(e))
        };
        run(
            "DELETE FROM takeout_report_content WHERE source = ?1 AND set_id = ?2",
            key,
        )?;
        run(
            "INSERT INTO takeout_report (source, set_id, read_at, parts, media_members,
                 contents, staged_new, known, duplicates, lists)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (source, set_id) DO UPDATE SET
                 read_at = excluded.read_at, parts = excluded.parts,
                 media_members = excluded.media_members, contents = excluded.contents,
                 staged_new = excluded.staged_new, known = excluded.known,
                 duplicates = excluded.duplicates, lists = excluded.lists",
            params![
                report.source,
                report.set_id,
                time_text(&report.read_at),
                to_json(&report.parts),
                report.media_members,
                report.contents,
                report.staged_new,
                report.known,
                report.duplicates,
                to_json(&report.lists),
            ],
        )?;
        for hash in &report.hashes {
            run(
                "INSERT OR IGNORE INTO takeout_report_content (source, set_id, hash)
                 VALUES (?1, ?2, ?3)",
                params![report.source, report.set_id, hash],
            )?;
        }
        Ok(())
    }

    /// When the newest report of any source was made (`None`: none yet).
    pub fn latest_takeout_report_at(&self) -> Result<Option<DateTime<Utc>>> {
        self.conn
            .query_row("SELECT max(read_at) FROM takeout_report", [], |r| {
                super::time_at(r, 0)
            })
            .map_err(|e| self.err(e))
    }

    /// The latest report of each set of `source`, by set id (hashes not
    /// read: `takeout_contents` has them with their state).
    pub fn takeout_reports(&self, source: &str) -> Result<Vec<SetReport>> {
        let sql = "SELECT set_id, read_at, parts, media_members, contents, staged_new, known,
                          duplicates, lists
                   FROM takeout_report WHERE source = ?1 ORDER BY set_id";
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![source], |r| {
                let parts: String = r.get(2)?;
                let lists: String = r.get(8)?;
                Ok(SetReport {
                    source: source.to_owned(),
                    set_id: r.get(0)?,
                    read_at: time_required(r, 1)?,
                    parts: serde_json::from_str(&parts).map_err(|e| conversion(2, e))?,
                    media_members: r.get(3)?,
                    contents: r.get(4)?,
                    staged_new: r.get(5)?,
                    known: r.get(6)?,
                    duplicates: r.get(7)?,
                    lists: serde_json::from_str(&lists).map_err(|e| conversion(8, e))?,
                    hashes: Vec::new(),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// Every content of every reported set of `source`, with the state of
    /// the source's staged original of that hash (by set id, then hash).
    pub fn takeout_contents(&self, source: &str) -> Result<Vec<ContentRow>> {
        let verified = super::coverage::VERIFIED;
        let sql = format!(
            "SELECT c.set_id, c.hash, s.path, s.mirrored_at IS NOT NULL,
                 s.purged_at IS NOT NULL,
                 CASE WHEN s.archive IS NOT NULL AND s.archive NOT IN (
                     SELECT archive FROM rollover WHERE library = ?1 AND pruned_at IS NOT NULL)
                 THEN 1 ELSE EXISTS (
                     SELECT 1 FROM rollover_file AS f JOIN rollover AS r
                       ON r.library = f.library AND r.archive = f.archive
                     WHERE f.library = s.library AND f.uuid = s.uuid AND f.role = s.role
                       AND f.size = s.size AND f.hash = s.hash AND {verified}) END
             FROM takeout_report_content AS c
             LEFT JOIN staged_file AS s
               ON s.library = c.source AND s.uuid = c.hash AND s.role = 'original'
             WHERE c.source = ?1 ORDER BY c.set_id, c.hash"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![source], |r| {
                let path: Option<String> = r.get(2)?;
                Ok(ContentRow {
                    set_id: r.get(0)?,
                    hash: r.get(1)?,
                    staged: match path {
                        Some(path) => Some(StagedState {
                            path,
                            mirrored: r.get(3)?,
                            purged: r.get(4)?,
                            archived: r.get(5)?,
                        }),
                        None => None,
                    },
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }
}

/// A JSON column's text (plain data: cannot fail).
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, temp_ledger};
    use super::super::StagedFile;
    use super::*;

    fn report(set: &str, hashes: &[&str], read_at: i64) -> SetReport {
        SetReport {
            source: "g".into(),
            set_id: set.into(),
            read_at: at(read_at),
            parts: vec![ReportPart {
                name: format!("{set}-001.zip"),
                size: 10,
            }],
            media_members: 3,
            contents: hashes.len() as u64,
            staged_new: 1,
            known: 1,
            duplicates: 1,
            lists: ReportLists {
                without_json: vec!["a.jpg".into()],
                refused: vec!["p: ../x: escapes".into()],
                ..ReportLists::default()
            },
            hashes: hashes.iter().map(|h| (*h).to_owned()).collect(),
        }
    }

    #[test]
    fn the_latest_report_of_a_set_is_kept_with_its_contents_state() {
        let (_dir, ledger) = temp_ledger();
        assert_eq!(ledger.latest_takeout_report_at().unwrap(), None);
        ledger
            .record_takeout_report(&report("s1", &["h1", "h2"], 0))
            .unwrap();
        ledger
            .record_takeout_report(&report("s1", &["h1", "h3"], 60))
            .unwrap();
        ledger
            .record_takeout_report(&SetReport {
                source: "other".into(),
                ..report("s1", &["h9"], 0)
            })
            .unwrap();
        assert_eq!(ledger.latest_takeout_report_at().unwrap(), Some(at(60)));
        let reports = ledger.takeout_reports("g").unwrap();
        assert_eq!(reports.len(), 1);
        assert_eq!(
            reports[0],
            SetReport {
                hashes: Vec::new(),
                ..report("s1", &["h1", "h3"], 60)
            }
        );
        ledger
            .record_file(&StagedFile {
                library: "g".into(),
                uuid: "h1".into(),
                role: "original".into(),
                path: "g/2019/07/04/a.jpg".into(),
                size: 1,
                mtime_ns: 0,
                hash: "h1".into(),
                source_signature: "takeout:h1".into(),
                exported_at: at(0),
                archive: None,
            })
            .unwrap();
        // Only the original counts: a sidecar alone is not the photo.
        ledger
            .record_file(&StagedFile {
                library: "g".into(),
                uuid: "h3".into(),
                role: "xmp".into(),
                path: "g/2019/07/04/b.jpg.xmp".into(),
                size: 1,
                mtime_ns: 0,
                hash: "x".into(),
                source_signature: "x".into(),
                exported_at: at(0),
                archive: None,
            })
            .unwrap();
        let rows = ledger.takeout_contents("g").unwrap();
        assert_eq!(
            rows,
            [
                ContentRow {
                    set_id: "s1".into(),
                    hash: "h1".into(),
                    staged: Some(StagedState {
                        path: "g/2019/07/04/a.jpg".into(),
                        mirrored: false,
                        purged: false,
                        archived: false,
                    }),
                },
                ContentRow {
                    set_id: "s1".into(),
                    hash: "h3".into(),
                    staged: None,
                },
            ]
        );
    }
}
