//! `photos-backup install` and `uninstall`: the launch agent that runs the
//! backup unattended. `install` writes `~/Library/LaunchAgents/LABEL.plist`
//! (atomically), stops an agent of that label that is already loaded, loads
//! the new one with `launchctl bootstrap` and says what is left to do by
//! hand. `uninstall` stops it and removes the plist; both can be repeated.
//!
//! The home folder, the binary and `launchctl` come in `AgentEnv` (the one
//! `doctor --as-agent` takes, which `install` ends with), so
//! tests can point them at a temp dir and a fake `launchctl` (on Linux too).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cli::{InstallArgs, UninstallArgs};
use crate::commands::doctor::as_agent::AgentEnv;
use crate::launchd::agent::{self, Agent};
use crate::launchd::launchctl::Launchctl;
use crate::launchd::{self, log_dir, plist_path};
use crate::process::CommandRunner;

/// How long to wait for launchd to let go of the old agent.
const UNLOAD_PATIENCE: Duration = Duration::from_secs(10);

/// Installs and loads the agent running `run` with `config_file`.
pub(crate) fn install(
    args: &InstallArgs,
    config_file: &Path,
    env: &AgentEnv,
    runner: &dyn CommandRunner,
    out: &mut dyn Write,
) -> Result<()> {
    let config_file = std::path::absolute(config_file)
        .with_context(|| format!("cannot make {} absolute", config_file.display()))?;
    let logs = log_dir(&env.home);
    let spec = Agent {
        label: args.label.clone(),
        program: utf8(&env.binary)?,
        config: utf8(&config_file)?,
        interval_seconds: args.interval,
        stdout: utf8(&logs.join(launchd::STDOUT_LOG))?,
        stderr: utf8(&logs.join(launchd::STDERR_LOG))?,
        path_env: launchd::PATH_ENV.into(),
    };
    if let Some(unstable) = crate::launchd::binary_path::unstable(&env.binary) {
        writeln!(out, "warning: {}", unstable.advice(&env.binary))?;
    }
    let xml = agent::to_xml(&spec).context("cannot render the LaunchAgent plist")?;
    std::fs::create_dir_all(&logs)
        .with_context(|| format!("cannot create log folder {}", logs.display()))?;
    let plist = plist_path(&env.home, &args.label);
    write_plist(&plist, &xml)?;
    writeln!(out, "wrote {}", plist.display())?;

    let launchctl = Launchctl::for_current_user(runner, env.launchctl.clone())?;
    // Only when loaded: `bootout` of an agent that is not can exit 5 (jdx/mise#10965).
    if launchctl.is_loaded(&args.label)? && launchctl.bootout(&args.label)? {
        writeln!(out, "stopped the agent {} that was loaded", args.label)?;
        launchctl.wait_unloaded(&args.label, UNLOAD_PATIENCE)?;
    }
    launchctl.bootstrap(&plist).map_err(|e| {
        anyhow::anyhow!(
            "cannot load {}: {e} (launchd needs you logged in to the desktop as this user; \
             `plutil -lint {}` checks the file)",
            args.label,
            plist.display()
        )
    })?;
    writeln!(
        out,
        "loaded {}: `{} --config {} run` now and every {} s\nlogs: {}, {}",
        args.label, spec.program, spec.config, spec.interval_seconds, spec.stdout, spec.stderr
    )?;
    write!(
        out,
        "\nNext steps:\n\
         1. Full Disk Access, so the agent can read your Photos libraries: System Settings >\n   \
            Privacy & Security > Full Disk Access > \"+\", Cmd-Shift-G, then\n   \
            {binary}\n   \
            macOS forgets it after every rebuild or upgrade of the binary while the switch\n   \
            still shows on: then remove the entry (\"-\") and add it again. A self-signed\n   \
            identity keeps it across upgrades: scripts/macos-sign.sh (see the README).\n\
         2. Notifications: in System Settings > Notifications, allow \"Script Editor\" (both\n   \
            methods show as it); `photos-backup doctor --test-notification` sends one.\n\
         3. Check: launchctl print gui/{uid}/{label}   (\"last exit code\"), and the logs above.\n\
         Undo with: photos-backup uninstall{label_arg}\n",
        binary = spec.program,
        uid = launchctl.uid,
        label = args.label,
        label_arg = label_arg(&args.label),
    )?;
    // What `doctor` in Terminal cannot see: the checks as launchd runs them.
    writeln!(
        out,
        "\nChecking the setup as the agent (up to {} s; macOS may ask you to allow \
         photos-backup now: answer it)...",
        env.patience.as_secs()
    )?;
    crate::commands::doctor::as_agent::run(&config_file, &args.label, env, runner, out)?;
    Ok(())
}

/// Stops the agent and removes its plist; fine when either is already gone.
pub(crate) fn uninstall(
    args: &UninstallArgs,
    env: &AgentEnv,
    runner: &dyn CommandRunner,
    out: &mut dyn Write,
) -> Result<()> {
    let launchctl = Launchctl::for_current_user(runner, env.launchctl.clone())?;
    if launchctl.is_loaded(&args.label)? && launchctl.bootout(&args.label)? {
        writeln!(out, "stopped {}", args.label)?;
    } else {
        writeln!(out, "{} was not loaded", args.label)?;
    }
    let plist = plist_path(&env.home, &args.label);
    match std::fs::remove_file(&plist) {
        Ok(()) => writeln!(out, "removed {}", plist.display())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            writeln!(out, "no {} to remove", plist.display())?;
        }
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", plist.display())),
    }
    Ok(())
}

/// Atomically, readable by all and writable by the owner only (launchd
/// refuses a plist that others may write).
fn write_plist(path: &Path, xml: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    crate::export::copy::write_atomic(path, xml, None)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
        .with_context(|| format!("cannot set the permissions of {}", path.display()))
}

fn utf8(path: &Path) -> Result<String> {
    path.to_str()
        .map(str::to_owned)
        .with_context(|| format!("{} is not UTF-8, which a plist needs", path.display()))
}

fn label_arg(label: &str) -> String {
    if label == launchd::DEFAULT_LABEL {
        String::new()
    } else {
        format!(" --label {label}")
    }
}
