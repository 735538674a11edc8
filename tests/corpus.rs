//! The corpus of bad input (issue 7): broken and hostile configs, threshold
//! files, libraries and names, each run through the real binary with the
//! outcome it must have: the exit code, an error that names the file and the
//! key or path, no panic, no secret echoed, nothing written where it must not
//! be. Config and threshold cases are data files in `tests/corpus/`; bad
//! libraries and hostile names are built here, since fixture libraries are
//! never copied into the repository. `docs/corpus.md` says how to add a case.

mod common;

#[path = "corpus/config_files.rs"]
mod config_files;
#[path = "corpus/hostile_names.rs"]
mod hostile_names;
#[path = "corpus/libraries.rs"]
mod libraries;
#[path = "corpus/threshold_files.rs"]
mod threshold_files;

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one run of the binary did.
struct Outcome {
    code: i32,
    out: String,
    err: String,
}

impl Outcome {
    /// `cmd`'s exit code and output, lossily decoded.
    fn of(cmd: &mut Command) -> Self {
        let out = cmd.output().expect("run photos-backup");
        Self {
            code: out.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Both streams, for words that may be on either.
    fn all(&self) -> String {
        format!("{}\n{}", self.out, self.err)
    }

    /// What went wrong in a way every case forbids: a panic, a raw escape
    /// sent to the terminal.
    fn forbidden(&self) -> Option<String> {
        let all = self.all();
        if all.contains("panicked") || all.contains("RUST_BACKTRACE") {
            Some(format!("panicked:\n{all}"))
        } else if all.contains('\u{1b}') || all.contains('\0') {
            Some(format!(
                "a raw control character reached the terminal: {all:?}"
            ))
        } else {
            None
        }
    }
}

/// The binary with `--config CONFIG ARGS`, in `dir`, with `HOME` and the
/// default state folder there too, so that nothing outside `dir` is used.
fn binary(dir: &Path, config: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_photos-backup"));
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .current_dir(dir)
        .env_remove("PHOTOS_BACKUP_CONFIG")
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir)
        .env("TZ", "UTC");
    cmd
}

/// The names directly in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `tests/corpus/KIND`.
fn corpus_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind)
}

/// Panics with every failure at once, so one run shows the whole picture.
fn report(kind: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} {kind} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
