//! Why the encrypted volume could not be mounted or unmounted: one error
//! type for every step of `mount`, each variant naming the host, the path
//! or the tool, none holding the password. A program that is not found
//! (`tools::ToolError`) becomes the variant that names its config key,
//! for the two programs the config may name (sshfs, gocryptfs).

use std::path::PathBuf;

use crate::process::ProcessError;
use crate::remote::mount_table::TableError;
use crate::tools::ToolError;

/// Why the encrypted volume could not be mounted (or unmounted). Every
/// message names the host, the path or the tool; none holds the password.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error(
        "{tool} not found (looked in {}); install it{}",
        crate::tools::shown(searched),
        config_hint(tool, *configurable)
    )]
    MissingTool {
        tool: String,
        searched: Vec<PathBuf>,
        /// The config may name it (`remote.TOOL`).
        configurable: bool,
    },
    #[error(transparent)]
    SshfsIncompatible(#[from] crate::remote::sshfs_mode::Incompatible),
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

impl MountError {
    /// A program not found; `configurable`: the config may name its path
    /// (`remote.TOOL`), and the message says so.
    pub(super) fn tool(e: ToolError, configurable: bool) -> Self {
        match e {
            ToolError::NotFound { program, searched } => MountError::MissingTool {
                tool: program,
                searched,
                configurable,
            },
            ToolError::NotAt { program, path } => MountError::ConfiguredToolMissing {
                tool: program,
                path,
            },
        }
    }
}

fn config_hint(tool: &str, configurable: bool) -> String {
    if configurable {
        format!(" or set remote.{tool} in the config")
    } else {
        String::new()
    }
}
