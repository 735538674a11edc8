//! `photos-backup locate QUERY`: where is this photo now? Every version of
//! every matching file, grouped by library and asset, with each place it is
//! in: staged (and mirrored onto the remote volume), archived in which borg
//! archive at which path, or once archived in an archive that retention has
//! since deleted. Read from the ledger alone, so it answers offline and at
//! once; `restore` takes the same answer and fetches the files.

pub(super) mod query;
pub(super) mod versions;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use serde_json::json;

use self::query::Matcher;
use self::versions::{Asset, Place};
use crate::config::Config;
use crate::ledger::Ledger;
use crate::text::{human_bytes, plural};

/// What a query found in the ledger.
#[derive(Debug)]
pub(super) struct Found {
    matcher: Matcher,
    pub(super) assets: Vec<Asset>,
}

/// The ledger of `config`, read-only; an error naming it when there is none.
pub(super) fn open_ledger(config: &Config) -> Result<Ledger> {
    let path = ledger_path(config);
    Ledger::open_existing_read_only(&path)?.with_context(|| {
        format!(
            "no ledger at {}: nothing has been backed up with this config yet",
            path.display()
        )
    })
}

#[must_use]
pub(super) fn ledger_path(config: &Config) -> PathBuf {
    config.state_dir.join("ledger.sqlite")
}

/// Every file version of every library in the ledger that `text` selects;
/// an error when it selects nothing.
pub(super) fn find(ledger: &Ledger, text: &str) -> Result<Found> {
    let query = query::parse(text)?;
    let rollovers = ledger.rollovers()?;
    let mut libraries = Vec::new();
    for library in ledger.libraries()? {
        let files = ledger.file_records(&library)?;
        let mut archives = Vec::new();
        for r in &rollovers {
            if r.library == library && versions::counts(r) {
                let list = ledger.rollover_files(&library, &r.archive)?;
                archives.push((r.clone(), list));
            }
        }
        libraries.push((library, files, archives));
    }
    let uuids = libraries.iter().flat_map(|(_, files, archives)| {
        let staged = files.iter().map(|r| r.file.uuid.as_str());
        let archived = archives
            .iter()
            .flat_map(|(_, list)| list.iter().map(|f| f.uuid.as_str()));
        staged.chain(archived)
    });
    let matcher = query::resolve(&query, uuids)?;
    let assets: Vec<Asset> = libraries
        .iter()
        .flat_map(|(library, files, archives)| versions::gather(library, files, archives, &matcher))
        .collect();
    if assets.is_empty() {
        bail!(
            "nothing matches {text:?} ({}) in ledger {}",
            matcher.describe(),
            ledger.path().display()
        );
    }
    Ok(Found { matcher, assets })
}

