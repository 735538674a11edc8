//! borg, as data: the command lines this program runs (built by pure
//! functions, tested as argument lists), what an exit status means (0 ok,
//! 1 warning, 2 and up or a signal: error), the archive names of a period,
//! and the check that an archive holds exactly what the ledger says, before
//! anything is purged; and what `borg create --log-json` reports as it goes,
//! paced into progress lines for people. The passphrase reaches borg only
//! through the child's environment (marked secret, so it is masked wherever
//! a command is shown), never its arguments.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::process::CommandLine;
use crate::secrets::Secret;

/// A borg repository: a local folder or `ssh://user@host:port/path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub location: String,
    /// Seconds to wait for another client's lock.
    pub lock_wait: u32,
    /// `BORG_RSH` for ssh repositories (keepalives, key, known hosts).
    pub rsh: Option<String>,
}

impl Repository {
    /// The repository of a `[borg]` config: `BORG_RSH` for an `ssh://` one
    /// keeps the connection alive across a sleepy Wi-Fi, never asks
    /// anything, and always checks the host key.
    #[must_use]
    pub(crate) fn of(config: &crate::config::Borg) -> Self {
        let rsh = config.repository.starts_with("ssh://").then(|| {
            rsh(
                config.identity_file.as_deref(),
                config.known_hosts.as_deref(),
            )
        });
        Self {
            location: config.repository.clone(),
            lock_wait: config.lock_wait,
            rsh,
        }
    }
}

/// The `BORG_RSH` value (borg splits it like a shell; paths are quoted).
#[must_use]
pub fn rsh(identity_file: Option<&Path>, known_hosts: Option<&Path>) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\"'\"'"));
    let mut rsh = String::from(
        "ssh -o BatchMode=yes -o ServerAliveInterval=15 -o ServerAliveCountMax=4 \
         -o StrictHostKeyChecking=yes",
    );
    if let Some(key) = identity_file {
        rsh.push_str(&format!(
            " -o IdentitiesOnly=yes -i {}",
            quote(&key.display().to_string())
        ));
    }
    if let Some(hosts) = known_hosts {
        rsh.push_str(&format!(
            " -o {}",
            quote(&format!("UserKnownHostsFile={}", hosts.display()))
        ));
    }
    rsh
}

/// What a borg exit status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    /// Finished with warnings (e.g. a file changed while read): logged, and
    /// the archive is still verified before it is trusted.
    Warning,
    Error,
}

impl Exit {
    /// From the process status code (`None`: killed by a signal).
    #[must_use]
    pub fn of(code: Option<i32>) -> Self {
        match code {
            Some(0) => Exit::Ok,
            Some(1) => Exit::Warning,
            _ => Exit::Error,
        }
    }
}

/// `PREFIX-LIBRARY-YYYY-MM`, or `PREFIX-LIBRARY-YYYY-MM..YYYY-MM` for a span
/// of months (a Mac that slept through a month end).
#[must_use]
pub fn archive_name(prefix: &str, library: &str, first: (i32, u32), last: (i32, u32)) -> String {
    let month = |(y, m): (i32, u32)| format!("{y:04}-{m:02}");
    if first == last {
        format!("{prefix}-{library}-{}", month(first))
    } else {
        format!("{prefix}-{library}-{}..{}", month(first), month(last))
    }
}

