//! What the doctor looks at, as plain data: thin functions that open a
//! library, find a tool and ask its version, read the secrets, list the
//! borg repository, probe a folder and ask launchd, and return what they
//! saw without judging it (`judge` does). Programs run through the
//! `CommandRunner`, like everywhere else.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use super::Machine;
use crate::config::{self, Config};
use crate::host::Os;
use crate::process::{stderr_excerpt, CommandLine, CommandRunner};
use crate::secrets::{Reference, Secret, SecretStore};
use crate::tools::ToolError;

// ---------------------------------------------------------------------------
// Libraries

/// What opening one configured library gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LibraryFact {
    pub(super) name: String,
    /// Its place in the config (`library[INDEX]`).
    pub(super) index: usize,
    pub(super) path: PathBuf,
    pub(super) outcome: Result<Opened, LibraryProblem>,
}

/// A library whose database opened (a private copy, read-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Opened {
    pub(super) model_version: i64,
    /// Assets outside the trash; `Err`: why they could not be counted.
    pub(super) assets: Result<u64, String>,
    /// The reader's warning (a Photos model newer than any tested).
    pub(super) warning: Option<String>,
}

/// Why a library did not open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LibraryProblem {
    pub(super) kind: LibraryFailure,
    pub(super) message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LibraryFailure {
    Missing,
    NotALibrary,
    Unsupported,
    /// The system said no (`EPERM`): on macOS, Full Disk Access is missing.
    PermissionDenied,
    /// The folder's owner and mode said no (`EACCES`): not a privacy setting.
    AccessDenied,
    /// Photos kept writing while it was copied.
    Busy,
    Damaged,
    Unreadable,
}

/// Opens the library as `run` does (a checked private copy) and counts its assets.
#[must_use]
pub(super) fn library(index: usize, library: &config::Library) -> LibraryFact {
    use crate::photos::PhotosError;
    let outcome = crate::photos::Library::open(&library.path)
        .map(|opened| Opened {
            model_version: opened.schema.model_version,
            assets: opened.count_assets().map_err(|e| e.to_string()),
            warning: opened.schema.warning.clone(),
        })
        .map_err(|e| {
            let kind = match &e {
                PhotosError::Missing(_) => LibraryFailure::Missing,
                PhotosError::NotALibrary(_) => LibraryFailure::NotALibrary,
                PhotosError::Unsupported { .. } => LibraryFailure::Unsupported,
                PhotosError::Busy(_) => LibraryFailure::Busy,
                PhotosError::Corrupt { .. } => LibraryFailure::Damaged,
                PhotosError::Io { source, .. } => {
                    super::mac::permission_failure(source).unwrap_or(LibraryFailure::Unreadable)
                }
                PhotosError::NotRegular { .. } => LibraryFailure::Unreadable,
            };
            LibraryProblem {
                kind,
                message: crate::error_text::describe(&e),
            }
        });
    LibraryFact {
        name: library.name.clone(),
        index,
        path: library.path.clone(),
        outcome,
    }
}

// ---------------------------------------------------------------------------
// Tools

