//! What a Google Takeout JSON says about a photo, and an album's title.
//! Google writes one JSON per media file (`photoTakenTime`, `geoData`,
//! `people`, ...) and one `metadata.json` per album folder; neither is
//! documented, so parsing keeps what the backup uses, checks the type of
//! each of those fields, and ignores every other field (Google adds some
//! now and then: `googlePhotosOrigin`, `appSource`, ...). A JSON that does
//! not parse is an error naming the member and the place in it, never a
//! photo with made-up metadata.
//!
//! The day folder of a photo: Google gives the instant it was taken in UTC
//! seconds, without the offset of the place. When the file itself carries
//! no offset (EXIF `OffsetTimeOriginal`, read by `camera_time`), the
//! configured `time_zone` of the `[[takeout]]` decides ([`shown_at`]).

use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};
use serde::Deserialize;

use crate::printable::printable;

/// The largest JSON parsed: real sidecars are about a kilobyte; a larger
/// member named `.json` is not one of Google's.
pub(crate) const MAX_JSON_BYTES: usize = 1 << 20;

/// A media file's metadata from its JSON.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sidecar {
    /// The file's name as it was uploaded, never cut (Google Photos has no
    /// separate title: immich-go `docs/google-takeout.md`, "The title has
    /// the original image name").
    pub title: Option<String>,
    /// The caption the user wrote.
    pub description: Option<String>,
    /// `photoTakenTime`: when it was taken.
    pub taken: Option<DateTime<Utc>>,
    /// `creationTime`: when it was uploaded.
    pub created: Option<DateTime<Utc>>,
    /// `geoData`, else `geoDataExif`; `0,0` is no place.
    pub location: Option<(f64, f64)>,
    pub people: Vec<String>,
    pub favorite: bool,
    /// `trashed`: in Google Photos' trash when exported (`plan` leaves a
    /// content out when every copy is).
    pub trashed: bool,
    /// `archived`: hidden from the Photos view in Google Photos; staged
    /// like any other.
    pub archived: bool,
}

/// An album folder's `metadata.json`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Album {
    /// Empty for an untitled album.
    pub title: Option<String>,
}

/// Why a JSON member could not be read as Takeout metadata.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("{member}: not Takeout metadata (at {at})")]
    Json {
        member: String,
        at: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{member}: {key} is not a time in whole seconds: {value:?}")]
    Timestamp {
        member: String,
        key: &'static str,
        value: String,
    },
    #[error("{member}: {size} bytes, more than a Takeout JSON has ({MAX_JSON_BYTES})")]
    TooLarge { member: String, size: usize },
}

#[derive(Deserialize)]
struct RawSidecar {
    title: Option<String>,
    description: Option<String>,
    #[serde(rename = "photoTakenTime")]
    photo_taken_time: Option<RawTime>,
    #[serde(rename = "creationTime")]
    creation_time: Option<RawTime>,
    #[serde(rename = "geoData")]
    geo_data: Option<RawPlace>,
    #[serde(rename = "geoDataExif")]
    geo_data_exif: Option<RawPlace>,
    #[serde(default)]
    people: Vec<RawPerson>,
    #[serde(default)]
    favorited: bool,
    #[serde(default)]
    trashed: bool,
    #[serde(default)]
    archived: bool,
}

/// `{"timestamp": "1258375918", "formatted": "16 Nov 2009, 12:51:58 UTC"}`:
/// seconds as a string; `formatted` is for people and localized.
#[derive(Deserialize)]
struct RawTime {
    timestamp: String,
}

#[derive(Deserialize)]
struct RawPlace {
    latitude: f64,
    longitude: f64,
}

#[derive(Deserialize)]
struct RawPerson {
    name: String,
}

#[derive(Deserialize)]
struct RawAlbum {
    title: Option<String>,
}

/// Deserializes `bytes` of the member `member`, naming it and the place in
/// the JSON when it does not parse.
fn parse<'de, T: Deserialize<'de>>(member: &str, bytes: &'de [u8]) -> Result<T, MetadataError> {
    if bytes.len() > MAX_JSON_BYTES {
        return Err(MetadataError::TooLarge {
            member: printable(member),
            size: bytes.len(),
        });
    }
    let json = |at: String, source| MetadataError::Json {
        member: printable(member),
        at,
        source,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| json(printable(&e.path().to_string()), e.into_inner()))?;
    de.end().map_err(|e| json("the end".to_owned(), e))?;
    Ok(value)
}

