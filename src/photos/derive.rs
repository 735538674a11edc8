//! From raw database values to an `Asset`: the rules that turn Photos' columns
//! into meaning (which file is the original, is it on this disk, is it a Live
//! Photo, a burst frame Photos shows, ...). Kept apart from the SQL so each
//! rule reads on its own; the facts behind them were checked against the
//! reference answers of the peer reader osxphotos on six real libraries.

use std::collections::{HashMap, HashSet};

use foldhash::fast::RandomState as Fast;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use chrono::{DateTime, FixedOffset, Utc};
use unicode_normalization::UnicodeNormalization;

use super::model::{Asset, Resource, ResourceRole};
use super::{paths, time};

/// `ZKINDSUBTYPE` values.
const SUBTYPE_PANORAMA: i64 = 1;
const SUBTYPE_LIVE: i64 = 2;
const SUBTYPE_SCREENSHOT: i64 = 10;
const SUBTYPE_SLOMO: i64 = 101;
const SUBTYPE_TIMELAPSE: i64 = 102;
/// `ZHDRTYPE` / `ZCUSTOMRENDEREDVALUE` of a panorama.
const HDR_PANORAMA: i64 = 6;
/// `ZAVALANCHEPICKTYPE` bits of burst frames Photos shows.
const PICK_SELECTED: i64 = 8;
const PICK_KEY: i64 = 16;
/// `ZINTERNALRESOURCE.ZDATASTORESUBTYPE` values.
const STORE_ORIGINAL: i64 = 1;
const STORE_ORIGINAL_CLOUD: i64 = 3;
/// The `UUID.medium.MP4` of a shared-album video (Photos 11 and later).
const STORE_SHARED_VIDEO: i64 = 8;
const STORE_RAW: i64 = 17;
/// The resource kinds the rules below look at: the rows of other kinds
/// (thumbnails, renders) change nothing in an asset.
pub(super) const FILE_SUBTYPES: [i64; 4] = [
    STORE_ORIGINAL,
    STORE_ORIGINAL_CLOUD,
    STORE_SHARED_VIDEO,
    STORE_RAW,
];
/// `ZLOCALAVAILABILITY` of a resource whose data is on this disk.
const LOCALLY_AVAILABLE: i64 = 1;

/// One asset row as read, before any interpretation.
#[derive(Debug, Default, Clone)]
pub(super) struct RawAsset {
    pub(super) pk: i64,
    pub(super) uuid: String,
    pub(super) filename: Option<String>,
    pub(super) directory: Option<String>,
    pub(super) original_filename: Option<String>,
    pub(super) date_created: Option<f64>,
    pub(super) tz_offset: Option<i64>,
    pub(super) date_added: Option<f64>,
    pub(super) adjustment_timestamp: Option<f64>,
    pub(super) modification_date: Option<f64>,
    pub(super) title: Option<String>,
    pub(super) description: Option<String>,
    pub(super) favorite: Option<i64>,
    pub(super) hidden: Option<i64>,
    pub(super) trashed: Option<i64>,
    pub(super) kind: Option<i64>,
    pub(super) kind_subtype: Option<i64>,
    pub(super) uti: Option<String>,
    pub(super) original_filesize: Option<i64>,
    pub(super) width: Option<i64>,
    pub(super) height: Option<i64>,
    pub(super) latitude: Option<f64>,
    pub(super) longitude: Option<f64>,
    pub(super) avalanche_uuid: Option<String>,
    pub(super) avalanche_pick: Option<i64>,
    pub(super) saved_asset_type: Option<i64>,
    pub(super) adjustments: Option<i64>,
    pub(super) external_edit_format: Option<String>,
    pub(super) depth: Option<i64>,
    pub(super) hdr: Option<i64>,
    pub(super) capture_device: Option<i64>,
    pub(super) cloud_batch_publish: Option<f64>,
    /// `ZTIMEZONENAME`: an IANA zone (`America/Chicago`) or `GMT-0400`.
    pub(super) tz_name: Option<String>,
}

/// One `ZINTERNALRESOURCE` row.
#[derive(Debug, Default, Clone)]
pub(super) struct RawResource {
    pub(super) subtype: Option<i64>,
    pub(super) local_availability: Option<i64>,
    /// The file's UTI where the resource table names it (Photos 5 and 6).
    pub(super) uti: Option<String>,
}

