//! macOS specifics: Apple's folder conventions for the run log
//! (`~/Library/Logs`; state's Application Support is `host`'s), the login
//! Keychain (generic passwords, through security-framework) and
//! Notification Center (through mac-notification-sys).

use std::path::{Path, PathBuf};

use security_framework::passwords;

use crate::secrets::KeychainError;

pub(super) fn default_log_dir(home: &Path, _state_dir: &Path) -> PathBuf {
    crate::launchd::log_dir(home)
}

pub(super) fn copy_open_file(src: &std::fs::File, dst: &Path) -> std::io::Result<u64> {
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

// APFS: `fclonefileat`.
pub(super) const COPY_CLONES: bool = true;

/// No `syncfs` on macOS: each file's fsync writes it back (staging defers
/// nothing there, see `copy_clones`).
#[allow(clippy::unnecessary_wraps)] // the signature of the Linux one
pub(super) fn sync_filesystem(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

pub(super) fn sync_filesystem_is_fsync() -> bool {
    false
}

pub(super) const CAN_ASK_PHOTOS: bool = true;

pub(super) const HAS_KEYCHAIN: bool = true;

pub(super) const HAS_NOTIFICATION_CENTER: bool = true;

/// The app the notifications are shown as: Script Editor, the app macOS
/// names for `osascript`'s notifications too, so one permission (System
/// Settings > Notifications > Script Editor) covers both paths.
const NOTIFICATION_BUNDLE_ID: &str = "com.apple.ScriptEditor2";

/// Delivers a notification through `NSUserNotificationCenter`
/// (mac-notification-sys), its errors returned. The bundle id is set before
/// the first send: left unset, the library asks `AppleScript` for the id of
/// an app called `use_default`, which shows a "Where is `use_default`?"
/// dialog or blocks (`mac-notification-sys#81`, `penso/arbor#80`). The caller
/// bounds the time (`notify::center`).
pub(super) fn show_notification(title: &str, body: &str) -> Result<(), String> {
    use mac_notification_sys::error::{ApplicationError, Error};
    match mac_notification_sys::set_application(NOTIFICATION_BUNDLE_ID) {
        Ok(()) | Err(Error::Application(ApplicationError::AlreadySet(_))) => {}
        Err(e) => return Err(e.to_string()),
    }
    mac_notification_sys::send_notification(title, None, body, None)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// `errSecItemNotFound`: no item matches (security-framework-sys names it;
/// it is not a direct dependency for one constant).
const ITEM_NOT_FOUND: i32 = -25300;

pub(super) fn keychain_find(
    service: &str,
    account: &str,
) -> Result<Option<Vec<u8>>, KeychainError> {
    match passwords::get_generic_password(service, account) {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.code() == ITEM_NOT_FOUND => Ok(None),
        Err(e) => Err(os_error(e)),
    }
}

pub(super) fn keychain_store(
    service: &str,
    account: &str,
    value: &[u8],
) -> Result<(), KeychainError> {
    passwords::set_generic_password(service, account, value).map_err(os_error)
}

pub(super) fn keychain_delete(service: &str, account: &str) -> Result<bool, KeychainError> {
    match passwords::delete_generic_password(service, account) {
        Ok(()) => Ok(true),
        Err(e) if e.code() == ITEM_NOT_FOUND => Ok(false),
        Err(e) => Err(os_error(e)),
    }
}

/// While held, no Keychain call may show a dialog: one that would (an item
/// that does not trust this build, a locked keychain) fails at once with
/// -25308 instead of waiting for a click nobody gives under launchd
/// (cachix/secretspec#438). Process-wide; dropping it allows dialogs again.
pub(super) struct NoKeychainUi(
    #[allow(dead_code)] security_framework::os::macos::keychain::KeychainUserInteractionLock,
);

pub(super) fn forbid_keychain_ui() -> Result<NoKeychainUi, KeychainError> {
    security_framework::os::macos::keychain::SecKeychain::disable_user_interaction()
        .map(NoKeychainUi)
        .map_err(os_error)
}

fn os_error(e: security_framework::base::Error) -> KeychainError {
    KeychainError::Os {
        code: e.code(),
        message: e.message().unwrap_or_else(|| "unknown error".into()),
    }
}
