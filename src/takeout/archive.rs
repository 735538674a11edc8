//! Reading the members of one Takeout part, streaming: a zip (through the
//! `zip` crate, zip64 included: Google writes parts above 2 GB as zip64), a
//! tar.gz (`flate2` + `tar`) or an already extracted `Takeout/` folder (a
//! walk that never follows a link). Each member is handed to the caller with
//! its checked path, size, modification time and a `Read` of its bytes,
//! decompressed as they are read: nothing is extracted to disk and memory
//! does not grow with a member's size (a zip's central directory is held,
//! which grows with the number of members, not their bytes).
//!
//! Parts arrive by download and are untrusted: a member whose path could
//! escape (see `member_path`), a link, a device or a FIFO is not handed out
//! as a file but as a `Refused` item with the reason, and the reading goes
//! on. A part that is cut or damaged (an interrupted download) is an error
//! naming the part and the member where it broke (`ReadError::Damaged`),
//! told apart from a failure of the caller's own handling of a member
//! (`ReadError::Visit`) by watching which side the error came from. Every
//! member is read to its end before the next one, so its checksum (zip
//! CRC-32, gzip CRC at the end of the stream) is always checked. The part
//! is opened read-only, never through a symbolic link, and never changed.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::member_path::{self, MemberPath, Refusal};
use super::zip_walk;
use crate::printable::printable;
use crate::private_fs;

/// How a part is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Zip,
    TarGz,
    /// An extracted folder: the part path is the folder that holds `Takeout/`.
    Folder,
}

/// When a member was last modified, as the archive records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modified {
    /// Seconds since the Unix epoch (tar, folders).
    Unix(i64),
    /// A zip's MS-DOS date and time: local time of the writer, no zone,
    /// two-second steps.
    Dos(chrono::NaiveDateTime),
}

/// One regular file of a part, its bytes readable once, in order.
pub struct Member<'a> {
    pub path: MemberPath,
    /// Uncompressed size as the archive states it.
    pub size: u64,
    pub modified: Option<Modified>,
    reader: &'a mut dyn Read,
}

impl Read for Member<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl std::fmt::Debug for Member<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("path", &self.path)
            .field("size", &self.size)
            .field("modified", &self.modified)
            .finish_non_exhaustive()
    }
}

/// Why a member is not handed out as a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedKind {
    Path(Refusal),
    SymbolicLink,
    HardLink,
    Device,
    Fifo,
    /// Any other member type (socket, sparse file, unknown tar type).
    Other,
}

impl std::fmt::Display for RefusedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Path(r) => r.fmt(f),
            Self::SymbolicLink => f.write_str("a symbolic link"),
            Self::HardLink => f.write_str("a hard link"),
            Self::Device => f.write_str("a device"),
            Self::Fifo => f.write_str("a FIFO"),
            Self::Other => f.write_str("not a regular file"),
        }
    }
}

/// A member left alone, with why: for the line that lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The name as stored, made printable (it may be anything).
    pub name: String,
    pub kind: RefusedKind,
}

/// What the reader hands the caller, in archive order.
#[derive(Debug)]
pub enum Item<'a> {
    File(Member<'a>),
    Refused(Refused),
}

