//! The drill's edge with borg: the sampled files of one archive extracted
//! into a private scratch folder (`scratch`, removed afterwards, a killed
//! run's too), read back and judged. Paths come from the ledger and are not
//! trusted: only plain relative paths are asked of borg (whose extraction
//! stays inside its working folder), and what it wrote is read without
//! following any symbolic link. borg stops an extraction at the first damaged
//! chunk, so when the archive's extraction fails each file is extracted again
//! alone: the failure then names exactly the files that cannot be restored.
//! The passphrase reaches borg only through its environment (`borg::extract`).

use std::path::{Component, Path};
use std::time::{Duration, Instant};

use super::verdict::{judge, ReadBack, Verdict};
use crate::archive::access::Access;
use crate::archive::borg;
use crate::ledger::ArchivedFile;
use crate::process::CommandRunner;

/// Extracts `files` of `archive` and judges each against the ledger; every
/// borg child ends by `until`. The verdicts are in the order of `files`.
pub(crate) fn archive_sample(
    access: &Access,
    runner: &dyn CommandRunner,
    archive: &str,
    files: &[ArchivedFile],
    until: Instant,
) -> Result<Vec<Verdict>, std::io::Error> {
    let scratch = crate::scratch::create("drill")?;
    let mut verdicts: Vec<Option<Verdict>> = files
        .iter()
        .map(|f| {
            (!plain_relative(&f.path)).then(|| {
                Verdict::Unreadable(
                    "refused: the ledger's path is not a plain relative path".into(),
                )
            })
        })
        .collect();
    let safe: Vec<usize> = (0..files.len())
        .filter(|&i| verdicts[i].is_none())
        .collect();
    if safe.is_empty() {
        return Ok(verdicts.into_iter().flatten().collect());
    }
    let all = new_dir(scratch.path(), "all")?;
    let paths: Vec<String> = safe.iter().map(|&i| files[i].path.clone()).collect();
    match extract(access, runner, archive, &paths, &all, until) {
        Ok(()) => {
            for &i in &safe {
                verdicts[i] = Some(judge_file(&all, &files[i]));
            }
        }
        // Which file is damaged: each alone, in a folder of its own.
        Err(_) => {
            for (n, &i) in safe.iter().enumerate() {
                let alone = new_dir(scratch.path(), &format!("file-{n}"))?;
                let file = &files[i];
                verdicts[i] = Some(
                    match extract(
                        access,
                        runner,
                        archive,
                        std::slice::from_ref(&file.path),
                        &alone,
                        until,
                    ) {
                        Ok(()) => judge_file(&alone, file),
                        Err(why) => Verdict::Unreadable(why),
                    },
                );
            }
        }
    }
    Ok(verdicts.into_iter().flatten().collect())
}

/// One `borg extract` into `dest`, within what is left until `until`.
fn extract(
    access: &Access,
    runner: &dyn CommandRunner,
    archive: &str,
    paths: &[String],
    dest: &Path,
    until: Instant,
) -> Result<(), String> {
    let left = until.saturating_duration_since(Instant::now());
    if left < Duration::from_secs(1) {
        return Err("no time was left in the drill to extract it".into());
    }
    let cmd = borg::extract(
        &access.program,
        &access.repo,
        &access.passphrase,
        archive,
        paths,
        dest,
    );
    // borg's first line says what is wrong (a traceback may follow).
    let out = runner
        .run(&cmd, left)
        .map_err(|e| format!("borg extract: {}", crate::error_text::describe(&e)))?;
    match borg::Exit::of(out.status.code()) {
        borg::Exit::Ok | borg::Exit::Warning => Ok(()),
        borg::Exit::Error => {
            let said = String::from_utf8_lossy(&out.stderr);
            let first = said.lines().map(str::trim).find(|l| !l.is_empty());
            Err(format!(
                "borg extract failed ({}){}",
                out.status,
                first.map(|l| format!(": {l}")).unwrap_or_default()
            ))
        }
    }
}

/// Reads the extracted copy of `file` under `root` and judges it.
fn judge_file(root: &Path, file: &ArchivedFile) -> Verdict {
    judge(file.size, &file.hash, read_below(root, &file.path))
}

/// Size and BLAKE3 of `root/rel`: no component may be a symbolic link, the
/// file must be a regular one.
pub(super) fn read_below(root: &Path, rel: &str) -> ReadBack {
    let mut path = root.to_path_buf();
    let parts: Vec<&std::ffi::OsStr> = Path::new(rel)
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name),
            _ => None,
        })
        .collect();
    let Some((name, folders)) = parts.split_last() else {
        return Err("an empty path".into());
    };
    for folder in folders {
        path.push(folder);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(m) => {
                return Err(format!(
                    "{} is {}, not a folder; refused",
                    path.display(),
                    crate::private_fs::kind(&m)
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err("borg did not restore it".into())
            }
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    path.push(name);
    if let Err(e) = std::fs::symlink_metadata(&path) {
        if e.kind() == std::io::ErrorKind::NotFound {
            return Err("borg did not restore it".into());
        }
    }
    hash_no_follow(&path)
}

/// Size and BLAKE3 of the regular file at `path`, its last component not
/// followed if it is a link.
pub(super) fn hash_no_follow(path: &Path) -> ReadBack {
    let (mut file, _) = crate::private_fs::open_source(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            "it is not there".to_owned()
        } else {
            format!("{}: {e}", path.display())
        }
    })?;
    let mut hasher = blake3::Hasher::new();
    let size = std::io::copy(&mut file, &mut hasher)
        .map_err(|e| format!("reading {}: {e}", path.display()))?;
    Ok((size, hasher.finalize().to_hex().to_string()))
}

/// A path borg may be asked for: relative, only plain names (no `..`, no
/// root, no `.`), not empty.
#[must_use]
pub(super) fn plain_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('-')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        && !path.split('/').any(|p| p == "." || p.is_empty())
}

fn new_dir(parent: &Path, name: &str) -> std::io::Result<std::path::PathBuf> {
    let dir = parent.join(name);
    crate::private_fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_asked_of_borg() {
        assert!(plain_relative("anna/2026/09/10/IMG_1.JPG"));
        for bad in [
            "",
            "/etc/passwd",
            "anna/../../etc/passwd",
            "..",
            "./anna/x",
            "anna//x",
            "-x",
            "anna/./x",
        ] {
            assert!(!plain_relative(bad), "{bad}");
        }
    }

    #[test]
    fn reading_back_never_follows_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/x.jpg"), b"abc").unwrap();
        let (size, hash) = read_below(&root, "a/x.jpg").unwrap();
        assert_eq!((size, hash), (3, blake3::hash(b"abc").to_hex().to_string()));
        // A link as the file, or as a folder on the way, is refused.
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("y.jpg"), b"secret").unwrap();
        std::os::unix::fs::symlink(outside.join("y.jpg"), root.join("a/y.jpg")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("b")).unwrap();
        assert!(read_below(&root, "a/y.jpg")
            .unwrap_err()
            .contains("symbolic link"));
        assert!(read_below(&root, "b/y.jpg")
            .unwrap_err()
            .contains("refused"));
        assert_eq!(
            read_below(&root, "c/z.jpg").unwrap_err(),
            "borg did not restore it"
        );
    }
}
