//! Bad threshold files: each `tests/corpus/threshold/bad-*` put in place of
//! `STAGING/date_threshold.txt` must stop a real `run` (exit 1) with an error
//! naming the file and saying it is malformed, and leave the file, staging
//! and state as they were; each `good-YYYY-MM-DD-*` must be read as that
//! date. Files that cannot live in the repository (huge, a folder, a symlink
//! loop, a named pipe) are made here.

use std::path::{Path, PathBuf};

use crate::{binary, corpus_dir, listing, report, Outcome};

/// A temp dir with a config (no library: the threshold is read first) and
/// its staging folder.
struct Place {
    tmp: tempfile::TempDir,
}

impl Place {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("photos_backup.conf"),
            "[state]\ndir = \"state\"\n[staging]\ndir = \"staging\"\n\
             [threshold]\ndefault = \"2000-01-01\"\n",
        )
        .unwrap();
        std::fs::create_dir(tmp.path().join("staging")).unwrap();
        Self { tmp }
    }

    fn file(&self) -> PathBuf {
        self.tmp.path().join("staging/date_threshold.txt")
    }

    fn run(&self) -> Outcome {
        let config = self.tmp.path().join("photos_backup.conf");
        Outcome::of(&mut binary(self.tmp.path(), &config, &["run"]))
    }

    /// Why a run with a bad file in place is wrong, if it is.
    fn refused(&self, ran: &Outcome, words: &str) -> Vec<String> {
        let mut wrong = Vec::new();
        if ran.code != 1 {
            wrong.push(format!("exit {} instead of 1", ran.code));
        }
        let named = format!("threshold file {}", self.file().display());
        if !ran.err.contains(&named) || !ran.err.contains(words) {
            wrong.push(format!("does not say {named:?} ... {words:?}"));
        }
        wrong.extend(ran.forbidden());
        if self.tmp.path().join("state/ledger.sqlite").exists() {
            wrong.push("started a run: a ledger was made".into());
        }
        if listing(&self.tmp.path().join("staging")) != ["date_threshold.txt"] {
            wrong.push("wrote into staging".into());
        }
        wrong
    }
}

fn corpus(prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir("threshold"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    files.sort();
    files
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_bad_threshold_file_stops_the_run_naming_the_file() {
    let files = corpus("bad-");
    assert!(files.len() >= 20, "the threshold corpus shrank");
    let mut failures = Vec::new();
    for file in &files {
        let place = Place::new();
        let bytes = std::fs::read(file).unwrap();
        std::fs::write(place.file(), &bytes).unwrap();
        let ran = place.run();
        let mut wrong = place.refused(&ran, "is malformed: expected one line YYYY-MM-DD");
        if std::fs::read(place.file()).unwrap() != bytes {
            wrong.push("changed the file".into());
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{}: {}\n{}",
                name(file),
                wrong.join("; "),
                ran.all()
            ));
        }
    }
    report("threshold", &failures);
}

#[test]
fn every_good_threshold_file_is_read_as_its_date() {
    let files = corpus("good-");
    assert!(files.len() >= 5);
    for file in &files {
        let date = &name(file)["good-".len()..][..10];
        let place = Place::new();
        let bytes = std::fs::read(file).unwrap();
        std::fs::write(place.file(), &bytes).unwrap();
        let ran = place.run();
        assert_eq!(ran.code, 0, "{}: {}", name(file), ran.all());
        assert!(
            ran.out.contains(&format!("threshold: {date}")),
            "{}",
            ran.out
        );
        assert_eq!(std::fs::read(place.file()).unwrap(), bytes, "left alone");
    }
}

#[test]
fn a_huge_threshold_file_is_malformed() {
    let place = Place::new();
    // Dates all along, and one date followed by white space: neither is one line.
    for text in [
        "2026-01-01\n".repeat(500_000),
        format!("2026-01-01{}", " ".repeat(5000)),
    ] {
        std::fs::write(place.file(), &text).unwrap();
        let ran = place.run();
        let wrong = place.refused(&ran, "is malformed");
        assert!(wrong.is_empty(), "{wrong:?}\n{}", ran.all());
        assert!(ran.err.len() < 1000, "the file is not repeated whole");
    }
}

#[test]
fn a_threshold_path_that_is_no_regular_file_is_named() {
    let place = Place::new();
    let file = place.file();
    std::fs::create_dir(&file).unwrap();
    let ran = place.run();
    let wrong = place.refused(&ran, "not a regular file");
    assert!(wrong.is_empty(), "a folder: {wrong:?}\n{}", ran.all());
    std::fs::remove_dir(&file).unwrap();

    std::os::unix::fs::symlink(&file, &file).unwrap();
    let ran = place.run();
    let wrong = place.refused(&ran, "Too many levels of symbolic links");
    assert!(wrong.is_empty(), "a symlink loop: {wrong:?}\n{}", ran.all());
    std::fs::remove_file(&file).unwrap();

    // A named pipe nobody writes to: refused at once, not waited on.
    let made = std::process::Command::new("mkfifo").arg(&file).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let ran = place.run();
    let wrong = place.refused(&ran, "not a regular file");
    assert!(wrong.is_empty(), "a named pipe: {wrong:?}\n{}", ran.all());
}
