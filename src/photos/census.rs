//! The census: every asset of a library with only what `coverage` needs to
//! classify it (its uuid, name, creation date and zone, the flags that say
//! whether a run backs it up, and whether the run's selection takes it),
//! read in one narrow pass; and, for the assets whose class depends on it,
//! their version.
//!
//! The full reader (`Library::assets`) builds every field and path and
//! looks at the library's folders; at 100k assets that is seconds. The
//! census reads a few columns of the asset and attribute rows and derives
//! nothing else; the version, which needs every resource, keyword, person
//! and album row, is read only for the assets asked for (`versions_of`: in
//! coverage, those found in a verified archive as they are now). The rules
//! it applies are the reader's and the run's own, called, not restated: the
//! selection's date condition (`query::since_condition`, evaluated by
//! SQLite in the same statement), the burst flags (`derive::burst`), the
//! creation date in its zone (`derive::created`), the version
//! (`versions::version` over the same narrow reads as a run's).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::Connection;

use super::derive::{self, RawResource};
use super::query::{self, int, real, text};
use super::schema::Schema;
use super::{versions, Check, Library, PhotosError};

/// One asset as the census sees it. Its name is untrusted text.
// The flags mirror Photos' own columns one to one, hence many bools.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CensusAsset {
    /// The asset's row number in this database (for `versions_of`).
    pub(crate) pk: i64,
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
}

impl Library {
    /// Every asset of the library, trash and unpicked burst frames
    /// included, in row order; `selected` says which ones a run with
    /// selection date `since` reads. A damaged page met on a copy checked
    /// only page by page sends the census to a fresh copy checked whole,
    /// as `assets` does.
    pub fn census(&self, since: DateTime<Utc>) -> Result<Vec<CensusAsset>, PhotosError> {
        match self.census_read(|conn, schema| read(conn, schema, since)) {
            Err(PhotosError::Corrupt { .. }) if self.checked == Check::PagesRead => {
                Self::open_with(&self.root, Check::Full)?.census(since)
            }
            read => read,
        }
    }

    /// The version (`photos::versions`) of each asset of `pks` (row numbers
    /// of this database), when the schema has versions; else none.
    pub(crate) fn versions_of(&self, pks: &[i64]) -> Result<HashMap<i64, u64>, PhotosError> {
        if pks.is_empty() || !versions::supported(&self.schema) {
            return Ok(HashMap::new());
        }
        self.census_read(|conn, schema| read_versions(conn, schema, pks))
    }

    fn census_read<T>(
        &self,
        f: impl FnOnce(&Connection, &Schema) -> rusqlite::Result<T>,
    ) -> Result<T, PhotosError> {
        f(&self.snapshot.conn, &self.schema).map_err(|e| self.sql_error(&e))
    }
}

fn read(
    conn: &Connection,
    schema: &Schema,
    since: DateTime<Utc>,
) -> rusqlite::Result<Vec<CensusAsset>> {
    let a = &schema.asset;
    let b = &schema.attributes;
    let columns = [
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
        a.col("a", &["ZAVALANCHEUUID"]),
        a.col("a", &["ZAVALANCHEPICKTYPE"]),
        query::since_condition(schema, since),
    ];
    let sql = format!(
        "SELECT {} FROM {} AS a LEFT JOIN {} AS b ON b.ZASSET = a.Z_PK ORDER BY a.Z_PK",
        columns.join(", "),
        a.sql(),
        b.sql(),
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let filename =
            || -> rusqlite::Result<String> { Ok(derive::clean(text(row, 2)?).unwrap_or_default()) };
        let original_filename = match derive::clean(text(row, 3)?) {
            Some(name) => name,
            None => filename()?,
        };
        let tz_offset = int(row, 5)?.map(|o| o as i32);
        let (burst, burst_selected) = derive::burst(text(row, 10)?.is_some(), int(row, 11)?);
        out.push(CensusAsset {
            pk: row.get(0)?,
            uuid: derive::clean(text(row, 1)?).unwrap_or_default(),
            original_filename,
            date: derive::created(real(row, 4)?, text(row, 6)?.as_deref(), tz_offset),
            selected: int(row, 12)? == Some(1),
            trashed: int(row, 7)? == Some(1),
            hidden: int(row, 8)? == Some(1),
            shared: real(row, 9)?.is_some(),
            burst,
            burst_selected,
        });
    }
    Ok(out)
}

/// The rows `select_changed` filled, as `query`'s narrow reads take a scope.
const SCOPE: &str = "IN (SELECT pk FROM temp.changed)";

/// The versions of the assets `pks`, from the same narrow reads and wide
/// rows' `Z_OPT`s as a run's (`query::for_each`), restricted to them.
fn read_versions(
    conn: &Connection,
    schema: &Schema,
    pks: &[i64],
) -> rusqlite::Result<HashMap<i64, u64>> {
    query::select_changed(conn, pks)?;
    let scope = Some(SCOPE);
    let keywords = query::read_keywords(conn, schema, scope)?;
    let persons = query::read_persons(conn, schema, scope)?;
    let albums = query::read_albums(conn, schema, scope)?;
    let resources = query::read_resources(conn, schema, scope, false, None)?;
    let (_, joins, joined) = query::asset_columns(schema);
    let sql = format!(
        "SELECT a.Z_PK, {} FROM {} AS a LEFT JOIN {} AS b ON b.ZASSET = a.Z_PK{joins} \
         WHERE a.Z_PK {} ORDER BY a.Z_PK",
        versions::columns(schema, joined.0, joined.1).join(", "),
        schema.asset.sql(),
        schema.attributes.sql(),
        SCOPE,
    );
    let none = Vec::new();
    let no_resources: Vec<RawResource> = Vec::new();
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut out = HashMap::with_capacity(pks.len());
    while let Some(row) = rows.next()? {
        let pk: i64 = row.get(0)?;
        let opts = versions::rows(row, 1)?;
        let version = versions::version(
            &opts,
            keywords.get(&pk).unwrap_or(&none),
            persons.get(&pk).unwrap_or(&none),
            albums.get(&pk).unwrap_or(&none),
            resources.get(&pk).unwrap_or(&no_resources),
        );
        out.insert(pk, version);
    }
    Ok(out)
}
