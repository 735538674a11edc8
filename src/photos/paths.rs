//! Which database values may become a file path. `ZUUID`, `ZDIRECTORY` and
//! `ZFILENAME` are untrusted: a damaged or hostile library could otherwise
//! make the backup read (and copy away) any file on the machine, or hand the
//! OS a path with a NUL byte in it. An asset whose values fail these checks
//! gets no path at all, and the reason says which value was refused.

/// `ZSAVEDASSETTYPE` of a file referenced in place rather than copied into
/// the library (osxphotos reads it the same way on every Photos 5+ model).
pub(super) const SAVED_REFERENCED: i64 = 10;

/// Why the paths of an asset cannot be derived, or `None` when they can.
/// An absolute `directory` is legitimate only for a referenced file
/// (`isreference`, from `ZSAVEDASSETTYPE`); no part may hold a NUL byte or a
/// `..` component, and the uuid (part of the names of renders and derived
/// files) must look like the ones Photos writes.
#[must_use]
pub(super) fn refusal(
    uuid: &str,
    directory: &str,
    filename: &str,
    isreference: bool,
) -> Option<String> {
    if !is_photos_uuid(uuid) {
        return Some(format!(
            "uuid {uuid:?} is not made of hex digits and dashes as Photos writes them"
        ));
    }
    for (column, value) in [("ZDIRECTORY", directory), ("ZFILENAME", filename)] {
        if value.contains('\0') {
            return Some(format!("{column} {value:?} holds a NUL byte"));
        }
        if value.split('/').any(|c| c == "..") {
            return Some(format!("{column} {value:?} climbs out with \"..\""));
        }
    }
    if directory.starts_with('/') && !isreference {
        return Some(format!(
            "ZDIRECTORY {directory:?} is absolute but the asset is not a referenced file \
             (ZSAVEDASSETTYPE {SAVED_REFERENCED})"
        ));
    }
    None
}

/// Hex digits and dashes, 1 to 64 of them: Photos writes
/// `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` in upper case.
#[must_use]
fn is_photos_uuid(uuid: &str) -> bool {
    (1..=64).contains(&uuid.len())
        && uuid.bytes().any(|b| b.is_ascii_hexdigit())
        && uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "D79B8D77-BFFC-460B-9312-034F2877D35B";

    #[test]
    fn photos_uuids_pass_and_others_do_not() {
        assert!(is_photos_uuid(UUID));
        assert!(is_photos_uuid(&UUID.to_lowercase()));
        for bad in [
            "",
            "-",
            "..",
            "../x",
            "A/B",
            "A\0B",
            "A B",
            "é",
            &"A".repeat(65),
        ] {
            assert!(!is_photos_uuid(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_plain_asset_and_a_referenced_file_pass() {
        assert_eq!(refusal(UUID, "D", &format!("{UUID}.heic"), false), None);
        assert_eq!(refusal(UUID, "/Volumes/Disk/Photos", "a.jpg", true), None);
        assert_eq!(refusal(UUID, "", "a.jpg", false), None);
    }

    #[test]
    fn nul_dotdot_odd_uuids_and_foreign_absolute_folders_are_refused() {
        let cases = [
            (UUID, "D", "a\0.jpg", false, "NUL"),
            (UUID, "D\0", "a.jpg", false, "NUL"),
            (UUID, "/Volumes/x\0y", "a.jpg", true, "NUL"),
            (UUID, "../../..", "a.jpg", false, ".."),
            (UUID, "/Volumes/../etc", "shadow", true, ".."),
            (UUID, "D", "../../etc/passwd", false, ".."),
            (UUID, "/etc", "shadow", false, "not a referenced file"),
            ("../../x", "D", "a.jpg", false, "uuid"),
            ("A/B", "D", "a.jpg", false, "uuid"),
            ("", "D", "a.jpg", false, "uuid"),
        ];
        for (uuid, dir, name, isref, words) in cases {
            let why = refusal(uuid, dir, name, isref);
            assert!(
                why.as_deref().is_some_and(|w| w.contains(words)),
                "{uuid:?} {dir:?} {name:?}: {why:?}"
            );
        }
    }
}
