//! Helpers for tests that live through simulated months: a synthetic
//! library that grows between runs, and what staging, the threshold file and
//! the archives hold afterwards.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use synthetic::{AssetSpec, Flavor, SyntheticLibrary};

use super::borg::Repo;
use super::setup::{tree, Setup};
use super::{utc, uuid};

/// A synthetic library that grows: each `write` regenerates the database
/// from every spec so far and adds the media files that are new, leaving
/// existing files untouched (as Photos does).
pub struct Growing {
    pub path: PathBuf,
    pub specs: Vec<AssetSpec>,
    scratch: tempfile::TempDir,
    writes: u32,
}

impl Growing {
    pub fn new(dir: &Path, name: &str) -> Self {
        Self {
            path: dir.join(format!("{name}.photoslibrary")),
            specs: Vec::new(),
            scratch: tempfile::tempdir().unwrap(),
            writes: 0,
        }
    }

    pub fn add(&mut self, spec: AssetSpec) -> &mut Self {
        self.specs.push(spec);
        self
    }

    pub fn spec(&mut self, uuid: &str) -> &mut AssetSpec {
        self.specs.iter_mut().find(|s| s.uuid == uuid).unwrap()
    }

    pub fn write(&mut self) {
        self.writes += 1;
        let fresh = self
            .scratch
            .path()
            .join(format!("v{}.photoslibrary", self.writes));
        let mut lib = SyntheticLibrary::new(Flavor::Modern);
        for s in &self.specs {
            lib.asset(s.clone());
        }
        lib.write(&fresh).unwrap();
        for entry in walkdir::WalkDir::new(&fresh)
            .into_iter()
            .filter_map(Result::ok)
        {
            let rel = entry.path().strip_prefix(&fresh).unwrap();
            let dest = self.path.join(rel);
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&dest).unwrap();
            } else if rel.starts_with("database") || !dest.exists() {
                std::fs::copy(entry.path(), &dest).unwrap();
            }
        }
        for stale in ["Photos.sqlite-wal", "Photos.sqlite-shm"] {
            let p = self.path.join("database").join(stale);
            if !fresh.join("database").join(stale).exists() {
                let _ = std::fs::remove_file(p);
            }
        }
        // Each version is a whole library: keeping them filled the disk
        // after a thousand writes in the long soak.
        std::fs::remove_dir_all(&fresh).unwrap();
    }

    /// The bytes of an asset's original in the library.
    pub fn original(&self, uuid: &str) -> Vec<u8> {
        let asset = super::all_assets(&self.path)
            .into_iter()
            .find(|a| a.uuid == uuid)
            .unwrap();
        let source = asset
            .resources
            .iter()
            .find(|r| r.role == photos_backup::photos::ResourceRole::Original)
            .unwrap();
        std::fs::read(self.path.join(&source.path)).unwrap()
    }
}

/// A photo with its own name, taken at `created`, added at `added`.
pub fn named_photo(
    uuid: &str,
    name: &str,
    created: DateTime<Utc>,
    added: DateTime<Utc>,
) -> AssetSpec {
    AssetSpec {
        added,
        original_filename: synthetic::DbText::Text(name.into()),
        ..AssetSpec::photo(uuid, created)
    }
}

pub fn photo(n: u32, created: DateTime<Utc>, added: DateTime<Utc>) -> AssetSpec {
    AssetSpec {
        added,
        ..AssetSpec::photo(&uuid(n), created)
    }
}

/// archive -> uuid -> roles, as the ledger records what each archive holds,
/// checked against what borg lists.
pub fn archived(
    setup: &Setup,
    repo: &Repo,
    library: &str,
) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let ledger = setup.ledger();
    let mut by_archive: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for r in ledger
        .rollovers()
        .unwrap()
        .into_iter()
        .filter(|r| r.library == library)
    {
        let files = ledger.rollover_files(library, &r.archive).unwrap();
        if files.is_empty() {
            continue;
        }
        let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(
            repo.paths(&r.archive),
            paths,
            "borg and the ledger disagree on {}",
            r.archive
        );
        for f in files {
            by_archive
                .entry(r.archive.clone())
                .or_default()
                .entry(f.uuid)
                .or_default()
                .push(f.role);
        }
    }
    for roles in by_archive.values_mut().flat_map(BTreeMap::values_mut) {
        roles.sort();
    }
    by_archive
}

pub fn roles(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Files left in staging besides the threshold file.
pub fn staged_files(setup: &Setup) -> Vec<String> {
    tree(&setup.staging())
        .into_keys()
        .filter(|p| p != "date_threshold.txt")
        .collect()
}

pub fn threshold(setup: &Setup) -> String {
    std::fs::read_to_string(setup.staging().join("date_threshold.txt"))
        .unwrap()
        .trim()
        .to_owned()
}

/// The original of photo `n` is in its archive byte for byte as in the library.
pub fn assert_original_archived(setup: &Setup, repo: &Repo, lib: &Growing, library: &str, n: u32) {
    let archived = setup
        .ledger()
        .archived_versions(library, &uuid(n))
        .unwrap()
        .into_iter()
        .find(|f| f.role == "original")
        .expect("an archived original");
    assert_eq!(
        repo.content(&archived.archive, &archived.path),
        lib.original(&uuid(n))
    );
}

/// Library `NAME` (`name` in lower case in the config) holding photo 1 of
/// 2026-09-10, and a setup for it with the threshold 2026-09-01.
pub fn one_photo(dir: &Path, name: &str) -> (Growing, Setup) {
    let mut lib = Growing::new(dir, name);
    lib.add(photo(1, utc(2026, 9, 10), utc(2026, 9, 10)));
    lib.write();
    let mut setup = Setup::new();
    setup.add_library(&name.to_lowercase(), &lib.path);
    setup.set_threshold("2026-09-01");
    (lib, setup)
}

/// Library `kim`: `n` photos of `size` bytes staged in September, ready
/// for the rollover of the first run of October; `borg` is added to the
/// `[borg]` table.
pub fn september(n: u32, size: u64, borg: &str) -> (tempfile::TempDir, Repo, Growing, Setup) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let mut lib = Growing::new(tmp.path(), "Kim");
    for i in 1..=n {
        let mut p = photo(i, utc(2026, 9, 1 + i % 28), utc(2026, 9, 1 + i % 28));
        p.size = Some(size);
        lib.add(p);
    }
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("kim", &lib.path);
    setup.set_threshold("2026-09-01");
    setup.set_extra(repo.config(borg));
    setup.run_at("2026-09-29T08:00:00Z");
    (tmp, repo, lib, setup)
}
