//! A run's planning and staging of one library, a batch of assets at a
//! time: the reader hands the selected assets over one by one, and every
//! `ASSETS` of them are planned against their own ledger rows (one indexed
//! query), staged, and dropped. So a run holds one batch of assets and
//! ledger rows, not the selection and the library's ledger: memory does not
//! grow with the selection. Who owns a staged name (a claim), which a new or
//! pending asset needs to get a base no other asset has, is asked of the
//! ledger's index of paths (`Ledger::paths_starting_with`), claim by claim.
//!
//! Only what changed is read: the reader gives each selected asset's
//! version first (narrow columns, `photos::versions`), and an asset whose
//! version is the one the ledger recorded when its batch was staged is
//! neither read in full, nor planned, nor its files stat-ed (its files
//! count as already staged). A pending asset too, unless we may ask Photos
//! for its original now (`Staging::download_due`): one waiting for Photos
//! to download it changes version when the original arrives (its resource
//! rows change). A full read, every
//! asset as before, is due daily, after a full check of the copy, after an
//! error, on a new basis or a ledger without versions (`versions`): that is
//! what catches a file replaced on disk without a database change.
//!
//! A damaged page met while reading a copy checked only page by page sends
//! the walk again from the start over a fresh copy checked whole, as
//! `Library::assets` does, and as a full read: batches staged before the
//! damage are then planned again and found unchanged.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::layout::Role;
use super::plan::{self, Action, Known, KnownFile, Options, Pending};
use super::source::Sources;
use super::stage::{self, Progress, Staged};
use super::versions::{self, Read};
use crate::ledger::{Ledger, StagedSource, VersionBasis};
use crate::photos::{Asset, Check, Library, PhotosError, Selection, Visit};

/// Assets planned and staged together.
pub(crate) const ASSETS: usize = 2048;

/// What the batches planned and staged, added up.
#[derive(Debug, Default)]
pub struct Totals {
    /// Files and bytes planned (copies and sidecars).
    pub(crate) files: usize,
    pub(crate) bytes: u64,
    /// Assets with a file planned.
    pub(crate) assets: usize,
    /// Files already staged unchanged (those of assets left out by their
    /// version included).
    pub unchanged: usize,
    /// Assets pending after the plan, with why (for downloads and counts).
    pub(crate) pending: Vec<Pending>,
    /// What was staged (a run that stages).
    pub staged: Staged,
    /// The assets of `already` (pending before the run) that were selected.
    pub(crate) seen_pending: HashSet<String>,
    /// How the selection was read, the assets read in full, and those left
    /// out because their version is the one staged.
    read: Option<Read>,
    assets_read: usize,
    assets_known: usize,
}

/// Where and how a walk stages (none: it only plans, a dry run).
pub struct Staging<'a> {
    pub root: &'a Path,
    pub group_readable: bool,
    pub progress: &'a mut dyn Progress,
    /// Whether a pending asset must be planned even when its version is
    /// the one staged: its download is due (we may ask Photos for it).
    /// Otherwise a pending asset waits for Photos, which changes the
    /// database, and so its version, when the original arrives.
    pub download_due: &'a dyn Fn(&str) -> bool,
}

/// Plans (and stages, with `staging`) the selected assets of library `name`
/// `per_batch` at a time (a run: `ASSETS`). `already`: the uuids pending
/// before the run. With a ledger and staging, only the assets whose version
/// changed are read, unless a full read is due (`versions::read`).
#[allow(clippy::too_many_arguments)]
pub fn walk<S: std::hash::BuildHasher>(
    name: &str,
    library: Library,
    selection: &Selection,
    options: Options,
    mut ledger: Option<&mut Ledger>,
    staging: Option<Staging>,
    already: &HashSet<&str, S>,
    (now, per_batch): (DateTime<Utc>, usize),
) -> anyhow::Result<Totals> {
    let basis = versions::basis(library.schema.model_version, options);
    let walked = walk_versions(
        name,
        library,
        selection,
        options,
        ledger.as_deref_mut(),
        staging,
        already,
        (now, per_batch.max(1), Some(&basis)),
    );
    if let (Err(_), Some(l)) = (&walked, ledger.filter(|_| walked.is_err())) {
        // Best effort: the walk's own error is what the caller sees.
        let _ = l.forget_versions(name, false);
    }
    walked
}