/// The environment every borg child gets: never a prompt, never an
/// unexpected repository accepted, the passphrase as a secret.
fn borg(program: &Path, repo: &Repository, passphrase: &Secret, args: Vec<String>) -> CommandLine {
    let mut cmd = CommandLine::new(program, args)
        .secret_env("BORG_PASSPHRASE", passphrase.expose())
        .env("BORG_RELOCATED_REPO_ACCESS_IS_OK", "no")
        .env("BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "no")
        .env("BORG_CHECK_I_KNOW_WHAT_I_AM_DOING", "NO")
        .env("BORG_DELETE_I_KNOW_WHAT_I_AM_DOING", "NO");
    if let Some(rsh) = &repo.rsh {
        cmd = cmd.env("BORG_RSH", rsh);
    }
    cmd
}

/// `borg create` of `paths` (relative to `base`, given on standard input so
/// thousands of files never meet an argument-length limit). It reports its
/// progress on standard error, one JSON record a line ([`log_line`]).
#[must_use]
pub fn create(
    program: &Path,
    repo: &Repository,
    passphrase: &Secret,
    archive: &str,
    compression: &str,
    base: &Path,
    paths: &[String],
) -> CommandLine {
    let args = vec![
        "create".to_owned(),
        "--json".to_owned(),
        "--progress".to_owned(),
        "--log-json".to_owned(),
        "--lock-wait".to_owned(),
        repo.lock_wait.to_string(),
        "--compression".to_owned(),
        compression.to_owned(),
        "--paths-from-stdin".to_owned(),
        format!("{}::{archive}", repo.location),
    ];
    let mut list = paths.join("\n");
    list.push('\n');
    borg(program, repo, passphrase, args)
        .current_dir(PathBuf::from(base))
        .stdin(list)
}

/// One line of what borg writes on standard error with `--log-json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogLine {
    /// `archive_progress` of `borg create`: bytes read so far
    /// (`original_size`) and files done (`nfiles`).
    Progress { bytes: u64, files: u64 },
    /// A message for people (`log_message`: a warning, an error), or a line
    /// that is not a JSON record (kept as it is).
    Message(String),
    /// Anything else (the cache's progress, the end of the progress).
    Other,
}

/// What one line of borg's `--log-json` standard error is.
#[must_use]
pub(crate) fn log_line(line: &str) -> LogLine {
    let Ok(serde_json::Value::Object(record)) = serde_json::from_str(line) else {
        return LogLine::Message(line.to_owned());
    };
    let number = |key: &str| record.get(key).and_then(serde_json::Value::as_u64);
    match record.get("type").and_then(serde_json::Value::as_str) {
        Some("log_message") => LogLine::Message(
            record
                .get("message")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        ),
        Some("archive_progress") => match (number("original_size"), number("nfiles")) {
            (Some(bytes), Some(files)) => LogLine::Progress { bytes, files },
            _ => LogLine::Other,
        },
        _ => LogLine::Other,
    }
}

/// Paces the progress of one `borg create` into lines for the log: one
/// every [`CreateProgress::EVERY`], and one at each quarter of the known
/// size (the files the archive was given), never more.
#[derive(Debug, Clone)]
pub(crate) struct CreateProgress {
    archive: String,
    /// The size of what is archived, as the ledger knows it.
    total: u64,
    /// When the last line was said (time since the start).
    said_at: std::time::Duration,
    /// The last quarter of `total` said (0 to 3).
    quarter: u64,
}

impl CreateProgress {
    /// A line at least this often while borg works.
    pub(crate) const EVERY: std::time::Duration = std::time::Duration::from_secs(30);

    #[must_use]
    pub(crate) fn new(archive: &str, total: u64) -> Self {
        Self {
            archive: archive.to_owned(),
            total,
            said_at: std::time::Duration::ZERO,
            quarter: 0,
        }
    }

    /// The line to say when borg has read `bytes` of `files` files after
    /// `elapsed`, if it is time for one.
    pub(crate) fn line(
        &mut self,
        bytes: u64,
        files: u64,
        elapsed: std::time::Duration,
    ) -> Option<String> {
        let quarter = (u128::from(bytes) * 4)
            .checked_div(u128::from(self.total))
            .map_or(0, |q| u64::try_from(q.min(3)).unwrap_or(3));
        if quarter <= self.quarter && elapsed < self.said_at + Self::EVERY {
            return None;
        }
        self.quarter = self.quarter.max(quarter);
        self.said_at = elapsed;
        let share = (u128::from(bytes) * 100)
            .checked_div(u128::from(self.total))
            .map_or(String::new(), |p| format!(" ({}%)", p.min(100)));
        Some(format!(
            "archiving {}: {} of {}{share}, {files} file{} done, {} s",
            self.archive,
            crate::text::human_bytes(bytes),
            crate::text::human_bytes(self.total),
            crate::text::plural(files),
            elapsed.as_secs()
        ))
    }
}

