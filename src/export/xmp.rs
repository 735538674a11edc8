//! The XMP sidecar staged next to each original. Photos keeps titles,
//! captions, keywords, people, favorites and often the corrected date and
//! place only in its database, not in the file; a backup of the bare files
//! would lose them. The sidecar carries them in the standard properties that
//! exiftool, Lightroom and digiKam read, plus an identifier in a namespace
//! of our own. The text is untrusted, so it is escaped and stripped of what
//! XML 1.0 forbids; the output is deterministic so that the export compares
//! sidecars by hash and rewrites only the ones that changed.
//!
//! One writer serves every source: a source maps what it knows into
//! [`Fields`] (Photos' `Asset` below, a Google Takeout JSON in
//! `takeout::xmp_fields`), and [`write`] turns those into the packet.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};
use unicode_normalization::UnicodeNormalization;

use crate::photos::query::UNKNOWN_PERSON;
use crate::photos::Asset;

/// Our namespace: the identifier ties a sidecar (and so its file) back to
/// its source.
const NAMESPACE: &str = "https://photos-backup.invalid/ns/1.0/";

/// The namespaces the sidecar declares, in order.
const NAMESPACES: [(&str, &str); 6] = [
    ("dc", "http://purl.org/dc/elements/1.1/"),
    ("xmp", "http://ns.adobe.com/xap/1.0/"),
    ("photoshop", "http://ns.adobe.com/photoshop/1.0/"),
    ("exif", "http://ns.adobe.com/exif/1.0/"),
    ("Iptc4xmpExt", "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"),
    ("photosbackup", NAMESPACE),
];

/// What a sidecar carries, whatever the source. Lists are sets: their
/// order does not change the bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields<'a> {
    pub title: Option<&'a str>,
    pub description: Option<&'a str>,
    pub keywords: Vec<&'a str>,
    /// Named people only (Photos' unnamed faces are left out by its mapping).
    pub persons: Vec<&'a str>,
    /// Album titles; Photos' mapping gives none (its sidecars predate them).
    pub albums: Vec<&'a str>,
    /// When the photo was taken, in the zone it is shown in.
    pub created: DateTime<FixedOffset>,
    pub modified: Option<DateTime<FixedOffset>>,
    /// Latitude and longitude in degrees; written only when both are in range.
    pub location: Option<(f64, f64)>,
    pub favorite: bool,
    pub identity: Identity<'a>,
}

/// Where the file came from, in our namespace.
#[derive(Debug, Clone, PartialEq)]
pub enum Identity<'a> {
    /// An Apple Photos asset: its uuid, the name it was imported under,
    /// the name of the original in the library, whether it is hidden.
    Photos {
        uuid: &'a str,
        original_filename: &'a str,
        library_filename: &'a str,
        hidden: bool,
    },
    /// A Google Takeout media file: its content hash (what the Takeout
    /// source deduplicates by, the same in every part, folder and
    /// scheduled export; a Takeout path is not, so it is left out) and
    /// the name Google kept for it (the JSON `title`, never cut).
    Takeout {
        content_hash: &'a str,
        original_filename: &'a str,
    },
}

/// The fields of a Photos asset.
fn photos_fields(asset: &Asset) -> Fields<'_> {
    Fields {
        title: asset.title.as_deref(),
        description: asset.description.as_deref(),
        keywords: asset.keywords.iter().map(String::as_str).collect(),
        persons: asset
            .persons
            .iter()
            .map(String::as_str)
            .filter(|p| *p != UNKNOWN_PERSON)
            .collect(),
        albums: Vec::new(),
        created: asset.date,
        modified: asset
            .date_modified
            .map(|m| m.with_timezone(asset.date.offset())),
        location: asset.latitude.zip(asset.longitude),
        favorite: asset.favorite,
        identity: Identity::Photos {
            uuid: &asset.uuid,
            original_filename: &asset.original_filename,
            library_filename: &asset.filename,
            hidden: asset.hidden,
        },
    }
}

/// The XMP packet for `asset`: same asset, same bytes.
#[must_use]
pub(super) fn sidecar(asset: &Asset) -> String {
    write(&photos_fields(asset))
}

