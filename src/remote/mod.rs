//! The encrypted remote volume: is the server reachable (`network`), the
//! SSHFS and gocryptfs mounts (`mount`, `mounts`), and the mirror of staging
//! onto the decrypted view (`mirror`). Being written: see the issue on the
//! encrypted remote volume.

pub mod local_network;
pub mod mirror;
pub mod mount;
pub mod mounts;
pub mod network;
pub mod repair;
pub mod sshfs_mode;
pub mod unmount_macos;