/// Lists library folders once and answers "is this file there?" from memory,
/// so a listing of 100k assets makes a few dozen `readdir`s, not 300k `stat`s.
/// The readers of one walk on several threads share what was listed
/// (`Disk::sharing`): each folder is listed and held once.
pub(super) struct Disk {
    root: PathBuf,
    /// Folder (relative to the root) -> the files in it, as this reader
    /// found them (no lock for a folder seen before)...
    dirs: HashMap<String, Arc<Names>, Fast>,
    /// ...and as every reader sharing this one found them (each folder
    /// listed once, by the first reader that needs it, while the others
    /// list other folders).
    listed: Arc<Listed>,
}

/// Folder -> its names, listed once (by whichever reader gets there first).
type Listed = Mutex<HashMap<String, Arc<OnceLock<Arc<Names>>>, Fast>>;

/// The names of the files of one folder: a hash set for "is it there?"
/// (one hash and one compare, where a sorted set compares a dozen names;
/// `foldhash`, seeded at random like the standard hasher but several times
/// faster than its `SipHash`: hashing names was 8% of a 100k listing),
/// sorted only when a name is looked up by its prefix.
struct Names {
    set: HashSet<Box<str>, Fast>,
    sorted: OnceLock<Vec<Box<str>>>,
}

impl Disk {
    #[must_use]
    pub(super) fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
            dirs: HashMap::default(),
            listed: Arc::default(),
        }
    }

    /// Another reader of the same folders, for another thread.
    #[must_use]
    pub(super) fn sharing(&self) -> Self {
        Self {
            root: self.root.clone(),
            dirs: HashMap::default(),
            listed: Arc::clone(&self.listed),
        }
    }

    fn names(&mut self, dir: &str) -> &Names {
        if !self.dirs.contains_key(dir) {
            let once = Arc::clone(
                self.listed
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(dir.to_owned())
                    .or_default(),
            );
            let names = once.get_or_init(|| Arc::new(list(&self.root.join(dir))));
            self.dirs.insert(dir.to_owned(), Arc::clone(names));
        }
        &self.dirs[dir]
    }

    /// Whether the file at `path` (relative to the root, or absolute) exists.
    fn exists(&mut self, path: &str) -> bool {
        if path.starts_with('/') {
            return Path::new(path).is_file();
        }
        match path.rsplit_once('/') {
            Some((dir, name)) => self.names(dir).set.contains(name),
            None => self.names("").set.contains(path),
        }
    }

    /// The first file in `dir` whose name starts with `prefix`, sorted by name.
    fn find_prefixed(&mut self, dir: &str, prefix: &str) -> Option<String> {
        let names = self.names(dir);
        let sorted = names.sorted.get_or_init(|| {
            let mut v: Vec<Box<str>> = names.set.iter().cloned().collect();
            v.sort_unstable();
            v
        });
        let first = sorted.partition_point(|n| &**n < prefix);
        sorted
            .get(first)
            .filter(|n| n.starts_with(prefix))
            .map(|n| format!("{dir}/{n}"))
    }
}

/// The files (not folders) in `dir`; none when it cannot be read.
fn list(dir: &Path) -> Names {
    let set = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().into_string().ok())
                .map(String::into_boxed_str)
                .collect()
        })
        .unwrap_or_default();
    Names {
        set,
        sorted: OnceLock::new(),
    }
}

/// Text in the form Photos shows it (NFC); most of it already is, and the
/// quick check keeps it as it is without building a new string.
fn nfc(s: String) -> String {
    if unicode_normalization::is_nfc_quick(s.chars()) == unicode_normalization::IsNormalized::Yes {
        s
    } else {
        s.nfc().collect()
    }
}

/// Untrusted text from the database, in the form Photos shows it (NFC).
pub(super) fn clean(s: Option<String>) -> Option<String> {
    s.map(nfc).filter(|s| !s.is_empty())
}

fn flag(v: Option<i64>) -> bool {
    v == Some(1)
}

fn core_date(v: Option<f64>) -> Option<DateTime<Utc>> {
    v.and_then(time::from_core_data)
}

