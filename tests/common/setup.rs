//! The test builder for `run`: a temp dir with a config, staging and state,
//! the real binary, and helpers to look at what it left behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use photos_backup::ledger::Ledger;

/// A backup setup in a temp dir.
pub struct Setup {
    /// Extra config text appended at the end (e.g. a `[remote]` table).
    pub extra: String,
    tmp: tempfile::TempDir,
    libraries: Vec<(String, PathBuf)>,
    threshold: String,
}

pub struct Ran {
    pub code: i32,
    pub out: String,
    pub err: String,
}

impl Setup {
    pub fn new() -> Self {
        Self {
            extra: String::new(),
            tmp: tempfile::tempdir().unwrap(),
            libraries: Vec::new(),
            threshold: "2000-01-01".into(),
        }
    }

    pub fn library(mut self, name: &str, path: &Path) -> Self {
        self.libraries.push((name.to_owned(), path.to_owned()));
        self
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    pub fn staging(&self) -> PathBuf {
        self.root().join("staging")
    }

    pub fn state(&self) -> PathBuf {
        self.root().join("state")
    }

    pub fn config(&self) -> PathBuf {
        let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let path_of = |p: &Path| quote(&p.display().to_string());
        let mut text = format!(
            "[state]\ndir = {}\n[staging]\ndir = {}\n[threshold]\ndefault = {}\n",
            path_of(&self.state()),
            path_of(&self.staging()),
            quote(&self.threshold)
        );
        for (name, path) in &self.libraries {
            text.push_str(&format!(
                "[[library]]\nname = {}\npath = {}\n",
                quote(name),
                path_of(path)
            ));
        }
        text.push_str(&self.extra);
        let path = self.root().join("photos_backup.conf");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// What the last `spawn`ed run printed (stdout, stderr).
    pub fn spawned_output(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.root().join(n)).unwrap_or_default();
        format!("{}\n{}", read("spawned.out"), read("spawned.err"))
    }

    /// Starts `run` without waiting (to kill it); output in `spawned_output`.
    pub fn spawn(&self) -> std::process::Child {
        let tmpdir = self.root().join("tmp");
        std::fs::create_dir_all(&tmpdir).unwrap();
        Command::new(env!("CARGO_BIN_EXE_photos-backup"))
            .arg("--config")
            .arg(self.config())
            .args(["-q", "run"])
            .env("TMPDIR", &tmpdir)
            .env("TZ", "UTC")
            .stdout(std::fs::File::create(self.root().join("spawned.out")).unwrap())
            .stderr(std::fs::File::create(self.root().join("spawned.err")).unwrap())
            .spawn()
            .unwrap()
    }

    pub fn run(&self, extra: &[&str]) -> Ran {
        let tmpdir = self.root().join("tmp");
        std::fs::create_dir_all(&tmpdir).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_photos-backup"))
            .arg("--config")
            .arg(self.config())
            .arg("run")
            .args(extra)
            .env("TMPDIR", &tmpdir)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        Ran {
            code: out.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn run_ok(&self) -> String {
        let ran = self.run(&[]);
        assert_eq!(ran.code, 0, "run failed:\n{}\n{}", ran.out, ran.err);
        ran.out
    }

    pub fn ledger(&self) -> Ledger {
        Ledger::open_existing_read_only(&self.state().join("ledger.sqlite"))
            .unwrap()
            .expect("a ledger")
    }

    /// Staged files by (uuid, role) -> (path, size, hash) for one library.
    pub fn staged(&self, library: &str) -> BTreeMap<(String, String), (String, u64, String)> {
        self.ledger()
            .files(library)
            .unwrap()
            .into_iter()
            .map(|f| ((f.uuid, f.role), (f.path, f.size, f.hash)))
            .collect()
    }
}

/// Every file under `dir` (relative), with its modification time.
pub fn tree(dir: &Path) -> BTreeMap<String, std::time::SystemTime> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                e.metadata().unwrap().modified().unwrap(),
            )
        })
        .collect()
}
