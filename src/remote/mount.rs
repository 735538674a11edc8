//! The two mounts that turn the server's encrypted folder into a local,
//! decrypted view: SSHFS of `user@host:dir` on the cipher mount point, then
//! gocryptfs of that on the plain mount point. An unattended run meets
//! every state a laptop can leave them in (still mounted from the last run,
//! dead after sleep, half mounted after a crash), so `ensure_mounted` reads
//! the mount table first: a healthy mount is reused, a dead one cleared,
//! nothing is ever stacked, and a failure leaves nothing mounted. Command
//! lines and decisions are pure functions; the password travels only on
//! gocryptfs's standard input, never in argv or an error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::mounts::{self, MountEntry, MountTable, TableError};
use crate::config::Remote;
use crate::host::{Host, Os};
use crate::process::{CommandLine, CommandRunner, ProcessError};
use crate::secrets::Secret;
use crate::tools::ToolError;

/// Why the encrypted volume could not be mounted (or unmounted). Every
/// message names the host, the path or the tool; none holds the password.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error(
        "{tool} not found (looked in {}); install it or set remote.{tool} in the config",
        crate::tools::shown(searched)
    )]
    MissingTool {
        tool: String,
        searched: Vec<PathBuf>,
    },
    #[error(transparent)]
    SshfsIncompatible(#[from] super::sshfs_mode::Incompatible),
    #[error("{tool} not found at {path} (remote.{tool} in the config)")]
    ConfiguredToolMissing { tool: String, path: PathBuf },
    #[error("cannot reach {host} port {port} over SSH: {reason}")]
    Unreachable {
        host: String,
        port: u16,
        reason: String,
    },
    #[error(
        "the host key of {host} port {port} does not match the one in {known_hosts}: \
         refusing to connect (someone may be impersonating the server; if its key \
         really changed, replace the line in that file)"
    )]
    HostKeyChanged {
        host: String,
        port: u16,
        known_hosts: String,
    },
    #[error(
        "the host key of {host} port {port} is not in {known_hosts}: add it once \
         (for example by connecting with ssh by hand), then the backup checks it every time"
    )]
    HostKeyUnknown {
        host: String,
        port: u16,
        known_hosts: String,
    },
    #[error("{user}@{host} refused the SSH login (key {identity}): {detail}")]
    Auth {
        user: String,
        host: String,
        identity: String,
        detail: String,
    },
    #[error("folder {dir} does not exist on {host}")]
    RemoteDirMissing { host: String, dir: String },
    #[error(
        "{host}:{dir} is not a gocryptfs folder (no gocryptfs.conf); \
         initialise it once with `gocryptfs -init`"
    )]
    NotCipherDir { host: String, dir: String },
    #[error("wrong gocryptfs password for {host}:{dir} (remote.password)")]
    WrongPassword { host: String, dir: String },
    #[error("mount point {path} is not empty; gocryptfs mounts only on an empty folder")]
    MountPointNotEmpty { path: PathBuf },
    #[error(
        "mount point {path} holds {mounted} ({fs_type}), not this backup's mount; \
         unmount it or choose another mount point"
    )]
    MountPointBusy {
        path: PathBuf,
        mounted: String,
        fs_type: String,
    },
    #[error("cannot create mount point {path}: {detail}")]
    CreateMountPoint { path: PathBuf, detail: String },
    #[error("sshfs could not mount {spec} on {path}: {detail}")]
    Sshfs {
        spec: String,
        path: PathBuf,
        detail: String,
    },
    #[error("gocryptfs could not mount {cipher} on {path} (exit {code}): {detail}")]
    Gocryptfs {
        cipher: PathBuf,
        path: PathBuf,
        code: i32,
        detail: String,
    },
    #[error("{tool} reported success, but {path} is not in the mount table")]
    NotInTable { tool: String, path: PathBuf },
    #[error("{path} is mounted but does not answer: {reason}")]
    Unhealthy { path: PathBuf, reason: String },
    #[error("{path} is still mounted after {tries} attempts to unmount it: {detail}")]
    StillMounted {
        path: PathBuf,
        tries: usize,
        detail: String,
    },
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Process(#[from] ProcessError),
}

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

// ---------------------------------------------------------------------------
// Tools

fn tool(env: &MountEnv, name: &str, configured: Option<&Path>) -> Result<PathBuf, MountError> {
    Ok(crate::tools::find(name, configured, &env.tool_dirs)?)
}

impl From<ToolError> for MountError {
    fn from(e: ToolError) -> Self {
        match e {
            ToolError::NotFound { program, searched } => MountError::MissingTool {
                tool: program,
                searched,
            },
            ToolError::NotAt { program, path } => MountError::ConfiguredToolMissing {
                tool: program,
                path,
            },
        }
    }
}

