//! macOS specifics: Apple's folder conventions (Application Support for
//! state), the login Keychain (generic passwords, through
//! security-framework) and Notification Center (through notify-rust).

use std::path::{Path, PathBuf};

use security_framework::passwords;

use crate::secrets::KeychainError;

pub fn default_state_dir(home: &Path) -> PathBuf {
    home.join("Library")
        .join("Application Support")
        .join("photos-backup")
}

pub fn default_log_dir(home: &Path, _state_dir: &Path) -> PathBuf {
    crate::launchd::log_dir(home)
}

pub fn copy_open_file(src: &std::fs::File, dst: &Path) -> std::io::Result<u64> {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::io::AsRawFd;
    // Opening /dev/fd/N is dup(N) on macOS (fd(4)): std then clones with
    // `fclonefileat` (or `fcopyfile`), which keep the source's mode; it is
    // made owner-only at once, inside our owner-only folder.
    let n = std::fs::copy(format!("/dev/fd/{}", src.as_raw_fd()), dst)?;
    std::fs::set_permissions(
        dst,
        std::fs::Permissions::from_mode(crate::private_fs::FILE_MODE),
    )?;
    Ok(n)
}

pub const CAN_ASK_PHOTOS: bool = true;

pub const HAS_KEYCHAIN: bool = true;

pub const HAS_NOTIFICATION_CENTER: bool = true;

/// Delivers a notification through notify-rust (`NSUserNotificationCenter`).
/// The handle it returns sends on drop; errors it can report come first.
pub fn show_notification(title: &str, body: &str) -> Result<(), String> {
    notify_rust::Notification::new()
        .summary(title)
        .body(body)
        .show()
        .map(drop)
        .map_err(|e| e.to_string())
}

/// `errSecItemNotFound`: no item matches (security-framework-sys names it;
/// it is not a direct dependency for one constant).
const ITEM_NOT_FOUND: i32 = -25300;

pub fn keychain_find(service: &str, account: &str) -> Result<Option<Vec<u8>>, KeychainError> {
    match passwords::get_generic_password(service, account) {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.code() == ITEM_NOT_FOUND => Ok(None),
        Err(e) => Err(os_error(e)),
    }
}

pub fn keychain_store(service: &str, account: &str, value: &[u8]) -> Result<(), KeychainError> {
    passwords::set_generic_password(service, account, value).map_err(os_error)
}

pub fn keychain_delete(service: &str, account: &str) -> Result<bool, KeychainError> {
    match passwords::delete_generic_password(service, account) {
        Ok(()) => Ok(true),
        Err(e) if e.code() == ITEM_NOT_FOUND => Ok(false),
        Err(e) => Err(os_error(e)),
    }
}

fn os_error(e: security_framework::base::Error) -> KeychainError {
    KeychainError::Os {
        code: e.code(),
        message: e.message().unwrap_or_else(|| "unknown error".into()),
    }
}