/// Where in a part reading broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// Inside this member (its name made printable).
    Member(String),
    /// Between members: after this one, or before the first (`None`).
    After(Option<String>),
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Member(m) => write!(f, "member {m}"),
            Self::After(Some(m)) => write!(f, "after member {m}"),
            Self::After(None) => f.write_str("before its first member"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot open the Takeout part {}", part.display())]
    Open {
        part: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The part is cut short or damaged: an interrupted download, read
    /// again once the file changes.
    #[error("the Takeout part {} is incomplete or damaged ({at})", part.display())]
    Damaged {
        part: PathBuf,
        at: At,
        #[source]
        source: io::Error,
    },
    /// The caller's handling of a member failed; the part itself read well.
    #[error("member {member} of the Takeout part {}", part.display())]
    Visit {
        part: PathBuf,
        /// The member's name, printable.
        member: String,
        #[source]
        source: io::Error,
    },
}

/// Reads every member of the part at `part`, in archive order, handing
/// each to `visit`. A member `visit` leaves unread is read to its end (its
/// checksum checked) before the next. Stops at the first error.
pub fn read_members(
    part: &Path,
    format: Format,
    visit: &mut dyn FnMut(Item<'_>) -> io::Result<()>,
) -> Result<(), ReadError> {
    read_members_after(part, format, 0, visit)
}

/// [`read_members`] from the member after the first `skip` items (files
/// and refused members, counted as handed out): a zip or a folder passes
/// over them without reading their data (the central directory, the sorted
/// walk); a tar.gz can only stream through them, their bytes discarded.
pub fn read_members_after(
    part: &Path,
    format: Format,
    skip: u64,
    visit: &mut dyn FnMut(Item<'_>) -> io::Result<()>,
) -> Result<(), ReadError> {
    match format {
        Format::Zip => zip_members(part, skip, visit),
        Format::TarGz => tar_members(part, skip, visit),
        Format::Folder => folder_members(part, skip, visit),
    }
}

/// A reader that remembers whether it failed, so an error coming back from
/// the caller can be told apart: the archive's, or the caller's own.
struct Watched<R> {
    inner: R,
    failed: Rc<Cell<bool>>,
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|_| self.failed.set(true))
    }
}

/// Hands one member to `visit`, then reads what it left; sorts the error.
fn hand_over(
    part: &Path,
    path: &MemberPath,
    size: u64,
    modified: Option<Modified>,
    reader: &mut dyn Read,
    visit: &mut dyn FnMut(Item<'_>) -> io::Result<()>,
) -> Result<(), ReadError> {
    let failed = Rc::new(Cell::new(false));
    let mut watched = Watched {
        inner: reader,
        failed: Rc::clone(&failed),
    };
    let result = visit(Item::File(Member {
        path: path.clone(),
        size,
        modified,
        reader: &mut watched,
    }))
    .and_then(|()| io::copy(&mut watched, &mut io::sink()).map(drop));
    match result {
        Ok(()) => Ok(()),
        Err(source) if failed.get() => Err(ReadError::Damaged {
            part: part.to_owned(),
            at: At::Member(path.to_string()),
            source,
        }),
        Err(source) => Err(ReadError::Visit {
            part: part.to_owned(),
            member: path.to_string(),
            source,
        }),
    }
}

/// A member's type refusal wins over its path's.
fn decide(
    kind: Option<RefusedKind>,
    path: Result<MemberPath, Refusal>,
) -> Result<MemberPath, RefusedKind> {
    match (kind, path) {
        (Some(kind), _) => Err(kind),
        (None, Err(refusal)) => Err(RefusedKind::Path(refusal)),
        (None, Ok(path)) => Ok(path),
    }
}

fn refuse(
    part: &Path,
    name: String,
    kind: RefusedKind,
    visit: &mut dyn FnMut(Item<'_>) -> io::Result<()>,
) -> Result<(), ReadError> {
    visit(Item::Refused(Refused {
        name: name.clone(),
        kind,
    }))
    .map_err(|source| ReadError::Visit {
        part: part.to_owned(),
        member: name,
        source,
    })
}

fn open_part(part: &Path) -> Result<File, ReadError> {
    private_fs::open_source(part)
        .map(|(file, _)| file)
        .map_err(|source| ReadError::Open {
            part: part.to_owned(),
            source,
        })
}

// ---- zip ----

/// Central directory file header: signature, then flags at 8, name length
/// at 28, the name at 46 (APPNOTE 4.3.12).
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const UTF8_FLAG: u16 = 1 << 11;
/// `S_IFMT` bits of a Unix mode and the file types refused.
const S_IFMT: u32 = 0o170_000;

fn zip_members(
    part: &Path,
    skip: u64,
    visit: &mut dyn FnMut(Item<'_>) -> io::Result<()>,
) -> Result<(), ReadError> {
    let file = open_part(part)?;
    let raw = file.try_clone().map_err(|source| ReadError::Open {
        part: part.to_owned(),
        source,
    })?;
    let mut zip = match zip::ZipArchive::new(BufReader::new(file)) {
        Ok(zip) => zip,
        Err(e) => return Err(zip_without_directory(part, e.into())),
    };
    let damaged = |at: At, source: io::Error| ReadError::Damaged {
        part: part.to_owned(),
        at,
        source,
    };
    let mut last: Option<String> = None;
    let mut items = 0u64;
    for index in 0..zip.len() {
        if items < skip {
            // Read before: its kind from the directory alone, its data untouched.
            let raw = zip
                .by_index_raw(index)
                .map_err(|e| damaged(At::After(last.clone()), e.into()))?;
            if !raw.is_dir() {
                items += 1;
                last = raw.name().ok().map(|n| printable(&n));
            }
            continue;
        }
        let mut member = zip
            .by_index(index)
            .map_err(|e| damaged(At::After(last.clone()), e.into()))?;
        let (raw_name, utf8) = central_name(&raw, member.central_header_start())
            .map_err(|e| damaged(At::After(last.clone()), e))?;
        let shown = printable(&String::from_utf8_lossy(&raw_name));
        last = Some(shown.clone());
        if member.is_dir() {
            continue;
        }
        let kind = match member.unix_mode().map(|m| m & S_IFMT) {
            Some(0o120_000) => Some(RefusedKind::SymbolicLink),
            Some(0o020_000 | 0o060_000) => Some(RefusedKind::Device),
            Some(0o010_000) => Some(RefusedKind::Fifo),
            Some(0o140_000) => Some(RefusedKind::Other),
            _ => None,
        };
        let path = member_path::decode_zip_name(&raw_name, utf8)
            .and_then(|name| member_path::check(&name));
        match decide(kind, path) {
            Err(kind) => refuse(part, shown, kind, visit)?,
            Ok(path) => {
                let size = member.size();
                let modified = member.last_modified().and_then(dos_time).map(Modified::Dos);
                hand_over(part, &path, size, modified, &mut member, visit)?;
            }
        }
    }
    Ok(())
}

/// The raw name and UTF-8 flag from a member's central directory header,
/// read directly so the decoding is ours (the `zip` crate decodes names
/// itself, lossily, and lets an extra field replace them).
fn central_name(file: &File, offset: u64) -> io::Result<(Vec<u8>, bool)> {
    let mut fixed = [0u8; 46];
    file.read_exact_at(&mut fixed, offset)?;
    if u32::from_le_bytes([fixed[0], fixed[1], fixed[2], fixed[3]]) != CENTRAL_SIGNATURE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no central directory header where the directory points",
        ));
    }
    let flags = u16::from_le_bytes([fixed[8], fixed[9]]);
    let len = u16::from_le_bytes([fixed[28], fixed[29]]);
    let mut name = vec![0u8; usize::from(len)];
    file.read_exact_at(&mut name, offset + 46)?;
    Ok((name, flags & UTF8_FLAG != 0))
}

fn dos_time(t: zip::DateTime) -> Option<chrono::NaiveDateTime> {
    chrono::NaiveDate::from_ymd_opt(
        i32::from(t.year()),
        u32::from(t.month()),
        u32::from(t.day()),
    )?
    .and_hms_opt(
        u32::from(t.hour()),
        u32::from(t.minute()),
        u32::from(t.second()),
    )
}

/// A zip whose central directory cannot be read (the end of the file is
/// missing: a cut download): its local headers name the member where the
/// data ends (`zip_walk`).
fn zip_without_directory(part: &Path, cause: io::Error) -> ReadError {
    let (at, source) = match open_part(part) {
        Ok(file) => zip_walk::where_it_breaks(file, cause),
        Err(_) => (At::After(None), cause),
    };
    ReadError::Damaged {
        part: part.to_owned(),
        at,
        source,
    }
}

// ---- tar.gz ----

fn tar_members(
    part: &Path,
    skip: u64,
    visit: &mut dyn FnMut(Item<'_>) -> io::Result<()>,
) -> Result<(), ReadError> {
    let file = open_part(part)?;
    let gz = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(256 * 1024, file));
    let mut archive = tar::Archive::new(gz);
    let damaged = |at: At, source: io::Error| ReadError::Damaged {
        part: part.to_owned(),
        at,
        source,
    };
    let mut last: Option<String> = None;
    let mut items = 0u64;
    let entries = archive.entries().map_err(|e| damaged(At::After(None), e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| damaged(At::After(last.clone()), e))?;
        let raw_name = entry.path_bytes().into_owned();
        let shown = printable(&String::from_utf8_lossy(&raw_name));
        last = Some(shown.clone());
        let counted = !matches!(
            entry.header().entry_type(),
            tar::EntryType::Directory | tar::EntryType::XGlobalHeader | tar::EntryType::XHeader
        );
        if counted && items < skip {
            // Read before: streamed through to the next header, discarded.
            items += 1;
            io::copy(&mut entry, &mut io::sink())
                .map_err(|e| damaged(At::Member(shown.clone()), e))?;
            continue;
        }
        let kind = match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => None,
            tar::EntryType::Directory | tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {
                continue
            }
            tar::EntryType::Symlink => Some(RefusedKind::SymbolicLink),
            tar::EntryType::Link => Some(RefusedKind::HardLink),
            tar::EntryType::Char | tar::EntryType::Block => Some(RefusedKind::Device),
            tar::EntryType::Fifo => Some(RefusedKind::Fifo),
            _ => Some(RefusedKind::Other),
        };
        let path = member_path::decode_utf8(&raw_name).and_then(member_path::check);
        match decide(kind, path) {
            Err(kind) => refuse(part, shown, kind, visit)?,
            Ok(path) => {
                let size = entry.size();
                let modified = entry
                    .header()
                    .mtime()
                    .ok()
                    .and_then(|t| i64::try_from(t).ok())
                    .map(Modified::Unix);
                hand_over(part, &path, size, modified, &mut entry, visit)?;
            }
        }
    }
    Ok(())
}

