//! A run reads only what it selects, yet never believes a torn or damaged
//! copy of the database: a copy that raced a write by Photos is taken again,
//! a damaged page the run reads is an error (never a wrong row), and damage
//! in a page it does not read is found by the full check, which runs first,
//! once a day and after any read error. Also: a realistic-size synthetic
//! database reads exactly as the lean one.

mod common;

use std::cell::Cell;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use photos_backup::photos::integrity::{Check, CheckLog};
use photos_backup::photos::snapshot;
use photos_backup::photos::{Library, PhotosError, Selection};
use rusqlite::Connection;
use synthetic::{Flavor, SyntheticLibrary};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

fn all() -> Selection {
    Selection {
        all: true,
        ..Selection::default()
    }
}

/// A small library whose pages are all in the main file (no WAL), plus an
/// analysis table the reader never reads.
fn library(dir: &Path) -> PathBuf {
    let root = dir.join("Integrity.photoslibrary");
    SyntheticLibrary::new(Flavor::Modern)
        .random(8, 3, 2020..=2024)
        .wal(false)
        .realistic_size(true)
        .write(&root)
        .unwrap();
    root
}

fn db(root: &Path) -> PathBuf {
    root.join("database/Photos.sqlite")
}

/// Overwrites the b-tree page header of the one-page table or index
/// `name` with bytes no valid page has. Pages are numbered from 1.
fn damage_root_page_of(root: &Path, name: &str) {
    let (page, page_size): (i64, i64) = {
        let conn = Connection::open(db(root)).unwrap();
        let page = conn
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap();
        let size = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        (page, size)
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(db(root))
        .unwrap();
    let at = (page - 1) * page_size + if page == 1 { 100 } else { 0 };
    file.seek(SeekFrom::Start(at as u64)).unwrap();
    let mut header = [0u8; 8];
    file.read_exact(&mut header).unwrap();
    assert!(
        matches!(header[0], 2 | 5 | 10 | 13),
        "{name}: page {page} is a b-tree page"
    );
    file.seek(SeekFrom::Start(at as u64)).unwrap();
    file.write_all(&[0x7f; 8]).unwrap();
}

#[test]
fn a_full_check_comes_first_then_only_pages_read_until_a_day_has_passed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = library(tmp.path());
    let log = CheckLog::in_dir(&tmp.path().join("state"));
    let first = Library::open_for_run(&root, Some(&log), now()).unwrap();
    assert_eq!(first.checked, Check::Full);
    let later = Library::open_for_run(&root, Some(&log), now() + TimeDelta::hours(3)).unwrap();
    assert_eq!(later.checked, Check::PagesRead);
    assert_eq!(later.assets(&all()).unwrap().len(), 8);
    let next_day = Library::open_for_run(&root, Some(&log), now() + TimeDelta::hours(25)).unwrap();
    assert_eq!(next_day.checked, Check::Full);
    // A dry run (no log) always checks whole and records nothing.
    assert_eq!(
        Library::open_for_run(&root, None, now()).unwrap().checked,
        Check::Full
    );
}

