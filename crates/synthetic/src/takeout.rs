//! Synthetic Google Takeout sets (issue 19): what Google writes when a
//! Google Photos library is exported, as `N` zip or tgz parts of a chosen
//! size, with every naming quirk converter projects have catalogued, and a
//! `Manifest` of what was written so a test can check a reader exactly.
//!
//! What the parts hold, as Google lays them out:
//! `Takeout/Google Photos/Photos from YYYY/NAME` for every photo and
//! `Takeout/Google Photos/<album>/NAME` again for those in an album (the
//! same bytes twice), each with a JSON sidecar (`title`, `description`,
//! `creationTime`, `photoTakenTime`, `geoData`, `geoDataExif`, `people`,
//! `favorited`, `url`), an album `metadata.json`, and
//! `Takeout/archive_browser.html` in the first part. The naming rules
//! followed (sources: ente-io/ente#4956, andyjohnson0/TakeoutExtractor#23,
//! TheLastGimbus/GooglePhotosTakeoutHelper #8, #353 and #449,
//! `Xentraxx/GooglePhotosTakeoutHelper_Neo#29`, pulsejet/memories#1559):
//!
//! - a sidecar is `NAME` + `.supplemental-metadata` (newer exports) or
//!   nothing (older ones), cut to 46 characters, then the duplicate counter
//!   `(N)` if any, then `.json`: `IMG(1).jpg` gets `IMG.jpg(1).json` or
//!   `IMG.jpg.supplemental-metadata(1).json`, and a long name gets
//!   `.supplemental-meta.json`, `.supple.json`, `.s.json` or a cut `NAME`;
//! - a media name's stem longer than 47 characters is cut to 47, its
//!   extension kept (the JSON `title` keeps the whole name);
//! - an edited copy is `STEM-edited.EXT`, localized (`-bearbeitet`,
//!   `-modifié`, `-editado`), with no sidecar of its own;
//! - a motion photo is `STEM.MP.jpg` beside `STEM.MP4`, a Live Photo
//!   `STEM.HEIC` beside `STEM.MOV`; only the still has a sidecar;
//! - the parts hold members in order and are cut by size, so a media file
//!   and its sidecar can land in different parts (and are moved apart on
//!   purpose for some pairs).
//!
//! Media bytes start with their format's magic (JPEG SOI and JFIF, PNG
//! signature, an ISO-BMFF `ftyp` box, HEIC `ftypheic`) followed by a
//! pattern seeded per photo, like the synthetic library's files:
//! enough for a sniffer, not decodable images.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Timelike};

use crate::files::fnv1a;
use crate::random::SplitMix64;

/// How the parts are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    Zip,
    Tgz,
}

/// What to write. `TakeoutSpec::new` turns every quirk on.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // one knob per quirk
pub struct TakeoutSpec {
    pub seed: u64,
    /// Photos taken (each one media file plus its sidecar; quirks add more).
    pub photos: usize,
    /// Bytes of each media file (videos get four times as many).
    pub media_bytes: u64,
    pub format: ArchiveFormat,
    /// A new part is begun once a part holds this many bytes of members.
    pub part_bytes: u64,
    /// The export time in the part names (`20240701T221728Z`).
    pub stamp: String,
    /// Sidecars named `.supplemental-metadata.json` (newer exports).
    pub supplemental: bool,
    pub long_names: bool,
    pub counters: bool,
    pub edited: bool,
    pub motion: bool,
    pub albums: bool,
    /// Some sidecars moved to the part after their media's.
    pub split_pairs: bool,
    /// Write zip members as zip64 whatever their size.
    pub force_zip64: bool,
    /// Cut this part (0-based) to this fraction of its length, as an
    /// interrupted download leaves it.
    pub truncate: Option<(usize, f64)>,
}

impl TakeoutSpec {
    #[must_use]
    pub fn new(seed: u64, photos: usize) -> Self {
        Self {
            seed,
            photos,
            media_bytes: 4096,
            format: ArchiveFormat::Zip,
            part_bytes: u64::MAX,
            stamp: "20240701T221728Z".into(),
            supplemental: true,
            long_names: true,
            counters: true,
            edited: true,
            motion: true,
            albums: true,
            split_pairs: true,
            force_zip64: false,
            truncate: None,
        }
    }

    /// Writes the parts into `dir` (which must exist).
    pub fn write(&self, dir: &Path) -> io::Result<Manifest> {
        let plan = plan(self);
        write_parts(self, &plan, dir)
    }

