//! `photos-backup doctor`: the one command to run when unsure whether the
//! setup works. It checks, in the order a run needs them, the config, each
//! library, the tools, the secrets, the server, the borg repository, the
//! staging and state folders, each Takeout inbox and the launch agent, and
//! prints one line per check: `ok`, `warning` or `FAILED`, what it found,
//! and for anything not ok the fix. Nothing FAILED: exit 0 (warnings
//! allowed); else exit 1.
//!
//! Looking and judging are apart: `facts` gathers plain data through thin
//! I/O functions (the `CommandRunner`, paths), `judge` turns each fact into
//! a [`Check`] with pure functions, and this file runs them in order and
//! prints each line as soon as it is known (a secret command or a slow
//! server should not leave the screen blank). With `--json` the same checks
//! are printed once, at the end, as one typed JSON document ([`Json`]) for
//! scripts; the exit code is the same.

pub(crate) mod as_agent;
mod facts;
pub mod judge;
mod mac;
mod privacy;
mod takeout;

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::Config;
use crate::host::Host;
use crate::process::CommandRunner;
use crate::secrets::SecretStore;
use crate::text::one_line;

use crate::report::Status;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    status: Status,
    /// What was checked: `config`, `library anna`, `borg`, `secret borg.passphrase`...
    subject: String,
    /// What was found.
    found: String,
    /// For anything not ok: a concrete command or setting.
    fix: Option<String>,
}

impl Check {
    #[must_use]
    fn ok(subject: impl Into<String>, found: impl Into<String>) -> Self {
        Self {
            status: Status::Ok,
            subject: subject.into(),
            found: found.into(),
            fix: None,
        }
    }

    #[must_use]
    fn warning(
        subject: impl Into<String>,
        found: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            status: Status::Warning,
            subject: subject.into(),
            found: found.into(),
            fix: Some(fix.into()),
        }
    }

    #[must_use]
    fn failed(
        subject: impl Into<String>,
        found: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            status: Status::Failed,
            subject: subject.into(),
            found: found.into(),
            fix: Some(fix.into()),
        }
    }
}

/// How a check came out, as `doctor --json` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Level {
    Ok,
    Warning,
    Failed,
}

impl From<Status> for Level {
    fn from(status: Status) -> Self {
        match status {
            Status::Ok => Level::Ok,
            Status::Warning => Level::Warning,
            Status::Failed => Level::Failed,
        }
    }
}

/// One check in `doctor --json`: what the text line says, field by field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
struct JsonCheck<'a> {
    subject: &'a str,
    level: Level,
    found: &'a str,
    /// For anything not ok: a concrete command or setting (`null` when ok).
    fix: Option<&'a str>,
}

/// The whole of `doctor --json`: every check in the text's order, the
/// counts of the summary line and whether nothing FAILED (the exit code).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
struct Json<'a> {
    version: u32,
    passed: bool,
    ok: usize,
    warnings: usize,
    failed: usize,
    checks: Vec<JsonCheck<'a>>,
}

/// The version of the `doctor --json` document.
const JSON_VERSION: u32 = 1;

/// `checks` as the `doctor --json` document.
#[must_use]
fn json(checks: &[Check]) -> Json<'_> {
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    Json {
        version: JSON_VERSION,
        passed: passed(checks),
        ok: count(Status::Ok),
        warnings: count(Status::Warning),
        failed: count(Status::Failed),
        checks: checks
            .iter()
            .map(|c| JsonCheck {
                subject: &c.subject,
                level: c.status.into(),
                found: &c.found,
                fix: c.fix.as_deref(),
            })
            .collect(),
    }
}

/// How the report is printed (`--json` or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// A line per check as soon as it is known, then the summary line.
    Text,
    /// One JSON document once every check is done.
    Json,
}

/// `STATUS  SUBJECT: FOUND -> fix: FIX`, one line.
#[must_use]
fn render(check: &Check) -> String {
    let mut line = format!(
        "{:<8}{}: {}",
        check.status.word(),
        check.subject,
        one_line(&check.found)
    );
    if let Some(fix) = &check.fix {
        line.push_str(" -> fix: ");
        line.push_str(&one_line(fix));
    }
    line
}

/// The closing line: how many of each.
#[must_use]
fn summary(checks: &[Check]) -> String {
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let failed = count(Status::Failed);
    format!(
        "doctor: {} ok, {} warning(s), {failed} FAILED{}",
        count(Status::Ok),
        count(Status::Warning),
        if failed == 0 {
            ": the setup works"
        } else {
            ": fix what FAILED, then run `photos-backup doctor` again"
        }
    )
}