// ---------------------------------------------------------------------------
// Command lines

/// The remote folder as ssh and sshfs name it: `user@host:dir`, an IPv6
/// address in brackets.
#[must_use]
pub fn remote_spec(remote: &Remote) -> String {
    let host = if remote.host.contains(':') {
        format!("[{}]", remote.host)
    } else {
        remote.host.clone()
    };
    format!("{}@{}:{}", remote.user, host, remote.dir)
}

/// Seconds ssh waits for the TCP connection (the gate already saw the port open).
const CONNECT_TIMEOUT_SECS: u32 = 15;

/// The ssh options of both sshfs and the diagnosis: keys from the config,
/// host keys always checked, never a prompt.
fn ssh_options(remote: &Remote) -> Vec<(&'static str, String)> {
    let mut options = vec![
        ("ServerAliveInterval", "15".to_owned()),
        ("ServerAliveCountMax", "3".to_owned()),
        ("ConnectTimeout", CONNECT_TIMEOUT_SECS.to_string()),
    ];
    if let Some(identity) = &remote.identity_file {
        options.push(("IdentityFile", ssh_value(&identity.to_string_lossy())));
        // Only that key: an agent full of others can exhaust MaxAuthTries.
        options.push(("IdentitiesOnly", "yes".to_owned()));
    }
    if let Some(known) = &remote.known_hosts {
        options.push(("UserKnownHostsFile", ssh_value(&known.to_string_lossy())));
    }
    options.push(("StrictHostKeyChecking", "yes".to_owned()));
    options.push(("BatchMode", "yes".to_owned()));
    options
}

/// An ssh option value: quoted when it holds blanks (ssh splits `-o` values
/// like config lines).
fn ssh_value(value: &str) -> String {
    if value.chars().any(|c| c.is_whitespace() || c == '"') {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        value.to_owned()
    }
}

/// A FUSE `-o` list item: commas and backslashes escaped.
fn fuse_escape(item: &str) -> String {
    item.replace('\\', "\\\\").replace(',', "\\,")
}

/// `sshfs user@host:dir MOUNTPOINT -p PORT -o reconnect,ServerAlive...,
/// IdentityFile=...,UserKnownHostsFile=...,StrictHostKeyChecking=yes,BatchMode=yes`.
#[must_use]
pub fn sshfs_command(sshfs: &Path, remote: &Remote, mount_point: &Path) -> CommandLine {
    let mut items = vec!["reconnect".to_owned()];
    items.extend(
        ssh_options(remote)
            .into_iter()
            .map(|(k, v)| fuse_escape(&format!("{k}={v}"))),
    );
    CommandLine::new(
        sshfs,
        [
            remote_spec(remote),
            mount_point.to_string_lossy().into_owned(),
            "-p".to_owned(),
            remote.port.to_string(),
            "-o".to_owned(),
            items.join(","),
        ],
    )
}

/// What sshfs itself runs, run directly to learn why sshfs failed: sshfs
/// sends ssh's messages to /dev/null unless kept in the foreground.
#[must_use]
pub fn ssh_diagnosis_command(ssh: &Path, remote: &Remote) -> CommandLine {
    let host = remote.host.clone();
    let mut args = vec![
        "-x".to_owned(),
        "-a".to_owned(),
        "-oClearAllForwardings=yes".to_owned(),
        "-p".to_owned(),
        remote.port.to_string(),
    ];
    args.extend(
        ssh_options(remote)
            .into_iter()
            .map(|(k, v)| format!("-o{k}={v}")),
    );
    args.extend([
        "-s".to_owned(),
        "--".to_owned(),
        format!("{}@{}", remote.user, host),
        "sftp".to_owned(),
    ]);
    CommandLine::new(ssh, args)
}

/// `gocryptfs -q -passfile /dev/stdin CIPHER PLAIN`, the password (and a
/// newline) on standard input. Not `-nosyslog`: with it, the daemon keeps
/// the captured stderr open and the mount command never seems to finish.
#[must_use]
pub fn gocryptfs_command(
    gocryptfs: &Path,
    cipher: &Path,
    plain: &Path,
    password: &Secret,
) -> CommandLine {
    CommandLine::new(
        gocryptfs,
        [
            "-q".to_owned(),
            "-passfile".to_owned(),
            "/dev/stdin".to_owned(),
            "--".to_owned(),
            cipher.to_string_lossy().into_owned(),
            plain.to_string_lossy().into_owned(),
        ],
    )
    .stdin(format!("{}\n", password.expose()))
}