    /// Writes the same set as `write`, already extracted: each part as the
    /// folder an archive tool makes of it (`takeout-STAMP-001/Takeout/...`,
    /// each file with its member's time), in `dir` (which must exist). The
    /// manifest's part paths are those folders; `format`, `force_zip64`
    /// and `truncate` do not apply.
    pub fn write_extracted(&self, dir: &Path) -> io::Result<Manifest> {
        let plan = plan(self);
        let (part_of, moved) = assign_parts(self, &plan);
        let parts = part_of.iter().max().map_or(1, |p| p + 1);
        let mut members: Vec<Option<ManifestMember>> = vec![None; plan.len()];
        let mut written = Vec::new();
        for part in 0..parts {
            let root = dir.join(format!("takeout-{}-{:03}", self.stamp, part + 1));
            let mut order: Vec<usize> = (0..plan.len()).filter(|&i| part_of[i] == part).collect();
            order.sort_by_key(|&i| (!moved[i], i));
            let mut bytes = 0;
            for &i in &order {
                let p = &plan[i];
                let path = root.join(&p.path);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let mut reader = Hashing {
                    inner: body_reader(&p.body),
                    hasher: blake3::Hasher::new(),
                    count: 0,
                };
                let mut file = File::create(&path)?;
                io::copy(&mut reader, &mut file)?;
                let when = u64::try_from(p.modified).unwrap_or(0);
                file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(when))?;
                bytes += reader.count;
                members[i] = Some(record(p, part, reader.count, &reader.hasher));
            }
            written.push(WrittenPart {
                path: root,
                bytes,
                truncated: false,
                members: order,
            });
        }
        let members = members.into_iter().collect::<Option<Vec<_>>>();
        Ok(Manifest {
            parts: written,
            members: members.ok_or_else(|| io::Error::other("a member in no part"))?,
        })
    }
}

/// What a member is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A photo or video; `json` is the index of its sidecar member, `None`
    /// for an edited copy or the video of a motion or Live Photo.
    Media {
        json: Option<usize>,
        /// The member this is an edited copy or the moving part of.
        companion_of: Option<usize>,
        expected: Box<Expected>,
    },
    Sidecar,
    AlbumMetadata {
        album: String,
    },
    Other,
}

/// The metadata a sidecar states for its media, as a reader should read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// The whole original name (`title` in the JSON).
    pub title: String,
    pub description: String,
    /// `photoTakenTime`, seconds since the epoch.
    pub taken: i64,
    /// `creationTime` (upload), seconds since the epoch.
    pub created: i64,
    /// `geoData`, or `geoDataExif` when `geoData` is `0,0`; `None` when both are.
    pub location: Option<(f64, f64)>,
    pub people: Vec<String>,
    pub favorite: bool,
    /// The album folder it is in, if not a year folder.
    pub album: Option<String>,
}

impl Eq for Expected {}

/// One member written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestMember {
    /// `Takeout/Google Photos/...`.
    pub path: String,
    /// Index into `Manifest::parts`.
    pub part: usize,
    pub size: u64,
    pub blake3: [u8; 32],
    pub role: Role,
}

/// One part written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenPart {
    pub path: PathBuf,
    /// Length on disk (after a cut, the cut length).
    pub bytes: u64,
    /// Cut short (`TakeoutSpec::truncate`).
    pub truncated: bool,
    /// Indices into `Manifest::members`, in archive order.
    pub members: Vec<usize>,
}

/// What was written: every member, in plan order (see `WrittenPart::members`
/// for each part's archive order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub parts: Vec<WrittenPart>,
    pub members: Vec<ManifestMember>,
}

impl Manifest {
    /// The members of part `index`, in archive order.
    pub fn members_of(&self, index: usize) -> impl Iterator<Item = &ManifestMember> {
        self.parts[index].members.iter().map(|&i| &self.members[i])
    }

    /// Total bytes of members.
    #[must_use]
    pub fn member_bytes(&self) -> u64 {
        self.members.iter().map(|m| m.size).sum()
    }
}

/// A member planned: its path, role and contents.
struct Planned {
    path: String,
    role: Role,
    body: Body,
    modified: i64,
}

enum Body {
    /// Magic then `len` bytes in all, pattern from `seed` (the same for a
    /// photo's copy in an album folder).
    Media {
        magic: &'static [u8],
        len: u64,
        seed: u64,
    },
    Text(Vec<u8>),
}

const EDIT_SUFFIXES: [&str; 4] = ["-edited", "-bearbeitet", "-modifié", "-editado"];
const ALBUMS: [&str; 3] = [
    "Holiday 2019",
    "Garden",
    "Oma & Opa – 80. Geburtstag in Knaufspesch (Sommerfest)",
];
const PEOPLE: [&str; 4] = ["Carla", "Jonas", "Émile", "Grandma Rose"];
const DEFAULT_TAKEN: i64 = 1_420_070_400; // 2015-01-01

fn magic_for(ext: &str) -> &'static [u8] {
    match ext.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
        "png" => b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",
        "heic" => b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
        "mov" => b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",
        _ => b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
    }
}

