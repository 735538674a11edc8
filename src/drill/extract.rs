//! The drill's edge with borg: the sampled files of one archive extracted
//! into a private scratch folder (`scratch`, removed afterwards, a killed
//! run's too), read back and judged. Paths come from the ledger and are not
//! trusted: only plain relative paths are asked of borg (whose extraction
//! stays inside its working folder), and what it wrote is read without
//! following any symbolic link. borg stops an extraction at the first damaged
//! chunk, so when an extraction fails each of its files is extracted again
//! alone: the failure then names exactly the files that cannot be restored.
//! Files go in batches, each judged and removed before the next, so scratch
//! never holds more than a batch (`BATCH_BYTES`).
//! The passphrase reaches borg only through its environment (`borg::extract`).

use std::path::{Component, Path};
use std::time::{Duration, Instant};

use super::verdict::{judge, ReadBack, Verdict};
use crate::archive::access::Access;
use crate::archive::borg;
use crate::ledger::ArchivedFile;
use crate::process::CommandRunner;

/// Files per `borg extract` (they are its arguments).
const BATCH_FILES: usize = 500;
/// Bytes extracted at once: a batch is judged and removed before the next,
/// so a drill of large videos never holds more than this in scratch (a
/// larger file goes alone).
const BATCH_BYTES: u64 = 4 << 30;

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
    let safe: Vec<&ArchivedFile> = files
        .iter()
        .zip(&verdicts)
        .filter(|(_, v)| v.is_none())
        .map(|(f, _)| f)
        .collect();
    let sizes: Vec<u64> = safe.iter().map(|f| f.size).collect();
    let mut judged = Vec::with_capacity(safe.len());
    for (n, batch) in batches(&sizes, BATCH_FILES, BATCH_BYTES)
        .into_iter()
        .enumerate()
    {
        let dir = new_dir(scratch.path(), &format!("batch-{n}"))?;
        let batch: Vec<&ArchivedFile> = batch.into_iter().map(|i| safe[i]).collect();
        judged.extend(batch_verdicts(
            access, runner, archive, &batch, &dir, until,
        )?);
        std::fs::remove_dir_all(&dir)?;
    }
    let mut judged = judged.into_iter();
    Ok(verdicts
        .iter_mut()
        .map(|v| v.take().or_else(|| judged.next()))
        .map(|v| v.unwrap_or_else(|| Verdict::Unreadable("not judged".into())))
        .collect())
}

/// One batch extracted into `dir` and judged; when borg fails, each file
/// again alone, so the failure names exactly the files it concerns.
fn batch_verdicts(
    access: &Access,
    runner: &dyn CommandRunner,
    archive: &str,
    batch: &[&ArchivedFile],
    dir: &Path,
    until: Instant,
) -> std::io::Result<Vec<Verdict>> {
    let together = new_dir(dir, "together")?;
    let paths: Vec<String> = batch.iter().map(|f| f.path.clone()).collect();
    if extract(access, runner, archive, &paths, &together, until).is_ok() {
        return Ok(batch.iter().map(|f| judge_file(&together, f)).collect());
    }
    let mut verdicts = Vec::with_capacity(batch.len());
    for (n, file) in batch.iter().enumerate() {
        let alone = new_dir(dir, &format!("file-{n}"))?;
        let path = std::slice::from_ref(&file.path);
        verdicts.push(
            match extract(access, runner, archive, path, &alone, until) {
                Ok(()) => judge_file(&alone, file),
                Err(why) => Verdict::Unreadable(why),
            },
        );
        std::fs::remove_dir_all(&alone)?;
    }
    Ok(verdicts)
}

/// Consecutive batches of `sizes` (indices), each at most `max_files`
/// long and `max_bytes` big, except a file bigger than that alone.
#[must_use]
fn batches(sizes: &[u64], max_files: usize, max_bytes: u64) -> Vec<Vec<usize>> {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut bytes = 0u64;
    for (i, &size) in sizes.iter().enumerate() {
        match batches.last_mut() {
            Some(last) if last.len() < max_files && bytes.saturating_add(size) <= max_bytes => {
                last.push(i);
                bytes += size;
            }
            _ => {
                batches.push(vec![i]);
                bytes = size;
            }
        }
    }
    batches
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
    fn batches_are_bounded_by_count_and_bytes() {
        assert_eq!(
            batches(&[1, 1, 1, 1, 1], 2, 100),
            [vec![0, 1], vec![2, 3], vec![4]]
        );
        assert_eq!(
            batches(&[60, 50, 10, 200, 5], 10, 100),
            [vec![0], vec![1, 2], vec![3], vec![4]]
        );
        assert!(batches(&[], 2, 100).is_empty());
    }

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