/// The unmount commands for `mount_point`, gentle first: `fusermount3 -u`
/// then `-uz` (lazy: detaches even a busy or dead mount) on Linux; on
/// macOS `umount`, `umount -f`, then `diskutil unmount force` (`unmount_macos`).
#[must_use]
pub fn unmount_commands(os: Os, tools: &UnmountTools, mount_point: &Path) -> Vec<CommandLine> {
    let path = mount_point.to_string_lossy().into_owned();
    match os {
        Os::Linux => vec![
            CommandLine::new(&tools.gentle, ["-u".to_owned(), path.clone()]),
            CommandLine::new(&tools.forceful, ["-uz".to_owned(), path]),
        ],
        Os::MacOs => super::unmount_macos::commands(&tools.gentle, &tools.forceful, mount_point),
    }
}

/// The programs of [`unmount_commands`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmountTools {
    pub gentle: PathBuf,
    pub forceful: PathBuf,
}

fn unmount_tools(env: &MountEnv) -> Result<UnmountTools, MountError> {
    match env.os {
        Os::Linux => {
            let fusermount =
                tool(env, "fusermount3", None).or_else(|_| tool(env, "fusermount", None))?;
            Ok(UnmountTools {
                gentle: fusermount.clone(),
                forceful: fusermount,
            })
        }
        Os::MacOs => Ok(UnmountTools {
            gentle: tool(env, "umount", None)?,
            forceful: tool(env, "diskutil", None)?,
        }),
    }
}

// ---------------------------------------------------------------------------
// What outputs mean

/// What ssh's stderr says went wrong, when it says something we know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshFailure {
    HostKeyChanged,
    HostKeyUnknown,
    Auth(String),
    Unreachable(String),
}

/// Reads ssh's stderr (OpenSSH wording, stable for decades).
#[must_use]
pub fn classify_ssh_stderr(stderr: &str) -> Option<SshFailure> {
    let line_with = |needle: &str| {
        stderr
            .lines()
            .find(|l| l.contains(needle))
            .map(|l| l.trim().trim_start_matches("ssh: ").to_owned())
    };
    if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || stderr.contains("has changed and you have requested strict checking")
    {
        return Some(SshFailure::HostKeyChanged);
    }
    if stderr.contains("host key is known for") || stderr.contains("Host key verification failed") {
        return Some(SshFailure::HostKeyUnknown);
    }
    for needle in [
        "Permission denied",
        "no such identity",
        "Load key",
        "Too many authentication failures",
    ] {
        if let Some(line) = line_with(needle) {
            return Some(SshFailure::Auth(line));
        }
    }
    for needle in [
        "Connection refused",
        "timed out",
        "No route to host",
        "Network is unreachable",
        "Could not resolve hostname",
        "Connection closed by",
        "Connection reset",
    ] {
        if let Some(line) = line_with(needle) {
            return Some(SshFailure::Unreachable(line));
        }
    }
    None
}

/// The error for an sshfs failure, from sshfs's own stderr and, when it
/// ran, the diagnosis by ssh.
fn sshfs_error(
    remote: &Remote,
    mount_point: &Path,
    sshfs_stderr: &str,
    ssh_stderr: Option<&str>,
) -> MountError {
    let known_hosts = remote.known_hosts.as_ref().map_or_else(
        || "~/.ssh/known_hosts".to_owned(),
        |p| p.display().to_string(),
    );
    match ssh_stderr.and_then(classify_ssh_stderr) {
        Some(SshFailure::HostKeyChanged) => {
            return MountError::HostKeyChanged {
                host: remote.host.clone(),
                port: remote.port,
                known_hosts,
            }
        }
        Some(SshFailure::HostKeyUnknown) => {
            return MountError::HostKeyUnknown {
                host: remote.host.clone(),
                port: remote.port,
                known_hosts,
            }
        }
        Some(SshFailure::Auth(detail)) => {
            return MountError::Auth {
                user: remote.user.clone(),
                host: remote.host.clone(),
                identity: remote
                    .identity_file
                    .as_ref()
                    .map_or_else(|| "ssh's default".to_owned(), |p| p.display().to_string()),
                detail,
            }
        }
        Some(SshFailure::Unreachable(reason)) => {
            return MountError::Unreachable {
                host: remote.host.clone(),
                port: remote.port,
                reason,
            }
        }
        None => {}
    }
    let spec = remote_spec(remote);
    if sshfs_stderr.contains(&format!("{spec}: No such file or directory")) {
        return MountError::RemoteDirMissing {
            host: remote.host.clone(),
            dir: remote.dir.clone(),
        };
    }
    MountError::Sshfs {
        spec,
        path: mount_point.to_owned(),
        detail: non_empty(first_lines(sshfs_stderr)),
    }
}