/// `first n characters` (not bytes: names may be any script).
fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// A media name as Google writes it: the stem cut to 47 characters, the
/// extension kept (andyjohnson0/TakeoutExtractor#23).
#[must_use]
pub fn media_file_name(title: &str) -> String {
    match title.rsplit_once('.') {
        Some((stem, ext)) => format!("{}.{ext}", cut(stem, 47)),
        None => cut(title, 47),
    }
}

/// A sidecar's name for a media file named `name` (as in the folder, before
/// any counter) with duplicate counter `counter`.
#[must_use]
pub fn sidecar_name(name: &str, counter: Option<u32>, supplemental: bool) -> String {
    let suffix = if supplemental {
        ".supplemental-metadata"
    } else {
        ""
    };
    let base = cut(&format!("{name}{suffix}"), 46);
    match counter {
        Some(n) => format!("{base}({n}).json"),
        None => format!("{base}.json"),
    }
}

/// `STEM(N).EXT`: the counter Google adds to a second file of one name in a folder.
fn with_counter(name: &str, counter: Option<u32>) -> String {
    match (counter, name.rsplit_once('.')) {
        (Some(n), Some((stem, ext))) => format!("{stem}({n}).{ext}"),
        (Some(n), None) => format!("{name}({n})"),
        (None, _) => name.to_owned(),
    }
}

fn formatted(t: i64) -> String {
    DateTime::from_timestamp(t, 0).map_or_else(String::new, |d| {
        d.format("%b %-d, %Y, %-I:%M:%S\u{202f}%p UTC").to_string()
    })
}

fn sidecar_json(e: &Expected, geo: (f64, f64), geo_exif: (f64, f64), url_id: u64) -> Vec<u8> {
    let place = |(lat, lon): (f64, f64)| {
        serde_json::json!({"latitude": lat, "longitude": lon, "altitude": 0.0,
            "latitudeSpan": 0.0, "longitudeSpan": 0.0})
    };
    let mut v = serde_json::json!({
        "title": e.title,
        "description": e.description,
        "imageViews": "3",
        "creationTime": {"timestamp": e.created.to_string(), "formatted": formatted(e.created)},
        "photoTakenTime": {"timestamp": e.taken.to_string(), "formatted": formatted(e.taken)},
        "geoData": place(geo),
        "geoDataExif": place(geo_exif),
        "url": format!("https://photos.google.com/photo/AF1Qip{url_id:016x}"),
        "googlePhotosOrigin": {"mobileUpload": {"deviceType": "ANDROID_PHONE"}},
    });
    if !e.people.is_empty() {
        v["people"] = e
            .people
            .iter()
            .map(|p| serde_json::json!({"name": p}))
            .collect();
    }
    if e.favorite {
        v["favorited"] = true.into();
    }
    serde_json::to_vec_pretty(&v).expect("JSON of plain values")
}

