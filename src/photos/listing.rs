//! The whole library on every core, for listings (`assets --json`): the
//! asset rows are split into chunks of row numbers, each worker thread reads
//! its chunks on its own connection to the copy, derives the assets and
//! hands each chunk to the caller's `make` (which serializes it, say), and
//! the results come back on the calling thread in row order. A listing of
//! 100k assets on one thread spent most of its time reading, deriving and
//! serializing one asset after the other while the other cores idled.
//!
//! What comes out is what `query::for_each` gives, asset for asset and in
//! the same order (`tests/listing_chunks.rs`): the same SQL per row, the
//! same narrow tables (read once, before the workers start, the resources
//! in parts on several connections), the same rules (`derive`). Memory stays
//! flat: a worker is at most `CHUNKS_AHEAD` chunks ahead of the caller, each
//! worker's page cache is small, and the folders' listings are shared.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;

use rusqlite::{Connection, OptionalExtension, Row};

use super::derive::{self, RawResource};
use super::query::{
    asset_columns, raw_asset, read_albums, read_keywords, read_persons, read_resources, sorted,
    sorted_keep_repeats, VERSION_COLUMNS,
};
use super::schema::Schema;
use super::{Asset, PhotosError};

/// Asset row numbers per chunk: small enough that the chunks in flight hold
/// a few megabytes, large enough that a chunk's query and hand-over cost
/// nothing next to its rows.
const CHUNK_PKS: i64 = 1024;

/// At most this many chunks, whatever the spread of the row numbers (a
/// damaged or hostile database may have `Z_PK`s far apart): the chunks
/// widen instead.
const MAX_CHUNKS: i128 = 4096;

/// Chunks a worker may have done before the chunks before them are taken.
const CHUNKS_AHEAD: usize = 1;

/// The page cache of each extra connection (KiB): scans in row order and
/// index lookups, which a small cache serves as well as a large one.
const WORKER_CACHE_KIB: i64 = 2048;

/// Why `for_each_chunk` stopped.
pub(super) enum Stopped<E> {
    /// A read of the database failed.
    Sql(rusqlite::Error),
    /// A worker could not open its connection to the copy.
    Open(PhotosError),
    /// `make` or `take` said so.
    Caller(E),
}

/// Opens another connection to the copy (`snapshot::connect`).
pub(super) type Connect<'a> = &'a (dyn Fn() -> Result<Connection, PhotosError> + Sync);

/// What the caller does with each chunk of assets, on the worker's thread.
pub(super) type Make<'a, T, E> = &'a (dyn Fn(Vec<Asset>) -> Result<T, E> + Sync);

/// Whether `table`'s `Z_PK` is its row number (an `INTEGER PRIMARY KEY` of
/// a table with row numbers), as in every Photos database: only then do
/// ranges of `Z_PK` hold every row. A database built otherwise (damaged or
/// hostile: a `Z_PK` that may be NULL or text) is read on one thread.
pub(super) fn by_row_numbers(conn: &Connection, table: &str) -> rusqlite::Result<bool> {
    let without_rowid: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |row| row.get(0),
        )
        .optional()?
        .flatten();
    if without_rowid.is_none_or(|sql| sql.to_ascii_uppercase().contains("WITHOUT ROWID")) {
        return Ok(false);
    }
    let mut stmt = conn.prepare("SELECT name, type, pk FROM pragma_table_info(?1)")?;
    let keys = stmt
        .query_map([table], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let keys: Vec<_> = keys.into_iter().filter(|(_, _, pk)| *pk > 0).collect();
    Ok(matches!(&keys[..], [(name, kind, _)]
        if name == "Z_PK" && kind.eq_ignore_ascii_case("INTEGER")))
}

