//! The SQL side of the reader: one pass over the asset table (joined with its
//! attributes) plus one pass each for keywords, persons, albums and resources,
//! grouped by asset in memory. Column names come from `Schema`, so the same
//! code reads every Photos version.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row};

use super::derive::{self, RawAsset, RawResource};
use super::schema::{ident, Schema};
use super::time;
use super::versions;
use super::Asset;

/// Which assets to read.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Everything a backup must hold: trash and unpicked burst frames too.
    pub all: bool,
    /// Only assets added, created, edited or modified at or after this instant...
    pub since: Option<DateTime<Utc>>,
    /// ...plus these, whatever their dates (the ledger's pending assets).
    pub uuids: Vec<String>,
}

/// What a walk over the selected assets does with them.
pub trait Visit<E> {
    /// Whether to ask `unchanged` before the full read (a selection by
    /// date only: the versions are read for the selected rows).
    fn skips(&self) -> bool {
        false
    }

    /// For each (uuid, version) of the selection, in chunks: whether the
    /// asset is known unchanged, so it is not read in full nor handed over.
    fn unchanged(&mut self, assets: &[(&str, u64)]) -> Result<Vec<bool>, E> {
        Ok(vec![false; assets.len()])
    }

    /// One asset read in full, with its version (`versions::version`).
    fn asset(&mut self, asset: Asset, version: u64) -> Result<(), E>;
}

/// A closure as a `Visit` that reads everything.
pub(super) struct All<F>(pub F);

impl<E, F: FnMut(Asset) -> Result<(), E>> Visit<E> for All<F> {
    fn asset(&mut self, asset: Asset, _version: u64) -> Result<(), E> {
        (self.0)(asset)
    }
}

/// How many (uuid, version) pairs `Visit::unchanged` is asked at a time.
const VERSIONS_ASKED: usize = 2048;

/// Reads the selected assets in row order and hands each to `visit`, one at
/// a time, so a listing of a million assets never holds them all in memory.
/// Database errors become `E` through `sql_error`; an error from `visit`
/// stops the walk and is returned. With `visit.skips()` and a selection by
/// date, the versions of the selected assets are read first (narrow
/// columns) and the assets `visit` knows unchanged are left out of the
/// full read.
pub(super) fn for_each<E>(
    conn: &Connection,
    schema: &Schema,
    root: &Path,
    selection: &Selection,
    sql_error: impl Fn(rusqlite::Error) -> E,
    visit: &mut dyn Visit<E>,
) -> Result<(), E> {
    // A selection is resolved once into a temp table of row numbers; every
    // query below then reads only those rows, through their indexes.
    let scope = match selection.since {
        Some(since) => {
            select_rows(conn, schema, since, &selection.uuids).map_err(&sql_error)?;
            Some("IN (SELECT pk FROM temp.selected)")
        }
        None => None,
    };
    let mut keywords = read_keywords(conn, schema, scope).map_err(&sql_error)?;
    let mut persons = read_persons(conn, schema, scope).map_err(&sql_error)?;
    let mut albums = read_albums(conn, schema, scope).map_err(&sql_error)?;
    let mut resources = read_resources(conn, schema, scope, false, None).map_err(&sql_error)?;
    let mut disk = derive::Disk::new(root);
    let shared_root = derive::shared_root(schema.model_version);

    let (columns, joins, joined) = asset_columns(schema);
    let mut scope = scope;
    if scope.is_some() && visit.skips() {
        let rows = versions::read_rows(conn, schema, &joins, joined).map_err(&sql_error)?;
        let known = versions::of_rows(&rows, &keywords, &persons, &albums, &resources);
        let mut changed = Vec::new();
        for (rows, known) in rows
            .chunks(VERSIONS_ASKED)
            .zip(known.chunks(VERSIONS_ASKED))
        {
            let asked: Vec<(&str, u64)> = rows
                .iter()
                .zip(known)
                .map(|((_, uuid, _), v)| (uuid.as_str(), *v))
                .collect();
            let answers = visit.unchanged(&asked)?;
            for ((pk, _, _), unchanged) in rows.iter().zip(answers) {
                if unchanged {
                    keywords.remove(pk);
                    persons.remove(pk);
                    albums.remove(pk);
                    resources.remove(pk);
                } else {
                    changed.push(*pk);
                }
            }
        }
        select_changed(conn, &changed).map_err(&sql_error)?;
        scope = Some("IN (SELECT pk FROM temp.changed)");
    }
    let mut sql = format!(
        "SELECT {} FROM {} AS a LEFT JOIN {} AS b ON b.ZASSET = a.Z_PK{joins}",
        columns.join(", "),
        schema.asset.sql(),
        schema.attributes.sql(),
    );
    if let Some(scope) = scope {
        sql.push_str(&format!(" WHERE a.Z_PK {scope}"));
    }
    sql.push_str(" ORDER BY a.Z_PK");
    let mut stmt = conn.prepare(&sql).map_err(&sql_error)?;
    let mut rows = stmt.query([]).map_err(&sql_error)?;
    while let Some(row) = rows.next().map_err(&sql_error)? {
        let raw = raw_asset(row).map_err(&sql_error)?;
        let opts = versions::rows(row, VERSION_COLUMNS).map_err(&sql_error)?;
        let pk = raw.pk;
        let (k, p, al, res) = (
            keywords.remove(&pk).unwrap_or_default(),
            persons.remove(&pk).unwrap_or_default(),
            albums.remove(&pk).unwrap_or_default(),
            resources.remove(&pk).unwrap_or_default(),
        );
        let version = versions::version(&opts, &k, &p, &al, &res);
        let asset = derive::asset(
            raw,
            sorted(Some(k)),
            sorted_keep_repeats(Some(p)),
            sorted(Some(al)),
            &res,
            shared_root,
            &mut disk,
        );
        if selection.all || derive::shown_by_photos(&asset) {
            visit.asset(asset, version)?;
        }
    }
    Ok(())
}

