//! A run's planning and staging of one library, a batch of assets at a
//! time: the reader hands the selected assets over one by one, and every
//! `ASSETS` of them are planned against their own ledger rows (one indexed
//! query), staged, and dropped. So a run holds one batch of assets and
//! ledger rows, not the selection and the library's ledger: memory does not
//! grow with the selection. Who owns a staged name (a claim), which a new or
//! pending asset needs to get a base no other asset has, is asked of the
//! ledger's index of paths (`Ledger::paths_starting_with`), claim by claim.
//!
//! A damaged page met while reading a copy checked only page by page sends
//! the walk again from the start over a fresh copy checked whole, as
//! `Library::assets` does: batches staged before the damage are then
//! planned again and found unchanged.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::layout::Role;
use super::plan::{self, Known, KnownFile, Options, Pending};
use super::source::Sources;
use super::stage::{self, Progress, Staged};
use crate::ledger::{Ledger, StagedSource};
use crate::photos::{Asset, Check, Library, PhotosError, Selection};

/// Assets planned and staged together.
pub const ASSETS: usize = 2048;

/// What the batches planned and staged, added up.
#[derive(Debug, Default)]
pub struct Totals {
    /// Files and bytes planned (copies and sidecars).
    pub files: usize,
    pub bytes: u64,
    /// Assets with a file planned.
    pub assets: usize,
    /// Files already staged unchanged.
    pub unchanged: usize,
    /// Assets pending after the plan, with why (for downloads and counts).
    pub pending: Vec<Pending>,
    /// What was staged (a run that stages).
    pub staged: Staged,
    /// The assets of `already` (pending before the run) that were selected.
    pub seen_pending: HashSet<String>,
}

/// Where and how a walk stages (none: it only plans, a dry run).
pub struct Staging<'a> {
    pub root: &'a Path,
    pub group_readable: bool,
    pub progress: &'a mut dyn Progress,
}

/// Plans (and stages, with `staging`) the selected assets of library `name`
/// `per_batch` at a time (a run: `ASSETS`). `already`: the uuids pending
/// before the run.
#[allow(clippy::too_many_arguments)]
pub fn walk<S: std::hash::BuildHasher>(
    name: &str,
    library: Library,
    selection: &Selection,
    options: Options,
    mut ledger: Option<&mut Ledger>,
    mut staging: Option<Staging>,
    already: &HashSet<&str, S>,
    (now, per_batch): (DateTime<Utc>, usize),
) -> anyhow::Result<Totals> {
    let per_batch = per_batch.max(1);
    let sources = Sources::new(&library.root)
        .with_context(|| format!("reading {}", library.root.display()))?;
    let mut library = library;
    let mut totals = Totals::default();
    let mut claimed = HashMap::new();
    let mut batch = Vec::with_capacity(per_batch);
    loop {
        let mut walker = Walker {
            name,
            root: &library.root,
            options,
            sources: &sources,
            ledger: ledger.as_deref_mut(),
            staging: staging.as_mut(),
            already,
            now,
        };
        let outcome = library.for_each_asset(selection, |asset| -> anyhow::Result<()> {
            batch.push(asset);
            if batch.len() >= per_batch {
                walker.batch(&mut batch, &mut claimed, &mut totals)?;
            }
            Ok(())
        });
        match outcome {
            Err(e)
                if library.checked == Check::PagesRead
                    && matches!(
                        e.downcast_ref::<PhotosError>(),
                        Some(PhotosError::Corrupt { .. })
                    ) =>
            {
                let root = library.root.clone();
                drop(library);
                library = Library::open_with(&root, Check::Full)?;
                batch.clear();
                claimed.clear();
                totals = Totals {
                    staged: totals.staged,
                    ..Totals::default()
                };
            }
            outcome => {
                outcome?;
                break;
            }
        }
    }
    Walker {
        name,
        root: &library.root,
        options,
        sources: &sources,
        ledger,
        staging: staging.as_mut(),
        already,
        now,
    }
    .batch(&mut batch, &mut claimed, &mut totals)?;
    if let Some(s) = staging {
        s.progress.finish();
    }
    Ok(totals)
}

struct Walker<'a, 'b, S> {
    name: &'a str,
    root: &'a Path,
    options: Options,
    sources: &'a Sources,
    ledger: Option<&'a mut Ledger>,
    staging: Option<&'a mut Staging<'b>>,
    already: &'a HashSet<&'a str, S>,
    now: DateTime<Utc>,
}

