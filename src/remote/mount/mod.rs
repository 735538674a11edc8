//! The two mounts that turn the server's encrypted folder into a local,
//! decrypted view: SSHFS of `user@host:dir` on the cipher mount point, then
//! gocryptfs of that on the plain mount point. An unattended run meets
//! every state a laptop can leave them in (still mounted from the last run,
//! dead after sleep, half mounted after a crash), so `ensure_mounted` reads
//! the mount table first: a healthy mount is reused, a dead one cleared,
//! nothing is ever stacked, and a failure leaves nothing mounted. The
//! password travels only on gocryptfs's standard input, never in argv or an
//! error.
//!
//! This file runs the mount; the pieces it runs are beside it: the command
//! lines (`command_lines`, pure), what the tools' failures mean
//! (`failures`, pure), what to do with each mount point (`plan`, pure),
//! whether a mount answers (`health`, probes from a child), letting go of
//! the mounts (`unmount`, with the Mac's sequence in `unmount_macos`) and
//! the error every step returns (`error`).

mod command_lines;
mod error;
mod failures;
mod health;
mod plan;
pub mod unmount;
mod unmount_macos;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::MountError;
pub use unmount::{abort_connections, release_now, unmount, FUSE_CONNECTIONS};

use self::command_lines::{
    gocryptfs_command, mkdir_command, remote_spec, ssh_diagnosis_command, sshfs_command,
};
use self::failures::{first_lines, gocryptfs_error, non_empty, scrub, sshfs_error};
use self::health::{check_health, probe, state_of, Health};
use self::plan::{plan, PointState};
use self::unmount::clear;
use super::mount_table;
use crate::config::Remote;
use crate::host::{Host, Os};
use crate::process::CommandRunner;
use crate::secrets::Secret;

/// What `ensure_mounted` found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounted {
    /// The SSHFS mount point (the server's cipher folder), as the table names it.
    pub cipher: PathBuf,
    /// The decrypted view: where the mirror writes.
    pub plain: PathBuf,
    /// Both mounts were there and healthy: nothing was mounted.
    pub reused: bool,
    /// Dead or stacked mounts that were cleared first, with the reason.
    pub cleared: Vec<(PathBuf, String)>,
}

/// What the mounts need to know about this machine (the OS, where tools
/// live: from the [`Host`]) and how long things may take ([`MountEnv::on`]).
#[derive(Debug, Clone)]
pub struct MountEnv {
    pub os: Os,
    /// Where to look for tools, in order.
    pub tool_dirs: Vec<PathBuf>,
    /// A mount point slower than this to answer a `stat` counts as dead.
    pub stat_timeout: Duration,
    pub mount_timeout: Duration,
    pub unmount_timeout: Duration,
}

impl MountEnv {
    /// On `host`, with the usual time limits.
    #[must_use]
    pub fn on(host: &Host) -> Self {
        Self {
            os: host.os,
            tool_dirs: host.tool_dirs.clone(),
            stat_timeout: Duration::from_secs(5),
            mount_timeout: Duration::from_secs(60),
            unmount_timeout: Duration::from_secs(15),
        }
    }
}

/// A program the mount runs, found in the host's tool folders.
fn tool(env: &MountEnv, name: &str) -> Result<PathBuf, MountError> {
    crate::tools::find(name, None, &env.tool_dirs).map_err(|e| MountError::tool(e, false))
}

/// sshfs or gocryptfs: the path `remote.NAME` of the config when set, else
/// found like any other; the error names that key.
fn configurable_tool(
    env: &MountEnv,
    name: &str,
    configured: Option<&Path>,
) -> Result<PathBuf, MountError> {
    crate::tools::find(name, configured, &env.tool_dirs).map_err(|e| MountError::tool(e, true))
}

/// The mount point as the mount table will name it: its parent resolved
/// (macOS's `/tmp` is `/private/tmp`), the point itself not touched (it may
/// be a dead mount that hangs or fails every access).
#[must_use]
fn table_path(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            std::fs::canonicalize(parent).map_or_else(|_| path.to_owned(), |p| p.join(name))
        }
        _ => path.to_owned(),
    }
}

