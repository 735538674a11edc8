//! The copy of a large database on Linux, in ranges on several threads.
//!
//! Every read of a library starts with a private copy of its database
//! (`snapshot`; a listing copies only the pages it reads, `sparse`). On
//! APFS `std::fs::copy` clones it for free; on a Linux disk that cannot
//! clone, the kernel copies the bytes, and on one core a gigabyte database
//! costs a third of a second (the run's first copy, a fresh copy after a
//! damaged one). Split into ranges copied at the same
//! time (`copy_file_range` with offsets: no bytes through user space), it
//! costs less where there are cores to spare. Anything unusual (a file
//! system without `copy_file_range`, an error mid-way) falls back to
//! `std::fs::copy`, which says what failed.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Below this size one `std::fs::copy` is as fast (threads cost more than
/// they save on a WAL of a few megabytes).
const MIN_PARALLEL_BYTES: u64 = 64 << 20;

/// Threads at most: the writes to one file share its lock in the kernel,
/// so more than a few do not help.
const MAX_THREADS: usize = 4;

/// Copies `from` to `to` (created owner-only, replaced if there), in ranges
/// on up to `MAX_THREADS` threads when the file is large and there are
/// cores, else with `std::fs::copy`.
pub(super) fn copy(from: &Path, to: &Path) -> io::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS));
    let len = fs::metadata(from)?.len();
    if threads < 2 || len < MIN_PARALLEL_BYTES || in_ranges(from, to, len, threads).is_err() {
        fs::copy(from, to)?;
    }
    Ok(())
}

/// The copy of the first `len` bytes of `from` in `threads` ranges. A
/// source that shrinks mid-way gives a short copy, as `std::fs::copy`
/// would: the caller's fingerprint of the database sees the change.
fn in_ranges(from: &Path, to: &Path, len: u64, threads: usize) -> io::Result<()> {
    let source = File::open(from)?;
    let target = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(to)?;
    let step = len.div_ceil(threads as u64);
    std::thread::scope(|scope| {
        let copies: Vec<_> = (0..threads as u64)
            .map(|i| {
                let (source, target) = (&source, &target);
                scope.spawn(move || range(source, target, i * step, len.min((i + 1) * step)))
            })
            .collect();
        copies.into_iter().try_for_each(|c| {
            c.join()
                .unwrap_or_else(|_| Err(io::Error::other("copy thread panicked")))
        })
    })
}

/// Copies bytes `start..end` of `source` to the same offsets of `target`.
fn range(source: &File, target: &File, start: u64, end: u64) -> io::Result<()> {
    let (mut from, mut to) = (start, start);
    while from < end {
        let want = usize::try_from(end - from)
            .unwrap_or(usize::MAX)
            .min(1 << 30);
        let n = rustix::fs::copy_file_range(source, Some(&mut from), target, Some(&mut to), want)?;
        if n == 0 {
            break; // The source is shorter now.
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ranges of odd sizes, more threads than would be used, a file the
    /// copy replaces: the copy is the source byte for byte.
    #[test]
    fn ranges_make_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("a"), dir.path().join("b"));
        let data: Vec<u8> = (0..3_000_017u32).map(|i| (i * 7 + i / 251) as u8).collect();
        fs::write(&from, &data).unwrap();
        for threads in [1, 2, 3, 4, 7] {
            fs::write(&to, vec![1u8; 5_000_000]).unwrap();
            in_ranges(&from, &to, data.len() as u64, threads).unwrap();
            assert!(fs::read(&to).unwrap() == data, "{threads} threads");
        }
        // A source shorter than its length when the copy began (it shrank).
        in_ranges(&from, &to, data.len() as u64 + 4096, 3).unwrap();
        assert!(fs::read(&to).unwrap() == data);
        copy(&from, &to).unwrap();
        assert!(fs::read(&to).unwrap() == data);
    }
}