#[test]
fn damage_in_a_page_the_run_does_not_read_waits_for_the_daily_full_check() {
    let tmp = tempfile::tempdir().unwrap();
    let root = library(tmp.path());
    let log = CheckLog::in_dir(&tmp.path().join("state"));
    let before = common::all_assets(&root);
    Library::open_for_run(&root, Some(&log), now()).unwrap();

    // A table of scene prints, which the reader never reads.
    let conn = Connection::open(db(&root)).unwrap();
    conn.execute_batch("CREATE TABLE ZUNREAD (Z_PK INTEGER PRIMARY KEY, ZDATA BLOB); INSERT INTO ZUNREAD VALUES (1, x'00');")
        .unwrap();
    drop(conn);
    damage_root_page_of(&root, "ZUNREAD");

    // Within the day: the run reads what it selects, and that is intact.
    let lib = Library::open_for_run(&root, Some(&log), now() + TimeDelta::hours(1)).unwrap();
    assert_eq!(lib.checked, Check::PagesRead);
    let read = lib.assets(&all()).unwrap();
    assert_eq!(
        read.iter().map(|a| &a.uuid).collect::<Vec<_>>(),
        before.iter().map(|a| &a.uuid).collect::<Vec<_>>()
    );
    // The daily full check does not look at tables the reader never reads
    // either: the damage there cannot change a backup.
    let day = Library::open_for_run(&root, Some(&log), now() + TimeDelta::hours(25));
    assert!(day.is_ok(), "{:?}", day.err());

    // Damage in a table the reader reads, where this run's selection does
    // not look (nothing changed since the threshold), is caught by the daily
    // full check and named.
    damage_root_page_of(&root, "ZPERSON");
    let quick = Library::open_for_run(&root, Some(&log), now() + TimeDelta::hours(26)).unwrap();
    assert_eq!(quick.checked, Check::PagesRead);
    let nothing_new = Selection {
        all: true,
        since: Some(now() + TimeDelta::days(3650)),
        uuids: Vec::new(),
    };
    assert_eq!(quick.assets(&nothing_new).unwrap().len(), 0);
    let err = Library::open_for_run(&root, Some(&log), now() + TimeDelta::hours(50))
        .err()
        .expect("the full check finds the damage");
    assert!(matches!(err, PhotosError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().contains(&db(&root).display().to_string()),
        "{err}"
    );
    // Failed: the next run checks whole again, and fails again.
    assert_eq!(
        log.needed(&db(&root), now() + TimeDelta::hours(51)),
        Check::Full
    );
}

#[test]
fn damage_in_a_page_the_run_reads_is_an_error_and_the_next_run_checks_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let root = library(tmp.path());
    let log = CheckLog::in_dir(&tmp.path().join("state"));
    Library::open_for_run(&root, Some(&log), now()).unwrap();
    // The keywords: a one-page table the read of every asset joins.
    damage_root_page_of(&root, "ZKEYWORD");

    let lib = Library::open_for_run(&root, Some(&log), now() + TimeDelta::hours(1)).unwrap();
    assert_eq!(lib.checked, Check::PagesRead);
    let err = lib
        .assets(&all())
        .expect_err("the damaged page is not believed");
    assert!(matches!(err, PhotosError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().contains(&db(&root).display().to_string()),
        "{err}"
    );
    // The read error dropped the record of the last full check.
    assert_eq!(
        log.needed(&db(&root), now() + TimeDelta::hours(2)),
        Check::Full
    );
    assert!(Library::open_for_run(&root, Some(&log), now() + TimeDelta::hours(2)).is_err());
}

/// A copier that lets Photos write (a row in a WAL-mode database) halfway
/// through the copy of the database file, the first `races` times.
fn racing_copier<'a>(
    live: &'a Path,
    races: usize,
    copies: &'a Cell<usize>,
) -> impl Fn(&Path, &Path) -> std::io::Result<()> + 'a {
    move |from: &Path, to: &Path| {
        let is_db = from == live;
        if is_db {
            copies.set(copies.get() + 1);
        }
        let bytes = std::fs::read(from)?;
        let half = bytes.len() / 2;
        let mut out = std::fs::File::create(to)?;
        out.write_all(&bytes[..half])?;
        if is_db && copies.get() <= races {
            let conn = Connection::open(live).unwrap();
            conn.execute(
                "INSERT INTO t (v) VALUES (?1)",
                [format!("write during copy {}", copies.get())],
            )
            .unwrap();
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .unwrap();
        }
        // The rest of the file as it is now: a torn copy when Photos wrote.
        let now = std::fs::read(from)?;
        out.write_all(now.get(half..).unwrap_or_default())?;
        Ok(())
    }
}

fn live_database(dir: &Path) -> PathBuf {
    let live = dir.join("Photos.sqlite");
    let conn = Connection::open(&live).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);",
    )
    .unwrap();
    for i in 0..2000 {
        conn.execute(
            "INSERT INTO t (v) VALUES (?1)",
            [format!("row {i} {}", "x".repeat(200))],
        )
        .unwrap();
    }
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    live
}

/// Both ways a run copies: into a temp dir, and into the kept copy.
fn places(dir: &Path) -> [Option<PathBuf>; 2] {
    [None, Some(dir.join("state/database-copies/x"))]
}

