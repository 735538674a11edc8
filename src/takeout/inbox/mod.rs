//! What a Takeout inbox folder holds: which files are Takeout parts and how
//! they group into sets, which folders are an already extracted Takeout
//! (parts too, of format `Folder`), and what is left alone and why (a
//! download still under way, a hidden file, anything else). The decision is
//! pure, over a listing (`classify`); `scan` lists the folder without
//! following links and `fingerprint` reads what tells a part that changed
//! from one that did not. Both run within a bound (`BOUND`): the inbox is
//! often a Google Drive folder, where a listing or a read can block.
//! Nothing in the inbox is ever written, renamed or deleted.
//!
//! An extracted folder is a part like a file: `takeout-STAMP-NNN/` holding
//! `Takeout/` (what an archive tool makes of `takeout-STAMP-NNN.zip`, also
//! when the folder kept the `.zip` in its name) is part NNN of a set of
//! folders, grouped like files; any other folder holding `Takeout/` (all
//! parts unzipped into one) is a set of one folder, and `Takeout/` directly
//! in the inbox a set of one part named `.` (the inbox itself). A folder
//! without `Takeout/` is not Takeout. Only the `Takeout/` inside a folder
//! is read: parts lying beside it are listed as `Ignore::Nested` (the inbox
//! is read one level deep). A folder's fingerprint is a walk of its
//! `Takeout/` (every path, type, size, modification time, and a link's
//! target, never followed), so a folder still being unpacked or synced
//! changes and waits like a part still being copied. The zips and the
//! folders an unzip made of them beside them are two sets of the same
//! content: both are read, the second stages nothing new.
//!
//! A part of a set still being downloaded beside it (its name with a
//! download suffix, below) holds the set back (`downloading`). A set whose
//! last part is as full as a part cut at the export's size may go on
//! (`may_continue_after`): it waits one settle time more, then is read
//! with a warning, since waiting for a part that may never come is silent
//! and a set read early may lack JSON that sits in the next part.
//!
//! Names, as Google writes them (seen in converter projects' issues):
//! `takeout-20240701T221728Z-004.zip` (simulot/immich-go#357), `.tgz` parts
//! `takeout-20231129T080411Z-001.tgz` (simulot/immich-go#36), and since
//! 2026 an extra number before the part's, `takeout-20260408T142729Z-3-001.zip`.
//! The parts of one export do not all carry the same time: in
//! immich-go#357 part 004 says `221728Z` and part 005 `221729Z`. So a set is
//! a run of parts of one kind (extension and extra number) whose times
//! follow each other closely and whose numbers rise; a number seen again or
//! a long gap starts the next set.
//!
//! Partial downloads carry the browser's or sync client's suffix until
//! complete: Chrome and Edge `.crdownload`, Firefox `.part`, Safari
//! `.download` (a folder on macOS), Internet Explorer `.partial`, Google
//! Drive for desktop `.tmp.drivedownload`. A complete name can still be
//! written to (a copy in Finder): `readiness` only trusts a part seen twice,
//! unchanged, some minutes apart.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::archive::Format;
use crate::printable::printable;

mod fingerprint;

pub use fingerprint::{fingerprint, Fingerprint, EDGE};

/// Largest gap between the times in the names of two parts of one set.
pub const MAX_PART_GAP: Duration = Duration::from_secs(3600);

/// How long listing the inbox, or fingerprinting one part, may take: a
/// Google Drive folder not yet downloaded answers within seconds when it
/// answers at all.
pub const BOUND: Duration = Duration::from_secs(60);

/// One entry of the inbox folder, as listed (links not followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: OsString,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File {
        size: u64,
        modified: SystemTime,
    },
    /// A folder; `holds_takeout`: it has a `Takeout` folder inside;
    /// `parts_inside`: the names in it of Takeout parts (or downloads of
    /// one), which are not read there.
    Dir {
        modified: SystemTime,
        holds_takeout: bool,
        parts_inside: Vec<OsString>,
    },
    Link,
    Other,
}

/// A part of a Takeout set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The file name in the inbox.
    pub name: String,
    /// `-001` is 1.
    pub number: u32,
    pub size: u64,
    pub modified: SystemTime,
}

/// Parts that belong to one export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakeoutSet {
    /// `takeout-20240701T221728Z` (with `-3` when the names carry it): the
    /// name of the first part without its number; `Takeout` for a
    /// `Takeout/` folder directly in the inbox; printable.
    pub id: String,
    pub format: Format,
    /// By number. A `Folder` part's name is its path relative to the inbox
    /// (`.` for the inbox itself) and its size 0 (what it holds is in its
    /// fingerprint).
    pub parts: Vec<Part>,
    /// Numbers below the highest present that are not in the inbox (parts
    /// after the highest cannot be known from names alone).
    pub missing: Vec<u32>,
    /// Numbers of this set's parts still being downloaded beside it
    /// (`-004.zip.crdownload`): the set is not whole yet.
    pub downloading: Vec<u32>,
    /// The highest part's number when that part is as full as a part cut at
    /// the export's size (`last_part_may_continue`): more may follow.
    pub may_continue_after: Option<u32>,
}