/// `locate`: prints where every matching file version is.
pub(crate) fn run(config: &Config, text: &str, json: bool, out: &mut dyn Write) -> Result<()> {
    let ledger = open_ledger(config)?;
    let found = find(&ledger, text)?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &to_json(&found.assets, &config.staging_dir))?;
        writeln!(out)?;
    } else {
        for line in render(&found, &config.staging_dir) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// The text answer: a heading per library, an asset per uuid, under it each
/// version (role, name, size) and the places it is in.
#[must_use]
fn render(found: &Found, staging: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    let mut library = None;
    let mut count: u64 = 0;
    for asset in &found.assets {
        if library != Some(asset.library.as_str()) {
            library = Some(asset.library.as_str());
            lines.push(format!("library {}", asset.library));
        }
        lines.push(format!("  asset {}", asset.uuid));
        for (i, v) in asset.versions.iter().enumerate() {
            count += 1;
            let older = asset.versions[i + 1..].iter().any(|n| n.role == v.role);
            lines.push(format!(
                "    {} {} ({}){}",
                v.role,
                v.name(),
                human_bytes(v.size),
                if older { ", older version" } else { "" }
            ));
            lines.extend(
                v.places
                    .iter()
                    .map(|p| format!("      {}", place_text(p, staging))),
            );
        }
    }
    let assets = found.assets.len();
    lines.push(format!(
        "{count} file version{} of {assets} asset{} ({})",
        plural(count),
        plural(assets as u64),
        found.matcher.describe()
    ));
    lines
}

fn place_text(place: &Place, staging: &Path) -> String {
    match place {
        Place::Staged { path, mirrored } => format!(
            "staged at {}{}",
            staging.join(path).display(),
            if *mirrored {
                ", mirrored on the remote volume"
            } else {
                ", not yet mirrored"
            }
        ),
        Place::Archived {
            archive,
            path,
            pruned: false,
        } => format!("archived in {archive} at {path}"),
        Place::Archived {
            archive,
            path,
            pruned: true,
        } => format!("was archived in {archive} at {path}: pruned (that archive is deleted)"),
    }
}

/// The JSON answer: one object per asset, its versions and their places;
/// a staged place also gives the file's full local path.
#[must_use]
fn to_json(assets: &[Asset], staging: &Path) -> serde_json::Value {
    let assets: Vec<serde_json::Value> = assets
        .iter()
        .map(|a| {
            let versions: Vec<serde_json::Value> = a
                .versions
                .iter()
                .map(|v| {
                    let places: Vec<serde_json::Value> = v
                        .places
                        .iter()
                        .map(|p| {
                            let mut value = serde_json::to_value(p).unwrap_or_default();
                            if let (Place::Staged { path, .. }, Some(map)) =
                                (p, value.as_object_mut())
                            {
                                map.insert(
                                    "local".into(),
                                    json!(staging.join(path).display().to_string()),
                                );
                            }
                            value
                        })
                        .collect();
                    json!({
                        "role": v.role,
                        "name": v.name(),
                        "size": v.size,
                        "hash": v.hash,
                        "places": places,
                    })
                })
                .collect();
            json!({ "library": a.library, "uuid": a.uuid, "versions": versions })
        })
        .collect();
    serde_json::Value::Array(assets)
}

#[cfg(test)]
mod tests {
    use super::query::{parse, resolve};
    use super::versions::tests::{sample, U1, U2};
    use super::*;

    fn found(text: &str) -> Found {
        let (files, archives) = sample();
        let matcher = resolve(&parse(text).unwrap(), [U1, U2]).unwrap();
        let assets = versions::gather("anna", &files, &archives, &matcher);
        Found { matcher, assets }
    }

    #[test]
    fn text_groups_by_library_and_asset_and_names_every_place() {
        let lines = render(&found("IMG_0001"), Path::new("/st"));
        assert_eq!(
            lines,
            [
                "library anna",
                "  asset A0000000-0000-4000-8000-000000000001",
                "    original IMG_0001.JPG (2 B)",
                "      archived in photos-anna-2026-09 at anna/2026/09/10/IMG_0001.JPG",
                "    xmp IMG_0001.JPG.xmp (2 B), older version",
                "      archived in photos-anna-2026-09 at anna/2026/09/10/IMG_0001.JPG.xmp",
                "    xmp IMG_0001.JPG.xmp (6 B)",
                "      staged at /st/anna/2026/09/10/IMG_0001.JPG.xmp, mirrored on the remote volume",
                "3 file versions of 1 asset (file names holding \"img_0001\")",
            ]
        );
    }

    #[test]
    fn json_lists_places_with_the_local_path_of_staged_files() {
        let value = to_json(&found(U1).assets, Path::new("/st"));
        let xmp = &value[0]["versions"][2];
        assert_eq!(xmp["role"], "xmp");
        assert_eq!(xmp["places"][0]["kind"], "staged");
        assert_eq!(xmp["places"][0]["mirrored"], true);
        assert_eq!(
            xmp["places"][0]["local"],
            "/st/anna/2026/09/10/IMG_0001.JPG.xmp"
        );
        let original = &value[0]["versions"][0]["places"][0];
        assert_eq!(original["kind"], "archived");
        assert_eq!(original["archive"], "photos-anna-2026-09");
        assert_eq!(original["pruned"], false);
        assert_eq!(value[0]["library"], "anna");
    }
}
