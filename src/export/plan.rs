//! What to stage for one library: a pure function of the selected assets,
//! what the ledger already holds, and the sizes and times of the library's
//! files. The ledger, not the dates, decides whether a file is already staged
//! unchanged: a re-run plans nothing, an edit re-stages only the changed
//! files, a metadata change rewrites only the XMP sidecar.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::layout::{self, Role};
use super::xmp;
use crate::photos::{Asset, ResourceRole};

/// Export settings that change the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub edited: bool,
    pub unpicked_bursts: bool,
}

/// One file the ledger says is staged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct KnownFile {
    pub(super) uuid: String,
    pub(super) role: Role,
    /// Relative to the staging root.
    pub(super) path: String,
    pub(super) signature: String,
}

/// Size and modification time of a library file: its signature, cheap to
/// take, and changed by any rewrite Photos does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SourceStat {
    pub(super) size: u64,
    pub(super) mtime_ns: i64,
}

impl SourceStat {
    #[must_use]
    fn signature(self) -> String {
        format!("{}:{}", self.size, self.mtime_ns)
    }
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Copy a library file to `dest` (relative to the staging root).
    Copy {
        uuid: String,
        role: Role,
        source: PathBuf,
        dest: String,
        signature: String,
        size: u64,
    },
    /// Write the XMP sidecar of `assets[asset]` (the assets planned) to
    /// `dest`. Generated again when written, a batch at a time: a plan of
    /// 100,000 assets does not hold 100,000 sidecars.
    Write {
        uuid: String,
        role: Role,
        dest: String,
        asset: usize,
        size: u64,
        signature: String,
    },
}

impl Action {
    #[must_use]
    fn uuid(&self) -> &str {
        match self {
            Action::Copy { uuid, .. } | Action::Write { uuid, .. } => uuid,
        }
    }

    #[must_use]
    fn bytes(&self) -> u64 {
        match self {
            Action::Copy { size, .. } | Action::Write { size, .. } => *size,
        }
    }
}

/// Why an asset cannot be completely staged yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) uuid: String,
    pub(crate) reason: String,
    /// Where the original goes once it arrives (when it is the one missing).
    pub(super) original_dest: Option<String>,
}

/// Reason recorded for an original that is only in iCloud.
pub(crate) const IN_ICLOUD: &str = "original only in iCloud";

/// Reason recorded when a RAW partner or Live Photo video is only in iCloud.
const OTHER_IN_ICLOUD: &str = "RAW or Live Photo video only in iCloud";

/// Reason recorded when the database names no original file at all.
const NO_ORIGINAL: &str = "Photos names no original file";

/// Reason recorded for a referenced original (kept outside the library)
/// that is not there, e.g. on a disconnected drive.
const REFERENCED_MISSING: &str = "referenced file not found";

/// Marks the reason of an original in iCloud whose download failed.
const DOWNLOAD_FAILED: &str = "download failed";

/// The reason recorded when Photos could not give the original in iCloud.
pub(crate) fn download_failed(error: &dyn std::fmt::Display) -> String {
    format!("{IN_ICLOUD} ({DOWNLOAD_FAILED}: {error})")
}

/// A pending reason as data. The ledger stores reasons as the text the
/// constants above make (parts joined by `"; "`); this is the one place
/// that reads that text back, so decisions read these flags.
// Independent facts about one asset, hence several bools.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PendingReason {
    /// The original is only in iCloud (Photos may be asked for it).
    pub(crate) original_in_icloud: bool,
    /// ...and asking Photos for it failed.
    pub(crate) download_failed: bool,
    /// A RAW partner or Live Photo video is only in iCloud.
    pub(crate) companion_in_icloud: bool,
    /// A file is not there and iCloud will not bring it: a referenced
    /// original not found, no original named, a name refused as unsafe, a
    /// file that could not be read.
    pub(crate) file_missing: bool,
}

