//! A consistent private copy of a library's database, so the reader never
//! touches the live one.
//!
//! Photos keeps most recent changes in `Photos.sqlite-wal`; opening the live
//! file would take locks Photos also takes and could write the `-shm`. Instead
//! the database and its WAL are copied into a private temp dir (`std::fs::copy`
//! clones on APFS and reflinks on Linux where the filesystem can), the copy is
//! opened and checked (whole with `PRAGMA quick_check`, or page by page as it
//! is read: see `integrity`), and the copy is retried when the files changed
//! while they were copied (Photos wrote or checkpointed mid-copy).
//!
//! A listing (`assets`) copies only the pages of the tables it reads
//! (`take_read_pages`, see `sparse`), between the same two fingerprints.
//!
//! The copy is read through SQLite's bounded page cache, not a memory map:
//! a run that reads a few thousand rows of a gigabyte database holds a few
//! megabytes, not the pages of every table it once touched.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::scratch::{self, Scratch};
use rusqlite::{Connection, OpenFlags};

use super::{kept, sparse, PhotosError};

/// Pauses before each new copy after one raced a write by Photos: Photos
/// writes in bursts, so waiting a little usually finds it idle.
const RETRY_PAUSES_MS: [u64; 6] = [0, 20, 50, 100, 250, 500];

/// How many copies may be found damaged before the database is called
/// damaged. A copy taken while the files did not change (same sizes and
/// times before and after) that is damaged shows damage in the files
/// themselves, not a race: copying a large database six times, on every
/// run, to learn that again would cost seconds for nothing. One more try
/// covers a write that left size and time as they were.
const DAMAGED_COPIES: usize = 2;

/// The open copy; a temp dir (and the copy in it) goes away on drop, a
/// kept copy stays for the next run.
pub struct Snapshot {
    pub conn: Connection,
    /// The copy `conn` reads, for more readers of it (`connect`).
    path: PathBuf,
    // Kept for its Drop: the directory lives as long as the connection.
    _dir: Option<Scratch>,
}

/// How many pages of the copy SQLite keeps in memory (negative: KiB), so
/// memory does not grow with the database.
const CACHE_KIB: i64 = 8 * 1024;

/// Size and modification time of the database and its WAL: cheap to take,
/// used to see a copy race and to skip reading an unchanged library.
/// The change times (`ctime`, which no writer can set back) are part of
/// the race check too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    pub(crate) db: (u64, Option<SystemTime>),
    pub(crate) wal: Option<(u64, Option<SystemTime>)>,
    /// Change times (ns) of the database and of its WAL.
    changed: (i64, Option<i64>),
}

fn ctime_ns(meta: &fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.ctime().saturating_mul(1_000_000_000) + meta.ctime_nsec()
}

impl Fingerprint {
    /// Also the gate before any copy: the database and its WAL must be
    /// regular files (after symlinks), since copying a FIFO blocks forever
    /// and a device such as `/dev/zero` never ends.
    pub(crate) fn of(db: &Path) -> Result<Self, PhotosError> {
        let meta = fs::metadata(db).map_err(|e| PhotosError::io(db, e))?;
        regular(db, &meta)?;
        let wal_path = wal_path(db);
        let wal = match fs::metadata(&wal_path) {
            Ok(m) => {
                regular(&wal_path, &m)?;
                Some(m)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(PhotosError::io(&wal_path, e)),
        };
        Ok(Self {
            db: (meta.len(), meta.modified().ok()),
            wal: wal.as_ref().map(|m| (m.len(), m.modified().ok())),
            changed: (ctime_ns(&meta), wal.as_ref().map(ctime_ns)),
        })
    }
}

/// `Ok` for a regular file, else an error naming the path and what it is.
pub(super) fn regular(path: &Path, meta: &fs::Metadata) -> Result<(), PhotosError> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    };
    Err(PhotosError::NotRegular {
        path: path.to_owned(),
        kind,
    })
}

/// The `-wal` file that belongs to a database file.
#[must_use]
pub fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Copies `db` (and its WAL) into a private temp dir and opens the copy,
/// checked whole with `PRAGMA quick_check`.
pub fn take(db: &Path) -> Result<Snapshot, PhotosError> {
    take_checked(db, |conn| quick_check(conn, db, &[])).map(|(snapshot, ())| snapshot)
}

/// Like `take`, with the check (and whatever it learns, such as the schema)
/// up to the caller. A copy whose check finds damage is taken again, in case
/// it raced a write by Photos; other errors end the attempt at once.
pub fn take_checked<T>(
    db: &Path,
    check: impl Fn(&Connection) -> Result<T, PhotosError>,
) -> Result<(Snapshot, T), PhotosError> {
    take_with(db, &plain_copy, None, check)
}

