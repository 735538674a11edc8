//! How Google Takeout names things, as pure functions over names: the JSON
//! sidecar names a media file may have, the `(N)` duplicate counter, the
//! localized "edited" suffix, album metadata files and Takeout's own files.
//! Google documents none of it; the rules come from what converter projects
//! (immich-go, `GooglePhotosTakeoutHelper`, ente) observed in real exports,
//! cited at each rule and in the tests.
//!
//! Names are compared in NFC (an extracted Takeout on macOS may hold NFD
//! names) and case-sensitively, as Google writes them; only `.json` is
//! matched in any case.

use unicode_normalization::UnicodeNormalization;

/// How long the part of a sidecar name before the counter and `.json` may
/// be: the whole name is cut to 51 characters keeping `.json`
/// (`GooglePhotosTakeoutHelper` `_shortenName`; immich-go `matchNormal`;
/// `GooglePhotosTakeoutHelper` pull request 449). Google counts UTF-16 code
/// units, as Java and JavaScript strings do: immich-go's matcher test has a
/// JSON of 22 emoji and a two-unit `☺️` (24 characters, 46 units) for a
/// media name one emoji longer.
pub const SIDECAR_LIMIT: usize = 46;

/// How long a media file's name without its extension may be; longer names
/// are cut (immich-go matcher test: `…LONG_EXPOSURE-02.ORIGINA.jpg`, a
/// 47-unit stem, beside the JSON `…LONG_EXPOSURE-02.ORIGIN.json`).
pub const MEDIA_STEM_LIMIT: usize = 47;

/// The infix of the sidecar names Google writes since late 2024
/// (`NAME.supplemental-metadata.json`; ente issue 4953), cut like the rest.
pub const SUPPLEMENTAL: &str = ".supplemental-metadata";

/// The "edited" suffixes Google appends to an edited copy's stem, in the
/// account's language; the copy has no JSON of its own and shares its
/// original's (immich-go `docs/google-takeout.md`, "Edited images may not
/// have corresponding JSON"; the lists of `GooglePhotosTakeoutHelper`
/// `lib/extras.dart` and immich-go's table). Lowercase NFC; the longest
/// that matches wins (`-ha editado` over `-editado`).
pub const EDITED_SUFFIXES: [&str; 22] = [
    "-отредактировано",
    "-відредаговано",
    "-đã chỉnh sửa",
    "-düzenlendi",
    "-ha editado",
    "-modificato",
    "-bearbeitet",
    "-edytowane",
    "-redigeret",
    "-تم التعديل",
    "-upravené",
    "-muokattu",
    "-modifié",
    "-editado",
    "-bewerkt",
    "-edited",
    "-diedit",
    "-editat",
    "-編集済み",
    "-편집됨",
    "-已编辑",
    "-编辑",
];

/// The album metadata file, named in the account's language (immich-go
/// `docs/google-takeout.md`, "Some key file names are spelled in the user
/// language"), NFC and lowercase.
pub const ALBUM_METADATA_NAMES: [&str; 9] = [
    "metadata.json",
    "métadonnées.json",
    "metadati.json",
    "metadáta.json",
    "metadaten.json",
    "metadatos.json",
    "metadades.json",
    "метаданные.json",
    "метаданни.json",
];

/// JSON files Takeout writes beside the albums that belong to no media file
/// (immich-go issue logs, ente and other importers skip the same three).
pub const TAKEOUT_FILES: [&str; 3] = [
    "print-subscriptions.json",
    "shared_album_comments.json",
    "user-generated-memory-titles.json",
];

/// Extensions of the video half of a Live or motion photo: an iPhone's
/// `.MOV`, an Android's `.MP4`, a Pixel's `.MP` (or `.MP~2`, a second copy)
/// beside `NAME.MP.jpg` (immich-go `testgp_livephoto_test.go`).
const VIDEO_EXTENSIONS: [&str; 8] = [
    ".mov", ".mp4", ".mp", ".m4v", ".3gp", ".avi", ".mkv", ".webm",
];