/// Fills `temp.changed` with `pks`: the selected assets read in full.
pub(super) fn select_changed(conn: &Connection, pks: &[i64]) -> rusqlite::Result<()> {
    conn.pragma_update(None, "query_only", false)?;
    let filled = (|| {
        conn.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS changed (pk INTEGER PRIMARY KEY);
             DELETE FROM temp.changed;",
        )?;
        let mut insert = conn.prepare("INSERT OR IGNORE INTO temp.changed VALUES (?1)")?;
        for pk in pks {
            insert.execute([pk])?;
        }
        Ok(())
    })();
    conn.pragma_update(None, "query_only", true)?;
    filled
}

/// Fills `temp.selected` with the row numbers, uuids and `Z_OPT`s of the
/// assets changed since `since` plus those named in `uuids` (the scan reads
/// the rows anyway; the versions then need not read them again). The uuids are bound as parameters:
/// they come from the ledger (and once from a library), so they are never
/// spliced into SQL text. The temp tables live in memory, on the private copy.
fn select_rows(
    conn: &Connection,
    schema: &Schema,
    since: DateTime<Utc>,
    uuids: &[String],
) -> rusqlite::Result<()> {
    conn.pragma_update(None, "query_only", false)?;
    let filled = (|| {
        conn.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS selected (pk INTEGER PRIMARY KEY, uuid, opt);
             CREATE TEMP TABLE IF NOT EXISTS named_uuids (uuid TEXT PRIMARY KEY);
             DELETE FROM temp.selected;
             DELETE FROM temp.named_uuids;",
        )?;
        let mut insert = conn.prepare("INSERT OR IGNORE INTO temp.named_uuids VALUES (?1)")?;
        for uuid in uuids {
            insert.execute([uuid])?;
        }
        let asset = schema.asset.sql();
        let opt = schema.asset.col("a", &["Z_OPT"]);
        conn.execute_batch(&format!(
            "INSERT OR IGNORE INTO temp.selected SELECT a.Z_PK, a.ZUUID, {opt} FROM {asset} AS a
                 WHERE {};
             INSERT OR IGNORE INTO temp.selected SELECT a.Z_PK, a.ZUUID, {opt} FROM {asset} AS a
                 WHERE a.ZUUID IN (SELECT uuid FROM temp.named_uuids);",
            since_condition(schema, since)
        ))
    })();
    conn.pragma_update(None, "query_only", true)?;
    filled
}

/// Added, created, edited or modified at or after `since`. Dates beyond year
/// 9999 are garbage (10.15.7 has one), not "recent".
pub(super) fn since_condition(schema: &Schema, since: DateTime<Utc>) -> String {
    let since = time::to_core_data(since);
    let dates: Vec<String> = [
        "ZADDEDDATE",
        "ZDATECREATED",
        "ZADJUSTMENTTIMESTAMP",
        "ZMODIFICATIONDATE",
    ]
    .iter()
    .filter(|c| schema.asset.has(c))
    .map(|c| format!("(a.{c} >= {since:?} AND a.{c} < {LAST_VALID_DATE:?})"))
    .collect();
    format!("({})", dates.join(" OR "))
}

