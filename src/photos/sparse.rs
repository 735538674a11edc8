//! A copy of only the pages a listing reads: the b-trees of the tables the
//! reader reads (and their indexes), of the schema and of the few tables
//! the schema's discovery reads, the rest left as holes.
//!
//! A real `Photos.sqlite` is mostly analysis tables the reader never looks
//! at (scene prints, classifications, text recognition): at 100k assets
//! two thirds of a gigabyte. On a disk that cannot clone (anything but
//! APFS), copying them was the largest single cost of `assets --json`, and
//! removing the copy the next. This module walks the b-trees wanted from
//! their root pages, the way SQLite's file format lays them out (interior
//! pages, leaves, overflow chains), and copies each page it reaches, the
//! very bytes it parsed, to the same offset of the copy.
//!
//! What stays true (see `snapshot`, `integrity`): the copy is taken between
//! two fingerprints of the database and its WAL, as a whole copy is; the
//! WAL is copied whole, and a page SQLite reads from the WAL (the frames
//! its recovery believes: salts and checksums, up to the last commit) is
//! walked in that version, the others in the database file's.
//! SQLite checks each page it reads as before; a page the walk missed
//! would be a hole of zeros, which SQLite calls damaged (a b-tree page of
//! type 0, an overflow chain cut short), never a row. The walk never
//! guesses: anything it cannot parse (a page of an unknown type, a cell out
//! of bounds, an overflow chain of the wrong length, a page reached as two
//! different things) ends it with `Unwalkable`, and the caller copies the
//! whole database instead.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// Why the walk gave up: the caller copies the whole file instead, whose
/// own errors are the ones people see (the cause here shows in a test's
/// failure, through `Debug`).
#[derive(Debug)]
pub(super) enum Unwalkable {
    Io(#[allow(dead_code)] io::Error),
    /// Something the walk does not parse; the text says what.
    Format(#[allow(dead_code)] &'static str),
}

impl From<io::Error> for Unwalkable {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// One row of `sqlite_schema`: what the copy needs to find b-trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SchemaRow {
    pub(super) name: String,
    pub(super) table: String,
    /// 0 for a row without a b-tree (a virtual table, a view, a trigger).
    pub(super) root: u32,
    /// A virtual table (Photos has an R*Tree): SQLite reads its shadow
    /// tables (`NAME_node`, ...) as soon as a statement names it, even to
    /// list its columns.
    pub(super) is_virtual: bool,
}

/// What a page is reached as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A b-tree page (interior or leaf, table or index).
    Tree,
    /// A page of an overflow chain, with this many pages left in the chain
    /// (itself included).
    Overflow(u64),
}

/// Most contiguous pages read (and written) at once.
const RUN_PAGES: usize = 256;

/// A level of the walk with this many pages is copied on several threads.
const PARALLEL_PAGES: usize = 1024;

/// Threads at most (the copy shares one file's lock in the kernel).
const MAX_THREADS: usize = 4;

/// The copy being made: the database read, the WAL's versions of pages,
/// the copy written, and what was reached so far.
pub(super) struct SparseCopy {
    source: File,
    target: File,
    page_size: usize,
    usable: usize,
    /// Pages in the database file.
    pages: u64,
    /// The WAL copy and, by page number, where in it the version of the
    /// page SQLite reads is (the last committed frame of the page).
    wal: Option<(File, HashMap<u32, u64>)>,
    reached: HashMap<u32, Role>,
    /// Levels of at least this many pages are copied on several threads.
    parallel_from: usize,
}

impl SparseCopy {
    /// Starts a copy of `db` at `to` (created owner-only, as long as `db`,
    /// all holes). `wal` is the copy of the database's WAL, already taken.
    pub(super) fn new(db: &Path, wal: Option<&Path>, to: &Path) -> Result<Self, Unwalkable> {
        let source = File::open(db)?;
        let len = source.metadata()?.len();
        let mut header = [0u8; 100];
        source.read_exact_at(&mut header, 0)?;
        if &header[..16] != b"SQLite format 3\0" {
            return Err(Unwalkable::Format("not an SQLite 3 database"));
        }
        let page_size = match u16::from_be_bytes([header[16], header[17]]) {
            1 => 65536,
            n if n >= 512 && n.is_power_of_two() => usize::from(n),
            _ => return Err(Unwalkable::Format("page size")),
        };
        let usable = page_size - usize::from(header[20]);
        if usable < 480 || len % page_size as u64 != 0 {
            return Err(Unwalkable::Format("page size"));
        }
        let target = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(to)?;
        target.set_len(len)?;
        let wal = wal.map(|w| wal_frames(w, page_size)).transpose()?;
        let copy = Self {
            source,
            target,
            page_size,
            usable,
            pages: len / page_size as u64,
            wal,
            reached: HashMap::new(),
            parallel_from: PARALLEL_PAGES,
        };
        // SQLite reads the file's own first page (the header: page size,
        // WAL mode) before it looks at the WAL, which may hold a newer one.
        let mut first = vec![0u8; page_size];
        copy.source.read_exact_at(&mut first, 0)?;
        copy.target.write_all_at(&first, 0)?;
        if be32(&header, 52)? != 0 {
            copy.pointer_maps()?;
        }
        Ok(copy)
    }

