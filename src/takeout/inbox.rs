//! What a Takeout inbox folder holds: which files are Takeout parts and how
//! they group into sets, which folders are an already extracted Takeout,
//! and what is left alone and why (a download still under way, a hidden
//! file, anything else). The decision is pure, over a listing
//! (`classify`); `scan` lists the folder without following links and
//! `fingerprint` reads what tells a part that changed from one that did
//! not. Nothing in the inbox is ever written, renamed or deleted.
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
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::archive::Format;
use crate::printable::printable;
use crate::private_fs;

/// Largest gap between the times in the names of two parts of one set.
pub const MAX_PART_GAP: Duration = Duration::from_secs(3600);

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
    /// A folder; `holds_takeout`: it has a `Takeout` folder inside.
    Dir {
        holds_takeout: bool,
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
    /// name of the first part without its number.
    pub id: String,
    pub format: Format,
    /// By number.
    pub parts: Vec<Part>,
    /// Numbers below the highest present that are not in the inbox (parts
    /// after the highest cannot be known from names alone).
    pub missing: Vec<u32>,
}

/// An already extracted Takeout: `root` holds the `Takeout` folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Relative to the inbox; empty when `Takeout/` is directly in it.
    pub root: PathBuf,
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
    pub extracted: Vec<Extracted>,
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
    let stem = name.split('.').next().unwrap_or(name);
    stem.ends_with(')')
        && stem
            .rsplit_once(" (")
            .is_some_and(|(_, n)| n.strip_suffix(')').and_then(digits).is_some())
}

/// Sorts a listing into sets, extracted folders and what is left alone.
#[must_use]
pub fn classify(entries: &[Entry]) -> Scan {
    let mut scan = Scan::default();
    let mut parts: Vec<(PartName, Part)> = Vec::new();
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
        if let Some((_, by)) = PARTIAL_SUFFIXES.iter().find(|(s, _)| lower.ends_with(s)) {
            scan.ignored.push(ignore(Ignore::PartialDownload(by)));
            continue;
        }
        if name.starts_with('.') {
            scan.ignored.push(ignore(Ignore::Hidden));
            continue;
        }
        match &entry.kind {
            EntryKind::Link => scan.ignored.push(ignore(Ignore::Link)),
            EntryKind::Dir { .. } if name == "Takeout" => scan.extracted.push(Extracted {
                root: PathBuf::new(),
            }),
            // What an archive tool makes of `takeout-...-001.zip`.
            EntryKind::Dir {
                holds_takeout: true,
            } if lower.starts_with("takeout-") => scan.extracted.push(Extracted {
                root: PathBuf::from(name),
            }),
            EntryKind::Dir { .. } | EntryKind::Other => {
                scan.ignored.push(ignore(Ignore::NotTakeout));
            }
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
    scan.sets = group(parts);
    scan.extracted.sort_by(|a, b| a.root.cmp(&b.root));
    scan
}

/// Groups parts into sets: per kind, in order of time and number, a part
/// joins the set before it when it follows within `MAX_PART_GAP` with a
/// higher number.
fn group(mut parts: Vec<(PartName, Part)>) -> Vec<TakeoutSet> {
    let kind = |p: &PartName| (p.variant, p.format == Format::Zip);
    parts.sort_by(|(a, _), (b, _)| {
        kind(a)
            .cmp(&kind(b))
            .then(a.time.cmp(&b.time))
            .then(a.number.cmp(&b.number))
    });
    let mut sets: Vec<TakeoutSet> = Vec::new();
    let mut previous: Option<PartName> = None;
    for (parsed, part) in parts {
        let joins = previous.as_ref().is_some_and(|p| {
            kind(p) == kind(&parsed)
                && parsed.time - p.time <= MAX_PART_GAP.as_secs() as i64
                && parsed.number > p.number
        });
        if !joins {
            sets.push(TakeoutSet {
                id: parsed.stem.clone(),
                format: parsed.format,
                parts: Vec::new(),
                missing: Vec::new(),
            });
        }
        let set = sets.last_mut().expect("a set was just pushed");
        set.parts.push(part);
        previous = Some(parsed);
    }
    for set in &mut sets {
        let present: Vec<u32> = set.parts.iter().map(|p| p.number).collect();
        let highest = present.iter().copied().max().unwrap_or(0);
        set.missing = (1..highest).filter(|n| !present.contains(n)).collect();
    }
    sets.sort_by(|a, b| a.id.cmp(&b.id));
    sets
}

/// An inbox or a part that could not be looked at.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("cannot list the Takeout inbox {}", inbox.display())]
    List {
        inbox: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the Takeout part {}", part.display())]
    Part {
        part: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Lists `inbox` (one level, links not followed) and classifies it.
pub fn scan(inbox: &Path) -> Result<Scan, InboxError> {
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
                holds_takeout: inner.is_ok_and(|m| m.is_dir()),
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
    Ok(classify(&entries))
}

/// What tells one state of a part's file from another: a part rewritten,
/// replaced, grown or still being written differs in at least one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub modified_ns: i128,
    /// Device and inode: a file replaced under the same name.
    pub device: u64,
    pub inode: u64,
    /// BLAKE3 of the first and last `EDGE` bytes: a zip's or gzip's end
    /// (central directory, trailer) changes when the file is rewritten even
    /// with the same size and time.
    pub edges: [u8; 32],
}

/// Bytes read at each end of a part for its fingerprint.
pub const EDGE: u64 = 64 * 1024;

/// The fingerprint of the part at `path` (read-only, no link followed).
pub fn fingerprint(path: &Path) -> Result<Fingerprint, InboxError> {
    fingerprint_of(path).map_err(|source| InboxError::Part {
        part: path.to_owned(),
        source,
    })
}

fn fingerprint_of(path: &Path) -> io::Result<Fingerprint> {
    let (mut file, meta) = private_fs::open_source(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; EDGE as usize];
    let head = read_up_to(&mut file, &mut buf)?;
    hasher.update(&buf[..head]);
    if meta.len() > EDGE {
        file.seek(SeekFrom::Start(meta.len().saturating_sub(EDGE).max(EDGE)))?;
        let tail = read_up_to(&mut file, &mut buf)?;
        hasher.update(&buf[..tail]);
    }
    let modified = meta.modified()?;
    let modified_ns = match modified.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    Ok(Fingerprint {
        size: meta.len(),
        modified_ns,
        device: meta.dev(),
        inode: meta.ino(),
        edges: *hasher.finalize().as_bytes(),
    })
}

fn read_up_to(file: &mut fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
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
            Entry {
                name: "takeout-20240701T221728Z-003.zip.download".into(),
                kind: EntryKind::Dir {
                    holds_takeout: false,
                },
            },
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

    #[test]
    fn extracted_takeout_folders_are_found() {
        let dir = |name: &str, holds_takeout| Entry {
            name: name.into(),
            kind: EntryKind::Dir { holds_takeout },
        };
        let scan = classify(&[
            dir("Takeout", true),
            dir("takeout-20240701T221728Z-001", true),
            dir("takeout-20240701T221728Z-002", false),
            dir("Holiday", true),
        ]);
        assert_eq!(
            scan.extracted,
            [
                Extracted {
                    root: PathBuf::new()
                },
                Extracted {
                    root: "takeout-20240701T221728Z-001".into()
                }
            ]
        );
        assert_eq!(scan.ignored.len(), 2);
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
