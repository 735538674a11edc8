//! Assets the six fixture libraries do not hold: videos of iCloud shared
//! albums (`UUID.medium.MP4` beside a `UUID.poster.JPG`, where osxphotos
//! finds them) and a photo dated at the Unix epoch in a named time zone
//! whose offset then differs from the one Photos stored. Built in synthetic
//! libraries and in a private copy of a real library.

mod common;

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use photos_backup::photos::{Asset, ResourceRole};
use synthetic::{AssetSpec, Flavor, SyntheticLibrary};

const VIDEO: &str = "5A4E0001-0000-4000-8000-000000000001";
const PHOTO: &str = "5A4E0002-0000-4000-8000-000000000002";
const CLOUD_VIDEO: &str = "5A4E0003-0000-4000-8000-000000000003";
const ALBUM: &str = "17058154511/9F9A2608-AFE0-4232-A0DC-5ABA7317B978";

fn created() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap()
}

fn shared_library(flavor: Flavor, root: &Path) {
    let shared = Some(ALBUM.to_owned());
    SyntheticLibrary::new(flavor)
        .asset(AssetSpec {
            shared_album: shared.clone(),
            ..AssetSpec::movie(VIDEO, created())
        })
        .asset(AssetSpec {
            shared_album: shared.clone(),
            ..AssetSpec::photo(PHOTO, created())
        })
        .asset(AssetSpec {
            shared_album: shared,
            cloud_only: true,
            ..AssetSpec::movie(CLOUD_VIDEO, created())
        })
        .write(root)
        .unwrap();
}

fn by_uuid<'a>(assets: &'a [Asset], uuid: &str) -> &'a Asset {
    assets.iter().find(|a| a.uuid == uuid).expect(uuid)
}

fn original(a: &Asset) -> (String, bool) {
    let r = a
        .resources
        .iter()
        .find(|r| r.role == ResourceRole::Original)
        .expect("an original resource");
    (r.path.clone(), r.present)
}

#[test]
fn shared_album_videos_are_found_in_the_store_of_each_photos_version() {
    for (flavor, store) in [
        (Flavor::Photos5, "resources/cloudsharing/data"),
        (Flavor::Modern, "scopes/cloudsharing/data"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("Shared.photoslibrary");
        shared_library(flavor, &root);
        let assets = common::all_assets(&root);

        let video = by_uuid(&assets, VIDEO);
        let want = format!("{store}/{ALBUM}/{VIDEO}.medium.MP4");
        assert!(
            root.join(&want).is_file(),
            "{flavor:?}: the library holds {want}"
        );
        assert!(video.shared && video.ismovie, "{flavor:?}");
        assert_eq!(video.path.as_deref(), Some(want.as_str()), "{flavor:?}");
        assert_eq!(original(video), (want, true), "{flavor:?}");
        // The poster frame is not mistaken for the video.
        assert!(!video.resources.iter().any(|r| r.path.contains("poster")));

        let photo = by_uuid(&assets, PHOTO);
        let want = format!("{store}/{ALBUM}/{PHOTO}.jpeg");
        assert_eq!(photo.path.as_deref(), Some(want.as_str()), "{flavor:?}");

        // A shared video whose file is still in iCloud: listed, not present.
        let cloud = by_uuid(&assets, CLOUD_VIDEO);
        assert_eq!(cloud.path, None, "{flavor:?}");
        let (path, present) = original(cloud);
        assert!(
            path.ends_with(&format!("{CLOUD_VIDEO}.medium.MP4")),
            "{path}"
        );
        assert!(!present);
    }
}

#[test]
fn shared_video_is_staged_from_a_real_library_with_one_added() {
    let Some((_tmp, lib)) = common::fixture_copy("Test-Shared-10.15.1") else {
        return;
    };
    // Turn the real shared photo 35243F7D into a shared video, as Photos
    // stores one: a movie row, the video as UUID.medium.MP4 and a poster
    // frame beside it, no UUID.JPG.
    let uuid = "35243F7D-88C4-4408-B516-C74406E90C15";
    let dir = lib.join("resources/cloudsharing/data").join(ALBUM);
    let video_bytes = b"\0\0\0\x18ftypmp42 a shared video, not a photo".to_vec();
    std::fs::remove_file(dir.join(format!("{uuid}.JPG"))).unwrap();
    std::fs::write(dir.join(format!("{uuid}.medium.MP4")), &video_bytes).unwrap();
    std::fs::write(dir.join(format!("{uuid}.poster.JPG")), b"poster").unwrap();
    let conn = rusqlite::Connection::open(lib.join("database/Photos.sqlite")).unwrap();
    let changed = conn
        .execute(
            "UPDATE ZGENERICASSET SET ZKIND = 1, ZFILENAME = ?1, \
             ZUNIFORMTYPEIDENTIFIER = 'public.mpeg-4' WHERE ZUUID = ?2",
            [format!("{uuid}.MP4"), uuid.to_owned()],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);

    let listed = common::assets_json(&lib, &[]);
    let video = listed.iter().find(|a| a["uuid"] == uuid).unwrap();
    let want = format!("resources/cloudsharing/data/{ALBUM}/{uuid}.medium.MP4");
    assert_eq!(video["path"], want.as_str());
    assert_eq!(video["ismovie"], true);

    let mut setup = common::setup::Setup::new();
    setup.add_library("s", &lib);
    setup.run_ok();
    let staged = setup.staged("s");
    let (path, size, _) = &staged[&(uuid.to_owned(), "original".to_owned())];
    assert_eq!(*size, video_bytes.len() as u64);
    assert_eq!(
        std::fs::read(setup.staging().join(path)).unwrap(),
        video_bytes
    );
}

#[test]
fn an_epoch_date_takes_the_offset_its_named_zone_had_then() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("Epoch.photoslibrary");
    let uuid = "5A4E0004-0000-4000-8000-000000000004";
    let fixed = "5A4E0005-0000-4000-8000-000000000005";
    SyntheticLibrary::new(Flavor::Custom {
        model_version: 16_320,
    })
    .asset(AssetSpec {
        // Photos stored the summer offset of the zone, -05:00.
        tz_offset: Some(-18_000),
        tz_name: Some("America/Chicago".into()),
        ..AssetSpec::photo(uuid, DateTime::<Utc>::UNIX_EPOCH)
    })
    .asset(AssetSpec {
        tz_offset: Some(-18_000),
        tz_name: Some("GMT-0500".into()),
        ..AssetSpec::photo(fixed, DateTime::<Utc>::UNIX_EPOCH)
    })
    .write(&root)
    .unwrap();
    let listed = common::assets_json(&root, &[]);
    let date = |u: &str| {
        listed.iter().find(|a| a["uuid"] == u).unwrap()["date"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // As osxphotos gives it: the zone's offset at that instant (CST).
    assert_eq!(date(uuid), "1969-12-31T18:00:00-06:00");
    // A fixed-offset name is no IANA zone: the stored offset stands.
    assert_eq!(date(fixed), "1969-12-31T19:00:00-05:00");
}