/// The metadata in a media file's JSON.
pub fn parse_sidecar(member: &str, bytes: &[u8]) -> Result<Sidecar, MetadataError> {
    let raw: RawSidecar = parse(member, bytes)?;
    // `"0"` is no time (immich-go reads it so too): the file's own time
    // or the next one in line dates the photo, not 1970.
    let time = |key: &'static str, t: Option<RawTime>| -> Result<_, MetadataError> {
        t.map(|t| {
            seconds(&t.timestamp).ok_or_else(|| MetadataError::Timestamp {
                member: printable(member),
                key,
                value: printable(&t.timestamp),
            })
        })
        .transpose()
        .map(|at| at.filter(|at| at.timestamp() != 0))
    };
    let place = |p: Option<RawPlace>| {
        p.map(|p| (p.latitude, p.longitude))
            .filter(|&(lat, lon)| lat != 0.0 || lon != 0.0)
    };
    Ok(Sidecar {
        title: raw.title.filter(|t| !t.is_empty()),
        description: raw.description.filter(|d| !d.trim().is_empty()),
        taken: time("photoTakenTime.timestamp", raw.photo_taken_time)?,
        created: time("creationTime.timestamp", raw.creation_time)?,
        location: place(raw.geo_data).or_else(|| place(raw.geo_data_exif)),
        people: raw
            .people
            .into_iter()
            .map(|p| p.name)
            .filter(|n| !n.trim().is_empty())
            .collect(),
        favorite: raw.favorited,
        trashed: raw.trashed,
        archived: raw.archived,
    })
}

/// The title in an album's `metadata.json`.
pub fn parse_album(member: &str, bytes: &[u8]) -> Result<Album, MetadataError> {
    let raw: RawAlbum = parse(member, bytes)?;
    Ok(Album {
        title: raw.title.filter(|t| !t.trim().is_empty()),
    })
}

/// Whole seconds since 1970 written as a decimal string (a sign allowed).
fn seconds(text: &str) -> Option<DateTime<Utc>> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Utc.timestamp_opt(text.parse().ok()?, 0).single()
}

/// `instant` as shown where the photo was taken: at the file's own offset
/// when it has one, else in `zone` (the `[[takeout]]`'s `time_zone`) at
/// that instant, daylight saving included.
#[must_use]
pub fn shown_at(
    instant: DateTime<Utc>,
    own_offset: Option<FixedOffset>,
    zone: &jiff::tz::TimeZone,
) -> DateTime<FixedOffset> {
    let offset = own_offset.unwrap_or_else(|| {
        let seconds = jiff::Timestamp::from_second(instant.timestamp())
            .map_or(0, |at| zone.to_offset(at).seconds());
        FixedOffset::east_opt(seconds).unwrap_or_else(|| Utc.fix())
    });
    instant.with_timezone(&offset)
}

#[cfg(test)]
mod tests {
    use chrono::Timelike;

    use super::*;

