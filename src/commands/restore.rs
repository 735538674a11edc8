//! `photos-backup restore QUERY --to DIR [--archive NAME]`: brings the files
//! `locate` finds back into DIR, in the staging layout
//! (`DIR/LIBRARY/YYYY/MM/DD/NAME`). Each file comes from the best place the
//! ledger knows: staging while it is still staged (a copy), else its newest
//! archive still in the repository (`borg extract`); with `--archive`,
//! exactly the versions that archive holds. A file already in DIR is never
//! overwritten: the restore refuses before it starts, naming the file. Every
//! restored file is checked against the ledger (size and content hash)
//! before it gets its final name, so a file in DIR is a correct one. The
//! borg passphrase is read only when something must come from an archive.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};

use super::locate::versions::{Asset, Place, Version};
use super::locate::{find, open_ledger};
use crate::archive::access::{self, Access, Deps};
use crate::archive::borg;
use crate::config::Config;
use crate::exit::Failure;
use crate::export::copy::hash_file;
use crate::text::{human_bytes, plural};

/// Reading a large video back out of an ssh repository takes a while.
const EXTRACT_TIMEOUT: Duration = Duration::from_secs(12 * 3600);
/// Paths per `borg extract` (they are its arguments).
const EXTRACT_CHUNK: usize = 500;
/// Temporary names in DIR start with this.
const TEMP_PREFIX: &str = ".photos-backup-restore-";

/// Where a file is restored from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Staging,
    Archive(String),
}

/// One file to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    uuid: String,
    role: String,
    /// Relative to the staging root, inside the archive and inside DIR.
    pub(crate) path: String,
    size: u64,
    hash: String,
    source: Source,
}

/// What a restore does.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Plan {
    items: Vec<Item>,
    /// Files whose every version is in archives retention has deleted.
    gone: Vec<String>,
}

fn item(asset: &Asset, v: &Version, place: &Place) -> Item {
    Item {
        uuid: asset.uuid.clone(),
        role: v.role.clone(),
        path: place.path().to_owned(),
        size: v.size,
        hash: v.hash.clone(),
        source: match place {
            Place::Staged { .. } => Source::Staging,
            Place::Archived { archive, .. } => Source::Archive(archive.clone()),
        },
    }
}