/// Whether nothing FAILED (the exit code).
#[must_use]
fn passed(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.status != Status::Failed)
}

/// What the doctor needs to know: the [`Host`] it runs on, where the
/// launch agent would look for tools, and its own options.
#[derive(Debug, Clone)]
pub(crate) struct Machine {
    host: Host,
    /// Where `run` looks for tools when launchd starts it (the agent's `PATH`).
    agent_tool_dirs: Vec<PathBuf>,
    /// The launch agent's label (`--label`).
    label: String,
    /// Send a test notification (`--test-notification`).
    pub(crate) test_notification: bool,
}

impl Machine {
    /// The doctor on `host`, for the agent labelled `label`.
    #[must_use]
    pub(crate) fn on(host: &Host, label: &str) -> Self {
        Self {
            host: host.clone(),
            agent_tool_dirs: crate::tools::search_dirs(Some(OsStr::new(crate::launchd::PATH_ENV))),
            label: label.to_owned(),
            test_notification: false,
        }
    }

    /// This binary (the one that needs Full Disk Access), or its name when
    /// the system cannot tell where it is.
    #[must_use]
    fn binary(&self) -> &Path {
        self.host
            .binary
            .as_deref()
            .unwrap_or(Path::new("photos-backup"))
    }
}

/// Prints each check as it comes (text) and keeps them for the summary or
/// the JSON document.
struct Report<'a> {
    out: &'a mut dyn Write,
    format: Format,
    checks: Vec<Check>,
}

impl Report<'_> {
    fn add(&mut self, check: Check) -> Result<()> {
        if self.format == Format::Text {
            writeln!(self.out, "{}", render(&check))?;
            self.out.flush()?;
        }
        self.checks.push(check);
        Ok(())
    }

    /// The summary line, or the whole JSON document; `true` when nothing FAILED.
    fn finish(self) -> Result<bool> {
        match self.format {
            Format::Text => writeln!(self.out, "{}", summary(&self.checks))?,
            Format::Json => {
                serde_json::to_writer_pretty(&mut *self.out, &json(&self.checks))?;
                writeln!(self.out)?;
            }
        }
        self.out.flush()?;
        Ok(passed(&self.checks))
    }
}

/// Runs every check on a config that loaded; `true` when nothing FAILED.
pub(crate) fn run(
    config: &Config,
    store: &dyn SecretStore,
    runner: &dyn CommandRunner,
    machine: &Machine,
    (out, format): (&mut dyn Write, Format),
) -> Result<bool> {
    // Fixes name it, and the launch agent's plist holds it, absolute.
    let file = std::path::absolute(&config.file).unwrap_or_else(|_| config.file.clone());
    let file = file.as_path();
    let mut report = Report {
        out,
        format,
        checks: Vec::new(),
    };
    report.add(judge::config(config, file))?;

    for (index, library) in config.libraries.iter().enumerate() {
        let fact = facts::library(index, library);
        report.add(judge::library(&fact, machine, file))?;
    }

    let tools = facts::tools(config, machine, runner);
    for tool in &tools {
        report.add(judge::tool(tool, machine, file))?;
    }

    let secrets = facts::secrets(config, store);
    for secret in &secrets.facts {
        report.add(judge::secret(secret, machine, file))?;
    }

    // The server off network, when the repository is on it: borg is not
    // asked (ssh would wait for its TCP timeout to say as much).
    let mut off_network = None;
    if let Some(remote) = &config.remote {
        let reach =
            crate::remote::network::gate(remote, machine.host.os, &machine.host.tool_dirs, runner);
        report.add(judge::server(remote, &reach, file))?;
        if let crate::remote::network::Reachability::Unreachable(why) = reach {
            off_network = Some((remote.host.clone(), why));
        }
    }

    if let Some(borg) = &config.borg {
        let program = tools
            .iter()
            .find(|t| t.name == "borg")
            .and_then(|t| t.outcome.as_ref().ok())
            .map(|found| found.path.as_path());
        let on_server = judge::ssh_host(&borg.repository);
        let fact = match off_network {
            Some((host, why)) if on_server.as_deref() == Some(host.as_str()) => {
                facts::RepositoryFact::OffNetwork(why.to_string())
            }
            _ => facts::repository(borg, program, secrets.value("borg.passphrase"), runner),
        };
        report.add(judge::repository(&fact, borg, file))?;
    }

    let mut staging_free = Err("not looked at".to_owned());
    for (key, dir) in [
        ("staging.dir", &config.staging_dir),
        ("state.dir", &config.state_dir),
    ] {
        let fact = facts::folder(key, dir, machine, runner);
        report.add(judge::folder(&fact, file))?;
        if key == "staging.dir" {
            staging_free = fact.free;
        }
    }
    if !config.takeouts.is_empty() {
        // Which sets are read: the ledger, read-only (none before a run).
        let ledger =
            crate::ledger::Ledger::open_existing_read_only(&config.state_dir.join("ledger.sqlite"))
                .ok()
                .flatten();
        for t in &config.takeouts {
            let fact = takeout::fact(config, t, ledger.as_ref(), staging_free.clone());
            report.add(takeout::judge(&fact, file))?;
        }
    }
    report.add(privacy::check(
        &[&config.state_dir, &config.log_dir, &config.staging_dir],
        config.staging_group_readable,
    ))?;

    for check in mac::checks(config, machine, runner) {
        report.add(check)?;
    }

    let agent = facts::agent(machine, runner);
    report.add(judge::agent(&agent, machine, file))?;

    report.finish()
}

