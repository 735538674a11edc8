//! The bounds a Takeout part is read within: how long a part may send no
//! byte, how often a checkpoint is written, how much free disk is left.
//! Builds with the failpoints take stand-ins from the environment, so the
//! tests need neither large sets, long waits nor a full disk.

use std::time::Duration;

use crate::takeout::ingest;

/// How long a part may send no byte before its reading is given up for
/// this run (a file in a Drive folder is fetched on demand; the fetch can
/// take minutes, or never end).
pub(super) const STALL: Duration = Duration::from_secs(2 * 60);

/// A checkpoint is written after this many bytes, this long, or this many
/// members read since the last, and at a part's end.
pub(super) const CHECKPOINT_BYTES: u64 = 256 << 20;
pub(super) const CHECKPOINT_AFTER: Duration = Duration::from_secs(30);
const CHECKPOINT_MEMBERS: usize = 2000;

/// Test hooks, in builds with the failpoints only (see `crate::failpoint`):
/// `PHOTOS_BACKUP_TAKEOUT_HOOKS="members_per_run=3,checkpoint_members=2,stall_seconds=2,free_margin_bytes=N"`
/// stands in for a run's deadline running out, for a large set's
/// checkpoints, for the stall bound and for a full disk, so tests need
/// neither large sets, long waits nor a full disk.
const HOOKS_VAR: &str = "PHOTOS_BACKUP_TAKEOUT_HOOKS";

fn hook(key: &str) -> Option<u64> {
    if !cfg!(any(debug_assertions, feature = "test-hooks")) {
        return None;
    }
    let text = std::env::var(HOOKS_VAR).ok()?;
    text.split(',')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
}

/// The bounds a read works within.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bounds {
    pub(super) stall: Duration,
    pub(super) checkpoint_members: usize,
    /// Members a run may read (a test's stand-in for the deadline).
    pub(super) members_per_run: Option<u64>,
    /// Free space to leave beyond a member copied into holding.
    pub(super) free_margin: u64,
}

impl Bounds {
    pub(super) fn of_this_build() -> Self {
        Self {
            stall: hook("stall_seconds").map_or(STALL, Duration::from_secs),
            checkpoint_members: hook("checkpoint_members")
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(CHECKPOINT_MEMBERS),
            members_per_run: hook("members_per_run"),
            free_margin: hook("free_margin_bytes").unwrap_or(ingest::FREE_MARGIN),
        }
    }
}
