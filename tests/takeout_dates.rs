//! What a Takeout photo says besides its JSON (issue 19): a photo or video
//! without a taken time in its JSON is dated by its own bytes (EXIF, the
//! `QuickTime` creation date, the movie header) into the day folder it was
//! taken in, at its own offset when it has one; a photo in Google Photos'
//! trash is not staged; the JSON title is the XMP `dc:title`. The reader of
//! capture times is checked on the real originals of the fixture libraries
//! against what Photos (through osxphotos) says about the same files.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Timelike};
use photos_backup::takeout::camera_time::{self, CameraTime};
use synthetic::camera::{jpeg_with_exif, movie_with_dates, write_zip};

const NAME: &str = "carla-google";
const ZONE: &str = "Europe/Berlin";

/// `at` to whole seconds (EXIF keeps sub-seconds in other tags).
fn whole(at: NaiveDateTime) -> NaiveDateTime {
    at.with_nanosecond(0).unwrap()
}

/// Every original of the fixture libraries that has a capture time reads
/// as Photos dated it: the same clock time, and the same offset when the
/// file states one.
#[test]
fn fixture_originals_read_as_photos_dates_them() {
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let (mut zoned, mut local, mut files) = (Vec::new(), Vec::new(), 0);
    for entry in fs::read_dir(fixtures.join("expected")).unwrap() {
        let expected = entry.unwrap().path();
        let library = fixtures.join(format!(
            "{}.photoslibrary",
            expected.file_stem().unwrap().to_str().unwrap()
        ));
        let assets: serde_json::Value =
            serde_json::from_slice(&fs::read(&expected).unwrap()).unwrap();
        for asset in assets.as_array().unwrap() {
            let Some(path) = asset["path"]
                .as_str()
                .filter(|p| p.starts_with("originals/"))
            else {
                continue;
            };
            files += 1;
            let want = DateTime::parse_from_rfc3339(asset["date"].as_str().unwrap()).unwrap();
            let ext = path.rsplit('.').next().unwrap().to_owned();
            match camera_time::read(&library.join(path)) {
                Some(CameraTime::Zoned(at)) => {
                    assert_eq!(at.naive_local(), whole(want.naive_local()), "{path}");
                    assert_eq!(at.offset(), want.offset(), "{path}");
                    zoned.push(ext);
                }
                Some(CameraTime::Local(at)) => {
                    assert_eq!(at, whole(want.naive_local()), "{path}");
                    local.push(ext);
                }
                Some(CameraTime::Instant(at)) => {
                    assert_eq!(at.naive_utc(), whole(want.naive_utc()), "{path}");
                }
                None => {}
            }
        }
    }
    // The fixtures are cut to 16 KiB: a HEIC's EXIF or a movie's header
    // past that is gone, but JPEGs with and without an offset tag and
    // HEICs with one are read whole.
    eprintln!(
        "{} of {files} fixture originals dated ({} with their offset)",
        zoned.len() + local.len(),
        zoned.len()
    );
    for (kind, dated) in [("offset", &zoned), ("local", &local)] {
        assert!(
            dated.iter().any(|e| e == "jpeg"),
            "a {kind} JPEG: {dated:?}"
        );
    }
    assert!(zoned.iter().any(|e| e == "heic"), "a HEIC: {zoned:?}");
}

