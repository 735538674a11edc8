//! The synthetic library generator checked against the reader: what a spec
//! says goes in comes back out of `Library::assets`, for both schema flavors
//! and a model newer than any known; hostile strings come back without a
//! panic; `since` selects by each of the four dates; and the generated
//! schema is the real one (compared with the fixture libraries when present).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use common::uuid;
use photos_backup::photos::{Asset, Library, ResourceRole, Selection};
use rusqlite::Connection;
use synthetic::{AssetSpec, Burst, DbText, Edit, Flavor, Kind, StoredPath, SyntheticLibrary};

const FLAVORS: [Flavor; 3] = [
    Flavor::Photos5,
    Flavor::Modern,
    Flavor::Custom {
        model_version: 21_000,
    },
];

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// Writes `lib` into a temp dir; returns the dir (keep it alive) and the bundle.
fn write(lib: &SyntheticLibrary) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("Synthetic.photoslibrary");
    lib.write(&root).unwrap();
    (tmp, root)
}

fn read(root: &Path, all: bool, since: Option<DateTime<Utc>>) -> BTreeMap<String, Asset> {
    let selection = Selection {
        all,
        since,
        ..Selection::default()
    };
    Library::open(root)
        .unwrap()
        .assets(&selection)
        .unwrap()
        .into_iter()
        .map(|a| (a.uuid.clone(), a))
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn role(a: &Asset, role: ResourceRole) -> Option<&str> {
    a.resources
        .iter()
        .find(|r| r.role == role)
        .map(|r| r.path.as_str())
}

/// One asset of each interesting kind; returns the library and the referenced folder.
fn showcase(flavor: Flavor, outside: &Path) -> SyntheticLibrary {
    let day = t("2021-06-01T12:34:56.789Z");
    let mut lib = SyntheticLibrary::new(flavor);
    lib.asset(AssetSpec {
        original_filename: "IMG_1234.JPG".into(),
        tz_offset: Some(7200),
        added: t("2021-06-02T08:00:00Z"),
        modified: Some(t("2021-07-01T00:00:00.5Z")),
        title: Some("Sunset".into()),
        description: Some("On the beach".into()),
        keywords: strings(&["beach", "Zu\u{308}rich", "beach"]),
        persons: strings(&["Alice", "", "Alice", "Bob"]),
        unassigned_faces: 2,
        albums: strings(&["Summer", "Family", "Summer"]),
        favorite: true,
        location: Some((48.858_37, 2.294_481)),
        ..AssetSpec::photo(&uuid(1), day)
    })
    .asset(AssetSpec {
        extension: "heic".into(),
        original_filename: "IMG_0002.HEIC".into(),
        live: true,
        edit: Some(Edit {
            at: t("2022-01-01T10:00:00Z"),
            external: false,
        }),
        ..AssetSpec::photo(&uuid(2), day)
    })
    .asset(AssetSpec {
        raw_pair: true,
        original_adjustments: true,
        ..AssetSpec::photo(&uuid(3), day)
    })
    .asset(AssetSpec {
        edit: Some(Edit {
            at: t("2022-02-02T02:02:02Z"),
            external: true,
        }),
        ..AssetSpec::movie(&uuid(4), day)
    })
    .asset(AssetSpec {
        cloud_only: true,
        live: true,
        raw_pair: true,
        edit: Some(Edit {
            at: t("2023-03-03T03:03:03Z"),
            external: false,
        }),
        ..AssetSpec::photo(&uuid(5), day)
    })
    .asset(AssetSpec {
        trashed: true,
        ..AssetSpec::photo(&uuid(6), day)
    })
    .asset(AssetSpec {
        original_filename: "Holiday Photo.JPG".into(),
        referenced: Some(outside.to_string_lossy().into_owned()),
        ..AssetSpec::photo(&uuid(7), day)
    })
    .asset(AssetSpec {
        hidden: true,
        tz_offset: None,
        ..AssetSpec::photo(&uuid(8), day)
    });
    for (n, pick) in [
        (9, Burst::KEY | Burst::DEFAULT_PICK),
        (10, Burst::SELECTED),
        (11, Burst::NOT_SELECTED),
    ] {
        lib.asset(AssetSpec {
            burst: Some(Burst {
                uuid: "B0B0B0B0-0000-4000-8000-000000000000".into(),
                pick,
            }),
            ..AssetSpec::photo(&uuid(n), day)
        });
    }
    lib
}

#[test]
fn every_field_of_a_spec_comes_back_from_the_reader() {
    for flavor in FLAVORS {
        let outside = tempfile::tempdir().unwrap();
        let lib = showcase(flavor, outside.path());
        let (_tmp, root) = write(&lib);
        let all = read(&root, true, None);
        assert_eq!(all.len(), 11, "{flavor:?}");
        check_plain(&all[&uuid(1)], &root);
        check_edited_live(&all[&uuid(2)], flavor == Flavor::Photos5);
        check_raw_pair(&all[&uuid(3)]);
        check_external_movie_edit(&all[&uuid(4)]);
        check_icloud_only(&all[&uuid(5)]);
        assert!(all[&uuid(6)].intrash);
        check_referenced(&all[&uuid(7)], outside.path());
        check_hidden_without_offset(&all[&uuid(8)]);
        for n in 9..=11 {
            let a = &all[&uuid(n)];
            assert!(a.burst, "{n}");
            assert_eq!(a.burst_selected, n != 11, "{n}");
            assert_eq!(
                a.burst_uuid.as_deref(),
                Some("B0B0B0B0-0000-4000-8000-000000000000")
            );
        }
    }
}

fn check_plain(a: &Asset, root: &Path) {
    assert_eq!(a.filename, format!("{}.jpeg", uuid(1)));
    assert_eq!(a.original_filename, "IMG_1234.JPG");
    assert_eq!(a.date.to_rfc3339(), "2021-06-01T14:34:56.789+02:00");
    assert_eq!(a.tzoffset, Some(7200));
    assert_eq!(a.date_added, Some(t("2021-06-02T08:00:00Z")));
    assert_eq!(a.date_modified, None);
    assert_eq!(a.date_changed, Some(t("2021-07-01T00:00:00.5Z")));
    assert_eq!(a.title.as_deref(), Some("Sunset"));
    assert_eq!(a.description.as_deref(), Some("On the beach"));
    assert_eq!(a.keywords, strings(&["Zürich", "beach"]));
    assert_eq!(a.persons, strings(&["Alice", "Alice", "Bob", "_UNKNOWN_"]));
    assert_eq!(a.albums, strings(&["Family", "Summer"]));
    assert!(a.favorite && !a.hidden && !a.intrash && a.isphoto && !a.ismovie);
    assert_eq!(a.uti.as_deref(), Some("public.jpeg"));
    assert_eq!(a.uti_original.as_deref(), Some("public.jpeg"));
    assert_eq!((a.width, a.height), (4032, 3024));
    assert_eq!(a.latitude, Some(48.858_37));
    assert_eq!(a.longitude, Some(2.294_481));
    assert!(!a.burst && !a.live_photo && !a.has_raw && !a.ismissing);
    assert!(!a.hasadjustments && !a.isreference && !a.shared);
    let original = format!("originals/A/{}.jpeg", uuid(1));
    assert_eq!(a.path.as_deref(), Some(original.as_str()));
    let on_disk = std::fs::metadata(root.join(&original)).unwrap().len();
    assert_eq!(a.original_filesize, on_disk as i64);
    assert_eq!((a.path_edited.as_ref(), a.path_raw.as_ref()), (None, None));
}

/// A Live Photo edited in Photos: render, edited live video, plist.
fn check_edited_live(a: &Asset, photos5: bool) {
    let (x, u) = ("A", uuid(2));
    assert!(a.live_photo && a.hasadjustments && !a.external_edit);
    assert_eq!(a.date_modified, Some(t("2022-01-01T10:00:00Z")));
    // Photos 5 renders edits as JPEG and names the render's type as current.
    let (ext, uti) = if photos5 {
        ("jpeg", "public.jpeg")
    } else {
        ("heic", "public.heic")
    };
    let render = format!("resources/renders/{x}/{u}_1_201_a.{ext}");
    assert_eq!(a.path_edited.as_deref(), Some(render.as_str()));
    assert_eq!(a.uti.as_deref(), Some(uti));
    assert_eq!(a.uti_original.as_deref(), Some("public.heic"));
    assert_eq!(a.path_live_photo, Some(format!("originals/{x}/{u}_3.mov")));
    let edited_live = format!("resources/renders/{x}/{u}_2_100_a.mov");
    assert_eq!(
        role(a, ResourceRole::EditedLiveVideo),
        Some(edited_live.as_str())
    );
    let plist = format!("resources/renders/{x}/{u}.plist");
    assert_eq!(role(a, ResourceRole::Adjustments), Some(plist.as_str()));
}

/// RAW+JPEG pair with the camera's own adjustments.
fn check_raw_pair(a: &Asset) {
    assert!(a.has_raw && !a.israw);
    assert_eq!(a.path_raw, Some(format!("originals/A/{}_4.cr2", uuid(3))));
    let aae = format!("originals/A/{}_5.aae", uuid(3));
    assert_eq!(
        role(a, ResourceRole::OriginalAdjustments),
        Some(aae.as_str())
    );
}

fn check_external_movie_edit(a: &Asset) {
    assert!(a.ismovie && !a.isphoto && a.hasadjustments && a.external_edit);
    assert_eq!(a.uti.as_deref(), Some("com.apple.quicktime-movie"));
    let render = format!("resources/renders/A/{}_2_0_a.mov", uuid(4));
    assert_eq!(a.path_edited.as_deref(), Some(render.as_str()));
}

/// Missing, no path, no live or raw file; the render is still here.
fn check_icloud_only(a: &Asset) {
    assert!(a.ismissing && a.live_photo && a.has_raw);
    assert_eq!(a.path, None);
    assert_eq!(a.path_live_photo, None);
    assert_eq!(a.path_raw, None);
    assert!(a.path_edited.is_some());
    let original = a
        .resources
        .iter()
        .find(|r| r.role == ResourceRole::Original);
    assert!(original.is_some_and(|r| !r.present));
}

fn check_referenced(a: &Asset, outside: &Path) {
    let file = outside.join("Holiday Photo.JPG");
    assert!(a.isreference && !a.ismissing);
    assert_eq!(a.filename, "Holiday Photo.JPG");
    assert_eq!(a.path.as_deref(), Some(file.to_str().unwrap()));
    assert!(file.is_file());
}

fn check_hidden_without_offset(a: &Asset) {
    assert!(a.hidden);
    assert_eq!(a.tzoffset, None);
    assert_eq!(a.date.to_rfc3339(), "2021-06-01T12:34:56.789+00:00");
    assert_eq!((a.latitude, a.longitude), (None, None));
}

#[test]
fn trash_and_unpicked_burst_frames_only_with_all() {
    for flavor in FLAVORS {
        let outside = tempfile::tempdir().unwrap();
        let (_tmp, root) = write(&showcase(flavor, outside.path()));
        let shown: BTreeSet<String> = read(&root, false, None).into_keys().collect();
        let all: BTreeSet<String> = read(&root, true, None).into_keys().collect();
        let hidden: Vec<&String> = all.difference(&shown).collect();
        assert_eq!(hidden, [&uuid(6), &uuid(11)], "{flavor:?}");
    }
}

#[test]
fn hostile_strings_come_back_without_panic() {
    let day = t("2020-02-29T23:59:59Z");
    let long_title = "é".repeat(5_000);
    let names: Vec<DbText> = vec![
        "../../../etc/passwd".into(),
        "a/b/c.jpg".into(),
        "ctrl\u{1}\u{7}\u{1b}[31m\r\n\t.jpg".into(),
        "\u{202e}gpj.exe".into(),
        DbText::RawText(b"caf\xe9 \xff\xfe.jpg".to_vec()),
        DbText::Blob(b"blob\x80name.jpg".to_vec()),
        DbText::Blob(b"plain blob.jpg".to_vec()),
        "".into(),
    ];
    for flavor in [Flavor::Photos5, Flavor::Modern] {
        let mut lib = SyntheticLibrary::new(flavor);
        for (i, name) in names.iter().enumerate() {
            lib.asset(AssetSpec {
                original_filename: name.clone(),
                title: Some(long_title.as_str().into()),
                description: Some(DbText::Blob(vec![0xC3, 0x28, b'x', 0xF0])),
                keywords: strings(&["a/b", "..", "\u{1}"]),
                albums: strings(&["../..", "x'); DROP TABLE ZASSET; --"]),
                persons: strings(&["O'Brien \"Bob\""]),
                ..AssetSpec::photo(&uuid(i as u32 + 100), day)
            });
        }
        let (_tmp, root) = write(&lib);
        let all = read(&root, true, None);
        assert_eq!(all.len(), names.len());
        for (i, name) in names.iter().enumerate() {
            let a = &all[&uuid(i as u32 + 100)];
            let expected = match name.lossy() {
                s if s.is_empty() => a.filename.clone(),
                s => s,
            };
            assert_eq!(a.original_filename, expected, "{flavor:?} {i}");
            // The file on disk is named by uuid, never by the hostile name.
            assert_eq!(
                a.path,
                Some(format!("originals/{}/{}.jpeg", &a.uuid[..1], a.uuid))
            );
            assert_eq!(a.title.as_deref(), Some(long_title.as_str()));
            assert_eq!(a.description.as_deref(), Some("\u{FFFD}(x\u{FFFD}"));
            assert_eq!(a.keywords, strings(&["\u{1}", "..", "a/b"]));
            assert_eq!(a.albums, strings(&["../..", "x'); DROP TABLE ZASSET; --"]));
            assert_eq!(a.persons, strings(&["O'Brien \"Bob\""]));
        }
    }
}

#[test]
fn stored_paths_are_taken_verbatim_and_missing_files_are_none() {
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    lib.asset(AssetSpec {
        stored_path: Some(StoredPath {
            directory: "../../..".into(),
            filename: "nothing-here.jpeg".into(),
        }),
        ..AssetSpec::photo(&uuid(1), t("2020-01-01T00:00:00Z"))
    });
    let (_tmp, root) = write(&lib);
    let a = &read(&root, true, None)[&uuid(1)];
    assert_eq!(a.filename, "nothing-here.jpeg");
    assert_eq!(a.path, None);
    assert!(!a.ismissing, "the database says the original is local");
}

#[test]
fn since_selects_by_added_created_edited_or_modified() {
    let old = t("2010-01-01T00:00:00Z");
    let since = t("2020-01-01T00:00:00Z");
    let new = t("2020-06-01T00:00:00Z");
    for flavor in FLAVORS {
        let mut lib = SyntheticLibrary::new(flavor);
        let base = |n| AssetSpec {
            added: old,
            modified: Some(old),
            ..AssetSpec::photo(&uuid(n), old)
        };
        lib.asset(base(1))
            .asset(AssetSpec {
                added: new,
                ..base(2)
            })
            .asset(AssetSpec {
                created: new,
                added: new,
                ..base(3)
            })
            .asset(AssetSpec {
                edit: Some(Edit {
                    at: new,
                    external: false,
                }),
                ..base(4)
            })
            .asset(AssetSpec {
                modified: Some(new),
                ..base(5)
            })
            .asset(AssetSpec {
                modified: Some(since),
                ..base(6)
            })
            .asset(AssetSpec {
                created: new,
                added: old,
                ..base(7)
            })
            .asset(AssetSpec {
                trashed: true,
                modified: Some(new),
                ..base(8)
            });
        let (_tmp, root) = write(&lib);
        let got: Vec<String> = read(&root, false, Some(since)).into_keys().collect();
        let want: Vec<String> = [2, 3, 4, 5, 6, 7].into_iter().map(uuid).collect();
        assert_eq!(got, want, "{flavor:?}");
        let got: Vec<String> = read(&root, true, Some(since)).into_keys().collect();
        let want: Vec<String> = [2, 3, 4, 5, 6, 7, 8].into_iter().map(uuid).collect();
        assert_eq!(got, want, "{flavor:?} with all");
        // The named uuids come in whatever their dates.
        let selection = Selection {
            all: false,
            since: Some(since),
            uuids: vec![uuid(1), "not-a-uuid' OR 1=1 --".into()],
        };
        let got = Library::open(&root).unwrap().assets(&selection).unwrap();
        assert_eq!(got.len(), 7, "{flavor:?} with uuids");
        assert_eq!(got[0].uuid, uuid(1));
    }
}

#[test]
fn a_newer_model_reads_with_a_warning_and_shifted_entities() {
    let mut lib = SyntheticLibrary::new(Flavor::Custom {
        model_version: 21_000,
    });
    lib.asset(AssetSpec {
        keywords: strings(&["k"]),
        albums: strings(&["a"]),
        persons: strings(&["p"]),
        ..AssetSpec::photo(&uuid(1), t("2020-01-01T00:00:00Z"))
    });
    let (_tmp, root) = write(&lib);
    let library = Library::open(&root).unwrap();
    assert_eq!(library.schema.model_version, 21_000);
    assert!(library.schema.warning.is_some());
    assert_eq!(library.schema.entities["Asset"], 4);
    assert_eq!(library.schema.entities["Album"], 34);
    assert_eq!(library.schema.entities["Keyword"], 53);
    let a = &library.assets(&Selection::default()).unwrap()[0];
    assert_eq!(
        (&a.keywords, &a.albums, &a.persons),
        (&strings(&["k"]), &strings(&["a"]), &strings(&["p"]))
    );
}

#[test]
fn known_models_read_without_warning() {
    for (flavor, model) in [(Flavor::Photos5, 13_703), (Flavor::Modern, 19_320)] {
        let mut lib = SyntheticLibrary::new(flavor);
        lib.random(10, 1, 2020..=2020);
        let (_tmp, root) = write(&lib);
        let library = Library::open(&root).unwrap();
        assert_eq!(library.schema.model_version, model);
        assert_eq!(library.schema.warning, None);
        assert_eq!(
            library.schema.asset.name,
            if flavor == Flavor::Photos5 {
                "ZGENERICASSET"
            } else {
                "ZASSET"
            }
        );
    }
}

/// Compares what the reader returns for a random library with the specs.
fn check_against_specs(lib: &SyntheticLibrary, all: &BTreeMap<String, Asset>) {
    use unicode_normalization::UnicodeNormalization;
    let nfc = |v: &[String]| -> Vec<String> {
        let mut v: Vec<String> = v.iter().map(|s| s.nfc().collect()).collect();
        v.sort();
        v.dedup();
        v
    };
    for spec in lib.specs() {
        let a = &all[&spec.uuid];
        let u = &spec.uuid;
        assert_eq!(a.intrash, spec.trashed, "{u}");
        assert_eq!(a.ismissing, spec.cloud_only, "{u}");
        assert_eq!(a.path.is_some(), !spec.cloud_only, "{u}");
        assert_eq!(a.hasadjustments, spec.edit.is_some(), "{u}");
        assert_eq!(a.path_edited.is_some(), spec.edit.is_some(), "{u}");
        assert_eq!(a.live_photo, spec.live, "{u}");
        assert_eq!(
            a.path_live_photo.is_some(),
            spec.live && !spec.cloud_only,
            "{u}"
        );
        assert_eq!(a.has_raw, spec.raw_pair, "{u}");
        assert_eq!(a.ismovie, spec.kind == Kind::Movie, "{u}");
        assert_eq!(a.burst, spec.burst.is_some(), "{u}");
        assert_eq!(a.date.to_utc(), spec.created, "{u}");
        assert_eq!(a.date_added, Some(spec.added), "{u}");
        assert_eq!(a.date_changed, spec.modified, "{u}");
        assert_eq!(a.tzoffset, spec.tz_offset, "{u}");
        assert_eq!(a.keywords, nfc(&spec.keywords), "{u}");
        assert_eq!(a.albums, nfc(&spec.albums), "{u}");
        let mut persons: Vec<String> = spec
            .persons
            .iter()
            .map(|p| {
                if p.is_empty() {
                    "_UNKNOWN_".into()
                } else {
                    p.clone()
                }
            })
            .collect();
        persons.sort();
        assert_eq!(a.persons, persons, "{u}");
        assert_eq!(a.original_filename, spec.original_filename.lossy(), "{u}");
    }
}

#[test]
fn random_libraries_are_realistic_and_read_back_as_specified() {
    for flavor in [Flavor::Photos5, Flavor::Modern] {
        let mut lib = SyntheticLibrary::new(flavor);
        lib.random(3_000, 5, 2012..=2022);
        let (_tmp, root) = write(&lib);
        let all = read(&root, true, None);
        assert_eq!(all.len(), 3_000);
        check_against_specs(&lib, &all);

        let share = |f: &dyn Fn(&Asset) -> bool| {
            all.values().filter(|a| f(a)).count() as f64 / all.len() as f64
        };
        let near = |x: f64, want: f64, what: &str| {
            assert!(
                (x - want).abs() < want * 0.35 + 0.005,
                "{what}: {x} vs {want}"
            );
        };
        near(share(&|a| a.ismissing), 0.30, "iCloud-only");
        near(share(&|a| a.hasadjustments), 0.10, "edited");
        near(share(&|a| a.live_photo), 0.14, "live");
        near(share(&|a| a.ismovie), 0.05, "videos");
        near(share(&|a| a.intrash), 0.02, "trashed");
        near(share(&|a| a.has_raw), 0.03, "raw pairs");
        assert!(share(&|a| a.burst) > 0.0, "bursts");
        assert!(share(&|a| !a.keywords.is_empty()) > 0.1, "keywords");
        assert!(share(&|a| !a.persons.is_empty()) > 0.1, "persons");
        assert!(share(&|a| !a.albums.is_empty()) > 0.05, "albums");

        let shown = read(&root, false, None);
        assert!(shown.len() < all.len());
        assert!(shown
            .values()
            .all(|a| !a.intrash && (!a.burst || a.burst_selected)));
    }
}

#[test]
fn the_same_seed_writes_the_same_library() {
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    lib.random(500, 9, 2015..=2020);
    let (_a, first) = write(&lib);
    let (_b, second) = write(&lib);
    assert_eq!(read(&first, true, None), read(&second, true, None));
    let mut other = SyntheticLibrary::new(Flavor::Modern);
    other.random(500, 10, 2015..=2020);
    let (_c, third) = write(&other);
    assert_ne!(
        read(&first, true, None).into_keys().collect::<Vec<_>>(),
        read(&third, true, None).into_keys().collect::<Vec<_>>()
    );
}

#[test]
fn the_last_assets_live_only_in_the_wal() {
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    lib.random(20, 3, 2020..=2021).wal_tail(5);
    let (tmp, root) = write(&lib);
    let wal = root.join("database/Photos.sqlite-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    // Without its WAL the database is an older library.
    let alone = tmp.path().join("alone.sqlite");
    std::fs::copy(root.join("database/Photos.sqlite"), &alone).unwrap();
    let conn = Connection::open(&alone).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM ZASSET", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 15);
    assert_eq!(read(&root, true, None).len(), 20);

    let mut one_file = SyntheticLibrary::new(Flavor::Modern);
    one_file.random(20, 3, 2020..=2021).wal(false);
    let (_tmp, root) = write(&one_file);
    assert!(!root.join("database/Photos.sqlite-wal").exists());
    assert_eq!(read(&root, true, None).len(), 20);
}

#[test]
fn without_files_only_the_database_is_written() {
    let mut lib = SyntheticLibrary::new(Flavor::Photos5);
    lib.random(200, 4, 2019..=2020).write_files(false);
    let (_tmp, root) = write(&lib);
    let written = walkdir::WalkDir::new(root.join("originals"))
        .into_iter()
        .filter(|e| e.as_ref().unwrap().file_type().is_file())
        .count();
    assert_eq!(written, 0);
    let all = read(&root, true, None);
    assert_eq!(all.len(), 200);
    assert!(all
        .values()
        .all(|a| a.path.is_none() && a.path_edited.is_none()));
}

#[test]
fn originals_have_the_size_asked() {
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    lib.file_size(10_000).asset(AssetSpec {
        size: Some(123_457),
        ..AssetSpec::photo(&uuid(1), t("2020-01-01T00:00:00Z"))
    });
    lib.asset(AssetSpec::photo(&uuid(2), t("2020-01-01T00:00:00Z")));
    let (_tmp, root) = write(&lib);
    let all = read(&root, true, None);
    for (n, size) in [(1, 123_457), (2, 10_000)] {
        let a = &all[&uuid(n)];
        assert_eq!(a.original_filesize, size);
        let len = std::fs::metadata(root.join(a.path.as_ref().unwrap()))
            .unwrap()
            .len();
        assert_eq!(len, size as u64);
    }
}

#[test]
fn an_existing_library_is_not_overwritten() {
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    lib.random(3, 1, 2020..=2020);
    let (_tmp, root) = write(&lib);
    let err = lib.write(&root).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
}

/// `(name, type)` of each column of `table`.
fn columns(conn: &Connection, table: &str) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare("SELECT name, type FROM pragma_table_info(?1)")
        .unwrap();
    stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn open_copy(db: &Path, dir: &Path) -> Connection {
    let copy = dir.join("copy.sqlite");
    std::fs::copy(db, &copy).unwrap();
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    if wal.exists() {
        std::fs::copy(&wal, dir.join("copy.sqlite-wal")).unwrap();
    }
    Connection::open(&copy).unwrap()
}

#[test]
fn the_schema_is_the_real_one() {
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    for (flavor, name) in [
        (Flavor::Photos5, "Test-10.15.7"),
        (Flavor::Modern, "Test-26.1"),
    ] {
        let mut lib = SyntheticLibrary::new(flavor);
        lib.random(50, 2, 2020..=2020);
        let (tmp, root) = write(&lib);
        let ours = Connection::open(root.join("database/Photos.sqlite")).unwrap();
        let real_dir = tmp.path().join("real");
        std::fs::create_dir(&real_dir).unwrap();
        let real = open_copy(
            &common::library(&fixtures, name).join("database/Photos.sqlite"),
            &real_dir,
        );
        let tables: Vec<String> = ours
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(tables.len() >= 15, "{tables:?}");
        for table in &tables {
            let real_columns = columns(&real, table);
            assert!(!real_columns.is_empty(), "{name} has no table {table}");
            assert_eq!(columns(&ours, table), real_columns, "{flavor:?} {table}");
        }
        let entities = |c: &Connection| -> BTreeSet<(i64, String, i64)> {
            c.prepare("SELECT Z_ENT, Z_NAME, Z_SUPER FROM Z_PRIMARYKEY WHERE Z_ENT < 16000")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(entities(&ours), entities(&real), "{flavor:?}");
        // The date indexes a `since` query can use exist in both.
        let indexes = |c: &Connection| -> BTreeSet<String> {
            c.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let (ours_ix, real_ix) = (indexes(&ours), indexes(&real));
        let missing: Vec<&String> = ours_ix.difference(&real_ix).collect();
        assert!(missing.is_empty(), "{flavor:?}: not in {name}: {missing:?}");
    }
}

// Reader bugs found with synthetic libraries, kept as tests of their fixes:
// each states what must happen.

/// A pending uuid is quoted into the SQL text (`query.rs`, `quoted_list`); a
/// NUL byte ends the `SQLite` tokenizer inside the literal, so the whole listing
/// fails as "damaged" for as long as that uuid stays pending.
#[test]

fn a_pending_uuid_with_a_nul_byte_does_not_break_the_listing() {
    let hostile = "NUL\0UUID".to_owned();
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    lib.asset(AssetSpec {
        uuid: hostile.clone(),
        ..AssetSpec::photo("unused", t("2010-01-01T00:00:00Z"))
    });
    lib.random(10, 1, 2010..=2010);
    let (_tmp, root) = write(&lib);
    let selection = Selection {
        all: false,
        since: Some(t("2030-01-01T00:00:00Z")),
        uuids: vec![hostile.clone()],
    };
    let got = Library::open(&root).unwrap().assets(&selection);
    let uuids: Vec<String> = got.unwrap().into_iter().map(|a| a.uuid).collect();
    assert_eq!(uuids, [hostile]);
}

/// `Asset::resources` is documented as "every file that belongs to the
/// asset, present or not", but `derive.rs` (`Files::find`) adds the RAW and
/// the Live Photo video only when their file is on disk: for an iCloud-only
/// Live Photo with a RAW pair, nothing tells a backup that two more files
/// belong to the asset and still have to come from iCloud.
#[test]

fn icloud_only_live_video_and_raw_are_listed_as_missing_resources() {
    for flavor in [Flavor::Photos5, Flavor::Modern] {
        let mut lib = SyntheticLibrary::new(flavor);
        lib.asset(AssetSpec {
            cloud_only: true,
            live: true,
            raw_pair: true,
            ..AssetSpec::photo(&uuid(1), t("2020-01-01T00:00:00Z"))
        });
        let (_tmp, root) = write(&lib);
        let a = &read(&root, true, None)[&uuid(1)];
        for wanted in [
            ResourceRole::Original,
            ResourceRole::LiveVideo,
            ResourceRole::Raw,
        ] {
            let r = a.resources.iter().find(|r| r.role == wanted);
            assert!(
                r.is_some_and(|r| !r.present),
                "{flavor:?}: {wanted:?} not listed as missing: {:?}",
                a.resources
            );
        }
    }
}
