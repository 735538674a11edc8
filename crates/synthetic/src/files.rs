//! The files of one synthetic asset: which resources Photos records for it
//! (`ZINTERNALRESOURCE` type, subtype, availability) and where each file
//! lives in the bundle, with small deterministic contents that differ per
//! file, so a backup that mixes two files up is caught.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::random::SplitMix64;
use super::{AssetSpec, Kind};

/// A UTI with what `ZUNIFORMTYPEIDENTIFIER` says of it (image, movie, raw)
/// and the integer code newer Photos stores in `ZCOMPACTUTI` where known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Uti {
    pub identifier: &'static str,
    pub image: bool,
    pub movie: bool,
    pub raw: bool,
    pub compact: Option<&'static str>,
}

const fn uti(
    identifier: &'static str,
    (image, movie, raw): (bool, bool, bool),
    compact: Option<&'static str>,
) -> Uti {
    Uti {
        identifier,
        image,
        movie,
        raw,
        compact,
    }
}

const IMAGE: (bool, bool, bool) = (true, false, false);
const MOVIE: (bool, bool, bool) = (false, true, false);
const RAW: (bool, bool, bool) = (true, false, true);
const DATA: (bool, bool, bool) = (false, false, false);

pub const JPEG: Uti = uti("public.jpeg", IMAGE, Some("1"));
pub const HEIC: Uti = uti("public.heic", IMAGE, Some("3"));
pub const QUICKTIME: Uti = uti("com.apple.quicktime-movie", MOVIE, Some("23"));
pub const CR2: Uti = uti("com.canon.cr2-raw-image", RAW, Some("11"));
pub const AAE: Uti = uti(
    "com.apple.photos.apple-adjustment-envelope",
    DATA,
    Some("37"),
);

/// The UTI of an original by its extension (`public.data` when unknown).
#[must_use]
pub fn uti_for_extension(ext: &str) -> Uti {
    match ext.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => JPEG,
        "heic" => HEIC,
        "png" => uti("public.png", IMAGE, Some("6")),
        "tif" | "tiff" => uti("public.tiff", IMAGE, Some("8")),
        "dng" => uti("com.adobe.raw-image", RAW, Some("9")),
        "cr2" => CR2,
        "mov" => QUICKTIME,
        "mp4" => uti("public.mpeg-4", MOVIE, None),
        _ => uti("public.data", DATA, None),
    }
}

/// One `ZINTERNALRESOURCE` row, and the file behind it if there is one.
#[derive(Debug, Clone)]
pub struct Part {
    /// Names the file in its contents.
    pub role: &'static str,
    pub resource_type: i64,
    pub subtype: i64,
    pub version: i64,
    pub recipe: i64,
    pub uti: Uti,
    /// `ZLOCALAVAILABILITY` 1 (else -1: in iCloud only).
    pub local: bool,
    /// Relative to the library root, or absolute (referenced original).
    pub path: Option<String>,
    /// Bytes of the file (`ZDATALENGTH`).
    pub len: u64,
    pub is_original: bool,
}

/// A render of an edited photo, as named on Photos 5 (always JPEG) and later
/// (HEIC stays HEIC).
fn render_ext(spec: &AssetSpec, photos5: bool) -> (&'static str, Uti) {
    let heic = uti_for_extension(&spec.extension) == HEIC;
    if heic && !photos5 {
        ("heic", HEIC)
    } else {
        ("jpeg", JPEG)
    }
}

