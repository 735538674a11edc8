//! Synthetic Apple Photos libraries with the real schema, for tests of edge
//! cases, the benchmarks and the demo (`scripts/demo.sh`, through
//! `examples/make_library.rs`).
//!
//! Six real libraries cannot cover every case a backup must survive (a
//! million assets, an iCloud-only original with an edit, a hostile file name
//! stored as a BLOB), and they may not be copied into the repository. This
//! module writes a `.photoslibrary` bundle whose `Photos.sqlite` has Apple's
//! tables and columns (see `ddl`), filled from explicit `AssetSpec`s or a
//! seeded, realistic random mix, plus small deterministic media files laid
//! out as Photos lays them out (`originals/X/UUID.ext`, `UUID_3.mov`,
//! `UUID_4.cr2`, `resources/renders/X/UUID_1_201_a.jpeg`, ...).
//!
//! ```no_run
//! use synthetic::{AssetSpec, Flavor, SyntheticLibrary};
//! # fn main() -> std::io::Result<()> {
//! let created = chrono::DateTime::from_timestamp(1_600_000_000, 0).unwrap();
//! SyntheticLibrary::new(Flavor::Modern)
//!     .asset(AssetSpec {
//!         keywords: vec!["beach".into()],
//!         live: true,
//!         ..AssetSpec::photo("1C0FFEE0-0000-4000-8000-000000000001", created)
//!     })
//!     .random(1000, 42, 2015..=2024)
//!     .write(std::path::Path::new("/tmp/Test.photoslibrary"))?;
//! # Ok(()) }
//! ```

pub mod camera;
mod core_data;
mod ddl;
mod files;
mod flavor;
mod random;
mod realistic;
pub mod takeout;
mod writer;

use std::ops::RangeInclusive;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use core_data::to_core_data;
pub use flavor::Flavor;
pub use random::{uuid_from, SplitMix64};

/// Photo or video (`ZKIND` 0 or 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Photo,
    Movie,
}

/// Text as stored in a database column. Photos writes valid UTF-8, but a
/// damaged or hostile database may hold anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbText {
    Text(String),
    /// Bytes stored with type TEXT that are not valid UTF-8.
    RawText(Vec<u8>),
    /// Bytes stored with type BLOB.
    Blob(Vec<u8>),
}

impl DbText {
    /// What a reader sees: the text, with invalid UTF-8 replaced.
    #[must_use]
    pub fn lossy(&self) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::RawText(b) | Self::Blob(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }
}

impl From<&str> for DbText {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<String> for DbText {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

/// An edit made in Photos (or an external editor through Photos).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// `ZADJUSTMENTTIMESTAMP`.
    pub at: DateTime<Utc>,
    /// Made by an external editor (`com.apple.Photos.externalEdit`).
    pub external: bool,
}

/// Membership in a burst.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Burst {
    /// `ZAVALANCHEUUID`, shared by the frames of one burst.
    pub uuid: String,
    /// `ZAVALANCHEPICKTYPE` bits: 2 not selected, 4 default pick, 8 selected
    /// by the user, 16 key frame. Photos shows frames with 8 or 16 (or 0).
    pub pick: i64,
}

impl Burst {
    pub const NOT_SELECTED: i64 = 2;
    pub const DEFAULT_PICK: i64 = 4;
    pub const SELECTED: i64 = 8;
    pub const KEY: i64 = 16;
}

/// `ZDIRECTORY` and `ZFILENAME` written verbatim (hostile-path tests); no
/// media file is written for such an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPath {
    pub directory: String,
    pub filename: String,
}

