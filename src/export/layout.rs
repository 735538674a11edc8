//! Where a staged file goes and what it is called. Names come from the
//! library and are untrusted (a "filename" in `Photos.sqlite` can hold `/`,
//! `..`, NUL or 10 kB of text), two cameras both write `IMG_0001.JPG`, and the
//! staging disk is usually case-insensitive APFS; yet every file of an asset
//! must land at the same path on every run, next to its siblings, and never
//! outside its library's directory. This module is that rule, as pure
//! functions: `sanitize_name` for one component, `asset_base` for the
//! collision-free base an asset owns, `staged_path` for each of its files.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset};
use unicode_normalization::UnicodeNormalization;

use crate::photos::{Asset, ResourceRole};

/// Longest name `sanitize_name` returns, in UTF-8 bytes. Role suffixes and a
/// full-uuid disambiguator still fit the 255 bytes of APFS and ext4.
const MAX_NAME_BYTES: usize = 200;

/// Longest extension kept, in bytes; a longer one is not an extension.
const MAX_EXT_BYTES: usize = 16;

/// The longest a file name may get: what APFS, ext4 and sshfs all accept.
const MAX_FILE_NAME_BYTES: usize = 255;

/// The longest tail a role adds after the stem: `_edited.` plus an extension
/// (`.EXT.xmp` is shorter).
const MAX_ROLE_TAIL_BYTES: usize = "_edited.".len() + MAX_EXT_BYTES;

/// What a sanitized name becomes when nothing usable is left of it.
const UNNAMED: &str = "unnamed";

/// What a staged file is to its asset; the ledger stores it as `as_str()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Original,
    Raw,
    LiveVideo,
    Edited,
    EditedLiveVideo,
    Adjustments,
    OriginalAdjustments,
    /// The sidecar this program writes; it has no file in the library.
    Xmp,
}

impl Role {
    const ALL: [Role; 8] = [
        Role::Original,
        Role::Raw,
        Role::LiveVideo,
        Role::Edited,
        Role::EditedLiveVideo,
        Role::Adjustments,
        Role::OriginalAdjustments,
        Role::Xmp,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Original => "original",
            Role::Raw => "raw",
            Role::LiveVideo => "live_video",
            Role::Edited => "edited",
            Role::EditedLiveVideo => "edited_live_video",
            Role::Adjustments => "adjustments",
            Role::OriginalAdjustments => "original_adjustments",
            Role::Xmp => "xmp",
        }
    }

    /// The inverse of `as_str`.
    #[must_use]
    pub(super) fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ResourceRole> for Role {
    fn from(role: ResourceRole) -> Self {
        match role {
            ResourceRole::Original => Role::Original,
            ResourceRole::Raw => Role::Raw,
            ResourceRole::LiveVideo => Role::LiveVideo,
            ResourceRole::Edited => Role::Edited,
            ResourceRole::EditedLiveVideo => Role::EditedLiveVideo,
            ResourceRole::Adjustments => Role::Adjustments,
            ResourceRole::OriginalAdjustments => Role::OriginalAdjustments,
        }
    }
}

/// One safe path component from an untrusted name: NFC; `/`, `\`, `:`,
/// control characters and bidirectional controls become `_`; no leading dots or spaces, no trailing
/// ones; at most `MAX_NAME_BYTES`, keeping a short extension; never empty,
/// `.` or `..` (`unnamed` instead). Idempotent.
#[must_use]
pub(crate) fn sanitize_name(name: &str) -> String {
    let cleaned: String = name
        .nfc()
        .map(|c| match c {
            '/' | '\\' | ':' => '_',
            c if c.is_control() || is_bidi_control(c) => '_',
            c => c,
        })
        .collect();
    let trimmed = trim_name(&cleaned);
    let short = shorten(trimmed, MAX_NAME_BYTES);
    let short = trim_name(&short);
    if short.is_empty() || short == "." || short == ".." {
        UNNAMED.to_string()
    } else {
        short.to_string()
    }
}

/// The invisible marks that reorder text (U+202E RIGHT-TO-LEFT OVERRIDE, ...):
/// in a file name they make `photo\u{202e}gpj.exe` show as `photoexe.jpg`.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

fn trim_name(name: &str) -> &str {
    name.trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
}