pub(super) fn sorted(v: Option<Vec<String>>) -> Vec<String> {
    let mut v = v.unwrap_or_default();
    v.sort();
    v.dedup();
    v
}

/// Persons keep repeats: two faces of two people of the same name are two.
pub(super) fn sorted_keep_repeats(v: Option<Vec<String>>) -> Vec<String> {
    let mut v = v.unwrap_or_default();
    v.sort();
    v
}

/// Text that may not be valid UTF-8 (a damaged or hostile database): lossy.
pub(super) fn text(row: &Row, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match row.get_ref(i)? {
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Null => None,
    })
}

/// Bytes kept of a free-text value (title, caption, keyword, person, album):
/// far more than any written by hand, and a database of huge ones (700 MB
/// of titles) cannot make the run hold them all.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// Free text, cut to `MAX_TEXT_BYTES` (a character cut in two becomes U+FFFD).
fn free_text(row: &Row, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match row.get_ref(i)? {
        ValueRef::Text(b) | ValueRef::Blob(b) => {
            Some(String::from_utf8_lossy(&b[..b.len().min(MAX_TEXT_BYTES)]).into_owned())
        }
        _ => text(row, i)?,
    })
}

pub(super) fn int(row: &Row, i: usize) -> rusqlite::Result<Option<i64>> {
    Ok(match row.get_ref(i)? {
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(f) => Some(f as i64),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.trim().parse().ok()),
        _ => None,
    })
}

pub(super) fn real(row: &Row, i: usize) -> rusqlite::Result<Option<f64>> {
    Ok(match row.get_ref(i)? {
        ValueRef::Integer(n) => Some(n as f64),
        ValueRef::Real(f) => Some(f),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.trim().parse().ok()),
        _ => None,
    })
}

/// One row of the asset query (columns in `asset_columns` order).
pub(super) fn raw_asset(row: &Row) -> rusqlite::Result<RawAsset> {
    Ok(RawAsset {
        pk: row.get(0)?,
        uuid: text(row, 1)?.unwrap_or_default(),
        filename: text(row, 2)?,
        directory: text(row, 3)?,
        original_filename: text(row, 4)?,
        date_created: real(row, 5)?,
        tz_offset: int(row, 6)?,
        date_added: real(row, 7)?,
        adjustment_timestamp: real(row, 8)?,
        modification_date: real(row, 9)?,
        title: free_text(row, 10)?,
        description: free_text(row, 11)?,
        favorite: int(row, 12)?,
        hidden: int(row, 13)?,
        trashed: int(row, 14)?,
        kind: int(row, 15)?,
        kind_subtype: int(row, 16)?,
        uti: text(row, 17)?,
        original_filesize: int(row, 18)?,
        width: int(row, 19)?,
        height: int(row, 20)?,
        latitude: real(row, 21)?,
        longitude: real(row, 22)?,
        avalanche_uuid: text(row, 23)?,
        avalanche_pick: int(row, 24)?,
        saved_asset_type: int(row, 25)?,
        adjustments: int(row, 26)?,
        external_edit_format: text(row, 27)?,
        depth: int(row, 28)?,
        hdr: int(row, 29)?,
        capture_device: int(row, 30)?,
        cloud_batch_publish: real(row, 31)?,
        tz_name: text(row, 32)?,
    })
}

/// Where the columns of `versions::columns` start in the asset query.
pub(super) const VERSION_COLUMNS: usize = 33;