#[test]
fn a_copy_that_raced_a_write_is_taken_again_never_read() {
    let state = tempfile::tempdir().unwrap();
    for kept in places(state.path()) {
        let tmp = tempfile::tempdir().unwrap();
        let live = live_database(tmp.path());
        let attempts = Cell::new(0);
        let race = racing_copier(&live, 2, &attempts);
        // No check at all on the copy: only the fingerprint stands between
        // a torn copy and the reader here.
        let (snap, ()) = snapshot::take_with(&live, &race, kept.as_deref(), |_| Ok(())).unwrap();
        assert_eq!(attempts.get(), 3, "{kept:?}: two torn copies thrown away");
        let rows: i64 = snap
            .conn
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2002, "{kept:?}: the copy holds both writes");
        let ok: String = snap
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }
}

#[test]
fn a_database_written_during_every_copy_is_busy_not_read() {
    let state = tempfile::tempdir().unwrap();
    for kept in places(state.path()) {
        let tmp = tempfile::tempdir().unwrap();
        let live = live_database(tmp.path());
        let attempts = Cell::new(0);
        let race = racing_copier(&live, usize::MAX, &attempts);
        let err = snapshot::take_with(&live, &race, kept.as_deref(), |_| Ok(()))
            .err()
            .expect("no copy is believed");
        assert!(matches!(err, PhotosError::Busy(_)), "{kept:?}: {err}");
        assert!(attempts.get() >= 3);
        if let Some(kept) = kept {
            // Nothing torn is left recorded for the next run to reuse.
            assert!(!kept.join("copy.json").exists());
        }
    }
}

/// Logs the name of each file copied.
fn counting(
    log: &std::cell::RefCell<Vec<String>>,
) -> impl Fn(&Path, &Path) -> std::io::Result<()> + '_ {
    move |from: &Path, to: &Path| {
        log.borrow_mut()
            .push(from.file_name().unwrap().to_string_lossy().into_owned());
        std::fs::copy(from, to).map(drop)
    }
}

#[test]
fn the_kept_copy_is_reused_while_the_database_file_is_the_one_copied() {
    let tmp = tempfile::tempdir().unwrap();
    let live = live_database(tmp.path());
    let kept = tmp.path().join("state/database-copies/x");
    let copied = std::cell::RefCell::new(Vec::new());
    let logger = counting(&copied);
    let rows = |snap: &snapshot::Snapshot| -> i64 {
        snap.conn
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap()
    };
    let take = || {
        snapshot::take_with(&live, &logger, Some(&kept), |_| Ok(()))
            .unwrap()
            .0
    };

    // Photos keeps its WAL open: writes land there, the database file stays.
    let photos = Connection::open(&live).unwrap();
    photos
        .execute_batch("PRAGMA wal_autocheckpoint = 0")
        .unwrap();
    photos
        .execute("INSERT INTO t (v) VALUES ('in the wal')", [])
        .unwrap();
    assert_eq!(rows(&take()), 2001);
    assert_eq!(*copied.borrow(), ["Photos.sqlite", "Photos.sqlite-wal"]);

    copied.borrow_mut().clear();
    photos
        .execute("INSERT INTO t (v) VALUES ('again')", [])
        .unwrap();
    assert_eq!(rows(&take()), 2002);
    assert_eq!(
        *copied.borrow(),
        ["Photos.sqlite-wal"],
        "only the WAL copied"
    );

    // The kept copy is owner-only, in an owner-only folder.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&kept.join("Photos.sqlite")), 0o600);
        assert_eq!(mode(&kept), 0o700);
    }

    // A checkpoint rewrites the database file: copied anew.
    copied.borrow_mut().clear();
    photos
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    photos
        .execute("INSERT INTO t (v) VALUES ('after')", [])
        .unwrap();
    assert_eq!(rows(&take()), 2003);
    assert_eq!(*copied.borrow(), ["Photos.sqlite", "Photos.sqlite-wal"]);

    // The kept copy changed behind our back (times set back): copied anew.
    copied.borrow_mut().clear();
    let copy = kept.join("Photos.sqlite");
    let mtime = std::fs::metadata(&copy).unwrap().modified().unwrap();
    let mut f = std::fs::OpenOptions::new().write(true).open(&copy).unwrap();
    f.seek(SeekFrom::Start(200)).unwrap();
    f.write_all(b"x").unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    assert_eq!(rows(&take()), 2003);
    assert_eq!(*copied.borrow(), ["Photos.sqlite", "Photos.sqlite-wal"]);

    // Reading never wrote to the kept copy (no checkpoint on close).
    copied.borrow_mut().clear();
    assert_eq!(rows(&take()), 2003);
    assert_eq!(*copied.borrow(), ["Photos.sqlite-wal"]);
}