/// The creation date in the photo's own time zone (the epoch when the
/// database has none).
#[must_use]
pub(super) fn created(
    date_created: Option<f64>,
    tz_name: Option<&str>,
    tz_offset: Option<i32>,
) -> DateTime<FixedOffset> {
    match core_date(date_created) {
        Some(t) => time::with_offset(t, time::offset_for(t, tz_name, tz_offset)),
        None => DateTime::<Utc>::UNIX_EPOCH.fixed_offset(),
    }
}

/// Builds the asset from its row and the rows that hang off it.
#[must_use]
pub(super) fn asset(
    raw: RawAsset,
    keywords: Vec<String>,
    persons: Vec<String>,
    albums: Vec<String>,
    resources: &[RawResource],
    shared_root: &str,
    disk: &mut Disk,
) -> Asset {
    let filename = clean(raw.filename).unwrap_or_default();
    let original_filename = clean(raw.original_filename).unwrap_or_else(|| filename.clone());
    let tzoffset = raw.tz_offset.map(|o| o as i32);
    let date = created(raw.date_created, raw.tz_name.as_deref(), tzoffset);
    let shared = raw.cloud_batch_publish.is_some();
    let isreference = raw.saved_asset_type == Some(paths::SAVED_REFERENCED);
    let subtype = raw.kind_subtype.unwrap_or(0);
    let uti = clean(raw.uti);
    let uti_original = original_uti(shared, uti.as_deref(), resources, &original_filename);
    let israw = uti_original
        .as_deref()
        .is_some_and(|u| u.contains("raw-image"));
    let has_raw = resources.iter().any(|r| r.subtype == Some(STORE_RAW));
    let ismovie = raw.kind == Some(1);
    let ismissing = original_missing(resources, shared && ismovie);
    let hasadjustments = raw.adjustments.is_some_and(|v| v != 0);
    let uuid = clean(Some(raw.uuid)).unwrap_or_default();
    let directory = clean(raw.directory).unwrap_or_default();
    let path_refused = paths::refusal(&uuid, &directory, &filename, isreference);

    let facts = FileFacts {
        shared_root,
        uuid: &uuid,
        directory: &directory,
        filename: &filename,
        uti: uti.as_deref(),
        shared,
        isreference,
        ismissing,
        has_raw,
        raw_ext: raw_ext(resources),
        live_photo: subtype == SUBTYPE_LIVE,
        hasadjustments,
        ismovie,
    };
    let files = if path_refused.is_some() {
        Files::none()
    } else {
        Files::find(&facts, disk)
    };

    let (latitude, longitude) = match (raw.latitude, raw.longitude) {
        (Some(lat), Some(lon)) if !is_no_location(lat, lon) => (Some(lat), Some(lon)),
        _ => (None, None),
    };
    let (burst, burst_selected) = burst(raw.avalanche_uuid.is_some(), raw.avalanche_pick);

    Asset {
        pk: raw.pk,
        uuid,
        filename,
        original_filename,
        date,
        tzoffset,
        date_added: core_date(raw.date_added),
        date_modified: core_date(raw.adjustment_timestamp),
        date_changed: core_date(raw.modification_date),
        title: clean(raw.title),
        description: clean(raw.description),
        keywords: keywords.into_iter().map(nfc).collect(),
        persons: persons.into_iter().map(nfc).collect(),
        albums: albums.into_iter().map(nfc).collect(),
        favorite: flag(raw.favorite),
        hidden: flag(raw.hidden),
        intrash: flag(raw.trashed),
        isphoto: raw.kind == Some(0),
        ismovie,
        uti,
        uti_original,
        original_filesize: raw.original_filesize.unwrap_or(0),
        width: raw.width.unwrap_or(0),
        height: raw.height.unwrap_or(0),
        latitude,
        longitude,
        burst,
        burst_uuid: clean(raw.avalanche_uuid),
        burst_selected,
        live_photo: subtype == SUBTYPE_LIVE,
        has_raw,
        israw,
        shared,
        isreference,
        ismissing,
        hasadjustments,
        external_edit: raw.external_edit_format.as_deref() == Some("com.apple.Photos.externalEdit"),
        portrait: raw.depth.is_some_and(|d| d != 0),
        screenshot: subtype == SUBTYPE_SCREENSHOT,
        selfie: raw.capture_device == Some(1),
        slow_mo: subtype == SUBTYPE_SLOMO,
        time_lapse: subtype == SUBTYPE_TIMELAPSE,
        panorama: subtype == SUBTYPE_PANORAMA || raw.hdr == Some(HDR_PANORAMA),
        path: files.path,
        path_edited: files.edited,
        path_live_photo: files.live,
        path_raw: files.raw,
        resources: files.resources,
        path_refused,
        kind: raw.kind,
    }
}

