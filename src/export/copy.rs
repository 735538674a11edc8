//! Durable, atomic writes into staging: a file appears under its final name
//! complete and on disk, or not at all.
//!
//! Every write goes to a temp name in the target folder (`.NAME.pbtmp.RANDOM`),
//! is hashed by reading the copy back (after an in-kernel copy,
//! `copy_file_range`, on Linux, or a clone on APFS: one read of the source,
//! and the hash is of what was written), fsynced and renamed over the final
//! name, then the folder is fsynced; only after that may the ledger record the file. A run killed at
//! any instant leaves at most temp files, which `remove_temp_files` clears at
//! the start of the next run; a full disk leaves nothing. Sources are opened
//! no-follow and non-blocking and must be regular files on the open
//! descriptor (`private_fs::open_source`); copies clone on APFS
//! (`fclonefileat`, so the temp name must not exist yet) and use
//! `copy_file_range` (reflinks where possible) on Linux. Every file written
//! is owner-only (`0600`) whatever the source's mode, in owner-only folders.
//! Staging's copies (`copy_atomic_at`, `write_atomic_at`) work relative to
//! an open folder (`folders::Folder`): the temp file is created, renamed and
//! removed with `openat` / `renameat` / `unlinkat`, never through a path
//! that a planted link could redirect, and no folder is checked per file.

use std::collections::hash_map::RandomState;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, FileTimes};
use std::hash::BuildHasher;
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::folders::Folder;
use crate::private_fs;

/// Marks temp names: `.` + (part of) the final name + this + random hex.
const TEMP_MARKER: &str = ".pbtmp.";
/// Hex digits of randomness in a temp name.
const RANDOM_LEN: usize = 16;
/// At most this many bytes of the final name go into the temp name, so the
/// temp name stays far below the usual 255-byte limit whatever the final name.
const MAX_STEM: usize = 100;
/// Read buffer for hashing.
const HASH_BUFFER: usize = 1 << 20;

/// What was written: the facts the ledger records about a staged file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub(crate) size: u64,
    /// Modification time as stored by the filesystem, in ns since the epoch.
    pub(super) mtime_ns: i64,
    /// BLAKE3 of the content, lowercase hex.
    pub(super) hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("cannot read {path}")]
    Source { path: PathBuf, source: io::Error },
    #[error("cannot create folder {path}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot copy {src} to {dst}")]
    Copy {
        src: PathBuf,
        dst: PathBuf,
        source: io::Error,
    },
    #[error("cannot write {path}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{path} changed while it was copied (size or modification time differ); it is copied again on the next run")]
    SourceChanged { path: PathBuf },
}

/// Folders holding renames that are not durable until the folder itself is
/// fsynced: a batch of copies syncs each folder once, not once per file.
/// A deferred set (`deferred`) also holds the batch's temp files, written
/// but neither fsynced nor renamed: `sync` fsyncs them all, then renames
/// them, then fsyncs the folders, so the disk writes a batch back at once
/// (as `cp -r` + `sync` does) and the order stays fsync, rename, record.
#[derive(Debug, Default)]
pub struct UnsyncedDirs {
    /// Each folder, and its open handle when the renames were relative to it.
    dirs: std::collections::BTreeMap<PathBuf, Option<Arc<File>>>,
    deferred: Option<Vec<TempFile>>,
}

impl UnsyncedDirs {
    /// A set that defers each file's fsync and rename to `sync`.
    #[must_use]
    pub(super) fn deferred() -> Self {
        Self {
            dirs: std::collections::BTreeMap::new(),
            deferred: Some(Vec::new()),
        }
    }

    /// Takes over another set's folders (and deferred files).
    pub(super) fn extend(&mut self, other: UnsyncedDirs) {
        self.dirs.extend(other.dirs);
        if let Some(files) = other.deferred {
            self.deferred.get_or_insert_with(Vec::new).extend(files);
        }
    }