#[test]
fn a_realistic_size_database_reads_exactly_as_the_lean_one() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, realistic: bool| {
        let root = tmp.path().join(format!("{name}.photoslibrary"));
        SyntheticLibrary::new(Flavor::Modern)
            .random(300, 11, 2018..=2025)
            .realistic_size(realistic)
            .write(&root)
            .unwrap();
        root
    };
    let lean = write("Lean", false);
    let big = write("Big", true);
    let size = |root: &Path| {
        std::fs::metadata(db(root)).unwrap().len()
            + std::fs::metadata(snapshot::wal_path(&db(root))).map_or(0, |m| m.len())
    };
    // Several kilobytes per asset, as real libraries have.
    assert!(size(&big) > 300 * 5000, "{} bytes", size(&big));
    assert!(size(&big) > 5 * size(&lean));
    let strip = |root: &Path| {
        let mut v = serde_json::to_value(common::all_assets(root)).unwrap();
        for a in v.as_array_mut().unwrap() {
            a.as_object_mut().unwrap().remove("library");
        }
        v
    };
    assert_eq!(strip(&lean), strip(&big));
}

#[test]
fn a_run_reads_its_kept_copy_without_writing_to_it() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = library(tmp.path());
    // Photos has the library open, its database in WAL mode, from the start.
    let photos = Connection::open(db(&root)).unwrap();
    photos
        .execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;")
        .unwrap();
    let log = CheckLog::in_dir(&tmp.path().join("state"));
    let copy = log.kept_copy_dir(&db(&root)).join("Photos.sqlite");
    let since = Selection {
        all: true,
        since: Some(DateTime::from_timestamp(1_600_000_000, 0).unwrap()),
        uuids: vec!["5A4E0009-0000-4000-8000-000000000009".into()],
    };
    let read = |hours: i64| {
        let lib =
            Library::open_for_run(&root, Some(&log), now() + TimeDelta::hours(hours)).unwrap();
        // The selection fills temp tables: they must not land in the copy.
        lib.assets(&since).unwrap().len()
    };
    let first = read(0);
    let identity = |p: &Path| {
        let m = std::fs::metadata(p).unwrap();
        let hash = blake3::hash(&std::fs::read(p).unwrap())
            .to_hex()
            .to_string();
        (
            m.ino(),
            m.len(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
            hash,
        )
    };
    let before = identity(&copy);
    // Photos writes into its WAL (no checkpoint): the database file stays.
    photos
        .execute("UPDATE ZASSET SET Z_OPT = Z_OPT + 1 WHERE Z_PK = 1", [])
        .unwrap();
    assert_eq!(read(1), first);
    assert_eq!(read(2), first);
    assert_eq!(identity(&copy), before);
}

/// Damages the kept copy at the first file staged: the pages of the
/// asset table that hold the last asset, which the walk reads later.
struct DamageAtFirstFile {
    copy: PathBuf,
    last_uuid: String,
    first_uuid: String,
    files: usize,
    damaged: usize,
}

impl photos_backup::export::stage::Progress for DamageAtFirstFile {
    fn start(&mut self, _: photos_backup::export::stage::Step, _: usize, _: u64) {}

    fn file_done(&mut self, _: u64) {
        self.files += 1;
        if self.files > 1 {
            return;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.copy)
            .unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        let page_size = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
        for (i, page) in bytes.chunks(page_size).enumerate() {
            let holds = |uuid: &str| page.windows(uuid.len()).any(|w| w == uuid.as_bytes());
            // A table leaf page (type 13) with the last asset's row.
            if i > 0 && page[0] == 13 && holds(&self.last_uuid) && !holds(&self.first_uuid) {
                file.seek(SeekFrom::Start((i * page_size) as u64)).unwrap();
                file.write_all(&[0xEE; 12]).unwrap();
                self.damaged += 1;
            }
        }
        file.sync_all().unwrap();
    }

    fn finish(&mut self) {}
}