    /// Copies the pointer-map pages of an auto-vacuum database (Photos'
    /// are): SQLite reads them to find the next page of an overflow chain.
    /// One page in `usable / 5 + 1`, from page 2 (the file format's
    /// "Pointer Map or Ptrmap Pages"), about 0.1% of the file.
    fn pointer_maps(&self) -> Result<(), Unwalkable> {
        let every = (self.usable / 5 + 1) as u64;
        // The page holding the lock byte (at 1 GiB) is never used; a map
        // that would fall on it comes right after.
        let lock_page = (1u64 << 30) / self.page_size as u64 + 1;
        let mut buf = vec![0u8; self.page_size];
        let mut map = 2;
        while map <= self.pages {
            let page = if map == lock_page { map + 1 } else { map };
            if page <= self.pages {
                let offset = (page - 1) * self.page_size as u64;
                self.source.read_exact_at(&mut buf, offset)?;
                self.target.write_all_at(&buf, offset)?;
            }
            map += every;
        }
        Ok(())
    }

    /// Copies the schema's b-tree and returns its rows.
    pub(super) fn schema(&mut self) -> Result<Vec<SchemaRow>, Unwalkable> {
        let mut cells = Vec::new();
        self.walk(&[1], Some(&mut cells))?;
        let mut rows = Vec::new();
        for cell in cells {
            if let Some(row) = schema_row(&cell)? {
                if !rows.contains(&row) {
                    rows.push(row);
                }
            }
        }
        Ok(rows)
    }

    /// Copies the b-trees rooted at `roots` (and what they reach).
    pub(super) fn trees(&mut self, roots: &[u32]) -> Result<(), Unwalkable> {
        self.walk(roots, None)
    }

    /// Breadth first, a level at a time in page order, so that runs of
    /// neighbouring pages are read and written at once. With `cells`, the
    /// local payloads of table leaf cells are collected (for the schema).
    fn walk(
        &mut self,
        roots: &[u32],
        mut cells: Option<&mut Vec<Vec<u8>>>,
    ) -> Result<(), Unwalkable> {
        let mut level: Vec<(u32, Role)> = roots.iter().map(|&r| (r, Role::Tree)).collect();
        while !level.is_empty() {
            level.sort_unstable_by_key(|&(page, _)| page);
            let mut fresh = Vec::with_capacity(level.len());
            for (page, role) in level.drain(..) {
                if page == 0 {
                    return Err(Unwalkable::Format("page number 0"));
                }
                match self.reached.get(&page) {
                    Some(&seen) if same_kind(seen, role) => {}
                    Some(_) => return Err(Unwalkable::Format("a page reached as two things")),
                    None => {
                        self.reached.insert(page, role);
                        fresh.push((page, role));
                    }
                }
            }
            level = match cells.as_deref_mut() {
                Some(cells) => self.copy_pages(&fresh, Some(cells))?,
                None if fresh.len() >= self.parallel_from => self.copy_pages_in_parts(&fresh)?,
                None => self.copy_pages(&fresh, None)?,
            };
        }
        Ok(())
    }

