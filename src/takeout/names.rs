//! How Google Takeout names things, as pure functions over names: the JSON
//! sidecar names a media file may have, the `(N)` duplicate counter, the
//! localized "edited" suffix, album metadata files and Takeout's own files.
//! Google documents none of it; the rules come from what converter projects
//! (immich-go, `GooglePhotosTakeoutHelper`, ente) observed in real exports,
//! cited at each rule and in the tests.
//!
//! Names are compared in NFC (an extracted Takeout on macOS may hold NFD
//! names) and case-sensitively, as Google writes them; `.json` in any case
//! (`sidecar_match` falls back to any case for the rest when nothing is
//! exact). Everything that is not `.json` counts as media: a backup drops
//! nothing unseen.

use unicode_normalization::UnicodeNormalization;

/// How long the part of a sidecar name before the counter and `.json` may
/// be: the whole name is cut to 51 characters keeping `.json`
/// (`GooglePhotosTakeoutHelper` `_shortenName`; immich-go `matchNormal`;
/// `GooglePhotosTakeoutHelper` pull request 449). Google counts UTF-16 code
/// units, as Java and JavaScript strings do: immich-go's matcher test has a
/// JSON of 22 emoji and a two-unit `☺️` (24 characters, 46 units) for a
/// media name one emoji longer.
pub(crate) const SIDECAR_LIMIT: usize = 46;

/// How long a media file's name without its extension may be; longer names
/// are cut (immich-go matcher test: `…LONG_EXPOSURE-02.ORIGINA.jpg`, a
/// 47-unit stem, beside the JSON `…LONG_EXPOSURE-02.ORIGIN.json`).
pub(crate) const MEDIA_STEM_LIMIT: usize = 47;

/// The infix of the sidecar names Google writes since late 2024
/// (`NAME.supplemental-metadata.json`; ente issue 4953), cut like the rest.
pub(crate) const SUPPLEMENTAL: &str = ".supplemental-metadata";