/// Walks every asset of `root` into `staging`, two a batch.
fn walk_into(
    library: Library,
    ledger: &mut photos_backup::ledger::Ledger,
    staging: &Path,
    progress: &mut dyn photos_backup::export::stage::Progress,
) -> photos_backup::export::batches::Totals {
    use photos_backup::export::batches::{walk, Staging};
    walk(
        "Main",
        library,
        &all(),
        photos_backup::export::plan::Options {
            edited: true,
            unpicked_bursts: true,
        },
        Some(ledger),
        Some(Staging {
            root: staging,
            group_readable: false,
            progress,
            download_due: &|_| false,
        }),
        &std::collections::HashSet::<&str>::new(),
        (now() + TimeDelta::hours(1), 2),
    )
    .unwrap()
}

/// A ledger row as compared: (uuid, role, path, hash).
type FileRow = (String, String, String, String);

/// (uuid, role, path, hash) of every file the ledger holds, and the files
/// in staging, relative to it.
fn staged(ledger: &photos_backup::ledger::Ledger, staging: &Path) -> (Vec<FileRow>, Vec<String>) {
    let mut rows: Vec<_> = ledger
        .files("Main")
        .unwrap()
        .into_iter()
        .map(|f| (f.uuid, f.role, f.path, f.hash))
        .collect();
    rows.sort();
    let mut on_disk = Vec::new();
    let mut dirs = vec![staging.to_owned()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let rel = path.strip_prefix(staging).unwrap();
                on_disk.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    on_disk.sort();
    (rows, on_disk)
}

#[test]
fn a_damaged_page_met_mid_walk_restarts_it_over_a_copy_checked_whole_and_loses_nothing() {
    use photos_backup::ledger::Ledger;
    let tmp = tempfile::tempdir().unwrap();
    // Forty assets of realistic width: the asset table spans many pages.
    let root = tmp.path().join("Walk.photoslibrary");
    SyntheticLibrary::new(Flavor::Modern)
        .random(40, 5, 2020..=2024)
        .wal(false)
        .realistic_size(true)
        .write(&root)
        .unwrap();
    let uuids: Vec<String> = common::all_assets(&root)
        .into_iter()
        .map(|a| (a.pk, a.uuid))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_values()
        .collect();
    let log = CheckLog::in_dir(&tmp.path().join("state"));
    // A full check passed an hour ago: this run's kept copy is checked
    // only page by page.
    Library::open_for_run(&root, Some(&log), now()).unwrap();
    let library = Library::open_for_run(&root, Some(&log), now() + TimeDelta::hours(1)).unwrap();
    assert_eq!(library.checked, Check::PagesRead);

    let mut ledger = Ledger::open(&tmp.path().join("state/ledger.sqlite")).unwrap();
    let staging = tmp.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let mut damage = DamageAtFirstFile {
        copy: log.kept_copy_dir(&db(&root)).join("Photos.sqlite"),
        last_uuid: uuids.last().unwrap().clone(),
        first_uuid: uuids[0].clone(),
        files: 0,
        damaged: 0,
    };
    let totals = walk_into(library, &mut ledger, &staging, &mut damage);
    assert!(damage.damaged > 0, "no page of the last asset found");
    // The damage was met: the record of the last full check is dropped.
    assert_eq!(
        log.needed(&db(&root), now() + TimeDelta::hours(2)),
        Check::Full
    );
    // The batches staged before the damage were found unchanged after the
    // restart; each file staged once.
    assert!(totals.unchanged > 0, "{totals:?}");
    let (rows, on_disk) = staged(&ledger, &staging);
    assert_eq!(totals.staged.files, rows.len());
    let paths: Vec<String> = rows.iter().map(|r| r.2.clone()).collect();
    let mut sorted_paths = paths.clone();
    sorted_paths.sort();
    assert_eq!(
        on_disk, sorted_paths,
        "staging holds exactly the ledger's files"
    );

    // The same as a walk that met no damage.
    let clean_staging = tmp.path().join("clean-staging");
    std::fs::create_dir_all(&clean_staging).unwrap();
    let mut clean_ledger = Ledger::open(&tmp.path().join("clean/ledger.sqlite")).unwrap();
    let clean = walk_into(
        Library::open(&root).unwrap(),
        &mut clean_ledger,
        &clean_staging,
        &mut photos_backup::export::stage::Silent,
    );
    assert_eq!(clean.unchanged, 0);
    assert_eq!(staged(&clean_ledger, &clean_staging).0, rows);
    assert!(rows.len() > uuids.len() / 2, "{rows:?}");
}
