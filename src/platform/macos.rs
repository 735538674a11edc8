//! macOS specifics: Apple's folder conventions (Application Support for state).

use std::path::{Path, PathBuf};

pub fn default_state_dir(home: &Path) -> PathBuf {
    home.join("Library")
        .join("Application Support")
        .join("photos-backup")
}

pub const CAN_ASK_PHOTOS: bool = true;
