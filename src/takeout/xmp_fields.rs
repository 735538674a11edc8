//! A Takeout media file's metadata as the fields of its XMP sidecar, for
//! the one XMP writer Photos uses too (`export::xmp`). Google has no title
//! apart from the file name: the JSON `title` (the name as uploaded, never
//! cut) is both the `dc:title` issue 19 asks for and the original file
//! name in our namespace; the caption is the description; the people,
//! favorite, albums and place are kept; the identifier is the content
//! hash, the same in every part, folder and scheduled export.

use chrono::{DateTime, FixedOffset};

use super::metadata::Sidecar;
use crate::export::xmp::{fingerprint_of, Fields, Identity};

/// The sidecar fields of a media file: its JSON (if any parsed), when it
/// was taken as shown (`metadata::shown_at`), the titles of the albums it
/// is in, its content hash and its name in the export (used when the JSON
/// has no title).
#[must_use]
pub fn fields<'a>(
    sidecar: Option<&'a Sidecar>,
    taken: DateTime<FixedOffset>,
    albums: &[&'a str],
    content_hash: &'a str,
    member_name: &'a str,
) -> Fields<'a> {
    Fields {
        title: sidecar.and_then(|s| s.title.as_deref()),
        description: sidecar.and_then(|s| s.description.as_deref()),
        keywords: Vec::new(),
        persons: sidecar.map_or_else(Vec::new, |s| s.people.iter().map(String::as_str).collect()),
        albums: albums.to_vec(),
        created: taken,
        modified: None,
        location: sidecar.and_then(|s| s.location),
        favorite: sidecar.is_some_and(|s| s.favorite),
        identity: Identity::Takeout {
            content_hash,
            original_filename: sidecar
                .and_then(|s| s.title.as_deref())
                .unwrap_or(member_name),
        },
    }
}