/// The first JPEG original with an `OffsetTimeOriginal` in the fixtures,
/// and its clock time with offset.
fn fixture_jpeg_with_offset(fixtures: &Path) -> (Vec<u8>, DateTime<FixedOffset>) {
    let library = fixtures.join("Test-10.15.7.photoslibrary");
    let mut originals: Vec<_> = walkdir::WalkDir::new(library.join("originals"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpeg"))
        .collect();
    originals.sort();
    originals
        .into_iter()
        .find_map(|p| match camera_time::read(&p)? {
            CameraTime::Zoned(at) => Some((fs::read(&p).unwrap(), at)),
            _ => None,
        })
        .expect("a fixture JPEG with its offset")
}

/// The staged originals: file name → path under staging.
fn staged_by_name(setup: &common::setup::Setup) -> BTreeMap<String, String> {
    setup
        .staged(NAME)
        .into_iter()
        .filter(|((_, role), _)| role == "original")
        .map(|(_, (path, ..))| (path.rsplit('/').next().unwrap().to_owned(), path))
        .collect()
}

/// The members of the set: photos and videos without a taken time in a
/// JSON, a trashed photo, a titled one, a sidecar without its photo.
fn members(real: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    let year = "Takeout/Google Photos/Photos from 2020";
    let member = |name: &str, bytes: Vec<u8>| (format!("{year}/{name}"), bytes);
    let json = |name: &str, text: &str| (format!("{year}/{name}"), text.as_bytes().to_vec());
    vec![
        // 23:30 at -05:00 is the next morning in Berlin: the file's own
        // offset decides the day.
        member(
            "exif-offset.jpg",
            jpeg_with_exif("2019:07:04 23:30:00", Some("-05:00"), 1, 3000),
        ),
        // No offset: the clock time in Berlin (read as UTC it would be
        // the next day there).
        member(
            "exif-local.jpg",
            jpeg_with_exif("2019:08:01 23:30:00", None, 2, 3000),
        ),
        member("IMG_0001.JPG", real),
        // Apple's creation date at -08:00 (UTC and Berlin: 2021), the
        // header a day later still.
        member(
            "VID_creationdate.MOV",
            movie_with_dates(1_609_545_600, Some("2020-12-31T23:30:00-0800"), 3, 5000),
        ),
        // Only the header: 1600000000 is 2020-09-13 12:26:40 UTC.
        member(
            "VID_header.mp4",
            movie_with_dates(1_600_000_000, None, 4, 5000),
        ),
        // Its JSON has no taken time, only the upload: the EXIF wins.
        member(
            "uploaded.jpg",
            jpeg_with_exif("2018:05:06 07:08:09", Some("+02:00"), 5, 3000),
        ),
        json(
            "uploaded.jpg.json",
            r#"{"title": "uploaded.jpg", "creationTime": {"timestamp": "1600000000"}}"#,
        ),
        // In the trash: not staged.
        member(
            "gone.jpg",
            jpeg_with_exif("2019:01:01 12:00:00", None, 6, 3000),
        ),
        json(
            "gone.jpg.json",
            r#"{"title": "gone.jpg", "trashed": true,
                "photoTakenTime": {"timestamp": "1546344000"}}"#,
        ),
        // A title kept whole in the JSON.
        member(
            "PXL_cut.jpg",
            jpeg_with_exif("2019:01:02 12:00:00", None, 7, 3000),
        ),
        json(
            "PXL_cut.jpg.json",
            r#"{"title": "PXL_cut & kept whole.jpg",
                "photoTakenTime": {"timestamp": "1562257812"}}"#,
        ),
        // A sidecar whose photo is in no part.
        json(
            "lost.jpg.json",
            r#"{"title": "lost.jpg", "photoTakenTime": {"timestamp": "1562257812"}}"#,
        ),
    ]
}

#[test]
fn photos_without_a_taken_time_land_in_the_day_their_files_say() {
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let (real, real_at) = fixture_jpeg_with_offset(&fixtures);
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    fs::create_dir(&inbox).unwrap();
    let members = members(real);
    // Every member dated 2024-07-01 in the archive: a day no test expects.
    write_zip(
        &inbox.join("takeout-20240701T221728Z-001.zip"),
        &members,
        1_719_835_200,
    )
    .unwrap();
    let mut setup = common::setup::Setup::new();
    setup.set_extra(format!(
        "[[takeout]]\nname = \"{NAME}\"\ninbox = {}\ntime_zone = \"{ZONE}\"\n",
        toml::Value::String(inbox.display().to_string())
    ));
    setup.run_at("2026-03-01T10:00:00Z");
    let out = setup.run_at("2026-03-01T10:11:00Z");
    assert!(out.contains("staged"), "{out}");

    let staged = staged_by_name(&setup);
    let day = |name: &str| {
        let path = staged
            .get(name)
            .unwrap_or_else(|| panic!("{name} not staged: {staged:?}\n{out}"));
        path.strip_prefix(&format!("{NAME}/"))
            .and_then(|p| p.rsplit_once('/'))
            .map(|(folder, _)| folder.to_owned())
            .unwrap()
    };
    assert_eq!(day("exif-offset.jpg"), "2019/07/04");
    assert_eq!(day("exif-local.jpg"), "2019/08/01");
    assert_eq!(
        day("IMG_0001.JPG"),
        real_at.format("%Y/%m/%d").to_string(),
        "the real original at {real_at}"
    );
    assert_eq!(day("VID_creationdate.MOV"), "2020/12/31");
    assert_eq!(day("VID_header.mp4"), "2020/09/13");
    assert_eq!(day("uploaded.jpg"), "2018/05/06");
    assert_eq!(day("PXL_cut.jpg"), "2019/07/04");
    assert!(!staged.contains_key("gone.jpg"), "trashed: {staged:?}");
    assert_eq!(staged.len(), 7, "{staged:?}");

    let xmp = |name: &str| {
        fs::read_to_string(setup.staging().join(format!("{}.xmp", staged[name]))).unwrap()
    };
    let offset = xmp("exif-offset.jpg");
    assert!(
        offset.contains("<photoshop:DateCreated>2019-07-04T23:30:00-05:00<"),
        "{offset}"
    );
    let titled = xmp("PXL_cut.jpg");
    let title = titled
        .split("<dc:title>")
        .nth(1)
        .and_then(|t| t.split("</dc:title>").next())
        .unwrap_or_default();
    assert!(title.contains(">PXL_cut &amp; kept whole.jpg<"), "{titled}");
    assert!(
        !offset.contains("<dc:title>"),
        "no JSON, no title: {offset}"
    );
}