    /// `copy_pages` of consecutive parts of `pages` on as many threads as
    /// there are cores (up to `MAX_THREADS`): the leaves of a large table
    /// are most of the work, and they come in one level.
    fn copy_pages_in_parts(&self, pages: &[(u32, Role)]) -> Result<Vec<(u32, Role)>, Unwalkable> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS));
        let part = pages.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let parts: Vec<_> = pages
                .chunks(part)
                .map(|pages| scope.spawn(move || self.copy_pages(pages, None)))
                .collect();
            let mut next = Vec::new();
            for part in parts {
                let found = part
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
                next.extend(found);
            }
            Ok(next)
        })
    }

    /// Copies `pages` (in page order, none seen before), a run of
    /// neighbours at a time, and returns what they lead to.
    fn copy_pages(
        &self,
        pages: &[(u32, Role)],
        mut cells: Option<&mut Vec<Vec<u8>>>,
    ) -> Result<Vec<(u32, Role)>, Unwalkable> {
        let mut next = Vec::new();
        let mut i = 0;
        while i < pages.len() {
            let first = pages[i].0;
            if self.in_wal(first) || u64::from(first) > self.pages {
                // SQLite reads this page from the WAL (or nowhere, and
                // says the database is damaged when it tries).
                self.parse_wal_version(pages[i], &mut next, cells.as_deref_mut())?;
                i += 1;
                continue;
            }
            let mut end = i + 1;
            while end < pages.len()
                && end - i < RUN_PAGES
                && pages[end].0 == pages[end - 1].0 + 1
                && u64::from(pages[end].0) <= self.pages
                && !self.in_wal(pages[end].0)
            {
                end += 1;
            }
            let offset = (u64::from(first) - 1) * self.page_size as u64;
            let mut buf = vec![0u8; (end - i) * self.page_size];
            self.source.read_exact_at(&mut buf, offset)?;
            self.target.write_all_at(&buf, offset)?;
            for (k, &(page, role)) in pages[i..end].iter().enumerate() {
                let bytes = &buf[k * self.page_size..(k + 1) * self.page_size];
                self.parse(page, role, bytes, &mut next, cells.as_deref_mut())?;
            }
            i = end;
        }
        Ok(next)
    }

    /// Whether SQLite reads `page` from the WAL.
    fn in_wal(&self, page: u32) -> bool {
        self.wal
            .as_ref()
            .is_some_and(|(_, frames)| frames.contains_key(&page))
    }

    /// The children of the version of `page` the WAL holds, if it holds one.
    fn parse_wal_version(
        &self,
        (page, role): (u32, Role),
        next: &mut Vec<(u32, Role)>,
        cells: Option<&mut Vec<Vec<u8>>>,
    ) -> Result<(), Unwalkable> {
        let Some((wal, frames)) = &self.wal else {
            return Ok(());
        };
        let Some(&at) = frames.get(&page) else {
            return Ok(());
        };
        let mut bytes = vec![0u8; self.page_size];
        wal.read_exact_at(&mut bytes, at)?;
        self.parse(page, role, &bytes, next, cells)
    }

    /// What one version of a page leads to.
    fn parse(
        &self,
        page: u32,
        role: Role,
        bytes: &[u8],
        next: &mut Vec<(u32, Role)>,
        cells: Option<&mut Vec<Vec<u8>>>,
    ) -> Result<(), Unwalkable> {
        match role {
            Role::Overflow(left) => {
                let following = be32(bytes, 0)?;
                match (left, following) {
                    (1, 0) => Ok(()),
                    (1, _) | (_, 0) => Err(Unwalkable::Format("overflow chain length")),
                    (_, p) => {
                        next.push((p, Role::Overflow(left - 1)));
                        Ok(())
                    }
                }
            }
            Role::Tree => self.tree_page(page, &bytes[..self.usable], next, cells),
        }
    }

    /// The children and overflow chains of one b-tree page.
    fn tree_page(
        &self,
        page: u32,
        bytes: &[u8],
        next: &mut Vec<(u32, Role)>,
        mut cells: Option<&mut Vec<Vec<u8>>>,
    ) -> Result<(), Unwalkable> {
        let at = if page == 1 { 100 } else { 0 };
        let kind = *bytes.get(at).ok_or(Unwalkable::Format("page header"))?;
        let interior = match kind {
            0x02 | 0x05 => true,
            0x0a | 0x0d => false,
            _ => return Err(Unwalkable::Format("b-tree page type")),
        };
        let count = usize::from(be16(bytes, at + 3)?);
        let pointers = at + if interior { 12 } else { 8 };
        if interior {
            next.push((be32(bytes, at + 8)?, Role::Tree));
        }
        for c in 0..count {
            let cell = usize::from(be16(bytes, pointers + 2 * c)?);
            if cell < pointers + 2 * count || cell >= bytes.len() {
                return Err(Unwalkable::Format("cell offset"));
            }
            let mut pos = cell;
            if interior {
                next.push((be32(bytes, pos)?, Role::Tree));
                pos += 4;
            }
            if kind == 0x05 {
                continue; // A table interior cell: child and key only.
            }
            let (payload, n) = varint(bytes, pos)?;
            pos += n;
            if kind == 0x0d {
                pos += varint(bytes, pos)?.1; // The row number.
            }
            let (local, spilled) = self.local_payload(payload, kind == 0x0d);
            let end = pos + local;
            if end > bytes.len() {
                return Err(Unwalkable::Format("cell past the page"));
            }
            if let Some(cells) = cells.as_deref_mut() {
                if kind == 0x0d {
                    cells.push(bytes[pos..end].to_vec());
                }
            }
            if spilled > 0 {
                next.push((be32(bytes, end)?, Role::Overflow(spilled)));
            }
        }
        Ok(())
    }

    /// Bytes of a payload of `size` kept on its b-tree page, and how many
    /// overflow pages hold the rest (SQLite's file format, "Cell Payload
    /// Overflow Pages").
    fn local_payload(&self, size: u64, table_leaf: bool) -> (usize, u64) {
        let u = self.usable as u64;
        let max = if table_leaf {
            u - 35
        } else {
            (u - 12) * 64 / 255 - 23
        };
        if size <= max {
            return (size as usize, 0);
        }
        let min = (u - 12) * 32 / 255 - 23;
        let k = min + (size - min) % (u - 4);
        let local = if k <= max { k } else { min };
        (local as usize, (size - local).div_ceil(u - 4))
    }
}

