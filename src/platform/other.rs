//! Linux and other Unix systems, where the tool is developed and tested:
//! the run log in the state dir (itself XDG's, `host::default_state_dir`),
//! no Notification Center (notifications go through `notify.command`), and
//! no Keychain (secrets come from `file:`, `env:` or `command:` there).

use std::path::{Path, PathBuf};

use crate::secrets::KeychainError;

pub(super) fn default_log_dir(_home: &Path, state_dir: &Path) -> PathBuf {
    state_dir.join("logs")
}

pub(super) fn copy_open_file(src: &std::fs::File, dst: &Path) -> std::io::Result<u64> {
    let mut out = crate::private_fs::create_new(dst)?;
    std::io::copy(&mut &*src, &mut out)
}

// No clone; ext4 has no reflink.
pub(super) const COPY_CLONES: bool = false;

#[cfg(target_os = "linux")]
pub(super) fn sync_filesystem(file: &std::fs::File) -> std::io::Result<()> {
    rustix::fs::syncfs(file).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
#[allow(clippy::unnecessary_wraps)] // the signature of the Linux one
fn sync_filesystem(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// Linux waits for the writes of `syncfs`, which so gives the guarantee of
/// an fsync of every file of the filesystem (syncfs(2), NOTES), and reports
/// their write errors since 5.8 (before, an error could go unseen).
#[cfg(target_os = "linux")]
pub(super) fn sync_filesystem_is_fsync() -> bool {
    static KNOWN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *KNOWN.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .is_ok_and(|release| super::reports_sync_errors(&release))
    })
}

#[cfg(not(target_os = "linux"))]
fn sync_filesystem_is_fsync() -> bool {
    false
}

pub(super) const CAN_ASK_PHOTOS: bool = false;

pub(super) const HAS_KEYCHAIN: bool = false;

pub(super) const HAS_NOTIFICATION_CENTER: bool = false;

pub(super) fn show_notification(_title: &str, _body: &str) -> Result<(), String> {
    Err("not available on this system (macOS only)".into())
}

pub(super) fn keychain_find(
    _service: &str,
    _account: &str,
) -> Result<Option<Vec<u8>>, KeychainError> {
    Err(KeychainError::Unavailable)
}

pub(super) fn keychain_store(
    _service: &str,
    _account: &str,
    _value: &[u8],
) -> Result<(), KeychainError> {
    Err(KeychainError::Unavailable)
}

pub(super) fn keychain_delete(_service: &str, _account: &str) -> Result<bool, KeychainError> {
    Err(KeychainError::Unavailable)
}

/// No Keychain, so no dialog to forbid.
pub(super) struct NoKeychainUi;

#[allow(clippy::unnecessary_wraps)] // the signature of the macOS one
pub(super) fn forbid_keychain_ui() -> Result<NoKeychainUi, KeychainError> {
    Ok(NoKeychainUi)
}
