//! The one place where the operating system decides things: default folders,
//! the Keychain, Notification Center. Business logic calls these functions
//! and never carries a `#[cfg]` of its own.

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos as imp;

#[cfg(not(target_os = "macos"))]
mod other;
#[cfg(not(target_os = "macos"))]
use other as imp;

use std::path::{Path, PathBuf};

use crate::secrets::KeychainError;

/// Where the run log goes when the config does not say: where the system
/// keeps logs for people (`~/Library/Logs/photos-backup` on macOS, read by
/// Console.app), else `logs` in the state dir (itself under XDG's state dir).
#[must_use]
pub(crate) fn default_log_dir(home: &Path, state_dir: &Path) -> PathBuf {
    imp::default_log_dir(home, state_dir)
}

/// Whether Photos can be asked for originals (through `osascript`): macOS only.
#[must_use]
pub(crate) fn can_ask_photos() -> bool {
    imp::CAN_ASK_PHOTOS
}

/// Copies the content of an open regular file to `dst`, a new owner-only
/// file (it must not exist). macOS clones it on APFS (through `/dev/fd`,
/// which duplicates the descriptor, so the file checked is the file
/// cloned); elsewhere `copy_file_range` (reflinks where possible).
pub(crate) fn copy_open_file(src: &std::fs::File, dst: &Path) -> std::io::Result<u64> {
    imp::copy_open_file(src, dst)
}

/// Writes back the dirty data of the filesystem holding `file` (`syncfs`
/// on Linux); where there is no such call, nothing (each file's fsync does it).
pub(crate) fn sync_filesystem(file: &std::fs::File) -> std::io::Result<()> {
    imp::sync_filesystem(file)
}

/// Whether `sync_filesystem` makes every file of the filesystem durable,
/// as an fsync of each would, and reports any failure to write one back:
/// then a batch needs no fsync per file or folder.
#[must_use]
pub(crate) fn sync_filesystem_is_fsync() -> bool {
    imp::sync_filesystem_is_fsync()
}

/// Whether a Linux kernel of this release (`uname -r`) reports the write
/// errors of `syncfs` (5.8 and later).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn reports_sync_errors(release: &str) -> bool {
    let mut numbers = release
        .trim()
        .split(['.', '-', '+'])
        .map(|n| n.parse::<u32>().ok());
    match (numbers.next().flatten(), numbers.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (5, 8),
        _ => false,
    }
}

/// Whether `copy_open_file` clones (costs no data read or written), so a
/// hashed copy clones then hashes rather than hashing while it copies.
#[must_use]
pub(crate) fn copy_clones() -> bool {
    imp::COPY_CLONES
}

/// Whether this system has Notification Center (macOS).
#[must_use]
pub fn has_notification_center() -> bool {
    imp::HAS_NOTIFICATION_CENTER
}

/// Shows a notification in Notification Center; why not, when it cannot.
pub(crate) fn show_notification(title: &str, body: &str) -> Result<(), String> {
    imp::show_notification(title, body)
}

/// Whether this system has a Keychain (macOS).
#[must_use]
pub fn has_keychain() -> bool {
    imp::HAS_KEYCHAIN
}

/// The Keychain's generic password of `service` and `account`; `None` when
/// there is no such item. Elsewhere than on macOS: `Unavailable`.
pub(crate) fn keychain_find(
    service: &str,
    account: &str,
) -> Result<Option<Vec<u8>>, KeychainError> {
    imp::keychain_find(service, account)
}

/// Creates or replaces a generic password in the Keychain.
pub(crate) fn keychain_store(
    service: &str,
    account: &str,
    value: &[u8],
) -> Result<(), KeychainError> {
    imp::keychain_store(service, account, value)
}

/// Removes a generic password from the Keychain; `false` when there was none.
pub(crate) fn keychain_delete(service: &str, account: &str) -> Result<bool, KeychainError> {
    imp::keychain_delete(service, account)
}

/// Held for the whole of an unattended run: no Keychain call may show a
/// dialog (it would wait for a click under launchd with the run lock held);
/// one that would fails at once with -25308, which `KeychainError` explains.
pub(crate) struct NoKeychainUi(#[allow(dead_code)] imp::NoKeychainUi);

/// Forbids Keychain dialogs until the result is dropped (macOS; elsewhere
/// there is no Keychain and nothing to forbid).
pub(crate) fn forbid_keychain_ui() -> Result<NoKeychainUi, KeychainError> {
    imp::forbid_keychain_ui().map(NoKeychainUi)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sync_errors_are_reported_from_linux_5_8() {
        for yes in ["5.8.0", "5.10.0-28-amd64", "6.18.44-fc-v1300\n", "10.0"] {
            assert!(super::reports_sync_errors(yes), "{yes}");
        }
        for no in ["5.7.19", "4.19.0-26-amd64", "3.10", "", "six", "5"] {
            assert!(!super::reports_sync_errors(no), "{no}");
        }
    }
}
