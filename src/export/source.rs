//! Which library files may be copied: the database says where an asset's
//! files are, and a damaged or hostile one could point anywhere the run can
//! read (`/proc/self/environ` holds an `env:` secret; a key file of the user
//! would be staged and mirrored). A file is copied only when it is a
//! regular file, reached without a symbolic link inside the library,
//! outside `/proc`, `/dev` and `/sys`, and owned by the library's owner.
//! A refused file keeps its asset pending, with the reason; the copy itself
//! opens the file no-follow and checks it again (`private_fs::open_source`).

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::plan::SourceStat;

/// System folders whose "files" are the machine's state, never photos.
const SYSTEM: [&str; 3] = ["/proc", "/dev", "/sys"];

/// Checks library files against one library's root and owner.
#[derive(Debug)]
pub(super) struct Sources {
    root: PathBuf,
    owner: u32,
    /// Folders inside the library already looked at: why refused, if so.
    folders: Mutex<HashMap<PathBuf, Option<String>>>,
}

impl Sources {
    /// For the library at `root`; its owner is the owner of the bundle.
    pub(super) fn new(root: &Path) -> std::io::Result<Self> {
        Ok(Self {
            root: root.to_owned(),
            owner: std::fs::metadata(root)?.uid(),
            folders: Mutex::new(HashMap::new()),
        })
    }

    /// The size and time of `path`, `Ok(None)` when it is not there, or why
    /// it must not be copied.
    pub(super) fn stat(&self, path: &Path) -> Result<Option<SourceStat>, String> {
        if let Some(why) = system_path(path) {
            return Err(why);
        }
        let why = if let Ok(rel) = path.strip_prefix(&self.root) {
            self.linked_folder(rel)
        } else {
            // A referenced file, outside the library: where does it really lie?
            let real = path.parent().and_then(|p| std::fs::canonicalize(p).ok());
            real.as_deref().and_then(system_path)
        };
        if let Some(why) = why {
            return Err(why);
        }
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return Ok(None);
        };
        if meta.file_type().is_symlink() {
            return Err(format!("{} is a symbolic link; refused", shown(path)));
        }
        if !meta.is_file() {
            return Err(format!(
                "{} is {}, not a regular file; refused",
                shown(path),
                crate::private_fs::kind(&meta)
            ));
        }
        if meta.uid() != self.owner {
            return Err(format!(
                "{} belongs to user {}, not to the library's owner ({}); refused",
                shown(path),
                meta.uid(),
                self.owner
            ));
        }
        Ok(Some(SourceStat {
            size: meta.len(),
            mtime_ns: meta.modified().map_or(0, super::copy::unix_ns),
        }))
    }

    /// Why a folder on the way from the root to `rel` is refused (a
    /// symbolic link), if one is.
    fn linked_folder(&self, rel: &Path) -> Option<String> {
        let mut folder = self.root.clone();
        let parts: Vec<_> = rel.components().collect();
        let mut folders = self
            .folders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for part in parts.iter().take(parts.len().saturating_sub(1)) {
            folder.push(part);
            let why = folders.entry(folder.clone()).or_insert_with(|| {
                std::fs::symlink_metadata(&folder)
                    .ok()
                    .filter(|m| m.file_type().is_symlink())
                    .map(|_| {
                        format!(
                            "folder {} inside the library is a symbolic link; refused",
                            shown(&folder)
                        )
                    })
            });
            if why.is_some() {
                return why.clone();
            }
        }
        None
    }
}

/// Why `path` is refused as a system path, if it is one.
fn system_path(path: &Path) -> Option<String> {
    SYSTEM
        .iter()
        .any(|s| path.starts_with(s))
        .then(|| format!("{} is a system file, never a photo; refused", shown(path)))
}

/// A path from the database, quoted and with control characters escaped.
fn shown(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_of_the_owner_reached_without_links_pass() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("L.photoslibrary");
        let originals = root.join("originals/A");
        std::fs::create_dir_all(&originals).unwrap();
        std::fs::write(originals.join("a.jpg"), b"photo").unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("key"), b"secret").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("originals/B")).unwrap();
        std::os::unix::fs::symlink(outside.join("key"), originals.join("b.jpg")).unwrap();
        let fifo = originals.join("c.jpg");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());

        let sources = Sources::new(&root).unwrap();
        assert_eq!(
            sources
                .stat(&originals.join("a.jpg"))
                .unwrap()
                .unwrap()
                .size,
            5
        );
        assert_eq!(sources.stat(&originals.join("gone.jpg")), Ok(None));
        let why = sources.stat(&root.join("originals/B/key")).unwrap_err();
        assert!(
            why.contains("folder") && why.contains("symbolic link"),
            "{why}"
        );
        let why = sources.stat(&originals.join("b.jpg")).unwrap_err();
        assert!(why.contains("symbolic link"), "{why}");
        let why = sources.stat(&fifo).unwrap_err();
        assert!(why.contains("FIFO"), "{why}");
        // A referenced file may be outside the library, but never a system file.
        assert!(sources.stat(&outside.join("key")).unwrap().is_some());
        for system in ["/proc/self/environ", "/dev/zero", "/sys/kernel/notes"] {
            let why = sources.stat(Path::new(system)).unwrap_err();
            assert!(why.contains("system file"), "{why}");
        }
        // Through a linked folder outside the library, into /proc.
        std::os::unix::fs::symlink("/proc/self", outside.join("self")).unwrap();
        let why = sources.stat(&outside.join("self/environ")).unwrap_err();
        assert!(why.contains("system file"), "{why}");
    }

    #[test]
    fn a_file_of_another_user_is_refused() {
        if !rustix::process::getuid().is_root() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs the tests as root"
            );
            eprintln!("SKIPPED: not root, cannot give a file to another user");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.jpg");
        std::fs::write(&file, b"x").unwrap();
        std::process::Command::new("chown")
            .args(["65534"])
            .arg(&file)
            .status()
            .unwrap();
        let why = Sources::new(dir.path()).unwrap().stat(&file).unwrap_err();
        assert!(why.contains("belongs to user 65534"), "{why}");
    }
}
