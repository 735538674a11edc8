//! The path of a member inside a Takeout archive, decided before anything
//! is done with it. Archives come from a download and their names are
//! untrusted like album names: a member that could escape the folder it is
//! staged under (`..`, an absolute path, a drive letter, a backslash that
//! Windows tools read as a separator: "zip-slip"), or that holds bytes a
//! file name must not (NUL, control characters), or that is longer than a
//! file system takes, is refused with the reason, never cleaned up into
//! some other name. Decoding is explicit too: a zip name is UTF-8 only when
//! its header says so (general purpose flag bit 11), else CP437, as the zip
//! format (APPNOTE 4.4.4) defines; a tar or folder name must be UTF-8.

use std::fmt;

/// Longest member path accepted, in bytes (macOS `PATH_MAX` is 1024; the
/// path is staged below other folders).
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest single component, in bytes (`NAME_MAX` of APFS, HFS+ and ext4).
pub const MAX_COMPONENT_BYTES: usize = 255;

/// A member path that passed every check: relative, `/`-separated, no
/// empty, `.` or `..` component, printable, within the length limits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberPath(String);

impl MemberPath {
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The components, first to last (`Takeout`, `Google Photos`, ...).
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last component.
    #[must_use]
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for MemberPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a member path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    /// Bytes that are not UTF-8 where UTF-8 is required (a zip name flagged
    /// UTF-8, a tar or folder name).
    NotUtf8,
    Nul,
    /// A control character (C0, DEL or C1).
    ControlCharacter,
    /// `\`: a separator to Windows tools, never part of a Takeout name.
    Backslash,
    Absolute,
    /// `C:` at the start.
    DriveLetter,
    /// A `..` component.
    ParentDirectory,
    /// An empty (`a//b`) or `.` component.
    OddComponent,
    TooLong,
}

impl Refusal {
    /// The reason in words, for the line that lists a refused member.
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            Self::Empty => "the name is empty",
            Self::NotUtf8 => "the name is not valid UTF-8",
            Self::Nul => "the name holds a NUL byte",
            Self::ControlCharacter => "the name holds a control character",
            Self::Backslash => "the name holds a backslash",
            Self::Absolute => "the path is absolute",
            Self::DriveLetter => "the path starts with a drive letter",
            Self::ParentDirectory => "the path climbs out with `..`",
            Self::OddComponent => "the path has an empty or `.` component",
            Self::TooLong => "the path or one of its names is too long",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// Checks a decoded member path. A trailing `/` (a zip directory entry) is
/// not part of the path: callers skip directories before asking.
pub fn check(name: &str) -> Result<MemberPath, Refusal> {
    if name.is_empty() {
        return Err(Refusal::Empty);
    }
    if name.contains('\0') {
        return Err(Refusal::Nul);
    }
    if name.chars().any(char::is_control) {
        return Err(Refusal::ControlCharacter);
    }
    if name.contains('\\') {
        return Err(Refusal::Backslash);
    }
    if name.starts_with('/') {
        return Err(Refusal::Absolute);
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err(Refusal::DriveLetter);
    }
    // `..` anywhere is the attack; it is named before the softer reasons.
    if name.split('/').any(|c| c == "..") {
        return Err(Refusal::ParentDirectory);
    }
    if name.split('/').any(|c| c.is_empty() || c == ".") {
        return Err(Refusal::OddComponent);
    }
    if name.len() > MAX_PATH_BYTES || name.split('/').any(|c| c.len() > MAX_COMPONENT_BYTES) {
        return Err(Refusal::TooLong);
    }
    Ok(MemberPath(name.to_owned()))
}

/// Decodes raw name bytes that must be UTF-8 (tar, folder, zip with the
/// UTF-8 flag).
pub fn decode_utf8(raw: &[u8]) -> Result<&str, Refusal> {
    std::str::from_utf8(raw).map_err(|_| Refusal::NotUtf8)
}

/// Decodes a zip name by its header's flag: UTF-8 when bit 11 is set, else
/// IBM code page 437 (every byte is a character; the low half is ASCII).
pub fn decode_zip_name(raw: &[u8], utf8_flag: bool) -> Result<String, Refusal> {
    if utf8_flag {
        return decode_utf8(raw).map(str::to_owned);
    }
    Ok(raw
        .iter()
        .map(|&b| {
            if b < 0x80 {
                char::from(b)
            } else {
                CP437_HIGH[usize::from(b - 0x80)]
            }
        })
        .collect())
}

/// The upper half of code page 437 (bytes 0x80 to 0xFF), in order.
const CP437_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', //
    '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', //
    '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', //
    'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', //
    '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{a0}',
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takeout_paths_pass_unchanged() {
        let p = check("Takeout/Google Photos/Photos from 2019/IMG_0001.JPG(1).json").unwrap();
        assert_eq!(
            p.as_str(),
            "Takeout/Google Photos/Photos from 2019/IMG_0001.JPG(1).json"
        );
        assert_eq!(p.file_name(), "IMG_0001.JPG(1).json");
        assert_eq!(p.components().count(), 4);
        assert!(check("Takeout/Google Fotos/Urlaub 🏖/Bild.jpg").is_ok());
    }