/// The columns of the asset query, in `RawAsset` order then the versions'
/// (from `VERSION_COLUMNS` on), the joins they need, and whether the
/// description and the unmanaged adjustment are joined; a column this
/// version lacks is `NULL`.
pub(super) fn asset_columns(schema: &Schema) -> (Vec<String>, String, (bool, bool)) {
    let a = &schema.asset;
    let b = &schema.attributes;
    let mut joins = String::new();
    let mut joined = (false, false);
    let description = match &schema.description {
        Some(d) if b.has("ZASSETDESCRIPTION") && d.has("ZLONGDESCRIPTION") => {
            joined.0 = true;
            joins.push_str(&format!(
                " LEFT JOIN {} AS d ON d.Z_PK = b.ZASSETDESCRIPTION",
                d.sql()
            ));
            "d.ZLONGDESCRIPTION".to_owned()
        }
        _ => "NULL".to_owned(),
    };
    let external_format = match &schema.unmanaged_adjustment {
        Some(u) if b.has("ZUNMANAGEDADJUSTMENT") && u.has("ZADJUSTMENTFORMATIDENTIFIER") => {
            joined.1 = true;
            joins.push_str(&format!(
                " LEFT JOIN {} AS u ON u.Z_PK = b.ZUNMANAGEDADJUSTMENT",
                u.sql()
            ));
            "u.ZADJUSTMENTFORMATIDENTIFIER".to_owned()
        }
        _ => "NULL".to_owned(),
    };
    let mut columns = vec![
        "a.Z_PK".to_owned(),
        "a.ZUUID".to_owned(),
        a.col("a", &["ZFILENAME"]),
        a.col("a", &["ZDIRECTORY"]),
        b.col("b", &["ZORIGINALFILENAME"]),
        a.col("a", &["ZDATECREATED"]),
        b.col("b", &["ZTIMEZONEOFFSET"]),
        a.col("a", &["ZADDEDDATE"]),
        a.col("a", &["ZADJUSTMENTTIMESTAMP"]),
        a.col("a", &["ZMODIFICATIONDATE"]),
        b.col("b", &["ZTITLE"]),
        description,
        a.col("a", &["ZFAVORITE"]),
        a.col("a", &["ZHIDDEN"]),
        a.col("a", &["ZTRASHEDSTATE"]),
        a.col("a", &["ZKIND"]),
        a.col("a", &["ZKINDSUBTYPE"]),
        a.col("a", &["ZUNIFORMTYPEIDENTIFIER"]),
        b.col("b", &["ZORIGINALFILESIZE"]),
        a.col("a", &["ZWIDTH"]),
        a.col("a", &["ZHEIGHT"]),
        a.col("a", &["ZLATITUDE"]),
        a.col("a", &["ZLONGITUDE"]),
        a.col("a", &["ZAVALANCHEUUID"]),
        a.col("a", &["ZAVALANCHEPICKTYPE"]),
        a.col("a", &["ZSAVEDASSETTYPE"]),
        a.col("a", &["ZADJUSTMENTSSTATE", "ZHASADJUSTMENTS"]),
        external_format,
        a.col("a", &["ZDEPTHTYPE", "ZDEPTHSTATES"]),
        a.col("a", &["ZHDRTYPE", "ZCUSTOMRENDEREDVALUE"]),
        b.col("b", &["ZCAMERACAPTUREDEVICE"]),
        a.col("a", &["ZCLOUDBATCHPUBLISHDATE"]),
        b.col("b", &["ZTIMEZONENAME"]),
    ];
    debug_assert_eq!(columns.len(), VERSION_COLUMNS);
    columns.extend(versions::columns(schema, joined.0, joined.1));
    (columns, joins, joined)
}

/// 9999-12-31 as Core Data seconds.
const LAST_VALID_DATE: f64 = 252_423_993_599.0;

/// Runs `sql` returning (asset pk, text) pairs and groups them by asset.
fn group_text(conn: &Connection, sql: &str) -> rusqlite::Result<HashMap<i64, Vec<String>>> {
    let mut stmt = conn.prepare(sql)?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        if let (Some(pk), Some(value)) = (int(row, 0)?, free_text(row, 1)?) {
            // Most assets have one or two: a first capacity of 4 (Vec's
            // own) would hold 100k assets' worth of empty slots.
            out.entry(pk)
                .or_insert_with(|| Vec::with_capacity(1))
                .push(value);
        }
    }
    Ok(out)
}

/// `AND <column> <scope>` when the read is restricted to selected assets.
fn within(column: &str, scope: Option<&str>) -> String {
    scope.map_or_else(String::new, |s| format!(" AND {column} {s}"))
}

pub(super) fn read_keywords(
    conn: &Connection,
    schema: &Schema,
    scope: Option<&str>,
) -> rusqlite::Result<HashMap<i64, Vec<String>>> {
    let (Some(join), Some(keyword)) = (&schema.keywords_join, &schema.keyword) else {
        return Ok(HashMap::new());
    };
    group_text(
        conn,
        &format!(
            "SELECT b.ZASSET, k.ZTITLE FROM {} AS j \
             JOIN {} AS k ON k.Z_PK = j.{} \
             JOIN {} AS b ON b.Z_PK = j.{} WHERE 1{}",
            join.sql(),
            keyword.sql(),
            ident(&join.right),
            schema.attributes.sql(),
            ident(&join.left),
            within("b.ZASSET", scope)
        ),
    )
}