/// Why an entry is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignore {
    /// Still being downloaded, by the named program.
    PartialDownload(&'static str),
    /// A name starting with `.` (`.DS_Store`, the `._` files of `AppleDouble`).
    Hidden,
    /// A second download of a part (`takeout-...-001 (1).zip`).
    SecondDownload,
    /// A symbolic link: never followed out of the inbox.
    Link,
    /// Not a Takeout part or folder.
    NotTakeout,
    /// A name that is not UTF-8.
    UnreadableName,
    /// A part inside a folder of the inbox: only the inbox's own level is
    /// read (and a folder's `Takeout/`).
    Nested,
}

impl Ignore {
    #[must_use]
    pub fn reason(self) -> String {
        match self {
            Self::PartialDownload(by) => format!("a download still under way ({by})"),
            Self::Hidden => "a hidden file".into(),
            Self::SecondDownload => "a second download of a part (a browser's \" (1)\")".into(),
            Self::Link => "a symbolic link (not followed)".into(),
            Self::NotTakeout => "not a Takeout archive or folder".into(),
            Self::UnreadableName => "its name is not UTF-8".into(),
            Self::Nested => {
                "a part inside a folder (only the inbox's own level is read: move it there)".into()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// Printable.
    pub name: String,
    pub why: Ignore,
}

/// What an inbox holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    pub sets: Vec<TakeoutSet>,
    pub ignored: Vec<Ignored>,
}

/// Suffixes of downloads under way, lowercase, longest first.
const PARTIAL_SUFFIXES: [(&str, &str); 5] = [
    (".tmp.drivedownload", "Google Drive for desktop"),
    (".crdownload", "Chrome or Edge"),
    (".download", "Safari"),
    (".partial", "Internet Explorer"),
    (".part", "Firefox"),
];

/// A part's name, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PartName {
    /// `takeout-20240701T221728Z` or `takeout-20260408T142729Z-3`.
    stem: String,
    /// The extra number, when present.
    variant: Option<u32>,
    /// Seconds since the epoch of the name's time.
    time: i64,
    number: u32,
    format: Format,
}

/// Splits `takeout-YYYYMMDDTHHMMSSZ[-K]-NNN` + `.zip`/`.tgz`/`.tar.gz`.
fn parse_part_name(name: &str) -> Option<PartName> {
    let lower = name.to_ascii_lowercase();
    let (base, format) = if let Some(b) = lower.strip_suffix(".zip") {
        (b, Format::Zip)
    } else if let Some(b) = lower
        .strip_suffix(".tgz")
        .or_else(|| lower.strip_suffix(".tar.gz"))
    {
        (b, Format::TarGz)
    } else {
        return None;
    };
    let base = &name[..base.len()];
    let (stem, number) = base.rsplit_once('-')?;
    let number = digits(number)?;
    let rest = stem
        .get(..8)
        .filter(|p| p.eq_ignore_ascii_case("takeout-"))
        .and_then(|_| stem.get(8..))?;
    let (stamp, variant) = match rest.split_once('-') {
        Some((stamp, k)) => (stamp, Some(digits(k)?)),
        None => (rest, None),
    };
    let time = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .ok()?
        .and_utc()
        .timestamp();
    Some(PartName {
        stem: stem.to_owned(),
        variant,
        time,
        number,
        format,
    })
}

fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// The browser's " (1)" before the extension of a second download.
fn is_second_download(name: &str) -> bool {
    first_download_name(name).is_some()
}

/// The name without the browser's " (1)": `takeout-...-002 (1).zip` is
/// `takeout-...-002.zip`.
fn first_download_name(name: &str) -> Option<String> {
    let stem = name.split('.').next()?;
    let (core, n) = stem.rsplit_once(" (")?;
    n.strip_suffix(')').and_then(digits)?;
    Some(format!("{core}{}", &name[stem.len()..]))
}

/// Sorts a listing into sets (of files or of extracted folders) and what is
/// left alone.
#[must_use]
pub fn classify(entries: &[Entry]) -> Scan {
    let mut scan = Scan::default();
    let mut parts: Vec<(PartName, Part)> = Vec::new();
    let mut downloads: Vec<PartName> = Vec::new();
    let mut loose: Vec<TakeoutSet> = Vec::new();
    for entry in entries {
        let Some(name) = entry.name.to_str() else {
            scan.ignored.push(Ignored {
                name: printable(&entry.name.to_string_lossy()),
                why: Ignore::UnreadableName,
            });
            continue;
        };
        let lower = name.to_ascii_lowercase();
        let ignore = |why| Ignored {
            name: printable(name),
            why,
        };
        if let Some((suffix, by)) = PARTIAL_SUFFIXES.iter().find(|(s, _)| lower.ends_with(s)) {
            // `lower` is ASCII-lowered: the same byte length as `name`. A
            // part downloaded again (` (1)`) is of its set too.
            let base = &name[..name.len() - suffix.len()];
            downloads.extend(
                parse_part_name(base)
                    .or_else(|| first_download_name(base).and_then(|n| parse_part_name(&n))),
            );
            scan.ignored.push(ignore(Ignore::PartialDownload(by)));
            continue;
        }
        if name.starts_with('.') {
            scan.ignored.push(ignore(Ignore::Hidden));
            continue;
        }
        match &entry.kind {
            EntryKind::Link => scan.ignored.push(ignore(Ignore::Link)),
            EntryKind::Dir {
                modified,
                holds_takeout,
                parts_inside,
            } => {
                for inner in parts_inside {
                    scan.ignored.push(Ignored {
                        name: printable(&format!("{name}/{}", inner.to_string_lossy())),
                        why: Ignore::Nested,
                    });
                }
                let part = |name: &str| Part {
                    name: name.to_owned(),
                    number: 1,
                    size: 0,
                    modified: *modified,
                };
                if name == "Takeout" {
                    loose.push(one_folder("Takeout".into(), part(".")));
                } else if !holds_takeout {
                    scan.ignored.push(ignore(Ignore::NotTakeout));
                } else if let Some(parsed) = parse_folder_name(name) {
                    let part = Part {
                        number: parsed.number,
                        ..part(name)
                    };
                    parts.push((parsed, part));
                } else {
                    loose.push(one_folder(printable(name), part(name)));
                }
            }
            EntryKind::Other => scan.ignored.push(ignore(Ignore::NotTakeout)),
            EntryKind::File { size, modified } => match parse_part_name(name) {
                Some(parsed) => parts.push((
                    parsed.clone(),
                    Part {
                        name: name.to_owned(),
                        number: parsed.number,
                        size: *size,
                        modified: *modified,
                    },
                )),
                None if is_second_download(name) && lower.starts_with("takeout-") => {
                    scan.ignored.push(ignore(Ignore::SecondDownload));
                }
                None => scan.ignored.push(ignore(Ignore::NotTakeout)),
            },
        }
    }
    scan.sets = group(parts, &downloads);
    scan.sets.extend(loose);
    scan.sets.sort_by(|a, b| {
        (a.id.as_str(), format_rank(a.format)).cmp(&(b.id.as_str(), format_rank(b.format)))
    });
    scan
}

/// A set of one extracted folder whose name tells no part number.
fn one_folder(id: String, part: Part) -> TakeoutSet {
    TakeoutSet {
        id,
        format: Format::Folder,
        parts: vec![part],
        missing: Vec::new(),
        downloading: Vec::new(),
        may_continue_after: None,
    }
}

/// A folder named like a part, with or without the archive's extension
/// (`takeout-20240701T221728Z-001`, `takeout-20240701T221728Z-001.zip`).
fn parse_folder_name(name: &str) -> Option<PartName> {
    parse_part_name(name)
        .or_else(|| parse_part_name(&format!("{name}.zip")))
        .map(|p| PartName {
            format: Format::Folder,
            ..p
        })
}

/// Orders formats (a set is of one format).
fn format_rank(f: Format) -> u8 {
    match f {
        Format::TarGz => 0,
        Format::Zip => 1,
        Format::Folder => 2,
    }
}

/// What parts must share to be of one set: the extra number and the format.
type Kind = (Option<u32>, u8);

fn kind(p: &PartName) -> Kind {
    (p.variant, format_rank(p.format))
}

/// Groups parts into sets: per kind, in order of time and number, a part
/// joins the set before it when it follows within `MAX_PART_GAP` with a
/// higher number. A download under way joins the set of its kind with a
/// part nearest in time (within `MAX_PART_GAP`) as `downloading`.
fn group(mut parts: Vec<(PartName, Part)>, downloads: &[PartName]) -> Vec<TakeoutSet> {
    parts.sort_by(|(a, _), (b, _)| {
        kind(a)
            .cmp(&kind(b))
            .then(a.time.cmp(&b.time))
            .then(a.number.cmp(&b.number))
    });
    let mut sets: Vec<TakeoutSet> = Vec::new();
    // Per set: its kind and the times in its parts' names.
    let mut shapes: Vec<(Kind, Vec<i64>)> = Vec::new();
    let mut previous: Option<PartName> = None;
    for (parsed, part) in parts {
        let joins = previous.as_ref().is_some_and(|p| {
            kind(p) == kind(&parsed)
                && parsed.time - p.time <= MAX_PART_GAP.as_secs() as i64
                && parsed.number > p.number
        });
        if !joins {
            sets.push(TakeoutSet {
                id: printable(&parsed.stem),
                format: parsed.format,
                parts: Vec::new(),
                missing: Vec::new(),
                downloading: Vec::new(),
                may_continue_after: None,
            });
            shapes.push((kind(&parsed), Vec::new()));
        }
        sets.last_mut()
            .expect("a set was just pushed")
            .parts
            .push(part);
        shapes
            .last_mut()
            .expect("pushed with it")
            .1
            .push(parsed.time);
        previous = Some(parsed);
    }
    for d in downloads {
        let gap = |times: &Vec<i64>| times.iter().map(|t| (t - d.time).abs()).min();
        let nearest = (shapes.iter().enumerate())
            .filter(|(_, (k, _))| *k == kind(d))
            .filter_map(|(i, (_, times))| gap(times).map(|g| (g, i)))
            .filter(|(g, _)| *g <= MAX_PART_GAP.as_secs() as i64)
            .min();
        if let Some((_, i)) = nearest {
            sets[i].downloading.push(d.number);
        }
    }
    for set in &mut sets {
        let present: Vec<u32> = set.parts.iter().map(|p| p.number).collect();
        let highest = present.iter().copied().max().unwrap_or(0);
        set.missing = (1..highest).filter(|n| !present.contains(n)).collect();
        set.downloading.sort_unstable();
        set.downloading.dedup();
        let sizes: Vec<u64> = set.parts.iter().map(|p| p.size).collect();
        if set.format != Format::Folder && last_part_may_continue(&sizes) {
            set.may_continue_after = Some(highest);
        }
    }
    sets
}

/// A decimal gigabyte and a binary one: Google says "GB" for its part
/// sizes; which one it means is not written down, so both bound the guess.
const GB: u64 = 1_000_000_000;
const GIB: u64 = 1 << 30;

/// The part sizes Takeout offers, in GB (takeout.google.com: 1, 2, 4, 10
/// or 50 GB).
pub const SPLIT_SIZES_GB: [u64; 5] = [1, 2, 4, 10, 50];

/// Whether the last of a set's parts (`sizes`, by number) is as full as a
/// part cut at the export's size, so that more parts may follow it: Google
/// fills every part but the last up to the size chosen. With other parts,
/// the last is at least 99 % of the largest of them, and those are cut at a
/// split size (at least 99 % of 1 GB, the smallest: smaller parts were not
/// cut by size, and nothing follows). Alone, it is between 99 % of one of
/// `SPLIT_SIZES_GB` (decimal) and that size in binary gigabytes.
#[must_use]
pub fn last_part_may_continue(sizes: &[u64]) -> bool {
    let Some((&last, others)) = sizes.split_last() else {
        return false;
    };
    let at_least_99_percent_of = |of: u64| u128::from(last) * 100 >= u128::from(of) * 99;
    match others.iter().max() {
        Some(&largest) => {
            u128::from(largest) * 100 >= u128::from(GB) * 99 && at_least_99_percent_of(largest)
        }
        None => SPLIT_SIZES_GB
            .iter()
            .any(|&s| at_least_99_percent_of(s * GB) && last <= s * GIB),
    }
}

impl TakeoutSet {
    /// "part 4 still downloading", when one is.
    #[must_use]
    pub fn downloading_note(&self) -> Option<String> {
        match self.downloading.as_slice() {
            [] => None,
            [n] => Some(format!("part {n} still downloading")),
            many => Some(format!(
                "parts {} still downloading",
                many.iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// "part N may not be the last", when its last part is full.
    #[must_use]
    pub fn may_continue_note(&self) -> Option<String> {
        self.may_continue_after.map(|n| {
            format!("part {n} may not be the last (as full as a part cut at the export's size)")
        })
    }

    /// How long this set's parts must stay unchanged before it is read:
    /// `settle`, and once more when its last part is full (more parts may
    /// still be on their way; after that it is read, with a warning).
    #[must_use]
    pub fn settle_time(&self, settle: Duration) -> Duration {
        if self.may_continue_after.is_some() {
            settle.saturating_mul(2)
        } else {
            settle
        }
    }
}

/// An inbox or a part that could not be looked at.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("cannot list the Takeout inbox {}", shown(inbox))]
    List {
        inbox: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the Takeout part {}", shown(part))]
    Part {
        part: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "the Takeout inbox {} was not listed within {} s (a cloud folder not \
         available offline, or a disk gone?)",
        shown(inbox),
        bound.as_secs_f64()
    )]
    ListHung { inbox: PathBuf, bound: Duration },
    #[error(
        "the Takeout part {} did not answer within {} s (a cloud file not \
         available offline, or a disk gone?)",
        shown(part),
        bound.as_secs_f64()
    )]
    PartHung { part: PathBuf, bound: Duration },
}

/// A path in a message: a folder's name may hold control characters.
fn shown(path: &Path) -> String {
    printable(&path.display().to_string())
}

/// Lists `inbox` (one level, and one more in each folder for `Takeout/` and
/// parts; links not followed) and classifies it, within `bound`.
pub fn scan(inbox: &Path, bound: Duration) -> Result<Scan, InboxError> {
    scan_with(inbox, bound, list)
}

/// `scan` with the listing passed in (it runs on a thread of its own, left
/// behind when it does not end within `bound`).
fn scan_with(
    inbox: &Path,
    bound: Duration,
    list: impl FnOnce(&Path) -> Result<Vec<Entry>, InboxError> + Send + 'static,
) -> Result<Scan, InboxError> {
    let owned = inbox.to_owned();
    match crate::terminate::bounded(bound, move || list(&owned)) {
        Some(entries) => Ok(classify(&entries?)),
        None => Err(InboxError::ListHung {
            inbox: inbox.to_owned(),
            bound,
        }),
    }
}

fn list(inbox: &Path) -> Result<Vec<Entry>, InboxError> {
    let list = |source| InboxError::List {
        inbox: inbox.to_owned(),
        source,
    };
    let part = |path: PathBuf| move |source| InboxError::Part { part: path, source };
    let mut entries = Vec::new();
    for dirent in fs::read_dir(inbox).map_err(list)? {
        let dirent = dirent.map_err(list)?;
        let meta = fs::symlink_metadata(dirent.path()).map_err(part(dirent.path()))?;
        let kind = if meta.file_type().is_symlink() {
            EntryKind::Link
        } else if meta.is_dir() {
            let inner = fs::symlink_metadata(dirent.path().join("Takeout"));
            EntryKind::Dir {
                modified: meta.modified().map_err(part(dirent.path()))?,
                holds_takeout: inner.is_ok_and(|m| m.is_dir()),
                parts_inside: parts_inside(&dirent.path()).map_err(part(dirent.path()))?,
            }
        } else if meta.is_file() {
            EntryKind::File {
                size: meta.len(),
                modified: meta.modified().map_err(part(dirent.path()))?,
            }
        } else {
            EntryKind::Other
        };
        entries.push(Entry {
            name: dirent.file_name(),
            kind,
        });
    }
    Ok(entries)
}

/// The names in `dir` that are Takeout parts or downloads of one.
fn parts_inside(dir: &Path) -> io::Result<Vec<OsString>> {
    let mut found = Vec::new();
    for dirent in fs::read_dir(dir)? {
        let name = dirent?.file_name();
        let Some(text) = name.to_str() else {
            continue;
        };
        let lower = text.to_ascii_lowercase();
        let base = PARTIAL_SUFFIXES
            .iter()
            .find_map(|(s, _)| lower.strip_suffix(s))
            .map_or(text, |b| &text[..b.len()]);
        if parse_part_name(base).is_some() {
            found.push(name);
        }
    }
    found.sort();
    Ok(found)
}

/// A part's fingerprint when a run looked at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub fingerprint: Fingerprint,
    pub seen_at: SystemTime,
}

/// Whether a part may be read now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// Seen unchanged for at least the settle time.
    Ready,
    /// New, or changed since last seen: look again later.
    Settling,
}

