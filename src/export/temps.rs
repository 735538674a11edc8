//! Where killed runs may have left temp files in staging, so the next run
//! finds them without walking all of staging (a month of a large library is
//! tens of thousands of files, and the walk cost every run that read the
//! database a few hundred milliseconds).
//!
//! Before a run writes a temp file into a folder of `STAGING/LIBRARY`, the
//! folder is appended to a list in the state dir (`temp-folders/<hash of
//! LIBRARY>`, beside the ledger, so staging holds only what the ledger
//! records) and the list is fsynced: a temp file that can survive a crash
//! is in a listed folder. The next run removes the temp names
//! (`copy::is_temp_name`) from the listed folders only, then empties the
//! list. A library staged by a version that kept no list is walked once,
//! then listed from then on.
//!
//! The list is read back as untrusted text: an entry that is not a plain
//! relative path inside the library's folder, or that crosses a symbolic
//! link, is ignored (the walk never followed links either).

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use super::copy;

/// The list of `library`'s temp folders in the state dir `state_dir`.
#[must_use]
pub(crate) fn list_path(state_dir: &Path, library: &str) -> PathBuf {
    let hash = blake3::hash(library.as_bytes()).to_hex();
    state_dir.join("temp-folders").join(&hash.as_str()[..16])
}

/// The folders this run wrote temp files into, as recorded so far.
#[derive(Debug)]
pub(super) struct TempFolders {
    list: PathBuf,
    root: PathBuf,
    noted: BTreeSet<PathBuf>,
}

impl TempFolders {
    /// For the library folder `root` (`STAGING/LIBRARY`), listed in `list`.
    #[must_use]
    pub(super) fn new(list: &Path, root: &Path) -> Self {
        Self {
            list: list.to_owned(),
            root: root.to_owned(),
            noted: BTreeSet::new(),
        }
    }

    /// Records durably that temp files are about to be written into the
    /// folders of `files` (paths under the library folder); folders already
    /// recorded in this run cost nothing, new ones one fsync together.
    pub(super) fn note<'a>(&mut self, files: impl IntoIterator<Item = &'a Path>) -> io::Result<()> {
        let new: BTreeSet<PathBuf> = files
            .into_iter()
            .filter_map(|f| f.parent()?.strip_prefix(&self.root).ok())
            .map(Path::to_owned)
            .filter(|d| !self.noted.contains(d))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        let path = &self.list;
        let dir = path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let existed = path.exists();
        let mut list = open_list(path)?;
        let mut text = String::new();
        for d in &new {
            text.push_str(&d.to_string_lossy());
            text.push('\n');
        }
        list.write_all(text.as_bytes())?;
        list.sync_all()?;
        if !existed {
            File::open(dir)?.sync_all()?;
        }
        self.noted.extend(new);
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Opens the list to append, owner-only; a list that is a symbolic link
/// (pointing somewhere else) is refused.
fn open_list(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    if fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file()) {
        return Err(io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// Removes the temp files killed runs left in the library folder `root` and
/// returns their paths: in the folders `list` names, or (no list yet)
/// anywhere under `root`, once. Empties the list afterwards.
pub(crate) fn clean(list: &Path, root: &Path) -> io::Result<Vec<PathBuf>> {
    let path = list;
    let text = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => fs::read(path)?,
        Ok(_) => {
            return Err(io::Error::other(format!(
                "{} is not a regular file",
                path.display()
            )))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if !root.exists() {
                return Ok(Vec::new());
            }
            // Staged by a version without the list: one walk, then a list.
            let removed = copy::remove_temp_files(root)?;
            create_private_dir(path.parent().unwrap_or(Path::new(".")))?;
            drop(open_list(path)?);
            return Ok(removed);
        }
        Err(e) => return Err(e),
    };
    let mut removed = Vec::new();
    let folders: BTreeSet<&str> = std::str::from_utf8(&text)
        .unwrap_or_default()
        .lines()
        .collect();
    for folder in folders {
        let Some(dir) = inside(root, folder) else {
            continue;
        };
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
        };
        for entry in entries {
            let entry = entry?;
            let is_temp = entry.file_name().to_str().is_some_and(copy::is_temp_name);
            if is_temp && entry.file_type()?.is_file() {
                fs::remove_file(entry.path()).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot remove {}: {e}", entry.path().display()),
                    )
                })?;
                removed.push(entry.path());
            }
        }
    }
    // Emptied only once every listed folder was cleaned.
    OpenOptions::new().write(true).truncate(true).open(path)?;
    Ok(removed)
}