/// Every member, in the order Google would write them.
#[allow(clippy::too_many_lines)] // one pass over the quirks, in order
fn plan(spec: &TakeoutSpec) -> Vec<Planned> {
    let mut rng = SplitMix64::new(spec.seed);
    let mut out = vec![Planned {
        path: "Takeout/archive_browser.html".into(),
        role: Role::Other,
        body: Body::Text(b"<!DOCTYPE html><html><body>Takeout</body></html>\n".to_vec()),
        modified: DEFAULT_TAKEN,
    }];
    let mut albums_written: Vec<String> = Vec::new();
    let mut last_title_in_year: Option<(i32, String)> = None;
    for i in 0..spec.photos {
        let taken = DEFAULT_TAKEN + (i as i64) * 86_400 * 37 + rng.below(86_400) as i64;
        let year = DateTime::from_timestamp(taken, 0).map_or(2015, |d| d.year());
        let case = i % 12;
        let video = case == 9;
        let (mut title, companion) = match case {
            1 if spec.long_names => (
                format!("Screenshot_{year}0207_102421_com.snapchat.android.{i:05}.jpg"),
                None,
            ),
            4 if spec.motion => (format!("PXL_{year}0101_1200{i:05}.MP.jpg"), Some("MP4")),
            7 if spec.motion => (format!("IMG_{i:04}.HEIC"), Some("MOV")),
            9 => (format!("VID_{year}0312_{i:06}.mp4"), None),
            10 => (format!("Scan_{i:04}.png"), None),
            _ => (format!("IMG_{i:04}.jpg"), None),
        };
        // A second photo of the same name in one folder gets a counter.
        let mut counter = None;
        if spec.counters && case == 2 {
            if let Some((y, previous)) = &last_title_in_year {
                if *y == year {
                    title.clone_from(previous);
                    counter = Some(1);
                }
            }
        }
        if case == 0 {
            last_title_in_year = Some((year, title.clone()));
        }
        let geo = match i % 3 {
            0 => (0.0, 0.0),
            _ => (rng.unit() * 140.0 - 70.0, rng.unit() * 340.0 - 170.0),
        };
        let (geo, geo_exif) = match i % 3 {
            2 => ((0.0, 0.0), geo),
            _ => (geo, geo),
        };
        let album = (spec.albums && i % 5 == 0).then(|| ALBUMS[(i / 5) % ALBUMS.len()].to_owned());
        let expected = Expected {
            title: title.clone(),
            description: if i % 4 == 0 {
                format!("Photo number {i} 🌻")
            } else {
                String::new()
            },
            taken,
            created: taken + 3600,
            location: (geo_exif != (0.0, 0.0)).then_some(geo_exif),
            people: (0..i % 3)
                .map(|k| PEOPLE[(i + k) % PEOPLE.len()].to_owned())
                .collect(),
            favorite: i % 6 == 0,
            album: None,
        };
        let media_len = if video {
            spec.media_bytes * 4
        } else {
            spec.media_bytes
        };
        let folders: Vec<(String, Option<String>)> =
            std::iter::once((format!("Photos from {year}"), None))
                .chain(album.iter().map(|a| (a.clone(), Some(a.clone()))))
                .collect();
        for (folder, album) in folders {
            let dir = format!("Takeout/Google Photos/{folder}");
            if let Some(a) = &album {
                if !albums_written.contains(a) {
                    albums_written.push(a.clone());
                    let meta = serde_json::json!({"title": a, "description": "", "access": "",
                        "date": {"timestamp": taken.to_string(), "formatted": formatted(taken)}});
                    out.push(Planned {
                        path: format!("{dir}/metadata.json"),
                        role: Role::AlbumMetadata { album: a.clone() },
                        body: Body::Text(serde_json::to_vec_pretty(&meta).expect("JSON")),
                        modified: taken,
                    });
                }
            }
            let name = media_file_name(&title);
            let ext = name.rsplit_once('.').map_or("", |(_, e)| e).to_owned();
            let media_index = out.len();
            let expected = Expected {
                album: album.clone(),
                ..expected.clone()
            };
            out.push(Planned {
                path: format!("{dir}/{}", with_counter(&name, counter)),
                role: Role::Media {
                    json: Some(media_index + 1),
                    companion_of: None,
                    expected: Box::new(expected.clone()),
                },
                body: Body::Media {
                    magic: magic_for(&ext),
                    len: media_len,
                    seed: fnv1a(format!("{} {i} original", spec.seed).as_bytes()),
                },
                modified: taken,
            });
            out.push(Planned {
                path: format!("{dir}/{}", sidecar_name(&name, counter, spec.supplemental)),
                role: Role::Sidecar,
                body: Body::Text(sidecar_json(&expected, geo, geo_exif, spec.seed ^ i as u64)),
                modified: taken + 3600,
            });
            let stem = name.strip_suffix(&format!(".{ext}")).unwrap_or(&name);
            if let Some(moving) = companion {
                let stem = stem.strip_suffix(".MP").unwrap_or(stem);
                out.push(Planned {
                    path: format!("{dir}/{stem}.{moving}"),
                    role: Role::Media {
                        json: None,
                        companion_of: Some(media_index),
                        expected: Box::new(expected.clone()),
                    },
                    body: Body::Media {
                        magic: magic_for(moving),
                        len: media_len * 2,
                        seed: fnv1a(format!("{} {i} motion", spec.seed).as_bytes()),
                    },
                    modified: taken,
                });
            }
            if spec.edited && case == 3 {
                let suffix = EDIT_SUFFIXES[(i / 12) % EDIT_SUFFIXES.len()];
                out.push(Planned {
                    path: format!(
                        "{dir}/{}",
                        with_counter(&format!("{stem}{suffix}.{ext}"), counter)
                    ),
                    role: Role::Media {
                        json: None,
                        companion_of: Some(media_index),
                        expected: Box::new(expected.clone()),
                    },
                    body: Body::Media {
                        magic: magic_for(&ext),
                        len: media_len + 17,
                        seed: fnv1a(format!("{} {i} edited", spec.seed).as_bytes()),
                    },
                    modified: taken + 7200,
                });
            }
        }
    }
    out
}

/// Media bytes: the magic, then a seeded pattern.
struct MediaReader {
    magic: &'static [u8],
    pos: u64,
    len: u64,
    rng: SplitMix64,
    word: [u8; 8],
    in_word: usize,
}

impl MediaReader {
    fn new(seed: u64, magic: &'static [u8], len: u64) -> Self {
        Self {
            magic,
            pos: 0,
            len,
            rng: SplitMix64::new(seed),
            word: [0; 8],
            in_word: 8,
        }
    }
}

