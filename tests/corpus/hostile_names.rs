//! Hostile names through a real `run`: original file names, stored file
//! names and album names with `/`, `..`, control characters, NUL, a
//! right-to-left override, 1,000 characters, names equal but for Unicode
//! normalization or letter case, reserved names (`CON`), trailing dots and
//! spaces. Every staged file must stay in its day folder inside staging,
//! under a safe name distinct from every other one, with the library's
//! bytes; nothing may be lost: what cannot be staged is pending.

use std::collections::HashSet;
use std::path::Path;

use synthetic::{AssetSpec, DbText, Flavor, StoredPath, SyntheticLibrary};
use unicode_normalization::UnicodeNormalization;

use crate::common::setup::{tree, Setup};
use crate::common::{utc, uuid};

const NAMES: &[&str] = &[
    "../../../../etc/passwd",
    "a/b/c.jpg",
    ".",
    "..",
    "",
    ".hidden.jpg",
    "-rf.jpg",
    "--help",
    "\u{1b}[31mred\u{7}.jpg",
    "nul\0byte.jpg",
    "new\nline.jpg",
    "photo\u{202e}gpj.exe",
    "\u{2066}isolate\u{2069}.jpg",
    "back\\slash.jpg",
    "co:lon.jpg",
    "\u{e9}t\u{e9}.jpg",
    "e\u{301}te\u{301}.jpg",
    "IMG_0001.JPG",
    "img_0001.jpg",
    "CON",
    "NUL.txt",
    "trailing dot.",
    "trailing space ",
    " . ",
];

/// Bidirectional controls: a name with one can show another extension.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Why a staged file name is unsafe, if it is.
fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 255 {
        Some("empty or longer than 255 bytes")
    } else if name.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        Some("holds a control character")
    } else if name.contains(['/', '\\', ':']) {
        Some("holds a separator")
    } else if name.starts_with(['.', ' ']) || name.ends_with(['.', ' ']) {
        Some("starts or ends with a dot or space")
    } else {
        None
    }
}

fn hostile_library(root: &Path) -> usize {
    let day = utc(2024, 6, 1);
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    let long = "x".repeat(1000) + ".jpg";
    for (i, name) in (0..).zip(NAMES.iter().copied().chain([long.as_str()])) {
        let mut a = AssetSpec::photo(&uuid(i), day);
        a.original_filename = DbText::Text(name.to_owned());
        a.albums = vec![name.to_owned(), "../\u{202e}album\0".into()];
        a.title = Some(DbText::Text(format!("title {name}")));
        a.keywords = vec![name.to_owned()];
        lib.asset(a);
    }
    // A stored file name that climbs out of the library: no file is there.
    let mut climbing = AssetSpec::photo(&uuid(999), day);
    climbing.stored_path = Some(StoredPath {
        directory: "../../..".into(),
        filename: "../../etc/passwd".into(),
    });
    lib.asset(climbing);
    lib.write(root).unwrap();
    NAMES.len() + 1
}

#[test]
fn hostile_names_are_staged_safely_distinctly_and_completely() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("Hostile.photoslibrary");
    let named = hostile_library(&root);
    let mut setup = Setup::new();
    setup.add_library("h", &root);
    setup.run_ok();

    let staged = setup.staged("h");
    let originals: Vec<(&String, &String)> = staged
        .iter()
        .filter(|((_, role), _)| role == "original")
        .map(|((uuid, _), (path, _, _))| (uuid, path))
        .collect();
    assert_eq!(originals.len(), named, "every named asset is staged");
    let mut seen = HashSet::new();
    for (uuid, path) in &originals {
        let name = path
            .strip_prefix("h/2024/06/01/")
            .expect("in its day folder");
        assert_eq!(unsafe_name(name), None, "{name:?}");
        let key: String = name.nfc().flat_map(char::to_lowercase).collect();
        assert!(seen.insert(key), "{name:?} is not distinct");
        let source = root.join(format!("originals/{}/{uuid}.jpeg", &uuid[..1]));
        let copy = setup.staging().join(path);
        assert!(
            std::fs::read(source).unwrap() == std::fs::read(copy).unwrap(),
            "{path:?}"
        );
    }
    // Nothing lost: the asset whose file climbs out is pending, not dropped.
    let pending = setup.ledger().pending("h").unwrap();
    assert_eq!(
        pending.iter().map(|p| p.uuid.as_str()).collect::<Vec<_>>(),
        [uuid(999)]
    );

    // Nothing outside staging/h, and no sidecar with a control character.
    for (path, _) in tree(&setup.staging()) {
        assert!(
            path.starts_with("h/") || path == "date_threshold.txt",
            "{path:?}"
        );
        assert_eq!(
            unsafe_name(path.rsplit('/').next().unwrap()),
            None,
            "{path:?}"
        );
        if Path::new(&path).extension().is_some_and(|e| e == "xmp") {
            let xml = std::fs::read_to_string(setup.staging().join(&path)).unwrap();
            let bad = xml
                .chars()
                .find(|c| c.is_control() && !matches!(c, '\n' | '\t'));
            assert_eq!(bad, None, "{path:?}");
        }
    }
    assert_eq!(crate::listing(tmp.path()), ["Hostile.photoslibrary"]);
    let mut around: Vec<String> = crate::listing(setup.root());
    around.retain(|n| !["photos_backup.conf", "staging", "state", "tmp"].contains(&n.as_str()));
    assert!(around.is_empty(), "written beside staging: {around:?}");
}