    /// Makes every file and rename so far durable: deferred files are
    /// fsynced, all of them, before the first is renamed into place.
    ///
    /// Where a filesystem sync has the guarantee of an fsync of every file
    /// (`platform::sync_filesystem_is_fsync`: Linux), one sync of each
    /// filesystem holding the batch stands for the fsync of each file, and
    /// a second one, after the renames, for the fsync of each folder: two
    /// disk flushes per batch instead of one per file and folder.
    pub fn sync(&mut self) -> Result<(), CopyError> {
        if let Some(files) = self.deferred.as_mut() {
            let whole = crate::platform::sync_filesystem_is_fsync();
            // One write-back of each filesystem first (as `sync`), so each
            // fsync below (if any) finds its file's data on disk already.
            sync_filesystems(files)?;
            if !whole {
                for temp in files.iter() {
                    temp.open_read()
                        .and_then(|f| f.sync_all())
                        .map_err(|e| temp.error(e))?;
                }
            }
            // A failure drops the files not renamed yet, which removes them.
            let renamed: Vec<TempFile> = files
                .drain(..)
                .map(|mut temp| temp.rename().map(|()| temp))
                .collect::<Result<_, _>>()?;
            if whole {
                // The renames' folders are on the filesystems synced again.
                sync_filesystems(&renamed)?;
            } else {
                for temp in &renamed {
                    self.dirs.insert(temp.dir.clone(), temp.at.clone());
                }
            }
        }
        while let Some((dir, at)) = self.dirs.pop_first() {
            let synced = match at {
                Some(handle) => handle.sync_all(),
                None => File::open(&dir).and_then(|d| d.sync_all()),
            };
            synced.map_err(|source| CopyError::Write { path: dir, source })?;
        }
        Ok(())
    }
}

/// Writes back each filesystem holding one of `files` (its folder's), once.
fn sync_filesystems(files: &[TempFile]) -> Result<(), CopyError> {
    let mut done = std::collections::BTreeSet::new();
    for temp in files {
        if done.insert(temp.device) {
            let synced = match &temp.at {
                Some(handle) => crate::platform::sync_filesystem(handle),
                None => File::open(&temp.dir).and_then(|d| crate::platform::sync_filesystem(&d)),
            };
            synced.map_err(|e| temp.error(e))?;
        }
    }
    Ok(())
}

/// Copies `src` to `dst` atomically, with `src`'s modification and access
/// times, and returns what is now at `dst`, durable.
pub(super) fn copy_atomic(src: &Path, dst: &Path) -> Result<Written, CopyError> {
    let mut dirs = UnsyncedDirs::default();
    let written = copy_atomic_in(src, dst, &mut dirs)?;
    dirs.sync()?;
    Ok(written)
}

/// Like `copy_atomic`, but the rename is durable only after `dirs.sync()`.
fn copy_atomic_in(src: &Path, dst: &Path, dirs: &mut UnsyncedDirs) -> Result<Written, CopyError> {
    copy_in(src, Dest::Path(dst), dirs, true)
}

/// Like `copy_atomic_in`, into the file `name` of the open `folder`.
pub(super) fn copy_atomic_at(
    src: &Path,
    (folder, name): (&Folder, &OsStr),
    dirs: &mut UnsyncedDirs,
) -> Result<Written, CopyError> {
    copy_in(src, Dest::At(folder, name), dirs, true)
}

/// Where a copy goes: a path (its folder created and checked here), or a
/// name in a folder open already (`folders`).
#[derive(Clone, Copy)]
enum Dest<'a> {
    Path(&'a Path),
    At(&'a Folder, &'a OsStr),
}

impl Dest<'_> {
    fn temp(self) -> Result<TempFile, CopyError> {
        match self {
            Dest::Path(dst) => TempFile::new(dst),
            Dest::At(folder, name) => Ok(TempFile::in_folder(folder, name)),
        }
    }

    fn path(self) -> PathBuf {
        match self {
            Dest::Path(dst) => dst.to_owned(),
            Dest::At(folder, name) => folder.path.join(name),
        }
    }
}

/// Like `copy_atomic_in`, without reading the copy back to hash it (the
/// returned hash is empty): for the mirror, where reading back would cross
/// the network again and the staged file's hash is already known.
pub fn copy_unhashed_in(
    src: &Path,
    dst: &Path,
    dirs: &mut UnsyncedDirs,
) -> Result<Written, CopyError> {
    copy_in(src, Dest::Path(dst), dirs, false)
}