/// One tool a run needs, looked for as `run` looks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ToolFact {
    pub(super) name: &'static str,
    /// The config key that can name its path (`borg.borg`); `None`: none.
    pub(super) key: Option<&'static str>,
    pub(super) outcome: Result<FoundTool, MissingTool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum MissingTool {
    /// Not in any of these folders.
    NotFound { searched: Vec<PathBuf> },
    /// The path the config names does not exist.
    ConfiguredMissing { path: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FoundTool {
    pub(super) path: PathBuf,
    /// Its path comes from the config.
    pub(super) configured: bool,
    /// The first line of `TOOL --version`; `None`: not asked (it has none).
    pub(super) version: Option<Result<String, String>>,
    /// The launch agent, with its own `PATH`, would find this same file.
    pub(super) agent_finds_it: bool,
}

/// The tools the config needs: borg with `[borg]`, sshfs and gocryptfs
/// with `[remote]`, osascript on macOS.
#[must_use]
pub(super) fn tools(
    config: &Config,
    machine: &Machine,
    runner: &dyn CommandRunner,
) -> Vec<ToolFact> {
    let mut wanted: Vec<(&'static str, Option<&'static str>, Option<&Path>, bool)> = Vec::new();
    if let Some(borg) = &config.borg {
        wanted.push(("borg", Some("borg.borg"), borg.program.as_deref(), true));
    }
    if let Some(remote) = &config.remote {
        wanted.push(("sshfs", Some("remote.sshfs"), remote.sshfs.as_deref(), true));
        wanted.push((
            "gocryptfs",
            Some("remote.gocryptfs"),
            remote.gocryptfs.as_deref(),
            true,
        ));
    }
    if machine.host.os == Os::MacOs {
        // It has no `--version`; it is part of macOS.
        wanted.push(("osascript", None, None, false));
    }
    wanted
        .into_iter()
        .map(|(name, key, configured, ask)| tool(name, key, configured, ask, machine, runner))
        .collect()
}

/// Finds one tool (the configured path, else the first in `tool_dirs`) and
/// asks its version.
#[must_use]
fn tool(
    name: &'static str,
    key: Option<&'static str>,
    configured: Option<&Path>,
    ask_version: bool,
    machine: &Machine,
    runner: &dyn CommandRunner,
) -> ToolFact {
    let outcome = match crate::tools::find(name, configured, &machine.host.tool_dirs) {
        Ok(path) => {
            let agent_finds_it = configured.is_some()
                || crate::tools::find(name, None, &machine.agent_tool_dirs)
                    .ok()
                    .as_ref()
                    == Some(&path);
            let version = ask_version.then(|| version(&path, runner));
            Ok(FoundTool {
                path,
                configured: configured.is_some(),
                version,
                agent_finds_it,
            })
        }
        Err(ToolError::NotAt { path, .. }) => Err(MissingTool::ConfiguredMissing { path }),
        Err(ToolError::NotFound { searched, .. }) => Err(MissingTool::NotFound { searched }),
    };
    ToolFact { name, key, outcome }
}

/// `TOOL --version`: its version line, or why there is none.
fn version(program: &Path, runner: &dyn CommandRunner) -> Result<String, String> {
    let cmd = CommandLine::new(program, ["--version"]);
    let output = runner
        .run(&cmd, Duration::from_secs(15))
        .map_err(|e| crate::error_text::describe(&e))?;
    let name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    super::judge::version_line(
        &name,
        &String::from_utf8_lossy(&output.stdout),
        &String::from_utf8_lossy(&output.stderr),
    )
    .ok_or_else(|| format!("`{cmd}` said nothing ({})", output.status))
}

// ---------------------------------------------------------------------------
// Secrets

/// Whether one secret reference of the config resolves. Never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SecretFact {
    /// `remote.password`, `borg.passphrase`.
    pub(super) key: &'static str,
    /// `None`: the text is no reference (it is not shown: it may be a password).
    pub(super) reference: Option<Reference>,
    /// `Err`: the cause, which never holds the value.
    pub(super) outcome: Result<(), String>,
}

/// The facts, and the values that resolved, for the checks that need them.
pub(super) struct Secrets {
    pub(super) facts: Vec<SecretFact>,
    values: Vec<(&'static str, Secret)>,
}

impl Secrets {
    /// The value of the secret at `key`, if it resolved.
    #[must_use]
    pub(super) fn value(&self, key: &str) -> Option<&Secret> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, s)| s)
    }
}

/// Reads every secret the config refers to.
#[must_use]
pub(super) fn secrets(config: &Config, store: &dyn SecretStore) -> Secrets {
    let mut facts = Vec::new();
    let mut values = Vec::new();
    for (key, text) in crate::commands::secret::configured(config) {
        let outcome = match store.get(text) {
            Ok(secret) => {
                values.push((key, secret));
                Ok(())
            }
            Err(e) => Err(e.cause()),
        };
        facts.push(SecretFact {
            key,
            reference: Reference::parse(text).ok(),
            outcome,
        });
    }
    Secrets { facts, values }
}