/// A fingerprint of everything `sidecar` reads from the asset (see
/// [`fingerprint_of`]).
#[must_use]
pub(super) fn fingerprint(asset: &Asset) -> String {
    fingerprint_of(&photos_fields(asset))
}

/// The XMP packet for `fields`: same fields, same bytes.
#[must_use]
pub fn write(fields: &Fields) -> String {
    let mut x = String::new();
    x.push_str("<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n");
    x.push_str("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"photos-backup\">\n");
    x.push_str(" <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n");
    x.push_str("  <rdf:Description rdf:about=\"\"");
    for (prefix, uri) in NAMESPACES {
        x.push_str(&format!("\n    xmlns:{prefix}=\"{uri}\""));
    }
    x.push_str(">\n");

    alt(&mut x, "dc:title", fields.title);
    alt(&mut x, "dc:description", fields.description);
    bag(&mut x, "dc:subject", fields.keywords.iter().copied());
    bag(
        &mut x,
        "Iptc4xmpExt:PersonInImage",
        fields.persons.iter().copied(),
    );

    let created = date(&fields.created);
    simple(&mut x, "photoshop:DateCreated", &created);
    simple(&mut x, "xmp:CreateDate", &created);
    simple(&mut x, "exif:DateTimeOriginal", &created);
    if let Some(modified) = fields.modified {
        simple(&mut x, "xmp:ModifyDate", &date(&modified));
    }
    if let Some((lat, lon)) = fields.location {
        if let (Some(lat), Some(lon)) = (
            coordinate(lat, 90.0, 'N', 'S'),
            coordinate(lon, 180.0, 'E', 'W'),
        ) {
            simple(&mut x, "exif:GPSLatitude", &lat);
            simple(&mut x, "exif:GPSLongitude", &lon);
        }
    }
    simple(
        &mut x,
        "xmp:Rating",
        if fields.favorite { "5" } else { "0" },
    );
    bag(&mut x, "photosbackup:Album", fields.albums.iter().copied());

    match &fields.identity {
        Identity::Photos {
            uuid,
            original_filename,
            library_filename,
            hidden,
        } => {
            simple(&mut x, "photosbackup:AssetUUID", uuid);
            simple(&mut x, "photosbackup:OriginalFilename", original_filename);
            simple(&mut x, "photosbackup:LibraryFilename", library_filename);
            if *hidden {
                simple(&mut x, "photosbackup:Hidden", "True");
            }
        }
        Identity::Takeout {
            content_hash,
            original_filename,
        } => {
            simple(&mut x, "photosbackup:ContentHash", content_hash);
            simple(&mut x, "photosbackup:OriginalFilename", original_filename);
            simple(&mut x, "photosbackup:Source", "Google Takeout");
        }
    }

    x.push_str("  </rdf:Description>\n");
    x.push_str(" </rdf:RDF>\n");
    x.push_str("</x:xmpmeta>\n");
    x.push_str("<?xpacket end=\"w\"?>\n");
    x
}

