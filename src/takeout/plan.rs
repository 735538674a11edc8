//! What to stage from a Takeout set once it has been read whole
//! (`ingest`), decided without touching anything: each distinct content
//! (BLAKE3) once, whatever number of album and year folders, parts and
//! earlier exports hold it; with the JSON matched to it (`sidecar_match`)
//! and the albums it is in; at the day it was taken, as shown where it was
//! taken (`metadata`, else the file's own capture time: `camera_time`).
//! Contents the source staged before are left out, and so are contents
//! whose every copy is in Google Photos' trash (as the Photos side leaves
//! out trashed assets), and Takeout's own index page beside its product
//! folders (`Takeout/archive_browser.html`). What a person should know (trashed contents left
//! out, media without JSON, JSON without media, a JSON that does not
//! parse) is counted and named, never dropped silently.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

use super::archive::Modified;
use super::camera_time::CameraTime;
use super::ingest::{Content, SetRead};
use super::metadata::{self, Sidecar};
use super::names;
use super::sidecar_match::match_members;

/// One content to stage.
#[derive(Debug, Clone, PartialEq)]
pub struct ToStage {
    /// The member whose holding file is moved (the first copy read).
    pub member: usize,
    pub hash: String,
    /// The member's file name (untrusted: made safe when staged).
    pub name: String,
    /// From the first copy that has a JSON that parses.
    pub sidecar: Option<Sidecar>,
    /// Album titles of every folder a copy is in, sorted, once each.
    pub albums: Vec<String>,
    /// When it was taken, as shown where it was (its day folder).
    pub taken: DateTime<FixedOffset>,
}

/// The decision for a set.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SetPlan {
    pub stage: Vec<ToStage>,
    /// Distinct contents the source staged in an earlier run.
    pub known: usize,
    /// Media copies beyond the first of their content in this set.
    pub duplicates: usize,
    /// Contents not staged because the JSON of every copy says it is in
    /// Google Photos' trash (the first copy's path, printable). A copy
    /// without JSON, or with one that does not parse, is not known to be
    /// trashed: its content is staged.
    pub trashed: Vec<String>,
    /// Media staged without any JSON (paths, printable).
    pub without_json: Vec<String>,
    /// JSON sidecars whose media is in no part of the set (paths,
    /// printable; album `metadata.json` and Takeout's own files are not
    /// sidecars and are not listed).
    pub json_without_media: Vec<String>,
    /// JSON that did not parse (with why): its media is staged without it.
    pub bad_json: Vec<String>,
}

