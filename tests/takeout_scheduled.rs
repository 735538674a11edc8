//! A year of scheduled Takeout exports through the real binary (issue 19):
//! Google can export a library every two months for a year, each export
//! holding the whole library again, with its own file times and its own
//! part boundaries. Six exports of one growing library arrive in one
//! inbox; between two of them the library gets 5 new photos, an edited
//! copy of an old photo, loses a photo deleted in Google, and has a photo
//! moved into another album. After each export's run exactly its new
//! contents are staged (file and XMP), nothing is staged twice, nothing is
//! ever removed because Google dropped it, earlier exports are not read
//! again, and the ledger's staged contents are the union of every export's.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use common::setup::Setup;
use common::takeout::{contents, day_folder, hex};
use synthetic::takeout::{ExportChanges, Manifest, Role, TakeoutSpec};

const NAME: &str = "carla-google";
const ZONE: &str = "Europe/Berlin";
const FIRST_PHOTOS: usize = 30;
/// Between export k and k + 1 (photos by index, all in the first export):
/// deleted in Google; edited in Google (none had an edited copy); moved into
/// another album (all in an album; photo 0 moves twice).
const DELETED: [usize; 5] = [6, 16, 25, 13, 21];
const EDITED: [usize; 5] = [8, 11, 17, 22, 23];
const MOVED: [usize; 5] = [0, 5, 15, 20, 0];

/// The albums each content is in, by the folders its copies are in.
fn albums(manifest: &Manifest) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &manifest.members {
        if let Role::Media { expected, .. } = &m.role {
            let set = out.entry(hex(&m.blake3)).or_default();
            set.extend(expected.album.clone());
        }
    }
    out
}

/// Export `k` (0 to 5) of the library: 5 more photos each time, the
/// changes of every step before, its own time, file times and part size
/// (`album_titles`: those of the first export; unused by it).
fn export(k: usize, album_titles: &[String]) -> (TakeoutSpec, ExportChanges) {
    let mut spec = TakeoutSpec::new(24, FIRST_PHOTOS + 5 * k);
    spec.stamp = format!("2025{:02}05T0{k}1500Z", 1 + 2 * k);
    spec.part_bytes = [60_000, 45_000, 80_000, 50_000, 70_000, 40_000][k];
    let mut changes = ExportChanges {
        deleted: DELETED[..k].to_vec(),
        edited_later: EDITED[..k].to_vec(),
        time_shift: k as i64 * 61 * 86_400,
        ..ExportChanges::default()
    };
    // Into the album after the one it is in: the spec puts photo i in
    // album (i / 5) % albums, in the order the albums first appear.
    let mut album_of: BTreeMap<usize, usize> = BTreeMap::new();
    for &photo in &MOVED[..k] {
        let now = album_of
            .get(&photo)
            .copied()
            .unwrap_or(photo / 5 % album_titles.len());
        let next = (now + 1) % album_titles.len();
        album_of.insert(photo, next);
        changes.moved.push((photo, album_titles[next].clone()));
    }
    (spec, changes)
}

/// Each part's `processed_at`, by part name.
fn processed(setup: &Setup, manifests: &[Manifest]) -> BTreeMap<String, Option<String>> {
    if manifests.is_empty() {
        return BTreeMap::new();
    }
    let ledger = setup.ledger();
    manifests
        .iter()
        .flat_map(|m| &m.parts)
        .map(|p| {
            let name = p.path.file_name().unwrap().to_str().unwrap().to_owned();
            let at = ledger
                .takeout_part(NAME, &name)
                .unwrap()
                .and_then(|s| s.processed_at)
                .map(|t| t.to_rfc3339());
            (name, at)
        })
        .collect()
}

/// The ledger's rows of the source, by role: content hash → path.
fn rows(setup: &Setup, role: &str) -> BTreeMap<String, String> {
    if !setup.state().join("ledger.sqlite").exists() {
        return BTreeMap::new();
    }
    setup
        .staged(NAME)
        .into_iter()
        .filter(|((_, r), _)| r == role)
        .map(|((uuid, _), (path, _, _))| (uuid, path))
        .collect()
}