fn copy_in(
    src: &Path,
    dst: Dest<'_>,
    dirs: &mut UnsyncedDirs,
    hash: bool,
) -> Result<Written, CopyError> {
    let source_error = |source| CopyError::Source {
        path: src.to_owned(),
        source,
    };
    let (source_file, before) = private_fs::open_source(src).map_err(source_error)?;
    let temp = dst.temp()?;
    let copy_error = |source| CopyError::Copy {
        src: src.to_owned(),
        dst: dst.path(),
        source,
    };
    // Either way the copy is read back to hash it: a clone costs nothing,
    // and an in-kernel copy and a read back cost half the CPU time of a
    // copy through this process (docs/benchmarks.md, issue15f).
    let streamed = if hash && !crate::platform::copy_clones() {
        Some(copy_hashing(&source_file, &temp).map_err(copy_error)?)
    } else {
        crate::platform::copy_open_file(&source_file, &temp.path).map_err(copy_error)?;
        None
    };
    let after = source_file.metadata().map_err(source_error)?;
    if after.len() != before.len() || after.modified().ok() != before.modified().ok() {
        return Err(CopyError::SourceChanged {
            path: src.to_owned(),
        });
    }
    let mut times = FileTimes::new();
    if let Ok(modified) = before.modified() {
        times = times.set_modified(modified);
    }
    if let Ok(accessed) = before.accessed() {
        times = times.set_accessed(accessed);
    }
    if let Some((out, size, hash)) = streamed {
        return temp.finish(&out, times, size, hash, dirs);
    }
    // Read-only: the owner may set times, modes and fsync all the same.
    let mut file = temp.open_read().map_err(|e| temp.error(e))?;
    private_fs::make_private(&file).map_err(|e| temp.error(e))?;
    let (size, hash) = if hash {
        hash_reader(&mut file).map_err(|e| temp.error(e))?
    } else {
        (
            file.metadata().map_err(|e| temp.error(e))?.len(),
            String::new(),
        )
    };
    temp.finish(&file, times, size, hash, dirs)
}

/// Writes `bytes` to `dst` atomically (generated sidecars), with `mtime` as
/// its modification and access time when given; durable.
pub(crate) fn write_atomic(
    dst: &Path,
    bytes: &[u8],
    mtime: Option<SystemTime>,
) -> Result<Written, CopyError> {
    let mut dirs = UnsyncedDirs::default();
    let written = write_atomic_in(dst, bytes, mtime, &mut dirs)?;
    dirs.sync()?;
    Ok(written)
}

/// Like `write_atomic`, but the rename is durable only after `dirs.sync()`.
fn write_atomic_in(
    dst: &Path,
    bytes: &[u8],
    mtime: Option<SystemTime>,
    dirs: &mut UnsyncedDirs,
) -> Result<Written, CopyError> {
    write_in(Dest::Path(dst), bytes, mtime, dirs)
}

/// Like `write_atomic_in`, into the file `name` of the open `folder`.
pub(super) fn write_atomic_at(
    (folder, name): (&Folder, &OsStr),
    bytes: &[u8],
    mtime: Option<SystemTime>,
    dirs: &mut UnsyncedDirs,
) -> Result<Written, CopyError> {
    write_in(Dest::At(folder, name), bytes, mtime, dirs)
}

fn write_in(
    dst: Dest<'_>,
    bytes: &[u8],
    mtime: Option<SystemTime>,
    dirs: &mut UnsyncedDirs,
) -> Result<Written, CopyError> {
    let temp = dst.temp()?;
    let mut file = temp.create().map_err(|e| temp.error(e))?;
    file.write_all(bytes).map_err(|e| temp.error(e))?;
    let mut times = FileTimes::new();
    if let Some(t) = mtime {
        times = times.set_modified(t).set_accessed(t);
    }
    let hash = blake3::hash(bytes).to_hex().to_string();
    temp.finish(&file, times, bytes.len() as u64, hash, dirs)
}

/// BLAKE3 of a file's content, lowercase hex.
pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    Ok(hash_reader(&mut file)?.1)
}

/// Removes the temp files that killed runs left under `root` (a missing root
/// has none) and returns their paths. Only names `is_temp_name` accepts are
/// touched; symbolic links are neither followed nor removed.
pub(super) fn remove_temp_files(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for entry in walkdir::WalkDir::new(root) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e)
                if e.depth() == 0
                    && e.io_error().map(io::Error::kind) == Some(io::ErrorKind::NotFound) =>
            {
                return Ok(removed)
            }
            // Keep walkdir's message: it names the path.
            Err(e) => {
                let kind = e.io_error().map_or(io::ErrorKind::Other, io::Error::kind);
                return Err(io::Error::new(kind, e));
            }
        };
        let is_temp = entry.file_name().to_str().is_some_and(is_temp_name);
        if entry.file_type().is_file() && is_temp {
            fs::remove_file(entry.path()).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot remove {}: {e}", entry.path().display()),
                )
            })?;
            removed.push(entry.into_path());
        }
    }
    Ok(removed)
}

