//! The reader against real Photos libraries (macOS 10.15 to 26): every field
//! of `assets --json` must equal the reference answer of the peer reader
//! osxphotos, for every asset, and the libraries must be left untouched.

mod common;

use std::collections::BTreeMap;

use serde_json::Value;

fn by_uuid(list: Vec<Value>) -> BTreeMap<String, Value> {
    list.into_iter()
        .map(|a| (a["uuid"].as_str().expect("uuid").to_owned(), a))
        .collect()
}

#[test]
fn every_field_matches_the_reference_on_all_six_libraries() {
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let mut compared = 0;
    for name in common::LIBRARIES {
        let expected_text =
            std::fs::read(fixtures.join("expected").join(format!("{name}.json"))).unwrap();
        let expected = by_uuid(serde_json::from_slice(&expected_text).unwrap());
        let got = by_uuid(common::assets_json(&common::library(&fixtures, name), &[]));
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{name}: not the same set of assets"
        );
        for (uuid, want) in &expected {
            let have = &got[uuid];
            for (field, value) in want.as_object().unwrap() {
                assert_eq!(have.get(field), Some(value), "{name} {uuid}: field {field}");
                compared += 1;
            }
        }
    }
    // 74 assets with 43 fields each: a reader that returns nothing fails above,
    // this guards against the reference files themselves going missing.
    assert!(compared > 3000, "only {compared} values compared");
}

#[test]
fn all_lists_trash_and_unpicked_burst_frames_too() {
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let lib = common::library(&fixtures, "Test-10.15.7");
    let shown = common::assets_json(&lib, &[]);
    let all = common::assets_json(&lib, &["--all"]);
    let trashed: Vec<&Value> = all.iter().filter(|a| a["intrash"] == true).collect();
    assert_eq!(trashed.len(), 2, "10.15.7 has two assets in the trash");
    assert_eq!(all.len(), shown.len() + 2);

    let media = common::library(&fixtures, "Test-Media-Types-15.7.2");
    let shown = common::assets_json(&media, &[]);
    let all = common::assets_json(&media, &["--all"]);
    let unpicked: Vec<&Value> = all
        .iter()
        .filter(|a| a["burst"] == true && a["burst_selected"] == false)
        .collect();
    assert_eq!(unpicked.len(), 2, "two burst frames were not picked");
    assert!(unpicked
        .iter()
        .all(|a| !shown.iter().any(|s| s["uuid"] == a["uuid"])));
}

