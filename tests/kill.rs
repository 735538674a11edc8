//! A run killed with SIGKILL at random instants during the export, then run
//! again, ends with every selected original staged exactly once, no temp
//! files left, and the ledger and the disk in agreement.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::setup::Setup;
use photos_backup::export::copy;
use synthetic::{Flavor, SyntheticLibrary};

/// A tiny deterministic generator for the kill instants.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[test]
fn killed_runs_lose_nothing_and_leave_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("Kill.photoslibrary");
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    lib.random(400, 42, 2023..=2024).file_size(128 * 1024);
    lib.write(&root).unwrap();
    let mut setup = Setup::new();
    setup.add_library("k", &root);

    // How long an undisturbed export takes, to aim the kills inside it.
    let mut clean = Setup::new();
    clean.add_library("k", &root);
    let started = Instant::now();
    clean.run_ok();
    let full = started.elapsed();

    let mut rng = SplitMix(7);
    let mut killed_mid_run = 0;
    let mut attempts = 0;
    // Until six kills landed inside a working run (most do), at most 30 tries.
    while killed_mid_run < 6 && attempts < 30 {
        attempts += 1;
        let mut child = setup.spawn();
        // Within the first sixth of a full export: each killed run gets a
        // little further, so the kills land at many different points.
        let at = Duration::from_micros(rng.next() % (full.as_micros() as u64 / 6).max(1));
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.kill().unwrap_or(()); // SIGKILL
        child.wait().unwrap();
    }
    eprintln!(
        "{killed_mid_run} of 12 kills landed while a run was working (export takes {full:?})"
    );
    assert!(
        killed_mid_run >= 3,
        "kills missed the export: only {killed_mid_run}"
    );

    setup.run_ok();

    // Every original on disk in the library is staged, with its content.
    let assets = common::all_assets(&root);
    let staged = setup.staged("k");
    let mut expected = 0;
    for a in assets.iter().filter(|a| !a.intrash) {
        for r in a.resources.iter().filter(|r| r.present) {
            let role = photos_backup::export::layout::Role::from(r.role)
                .as_str()
                .to_owned();
            let (path, size, hash) = staged
                .get(&(a.uuid.clone(), role.clone()))
                .unwrap_or_else(|| panic!("{} {role} not staged", a.uuid));
            let source = root.join(&r.path);
            assert_eq!(std::fs::metadata(&source).unwrap().len(), *size);
            assert_eq!(
                &copy::hash_file(&setup.staging().join(path)).unwrap(),
                hash,
                "{path}"
            );
            assert_eq!(&copy::hash_file(&source).unwrap(), hash, "{path}");
            expected += 1;
        }
    }
    assert!(expected > 400, "only {expected} files expected");

    // Disk and ledger agree, file for file; no temp file is left anywhere.
    let on_disk = files_on_disk(&setup, &setup.staging());
    let in_ledger: BTreeSet<String> = staged.values().map(|(p, _, _)| p.clone()).collect();
    assert_eq!(on_disk, in_ledger);
    assert_eq!(
        in_ledger.len(),
        staged.len(),
        "two ledger rows share a path"
    );
    // The same as an undisturbed export.
    let clean_paths: BTreeSet<String> = clean
        .staged("k")
        .values()
        .map(|(p, _, _)| p.clone())
        .collect();
    assert_eq!(in_ledger, clean_paths);
    assert_eq!(
        std::fs::read_dir(setup.root().join("tmp")).unwrap().count(),
        0
    );
}

/// A run killed while a batch is copied (its files written under temp
/// names in their open folders, not yet synced nor renamed) leaves temp
/// files only, each in a folder the temp list names; the next run removes
/// them and stages everything.
#[test]
fn a_run_killed_mid_batch_leaves_only_temp_files_which_the_next_run_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("Batch.photoslibrary");
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    lib.random(300, 11, 2023..=2024).file_size(16 * 1024);
    lib.write(&root).unwrap();
    let mut setup = Setup::new();
    setup.add_library("k", &root);

    let mut child = setup.spawn_with(&[(photos_backup::failpoint::VAR, "staging-batch-copied")]);
    setup.wait_for_output(
        &mut child,
        "paused at staging-batch-copied",
        Duration::from_secs(120),
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let files: Vec<walkdir::DirEntry> = walkdir::WalkDir::new(setup.staging().join("k"))
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .collect();
    assert!(files.len() > 100, "a batch written: {}", files.len());
    let listed = std::fs::read_dir(setup.state().join("temp-folders"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    for f in &files {
        let name = f.file_name().to_string_lossy();
        assert!(
            copy::is_temp_name(&name),
            "not a temp file: {}",
            f.path().display()
        );
        let folder = f
            .path()
            .parent()
            .unwrap()
            .strip_prefix(setup.staging().join("k"))
            .unwrap();
        assert!(
            listed.lines().any(|l| std::path::Path::new(l) == folder),
            "{} is not in the temp list",
            folder.display()
        );
    }
    assert!(setup.staged("k").is_empty());

    setup.run_ok();
    let staged = setup.staged("k");
    let on_disk = files_on_disk(&setup, &setup.staging().join("k"));
    let in_ledger: BTreeSet<String> = staged.values().map(|(p, _, _)| p.clone()).collect();
    assert_eq!(on_disk, in_ledger);
    assert!(
        in_ledger.len() > files.len(),
        "everything staged after the batch"
    );
}

/// The files below `root` (in staging), as paths relative to staging, but
/// the threshold file; fails on a temp file left behind.
fn files_on_disk(setup: &Setup, root: &Path) -> BTreeSet<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file() && e.file_name() != photos_backup::threshold::FILE_NAME)
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(
                !copy::is_temp_name(&name),
                "temp file left: {}",
                e.path().display()
            );
            e.path()
                .strip_prefix(setup.staging())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}
