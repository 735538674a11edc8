//! Where each version of each file is, from the ledger alone: staged (and
//! mirrored) as `staged_file` says, archived as the `rollover_file` lists of
//! verified archives say (the record of which version went into which
//! archive stays after the purge). The same content in two places (a staged
//! file and the archive that already holds it) is one version with two
//! places. Pure: the ledger rows come in, the grouping goes out, so `locate`
//! and `restore` agree on what exists.

use std::collections::HashMap;

use serde::Serialize;

use super::query::{file_name, Matcher};
use crate::ledger::{ArchivedFile, FileRecord, Rollover, Step};

/// One place a version of a file is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(crate) enum Place {
    /// In local staging at `path` (relative to the staging root), and on the
    /// remote volume when `mirrored`.
    Staged { path: String, mirrored: bool },
    /// In `archive` at `path`; `pruned`: retention deleted that archive.
    Archived {
        archive: String,
        path: String,
        pruned: bool,
    },
}

impl Place {
    /// The path relative to the staging root (and inside archives).
    #[must_use]
    pub(crate) fn path(&self) -> &str {
        match self {
            Place::Staged { path, .. } | Place::Archived { path, .. } => path,
        }
    }

    /// Whether the file can be had from here.
    #[must_use]
    fn available(&self) -> bool {
        !matches!(self, Place::Archived { pruned: true, .. })
    }
}

/// One content of one file of an asset, and every place it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Version {
    pub(crate) role: String,
    pub(crate) size: u64,
    /// BLAKE3 of the content, hex.
    pub(crate) hash: String,
    /// Oldest first; staging, the newest place, last.
    pub(crate) places: Vec<Place>,
    /// Order among the versions of the same role: higher is newer.
    #[serde(skip)]
    rank: usize,
}

impl Version {
    /// The file name (of the newest place).
    #[must_use]
    pub(crate) fn name(&self) -> &str {
        self.places.last().map_or("", |p| file_name(p.path()))
    }
}

/// The matching files of one asset, by role, each role's versions oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Asset {
    pub(crate) library: String,
    pub(crate) uuid: String,
    pub(crate) versions: Vec<Version>,
}

/// An archive whose file list counts: verified (it holds what it was given).
/// Earlier steps are left out: until verified, staging still has every file.
#[must_use]
pub(super) fn counts(r: &Rollover) -> bool {
    r.step >= Step::Verified && r.files > 0
}

/// The matching file versions of one library, grouped by asset (by uuid).
/// `archives`: the library's counted archives, oldest first, each with its
/// file list.
#[must_use]
pub(crate) fn gather(
    library: &str,
    files: &[FileRecord],
    archives: &[(Rollover, Vec<ArchivedFile>)],
    matcher: &Matcher,
) -> Vec<Asset> {
    // (uuid, role, hash) -> version; its rank is the newest place's index
    // (archives in order, then staging).
    let mut versions: HashMap<(String, String, String), Version> = HashMap::new();
    let mut add = |uuid: &str, role: &str, size: u64, hash: &str, place: Place, rank: usize| {
        let v = versions
            .entry((uuid.to_owned(), role.to_owned(), hash.to_owned()))
            .or_insert_with(|| Version {
                role: role.to_owned(),
                size,
                hash: hash.to_owned(),
                places: Vec::new(),
                rank,
            });
        v.places.push(place);
        v.rank = v.rank.max(rank);
    };
    for (i, (rollover, list)) in archives.iter().enumerate() {
        for f in list.iter().filter(|f| matcher.matches(&f.uuid, &f.path)) {
            let place = Place::Archived {
                archive: rollover.archive.clone(),
                path: f.path.clone(),
                pruned: rollover.pruned_at.is_some(),
            };
            add(&f.uuid, &f.role, f.size, &f.hash, place, i);
        }
    }
    let staged = archives.len();
    for r in files
        .iter()
        .filter(|r| r.purged_at.is_none() && matcher.matches(&r.file.uuid, &r.file.path))
    {
        let place = Place::Staged {
            path: r.file.path.clone(),
            mirrored: r.mirrored_at.is_some(),
        };
        add(
            &r.file.uuid,
            &r.file.role,
            r.file.size,
            &r.file.hash,
            place,
            staged,
        );
    }
    let mut by_asset: HashMap<String, Vec<Version>> = HashMap::new();
    for ((uuid, _, _), v) in versions {
        by_asset.entry(uuid).or_default().push(v);
    }
    let mut assets: Vec<Asset> = by_asset
        .into_iter()
        .map(|(uuid, mut versions)| {
            versions.sort_by(|a, b| {
                (a.role.as_str(), a.rank, a.hash.as_str()).cmp(&(
                    b.role.as_str(),
                    b.rank,
                    b.hash.as_str(),
                ))
            });
            Asset {
                library: library.to_owned(),
                uuid,
                versions,
            }
        })
        .collect();
    assets.sort_by(|a, b| (first_path(a), a.uuid.as_str()).cmp(&(first_path(b), b.uuid.as_str())));
    assets
}