/// gocryptfs's exit codes: 12 wrong password, 10 mount point not empty,
/// 23 (documented) or 11 (2.3 in practice) no readable gocryptfs.conf.
fn gocryptfs_error(
    remote: &Remote,
    cipher: &Path,
    plain: &Path,
    code: i32,
    stderr: &str,
) -> MountError {
    match code {
        12 => MountError::WrongPassword {
            host: remote.host.clone(),
            dir: remote.dir.clone(),
        },
        10 => MountError::MountPointNotEmpty {
            path: plain.to_owned(),
        },
        11 | 23 if stderr.contains("gocryptfs.conf") => MountError::NotCipherDir {
            host: remote.host.clone(),
            dir: remote.dir.clone(),
        },
        _ => MountError::Gocryptfs {
            cipher: cipher.to_owned(),
            path: plain.to_owned(),
            code,
            detail: non_empty(first_lines(stderr)),
        },
    }
}

/// A child's stderr for a message: its first meaningful lines, without
/// gocryptfs's complaints that there is no syslog to switch to.
fn first_lines(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains("ToSyslog"))
        .take(3)
        .collect::<Vec<_>>()
        .join(" / ")
}

fn non_empty(text: String) -> String {
    if text.is_empty() {
        "no message".to_owned()
    } else {
        text
    }
}

/// `text` with every occurrence of the secret replaced by `***`: a last
/// guard, should a tool ever echo what it read.
#[must_use]
pub fn scrub(text: &str, secret: &Secret) -> String {
    let value = secret.expose();
    if value.is_empty() {
        text.to_owned()
    } else {
        text.replace(value, "***")
    }
}

// ---------------------------------------------------------------------------
// Decisions

/// How a mount point looks before mounting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointState {
    /// Nothing mounted.
    Free,
    /// Our mount, once, answering.
    Healthy,
    /// Our mount, but dead, hung or stacked: to clear before mounting.
    Stale(String),
    /// Something else is mounted there: not ours to touch.
    Foreign(MountEntry),
}

/// Judges the entries on one mount point: ours when the source is what we
/// mount there (`expected_source`); `health` only matters for ours.
#[must_use]
pub fn judge(entries: &[&MountEntry], expected_source: &str, health: &Health) -> PointState {
    if let Some(other) = entries
        .iter()
        .find(|e| !same_source(&e.source, expected_source) || !e.is_fuse())
    {
        return PointState::Foreign((*other).clone());
    }
    match (entries.len(), health) {
        (0, _) => PointState::Free,
        (1, Health::Healthy) => PointState::Healthy,
        (1, Health::Dead(reason)) => PointState::Stale(reason.clone()),
        (n, _) => PointState::Stale(format!("mounted {n} times on top of itself")),
    }
}

/// Whether a table source is the one we mount: gocryptfs shows a comma
/// of the cipher folder's path as `_` (commas separate mount options).
#[must_use]
pub fn same_source(found: &str, expected: &str) -> bool {
    found == expected || found == expected.replace(',', "_")
}

/// What to do with one mount point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Healthy: reuse it.
    Keep,
    /// Nothing there: mount.
    Mount,
    /// Unmount what is there (dead, stacked, or on a cipher mount being
    /// redone), then mount.
    Remount,
}

impl Action {
    #[must_use]
    pub fn clears(self) -> bool {
        self == Action::Remount
    }

    #[must_use]
    pub fn mounts(self) -> bool {
        self != Action::Keep
    }
}

/// The actions for both mount points, carried out as: clear plain, clear
/// cipher, mount cipher, mount plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub cipher: Action,
    pub plain: Action,
}

impl Plan {
    /// Both mounts are there and healthy.
    #[must_use]
    pub fn reuses_all(&self) -> bool {
        self.cipher == Action::Keep && self.plain == Action::Keep
    }
}

/// The plan for the two mount points: the plain view is only as good as
/// the SSHFS mount under it, so a cipher mount to redo takes the plain one
/// with it. Foreign mounts stop everything.
pub fn plan(
    cipher_path: &Path,
    cipher: &PointState,
    plain_path: &Path,
    plain: &PointState,
) -> Result<Plan, MountError> {
    for (path, state) in [(cipher_path, cipher), (plain_path, plain)] {
        if let PointState::Foreign(entry) = state {
            return Err(MountError::MountPointBusy {
                path: path.to_owned(),
                mounted: entry.source.clone(),
                fs_type: entry.fs_type.clone(),
            });
        }
    }
    let cipher_action = match cipher {
        PointState::Healthy => Action::Keep,
        PointState::Free => Action::Mount,
        _ => Action::Remount,
    };
    let plain_action = match plain {
        PointState::Free => Action::Mount,
        PointState::Healthy if cipher_action == Action::Keep => Action::Keep,
        _ => Action::Remount,
    };
    Ok(Plan {
        cipher: cipher_action,
        plain: plain_action,
    })
}

