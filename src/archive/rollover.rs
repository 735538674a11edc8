//! The month rollover of one library, as a resumable sequence:
//!
//! 1. plan: which months close, and whether pending originals hold them open;
//! 2. create: `borg create` of the library's staged files from local staging
//!    (an archive already in the repository, from a killed run, is reused);
//! 3. verify: the archive lists every file it was given, same size (and with
//!    `verify = "content"`, same SHA-256 as the staged file read again);
//! 4. purge: exactly the verified files, from staging and the remote volume.
//!
//! Each step is recorded in the ledger after it is done, so a run killed
//! anywhere resumes at the step it did not record. Nothing is purged that a
//! verified archive does not hold, and a file staged again after the archive
//! was given its files (an edit) keeps its new version. Moving the threshold
//! is the caller's, once every library is archived up to last month.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use chrono::{DateTime, NaiveDate, Utc};

use super::borg::{self, Expected, Repository};
use super::period::{self, Decision, Month};
use crate::clock::When;
use crate::config::Verify;
use crate::failpoint;
use crate::ledger::{Ledger, Rollover, Step};
use crate::process::{CommandLine, CommandRunner};
use crate::secrets::Secret;

/// `borg create` of a first month of a large library can take many hours.
const CREATE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Listing with content reads the whole archive back.
const LIST_TIMEOUT: Duration = Duration::from_secs(12 * 3600);
const SHORT_TIMEOUT: Duration = Duration::from_secs(600);
/// Threads deleting purged files.
const PURGE_THREADS: usize = 4;

/// What the rollover needs: the repository, the places files are purged
/// from, and the time.
pub(crate) struct Context<'a> {
    pub(crate) program: PathBuf,
    pub(crate) repo: Repository,
    pub(crate) passphrase: &'a Secret,
    pub(crate) prefix: &'a str,
    pub(crate) compression: &'a str,
    pub(crate) verify: Verify,
    pub(crate) max_pending_days: u32,
    pub(crate) runner: &'a dyn CommandRunner,
    pub(crate) staging: &'a Path,
    /// The decrypted remote volume, when mounted.
    pub(crate) plain: Option<&'a Path>,
    pub(crate) when: When,
    /// Where a progress line goes (the run's log), as it happens.
    pub(crate) note: &'a dyn Fn(&str),
}

/// What happened to one library.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    /// Archives finished in this run (resumed or new).
    pub(crate) archived: Vec<Archived>,
    /// A closed period still waiting for pending originals.
    pub(crate) held: Option<Held>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Archived {
    pub(crate) archive: String,
    pub(crate) first: Month,
    pub(crate) last: Month,
    pub(crate) files: u64,
    pub(crate) bytes: u64,
    /// Files deleted from staging (and the remote volume).
    pub(crate) purged: usize,
    /// The archive was already in the repository (a killed run made it).
    pub(crate) reused: bool,
    /// Assets archived without their original; they stay pending.
    pub(crate) missing: Vec<String>,
    /// borg finished with a warning (exit 1): what it said.
    pub(crate) warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Held {
    pub(crate) first: Month,
    pub(crate) last: Month,
    pub(crate) waiting: usize,
    pub(crate) until: DateTime<Utc>,
}

/// What a dry run says the rollover would do for one library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Preview {
    Nothing,
    /// An unfinished rollover would be resumed.
    Resume {
        archive: String,
        step: Step,
    },
    Archive {
        archive: String,
        files: usize,
        bytes: u64,
        missing: usize,
    },
    Held(Held),
}

/// The archive name of a library's period.
#[must_use]
fn archive_name(prefix: &str, library: &str, first: Month, last: Month) -> String {
    borg::archive_name(
        prefix,
        library,
        (first.year, first.month),
        (last.year, last.month),
    )
}

