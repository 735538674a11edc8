//! The Photos library reader: opens a `.photoslibrary` bundle, snapshots its
//! database, discovers the schema and reads assets with their resources.
//!
//! It never writes to, locks or leaves files in the library: everything is read
//! from a private copy (see `snapshot`).

mod census;
mod derive;
pub mod integrity;
mod kept;
mod listing;
mod model;
#[cfg(target_os = "linux")]
mod parallel_copy;
mod paths;
mod plist_guard;
pub mod query;
mod schema;
pub mod snapshot;
mod sparse;
mod time;
pub mod versions;

use std::cell::Cell;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use census::CensusAsset;
pub use integrity::{Check, CheckLog};
pub use model::{Asset, Resource, ResourceRole};
pub use query::{Selection, Visit};
use schema::Schema;

/// Why a library could not be read. Every variant names the path.
#[derive(Debug, thiserror::Error)]
pub enum PhotosError {
    #[error("Photos library {0} does not exist")]
    Missing(PathBuf),
    #[error("{0} is not a Photos library (no database/Photos.sqlite inside)")]
    NotALibrary(PathBuf),
    #[error("unsupported library version in {path}: {detail}")]
    Unsupported { path: PathBuf, detail: String },
    #[error("database {path} is damaged or unreadable: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the database of {0} kept changing while it was copied; try again when Photos is idle"
    )]
    Busy(PathBuf),
    #[error("{path} is {kind}, not a regular file; refusing to read it")]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl PhotosError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// An opened library: its root, its snapshot and its discovered schema.
pub struct Library {
    pub(crate) root: PathBuf,
    /// `root/database/Photos.sqlite`: named in errors about the data.
    db: PathBuf,
    pub schema: Schema,
    /// How much of the copy was checked before any row was read.
    pub checked: Check,
    snapshot: snapshot::Snapshot,
    /// Where a read error is recorded, so the next open checks the whole copy.
    log: Option<CheckLog>,
    /// Set when SQLite reported a damaged page while rows were read.
    read_error: Cell<bool>,
}

impl Library {
    /// Opens the library bundle at `root` (the `.photoslibrary` folder),
    /// its copy checked whole before anything is read.
    pub fn open(root: &Path) -> Result<Self, PhotosError> {
        Self::open_with(root, Check::Full)
    }

    /// Opens the library with the given check of its copy (see `integrity`).
    pub(crate) fn open_with(root: &Path, check: Check) -> Result<Self, PhotosError> {
        Self::open_copy(root, check, None)
    }

    /// Opens the library for a listing (`assets`): its copy holds only the
    /// pages of the tables the reader reads (`snapshot::take_read_pages`),
    /// checked as SQLite reads them.
    pub(crate) fn open_for_listing(root: &Path) -> Result<Self, PhotosError> {
        let db = database_path(root)?;
        let tables = |conn: &rusqlite::Connection| {
            let schema = Schema::discover(conn, &db)?;
            Ok(schema
                .tables_read()
                .into_iter()
                .map(str::to_owned)
                .collect())
        };
        let (snapshot, schema) =
            snapshot::take_read_pages(&db, &tables, |conn| Schema::discover(conn, &db))?;
        Ok(Self {
            root: root.to_owned(),
            db,
            schema,
            checked: Check::PagesRead,
            snapshot,
            log: None,
            read_error: Cell::new(false),
        })
    }

    /// Opens the library from a copy in a temp dir, or from the copy kept
    /// in `kept` between runs (see `snapshot::take_kept`).
    fn open_copy(root: &Path, check: Check, kept: Option<&Path>) -> Result<Self, PhotosError> {
        let db = database_path(root)?;
        let checked = |conn: &rusqlite::Connection| {
            let schema = Schema::discover(conn, &db)?;
            if check == Check::Full {
                snapshot::quick_check(conn, &db, &schema.tables_read())?;
            }
            Ok(schema)
        };
        let (snapshot, schema) = match kept {
            Some(kept) => snapshot::take_kept(&db, kept, checked)?,
            None => snapshot::take_checked(&db, checked)?,
        };
        Ok(Self {
            root: root.to_owned(),
            db,
            schema,
            checked: check,
            snapshot,
            log: None,
            read_error: Cell::new(false),
        })
    }