impl Read for MediaReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min((self.len - self.pos) as usize);
        let mut n = 0;
        while n < want {
            let at = self.pos as usize;
            let take = if at < self.magic.len() {
                let take = (self.magic.len() - at).min(want - n);
                buf[n..n + take].copy_from_slice(&self.magic[at..at + take]);
                take
            } else if self.in_word == 8 && want - n >= 8 {
                buf[n..n + 8].copy_from_slice(&self.rng.next_u64().to_le_bytes());
                8
            } else {
                if self.in_word == 8 {
                    self.word = self.rng.next_u64().to_le_bytes();
                    self.in_word = 0;
                }
                let take = (8 - self.in_word).min(want - n);
                buf[n..n + take].copy_from_slice(&self.word[self.in_word..self.in_word + take]);
                self.in_word += take;
                take
            };
            n += take;
            self.pos += take as u64;
        }
        Ok(n)
    }
}

/// Reads everything into `out`, hashing it on the way.
struct Hashing<R> {
    inner: R,
    hasher: blake3::Hasher,
    count: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

fn body_reader(body: &Body) -> Box<dyn Read + '_> {
    match body {
        Body::Media { magic, len, seed } => Box::new(MediaReader::new(*seed, magic, *len)),
        Body::Text(bytes) => Box::new(&bytes[..]),
    }
}

fn body_len(body: &Body) -> u64 {
    match body {
        Body::Media { len, .. } => *len,
        Body::Text(b) => b.len() as u64,
    }
}

/// Which part each member goes in, and whether it was moved one part on
/// (for `write_parts` and `write_extracted` alike).
fn assign_parts(spec: &TakeoutSpec, plan: &[Planned]) -> (Vec<usize>, Vec<bool>) {
    let mut part_of = Vec::with_capacity(plan.len());
    let (mut part, mut filled) = (0usize, 0u64);
    for p in plan {
        if filled > 0 && filled + body_len(&p.body) > spec.part_bytes {
            part += 1;
            filled = 0;
        }
        filled += body_len(&p.body);
        part_of.push(part);
    }
    let parts = part + 1;
    let mut moved = vec![false; plan.len()];
    if spec.split_pairs && parts > 1 {
        for (i, p) in plan.iter().enumerate() {
            if let Role::Media { json: Some(j), .. } = p.role {
                if i % 7 == 1 && part_of[i] + 1 < parts && part_of[j] == part_of[i] {
                    part_of[j] = part_of[i] + 1;
                    moved[j] = true;
                }
            }
        }
    }
    (part_of, moved)
}

/// Assigns members to parts by size, moves some sidecars one part on, and
/// writes each part.
fn write_parts(spec: &TakeoutSpec, plan: &[Planned], dir: &Path) -> io::Result<Manifest> {
    let (part_of, moved) = assign_parts(spec, plan);
    let parts = part_of.iter().max().map_or(1, |p| p + 1);
    let mut members: Vec<Option<ManifestMember>> = vec![None; plan.len()];
    let mut written = Vec::new();
    for part in 0..parts {
        let ext = match spec.format {
            ArchiveFormat::Zip => "zip",
            ArchiveFormat::Tgz => "tgz",
        };
        let path = dir.join(format!("takeout-{}-{:03}.{ext}", spec.stamp, part + 1));
        // Sidecars moved here come first, as if written late by the other part.
        let mut order: Vec<usize> = (0..plan.len()).filter(|&i| part_of[i] == part).collect();
        order.sort_by_key(|&i| (!moved[i], i));
        let file = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        match spec.format {
            ArchiveFormat::Zip => write_zip(spec, file, plan, &order, part, &mut members)?,
            ArchiveFormat::Tgz => write_tgz(file, plan, &order, part, &mut members)?,
        }
        let mut bytes = std::fs::metadata(&path)?.len();
        let truncated = spec.truncate.is_some_and(|(p, _)| p == part);
        if let Some((_, fraction)) = spec.truncate.filter(|_| truncated) {
            bytes = (bytes as f64 * fraction) as u64;
            File::options().write(true).open(&path)?.set_len(bytes)?;
        }
        written.push(WrittenPart {
            path,
            bytes,
            truncated,
            members: order,
        });
    }
    Ok(Manifest {
        parts: written,
        members: members
            .into_iter()
            .map(|m| m.expect("every member written"))
            .collect(),
    })
}

fn record(plan: &Planned, part: usize, count: u64, hasher: &blake3::Hasher) -> ManifestMember {
    ManifestMember {
        path: plan.path.clone(),
        part,
        size: count,
        blake3: *hasher.finalize().as_bytes(),
        role: plan.role.clone(),
    }
}

fn write_zip(
    spec: &TakeoutSpec,
    file: BufWriter<File>,
    plan: &[Planned],
    order: &[usize],
    part: usize,
    members: &mut [Option<ManifestMember>],
) -> io::Result<()> {
    let mut zip = zip::ZipWriter::new(file);
    for &i in order {
        let p = &plan[i];
        let len = body_len(&p.body);
        // Level 1: media do not compress at any level, and a 2 GB part
        // for a benchmark is written in seconds, not minutes.
        let mut options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1))
            .large_file(spec.force_zip64 || len >= u64::from(u32::MAX))
            .unix_permissions(0o644);
        if let Some(t) = dos_time(p.modified) {
            options = options.last_modified_time(t);
        }
        zip.start_file(p.path.as_str(), options)?;
        let mut reader = Hashing {
            inner: body_reader(&p.body),
            hasher: blake3::Hasher::new(),
            count: 0,
        };
        io::copy(&mut reader, &mut zip)?;
        members[i] = Some(record(p, part, reader.count, &reader.hasher));
    }
    zip.finish()?.flush()
}

