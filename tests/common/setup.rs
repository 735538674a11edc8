//! The test builder for `run`: a temp dir with a config, staging and state,
//! the real binary, and helpers to look at what it left behind.
//!
//! One way to configure it: `let mut setup = Setup::new();` then `&mut`
//! methods (`add_library`, `set_threshold`, `set_extra`, `push_extra`,
//! `notify_log`; `extra` reads the text back), before the first run or
//! between runs alike; the config file is written anew from them at each run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use photos_backup::ledger::Ledger;

/// A backup setup in a temp dir.
pub struct Setup {
    /// Extra config text appended at the end (e.g. a `[remote]` table).
    extra: String,
    tmp: tempfile::TempDir,
    libraries: Vec<(String, PathBuf)>,
    threshold: String,
}

/// What a finished command of the binary left: exit code and both streams.
pub struct Ran {
    pub code: i32,
    pub out: String,
    pub err: String,
}

impl From<std::process::Output> for Ran {
    fn from(out: std::process::Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
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

    /// A `[[library]]` named `name` at `path`.
    pub fn add_library(&mut self, name: &str, path: &Path) {
        self.libraries.push((name.to_owned(), path.to_owned()));
    }

    /// The default threshold (`[threshold].default`).
    pub fn set_threshold(&mut self, date: &str) {
        date.clone_into(&mut self.threshold);
    }

    /// The config text after the libraries (e.g. a `[remote]` table),
    /// replacing what was there.
    pub fn set_extra(&mut self, text: impl Into<String>) {
        self.extra = text.into();
    }

    /// The config text after the libraries, as set so far.
    pub fn extra(&self) -> &str {
        &self.extra
    }

    /// More config text after what is there.
    pub fn push_extra(&mut self, text: &str) {
        self.extra.push_str(text);
    }

    /// Notifications through a command that appends `EVENT|MESSAGE` lines
    /// to the file returned.
    pub fn notify_log(&mut self) -> PathBuf {
        let log = self.root().join("notified.txt");
        let script = super::tools::fake_tool(
            self.root(),
            "notify.sh",
            &format!(
                "printf '%s|%s\\n' \"$PHOTOS_BACKUP_EVENT\" \"$PHOTOS_BACKUP_MESSAGE\" >> '{}'",
                log.display()
            ),
        );
        self.extra.push_str(&format!(
            "\n[notify]\ncommand = [{:?}]\n",
            script.display().to_string()
        ));
        log
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
    /// Waits until the spawned run's output says `text`; fails when the run
    /// ends first or `bound` passes.
    pub fn wait_for_output(&self, child: &mut std::process::Child, text: &str, bound: Duration) {
        let deadline = std::time::Instant::now() + bound;
        while !self.spawned_output().contains(text) {
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "the run ended ({status}) before {text:?}:\n{}",
                    self.spawned_output()
                );
            }
            assert!(std::time::Instant::now() < deadline, "never saw {text:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Spawns a run at `now` that pauses at failpoint `point`, waits for
    /// the pause (bounded), and SIGKILLs it there.
    pub fn killed_at(&self, now: &str, point: &str) {
        let mut child = self.spawn_with(&[
            ("PHOTOS_BACKUP_NOW", now),
            (photos_backup::failpoint::VAR, point),
        ]);
        self.wait_for_output(
            &mut child,
            &format!("paused at {point}"),
            Duration::from_secs(120),
        );
        child.kill().unwrap();
        let _ = child.wait();
    }

    pub fn spawned_output(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.root().join(n)).unwrap_or_default();
        format!("{}\n{}", read("spawned.out"), read("spawned.err"))
    }

    /// The binary with this setup's config, `TMPDIR` and `TZ=UTC`.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let tmpdir = self.root().join("tmp");
        std::fs::create_dir_all(&tmpdir).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_photos-backup"));
        cmd.arg("--config")
            .arg(self.config())
            .args(args)
            .env("TMPDIR", &tmpdir)
            .env("TZ", "UTC")
            .envs(env.iter().copied());
        cmd
    }

    /// Starts `run` without waiting (to kill it); output in `spawned_output`.
    pub fn spawn(&self) -> std::process::Child {
        self.spawn_with(&[])
    }

    /// `spawn` with extra environment variables, in a process group of its
    /// own (so a test can kill the run and its children at once).
    pub fn spawn_with(&self, env: &[(&str, &str)]) -> std::process::Child {
        use std::os::unix::process::CommandExt;
        self.command(&["-q", "run"], env)
            .stdout(std::fs::File::create(self.root().join("spawned.out")).unwrap())
            .stderr(std::fs::File::create(self.root().join("spawned.err")).unwrap())
            .process_group(0)
            .spawn()
            .unwrap()
    }

    pub fn run(&self, extra: &[&str]) -> Ran {
        self.run_with(extra, &[])
    }

    /// `run` with extra arguments and environment variables.
    pub fn run_with(&self, extra: &[&str], env: &[(&str, &str)]) -> Ran {
        let args: Vec<&str> = std::iter::once("run")
            .chain(extra.iter().copied())
            .collect();
        Ran::from(self.command(&args, env).output().unwrap())
    }

    /// A run at the simulated time `now` (RFC 3339), which must succeed.
    pub fn run_at(&self, now: &str) -> String {
        let ran = self.run_with(&[], &[("PHOTOS_BACKUP_NOW", now)]);
        assert_eq!(
            ran.code, 0,
            "run at {now} failed:\n{}\n{}",
            ran.out, ran.err
        );
        ran.out
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