/// Plans `read` for a source that staged the contents `known` says (by
/// content hash) before. `camera` reads the capture time of a content (by
/// hash) from its bytes; it is asked only for contents whose JSON has no
/// taken time. `zone` is for times without their own offset; `now` dates a
/// file that carries no time at all.
#[must_use]
pub fn plan(
    read: &SetRead,
    known: &dyn Fn(&str) -> bool,
    camera: &dyn Fn(&str) -> Option<CameraTime>,
    zone: &jiff::tz::TimeZone,
    now: DateTime<Utc>,
) -> SetPlan {
    let matching = match_members(&read.members);
    let mut out = SetPlan {
        json_without_media: matching
            .json_without_media
            .iter()
            .map(|&j| crate::printable::printable(&read.members[j].path))
            .collect(),
        ..SetPlan::default()
    };
    let json_of: HashMap<usize, usize> = matching.pairs.iter().map(|p| (p.media, p.json)).collect();
    let mut sidecars: HashMap<usize, Sidecar> = HashMap::new();
    for &json in json_of.values() {
        if sidecars.contains_key(&json) {
            continue;
        }
        let path = &read.members[json].path;
        let parsed = match &read.contents[json] {
            Content::Json(bytes) => metadata::parse_sidecar(path, bytes),
            Content::OversizeJson(size) => Err(metadata::MetadataError::TooLarge {
                member: crate::printable::printable(path),
                size: usize::try_from(*size).unwrap_or(usize::MAX),
            }),
            Content::Media(_) => continue,
        };
        match parsed {
            Ok(s) => {
                sidecars.insert(json, s);
            }
            Err(e) => out.bad_json.push(crate::error_text::describe(&e)),
        }
    }
    let albums = album_titles(read, &matching.album_files);
    // Content hash → the copies of it, in read order.
    let mut by_hash: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (i, content) in read.contents.iter().enumerate() {
        if names::is_takeout_index(&read.members[i].path) {
            continue;
        }
        if let Content::Media(held) = content {
            let copies = by_hash.entry(&held.hash).or_default();
            if copies.is_empty() {
                order.push(&held.hash);
            }
            copies.push(i);
        }
    }
    for hash in order {
        let copies = &by_hash[hash];
        out.duplicates += copies.len() - 1;
        if known(hash) {
            out.known += 1;
            continue;
        }
        let first = copies[0];
        let sidecar_of = |m: &usize| json_of.get(m).and_then(|j| sidecars.get(j));
        // Trashed only when every copy's JSON parsed and says so.
        if copies
            .iter()
            .all(|m| sidecar_of(m).is_some_and(|s| s.trashed))
        {
            out.trashed
                .push(crate::printable::printable(&read.members[first].path));
            continue;
        }
        let sidecar = copies
            .iter()
            .filter_map(sidecar_of)
            .find(|s| !s.trashed)
            .cloned();
        if !copies.iter().any(|m| json_of.contains_key(m)) {
            out.without_json
                .push(crate::printable::printable(&read.members[first].path));
        }
        let mut titles: Vec<String> = copies
            .iter()
            .filter_map(|&m| albums.get(names::folder(&read.members[m].path)).cloned())
            .collect();
        titles.sort();
        titles.dedup();
        let modified = match &read.contents[first] {
            Content::Media(held) => held.modified,
            Content::Json(_) | Content::OversizeJson(_) => None,
        };
        out.stage.push(ToStage {
            member: first,
            hash: hash.to_owned(),
            name: names::file_name(&read.members[first].path).to_owned(),
            taken: taken(sidecar.as_ref(), &|| camera(hash), modified, zone, now),
            sidecar,
            albums: titles,
        });
    }
    out
}

/// Folder → album title, from the album metadata files that parse.
fn album_titles(read: &SetRead, album_files: &[usize]) -> HashMap<String, String> {
    album_files
        .iter()
        .filter_map(|&i| {
            let path = &read.members[i].path;
            let Content::Json(bytes) = &read.contents[i] else {
                return None;
            };
            let title = metadata::parse_album(path, bytes).ok()?.title?;
            Some((names::folder(path).to_owned(), title))
        })
        .collect()
}

/// The taken time as shown (issue 19's order): the JSON's taken time,
/// else the file's own capture time (`camera`, at its own offset when it
/// has one), else the JSON's creation (upload) time, else the member's
/// time in the archive (a zip's is local time without a zone: read in
/// `zone`), else `now`.
fn taken(
    sidecar: Option<&Sidecar>,
    camera: &dyn Fn() -> Option<CameraTime>,
    modified: Option<Modified>,
    zone: &jiff::tz::TimeZone,
    now: DateTime<Utc>,
) -> DateTime<FixedOffset> {
    if let Some(at) = sidecar.and_then(|s| s.taken) {
        return metadata::shown_at(at, None, zone);
    }
    if let Some(own) = camera() {
        return own.shown(zone);
    }
    if let Some(at) = sidecar.and_then(|s| s.created) {
        return metadata::shown_at(at, None, zone);
    }
    match modified {
        Some(Modified::Unix(secs)) => {
            if let Some(at) = Utc.timestamp_opt(secs, 0).single() {
                return metadata::shown_at(at, None, zone);
            }
        }
        Some(Modified::Dos(local)) => {
            // Local time of the writer: its date is the date shown.
            let probe = metadata::shown_at(local.and_utc(), None, zone);
            if let Some(at) = probe.offset().from_local_datetime(&local).single() {
                return at;
            }
        }
        None => {}
    }
    metadata::shown_at(now, None, zone)
}