/// Stages the assets `uuids` of library `name` (the backfill's part),
/// whatever their dates, each read in full. The library's versions and
/// their basis are the normal cycle's: this walk neither forgets nor
/// renews them (it records the versions of the assets it stages).
#[allow(clippy::too_many_arguments)]
pub(crate) fn walk_assets<S: std::hash::BuildHasher>(
    name: &str,
    library: Library,
    uuids: &[String],
    options: Options,
    ledger: &mut Ledger,
    staging: Staging,
    already: &HashSet<&str, S>,
    now: DateTime<Utc>,
) -> anyhow::Result<Totals> {
    let selection = Selection {
        all: true,
        // No asset is added or changed at or after the end of time: the
        // selection is the uuids alone.
        since: Some(DateTime::<Utc>::MAX_UTC),
        uuids: uuids.to_vec(),
    };
    walk_versions(
        name,
        library,
        &selection,
        options,
        Some(ledger),
        Some(staging),
        already,
        (now, ASSETS, None),
    )
}

/// `basis`: the versions' basis of a walk of the normal cycle; `None`: a
/// walk of named assets that reads them all and leaves the basis alone.
#[allow(clippy::too_many_arguments)]
fn walk_versions<S: std::hash::BuildHasher>(
    name: &str,
    library: Library,
    selection: &Selection,
    options: Options,
    mut ledger: Option<&mut Ledger>,
    mut staging: Option<Staging>,
    already: &HashSet<&str, S>,
    (now, per_batch, basis): (DateTime<Utc>, usize, Option<&str>),
) -> anyhow::Result<Totals> {
    let sources = Sources::new(&library.root)
        .with_context(|| format!("reading {}", library.root.display()))?;
    let records = ledger.is_some() && staging.is_some() && basis.is_some();
    let mut read = match (ledger.as_deref().filter(|_| records), basis) {
        (Some(l), Some(basis)) => versions::read(
            l.version_basis(name)?.as_ref(),
            basis,
            library.checked == Check::Full,
            crate::photos::versions::supported(&library.schema),
            now,
        ),
        _ => Read::Full,
    };
    let mut library = library;
    let mut totals = Totals::default();
    let mut claimed = HashMap::new();
    let mut batch = Vec::with_capacity(per_batch);
    let mut batch_versions = Vec::with_capacity(per_batch);
    let outcome = loop {
        if let (Read::Full, Some(l), true) = (read, ledger.as_deref(), records) {
            l.forget_versions(name, true)?;
        }
        let mut walker = Walker {
            name,
            root: &library.root,
            options,
            sources: &sources,
            ledger: ledger.as_deref_mut(),
            staging: staging.as_mut(),
            already,
            now,
            read,
            per_batch,
            batch: &mut batch,
            versions: &mut batch_versions,
            claimed: &mut claimed,
            totals: &mut totals,
        };
        let outcome = library
            .visit(selection, &mut walker)
            .and_then(|()| walker.batch());
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
                read = Read::Full;
                batch.clear();
                batch_versions.clear();
                claimed.clear();
                totals = Totals {
                    staged: std::mem::take(&mut totals.staged),
                    ..Totals::default()
                };
            }
            outcome => break outcome,
        }
    };
    outcome?;
    if let (Read::Full, Some(l), true, Some(basis)) = (read, ledger.as_deref(), records, basis) {
        l.set_version_basis(
            name,
            &VersionBasis {
                basis: basis.to_owned(),
                full_at: now,
            },
        )?;
    }
    totals.read = Some(read);
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
    read: Read,
    per_batch: usize,
    batch: &'a mut Vec<Asset>,
    /// The version of each asset of `batch`.
    versions: &'a mut Vec<u64>,
    /// The claims given out by earlier batches and not yet in the ledger.
    claimed: &'a mut HashMap<String, String>,
    totals: &'a mut Totals,
}

impl<S: std::hash::BuildHasher> Visit<anyhow::Error> for Walker<'_, '_, S> {
    fn skips(&self) -> bool {
        self.read == Read::Changed && self.ledger.is_some()
    }

    /// Known unchanged: the version the ledger holds, and not a pending
    /// asset whose download is due.
    fn unchanged(&mut self, assets: &[(&str, u64)]) -> anyhow::Result<Vec<bool>> {
        let (Some(ledger), Some(staging)) = (self.ledger.as_deref(), self.staging.as_deref())
        else {
            return Ok(vec![false; assets.len()]);
        };
        let known = ledger.unchanged_assets(self.name, assets)?;
        let totals = &mut *self.totals;
        Ok(assets
            .iter()
            .zip(known)
            .map(|((uuid, _), files)| {
                let pending = self.already.contains(*uuid);
                match files {
                    Some(files) if !(pending && (staging.download_due)(uuid)) => {
                        if pending {
                            totals.seen_pending.insert((*uuid).to_owned());
                        }
                        totals.assets_known += 1;
                        totals.unchanged += files as usize;
                        true
                    }
                    _ => false,
                }
            })
            .collect())
    }