/// Whether `name` is one of our temp names: `.STEM.pbtmp.` + 16 hex digits.
#[must_use]
pub fn is_temp_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    rest.rsplit_once(TEMP_MARKER).is_some_and(|(stem, random)| {
        !stem.is_empty()
            && random.len() == RANDOM_LEN
            && random
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Nanoseconds since the Unix epoch (negative before it), as the ledger keeps
/// modification times.
#[must_use]
pub fn unix_ns(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i64,
        Err(e) => -(e.duration().as_nanos() as i64),
    }
}

/// Copies `src` into a new owner-only file `dst` in the kernel
/// (`copy_file_range` where the system has it: each source byte is read
/// once, and copied without passing through this process), then hashes
/// what was written by reading the copy back (from the page cache: it was
/// just written). Returns the written file (not yet synced), the byte
/// count and the hex hash.
fn copy_hashing(src: &File, dst: &TempFile) -> io::Result<(File, u64, String)> {
    let mut out = dst.create()?;
    private_fs::make_private(&out)?;
    let copied = io::copy(&mut &*src, &mut out)?;
    let (size, hash) = hash_reader(&mut dst.open_read()?)?;
    if size != copied {
        let msg = format!("copied {copied} bytes but read back {size}");
        return Err(io::Error::other(msg));
    }
    Ok((out, size, hash))
}

thread_local! {
    // One buffer per thread, not a fresh zeroed one per file.
    static HASH_BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; HASH_BUFFER]);
}

/// Streams a file through BLAKE3; returns the byte count and the hex hash.
fn hash_reader(reader: &mut impl Read) -> io::Result<(u64, String)> {
    HASH_BUF.with_borrow_mut(|buffer| hash_with(reader, buffer))
}

