//! Bad libraries through a real `run`: each case damages a fresh synthetic
//! library ("bad") in one way and runs it beside an intact one ("good").
//! The run must fail (exit 1) with a line for "bad" that names its path and
//! says what is wrong, stage "good" in full all the same, stage nothing of
//! "bad", and leave the bad library exactly as it was. A damaged library
//! that can still be read safely (a newer model, a lock held by Photos) is
//! read. Built here: fixture libraries are never copied into the repository.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use synthetic::{AssetSpec, Flavor, SyntheticLibrary};

use crate::common::setup::{Ran, Setup};
use crate::common::{utc, uuid};
use crate::{report, Outcome};

/// A modern library of two photos at `dir/NAME.photoslibrary`.
fn library(dir: &Path, name: &str) -> PathBuf {
    let root = dir.join(format!("{name}.photoslibrary"));
    let created = utc(2024, 5, 1);
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    for n in 1..=2 {
        lib.asset(AssetSpec::photo(&uuid(n), created));
    }
    lib.write(&root).unwrap();
    root
}

fn db(lib: &Path) -> PathBuf {
    lib.join("database/Photos.sqlite")
}

fn sql(lib: &Path, sql: &str) {
    Connection::open(db(lib))
        .unwrap()
        .execute_batch(sql)
        .unwrap();
}

/// Folds the WAL into the database and removes it, so damage to the file sticks.
fn without_wal(lib: &Path) {
    sql(
        lib,
        "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;",
    );
    for end in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(lib.join(format!("database/Photos.sqlite{end}")));
    }
}

fn set_model(lib: &Path, version: i64) {
    let mut dict = plist::Dictionary::new();
    dict.insert(
        "PLModelVersion".into(),
        plist::Value::Integer(version.into()),
    );
    let mut blob = Vec::new();
    plist::Value::Dictionary(dict)
        .to_writer_binary(&mut blob)
        .unwrap();
    let conn = Connection::open(db(lib)).unwrap();
    conn.execute("UPDATE Z_METADATA SET Z_PLIST = ?1", [blob])
        .unwrap();
}

/// A binary plist of `levels` arrays each holding the next, built byte by
/// byte (as values, they would overflow this test's own stack).
fn deep_plist(levels: u32) -> Vec<u8> {
    let mut blob = b"bplist00".to_vec();
    let mut offsets = Vec::new();
    for i in 0..levels {
        offsets.push(u32::try_from(blob.len()).unwrap());
        blob.push(0xA1); // an array of one
        blob.extend((i + 1).to_be_bytes());
    }
    offsets.push(u32::try_from(blob.len()).unwrap());
    blob.extend([0x10, 1]); // the integer 1
    let table = blob.len() as u64;
    for o in &offsets {
        blob.extend(o.to_be_bytes());
    }
    let mut trailer = [0u8; 32];
    trailer[6] = 4; // offset size
    trailer[7] = 4; // reference size
    trailer[8..16].copy_from_slice(&(offsets.len() as u64).to_be_bytes());
    trailer[24..32].copy_from_slice(&table.to_be_bytes());
    blob.extend(trailer);
    blob
}

/// Every entry under `root` (not following links): path, kind, mode, size,
/// mtime and the content of regular files.
fn snapshot(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            let content = if meta.is_file() {
                blake3::hash(&std::fs::read(e.path()).unwrap())
                    .to_hex()
                    .to_string()
            } else {
                String::new()
            };
            format!(
                "{} {:?} {:o} {} {:?} {content}",
                e.path().display(),
                meta.file_type(),
                meta.mode(),
                meta.len(),
                meta.modified().ok()
            )
        })
        .collect()
}

type Damage = fn(&Path);