    fn asset(&mut self, asset: Asset, version: u64) -> anyhow::Result<()> {
        self.totals.assets_read += 1;
        self.batch.push(asset);
        self.versions.push(version);
        if self.batch.len() >= self.per_batch {
            self.batch()?;
        }
        Ok(())
    }
}

impl<S: std::hash::BuildHasher> Walker<'_, '_, S> {
    /// Plans and stages the batch, records its assets' versions, then
    /// empties it.
    fn batch(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = &*self.batch;
        let stat = |p: &Path| self.sources.stat(p);
        let mut known_roles: HashSet<(String, Role)> = HashSet::new();
        let plan = match self.ledger.as_deref() {
            Some(ledger) => {
                let uuids: Vec<&str> = batch.iter().map(|a| a.uuid.as_str()).collect();
                let files = ledger.sources_of_assets(self.name, &uuids)?;
                known_roles.extend(
                    files
                        .iter()
                        .filter_map(|f| Some((f.uuid.clone(), Role::parse(&f.role)?))),
                );
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
                    self.claimed,
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
                self.claimed,
            ),
        };
        let totals = &mut *self.totals;
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
            self.claimed.clear();
            // Staged and recorded: each asset's version now stands for its
            // files (how many: for the run's line when it is left out).
            known_roles.extend(plan.actions.iter().map(|a| match a {
                Action::Copy { uuid, role, .. } | Action::Write { uuid, role, .. } => {
                    (uuid.clone(), *role)
                }
            }));
            let mut files: HashMap<&str, u64> = HashMap::new();
            for (uuid, _) in &known_roles {
                *files.entry(uuid.as_str()).or_default() += 1;
            }
            let recorded: Vec<(&str, u64, u64)> = batch
                .iter()
                .zip(self.versions.iter())
                .map(|(a, v)| {
                    let n = files.get(a.uuid.as_str()).copied().unwrap_or(0);
                    (a.uuid.as_str(), *v, n)
                })
                .collect();
            ledger.record_versions(self.name, &recorded)?;
        }
        totals.pending.extend(plan.pending);
        self.batch.clear();
        self.versions.clear();
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
    fn start(&mut self, step: stage::Step, files: usize, bytes: u64) {
        self.0.start(step, files, bytes);
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
    use std::path::PathBuf;
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
                download_due: &|_| false,
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

    /// Walks every asset added since 2000 (all of them, as a run selects
    /// by date) plus the pending ones, two assets a batch, over a copy
    /// checked as `check` says.
    fn walk_changed(
        root: &Path,
        ledger: &mut Ledger,
        staging: &Path,
        now: DateTime<Utc>,
        check: Check,
    ) -> Totals {
        walk_due(root, ledger, staging, (now, check), &|_| false)
    }

    /// `walk_changed`, with the pending assets whose download is `due`.
    fn walk_due(
        root: &Path,
        ledger: &mut Ledger,
        staging: &Path,
        (now, check): (DateTime<Utc>, Check),
        due: &dyn Fn(&str) -> bool,
    ) -> Totals {
        let library = Library::open_with(root, check).unwrap();
        let pending: Vec<String> = ledger
            .pending(LIBRARY)
            .unwrap()
            .into_iter()
            .map(|p| p.uuid)
            .collect();
        let already: HashSet<&str> = pending.iter().map(String::as_str).collect();
        let mut progress = Silent;
        walk(
            LIBRARY,
            library,
            &Selection {
                all: true,
                since: Some(DateTime::from_timestamp(946_684_800, 0).unwrap()),
                uuids: pending.clone(),
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
                download_due: due,
            }),
            &already,
            (now, 2),
        )
        .unwrap()
    }