    /// Opens the library for a run at `now`: the copy is checked whole when
    /// `log` says a full check is due (first run, a day since the last,
    /// after a read error), else page by page as it is read. A full check
    /// that passes is recorded; one that fails forgets the last pass. The
    /// copy of the database is kept in the log's folder between runs.
    /// Without a log (a dry run, which changes nothing) the check is full
    /// and the copy temporary.
    pub fn open_for_run(
        root: &Path,
        log: Option<&CheckLog>,
        now: DateTime<Utc>,
    ) -> Result<Self, PhotosError> {
        let Some(log) = log else {
            return Self::open(root);
        };
        let db = database_path(root)?;
        let check = log.needed(&db, now);
        let opened = Self::open_copy(root, check, Some(&log.kept_copy_dir(&db)));
        let record = match (&opened, check) {
            (Ok(_), Check::Full) => log.passed(&db, now),
            (Err(PhotosError::Corrupt { .. }), _) => log.failed(&db),
            _ => Ok(()),
        };
        record.map_err(|e| PhotosError::io(log.path(), e))?;
        let mut library = opened?;
        library.log = Some(log.clone());
        Ok(library)
    }

    /// Reads the assets the selection asks for, in the order Photos added them (row order).
    ///
    /// When SQLite finds a damaged page on a copy that was checked only page
    /// by page, the damage may be a copy torn by a write that left no trace
    /// in the fingerprint: a fresh copy, checked whole, is read instead, and
    /// its error (a database really damaged) is the answer.
    pub fn assets(&self, selection: &Selection) -> Result<Vec<Asset>, PhotosError> {
        match self.read_all(selection) {
            Err(PhotosError::Corrupt { .. }) if self.checked == Check::PagesRead => {
                Self::open_with(&self.root, Check::Full)?.read_all(selection)
            }
            read => read,
        }
    }

    fn read_all(&self, selection: &Selection) -> Result<Vec<Asset>, PhotosError> {
        let mut out = Vec::new();
        self.for_each_asset(selection, |a| {
            out.push(a);
            Ok::<(), PhotosError>(())
        })?;
        Ok(out)
    }