    /// A sidecar as Google writes it (open-noodle/gallery issue 404), with
    /// people, a favorite and the archive flag added (the flags' names as
    /// immich-go reads them: `adapters/googlePhotos/json.go`) and fields we
    /// do not read.
    const FULL: &str = r#"{
  "title": "IMG_3397.JPG",
  "description": "Chengdu, with Anna",
  "imageViews": "2973",
  "creationTime": {"timestamp": "1258549448", "formatted": "18 Nov 2009, 13:04:08 UTC"},
  "photoTakenTime": {"timestamp": "1258375918", "formatted": "16 Nov 2009, 12:51:58 UTC"},
  "geoData": {"latitude": 30.657819000000003, "longitude": 104.0739, "altitude": 0.0,
              "latitudeSpan": 0.0, "longitudeSpan": 0.0},
  "geoDataExif": {"latitude": 30.6578197, "longitude": 104.0738983, "altitude": 486.2,
                  "latitudeSpan": 0.0, "longitudeSpan": 0.0},
  "people": [{"name": "Anna"}, {"name": "  "}, {"name": "Bob"}],
  "favorited": true,
  "archived": true,
  "url": "https://photos.google.com/photo/AF1Qip",
  "googlePhotosOrigin": {"mobileUpload": {"deviceType": "ANDROID_PHONE"}}
}"#;

    #[test]
    fn a_full_sidecar() {
        let s =
            parse_sidecar("Takeout/Google Photos/x/IMG_3397.JPG.json", FULL.as_bytes()).unwrap();
        assert_eq!(s.title.as_deref(), Some("IMG_3397.JPG"));
        assert_eq!(s.description.as_deref(), Some("Chengdu, with Anna"));
        assert_eq!(s.taken, Utc.timestamp_opt(1_258_375_918, 0).single());
        assert_eq!(s.created, Utc.timestamp_opt(1_258_549_448, 0).single());
        assert_eq!(s.location, Some((30.657_819_000_000_003, 104.0739)));
        assert_eq!(s.people, vec!["Anna".to_owned(), "Bob".to_owned()]);
        assert!(s.favorite);
        assert!(s.archived);
        assert!(!s.trashed);
        let trashed = parse_sidecar("a.json", br#"{"trashed": true}"#).unwrap();
        assert!(trashed.trashed && !trashed.archived && !trashed.favorite);
    }

    #[test]
    fn a_sparse_sidecar() {
        let s = parse_sidecar("a.json", br#"{"title": "", "description": " "}"#).unwrap();
        assert_eq!(s, Sidecar::default());
        let zero = br#"{"photoTakenTime": {"timestamp": "0"}, "creationTime": {"timestamp": "0"}}"#;
        assert_eq!(parse_sidecar("a.json", zero).unwrap(), Sidecar::default());
    }

    #[test]
    fn zero_zero_is_no_place() {
        let place = |geo: &str, exif: &str| {
            let json = format!(
                r#"{{"geoData": {{"latitude": {geo}}}, "geoDataExif": {{"latitude": {exif}}}}}"#
            );
            parse_sidecar("a.json", json.as_bytes()).unwrap().location
        };
        assert_eq!(
            place("1.5, \"longitude\": 2.5", "3.0, \"longitude\": 4.0"),
            Some((1.5, 2.5))
        );
        assert_eq!(
            place("0.0, \"longitude\": 0.0", "3.0, \"longitude\": 4.0"),
            Some((3.0, 4.0))
        );
        assert_eq!(
            place("0.0, \"longitude\": 0.0", "0.0, \"longitude\": 0.0"),
            None
        );
        // On the equator or the meridian is a place.
        assert_eq!(
            place("0.0, \"longitude\": 4.0", "0, \"longitude\": 0"),
            Some((0.0, 4.0))
        );
    }

    #[test]
    fn errors_name_the_member_and_the_place() {
        let member = "Takeout/Google Photos/x/IMG\u{1b}.jpg.json";
        let err = |json: &str| {
            let e = parse_sidecar(member, json.as_bytes()).unwrap_err();
            crate::error_text::describe(&e)
        };
        let wrong_type = err(r#"{"photoTakenTime": {"timestamp": 1258375918}}"#);
        assert!(wrong_type.contains("IMG\\u{1b}.jpg.json"), "{wrong_type}");
        assert!(
            wrong_type.contains("photoTakenTime.timestamp"),
            "{wrong_type}"
        );
        let people = err(r#"{"people": [{"name": 3}]}"#);
        assert!(people.contains("people[0].name"), "{people}");
        let favorite = err(r#"{"favorited": "yes"}"#);
        assert!(favorite.contains("favorited"), "{favorite}");
        let trashed = err(r#"{"trashed": 1}"#);
        assert!(trashed.contains("trashed"), "{trashed}");
        let bad_seconds = err(r#"{"creationTime": {"timestamp": "12.5"}}"#);
        assert!(
            bad_seconds.contains("creationTime.timestamp"),
            "{bad_seconds}"
        );
        assert!(bad_seconds.contains("\"12.5\""), "{bad_seconds}");
        let truncated = err(r#"{"title": "IMG"#);
        assert!(truncated.contains("not Takeout metadata"), "{truncated}");
        let trailing = err("{} {}");
        assert!(trailing.contains("the end"), "{trailing}");
        let not_object = err("[]");
        assert!(not_object.contains("IMG"), "{not_object}");
        let big = vec![b' '; MAX_JSON_BYTES + 1];
        let e = parse_sidecar(member, &big).unwrap_err();
        assert!(matches!(e, MetadataError::TooLarge { .. }), "{e}");
    }

    #[test]
    fn seconds_are_whole_and_in_range() {
        assert_eq!(seconds("0"), Utc.timestamp_opt(0, 0).single());
        assert_eq!(seconds("-86400"), Utc.timestamp_opt(-86_400, 0).single());
        for bad in ["", "-", "+5", " 5", "5 ", "1e9", "0x10", "9999999999999"] {
            assert_eq!(seconds(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn album_titles() {
        let a = parse_album(
            "Takeout/Google Photos/Urlaub/Metadaten.json",
            br#"{"title": "Urlaub 2019", "description": "", "access": "protected",
                 "date": {"timestamp": "1563000000", "formatted": "13.07.2019"}}"#,
        )
        .unwrap();
        assert_eq!(a.title.as_deref(), Some("Urlaub 2019"));
        assert_eq!(
            parse_album("m.json", br#"{"title": ""}"#).unwrap().title,
            None
        );
        assert!(parse_album("m.json", br#"{"title": []}"#).is_err());
    }

    #[test]
    fn the_day_follows_the_configured_zone_unless_the_file_has_an_offset() {
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        // 2023-07-01 22:30 UTC is the 2nd in Berlin (summer, +02:00).
        let summer = Utc.with_ymd_and_hms(2023, 7, 1, 22, 30, 0).unwrap();
        let shown = shown_at(summer, None, &berlin);
        assert_eq!(shown.to_rfc3339(), "2023-07-02T00:30:00+02:00");
        // Winter: +01:00, still the 1st at 22:30 UTC + 1.
        let winter = Utc.with_ymd_and_hms(2023, 1, 1, 22, 30, 0).unwrap();
        assert_eq!(
            shown_at(winter, None, &berlin).to_rfc3339(),
            "2023-01-01T23:30:00+01:00"
        );
        // The file's own offset wins.
        let new_york = FixedOffset::west_opt(4 * 3600).unwrap();
        let own = shown_at(summer, Some(new_york), &berlin);
        assert_eq!(own.to_rfc3339(), "2023-07-01T18:30:00-04:00");
        assert_eq!(own.hour(), 18);
        assert_eq!(
            shown_at(summer, None, &jiff::tz::TimeZone::UTC).to_rfc3339(),
            "2023-07-01T22:30:00+00:00"
        );
    }
}
