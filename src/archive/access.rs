//! What a command needs to talk to the borg repository of the config: the
//! `[borg]` section (its absence is a configuration error naming the file),
//! the borg program (configured, else found on `PATH` and in the Homebrew
//! folders) and the passphrase, read from its secret reference only when a
//! command is about to use it. Commands outside the rollover (`init-repo`,
//! `restore`) start here; the passphrase still reaches borg only through the
//! child's environment.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};

use super::borg::{self, Exit, LogLine, Repository};
use crate::config::{Borg, Config, ConfigError};
use crate::process::{stderr_excerpt, CommandLine, CommandRunner};
use crate::secrets::{Secret, SecretStore};

/// The `[borg]` section, or a configuration error (exit 2) naming the
/// config file, the section and what needs it.
pub(crate) fn section<'a>(config: &'a Config, needed_by: &str) -> Result<&'a Borg, ConfigError> {
    config
        .borg
        .as_ref()
        .ok_or_else(|| ConfigError::MissingSection {
            path: config.file.clone(),
            section: "borg",
            needed_by: needed_by.to_owned(),
        })
}

/// What reaching the repository takes from the machine: seams, so tests
/// can stand in for programs and secrets.
pub(crate) struct Deps<'a> {
    pub(crate) runner: &'a dyn CommandRunner,
    pub(crate) secrets: &'a dyn SecretStore,
    /// Where to look for borg when `[borg].borg` is not set.
    pub(crate) tool_dirs: &'a [PathBuf],
}

/// The repository, the program and the passphrase, ready to run borg.
pub(crate) struct Access {
    pub(crate) program: PathBuf,
    pub(crate) repo: Repository,
    pub(crate) passphrase: Secret,
}

impl Access {
    /// Finds borg and reads the passphrase of `borg`.
    pub(crate) fn open(borg: &Borg, deps: &Deps) -> Result<Self> {
        let program = crate::tools::find("borg", borg.program.as_deref(), deps.tool_dirs)
            .context("finding borg ([borg].borg in the config, else PATH)")?;
        let passphrase = deps
            .secrets
            .get(&borg.passphrase)
            .context("reading the borg passphrase ([borg].passphrase)")?;
        Ok(Self {
            program,
            repo: Repository::of(borg),
            passphrase,
        })
    }

    /// Runs a borg command (see [`run_borg`]).
    pub(crate) fn run(
        &self,
        runner: &dyn CommandRunner,
        cmd: &CommandLine,
        timeout: Duration,
        what: &str,
    ) -> Result<(Output, Option<String>)> {
        run_borg(runner, &self.repo.location, cmd, timeout, what)
    }
}

/// Runs a borg command; an error exit (2 and up, a signal) is an error
/// naming `what` and the repository, with borg's first lines. Returns the
/// output and, when borg warned (exit 1), what it said.
pub(super) fn run_borg(
    runner: &dyn CommandRunner,
    location: &str,
    cmd: &CommandLine,
    timeout: Duration,
    what: &str,
) -> Result<(Output, Option<String>)> {
    let out = runner
        .run(cmd, timeout)
        .with_context(|| format!("{what} in borg repository {location}"))?;
    judge(out, location, what)
}

/// The most of borg's messages kept for an error or a warning.
const MAX_MESSAGES: usize = 64 * 1024;

/// [`run_borg`] for a command with `--log-json` (`borg create`): each
/// progress record goes to `on_progress` as it comes (bytes read, files
/// done), and the output's standard error is borg's messages as text, as
/// without `--log-json`.
pub(super) fn run_borg_with_progress(
    runner: &dyn CommandRunner,
    location: &str,
    (cmd, timeout, what): (&CommandLine, Duration, &str),
    on_progress: &mut dyn FnMut(u64, u64),
) -> Result<(Output, Option<String>)> {
    let mut said = Vec::new();
    let mut out = runner
        .run_with_lines(cmd, timeout, &mut |line| match borg::log_line(line) {
            LogLine::Progress { bytes, files } => on_progress(bytes, files),
            LogLine::Message(text) if said.len() < MAX_MESSAGES => {
                said.extend_from_slice(text.as_bytes());
                said.push(b'\n');
            }
            LogLine::Message(_) | LogLine::Other => {}
        })
        .with_context(|| format!("{what} in borg repository {location}"))?;
    out.stderr = said;
    judge(out, location, what)
}

/// What borg's exit status means for `what`.
fn judge(out: Output, location: &str, what: &str) -> Result<(Output, Option<String>)> {
    match Exit::of(out.status.code()) {
        Exit::Ok => Ok((out, None)),
        Exit::Warning => {
            let said = stderr_excerpt(&out);
            Ok((out, Some(said)))
        }
        Exit::Error => bail!(
            "{what} in borg repository {location}: borg failed ({}): {}",
            out.status,
            stderr_excerpt(&out)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{Code, Failure};

    #[test]
    fn with_progress_borg_messages_read_as_text_and_progress_goes_to_the_caller() {
        let stderr = [
            r#"{"original_size": 1000, "nfiles": 1, "type": "archive_progress", "finished": false}"#,
            r#"{"type": "log_message", "message": "a.jpg: stat: [Errno 2] No such file", "levelname": "WARNING"}"#,
            r#"{"message": "Saving files cache", "type": "progress_message", "finished": false}"#,
            r#"{"original_size": 2000, "nfiles": 2, "type": "archive_progress", "finished": false}"#,
        ]
        .join("\n");
        let cmd = CommandLine::new("borg", ["create"]);
        let run = |code: i32| {
            let runner = crate::fake_runner::FakeRunner::exiting(code, &stderr);
            let mut seen = Vec::new();
            let result = run_borg_with_progress(
                &runner,
                "/repo",
                (&cmd, Duration::from_secs(5), "creating archive a"),
                &mut |bytes, files| seen.push((bytes, files)),
            );
            (result, seen)
        };
        let (result, seen) = run(1);
        assert_eq!(seen, [(1000, 1), (2000, 2)]);
        let (out, warning) = result.unwrap();
        assert_eq!(
            warning.as_deref(),
            Some("a.jpg: stat: [Errno 2] No such file")
        );
        assert_eq!(out.stderr, b"a.jpg: stat: [Errno 2] No such file\n");
        let (result, _) = run(2);
        let err = format!("{:#}", result.unwrap_err());
        assert!(
            err.ends_with("borg failed (exit status: 2): a.jpg: stat: [Errno 2] No such file"),
            "{err}"
        );
    }

    #[test]
    fn without_borg_the_error_names_the_file_the_section_and_who_needs_it() {
        let env = crate::host::Host {
            home: PathBuf::from("/home/ann"),
            default_state_dir: PathBuf::from("/home/ann/state"),
            ..crate::host::Host::current()
        };
        let text = "[staging]\ndir = \"s\"\n[threshold]\ndefault = \"2024-01-01\"\n";
        let path = std::path::Path::new("/etc/pb/photos_backup.conf");
        let config = crate::config::parse(text, path, &env).unwrap();
        let err = section(&config, "init-repo").unwrap_err();
        assert!(
            matches!(
                &err,
                ConfigError::MissingSection {
                    section: "borg",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "config file /etc/pb/photos_backup.conf: there is no [borg] section, and \
             init-repo needs one (see photos_backup.conf.example)"
        );
        assert_eq!(Failure::from(err).code(), Code::Usage);
    }
}