impl PendingReason {
    /// Reads a reason as recorded by the plan and the downloads.
    #[must_use]
    pub(crate) fn parse(text: &str) -> Self {
        let mut reason = Self::default();
        for part in text.split("; ") {
            if part == IN_ICLOUD {
                reason.original_in_icloud = true;
            } else if part.starts_with(&format!("{IN_ICLOUD} ({DOWNLOAD_FAILED}")) {
                reason.original_in_icloud = true;
                reason.download_failed = true;
            } else if part == OTHER_IN_ICLOUD {
                reason.companion_in_icloud = true;
            } else {
                reason.file_missing = true;
            }
        }
        reason
    }
}

/// The plan for one library.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// In order: each asset's files, original first, its XMP last.
    pub(crate) actions: Vec<Action>,
    /// Assets that stay (or become) pending, with why.
    pub(crate) pending: Vec<Pending>,
    /// Assets now completely staged (their pending mark, if any, can go).
    pub(crate) complete: Vec<String>,
    /// Selected assets that are not exported (trash, unpicked burst frames when off).
    pub(crate) skipped: usize,
    /// Files already staged unchanged.
    pub(crate) unchanged: usize,
}

impl Plan {
    #[must_use]
    pub(super) fn bytes(&self) -> u64 {
        self.actions.iter().map(Action::bytes).sum()
    }
}

/// What the ledger holds for the assets planned, indexed for planning, and
/// who owns a staged name: claim (`layout::claim_key` of a staged path) ->
/// the asset that owns it.
#[derive(Default)]
pub(super) struct Known<'a> {
    by_key: HashMap<(String, Role), KnownFile>,
    /// The claims of the files given (every file of the library, or those
    /// of the batch's assets without a staged original)...
    held: HashMap<String, String>,
    /// ...else asked for each claim (the ledger's index of paths), so a run
    /// that plans a batch of assets does not hold the library's claims.
    owner: Option<ClaimOwner<'a>>,
}

/// Who owns a claim, asked one claim at a time.
type ClaimOwner<'a> = &'a dyn Fn(&str) -> Option<String>;

impl<'a> Known<'a> {
    /// From every file of the library: the claims are those of `files`.
    #[cfg(test)]
    #[must_use]
    fn new(files: impl IntoIterator<Item = KnownFile>) -> Self {
        let mut known = Self::default();
        for f in files {
            known
                .held
                .insert(layout::claim_key(&f.path), f.uuid.clone());
            known.by_key.insert((f.uuid.clone(), f.role), f);
        }
        known
    }

    /// From the files of the assets planned (any superset will do); the
    /// owner of a claim is asked of `owner` (see `claim_owner`), unless a
    /// file given of an asset without a staged original has that claim: its
    /// asset owns it (the plan never gives one claim to two assets), so a
    /// pending asset, whose XMP is staged under its base, does not ask.
    #[must_use]
    pub(super) fn with_claims(
        files: impl IntoIterator<Item = KnownFile>,
        owner: ClaimOwner<'a>,
    ) -> Self {
        let mut known = Self {
            owner: Some(owner),
            ..Self::default()
        };
        for f in files {
            known.by_key.insert((f.uuid.clone(), f.role), f);
        }
        // Only assets without a staged original look claims up.
        let held = known
            .by_key
            .values()
            .filter(|f| !known.by_key.contains_key(&(f.uuid.clone(), Role::Original)))
            .map(|f| (layout::claim_key(&f.path), f.uuid.clone()))
            .collect();
        known.held = held;
        known
    }

    fn get(&self, uuid: &str, role: Role) -> Option<&KnownFile> {
        self.by_key.get(&(uuid.to_owned(), role))
    }

    fn claim(&self, claim: &str) -> Option<String> {
        match (self.held.get(claim), self.owner) {
            (Some(uuid), _) => Some(uuid.clone()),
            (None, Some(owner)) => owner(claim),
            (None, None) => None,
        }
    }
}

/// The owner of `claim` among staged files (uuid, path) whose paths start
/// with it, as `Ledger::paths_starting_with` gives them (in uuid and role
/// order): the last whose path has exactly that claim, as `Known::new`
/// keeps it.
#[must_use]
pub(super) fn claim_owner(claim: &str, files: Vec<(String, String)>) -> Option<String> {
    files
        .into_iter()
        .rev()
        .find(|(_, path)| layout::claim_key(path) == claim)
        .map(|(uuid, _)| uuid)
}