/// `name` cut to `max` bytes at a char boundary, keeping an extension of at
/// most `MAX_EXT_BYTES` (whatever follows the last dot).
fn shorten(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() && ext.len() <= MAX_EXT_BYTES => {
            let stem = cut(stem, max - ext.len() - 1).trim_end_matches(['.', ' ']);
            format!("{stem}.{ext}")
        }
        _ => cut(name, max).to_string(),
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let end = (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    &s[..end]
}

/// An extension as it may appear in a staged name: 1 to `MAX_EXT_BYTES`
/// ASCII letters and digits, case kept; anything else is no extension.
#[must_use]
fn sanitize_ext(ext: &str) -> Option<String> {
    let ok = !ext.is_empty()
        && ext.len() <= MAX_EXT_BYTES
        && ext.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| ext.to_string())
}

/// The sanitized extension of the last component of `path` (a library path
/// such as `resources/renders/A/UUID_1_201_a.jpeg`), if it has a usable one.
#[must_use]
fn ext_of(path: &str) -> Option<String> {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() {
        return None;
    }
    sanitize_ext(ext)
}

/// `name` split into stem and a usable extension (`None` when the part after
/// the last dot is not one). `name` must be sanitized already.
fn split_name(name: &str) -> (&str, Option<String>) {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => match sanitize_ext(ext) {
            Some(ext) => (stem, Some(ext)),
            None => (name, None),
        },
        _ => (name, None),
    }
}

/// The directory of one library inside the staging root: its name as one
/// safe component.
#[must_use]
pub(crate) fn library_dir(library: &str) -> String {
    sanitize_name(library)
}

/// `LIBRARY/YYYY/MM/DD` for a photo taken at `date`, in its own time zone.
#[must_use]
fn day_dir(library: &str, date: &DateTime<FixedOffset>) -> String {
    format!(
        "{}/{:04}/{:02}/{:02}",
        library_dir(library),
        date.year(),
        date.month(),
        date.day()
    )
}

/// Whether `path` is relative, uses `/`, and every component is a normal
/// name: not empty, not `.` or `..`, no `\` or NUL. Every path this module
/// returns passes; other modules may check paths from the ledger with it.
#[must_use]
pub(crate) fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains(['\\', '\0']))
}

/// The key under which the ledger records who owns a name. Any staged path
/// of an asset gives the same key as its base (`claim_key(path) ==
/// claim_key(base)` for every role), and two assets whose files could clash on
/// a case-insensitive disk always share a key: the key is the directory
/// and the file name lowercased, with extensions (`.jpeg`) and role suffixes
/// (`_edited`, `_raw`, `_live`, `_adj`, `_O`) stripped from the end for as long as
/// any is there. So `IMG_1_edited.JPG` of one asset and the edited render
/// `IMG_1_edited.jpeg` of another cannot both be staged under that name.
/// The ledger answers `asset_base`'s `taken` by this key of its files' paths.
#[must_use]
pub(super) fn claim_key(path: &str) -> String {
    // Per char, not `str::to_lowercase`: its final-sigma rule looks at the
    // next letter, so the key of `NAME` and `NAME.jpg` would differ.
    let mut key: String = path.chars().flat_map(char::to_lowercase).collect();
    let name_start = key.rfind('/').map_or(0, |i| i + 1);
    loop {
        let name = &key[name_start..];
        let strip = ["_edited", "_live", "_raw", "_adj", "_o"]
            .into_iter()
            .find(|suffix| name.len() > suffix.len() && name.ends_with(suffix))
            .map(str::len)
            .or_else(|| match name.rsplit_once('.') {
                Some((stem, ext)) if !stem.is_empty() && sanitize_ext(ext).is_some() => {
                    Some(ext.len() + 1)
                }
                _ => None,
            });
        match strip {
            Some(n) => key.truncate(key.len() - n),
            None => return key,
        }
    }
}

/// The path, relative to the staging root, of the asset's file in `role`.
/// `base` is the asset's `LIBRARY/YYYY/MM/DD/NAME` (from `asset_base`, or
/// `base_of` a staged original); `resource_path` is the library file (its
/// extension names renders, videos and RAWs; unused for the AAE and XMP
/// roles). All roles share the base, so an asset's files stay together:
/// `NAME.HEIC`, `NAME.dng`, `NAME.mov`, `NAME_edited.jpeg`, `NAME_edited.mov`,
/// `NAME.AAE`, `NAME_O.AAE`, `NAME.HEIC.xmp`.
#[must_use]
pub(super) fn staged_path(base: &str, role: Role, asset: &Asset, resource_path: &str) -> String {
    let (dir, stem) = base.rsplit_once('/').unwrap_or(("", base));
    let own = original_ext(asset);
    let name = file_name(stem, role, own.as_deref(), ext_of(resource_path).as_deref());
    let path = format!("{dir}/{name}");
    debug_assert!(is_safe_relative(&path), "unsafe staged path {path:?}");
    path
}