impl<S: std::hash::BuildHasher> Walker<'_, '_, S> {
    /// Plans and stages `batch`, then empties it. `claimed`: the claims
    /// given out by earlier batches and not yet in the ledger.
    fn batch(
        &mut self,
        batch: &mut Vec<Asset>,
        claimed: &mut HashMap<String, String>,
        totals: &mut Totals,
    ) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let stat = |p: &Path| self.sources.stat(p);
        let plan = match self.ledger.as_deref() {
            Some(ledger) => {
                let uuids: Vec<&str> = batch.iter().map(|a| a.uuid.as_str()).collect();
                let files = ledger.sources_of_assets(self.name, &uuids)?;
                let failed = RefCell::new(None);
                let owner = |claim: &str| match ledger.paths_starting_with(self.name, claim) {
                    Ok(files) => plan::claim_owner(claim, files),
                    Err(e) => {
                        failed.borrow_mut().get_or_insert(e);
                        // Taken by someone: never given out on an error.
                        Some(String::new())
                    }
                };
                let known = Known::with_claims(files.into_iter().filter_map(known_file), &owner);
                let plan = plan::plan_batch(
                    self.name,
                    self.root,
                    batch,
                    &known,
                    self.options,
                    &stat,
                    claimed,
                );
                if let Some(e) = failed.into_inner() {
                    return Err(e.into());
                }
                plan
            }
            None => plan::plan_batch(
                self.name,
                self.root,
                batch,
                &Known::default(),
                self.options,
                &stat,
                claimed,
            ),
        };
        totals.files += plan.actions.len();
        totals.bytes += plan.bytes();
        totals.assets += plan::assets_touched(&plan);
        totals.unchanged += plan.unchanged;
        totals.seen_pending.extend(
            batch
                .iter()
                .filter(|a| self.already.contains(a.uuid.as_str()))
                .map(|a| a.uuid.clone()),
        );
        if let (Some(ledger), Some(staging)) = (self.ledger.as_deref_mut(), self.staging.as_mut()) {
            let mut progress = Continued(&mut *staging.progress);
            let staged = stage::execute(
                self.name,
                (staging.root, staging.group_readable),
                (&plan, batch),
                self.already,
                ledger,
                self.now,
                &mut progress,
            )?;
            totals.staged.files += staged.files;
            totals.staged.bytes += staged.bytes;
            // Every planned asset now has a file in the ledger (its XMP at
            // least), which answers for its claim from now on.
            claimed.clear();
        }
        totals.pending.extend(plan.pending);
        batch.clear();
        Ok(())
    }
}

fn known_file(f: StagedSource) -> Option<KnownFile> {
    Some(KnownFile {
        role: Role::parse(&f.role)?,
        uuid: f.uuid,
        path: f.path,
        signature: f.source_signature,
    })
}

/// The progress of one batch inside the walk's: each batch's `start` adds
/// its files, and the walk finishes once, at the end.
struct Continued<'a>(&'a mut dyn Progress);

impl Progress for Continued<'_> {
    fn start(&mut self, files: usize, bytes: u64) {
        self.0.start(files, bytes);
    }

    fn file_done(&mut self, bytes: u64) {
        self.0.file_done(bytes);
    }

    fn finish(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::layout;
    use crate::export::stage::Silent;
    use synthetic::{AssetSpec, Flavor, SyntheticLibrary};

    const LIBRARY: &str = "Main";

    fn uuid(i: usize) -> String {
        format!("0000000{i}-0000-4000-8000-000000000000")
    }

    /// Walks the whole library into `staging`, two assets a batch.
    fn walk_all(root: &Path, ledger: &mut Ledger, staging: &Path, now: DateTime<Utc>) -> Totals {
        let library = Library::open(root).unwrap();
        let mut progress = Silent;
        walk(
            LIBRARY,
            library,
            &Selection {
                all: true,
                since: None,
                uuids: Vec::new(),
            },
            Options {
                edited: true,
                unpicked_bursts: false,
            },
            Some(ledger),
            Some(Staging {
                root: staging,
                group_readable: false,
                progress: &mut progress,
            }),
            &HashSet::<&str>::new(),
            (now, 2),
        )
        .unwrap()
    }

    #[test]
    fn assets_of_one_name_and_day_in_different_batches_get_bases_of_their_own_for_good() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("Test.photoslibrary");
        let created = DateTime::from_timestamp(1_717_243_200, 0).unwrap();
        let mut lib = SyntheticLibrary::new(Flavor::Modern);
        // Five photos named IMG_0001.JPG, taken the same day; the third is
        // only in iCloud (pending: no original staged, its XMP is).
        for i in 1..=5 {
            lib.asset(AssetSpec {
                cloud_only: i == 3,
                ..AssetSpec::photo(&uuid(i), created)
            });
        }
        lib.write(&root).unwrap();
        let mut ledger = Ledger::open(&dir.path().join("state/ledger.sqlite")).unwrap();
        let staging = dir.path().join("staging");
        std::fs::create_dir_all(&staging).unwrap();

        let first = walk_all(&root, &mut ledger, &staging, created);
        assert_eq!(first.staged.files, 4 + 5, "4 originals, 5 sidecars");
        assert_eq!(first.pending.len(), 1);
        let files = ledger.files(LIBRARY).unwrap();
        let bases: HashSet<String> = files.iter().map(|f| layout::claim_key(&f.path)).collect();
        assert_eq!(bases.len(), 5, "one base per asset: {files:#?}");
        for f in &files {
            let owners: HashSet<&str> = files
                .iter()
                .filter(|g| layout::claim_key(&g.path) == layout::claim_key(&f.path))
                .map(|g| g.uuid.as_str())
                .collect();
            assert_eq!(owners, HashSet::from([f.uuid.as_str()]), "{}", f.path);
        }

        // Again, nothing changed: nothing staged, and the pending asset
        // (planned through the ledger's claims) keeps the base of its XMP.
        let second = walk_all(&root, &mut ledger, &staging, created);
        assert_eq!((second.files, second.staged.files), (0, 0));
        assert_eq!(second.unchanged, 9);
        let xmp = files
            .iter()
            .find(|f| f.uuid == uuid(3) && f.role == "xmp")
            .unwrap();
        let dest = second.pending[0].original_dest.as_deref().unwrap();
        assert_eq!(layout::claim_key(dest), layout::claim_key(&xmp.path));
    }
}
