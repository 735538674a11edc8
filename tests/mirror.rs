//! The mirror of staging onto the (decrypted) remote volume, here a plain
//! folder: the same tree, atomically; a second pass copies nothing; a file
//! re-staged after an edit is mirrored again; a copy left by a killed run is
//! recognised, not copied twice; nothing is ever deleted remotely.

mod common;

use std::path::Path;

use common::setup::{tree, Setup};
use common::utc;
use photos_backup::export::stage::Silent;
use photos_backup::ledger::Ledger;
use photos_backup::remote::mirror;
use synthetic::{Flavor, SyntheticLibrary};

/// The files under `dir` with their bytes, but the threshold file (the run
/// writes it; the mirror does not copy it).
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    tree(dir)
        .into_keys()
        .filter(|p| p != photos_backup::threshold::FILE_NAME)
        .map(|p| {
            let bytes = std::fs::read(dir.join(&p)).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn staging_is_mirrored_once_and_changes_again() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("M.photoslibrary");
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    lib.random(40, 3, 2024..=2024);
    lib.write(&root).unwrap();
    let mut setup = Setup::new();
    setup.add_library("m", &root);
    setup.run_ok();
    let remote = tmp.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    let now = utc(2026, 3, 1);
    let mut ledger = Ledger::open(&setup.state().join("ledger.sqlite")).unwrap();
    let staging = setup.staging();
    let pass = |ledger: &mut Ledger| {
        mirror::mirror("m", (&staging, &remote), ledger, now, &mut Silent).unwrap()
    };

    let first = pass(&mut ledger);
    assert!(first.files > 40, "{first:?}");
    assert_eq!(
        files(&remote),
        files(&setup.staging()),
        "remote differs from staging"
    );

    let second = pass(&mut ledger);
    assert_eq!(second, mirror::Mirrored::default(), "a second pass copied");

    // A killed run: a file copied but not recorded; and a file that changed.
    let staged = ledger.files("m").unwrap();
    let (a, b) = (&staged[0], &staged[1]);
    let changed = setup.staging().join(&b.path);
    std::fs::write(&changed, b"re-staged after an edit").unwrap();
    let written = photos_backup::export::copy::hash_file(&changed).unwrap();
    let meta = std::fs::metadata(&changed).unwrap();
    ledger
        .record_file(&photos_backup::ledger::StagedFile {
            size: meta.len(),
            mtime_ns: photos_backup::export::copy::unix_ns(meta.modified().unwrap()),
            hash: written,
            ..b.clone()
        })
        .unwrap();
    // Pretend the first was never recorded as mirrored (killed before the record).
    ledger
        .record_file(&photos_backup::ledger::StagedFile {
            hash: "other".into(),
            ..a.clone()
        })
        .unwrap();
    ledger.record_file(a).unwrap();
    let third = pass(&mut ledger);
    assert_eq!((third.files, third.found), (1, 1), "{third:?}");
    assert_eq!(
        std::fs::read(remote.join(&b.path)).unwrap(),
        b"re-staged after an edit"
    );

    // Nothing is deleted remotely, even when staging loses a file.
    std::fs::remove_file(setup.staging().join(&a.path)).unwrap();
    pass(&mut ledger);
    assert!(remote.join(&a.path).is_file());
    // No temp files anywhere.
    assert!(tree(&remote).keys().all(|p| !p.contains(".pbtmp.")));
}
