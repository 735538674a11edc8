//! The encrypted remote volume: is the server reachable (`network`, with
//! `local_network` telling macOS Local Network Privacy from being away), the
//! SSHFS and gocryptfs mounts (`mount`: command lines, failure classes, the
//! plan, health probes, unmounting; the Mac's sshfs options in
//! `sshfs_mode`), the kernel's mount table read and parsed (`mount_table`),
//! the repair of folders a lost connection left half-made (`repair`), and
//! the mirror of staging onto the decrypted view (`mirror`).

pub mod local_network;
pub mod mirror;
pub mod mount;
pub mod mount_table;
pub mod network;
pub(crate) mod repair;
pub mod sshfs_mode;