/// Reads every asset (`all`, or what Photos shows) on `workers` threads and
/// hands each chunk's result of `make` to `take`, in row order, on this
/// thread. `conn` reads the narrow tables; `connect` opens the workers'
/// connections.
#[allow(clippy::too_many_arguments)] // the walk's seams, each used once
pub(super) fn for_each_chunk<T: Send, E: Send>(
    conn: &Connection,
    connect: Connect,
    schema: &Schema,
    root: &Path,
    all: bool,
    workers: usize,
    make: Make<T, E>,
    take: &mut dyn FnMut(T) -> Result<(), E>,
) -> Result<(), Stopped<E>> {
    let workers = workers.max(1);
    let maps = Maps::read(conn, connect, schema, workers)?;
    // The pages those reads cached are not read again: their memory goes
    // to the workers' caches.
    conn.execute_batch("PRAGMA shrink_memory")
        .map_err(Stopped::Sql)?;
    let chunks = chunks(conn, &schema.asset.sql()).map_err(Stopped::Sql)?;
    if chunks.is_empty() {
        return Ok(());
    }
    let (mut columns, joins, _) = asset_columns(schema);
    // A listing has no use for the versions' columns.
    columns.truncate(VERSION_COLUMNS);
    let walk = Walk {
        sql: format!(
            "SELECT {} FROM {} AS a LEFT JOIN {} AS b ON b.ZASSET = a.Z_PK{joins} \
             WHERE a.Z_PK BETWEEN ?1 AND ?2 ORDER BY a.Z_PK",
            columns.join(", "),
            schema.asset.sql(),
            schema.attributes.sql(),
        ),
        maps,
        shared_root: derive::shared_root(schema.model_version),
        all,
        chunks,
    };
    let disk = derive::Disk::new(root);
    std::thread::scope(|scope| {
        let mut done = Vec::new();
        for w in 0..workers {
            let (tx, rx) = mpsc::sync_channel(CHUNKS_AHEAD);
            done.push(rx);
            let (walk, mut disk) = (&walk, disk.sharing());
            scope.spawn(move || {
                if let Err(e) = walk.worker(w, workers, connect, make, &mut disk, &tx) {
                    let _ = tx.send(Err(e));
                }
            });
        }
        for i in 0..walk.chunks.len() {
            match done[i % workers].recv() {
                Ok(Ok(result)) => take(result).map_err(Stopped::Caller)?,
                Ok(Err(e)) => return Err(e),
                // A worker that ended without its chunk panicked: the
                // scope passes the panic on when it joins.
                Err(_) => break,
            }
        }
        Ok(())
    })
}

/// What every worker reads from.
struct Walk {
    /// The asset query, for a range of row numbers.
    sql: String,
    maps: Maps,
    shared_root: &'static str,
    all: bool,
    /// Ranges of row numbers, in order; worker `w` of `n` reads `w`, `w + n`, ...
    chunks: Vec<(i64, i64)>,
}

impl Walk {
    /// Worker `w` of `workers`: its chunks, in order, into `tx` until done
    /// or until the caller stops taking them.
    fn worker<T, E>(
        &self,
        w: usize,
        workers: usize,
        connect: Connect,
        make: Make<T, E>,
        disk: &mut derive::Disk,
        tx: &mpsc::SyncSender<Result<T, Stopped<E>>>,
    ) -> Result<(), Stopped<E>> {
        let conn = extra_connection(connect)?;
        let mut stmt = conn.prepare(&self.sql).map_err(Stopped::Sql)?;
        for &(first, last) in self.chunks.iter().skip(w).step_by(workers) {
            let mut assets = Vec::new();
            let mut rows = stmt.query([first, last]).map_err(Stopped::Sql)?;
            while let Some(row) = rows.next().map_err(Stopped::Sql)? {
                let asset = self.maps.asset(row, self.shared_root, disk)?;
                if self.all || derive::shown_by_photos(&asset) {
                    assets.push(asset);
                }
            }
            let result = make(assets).map_err(Stopped::Caller)?;
            if tx.send(Ok(result)).is_err() {
                return Ok(()); // The caller stopped.
            }
        }
        Ok(())
    }
}