/// Plans the export of `assets` of library `library` (rooted at `root`).
/// `stat` answers for library files (`Ok(None)`: not on disk; `Err`: why
/// it must not be copied, which keeps its asset pending with that reason).
#[cfg(test)]
fn plan(
    library: &str,
    root: &Path,
    assets: &[Asset],
    known: &Known,
    options: Options,
    stat: &dyn Fn(&Path) -> Result<Option<SourceStat>, String>,
) -> Plan {
    plan_batch(
        library,
        root,
        assets,
        known,
        options,
        stat,
        &mut HashMap::new(),
    )
}

/// Whether a run leaves an asset out of the backup: in the trash, or a
/// burst frame nobody picked when `[export] unpicked_bursts` is off.
#[must_use]
pub(crate) fn left_out(
    trashed: bool,
    (burst, burst_selected): (bool, bool),
    options: Options,
) -> bool {
    trashed || (burst && !burst_selected && !options.unpicked_bursts)
}

/// `plan` of one batch of the selected assets; `claimed` holds the claims
/// given out by the plans of the batches before (claim -> uuid), so two new
/// assets never share a base even when the ledger does not hold them yet
/// (a dry run).
pub(super) fn plan_batch<S: std::hash::BuildHasher>(
    library: &str,
    root: &Path,
    assets: &[Asset],
    known: &Known,
    options: Options,
    stat: &dyn Fn(&Path) -> Result<Option<SourceStat>, String>,
    claimed: &mut HashMap<String, String, S>,
) -> Plan {
    let mut plan = Plan::default();
    for (index, asset) in assets.iter().enumerate() {
        if left_out(asset.intrash, (asset.burst, asset.burst_selected), options) {
            plan.skipped += 1;
            continue;
        }
        let base = base_for(library, asset, known, claimed);
        claimed.insert(layout::claim_key(&base), asset.uuid.clone());
        let mut missing = Vec::new();
        let mut original_dest = None;
        for resource in &asset.resources {
            let role = Role::from(resource.role);
            if !options.edited
                && matches!(
                    resource.role,
                    ResourceRole::Edited | ResourceRole::EditedLiveVideo
                )
            {
                continue;
            }
            let staged = known.get(&asset.uuid, role);
            let dest = staged.map_or_else(
                || layout::staged_path(&base, role, asset, &resource.path),
                |k| k.path.clone(),
            );
            let source = root.join(&resource.path);
            let found = match resource.present.then(|| stat(&source)).transpose() {
                Ok(found) => found.flatten(),
                Err(why) => {
                    if !missing.contains(&why) {
                        missing.push(why);
                    }
                    continue;
                }
            };
            let Some(st) = found else {
                // Not on this disk. Staged before (Photos may since have
                // offloaded it to iCloud): nothing lost. Never staged: pending.
                if staged.is_none() {
                    if role == Role::Original && !asset.isreference {
                        original_dest = Some(dest.clone());
                    }
                    let why = if asset.isreference {
                        REFERENCED_MISSING
                    } else if role == Role::Original {
                        IN_ICLOUD
                    } else {
                        OTHER_IN_ICLOUD
                    };
                    if !missing.iter().any(|m| m == why) {
                        missing.push(why.to_owned());
                    }
                }
                continue;
            };
            let signature = st.signature();
            if staged.is_some_and(|k| k.signature == signature) {
                plan.unchanged += 1;
                continue;
            }
            plan.actions.push(Action::Copy {
                uuid: asset.uuid.clone(),
                role,
                source,
                dest,
                signature,
                size: st.size,
            });
        }
        plan_sidecar(&mut plan, (index, asset), known, &base);
        if asset
            .resources
            .iter()
            .all(|r| r.role != ResourceRole::Original)
        {
            // The database names a file, but one the reader refused as unsafe: say why.
            missing.push(
                asset
                    .path_refused
                    .as_deref()
                    .unwrap_or(NO_ORIGINAL)
                    .to_owned(),
            );
        }
        // With the original in iCloud, its companions are there too: one reason.
        if missing.iter().any(|m| m == IN_ICLOUD) {
            missing.retain(|m| m != OTHER_IN_ICLOUD);
        }
        if missing.is_empty() {
            plan.complete.push(asset.uuid.clone());
        } else {
            plan.pending.push(Pending {
                uuid: asset.uuid.clone(),
                reason: missing.join("; "),
                original_dest,
            });
        }
    }
    plan
}