/// Whether a mount point answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Dead(String),
}

/// The meaning of a probe of a mount point by a child process (see
/// [`probe_command`]): it ran and listed the folder (healthy), it failed
/// (ENOTCONN, "transport endpoint is not connected", is the usual one), or
/// it did not answer in time (a hung FUSE daemon: the child was killed,
/// and the run never waited on the mount itself).
#[must_use]
pub fn health_of(
    outcome: &Result<std::process::Output, ProcessError>,
    timeout: Duration,
) -> Health {
    match outcome {
        Ok(out) if out.status.success() => Health::Healthy,
        Ok(out) => Health::Dead(non_empty(first_lines(&String::from_utf8_lossy(
            &out.stderr,
        )))),
        Err(ProcessError::Timeout { .. }) => Health::Dead(format!(
            "no answer within {} s (hung)",
            timeout.as_secs_f32()
        )),
        Err(e) => Health::Dead(crate::error_text::describe(&e)),
    }
}

/// `find PATH -maxdepth 1 -name NAME -type f`: stats and lists the mount
/// point (a stat alone is answered from the kernel's cache for a gocryptfs
/// view whose SSHFS below has died) and prints `PATH/NAME` when that file
/// is there. Run as a child, under a timeout: a dead or hung mount can put
/// the process that touches it in uninterruptible sleep, and that must
/// never be the run itself.
#[must_use]
pub fn probe_command(find: &Path, path: &Path, name: &str) -> CommandLine {
    CommandLine::new(
        find,
        [
            path.to_string_lossy().into_owned(),
            "-maxdepth".to_owned(),
            "1".to_owned(),
            "-name".to_owned(),
            name.to_owned(),
            "-type".to_owned(),
            "f".to_owned(),
        ],
    )
    .max_stdout(64 * 1024)
}

/// `mkdir -p PATH`, as a child: the point may be a dead mount the table no
/// longer lists, which a `stat` from the run would hang on.
#[must_use]
pub fn mkdir_command(mkdir: &Path, path: &Path) -> CommandLine {
    CommandLine::new(
        mkdir,
        [
            "-p".to_owned(),
            "--".to_owned(),
            path.to_string_lossy().into_owned(),
        ],
    )
}

// ---------------------------------------------------------------------------
// I/O

/// Probes `path` through a child (see [`probe_command`]); `Ok(Some(true))`
/// also says that `name` is a file there.
fn probe(
    path: &Path,
    name: &str,
    env: &MountEnv,
    runner: &dyn CommandRunner,
) -> Result<(Health, bool), MountError> {
    let find = tool(env, "find", None)?;
    let outcome = runner.run(&probe_command(&find, path, name), env.stat_timeout);
    let found = outcome
        .as_ref()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    Ok((health_of(&outcome, env.stat_timeout), found))
}

fn check_health(
    path: &Path,
    env: &MountEnv,
    runner: &dyn CommandRunner,
) -> Result<Health, MountError> {
    Ok(probe(path, ".photos-backup-probe", env, runner)?.0)
}

/// The mount point as the mount table will name it: its parent resolved
/// (macOS's `/tmp` is `/private/tmp`), the point itself not touched (it may
/// be a dead mount that hangs or fails every access).
#[must_use]
pub fn table_path(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            std::fs::canonicalize(parent).map_or_else(|_| path.to_owned(), |p| p.join(name))
        }
        _ => path.to_owned(),
    }
}