pub(crate) fn dos_time(t: i64) -> Option<zip::DateTime> {
    let d = DateTime::from_timestamp(t, 0)?.naive_utc();
    zip::DateTime::from_date_and_time(
        u16::try_from(d.year()).ok()?,
        d.month() as u8,
        d.day() as u8,
        d.hour() as u8,
        d.minute() as u8,
        d.second() as u8,
    )
    .ok()
}

fn write_tgz(
    file: BufWriter<File>,
    plan: &[Planned],
    order: &[usize],
    part: usize,
    members: &mut [Option<ManifestMember>],
) -> io::Result<()> {
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for &i in order {
        let p = &plan[i];
        let mut header = tar::Header::new_gnu();
        header.set_size(body_len(&p.body));
        header.set_mode(0o644);
        header.set_mtime(u64::try_from(p.modified).unwrap_or(0));
        header.set_entry_type(tar::EntryType::Regular);
        let mut reader = Hashing {
            inner: body_reader(&p.body),
            hasher: blake3::Hasher::new(),
            count: 0,
        };
        tar.append_data(&mut header, &p.path, &mut reader)?;
        members[i] = Some(record(p, part, reader.count, &reader.hasher));
    }
    tar.into_inner()?.finish()?.flush()
}

/// How one scheduled export of a library differs from the library a
/// [`TakeoutSpec`] describes, as a library changes between two exports
/// (photos are named by their index, `0..spec.photos`). Everything not
/// named stays as the spec writes it, byte for byte.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportChanges {
    /// Photos deleted in Google: left out with their sidecars and companions.
    pub deleted: Vec<usize>,
    /// Photos edited in Google since: each gets an edited copy
    /// (`STEM-edited.EXT`, new bytes, no sidecar) beside it in every folder.
    pub edited_later: Vec<usize>,
    /// Photos moved into another album: (photo, the album's title). The
    /// photo must be in an album, and the other album must exist.
    pub moved: Vec<(usize, String)>,
    /// Seconds added to every member's time in the archive: a later
    /// export's own file times.
    pub time_shift: i64,
}

impl TakeoutSpec {
    /// Writes the parts of an export of the library as `changes` left it
    /// into `dir` (which must exist). A change naming a photo that cannot
    /// take it is an `InvalidInput` error.
    pub fn write_export(&self, dir: &Path, changes: &ExportChanges) -> io::Result<Manifest> {
        let plan = changed(self, plan(self), changes)?;
        write_parts(self, &plan, dir)
    }
}

/// The members of a photo's original (in each of its folders): the body seed
/// that `plan` gives photo `i`.
fn original_seed(spec: &TakeoutSpec, i: usize) -> u64 {
    fnv1a(format!("{} {i} original", spec.seed).as_bytes())
}

/// `plan` with `changes` applied; the member indices in roles renumbered.
fn changed(
    spec: &TakeoutSpec,
    mut plan: Vec<Planned>,
    changes: &ExportChanges,
) -> io::Result<Vec<Planned>> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
    let by_seed: HashMap<u64, usize> = (0..spec.photos)
        .map(|i| (original_seed(spec, i), i))
        .collect();
    // The photo each member belongs to: an original by its seed, a
    // companion and a sidecar by their original.
    let mut photo: Vec<Option<usize>> = plan
        .iter()
        .map(|p| match p.body {
            Body::Media { seed, .. } => by_seed.get(&seed).copied(),
            Body::Text(_) => None,
        })
        .collect();
    let originals = photo.clone();
    for (m, p) in plan.iter().enumerate() {
        if let Role::Media {
            json, companion_of, ..
        } = &p.role
        {
            if let (Some(i), Some(j)) = (originals[m], json) {
                photo[*j] = Some(i);
            }
            if let Some(c) = companion_of {
                photo[m] = photo[m].or(originals[*c]);
            }
        }
    }
    for &i in changes.deleted.iter().chain(&changes.edited_later) {
        if !originals.contains(&Some(i)) {
            return Err(invalid(format!("photo {i} is not in the library")));
        }
    }
    for (i, album) in &changes.moved {
        move_to_album(&mut plan, &photo, *i, album).map_err(invalid)?;
    }
    let mut out: Vec<Planned> = Vec::with_capacity(plan.len());
    let mut new_index = vec![None; plan.len()];
    // Edited copies to add: (index in `out`, original's index in `plan`).
    let mut added = Vec::new();
    for (m, mut p) in plan.into_iter().enumerate() {
        if photo[m].is_some_and(|i| changes.deleted.contains(&i)) {
            continue;
        }
        p.modified += changes.time_shift;
        new_index[m] = Some(out.len());
        out.push(p);
        if let Some(i) = originals[m].filter(|i| changes.edited_later.contains(i)) {
            let copy = edited_later(spec, &out[out.len() - 1], i);
            added.push(out.len());
            out.push(copy);
        }
    }
    for (n, p) in out.iter_mut().enumerate() {
        if let Role::Media {
            json, companion_of, ..
        } = &mut p.role
        {
            *json = json.and_then(|j| new_index[j]);
            *companion_of = if added.contains(&n) {
                Some(n - 1)
            } else {
                companion_of.and_then(|c| new_index[c])
            };
        }
    }
    let mut paths: Vec<&str> = out.iter().map(|p| p.path.as_str()).collect();
    paths.sort_unstable();
    if let Some(same) = paths.windows(2).find(|w| w[0] == w[1]).map(|w| w[0]) {
        return Err(invalid(format!("two members would be {same}")));
    }
    Ok(out)
}

