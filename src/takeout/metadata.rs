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
//! no offset (EXIF `OffsetTimeOriginal`, read by the wiring of the Takeout
//! source, not here), the configured `time_zone` of the `[[takeout]]`
//! decides ([`shown_at`]).

use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};
use serde::Deserialize;

use crate::printable::printable;

/// The largest JSON parsed: real sidecars are about a kilobyte; a larger
/// member named `.json` is not one of Google's.
pub const MAX_JSON_BYTES: usize = 1 << 20;

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
    let time = |key: &'static str, t: Option<RawTime>| -> Result<_, MetadataError> {
        t.map(|t| {
            seconds(&t.timestamp).ok_or_else(|| MetadataError::Timestamp {
                member: printable(member),
                key,
                value: printable(&t.timestamp),
            })
        })
        .transpose()
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

/// When a photo was taken, for its folder and its sidecar: the first of
/// the JSON's `photoTakenTime`, the file's own (EXIF) time and the JSON's
/// `creationTime` (issue 19's order).
#[must_use]
pub fn taken_instant(
    sidecar: Option<&Sidecar>,
    own: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    sidecar
        .and_then(|s| s.taken)
        .or(own)
        .or_else(|| sidecar.and_then(|s| s.created))
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