/// A fingerprint of `fields` and of this file's source (so a change to the
/// output changes every fingerprint): same fingerprint, same sidecar. Much
/// cheaper than the sidecar itself, so a run compares it with the ledger's
/// and generates only changed sidecars.
#[must_use]
pub(crate) fn fingerprint_of(fields: &Fields) -> String {
    static GENERATOR: std::sync::OnceLock<blake3::Hash> = std::sync::OnceLock::new();
    let generator = GENERATOR.get_or_init(|| blake3::hash(include_bytes!("xmp.rs")));
    let mut h = blake3::Hasher::new();
    h.update(generator.as_bytes());
    // Every variable-length field is length-prefixed, every optional one tagged.
    let text = |h: &mut blake3::Hasher, s: &str| {
        h.update(&(s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    let optional = |h: &mut blake3::Hasher, s: Option<&str>| {
        h.update(&[u8::from(s.is_some())]);
        text(h, s.unwrap_or(""));
    };
    optional(&mut h, fields.title);
    optional(&mut h, fields.description);
    for list in [&fields.keywords, &fields.persons, &fields.albums] {
        h.update(&(list.len() as u64).to_le_bytes());
        for item in list {
            text(&mut h, item);
        }
    }
    let instant = |h: &mut blake3::Hasher, d: &DateTime<FixedOffset>| {
        h.update(&d.timestamp().to_le_bytes());
        h.update(&d.timestamp_subsec_nanos().to_le_bytes());
        h.update(&d.offset().local_minus_utc().to_le_bytes());
    };
    instant(&mut h, &fields.created);
    h.update(&[u8::from(fields.modified.is_some())]);
    if let Some(d) = &fields.modified {
        instant(&mut h, d);
    }
    h.update(&[u8::from(fields.location.is_some())]);
    let (lat, lon) = fields.location.unwrap_or((0.0, 0.0));
    h.update(&lat.to_bits().to_le_bytes());
    h.update(&lon.to_bits().to_le_bytes());
    h.update(&[u8::from(fields.favorite)]);
    match &fields.identity {
        Identity::Photos {
            uuid,
            original_filename,
            library_filename,
            hidden,
        } => {
            h.update(&[0, u8::from(*hidden)]);
            text(&mut h, uuid);
            text(&mut h, original_filename);
            text(&mut h, library_filename);
        }
        Identity::Takeout {
            content_hash,
            original_filename,
        } => {
            h.update(&[1]);
            text(&mut h, content_hash);
            text(&mut h, original_filename);
        }
    }
    format!("xmp-in:{}", h.finalize().to_hex())
}

/// `<name>value</name>`, or nothing when the value is blank.
fn simple(x: &mut String, name: &str, value: &str) {
    let value = text(value);
    if !value.trim().is_empty() {
        x.push_str(&format!("   <{name}>{value}</{name}>\n"));
    }
}

/// A language alternative with only the default language.
fn alt(x: &mut String, name: &str, value: Option<&str>) {
    let value = text(value.unwrap_or_default());
    if !value.trim().is_empty() {
        x.push_str(&format!(
            "   <{name}>\n    <rdf:Alt>\n     <rdf:li xml:lang=\"x-default\">{value}</rdf:li>\n    </rdf:Alt>\n   </{name}>\n"
        ));
    }
}

/// An unordered set: sorted and deduplicated, so the database's order
/// cannot change the bytes; blank items dropped.
fn bag<'a>(x: &mut String, name: &str, items: impl Iterator<Item = &'a str>) {
    let items: BTreeSet<String> = items.map(text).filter(|i| !i.trim().is_empty()).collect();
    if items.is_empty() {
        return;
    }
    x.push_str(&format!("   <{name}>\n    <rdf:Bag>\n"));
    for item in items {
        x.push_str(&format!("     <rdf:li>{item}</rdf:li>\n"));
    }
    x.push_str(&format!("    </rdf:Bag>\n   </{name}>\n"));
}

/// Untrusted text as XML character data: NFC, without the characters XML
/// 1.0 forbids or that are control characters, markup characters escaped;
/// CR as a reference, since parsers turn a raw CR into LF.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfc() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            '\u{fffe}' | '\u{ffff}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// An XMP date: ISO 8601 with the UTC offset, fractional seconds only when
/// there are any (3, 6 or 9 digits).
fn date(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.f%:z").to_string()
}

/// A coordinate in the XMP form of EXIF GPS values, `DDD,MM.mmmmmmR`
/// (minutes to six places, about 2 mm), or `None` when out of range.
fn coordinate(value: f64, max: f64, positive: char, negative: char) -> Option<String> {
    if !value.is_finite() || value.abs() > max {
        return None;
    }
    let reference = if value < 0.0 { negative } else { positive };
    // Whole millionths of a minute, so rounding carries into minutes and degrees.
    let micro_minutes = (value.abs() * 60.0 * 1e6).round() as u64;
    let degrees = micro_minutes / 60_000_000;
    let minutes = micro_minutes % 60_000_000;
    Some(format!(
        "{degrees},{:02}.{:06}{reference}",
        minutes / 1_000_000,
        minutes % 1_000_000
    ))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn asset() -> Asset {
        let zone = FixedOffset::west_opt(4 * 3600).unwrap();
        Asset {
            date: zone.with_ymd_and_hms(2021, 8, 11, 19, 2, 58).unwrap()
                + chrono::Duration::milliseconds(322),
            original_filesize: 1_234_567,
            width: 4032,
            height: 3024,
            ..Asset::example("6F9619FF-8B86-D011-B42D-00C04FC964FF", "IMG_0001.HEIC")
        }
    }

    fn full() -> Asset {
        let mut a = asset();
        a.title = Some("Sunset over the bay".into());
        a.description = Some("With Anna and Bob.\nSecond line.".into());
        a.keywords = vec![
            "sunset".into(),
            "beach".into(),
            "sunset".into(),
            "Küste".into(),
        ];
        a.persons = vec![
            "Bob".into(),
            UNKNOWN_PERSON.into(),
            "Anna".into(),
            UNKNOWN_PERSON.into(),
            "Bob".into(),
        ];
        a.latitude = Some(40.446_195);
        a.longitude = Some(-79.948_862);
        a.favorite = true;
        a.hidden = true;
        a.date_modified = Some(Utc.with_ymd_and_hms(2021, 8, 12, 10, 0, 0).unwrap());
        a
    }

    /// A small well-formedness check, enough for what `sidecar` writes:
    /// every char allowed by XML 1.0, tags balanced with one root, attribute
    /// values quoted, `<` only as markup, `&` only in the five entities or a
    /// character reference, `>` never in text.
    fn assert_well_formed(xml: &str) {
        for c in xml.chars() {
            let ok = matches!(c, '\t' | '\n' | '\r')
                || ('\u{20}'..='\u{d7ff}').contains(&c)
                || ('\u{e000}'..='\u{fffd}').contains(&c)
                || c >= '\u{10000}';
            assert!(ok, "char {c:?} not allowed in XML");
        }
        let mut stack: Vec<&str> = Vec::new();
        let mut roots = 0;
        let mut rest = xml;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("<?") {
                let end = after
                    .find("?>")
                    .expect("unterminated processing instruction");
                rest = &after[end + 2..];
            } else if let Some(after) = rest.strip_prefix("</") {
                let end = after.find('>').expect("unterminated end tag");
                assert_eq!(stack.pop(), Some(&after[..end]), "unbalanced end tag");
                rest = &after[end + 1..];
            } else if let Some(after) = rest.strip_prefix('<') {
                let end = after.find('>').expect("unterminated tag");
                let tag = &after[..end];
                let (tag, empty) = tag.strip_suffix('/').map_or((tag, false), |t| (t, true));
                let name = tag.split_whitespace().next().expect("tag without a name");
                check_attributes(&tag[name.len()..]);
                if stack.is_empty() {
                    roots += 1;
                }
                if !empty {
                    stack.push(name);
                }
                rest = &after[end + 1..];
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                check_text(&rest[..end]);
                assert!(
                    !stack.is_empty() || rest[..end].trim().is_empty(),
                    "text outside the root"
                );
                rest = &rest[end..];
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        assert_eq!(roots, 1, "one root element");
    }

    fn check_attributes(mut attrs: &str) {
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() {
                return;
            }
            let (name, after) = attrs
                .split_once("=\"")
                .expect("attribute without a quoted value");
            assert!(
                !name.is_empty() && !name.contains(char::is_whitespace),
                "{name:?}"
            );
            let end = after.find('"').expect("unterminated attribute value");
            check_text(&after[..end]);
            attrs = &after[end + 1..];
        }
    }

    fn check_text(text: &str) {
        assert!(!text.contains(['<', '>']), "markup in text: {text:?}");
        let mut parts = text.split('&');
        parts.next();
        for part in parts {
            let (reference, _) = part.split_once(';').expect("unterminated reference");
            let ok = ["amp", "lt", "gt", "quot", "apos"].contains(&reference)
                || reference
                    .strip_prefix("#x")
                    .is_some_and(|hex| u32::from_str_radix(hex, 16).is_ok());
            assert!(ok, "bad reference &{reference};");
        }
    }

    #[test]
    fn full_asset() {
        let xml = sidecar(&full());
        assert_well_formed(&xml);
        insta::assert_snapshot!(xml);
    }

    #[test]
    fn minimal_asset() {
        let xml = sidecar(&asset());
        assert_well_formed(&xml);
        insta::assert_snapshot!(xml);
    }

    #[test]
    fn hostile_asset() {
        let mut a = asset();
        a.title = Some("<script>alert(\"x\" & 'y')</script> ]]> \u{0}\u{1b}\u{7f}\u{85}\u{fffe}\u{ffff}\r\n\tend".into());
        a.description = Some("Cafe\u{301} </dc:description><x:evil/>".into());
        a.keywords = vec![String::new(), "  ".into(), "\u{1}".into(), "a&b".into()];
        a.persons = vec![UNKNOWN_PERSON.into(), "O'Brien <ob@example.com>".into()];
        a.original_filename = "../\u{0}IMG?.HEIC".into();
        a.uuid = "\"/><evil/>".into();
        a.latitude = Some(f64::NAN);
        a.longitude = Some(10.0);
        let xml = sidecar(&a);
        assert_well_formed(&xml);
        insta::assert_snapshot!(xml);
    }

    #[test]
    fn hostile_takeout_fields() {
        let fields = Fields {
            title: None,
            description: Some("</dc:description>\u{0}"),
            keywords: vec![],
            persons: vec!["<b>", "\u{1b}[2J"],
            albums: vec!["Trip & \"friends\"", "]]>", "", " "],
            created: asset().date,
            modified: None,
            location: Some((91.0, 10.0)),
            favorite: false,
            identity: Identity::Takeout {
                content_hash: "\"/><evil/>",
                original_filename: "../\u{7f}IMG.jpg",
            },
        };
        let xml = write(&fields);
        assert_well_formed(&xml);
        assert!(
            xml.contains("<rdf:li>Trip &amp; &quot;friends&quot;</rdf:li>"),
            "{xml}"
        );
        assert!(xml.contains("<rdf:li>]]&gt;</rdf:li>"), "{xml}");
        assert_eq!(
            xml.matches("<rdf:li>").count(),
            4,
            "blank albums dropped: {xml}"
        );
        assert!(!xml.contains("GPS"), "latitude out of range: {xml}");
        assert!(
            xml.contains("<photosbackup:OriginalFilename>../IMG.jpg<"),
            "{xml}"
        );
    }

    #[test]
    fn long_titles_are_kept_whole() {
        let mut a = asset();
        let title = "Long & winding ".repeat(700);
        a.title = Some(title.clone());
        let xml = sidecar(&a);
        assert_well_formed(&xml);
        assert!(xml.contains(&title.replace('&', "&amp;")));
    }

    #[test]
    fn deterministic_and_order_independent() {
        let a = full();
        assert_eq!(sidecar(&a), sidecar(&a.clone()));
        let mut shuffled = a.clone();
        shuffled.keywords.reverse();
        shuffled.persons.reverse();
        assert_eq!(sidecar(&a), sidecar(&shuffled));
        let mut changed = a.clone();
        changed.title = Some("Another".into());
        assert_ne!(sidecar(&a), sidecar(&changed));
    }

    #[test]
    fn text_is_nfc_and_clean() {
        assert_eq!(text("Cafe\u{301}"), "Caf\u{e9}");
        assert_eq!(text("a\u{0}b\u{1f}c\u{7f}d\u{9f}e"), "abcde");
        assert_eq!(text("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
        assert_eq!(text("a\r\nb\tc"), "a&#xD;\nb\tc");
        assert_eq!(text("\u{fffe}\u{ffff}\u{fffd}"), "\u{fffd}");
    }

    #[test]
    fn the_fingerprint_follows_every_input_of_the_sidecar() {
        type Change = Box<dyn Fn(&mut Asset)>;
        let a = full();
        let base = fingerprint(&a);
        assert_eq!(fingerprint(&a.clone()), base);
        let changes: Vec<(&str, Change)> = vec![
            ("title", Box::new(|a| a.title = Some("other".into()))),
            ("no title", Box::new(|a| a.title = None)),
            (
                "description",
                Box::new(|a| a.description = Some("x".into())),
            ),
            ("keyword", Box::new(|a| a.keywords.push("new".into()))),
            ("person", Box::new(|a| a.persons.push("Ann".into()))),
            (
                "date",
                Box::new(|a| a.date += chrono::Duration::microseconds(1)),
            ),
            (
                "offset",
                Box::new(|a| {
                    a.date = a.date.with_timezone(&FixedOffset::east_opt(3600).unwrap());
                }),
            ),
            ("modified", Box::new(|a| a.date_modified = None)),
            ("latitude", Box::new(|a| a.latitude = Some(1.0))),
            ("longitude", Box::new(|a| a.longitude = None)),
            ("favorite", Box::new(|a| a.favorite = !a.favorite)),
            ("hidden", Box::new(|a| a.hidden = !a.hidden)),
            ("uuid", Box::new(|a| a.uuid.push('0'))),
            ("original name", Box::new(|a| a.original_filename.push('x'))),
            ("name", Box::new(|a| a.filename.push('x'))),
        ];
        for (what, change) in changes {
            let mut b = a.clone();
            change(&mut b);
            assert_ne!(
                sidecar(&b),
                sidecar(&a),
                "{what}: the test must change the sidecar"
            );
            assert_ne!(fingerprint(&b), base, "{what}");
        }
        // Keyword "a,b" and keywords "a","b" differ.
        let (mut one, mut two) = (a.clone(), a.clone());
        one.keywords = vec!["ab".into()];
        two.keywords = vec!["a".into(), "b".into()];
        assert_ne!(fingerprint(&one), fingerprint(&two));
    }

    #[test]
    fn dates_keep_their_offset() {
        let a = asset();
        assert_eq!(date(&a.date), "2021-08-11T19:02:58.322-04:00");
        let whole = Utc
            .with_ymd_and_hms(2024, 1, 2, 3, 4, 5)
            .unwrap()
            .fixed_offset();
        assert_eq!(date(&whole), "2024-01-02T03:04:05+00:00");
        let micros = whole + chrono::Duration::microseconds(123_456);
        assert_eq!(date(&micros), "2024-01-02T03:04:05.123456+00:00");
    }

    #[test]
    fn coordinates() {
        assert_eq!(
            coordinate(40.446_195, 90.0, 'N', 'S').unwrap(),
            "40,26.771700N"
        );
        assert_eq!(
            coordinate(-79.948_862, 180.0, 'E', 'W').unwrap(),
            "79,56.931720W"
        );
        assert_eq!(coordinate(0.0, 90.0, 'N', 'S').unwrap(), "0,00.000000N");
        assert_eq!(
            coordinate(-180.0, 180.0, 'E', 'W').unwrap(),
            "180,00.000000W"
        );
        // Rounding carries into the degrees instead of writing 60 minutes.
        assert_eq!(
            coordinate(10.999_999_999_9, 90.0, 'N', 'S').unwrap(),
            "11,00.000000N"
        );
        assert_eq!(coordinate(90.1, 90.0, 'N', 'S'), None);
        assert_eq!(coordinate(f64::INFINITY, 180.0, 'E', 'W'), None);
        assert_eq!(coordinate(f64::NAN, 180.0, 'E', 'W'), None);
    }

    #[test]
    fn omitted_when_empty() {
        let xml = sidecar(&asset());
        for absent in [
            "dc:title",
            "dc:description",
            "dc:subject",
            "PersonInImage",
            "GPS",
            "ModifyDate",
            "Hidden",
        ] {
            assert!(!xml.contains(absent), "{absent} in\n{xml}");
        }
        let mut blank = asset();
        blank.title = Some("  ".into());
        blank.persons = vec![UNKNOWN_PERSON.into()];
        assert_eq!(sidecar(&blank), xml);
    }
}