/// `borg list --json-lines REPO::ARCHIVE`: every item of an archive, with
/// its size, and with `content` the SHA-256 of its content too (borg reads
/// every chunk back for it: slow, and the point).
#[must_use]
pub fn list_archive(
    program: &Path,
    repo: &Repository,
    passphrase: &Secret,
    archive: &str,
    content: bool,
) -> CommandLine {
    let mut args = vec![
        "list".to_owned(),
        "--json-lines".to_owned(),
        "--lock-wait".to_owned(),
        repo.lock_wait.to_string(),
    ];
    if content {
        args.extend(["--format".to_owned(), "{size}{sha256}".to_owned()]);
    }
    args.push(format!("{}::{archive}", repo.location));
    borg(program, repo, passphrase, args)
}

/// `borg list --json REPO`: the archives of the repository.
#[must_use]
pub(crate) fn list_archives(program: &Path, repo: &Repository, passphrase: &Secret) -> CommandLine {
    let args = vec![
        "list".to_owned(),
        "--json".to_owned(),
        "--lock-wait".to_owned(),
        repo.lock_wait.to_string(),
        repo.location.clone(),
    ];
    borg(program, repo, passphrase, args)
}

/// The archive names in `borg list --json REPO` output.
pub(crate) fn parse_archive_names(text: &str) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct Listing {
        archives: Vec<Archive>,
    }
    #[derive(Deserialize)]
    struct Archive {
        name: String,
    }
    serde_json::from_str::<Listing>(text)
        .map(|l| l.archives.into_iter().map(|a| a.name).collect())
        .map_err(|e| format!("borg's list of archives: {e}"))
}

/// `borg init`: a new repository, encrypted with a key kept in the
/// repository and protected by the passphrase (`repokey-blake2`).
#[must_use]
pub(crate) fn init(program: &Path, repo: &Repository, passphrase: &Secret) -> CommandLine {
    let args = vec![
        "init".to_owned(),
        "--encryption=repokey-blake2".to_owned(),
        "--make-parent-dirs".to_owned(),
        repo.location.clone(),
    ];
    borg(program, repo, passphrase, args)
}

/// `borg extract` of some paths of an archive into `dest` (the current
/// folder of the child); `--` keeps a path from being read as an option.
#[must_use]
pub(crate) fn extract(
    program: &Path,
    repo: &Repository,
    passphrase: &Secret,
    archive: &str,
    paths: &[String],
    dest: &Path,
) -> CommandLine {
    let mut args = vec![
        "extract".to_owned(),
        "--lock-wait".to_owned(),
        repo.lock_wait.to_string(),
        format!("{}::{archive}", repo.location),
        "--".to_owned(),
    ];
    args.extend(paths.iter().cloned());
    borg(program, repo, passphrase, args).current_dir(PathBuf::from(dest))
}

/// `borg check`: the repository's and the archives' consistency.
#[must_use]
pub(super) fn check(program: &Path, repo: &Repository, passphrase: &Secret) -> CommandLine {
    let args = vec![
        "check".to_owned(),
        "--lock-wait".to_owned(),
        repo.lock_wait.to_string(),
        repo.location.clone(),
    ];
    borg(program, repo, passphrase, args)
}

/// `borg delete REPO::ARCHIVE` (retention; never the whole repository).
#[must_use]
pub(super) fn delete(
    program: &Path,
    repo: &Repository,
    passphrase: &Secret,
    archive: &str,
) -> CommandLine {
    let args = vec![
        "delete".to_owned(),
        "--lock-wait".to_owned(),
        repo.lock_wait.to_string(),
        format!("{}::{archive}", repo.location),
    ];
    borg(program, repo, passphrase, args)
}

/// `borg compact`: frees the space of deleted archives.
#[must_use]
pub(super) fn compact(program: &Path, repo: &Repository, passphrase: &Secret) -> CommandLine {
    let args = vec![
        "compact".to_owned(),
        "--lock-wait".to_owned(),
        repo.lock_wait.to_string(),
        repo.location.clone(),
    ];
    borg(program, repo, passphrase, args)
}

/// One item of `borg list --json-lines`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Item {
    #[serde(rename = "type")]
    kind: String,
    pub path: String,
    #[serde(default)]
    size: u64,
    /// With `list_archive(.., content: true)`.
    #[serde(default)]
    sha256: Option<String>,
}