/// `s` in NFC.
#[must_use]
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// The file name of a member path (after the last `/`).
#[must_use]
pub fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

/// The folder of a member path (before the last `/`; empty at the top).
#[must_use]
pub fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(folder, _)| folder)
}

/// `name` split before its extension (the last `.` that does not start
/// the name): `("IMG_1", ".jpg")`; `("20030616", "")` without one.
#[must_use]
pub fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => name.split_at(i),
        _ => (name, ""),
    }
}

/// `name` without the duplicate counter Google adds when two files of one
/// folder share a name, and the counter: `IMG(1).jpg` is `IMG.jpg`, 1. The
/// counter is the last `(digits)` right before the extension
/// (immich-go `docs/google-takeout.md`: `IMG_3479(1).JPG`).
#[must_use]
pub fn split_counter(name: &str) -> (String, Option<u32>) {
    let (stem, extension) = split_extension(name);
    if let Some(open) = stem.strip_suffix(')').and_then(|s| s.rfind('(')) {
        let digits = &stem[open + 1..stem.len() - 1];
        if !digits.is_empty() && digits.len() <= 9 && digits.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = digits.parse() {
                return (format!("{}{extension}", &stem[..open]), Some(n));
            }
        }
    }
    (name.to_owned(), None)
}

/// How many UTF-16 code units `s` takes.
#[must_use]
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// The longest prefix of `s` of at most `limit` units, each character
/// costing `cost(c)`; never in the middle of a character.
fn prefix_by(s: &str, limit: usize, cost: impl Fn(char) -> usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += cost(c);
        if used > limit {
            return &s[..i];
        }
    }
    s
}

/// The ways Google may have cut `s` to `limit`: by UTF-16 code units (what
/// real exports show, see [`SIDECAR_LIMIT`]), by characters and by bytes;
/// a cut through a character drops the whole character (a lone surrogate
/// or partial UTF-8 sequence arrives as U+FFFD, which [`json_key`] drops).
/// Distinct prefixes, longest first.
#[must_use]
pub fn cuts(s: &str, limit: usize) -> Vec<&str> {
    let mut out = vec![
        prefix_by(s, limit, char::len_utf16),
        prefix_by(s, limit, |_| 1),
        prefix_by(s, limit, char::len_utf8),
    ];
    out.sort_by_key(|p| std::cmp::Reverse(p.len()));
    out.dedup();
    out
}

/// How a sidecar name was derived from its media name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Naming {
    /// `NAME.json` (the name short enough to keep whole).
    Plain,
    /// `NAME.supplemental-metadata.json`, whole.
    Supplemental,
    /// Either of the above cut to [`SIDECAR_LIMIT`] (the supplemental infix
    /// cut to `.supplemental-meta`, `.supple`, `.s`, or gone with part of
    /// the name).
    Cut,
    /// The stem alone: a file uploaded without an extension gets one in the
    /// export but its JSON does not (`GooglePhotosTakeoutHelper` `_noExtension`).
    WithoutExtension,
}

/// The JSON names (NFC, lowercase `.json`) the sidecar of the media file
/// `name` may have, best first, each with how it was derived. `name` is a
/// media file's name as it is in the export, its counter included: the
/// counter goes after the (cut) rest and before `.json` (`IMG(1).jpg` has
/// `IMG.jpg(1).json`, `IMG.jpg.supplemental-metadata(1).json` or a cut of
/// it and then `(1).json`: immich-go `matchNormal`, ente pull request 4956,
/// `GooglePhotosTakeoutHelper` `_bracketSwap`).
#[must_use]
pub fn sidecar_names(name: &str) -> Vec<(String, Naming)> {
    let name = nfc(name);
    let (base, counter) = split_counter(&name);
    let counter = counter.map_or(String::new(), |n| format!("({n})"));
    let mut out: Vec<(String, Naming)> = Vec::new();
    let mut push = |prefix: &str, naming: Naming| {
        let candidate = format!("{prefix}{counter}.json");
        if !out.iter().any(|(c, _)| *c == candidate) {
            out.push((candidate, naming));
        }
    };
    let supplemental = format!("{base}{SUPPLEMENTAL}");
    for (whole, naming) in [
        (&base, Naming::Plain),
        (&supplemental, Naming::Supplemental),
    ] {
        for cut in cuts(whole, SIDECAR_LIMIT) {
            push(
                cut,
                if cut.len() == whole.len() {
                    naming
                } else {
                    Naming::Cut
                },
            );
        }
    }
    let (stem, extension) = split_extension(&base);
    if !extension.is_empty() {
        for cut in cuts(stem, SIDECAR_LIMIT) {
            push(cut, Naming::WithoutExtension);
        }
    }
    out
}