/// The base of an asset from the path its original is staged at: the path
/// without its extension. Exact, because a base never ends in something
/// that looks like an extension.
#[must_use]
pub(super) fn base_of(staged_original: &str) -> String {
    let name_start = staged_original.rfind('/').map_or(0, |i| i + 1);
    let (_, ext) = split_name(&staged_original[name_start..]);
    match ext {
        Some(ext) => staged_original[..staged_original.len() - ext.len() - 1].to_string(),
        None => staged_original.to_string(),
    }
}

/// The extension of the asset's original as the staged names use it: from
/// its original filename, else from its file in the library.
#[must_use]
fn original_ext(asset: &Asset) -> Option<String> {
    let name = sanitize_name(&asset.original_filename);
    split_name(&name).1.or_else(|| library_ext(asset))
}

fn file_name(stem: &str, role: Role, own: Option<&str>, resource_ext: Option<&str>) -> String {
    let same_as_original = |ext: Option<&str>| match (ext, own) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    };
    match role {
        Role::Original => join(stem, "", own),
        Role::Raw if same_as_original(resource_ext) => join(stem, "_raw", resource_ext),
        Role::Raw => join(stem, "", resource_ext),
        Role::LiveVideo => {
            let ext = resource_ext.or(Some("mov"));
            let suffix = if same_as_original(ext) { "_live" } else { "" };
            join(stem, suffix, ext)
        }
        Role::Edited => join(stem, "_edited", resource_ext),
        Role::EditedLiveVideo => join(stem, "_edited", resource_ext.or(Some("mov"))),
        // An original named `X.AAE` keeps its name; the edits step aside.
        Role::Adjustments if same_as_original(Some("AAE")) => join(stem, "_adj", Some("AAE")),
        Role::Adjustments => join(stem, "", Some("AAE")),
        Role::OriginalAdjustments => join(stem, "_O", Some("AAE")),
        Role::Xmp => match own {
            Some(ext) => format!("{stem}.{ext}.xmp"),
            None => format!("{stem}.xmp"),
        },
    }
}

fn join(stem: &str, suffix: &str, ext: Option<&str>) -> String {
    match ext {
        Some(ext) => format!("{stem}{suffix}.{ext}"),
        None => format!("{stem}{suffix}"),
    }
}

/// The base of `asset` in `library`, relative to the staging root:
/// `LIBRARY/YYYY/MM/DD/NAME` from its creation date and sanitized original
/// filename. `taken(claim)` says which uuid owns a claim (see `claim_key`):
/// the ledger's files plus the bases given out earlier in the same plan.
/// Candidates, in order: `NAME`, `NAME_<first 8 hex of uuid>`,
/// `NAME_<uuid>`. One this asset owns already wins (so it never moves once
/// staged); otherwise the first free one.
#[must_use]
pub(super) fn asset_base(
    library: &str,
    asset: &Asset,
    taken: &dyn Fn(&str) -> Option<String>,
) -> String {
    let dir = day_dir(library, &asset.date);
    let name = sanitize_name(&asset.original_filename);
    let (stem, _) = split_name(&name);
    let candidates = [
        format!("{dir}/{stem}"),
        format!("{dir}/{stem}_{}", uuid_tag(&asset.uuid, 8)),
        // 36 bytes of uuid plus `_`: the stem gives way so names still fit.
        format!(
            "{dir}/{}_{}",
            cut(stem, MAX_FILE_NAME_BYTES - MAX_ROLE_TAIL_BYTES - 37),
            uuid_tag(&asset.uuid, 36)
        ),
    ];
    let owner = |base: &String| taken(&claim_key(base));
    let chosen = candidates
        .iter()
        .find(|base| owner(base).is_some_and(|uuid| uuid == asset.uuid))
        .or_else(|| candidates.iter().find(|base| owner(base).is_none()))
        // Three names taken by others means the uuids are not unique; the
        // last candidate is the best there is.
        .unwrap_or(&candidates[2]);
    debug_assert!(is_safe_relative(chosen), "unsafe base {chosen:?}");
    chosen.clone()
}