/// Two roles are the same kind of page. A page reached again (by another
/// version of the page that leads to it) was walked the first time.
fn same_kind(a: Role, b: Role) -> bool {
    matches!(
        (a, b),
        (Role::Tree, Role::Tree) | (Role::Overflow(_), Role::Overflow(_))
    )
}

/// Where the version of each page SQLite reads is in the WAL copy at
/// `path`: the last frame of the page in the frames SQLite's recovery
/// believes (the file format's "WAL File Format": salts and a running
/// checksum that match, up to the last commit frame). A WAL whose header
/// is not valid is one SQLite ignores: no page is read from it.
fn wal_frames(path: &Path, page_size: usize) -> Result<(File, HashMap<u32, u64>), Unwalkable> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut committed: HashMap<u32, u64> = HashMap::new();
    let mut header = [0u8; 32];
    if len < 32 {
        return Ok((file, committed));
    }
    file.read_exact_at(&mut header, 0)?;
    let big_endian = match be32(&header, 0)? {
        0x377f_0682 => false,
        0x377f_0683 => true,
        _ => return Ok((file, committed)),
    };
    let mut sum = checksum(big_endian, (0, 0), &header[..24]);
    if sum != (be32(&header, 24)?, be32(&header, 28)?) {
        return Ok((file, committed));
    }
    if be32(&header, 4)? != 3_007_000 || be32(&header, 8)? as usize != page_size {
        return Err(Unwalkable::Format("WAL version or page size"));
    }
    let mut pending: HashMap<u32, u64> = HashMap::new();
    let mut frame = vec![0u8; 24 + page_size];
    let mut at = 32;
    while at + frame.len() as u64 <= len {
        file.read_exact_at(&mut frame, at)?;
        let page = be32(&frame, 0)?;
        if page == 0 || frame[8..16] != header[16..24] {
            break;
        }
        sum = checksum(big_endian, sum, &frame[..8]);
        sum = checksum(big_endian, sum, &frame[24..]);
        if sum != (be32(&frame, 16)?, be32(&frame, 20)?) {
            break;
        }
        pending.insert(page, at + 24);
        if be32(&frame, 4)? != 0 {
            committed.extend(pending.drain());
        }
        at += frame.len() as u64;
    }
    Ok((file, committed))
}

