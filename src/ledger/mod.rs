//! The ledger: the database in the state dir (`ledger.sqlite`) that
//! remembers what the backup did, so each run can finish the previous one's
//! job and skip what is done. It holds the staged files (path, size, hash,
//! where they went since), the assets still pending, each library's database
//! fingerprint for the fast path, and the runs.
//!
//! Durability comes from the database (WAL, `synchronous=FULL`); the order of
//! writes is the caller's: a file is renamed into staging before it is
//! recorded here. A ledger that cannot be read is an error naming its path,
//! never silently recreated: an empty ledger would re-stage or re-archive
//! everything. Time is always passed in.

mod asset_versions;
mod backfill;
mod coverage;
mod files;
mod library_state;
mod pending;
mod rollovers;
mod runs;
mod schema;
mod takeout;
mod takeout_report;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::{FromSqlError, ValueRef};
use rusqlite::{Connection, OpenFlags, Row};

pub(crate) use asset_versions::VersionBasis;
pub use backfill::{Census, Hold};
pub(crate) use coverage::{AssetRows, LibraryRows};
pub use files::{FileRecord, StagedFile, StagedSource};
pub(crate) use library_state::LibraryState;
pub(crate) use pending::Pending;
pub use rollovers::{ArchivedFile, Rollover, Step};
pub use takeout::{MemberKind, PartProgress, PartState, TakeoutMember};
pub use takeout_report::{ContentRow, ReportLists, ReportPart, SetReport, StagedState};

/// How long a write waits for another connection's write (a `status` reader
/// never blocks a writer in WAL mode, but two writers take turns).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) type Result<T, E = LedgerError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot open ledger {path}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create the folder of ledger {path}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("ledger {path} cannot use write-ahead logging (journal mode stays {mode:?}); is it on a network filesystem?")]
    NoWal { path: PathBuf, mode: String },
    #[error("cannot access ledger {path}")]
    Access {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("ledger {path} has schema version {found}, newer than this program's {known}; use a newer photos-backup")]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("ledger {path} has schema version {found} and cannot be upgraded to {known} when opened read-only; a run without --dry-run upgrades it")]
    NeedsUpgrade {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("ledger {path}: staging path {staged:?} of library {library:?} already belongs to asset {owner}")]
    PathTaken {
        path: PathBuf,
        library: String,
        staged: String,
        owner: String,
    },
    #[error("ledger {path}: file path {staged:?} of library {library:?} is not a plain relative path inside the library's staging folder; refused (the ledger is damaged or was tampered with)")]
    UnsafePath {
        path: PathBuf,
        library: String,
        staged: String,
    },
    #[error("ledger {path}: there is no run {id}")]
    NoSuchRun { path: PathBuf, id: i64 },
    #[error("ledger {path}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// An open ledger. Methods take `&self`; `transaction` groups writes.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// Opens the ledger at `path` for writing, creating it (and its folder)
    /// when missing and bringing its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_fs::create_dir_all(dir).map_err(|source| LedgerError::CreateDir {
                path: path.to_owned(),
                source,
            })?;
        }
        // NOFOLLOW: a symbolic link planted at the ledger's path is refused.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let open_error = |source| LedgerError::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open_with_flags(path, flags).map_err(open_error)?;
        // Owner-only whatever the umask; SQLite gives its -wal and -shm
        // files the database's mode.
        crate::private_fs::open_rw(path).map_err(|source| LedgerError::Access {
            path: path.to_owned(),
            source,
        })?;
        configure(&conn, path)?;
        let found = schema::version(&conn).map_err(open_error)?;
        if found > schema::LATEST {
            return Err(too_new(path, found));
        }
        schema::migrate(&mut conn).map_err(open_error)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    /// Opens an existing ledger read-only (`--dry-run`), or `None` when there
    /// is no file at `path`. Creates nothing; every write fails.
    pub fn open_existing_read_only(path: &Path) -> Result<Option<Self>> {
        let open_error = |source| LedgerError::Open {
            path: path.to_owned(),
            source,
        };
        match std::fs::metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(LedgerError::Access {
                    path: path.to_owned(),
                    source,
                })
            }
        }
        let conn = open_read_only(path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        let found = schema::version(&conn).map_err(open_error)?;
        if found > schema::LATEST {
            return Err(too_new(path, found));
        }
        if found < schema::LATEST {
            return Err(LedgerError::NeedsUpgrade {
                path: path.to_owned(),
                found,
                known: schema::LATEST,
            });
        }
        Ok(Some(Self {
            conn,
            path: path.to_owned(),
        }))
    }

    /// The ledger's file.
    #[must_use]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one transaction: all its writes are committed together
    /// when it returns `Ok`, and none when it returns `Err` (or panics).
    /// Batching many `record_file` calls this way saves an fsync each.
    pub(crate) fn transaction<T, E>(
        &mut self,
        f: impl FnOnce(&Ledger) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<LedgerError>,
    {
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )
        .map_err(|e| self.err(e))?;
        let value = f(self)?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(value)
    }

    /// An SQL error, with the ledger's path.
    /// Every path read back from the ledger is joined to staging, the
    /// remote volume or a restore folder: each must be relative, plain, and
    /// inside its library's folder, or nothing is done with any of them.
    fn check_paths<'a>(
        &self,
        library: &str,
        paths: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        match paths.into_iter().find(|p| !is_library_path(library, p)) {
            None => Ok(()),
            Some(bad) => Err(LedgerError::UnsafePath {
                path: self.path.clone(),
                library: library.to_owned(),
                staged: bad.to_owned(),
            }),
        }
    }

    fn err(&self, source: rusqlite::Error) -> LedgerError {
        LedgerError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }
}