/// Finishes any rollover of `library` a killed run left, then archives
/// every closed period that may be closed now.
pub(crate) fn roll_over(
    ctx: &Context,
    ledger: &mut Ledger,
    library: &str,
    threshold: NaiveDate,
) -> Result<Report> {
    let mut report = Report::default();
    loop {
        if let Some(open) = ledger.open_rollover(library)? {
            report.archived.push(finish(ctx, ledger, open, None)?);
            continue;
        }
        let archived_through = ledger.archived_through(library)?;
        let Some((first, last)) = period::due(threshold, archived_through, ctx.when.today) else {
            return Ok(report);
        };
        let pending: Vec<(String, DateTime<Utc>)> = ledger
            .pending(library)?
            .into_iter()
            .map(|p| (p.uuid, p.first_seen))
            .collect();
        match period::decide(
            &pending,
            ctx.when.month_began,
            ctx.when.now,
            ctx.max_pending_days,
        ) {
            Decision::Hold { waiting, until } => {
                report.held = Some(Held {
                    first,
                    last,
                    waiting: waiting.len(),
                    until,
                });
                return Ok(report);
            }
            Decision::Archive { missing } => {
                let name = archive_name(ctx.prefix, library, first, last);
                ledger.plan_rollover(library, &name, (first, last), &missing, ctx.when.now)?;
                failpoint::pause("rollover-planned");
                let (files, _) = ledger.snapshot_rollover(library, &name)?;
                let planned = ledger
                    .rollover(library, &name)?
                    .ok_or_else(|| anyhow!("ledger lost rollover {name} of {library}"))?;
                report
                    .archived
                    .push(finish(ctx, ledger, planned, Some(files))?);
            }
        }
    }
}

/// Takes a rollover (monthly, or a backfill part) from the step it reached
/// to the end. `fresh`: planned in this run, with this many files just
/// listed for it.
pub(crate) fn finish(
    ctx: &Context,
    ledger: &mut Ledger,
    mut r: Rollover,
    fresh: Option<u64>,
) -> Result<Archived> {
    let mut reused = false;
    let mut warning = r.warning.clone();
    // A ledger that says "verified" is not proof enough to delete photos
    // (it may be an old copy, damaged, or crafted): the repository must
    // still hold the archive.
    if r.step == Step::Verified && r.files > 0 && !archive_exists(ctx, &r.archive)? {
        return Err(anyhow!(
            "the ledger records archive {} of {} as verified, but repository {} has no \
             such archive; nothing was purged",
            r.archive,
            r.library,
            ctx.repo.location
        ));
    }
    if r.step == Step::Planned {
        let files = match fresh {
            Some(files) => Some(files),
            // A killed run planned this: if it got as far as creating the
            // archive, what it was given is the list this rollover holds;
            // if not, staging may have changed since: list it again.
            None if archive_exists(ctx, &r.archive)? => None,
            None => Some(ledger.snapshot_rollover(&r.library, &r.archive)?.0),
        };
        match files {
            None => reused = true,
            Some(0) => {}
            Some(_) => {
                failpoint::pause(point(
                    &r,
                    "rollover-before-create",
                    "backfill-before-create",
                ));
                match create(ctx, ledger, &r) {
                    Ok(w) => warning = w,
                    // Someone made an archive of that name (a ledger restored
                    // from an older copy, say): verified below, like ours.
                    Err(_) if fresh.is_some() && archive_exists(ctx, &r.archive)? => reused = true,
                    Err(e) => return Err(e),
                }
                failpoint::pause(point(&r, "rollover-created", "backfill-created"));
            }
        }
        ledger.set_rollover_step(&r.library, &r.archive, Step::Created, ctx.when.now)?;
        r = refreshed(ledger, &r)?;
        failpoint::pause(point(
            &r,
            "rollover-created-recorded",
            "backfill-created-recorded",
        ));
    }
    if r.step == Step::Created {
        if r.files > 0 {
            if let Err(e) = verify(ctx, ledger, &r) {
                // Deleted from the repository after a failed verification
                // (as the error advises): start this rollover over, once.
                if fresh.is_none() && !archive_exists(ctx, &r.archive)? {
                    ledger.set_rollover_step(
                        &r.library,
                        &r.archive,
                        Step::Planned,
                        ctx.when.now,
                    )?;
                    let again = refreshed(ledger, &r)?;
                    return finish(ctx, ledger, again, None);
                }
                return Err(e);
            }
        }
        ledger.set_rollover_step(&r.library, &r.archive, Step::Verified, ctx.when.now)?;
        r = refreshed(ledger, &r)?;
        failpoint::pause(point(&r, "rollover-verified", "backfill-verified"));
    }
    let mut purged = 0;
    if r.step == Step::Verified {
        ledger.mark_archived(&r.library, &r.archive, ctx.when.now)?;
        failpoint::pause(point(&r, "rollover-marked", "backfill-marked"));
        purged = purge(ctx, ledger, &r)?;
        failpoint::pause(point(&r, "rollover-purged-files", "backfill-purged-files"));
        ledger.set_rollover_step(&r.library, &r.archive, Step::Purged, ctx.when.now)?;
        r = refreshed(ledger, &r)?;
    }
    Ok(Archived {
        archive: r.archive,
        first: r.first,
        last: r.last,
        files: r.files,
        bytes: r.bytes,
        purged,
        reused,
        missing: r.missing,
        warning,
    })
}