/// Decides which version of each matching file to restore, and from where:
/// without `archive`, the newest version still to be had (from staging if
/// staged); with it, every matching version that archive holds. An error
/// says why nothing can be restored as asked.
fn plan(assets: &[Asset], archive: Option<&str>) -> Result<Plan, String> {
    let mut plan = Plan::default();
    for asset in assets {
        match archive {
            None => {
                let (newest, gone) = asset.newest();
                plan.items
                    .extend(newest.into_iter().map(|(v, p)| item(asset, v, p)));
                plan.gone
                    .extend(gone.into_iter().map(|v| gone_text(asset, v)));
            }
            Some(name) => {
                for v in &asset.versions {
                    for p in &v.places {
                        match p {
                            Place::Archived {
                                archive, pruned, ..
                            } if archive == name => {
                                if *pruned {
                                    return Err(format!(
                                        "archive {name} was pruned: retention deleted it \
                                         from the repository"
                                    ));
                                }
                                plan.items.push(item(asset, v, p));
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    if let (Some(name), true) = (archive, plan.items.is_empty()) {
        return Err(format!(
            "none of the matching files is in archive {name} \
             (`photos-backup locate` says where they are)"
        ));
    }
    let mut seen = HashSet::new();
    if let Some(twice) = plan.items.iter().find(|i| !seen.insert(i.path.as_str())) {
        return Err(format!(
            "two of the matching files would both be restored as {}: restore them one \
             archive at a time (--archive)",
            twice.path
        ));
    }
    Ok(plan)
}

fn gone_text(asset: &Asset, v: &Version) -> String {
    let archives: Vec<&str> = v
        .places
        .iter()
        .filter_map(|p| match p {
            Place::Archived { archive, .. } => Some(archive.as_str()),
            Place::Staged { .. } => None,
        })
        .collect();
    format!(
        "{} ({} of {} in {}): only in pruned archives ({})",
        v.name(),
        v.role,
        asset.uuid,
        asset.library,
        archives.join(", ")
    )
}

/// The line printed for a restored file.
#[must_use]
fn restored_line(item: &Item) -> String {
    let from = match &item.source {
        Source::Staging => "staging".to_owned(),
        Source::Archive(name) => format!("archive {name}"),
    };
    format!(
        "restored {} ({}, {}) from {from}",
        item.path,
        item.role,
        human_bytes(item.size)
    )
}

/// `restore`: restores what `query` selects into `to`. A file to take from
/// an archive without a `[borg]` section is a config failure.
pub(crate) fn run(
    config: &Config,
    query: &str,
    to: &Path,
    archive: Option<&str>,
    deps: &Deps,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let found = find(&open_ledger(config)?, query)?;
    let plan = plan(&found.assets, archive).map_err(|e| anyhow!("restore {query:?}: {e}"))?;
    // Everything that can fail before a file is written fails first.
    let from_archives = plan
        .items
        .iter()
        .any(|i| matches!(i.source, Source::Archive(_)));
    let access = if from_archives {
        let section = access::section(config, "restoring from an archive")?;
        Some(Access::open(section, deps)?)
    } else {
        None
    };
    Ok(put_back(config, &plan, access.as_ref(), deps, to, out)?)
}

/// Restores the files of `plan` into `to` (those from archives through
/// `access`), refusing to overwrite any, and says what it did.
fn put_back(
    config: &Config,
    plan: &Plan,
    access: Option<&Access>,
    deps: &Deps,
    to: &Path,
    out: &mut dyn Write,
) -> Result<()> {
    let mut by_archive: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    let mut staged = Vec::new();
    for item in &plan.items {
        match &item.source {
            Source::Staging => staged.push(item),
            Source::Archive(name) => by_archive.entry(name).or_default().push(item),
        }
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(crate::private_fs::DIR_MODE)
        .create(to)
        .with_context(|| format!("creating {}", to.display()))?;
    let to = std::path::absolute(to).with_context(|| format!("resolving {}", to.display()))?;
    refuse_to_overwrite(&to, &plan.items)?;

    for item in staged {
        copy_from_staging(&config.staging_dir, &to, item)?;
        writeln!(out, "{}", restored_line(item))?;
    }
    if let Some(access) = access {
        for (name, items) in &by_archive {
            extract(access, deps, &to, name, items, out)?;
        }
    }
    writeln!(
        out,
        "{} file{} restored into {}",
        plan.items.len(),
        plural(plan.items.len() as u64),
        to.display()
    )?;
    if !plan.gone.is_empty() {
        for g in &plan.gone {
            writeln!(out, "not restored: {g}")?;
        }
        bail!(
            "{} matching files could not be restored: their archives were pruned",
            plan.gone.len()
        );
    }
    Ok(())
}

/// Fails, naming the first, when any file to restore is already in `to`.
fn refuse_to_overwrite(to: &Path, items: &[Item]) -> Result<()> {
    let taken: Vec<&Item> = items
        .iter()
        .filter(|i| to.join(&i.path).symlink_metadata().is_ok())
        .collect();
    if let Some(first) = taken.first() {
        let more = match taken.len() {
            1 => String::new(),
            2 => " (and so does 1 more file to restore)".to_owned(),
            n => format!(" (and so do {} more files to restore)", n - 1),
        };
        bail!(
            "{} already exists{more}: restore never overwrites a file; nothing was restored \
             (move it away, or restore into another folder)",
            to.join(&first.path).display()
        );
    }
    Ok(())
}

/// Checks a restored file against the ledger: size, then content.
fn check(file: &Path, item: &Item) -> Result<()> {
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading restored {}", item.path))?
        .len();
    if size != item.size {
        bail!(
            "restored {} has {size} bytes, the ledger says {}: not kept",
            item.path,
            item.size
        );
    }
    let hash = hash_file(file).with_context(|| format!("reading restored {}", item.path))?;
    if hash != item.hash {
        bail!(
            "restored {} does not have the content the ledger recorded \
             (BLAKE3 {hash}, expected {}): not kept",
            item.path,
            item.hash
        );
    }
    Ok(())
}

/// Gives the checked temp file its final name `to/item.path`, unless
/// something is there already (then the temp file is deleted).
fn put_in_place(from: tempfile::TempPath, to: &Path, item: &Item) -> Result<()> {
    let dest = to.join(&item.path);
    from.persist_noclobber(&dest).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow!(
                "{} appeared while restoring: restore never overwrites a file",
                dest.display()
            )
        } else {
            anyhow!(e.error).context(format!("restoring {}", dest.display()))
        }
    })
}

/// Creates the folders of `item` below `to`, owner-only; one that is a
/// symbolic link (planted there) is refused, never followed.
fn parent_of(to: &Path, item: &Item) -> Result<PathBuf> {
    let rel = Path::new(&item.path)
        .parent()
        .ok_or_else(|| anyhow!("{} has no folder", item.path))?;
    crate::private_fs::create_dirs_below(to, rel)
        .with_context(|| format!("creating {}", to.join(rel).display()))
}

/// Copies a staged file into `to` (temp name, checked, then its name), with
/// its time; owner-only, whatever mode the staged file has.
fn copy_from_staging(staging: &Path, to: &Path, item: &Item) -> Result<()> {
    let source = staging.join(&item.path);
    let (mut src, meta) = crate::private_fs::open_source(&source).with_context(|| {
        format!(
            "reading staged file {} (a run may have archived it just now: try again)",
            source.display()
        )
    })?;
    let parent = parent_of(to, item)?;
    let parent = parent.as_path();
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(parent)
        .with_context(|| format!("creating a file in {}", parent.display()))?;
    std::io::copy(&mut src, tmp.as_file_mut())
        .with_context(|| format!("copying {} into {}", source.display(), parent.display()))?;
    let file = tmp.as_file();
    crate::private_fs::make_private(file)?;
    file.set_modified(meta.modified()?)?;
    file.sync_all()?;
    check(tmp.path(), item)?;
    put_in_place(tmp.into_temp_path(), to, item)
}

/// `borg extract` of the files of one archive into a temp folder in `to`,
/// then each checked and moved to its name.
fn extract(
    access: &Access,
    deps: &Deps,
    to: &Path,
    archive: &str,
    items: &[&Item],
    out: &mut dyn Write,
) -> Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempdir_in(to)
        .with_context(|| format!("creating a folder in {}", to.display()))?;
    let paths: Vec<String> = items.iter().map(|i| i.path.clone()).collect();
    for chunk in paths.chunks(EXTRACT_CHUNK) {
        let cmd = borg::extract(
            &access.program,
            &access.repo,
            &access.passphrase,
            archive,
            chunk,
            tmp.path(),
        );
        let what = format!("extracting from archive {archive}");
        let (_, warning) = access.run(deps.runner, &cmd, EXTRACT_TIMEOUT, &what)?;
        if let Some(w) = warning {
            writeln!(out, "borg warned while extracting from {archive}: {w}")?;
        }
    }
    for item in items {
        let got = tmp.path().join(&item.path);
        if !std::fs::symlink_metadata(&got).is_ok_and(|m| m.is_file()) {
            bail!(
                "archive {archive} in borg repository {} did not give back {}",
                access.repo.location,
                item.path
            );
        }
        check(&got, item)?;
        // Owner-only, whatever mode the archive recorded (older versions
        // staged with the source's mode).
        std::fs::set_permissions(
            &got,
            std::fs::Permissions::from_mode(crate::private_fs::FILE_MODE),
        )
        .with_context(|| format!("restoring {}", got.display()))?;
        parent_of(to, item)?;
        let got = tempfile::TempPath::try_from_path(&got)
            .with_context(|| format!("restoring {}", got.display()))?;
        put_in_place(got, to, item)?;
        writeln!(out, "{}", restored_line(item))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::locate::query::{parse, resolve};
    use super::super::locate::versions::gather;
    use super::super::locate::versions::tests::{archived, rollover, sample, U1, U2};
    use super::*;

    fn assets(query: &str) -> Vec<Asset> {
        let (files, archives) = sample();
        let m = resolve(&parse(query).unwrap(), [U1, U2]).unwrap();
        gather("anna", &files, &archives, &m)
    }

    fn summary(plan: &Plan) -> Vec<(&str, &str, &Source)> {
        plan.items
            .iter()
            .map(|i| (i.role.as_str(), i.hash.as_str(), &i.source))
            .collect()
    }

    #[test]
    fn the_newest_version_comes_from_staging_else_its_archive() {
        let plan = plan(&assets("IMG_000"), None).unwrap();
        let sept = Source::Archive("photos-anna-2026-09".into());
        assert_eq!(
            summary(&plan),
            [
                ("original", "o1", &sept),
                ("xmp", "x1-new", &Source::Staging),
                ("original", "o2", &sept),
            ]
        );
        assert!(plan.gone.is_empty());
    }

    #[test]
    fn an_archive_gives_exactly_the_versions_it_holds() {
        let plan = plan(&assets(U1), Some("photos-anna-2026-09")).unwrap();
        let sept = Source::Archive("photos-anna-2026-09".into());
        assert_eq!(
            summary(&plan),
            [("original", "o1", &sept), ("xmp", "x1", &sept)]
        );
        let err = super::plan(&assets(U1), Some("photos-anna-2026-10")).unwrap_err();
        assert!(err.contains("none of the matching files is in archive photos-anna-2026-10"));
    }

    #[test]
    fn pruned_archives_are_refused_or_reported() {
        let path = "anna/2026/01/05/IMG_9.JPG";
        let archives = vec![(
            rollover("photos-anna-2026-01", 1, true),
            vec![archived("photos-anna-2026-01", U1, "original", path, "o")],
        )];
        let m = resolve(&parse(U1).unwrap(), [U1]).unwrap();
        let found = gather("anna", &[], &archives, &m);
        let err = plan(&found, Some("photos-anna-2026-01")).unwrap_err();
        assert!(err.contains("was pruned"), "{err}");
        let p = plan(&found, None).unwrap();
        assert!(p.items.is_empty());
        assert_eq!(
            p.gone,
            [format!(
                "IMG_9.JPG (original of {U1} in anna): only in pruned archives (photos-anna-2026-01)"
            )]
        );
    }

    #[test]
    fn two_files_for_one_name_are_refused() {
        let path = "anna/2026/01/05/IMG_9.JPG";
        let jan = "photos-anna-2026-01";
        let archives = vec![(
            rollover(jan, 1, false),
            vec![
                archived(jan, U1, "original", path, "a"),
                archived(jan, U2, "original", path, "b"),
            ],
        )];
        let m = resolve(&parse("IMG_9").unwrap(), [U1, U2]).unwrap();
        let found = gather("anna", &[], &archives, &m);
        let err = plan(&found, None).unwrap_err();
        assert!(
            err.contains("both be restored as anna/2026/01/05/IMG_9.JPG"),
            "{err}"
        );
    }

    #[test]
    fn restored_lines_say_from_where() {
        let plan = plan(&assets("IMG_0001.JPG.xmp"), None).unwrap();
        assert_eq!(
            restored_line(&plan.items[0]),
            "restored anna/2026/09/10/IMG_0001.JPG.xmp (xmp, 6 B) from staging"
        );
    }

    #[test]
    fn a_file_already_there_stops_the_restore_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan(&assets("IMG_000"), None).unwrap();
        assert!(refuse_to_overwrite(dir.path(), &plan.items).is_ok());
        let taken = dir.path().join("anna/2026/09/20/IMG_0002.JPG");
        std::fs::create_dir_all(taken.parent().unwrap()).unwrap();
        std::fs::write(&taken, "mine").unwrap();
        let msg = refuse_to_overwrite(dir.path(), &plan.items)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with(&format!("{} already exists", taken.display())),
            "{msg}"
        );
        assert!(msg.contains("never overwrites"), "{msg}");
    }

    #[test]
    fn put_in_place_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let item = Item {
            uuid: U1.into(),
            role: "original".into(),
            path: "a/x.jpg".into(),
            size: 3,
            hash: blake3::hash(b"new").to_hex().to_string(),
            source: Source::Staging,
        };
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/x.jpg"), "old").unwrap();
        let scratch = dir.path().join("scratch");
        std::fs::write(&scratch, "new").unwrap();
        check(&scratch, &item).unwrap();
        let temp = tempfile::TempPath::try_from_path(&scratch).unwrap();
        let err = put_in_place(temp, dir.path(), &item).unwrap_err();
        assert!(err.to_string().contains("never overwrites"), "{err}");
        assert_eq!(std::fs::read(dir.path().join("a/x.jpg")).unwrap(), b"old");
        assert!(!scratch.exists(), "the refused temp file is deleted");

        std::fs::write(&scratch, "neW").unwrap();
        let temp = tempfile::TempPath::try_from_path(&scratch).unwrap();
        // Nothing at the name yet: it is taken.
        let fresh = Item {
            path: "a/y.jpg".into(),
            ..item.clone()
        };
        put_in_place(temp, dir.path(), &fresh).unwrap();
        assert_eq!(std::fs::read(dir.path().join("a/y.jpg")).unwrap(), b"neW");
        std::fs::write(&scratch, "neW").unwrap();
        let err = check(&scratch, &item).unwrap_err().to_string();
        assert!(err.contains("not have the content"), "{err}");
        std::fs::write(&scratch, "long").unwrap();
        let err = check(&scratch, &item).unwrap_err().to_string();
        assert!(err.contains("has 4 bytes, the ledger says 3"), "{err}");
    }
}