fn state_of(
    table: &MountTable,
    path: &Path,
    expected_source: &str,
    env: &MountEnv,
    runner: &dyn CommandRunner,
) -> Result<PointState, MountError> {
    let entries = table.at(path);
    let health = if entries.len() == 1 {
        check_health(path, env, runner)?
    } else {
        Health::Healthy
    };
    Ok(judge(&entries, expected_source, &health))
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

    let table = mounts::read(env.os, runner)?;
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
        Some(tool(env, "sshfs", remote.sshfs.as_deref())?)
    } else {
        None
    };
    let gocryptfs = tool(env, "gocryptfs", remote.gocryptfs.as_deref())?;

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
    let mkdir = tool(env, "mkdir", None)?;
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
        let ssh_stderr = tool(env, "ssh", None).ok().and_then(|ssh| {
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
    if mounts::read(env.os, runner)?.at(path).len() == 1 {
        Ok(())
    } else {
        Err(MountError::NotInTable {
            tool: tool.to_owned(),
            path: path.to_owned(),
        })
    }
}

/// The FUSE mounts on `path`: the only kind the backup ever unmounts.
fn fuse_mounts_at(
    path: &Path,
    env: &MountEnv,
    runner: &dyn CommandRunner,
) -> Result<usize, MountError> {
    Ok(mounts::read(env.os, runner)?
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
fn clear(
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
            let Ok(info) = std::fs::read_to_string(mounts::PROC_MOUNTINFO) else {
                return;
            };
            for n in mounts::fuse_connections(&info, path) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn remote() -> Remote {
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

    fn entry(source: &str, point: &str, fs_type: &str) -> MountEntry {
        MountEntry {
            source: source.into(),
            mount_point: point.into(),
            fs_type: fs_type.into(),
        }
    }

    #[test]
    fn sshfs_checks_host_keys_and_escapes_options() {
        let cmd = sshfs_command(Path::new("/usr/bin/sshfs"), &remote(), Path::new("/m/c"));
        assert_eq!(
            cmd.args,
            [
                "anna@nas.local:/volume1/photos",
                "/m/c",
                "-p",
                "2222",
                "-o",
                "reconnect,ServerAliveInterval=15,ServerAliveCountMax=3,ConnectTimeout=15,\
                 IdentityFile=/Users/anna/.ssh/id_backup,IdentitiesOnly=yes,\
                 UserKnownHostsFile=\"/Users/anna/Library/Application Support/pb/known_hosts\",\
                 StrictHostKeyChecking=yes,BatchMode=yes"
            ]
        );
        let mut odd = remote();
        odd.identity_file = Some("/k,ey".into());
        odd.known_hosts = None;
        odd.host = "fd00::5".into();
        let cmd = sshfs_command(Path::new("sshfs"), &odd, Path::new("/m/c"));
        assert_eq!(cmd.args[0], "anna@[fd00::5]:/volume1/photos");
        assert!(
            cmd.args[5].contains("IdentityFile=/k\\,ey,"),
            "{}",
            cmd.args[5]
        );
        assert!(!cmd.args[5].contains("UserKnownHostsFile"));
        assert!(cmd.args[5].contains("StrictHostKeyChecking=yes"));
    }

    #[test]
    fn ssh_diagnosis_runs_what_sshfs_runs() {
        let cmd = ssh_diagnosis_command(Path::new("/usr/bin/ssh"), &remote());
        let args = cmd.args.join(" ");
        assert!(
            args.starts_with("-x -a -oClearAllForwardings=yes -p 2222 -oServerAliveInterval=15"),
            "{args}"
        );
        assert!(
            args.contains("-oStrictHostKeyChecking=yes -oBatchMode=yes"),
            "{args}"
        );
        assert!(args.ends_with("-s -- anna@nas.local sftp"), "{args}");
        assert!(cmd.stdin.is_none());
    }

    #[test]
    fn the_password_goes_on_stdin_only() {
        let secret = Secret::new("hunter2 with spaces".into());
        let cmd = gocryptfs_command(
            Path::new("/opt/homebrew/bin/gocryptfs"),
            Path::new("/m/c"),
            Path::new("/m/p"),
            &secret,
        );
        assert_eq!(
            cmd.args,
            ["-q", "-passfile", "/dev/stdin", "--", "/m/c", "/m/p"]
        );
        assert_eq!(cmd.stdin.as_deref(), Some(&b"hunter2 with spaces\n"[..]));
        for shown in [cmd.to_string(), format!("{cmd:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }

    #[test]
    fn unmount_commands_escalate() {
        let linux = UnmountTools {
            gentle: "/usr/bin/fusermount3".into(),
            forceful: "/usr/bin/fusermount3".into(),
        };
        let cmds = unmount_commands(Os::Linux, &linux, Path::new("/m/p"));
        let shown: Vec<String> = cmds.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "/usr/bin/fusermount3 -u /m/p",
                "/usr/bin/fusermount3 -uz /m/p"
            ]
        );
        let mac = UnmountTools {
            gentle: "/sbin/umount".into(),
            forceful: "/usr/sbin/diskutil".into(),
        };
        let cmds = unmount_commands(Os::MacOs, &mac, Path::new("/m/p"));
        let shown: Vec<String> = cmds.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "/sbin/umount /m/p",
                "/sbin/umount -f /m/p",
                "/usr/sbin/diskutil unmount force /m/p"
            ]
        );
    }

    #[test]
    fn tool_errors_name_the_config_key() {
        let dirs = [
            PathBuf::from("/nonexistent/a"),
            PathBuf::from("/nonexistent/b"),
        ];
        let env = MountEnv {
            tool_dirs: dirs.to_vec(),
            ..MountEnv::on(&Host::current())
        };
        let err = tool(&env, "gocryptfs", None).unwrap_err().to_string();
        assert_eq!(
            err,
            "gocryptfs not found (looked in /nonexistent/a:/nonexistent/b); \
             install it or set remote.gocryptfs in the config"
        );
        let err = tool(&env, "sshfs", Some(Path::new("/x/sshfs")))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "sshfs not found at /x/sshfs (remote.sshfs in the config)"
        );
    }

    #[test]
    fn ssh_messages() {
        let changed = "@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n\
            Host key for [127.0.0.1]:42222 has changed and you have requested strict checking.\n\
            Host key verification failed.\n";
        assert_eq!(
            classify_ssh_stderr(changed),
            Some(SshFailure::HostKeyChanged)
        );
        let unknown = "No ED25519 host key is known for [127.0.0.1]:42222 and you have requested strict checking.\n\
            Host key verification failed.\n";
        assert_eq!(
            classify_ssh_stderr(unknown),
            Some(SshFailure::HostKeyUnknown)
        );
        assert_eq!(
            classify_ssh_stderr("root@127.0.0.1: Permission denied (publickey).\n"),
            Some(SshFailure::Auth(
                "root@127.0.0.1: Permission denied (publickey).".into()
            ))
        );
        assert_eq!(
            classify_ssh_stderr("ssh: connect to host 127.0.0.1 port 42223: Connection refused\n"),
            Some(SshFailure::Unreachable(
                "connect to host 127.0.0.1 port 42223: Connection refused".into()
            ))
        );
        assert!(matches!(
            classify_ssh_stderr(
                "ssh: Could not resolve hostname nas.invalid: Name or service not known\n"
            ),
            Some(SshFailure::Unreachable(_))
        ));
        assert_eq!(classify_ssh_stderr(""), None);
        assert_eq!(
            classify_ssh_stderr("Warning: Permanently added ...\n"),
            None
        );
    }

    #[test]
    fn sshfs_failures_become_distinct_errors() {
        let r = remote();
        let p = Path::new("/m/c");
        let e = sshfs_error(
            &r,
            p,
            "read: Connection reset by peer",
            Some("Host key verification failed.\n"),
        );
        assert!(matches!(e, MountError::HostKeyUnknown { .. }), "{e}");
        let e = sshfs_error(
            &r,
            p,
            "anna@nas.local:/volume1/photos: No such file or directory\n",
            Some(""),
        );
        assert_eq!(
            e.to_string(),
            "folder /volume1/photos does not exist on nas.local"
        );
        let e = sshfs_error(
            &r,
            p,
            "sshfs: bad mount point `/m/c': No such file or directory",
            None,
        );
        assert_eq!(
            e.to_string(),
            "sshfs could not mount anna@nas.local:/volume1/photos on /m/c: \
             sshfs: bad mount point `/m/c': No such file or directory"
        );
        let e = sshfs_error(
            &r,
            p,
            "",
            Some("anna@nas.local: Permission denied (publickey).\n"),
        );
        assert_eq!(
            e.to_string(),
            "anna@nas.local refused the SSH login (key /Users/anna/.ssh/id_backup): \
             anna@nas.local: Permission denied (publickey)."
        );
    }

    #[test]
    fn gocryptfs_exit_codes() {
        let r = remote();
        let (c, p) = (Path::new("/m/c"), Path::new("/m/p"));
        let e = gocryptfs_error(&r, c, p, 12, "Password incorrect.");
        assert_eq!(
            e.to_string(),
            "wrong gocryptfs password for nas.local:/volume1/photos (remote.password)"
        );
        let e = gocryptfs_error(
            &r,
            c,
            p,
            11,
            "Cannot open config file: open /m/c/gocryptfs.conf: no such file",
        );
        assert!(matches!(e, MountError::NotCipherDir { .. }), "{e}");
        let e = gocryptfs_error(&r, c, p, 10, "");
        assert!(matches!(e, MountError::MountPointNotEmpty { .. }), "{e}");
        let e = gocryptfs_error(
            &r,
            c,
            p,
            7,
            "SwitchToSyslog: Unix syslog delivery error\nfuse: device not found",
        );
        assert_eq!(
            e.to_string(),
            "gocryptfs could not mount /m/c on /m/p (exit 7): fuse: device not found"
        );
    }

    #[test]
    fn scrub_hides_the_secret() {
        let s = Secret::new("pw1".into());
        assert_eq!(scrub("bad pw1 here pw1", &s), "bad *** here ***");
        assert_eq!(scrub("x", &Secret::new(String::new())), "x");
    }

    #[test]
    fn judging_a_mount_point() {
        let ours = entry("anna@nas.local:/volume1/photos", "/m/c", "fuse.sshfs");
        let spec = "anna@nas.local:/volume1/photos";
        assert_eq!(judge(&[], spec, &Health::Healthy), PointState::Free);
        assert_eq!(judge(&[&ours], spec, &Health::Healthy), PointState::Healthy);
        assert_eq!(
            judge(
                &[&ours],
                spec,
                &Health::Dead("Transport endpoint is not connected".into())
            ),
            PointState::Stale("Transport endpoint is not connected".into())
        );
        assert!(matches!(
            judge(&[&ours, &ours], spec, &Health::Healthy),
            PointState::Stale(_)
        ));
        let other = entry("bob@elsewhere:/x", "/m/c", "fuse.sshfs");
        assert_eq!(
            judge(&[&ours, &other], spec, &Health::Healthy),
            PointState::Foreign(other)
        );
        let disk = entry(spec, "/m/c", "ext4");
        assert!(matches!(
            judge(&[&disk], spec, &Health::Healthy),
            PointState::Foreign(_)
        ));
        let mac = entry(spec, "/m/c", "macfuse");
        assert_eq!(judge(&[&mac], spec, &Health::Healthy), PointState::Healthy);
    }

    #[test]
    fn sources_as_gocryptfs_shows_them() {
        assert!(same_source("/m/cipher_ raw", "/m/cipher, raw"));
        assert!(same_source("/m/c", "/m/c"));
        assert!(!same_source("/m/c2", "/m/c"));
    }

    #[test]
    fn plans() {
        use Action::{Keep, Mount, Remount};
        use PointState::{Free, Healthy, Stale};
        let (c, p) = (Path::new("/m/c"), Path::new("/m/p"));
        let dead = || Stale("dead".into());
        let plan_of = |a: &PointState, b: &PointState| {
            let plan = plan(c, a, p, b).unwrap();
            (plan.cipher, plan.plain)
        };
        assert_eq!(plan_of(&Healthy, &Healthy), (Keep, Keep));
        assert!(plan(c, &Healthy, p, &Healthy).unwrap().reuses_all());
        assert_eq!(plan_of(&Free, &Free), (Mount, Mount));
        assert_eq!(plan_of(&Healthy, &Free), (Keep, Mount));
        assert_eq!(plan_of(&Healthy, &dead()), (Keep, Remount));
        // A dead SSHFS mount takes the gocryptfs view on it down too.
        assert_eq!(plan_of(&dead(), &Healthy), (Remount, Remount));
        assert_eq!(plan_of(&dead(), &dead()), (Remount, Remount));
        assert_eq!(plan_of(&dead(), &Free), (Remount, Mount));
        // A view left on an unmounted cipher folder shows the local, empty folder.
        assert_eq!(plan_of(&Free, &Healthy), (Mount, Remount));
        let foreign = PointState::Foreign(entry("/dev/sdb1", "/m/p", "ext4"));
        let err = plan(c, &Healthy, p, &foreign).unwrap_err().to_string();
        assert_eq!(
            err,
            "mount point /m/p holds /dev/sdb1 (ext4), not this backup's mount; \
             unmount it or choose another mount point"
        );
    }

    #[test]
    fn health_meaning() {
        use std::os::unix::process::ExitStatusExt;
        let t = Duration::from_secs(5);
        let output = |code: i32, stderr: &str| std::process::Output {
            status: std::process::ExitStatus::from_raw(code << 8),
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
        };
        assert_eq!(health_of(&Ok(output(0, "")), t), Health::Healthy);
        assert_eq!(
            health_of(
                &Ok(output(
                    1,
                    "find: '/m/p': Transport endpoint is not connected\n"
                )),
                t
            ),
            Health::Dead("find: '/m/p': Transport endpoint is not connected".into())
        );
        let hung = Err(ProcessError::Timeout {
            program: "find".into(),
            seconds: 5,
        });
        assert_eq!(
            health_of(&hung, t),
            Health::Dead("no answer within 5 s (hung)".into())
        );
    }

    #[test]
    fn probes_run_as_children() {
        let cmd = probe_command(
            Path::new("/usr/bin/find"),
            Path::new("/m/c"),
            "gocryptfs.conf",
        );
        assert_eq!(
            cmd.to_string(),
            "/usr/bin/find /m/c -maxdepth 1 -name gocryptfs.conf -type f"
        );
        let cmd = mkdir_command(Path::new("/bin/mkdir"), Path::new("/m/-p"));
        assert_eq!(cmd.args, ["-p", "--", "/m/-p"]);
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