/// The original's UTI: the resource table's where it names one (Photos 5
/// and 6), else from the imported name's extension, else the current UTI.
/// Shared-album assets only have the one Photos gives them.
fn original_uti(
    shared: bool,
    uti: Option<&str>,
    resources: &[RawResource],
    original_filename: &str,
) -> Option<String> {
    if shared {
        return uti.map(str::to_owned);
    }
    resources
        .iter()
        .find(|r| r.subtype == Some(STORE_ORIGINAL) && r.uti.is_some())
        .and_then(|r| clean(r.uti.clone()))
        .or_else(|| uti_for_name(original_filename).map(str::to_owned))
        .or_else(|| uti.map(str::to_owned))
}

/// The RAW partner's extension from its UTI where the database names it.
fn raw_ext(resources: &[RawResource]) -> &'static str {
    let uti = resources
        .iter()
        .find(|r| r.subtype == Some(STORE_RAW))
        .and_then(|r| r.uti.as_deref());
    match uti {
        Some("com.adobe.raw-image") => "dng",
        Some("com.canon.cr2-raw-image") => "cr2",
        Some("com.canon.cr3-raw-image") => "cr3",
        Some("com.nikon.raw-image") => "nef",
        Some("com.sony.arw-raw-image") => "arw",
        Some("com.fuji.raw-image") => "raf",
        Some("com.olympus.raw-image") => "orf",
        Some("com.panasonic.rw2-raw-image") => "rw2",
        _ => "raw",
    }
}

/// Photos writes -180, -180 for "no location" (the exact value, never computed).
#[allow(clippy::float_cmp)]
fn is_no_location(lat: f64, lon: f64) -> bool {
    lat == -180.0 && lon == -180.0
}

/// What the file rules need to know about an asset (flags as Photos has them).
#[allow(clippy::struct_excessive_bools)]
struct FileFacts<'a> {
    /// Where this Photos version keeps shared-album files (`shared_root`).
    shared_root: &'a str,
    uuid: &'a str,
    directory: &'a str,
    filename: &'a str,
    uti: Option<&'a str>,
    shared: bool,
    isreference: bool,
    ismissing: bool,
    has_raw: bool,
    /// Extension of the RAW partner as the database knows it (for a RAW
    /// not on disk, whose name cannot be looked up).
    raw_ext: &'static str,
    live_photo: bool,
    hasadjustments: bool,
    ismovie: bool,
}

/// The files of one asset: the osxphotos-style paths (present files only)
/// and the full list of resources a backup must hold.
struct Files {
    path: Option<String>,
    raw: Option<String>,
    live: Option<String>,
    edited: Option<String>,
    resources: Vec<Resource>,
}

/// The folder and the name without extension of a relative path.
fn dir_and_stem(p: &str) -> (String, String) {
    let path = Path::new(p);
    let dir = path.parent().map(|d| d.to_string_lossy().into_owned());
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    (dir.unwrap_or_default(), stem.unwrap_or_default())
}

impl Files {
    /// No file at all: the database's path for the asset was refused.
    fn none() -> Self {
        Self {
            path: None,
            raw: None,
            live: None,
            edited: None,
            resources: Vec::new(),
        }
    }