/// Whether `path` is a plain relative path inside `library`'s staging folder.
#[must_use]
fn is_library_path(library: &str, path: &str) -> bool {
    let folder = crate::export::layout::library_dir(library);
    crate::export::layout::is_safe_relative(path)
        && path
            .strip_prefix(folder.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Opens `path` read-only without creating anything beside it. A reader of
/// a WAL database normally creates its `-wal` and `-shm` files when they are
/// missing (they are, after the last writer closed cleanly, and then the
/// database file holds everything): in that case the file is opened as
/// immutable, which reads it without the WAL machinery. A writer that starts
/// meanwhile is not seen (a dry run's view may be a moment old); one that
/// checkpoints during the read could make it fail, never the writer.
fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    match path.to_str() {
        Some(p) if !Path::new(&wal).exists() => {
            let uri = format!("file:{}?immutable=1", uri_escape(p));
            Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
        }
        _ => Connection::open_with_flags(path, flags),
    }
}

/// Percent-encodes a path for a `file:` URI (`sqlite3_open_v2` with `SQLITE_OPEN_URI`).
fn uri_escape(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// Connection settings of a writable ledger.
fn configure(conn: &Connection, path: &Path) -> Result<()> {
    let open_error = |source| LedgerError::Open {
        path: path.to_owned(),
        source,
    };
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
    // The first statement to read the file: a file that is not a database
    // fails here, and the error names it.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(open_error)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(LedgerError::NoWal {
            path: path.to_owned(),
            mode,
        });
    }
    // macOS: a plain fsync does not reach the disk; checkpoints use
    // F_FULLFSYNC so the database file itself is never torn. (Commits to the
    // WAL stay plain fsyncs: a power cut may lose the last few records, which
    // the next run redoes, but never corrupts the ledger.)
    // An 8 MB page cache: a run over a large library looks up many rows,
    // and the default 2 MB cache made it read the file again and again; a
    // larger one (64 MB before) grew with the ledger (24 MB of ledger for
    // 56k files took 31 MB of cache) for no measurable gain now that a run
    // looks rows up a batch of assets at a time (docs/benchmarks.md).
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA checkpoint_fullfsync = ON;
         PRAGMA cache_size = -8192;",
    )
    .map_err(open_error)
}

fn too_new(path: &Path, found: u32) -> LedgerError {
    LedgerError::TooNew {
        path: path.to_owned(),
        found,
        known: schema::LATEST,
    }
}

/// Times are stored as RFC 3339 text in UTC with nanoseconds, fixed width:
/// readable in `sqlite3`, sortable as text, and lossless.
fn time_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Reads a time column (`None` for NULL).
fn time_at(row: &Row, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let value = row.get_ref(idx)?;
    if value == ValueRef::Null {
        return Ok(None);
    }
    let text = value.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                idx,
                value.data_type(),
                Box::new(FromSqlError::Other(Box::new(e))),
            )
        })
}