/// Each way to break a library, and the words its error must hold.
const CASES: &[(&str, Damage, &str)] = &[
    (
        "no Photos.sqlite",
        |l| {
            without_wal(l);
            std::fs::remove_file(db(l)).unwrap();
        },
        "no database/Photos.sqlite inside",
    ),
    (
        "a zero-byte database",
        |l| {
            without_wal(l);
            std::fs::write(db(l), b"").unwrap();
        },
        "Photos.sqlite is damaged or unreadable: the file is empty (0 bytes)",
    ),
    (
        "not a database",
        |l| {
            without_wal(l);
            std::fs::write(db(l), b"bplist00 this is not SQLite").unwrap();
        },
        "damaged",
    ),
    (
        "a truncated database",
        |l| {
            without_wal(l);
            let f = std::fs::OpenOptions::new().write(true).open(db(l)).unwrap();
            let len = f.metadata().unwrap().len();
            f.set_len(len / 3).unwrap();
        },
        "damaged",
    ),
    (
        "no asset table",
        |l| sql(l, "DROP TABLE ZASSET;"),
        "no asset table (ZASSET or ZGENERICASSET)",
    ),
    (
        "no metadata table",
        |l| sql(l, "DROP TABLE Z_METADATA;"),
        "no Core Data metadata (Z_METADATA",
    ),
    (
        "a metadata plist of junk",
        |l| sql(l, "UPDATE Z_METADATA SET Z_PLIST = X'00FF13';"),
        "Z_METADATA.Z_PLIST is not a property list (3 bytes of something else)",
    ),
    (
        // Parsed recursively, it overflowed the stack: every library's run
        // aborted (exit 134) without a status or a notification.
        "a metadata plist nested 100,000 deep",
        |l| {
            let conn = Connection::open(db(l)).unwrap();
            conn.execute("UPDATE Z_METADATA SET Z_PLIST = ?1", [deep_plist(100_000)])
                .unwrap();
        },
        "Z_METADATA.Z_PLIST nests more than 64 levels deep",
    ),
    (
        "a model older than Photos 5",
        |l| set_model(l, 12_000),
        "older than Photos 5",
    ),
    (
        "a Photos 4 library",
        |l| {
            without_wal(l);
            std::fs::remove_file(db(l)).unwrap();
            std::fs::write(l.join("database/photos.db"), b"").unwrap();
        },
        "unsupported library version",
    ),
    (
        "the database a folder",
        |l| {
            without_wal(l);
            std::fs::remove_file(db(l)).unwrap();
            std::fs::create_dir(db(l)).unwrap();
        },
        "Photos.sqlite is a directory, not a regular file",
    ),
    (
        "the database folder a file",
        |l| {
            std::fs::remove_dir_all(l.join("database")).unwrap();
            std::fs::write(l.join("database"), b"x").unwrap();
        },
        "no database/Photos.sqlite inside",
    ),
    (
        "the library a file",
        |l| {
            std::fs::remove_dir_all(l).unwrap();
            std::fs::write(l, b"x").unwrap();
        },
        "is not a Photos library",
    ),
    (
        "the library a symlink loop",
        |l| {
            std::fs::remove_dir_all(l).unwrap();
            std::os::unix::fs::symlink(l, l).unwrap();
        },
        "Too many levels of symbolic links",
    ),
];

/// Why the run with a broken "bad" beside "good" is wrong, if it is.
fn check(setup: &Setup, bad: &Path, ran: &Ran, words: &str) -> Vec<String> {
    let mut wrong = Vec::new();
    let all = format!("{}\n{}", ran.out, ran.err);
    if ran.code != 1 {
        wrong.push(format!("exit {} instead of 1", ran.code));
    }
    let line = all
        .lines()
        .find(|l| l.contains("bad: FAILED"))
        .unwrap_or("");
    if !line.contains(&bad.display().to_string()) || !line.contains(words) {
        wrong.push(format!(
            "no line `bad: FAILED` naming the path and saying {words:?}"
        ));
    }
    let outcome = Outcome {
        code: ran.code,
        out: ran.out.clone(),
        err: ran.err.clone(),
    };
    wrong.extend(outcome.forbidden());
    let good = setup.staged("good");
    if good.keys().filter(|(_, role)| role == "original").count() != 2 {
        wrong.push(format!("the good library was not staged in full: {good:?}"));
    }
    if !setup.staged("bad").is_empty() || setup.staging().join("bad").exists() {
        wrong.push("staged something of the bad library".into());
    }
    wrong
}

#[test]
fn every_broken_library_fails_alone_and_is_left_as_it_was() {
    let mut failures = Vec::new();
    for (what, damage, words) in CASES {
        let tmp = tempfile::tempdir().unwrap();
        let good = library(tmp.path(), "Good");
        let bad = library(tmp.path(), "Bad");
        damage(&bad);
        let before = snapshot(&bad);
        let mut setup = Setup::new();
        setup.add_library("good", &good);
        setup.add_library("bad", &bad);
        let ran = setup.run(&[]);
        let mut wrong = check(&setup, &bad, &ran, words);
        if snapshot(&bad) != before {
            wrong.push("the bad library changed".into());
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{what}: {}\n{}\n{}",
                wrong.join("; "),
                ran.out,
                ran.err
            ));
        }
    }
    report("library", &failures);
}

/// Damage a reader can live with: a model newer than any known and a write
/// lock held by Photos (read from a copy). The run says which library's
/// model is newer, and only that one's.
#[test]
fn a_newer_model_or_a_held_lock_still_stages_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let newer = library(tmp.path(), "Newer");
    set_model(&newer, 99_999);
    let locked = library(tmp.path(), "Locked");
    let photos = Connection::open(db(&locked)).unwrap();
    photos
        .execute_batch("BEGIN EXCLUSIVE; UPDATE ZASSET SET ZFAVORITE = ZFAVORITE;")
        .unwrap();
    let before = (snapshot(&newer), snapshot(&locked));
    let mut setup = Setup::new();
    setup.add_library("newer", &newer);
    setup.add_library("locked", &locked);
    let ran = setup.run(&[]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    let noted: Vec<&str> = ran
        .out
        .lines()
        .filter(|l| l.contains("model version 99999 is newer"))
        .collect();
    assert!(
        noted.len() == 1 && noted[0].starts_with("newer: "),
        "{}",
        ran.out
    );
    for name in ["newer", "locked"] {
        let staged = setup.staged(name);
        let originals = staged.keys().filter(|(_, role)| role == "original");
        assert_eq!(originals.count(), 2, "{name}: {staged:?}");
    }
    photos.execute_batch("ROLLBACK;").unwrap();
    assert!(
        before == (snapshot(&newer), snapshot(&locked)),
        "a library changed"
    );
}