/// The extension of the original's file in the library, for an original
/// filename that has none.
fn library_ext(asset: &Asset) -> Option<String> {
    ext_of(&asset.filename).or_else(|| {
        asset
            .resources
            .iter()
            .find(|r| r.role == ResourceRole::Original)
            .and_then(|r| ext_of(&r.path))
    })
}

/// Up to `len` characters of the uuid that are safe in a name (hex digits
/// for the short tag, also letters and `-` for the full one), falling back
/// to a hash of it when the uuid offers none.
fn uuid_tag(uuid: &str, len: usize) -> String {
    let keep = |c: &char| {
        if len <= 8 {
            c.is_ascii_hexdigit()
        } else {
            c.is_ascii_alphanumeric() || *c == '-'
        }
    };
    let tag: String = uuid.chars().filter(keep).take(len).collect();
    if tag.is_empty() {
        blake3::hash(uuid.as_bytes()).to_hex()[..len.min(64)].to_string()
    } else {
        tag
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::TimeZone;
    use unicode_normalization::is_nfc;

    use super::*;
    use crate::photos::Resource;

    const UUID_A: &str = "1A2B3C4D-0000-4000-8000-00000000000A";
    const UUID_B: &str = "9F8E7D6C-0000-4000-8000-00000000000B";

    fn hostile_names() -> Vec<String> {
        let mut names: Vec<String> = [
            "",
            ".",
            "..",
            "...",
            "/",
            "//",
            "../../etc/passwd",
            "..\\..\\windows",
            "a/../../b",
            "/etc/passwd",
            "\0",
            "a\0b",
            "\u{1}\u{7f}\u{85}",
            " ",
            "   .  ",
            ". . .",
            ".hidden",
            "..IMG_0001.JPG",
            "IMG_0001.JPG.",
            "IMG_0001.JPG ",
            "C:\\photo.jpg",
            "file:name.jpg",
            "tab\there.jpg",
            "new\nline.jpg",
            "Cafe\u{301}.jpg",
            "\u{301}.jpg",
            "\u{202e}gpj.exe",
            "😀.heic",
            "名前.JPG",
            ".jpg",
            "photo.",
            "photo..jpg",
            "a.b.c.d",
            "IMG_0001_edited.jpeg",
            "IMG_0001_O.AAE",
            "\u{fffe}\u{ffff}",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        names.push("a".repeat(10_000));
        names.push(format!("{}.jpeg", "b".repeat(10_000)));
        names.push(format!("{}.jpeg", "é".repeat(5_000)));
        names.push(format!("{}.jpeg", "e\u{301}".repeat(5_000)));
        names.push(format!("{}.jpeg", "😀".repeat(3_000)));
        names.push(format!("{}.{}", "c".repeat(300), "x".repeat(40)));
        names.push(format!("{}. .jpg", "d".repeat(195)));
        names.push(format!("{}/", "e".repeat(300)));
        names.push("/".repeat(500));
        names.push(".".repeat(500));
        names.push(format!("{}{}", ".".repeat(300), "x".repeat(300)));
        names
    }

    fn is_normal_component(name: &str) -> bool {
        !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains(['/', '\\', ':', '\0'])
            && !name.chars().any(char::is_control)
            && !name.starts_with(['.', ' '])
            && !name.ends_with(['.', ' '])
            && name.len() <= MAX_NAME_BYTES
            && is_nfc(name)
            && std::path::Path::new(name)
                .components()
                .collect::<Vec<_>>()
                .as_slice()
                == [std::path::Component::Normal(name.as_ref())]
    }

    #[test]
    fn sanitized_names_are_one_normal_component() {
        for name in hostile_names() {
            let clean = sanitize_name(&name);
            assert!(is_normal_component(&clean), "{name:?} -> {clean:?}");
            assert_eq!(sanitize_name(&clean), clean, "not idempotent: {name:?}");
        }
    }

    #[test]
    fn sanitize_examples() {
        assert_eq!(sanitize_name("IMG_0001.HEIC"), "IMG_0001.HEIC");
        assert_eq!(sanitize_name(""), "unnamed");
        assert_eq!(sanitize_name(".."), "unnamed");
        assert_eq!(sanitize_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(sanitize_name("a\0b\\c:d"), "a_b_c_d");
        assert_eq!(sanitize_name(" .hidden. "), "hidden");
        assert_eq!(sanitize_name("Cafe\u{301}.jpg"), "Caf\u{e9}.jpg");
        assert_eq!(sanitize_name("photo\u{202e}gpj.exe"), "photo_gpj.exe");
        assert_eq!(sanitize_name("\u{2066}a\u{2069}.jpg"), "_a_.jpg");
        let long = sanitize_name(&format!("{}.jpeg", "é".repeat(5_000)));
        assert!(
            long.len() <= MAX_NAME_BYTES && long.ends_with("é.jpeg"),
            "{long}"
        );
        let no_ext = sanitize_name(&format!("{}.{}", "c".repeat(300), "x".repeat(40)));
        assert_eq!(no_ext.len(), MAX_NAME_BYTES);
        assert!(no_ext.chars().all(|c| c == 'c'));
    }

    #[test]
    fn extensions_are_short_and_alphanumeric() {
        assert_eq!(sanitize_ext("HEIC").as_deref(), Some("HEIC"));
        assert_eq!(sanitize_ext(""), None);
        assert_eq!(sanitize_ext("j/pg"), None);
        assert_eq!(sanitize_ext("фото"), None);
        assert_eq!(sanitize_ext(&"x".repeat(17)), None);
        assert_eq!(ext_of("originals/A/UUID_4.cr2").as_deref(), Some("cr2"));
        assert_eq!(ext_of("originals/A.d/UUID"), None);
        assert_eq!(ext_of(".mov"), None);
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(role.to_string(), role.as_str());
        }
        assert_eq!(Role::parse("Original"), None);
        assert_eq!(Role::from(ResourceRole::LiveVideo), Role::LiveVideo);
        assert_eq!(
            Role::from(ResourceRole::OriginalAdjustments),
            Role::OriginalAdjustments
        );
    }

    #[test]
    fn day_dir_uses_the_photos_own_zone() {
        // 2024-05-01 01:30 in Tokyo is still April 30th in UTC.
        let tokyo = FixedOffset::east_opt(9 * 3600).unwrap();
        let date = tokyo.with_ymd_and_hms(2024, 5, 1, 1, 30, 0).unwrap();
        assert_eq!(day_dir("Photos", &date), "Photos/2024/05/01");
        assert_eq!(day_dir("../x", &date), "_x/2024/05/01");
    }

    fn asset(uuid: &str, original_filename: &str) -> Asset {
        Asset::example(uuid, original_filename)
    }

    fn free(_: &str) -> Option<String> {
        None
    }

    /// Every role's path, from typical library files.
    fn all_paths(base: &str, a: &Asset) -> Vec<String> {
        [
            (Role::Original, "originals/1/UUID.heic"),
            (Role::Raw, "originals/1/UUID_4.dng"),
            (Role::LiveVideo, "originals/1/UUID_3.mov"),
            (Role::Edited, "resources/renders/1/UUID_1_201_a.jpeg"),
            (
                Role::EditedLiveVideo,
                "resources/renders/1/UUID_2_100_a.mov",
            ),
            (Role::Adjustments, "resources/renders/1/UUID.plist"),
            (Role::OriginalAdjustments, "originals/1/UUID_5.aae"),
            (Role::Xmp, ""),
        ]
        .into_iter()
        .map(|(role, library_path)| staged_path(base, role, a, library_path))
        .collect()
    }

    #[test]
    fn names_per_role() {
        let a = asset(UUID_A, "IMG_0001.HEIC");
        let base = asset_base("Photos", &a, &free);
        assert_eq!(base, "Photos/2024/05/01/IMG_0001");
        assert_eq!(
            all_paths(&base, &a),
            [
                "Photos/2024/05/01/IMG_0001.HEIC",
                "Photos/2024/05/01/IMG_0001.dng",
                "Photos/2024/05/01/IMG_0001.mov",
                "Photos/2024/05/01/IMG_0001_edited.jpeg",
                "Photos/2024/05/01/IMG_0001_edited.mov",
                "Photos/2024/05/01/IMG_0001.AAE",
                "Photos/2024/05/01/IMG_0001_O.AAE",
                "Photos/2024/05/01/IMG_0001.HEIC.xmp",
            ]
        );
    }

    #[test]
    fn the_files_of_one_asset_never_share_a_name() {
        let mut names = hostile_names();
        names.extend(["IMG_0001.AAE", "IMG_0001.mov", "IMG_0001.dng", "X.xmp"].map(String::from));
        for name in names {
            let a = asset(UUID_A, &name);
            let paths = all_paths(&asset_base("L", &a, &free), &a);
            let mut lower: Vec<String> = paths.iter().map(|p| p.to_lowercase()).collect();
            lower.sort();
            lower.dedup();
            assert_eq!(lower.len(), paths.len(), "{paths:#?}");
        }
    }

    #[test]
    fn raw_and_video_that_clash_with_the_original_get_a_suffix() {
        let jpg = asset(UUID_A, "IMG_1994.JPG");
        let base = asset_base("L", &jpg, &free);
        let path = |role, library_path| staged_path(&base, role, &jpg, library_path);
        assert_eq!(path(Role::Raw, "o/1/U_4.cr2"), "L/2024/05/01/IMG_1994.cr2");
        assert_eq!(
            path(Role::Raw, "o/1/U_4.jpg"),
            "L/2024/05/01/IMG_1994_raw.jpg"
        );
        let mov = asset(UUID_A, "IMG_2000.MOV");
        let base = asset_base("L", &mov, &free);
        let path = |role, library_path| staged_path(&base, role, &mov, library_path);
        assert_eq!(
            path(Role::LiveVideo, "o/1/U_3.mov"),
            "L/2024/05/01/IMG_2000_live.mov"
        );
        assert_eq!(
            path(Role::LiveVideo, "o/1/U_3"),
            "L/2024/05/01/IMG_2000_live.mov"
        );
    }

    #[test]
    fn a_missing_extension_comes_from_the_library_file() {
        let mut a = asset(UUID_A, "Scan");
        let base = asset_base("L", &a, &free);
        assert_eq!(
            staged_path(&base, Role::Original, &a, ""),
            "L/2024/05/01/Scan.heic"
        );
        a.filename = "no-extension".into();
        a.resources = vec![Resource {
            role: ResourceRole::Original,
            path: "originals/1/UUID.png".into(),
            present: true,
        }];
        assert_eq!(original_ext(&a).as_deref(), Some("png"));
        assert_eq!(
            staged_path(&base, Role::Xmp, &a, ""),
            "L/2024/05/01/Scan.png.xmp"
        );
        // A bad extension in the original filename is no extension.
        let odd = asset(UUID_A, "photo.j p g");
        let base = asset_base("L", &odd, &free);
        let original = staged_path(&base, Role::Original, &odd, "");
        assert_eq!(original, "L/2024/05/01/photo.j p g.heic");
        assert_eq!(base_of(&original), base);
        // No extension anywhere.
        let mut plain = asset(UUID_A, "README");
        plain.filename = "UUID".into();
        let base = asset_base("L", &plain, &free);
        let original = staged_path(&base, Role::Original, &plain, "");
        assert_eq!(original, "L/2024/05/01/README");
        assert_eq!(base_of(&original), base);
        assert_eq!(
            staged_path(&base, Role::Raw, &plain, "x"),
            "L/2024/05/01/README_raw"
        );
    }

    /// A ledger in a map: claim -> uuid.
    fn stage(ledger: &mut HashMap<String, String>, library: &str, a: &Asset) -> String {
        let base = asset_base(library, a, &|claim| ledger.get(claim).cloned());
        for path in all_paths(&base, a) {
            ledger.insert(claim_key(&path), a.uuid.clone());
        }
        base
    }

    #[test]
    fn collisions_are_resolved_by_uuid_and_stable() {
        let mut ledger = HashMap::new();
        let a = asset(UUID_A, "IMG_0001.JPG");
        let b = asset(UUID_B, "img_0001.heic");
        let first = stage(&mut ledger, "L", &a);
        let second = stage(&mut ledger, "L", &b);
        assert_eq!(first, "L/2024/05/01/IMG_0001");
        assert_eq!(second, "L/2024/05/01/img_0001_9F8E7D6C");
        // Next run, same answers, in either order.
        assert_eq!(stage(&mut ledger, "L", &b), second);
        assert_eq!(stage(&mut ledger, "L", &a), first);
        // If A's files are forgotten, B still keeps the place it has.
        ledger.retain(|_, uuid| uuid != UUID_A);
        assert_eq!(stage(&mut ledger, "L", &b), second);
        // Another day, no collision.
        let mut c = b.clone();
        c.date += chrono::Duration::days(1);
        assert_eq!(stage(&mut ledger, "L", &c), "L/2024/05/02/img_0001");
    }

    #[test]
    fn the_short_tag_taken_falls_back_to_the_full_uuid() {
        let a = asset(UUID_A, "IMG_0001.JPG");
        let taken = |claim: &str| {
            (claim == "l/2024/05/01/img_0001" || claim == "l/2024/05/01/img_0001_1a2b3c4d")
                .then(|| UUID_B.to_string())
        };
        let base = asset_base("L", &a, &taken);
        assert_eq!(base, format!("L/2024/05/01/IMG_0001_{UUID_A}"));
    }

    #[test]
    fn derived_names_cannot_clash_with_other_assets() {
        // A re-imported edit is named like another asset's render; a file
        // named like another's sidecar; a name differing only in case.
        for (first, second) in [
            ("IMG_0001.jpeg", "IMG_0001_edited.jpeg"),
            ("IMG_0001.jpeg", "img_0001_EDITED.JPEG"),
            ("IMG_0001.HEIC", "IMG_0001.HEIC.xmp"),
            ("IMG_0001.HEIC", "IMG_0001_O.AAE"),
            ("IMG_0001.HEIC", "IMG_0001_live.mov"),
            ("IMG_0001_live.HEIC", "IMG_0001_live_edited.jpeg"),
            ("IMG_0001.JPG", "img_0001.jpg"),
        ] {
            for (x, y) in [(first, second), (second, first)] {
                let mut ledger = HashMap::new();
                let a = asset(UUID_A, x);
                let b = asset(UUID_B, y);
                let mut paths = all_paths(&stage(&mut ledger, "L", &a), &a);
                paths.extend(all_paths(&stage(&mut ledger, "L", &b), &b));
                let mut lower: Vec<String> = paths.iter().map(|p| p.to_lowercase()).collect();
                lower.sort();
                lower.dedup();
                assert_eq!(lower.len(), paths.len(), "{paths:#?}");
            }
        }
    }

    #[test]
    fn every_path_of_an_asset_has_the_base_claim() {
        for name in hostile_names() {
            let a = asset(UUID_A, &name);
            let base = asset_base("L", &a, &free);
            let original = staged_path(&base, Role::Original, &a, "");
            assert_eq!(base_of(&original), base, "{name:?}");
            for path in all_paths(&base, &a) {
                assert_eq!(claim_key(&path), claim_key(&base), "{name:?}: {path}");
            }
        }
        assert_eq!(
            claim_key("L/2024/05/01/IMG_1_edited_O.AAE"),
            "l/2024/05/01/img_1"
        );
        assert_eq!(claim_key("L/2024/05/01/_edited"), "l/2024/05/01/_edited");
        // The per-char lowercase keeps a final sigma's key stable.
        assert_eq!(claim_key("L/ΟΔΟΣ.jpg"), claim_key("L/ΟΔΟΣ"));
    }

    #[test]
    fn hostile_names_stay_inside_the_library() {
        let others = |_: &str| Some("other".to_string());
        for name in hostile_names() {
            for uuid in [UUID_A, "", "../..", "x/y\0z"] {
                let mut a = asset(uuid, &name);
                a.filename.clone_from(&name);
                for taken in [&free as &dyn Fn(&str) -> Option<String>, &others] {
                    let base = asset_base("L", &a, taken);
                    for path in all_paths(&base, &a) {
                        assert!(is_safe_relative(&path), "{name:?} -> {path:?}");
                        let file = path.rsplit('/').next().unwrap();
                        assert_eq!(path, format!("L/2024/05/01/{file}"), "{name:?}");
                        assert!(
                            file.len() <= MAX_FILE_NAME_BYTES,
                            "{name:?} -> {}",
                            file.len()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn safe_relative_paths() {
        assert!(is_safe_relative("L/2024/05/01/a.jpg"));
        for bad in [
            "", "/L/a", "L//a", "L/./a", "L/../a", "L/a/", "L/a\\b", "L/a\0",
        ] {
            assert!(!is_safe_relative(bad), "{bad:?}");
        }
    }
}