/// Like `take_checked`, keeping the copy of the database file in `kept`
/// (a private folder of the state dir) between runs: while the database
/// file is the very one copied last time (same inode, size, modification
/// and change times) and the kept copy is as it was written, only the WAL
/// is copied. Photos writes to its WAL and folds it into the database now
/// and then, so most runs after Photos touched the library copy megabytes,
/// not the whole database (which on a disk that cannot clone, unlike APFS,
/// costs a second per gigabyte). The copy is opened so that SQLite never
/// writes to it (no checkpoint on close).
pub(super) fn take_kept<T>(
    db: &Path,
    kept: &Path,
    check: impl Fn(&Connection) -> Result<T, PhotosError>,
) -> Result<(Snapshot, T), PhotosError> {
    take_with(db, &plain_copy, Some(kept), check)
}

fn plain_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    return super::parallel_copy::copy(from, to);
    #[cfg(not(target_os = "linux"))]
    fs::copy(from, to).map(drop)
}

/// `copy`, then the copy made owner-only whatever the library's modes (a
/// copy keeps the source's).
pub(super) fn copy_owner_only(copy: Copier, from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    copy(from, to)?;
    fs::set_permissions(to, fs::Permissions::from_mode(0o600))
}

/// How one file is copied: `std::fs::copy` in the product; a test passes one
/// that lets Photos (a writer) in halfway through, to prove a torn copy is
/// never read.
pub(super) type Copier<'a> = &'a dyn Fn(&Path, &Path) -> std::io::Result<()>;

/// `take_checked` (or `take_kept` with `kept`) with the copy of each file
/// up to `copy`.
pub fn take_with<T>(
    db: &Path,
    copy: Copier,
    kept: Option<&Path>,
    check: impl Fn(&Connection) -> Result<T, PhotosError>,
) -> Result<(Snapshot, T), PhotosError> {
    take_pages(db, copy, kept, None, check)
}

/// The tables a reader reads, learnt from a connection to a copy that holds
/// the schema and what its discovery reads (`schema::Schema::tables_read`).
pub(super) type Tables<'a> = &'a dyn Fn(&Connection) -> Result<Vec<String>, PhotosError>;

/// Like `take_checked`, with only the pages of the tables `tables` names in
/// the copy (see `sparse`), or the whole database when they cannot be
/// walked: for a listing, which reads those tables and nothing else.
pub(super) fn take_read_pages<T>(
    db: &Path,
    tables: Tables,
    check: impl Fn(&Connection) -> Result<T, PhotosError>,
) -> Result<(Snapshot, T), PhotosError> {
    take_pages(db, &plain_copy, None, Some(tables), check)
}

fn take_pages<T>(
    db: &Path,
    copy: Copier,
    kept: Option<&Path>,
    tables: Option<Tables>,
    check: impl Fn(&Connection) -> Result<T, PhotosError>,
) -> Result<(Snapshot, T), PhotosError> {
    let mut damaged = Vec::new();
    for pause in RETRY_PAUSES_MS {
        if damaged.len() == DAMAGED_COPIES {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(pause));
        let before = Fingerprint::of(db)?;
        let (target, dir) = match kept {
            None => {
                let dir = scratch::create("snapshot")
                    .map_err(|e| PhotosError::io(&std::env::temp_dir(), e))?;
                (dir.path().join("Photos.sqlite"), Some(dir))
            }
            // A copy found damaged is not reused: the next one is fresh.
            Some(kept) => (kept::refresh(db, kept, copy, !damaged.is_empty())?, None),
        };
        // The WAL first: the copy of only the pages read walks its pages too.
        if before.wal.is_some() {
            let wal = wal_path(db);
            match copy_owner_only(copy, &wal, &wal_path(&target)) {
                Ok(()) => {}
                // Photos checkpointed and removed it mid-copy: try again.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(PhotosError::io(&wal, e)),
            }
        }
        if kept.is_none() {
            // A listing: a clone where the file system makes one, else the
            // pages read, else (the walk gave up) the whole file.
            let copied = tables.is_some_and(|tables| {
                cloned(db, &target)
                    || copy_read_pages(db, &target, before.wal.is_some(), tables).is_some()
            });
            if !copied {
                copy_owner_only(copy, db, &target).map_err(|e| PhotosError::io(db, e))?;
            }
        }
        if Fingerprint::of(db)? != before {
            if let Some(kept) = kept {
                kept::forget(kept)?;
            }
            continue;
        }
        if let Some(kept) = kept {
            kept::remember(db, kept)?;
        }
        match open(&target, db).and_then(|conn| Ok((check(&conn)?, conn))) {
            Ok((checked, conn)) => {
                let snapshot = Snapshot {
                    conn,
                    path: target,
                    _dir: dir,
                };
                return Ok((snapshot, checked));
            }
            Err(e @ PhotosError::Corrupt { .. }) => damaged.push(e),
            Err(e) => return Err(e),
        }
    }
    Err(damaged
        .pop()
        .unwrap_or_else(|| PhotosError::Busy(db.to_owned())))
}