    /// Sets the title of asset `uuid` in the library's database, bumping
    /// its attribute row's `Z_OPT` as every save by Photos does, or not.
    fn retitle(root: &Path, uuid: &str, title: &str, bump: bool) {
        let conn = rusqlite::Connection::open(root.join("database/Photos.sqlite")).unwrap();
        let opt = if bump { "Z_OPT + 1" } else { "Z_OPT" };
        let changed = conn
            .execute(
                &format!(
                    "UPDATE ZADDITIONALASSETATTRIBUTES SET ZTITLE = ?1, Z_OPT = {opt}
                     WHERE ZASSET = (SELECT Z_PK FROM ZASSET WHERE ZUUID = ?2)"
                ),
                [title, uuid],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }

    /// A library of four photos and one only in iCloud, walked once (a
    /// full read: first run), with its ledger and staging.
    fn staged_once(dir: &Path, created: DateTime<Utc>) -> (PathBuf, Ledger, PathBuf) {
        let root = dir.join("Test.photoslibrary");
        let mut lib = SyntheticLibrary::new(Flavor::Modern);
        for i in 1..=5 {
            lib.asset(AssetSpec {
                cloud_only: i == 5,
                ..AssetSpec::photo(&uuid(i), created)
            });
        }
        lib.write(&root).unwrap();
        let mut ledger = Ledger::open(&dir.join("state/ledger.sqlite")).unwrap();
        let staging = dir.join("staging");
        std::fs::create_dir_all(&staging).unwrap();
        let first = walk_changed(&root, &mut ledger, &staging, created, Check::PagesRead);
        assert_eq!(first.read, Some(Read::Full), "no versions yet");
        assert_eq!((first.assets_read, first.staged.files), (5, 4 + 5));
        (root, ledger, staging)
    }

    fn xmp_of(ledger: &Ledger, staging: &Path, i: usize) -> String {
        let files = ledger.files_of(LIBRARY, &uuid(i)).unwrap();
        let xmp = files.iter().find(|f| f.role == "xmp").unwrap();
        std::fs::read_to_string(staging.join(&xmp.path)).unwrap()
    }

    #[test]
    fn only_an_edited_asset_or_a_pending_one_due_for_download_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let created = DateTime::from_timestamp(1_717_243_200, 0).unwrap();
        let (root, mut ledger, staging) = staged_once(dir.path(), created);
        let hour = chrono::TimeDelta::hours(1);

        // Nothing changed: nothing is read in full, the pending asset is
        // still seen (not let go as deleted).
        let again = walk_changed(
            &root,
            &mut ledger,
            &staging,
            created + hour,
            Check::PagesRead,
        );
        assert_eq!(again.read, Some(Read::Changed));
        assert_eq!((again.assets_read, again.assets_known), (0, 5));
        assert_eq!((again.files, again.staged.files), (0, 0));
        assert_eq!(
            again.unchanged,
            4 + 5,
            "the files of the assets left out count"
        );
        assert_eq!(again.seen_pending, HashSet::from([uuid(5)]));
        // Its download is due: the pending asset is planned (to ask Photos).
        let due = walk_due(
            &root,
            &mut ledger,
            &staging,
            (created + hour, Check::PagesRead),
            &|u| u == uuid(5),
        );
        assert_eq!((due.assets_read, due.assets_known), (1, 4));
        assert_eq!(due.pending.len(), 1);

        // Photos saves a new title of asset 2: read, its XMP written again.
        retitle(&root, &uuid(2), "Harbour at dusk", true);
        let edited = walk_changed(
            &root,
            &mut ledger,
            &staging,
            created + hour * 2,
            Check::PagesRead,
        );
        assert_eq!(edited.read, Some(Read::Changed));
        assert_eq!((edited.assets_read, edited.assets_known), (1, 4));
        assert_eq!(edited.staged.files, 1, "the XMP of asset 2");
        assert!(xmp_of(&ledger, &staging, 2).contains("Harbour at dusk"));

        // And then it is known again.
        let after = walk_changed(
            &root,
            &mut ledger,
            &staging,
            created + hour * 3,
            Check::PagesRead,
        );
        assert_eq!((after.assets_read, after.staged.files), (0, 0));

        // A copy checked whole (daily, after a read error) reads everything.
        let full = walk_changed(
            &root,
            &mut ledger,
            &staging,
            created + hour * 4,
            Check::Full,
        );
        assert_eq!(full.read, Some(Read::Full));
        assert_eq!((full.assets_read, full.staged.files), (5, 0));
    }

