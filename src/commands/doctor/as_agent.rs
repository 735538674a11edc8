//! `doctor --as-agent`: the checks as launchd's agent meets them, not as
//! Terminal does (see `launchd::probe`). Loads the one-off probe agent,
//! waits a bounded time for its report, unloads it and removes its plist
//! whatever happened, and prints the report. `install` ends with it. On
//! Linux the same path runs against a fake `launchctl` in the tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::host::Host;
use crate::launchd::launchctl::Launchctl;
use crate::launchd::probe::{self, Probe};
use crate::launchd::{log_dir, plist_path};
use crate::process::CommandRunner;

/// How long the probe's doctor may take (borg and the server included).
const PATIENCE: Duration = Duration::from_secs(300);

/// What the probe, and `install`, need from the machine: the parts of the
/// [`Host`] launchd cares about, `launchctl`, and how long to wait.
#[derive(Debug, Clone)]
pub(crate) struct AgentEnv {
    pub(crate) home: PathBuf,
    /// The `photos-backup` binary the agent runs (absolute).
    pub(crate) binary: PathBuf,
    /// `launchctl`, found on `PATH` when not a path.
    pub(crate) launchctl: PathBuf,
    /// How long the check as the agent may take.
    pub(crate) patience: Duration,
}

impl AgentEnv {
    /// On `host`: its home and this binary (an error when the system cannot
    /// tell where it is: an agent needs the path), `launchctl` on `PATH`.
    pub(crate) fn on(host: &Host) -> Result<Self> {
        Ok(Self {
            home: host.home.clone(),
            binary: host
                .binary
                .clone()
                .context("cannot tell where this binary is")?,
            launchctl: PathBuf::from("launchctl"),
            patience: PATIENCE,
        })
    }
}

/// Runs the doctor as a one-off agent with `config_file`, for the agent
/// `label`; prints its report; `true` when nothing FAILED.
pub(crate) fn run(
    config_file: &Path,
    label: &str,
    env: &AgentEnv,
    runner: &dyn CommandRunner,
    out: &mut dyn Write,
) -> Result<bool> {
    let config_file = std::path::absolute(config_file)
        .with_context(|| format!("cannot make {} absolute", config_file.display()))?;
    let logs = log_dir(&env.home);
    std::fs::create_dir_all(&logs)
        .with_context(|| format!("cannot create log folder {}", logs.display()))?;
    let report = probe::report_path(&logs);
    remove_if_there(&report)?;
    let spec = Probe {
        agent_label: label.to_owned(),
        program: utf8(&env.binary)?,
        config: utf8(&config_file)?,
        report: utf8(&report)?,
        stdout: utf8(&logs.join("doctor-as-agent.out.log"))?,
        stderr: utf8(&logs.join("doctor-as-agent.err.log"))?,
        path_env: crate::launchd::PATH_ENV.into(),
    };
    let probe_label = probe::label(label);
    let plist = plist_path(&env.home, &probe_label);
    let xml = probe::to_xml(&spec).context("cannot render the doctor's plist")?;
    if let Some(dir) = plist.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::export::copy::write_atomic(&plist, &xml, None)?;

    let launchctl = Launchctl::for_current_user(runner, env.launchctl.clone())?;
    let waited = (|| -> Result<Option<String>> {
        unload(&launchctl, &probe_label)?;
        launchctl.bootstrap(&plist)?;
        Ok(wait_for(&report, env.patience))
    })();
    // Whatever happened: the probe goes away.
    let unloaded = unload(&launchctl, &probe_label);
    let removed = remove_if_there(&plist);
    let text = waited?;
    unloaded?;
    removed?;

    writeln!(out, "as the agent (launchd, {probe_label}):")?;
    let Some(text) = text else {
        writeln!(
            out,
            "FAILED  agent: the doctor started by launchd wrote no report within {} s -> fix: \
             look at {} and {}",
            env.patience.as_secs(),
            spec.stderr,
            spec.stdout
        )?;
        return Ok(false);
    };
    if let Some((passed, body)) = probe::parse_report(&text) {
        write!(out, "{body}")?;
        return Ok(passed);
    }
    writeln!(
        out,
        "FAILED  agent: {} is not a doctor's report -> fix: run `photos-backup doctor \
         --as-agent` again",
        report.display()
    )?;
    Ok(false)
}

/// The doctor's side, run by the probe: writes its report where asked.
pub(crate) fn write_report(path: &Path, passed: bool, body: &str) -> Result<()> {
    crate::export::copy::write_atomic(path, probe::report_text(passed, body).as_bytes(), None)?;
    Ok(())
}

fn unload(launchctl: &Launchctl, label: &str) -> Result<()> {
    if launchctl.is_loaded(label)? {
        launchctl.bootout(label)?;
        launchctl.wait_unloaded(label, Duration::from_secs(10))?;
    }
    Ok(())
}

/// The report's text once it is there (written atomically), or `None`
/// after `patience`.
fn wait_for(report: &Path, patience: Duration) -> Option<String> {
    let deadline = Instant::now() + patience;
    loop {
        if let Ok(text) = std::fs::read_to_string(report) {
            return Some(text);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn remove_if_there(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}

fn utf8(path: &Path) -> Result<String> {
    path.to_str()
        .map(str::to_owned)
        .with_context(|| format!("{} is not UTF-8, which a plist needs", path.display()))
}