/// The first and last row numbers of `table` (`None` when empty).
fn row_range(conn: &Connection, table: &str) -> rusqlite::Result<Option<(i64, i64)>> {
    let (first, last): (Option<i64>, Option<i64>) = conn.query_row(
        &format!("SELECT MIN(Z_PK), MAX(Z_PK) FROM {table}"),
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(first.zip(last))
}

/// `CHUNK_PKS`-wide ranges covering the asset table's row numbers (wider
/// when there would be more than `MAX_CHUNKS`).
fn chunks(conn: &Connection, table: &str) -> rusqlite::Result<Vec<(i64, i64)>> {
    Ok(
        row_range(conn, table)?.map_or_else(Vec::new, |(first, last)| {
            let span = i128::from(last) - i128::from(first) + 1;
            let width = i128::from(CHUNK_PKS).max((span + MAX_CHUNKS - 1) / MAX_CHUNKS);
            split(first, last, width)
        }),
    )
}

/// `first..=last` in consecutive ranges `width` wide (the last one shorter).
fn split(first: i64, last: i64, width: i128) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut lo = i128::from(first);
    while lo <= i128::from(last) {
        let hi = (lo + width - 1).min(i128::from(last));
        // Both are within `first..=last`, so within i64.
        out.push((lo as i64, hi as i64));
        lo = hi + 1;
    }
    out
}

/// Another connection to the copy, with a small page cache, so memory stays
/// flat with more workers.
fn extra_connection<E>(connect: Connect) -> Result<Connection, Stopped<E>> {
    let conn = connect().map_err(Stopped::Open)?;
    conn.pragma_update(None, "cache_size", -WORKER_CACHE_KIB)
        .map_err(Stopped::Sql)?;
    Ok(conn)
}

/// The narrow tables, read once and shared by the workers: names by asset,
/// and of the resources only the kinds `derive` looks at (a real library
/// has five or more resource rows an asset: thumbnails, renders).
struct Maps {
    keywords: HashMap<i64, Vec<String>>,
    persons: HashMap<i64, Vec<String>>,
    albums: HashMap<i64, Vec<String>>,
    resources: HashMap<i64, Vec<RawResource>>,
}

impl Maps {
    /// The names on `conn` while `parts` more connections read the
    /// resources (the largest of these tables), a range of rows each.
    fn read<E: Send>(
        conn: &Connection,
        connect: Connect,
        schema: &Schema,
        parts: usize,
    ) -> Result<Self, Stopped<E>> {
        let split_resources = match &schema.resource {
            Some(r) if parts > 1 => by_row_numbers(conn, &r.name).map_err(Stopped::Sql)?,
            _ => false,
        };
        let ranges = match &schema.resource {
            Some(r) if split_resources => row_range(conn, &r.sql())
                .map_err(Stopped::Sql)?
                .map_or_else(Vec::new, |(first, last)| {
                    let span = i128::from(last) - i128::from(first) + 1;
                    split(first, last, (span + parts as i128 - 1) / parts as i128)
                }),
            _ => Vec::new(),
        };
        if ranges.is_empty() {
            return Ok(Self {
                keywords: read_keywords(conn, schema, None).map_err(Stopped::Sql)?,
                persons: read_persons(conn, schema, None).map_err(Stopped::Sql)?,
                albums: read_albums(conn, schema, None).map_err(Stopped::Sql)?,
                resources: read_resources(conn, schema, None, true, None).map_err(Stopped::Sql)?,
            });
        }
        std::thread::scope(|scope| {
            let readers: Vec<_> = ranges
                .into_iter()
                .map(|range| {
                    scope.spawn(move || {
                        let conn = extra_connection(connect)?;
                        read_resources(&conn, schema, None, true, Some(range)).map_err(Stopped::Sql)
                    })
                })
                .collect();
            let names = (|| {
                Ok((
                    read_keywords(conn, schema, None)?,
                    read_persons(conn, schema, None)?,
                    read_albums(conn, schema, None)?,
                ))
            })()
            .map_err(Stopped::Sql);
            // The parts in row order: each asset's rows stay in row order.
            let mut resources: HashMap<i64, Vec<RawResource>> = HashMap::new();
            for reader in readers {
                let part = reader
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
                if resources.is_empty() {
                    resources = part;
                } else {
                    for (pk, rows) in part {
                        resources.entry(pk).or_default().extend(rows);
                    }
                }
            }
            let (keywords, persons, albums) = names?;
            Ok(Self {
                keywords,
                persons,
                albums,
                resources,
            })
        })
    }