    #[test]
    fn the_daily_full_read_catches_a_change_that_did_not_bump_z_opt() {
        let dir = tempfile::tempdir().unwrap();
        let created = DateTime::from_timestamp(1_717_243_200, 0).unwrap();
        let (root, mut ledger, staging) = staged_once(dir.path(), created);

        retitle(&root, &uuid(3), "Written behind Core Data's back", false);
        let hours = chrono::TimeDelta::hours;
        let missed = walk_changed(
            &root,
            &mut ledger,
            &staging,
            created + hours(23),
            Check::PagesRead,
        );
        assert_eq!(missed.read, Some(Read::Changed));
        assert_eq!(missed.staged.files, 0, "the version did not change");
        assert!(!xmp_of(&ledger, &staging, 3).contains("behind"));

        let daily = walk_changed(
            &root,
            &mut ledger,
            &staging,
            created + hours(24),
            Check::PagesRead,
        );
        assert_eq!(daily.read, Some(Read::Full));
        assert_eq!((daily.assets_read, daily.staged.files), (5, 1));
        assert!(xmp_of(&ledger, &staging, 3).contains("Written behind Core Data"));
        // The full read starts a new day of versions.
        let next = walk_changed(
            &root,
            &mut ledger,
            &staging,
            created + hours(25),
            Check::PagesRead,
        );
        assert_eq!(next.read, Some(Read::Changed));
    }

    #[test]
    fn a_ledger_from_before_versions_is_read_in_full_once_then_by_versions() {
        let dir = tempfile::tempdir().unwrap();
        let created = DateTime::from_timestamp(1_717_243_200, 0).unwrap();
        let (root, ledger, staging) = staged_once(dir.path(), created);
        let path = ledger.path().to_owned();
        drop(ledger);
        // Back to schema 3, as a ledger written by the previous version.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TABLE backfill_asset; DROP TABLE backfill_hold; DROP TABLE backfill_census;
             DROP INDEX staged_file_by_batch; ALTER TABLE staged_file DROP COLUMN batch;
             ALTER TABLE rollover DROP COLUMN backfill;
             DROP TRIGGER asset_version_forget; DROP TABLE asset_version;
             DROP TABLE version_basis; DROP TABLE takeout_member; DROP TABLE takeout_part;
             DROP TABLE takeout_report; DROP TABLE takeout_report_content;
             PRAGMA user_version = 3;",
        )
        .unwrap();
        drop(conn);

        let mut ledger = Ledger::open(&path).unwrap();
        let hour = chrono::TimeDelta::hours(1);
        let migrated = walk_changed(
            &root,
            &mut ledger,
            &staging,
            created + hour,
            Check::PagesRead,
        );
        assert_eq!(migrated.read, Some(Read::Full));
        assert_eq!((migrated.assets_read, migrated.staged.files), (5, 0));
        let next = walk_changed(
            &root,
            &mut ledger,
            &staging,
            created + hour * 2,
            Check::PagesRead,
        );
        assert_eq!(next.read, Some(Read::Changed));
        assert_eq!(next.assets_read, 0);
    }

    #[test]
    fn an_error_of_a_walk_forgets_the_basis_so_the_next_reads_in_full() {
        let dir = tempfile::tempdir().unwrap();
        let created = DateTime::from_timestamp(1_717_243_200, 0).unwrap();
        let (root, mut ledger, staging) = staged_once(dir.path(), created);
        assert!(ledger.version_basis(LIBRARY).unwrap().is_some());
        // Asset 1 changed, and staging cannot take its new XMP.
        retitle(&root, &uuid(1), "New", true);
        let xmp = ledger
            .files_of(LIBRARY, &uuid(1))
            .unwrap()
            .into_iter()
            .find(|f| f.role == "xmp")
            .unwrap();
        // A folder that is not empty where its XMP goes: the rename fails.
        let dest = staging.join(&xmp.path);
        std::fs::remove_file(&dest).unwrap();
        std::fs::create_dir_all(dest.join("in-the-way")).unwrap();
        let library = Library::open_with(&root, Check::PagesRead).unwrap();
        let mut progress = Silent;
        let failed = walk(
            LIBRARY,
            library,
            &Selection {
                all: true,
                since: Some(DateTime::from_timestamp(946_684_800, 0).unwrap()),
                uuids: Vec::new(),
            },
            Options {
                edited: true,
                unpicked_bursts: false,
            },
            Some(&mut ledger),
            Some(Staging {
                root: &staging,
                group_readable: false,
                progress: &mut progress,
                download_due: &|_| false,
            }),
            &HashSet::<&str>::new(),
            (created + chrono::TimeDelta::hours(1), 2),
        );
        assert!(failed.is_err());
        assert_eq!(ledger.version_basis(LIBRARY).unwrap(), None);
    }
}
