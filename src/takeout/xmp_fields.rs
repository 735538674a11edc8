//! A Takeout media file's metadata as the fields of its XMP sidecar, for
//! the one XMP writer Photos uses too (`export::xmp`). Google has no title
//! apart from the file name, so the JSON `title` is the original file name
//! in our namespace, not `dc:title`; the caption is the description; the
//! people, favorite, albums and place are kept; the identifier is the
//! content hash, the same in every part, folder and scheduled export.

use chrono::{DateTime, FixedOffset};

use super::metadata::Sidecar;
use crate::export::xmp::{Fields, Identity};

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
        title: None,
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