/// Whether a clone of `db` (no bytes copied: free, and cheaper than the
/// pages read) is at `target`, where the file system makes one. Linux:
/// `FICLONE` (btrfs, XFS; ext4 cannot). macOS: `std::fs::copy` clones on
/// APFS, where Photos keeps its libraries, and copies elsewhere, as every
/// copy did before the copy of the pages read.
#[cfg(target_os = "linux")]
fn cloned(db: &Path, target: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    let (Ok(source), Ok(copy)) = (
        fs::File::open(db),
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(target),
    ) else {
        return false;
    };
    rustix::fs::ioctl_ficlone(&copy, &source).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn cloned(db: &Path, target: &Path) -> bool {
    copy_owner_only(&plain_copy, db, target).is_ok()
}

/// Copies to `target` the pages of `db` that hold the schema, the tables
/// the schema's discovery reads (`Z_PRIMARYKEY`, `Z_METADATA`, SQLite's
/// statistics, the shadow tables of virtual tables), then the tables `tables` names, with their indexes (the
/// query planner may read them). `None` when the walk gave up or the
/// tables could not be learnt: the caller copies the whole file, whose
/// check says what is wrong, if anything.
fn copy_read_pages(db: &Path, target: &Path, wal: bool, tables: Tables) -> Option<()> {
    let wal_copy = wal_path(target);
    let mut copy = sparse::SparseCopy::new(db, wal.then_some(wal_copy.as_path()), target).ok()?;
    let rows = copy.schema().ok()?;
    let roots = |wanted: &dyn Fn(&str) -> bool| -> Vec<u32> {
        rows.iter()
            .filter(|row| row.root > 0 && wanted(&row.table))
            .map(|row| row.root)
            .collect()
    };
    let shadow = |t: &str| {
        rows.iter().any(|v| {
            v.is_virtual
                && t.len() > v.name.len()
                && t.as_bytes()[v.name.len()] == b'_'
                && t[..v.name.len()].eq_ignore_ascii_case(&v.name)
        })
    };
    let for_discovery = |t: &str| {
        t.starts_with("sqlite_")
            || t.eq_ignore_ascii_case("Z_PRIMARYKEY")
            || t.eq_ignore_ascii_case("Z_METADATA")
            || shadow(t)
    };
    copy.trees(&roots(&for_discovery)).ok()?;
    let read = {
        let conn = open(target, db).ok()?;
        tables(&conn).ok()
    };
    // The index of the WAL built by that connection goes: the copy's reader builds its own.
    let _ = fs::remove_file(shm_path(target));
    let read = read?;
    copy.trees(&roots(&|t: &str| {
        for_discovery(t) || read.iter().any(|r| r.eq_ignore_ascii_case(t))
    }))
    .ok()
}

/// The `-shm` file (the WAL's index) that belongs to a database file.
pub(super) fn shm_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-shm");
    PathBuf::from(name)
}

impl Snapshot {
    /// The copy, for more readers of it (`connect`).
    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}

/// Another connection to the copy at `copy` (`Snapshot::path`), set up as
/// `Snapshot::conn` is (read only, bounded cache): for readers on other
/// threads. `original` names the database in errors.
pub(super) fn connect(copy: &Path, original: &Path) -> Result<Connection, PhotosError> {
    open(copy, original)
}