    /// The asset of one row of the asset query, as `query::for_each` builds it.
    fn asset<E>(
        &self,
        row: &Row,
        shared_root: &str,
        disk: &mut derive::Disk,
    ) -> Result<Asset, Stopped<E>> {
        let raw = raw_asset(row).map_err(Stopped::Sql)?;
        let pk = raw.pk;
        let names = |map: &HashMap<i64, Vec<String>>| map.get(&pk).cloned();
        Ok(derive::asset(
            raw,
            sorted(names(&self.keywords)),
            sorted_keep_repeats(names(&self.persons)),
            sorted(names(&self.albums)),
            self.resources.get(&pk).map_or(&[], Vec::as_slice),
            shared_root,
            disk,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_row_number_once_even_at_the_ends_of_i64() {
        for (first, last, width) in [
            (1, 100_000, 1024),
            (5, 5, 1024),
            (-3, 2, 2),
            (i64::MIN, i64::MAX, 1 << 60),
            (i64::MAX - 10, i64::MAX, 3),
        ] {
            let ranges = split(first, last, width);
            assert_eq!(ranges.first().map(|r| r.0), Some(first));
            assert_eq!(ranges.last().map(|r| r.1), Some(last));
            for pair in ranges.windows(2) {
                assert_eq!(i128::from(pair[0].1) + 1, i128::from(pair[1].0));
            }
            assert!(ranges.iter().all(|(lo, hi)| lo <= hi));
            assert!(ranges
                .iter()
                .all(|(lo, hi)| i128::from(*hi) - i128::from(*lo) < width));
        }
    }

    /// Photos' tables are split by row number; a table whose `Z_PK` is
    /// not its row number (it may hold NULL or text) is not.
    #[test]
    fn only_tables_whose_z_pk_is_the_row_number_are_split() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE ZASSET (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER);
             CREATE TABLE ZTEXT (Z_PK TEXT PRIMARY KEY);
             CREATE TABLE ZNOKEY (Z_PK INTEGER, ZUUID VARCHAR);
             CREATE TABLE ZTWO (Z_PK INTEGER, Z_ENT INTEGER, PRIMARY KEY (Z_PK, Z_ENT));
             CREATE TABLE ZNOROWID (Z_PK INTEGER PRIMARY KEY) WITHOUT ROWID;",
        )
        .unwrap();
        assert!(by_row_numbers(&conn, "ZASSET").unwrap());
        for table in ["ZTEXT", "ZNOKEY", "ZTWO", "ZNOROWID", "ZMISSING"] {
            assert!(!by_row_numbers(&conn, table).unwrap(), "{table}");
        }
    }

    /// Row numbers far apart (a hostile database) make wide chunks, never
    /// billions of them.
    #[test]
    fn the_number_of_chunks_is_bounded() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE ZASSET (Z_PK INTEGER PRIMARY KEY);
             INSERT INTO ZASSET VALUES (-9223372036854775808), (3), (9223372036854775807);",
        )
        .unwrap();
        let wide = chunks(&conn, "ZASSET").unwrap();
        assert!(wide.len() as i128 <= MAX_CHUNKS, "{}", wide.len());
        assert_eq!(wide[0].0, i64::MIN);
        assert_eq!(wide.last().unwrap().1, i64::MAX);
        conn.execute_batch("DELETE FROM ZASSET").unwrap();
        assert!(chunks(&conn, "ZASSET").unwrap().is_empty());
    }
}