/// Whether a part may be read: only when seen before with the same
/// fingerprint at least `settle` ago (a part still being copied or
/// downloaded under its final name changes in between).
#[must_use]
pub fn readiness(previous: Option<&Sighting>, now: &Sighting, settle: Duration) -> Readiness {
    match previous {
        Some(p)
            if p.fingerprint == now.fingerprint
                && now
                    .seen_at
                    .duration_since(p.seen_at)
                    .is_ok_and(|d| d >= settle) =>
        {
            Readiness::Ready
        }
        _ => Readiness::Settling,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> Entry {
        Entry {
            name: name.into(),
            kind: EntryKind::File {
                size: 10,
                modified: SystemTime::UNIX_EPOCH,
            },
        }
    }

    fn names(set: &TakeoutSet) -> Vec<&str> {
        set.parts.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn part_names_as_google_writes_them_parse() {
        let p = parse_part_name("takeout-20240701T221728Z-004.zip").unwrap();
        assert_eq!(
            (p.stem.as_str(), p.variant, p.number),
            ("takeout-20240701T221728Z", None, 4)
        );
        assert_eq!(p.time, 1_719_872_248);
        let p = parse_part_name("takeout-20260408T142729Z-3-001.zip").unwrap();
        assert_eq!(
            (p.stem.as_str(), p.variant, p.number),
            ("takeout-20260408T142729Z-3", Some(3), 1)
        );
        assert_eq!(
            parse_part_name("takeout-20231129T080411Z-001.tgz")
                .unwrap()
                .format,
            Format::TarGz
        );
        assert_eq!(
            parse_part_name("Takeout-20231129T080411Z-002.TAR.GZ")
                .unwrap()
                .number,
            2
        );
        for bad in [
            "takeout.zip",
            "takeout-2024-001.zip",
            "takeout-20240701T221728Z-.zip",
            "takeout-20240701T221728Z-001.rar",
            "takeout-20241301T221728Z-001.zip",
            "photos-20240701T221728Z-001.zip",
        ] {
            assert_eq!(parse_part_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn parts_group_into_sets_across_a_second_of_difference_and_split_on_a_repeat() {
        let scan = classify(&[
            file("takeout-20240701T221729Z-005.zip"),
            file("takeout-20240701T221728Z-004.zip"),
            file("takeout-20240701T221728Z-001.zip"),
            // A second export the same day: its 001 starts a new set.
            file("takeout-20240701T231000Z-001.zip"),
            file("takeout-20240701T231001Z-002.zip"),
            // Two months later.
            file("takeout-20240901T221728Z-001.zip"),
            // The same time, but tgz: another export.
            file("takeout-20240701T221728Z-001.tgz"),
        ]);
        let sets: Vec<_> = scan
            .sets
            .iter()
            .map(|s| (s.id.as_str(), names(s), s.missing.clone()))
            .collect();
        assert_eq!(
            sets,
            [
                (
                    "takeout-20240701T221728Z",
                    vec!["takeout-20240701T221728Z-001.tgz"],
                    vec![]
                ),
                (
                    "takeout-20240701T221728Z",
                    vec![
                        "takeout-20240701T221728Z-001.zip",
                        "takeout-20240701T221728Z-004.zip",
                        "takeout-20240701T221729Z-005.zip"
                    ],
                    vec![2, 3]
                ),
                (
                    "takeout-20240701T231000Z",
                    vec![
                        "takeout-20240701T231000Z-001.zip",
                        "takeout-20240701T231001Z-002.zip"
                    ],
                    vec![]
                ),
                (
                    "takeout-20240901T221728Z",
                    vec!["takeout-20240901T221728Z-001.zip"],
                    vec![]
                ),
            ]
        );
        assert!(scan.ignored.is_empty());
    }

    #[test]
    fn downloads_under_way_and_other_entries_are_left_alone_with_the_reason() {
        let scan = classify(&[
            file("takeout-20240701T221728Z-001.zip.crdownload"),
            file("Unconfirmed 123456.crdownload"),
            file("takeout-20240701T221728Z-002.zip.part"),
            dir("takeout-20240701T221728Z-003.zip.download", false, &[]),
            file("takeout-20240701T221728Z-004.zip.tmp.drivedownload"),
            file("takeout-20240701T221728Z-005.zip.partial"),
            file("._takeout-20240701T221728Z-001.zip"),
            file("takeout-20240701T221728Z-001 (1).zip"),
            file("notes.pdf"),
            Entry {
                name: "takeout-20240701T221728Z-006.zip".into(),
                kind: EntryKind::Link,
            },
            Entry {
                name: std::os::unix::ffi::OsStringExt::from_vec(b"takeout-\xff.zip".to_vec()),
                kind: EntryKind::File {
                    size: 1,
                    modified: SystemTime::UNIX_EPOCH,
                },
            },
        ]);
        assert!(scan.sets.is_empty(), "{:?}", scan.sets);
        let why: Vec<Ignore> = scan.ignored.iter().map(|i| i.why).collect();
        assert_eq!(
            why,
            [
                Ignore::PartialDownload("Chrome or Edge"),
                Ignore::PartialDownload("Chrome or Edge"),
                Ignore::PartialDownload("Firefox"),
                Ignore::PartialDownload("Safari"),
                Ignore::PartialDownload("Google Drive for desktop"),
                Ignore::PartialDownload("Internet Explorer"),
                Ignore::Hidden,
                Ignore::SecondDownload,
                Ignore::NotTakeout,
                Ignore::Link,
                Ignore::UnreadableName,
            ]
        );
    }

    fn dir(name: &str, holds_takeout: bool, parts_inside: &[&str]) -> Entry {
        Entry {
            name: name.into(),
            kind: EntryKind::Dir {
                modified: SystemTime::UNIX_EPOCH,
                holds_takeout,
                parts_inside: parts_inside.iter().map(OsString::from).collect(),
            },
        }
    }

    fn sized(name: &str, size: u64) -> Entry {
        Entry {
            name: name.into(),
            kind: EntryKind::File {
                size,
                modified: SystemTime::UNIX_EPOCH,
            },
        }
    }

    #[test]
    fn extracted_takeout_folders_are_sets_of_folder_parts() {
        let scan = classify(&[
            dir("Takeout", false, &[]),
            dir("takeout-20240701T221728Z-001", true, &[]),
            // Kept its archive's name: still a folder, part 2 of the same set.
            dir("takeout-20240701T221728Z-002.zip", true, &[]),
            dir("takeout-20240701T221728Z-003", false, &[]),
            dir("Holiday", true, &[]),
            dir(
                "Export\tA",
                true,
                &[
                    "takeout-20250101T000000Z-001.zip",
                    "takeout-20250101T000000Z-002.zip.part",
                ],
            ),
            // The zip beside its extracted folder: a set of its own.
            file("takeout-20240701T221728Z-001.zip"),
        ]);
        let sets: Vec<_> = (scan.sets.iter())
            .map(|s| (s.id.as_str(), s.format, names(s), s.missing.clone()))
            .collect();
        assert_eq!(
            sets,
            [
                ("Export\\tA", Format::Folder, vec!["Export\tA"], vec![]),
                ("Holiday", Format::Folder, vec!["Holiday"], vec![]),
                ("Takeout", Format::Folder, vec!["."], vec![]),
                (
                    "takeout-20240701T221728Z",
                    Format::Zip,
                    vec!["takeout-20240701T221728Z-001.zip"],
                    vec![]
                ),
                (
                    "takeout-20240701T221728Z",
                    Format::Folder,
                    vec![
                        "takeout-20240701T221728Z-001",
                        "takeout-20240701T221728Z-002.zip"
                    ],
                    vec![]
                ),
            ]
        );
        let ignored: Vec<(&str, Ignore)> = (scan.ignored.iter())
            .map(|i| (i.name.as_str(), i.why))
            .collect();
        assert_eq!(
            ignored,
            [
                ("takeout-20240701T221728Z-003", Ignore::NotTakeout),
                (
                    "Export\\tA/takeout-20250101T000000Z-001.zip",
                    Ignore::Nested
                ),
                (
                    "Export\\tA/takeout-20250101T000000Z-002.zip.part",
                    Ignore::Nested
                ),
            ]
        );
        assert!(scan.sets.iter().all(|s| s.may_continue_after.is_none()));
    }

    #[test]
    fn a_download_under_way_holds_back_the_set_it_belongs_to() {
        let scan = classify(&[
            file("takeout-20240701T221728Z-001.zip"),
            file("takeout-20240701T221728Z-002.zip"),
            file("takeout-20240701T221729Z-003.zip"),
            file("takeout-20240701T221729Z-004.zip.crdownload"),
            file("takeout-20240701T221730Z-005.zip.tmp.drivedownload"),
            // Another export two months later, and another kind the same day.
            file("takeout-20240901T080000Z-001.zip"),
            file("takeout-20240901T080000Z-002.zip.part"),
            file("takeout-20240701T221728Z-001.tgz"),
            file("takeout-20240701T221728Z-002.tgz.download"),
            // Belongs to no set in the inbox.
            file("takeout-20231111T111111Z-001.zip.crdownload"),
        ]);
        let got: Vec<_> = (scan.sets.iter())
            .map(|s| (s.id.as_str(), s.format, s.downloading.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("takeout-20240701T221728Z", Format::TarGz, vec![2]),
                ("takeout-20240701T221728Z", Format::Zip, vec![4, 5]),
                ("takeout-20240901T080000Z", Format::Zip, vec![2]),
            ]
        );
        assert_eq!(
            scan.sets[1].downloading_note().as_deref(),
            Some("parts 4, 5 still downloading")
        );
        assert_eq!(
            scan.sets[2].downloading_note().as_deref(),
            Some("part 2 still downloading")
        );
        // Still listed as left alone, with who is writing them.
        assert_eq!(scan.ignored.len(), 5);
        let whole = classify(&[file("takeout-20240701T221728Z-001.zip")]);
        assert_eq!(whole.sets[0].downloading_note(), None);
    }

    #[test]
    fn a_last_part_as_full_as_the_others_may_not_be_the_last() {
        const G: u64 = 1_000_000_000;
        let two = 2 * G - 3_000_000;
        // Several parts: the last against the largest of the others.
        assert!(last_part_may_continue(&[two, two - 5, two]));
        assert!(last_part_may_continue(&[two, two * 99 / 100 + 1]));
        assert!(!last_part_may_continue(&[two, two * 98 / 100]));
        assert!(!last_part_may_continue(&[two, two, 700_000_000]));
        // Other parts below the smallest split size were not cut by size.
        assert!(!last_part_may_continue(&[60_000, 60_000]));
        assert!(!last_part_may_continue(&[985_000_000, 985_000_000]));
        // Alone: near a split size, decimal or binary.
        for full in [
            G - 5_000_000,
            1 << 30,
            2 * G,
            4 * G - 1,
            10 * G - 20_000_000,
            50 * (1 << 30),
        ] {
            assert!(last_part_may_continue(&[full]), "{full}");
        }
        for not in [0, 900_000_000, (1 << 30) + 1, 3 * G, 49 * G, 60 * G] {
            assert!(!last_part_may_continue(&[not]), "{not}");
        }
        assert!(!last_part_may_continue(&[]));

        let scan = classify(&[
            sized("takeout-20240701T221728Z-001.zip", two),
            sized("takeout-20240701T221728Z-002.zip", two),
        ]);
        let set = &scan.sets[0];
        assert_eq!(set.may_continue_after, Some(2));
        assert_eq!(
            set.may_continue_note().as_deref(),
            Some("part 2 may not be the last (as full as a part cut at the export's size)")
        );
        let settle = Duration::from_secs(600);
        assert_eq!(set.settle_time(settle), 2 * settle);
        // Seen unchanged one settle time apart: a set that may go on waits.
        let fp = Fingerprint {
            size: two,
            modified_ns: 1,
            device: 1,
            inode: 1,
            edges: [0; 32],
        };
        let seen = |secs| Sighting {
            fingerprint: fp.clone(),
            seen_at: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        };
        let once = (Some(&seen(1000)), &seen(1600));
        assert_eq!(
            readiness(once.0, once.1, set.settle_time(settle)),
            Readiness::Settling
        );
        assert_eq!(
            readiness(Some(&seen(1000)), &seen(2200), set.settle_time(settle)),
            Readiness::Ready
        );
        let last = classify(&[
            sized("takeout-20240701T221728Z-001.zip", two),
            sized("takeout-20240701T221728Z-002.zip", G / 3),
        ]);
        assert_eq!(last.sets[0].may_continue_after, None);
        assert_eq!(last.sets[0].settle_time(settle), settle);
        assert_eq!(
            readiness(once.0, once.1, last.sets[0].settle_time(settle)),
            Readiness::Ready
        );
    }

    #[test]
    fn a_listing_that_hangs_is_an_error_naming_the_inbox_within_the_bound() {
        let started = std::time::Instant::now();
        let hung = scan_with(
            Path::new("/Volumes/GoogleDrive/Takeout"),
            Duration::from_millis(200),
            |_| {
                std::thread::sleep(Duration::from_secs(3600));
                Ok(Vec::new())
            },
        )
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(30));
        assert!(matches!(hung, InboxError::ListHung { .. }), "{hung:?}");
        assert_eq!(
            hung.to_string(),
            "the Takeout inbox /Volumes/GoogleDrive/Takeout was not listed within 0.2 s (a \
             cloud folder not available offline, or a disk gone?)"
        );
        let listed = scan_with(Path::new("/x"), Duration::from_secs(60), |_| {
            Ok(vec![file("takeout-20240701T221728Z-001.zip")])
        })
        .unwrap();
        assert_eq!(listed.sets.len(), 1);
    }

    #[test]
    fn a_part_downloaded_again_holds_its_set_too() {
        let scan = classify(&[
            file("takeout-20240701T221728Z-001.zip"),
            file("takeout-20240701T221728Z-002.zip"),
            file("takeout-20240701T221728Z-002 (1).zip.crdownload"),
        ]);
        assert_eq!(scan.sets[0].downloading, [2]);
        assert_eq!(
            first_download_name("takeout-20240701T221728Z-002 (12).tar.gz").as_deref(),
            Some("takeout-20240701T221728Z-002.tar.gz")
        );
        assert_eq!(
            first_download_name("takeout-20240701T221728Z-002.zip"),
            None
        );
        assert_eq!(first_download_name("IMG (x).zip"), None);
    }

    #[test]
    fn a_part_is_ready_only_when_seen_unchanged_for_the_settle_time() {
        let fp = Fingerprint {
            size: 100,
            modified_ns: 1,
            device: 1,
            inode: 2,
            edges: [7; 32],
        };
        let at = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        let seen = |fingerprint: &Fingerprint, secs| Sighting {
            fingerprint: fingerprint.clone(),
            seen_at: at(secs),
        };
        let settle = Duration::from_secs(300);
        assert_eq!(
            readiness(None, &seen(&fp, 1000), settle),
            Readiness::Settling
        );
        assert_eq!(
            readiness(Some(&seen(&fp, 1000)), &seen(&fp, 1299), settle),
            Readiness::Settling
        );
        assert_eq!(
            readiness(Some(&seen(&fp, 1000)), &seen(&fp, 1300), settle),
            Readiness::Ready
        );
        for changed in [
            Fingerprint {
                size: 101,
                ..fp.clone()
            },
            Fingerprint {
                modified_ns: 2,
                ..fp.clone()
            },
            Fingerprint {
                inode: 3,
                ..fp.clone()
            },
            Fingerprint {
                edges: [8; 32],
                ..fp.clone()
            },
        ] {
            assert_eq!(
                readiness(Some(&seen(&fp, 1000)), &seen(&changed, 5000), settle),
                Readiness::Settling
            );
        }
    }
}