// ---------------------------------------------------------------------------
// The borg repository

/// What `borg list --json REPO` said, or why it was not asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RepositoryFact {
    /// borg or the passphrase is missing (said above).
    NotChecked(String),
    Listed {
        archives: usize,
    },
    /// borg ran and failed: its exit status and the start of its stderr.
    Refused {
        status: String,
        stderr: String,
    },
    /// borg did not run, or ran and said nothing readable.
    Trouble(String),
    /// Not asked: it is on the server, which is off network (why).
    OffNetwork(String),
}

/// How long the doctor waits for another borg's lock (a run in progress).
const LOCK_WAIT_SECONDS: u32 = 5;

/// Lists the archives with the passphrase in borg's environment only.
#[must_use]
pub(super) fn repository(
    borg: &config::Borg,
    program: Option<&Path>,
    passphrase: Option<&Secret>,
    runner: &dyn CommandRunner,
) -> RepositoryFact {
    let (Some(program), Some(passphrase)) = (program, passphrase) else {
        let missing = match (program, passphrase) {
            (None, None) => "borg and the passphrase are",
            (None, Some(_)) => "borg is",
            _ => "the passphrase (borg.passphrase) is",
        };
        return RepositoryFact::NotChecked(format!("{missing} missing (see above)"));
    };
    let repo = crate::archive::borg::Repository {
        lock_wait: borg.lock_wait.min(LOCK_WAIT_SECONDS),
        ..crate::archive::borg::Repository::of(borg)
    };
    let cmd = crate::archive::borg::list_archives(program, &repo, passphrase);
    match runner.run(&cmd, Duration::from_secs(120)) {
        Err(e) => RepositoryFact::Trouble(crate::error_text::describe(&e)),
        Ok(output) => listing(&output),
    }
}

fn listing(output: &Output) -> RepositoryFact {
    use crate::archive::borg::{parse_archive_names, Exit};
    if Exit::of(output.status.code()) == Exit::Error {
        return RepositoryFact::Refused {
            status: output.status.to_string(),
            stderr: stderr_excerpt(output),
        };
    }
    match parse_archive_names(&String::from_utf8_lossy(&output.stdout)) {
        Ok(names) => RepositoryFact::Listed {
            archives: names.len(),
        },
        Err(e) => RepositoryFact::Trouble(e),
    }
}

// ---------------------------------------------------------------------------
// Folders

/// A folder a run writes to (staging, state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FolderFact {
    /// `staging.dir`, `state.dir`.
    pub(super) key: &'static str,
    pub(super) path: PathBuf,
    pub(super) presence: Presence,
    /// A temp file created and removed in the folder, or in the nearest
    /// existing folder above it when it does not exist yet.
    pub(super) writable: Result<(), String>,
    /// Bytes available there (`df -Pk`).
    pub(super) free: Result<u64, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Presence {
    Exists,
    /// A run would create it, under this existing folder.
    Missing {
        existing: PathBuf,
    },
    /// Something else than a folder is there, or it cannot be looked at.
    Unusable(String),
}

/// Looks at `path`: there or creatable, writable, free space.
#[must_use]
pub(super) fn folder(
    key: &'static str,
    path: &Path,
    machine: &Machine,
    runner: &dyn CommandRunner,
) -> FolderFact {
    // Relative to where the command runs, as a run would take it.
    let path = &std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let presence = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Presence::Exists,
        Ok(_) => Presence::Unusable("it is not a folder".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Presence::Missing {
            existing: nearest_existing(path),
        },
        Err(e) => Presence::Unusable(e.to_string()),
    };
    let probe = match &presence {
        Presence::Exists => Some(path.to_owned()),
        Presence::Missing { existing } => Some(existing.clone()),
        Presence::Unusable(_) => None,
    };
    let (writable, free) = match probe {
        Some(dir) => (try_write(&dir), free_space(&dir, machine, runner)),
        None => (
            Err("not a usable folder".into()),
            Err("not a usable folder".into()),
        ),
    };
    FolderFact {
        key,
        path: path.to_owned(),
        presence,
        writable,
        free,
    }
}

