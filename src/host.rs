//! The machine the backup runs on, described once: its operating system,
//! the home folder, where state lives by default, this binary, and where
//! programs are looked for. [`Host::current`] reads the process's
//! environment once, at the edge (`app`, when a command starts); everything
//! below takes the `Host`, or the parts of it that it needs, as a value, so
//! tests describe another machine (a Mac on Linux, a fake tool folder)
//! without touching the process's environment. It depends on nothing in
//! the crate.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The operating system, for the few decisions that differ (mount table
/// format, unmount tools, route lookup, default folders, the Mac's privacy
/// checks). Chosen once, by [`Os::current`]; everything else takes it as a
/// value so both sides stay testable on either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    MacOs,
    Linux,
}

impl Os {
    /// The system this binary runs on (every non-macOS Unix counts as Linux).
    #[must_use]
    fn current() -> Self {
        if cfg!(target_os = "macos") {
            Os::MacOs
        } else {
            Os::Linux
        }
    }
}

/// This machine, as the commands see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub os: Os,
    /// `$HOME` (`/` without one): `~` in the config, the default folders.
    pub home: PathBuf,
    /// The state folder when the config names none.
    pub default_state_dir: PathBuf,
    /// This binary, absolute; `None` when the system cannot tell.
    pub binary: Option<PathBuf>,
    /// Where programs are looked for, in order (`tools::search_dirs` of `$PATH`).
    pub tool_dirs: Vec<PathBuf>,
}

impl Host {
    /// This process's machine: read from its environment, once.
    #[must_use]
    pub fn current() -> Self {
        let os = Os::current();
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from);
        let xdg_state_home = std::env::var_os("XDG_STATE_HOME");
        Self {
            os,
            default_state_dir: default_state_dir(os, &home, xdg_state_home.as_deref()),
            home,
            binary: std::env::current_exe()
                .ok()
                .map(|exe| std::path::absolute(&exe).unwrap_or(exe)),
            tool_dirs: crate::tools::search_dirs(std::env::var_os("PATH").as_deref()),
        }
    }
}

/// Where state lives when the config does not say: `~/Library/Application
/// Support/photos-backup` on macOS; elsewhere `$XDG_STATE_HOME/photos-backup`
/// when that is absolute, else `~/.local/state/photos-backup`.
#[must_use]
fn default_state_dir(os: Os, home: &Path, xdg_state_home: Option<&OsStr>) -> PathBuf {
    match os {
        Os::MacOs => home.join("Library").join("Application Support"),
        Os::Linux => xdg_state_home
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| home.join(".local").join("state")),
    }
    .join("photos-backup")
}

/// The config file when neither `--config` nor `$PHOTOS_BACKUP_CONFIG` names
/// one: `photos-backup/photos_backup.conf` in `$XDG_CONFIG_HOME` on Linux
/// when that is absolute, else in `~/.config` (on macOS always: the path the
/// README, the launch agent and every existing setup use).
#[must_use]
pub(crate) fn default_config_file(os: Os, home: &Path, xdg_config_home: Option<&OsStr>) -> PathBuf {
    let xdg = match os {
        Os::MacOs => None,
        Os::Linux => xdg_config_home
            .map(PathBuf::from)
            .filter(|p| p.is_absolute()),
    };
    xdg.unwrap_or_else(|| home.join(".config"))
        .join("photos-backup")
        .join("photos_backup.conf")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_file_per_system() {
        let home = Path::new("/home/ann");
        let xdg = Some(OsStr::new("/etc/xdg-ann"));
        assert_eq!(
            default_config_file(Os::MacOs, home, xdg),
            PathBuf::from("/home/ann/.config/photos-backup/photos_backup.conf")
        );
        assert_eq!(
            default_config_file(Os::Linux, home, xdg),
            PathBuf::from("/etc/xdg-ann/photos-backup/photos_backup.conf")
        );
        for unset_or_relative in [None, Some(OsStr::new("cfg")), Some(OsStr::new(""))] {
            assert_eq!(
                default_config_file(Os::Linux, home, unset_or_relative),
                PathBuf::from("/home/ann/.config/photos-backup/photos_backup.conf"),
                "{unset_or_relative:?}"
            );
        }
    }

    #[test]
    fn default_state_dir_per_system() {
        let home = Path::new("/home/ann");
        assert_eq!(
            default_state_dir(Os::MacOs, home, Some(OsStr::new("/x"))),
            PathBuf::from("/home/ann/Library/Application Support/photos-backup")
        );
        assert_eq!(
            default_state_dir(Os::Linux, home, None),
            PathBuf::from("/home/ann/.local/state/photos-backup")
        );
        assert_eq!(
            default_state_dir(Os::Linux, home, Some(OsStr::new("/var/st"))),
            PathBuf::from("/var/st/photos-backup")
        );
        // A relative XDG folder is ignored, as the spec says.
        assert_eq!(
            default_state_dir(Os::Linux, home, Some(OsStr::new("st"))),
            PathBuf::from("/home/ann/.local/state/photos-backup")
        );
    }

    #[test]
    fn the_current_host_is_this_process() {
        let host = Host::current();
        assert_eq!(host.os, Os::current());
        assert!(host.binary.as_deref().is_some_and(Path::is_absolute));
        assert!(host.tool_dirs.contains(&PathBuf::from("/usr/bin")));
    }
}