/// Reads a time column that is never NULL.
fn time_required(row: &Row, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    time_at(row, idx)?.ok_or(rusqlite::Error::InvalidColumnType(
        idx,
        "time".to_owned(),
        rusqlite::types::Type::Null,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_text::describe;
    use chrono::TimeZone;

    pub(super) fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 123_456_789).unwrap()
    }

    /// An original of library `anna`, staged, of 10 bytes.
    pub(super) fn staged(uuid: &str, path: &str, hash: &str) -> StagedFile {
        StagedFile {
            library: "anna".into(),
            uuid: uuid.into(),
            role: "original".into(),
            path: path.into(),
            size: 10,
            mtime_ns: 1,
            hash: hash.into(),
            source_signature: "10:1".into(),
            exported_at: at(100),
            archive: None,
        }
    }

    pub(super) fn temp_ledger() -> (tempfile::TempDir, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("state/ledger.sqlite")).unwrap();
        (dir, ledger)
    }

    #[test]
    fn the_ledger_is_owner_only_and_never_opened_through_a_link() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let (dir, ledger) = temp_ledger();
        let state = dir.path().join("state");
        drop(ledger);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&state.join("ledger.sqlite")), 0o600);
        // An older world-readable one is tightened on open.
        std::fs::set_permissions(
            state.join("ledger.sqlite"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        drop(Ledger::open(&state.join("ledger.sqlite")).unwrap());
        assert_eq!(mode(&state.join("ledger.sqlite")), 0o600);

        let victim = dir.path().join("victim.sqlite");
        std::fs::copy(state.join("ledger.sqlite"), &victim).unwrap();
        let link = dir.path().join("link.sqlite");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let err = Ledger::open(&link).unwrap_err().to_string();
        assert!(err.contains("link.sqlite"), "{err}");
    }

    #[test]
    fn open_creates_file_and_schema_in_wal_mode() {
        let (dir, ledger) = temp_ledger();
        assert!(dir.path().join("state/ledger.sqlite").is_file());
        let mode: String = ledger
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = ledger
            .conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "FULL");
        let fk: i64 = ledger
            .conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        assert_eq!(schema::version(&ledger.conn).unwrap(), schema::LATEST);
    }

    #[test]
    fn reopening_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        {
            let ledger = Ledger::open(&path).unwrap();
            ledger.set_pending("lib", "u1", "in iCloud", at(1)).unwrap();
        }
        let ledger = Ledger::open(&path).unwrap();
        assert_eq!(ledger.pending("lib").unwrap().len(), 1);
    }

    #[test]
    fn corrupt_file_is_an_error_naming_it_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        let garbage = b"this is not an SQLite database, not at all....................".repeat(100);
        std::fs::write(&path, &garbage).unwrap();
        for result in [
            Ledger::open(&path).map(|_| ()),
            Ledger::open_existing_read_only(&path).map(|_| ()),
        ] {
            let msg = describe(&result.unwrap_err());
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains("not a database"), "{msg}");
        }
        assert_eq!(std::fs::read(&path).unwrap(), garbage);
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn read_only_open_creates_nothing_and_rejects_writes() {
        let root = tempfile::tempdir().unwrap();
        // Characters a `file:` URI must escape.
        let dir = root.path().join("Application Support ?#%&=");
        let path = dir.join("ledger.sqlite");
        assert!(Ledger::open_existing_read_only(&path).unwrap().is_none());
        assert_eq!(listing(root.path()), Vec::<String>::new());

        Ledger::open(&path)
            .unwrap()
            .set_pending("lib", "u1", "r", at(1))
            .unwrap();
        assert_eq!(listing(&dir), ["ledger.sqlite"]);
        let ledger = Ledger::open_existing_read_only(&path).unwrap().unwrap();
        assert_eq!(ledger.pending("lib").unwrap().len(), 1);
        let msg = describe(&ledger.set_pending("lib", "u2", "r", at(2)).unwrap_err());
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains("readonly"),
            "{msg}"
        );
        assert!(ledger.begin_run(at(3), true).is_err());
        drop(ledger);
        assert_eq!(listing(&dir), ["ledger.sqlite"]);
        assert_eq!(
            Ledger::open(&path).unwrap().pending("lib").unwrap().len(),
            1
        );
    }

    #[test]
    fn read_only_open_sees_what_an_open_writer_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        let writer = Ledger::open(&path).unwrap();
        writer.set_pending("lib", "u1", "r", at(1)).unwrap();
        let reader = Ledger::open_existing_read_only(&path).unwrap().unwrap();
        writer.set_pending("lib", "u2", "r", at(2)).unwrap();
        assert_eq!(reader.pending("lib").unwrap().len(), 2);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        drop(Ledger::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", schema::LATEST + 1)
            .unwrap();
        let msg = Ledger::open(&path).unwrap_err().to_string();
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains("newer"),
            "{msg}"
        );
        assert!(Ledger::open_existing_read_only(&path).is_err());
    }

    #[test]
    fn transaction_commits_on_ok_and_rolls_back_on_err() {
        let (_dir, mut ledger) = temp_ledger();
        let n = ledger
            .transaction(|l| {
                l.set_pending("lib", "a", "r", at(1))?;
                l.set_pending("lib", "b", "r", at(1))?;
                Ok::<_, LedgerError>(2)
            })
            .unwrap();
        assert_eq!(n, 2);
        let failed: anyhow::Result<()> = ledger.transaction(|l| {
            l.set_pending("lib", "c", "r", at(1))?;
            anyhow::bail!("copy failed")
        });
        assert!(failed.is_err());
        let uuids: Vec<String> = ledger
            .pending("lib")
            .unwrap()
            .into_iter()
            .map(|p| p.uuid)
            .collect();
        assert_eq!(uuids, ["a", "b"]);
    }

    #[test]
    fn times_round_trip_exactly() {
        let (_dir, ledger) = temp_ledger();
        let t = at(1_700_000_000);
        let text = time_text(&t);
        assert_eq!(text, "2023-11-14T22:13:20.123456789Z");
        let back: Option<DateTime<Utc>> = ledger
            .conn
            .query_row("SELECT ?1", [&text], |r| time_at(r, 0))
            .unwrap();
        assert_eq!(back, Some(t));
    }
}