/// Moves the album copy of photo `i` (its original and sidecar; `photo`
/// says which member is whose) into the folder of `album`.
fn move_to_album(
    plan: &mut [Planned],
    photo: &[Option<usize>],
    i: usize,
    album: &str,
) -> Result<(), String> {
    let dir = format!("Takeout/Google Photos/{album}/");
    if !plan.iter().any(|p| p.path == format!("{dir}metadata.json")) {
        return Err(format!("no album {album:?} to move photo {i} into"));
    }
    let mut moved = Vec::new();
    for (m, p) in plan.iter_mut().enumerate() {
        if photo[m] != Some(i) {
            continue;
        }
        if let Role::Media { expected, .. } = &mut p.role {
            if let Some(from) = expected.album.replace(album.to_owned()) {
                moved.push(from);
            }
        }
    }
    let Some(from) = moved.first() else {
        return Err(format!("photo {i} is in no album"));
    };
    let from = format!("Takeout/Google Photos/{from}/");
    for (m, p) in plan.iter_mut().enumerate() {
        if photo[m] == Some(i) {
            if let Some(name) = p.path.strip_prefix(&from) {
                p.path = format!("{dir}{name}");
            }
        }
    }
    Ok(())
}

/// An edited copy of `original` (photo `i`), made after the export the
/// spec describes: new bytes, named as Google names an edited copy.
fn edited_later(spec: &TakeoutSpec, original: &Planned, i: usize) -> Planned {
    let (dir, name) = original.path.rsplit_once('/').expect("in a folder");
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let (Role::Media { expected, .. }, Body::Media { len, .. }) = (&original.role, &original.body)
    else {
        unreachable!("an original is media")
    };
    Planned {
        path: format!("{dir}/{stem}-edited.{ext}"),
        role: Role::Media {
            json: None,
            companion_of: None,
            expected: expected.clone(),
        },
        body: Body::Media {
            magic: magic_for(ext),
            len: len + 29,
            seed: fnv1a(format!("{} {i} edited later", spec.seed).as_bytes()),
        },
        modified: original.modified + 86_400,
    }
}