/// `root/folder` when `folder` is a plain relative path (or empty) and no
/// part of it is a symbolic link.
fn inside(root: &Path, folder: &str) -> Option<PathBuf> {
    let rel = Path::new(folder);
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let mut at = root.to_owned();
    for part in rel.components() {
        at.push(part);
        if fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return None;
        }
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_in(dir: &Path, name: &str) -> PathBuf {
        fs::create_dir_all(dir).unwrap();
        let p = dir.join(format!(".{name}.pbtmp.0123456789abcdef"));
        fs::write(&p, b"partial").unwrap();
        p
    }

    #[test]
    fn temp_files_of_a_killed_run_are_found_in_the_listed_folders_only() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("staging/lib");
        let list = list_path(&tmp.path().join("state"), "lib");
        let day = root.join("2026/12/01");
        let other = root.join("2026/11/30");
        let mut noted = TempFolders::new(&list, &root);
        noted.note([day.join("IMG_1.heic").as_path()]).unwrap();
        // A second note of the same folder writes nothing new.
        noted.note([day.join("IMG_2.heic").as_path()]).unwrap();
        assert_eq!(fs::read_to_string(&list).unwrap(), "2026/12/01\n");
        // The run is killed with a temp file in the listed folder; a stray
        // temp-looking file elsewhere was not written by a run since the list.
        let left = temp_in(&day, "IMG_1.heic");
        let stray = temp_in(&other, "IMG_9.heic");
        fs::write(day.join("IMG_2.heic"), b"staged").unwrap();

        assert_eq!(clean(&list, &root).unwrap(), std::slice::from_ref(&left));
        assert!(!left.exists() && stray.exists());
        assert!(day.join("IMG_2.heic").exists(), "staged files stay");
        assert_eq!(fs::read_to_string(&list).unwrap(), "");
        assert!(clean(&list, &root).unwrap().is_empty());
    }

    #[test]
    fn without_a_list_the_library_is_walked_once() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("staging/lib");
        let list = list_path(&tmp.path().join("state"), "lib");
        let old = temp_in(&root.join("2025/01/02"), "a.jpg");
        assert_eq!(clean(&list, &root).unwrap(), [old]);
        assert!(list.is_file());
        // From now on only listed folders are looked at.
        let later = temp_in(&root.join("2025/01/03"), "b.jpg");
        assert!(clean(&list, &root).unwrap().is_empty());
        assert!(later.exists());
        // No library folder yet: nothing to do, nothing created.
        let none = list_path(&tmp.path().join("state"), "none");
        assert!(clean(&none, &tmp.path().join("none")).unwrap().is_empty());
        assert!(!tmp.path().join("none").exists() && !none.exists());
    }

    #[test]
    fn hostile_list_entries_are_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("lib");
        let list = tmp.path().join("list");
        let outside = temp_in(&tmp.path().join("outside"), "x.jpg");
        fs::create_dir_all(&root).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside"), root.join("link")).unwrap();
        fs::write(
            &list,
            format!(
                "../outside\n{}\nlink\n./link\n",
                tmp.path().join("outside").display()
            ),
        )
        .unwrap();
        assert!(clean(&list, &root).unwrap().is_empty());
        assert!(outside.exists());
    }
}