/// The failpoint of a step: a backfill part's steps have names of their own.
fn point(r: &Rollover, monthly: &'static str, backfill: &'static str) -> &'static str {
    if r.backfill {
        backfill
    } else {
        monthly
    }
}

fn refreshed(ledger: &Ledger, r: &Rollover) -> Result<Rollover> {
    ledger
        .rollover(&r.library, &r.archive)?
        .ok_or_else(|| anyhow!("ledger lost rollover {} of {}", r.archive, r.library))
}

/// Runs a borg command against the context's repository (see
/// [`super::access::run_borg`]).
pub(super) fn run_borg(
    ctx: &Context,
    cmd: &CommandLine,
    timeout: Duration,
    what: &str,
) -> Result<(std::process::Output, Option<String>)> {
    super::access::run_borg(ctx.runner, &ctx.repo.location, cmd, timeout, what)
}

/// Whether the repository already holds `archive`.
fn archive_exists(ctx: &Context, archive: &str) -> Result<bool> {
    let cmd = borg::list_archives(&ctx.program, &ctx.repo, ctx.passphrase);
    let (out, _) = run_borg(ctx, &cmd, SHORT_TIMEOUT, "listing archives")?;
    let names = borg::parse_archive_names(&String::from_utf8_lossy(&out.stdout))
        .map_err(|e| anyhow!("{e} (repository {})", ctx.repo.location))?;
    Ok(names.iter().any(|n| n == archive))
}

/// `borg create` of the files the rollover was given, its progress noted
/// as it goes ([`borg::CreateProgress`]); returns borg's warning, if it
/// gave one (also kept in the ledger).
fn create(ctx: &Context, ledger: &Ledger, r: &Rollover) -> Result<Option<String>> {
    let files = ledger.rollover_files(&r.library, &r.archive)?;
    let total = files.iter().map(|f| f.size).sum();
    let paths: Vec<String> = files.into_iter().map(|f| f.path).collect();
    let cmd = borg::create(
        &ctx.program,
        &ctx.repo,
        ctx.passphrase,
        &r.archive,
        ctx.compression,
        ctx.staging,
        &paths,
    );
    let what = format!("creating archive {}", r.archive);
    let mut progress = borg::CreateProgress::new(&r.archive, total);
    let started = std::time::Instant::now();
    let (_, warning) = super::access::run_borg_with_progress(
        ctx.runner,
        &ctx.repo.location,
        (&cmd, CREATE_TIMEOUT, &what),
        &mut |bytes, files| {
            if let Some(line) = progress.line(bytes, files, started.elapsed()) {
                (ctx.note)(&line);
            }
        },
    )?;
    if let Some(w) = &warning {
        ledger.set_rollover_warning(&r.library, &r.archive, w)?;
    }
    Ok(warning)
}

/// The archive must hold every file it was given; never purge otherwise.
fn verify(ctx: &Context, ledger: &Ledger, r: &Rollover) -> Result<()> {
    let content = ctx.verify == Verify::Content;
    let cmd = borg::list_archive(&ctx.program, &ctx.repo, ctx.passphrase, &r.archive, content);
    let what = format!("listing archive {}", r.archive);
    let (out, _) = run_borg(ctx, &cmd, LIST_TIMEOUT, &what)?;
    let items = borg::parse_items(&String::from_utf8_lossy(&out.stdout))
        .map_err(|e| anyhow!("{e} (archive {})", r.archive))?;
    let given = ledger.rollover_files(&r.library, &r.archive)?;
    let current: std::collections::HashMap<(String, String), String> = if content {
        ledger
            .files(&r.library)?
            .into_iter()
            .map(|f| ((f.uuid, f.role), f.hash))
            .collect()
    } else {
        std::collections::HashMap::new()
    };
    let mut expected = Vec::with_capacity(given.len());
    let mut changed_on_disk = Vec::new();
    for f in given {
        let mut sha256 = None;
        // Only a file still staged as given can be read again to compare;
        // one staged again since keeps its new version and is not purged.
        if content && current.get(&(f.uuid.clone(), f.role.clone())) == Some(&f.hash) {
            let path = ctx.staging.join(&f.path);
            let (blake3, sha) =
                hashes(&path).with_context(|| format!("reading staged file {}", path.display()))?;
            if blake3 != f.hash {
                changed_on_disk.push(f.path.clone());
            }
            sha256 = Some(sha);
        }
        expected.push(Expected {
            path: f.path,
            size: f.size,
            sha256,
        });
    }
    let mut v = borg::verify(&expected, &items);
    v.wrong_content.extend(changed_on_disk);
    if v.passed() {
        Ok(())
    } else {
        bail!(
            "archive {} in borg repository {} does not hold what it was given: {}. \
             Nothing was purged. If the archive is damaged, delete it (borg delete {}::{}) \
             and the next run makes it again.",
            r.archive,
            ctx.repo.location,
            v.summary(),
            ctx.repo.location,
            r.archive
        )
    }
}