/// The XMP sidecar: written when its inputs differ from those of the staged
/// one (`xmp::fingerprint`, recorded as its signature); only then is it
/// generated (for its size). A signature of another form (a ledger written
/// before fingerprints) rewrites the sidecar once.
fn plan_sidecar(plan: &mut Plan, (index, asset): (usize, &Asset), known: &Known, base: &str) {
    let signature = xmp::fingerprint(asset);
    let staged = known.get(&asset.uuid, Role::Xmp);
    if staged.is_some_and(|k| k.signature == signature) {
        plan.unchanged += 1;
    } else {
        let bytes = sidecar(asset);
        let original_path = asset
            .resources
            .iter()
            .find(|r| r.role == ResourceRole::Original)
            .map_or("", |r| r.path.as_str());
        let dest = staged.map_or_else(
            || layout::staged_path(base, Role::Xmp, asset, original_path),
            |k| k.path.clone(),
        );
        plan.actions.push(Action::Write {
            uuid: asset.uuid.clone(),
            role: Role::Xmp,
            dest,
            asset: index,
            size: bytes.len() as u64,
            signature,
        });
    }
}

/// The bytes of an asset's XMP sidecar.
#[must_use]
pub(crate) fn sidecar(asset: &Asset) -> Vec<u8> {
    xmp::sidecar(asset).into_bytes()
}

/// The staging base (`LIBRARY/YYYY/MM/DD/NAME`) of an asset: where its
/// original already is, else a fresh one that no other asset owns.
fn base_for<S: std::hash::BuildHasher>(
    library: &str,
    asset: &Asset,
    known: &Known,
    claimed: &HashMap<String, String, S>,
) -> String {
    if let Some(original) = known.get(&asset.uuid, Role::Original) {
        return layout::base_of(&original.path);
    }
    let taken = |claim: &str| -> Option<String> {
        known.claim(claim).or_else(|| claimed.get(claim).cloned())
    };
    layout::asset_base(library, asset, &taken)
}