/// Parses `borg list --json-lines` output; a line that is not an item is an
/// error naming the line (a truncated listing must not pass a verification).
pub fn parse_items(text: &str) -> Result<Vec<Item>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| format!("line {} of borg's listing: {e}", i + 1))
        })
        .collect()
}

/// What an archive lacks compared with what it should hold.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verification {
    pub missing: Vec<String>,
    /// (path, expected size, archived size)
    wrong_size: Vec<(String, u64, u64)>,
    /// Paths whose archived content differs from the expected hash.
    pub wrong_content: Vec<String>,
}

impl Verification {
    #[must_use]
    pub fn passed(&self) -> bool {
        self.missing.is_empty() && self.wrong_size.is_empty() && self.wrong_content.is_empty()
    }

    /// One line for an error: counts and the first few paths.
    #[must_use]
    pub(super) fn summary(&self) -> String {
        let first = |paths: &mut dyn Iterator<Item = &String>| {
            paths.take(3).cloned().collect::<Vec<_>>().join(", ")
        };
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!(
                "{} files missing ({})",
                self.missing.len(),
                first(&mut self.missing.iter())
            ));
        }
        if !self.wrong_size.is_empty() {
            parts.push(format!(
                "{} files of another size ({})",
                self.wrong_size.len(),
                first(&mut self.wrong_size.iter().map(|w| &w.0))
            ));
        }
        if !self.wrong_content.is_empty() {
            parts.push(format!(
                "{} files with other content ({})",
                self.wrong_content.len(),
                first(&mut self.wrong_content.iter())
            ));
        }
        parts.join("; ")
    }
}

/// One file an archive must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Relative to the archive's base (the staging root).
    pub path: String,
    pub size: u64,
    /// SHA-256 (hex) of the content, to compare with borg's when known.
    pub sha256: Option<String>,
}

/// Checks that every expected regular file is in `items` with the same size
/// (and the same SHA-256, where both sides know it). Extra items do not matter.
#[must_use]
pub fn verify(expected: &[Expected], items: &[Item]) -> Verification {
    let archived: std::collections::HashMap<&str, &Item> = items
        .iter()
        .filter(|i| i.kind == "-")
        .map(|i| (i.path.as_str(), i))
        .collect();
    let mut v = Verification::default();
    for e in expected {
        match archived.get(e.path.as_str()) {
            None => v.missing.push(e.path.clone()),
            Some(item) if item.size != e.size => {
                v.wrong_size.push((e.path.clone(), e.size, item.size));
            }
            Some(item) => {
                if let (Some(want), Some(got)) = (&e.sha256, &item.sha256) {
                    if !want.eq_ignore_ascii_case(got) {
                        v.wrong_content.push(e.path.clone());
                    }
                }
            }
        }
    }
    v
}