/// Opens the private copy. It is opened read-write only so that a fresh
/// `-shm` can be built for its WAL; `query_only` keeps the data untouched.
fn open(copy: &Path, original: &Path) -> Result<Connection, PhotosError> {
    let corrupt = |e: &dyn std::fmt::Display| PhotosError::Corrupt {
        path: original.to_owned(),
        detail: e.to_string(),
    };
    let conn = Connection::open_with_flags(
        copy,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| corrupt(&e))?;
    // Reading never writes to the copy, not even a checkpoint of its WAL
    // when the connection closes: a kept copy stays the database's twin.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )
    .map_err(|e| corrupt(&e))?;
    // A bounded page cache, no memory map: memory stays flat whatever the
    // size of the database.
    conn.pragma_update(None, "mmap_size", 0)
        .map_err(|e| corrupt(&e))?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)
        .map_err(|e| corrupt(&e))?;
    // Every page read is checked more thoroughly (cell bounds), so a damaged
    // page that a run reads is an error rather than a wrong row.
    conn.pragma_update(None, "cell_size_check", true)
        .map_err(|e| corrupt(&e))?;
    // Temp tables (named uuids) in memory: nothing written beside the copy.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(|e| corrupt(&e))?;
    conn.pragma_update(None, "query_only", true)
        .map_err(|e| corrupt(&e))?;
    Ok(conn)
}

/// `PRAGMA quick_check` of the given tables (and their indexes), or of the
/// whole database when `tables` is empty. A real library is mostly tables
/// the reader never looks at (analysis results, thumbnails' metadata), so
/// checking only the ones read keeps the check proportionate.
pub(super) fn quick_check(
    conn: &Connection,
    db: &Path,
    tables: &[&str],
) -> Result<(), PhotosError> {
    let corrupt = |detail: String| PhotosError::Corrupt {
        path: db.to_owned(),
        detail,
    };
    let targets: Vec<Option<&str>> = if tables.is_empty() {
        vec![None]
    } else {
        tables.iter().copied().map(Some).collect()
    };
    for table in targets {
        let sql = table.map_or_else(
            || "PRAGMA quick_check".to_owned(),
            |t| format!("PRAGMA quick_check(\"{}\")", t.replace('"', "\"\"")),
        );
        let verdict: String = conn
            .query_row(&sql, [], |r| r.get(0))
            .map_err(|e| corrupt(e.to_string()))?;
        if verdict != "ok" {
            return Err(corrupt(format!("quick_check: {verdict}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkfifo(path: &Path) {
        let ok = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mkfifo {}", path.display());
    }

    #[test]
    fn a_wal_or_database_that_is_not_a_regular_file_is_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("Photos.sqlite");
        fs::write(&db, b"").unwrap();
        let wal = wal_path(&db);
        assert!(Fingerprint::of(&db).unwrap().wal.is_none());

        mkfifo(&wal);
        let err = Fingerprint::of(&db).unwrap_err().to_string();
        assert!(
            err.contains(&wal.display().to_string()) && err.contains("FIFO"),
            "{err}"
        );
        // `take` stops at the fingerprint: it never opens the FIFO (which would block).
        let err = take(&db).err().unwrap().to_string();
        assert!(err.contains("FIFO"), "{err}");

        fs::remove_file(&wal).unwrap();
        fs::create_dir(&wal).unwrap();
        let err = Fingerprint::of(&db).unwrap_err().to_string();
        assert!(
            err.contains(&wal.display().to_string()) && err.contains("directory"),
            "{err}"
        );

        fs::remove_dir(&wal).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &wal).unwrap();
        let err = Fingerprint::of(&db).unwrap_err().to_string();
        assert!(err.contains("device"), "{err}");

        fs::remove_file(&wal).unwrap();
        fs::remove_file(&db).unwrap();
        mkfifo(&db);
        let err = Fingerprint::of(&db).unwrap_err().to_string();
        assert!(
            err.contains(&db.display().to_string()) && err.contains("FIFO"),
            "{err}"
        );
    }

    /// A database whose every copy is damaged while it sits still is copied
    /// `DAMAGED_COPIES` times, not once per pause; one damaged copy followed
    /// by a good one (a write that kept size and time) is read.
    #[test]
    fn damage_in_a_still_database_is_believed_after_a_second_copy() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("Photos.sqlite");
        Connection::open(&db)
            .unwrap()
            .execute_batch("CREATE TABLE t (x);")
            .unwrap();
        let damaged = |n: &std::cell::Cell<usize>| {
            n.set(n.get() + 1);
            Err::<(), _>(PhotosError::Corrupt {
                path: db.clone(),
                detail: format!("copy {}", n.get()),
            })
        };
        let copies = std::cell::Cell::new(0);
        let err = take_checked(&db, |_| damaged(&copies)).err().unwrap();
        assert_eq!(copies.get(), DAMAGED_COPIES);
        assert!(err.to_string().contains("copy 2"), "{err}");

        let copies = std::cell::Cell::new(0);
        let once = take_checked(&db, |_| {
            if copies.get() == 0 {
                damaged(&copies)
            } else {
                Ok(())
            }
        });
        assert!(once.is_ok());
        assert_eq!(copies.get(), 1);
    }
}