/// Mounts the encrypted remote volume, reusing healthy mounts and clearing
/// dead ones; on failure nothing is left mounted. `password` only reaches
/// gocryptfs's standard input.
pub fn ensure_mounted(
    remote: &Remote,
    password: &Secret,
    runner: &dyn CommandRunner,
    env: &MountEnv,
) -> Result<Mounted, MountError> {
    let cipher = table_path(&remote.cipher_mount);
    let plain = table_path(&remote.plain_mount);
    let spec = remote_spec(remote);
    let cipher_source = cipher.to_string_lossy().into_owned();

    let table = mount_table::read(env.os, runner)?;
    let cipher_state = state_of(&table, &cipher, &spec, env, runner)?;
    let plain_state = state_of(&table, &plain, &cipher_source, env, runner)?;
    let todo = plan(&cipher, &cipher_state, &plain, &plain_state)?;
    if todo.reuses_all() {
        return Ok(Mounted {
            cipher,
            plain,
            reused: true,
            cleared: Vec::new(),
        });
    }
    // Tools first: a missing one must not cost the mounts that are fine.
    let sshfs = if todo.cipher.mounts() {
        Some(configurable_tool(env, "sshfs", remote.sshfs.as_deref())?)
    } else {
        None
    };
    let gocryptfs = configurable_tool(env, "gocryptfs", remote.gocryptfs.as_deref())?;

    let mut cleared = Vec::new();
    if todo.plain.clears() {
        clear(&plain, true, env, runner)?;
        if let PointState::Stale(reason) = plain_state {
            cleared.push((plain.clone(), reason));
        }
    }
    if todo.cipher.clears() {
        clear(&cipher, true, env, runner)?;
        if let PointState::Stale(reason) = cipher_state {
            cleared.push((cipher.clone(), reason));
        }
    }

    let mounted = (|| {
        if let Some(sshfs) = &sshfs {
            mount_cipher(sshfs, remote, &cipher, runner, env)?;
        }
        if todo.plain.mounts() {
            mount_plain(&gocryptfs, remote, password, &cipher, &plain, runner, env)?;
        }
        Ok(())
    })();
    match mounted {
        Ok(()) => Ok(Mounted {
            cipher,
            plain,
            reused: false,
            cleared,
        }),
        Err(e) => {
            // Best effort: the first error is the one to report.
            let _ = clear(&plain, true, env, runner);
            let _ = clear(&cipher, true, env, runner);
            Err(e)
        }
    }
}

fn create_mount_point(
    path: &Path,
    env: &MountEnv,
    runner: &dyn CommandRunner,
) -> Result<(), MountError> {
    let mkdir = tool(env, "mkdir")?;
    let out = runner.run(&mkdir_command(&mkdir, path), env.stat_timeout)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(MountError::CreateMountPoint {
            path: path.to_owned(),
            detail: non_empty(first_lines(&String::from_utf8_lossy(&out.stderr))),
        })
    }
}

fn mount_cipher(
    sshfs: &Path,
    remote: &Remote,
    cipher: &Path,
    runner: &dyn CommandRunner,
    env: &MountEnv,
) -> Result<(), MountError> {
    create_mount_point(cipher, env, runner)?;
    let mut cmd = sshfs_command(sshfs, remote, cipher);
    if env.os == Os::MacOs {
        super::sshfs_mode::check(sshfs, runner)?;
        super::sshfs_mode::add_macos_options(&mut cmd);
    }
    let out = runner.run(&cmd, env.mount_timeout)?;
    if !out.status.success() {
        let sshfs_stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let ssh_stderr = tool(env, "ssh").ok().and_then(|ssh| {
            runner
                .run(&ssh_diagnosis_command(&ssh, remote), env.mount_timeout)
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        });
        return Err(sshfs_error(
            remote,
            cipher,
            &sshfs_stderr,
            ssh_stderr.as_deref(),
        ));
    }
    verify_in_table(cipher, "sshfs", runner, env)?;
    match probe(cipher, "gocryptfs.conf", env, runner)? {
        (Health::Healthy, true) => Ok(()),
        (Health::Healthy, false) => Err(MountError::NotCipherDir {
            host: remote.host.clone(),
            dir: remote.dir.clone(),
        }),
        (Health::Dead(reason), _) => Err(MountError::Unhealthy {
            path: cipher.to_owned(),
            reason: format!("right after mounting: {reason}"),
        }),
    }
}

