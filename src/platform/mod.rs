//! The one place where the operating system decides things: default folders
//! now, Keychain and notifications later. Business logic calls these
//! functions and never carries a `#[cfg]` of its own.

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos as imp;

#[cfg(not(target_os = "macos"))]
mod other;
#[cfg(not(target_os = "macos"))]
use other as imp;

use std::path::{Path, PathBuf};

/// Where state (ledger, status, lock) lives when the config does not say.
#[must_use]
pub fn default_state_dir(home: &Path) -> PathBuf {
    imp::default_state_dir(home)
}

/// Whether Photos can be asked for originals (through `osascript`): macOS only.
#[must_use]
pub fn can_ask_photos() -> bool {
    imp::CAN_ASK_PHOTOS
}

/// The user's home folder from `$HOME`; `/` when unset (launchd always sets it).
#[must_use]
pub fn home_dir() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from)
}

/// The default config file: `~/.config/photos-backup/photos_backup.conf`.
#[must_use]
pub fn default_config_file(home: &Path) -> PathBuf {
    home.join(".config")
        .join("photos-backup")
        .join("photos_backup.conf")
}