/// One asset, every field settable. Start from `AssetSpec::photo` or
/// `AssetSpec::movie` and override with struct update syntax.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::struct_excessive_bools)] // one flag per Photos state it sets
pub struct AssetSpec {
    /// `ZUUID`; one that cannot name a file (empty, `.`, `..`, with `/`,
    /// `\` or NUL) is stored but gets no media files.
    pub uuid: String,
    pub kind: Kind,
    /// Extension of the original in the library (`jpeg`, `heic`, `png`,
    /// `mov`, `mp4`, ...): decides `ZFILENAME` and the UTI.
    pub extension: String,
    /// `ZORIGINALFILENAME`: the name at import, untrusted.
    pub original_filename: DbText,
    pub created: DateTime<Utc>,
    /// Seconds east of UTC (`ZTIMEZONEOFFSET`); `None` stores NULL.
    pub tz_offset: Option<i32>,
    /// `ZTIMEZONENAME`; `None` stores the `GMT+0200` name of `tz_offset`.
    pub tz_name: Option<String>,
    /// An asset of an iCloud shared album: its folder under the shared
    /// store (`<id>/<album uuid>`, `ZDIRECTORY`), with
    /// `ZCLOUDBATCHPUBLISHDATE` set. A shared photo is `UUID.<ext>` there; a
    /// shared video is `UUID.medium.MP4` beside a `UUID.poster.JPG` frame.
    pub shared_album: Option<String>,
    pub added: DateTime<Utc>,
    /// `ZMODIFICATIONDATE`: any change to the row.
    pub modified: Option<DateTime<Utc>>,
    pub title: Option<DbText>,
    pub description: Option<DbText>,
    pub keywords: Vec<String>,
    /// One entry per detected face; `""` is a person nobody named.
    pub persons: Vec<String>,
    /// Faces detected but not assigned to any person (dropped by readers).
    pub unassigned_faces: u32,
    /// User albums (`ZKIND` 2) by title; equal titles are one album.
    pub albums: Vec<String>,
    pub favorite: bool,
    pub hidden: bool,
    pub trashed: bool,
    /// A Live Photo: `ZKINDSUBTYPE` 2 and a paired `UUID_3.mov`.
    pub live: bool,
    /// A RAW+JPEG pair: the RAW alternate is `UUID_4.cr2`.
    pub raw_pair: bool,
    pub edit: Option<Edit>,
    pub burst: Option<Burst>,
    /// Originals only in iCloud ("Optimize Storage"): `ZLOCALAVAILABILITY` -1
    /// on the original-side resources and no original, live, RAW or AAE file.
    /// An edit's render stays local.
    pub cloud_only: bool,
    /// Adjustments that came with the original (portrait, slo-mo):
    /// `originals/X/UUID_5.aae`.
    pub original_adjustments: bool,
    /// A referenced file (`ZSAVEDASSETTYPE` 10) in this absolute directory,
    /// named after `original_filename`; written there when files are written.
    pub referenced: Option<String>,
    pub stored_path: Option<StoredPath>,
    /// `(latitude, longitude)`; `None` stores Photos' "no location" -180/-180.
    pub location: Option<(f64, f64)>,
    pub width: i64,
    pub height: i64,
    /// Size of the original file in bytes; `None` uses the library default.
    pub size: Option<u64>,
}

impl AssetSpec {
    /// A plain local JPEG photo created (and added) at `created`, UTC.
    #[must_use]
    pub fn photo(uuid: &str, created: DateTime<Utc>) -> Self {
        Self {
            uuid: uuid.to_owned(),
            kind: Kind::Photo,
            extension: "jpeg".into(),
            original_filename: DbText::Text("IMG_0001.JPG".into()),
            created,
            tz_offset: Some(0),
            tz_name: None,
            shared_album: None,
            added: created,
            modified: None,
            title: None,
            description: None,
            keywords: Vec::new(),
            persons: Vec::new(),
            unassigned_faces: 0,
            albums: Vec::new(),
            favorite: false,
            hidden: false,
            trashed: false,
            live: false,
            raw_pair: false,
            edit: None,
            burst: None,
            cloud_only: false,
            original_adjustments: false,
            referenced: None,
            stored_path: None,
            location: None,
            width: 4032,
            height: 3024,
            size: None,
        }
    }

    /// A plain local `.mov` movie.
    #[must_use]
    pub fn movie(uuid: &str, created: DateTime<Utc>) -> Self {
        Self {
            kind: Kind::Movie,
            extension: "mov".into(),
            original_filename: DbText::Text("IMG_0001.MOV".into()),
            width: 1920,
            height: 1080,
            ..Self::photo(uuid, created)
        }
    }

    /// `ZFILENAME` as Photos names the original.
    #[must_use]
    pub fn filename(&self) -> String {
        if let Some(stored) = &self.stored_path {
            return stored.filename.clone();
        }
        if self.referenced.is_some() {
            return self.original_filename.lossy();
        }
        format!("{}.{}", self.uuid, self.extension)
    }

    /// `ZDIRECTORY`: the first character of the uuid, or the referenced folder.
    #[must_use]
    pub fn directory(&self) -> String {
        if let Some(stored) = &self.stored_path {
            return stored.directory.clone();
        }
        if let Some(dir) = &self.referenced {
            return dir.clone();
        }
        if let Some(dir) = &self.shared_album {
            return dir.clone();
        }
        self.uuid
            .chars()
            .next()
            .map(String::from)
            .unwrap_or_default()
    }
}