fn mount_plain(
    gocryptfs: &Path,
    remote: &Remote,
    password: &Secret,
    cipher: &Path,
    plain: &Path,
    runner: &dyn CommandRunner,
    env: &MountEnv,
) -> Result<(), MountError> {
    create_mount_point(plain, env, runner)?;
    let cmd = gocryptfs_command(gocryptfs, cipher, plain, password);
    let out = runner.run(&cmd, env.mount_timeout)?;
    if !out.status.success() {
        let stderr = scrub(&String::from_utf8_lossy(&out.stderr), password);
        let code = out.status.code().unwrap_or(-1);
        return Err(gocryptfs_error(remote, cipher, plain, code, &stderr));
    }
    verify_in_table(plain, "gocryptfs", runner, env)?;
    match check_health(plain, env, runner)? {
        Health::Healthy => Ok(()),
        Health::Dead(reason) => Err(MountError::Unhealthy {
            path: plain.to_owned(),
            reason,
        }),
    }
}

fn verify_in_table(
    path: &Path,
    tool: &str,
    runner: &dyn CommandRunner,
    env: &MountEnv,
) -> Result<(), MountError> {
    if mount_table::read(env.os, runner)?.at(path).len() == 1 {
        Ok(())
    } else {
        Err(MountError::NotInTable {
            tool: tool.to_owned(),
            path: path.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_errors_name_the_config_key_where_there_is_one() {
        let dirs = [
            PathBuf::from("/nonexistent/a"),
            PathBuf::from("/nonexistent/b"),
        ];
        let env = MountEnv {
            tool_dirs: dirs.to_vec(),
            ..MountEnv::on(&Host::current())
        };
        let err = configurable_tool(&env, "gocryptfs", None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "gocryptfs not found (looked in /nonexistent/a:/nonexistent/b); \
             install it or set remote.gocryptfs in the config"
        );
        // No config key for the system's programs.
        let err = tool(&env, "find").unwrap_err().to_string();
        assert_eq!(
            err,
            "find not found (looked in /nonexistent/a:/nonexistent/b); install it"
        );
        let err = configurable_tool(&env, "sshfs", Some(Path::new("/x/sshfs")))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "sshfs not found at /x/sshfs (remote.sshfs in the config)"
        );
    }

    #[test]
    fn table_paths_resolve_the_parent_only() {
        let tmp = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(tmp.path()).unwrap();
        assert_eq!(
            table_path(&tmp.path().join("not-yet")),
            real.join("not-yet")
        );
        assert_eq!(
            table_path(Path::new("/nonexistent/x")),
            PathBuf::from("/nonexistent/x")
        );
    }
}

#[cfg(test)]
/// Fixtures the unit tests of the mount's files share.
mod testing {
    use std::time::Duration;

    use crate::config::Remote;
    use crate::remote::mount_table::MountEntry;

    pub(super) fn remote() -> Remote {
        Remote {
            host: "nas.local".into(),
            port: 2222,
            user: "anna".into(),
            dir: "/volume1/photos".into(),
            identity_file: Some("/Users/anna/.ssh/id_backup".into()),
            known_hosts: Some("/Users/anna/Library/Application Support/pb/known_hosts".into()),
            cipher_mount: "/Users/anna/.pb/cipher".into(),
            plain_mount: "/Users/anna/.pb/plain".into(),
            password: "keychain:photos-backup".into(),
            keep_mounted: false,
            probe_timeout: Duration::from_secs(3),
            interface: None,
            sshfs: None,
            gocryptfs: None,
        }
    }

    pub(super) fn entry(source: &str, point: &str, fs_type: &str) -> MountEntry {
        MountEntry {
            source: source.into(),
            mount_point: point.into(),
            fs_type: fs_type.into(),
        }
    }
}