#[test]
fn resources_name_every_file_a_backup_needs() {
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let media = common::library(&fixtures, "Test-Media-Types-15.7.2");
    let all = by_uuid(common::assets_json(&media, &["--all"]));
    let roles = |uuid: &str| -> Vec<(String, String)> {
        all[uuid]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["role"].as_str().unwrap().to_owned(),
                    r["path"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    // An edited Live Photo: original, live video, render, edited live video, adjustments.
    let edited_live = roles("B60C31AC-BE86-42C5-A383-A0A5710B18AE");
    for (role, suffix) in [
        ("original", "B60C31AC-BE86-42C5-A383-A0A5710B18AE.heic"),
        ("live_video", "_3.mov"),
        ("edited", "_1_201_a.heic"),
        ("edited_live_video", "_2_100_a.mov"),
        ("adjustments", "B60C31AC-BE86-42C5-A383-A0A5710B18AE.plist"),
    ] {
        assert!(
            edited_live
                .iter()
                .any(|(r, p)| r == role && p.ends_with(suffix)),
            "{role} missing: {edited_live:?}"
        );
    }
    // A portrait photo carries the camera's adjustments as UUID_5.aae.
    let portrait = roles("EA3D27D0-73EF-4E4C-A8D5-B2478568EC38");
    assert!(portrait
        .iter()
        .any(|(r, p)| r == "original_adjustments" && p.ends_with("_5.aae")));
    // A RAW+JPEG pair.
    let pair = roles("1AA0EB69-C3B3-44E7-9AA3-275F0347ABD8");
    assert!(pair
        .iter()
        .any(|(r, p)| r == "raw" && p.ends_with("_4.cr2")));
    // Every resource path named as present exists.
    for asset in all.values() {
        for r in asset["resources"].as_array().unwrap() {
            if r["present"] == true {
                let p = media.join(r["path"].as_str().unwrap());
                assert!(p.is_file(), "{} is said to be present", p.display());
            }
        }
    }
}

#[test]
fn since_selects_by_any_date_and_never_more_than_all() {
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let lib = common::library(&fixtures, "Test-10.15.7");
    let all = common::assets_json(&lib, &[]);
    let recent = common::assets_json(&lib, &["--since", "2021-09-14"]);
    let none = common::assets_json(&lib, &["--since", "2100-01-01"]);
    assert!(none.is_empty());
    assert!(!recent.is_empty() && recent.len() <= all.len());
    // Every selected asset has at least one date on or after the day (UTC
    // strings compare as dates here because the test day is far from midnight
    // in any zone the machine may use... so compare whole days only).
    for a in &recent {
        let dates = ["date_added", "date_modified", "date_changed"]
            .iter()
            .filter_map(|k| a[*k].as_str())
            .chain(a["date"].as_str())
            .map(|d| &d[..10])
            .collect::<Vec<_>>();
        assert!(
            dates.iter().any(|d| *d >= "2021-09-13"),
            "{} selected with dates {dates:?}",
            a["uuid"]
        );
    }
}

#[test]
fn reading_leaves_the_library_exactly_as_it_was() {
    let Some((_tmp, lib)) = common::fixture_copy("Test-26.1") else {
        return;
    };
    // Without the -shm, SQLite would create one if it opened the live file.
    std::fs::remove_file(lib.join("database/Photos.sqlite-shm")).unwrap();
    let before = common::tree_state(&lib);
    common::assets_json(&lib, &["--all"]);
    assert_eq!(common::tree_state(&lib), before);
}

#[test]
fn named_uuids_are_selected_whatever_their_dates_and_quotes_are_harmless() {
    use photos_backup::photos::{Library, Selection};
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let lib = Library::open(&common::library(&fixtures, "Test-13.0.0")).unwrap();
    let far = chrono::DateTime::parse_from_rfc3339("2100-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let selection = Selection {
        all: false,
        since: Some(far),
        uuids: vec![
            "D79B8D77-BFFC-460B-9312-034F2877D35B".into(),
            "x') OR 1=1 OR ZUUID IN ('".into(),
        ],
    };
    let got: Vec<String> = lib
        .assets(&selection)
        .unwrap()
        .into_iter()
        .map(|a| a.uuid)
        .collect();
    assert_eq!(got, ["D79B8D77-BFFC-460B-9312-034F2877D35B"]);
}

/// Records the versions a walk sees: from the narrow read (`unchanged`,
/// answering "changed" so every asset is read in full) and from the full
/// read (`asset`).
#[derive(Default)]
struct Versions {
    narrow: BTreeMap<String, u64>,
    full: BTreeMap<String, u64>,
}

impl photos_backup::photos::Visit<photos_backup::photos::PhotosError> for Versions {
    fn skips(&self) -> bool {
        true
    }

    fn unchanged(
        &mut self,
        assets: &[(&str, u64)],
    ) -> Result<Vec<bool>, photos_backup::photos::PhotosError> {
        for (uuid, v) in assets {
            self.narrow.insert((*uuid).to_owned(), *v);
        }
        Ok(vec![false; assets.len()])
    }

    fn asset(
        &mut self,
        asset: photos_backup::photos::Asset,
        version: u64,
    ) -> Result<(), photos_backup::photos::PhotosError> {
        self.full.insert(asset.uuid, version);
        Ok(())
    }
}

#[test]
fn every_library_has_asset_versions_and_the_narrow_read_gives_the_full_reads() {
    use photos_backup::photos::{versions, Library, Selection};
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let mut assets = 0;
    for name in common::LIBRARIES {
        let library = Library::open(&common::library(&fixtures, name)).unwrap();
        assert!(versions::supported(&library.schema), "{name}: no Z_OPT");
        let mut seen = Versions::default();
        let since = chrono::DateTime::from_timestamp(0, 0).unwrap();
        library
            .visit(
                &Selection {
                    all: true,
                    since: Some(since),
                    uuids: Vec::new(),
                },
                &mut seen,
            )
            .unwrap();
        assert_eq!(seen.narrow, seen.full, "{name}");
        assets += seen.full.len();
    }
    assert!(assets >= 80, "{assets} assets in the six libraries");
}
