//! A Takeout inbox through the real binary (issue 19), beyond zip parts:
//! an extracted `Takeout/` folder is staged exactly as the zip set of the
//! same content is, read again when it changes and not while it does not;
//! `Takeout/` directly in the inbox is read too; a set with a part still
//! downloading beside it waits, saying which, and is read once the part is
//! whole. `settle_minutes = 0` reads a part when first seen.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::setup::Setup;
use synthetic::takeout::{Manifest, Role, TakeoutSpec};

const NAME: &str = "carla-google";

fn setup(inbox: &Path) -> Setup {
    let mut setup = Setup::new();
    setup.set_extra(format!(
        "[[takeout]]\nname = \"{NAME}\"\ninbox = {}\ntime_zone = \"Europe/Berlin\"\n\
         settle_minutes = 0\n",
        toml::Value::String(inbox.display().to_string())
    ));
    setup
}

fn spec() -> TakeoutSpec {
    let mut spec = TakeoutSpec::new(7, 40);
    spec.part_bytes = 60_000;
    spec
}

/// (content hash, role) → (staged path, size, hash of the staged bytes).
type Staged = BTreeMap<(String, String), (String, u64, String)>;

/// Every staged file's bytes hash as its ledger row says.
fn assert_bytes_as_recorded(setup: &Setup, staged: &Staged) {
    for (path, _, hash) in staged.values() {
        let bytes = fs::read(setup.staging().join(path)).unwrap();
        assert_eq!(&blake3::hash(&bytes).to_hex().to_string(), hash, "{path}");
    }
}

/// The two the same: every file in the same place with the same bytes
/// (only the differences shown), but for the XMP of a file without JSON
/// (`dated_by_archive`): it is dated by its member's time, which a zip
/// keeps as a wall clock without a zone (read in the source's zone) and a
/// folder as an instant, so its date may differ by the zone's offset (its
/// place is the same here: none is near midnight).
fn assert_same(got: &Staged, want: &Staged, dated_by_archive: &[String]) {
    let same = |k: &(String, String)| match (got.get(k), want.get(k)) {
        (Some(g), Some(w)) if k.1 == "xmp" && dated_by_archive.contains(&k.0) => g.0 == w.0,
        (g, w) => g == w,
    };
    let differ: Vec<_> = (got.keys().chain(want.keys()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| !same(k))
        .map(|k| (k, got.get(k), want.get(k)))
        .collect();
    assert!(differ.is_empty(), "(got, want) differ: {differ:#?}");
}

fn originals(staged: &Staged) -> usize {
    staged.keys().filter(|(_, role)| role == "original").count()
}

#[test]
fn an_extracted_folder_is_staged_exactly_as_its_zip_set_and_again_only_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (zips, folders) = (dir.path().join("zips"), dir.path().join("folders"));
    fs::create_dir(&zips).unwrap();
    fs::create_dir(&folders).unwrap();
    let zipped = spec().write(&zips).unwrap();
    let extracted = spec().write_extracted(&folders).unwrap();
    assert!(extracted.parts.len() > 1, "a set of several folders");
    let members = |m: &Manifest| {
        let mut all: Vec<_> = (m.members.iter())
            .map(|m| (m.path.clone(), m.part, m.blake3))
            .collect();
        all.sort();
        all
    };
    assert_eq!(members(&extracted), members(&zipped), "the same content");

    let from_zips = setup(&zips);
    let out = from_zips.run_at("2026-03-01T10:00:00Z");
    assert!(out.contains("staged"), "{out}");
    let from_folders = setup(&folders);
    let before = common::tree_state(&folders);
    let out = from_folders.run_at("2026-03-01T10:00:00Z");
    assert!(out.contains("takeout-20240701T221728Z: staged"), "{out}");
    assert!(!out.contains("not read"), "{out}");

    let staged = from_folders.staged(NAME);
    assert!(originals(&staged) > 10, "{staged:?}");
    let dated_by_archive: Vec<String> = (extracted.members.iter())
        .filter(|m| m.role == Role::Other)
        .map(|m| blake3::Hash::from(m.blake3).to_hex().to_string())
        .collect();
    assert!(!dated_by_archive.is_empty());
    assert_same(&staged, &from_zips.staged(NAME), &dated_by_archive);
    assert_bytes_as_recorded(&from_folders, &staged);

    // Unchanged: not read again.
    let out = from_folders.run_at("2026-03-01T10:30:00Z");
    assert!(out.contains("takeout: nothing new"), "{out}");
    assert_eq!(
        common::tree_state(&folders),
        before,
        "the inbox is only read"
    );

    // One more photo unpacked into the first folder: read again, and only
    // it is new.
    let year = extracted.parts[0]
        .path
        .join("Takeout/Google Photos/Photos from 2016");
    fs::create_dir_all(&year).unwrap();
    fs::write(year.join("late.jpg"), b"\xFF\xD8\xFF\xE0 a late photo").unwrap();
    let out = from_folders.run_at("2026-03-01T11:00:00Z");
    assert!(out.contains("staged 1 new files"), "{out}");
    assert!(out.contains("without JSON"), "{out}");
    let now = from_folders.staged(NAME);
    assert_eq!(originals(&now), originals(&staged) + 1);
    assert!(staged.iter().all(|(k, v)| now.get(k) == Some(v)));
}

#[test]
fn takeout_directly_in_the_inbox_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut one = spec();
    one.part_bytes = u64::MAX;
    let extracted = one.write_extracted(dir.path()).unwrap();
    assert_eq!(extracted.parts.len(), 1);
    let inbox = dir.path().join("inbox");
    fs::create_dir(&inbox).unwrap();
    fs::rename(
        extracted.parts[0].path.join("Takeout"),
        inbox.join("Takeout"),
    )
    .unwrap();
    let setup = setup(&inbox);
    let out = setup.run_at("2026-03-01T10:00:00Z");
    assert!(out.contains("Takeout: staged"), "{out}");
    let staged = setup.staged(NAME);
    assert!(originals(&staged) > 10, "{staged:?}");
    assert_bytes_as_recorded(&setup, &staged);
    let row = setup.ledger().takeout_part(NAME, ".").unwrap();
    assert!(
        row.is_some_and(|r| r.processed_at.is_some()),
        "the inbox itself is the part"
    );
}

#[test]
fn a_part_still_downloading_holds_its_set_back_until_it_is_whole() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    fs::create_dir(&inbox).unwrap();
    let manifest = spec().write(&inbox).unwrap();
    let n = manifest.parts.len();
    assert!(n >= 3, "{n} parts");
    let last = &manifest.parts[n - 1].path;
    let mut downloading = last.clone().into_os_string();
    downloading.push(".crdownload");
    fs::rename(last, &downloading).unwrap();

    let setup = setup(&inbox);
    let out = setup.run_at("2026-03-01T10:00:00Z");
    assert!(
        out.contains(&format!(
            "takeout-20240701T221728Z: part {n} still downloading"
        )),
        "{out}"
    );
    assert!(!out.contains("new files"), "{out}");
    assert!(setup.staged(NAME).is_empty(), "nothing read from parts 1..");
    let first = manifest.parts[0]
        .path
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        setup.ledger().takeout_part(NAME, first).unwrap().is_none(),
        "not even looked at"
    );

    fs::rename(&downloading, last).unwrap();
    let out = setup.run_at("2026-03-01T10:05:00Z");
    assert!(out.contains("takeout-20240701T221728Z: staged"), "{out}");
    assert!(originals(&setup.staged(NAME)) > 10);
}