/// Every file in the source's staging folder but the holding folder.
fn files_in_staging(setup: &Setup) -> BTreeSet<String> {
    let root = setup.staging();
    walkdir::WalkDir::new(root.join(NAME))
        .into_iter()
        .filter_entry(|e| e.file_name() != ".holding")
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
#[allow(clippy::too_many_lines)] // one year, export by export
fn a_year_of_scheduled_exports_stages_each_content_once_and_never_drops_one() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    fs::create_dir(&inbox).unwrap();
    let mut setup = Setup::new();
    setup.set_extra(format!(
        "[[takeout]]\nname = \"{NAME}\"\ninbox = {}\ntime_zone = \"{ZONE}\"\n",
        toml::Value::String(inbox.display().to_string())
    ));
    let mut manifests: Vec<Manifest> = Vec::new();
    let mut union: BTreeSet<String> = BTreeSet::new();
    let mut dropped: BTreeSet<String> = BTreeSet::new();
    let mut album_titles: Vec<String> = Vec::new();
    for k in 0..6 {
        let (spec, changes) = export(k, &album_titles);
        let manifest = spec.write_export(&inbox, &changes).unwrap();
        if k == 0 {
            album_titles = (manifest.members.iter())
                .filter_map(|m| match &m.role {
                    Role::AlbumMetadata { album } => Some(album.clone()),
                    _ => None,
                })
                .collect();
            assert!(album_titles.len() >= 2, "{album_titles:?}");
        }
        assert!(manifest.parts.len() > 1, "export {k}: several parts");
        let now = contents(&manifest);
        let new: BTreeSet<String> = now
            .keys()
            .filter(|h| !union.contains(*h))
            .cloned()
            .collect();
        if let Some(before) = manifests.last() {
            // What changed in Google, as this export shows it.
            let was = contents(before);
            let gone: BTreeSet<&String> = was.keys().filter(|h| !now.contains_key(*h)).collect();
            assert!(!gone.is_empty(), "export {k}: a photo was deleted");
            dropped.extend(gone.into_iter().cloned());
            let with_json = new
                .iter()
                .filter(|h| {
                    now[*h].iter().any(|&m| {
                        matches!(manifest.members[m].role, Role::Media { json: Some(_), .. })
                    })
                })
                .count();
            assert_eq!(with_json, 5, "export {k}: 5 new photos");
            let edited: Vec<&String> = new
                .iter()
                .filter(|h| {
                    now[*h].iter().any(|&m| match &manifest.members[m].role {
                        Role::Media {
                            companion_of: Some(c),
                            ..
                        } => {
                            manifest.members[m].path.contains("-edited.")
                                && union.contains(&hex(&manifest.members[*c].blake3))
                        }
                        _ => false,
                    })
                })
                .collect();
            assert_eq!(edited.len(), 1, "export {k}: an old photo edited");
            let (old_albums, new_albums) = (albums(before), albums(&manifest));
            let moved: Vec<&String> = new_albums
                .iter()
                .filter(|(h, a)| old_albums.get(*h).is_some_and(|o| o != *a && !a.is_empty()))
                .map(|(h, _)| h)
                .collect();
            assert!(
                !moved.is_empty(),
                "export {k}: a photo moved between albums"
            );
            let staged = rows(&setup, "original");
            for h in moved {
                assert!(staged.contains_key(h), "export {k}: moved, staged before");
            }
        }
        let parts_before = processed(&setup, &manifests);
        let originals_before = rows(&setup, "original");
        let xmp_before = rows(&setup, "xmp");

        let at = |minute: u32| format!("2026-{:02}-01T10:{minute:02}:00Z", 1 + 2 * k);
        let out = setup.run_at(&at(0));
        assert!(out.contains("waiting for its parts to settle"), "{out}");
        let out = setup.run_at(&at(11));
        let id = format!("takeout-{}", spec.stamp);
        assert!(
            out.contains(&format!("{id}: staged {} new files", new.len())),
            "export {k}: {out}"
        );

        // Exactly the new contents, each with its XMP; the rest as it was.
        let originals = rows(&setup, "original");
        let xmps = rows(&setup, "xmp");
        let added: BTreeSet<String> = originals
            .keys()
            .filter(|h| !originals_before.contains_key(*h))
            .cloned()
            .collect();
        assert_eq!(added, new, "export {k}: exactly the new contents");
        for (h, path) in &originals_before {
            assert_eq!(
                originals.get(h),
                Some(path),
                "export {k}: {path} left alone"
            );
            assert_eq!(xmps.get(h), xmp_before.get(h), "export {k}: its XMP too");
        }
        for h in &new {
            let path = &originals[h];
            let bytes = fs::read(setup.staging().join(path)).unwrap();
            assert_eq!(blake3::hash(&bytes).to_hex().to_string(), *h, "{path}");
            let xmp = fs::read_to_string(setup.staging().join(&xmps[h])).unwrap();
            assert_eq!(xmps[h], format!("{path}.xmp"));
            assert!(
                xmp.contains(h.as_str()),
                "{path}: the XMP names the content"
            );
            let member = &manifest.members[now[h][0]];
            if let Role::Media {
                json: Some(_),
                expected,
                ..
            } = &member.role
            {
                assert!(
                    path.starts_with(&day_folder(NAME, ZONE, expected.taken)),
                    "{path}: taken at {}",
                    expected.taken
                );
            }
        }
        // Nothing twice: one file on disk per ledger row, and no other.
        let recorded: BTreeSet<String> = originals.values().chain(xmps.values()).cloned().collect();
        assert_eq!(recorded.len(), originals.len() * 2, "export {k}");
        assert_eq!(files_in_staging(&setup), recorded, "export {k}");
        // Nothing removed because Google dropped it.
        for h in &dropped {
            assert!(!now.contains_key(h), "export {k}: dropped stays dropped");
            let path = &originals[h];
            assert!(
                setup.staging().join(path).is_file(),
                "export {k}: {path} kept"
            );
        }
        union.extend(now.into_keys());
        let staged: BTreeSet<String> = originals.into_keys().collect();
        assert_eq!(staged, union, "export {k}: the union of every export");
        // The earlier exports' parts were not read again.
        let parts_after = processed(&setup, &manifests);
        assert_eq!(
            parts_after, parts_before,
            "export {k}: earlier parts not read"
        );
        manifests.push(manifest);
        assert!(
            processed(&setup, &manifests).values().all(Option::is_some),
            "export {k}: every part read"
        );
    }
    assert!(dropped.len() >= DELETED.len(), "{dropped:?}");
    // A year later, nothing new: no part read again.
    let parts = processed(&setup, &manifests);
    let out = setup.run_at("2026-12-01T10:00:00Z");
    assert!(out.contains("takeout: nothing new"), "{out}");
    assert_eq!(processed(&setup, &manifests), parts);
}
