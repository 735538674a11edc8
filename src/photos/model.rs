//! What the reader returns: one `Asset` per photo or video, with the files
//! (`Resource`s) a complete backup must hold. Field names follow the ones
//! osxphotos uses in its JSON, so listings compare field by field; paths are
//! relative to the library root unless the file is referenced from outside.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Serialize, Serializer};

use super::time::Iso;

/// The flags mirror Photos' own columns one to one, hence many bools.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Asset {
    /// The asset's row number in this database; not stable across libraries.
    #[serde(skip)]
    pub pk: i64,
    pub uuid: String,
    /// Name of the original in the library (`UUID.ext`, or the referenced name).
    pub filename: String,
    /// Name the file had when imported: untrusted input.
    pub original_filename: String,
    /// Creation date in the photo's own time zone.
    #[serde(serialize_with = "iso_fixed")]
    pub date: DateTime<FixedOffset>,
    /// UTC offset of `date` in seconds east, as Photos stored it.
    pub tzoffset: Option<i32>,
    #[serde(serialize_with = "iso_utc")]
    pub date_added: Option<DateTime<Utc>>,
    /// Edit time (`ZADJUSTMENTTIMESTAMP`): when the edits last changed.
    #[serde(serialize_with = "iso_utc")]
    pub date_modified: Option<DateTime<Utc>>,
    /// Any change to the asset's row (`ZMODIFICATIONDATE`), metadata included.
    #[serde(serialize_with = "iso_utc")]
    pub date_changed: Option<DateTime<Utc>>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub keywords: Vec<String>,
    pub persons: Vec<String>,
    pub albums: Vec<String>,
    pub favorite: bool,
    pub hidden: bool,
    pub intrash: bool,
    pub isphoto: bool,
    pub ismovie: bool,
    pub uti: Option<String>,
    pub uti_original: Option<String>,
    pub original_filesize: i64,
    pub width: i64,
    pub height: i64,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub burst: bool,
    pub burst_uuid: Option<String>,
    /// A burst frame Photos shows (the key frame or one the user picked).
    pub burst_selected: bool,
    pub live_photo: bool,
    pub has_raw: bool,
    pub israw: bool,
    pub shared: bool,
    pub isreference: bool,
    pub ismissing: bool,
    pub hasadjustments: bool,
    pub external_edit: bool,
    pub(crate) portrait: bool,
    pub(crate) screenshot: bool,
    pub(crate) selfie: bool,
    pub(crate) slow_mo: bool,
    pub(crate) time_lapse: bool,
    pub(crate) panorama: bool,
    /// The original, when it is on disk.
    pub path: Option<String>,
    pub path_edited: Option<String>,
    pub path_live_photo: Option<String>,
    pub path_raw: Option<String>,
    /// Every file that belongs to the asset, present or not.
    pub resources: Vec<Resource>,
    /// Why the asset has no paths at all although the database names a file:
    /// its uuid, folder or file name was refused as unsafe (see `photos::paths`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_refused: Option<String>,
    /// `ZKIND`: 0 photo, 1 video; other values are not user media.
    #[serde(skip)]
    pub(crate) kind: Option<i64>,
}

impl Asset {
    /// A plain local HEIC photo taken 2024-05-01 12:00 at UTC-4, for tests
    /// that set the fields they are about.
    ///
    /// # Panics
    /// Never: the date is a constant that exists.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn example(uuid: &str, original_filename: &str) -> Self {
        use chrono::TimeZone;
        let zone = FixedOffset::west_opt(4 * 3600).unwrap();
        Self {
            pk: 1,
            uuid: uuid.to_owned(),
            filename: format!("{uuid}.heic"),
            original_filename: original_filename.to_owned(),
            date: zone.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap(),
            tzoffset: Some(-4 * 3600),
            date_added: None,
            date_modified: None,
            date_changed: None,
            title: None,
            description: None,
            keywords: vec![],
            persons: vec![],
            albums: vec![],
            favorite: false,
            hidden: false,
            intrash: false,
            isphoto: true,
            ismovie: false,
            uti: Some("public.heic".into()),
            uti_original: Some("public.heic".into()),
            original_filesize: 0,
            width: 0,
            height: 0,
            latitude: None,
            longitude: None,
            burst: false,
            burst_uuid: None,
            burst_selected: false,
            live_photo: false,
            has_raw: false,
            israw: false,
            shared: false,
            isreference: false,
            ismissing: false,
            hasadjustments: false,
            external_edit: false,
            portrait: false,
            screenshot: false,
            selfie: false,
            slow_mo: false,
            time_lapse: false,
            panorama: false,
            path: None,
            path_edited: None,
            path_live_photo: None,
            path_raw: None,
            resources: vec![],
            path_refused: None,
            kind: Some(0),
        }
    }
}

/// One file of an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    pub role: ResourceRole,
    /// Relative to the library root, or absolute for a referenced file.
    pub path: String,
    /// Whether the file is on this disk now (an original may be in iCloud only).
    pub present: bool,
}

/// What a file is to its asset; decides its name in staging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceRole {
    Original,
    Raw,
    LiveVideo,
    Edited,
    EditedLiveVideo,
    /// `resources/renders/X/UUID.plist`: the edits, exported as `NAME.AAE`.
    Adjustments,
    /// `originals/X/UUID_5.aae` style: adjustments that came with the original,
    /// exported as `NAME_O.AAE`.
    OriginalAdjustments,
}

fn iso_fixed<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(Iso::of(t).as_str())
}

#[allow(clippy::ref_option)] // serde's `serialize_with` hands us `&Option<T>`.
fn iso_utc<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(Iso::of(&t.fixed_offset()).as_str()),
        None => s.serialize_none(),
    }
}