/// The report of a config that does not load: that line, and nothing else
/// (every other check reads the config). Always `false`.
pub(crate) fn bad_config(
    file: &Path,
    error: &crate::config::ConfigError,
    (out, format): (&mut dyn Write, Format),
) -> Result<bool> {
    let mut report = Report {
        out,
        format,
        checks: Vec::new(),
    };
    report.add(judge::config_error(file, error))?;
    report.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_has_the_status_the_finding_and_the_fix() {
        assert_eq!(
            render(&Check::ok("config", "/c.conf loads")),
            "ok      config: /c.conf loads"
        );
        assert_eq!(
            render(&Check::failed(
                "borg",
                "not found\n(looked in /usr/bin)",
                "apt-get  install borgbackup"
            )),
            "FAILED  borg: not found (looked in /usr/bin) -> fix: apt-get install borgbackup"
        );
        assert_eq!(
            render(&Check::warning("server", "off", "later")),
            "warning server: off -> fix: later"
        );
    }

    #[test]
    fn only_a_failure_fails() {
        let ok = Check::ok("a", "b");
        let warning = Check::warning("a", "b", "c");
        let failed = Check::failed("a", "b", "c");
        assert!(passed(&[ok.clone(), warning.clone()]));
        assert!(!passed(&[ok.clone(), failed.clone()]));
        assert_eq!(
            summary(&[ok, warning.clone(), warning]),
            "doctor: 1 ok, 2 warning(s), 0 FAILED: the setup works"
        );
        assert!(summary(&[failed]).ends_with("run `photos-backup doctor` again"));
    }

    #[test]
    fn the_json_has_each_check_typed_and_the_counts() {
        let checks = [
            Check::ok("config", "/c.conf loads"),
            Check::warning("server", "off\nnetwork", "later"),
            Check::failed("tool borg", "not found", "install it"),
        ];
        let value = serde_json::to_value(json(&checks)).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "version": 1,
                "passed": false,
                "ok": 1,
                "warnings": 1,
                "failed": 1,
                "checks": [
                    {"subject": "config", "level": "ok", "found": "/c.conf loads", "fix": null},
                    {"subject": "server", "level": "warning", "found": "off\nnetwork", "fix": "later"},
                    {"subject": "tool borg", "level": "failed", "found": "not found", "fix": "install it"},
                ]
            })
        );
        assert!(json(&checks[..2]).passed);
    }

    #[test]
    fn a_config_that_does_not_load_is_the_only_line() {
        let file = Path::new("/etc/pb.conf");
        let error = crate::config::ConfigError::Key {
            path: file.to_owned(),
            key: "borg.verify".into(),
            message: "\"sha\" must be \"size\" or \"content\"".into(),
        };
        let mut out = Vec::new();
        assert!(!bad_config(file, &error, (&mut out, Format::Text)).unwrap());
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].starts_with("FAILED  config: config file /etc/pb.conf: key `borg.verify`"),
            "{text}"
        );
        assert!(
            lines[0].contains("-> fix: correct `borg.verify` in /etc/pb.conf"),
            "{text}"
        );
    }
}