fn nearest_existing(path: &Path) -> PathBuf {
    path.ancestors()
        .skip(1)
        .find(|p| p.is_dir())
        .unwrap_or(Path::new("/"))
        .to_owned()
}

/// Creates and removes a temp file in `dir`.
fn try_write(dir: &Path) -> Result<(), String> {
    tempfile::Builder::new()
        .prefix(".photos-backup-doctor-")
        .tempfile_in(dir)
        .and_then(tempfile::NamedTempFile::close)
        .map_err(|e| e.to_string())
}

/// `df -Pk DIR`, read by `judge::df_available`.
fn free_space(dir: &Path, machine: &Machine, runner: &dyn CommandRunner) -> Result<u64, String> {
    let df = crate::tools::find("df", None, &machine.host.tool_dirs).map_err(|e| e.to_string())?;
    let cmd = CommandLine::new(
        df,
        ["-Pk".to_owned(), "--".to_owned(), dir.display().to_string()],
    );
    let output = runner
        .run(&cmd, Duration::from_secs(15))
        .map_err(|e| crate::error_text::describe(&e))?;
    if !output.status.success() {
        return Err(format!(
            "`{cmd}` failed ({}): {}",
            output.status,
            stderr_excerpt(&output)
        ));
    }
    super::judge::df_available(&String::from_utf8_lossy(&output.stdout))
        .ok_or_else(|| format!("`{cmd}` printed no free space"))
}

// ---------------------------------------------------------------------------
// The launch agent

/// What launchd says about the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AgentFact {
    /// No launchd here (and no `launchctl` on `PATH`).
    NotApplicable,
    Asked(AgentState),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AgentState {
    pub(super) plist: PathBuf,
    /// The `--config` its plist gives `run`; `Ok(None)`: there is no plist.
    pub(super) plist_config: Result<Option<String>, String>,
    /// `Err`: launchd could not be asked.
    pub(super) loaded: Result<Loaded, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::struct_field_names)] // `loaded` is launchctl's word
pub(super) struct Loaded {
    /// The `gui/UID` domain asked.
    pub(super) uid: u32,
    pub(super) loaded: bool,
    /// `last exit code` in `launchctl print`; `None`: it has not run yet.
    pub(super) last_exit: Option<i32>,
}

