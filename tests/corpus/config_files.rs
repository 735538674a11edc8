//! Bad config files: every `tests/corpus/config/*.conf` is run as the config
//! of a real `run`. Its first comment lines declare what must happen:
//!
//! ```text
//! # key: staging.dir        the error says key `staging.dir`
//! # expect: must not be     words the output must hold (any number)
//! # secret: hunter2         words it must never show (any number)
//! # exit: 1                 the exit code, 2 (config error) unless given
//! ```
//!
//! A file that cannot hold comments (an empty one) has them in
//! `NAME.conf.expect`. A config error must name the file, be one line, and
//! leave the folder as it was: nothing is created before the config loads.

use std::path::{Path, PathBuf};

use crate::{binary, corpus_dir, listing, report, Outcome};

/// One corpus file and what it declares.
struct Case {
    file: PathBuf,
    key: Option<String>,
    expect: Vec<String>,
    secrets: Vec<String>,
    exit: i32,
}

impl Case {
    fn read(file: PathBuf) -> Self {
        let sidecar = PathBuf::from(format!("{}.expect", file.display()));
        let header = std::fs::read(if sidecar.exists() { &sidecar } else { &file }).unwrap();
        let mut case = Case {
            file,
            key: None,
            expect: Vec::new(),
            secrets: Vec::new(),
            exit: 2,
        };
        for line in String::from_utf8_lossy(&header).lines() {
            let line = line.trim_start_matches('\u{feff}');
            let Some((word, value)) = line.strip_prefix("# ").and_then(|l| l.split_once(": "))
            else {
                continue;
            };
            let value = value.to_owned();
            match word {
                "key" => case.key = Some(value),
                "expect" => case.expect.push(value),
                "secret" => case.secrets.push(value),
                "exit" => case.exit = value.parse().expect("# exit: a number"),
                _ => {}
            }
        }
        case
    }

    /// Why the outcome is wrong, if it is.
    fn check(&self, config: &Path, ran: &Outcome, left: &[String]) -> Vec<String> {
        let mut wrong = Vec::new();
        let all = ran.all();
        if self.key.is_none() && self.expect.is_empty() {
            wrong.push("declares nothing to check (# key: or # expect:)".into());
        }
        if ran.code != self.exit {
            wrong.push(format!("exit {} instead of {}", ran.code, self.exit));
        }
        if let Some(key) = &self.key {
            if !ran.err.contains(&format!("key `{key}`")) {
                wrong.push(format!("does not name key `{key}`"));
            }
        }
        for words in self.expect.iter().filter(|w| !all.contains(w.as_str())) {
            wrong.push(format!("does not say {words:?}"));
        }
        for secret in self.secrets.iter().filter(|s| all.contains(s.as_str())) {
            wrong.push(format!("echoes the secret {secret:?}"));
        }
        wrong.extend(ran.forbidden());
        if self.exit == 2 {
            if !ran.err.contains(&config.display().to_string()) {
                wrong.push("does not name the config file".into());
            }
            if ran.err.lines().count() != 1 || !ran.out.is_empty() {
                wrong.push("is not one line on stderr".into());
            }
            if left != ["photos_backup.conf"] {
                wrong.push(format!("wrote something: {left:?}"));
            }
        }
        wrong
    }
}

fn cases() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir("config"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    files.into_iter().map(Case::read).collect()
}

#[test]
fn every_bad_config_is_refused_with_an_error_naming_the_file_and_key() {
    let cases = cases();
    assert!(
        cases.len() >= 30,
        "the config corpus shrank: {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("photos_backup.conf");
        std::fs::copy(&case.file, &config).unwrap();
        let ran = Outcome::of(&mut binary(tmp.path(), &config, &["run"]));
        let wrong = case.check(&config, &ran, &listing(tmp.path()));
        if !wrong.is_empty() {
            let name = case.file.file_name().unwrap().to_string_lossy();
            failures.push(format!("{name}: {}\n{}", wrong.join("; "), ran.all()));
        }
    }
    report("config", &failures);
}

/// A config path that is no file: a folder, a symlink loop. Exit 2, named.
#[test]
fn a_config_path_that_is_not_a_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("folder.conf");
    std::fs::create_dir(&folder).unwrap();
    let looped = tmp.path().join("loop.conf");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    for (config, words) in [
        (&folder, "Is a directory"),
        (&looped, "Too many levels of symbolic links"),
    ] {
        let ran = Outcome::of(&mut binary(tmp.path(), config, &["run"]));
        assert_eq!(ran.code, 2, "{}", ran.all());
        let expected = format!("cannot read config file {}: {words}", config.display());
        assert!(ran.err.contains(&expected), "{}", ran.err);
        assert_eq!(ran.forbidden(), None);
        assert_eq!(listing(tmp.path()), ["folder.conf", "loop.conf"]);
    }
}