pub(super) fn read_persons(
    conn: &Connection,
    schema: &Schema,
    scope: Option<&str>,
) -> rusqlite::Result<HashMap<i64, Vec<String>>> {
    let (Some(face), Some(person)) = (&schema.face, &schema.person) else {
        return Ok(HashMap::new());
    };
    let (Some(asset_col), Some(person_col)) = (
        face.first(&["ZASSETFORFACE", "ZASSET"]),
        face.first(&["ZPERSONFORFACE", "ZPERSON"]),
    ) else {
        return Ok(HashMap::new());
    };
    // A face of a person nobody named is `_UNKNOWN_`, as osxphotos says it.
    let name = person.col("p", &["ZFULLNAME"]);
    group_text(
        conn,
        &format!(
            "SELECT f.{asset_col}, COALESCE(NULLIF({name}, ''), '{UNKNOWN_PERSON}') \
             FROM {} AS f JOIN {} AS p ON p.Z_PK = f.{person_col} WHERE 1{}",
            face.sql(),
            person.sql(),
            within(&format!("f.{asset_col}"), scope)
        ),
    )
}

/// The name of a person Photos found but nobody named.
pub(crate) const UNKNOWN_PERSON: &str = "_UNKNOWN_";

/// Kinds of `ZGENERICALBUM` rows that are albums a user made or joined.
const USER_ALBUM: i64 = 2;
const SHARED_ALBUM: i64 = 1505;

pub(super) fn read_albums(
    conn: &Connection,
    schema: &Schema,
    scope: Option<&str>,
) -> rusqlite::Result<HashMap<i64, Vec<String>>> {
    let (Some(join), Some(album)) = (&schema.albums_join, &schema.album) else {
        return Ok(HashMap::new());
    };
    let trashed = if album.has("ZTRASHEDSTATE") {
        "AND g.ZTRASHEDSTATE = 0"
    } else {
        ""
    };
    let left = ident(&join.left);
    group_text(
        conn,
        &format!(
            "SELECT j.{left}, g.ZTITLE FROM {} AS j JOIN {} AS g ON g.Z_PK = j.{} \
             WHERE g.ZKIND IN ({USER_ALBUM}, {SHARED_ALBUM}) {trashed}{}",
            join.sql(),
            album.sql(),
            ident(&join.right),
            within(&format!("j.{left}"), scope)
        ),
    )
}

/// The resource rows of the selected assets, by asset; with `files_only`,
/// only those of the kinds `derive` looks at (`derive::FILE_SUBTYPES`): a
/// real library has five or more resource rows an asset (thumbnails,
/// renders) and a listing need not hold them. The versions hash every row.
/// With `rows`, only the resource rows whose own row numbers are in that
/// range (a part of the table, for readers on several threads).
pub(super) fn read_resources(
    conn: &Connection,
    schema: &Schema,
    scope: Option<&str>,
    files_only: bool,
    rows: Option<(i64, i64)>,
) -> rusqlite::Result<HashMap<i64, Vec<RawResource>>> {
    let Some(r) = &schema.resource else {
        return Ok(HashMap::new());
    };
    let (uti, uti_join) = match &schema.uti_table {
        Some(t) if r.has("ZUNIFORMTYPEIDENTIFIER") && t.has("ZIDENTIFIER") => (
            "t.ZIDENTIFIER",
            format!(
                " LEFT JOIN {} AS t ON t.Z_PK = r.ZUNIFORMTYPEIDENTIFIER",
                t.sql()
            ),
        ),
        _ => ("NULL", String::new()),
    };
    let sql = format!(
        "SELECT r.ZASSET, {}, {}, {uti} FROM {} AS r{uti_join} WHERE r.ZASSET IS NOT NULL{}",
        r.col("r", &["ZDATASTORESUBTYPE"]),
        r.col("r", &["ZLOCALAVAILABILITY"]),
        r.sql(),
        within("r.ZASSET", scope)
    );
    let sql = match rows {
        Some((first, last)) => format!("{sql} AND r.Z_PK BETWEEN {first} AND {last}"),
        None => sql,
    };

    let mut stmt = conn.prepare(&sql)?;
    let mut out: HashMap<i64, Vec<RawResource>> = HashMap::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let Some(pk) = int(row, 0)? else { continue };
        let subtype = int(row, 1)?;
        // Kept out by value as read (not in SQL), as `derive` compares it.
        if files_only && !subtype.is_some_and(|s| derive::FILE_SUBTYPES.contains(&s)) {
            continue;
        }
        out.entry(pk)
            .or_insert_with(|| Vec::with_capacity(1))
            .push(RawResource {
                subtype,
                local_availability: int(row, 2)?,
                uti: text(row, 3)?,
            });
    }
    Ok(out)
}
