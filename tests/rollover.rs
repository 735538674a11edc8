//! The month rollover through the real binary and real borg, on a simulated
//! timeline (`PHOTOS_BACKUP_NOW`): exports across month ends, an edit of an
//! old photo, a late import, a Mac asleep across two month ends, originals
//! that stay in iCloud past the month end. Each asset version must end in
//! exactly the archive expected, staging must be empty of archived files,
//! and the threshold must follow.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use common::borg::Repo;
use common::setup::{tree, Setup};
use photos_backup::photos::synthetic::{AssetSpec, Edit, Flavor, SyntheticLibrary};

fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

fn uuid(n: u32) -> String {
    format!("A0000000-0000-4000-8000-{n:012}")
}

/// A synthetic library that grows: each `write` regenerates the database
/// from every spec so far and adds the media files that are new, leaving
/// existing files untouched (as Photos does).
struct Growing {
    path: PathBuf,
    specs: Vec<AssetSpec>,
    scratch: tempfile::TempDir,
    writes: u32,
}

impl Growing {
    fn new(dir: &Path, name: &str) -> Self {
        Self {
            path: dir.join(format!("{name}.photoslibrary")),
            specs: Vec::new(),
            scratch: tempfile::tempdir().unwrap(),
            writes: 0,
        }
    }

    fn add(&mut self, spec: AssetSpec) -> &mut Self {
        self.specs.push(spec);
        self
    }

    fn spec(&mut self, uuid: &str) -> &mut AssetSpec {
        self.specs.iter_mut().find(|s| s.uuid == uuid).unwrap()
    }

    fn write(&mut self) {
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
    }
}

fn photo(n: u32, created: DateTime<Utc>, added: DateTime<Utc>) -> AssetSpec {
    AssetSpec {
        added,
        ..AssetSpec::photo(&uuid(n), created)
    }
}

/// archive -> uuid -> roles, as the ledger records what each archive holds,
/// checked against what borg lists.
fn archived(
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

fn roles(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Files left in staging besides the threshold file.
fn staged_files(setup: &Setup) -> Vec<String> {
    tree(&setup.staging())
        .into_keys()
        .filter(|p| p != "date_threshold.txt")
        .collect()
}

fn threshold(setup: &Setup) -> String {
    std::fs::read_to_string(setup.staging().join("date_threshold.txt"))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
#[allow(clippy::too_many_lines)] // one timeline, read top to bottom
fn two_months_of_runs_end_with_every_version_in_the_archive_expected() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let mut lib = Growing::new(tmp.path(), "Anna");
    lib.add(photo(1, utc(2026, 9, 10), utc(2026, 9, 10)))
        .add(photo(2, utc(2026, 9, 20), utc(2026, 9, 20)));
    lib.write();
    let mut setup = Setup::new().library("anna", &lib.path);
    setup.set_threshold("2026-09-01");
    setup.extra = repo.config("");

    // September: two photos staged; nothing closes.
    setup.run_at("2026-09-25T08:00:00Z");
    assert_eq!(staged_files(&setup).len(), 4, "2 originals + 2 XMP");
    assert!(repo.archives().is_empty());

    // A photo taken on the evening of the 30th, exported only after the
    // month end: the first run of October stages it, then closes September.
    lib.add(photo(
        3,
        utc(2026, 9, 30),
        Utc.with_ymd_and_hms(2026, 9, 30, 23, 0, 0).unwrap(),
    ));
    lib.write();
    let out = setup.run_at("2026-10-01T00:05:00Z");
    assert!(
        out.contains("anna: archived 2026-09 into photos-anna-2026-09: 6 files"),
        "{out}"
    );
    assert!(
        out.contains("threshold: moved from 2026-09-01 to 2026-10-01"),
        "{out}"
    );
    assert_eq!(staged_files(&setup), Vec::<String>::new());
    assert_eq!(threshold(&setup), "2026-10-01");

    // Mid October: an edit of photo 1 (archived in September) and a late
    // import of a 2019 photo. A second run the same day does nothing.
    lib.spec(&uuid(1)).edit = Some(Edit {
        at: utc(2026, 10, 15),
        external: false,
    });
    lib.spec(&uuid(1)).modified = Some(utc(2026, 10, 15));
    lib.add(photo(4, utc(2019, 5, 1), utc(2026, 10, 15)));
    lib.write();
    setup.run_at("2026-10-15T13:00:00Z");
    let staged = staged_files(&setup);
    assert!(
        staged.iter().any(|p| p.starts_with("anna/2019/05/01/")),
        "{staged:?}"
    );
    let again = setup.run_at("2026-10-15T13:05:00Z");
    assert!(!again.contains("archived"), "{again}");
    assert_eq!(repo.archives(), ["photos-anna-2026-09"]);

    // The Mac sleeps from mid October to December 3rd: one photo added in
    // November, one on December 2nd. The first run closes both months in
    // one archive.
    lib.add(photo(5, utc(2026, 11, 10), utc(2026, 11, 10)))
        .add(photo(6, utc(2026, 12, 2), utc(2026, 12, 2)));
    lib.write();
    let out = setup.run_at("2026-12-03T07:00:00Z");
    assert!(
        out.contains("anna: archived 2026-10 to 2026-11 into photos-anna-2026-10..2026-11"),
        "{out}"
    );
    assert_eq!(threshold(&setup), "2026-12-01");
    assert_eq!(staged_files(&setup), Vec::<String>::new());
    // Nothing left to do in December.
    let quiet = setup.run_at("2026-12-10T07:00:00Z");
    assert!(!quiet.contains("archived"), "{quiet}");

    assert_eq!(
        repo.archives(),
        ["photos-anna-2026-09", "photos-anna-2026-10..2026-11"]
    );
    let by_archive = archived(&setup, &repo, "anna");
    let sept = &by_archive["photos-anna-2026-09"];
    let span = &by_archive["photos-anna-2026-10..2026-11"];
    for n in [1, 2, 3] {
        assert_eq!(sept[&uuid(n)], roles(&["original", "xmp"]), "photo {n}");
    }
    // The edit: its render, its adjustments and a new XMP; the original
    // (unchanged) stays only in September's archive.
    assert_eq!(span[&uuid(1)], roles(&["adjustments", "edited", "xmp"]));
    for n in [4, 5, 6] {
        assert_eq!(span[&uuid(n)], roles(&["original", "xmp"]), "photo {n}");
    }
    assert_eq!(
        (sept.len(), span.len()),
        (3, 4),
        "no other asset in either archive"
    );

    // Content: what borg holds is the library's original, byte for byte.
    let ledger = setup.ledger();
    let original = ledger
        .archived_versions("anna", &uuid(2))
        .unwrap()
        .into_iter()
        .find(|f| f.role == "original")
        .unwrap();
    let asset = common::all_assets(&lib.path)
        .into_iter()
        .find(|a| a.uuid == uuid(2))
        .unwrap();
    let source = asset
        .resources
        .iter()
        .find(|r| r.role == photos_backup::photos::ResourceRole::Original)
        .unwrap();
    assert_eq!(
        repo.content(&original.archive, &original.path),
        std::fs::read(lib.path.join(&source.path)).unwrap()
    );
    // Every staged file of the ledger is archived and purged.
    assert!(ledger
        .files("anna")
        .unwrap()
        .iter()
        .all(|f| f.archive.is_some()));
}