#[cfg(test)]
#[allow(clippy::case_sensitive_file_extension_comparisons)] // the exact case Google writes
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_catalogued_rules() {
        // ente-io/ente#4956 and pulsejet/memories#1559.
        assert_eq!(
            sidecar_name("Screenshot_2017-07-05-10-05-26.png", None, true),
            "Screenshot_2017-07-05-10-05-26.png.supplementa.json"
        );
        assert_eq!(
            sidecar_name("D7157814-D2D5-4A62-AFCE-9CF465CB7D66.jpeg", None, true),
            "D7157814-D2D5-4A62-AFCE-9CF465CB7D66.jpeg.supp.json"
        );
        assert_eq!(
            sidecar_name("IMG_0001.jpg", Some(1), false),
            "IMG_0001.jpg(1).json"
        );
        assert_eq!(
            sidecar_name("IMG_0001.jpg", Some(1), true),
            "IMG_0001.jpg.supplemental-metadata(1).json"
        );
        // TheLastGimbus/GooglePhotosTakeoutHelper#8: 46 characters + `.json`.
        assert_eq!(
            sidecar_name(
                "Urlaub in Knaufspesch in der Schneifel (38).JPG",
                None,
                false
            ),
            "Urlaub in Knaufspesch in der Schneifel (38).JP.json"
        );
        // andyjohnson0/TakeoutExtractor#23.
        assert_eq!(
            media_file_name(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUdifferentStuffHere.jpg"
            ),
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU.jpg"
        );
        assert_eq!(media_file_name("IMG_0001.jpg"), "IMG_0001.jpg");
        assert_eq!(with_counter("IMG_0001.jpg", Some(1)), "IMG_0001(1).jpg");
    }

    #[test]
    fn every_quirk_appears_in_a_small_set() {
        let dir = tempfile::tempdir().unwrap();
        let mut spec = TakeoutSpec::new(3, 40);
        spec.part_bytes = 40 * 1024;
        let m = spec.write(dir.path()).unwrap();
        assert!(m.parts.len() >= 3, "{}", m.parts.len());
        let paths: Vec<&str> = m.members.iter().map(|x| x.path.as_str()).collect();
        let unique: std::collections::HashSet<&str> = paths.iter().copied().collect();
        assert_eq!(unique.len(), paths.len(), "every path once");
        let any = |f: &dyn Fn(&str) -> bool| paths.iter().any(|p| f(p));
        assert!(any(&|p| p.ends_with(".supplemental-metadata(1).json")));
        assert!(any(
            &|p| p.contains(".supplementa") && !p.contains("metadata")
        ));
        assert!(any(&|p| p.ends_with(".MP.jpg")) && any(&|p| p.ends_with(".MP4")));
        assert!(any(&|p| p.ends_with(".HEIC")) && any(&|p| p.ends_with(".MOV")));
        assert!(any(&|p| p.contains("-bearbeitet.")) || any(&|p| p.contains("-edited.")));
        assert!(any(&|p| p.ends_with("/metadata.json")));
        let split = m.members.iter().any(|x| match &x.role {
            Role::Media { json: Some(j), .. } => m.members[*j].part != x.part,
            _ => false,
        });
        assert!(split, "a media file and its sidecar in different parts");
        let twice = m
            .members
            .iter()
            .filter(|x| matches!(x.role, Role::Media { .. }))
            .any(|x| m.members.iter().filter(|y| y.blake3 == x.blake3).count() > 1);
        assert!(twice, "a photo in an album folder and a year folder");
    }

    #[test]
    fn an_export_of_a_changed_library_drops_adds_and_moves_only_what_changed() {
        let hashes = |m: &Manifest| -> std::collections::BTreeMap<String, [u8; 32]> {
            m.members
                .iter()
                .map(|x| (x.path.clone(), x.blake3))
                .collect()
        };
        let spec = TakeoutSpec::new(5, 24);
        let base_dir = tempfile::tempdir().unwrap();
        let base = hashes(&spec.write(base_dir.path()).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let changes = ExportChanges {
            deleted: vec![4],
            edited_later: vec![6],
            moved: vec![(0, "Garden".into())],
            time_shift: 86_400,
        };
        let m = spec.write_export(dir.path(), &changes).unwrap();
        let after = hashes(&m);
        let gone: Vec<&String> = base.keys().filter(|p| !after.contains_key(*p)).collect();
        let added: Vec<&String> = after.keys().filter(|p| !base.contains_key(*p)).collect();
        // Photo 4 is a motion photo: still, video and sidecar gone.
        assert!(
            gone.iter()
                .any(|p| p.ends_with("PXL_20150101_120000004.MP.jpg")),
            "{gone:?}"
        );
        assert!(
            gone.iter()
                .any(|p| p.ends_with("PXL_20150101_120000004.MP4")),
            "{gone:?}"
        );
        assert!(
            added.iter().any(|p| p.ends_with("/IMG_0006-edited.jpg")),
            "{added:?}"
        );
        assert!(added.contains(&&"Takeout/Google Photos/Garden/IMG_0000.jpg".to_owned()));
        assert!(gone.contains(&&"Takeout/Google Photos/Holiday 2019/IMG_0000.jpg".to_owned()));
        // Everything else: the same bytes under the same names.
        for (path, hash) in &after {
            if let Some(before) = base.get(path) {
                if !path.ends_with(".json") {
                    assert_eq!(before, hash, "{path}");
                }
            }
        }
        // Roles point at the right members after the renumbering.
        for x in &m.members {
            if let Role::Media { json: Some(j), .. } = &x.role {
                assert!(m.members[*j].path.ends_with(".json"), "{}", x.path);
            }
            if let Role::Media {
                companion_of: Some(c),
                ..
            } = &x.role
            {
                // A companion lies beside its original, moved or not.
                let folder = |p: &str| p.rsplit_once('/').unwrap().0.to_owned();
                assert_eq!(folder(&x.path), folder(&m.members[*c].path), "{}", x.path);
            }
        }
        for bad in [
            ExportChanges {
                deleted: vec![99],
                ..ExportChanges::default()
            },
            ExportChanges {
                moved: vec![(1, "Garden".into())],
                ..ExportChanges::default()
            },
            ExportChanges {
                moved: vec![(0, "Nowhere".into())],
                ..ExportChanges::default()
            },
        ] {
            let e = spec.write_export(dir.path(), &bad).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad:?}: {e}");
        }
    }
}
