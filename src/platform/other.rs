//! Linux and other Unix systems, where the tool is developed and tested:
//! XDG folder conventions.

use std::path::{Path, PathBuf};

pub fn default_state_dir(home: &Path) -> PathBuf {
    std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| home.join(".local").join("state"))
        .join("photos-backup")
}

pub const CAN_ASK_PHOTOS: bool = false;
