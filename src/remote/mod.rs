//! The encrypted remote volume: is the server reachable (`network`, with
//! `local_network` telling macOS Local Network Privacy from being away), the
//! SSHFS and gocryptfs mounts (`mount`, the mount table in `mounts`, the Mac's
//! sshfs options in `sshfs_mode` and its unmount sequence in
//! `unmount_macos`), the repair of folders a lost connection left half-made
//! (`repair`), and the mirror of staging onto the decrypted view (`mirror`).

pub mod local_network;
pub mod mirror;
pub mod mount;
pub mod mounts;
pub mod network;
pub mod repair;
pub mod sshfs_mode;
pub mod unmount_macos;