    /// How many assets are outside the trash: one `COUNT(*)`, cheap even
    /// for a million rows (`photos-backup doctor` shows it).
    pub fn count_assets(&self) -> Result<u64, PhotosError> {
        let trash = if self.schema.asset.has("ZTRASHEDSTATE") {
            " WHERE ZTRASHEDSTATE = 0"
        } else {
            ""
        };
        let sql = format!("SELECT COUNT(*) FROM {}{trash}", self.schema.asset.sql());
        self.snapshot
            .conn
            .query_row(&sql, [], |row| row.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(|e| PhotosError::Corrupt {
                path: self.db.clone(),
                detail: e.to_string(),
            })
    }

    /// Hands the selected assets to `f` one by one, in row order (a plain scan, the fastest), without
    /// holding them all in memory.
    pub fn for_each_asset<E: From<PhotosError>>(
        &self,
        selection: &Selection,
        f: impl FnMut(Asset) -> Result<(), E>,
    ) -> Result<(), E> {
        self.visit(selection, &mut query::All(f))
    }

    /// Hands the selected assets to `make` in chunks, in row order, read
    /// and derived on several threads (`workers`, each with its own
    /// connection to the copy), and each chunk's result to `take` on this
    /// thread, in row order: a listing of the whole library uses every
    /// core. A selection by date is read on this thread (its scope lives
    /// in this connection's temp tables).
    pub fn for_each_chunk<T: Send, E: From<PhotosError> + Send>(
        &self,
        selection: &Selection,
        workers: usize,
        make: &(dyn Fn(Vec<Asset>) -> Result<T, E> + Sync),
        take: &mut dyn FnMut(T) -> Result<(), E>,
    ) -> Result<(), E> {
        let by_rows = listing::by_row_numbers(&self.snapshot.conn, &self.schema.asset.name)
            .map_err(|e| self.sql_error(&e))?;
        if selection.since.is_some() || !selection.uuids.is_empty() || !by_rows {
            let mut chunk = Vec::new();
            self.for_each_asset(selection, |asset| {
                chunk.push(asset);
                if chunk.len() == 1024 {
                    take(make(std::mem::take(&mut chunk))?)?;
                }
                Ok::<(), E>(())
            })?;
            return take(make(chunk)?);
        }
        let (copy, db) = (self.snapshot.path(), self.db.as_path());
        let connect = || snapshot::connect(copy, db);
        let read = listing::for_each_chunk(
            &self.snapshot.conn,
            &connect,
            &self.schema,
            &self.root,
            selection.all,
            workers,
            make,
            take,
        );
        read.map_err(|stopped| match stopped {
            listing::Stopped::Sql(e) => E::from(self.sql_error(&e)),
            listing::Stopped::Open(e) => E::from(e),
            listing::Stopped::Caller(e) => e,
        })
    }

    /// A read error (of the walk on other threads, of the census): the database is called
    /// damaged, and the log (if any) forgets its last full check.
    pub(super) fn sql_error(&self, e: &rusqlite::Error) -> PhotosError {
        self.read_error.set(true);
        if let Some(log) = &self.log {
            // Best effort: the read error itself is what the caller sees.
            let _ = log.failed(&self.db);
        }
        PhotosError::Corrupt {
            path: self.db.clone(),
            detail: e.to_string(),
        }
    }

    /// Hands the selected assets to `visit` one by one, in row order,
    /// leaving out those it knows unchanged by their version (see
    /// `query::Visit` and `versions`).
    pub fn visit<E: From<PhotosError>>(
        &self,
        selection: &Selection,
        visit: &mut dyn Visit<E>,
    ) -> Result<(), E> {
        let sql_error = |e: rusqlite::Error| {
            self.read_error.set(true);
            E::from(PhotosError::Corrupt {
                path: self.db.clone(),
                detail: e.to_string(),
            })
        };
        let read = query::for_each(
            &self.snapshot.conn,
            &self.schema,
            &self.root,
            selection,
            sql_error,
            visit,
        );
        if self.read_error.get() {
            if let Some(log) = &self.log {
                // Best effort: the read error itself is what the caller sees.
                let _ = log.failed(&self.db);
            }
        }
        read
    }
}

/// `root/database/Photos.sqlite`, after checking that `root` looks like a library.
pub(crate) fn database_path(root: &Path) -> Result<PathBuf, PhotosError> {
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(PhotosError::NotALibrary(root.to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PhotosError::Missing(root.to_owned()))
        }
        Err(e) => return Err(PhotosError::io(root, e)),
    }
    let db = root.join("database").join("Photos.sqlite");
    match std::fs::metadata(&db) {
        Ok(m) if m.is_file() && m.len() == 0 => {
            return Err(PhotosError::Corrupt {
                path: db,
                detail: "the file is empty (0 bytes)".into(),
            })
        }
        Ok(m) if m.is_file() => return Ok(db),
        Ok(m) => snapshot::regular(&db, &m)?,
        Err(_) => {}
    }
    if root.join("database").join("photos.db").is_file() {
        return Err(PhotosError::Unsupported {
            path: root.to_owned(),
            detail: "this is a Photos 4 or older library (database/photos.db only); \
                     only Photos 5 (macOS 10.15) and later libraries are supported"
                .into(),
        });
    }
    Err(PhotosError::NotALibrary(root.to_owned()))
}