/// Asks `launchctl print gui/UID/LABEL` (on macOS, or wherever a
/// `launchctl` is on `PATH`) and reads the agent's plist.
#[must_use]
pub(super) fn agent(machine: &Machine, runner: &dyn CommandRunner) -> AgentFact {
    use crate::launchd::launchctl::{self, Launchctl};
    let found = crate::tools::find("launchctl", None, &machine.host.tool_dirs);
    let program = match (found, machine.host.os) {
        (Ok(path), _) => path,
        (Err(_), Os::MacOs) => PathBuf::from("/bin/launchctl"),
        (Err(_), Os::Linux) => return AgentFact::NotApplicable,
    };
    let plist = crate::launchd::plist_path(&machine.host.home, &machine.label);
    let plist_config = match std::fs::read(&plist) {
        Ok(bytes) => plist::Value::from_reader(std::io::Cursor::new(bytes))
            .map(|v| v.as_dictionary().and_then(super::judge::plist_config))
            .map_err(|e| format!("cannot read {}: {e}", plist.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", plist.display())),
    };
    let loaded = (|| {
        let l = Launchctl::for_current_user(runner, program)
            .map_err(|e| crate::error_text::describe(&e))?;
        let cmd = launchctl::print(&l.program, l.uid, &machine.label);
        let output = runner
            .run(&cmd, launchctl::TIMEOUT)
            .map_err(|e| crate::error_text::describe(&e))?;
        match output.status.code() {
            Some(0) => Ok(Loaded {
                uid: l.uid,
                loaded: true,
                last_exit: super::judge::last_exit_code(&String::from_utf8_lossy(&output.stdout)),
            }),
            Some(code) if launchctl::NOT_LOADED.contains(&code) => Ok(Loaded {
                uid: l.uid,
                loaded: false,
                last_exit: None,
            }),
            _ => Err(format!(
                "`{cmd}` failed ({}): {}",
                output.status,
                stderr_excerpt(&output)
            )),
        }
    })();
    AgentFact::Asked(AgentState {
        plist,
        plist_config,
        loaded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_runner::FakeRunner;

    fn machine(dirs: &[&Path]) -> Machine {
        Machine {
            host: crate::host::Host {
                os: Os::Linux,
                tool_dirs: dirs.iter().map(|d| d.to_path_buf()).collect(),
                home: PathBuf::from("/home/ann"),
                binary: Some(PathBuf::from("/usr/local/bin/photos-backup")),
                default_state_dir: "/unused".into(),
            },
            agent_tool_dirs: vec![PathBuf::from("/usr/bin")],
            label: "org.photos-backup".into(),
            test_notification: false,
        }
    }

    #[test]
    fn a_tool_is_found_like_run_finds_it_and_asked_its_version() {
        let bin = tempfile::tempdir().unwrap();
        std::fs::write(bin.path().join("borg"), "").unwrap();
        let runner = FakeRunner::answering(|_| (0, "borg 1.2.4\n".into(), String::new()));
        let fact = tool(
            "borg",
            Some("borg.borg"),
            None,
            true,
            &machine(&[bin.path()]),
            &runner,
        );
        let found = fact.outcome.unwrap();
        assert_eq!(found.path, bin.path().join("borg"));
        assert_eq!(found.version, Some(Ok("borg 1.2.4".into())));
        assert!(!found.agent_finds_it, "the agent's PATH is /usr/bin only");
        let asked: Vec<String> = runner.commands().iter().map(ToString::to_string).collect();
        assert_eq!(
            asked,
            [format!("{} --version", bin.path().join("borg").display())]
        );

        let fact = tool(
            "borg",
            Some("borg.borg"),
            Some(Path::new("/nonexistent/borg")),
            true,
            &machine(&[bin.path()]),
            &runner,
        );
        assert_eq!(
            fact.outcome,
            Err(MissingTool::ConfiguredMissing {
                path: "/nonexistent/borg".into()
            })
        );
        let fact = tool("sshfs", None, None, true, &machine(&[bin.path()]), &runner);
        assert_eq!(
            fact.outcome,
            Err(MissingTool::NotFound {
                searched: vec![bin.path().to_owned()]
            })
        );
    }

    #[test]
    fn a_tool_that_says_nothing_is_not_taken_for_working() {
        let bin = tempfile::tempdir().unwrap();
        std::fs::write(bin.path().join("gocryptfs"), "").unwrap();
        let runner = FakeRunner::exiting(126, "");
        let fact = tool(
            "gocryptfs",
            None,
            None,
            true,
            &machine(&[bin.path()]),
            &runner,
        );
        let version = fact.outcome.unwrap().version.unwrap().unwrap_err();
        assert!(version.contains("--version` said nothing"), "{version}");
    }

    #[test]
    fn borg_gets_the_passphrase_in_its_environment_and_a_short_lock_wait() {
        let borg = crate::config::Borg {
            repository: "/r".into(),
            passphrase: "env:PB".into(),
            prefix: "photos".into(),
            compression: "lz4".into(),
            lock_wait: 600,
            verify: crate::config::Verify::Size,
            max_pending_days: 30,
            check_every_days: None,
            prune_keep_monthly: None,
            prune_keep_yearly: None,
            identity_file: None,
            known_hosts: None,
            program: None,
        };
        let secret = Secret::new("hunter2".into());
        let runner = FakeRunner::answering(|_| {
            (
                0,
                r#"{"archives": [{"name": "a"}, {"name": "b"}]}"#.into(),
                String::new(),
            )
        });
        let fact = repository(
            &borg,
            Some(Path::new("/usr/bin/borg")),
            Some(&secret),
            &runner,
        );
        assert_eq!(fact, RepositoryFact::Listed { archives: 2 });
        let cmd = &runner.commands()[0];
        assert_eq!(cmd.args, ["list", "--json", "--lock-wait", "5", "/r"]);
        assert!(cmd
            .env
            .iter()
            .any(|v| v.name == "BORG_PASSPHRASE" && v.secret && v.value == "hunter2"));
        assert!(!cmd.to_string().contains("hunter2"));

        let refused = FakeRunner::exiting(2, "Repository /r does not exist.");
        let fact = repository(
            &borg,
            Some(Path::new("/usr/bin/borg")),
            Some(&secret),
            &refused,
        );
        assert_eq!(
            fact,
            RepositoryFact::Refused {
                status: "exit status: 2".into(),
                stderr: "Repository /r does not exist.".into()
            }
        );
        let none = FakeRunner::exiting(0, "");
        assert!(matches!(
            repository(&borg, None, Some(&secret), &none),
            RepositoryFact::NotChecked(why) if why == "borg is missing (see above)"
        ));
        assert!(none.commands().is_empty());
    }

    #[test]
    fn a_folder_is_probed_and_its_free_space_asked_from_df() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::write(bin.join("df"), "").unwrap();
        let runner = FakeRunner::answering(|_| {
            (
                0,
                "Filesystem 1024-blocks Used Available Capacity Mounted on\n\
                 /dev/vda 1000 10 2048 1% /\n"
                    .into(),
                String::new(),
            )
        });
        let m = machine(&[&bin]);
        let fact = folder("staging.dir", tmp.path(), &m, &runner);
        assert_eq!(fact.presence, Presence::Exists);
        assert_eq!(fact.writable, Ok(()));
        assert_eq!(fact.free, Ok(2048 * 1024));
        assert_eq!(
            runner.commands()[0].args,
            ["-Pk", "--", &tmp.path().display().to_string()]
        );
        let entries: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(entries.len(), 1, "the probe file is gone: {entries:?}");

        let later = tmp.path().join("a/b");
        let fact = folder("state.dir", &later, &m, &runner);
        assert_eq!(
            fact.presence,
            Presence::Missing {
                existing: tmp.path().to_owned()
            }
        );
        assert!(!later.exists() && !tmp.path().join("a").exists());

        let file = tmp.path().join("bin/df");
        let fact = folder("state.dir", &file, &m, &runner);
        assert!(matches!(fact.presence, Presence::Unusable(_)));
    }

    #[test]
    fn launchd_is_asked_for_the_agent_only_where_there_is_one() {
        let none = FakeRunner::exiting(0, "");
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            agent(&machine(&[empty.path()]), &none),
            AgentFact::NotApplicable
        );
        assert!(none.commands().is_empty());

        let bin = tempfile::tempdir().unwrap();
        std::fs::write(bin.path().join("launchctl"), "").unwrap();
        let runner = FakeRunner::answering(|cmd| {
            if cmd.args == ["-u"] {
                (0, "501\n".into(), String::new())
            } else {
                (
                    0,
                    "\tlast exit code = 75: EX_TEMPFAIL\n".into(),
                    String::new(),
                )
            }
        });
        let AgentFact::Asked(state) = agent(&machine(&[bin.path()]), &runner) else {
            panic!("not asked")
        };
        assert_eq!(
            state.loaded,
            Ok(Loaded {
                uid: 501,
                loaded: true,
                last_exit: Some(75)
            })
        );
        assert_eq!(state.plist_config, Ok(None));
        assert_eq!(
            runner.commands()[1].args,
            ["print", "gui/501/org.photos-backup"]
        );

        let gone = FakeRunner::answering(|cmd| {
            if cmd.args == ["-u"] {
                (0, "501\n".into(), String::new())
            } else {
                (113, String::new(), "Could not find service".into())
            }
        });
        let AgentFact::Asked(state) = agent(&machine(&[bin.path()]), &gone) else {
            panic!("not asked")
        };
        assert!(matches!(state.loaded, Ok(Loaded { loaded: false, .. })));
    }
}