    #[test]
    fn each_escape_or_odd_byte_is_refused_with_its_reason() {
        let cases = [
            ("", Refusal::Empty),
            ("Takeout/a\0b.jpg", Refusal::Nul),
            ("Takeout/a\nb.jpg", Refusal::ControlCharacter),
            ("Takeout/\u{1b}[2J.jpg", Refusal::ControlCharacter),
            ("Takeout/\u{85}.jpg", Refusal::ControlCharacter),
            ("Takeout\\..\\evil.jpg", Refusal::Backslash),
            ("/etc/passwd", Refusal::Absolute),
            ("C:/Windows/evil.dll", Refusal::DriveLetter),
            ("c:evil.jpg", Refusal::DriveLetter),
            ("Takeout/../../evil.jpg", Refusal::ParentDirectory),
            ("..", Refusal::ParentDirectory),
            ("Takeout//a.jpg", Refusal::OddComponent),
            ("./Takeout/a.jpg", Refusal::OddComponent),
            ("Takeout/./a.jpg", Refusal::OddComponent),
        ];
        for (name, want) in cases {
            assert_eq!(check(name), Err(want), "{name:?}");
        }
    }

    #[test]
    fn too_long_paths_and_names_are_refused_at_the_limit_not_before() {
        let name = "a".repeat(MAX_COMPONENT_BYTES);
        assert!(check(&format!("Takeout/{name}")).is_ok());
        assert_eq!(check(&format!("Takeout/{name}b")), Err(Refusal::TooLong));
        let deep = vec!["d".repeat(100); 11].join("/");
        assert!(deep.len() > MAX_PATH_BYTES);
        assert_eq!(check(&deep), Err(Refusal::TooLong));
        let fits = vec!["d".repeat(100); 10].join("/");
        assert!(check(&fits).is_ok());
    }

    #[test]
    fn zip_names_decode_by_their_flag() {
        // "Café" as CP437 (é = 0x82) and as UTF-8.
        assert_eq!(decode_zip_name(b"Caf\x82.jpg", false).unwrap(), "Café.jpg");
        assert_eq!(
            decode_zip_name("Café.jpg".as_bytes(), true).unwrap(),
            "Café.jpg"
        );
        // The same UTF-8 bytes without the flag are CP437 text, as the format says.
        assert_eq!(decode_zip_name("é".as_bytes(), false).unwrap(), "├⌐");
        assert_eq!(decode_zip_name(b"\xff\xfe", true), Err(Refusal::NotUtf8));
        assert_eq!(decode_zip_name(b"\xff", false).unwrap(), "\u{a0}");
    }
}