/// The "edited" suffixes Google appends to an edited copy's stem, in the
/// account's language; the copy has no JSON of its own and shares its
/// original's (immich-go `docs/google-takeout.md`, "Edited images may not
/// have corresponding JSON"; the lists of `GooglePhotosTakeoutHelper`
/// `lib/extras.dart` and immich-go's table). Lowercase NFC; the longest
/// that matches wins (`-ha editado` over `-editado`).
pub(crate) const EDITED_SUFFIXES: [&str; 22] = [
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
pub(crate) const ALBUM_METADATA_NAMES: [&str; 9] = [
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
pub(crate) const TAKEOUT_FILES: [&str; 3] = [
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
pub(crate) fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// The file name of a member path (after the last `/`).
#[must_use]
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

/// The folder of a member path (before the last `/`; empty at the top).
#[must_use]
pub(crate) fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(folder, _)| folder)
}

/// `name` split before its extension (the last `.` that does not start
/// the name): `("IMG_1", ".jpg")`; `("20030616", "")` without one.
#[must_use]
pub(crate) fn split_extension(name: &str) -> (&str, &str) {
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
pub(crate) fn split_counter(name: &str) -> (String, Option<u32>) {
    let (stem, extension) = split_extension(name);
    if let Some(open) = stem
        .strip_suffix(')')
        .and_then(|s| s.rfind('('))
        .filter(|&open| open > 0)
    {
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
pub(crate) fn utf16_len(s: &str) -> usize {
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
pub(crate) fn cuts(s: &str, limit: usize) -> Vec<&str> {
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
    /// The stem alone (or with the supplemental infix): a file uploaded
    /// without an extension gets one in the export but its JSON does not
    /// (`GooglePhotosTakeoutHelper` `_noExtension`; `2013-12-03(1).jpg` with
    /// `2013-12-03.supplemental-metadata(1).json`, google-photos-exif).
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
pub(crate) fn sidecar_names(name: &str) -> Vec<(String, Naming)> {
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
        let supplemental = format!("{stem}{SUPPLEMENTAL}");
        for whole in [stem, supplemental.as_str()] {
            for cut in cuts(whole, SIDECAR_LIMIT) {
                push(cut, Naming::WithoutExtension);
            }
        }
    }
    out
}

/// The key a JSON member is looked up by: its name in NFC with `.json` in
/// lowercase, without U+FFFD where a cut went through a character. `None`
/// for a name that does not end in `.json` (in any case).
#[must_use]
pub(crate) fn json_key(name: &str) -> Option<String> {
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
pub(crate) fn unedited(name: &str) -> Option<String> {
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
pub(crate) fn is_album_metadata(name: &str) -> bool {
    let name = nfc(name).to_lowercase();
    ALBUM_METADATA_NAMES.contains(&name.as_str())
}

/// Whether `name` is one of Takeout's own JSON files, no media's sidecar.
#[must_use]
pub(crate) fn is_takeout_file(name: &str) -> bool {
    TAKEOUT_FILES.contains(&name)
}

/// Whether the member at `path` is a file of Takeout's own beside its
/// product folders (`Takeout/archive_browser.html`, the export's index
/// page): no photo, never staged.
#[must_use]
pub(crate) fn is_takeout_index(path: &str) -> bool {
    path.split_once('/')
        .is_some_and(|(top, rest)| top == "Takeout" && !rest.is_empty() && !rest.contains('/'))
}

/// Whether `name` looks like the video half of a Live or motion photo.
#[must_use]
pub(crate) fn is_video(name: &str) -> bool {
    let (_, extension) = split_extension(name);
    let extension = extension.to_ascii_lowercase();
    let extension = extension.split('~').next().unwrap_or_default();
    VIDEO_EXTENSIONS.contains(&extension)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `json` (a JSON member's name) is among the sidecar names of
    /// the media file `media`.
    fn fits(media: &str, json: &str) -> bool {
        let key = json_key(json).expect("a JSON name");
        sidecar_names(media).iter().any(|(k, _)| *k == key)
    }

    #[test]
    fn the_counter_moves_behind_the_extension() {
        // immich-go docs/google-takeout.md: IMG_3479(1).JPG with IMG_3479.JPG(1).json.
        assert_eq!(
            split_counter("IMG_3479(1).JPG"),
            ("IMG_3479.JPG".into(), Some(1))
        );
        assert_eq!(split_counter("IMG_3479(12)"), ("IMG_3479".into(), Some(12)));
        assert_eq!(split_counter("IMG_3479.JPG"), ("IMG_3479.JPG".into(), None));
        // Not a counter: words, an empty pair, nothing before it, not last.
        for name in ["photo(copy).jpg", "photo().jpg", "(1).jpg", "a(1)b.jpg"] {
            assert_eq!(split_counter(name), (name.into(), None), "{name}");
        }
        // GooglePhotosTakeoutHelper `_bracketSwap`: only the last pair moves.
        assert_eq!(
            split_counter("image(3).(2)(3).jpg"),
            ("image(3).(2).jpg".into(), Some(3))
        );
        // immich-go matcher test.
        assert!(fits("DSC_0101(1).JPG", "DSC_0101.JPG(1).json"));
        assert!(fits("IMG_2710(1).HEIC", "IMG_2710.HEIC(1).json"));
        assert!(!fits("DSC_0102(1).JPG", "DSC_0102.JPG(2).json"));
        assert!(!fits("DSC_0103.JPG", "DSC_0103.JPG(1).json"));
        assert!(!fits("DSC_0104(1).JPG", "DSC_0104.JPG.json"));
        // The "rekindle" Takeout plan: the counter is relocated, not stripped.
        assert!(fits(
            "DSC00107(1).JPG",
            "DSC00107.JPG.supplemental-metadata(1).json"
        ));
        assert!(!fits(
            "DSC00107.JPG",
            "DSC00107.JPG.supplemental-metadata(1).json"
        ));
    }

    #[test]
    fn plain_and_supplemental_names() {
        // immich-go matcher test; open-noodle/gallery issue 404.
        assert!(fits(
            "PXL_20211013_220651983.jpg",
            "PXL_20211013_220651983.jpg.json"
        ));
        assert!(!fits(
            "PXL_20211013_220651958.jpg",
            "PXL_20211013_220651983.jpg.json"
        ));
        assert!(fits(
            "IMG_3397.JPG",
            "IMG_3397.JPG.supplemental-metadata.json"
        ));
        assert!(fits(
            "PXL_20231118_035751175.MP.jpg",
            "PXL_20231118_035751175.MP.jpg.json"
        ));
        assert!(fits(
            "PXL_20210102_221126856.MP~2.jpg",
            "PXL_20210102_221126856.MP~2.jpg.json"
        ));
        let names = sidecar_names("IMG_1.jpg");
        assert_eq!(names[0], ("IMG_1.jpg.json".into(), Naming::Plain));
        assert_eq!(
            names[1],
            (
                "IMG_1.jpg.supplemental-metadata.json".into(),
                Naming::Supplemental
            )
        );
    }

    #[test]
    fn the_supplemental_infix_is_cut_to_46_units() {
        // GooglePhotosTakeoutHelper pull request 449 and issue 353: every
        // prefix of the infix appears, down to `.s` and `.`.
        let cases = [
            (
                "IMG_20200920_131207.jpg",
                "IMG_20200920_131207.jpg.supplemental-metadata.json",
            ),
            (
                "PXL_20211013_220651983.jpg",
                "PXL_20211013_220651983.jpg.supplemental-metada.json",
            ),
            (
                "Screenshot_20200101-120000_ChromeXY.jpg",
                "Screenshot_20200101-120000_ChromeXY.jpg.supple.json",
            ),
            (
                "Screenshot_20200101-120000_Chromium12345.jpg",
                "Screenshot_20200101-120000_Chromium12345.jpg.s.json",
            ),
            (
                "Screenshot_20200101-120000_Chromium123456.jpg",
                "Screenshot_20200101-120000_Chromium123456.jpg..json",
            ),
        ];
        for (media, json) in cases {
            assert!(fits(media, json), "{media} / {json}");
            assert_eq!(json.len(), 51.min(media.len() + 27), "{json}");
        }
        // The counter after the cut infix (Wacheee/GooglePhotosTakeoutHelper
        // issue 15 shows `.supple(18).json`).
        assert!(fits(
            "Screenshot_20200101-120000_ChromeXY(18).jpg",
            "Screenshot_20200101-120000_ChromeXY.jpg.supple(18).json"
        ));
    }

    #[test]
    fn long_names_are_cut_and_media_stems_at_47() {
        // immich-go matcher test: a 47-character name loses its last
        // character; the counter stays after the cut.
        assert!(fits(
            "05yqt21kruxwwlhhgrwrdyb6chhwszi9bqmzu16w0 2.jpg",
            "05yqt21kruxwwlhhgrwrdyb6chhwszi9bqmzu16w0 2.jp.json"
        ));
        assert!(fits(
            "13039_327707840323_537645323_9470255_27214_n(1).jpg",
            "13039_327707840323_537645323_9470255_27214_n.j(1).json"
        ));
        // A media stem cut at 47, its JSON cut from the original name at 46.
        let media = "PXL_20230809_203449253.LONG_EXPOSURE-02.ORIGINA.jpg";
        assert_eq!(utf16_len(split_extension(media).0), MEDIA_STEM_LIMIT);
        assert!(fits(
            media,
            "PXL_20230809_203449253.LONG_EXPOSURE-02.ORIGIN.json"
        ));
        // A name without an extension on upload.
        assert!(fits("20030616.jpg", "20030616.json"));
        assert!(fits(
            "2013-12-03(1).jpg",
            "2013-12-03.supplemental-metadata(1).json"
        ));
    }

    #[test]
    fn google_counts_utf16_units() {
        // immich-go matcher test: 22 emoji (2 units each) and `☺️` (2) make
        // 46 units in 24 characters; the media name has one emoji more.
        let json = "😀😃😄😁😆😅😂🤣🥲☺️😊😇🙂🙃😉😌😍🥰😘😗😙😚😋.json";
        let media = "😀😃😄😁😆😅😂🤣🥲☺️😊😇🙂🙃😉😌😍🥰😘😗😙😚😋😛.jpg";
        assert_eq!(utf16_len(json.strip_suffix(".json").unwrap()), 46);
        assert!(fits(media, json));
        // Cut through a surrogate pair: the whole emoji goes.
        let odd = format!("{}😀😀.jpg", "a".repeat(45));
        assert!(fits(&odd, &format!("{}.json", "a".repeat(45))));
    }

    /// Whether Google cuts by bytes or characters is not settled in public
    /// threads for every export (immich-go `matchNormal` tries both; the
    /// emoji case above shows UTF-16 units): all three are tried.
    #[test]
    fn cuts_by_units_characters_or_bytes() {
        let accented = "é".repeat(50);
        let by = cuts(&accented, 46);
        // Characters and units agree for `é`; bytes cut at 23 characters.
        assert_eq!(by, vec!["é".repeat(46).as_str(), "é".repeat(23).as_str()]);
        assert_eq!(cuts("short", 46), vec!["short"]);
        let emoji = "😀".repeat(30);
        assert_eq!(
            cuts(&emoji, 46),
            vec![
                "😀".repeat(30).as_str(),
                "😀".repeat(23).as_str(),
                "😀".repeat(11).as_str()
            ]
        );
        // A byte cut through `é` arrives as U+FFFD: dropped from the key.
        let media = format!("{}é.jpg", "a".repeat(45));
        let broken = format!("{}\u{fffd}.json", "a".repeat(45));
        assert!(fits(&media, &broken));
        assert_eq!(
            json_key(&format!("{}\u{fffd}(2).json", "a".repeat(45))),
            Some(format!("{}(2).json", "a".repeat(45)))
        );
    }

    #[test]
    fn nfc_and_nfd_names_meet() {
        // GooglePhotosTakeoutHelper pull request 247: macOS writes NFD.
        let nfd = "Cafe\u{301} de Flore.jpg";
        let nfc_json = "Caf\u{e9} de Flore.jpg.json";
        assert!(fits(nfd, nfc_json));
        assert!(fits(
            "Caf\u{e9} de Flore.jpg",
            "Cafe\u{301} de Flore.jpg.json"
        ));
        // 46 units counted after normalization.
        let long_nfd = format!("{}e\u{301}xyz.jpg", "a".repeat(44));
        assert!(fits(&long_nfd, &format!("{}\u{e9}x.json", "a".repeat(44))));
    }

    /// `.JSON` in capitals: immich-go's in-memory test Takeouts write it so.
    #[test]
    fn json_keys() {
        assert_eq!(json_key("IMG.jpg.JSON"), Some("IMG.jpg.json".into()));
        assert_eq!(json_key("IMG.jpg"), None);
        assert_eq!(json_key("json"), None);
        assert_eq!(json_key(".json"), Some(".json".into()));
        assert_eq!(json_key("é.json"), Some("é.json".into()));
    }

    #[test]
    fn edited_copies_name_their_original() {
        // immich-go matcher test and docs: `-modifié` shares the JSON.
        assert_eq!(
            unedited("PXL_20220405_090123740.PORTRAIT-modifié.jpg").as_deref(),
            Some("PXL_20220405_090123740.PORTRAIT.jpg")
        );
        // NFD, upper case, counter kept, the longest suffix wins.
        assert_eq!(
            unedited("IMG-modifie\u{301}.jpg").as_deref(),
            Some("IMG.jpg")
        );
        assert_eq!(unedited("IMG_1-EDITED.JPG").as_deref(), Some("IMG_1.JPG"));
        assert_eq!(unedited("IMG-edited(1).jpg").as_deref(), Some("IMG(1).jpg"));
        assert_eq!(unedited("IMG-ha editado.jpg").as_deref(), Some("IMG.jpg"));
        for (suffix, original) in [
            ("-bearbeitet", "Urlaub"),
            ("-editado", "Praia"),
            ("-modificato", "Mare"),
            ("-bewerkt", "Strand"),
            ("-edytowane", "Plaża"),
            ("-編集済み", "写真"),
            ("-편집됨", "사진"),
        ] {
            let name = format!("{original}{suffix}.jpg");
            assert_eq!(unedited(&name), Some(format!("{original}.jpg")), "{name}");
        }
        assert_eq!(unedited("IMG_1.jpg"), None);
        assert_eq!(unedited("-edited.jpg").as_deref(), Some(".jpg"));
        assert_eq!(unedited("credited.jpg"), None);
        // A stem cut at 47 units through the suffix.
        let original = "a".repeat(41);
        let cut = format!("{original}-bearb.jpg");
        assert_eq!(unedited(&cut), Some(format!("{original}.jpg")));
        // Not at 46 units: `-b` there is part of the name.
        assert_eq!(unedited(&format!("{}-bearb.jpg", "a".repeat(40))), None);
    }

    #[test]
    fn takeout_index_files() {
        assert!(is_takeout_index("Takeout/archive_browser.html"));
        assert!(!is_takeout_index("Takeout/Google Photos/a.jpg"));
        assert!(!is_takeout_index("Takeout/"));
        assert!(!is_takeout_index("Other/archive_browser.html"));
        assert!(!is_takeout_index("archive_browser.html"));
    }

    #[test]
    fn album_and_takeout_files() {
        // immich-go docs/google-takeout.md, "Some key file names are
        // spelled in the user language".
        for name in [
            "metadata.json",
            "Metadaten.json",
            "métadonnées.json",
            "me\u{301}tadonne\u{301}es.json",
            "metadati.json",
            "metadatos.json",
            "метаданные.json",
        ] {
            assert!(is_album_metadata(name), "{name}");
        }
        for name in ["metadata.jpg.json", "metadata(1).json", "IMG.jpg.json"] {
            assert!(!is_album_metadata(name), "{name}");
        }
        assert!(is_takeout_file("print-subscriptions.json"));
        assert!(!is_takeout_file("IMG.jpg.json"));
    }

    /// immich-go `testgp_livephoto_test.go`: `.MP`, `.MP~2`, `.MP4`; an
    /// iPhone's `.MOV`.
    #[test]
    fn videos_of_live_and_motion_photos() {
        for name in ["X.MP", "X.MP~2", "X.MOV", "x.mp4", "clip.M4V"] {
            assert!(is_video(name), "{name}");
        }
        for name in ["X.MP.jpg", "X.HEIC", "X", "X.json"] {
            assert!(!is_video(name), "{name}");
        }
    }

    /// A small deterministic generator (xorshift), for property checks
    /// without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// A media name as Google could export it: ASCII, accented, CJK and
    /// emoji characters, maybe a counter, maybe no extension (only when the
    /// stem has no dot: else its last dot would start one).
    fn random_name(rng: &mut Rng) -> (String, String, Option<u32>) {
        const ALPHABET: [&str; 12] = [
            "a", "Z", "_", "-", " ", "7", ".", "é", "ß", "写", "😀", "☺️",
        ];
        let len = 1 + rng.below(70);
        let stem: String = (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect::<String>()
            .trim_start_matches('.')
            .to_owned();
        let stem = if stem.is_empty() {
            "x".to_owned()
        } else {
            stem
        };
        let mut extension = [".jpg", ".HEIC", ".mp4", ".jpeg", ""][rng.below(5)];
        if stem.contains('.') && extension.is_empty() {
            extension = ".png";
        }
        let counter = (rng.below(3) == 0).then(|| 1 + rng.below(20) as u32);
        (stem, extension.to_owned(), counter)
    }

    /// The sidecar name by the rule as converters state it: the original
    /// name (maybe with the supplemental infix) cut to 46 UTF-16 units,
    /// then the counter, then `.json`.
    fn google_json(original: &str, supplemental: bool, counter: Option<u32>) -> String {
        let whole = if supplemental {
            format!("{original}.supplemental-metadata")
        } else {
            original.to_owned()
        };
        let mut units = 0;
        let cut: String = whole
            .chars()
            .take_while(|c| {
                units += c.len_utf16();
                units <= 46
            })
            .collect();
        let counter = counter.map_or(String::new(), |n| format!("({n})"));
        format!("{cut}{counter}.json")
    }

    /// The exported media name: the stem cut to 47 units, the counter, the
    /// extension.
    fn google_media(stem: &str, extension: &str, counter: Option<u32>) -> String {
        let mut units = 0;
        let cut: String = stem
            .chars()
            .take_while(|c| {
                units += c.len_utf16();
                units <= 47
            })
            .collect();
        let counter = counter.map_or(String::new(), |n| format!("({n})"));
        format!("{cut}{counter}{extension}")
    }

    #[test]
    fn every_generated_media_name_finds_its_generated_json() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5000 {
            let (stem, extension, counter) = random_name(&mut rng);
            let supplemental = rng.below(2) == 0;
            let original = format!("{stem}{extension}");
            let media = google_media(&stem, &extension, counter);
            let json = google_json(&original, supplemental, counter);
            assert!(fits(&media, &json), "{media:?} / {json:?}");
            // Spelled NFD on one side.
            let nfd: String = media.nfd().collect();
            assert!(fits(&nfd, &json), "NFD {media:?} / {json:?}");
            // Another counter never fits.
            let other = google_json(&original, supplemental, Some(counter.map_or(1, |n| n + 1)));
            assert!(!fits(&media, &other), "{media:?} / {other:?}");
        }
    }

    #[test]
    fn every_generated_edited_copy_names_its_original() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..2000 {
            let (stem, extension, counter) = random_name(&mut rng);
            let stem = stem.trim_end_matches(['-', ' ']);
            if stem.is_empty() || utf16_len(stem) >= MEDIA_STEM_LIMIT - 1 {
                continue;
            }
            let suffix = EDITED_SUFFIXES[rng.below(EDITED_SUFFIXES.len())];
            let edited = google_media(&format!("{stem}{suffix}"), &extension, counter);
            let original = unedited(&edited).unwrap_or_else(|| panic!("{edited:?}"));
            // The original's JSON is the one its name gives.
            let json = google_json(&format!("{stem}{extension}"), true, counter);
            assert!(
                fits(&original, &json),
                "{edited:?} → {original:?} / {json:?}"
            );
        }
    }
}