/// Where the assets of a library come from, in order.
#[derive(Debug, Clone)]
enum Source {
    One(Box<AssetSpec>),
    Random {
        n: usize,
        seed: u64,
        years: RangeInclusive<i32>,
    },
}

/// A library to write: a builder of asset specs and options.
#[derive(Debug, Clone)]
pub struct SyntheticLibrary {
    flavor: Flavor,
    sources: Vec<Source>,
    write_files: bool,
    file_size: Option<u64>,
    wal: bool,
    wal_tail: Option<usize>,
    realistic_size: bool,
}

/// What `write` did.
#[derive(Debug, Clone, Default)]
pub struct Written {
    pub assets: usize,
    /// `ZINTERNALRESOURCE` rows.
    pub resources: usize,
    /// Media files written (originals, renders, sidecars).
    pub files: usize,
    pub file_bytes: u64,
    /// Sizes of `Photos.sqlite` and its `-wal`.
    pub db_bytes: u64,
    pub wal_bytes: u64,
    pub elapsed: Duration,
}

impl SyntheticLibrary {
    #[must_use]
    pub fn new(flavor: Flavor) -> Self {
        Self {
            flavor,
            sources: Vec::new(),
            write_files: true,
            file_size: None,
            wal: true,
            wal_tail: None,
            realistic_size: false,
        }
    }

    #[must_use]
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// Adds one explicit asset.
    pub fn asset(&mut self, spec: AssetSpec) -> &mut Self {
        self.sources.push(Source::One(Box::new(spec)));
        self
    }

    /// Adds `n` assets of a realistic mix, created over `years`, the same
    /// ones for the same seed: about 10% edited, 15% Live Photos, 3% RAW
    /// pairs, 5% videos, 2% trashed, 30% iCloud-only, a few bursts, and
    /// keywords, persons and albums from small vocabularies. Assets are made
    /// when the library is written, so a million cost no memory here.
    pub fn random(&mut self, n: usize, seed: u64, years: RangeInclusive<i32>) -> &mut Self {
        self.sources.push(Source::Random { n, seed, years });
        self
    }

    /// Whether media files are written (default true). Off, only the
    /// database is written: for huge benchmark libraries.
    pub fn write_files(&mut self, on: bool) -> &mut Self {
        self.write_files = on;
        self
    }

    /// Size in bytes of every original that does not set its own (default:
    /// a few dozen bytes).
    pub fn file_size(&mut self, bytes: u64) -> &mut Self {
        self.file_size = Some(bytes);
        self
    }

    /// Whether to leave the last writes in `Photos.sqlite-wal`, as a live
    /// library does (default true). Off, the database is one file.
    pub fn wal(&mut self, on: bool) -> &mut Self {
        self.wal = on;
        self
    }

    /// How many of the last assets are written only to the WAL, so a reader
    /// that ignores the WAL misses them (default: a tenth, at most 1000).
    pub fn wal_tail(&mut self, assets: usize) -> &mut Self {
        self.wal_tail = Some(assets);
        self
    }

    /// Whether the database gets the size of a real one (default false):
    /// wide asset and attribute rows, derivative resource rows and the
    /// analysis tables Photos fills (scene prints, classifications, scores,
    /// text recognition, EXIF), about 6 KB per asset, so 100k assets make a
    /// database of about 0.6 GB as real libraries have. What the reader
    /// reads is the same either way.
    pub fn realistic_size(&mut self, on: bool) -> &mut Self {
        self.realistic_size = on;
        self
    }

    /// The number of assets the library will have.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sources
            .iter()
            .map(|s| match s {
                Source::One(_) => 1,
                Source::Random { n, .. } => *n,
            })
            .sum()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every asset spec, in the order they are written (random ones made on
    /// the fly): what a test compares the reader against.
    pub fn specs(&self) -> impl Iterator<Item = AssetSpec> + '_ {
        self.sources
            .iter()
            .flat_map(|s| -> Box<dyn Iterator<Item = AssetSpec>> {
                match s {
                    Source::One(spec) => Box::new(std::iter::once((**spec).clone())),
                    Source::Random { n, seed, years } => {
                        Box::new(random::Generator::new(*seed, years.clone()).take(*n))
                    }
                }
            })
    }

    /// Writes the library bundle at `root` (created; must not already hold a
    /// database). Not atomic: a failure leaves a partial bundle behind.
    pub fn write(&self, root: &Path) -> std::io::Result<Written> {
        writer::write(self, root)
    }
}