/// A file name for `name` in a day folder that is not in `taken` (path keys
/// as `path_key` makes them): the name made safe, or, when that is taken,
/// with the start of the content hash before the extension.
#[must_use]
pub fn unique_name(safe: &str, hash: &str, taken: &dyn Fn(&str) -> bool) -> String {
    if !taken(safe) {
        return safe.to_owned();
    }
    let (stem, ext) = names::split_extension(safe);
    format!("{stem}~{}{ext}", &hash[..hash.len().min(12)])
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::ingest::Held;
    use super::super::sidecar_match::Member;
    use super::*;

    fn media(hash: &str) -> Content {
        Content::Media(Held {
            file: PathBuf::from("/h"),
            size: 1,
            hash: hash.into(),
            modified: Some(Modified::Unix(1_700_000_000)),
        })
    }

    fn json(text: &str) -> Content {
        Content::Json(text.as_bytes().to_vec())
    }

    fn set(members: Vec<(&str, Content)>) -> SetRead {
        let (paths, contents): (Vec<_>, Vec<_>) = members.into_iter().unzip();
        SetRead {
            members: paths
                .into_iter()
                .map(|p| Member {
                    part: 0,
                    path: p.into(),
                })
                .collect(),
            contents,
            refused: Vec::new(),
        }
    }

    #[test]
    fn each_content_once_with_its_json_albums_and_day() {
        let read = set(vec![
            ("Takeout/Google Photos/Photos from 2019/a.jpg", media("h1")),
            (
                "Takeout/Google Photos/Photos from 2019/a.jpg.json",
                json(r#"{"photoTakenTime": {"timestamp": "1562194800"}}"#),
            ),
            ("Takeout/Google Photos/Trip/a.jpg", media("h1")),
            (
                "Takeout/Google Photos/Trip/metadata.json",
                json(r#"{"title": "Trip"}"#),
            ),
            ("Takeout/Google Photos/Photos from 2019/b.jpg", media("h2")),
            ("Takeout/Google Photos/Photos from 2019/c.jpg", media("h3")),
            (
                "Takeout/Google Photos/Photos from 2019/c.jpg.json",
                json("{not json"),
            ),
        ]);
        let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let p = plan(&read, &|h| h == "h3", &|_| None, &zone, Utc::now());
        assert_eq!((p.known, p.duplicates), (1, 1));
        assert_eq!(p.stage.len(), 2);
        let a = &p.stage[0];
        assert_eq!((a.hash.as_str(), a.name.as_str()), ("h1", "a.jpg"));
        assert_eq!(a.albums, ["Trip"]);
        // 2019-07-03 23:00 UTC is the 4th in Berlin.
        assert_eq!(a.taken.to_rfc3339(), "2019-07-04T01:00:00+02:00");
        assert!(a.sidecar.is_some());
        // No JSON: the archive's time, listed.
        assert_eq!(p.stage[1].taken.date_naive().to_string(), "2023-11-14");
        assert_eq!(
            p.without_json,
            ["Takeout/Google Photos/Photos from 2019/b.jpg"]
        );
        assert_eq!(p.bad_json.len(), 1, "{:?}", p.bad_json);
        assert!(p.bad_json[0].contains("c.jpg.json"), "{:?}", p.bad_json);
    }

    #[test]
    fn the_day_comes_from_json_then_camera_then_upload_then_archive() {
        use std::cell::RefCell;

        use chrono::NaiveDate;

        let dir = "Takeout/Google Photos/Photos from 2020";
        let read = set(vec![
            // JSON taken time: the camera is not asked.
            (&format!("{dir}/taken.jpg"), media("taken")),
            (
                &format!("{dir}/taken.jpg.json"),
                json(
                    r#"{"photoTakenTime": {"timestamp": "1577836800"},
                        "creationTime": {"timestamp": "1600000000"}}"#,
                ),
            ),
            // Only an upload time: the camera first, then the upload.
            (&format!("{dir}/camera.jpg"), media("camera")),
            (
                &format!("{dir}/camera.jpg.json"),
                json(r#"{"creationTime": {"timestamp": "1600000000"}}"#),
            ),
            (&format!("{dir}/upload.jpg"), media("upload")),
            (
                &format!("{dir}/upload.jpg.json"),
                json(r#"{"creationTime": {"timestamp": "1600000000"}}"#),
            ),
            // No JSON: the camera, else the archive's time.
            (&format!("{dir}/local.jpg"), media("local")),
            (&format!("{dir}/bare.jpg"), media("bare")),
        ]);
        let asked = RefCell::new(Vec::new());
        let camera = |hash: &str| {
            asked.borrow_mut().push(hash.to_owned());
            let at = NaiveDate::from_ymd_opt(2021, 3, 4)?.and_hms_opt(23, 30, 0)?;
            match hash {
                "camera" => Some(CameraTime::Zoned(
                    FixedOffset::west_opt(5 * 3600)?
                        .from_local_datetime(&at)
                        .single()?,
                )),
                "local" => Some(CameraTime::Local(at)),
                _ => None,
            }
        };
        let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let p = plan(&read, &|_| false, &camera, &zone, Utc::now());
        let day: HashMap<&str, String> = p
            .stage
            .iter()
            .map(|s| (s.hash.as_str(), s.taken.to_rfc3339()))
            .collect();
        // 2020-01-01 00:00 UTC is 01:00 in Berlin.
        assert_eq!(day["taken"], "2020-01-01T01:00:00+01:00");
        // The camera's own offset, not Berlin's: still the 4th.
        assert_eq!(day["camera"], "2021-03-04T23:30:00-05:00");
        // 1600000000 is 2020-09-13 12:26:40 UTC.
        assert_eq!(day["upload"], "2020-09-13T14:26:40+02:00");
        assert_eq!(day["local"], "2021-03-04T23:30:00+01:00");
        // 1700000000 (the member's time) is 2023-11-14 22:13:20 UTC.
        assert_eq!(day["bare"], "2023-11-14T23:13:20+01:00");
        assert_eq!(*asked.borrow(), ["camera", "upload", "local", "bare"]);
    }

    #[test]
    fn a_content_trashed_in_every_copy_is_left_out_and_listed() {
        let y = "Takeout/Google Photos/Photos from 2021";
        let a = "Takeout/Google Photos/Trip";
        let trashed = r#"{"trashed": true, "photoTakenTime": {"timestamp": "1610000000"}}"#;
        let kept = r#"{"archived": true, "photoTakenTime": {"timestamp": "1610000000"}}"#;
        let read = set(vec![
            // Trashed in both copies: left out.
            (&format!("{y}/gone.jpg"), media("gone")),
            (&format!("{y}/gone.jpg.json"), json(trashed)),
            (&format!("{a}/gone.jpg"), media("gone")),
            (&format!("{a}/gone.jpg.json"), json(trashed)),
            // Trashed in one copy only: staged, with the other's JSON.
            (&format!("{y}/half.jpg"), media("half")),
            (&format!("{y}/half.jpg.json"), json(trashed)),
            (&format!("{a}/half.jpg"), media("half")),
            (&format!("{a}/half.jpg.json"), json(kept)),
            // Trashed, but another copy has no JSON: staged.
            (&format!("{y}/nojson.jpg"), media("nojson")),
            (&format!("{y}/nojson.jpg.json"), json(trashed)),
            (&format!("{a}/nojson-copy.jpg"), media("nojson")),
            // Archived: staged as usual.
            (&format!("{y}/archived.jpg"), media("archived")),
            (&format!("{y}/archived.jpg.json"), json(kept)),
            // A trashed content staged before stays known.
            (&format!("{y}/old.jpg"), media("old")),
            (&format!("{y}/old.jpg.json"), json(trashed)),
            // A sidecar whose media is in no part.
            (&format!("{y}/lost.jpg.json"), json(kept)),
            (&format!("{a}/metadata.json"), json(r#"{"title": "Trip"}"#)),
        ]);
        let zone = jiff::tz::TimeZone::UTC;
        let p = plan(&read, &|h| h == "old", &|_| None, &zone, Utc::now());
        let staged: Vec<&str> = p.stage.iter().map(|s| s.hash.as_str()).collect();
        assert_eq!(staged, ["half", "nojson", "archived"]);
        assert_eq!(p.trashed, [format!("{y}/gone.jpg")]);
        assert_eq!((p.known, p.duplicates), (1, 3));
        let half = &p.stage[0];
        let sidecar = half.sidecar.as_ref().unwrap();
        assert!(sidecar.archived && !sidecar.trashed);
        assert!(p.stage[2].sidecar.as_ref().unwrap().archived);
        assert_eq!(p.json_without_media, [format!("{y}/lost.jpg.json")]);
        assert!(p.without_json.is_empty(), "{:?}", p.without_json);
    }

    #[test]
    fn a_taken_name_gets_the_hash() {
        let taken = |n: &str| n == "a.jpg";
        assert_eq!(unique_name("b.jpg", "0123456789abcdef", &taken), "b.jpg");
        assert_eq!(
            unique_name("a.jpg", "0123456789abcdef", &taken),
            "a~0123456789ab.jpg"
        );
    }
}