/// The uuids a plan touched, for counting assets rather than files.
#[must_use]
pub(super) fn assets_touched(plan: &Plan) -> usize {
    plan.actions
        .iter()
        .map(Action::uuid)
        .collect::<HashSet<_>>()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_owned_only_through_a_path_with_exactly_that_claim() {
        let files = vec![
            (
                "A".to_owned(),
                "lib/2024/05/01/IMG_1_edited.jpeg".to_owned(),
            ),
            ("B".to_owned(), "lib/2024/05/01/img_10.heic".to_owned()),
        ];
        assert_eq!(
            claim_owner("lib/2024/05/01/img_1", files.clone()).as_deref(),
            Some("A")
        );
        assert_eq!(
            claim_owner("lib/2024/05/01/img_10", files.clone()).as_deref(),
            Some("B")
        );
        assert_eq!(claim_owner("lib/2024/05/01/img", files), None);
    }

    fn pending_reason(asset: &Asset) -> String {
        let options = Options {
            edited: true,
            unpicked_bursts: false,
        };
        let plan = plan(
            "lib",
            Path::new("/lib"),
            std::slice::from_ref(asset),
            &Known::default(),
            options,
            &|_| Ok(None),
        );
        plan.pending[0].reason.clone()
    }

    #[test]
    fn a_pending_asset_keeps_the_base_of_its_own_files_and_a_new_one_asks_who_owns_a_name() {
        let options = Options {
            edited: true,
            unpicked_bursts: false,
        };
        let mut asset = Asset::example("D79B8D77-BFFC-460B-9312-034F2877D35B", "a.heic");
        // Its original only in iCloud.
        asset.resources = vec![crate::photos::Resource {
            role: ResourceRole::Original,
            path: "originals/D/D79B8D77-BFFC-460B-9312-034F2877D35B.heic".into(),
            present: false,
        }];
        let asked = std::cell::RefCell::new(Vec::new());
        // The ledger says another asset owns every name asked about.
        let owner = |claim: &str| {
            asked.borrow_mut().push(claim.to_owned());
            Some("OTHER".to_owned())
        };
        let original_dest = |files: Vec<KnownFile>| -> String {
            let known = Known::with_claims(files, &owner);
            let plan = plan(
                "lib",
                Path::new("/lib"),
                std::slice::from_ref(&asset),
                &known,
                options,
                &|_| Ok(None),
            );
            plan.pending[0].original_dest.clone().unwrap()
        };
        // Pending, its XMP staged under its base: its own file answers.
        let xmp = KnownFile {
            uuid: asset.uuid.clone(),
            role: Role::Xmp,
            path: "lib/2024/05/01/a.xmp".into(),
            signature: String::new(),
        };
        let dest = original_dest(vec![xmp]);
        assert_eq!(layout::claim_key(&dest), "lib/2024/05/01/a", "{dest}");
        assert!(asked.borrow().is_empty(), "{:?}", asked.borrow());
        // New: the ledger is asked, and the name another asset owns is not used.
        let dest = original_dest(Vec::new());
        assert_eq!(asked.borrow()[0], "lib/2024/05/01/a");
        assert_ne!(layout::claim_key(&dest), "lib/2024/05/01/a", "{dest}");
        assert!(dest.starts_with("lib/2024/05/01/a_"), "{dest}");
    }

    #[test]
    fn a_sidecar_is_written_only_when_its_inputs_changed() {
        let options = Options {
            edited: true,
            unpicked_bursts: false,
        };
        let mut asset = Asset::example("D79B8D77-BFFC-460B-9312-034F2877D35B", "a.heic");
        let known = |signature: String| {
            Known::new([KnownFile {
                uuid: asset.uuid.clone(),
                role: Role::Xmp,
                path: "lib/2021/08/11/a.xmp".into(),
                signature,
            }])
        };
        let writes = |asset: &Asset, known: &Known| -> Vec<(String, String)> {
            plan(
                "lib",
                Path::new("/lib"),
                std::slice::from_ref(asset),
                known,
                options,
                &|_| Ok(None),
            )
            .actions
            .into_iter()
            .filter_map(|a| match a {
                Action::Write {
                    dest, signature, ..
                } => Some((dest, signature)),
                Action::Copy { .. } => None,
            })
            .collect()
        };
        let fingerprint = xmp::fingerprint(&asset);
        assert_eq!(writes(&asset, &known(fingerprint.clone())), []);
        // A ledger from before fingerprints held the sidecar's content hash.
        let content_hash = blake3::hash(&sidecar(&asset)).to_hex().to_string();
        let rewrite = writes(&asset, &known(content_hash));
        assert_eq!(
            rewrite,
            [("lib/2021/08/11/a.xmp".into(), fingerprint.clone())]
        );
        asset.title = Some("new title".into());
        let changed = writes(&asset, &known(fingerprint.clone()));
        assert_eq!(changed.len(), 1);
        assert_ne!(changed[0].1, fingerprint);
    }

    #[test]
    fn an_asset_without_an_original_is_pending_with_why() {
        let mut asset = Asset::example("D79B8D77-BFFC-460B-9312-034F2877D35B", "a.heic");
        assert_eq!(pending_reason(&asset), NO_ORIGINAL);
        asset.path_refused = Some("ZFILENAME \"a\\0\" holds a NUL byte".into());
        assert_eq!(
            pending_reason(&asset),
            "ZFILENAME \"a\\0\" holds a NUL byte"
        );
    }
}