/// The resources (and files) of an asset, original first.
#[must_use]
pub fn parts(spec: &AssetSpec, model_version: i64, default_size: Option<u64>) -> Vec<Part> {
    if let Some(album) = &spec.shared_album {
        return shared_parts(spec, album, model_version, default_size);
    }
    let photos5 = model_version < 14_000;
    let uuid = &spec.uuid;
    let x = spec
        .uuid
        .chars()
        .next()
        .map(String::from)
        .unwrap_or_default();
    let originals = format!("originals/{x}");
    let renders = format!("resources/renders/{x}");
    let movie = spec.kind == Kind::Movie;
    let on_disk = spec.stored_path.is_none() && is_file_name(uuid);
    let local = !spec.cloud_only;
    let original_path = match &spec.referenced {
        Some(dir) => format!("{}/{}", dir.trim_end_matches('/'), spec.filename()),
        None => format!("{originals}/{}", spec.filename()),
    };
    let small = |role: &str| content_len(uuid, role, None);
    let part = |role: &'static str, (rt, st, v, r): (i64, i64, i64, i64), uti: Uti| Part {
        role,
        resource_type: rt,
        subtype: st,
        version: v,
        recipe: r,
        uti,
        local,
        path: None,
        len: small(role),
        is_original: false,
    };

    let mut out = vec![Part {
        path: (on_disk && local).then_some(original_path),
        len: content_len(uuid, "original", spec.size.or(default_size)),
        is_original: true,
        ..part(
            "original",
            (i64::from(movie), 1, 0, 0),
            uti_for_extension(&spec.extension),
        )
    }];
    let in_originals = on_disk && local && spec.referenced.is_none();
    let beside = |suffix: &str| in_originals.then(|| format!("{originals}/{uuid}{suffix}"));
    if spec.live && !movie {
        out.push(Part {
            path: beside("_3.mov"),
            ..part("live video", (3, 18, 0, 0), QUICKTIME)
        });
    }
    if spec.raw_pair {
        out.push(Part {
            path: beside("_4.cr2"),
            ..part("raw", (4, 17, 0, 0), CR2)
        });
    }
    if spec.original_adjustments {
        out.push(Part {
            path: beside("_5.aae"),
            ..part("original adjustments", (5, 22, 0, 0), AAE)
        });
    }
    if spec.edit.is_some() {
        // Renders stay on this Mac even when originals are optimized away.
        let render = |suffix: &str| on_disk.then(|| format!("{renders}/{uuid}{suffix}"));
        let (edited, row, uti, suffix) = if movie {
            (
                "edited video",
                (1, 2, 2, 0),
                QUICKTIME,
                "_2_0_a.mov".to_owned(),
            )
        } else {
            let (ext, uti) = render_ext(spec, photos5);
            ("edited", (0, 2, 2, 65_938), uti, format!("_1_201_a.{ext}"))
        };
        out.push(Part {
            local: true,
            path: render(&suffix),
            ..part(edited, row, uti)
        });
        if spec.live && !movie {
            out.push(Part {
                local: true,
                path: render("_2_100_a.mov"),
                ..part("edited live video", (3, 19, 2, 131_272), QUICKTIME)
            });
        }
    }
    out
}

/// The files of a shared-album asset, in the shared store of this Photos
/// version (`resources/cloudsharing/data` before Photos 8, `scopes/...`
/// from then on). A video is `UUID.medium.MP4` (its resource subtype 8
/// from Photos 11 on, as osxphotos reads it) with a `UUID.poster.JPG`
/// frame beside it; `cloud_only` leaves the video in iCloud, not the poster.
fn shared_parts(
    spec: &AssetSpec,
    album: &str,
    model_version: i64,
    default_size: Option<u64>,
) -> Vec<Part> {
    let root = if model_version >= 16_000 {
        "scopes/cloudsharing/data"
    } else {
        "resources/cloudsharing/data"
    };
    let uuid = &spec.uuid;
    let on_disk = is_file_name(uuid) && spec.stored_path.is_none();
    let local = !spec.cloud_only;
    let len = content_len(uuid, "original", spec.size.or(default_size));
    let original = |path: String, subtype: i64, uti: Uti| Part {
        role: "original",
        resource_type: i64::from(spec.kind == Kind::Movie),
        subtype,
        version: 0,
        recipe: 0,
        uti,
        local,
        path: (on_disk && local).then_some(path),
        len,
        is_original: true,
    };
    if spec.kind == Kind::Photo {
        let path = format!("{root}/{album}/{}", spec.filename());
        return vec![original(path, 1, uti_for_extension(&spec.extension))];
    }
    let subtype = if model_version >= 19_063 { 8 } else { 1 };
    let video = format!("{root}/{album}/{uuid}.medium.MP4");
    let poster = Part {
        role: "poster",
        resource_type: 0,
        subtype: 0,
        version: 0,
        recipe: 0,
        uti: JPEG,
        local: true,
        path: on_disk.then(|| format!("{root}/{album}/{uuid}.poster.JPG")),
        len: content_len(uuid, "poster", None),
        is_original: false,
    };
    vec![original(video, subtype, uti_for_extension("mp4")), poster]
}

/// Whether a (hostile) uuid can name files: no separators, NUL, `.` or `..`.
fn is_file_name(uuid: &str) -> bool {
    !uuid.is_empty() && uuid != "." && uuid != ".." && !uuid.contains(['/', '\\', '\0'])
}

/// The adjustments plist Photos keeps beside renders; no resource row.
#[must_use]
pub fn adjustments_path(spec: &AssetSpec) -> Option<String> {
    let x = spec.uuid.chars().next()?;
    (spec.edit.is_some() && spec.stored_path.is_none() && is_file_name(&spec.uuid))
        .then(|| format!("resources/renders/{x}/{}.plist", spec.uuid))
}

fn header(uuid: &str, role: &str) -> String {
    format!("photos-backup synthetic {role} of {uuid}\n")
}

/// The length of a file's contents: `size` if asked, else the header's.
#[must_use]
pub fn content_len(uuid: &str, role: &str, size: Option<u64>) -> u64 {
    size.unwrap_or_else(|| header(uuid, role).len() as u64)
}

/// Writes files, creating each directory once.
#[derive(Debug)]
pub struct FileWriter {
    root: PathBuf,
    made: HashSet<PathBuf>,
    pub files: usize,
    pub bytes: u64,
}