/// Archives to delete under retention: every archive (by its last month)
/// except the newest `keep_monthly` and, of older ones, the newest of each
/// of the newest `keep_yearly` years. `None` for both keeps everything.
#[must_use]
pub(super) fn to_prune(
    archives: &[(String, super::period::Month)],
    keep_monthly: Option<u32>,
    keep_yearly: Option<u32>,
) -> Vec<String> {
    if keep_monthly.is_none() && keep_yearly.is_none() {
        return Vec::new();
    }
    let mut sorted: Vec<&(String, super::period::Month)> = archives.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    let monthly = keep_monthly.unwrap_or(0) as usize;
    let mut years_kept = std::collections::BTreeSet::new();
    let mut doomed = Vec::new();
    for (i, (name, month)) in sorted.into_iter().enumerate() {
        if i < monthly {
            continue;
        }
        let yearly = keep_yearly.unwrap_or(0) as usize;
        if !years_kept.contains(&month.year) && years_kept.len() < yearly {
            years_kept.insert(month.year);
            continue;
        }
        doomed.push(name.clone());
    }
    doomed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> Repository {
        Repository {
            location: "ssh://photos@nas:2222/./borg".into(),
            lock_wait: 600,
            rsh: Some("ssh -o ServerAliveInterval=15".into()),
        }
    }

    #[test]
    fn log_json_lines_are_progress_messages_or_nothing() {
        assert_eq!(
            log_line(
                r#"{"original_size": 16775975, "compressed_size": 16776190, "deduplicated_size": 16776190, "nfiles": 3, "path": "a.jpg", "time": 1.5, "type": "archive_progress", "finished": false}"#
            ),
            LogLine::Progress {
                bytes: 16_775_975,
                files: 3
            }
        );
        assert_eq!(
            log_line(r#"{"time": 1.5, "type": "archive_progress", "finished": true}"#),
            LogLine::Other
        );
        assert_eq!(
            log_line(
                r#"{"type": "log_message", "time": 1.5, "message": "x.jpg: stat: [Errno 2] No such file", "levelname": "WARNING", "name": "borg.archiver"}"#
            ),
            LogLine::Message("x.jpg: stat: [Errno 2] No such file".into())
        );
        assert_eq!(
            log_line(
                r#"{"message": "Saving files cache", "operation": 2, "type": "progress_message", "finished": false}"#
            ),
            LogLine::Other
        );
        assert_eq!(
            log_line("Traceback (most recent call last):"),
            LogLine::Message("Traceback (most recent call last):".into())
        );
    }

    #[test]
    fn create_progress_says_a_line_each_quarter_and_every_half_minute_no_more() {
        let s = std::time::Duration::from_secs;
        let mut p = CreateProgress::new("photos-kim-2026-09", 4_000_000_000);
        assert_eq!(p.line(100_000_000, 1, s(1)), None);
        assert_eq!(
            p.line(1_000_000_000, 10, s(5)).as_deref(),
            Some("archiving photos-kim-2026-09: 1.0 GB of 4.0 GB (25%), 10 files done, 5 s")
        );
        // Same quarter, under half a minute since: nothing.
        assert_eq!(p.line(1_500_000_000, 15, s(20)), None);
        assert_eq!(
            p.line(1_600_000_000, 16, s(35)).as_deref(),
            Some("archiving photos-kim-2026-09: 1.6 GB of 4.0 GB (40%), 16 files done, 35 s")
        );
        // Two quarters at once: one line.
        assert!(p.line(3_100_000_000, 31, s(36)).is_some());
        assert_eq!(p.line(3_200_000_000, 32, s(37)), None);
        // The last quarter is the last one said by size.
        assert_eq!(p.line(4_000_000_000, 40, s(38)), None);
        // An unknown size: by time only, without a share.
        let mut p = CreateProgress::new("a", 0);
        assert_eq!(p.line(5, 1, s(10)), None);
        assert_eq!(
            p.line(5, 1, s(30)).as_deref(),
            Some("archiving a: 5 B of 0 B, 1 file done, 30 s")
        );
    }

    #[test]
    fn archive_names_of_a_month_and_of_a_span() {
        assert_eq!(
            archive_name("photos", "anna", (2026, 1), (2026, 1)),
            "photos-anna-2026-01"
        );
        assert_eq!(
            archive_name("photos", "anna", (2025, 11), (2026, 1)),
            "photos-anna-2025-11..2026-01"
        );
    }

    #[test]
    fn exit_codes_by_name() {
        assert_eq!(Exit::of(Some(0)), Exit::Ok);
        assert_eq!(Exit::of(Some(1)), Exit::Warning);
        assert_eq!(Exit::of(Some(2)), Exit::Error);
        assert_eq!(Exit::of(None), Exit::Error);
    }

    #[test]
    fn create_keeps_the_passphrase_and_the_paths_out_of_argv() {
        let pass = Secret::new("correct horse".into());
        let cmd = create(
            Path::new("borg"),
            &repo(),
            &pass,
            "photos-anna-2026-01",
            "zstd,3",
            Path::new("/staging"),
            &[
                "anna/2026/01/02/IMG_1.HEIC".into(),
                "anna/2026/01/02/IMG_1.HEIC.xmp".into(),
            ],
        );
        assert_eq!(
            cmd.args,
            [
                "create",
                "--json",
                "--progress",
                "--log-json",
                "--lock-wait",
                "600",
                "--compression",
                "zstd,3",
                "--paths-from-stdin",
                "ssh://photos@nas:2222/./borg::photos-anna-2026-01"
            ]
        );
        assert_eq!(cmd.cwd.as_deref(), Some(Path::new("/staging")));
        assert_eq!(
            cmd.stdin.as_deref(),
            Some(&b"anna/2026/01/02/IMG_1.HEIC\nanna/2026/01/02/IMG_1.HEIC.xmp\n"[..])
        );
        let shown = cmd.to_string();
        assert!(
            !shown.contains("correct horse") && shown.contains("BORG_PASSPHRASE=***"),
            "{shown}"
        );
        assert!(shown.contains("BORG_RSH=ssh -o ServerAliveInterval=15"));
    }

    #[test]
    fn verification_names_what_is_missing_or_different() {
        let items = parse_items(
            "{\"type\": \"d\", \"path\": \"a\", \"size\": 0}\n\
             {\"type\": \"-\", \"path\": \"a/1.jpg\", \"size\": 10}\n\
             {\"type\": \"-\", \"path\": \"a/2.jpg\", \"size\": 7}\n",
        )
        .unwrap();
        let expected: Vec<Expected> = [("a/1.jpg", 10), ("a/2.jpg", 8), ("a/3.jpg", 1)]
            .into_iter()
            .map(|(path, size)| Expected {
                path: path.into(),
                size,
                sha256: None,
            })
            .collect();
        let v = verify(&expected, &items);
        assert!(!v.passed());
        assert_eq!(v.missing, ["a/3.jpg"]);
        assert_eq!(v.wrong_size, [("a/2.jpg".to_owned(), 8, 7)]);
        assert!(verify(&expected[..1], &items).passed());
        assert!(parse_items("{\"type\": \"-\", \"path\"")
            .unwrap_err()
            .contains("line 1"));
        assert!(
            v.summary().contains("1 files missing (a/3.jpg)"),
            "{}",
            v.summary()
        );
    }

    #[test]
    fn content_verification_compares_hashes_where_known() {
        let items = parse_items(
            "{\"type\": \"-\", \"path\": \"a\", \"size\": 1, \"sha256\": \"AB\"}\n\
             {\"type\": \"-\", \"path\": \"b\", \"size\": 1, \"sha256\": \"cd\"}\n",
        )
        .unwrap();
        let e = |path: &str, sha: Option<&str>| Expected {
            path: path.into(),
            size: 1,
            sha256: sha.map(Into::into),
        };
        let v = verify(&[e("a", Some("ab")), e("b", Some("ce"))], &items);
        assert_eq!(v.wrong_content, ["b"]);
        assert!(verify(&[e("a", Some("ab")), e("b", None)], &items).passed());
    }

    #[test]
    fn retention_keeps_the_newest_months_and_one_per_year() {
        use super::super::period::Month;
        let archives: Vec<(String, Month)> = [
            (2024, 11),
            (2024, 12),
            (2025, 6),
            (2025, 12),
            (2026, 1),
            (2026, 2),
        ]
        .into_iter()
        .map(|(year, month)| (format!("p-a-{year}-{month:02}"), Month { year, month }))
        .collect();
        assert!(to_prune(&archives, None, None).is_empty());
        assert_eq!(
            to_prune(&archives, Some(2), None),
            ["p-a-2025-12", "p-a-2025-06", "p-a-2024-12", "p-a-2024-11"]
        );
        assert_eq!(
            to_prune(&archives, Some(2), Some(2)),
            ["p-a-2025-06", "p-a-2024-11"]
        );
    }

    #[test]
    fn ssh_repositories_get_a_quiet_checked_ssh() {
        let r = rsh(
            Some(Path::new("/Users/a b/.ssh/id")),
            Some(Path::new("/k/hosts")),
        );
        assert!(r.starts_with("ssh -o BatchMode=yes"), "{r}");
        assert!(r.contains("StrictHostKeyChecking=yes"), "{r}");
        assert!(r.contains("-i '/Users/a b/.ssh/id'"), "{r}");
        assert!(r.contains("'UserKnownHostsFile=/k/hosts'"), "{r}");
        assert!(rsh(Some(Path::new("/it's")), None).ends_with(r#"-i '/it'"'"'s'"#));
    }
}