// ---- extracted folder ----

/// The folder's members are the files under `root/Takeout`, named from
/// `root` (`Takeout/Google Photos/...`) as in an archive.
fn folder_members(
    root: &Path,
    skip: u64,
    visit: &mut dyn FnMut(Item<'_>) -> io::Result<()>,
) -> Result<(), ReadError> {
    let damaged = |at: At, source: io::Error| ReadError::Damaged {
        part: root.to_owned(),
        at,
        source,
    };
    let mut last: Option<String> = None;
    let mut items = 0u64;
    let walk = walkdir::WalkDir::new(root.join("Takeout"))
        .follow_links(false)
        .follow_root_links(false)
        .same_file_system(true)
        .sort_by_file_name();
    for entry in walk {
        let entry = entry.map_err(|e| damaged(At::After(last.clone()), e.into()))?;
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let raw_name = rel.as_os_str().as_encoded_bytes().to_vec();
        let shown = printable(&String::from_utf8_lossy(&raw_name));
        let file_type = entry.file_type();
        if file_type.is_dir() {
            continue;
        }
        last = Some(shown.clone());
        if items < skip {
            // Read before: passed over unopened.
            items += 1;
            continue;
        }
        let kind = if file_type.is_symlink() {
            Some(RefusedKind::SymbolicLink)
        } else if file_type.is_file() {
            None
        } else {
            use std::os::unix::fs::FileTypeExt;
            Some(if file_type.is_fifo() {
                RefusedKind::Fifo
            } else if file_type.is_block_device() || file_type.is_char_device() {
                RefusedKind::Device
            } else {
                RefusedKind::Other
            })
        };
        let path = member_path::decode_utf8(&raw_name).and_then(member_path::check);
        match decide(kind, path) {
            Err(kind) => refuse(root, shown, kind, visit)?,
            Ok(path) => {
                // Opened without following a link swapped in since the walk.
                let (file, meta) = private_fs::open_source(entry.path())
                    .map_err(|e| damaged(At::Member(shown.clone()), e))?;
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .and_then(|d| i64::try_from(d.as_secs()).ok())
                    .map(Modified::Unix);
                let mut reader = BufReader::with_capacity(256 * 1024, file);
                hand_over(root, &path, meta.len(), modified, &mut reader, visit)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each item's name, in order, from the `skip`th on.
    fn names_after(part: &Path, format: Format, skip: u64) -> Vec<String> {
        let mut names = Vec::new();
        read_members_after(part, format, skip, &mut |item| {
            names.push(match item {
                Item::File(m) => m.path.to_string(),
                Item::Refused(r) => format!("refused {}", r.name),
            });
            Ok(())
        })
        .unwrap();
        names
    }

    #[test]
    fn a_folder_goes_on_after_the_items_read_before_links_counted() {
        let dir = tempfile::tempdir().unwrap();
        let photos = dir.path().join("Takeout/Google Photos/Album");
        std::fs::create_dir_all(&photos).unwrap();
        for name in ["a.jpg", "b.jpg", "d.jpg"] {
            std::fs::write(photos.join(name), name).unwrap();
        }
        std::os::unix::fs::symlink("/etc/passwd", photos.join("c.jpg")).unwrap();
        let all = names_after(dir.path(), Format::Folder, 0);
        assert_eq!(all.len(), 4, "{all:?}");
        assert!(all[2].starts_with("refused"), "{all:?}");
        for skip in 0..=5 {
            let rest = names_after(dir.path(), Format::Folder, skip);
            let from = usize::try_from(skip).unwrap().min(all.len());
            assert_eq!(rest, all[from..], "after {skip}");
        }
    }
}