impl FileWriter {
    #[must_use]
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
            made: HashSet::new(),
            files: 0,
            bytes: 0,
        }
    }

    /// Writes `len` bytes at `path` (relative to the root, or absolute):
    /// a header naming the file, then a pattern seeded by it.
    pub fn write(&mut self, path: &str, uuid: &str, role: &str, len: u64) -> io::Result<()> {
        let full = self.root.join(path);
        if let Some(dir) = full.parent() {
            if !self.made.contains(dir) {
                fs::create_dir_all(dir)?;
                self.made.insert(dir.to_owned());
            }
        }
        let head = header(uuid, role);
        let mut out = io::BufWriter::with_capacity(64 * 1024, fs::File::create(&full)?);
        let first = (len as usize).min(head.len());
        out.write_all(&head.as_bytes()[..first])?;
        let mut left = len - first as u64;
        let mut rng = SplitMix64::new(fnv1a(head.as_bytes()));
        while left > 0 {
            let word = rng.next_u64().to_le_bytes();
            let n = (left as usize).min(word.len());
            out.write_all(&word[..n])?;
            left -= n as u64;
        }
        out.flush()?;
        self.files += 1;
        self.bytes += len;
        Ok(())
    }
}

/// FNV-1a: a stable hash for seeds and fingerprints.
#[must_use]
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> AssetSpec {
        AssetSpec::photo("ABCD-1", chrono::DateTime::UNIX_EPOCH)
    }

    #[test]
    fn layout_of_a_live_raw_edited_photo() {
        let s = AssetSpec {
            live: true,
            raw_pair: true,
            extension: "heic".into(),
            edit: Some(super::super::Edit {
                at: chrono::DateTime::UNIX_EPOCH,
                external: false,
            }),
            ..spec()
        };
        let paths: Vec<Option<String>> = parts(&s, 19_320, None)
            .into_iter()
            .map(|p| p.path)
            .collect();
        assert_eq!(
            paths,
            [
                Some("originals/A/ABCD-1.heic".to_owned()),
                Some("originals/A/ABCD-1_3.mov".to_owned()),
                Some("originals/A/ABCD-1_4.cr2".to_owned()),
                Some("resources/renders/A/ABCD-1_1_201_a.heic".to_owned()),
                Some("resources/renders/A/ABCD-1_2_100_a.mov".to_owned()),
            ]
        );
        // Photos 5 renders every photo edit as JPEG.
        let p5 = parts(&s, 13_703, None);
        assert_eq!(
            p5[3].path.as_deref(),
            Some("resources/renders/A/ABCD-1_1_201_a.jpeg")
        );
    }

    #[test]
    fn icloud_only_originals_have_no_file() {
        let s = AssetSpec {
            cloud_only: true,
            live: true,
            ..spec()
        };
        let p = parts(&s, 19_320, None);
        assert!(p.iter().all(|p| p.path.is_none() && !p.local));
    }

    #[test]
    fn a_shared_video_is_a_medium_mp4_beside_its_poster_in_the_store_of_its_version() {
        let s = AssetSpec {
            shared_album: Some("170/9F9A".into()),
            ..AssetSpec::movie("ABCD-1", chrono::DateTime::UNIX_EPOCH)
        };
        let modern = parts(&s, 19_320, None);
        let paths: Vec<_> = modern.iter().map(|p| p.path.clone().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "scopes/cloudsharing/data/170/9F9A/ABCD-1.medium.MP4",
                "scopes/cloudsharing/data/170/9F9A/ABCD-1.poster.JPG"
            ]
        );
        assert_eq!(modern[0].subtype, 8);
        let old = parts(&s, 13_703, None);
        assert_eq!(
            old[0].path.as_deref(),
            Some("resources/cloudsharing/data/170/9F9A/ABCD-1.medium.MP4")
        );
        assert_eq!(old[0].subtype, 1);
        let photo = AssetSpec {
            shared_album: Some("170/9F9A".into()),
            ..spec()
        };
        assert_eq!(
            parts(&photo, 13_703, None)[0].path.as_deref(),
            Some("resources/cloudsharing/data/170/9F9A/ABCD-1.jpeg")
        );
    }

    #[test]
    fn contents_differ_per_file_and_have_the_size_asked() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = FileWriter::new(dir.path());
        w.write("a/x", "U1", "original", 1000).unwrap();
        w.write("a/y", "U2", "original", 1000).unwrap();
        w.write("a/z", "U2", "original", 5).unwrap();
        let x = fs::read(dir.path().join("a/x")).unwrap();
        let y = fs::read(dir.path().join("a/y")).unwrap();
        assert_eq!(x.len(), 1000);
        assert_ne!(x, y);
        assert_eq!(fs::read(dir.path().join("a/z")).unwrap(), b"photo");
    }
}