/// The key a JSON member is looked up by: its name in NFC with `.json` in
/// lowercase, without U+FFFD where a cut went through a character. `None`
/// for a name that does not end in `.json` (in any case).
#[must_use]
pub fn json_key(name: &str) -> Option<String> {
    let cut = name.len().checked_sub(5)?;
    let (rest, extension) = (name.get(..cut)?, name.get(cut..)?);
    if !extension.eq_ignore_ascii_case(".json") {
        return None;
    }
    let rest = nfc(rest);
    // A counter stays after the cut: drop U+FFFD before it too.
    let (before, counter) = match rest.rfind('(') {
        Some(i) if rest.ends_with(')') => rest.split_at(i),
        _ => (rest.as_str(), ""),
    };
    Some(format!(
        "{}{counter}.json",
        before.trim_end_matches('\u{fffd}')
    ))
}

/// The name of the original an edited copy was made from: `name` without a
/// localized "edited" suffix (its counter kept), or `None` when it has
/// none. Suffixes compare in any case. A stem cut at [`MEDIA_STEM_LIMIT`]
/// may end in a cut suffix (`-bearb`): two of its characters or more count.
#[must_use]
pub fn unedited(name: &str) -> Option<String> {
    let name = nfc(name);
    let (base, counter) = split_counter(&name);
    let (stem, extension) = split_extension(&base);
    let counter = counter.map_or(String::new(), |n| format!("({n})"));
    // The byte length of the longest (cut) suffix `stem` ends with.
    let ends_with = |suffix: &str| -> Option<usize> {
        let n = suffix.chars().count();
        let start = stem.char_indices().rev().nth(n - 1)?.0;
        (stem[start..].to_lowercase() == suffix).then_some(stem.len() - start)
    };
    let whole = EDITED_SUFFIXES.iter().filter_map(|s| ends_with(s)).max();
    let cut = || {
        if utf16_len(stem) != MEDIA_STEM_LIMIT {
            return None;
        }
        let prefixes = EDITED_SUFFIXES.iter().flat_map(|s| {
            let ends: Vec<usize> = s.char_indices().map(|(i, _)| i).skip(2).collect();
            ends.into_iter().map(move |end| &s[..end])
        });
        prefixes.filter_map(ends_with).max()
    };
    let strip = whole.or_else(cut)?;
    Some(format!(
        "{}{counter}{extension}",
        &stem[..stem.len() - strip]
    ))
}

/// Whether `name` is an album's metadata file (in any of the languages).
#[must_use]
pub fn is_album_metadata(name: &str) -> bool {
    let name = nfc(name).to_lowercase();
    ALBUM_METADATA_NAMES.contains(&name.as_str())
}

/// Whether `name` is one of Takeout's own JSON files, no media's sidecar.
#[must_use]
pub fn is_takeout_file(name: &str) -> bool {
    TAKEOUT_FILES.contains(&name)
}

/// Whether `name` looks like the video half of a Live or motion photo.
#[must_use]
pub fn is_video(name: &str) -> bool {
    let (_, extension) = split_extension(name);
    let extension = extension.to_ascii_lowercase();
    let extension = extension.split('~').next().unwrap_or_default();
    VIDEO_EXTENSIONS.contains(&extension)
}
