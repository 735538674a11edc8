//! The census: every asset of a library with only what `coverage` needs to
//! classify it (its uuid, name, creation date and zone, the flags that say
//! whether a run backs it up, whether its original is on this disk, whether
//! the run's selection takes it, and its version), read in one narrow pass.
//!
//! The full reader (`Library::assets`) builds every field, every path and
//! looks at the library's folders; at 100k assets that is seconds. The
//! census reads a few columns of the asset and attribute rows, plus the
//! narrow tables the version needs, and derives nothing else. The rules it
//! applies are the reader's and the run's own, called, not restated: the
//! selection's date condition (`query::since_condition`, evaluated by
//! SQLite in the same statement), the burst flags (`derive::burst`), the
//! original in iCloud (`derive::original_missing`), the creation date in
//! its zone (`derive::created`) and the version (`versions::version`).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::Connection;

use super::derive::{self, RawResource};
use super::query::{self, int, real, text};
use super::schema::Schema;
use super::{versions, Check, Library, PhotosError};

/// One asset as the census sees it. Its names are untrusted text.
// The flags mirror Photos' own columns one to one, hence many bools.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CensusAsset {
    pub uuid: String,
    /// The name the file had when imported (else its name in the library).
    pub original_filename: String,
    /// Creation date in the photo's own time zone: its month is its
    /// staging folder's (`export::layout`).
    pub date: DateTime<FixedOffset>,
    /// One of the dates the run's selection reads (added, created, edited,
    /// changed) is at or after the census' `since`: a run takes it.
    pub selected: bool,
    pub trashed: bool,
    pub hidden: bool,
    /// In a shared album.
    pub shared: bool,
    pub burst: bool,
    /// A burst frame Photos shows (key frame or picked).
    pub burst_selected: bool,
    /// The original is not on this disk (only in iCloud).
    pub in_icloud: bool,
    /// `photos::versions`' version, when this library's schema has one.
    pub version: Option<u64>,
}

impl Library {
    /// Every asset of the library, trash and unpicked burst frames
    /// included, in row order; `selected` says which ones a run with
    /// selection date `since` reads. A damaged page met on a copy checked
    /// only page by page sends the census to a fresh copy checked whole,
    /// as `assets` does.
    pub fn census(&self, since: DateTime<Utc>) -> Result<Vec<CensusAsset>, PhotosError> {
        match self.census_rows(since) {
            Err(PhotosError::Corrupt { .. }) if self.checked == Check::PagesRead => {
                Self::open_with(&self.root, Check::Full)?.census_rows(since)
            }
            read => read,
        }
    }

    fn census_rows(&self, since: DateTime<Utc>) -> Result<Vec<CensusAsset>, PhotosError> {
        read(&self.snapshot.conn, &self.schema, since).map_err(|e| {
            self.read_error.set(true);
            if let Some(log) = &self.log {
                // Best effort: the read error itself is what the caller sees.
                let _ = log.failed(&self.db);
            }
            PhotosError::Corrupt {
                path: self.db.clone(),
                detail: e.to_string(),
            }
        })
    }
}

/// Columns of the census query before the version's.
const FIRST_VERSION_COLUMN: usize = 14;

fn read(
    conn: &Connection,
    schema: &Schema,
    since: DateTime<Utc>,
) -> rusqlite::Result<Vec<CensusAsset>> {
    let with_version = versions::supported(schema);
    let resources = query::read_resources(conn, schema, None)?;
    let none = Vec::new();
    let (keywords, persons, albums) = if with_version {
        (
            query::read_keywords(conn, schema, None)?,
            query::read_persons(conn, schema, None)?,
            query::read_albums(conn, schema, None)?,
        )
    } else {
        (HashMap::new(), HashMap::new(), HashMap::new())
    };
    let (_, joins, joined) = query::asset_columns(schema);
    let a = &schema.asset;
    let b = &schema.attributes;
    let mut columns = vec![
        "a.Z_PK".to_owned(),
        "a.ZUUID".to_owned(),
        a.col("a", &["ZFILENAME"]),
        b.col("b", &["ZORIGINALFILENAME"]),
        a.col("a", &["ZDATECREATED"]),
        b.col("b", &["ZTIMEZONEOFFSET"]),
        b.col("b", &["ZTIMEZONENAME"]),
        a.col("a", &["ZTRASHEDSTATE"]),
        a.col("a", &["ZHIDDEN"]),
        a.col("a", &["ZCLOUDBATCHPUBLISHDATE"]),
        a.col("a", &["ZKIND"]),
        a.col("a", &["ZAVALANCHEUUID"]),
        a.col("a", &["ZAVALANCHEPICKTYPE"]),
        query::since_condition(schema, since),
    ];
    debug_assert_eq!(columns.len(), FIRST_VERSION_COLUMN);
    if with_version {
        columns.extend(versions::columns(schema, joined.0, joined.1));
    }
    let sql = format!(
        "SELECT {} FROM {} AS a LEFT JOIN {} AS b ON b.ZASSET = a.Z_PK{} ORDER BY a.Z_PK",
        columns.join(", "),
        a.sql(),
        b.sql(),
        if with_version { joins.as_str() } else { "" },
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let pk: i64 = row.get(0)?;
        let filename = derive::clean(text(row, 2)?).unwrap_or_default();
        let tz_offset = int(row, 5)?.map(|o| o as i32);
        let res: &[RawResource] = resources.get(&pk).map_or(&[], Vec::as_slice);
        let shared = real(row, 9)?.is_some();
        let (burst, burst_selected) = derive::burst(text(row, 11)?.is_some(), int(row, 12)?);
        let version = if with_version {
            let rows = versions::rows(row, FIRST_VERSION_COLUMN)?;
            Some(versions::version(
                &rows,
                keywords.get(&pk).unwrap_or(&none),
                persons.get(&pk).unwrap_or(&none),
                albums.get(&pk).unwrap_or(&none),
                res,
            ))
        } else {
            None
        };
        out.push(CensusAsset {
            uuid: derive::clean(text(row, 1)?).unwrap_or_default(),
            original_filename: derive::clean(text(row, 3)?).unwrap_or(filename),
            date: derive::created(real(row, 4)?, text(row, 6)?.as_deref(), tz_offset),
            selected: int(row, 13)? == Some(1),
            trashed: int(row, 7)? == Some(1),
            hidden: int(row, 8)? == Some(1),
            shared,
            burst,
            burst_selected,
            in_icloud: derive::original_missing(res, shared && int(row, 10)? == Some(1)),
            version,
        });
    }
    Ok(out)
}
