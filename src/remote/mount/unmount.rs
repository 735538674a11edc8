//! Letting go of the mounts: every FUSE layer on a mount point unmounted,
//! gently first, then by force, a bounded number of times, each step a
//! child under a timeout; the FUSE connection aborted first where the
//! system allows (Linux's fusectl) when the mount is dead or the run must
//! let go now (the deadline, a signal).

use std::path::Path;

use super::command_lines::{unmount_commands, UnmountTools};
use super::failures::{first_lines, non_empty};
use super::{table_path, tool, MountEnv, MountError};
use crate::config::Remote;
use crate::host::Os;
use crate::process::CommandRunner;
use crate::remote::mount_table;

pub(super) fn unmount_tools(env: &MountEnv) -> Result<UnmountTools, MountError> {
    match env.os {
        Os::Linux => {
            let fusermount = tool(env, "fusermount3").or_else(|_| tool(env, "fusermount"))?;
            Ok(UnmountTools {
                gentle: fusermount.clone(),
                forceful: fusermount,
            })
        }
        Os::MacOs => Ok(UnmountTools {
            gentle: tool(env, "umount")?,
            forceful: tool(env, "diskutil")?,
        }),
    }
}

/// The FUSE mounts on `path`: the only kind the backup ever unmounts.
fn fuse_mounts_at(
    path: &Path,
    env: &MountEnv,
    runner: &dyn CommandRunner,
) -> Result<usize, MountError> {
    Ok(mount_table::read(env.os, runner)?
        .at(path)
        .iter()
        .filter(|e| e.is_fuse())
        .count())
}

/// Unmounts the FUSE mounts the table lists on `path` (every layer of a
/// stack): gently first, then by force, a bounded number of times, every
/// step a child under a timeout. Before anything forceful, and first of all
/// when the mount is known `dead` (or hung), its FUSE connection is aborted
/// where the platform can ([`abort_connections`]), so that no request of
/// ours or of a daemon above it stays blocked on it.
pub(super) fn clear(
    path: &Path,
    dead: bool,
    env: &MountEnv,
    runner: &dyn CommandRunner,
) -> Result<(), MountError> {
    let mut left = fuse_mounts_at(path, env, runner)?;
    if left == 0 {
        return Ok(());
    }
    if dead {
        abort_connections(env.os, path);
    }
    let commands = unmount_commands(env.os, &unmount_tools(env)?, path);
    let tries = left + commands.len();
    let mut detail = String::new();
    for attempt in 0..tries {
        if attempt > 0 {
            abort_connections(env.os, path);
        }
        let cmd = &commands[attempt.min(commands.len() - 1)];
        match runner.run(cmd, env.unmount_timeout) {
            Ok(out) if !out.status.success() => {
                detail = format!(
                    "{cmd}: {}",
                    non_empty(first_lines(&String::from_utf8_lossy(&out.stderr)))
                );
            }
            Ok(_) => {}
            Err(e) => detail = crate::error_text::describe(&e),
        }
        left = fuse_mounts_at(path, env, runner)?;
        if left == 0 {
            return Ok(());
        }
    }
    Err(MountError::StillMounted {
        path: path.to_owned(),
        tries,
        detail: non_empty(detail),
    })
}

/// Where Linux's fusectl file system lists the FUSE connections.
pub const FUSE_CONNECTIONS: &str = "/sys/fs/fuse/connections";

/// Ends every request pending on the FUSE mounts at `path` at once, before
/// a forceful unmount.
///
/// Linux: writing to `/sys/fs/fuse/connections/N/abort` (fusectl, mounted
/// by systemd at boot) fails every pending and future request with
/// ECONNABORTED, including the uninterruptible ones (a FLUSH) that a lazy
/// unmount leaves blocked; N is the mount's device minor, read from
/// `/proc/self/mountinfo`, so nothing touches the mount itself. Without
/// fusectl, the lazy unmount that follows still detaches the mount.
///
/// macOS: nothing here (no fusectl); the forceful step of
/// [`unmount_commands`] is the abort there, and the place to extend it.
/// Evidence, unverified on a Mac: macFUSE's kext marks a file system dead
/// after `daemon_timeout` (60 s) without an answer, so an unmount of an
/// unresponsive volume ends within about two minutes, and `diskutil unmount
/// force` unmounted where `umount` and `diskutil unmount` failed
/// (macfuse/macfuse#943); `diskutil unmount force` is what other FUSE users
/// settled on for busy or dead mounts (fuse-friends/fuse-native#13,
/// Scille/parsec-cloud#1644). macFUSE 5's `FSKit` backend does not honour
/// `daemon_timeout` yet: a killed daemon there leaves `umount` and pending
/// requests blocked until the volume's module extension is terminated
/// (macfuse/macfuse#1201), which is why the run probes mounts only from
/// child processes and bounds every step.
pub fn abort_connections(os: Os, path: &Path) {
    match os {
        Os::Linux => {
            let Ok(info) = std::fs::read_to_string(mount_table::PROC_MOUNTINFO) else {
                return;
            };
            for n in mount_table::fuse_connections(&info, path) {
                let abort = Path::new(FUSE_CONNECTIONS)
                    .join(n.to_string())
                    .join("abort");
                // Best effort: without fusectl, the lazy unmount still detaches.
                let _ = std::fs::write(abort, b"1");
            }
        }
        Os::MacOs => {}
    }
}

/// Unmounts the decrypted view, then the SSHFS mount under it. Mounts that
/// are not there are fine; a busy or dead one is detached by force.
pub fn unmount(
    remote: &Remote,
    runner: &dyn CommandRunner,
    env: &MountEnv,
) -> Result<(), MountError> {
    let plain = clear(&table_path(&remote.plain_mount), false, env, runner);
    let cipher = clear(&table_path(&remote.cipher_mount), false, env, runner);
    plain.and(cipher)
}

/// Lets go of both mounts now, whatever state they are in (the whole-run
/// deadline, a signal): both FUSE connections aborted first, top layer
/// first, so a run or a daemon blocked in them wakes up, then unmounted.
/// Every step is bounded; a mount left is in the error.
pub fn release_now(
    remote: &Remote,
    runner: &dyn CommandRunner,
    env: &MountEnv,
) -> Result<(), MountError> {
    let plain = table_path(&remote.plain_mount);
    let cipher = table_path(&remote.cipher_mount);
    abort_connections(env.os, &plain);
    abort_connections(env.os, &cipher);
    let plain = clear(&plain, true, env, runner);
    let cipher = clear(&cipher, true, env, runner);
    plain.and(cipher)
}
