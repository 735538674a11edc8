//! Names the commit the binary is built from, for `--version`
//! (`PHOTOS_BACKUP_BUILD_COMMIT`, read by `cli::VERSION`). In order:
//! `$PHOTOS_BACKUP_COMMIT` when set (a Homebrew or tarball build, where
//! there is no git checkout, says it that way); else git's short hash of
//! HEAD, with `-dirty` when the files the binary is built from differ from
//! it; else `unknown` (no git, not a checkout, git too slow). Every git call
//! is bounded in time. Cargo reruns this when HEAD moves (the HEAD file,
//! the branch's ref, packed refs) or when the sources change, so the answer
//! stays true.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable a build without a checkout sets.
const COMMIT_ENV: &str = "PHOTOS_BACKUP_COMMIT";
/// How long one git call may take before the commit is `unknown`.
const GIT_TIMEOUT: Duration = Duration::from_secs(10);
/// What the binary is built from: a change to them makes the build dirty.
const SOURCES: [&str; 5] = [
    "src",
    "build.rs",
    "Cargo.toml",
    "Cargo.lock",
    "photos_backup.conf.example",
];

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-env-changed={COMMIT_ENV}");
    for source in SOURCES {
        println!("cargo:rerun-if-changed={source}");
    }
    let commit = match std::env::var(COMMIT_ENV) {
        Ok(commit) if !commit.trim().is_empty() => commit.trim().to_owned(),
        _ => from_git(&root).unwrap_or_else(|| "unknown".to_owned()),
    };
    println!("cargo:rustc-env=PHOTOS_BACKUP_BUILD_COMMIT={commit}");
}

/// The short hash of HEAD, `-dirty` when the sources differ from it; `None`
/// when git cannot tell.
fn from_git(root: &Path) -> Option<String> {
    let git_dir = PathBuf::from(git(root, &["rev-parse", "--absolute-git-dir"])?);
    let common_dir = git(
        root,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    )
    .map_or_else(|| git_dir.clone(), PathBuf::from);
    // In a worktree HEAD is in its own git dir, branches in the common one.
    // (Not the index: `git status` rewrites it, and what is staged or not
    // makes no difference to the answer.)
    println!("cargo:rerun-if-changed={}", git_dir.join("HEAD").display());
    println!(
        "cargo:rerun-if-changed={}",
        common_dir.join("packed-refs").display()
    );
    if let Some(branch) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        println!(
            "cargo:rerun-if-changed={}",
            common_dir.join(branch).display()
        );
    }
    let hash = git(root, &["rev-parse", "--short", "HEAD"])?;
    let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    status.extend(SOURCES);
    let dirty = !git(root, &status)?.is_empty();
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

/// What `git ARGS` prints in `root`, trimmed; `None` when it fails or takes
/// longer than `GIT_TIMEOUT` (then it is killed).
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let mut child = Command::new("git")
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // Read while waiting: a full pipe would stop git until the timeout.
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).map(|_| out)
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < GIT_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let out = reader.join().ok()?.ok()?;
    status?.success().then(|| out.trim().to_owned())
}