/// The WAL's running checksum of `bytes` (a multiple of 8 long), from `sum`.
fn checksum(big_endian: bool, (mut s0, mut s1): (u32, u32), bytes: &[u8]) -> (u32, u32) {
    let word = |b: &[u8]| {
        let b = [b[0], b[1], b[2], b[3]];
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    for pair in bytes.chunks_exact(8) {
        s0 = s0.wrapping_add(word(&pair[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&pair[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

/// The name, table and root page of a `sqlite_schema` row (`type`, `name`,
/// `tbl_name`, `rootpage`, `sql`), from its record's local bytes; `None` for a
/// view, a trigger.
fn schema_row(record: &[u8]) -> Result<Option<SchemaRow>, Unwalkable> {
    let (header, mut pos) = varint(record, 0)?;
    let header = usize::try_from(header).map_err(|_| Unwalkable::Format("record header"))?;
    let mut types = Vec::with_capacity(5);
    while pos < header && types.len() < 4 {
        let (t, n) = varint(record, pos)?;
        types.push(t);
        pos += n;
    }
    if types.len() < 4 {
        return Err(Unwalkable::Format("schema row"));
    }
    let mut at = header;
    let mut values = Vec::with_capacity(4);
    for &t in &types {
        let len = match t {
            0 | 8 | 9 => 0,
            1..=4 => t as usize,
            5 => 6,
            6 | 7 => 8,
            n if n >= 12 => ((n - 12) / 2) as usize,
            _ => return Err(Unwalkable::Format("schema row")),
        };
        let bytes = record
            .get(at..at + len)
            .ok_or(Unwalkable::Format("schema row past its local bytes"))?;
        values.push((t, bytes));
        at += len;
    }
    let text = |(t, b): (u64, &[u8])| {
        (t >= 13 && t % 2 == 1).then(|| String::from_utf8_lossy(b).into_owned())
    };
    let root = match values[3] {
        (0 | 8, _) => 0,
        (9, _) => 1,
        (1..=6, b) => {
            let mut n: i64 = if b[0] & 0x80 != 0 { -1 } else { 0 };
            for &byte in b {
                n = (n << 8) | i64::from(byte);
            }
            u32::try_from(n).map_err(|_| Unwalkable::Format("root page"))?
        }
        _ => return Err(Unwalkable::Format("root page")),
    };
    let is_table = text(values[0]).is_some_and(|t| t == "table");
    match (text(values[1]), text(values[2])) {
        (Some(name), Some(table)) if root > 0 || is_table => Ok(Some(SchemaRow {
            name,
            table,
            root,
            is_virtual: root == 0,
        })),
        (Some(_), Some(_)) => Ok(None),
        _ => Err(Unwalkable::Format("schema row")),
    }
}

fn be16(b: &[u8], at: usize) -> Result<u16, Unwalkable> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))
        .ok_or(Unwalkable::Format("past the page"))
}

fn be32(b: &[u8], at: usize) -> Result<u32, Unwalkable> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(Unwalkable::Format("past the page"))
}

/// SQLite's varint at `at`: its value and length (1 to 9 bytes).
fn varint(b: &[u8], at: usize) -> Result<(u64, usize), Unwalkable> {
    let mut value = 0u64;
    for i in 0..9 {
        let byte = *b.get(at + i).ok_or(Unwalkable::Format("past the page"))?;
        if i == 8 {
            return Ok(((value << 8) | u64::from(byte), 9));
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    unreachable!("the loop returns by its ninth byte")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use rusqlite::Connection;

    use super::*;
    use crate::photos::snapshot::wal_path;

    /// Pages of the named b-trees (overflow pages included), as SQLite's
    /// `dbstat` sees them in the database at `db` (with its WAL).
    fn dbstat(db: &Path, names: &[&str]) -> BTreeSet<u32> {
        let conn = Connection::open(db).unwrap();
        let mut stmt = conn.prepare("SELECT name, pageno FROM dbstat").unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))
            .unwrap();
        rows.map(Result::unwrap)
            .filter(|(n, _)| names.contains(&n.as_str()))
            .map(|(_, p)| p)
            .collect()
    }

    /// Two tables and an index written in turns (their pages interleave),
    /// rows from a few bytes to many pages, keys long enough to spill out
    /// of index pages, and a table nobody asks for. With `wal`, the last
    /// writes stay in the WAL (no checkpoint).
    fn database(dir: &Path, wal: bool) -> PathBuf {
        let db = dir.join("t.sqlite");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            "PRAGMA page_size = 1024; PRAGMA auto_vacuum = INCREMENTAL;
             CREATE TABLE wanted (id INTEGER PRIMARY KEY, body BLOB, name TEXT);
             CREATE INDEX wanted_name ON wanted (name);
             CREATE TABLE other (id INTEGER PRIMARY KEY, body BLOB);
             CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT);",
        )
        .unwrap();
        let write = |from: i64, to: i64| {
            for i in from..to {
                let len = [3, 900, 1_000, 1_100, 5_000, 40_000][(i % 6) as usize];
                let name = "n".repeat([5, 300, 2_000][(i % 3) as usize]) + &i.to_string();
                conn.execute(
                    "INSERT INTO wanted VALUES (?1, zeroblob(?2), ?3)",
                    rusqlite::params![i, len, name],
                )
                .unwrap();
                conn.execute("INSERT INTO other VALUES (?1, zeroblob(3000))", [i])
                    .unwrap();
                conn.execute(
                    "INSERT INTO names VALUES (?1, ?2)",
                    rusqlite::params![i, name],
                )
                .unwrap();
            }
        };
        write(0, 300);
        if wal {
            conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;")
                .unwrap();
            write(300, 400);
            conn.execute_batch("DELETE FROM wanted WHERE id % 7 = 0; UPDATE names SET name = 'x'")
                .unwrap();
        }
        // Left open: the WAL stays as Photos leaves it while it runs.
        std::mem::forget(conn);
        db
    }

    /// The copy of `names` from `db` (with its WAL), every level of the walk
    /// in parts on several threads when `parts`.
    fn copy_of(db: &Path, wal: bool, to: &Path, names: &[&str], parts: bool) -> SparseCopy {
        let wal_copy = wal_path(to);
        if wal {
            fs::copy(wal_path(db), &wal_copy).unwrap();
        }
        let mut copy = SparseCopy::new(db, wal.then_some(wal_copy.as_path()), to).unwrap();
        if parts {
            copy.parallel_from = 2;
        }
        let rows = copy.schema().unwrap();
        let roots: Vec<u32> = rows
            .iter()
            .filter(|r| names.contains(&r.table.as_str()) && r.root > 0)
            .map(|r| r.root)
            .collect();
        assert!(!roots.is_empty());
        copy.trees(&roots).unwrap();
        copy
    }

    use std::fs;

    /// Without a WAL, the walk (every level in parts on several threads)
    /// reaches exactly the pages `dbstat` gives for the schema, the tables
    /// asked for and their indexes, and nothing of the rest: the copy answers the same queries as the database, checks
    /// clean, and a table left out is an error when read, never rows.
    #[test]
    fn the_walk_copies_exactly_the_pages_of_the_trees_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path(), false);
        let to = dir.path().join("copy.sqlite");
        let copy = copy_of(&db, false, &to, &["wanted", "names"], true);
        let reached: BTreeSet<u32> = copy.reached.keys().copied().collect();
        let wanted = dbstat(&db, &["sqlite_schema", "wanted", "wanted_name", "names"]);
        assert_eq!(reached, wanted);
        assert!(!dbstat(&db, &["other"]).is_empty());
        drop(copy);

        let sum = "SELECT count(*), sum(length(body)), group_concat(name) FROM wanted";
        let answer = |path: &Path, sql: &str| {
            Connection::open(path).unwrap().query_row(sql, [], |r| {
                Ok(format!(
                    "{:?}{:?}{:?}",
                    r.get_ref(0)?,
                    r.get_ref(1)?,
                    r.get_ref(2)?
                ))
            })
        };
        let by_index = "SELECT count(*), max(name), min(name) FROM wanted INDEXED BY wanted_name \
                        WHERE name > 'n'";
        for sql in [sum, by_index] {
            assert_eq!(
                answer(&to, sql).unwrap(),
                answer(&db, sql).unwrap(),
                "{sql}"
            );
        }
        let check: String = Connection::open(&to)
            .unwrap()
            .query_row("PRAGMA quick_check(wanted)", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let left_out = answer(&to, "SELECT count(*), sum(length(body)), 0 FROM other");
        assert!(left_out.is_err(), "{left_out:?}");
    }

    /// With writes in the WAL (rows added, deleted, changed, pages split),
    /// the walk reaches the pages SQLite reads, in the version it reads
    /// (the WAL's last committed one): the copy with its WAL answers as the
    /// database with its own.
    #[test]
    fn pages_the_wal_changed_are_walked_in_the_version_sqlite_reads() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path(), true);
        assert!(fs::metadata(wal_path(&db)).unwrap().len() > 100_000);
        let to = dir.path().join("copy.sqlite");
        let copy = copy_of(&db, true, &to, &["wanted", "names"], false);
        let reached: BTreeSet<u32> = copy.reached.keys().copied().collect();
        let wanted = dbstat(&db, &["sqlite_schema", "wanted", "wanted_name", "names"]);
        assert!(
            wanted.is_subset(&reached),
            "{:?}",
            wanted.difference(&reached)
        );
        drop(copy);
        let all = "SELECT count(*) || ':' || sum(length(body)) || ':' || \
                   (SELECT group_concat(name) FROM names) || group_concat(name) FROM wanted";
        let answer = |path: &Path| {
            Connection::open(path)
                .unwrap()
                .query_row(all, [], |r| r.get::<_, String>(0))
                .unwrap()
        };
        assert_eq!(answer(&to), answer(&db));
    }

    /// A library of Apple's schema and realistic size, its last writes in
    /// the WAL: the listing from the copy of the pages read is the listing
    /// from a whole copy checked whole, asset for asset, and the copy
    /// holds a fraction of the file (the analysis tables are holes that
    /// read as errors).
    #[test]
    fn a_listing_from_the_pages_read_is_the_listing_from_a_whole_copy() {
        use crate::photos::{Library, PhotosError, Selection};
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("Sparse.photoslibrary");
        synthetic::SyntheticLibrary::new(synthetic::Flavor::Modern)
            .random(1_500, 5, 2020..=2024)
            .realistic_size(true)
            .write(&root)
            .unwrap();
        let db = root.join("database/Photos.sqlite");
        assert!(fs::metadata(wal_path(&db)).unwrap().len() > 0);
        let all = Selection {
            all: true,
            ..Selection::default()
        };
        let list = |lib: &Library| {
            let mut out = Vec::new();
            lib.for_each_asset(&all, |a| {
                out.push(a);
                Ok::<(), PhotosError>(())
            })
            .unwrap();
            out
        };
        let whole = Library::open(&root).unwrap();
        let sparse = Library::open_for_listing(&root).unwrap();
        let expected = list(&whole);
        assert!(expected.len() >= 1_500, "{}", expected.len());
        assert!(list(&sparse) == expected);

        let copy = fs::metadata(sparse.snapshot.path()).unwrap();
        assert_eq!(copy.len(), fs::metadata(&db).unwrap().len());
        assert!(
            copy.blocks() * 512 < copy.len() / 2,
            "{} of {}",
            copy.blocks() * 512,
            copy.len()
        );
        let unread = sparse
            .snapshot
            .conn
            .query_row("SELECT count(*) FROM ZSCENEPRINT", [], |r| {
                r.get::<_, i64>(0)
            });
        assert!(unread.is_err(), "{unread:?}");
    }

    /// Photos writing while the pages are copied (here, when the copy asks
    /// which tables are read) changes the fingerprint: the copy is thrown
    /// away and taken again, as a whole copy is, and the one read has the
    /// write.
    #[test]
    fn a_write_during_the_copy_of_the_pages_read_takes_it_again() {
        use crate::photos::snapshot::take_read_pages;
        use crate::photos::PhotosError;
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path(), true);
        let asked = std::cell::Cell::new(0);
        let tables = |_: &Connection| {
            asked.set(asked.get() + 1);
            if asked.get() == 1 {
                Connection::open(&db)
                    .unwrap()
                    .execute("INSERT INTO names VALUES (100000, 'late')", [])
                    .unwrap();
            }
            Ok(vec!["wanted".to_owned(), "names".to_owned()])
        };
        let late = |conn: &Connection| {
            conn.query_row("SELECT count(*) FROM names WHERE name = 'late'", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(|e| PhotosError::Corrupt {
                path: db.clone(),
                detail: e.to_string(),
            })
        };
        let (_copy, found) = take_read_pages(&db, &tables, late).unwrap();
        assert_eq!(asked.get(), 2);
        assert_eq!(found, 1);
    }

    /// A file the walk cannot parse is refused, for a whole copy instead.
    #[test]
    fn a_page_of_an_unknown_kind_ends_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path(), false);
        let mut bytes = fs::read(&db).unwrap();
        let rows = SparseCopy::new(&db, None, &dir.path().join("c"))
            .unwrap()
            .schema()
            .unwrap();
        let root = rows.iter().find(|r| r.name == "wanted").unwrap().root as usize;
        bytes[(root - 1) * 1024] = 0x07; // 1 KiB pages
        fs::write(&db, &bytes).unwrap();
        let mut copy = SparseCopy::new(&db, None, &dir.path().join("c")).unwrap();
        let roots: Vec<u32> = copy.schema().unwrap().iter().map(|r| r.root).collect();
        assert!(!roots.contains(&0), "{roots:?}: no virtual table here");
        let err = copy.trees(&roots).unwrap_err();
        assert!(
            matches!(err, Unwalkable::Format("b-tree page type")),
            "{err:?}"
        );
        fs::write(&db, b"not a database at all, not even close to one......").unwrap();
        assert!(SparseCopy::new(&db, None, &dir.path().join("d")).is_err());
    }
}