    fn find(f: &FileFacts, disk: &mut Disk) -> Self {
        let original = original_path(f);
        let present = original.as_deref().is_some_and(|p| disk.exists(p)) && !f.ismissing;
        let path = original.clone().filter(|_| present);
        let raw = match &original {
            Some(orig) if f.has_raw && !f.ismissing && !f.isreference => {
                let (dir, stem) = dir_and_stem(orig);
                disk.find_prefixed(&dir, &format!("{stem}_4"))
            }
            _ => None,
        };
        let live = match &path {
            Some(p) if f.live_photo => {
                let (dir, stem) = dir_and_stem(p);
                Some(format!("{dir}/{stem}_3.mov")).filter(|p| disk.exists(p))
            }
            _ => None,
        };
        let renders = format!("resources/renders/{}", f.uuid.chars().next().unwrap_or('0'));
        let edited = if f.hasadjustments {
            edited_suffixes(f.uti, f.ismovie)
                .iter()
                .map(|suffix| format!("{renders}/{}{suffix}", f.uuid))
                .find(|p| disk.exists(p))
        } else {
            None
        };

        let mut resources = Vec::new();
        if let Some(p) = &original {
            resources.push(Resource {
                role: ResourceRole::Original,
                path: p.clone(),
                present,
            });
        }
        // The RAW partner and the Live Photo video belong to the asset even
        // when Photos keeps them in iCloud only: listed, not present.
        let expected = |suffix: &str| {
            original
                .as_deref()
                .filter(|_| !f.isreference && !f.shared)
                .map(|orig| {
                    let (dir, stem) = dir_and_stem(orig);
                    format!("{dir}/{stem}{suffix}")
                })
        };
        let mut listed = |role, found: Option<String>, wanted: bool, suffix: &str| match found {
            Some(path) => resources.push(on_disk(role, path)),
            None if wanted => {
                if let Some(path) = expected(suffix) {
                    let present = disk.exists(&path) && !f.ismissing;
                    resources.push(Resource {
                        role,
                        path,
                        present,
                    });
                }
            }
            None => {}
        };
        listed(
            ResourceRole::Raw,
            raw.clone(),
            f.has_raw,
            // Built only when it may be used (most assets have no RAW).
            &if f.has_raw {
                format!("_4.{}", f.raw_ext)
            } else {
                String::new()
            },
        );
        listed(
            ResourceRole::LiveVideo,
            live.clone(),
            f.live_photo,
            "_3.mov",
        );
        resources.extend(
            edited
                .iter()
                .map(|p| on_disk(ResourceRole::Edited, p.clone())),
        );
        resources.extend(adjustment_files(f, disk, &renders, original.as_deref()));
        Self {
            path,
            raw,
            live,
            edited,
            resources,
        }
    }
}

/// A resource whose file was found on disk.
fn on_disk(role: ResourceRole, path: String) -> Resource {
    Resource {
        role,
        path,
        present: true,
    }
}

/// The edited Live Photo video and the adjustment data of an asset, where on disk.
fn adjustment_files(
    f: &FileFacts,
    disk: &mut Disk,
    renders: &str,
    original: Option<&str>,
) -> Vec<Resource> {
    let mut resources = Vec::new();
    let mut add = |role, path: Option<String>| resources.extend(path.map(|p| on_disk(role, p)));
    if f.hasadjustments {
        let edited_live = format!("{renders}/{}_2_100_a.mov", f.uuid);
        add(
            ResourceRole::EditedLiveVideo,
            Some(edited_live).filter(|p| f.live_photo && disk.exists(p)),
        );
        let plist = format!("{renders}/{}.plist", f.uuid);
        add(
            ResourceRole::Adjustments,
            Some(plist).filter(|p| disk.exists(p)),
        );
    }
    if let Some(orig) = original.filter(|_| !f.isreference && !f.shared) {
        let (dir, stem) = dir_and_stem(orig);
        let aae = format!("{dir}/{stem}_5.aae");
        add(
            ResourceRole::OriginalAdjustments,
            Some(aae).filter(|p| disk.exists(p)),
        );
    }
    resources
}

/// Whether an asset is a burst frame (it has a burst uuid), and whether it
/// is one Photos shows: the key frame or one the user picked.
#[must_use]
pub(super) fn burst(in_burst: bool, pick: Option<i64>) -> (bool, bool) {
    let pick = pick.unwrap_or(0);
    (
        in_burst,
        in_burst && (pick == 0 || pick & (PICK_SELECTED | PICK_KEY) != 0),
    )
}

/// What Photos shows in its main views: not in the trash, a real photo or
/// video, and of a burst only the key frame and the frames the user kept.
#[must_use]
pub(super) fn shown_by_photos(a: &Asset) -> bool {
    !a.intrash && matches!(a.kind, Some(0 | 1)) && (!a.burst || a.burst_selected)
}

