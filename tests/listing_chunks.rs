//! `assets --json` reads, derives and serializes on several threads, in
//! chunks of row numbers (`Library::for_each_chunk`): whatever the number of
//! threads, the listing is the one a walk on one thread gives, asset for
//! asset and in the same order, and a damaged page read by a worker is an
//! error naming the database, as on one thread.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use photos_backup::photos::integrity::{Check, CheckLog};
use photos_backup::photos::{Asset, Library, PhotosError, Selection};
use rusqlite::Connection;
use synthetic::{Flavor, SyntheticLibrary};

/// More assets than a chunk holds (1024 row numbers), with the RAW pairs,
/// Live Photos, bursts, trashed and iCloud-only assets of a real mix.
fn library(dir: &Path, realistic: bool) -> PathBuf {
    let root = dir.join("Chunks.photoslibrary");
    SyntheticLibrary::new(Flavor::Modern)
        .random(2_600, 11, 2019..=2024)
        .realistic_size(realistic)
        .write(&root)
        .unwrap();
    root
}

fn walk(lib: &Library, all: bool) -> Vec<Asset> {
    let mut out = Vec::new();
    lib.for_each_asset(&selection(all), |a| {
        out.push(a);
        Ok::<(), PhotosError>(())
    })
    .unwrap();
    out
}

fn selection(all: bool) -> Selection {
    Selection {
        all,
        ..Selection::default()
    }
}

/// The chunks as `take` gets them, with the chunks' sizes.
fn chunks(
    lib: &Library,
    all: bool,
    workers: usize,
) -> Result<(Vec<Asset>, Vec<usize>), PhotosError> {
    let (mut out, mut sizes) = (Vec::new(), Vec::new());
    lib.for_each_chunk(
        &selection(all),
        workers,
        &|chunk: Vec<Asset>| Ok(chunk),
        &mut |chunk| {
            sizes.push(chunk.len());
            out.extend(chunk);
            Ok::<(), PhotosError>(())
        },
    )?;
    Ok((out, sizes))
}

#[test]
fn any_number_of_workers_lists_what_one_thread_does() {
    let tmp = tempfile::tempdir().unwrap();
    let root = library(tmp.path(), true);
    let lib = Library::open(&root).unwrap();
    for all in [true, false] {
        let expected = walk(&lib, all);
        assert!(expected.len() > 2_000, "{}", expected.len());
        for workers in [1, 2, 3, 5] {
            let (got, sizes) = chunks(&lib, all, workers).unwrap();
            assert!(sizes.len() >= 3, "{sizes:?}: several chunks");
            assert_eq!(got.len(), expected.len(), "all {all}, {workers} workers");
            for (g, e) in got.iter().zip(&expected) {
                assert_eq!(g, e, "all {all}, {workers} workers");
            }
        }
    }
    // What the listing shows of files was found on disk: the walk would
    // not say "present" for a library without its files.
    assert!(walk(&lib, true).iter().any(|a| a.path.is_some()));
}

/// A selection by date is read on one thread, in chunks all the same.
#[test]
fn a_selection_by_date_is_the_walk_too() {
    let tmp = tempfile::tempdir().unwrap();
    let root = library(tmp.path(), false);
    let lib = Library::open(&root).unwrap();
    let since = Selection {
        all: true,
        since: Some(DateTime::from_timestamp(1_640_000_000, 0).unwrap()),
        uuids: Vec::new(),
    };
    let mut expected = Vec::new();
    lib.for_each_asset(&since, |a| {
        expected.push(a);
        Ok::<(), PhotosError>(())
    })
    .unwrap();
    assert!(!expected.is_empty() && expected.len() < 2_600);
    let mut got = Vec::new();
    lib.for_each_chunk(&since, 2, &|chunk: Vec<Asset>| Ok(chunk), &mut |chunk| {
        got.extend(chunk);
        Ok::<(), PhotosError>(())
    })
    .unwrap();
    assert!(got == expected);
}

/// An error of `take` stops the walk (the workers end) and is the answer.
#[test]
fn an_error_of_the_caller_stops_the_workers() {
    let tmp = tempfile::tempdir().unwrap();
    let root = library(tmp.path(), false);
    let lib = Library::open(&root).unwrap();
    let mut taken = 0;
    let err = lib
        .for_each_chunk(
            &selection(true),
            2,
            &|chunk: Vec<Asset>| Ok(chunk.len()),
            &mut |_| {
                taken += 1;
                Err(PhotosError::Busy(PathBuf::from("stop here")))
            },
        )
        .expect_err("take said stop");
    assert!(err.to_string().contains("stop here"), "{err}");
    assert_eq!(taken, 1);
}

/// Overwrites the b-tree page header of the root page of `name`.
fn damage_root_page_of(db: &Path, name: &str) {
    let (page, page_size): (i64, i64) = {
        let conn = Connection::open(db).unwrap();
        let page = conn
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap();
        (
            page,
            conn.query_row("PRAGMA page_size", [], |r| r.get(0))
                .unwrap(),
        )
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(db)
        .unwrap();
    let at = (page - 1) * page_size + if page == 1 { 100 } else { 0 };
    file.seek(SeekFrom::Start(at as u64)).unwrap();
    let mut header = [0u8; 1];
    file.read_exact(&mut header).unwrap();
    assert!(
        matches!(header[0], 2 | 5 | 10 | 13),
        "{name}: page {page} is a b-tree page"
    );
    file.seek(SeekFrom::Start(at as u64)).unwrap();
    file.write_all(&[0x7f; 8]).unwrap();
}

/// The descriptions are read by the workers only, the resources by a
/// second connection, the assets by both and the first connection: damage
/// in any is an error naming the database.
#[test]
fn a_damaged_page_read_by_a_worker_is_an_error() {
    for table in ["ZASSETDESCRIPTION", "ZINTERNALRESOURCE", "ZASSET"] {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("Damaged.photoslibrary");
        SyntheticLibrary::new(Flavor::Modern)
            .random(2_600, 5, 2020..=2024)
            .wal(false)
            .write(&root)
            .unwrap();
        let db = root.join("database/Photos.sqlite");
        // A first run checks the copy whole; the next, an hour later,
        // only the pages it reads (as `assets` does).
        let log = CheckLog::in_dir(&tmp.path().join("state"));
        let now = DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap();
        Library::open_for_run(&root, Some(&log), now).unwrap();
        damage_root_page_of(&db, table);
        let lib = Library::open_for_run(&root, Some(&log), now + TimeDelta::hours(1)).unwrap();
        assert_eq!(lib.checked, Check::PagesRead);
        let err = chunks(&lib, true, 2).expect_err("the damaged page is not believed");
        assert!(matches!(err, PhotosError::Corrupt { .. }), "{table}: {err}");
        assert!(err.to_string().contains(&db.display().to_string()), "{err}");
    }
}