/// BLAKE3 (as the ledger keeps it) and SHA-256 (as borg lists it) of a file,
/// in one read.
fn hashes(path: &Path) -> std::io::Result<(String, String)> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path)?;
    let mut b3 = blake3::Hasher::new();
    let mut sha = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        b3.update(&buf[..n]);
        sha.update(&buf[..n]);
    }
    Ok((
        b3.finalize().to_hex().to_string(),
        format!("{:x}", sha.finalize()),
    ))
}

/// Deletes the files marked archived into this rollover's archive, from
/// staging and from the remote volume, then the folders left empty.
/// Idempotent: a resumed purge deletes what is still there.
fn purge(ctx: &Context, ledger: &Ledger, r: &Rollover) -> Result<usize> {
    let paths = ledger.purged_paths(&r.library, &r.archive)?;
    let roots: Vec<&Path> = std::iter::once(ctx.staging).chain(ctx.plain).collect();
    let remove = |path: &String| -> Result<()> {
        for root in &roots {
            let file = root.join(path);
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!(
                            "purging {} (archived in {}; the next run tries again)",
                            file.display(),
                            r.archive
                        )
                    })
                }
            }
        }
        Ok(())
    };
    let Some((first, rest)) = paths.split_first() else {
        return Ok(0);
    };
    remove(first)?;
    failpoint::pause(point(r, "rollover-purged-one", "backfill-purged-one"));
    // A few at a time: over SSHFS each deletion is a round trip.
    let chunk = rest.len().div_ceil(PURGE_THREADS).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = rest
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().try_for_each(&remove)))
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .unwrap_or_else(|_| Err(anyhow!("a purge thread panicked")))
        })
    })?;
    let mut dirs = std::collections::BTreeSet::new();
    for path in &paths {
        let mut dir = Path::new(path).parent();
        while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(d.to_owned());
            dir = d.parent();
        }
    }
    // Deepest first (a folder sorts before its children); a folder that
    // still holds something stays.
    for dir in dirs.iter().rev() {
        for root in &roots {
            let _ = std::fs::remove_dir(root.join(dir));
        }
    }
    Ok(paths.len())
}

/// What `roll_over` would do, read from the ledger only (for `--dry-run`).
pub(crate) fn preview(
    (prefix, max_pending_days): (&str, u32),
    when: When,
    ledger: Option<&Ledger>,
    library: &str,
    threshold: NaiveDate,
) -> Result<Preview> {
    let Some(ledger) = ledger else {
        return Ok(match period::due(threshold, None, when.today) {
            Some((first, last)) => Preview::Archive {
                archive: archive_name(prefix, library, first, last),
                files: 0,
                bytes: 0,
                missing: 0,
            },
            None => Preview::Nothing,
        });
    };
    if let Some(open) = ledger.open_rollover(library)? {
        return Ok(Preview::Resume {
            archive: open.archive,
            step: open.step,
        });
    }
    let Some((first, last)) = period::due(threshold, ledger.archived_through(library)?, when.today)
    else {
        return Ok(Preview::Nothing);
    };
    let pending: Vec<(String, DateTime<Utc>)> = ledger
        .pending(library)?
        .into_iter()
        .map(|p| (p.uuid, p.first_seen))
        .collect();
    Ok(
        match period::decide(&pending, when.month_began, when.now, max_pending_days) {
            Decision::Hold { waiting, until } => Preview::Held(Held {
                first,
                last,
                waiting: waiting.len(),
                until,
            }),
            Decision::Archive { missing } => {
                let staged: Vec<_> = ledger
                    .files(library)?
                    .into_iter()
                    .filter(|f| f.archive.is_none())
                    .collect();
                Preview::Archive {
                    archive: archive_name(prefix, library, first, last),
                    files: staged.len(),
                    bytes: staged.iter().map(|f| f.size).sum(),
                    missing: missing.len(),
                }
            }
        },
    )
}