/// The original is known to be elsewhere (iCloud) when the database has
/// original resources and none of them is available locally. For a
/// shared-album video on Photos 11 and later, the resource that counts is
/// its `UUID.medium.MP4` (its poster frame may be here while the video is
/// not), as osxphotos reads it.
fn original_missing(resources: &[RawResource], shared_video: bool) -> bool {
    let video_rows = shared_video
        && resources
            .iter()
            .any(|r| r.subtype == Some(STORE_SHARED_VIDEO));
    let mut originals = resources
        .iter()
        .filter(|r| {
            if video_rows {
                r.subtype == Some(STORE_SHARED_VIDEO)
            } else {
                matches!(r.subtype, Some(STORE_ORIGINAL | STORE_ORIGINAL_CLOUD))
            }
        })
        .peekable();
    originals.peek().is_some()
        && !originals.any(|r| r.local_availability == Some(LOCALLY_AVAILABLE))
}

/// Where Photos keeps the files of shared albums: `resources/cloudsharing/
/// data` up to Photos 7, `scopes/cloudsharing/data` from Photos 8 (macOS 13,
/// model 16000) on, as osxphotos reads them.
#[must_use]
pub(super) fn shared_root(model_version: i64) -> &'static str {
    if model_version >= 16_000 {
        "scopes/cloudsharing/data"
    } else {
        "resources/cloudsharing/data"
    }
}

/// Where the original lives: in `originals/`, in the shared-album store, or
/// (a referenced file) at an absolute path outside the library. The parts
/// were checked by `paths::refusal` first. A shared-album video is stored
/// as `UUID.medium.MP4` beside a `UUID.poster.JPG` frame, whatever
/// `ZFILENAME` says: the video is the original.
fn original_path(f: &FileFacts) -> Option<String> {
    let (directory, filename, uuid) = (f.directory, f.filename, f.uuid);
    if filename.is_empty() {
        return None;
    }
    if f.shared {
        let root = f.shared_root;
        if f.ismovie {
            return Some(format!("{root}/{directory}/{uuid}.medium.MP4"));
        }
        return Some(format!("{root}/{directory}/{filename}"));
    }
    if directory.starts_with('/') {
        return Some(format!("{directory}/{filename}"));
    }
    let dir = if directory.is_empty() {
        uuid.chars().next().map(String::from).unwrap_or_default()
    } else {
        directory.to_owned()
    };
    Some(format!("originals/{dir}/{filename}"))
}

/// Name suffixes Photos uses for the full-size render of an edit, most
/// likely first: HEIC edits of HEIC photos on newer Photos, JPEG otherwise.
fn edited_suffixes(uti: Option<&str>, ismovie: bool) -> &'static [&'static str] {
    if ismovie {
        &["_2_0_a.mov"]
    } else if uti == Some("public.heic") {
        &["_1_201_a.heic", "_1_201_a.jpeg"]
    } else {
        &["_1_201_a.jpeg", "_1_201_a.heic"]
    }
}

/// The UTI of a file by its extension, for libraries whose resource table
/// no longer names it.
#[must_use]
fn uti_for_name(name: &str) -> Option<&'static str> {
    let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" | "jpe" => "public.jpeg",
        "heic" => "public.heic",
        "heif" => "public.heif",
        "png" => "public.png",
        "gif" => "com.compuserve.gif",
        "tif" | "tiff" => "public.tiff",
        "bmp" => "com.microsoft.bmp",
        "webp" => "org.webmproject.webp",
        "mov" => "com.apple.quicktime-movie",
        "mp4" => "public.mpeg-4",
        "m4v" => "com.apple.m4v-video",
        "avi" => "public.avi",
        "dng" => "com.adobe.raw-image",
        "cr2" => "com.canon.cr2-raw-image",
        "cr3" => "com.canon.cr3-raw-image",
        "crw" => "com.canon.crw-raw-image",
        "nef" => "com.nikon.raw-image",
        "nrw" => "com.nikon.nrw-raw-image",
        "arw" => "com.sony.arw-raw-image",
        "srf" => "com.sony.raw-image",
        "orf" => "com.olympus.raw-image",
        "raf" => "com.fuji.raw-image",
        "rw2" => "com.panasonic.rw2-raw-image",
        "pef" => "com.pentax.raw-image",
        _ => return None,
    })
}
