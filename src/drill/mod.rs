//! Restore drills. Archives nobody ever restored from are a hope, not a
//! backup: a drill takes a random sample of the files the archives were
//! given (from the ledger's generic `rollover_file` rows, so monthly and
//! backfill archives alike), spread across the archives, extracts them with
//! borg into a private scratch folder and compares size and BLAKE3 with the
//! ledger; it also reads a sample of the remote mirror back through the
//! decrypted view. `plan` decides (due or not, which archives, which files),
//! `verdict` judges, `extract` and `mirror` are the edges, `record` keeps
//! the last result in `STATE/drill.json`. The run (`commands::run::drill`)
//! and `photos-backup drill` (`commands::drill`) both call [`perform`].

pub(crate) mod extract;
pub(crate) mod mirror;
pub(crate) mod plan;
pub(crate) mod random;
pub(crate) mod record;
pub(crate) mod verdict;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};

use crate::archive::access::Access;
use crate::archive::borg;
use crate::error_text::describe_error;
use crate::ledger::{Ledger, StagedFile};
use crate::process::CommandRunner;
use random::Rng;
use record::{Record, Suspect};
use verdict::Verdict;

/// The longest the list of archives may take (it proves the repository
/// answers before anything is extracted).
const LIST_BOUND: Duration = Duration::from_secs(10 * 60);

/// How big a sample to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Want {
    /// Archived files, across the archives.
    pub(crate) files: usize,
    /// Mirrored files (needs the decrypted view).
    pub(crate) mirror_files: usize,
}

/// Where a sampled file was read back from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    Archive(String),
    /// The remote mirror, through the decrypted view.
    Mirror,
}

/// One sampled file and what reading it back gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checked {
    pub(crate) place: Place,
    /// Relative to the staging root (and inside the archive).
    pub(crate) path: String,
    pub(crate) verdict: Verdict,
}

impl std::fmt::Display for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = crate::printable::printable(&self.path);
        match &self.place {
            Place::Archive(name) => write!(f, "archive {name}: {path} {}", self.verdict),
            Place::Mirror => write!(f, "mirror: {path} {}", self.verdict),
        }
    }
}

/// What one drill read back.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    /// Archives the sample came from.
    pub(crate) archives: usize,
    pub(crate) archived: Vec<Checked>,
    pub(crate) mirrored: Vec<Checked>,
}

impl Report {
    /// Every file that did not match, in words naming where and which.
    #[must_use]
    pub(crate) fn failures(&self) -> Vec<String> {
        self.archived
            .iter()
            .chain(&self.mirrored)
            .filter(|c| !c.verdict.matched())
            .map(ToString::to_string)
            .collect()
    }

    /// The record kept in `drill.json`.
    #[must_use]
    pub(crate) fn record(&self, at: DateTime<Utc>) -> Record {
        let matched = |list: &[Checked]| list.iter().filter(|c| c.verdict.matched()).count() as u64;
        let mut failures = self.failures();
        failures.truncate(record::MAX_FAILURES);
        let retry = self
            .archived
            .iter()
            .chain(&self.mirrored)
            .filter(|c| !c.verdict.matched())
            .take(record::MAX_FAILURES)
            .map(|c| Suspect {
                archive: match &c.place {
                    Place::Archive(name) => Some(name.clone()),
                    Place::Mirror => None,
                },
                path: c.path.clone(),
            })
            .collect();
        Record {
            at,
            files: self.archived.len() as u64,
            matched: matched(&self.archived),
            archives: self.archives as u64,
            mirror_files: self.mirrored.len() as u64,
            mirror_matched: matched(&self.mirrored),
            failures,
            retry,
        }
    }
}

/// How a drill went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Files were read back (matching or not).
    Drilled(Report),
    /// No verified archive and no mirrored file yet: nothing to drill.
    Nothing,
    /// The repository could not be reached (passphrase, off network,
    /// locked, ...): no verdict on any archive; the drill stays due.
    Unreachable(String),
}

/// The repository as the drill reaches it: opened (borg found, passphrase
/// read) only once there is an archive to sample, so a drill with nothing
/// archived yet never touches the Keychain.
pub(crate) struct Repo<'a> {
    pub(crate) open: &'a dyn Fn() -> Result<Access>,
    pub(crate) runner: &'a dyn CommandRunner,
}