fn hash_with(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<(u64, String)> {
    let mut hasher = blake3::Hasher::new();
    let mut size = 0u64;
    loop {
        let n = match reader.read(buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, hasher.finalize().to_hex().to_string()))
}

/// A temp path beside the final one; removed on drop unless renamed into place.
#[derive(Debug)]
struct TempFile {
    path: PathBuf,
    dst: PathBuf,
    dir: PathBuf,
    /// `dir`, open: the temp is created, renamed and removed relative to it.
    at: Option<Arc<File>>,
    /// The temp's and the final name, in `dir`.
    name: OsString,
    final_name: OsString,
    /// The filesystem of `dir` (known once the file is written).
    device: u64,
    renamed: bool,
}

impl TempFile {
    /// Creates `dst`'s folder and picks a fresh temp name in it (the file
    /// itself is not created: `fs::copy` only clones onto a new name).
    fn new(dst: &Path) -> Result<Self, CopyError> {
        let (Some(dir), Some(name)) = (dst.parent(), dst.file_name()) else {
            return Err(CopyError::Write {
                path: dst.to_owned(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "not a file path"),
            });
        };
        // `Path::new("a").parent()` is `Some("")`: the current folder.
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        private_fs::create_dir_all(dir).map_err(|source| CopyError::CreateDir {
            path: dir.to_owned(),
            source,
        })?;
        let temp = temp_name(&name.to_string_lossy(), &random_hex());
        Ok(Self {
            path: dir.join(&temp),
            dst: dst.to_owned(),
            dir: dir.to_owned(),
            at: None,
            name: temp.into(),
            final_name: name.to_owned(),
            device: 0,
            renamed: false,
        })
    }

    /// A fresh temp name for `name` in the open `folder` (checked already).
    fn in_folder(folder: &Folder, name: &OsStr) -> Self {
        let temp = temp_name(&name.to_string_lossy(), &random_hex());
        Self {
            path: folder.path.join(&temp),
            dst: folder.path.join(name),
            dir: folder.path.clone(),
            at: Some(Arc::clone(&folder.handle)),
            name: temp.into(),
            final_name: name.to_owned(),
            device: 0,
            renamed: false,
        }
    }

    /// Creates the temp file, owner-only, failing when anything (a link
    /// included) is there.
    fn create(&self) -> io::Result<File> {
        use rustix::fs::{Mode, OFlags};
        match &self.at {
            Some(dir) => rustix::fs::openat(
                dir,
                &self.name,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::RUSR | Mode::WUSR, // private_fs::FILE_MODE
            )
            .map(File::from)
            .map_err(io::Error::from),
            None => private_fs::create_new(&self.path),
        }
    }

    /// Opens the temp file read-only, never through a link.
    fn open_read(&self) -> io::Result<File> {
        use rustix::fs::{Mode, OFlags};
        match &self.at {
            Some(dir) => rustix::fs::openat(
                dir,
                &self.name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map(File::from)
            .map_err(io::Error::from),
            None => File::options()
                .read(true)
                .custom_flags(
                    (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::CLOEXEC).bits() as i32,
                )
                .open(&self.path),
        }
    }

    /// An error about the final path, for a failure on the temp file.
    fn error(&self, source: io::Error) -> CopyError {
        CopyError::Write {
            path: self.dst.clone(),
            source,
        }
    }

    /// Sets times, fsyncs and renames into place; the folder's fsync is
    /// left to `dirs.sync()`, and so are the fsync and rename when `dirs`
    /// defers them.
    fn finish(
        mut self,
        file: &File,
        times: FileTimes,
        size: u64,
        hash: String,
        dirs: &mut UnsyncedDirs,
    ) -> Result<Written, CopyError> {
        file.set_times(times).map_err(|e| self.error(e))?;
        // The time as the filesystem keeps it (its resolution may be coarser).
        let meta = file.metadata().map_err(|e| self.error(e))?;
        if meta.len() != size {
            let msg = format!("wrote {size} bytes but the file has {}", meta.len());
            return Err(self.error(io::Error::other(msg)));
        }
        let mtime_ns = meta.modified().map(unix_ns).map_err(|e| self.error(e))?;
        self.device = meta.dev();
        let written = Written {
            size,
            mtime_ns,
            hash,
        };
        if let Some(files) = dirs.deferred.as_mut() {
            files.push(self);
            return Ok(written);
        }
        file.sync_all().map_err(|e| self.error(e))?;
        self.rename()?;
        dirs.dirs.insert(self.dir.clone(), self.at.clone());
        Ok(written)
    }

    fn rename(&mut self) -> Result<(), CopyError> {
        match &self.at {
            Some(dir) => rustix::fs::renameat(dir, &self.name, dir, &self.final_name)
                .map_err(io::Error::from),
            None => fs::rename(&self.path, &self.dst),
        }
        .map_err(|e| self.error(e))?;
        self.renamed = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.renamed {
            // Often it does not exist (the copy failed before creating it).
            let _ = match &self.at {
                Some(dir) => rustix::fs::unlinkat(dir, &self.name, rustix::fs::AtFlags::empty())
                    .map_err(io::Error::from),
                None => fs::remove_file(&self.path),
            };
        }
    }
}

/// `.{name}.pbtmp.{random}`, with `name` cut to `MAX_STEM` bytes.
fn temp_name(name: &str, random: &str) -> String {
    let mut end = name.len().min(MAX_STEM);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!(".{}{TEMP_MARKER}{random}", &name[..end])
}

/// 64 random bits as hex: `RandomState` is seeded from the OS once per
/// process and differs per instance; the counter makes each input unique.
fn random_hex() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:016x}",
        RandomState::new().hash_one((n, std::process::id()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_text::describe;
    use std::time::Duration;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn set_mtime(path: &Path, t: SystemTime) {
        let f = File::options().write(true).open(path).unwrap();
        f.set_times(FileTimes::new().set_modified(t).set_accessed(t))
            .unwrap();
    }

    #[test]
    fn copy_preserves_content_size_and_times_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("IMG_0001.HEIC");
        let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&src, &content).unwrap();
        let t = UNIX_EPOCH + Duration::new(1_600_000_000, 123_456_789);
        set_mtime(&src, t);

        let dst = dir.path().join("staging/lib/2020/09/13/IMG_0001.HEIC");
        let written = copy_atomic(&src, &dst).unwrap();

        // Times first: reading the copy may update its access time.
        let meta = fs::metadata(&dst).unwrap();
        assert_eq!(meta.modified().unwrap(), t);
        assert_eq!(meta.accessed().unwrap(), t);
        assert_eq!(fs::read(&dst).unwrap(), content);
        assert_eq!(written.size, content.len() as u64);
        assert_eq!(written.hash, blake3::hash(&content).to_hex().to_string());
        assert_eq!(written.hash, hash_file(&dst).unwrap());
        assert_eq!(written.mtime_ns, unix_ns(t));
        assert_eq!(names(dst.parent().unwrap()), ["IMG_0001.HEIC"]);
    }

    #[test]
    fn a_deferred_batch_appears_only_at_sync_and_a_dropped_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.jpg");
        fs::write(&src, b"photo").unwrap();
        let out = dir.path().join("out");
        let mut batch = UnsyncedDirs::deferred();
        let copied = copy_atomic_in(&src, &out.join("a.jpg"), &mut batch).unwrap();
        let wrote = write_atomic_in(&out.join("a.xmp"), b"<x/>", None, &mut batch).unwrap();
        // Written, not yet in place: only temp names.
        assert!(
            names(&out).iter().all(|n| is_temp_name(n)),
            "{:?}",
            names(&out)
        );
        assert_eq!(names(&out).len(), 2);
        batch.sync().unwrap();
        assert_eq!(names(&out), ["a.jpg", "a.xmp"]);
        assert_eq!(fs::read(out.join("a.jpg")).unwrap(), b"photo");
        assert_eq!(copied.hash, hash_file(&out.join("a.jpg")).unwrap());
        assert_eq!(wrote.hash, hash_file(&out.join("a.xmp")).unwrap());

        // A batch dropped before its sync (an error ends the run) leaves no temp.
        let mut batch = UnsyncedDirs::deferred();
        copy_atomic_in(&src, &out.join("b.jpg"), &mut batch).unwrap();
        let mut merged = UnsyncedDirs::default();
        merged.extend(batch);
        drop(merged);
        assert_eq!(names(&out), ["a.jpg", "a.xmp"]);
    }

    #[test]
    fn copy_replaces_an_existing_file_and_handles_read_only_sources() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.jpg");
        fs::write(&src, b"new content").unwrap();
        fs::set_permissions(&src, fs::Permissions::from_mode(0o444)).unwrap();
        let dst = dir.path().join("out/a.jpg");
        fs::create_dir_all(dst.parent().unwrap()).unwrap();
        fs::write(&dst, b"old, longer content").unwrap();

        let written = copy_atomic(&src, &dst).unwrap();
        assert_eq!(fs::read(&dst).unwrap(), b"new content");
        assert_eq!(written.size, 11);
        assert_eq!(names(dst.parent().unwrap()), ["a.jpg"]);
    }

    #[test]
    fn copies_are_owner_only_whatever_the_source_mode_and_umask() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("setuid.jpg");
        fs::write(&src, b"#!/bin/sh\n").unwrap();
        fs::set_permissions(&src, fs::Permissions::from_mode(0o6777)).unwrap();
        let old = rustix::process::umask(rustix::fs::Mode::WGRP | rustix::fs::Mode::WOTH);
        let dst = dir.path().join("staging/lib/2024/05/01/setuid.jpg");
        copy_atomic(&src, &dst).unwrap();
        let xmp = dir.path().join("staging/lib/2024/05/02/a.xmp");
        write_atomic(&xmp, b"<x/>", None).unwrap();
        rustix::process::umask(old);
        let mode = |p: &Path| fs::symlink_metadata(p).unwrap().mode() & 0o7777;
        assert_eq!(mode(&dst), 0o600);
        assert_eq!(mode(&xmp), 0o600);
        assert_eq!(mode(dst.parent().unwrap()), 0o700);
        assert_eq!(mode(xmp.parent().unwrap()), 0o700);
    }

    #[test]
    fn sources_behind_links_and_fifos_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("key");
        fs::write(&secret, b"private key").unwrap();
        let link = dir.path().join("IMG_1.JPG");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let fifo = dir.path().join("IMG_2.JPG");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let out = dir.path().join("out");
        for src in [&link, &fifo] {
            let msg = describe(&copy_atomic(src, &out.join("x.jpg")).unwrap_err());
            assert!(msg.contains(&src.display().to_string()), "{msg}");
            assert!(msg.contains("refused"), "{msg}");
        }
        assert!(!out.join("x.jpg").exists());
    }

    #[test]
    fn missing_source_is_an_error_naming_it_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("gone.mov");
        let dst = dir.path().join("out/gone.mov");
        fs::create_dir(dir.path().join("out")).unwrap();
        let msg = copy_atomic(&src, &dst).unwrap_err().to_string();
        assert!(msg.contains(&src.display().to_string()), "{msg}");
        assert_eq!(names(&dir.path().join("out")), Vec::<String>::new());
    }

    #[test]
    fn destination_folder_that_is_a_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.jpg");
        fs::write(&src, b"x").unwrap();
        fs::write(dir.path().join("blocker"), b"").unwrap();
        let dst = dir.path().join("blocker/a.jpg");
        let msg = copy_atomic(&src, &dst).unwrap_err().to_string();
        assert!(
            msg.contains(&dir.path().join("blocker").display().to_string()),
            "{msg}"
        );
        assert_eq!(names(dir.path()), ["a.jpg", "blocker"]);
        assert!(write_atomic(&dst, b"x", None).is_err());
    }

    #[test]
    fn destination_that_is_a_folder_fails_without_leaving_a_temp() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.jpg");
        fs::write(&src, b"x").unwrap();
        let dst = dir.path().join("out");
        fs::create_dir_all(dst.join("inside")).unwrap();
        let msg = copy_atomic(&src, &dst).unwrap_err().to_string();
        assert!(msg.contains(&dst.display().to_string()), "{msg}");
        assert_eq!(names(dir.path()), ["a.jpg", "out"]);
    }

    #[test]
    fn write_atomic_writes_bytes_with_the_given_time() {
        let dir = tempfile::tempdir().unwrap();
        let dst = dir.path().join("x/IMG_0001.xmp");
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let written = write_atomic(&dst, b"<xmp/>", Some(t)).unwrap();
        assert_eq!(fs::read(&dst).unwrap(), b"<xmp/>");
        assert_eq!(fs::metadata(&dst).unwrap().modified().unwrap(), t);
        assert_eq!(
            written,
            Written {
                size: 6,
                mtime_ns: unix_ns(t),
                hash: blake3::hash(b"<xmp/>").to_hex().to_string(),
            }
        );
        // Replacing, without a given time: the time is now-ish.
        let written = write_atomic(&dst, b"<xmp></xmp>", None).unwrap();
        assert_eq!(fs::read(&dst).unwrap(), b"<xmp></xmp>");
        assert!(written.mtime_ns > unix_ns(t));
        assert_eq!(names(dst.parent().unwrap()), ["IMG_0001.xmp"]);
    }

    #[test]
    fn temp_names_are_bounded_recognized_and_unique() {
        let long = "é".repeat(100); // 200 bytes
        let a = temp_name(&long, &random_hex());
        assert!(
            a.len() <= 1 + MAX_STEM + TEMP_MARKER.len() + RANDOM_LEN,
            "{}",
            a.len()
        );
        assert!(is_temp_name(&a), "{a}");
        assert_ne!(random_hex(), random_hex());
        assert!(is_temp_name(&temp_name("IMG_1.JPG", &random_hex())));
        for not in [
            "IMG_1.JPG",
            ".IMG_1.JPG",
            "IMG_1.JPG.pbtmp.0123456789abcdef",
            "..pbtmp.0123456789abcdef",
            ".a.pbtmp.0123456789abcde",
            ".a.pbtmp.0123456789ABCDEF",
            ".a.pbtmp.0123456789abcdefg",
        ] {
            assert!(!is_temp_name(not), "{not}");
        }

        // A 200-byte final name still copies (the temp name stays short).
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("s");
        fs::write(&src, b"x").unwrap();
        let dst = dir.path().join(format!("{long}.jpg"));
        copy_atomic(&src, &dst).unwrap();
        assert!(dst.exists());
    }

    #[test]
    fn remove_temp_files_removes_only_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir.path().join("lib/2024/05/01");
        fs::create_dir_all(&day).unwrap();
        let temp = day.join(temp_name("IMG_1.JPG", &random_hex()));
        let folder_named_like_temp = day.join(temp_name("dir", &random_hex()));
        fs::write(&temp, b"half").unwrap();
        fs::write(day.join("IMG_1.JPG"), b"keep").unwrap();
        fs::write(day.join(".IMG_2.JPG.tmp"), b"keep").unwrap();
        fs::create_dir(&folder_named_like_temp).unwrap();

        assert_eq!(remove_temp_files(dir.path()).unwrap(), [temp]);
        let mut left = names(&day);
        left.retain(|n| !is_temp_name(n));
        assert_eq!(left, [".IMG_2.JPG.tmp", "IMG_1.JPG"]);
        assert!(folder_named_like_temp.is_dir());
        assert_eq!(
            remove_temp_files(&dir.path().join("missing")).unwrap(),
            Vec::<PathBuf>::new()
        );
    }

    #[test]
    fn a_folder_swapped_for_a_link_after_it_was_opened_is_never_followed() {
        use super::super::folders::Folders;
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.jpg");
        fs::write(&src, b"photo").unwrap();
        let staging = dir.path().join("staging");
        fs::create_dir(&staging).unwrap();
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        let folders = Folders::new(&staging);
        let rel = Path::new("lib/2024/05/01");
        let day = folders.get(rel).unwrap();
        let mut batch = UnsyncedDirs::deferred();
        let name = |n: &'static str| OsStr::new(n);
        copy_atomic_at(&src, (&day, name("a.jpg")), &mut batch).unwrap();

        // Someone moves the folder away and plants a link in its place.
        let moved = staging.join("lib/2024/05/moved");
        fs::rename(staging.join(rel), &moved).unwrap();
        std::os::unix::fs::symlink(&elsewhere, staging.join(rel)).unwrap();
        // The rest of the batch goes through the folder as it was opened.
        let again = folders.get(rel).unwrap();
        copy_atomic_at(&src, (&again, name("b.jpg")), &mut batch).unwrap();
        write_atomic_at((&again, name("a.xmp")), b"<x/>", None, &mut batch).unwrap();
        batch.sync().unwrap();
        assert_eq!(names(&elsewhere), Vec::<String>::new());
        assert_eq!(names(&moved), ["a.jpg", "a.xmp", "b.jpg"]);
        // A dropped batch removes its temp file from that folder too.
        let mut dropped = UnsyncedDirs::deferred();
        copy_atomic_at(&src, (&again, name("c.jpg")), &mut dropped).unwrap();
        assert_eq!(names(&moved).len(), 4);
        drop(dropped);
        assert_eq!(names(&moved), ["a.jpg", "a.xmp", "b.jpg"]);

        // A new batch opens the folders afresh: the link is refused, and
        // so is it by the path-based copy.
        let msg = Folders::new(&staging).get(rel).unwrap_err().to_string();
        assert!(msg.contains("symbolic link"), "{msg}");
        let msg = describe(&copy_atomic(&src, &staging.join(rel).join("d.jpg")).unwrap_err());
        assert!(msg.contains("symbolic link"), "{msg}");
        assert_eq!(names(&elsewhere), Vec::<String>::new());
    }

    /// Unmounts the tmpfs when the test ends, however it ends.
    #[cfg(target_os = "linux")]
    struct Unmount<'a>(&'a Path);

    #[cfg(target_os = "linux")]
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }

    #[cfg(target_os = "linux")]
    fn is_root() -> bool {
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn full_disk_leaves_neither_a_temp_nor_a_final_file() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("big.mov");
        fs::write(&src, vec![7u8; 1 << 20]).unwrap();
        let small = dir.path().join("small");
        fs::create_dir(&small).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(&small)
            .output()
            .is_ok_and(|o| o.status.success());
        if !mounted {
            assert!(
                !is_root(),
                "root could not mount a tmpfs at {}",
                small.display()
            );
            // Without a tiny filesystem, check the message of the error only.
            let err = CopyError::Copy {
                src: src.clone(),
                dst: small.join("big.mov"),
                source: io::Error::from_raw_os_error(28), // ENOSPC
            };
            let msg = err.to_string().to_lowercase();
            assert!(msg.contains("no space left on device"), "{msg}");
            return;
        }
        let _unmount = Unmount(&small);
        let dst = small.join("2024/05/01/big.mov");

        let msg = describe(&copy_atomic(&src, &dst).unwrap_err());
        assert!(
            msg.to_lowercase().contains("no space left on device"),
            "{msg}"
        );
        assert!(msg.contains(&dst.display().to_string()), "{msg}");
        assert_eq!(names(dst.parent().unwrap()), Vec::<String>::new());

        let msg = describe(&write_atomic(&dst, &vec![1u8; 1 << 20], None).unwrap_err());
        assert!(
            msg.to_lowercase().contains("no space left on device"),
            "{msg}"
        );
        assert_eq!(names(dst.parent().unwrap()), Vec::<String>::new());
    }
}