/// Assets sort by where their files are (the date folders), then uuid.
fn first_path(a: &Asset) -> &str {
    a.versions
        .iter()
        .flat_map(|v| v.places.iter().map(Place::path))
        .min()
        .unwrap_or("")
}

impl Asset {
    /// The newest version of each role that can still be had, with the best
    /// place to get it from (staging before an archive, the newest archive
    /// first); and the roles whose every version is in pruned archives.
    #[must_use]
    pub(crate) fn newest(&self) -> (Vec<(&Version, &Place)>, Vec<&Version>) {
        let mut roles: Vec<&str> = self.versions.iter().map(|v| v.role.as_str()).collect();
        roles.dedup();
        let mut found = Vec::new();
        let mut gone = Vec::new();
        for role in roles {
            let mut versions = self.versions.iter().filter(|v| v.role == role);
            let best = versions
                .clone()
                .rev()
                .find_map(|v| best_place(v).map(|p| (v, p)));
            match best {
                Some(pick) => found.push(pick),
                None => gone.extend(versions.next_back()),
            }
        }
        (found, gone)
    }
}

/// Staging if the version is staged, else its newest archive still there.
fn best_place(v: &Version) -> Option<&Place> {
    v.places
        .iter()
        .find(|p| matches!(p, Place::Staged { .. }))
        .or_else(|| v.places.iter().rev().find(|p| p.available()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::query::{parse, resolve};
    use super::*;
    use crate::archive::period::Month;
    use crate::ledger::StagedFile;
    use chrono::{TimeZone, Utc};

    pub(crate) const U1: &str = "A0000000-0000-4000-8000-000000000001";
    pub(crate) const U2: &str = "A0000000-0000-4000-8000-000000000002";

    pub(crate) fn rollover(archive: &str, month: u32, pruned: bool) -> Rollover {
        // Made on the first day of the next month, five past midnight.
        let (y, m) = if month == 12 {
            (2027, 1)
        } else {
            (2026, month + 1)
        };
        let at = Utc.with_ymd_and_hms(y, m, 1, 0, 5, 0).unwrap();
        let m = Month { year: 2026, month };
        Rollover {
            library: "anna".into(),
            archive: archive.into(),
            first: m,
            last: m,
            step: Step::Purged,
            planned_at: at,
            created_at: Some(at),
            verified_at: Some(at),
            purged_at: Some(at),
            pruned_at: pruned.then_some(at),
            files: 1,
            bytes: 1,
            missing: Vec::new(),
            warning: None,
            backfill: false,
        }
    }

    pub(crate) fn archived(
        archive: &str,
        uuid: &str,
        role: &str,
        path: &str,
        hash: &str,
    ) -> ArchivedFile {
        ArchivedFile {
            archive: archive.into(),
            uuid: uuid.into(),
            role: role.into(),
            path: path.into(),
            size: hash.len() as u64,
            hash: hash.into(),
        }
    }

    fn record(uuid: &str, role: &str, path: &str, hash: &str, state: (bool, bool)) -> FileRecord {
        let at = Utc.with_ymd_and_hms(2026, 10, 15, 13, 0, 0).unwrap();
        let (mirrored, purged) = state;
        FileRecord {
            file: StagedFile {
                library: "anna".into(),
                uuid: uuid.into(),
                role: role.into(),
                path: path.into(),
                size: hash.len() as u64,
                mtime_ns: 0,
                hash: hash.into(),
                source_signature: String::new(),
                exported_at: at,
                archive: purged.then(|| "photos-anna-2026-09".into()),
            },
            mirrored_at: mirrored.then_some(at),
            purged_at: purged.then_some(at),
        }
    }

    /// September holds photo 1 (original, xmp) and photo 2; photo 1's xmp
    /// was staged again in October (an edit), its original purged.
    pub(crate) fn sample() -> (Vec<FileRecord>, Vec<(Rollover, Vec<ArchivedFile>)>) {
        let sept = "photos-anna-2026-09";
        let p1 = "anna/2026/09/10/IMG_0001.JPG";
        let x1 = "anna/2026/09/10/IMG_0001.JPG.xmp";
        let p2 = "anna/2026/09/20/IMG_0002.JPG";
        let files = vec![
            record(U1, "original", p1, "o1", (true, true)),
            record(U1, "xmp", x1, "x1-new", (true, false)),
            record(U2, "original", p2, "o2", (false, true)),
        ];
        let archives = vec![(
            rollover(sept, 9, false),
            vec![
                archived(sept, U1, "original", p1, "o1"),
                archived(sept, U1, "xmp", x1, "x1"),
                archived(sept, U2, "original", p2, "o2"),
            ],
        )];
        (files, archives)
    }

    fn find(query: &str) -> Vec<Asset> {
        let (files, archives) = sample();
        let m = resolve(&parse(query).unwrap(), [U1, U2]).unwrap();
        gather("anna", &files, &archives, &m)
    }

    #[test]
    fn an_edited_asset_has_an_archived_and_a_staged_version() {
        let found = find(U1);
        assert_eq!(found.len(), 1);
        let a = &found[0];
        let summary: Vec<(&str, &str, Vec<&Place>)> = a
            .versions
            .iter()
            .map(|v| (v.role.as_str(), v.hash.as_str(), v.places.iter().collect()))
            .collect();
        let sept = |path: &str| Place::Archived {
            archive: "photos-anna-2026-09".into(),
            path: path.into(),
            pruned: false,
        };
        assert_eq!(
            summary,
            [
                (
                    "original",
                    "o1",
                    vec![&sept("anna/2026/09/10/IMG_0001.JPG")]
                ),
                ("xmp", "x1", vec![&sept("anna/2026/09/10/IMG_0001.JPG.xmp")]),
                (
                    "xmp",
                    "x1-new",
                    vec![&Place::Staged {
                        path: "anna/2026/09/10/IMG_0001.JPG.xmp".into(),
                        mirrored: true
                    }]
                ),
            ]
        );
        let (newest, gone) = a.newest();
        let picked: Vec<(&str, &str)> = newest
            .iter()
            .map(|(v, p)| (v.hash.as_str(), p.path()))
            .collect();
        assert_eq!(
            picked,
            [
                ("o1", "anna/2026/09/10/IMG_0001.JPG"),
                ("x1-new", "anna/2026/09/10/IMG_0001.JPG.xmp")
            ]
        );
        assert!(gone.is_empty());
    }

    #[test]
    fn names_and_dates_select_files_across_assets_in_folder_order() {
        let by_name: Vec<(String, usize)> = find("img_000")
            .into_iter()
            .map(|a| (a.uuid, a.versions.len()))
            .collect();
        assert_eq!(by_name, [(U1.to_owned(), 3), (U2.to_owned(), 1)]);
        let jpg = find("IMG_0001.JPG");
        assert_eq!(jpg.len(), 1);
        assert_eq!(jpg[0].versions.len(), 3, "the original and both XMPs");
        assert_eq!(find(".JPG.XMP")[0].versions.len(), 2);
        let day = find("2026-09-20");
        assert_eq!(day.len(), 1);
        assert_eq!(day[0].uuid, U2);
        assert!(find("2026-10").is_empty());
        assert!(find("nothing-like-it").is_empty());
    }

    #[test]
    fn the_same_content_staged_and_archived_is_one_version_in_two_places() {
        let (mut files, archives) = sample();
        // Verified and archived, not purged yet: still in staging.
        files[0].purged_at = None;
        let m = resolve(&parse(U1).unwrap(), [U1]).unwrap();
        let found = gather("anna", &files, &archives, &m);
        let original = &found[0].versions[0];
        assert_eq!(original.places.len(), 2);
        assert!(matches!(original.places[1], Place::Staged { .. }));
        let (newest, _) = found[0].newest();
        assert!(matches!(newest[0].1, Place::Staged { .. }), "staging first");
    }

    #[test]
    fn a_version_only_in_a_pruned_archive_is_gone_and_an_older_one_is_taken() {
        let jan = "photos-anna-2026-01";
        let feb = "photos-anna-2026-02";
        let path = "anna/2026/01/05/IMG_9.JPG";
        let archives = vec![
            (
                rollover(jan, 1, false),
                vec![archived(jan, U1, "xmp", path, "old")],
            ),
            (
                rollover(feb, 2, true),
                vec![archived(feb, U1, "xmp", path, "new")],
            ),
            (
                rollover("photos-anna-2026-03", 3, true),
                vec![archived("photos-anna-2026-03", U1, "original", path, "o")],
            ),
        ];
        let m = resolve(&parse(U1).unwrap(), [U1]).unwrap();
        let found = gather("anna", &[], &archives, &m);
        let (newest, gone) = found[0].newest();
        assert_eq!(newest.len(), 1);
        assert_eq!(newest[0].0.hash, "old");
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].role, "original");
    }
}