/// Makes one drill: `want.files` archived files spread across the
/// archives (through `repo`), `want.mirror_files` mirrored ones under
/// `plain` (when mounted), and before them the files the last drill could
/// not read back (`retry`; those of archives no longer sampled, pruned
/// say, are left); every child and read ends by `until`.
pub(crate) fn perform(
    ledger: &Ledger,
    repo: &Repo,
    plain: Option<&Path>,
    (want, retry): (Want, &[Suspect]),
    rng: &mut Rng,
    until: Instant,
) -> Result<Outcome> {
    let candidates = plan::candidates(&ledger.rollovers()?);
    let again = |archive: Option<&str>| -> Vec<&str> {
        retry
            .iter()
            .filter(|s| s.archive.as_deref() == archive)
            .map(|s| s.path.as_str())
            .collect()
    };
    let mirror_again = again(None);
    let pool = match plain.filter(|_| want.mirror_files > 0 || !mirror_again.is_empty()) {
        Some(_) => mirrored(ledger)?,
        None => Vec::new(),
    };
    let archived_wanted = want.files > 0 || retry.iter().any(|s| s.archive.is_some());
    if (candidates.is_empty() || !archived_wanted) && pool.is_empty() {
        return Ok(Outcome::Nothing);
    }
    let mut report = Report::default();
    if !candidates.is_empty() && archived_wanted {
        let reached = (repo.open)().and_then(|access| {
            let listed = list_archives(&access, repo.runner, until)?;
            Ok((access, listed))
        });
        let (access, listed) = match reached {
            Ok(reached) => reached,
            Err(e) => return Ok(Outcome::Unreachable(describe_error(&e))),
        };
        let sizes: Vec<u64> = candidates.iter().map(|c| c.files).collect();
        let shares = plan::shares(&sizes, want.files, rng);
        for (candidate, share) in candidates.iter().zip(shares) {
            let forced = again(Some(&candidate.archive));
            if share == 0 && forced.is_empty() {
                continue;
            }
            let files = ledger.rollover_files(&candidate.library, &candidate.archive)?;
            let chosen =
                plan::choose_after(files, |f| forced.contains(&f.path.as_str()), share, rng);
            if chosen.is_empty() {
                continue;
            }
            report.archives += 1;
            let verdicts = if listed.contains(&candidate.archive) {
                extract::archive_sample(&access, repo.runner, &candidate.archive, &chosen, until)
                    .context("the drill's private scratch folder")?
            } else {
                let gone = "its archive is not in the repository, though the ledger \
                            records it verified and not pruned";
                vec![Verdict::Unreadable(gone.into()); chosen.len()]
            };
            report.archived.extend(
                chosen
                    .into_iter()
                    .zip(verdicts)
                    .map(|(f, verdict)| Checked {
                        place: Place::Archive(candidate.archive.clone()),
                        path: f.path,
                        verdict,
                    }),
            );
        }
    }
    if let Some(plain) = plain.filter(|_| !pool.is_empty()) {
        let chosen = plan::choose_after(
            pool,
            |f| mirror_again.contains(&f.path.as_str()),
            want.mirror_files,
            rng,
        );
        let verdicts = mirror::sample(plain, &chosen, until);
        report.mirrored.extend(
            chosen
                .into_iter()
                .zip(verdicts)
                .map(|(f, verdict)| Checked {
                    place: Place::Mirror,
                    path: f.path,
                    verdict,
                }),
        );
    }
    Ok(Outcome::Drilled(report))
}

/// The archives the repository holds: the proof that it answers.
fn list_archives(
    access: &Access,
    runner: &dyn CommandRunner,
    until: Instant,
) -> Result<HashSet<String>> {
    let cmd = borg::list_archives(&access.program, &access.repo, &access.passphrase);
    let bound = until
        .saturating_duration_since(Instant::now())
        .min(LIST_BOUND);
    let (out, _) = access.run(runner, &cmd, bound, "listing the archives")?;
    let names = borg::parse_archive_names(&String::from_utf8_lossy(&out.stdout))
        .map_err(anyhow::Error::msg)?;
    Ok(names.into_iter().collect())
}

/// Files staged and mirrored, not purged: what the remote mirror holds now.
fn mirrored(ledger: &Ledger) -> Result<Vec<StagedFile>> {
    let mut files = Vec::new();
    for library in ledger.libraries()? {
        files.extend(
            ledger
                .file_records(&library)?
                .into_iter()
                .filter(|r| r.mirrored_at.is_some() && r.purged_at.is_none())
                .map(|r| r.file),
        );
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_counts_what_matched_and_names_what_did_not() {
        let checked = |place: Place, path: &str, verdict| Checked {
            place,
            path: path.into(),
            verdict,
        };
        let report = Report {
            archives: 2,
            archived: vec![
                checked(Place::Archive("p-a-1".into()), "a/1.jpg", Verdict::Matched),
                checked(
                    Place::Archive("p-a-2".into()),
                    "a/2.jpg",
                    Verdict::Unreadable("borg failed".into()),
                ),
            ],
            mirrored: vec![checked(
                Place::Mirror,
                "a/3\n.jpg",
                Verdict::WrongSize {
                    expected: 1,
                    got: 2,
                },
            )],
        };
        let failures = report.failures();
        assert_eq!(
            failures[0],
            "archive p-a-2: a/2.jpg could not be restored: borg failed"
        );
        assert!(
            failures[1].starts_with("mirror: a/3\\n.jpg came back with 2 bytes"),
            "{}",
            failures[1]
        );
        let r = report.record(Utc::now());
        assert_eq!(
            (
                r.files,
                r.matched,
                r.archives,
                r.mirror_files,
                r.mirror_matched
            ),
            (2, 1, 2, 1, 0)
        );
        assert_eq!(r.failures, failures);
        assert!(!r.passed());
    }
}
