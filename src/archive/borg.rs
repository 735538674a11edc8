//! borg, as data: the command lines this program runs (built by pure
//! functions, tested as argument lists), what an exit status means (0 ok,
//! 1 warning, 2 and up or a signal: error), the archive names of a period,
//! and the check that an archive holds exactly what the ledger says, before
//! anything is purged. The passphrase reaches borg only through the child's
//! environment (marked secret, so it is masked wherever a command is shown),
//! never its arguments.

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
/// thousands of files never meet an argument-length limit).
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

/// `borg list --json-lines REPO::ARCHIVE`: every item of an archive.
#[must_use]
pub fn list_archive(
    program: &Path,
    repo: &Repository,
    passphrase: &Secret,
    archive: &str,
) -> CommandLine {
    let args = vec![
        "list".to_owned(),
        "--json-lines".to_owned(),
        "--lock-wait".to_owned(),
        repo.lock_wait.to_string(),
        format!("{}::{archive}", repo.location),
    ];
    borg(program, repo, passphrase, args)
}

/// One item of `borg list --json-lines`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Item {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: String,
    #[serde(default)]
    pub size: u64,
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
    pub wrong_size: Vec<(String, u64, u64)>,
}

impl Verification {
    #[must_use]
    pub fn passed(&self) -> bool {
        self.missing.is_empty() && self.wrong_size.is_empty()
    }
}

/// Checks that every expected regular file (path relative to the archive's
/// base, size) is in `items` with the same size. Extra items do not matter.
#[must_use]
pub fn verify(expected: &[(String, u64)], items: &[Item]) -> Verification {
    let archived: std::collections::HashMap<&str, u64> = items
        .iter()
        .filter(|i| i.kind == "-")
        .map(|i| (i.path.as_str(), i.size))
        .collect();
    let mut v = Verification::default();
    for (path, size) in expected {
        match archived.get(path.as_str()) {
            None => v.missing.push(path.clone()),
            Some(s) if s != size => v.wrong_size.push((path.clone(), *size, *s)),
            Some(_) => {}
        }
    }
    v
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
        let expected = vec![
            ("a/1.jpg".to_owned(), 10),
            ("a/2.jpg".to_owned(), 8),
            ("a/3.jpg".to_owned(), 1),
        ];
        let v = verify(&expected, &items);
        assert!(!v.passed());
        assert_eq!(v.missing, ["a/3.jpg"]);
        assert_eq!(v.wrong_size, [("a/2.jpg".to_owned(), 8, 7)]);
        assert!(verify(&expected[..1], &items).passed());
        assert!(parse_items("{\"type\": \"-\", \"path\"")
            .unwrap_err()
            .contains("line 1"));
    }
}