/// A fingerprint of a Takeout sidecar: of its fields (and the writer's
/// source, `export::xmp::fingerprint_of`) and of the sources that turn a
/// JSON into fields (this file and `metadata.rs`), so that a change to
/// either rewrites every Takeout sidecar once. Same fingerprint, same
/// sidecar.
#[must_use]
pub fn fingerprint(fields: &Fields) -> String {
    static MAPPING: std::sync::OnceLock<blake3::Hash> = std::sync::OnceLock::new();
    let mapping = MAPPING.get_or_init(|| {
        let mut h = blake3::Hasher::new();
        h.update(include_bytes!("xmp_fields.rs"));
        h.update(include_bytes!("metadata.rs"));
        h.finalize()
    });
    let mut h = blake3::Hasher::new();
    h.update(mapping.as_bytes());
    h.update(fingerprint_of(fields).as_bytes());
    format!("xmp-takeout:{}", h.finalize().to_hex())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::export::xmp::write;
    use crate::takeout::metadata::{parse_sidecar, shown_at};

    const JSON: &str = r#"{
  "title": "IMG_20190704_183012_long_original_name_kept_whole.jpg",
  "description": "Fireworks & <friends>",
  "photoTakenTime": {"timestamp": "1562257812"},
  "creationTime": {"timestamp": "1562300000"},
  "geoData": {"latitude": 0.0, "longitude": 0.0},
  "geoDataExif": {"latitude": 52.520008, "longitude": 13.404954},
  "people": [{"name": "Zoë"}, {"name": "Anna"}],
  "favorited": true
}"#;

    const HASH: &str = "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";

    /// The value of the element `name`, or of its one list item.
    fn value<'x>(xml: &'x str, name: &str) -> Vec<&'x str> {
        let Some(start) = xml.find(&format!("<{name}>")) else {
            return vec![];
        };
        let body = &xml[start + name.len() + 2..];
        let body = &body[..body.find(&format!("</{name}>")).unwrap()];
        if body.contains("<rdf:li") {
            body.split("<rdf:li")
                .skip(1)
                .map(|li| {
                    let li = &li[li.find('>').unwrap() + 1..];
                    &li[..li.find("</rdf:li>").unwrap()]
                })
                .collect()
        } else {
            vec![body]
        }
    }

    #[test]
    fn a_takeout_sidecar_field_by_field() {
        let sidecar =
            parse_sidecar("Takeout/Google Photos/Berlin/IMG.jpg.json", JSON.as_bytes()).unwrap();
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let taken = shown_at(sidecar.taken.unwrap(), None, &berlin);
        let f = fields(
            Some(&sidecar),
            taken,
            &["Sommer 2019", "Berlin"],
            HASH,
            "IMG_20190704_183012_long_original_name_kept_w.jpg",
        );
        let xml = write(&f);
        assert_eq!(
            value(&xml, "dc:title"),
            vec!["IMG_20190704_183012_long_original_name_kept_whole.jpg"]
        );
        assert_eq!(
            value(&xml, "dc:description"),
            vec!["Fireworks &amp; &lt;friends&gt;"]
        );
        assert_eq!(value(&xml, "dc:subject"), Vec::<&str>::new());
        assert_eq!(
            value(&xml, "Iptc4xmpExt:PersonInImage"),
            vec!["Anna", "Zoë"]
        );
        // 1562257812 is 2019-07-04 16:30:12 UTC; Berlin is at +02:00 in July.
        for date in [
            "photoshop:DateCreated",
            "xmp:CreateDate",
            "exif:DateTimeOriginal",
        ] {
            assert_eq!(
                value(&xml, date),
                vec!["2019-07-04T18:30:12+02:00"],
                "{date}"
            );
        }
        assert_eq!(value(&xml, "xmp:ModifyDate"), Vec::<&str>::new());
        // geoData is 0,0: the place is geoDataExif's.
        assert_eq!(value(&xml, "exif:GPSLatitude"), vec!["52,31.200480N"]);
        assert_eq!(value(&xml, "exif:GPSLongitude"), vec!["13,24.297240E"]);
        assert_eq!(value(&xml, "xmp:Rating"), vec!["5"]);
        assert_eq!(
            value(&xml, "photosbackup:Album"),
            vec!["Berlin", "Sommer 2019"]
        );
        assert_eq!(value(&xml, "photosbackup:ContentHash"), vec![HASH]);
        assert_eq!(
            value(&xml, "photosbackup:OriginalFilename"),
            vec!["IMG_20190704_183012_long_original_name_kept_whole.jpg"]
        );
        assert_eq!(value(&xml, "photosbackup:Source"), vec!["Google Takeout"]);
        for photos_only in ["AssetUUID", "LibraryFilename", "Hidden"] {
            assert!(!xml.contains(photos_only), "{photos_only}");
        }
        // Same input, same bytes; album order does not matter.
        let again = fields(
            Some(&sidecar),
            taken,
            &["Berlin", "Sommer 2019"],
            HASH,
            "x.jpg",
        );
        assert_eq!(write(&again), xml);
    }

    #[test]
    fn without_a_json_only_what_the_file_gives() {
        let taken = Utc
            .with_ymd_and_hms(2020, 2, 3, 4, 5, 6)
            .unwrap()
            .fixed_offset();
        let xml = write(&fields(None, taken, &[], HASH, "PXL_1.jpg"));
        assert_eq!(
            value(&xml, "photosbackup:OriginalFilename"),
            vec!["PXL_1.jpg"]
        );
        assert_eq!(value(&xml, "xmp:Rating"), vec!["0"]);
        assert_eq!(
            value(&xml, "photoshop:DateCreated"),
            vec!["2020-02-03T04:05:06+00:00"]
        );
        for absent in [
            "dc:title",
            "dc:description",
            "PersonInImage",
            "GPS",
            "photosbackup:Album",
        ] {
            assert!(!xml.contains(absent), "{absent}");
        }
    }

    type Change = Box<dyn Fn(&mut Sidecar)>;

    #[test]
    fn the_fingerprint_follows_every_takeout_field() {
        let sidecar = parse_sidecar("a.json", JSON.as_bytes()).unwrap();
        let taken = Utc.timestamp_opt(1_562_257_812, 0).unwrap().fixed_offset();
        let base_fields = fields(Some(&sidecar), taken, &["A"], HASH, "n.jpg");
        let base = fingerprint(&base_fields);
        let changes: Vec<(&str, Change)> = vec![
            ("description", Box::new(|s| s.description = None)),
            (
                "people",
                Box::new(|s| {
                    s.people.pop();
                }),
            ),
            ("favorite", Box::new(|s| s.favorite = false)),
            ("place", Box::new(|s| s.location = Some((1.0, 2.0)))),
            ("title", Box::new(|s| s.title = Some("other.jpg".into()))),
        ];
        for (what, change) in changes {
            let mut other = sidecar.clone();
            change(&mut other);
            let f = fields(Some(&other), taken, &["A"], HASH, "n.jpg");
            assert_ne!(
                write(&f),
                write(&base_fields),
                "{what}: must change the sidecar"
            );
            assert_ne!(fingerprint(&f), base, "{what}");
        }
        let later = fields(
            Some(&sidecar),
            taken + chrono::Duration::seconds(1),
            &["A"],
            HASH,
            "n.jpg",
        );
        assert_ne!(fingerprint(&later), base);
        let album = fields(Some(&sidecar), taken, &["B"], HASH, "n.jpg");
        assert_ne!(fingerprint(&album), base);
        let hash = fields(Some(&sidecar), taken, &["A"], "blake3:00", "n.jpg");
        assert_ne!(fingerprint(&hash), base);
    }
}
