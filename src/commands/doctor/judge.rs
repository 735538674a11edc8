//! The doctor's verdicts: pure functions from a fact (`facts`) to a
//! [`Check`]: `ok`, `warning` or `FAILED`, what was found, and for anything
//! not ok the fix, as a command to type or a setting to change. Also the
//! readers of what tools print (`--version`, `df -Pk`, `launchctl print`,
//! borg's complaints), pure as well. Nothing here touches the machine, so
//! every line the doctor can print is tested, and a snapshot keeps the format.

use std::path::Path;

use super::facts::{
    AgentFact, FolderFact, LibraryFact, LibraryFailure, Loaded, MissingTool, Presence,
    RepositoryFact, SecretFact, ToolFact,
};
use super::{Check, Machine};
use crate::config::{Borg, Config, ConfigError, Remote};
use crate::host::Os;
use crate::remote::network::{Reachability, Unreachable};
use crate::secrets::Reference;
use crate::text::{plural, sh_quote, sh_quote_path};

/// Below this much free space a folder gets a warning: a month of photos
/// waits in staging for its archive.
const LOW_SPACE_BYTES: u64 = 5_000_000_000;

// ---------------------------------------------------------------------------
// Config

/// The config loaded: what it holds.
#[must_use]
pub(super) fn config(config: &Config, file: &Path) -> Check {
    let mut parts = Vec::new();
    let names: Vec<&str> = config.libraries.iter().map(|l| l.name.as_str()).collect();
    parts.push(format!(
        "{} librar{} ({})",
        names.len(),
        if names.len() == 1 { "y" } else { "ies" },
        names.join(", ")
    ));
    if let Some(r) = &config.remote {
        parts.push(format!("[remote] {}@{} port {}", r.user, r.host, r.port));
    }
    if let Some(b) = &config.borg {
        parts.push(format!("[borg] {}", b.repository));
    }
    let file = file.display();
    if names.is_empty() {
        return Check::warning(
            "config",
            format!("{file} loads, but has no [[library]]: nothing is backed up"),
            format!(
                "add a [[library]] with `name` and `path` to {file} \
                 (see photos_backup.conf.example)"
            ),
        );
    }
    Check::ok("config", format!("{file} loads: {}", parts.join(", ")))
}

/// The config did not load: the error names the file and the key.
#[must_use]
pub(super) fn config_error(file: &Path, error: &ConfigError) -> Check {
    let shown = file.display();
    let fix = match error {
        ConfigError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            format!(
                "create {shown} from photos_backup.conf.example (every key is explained \
                 there), or give --config PATH"
            )
        }
        ConfigError::Read { .. } => format!("make {shown} readable by this user"),
        ConfigError::Key { key, .. } => {
            format!("correct `{key}` in {shown} (photos_backup.conf.example explains every key)")
        }
        ConfigError::Syntax { .. } => {
            format!("correct the TOML in {shown} (photos_backup.conf.example shows every key)")
        }
        ConfigError::MissingSection { section, .. } => {
            format!("add a [{section}] section to {shown} (photos_backup.conf.example shows it)")
        }
    };
    Check::failed("config", error.to_string(), fix)
}

// ---------------------------------------------------------------------------
// Libraries

#[must_use]
pub(super) fn library(fact: &LibraryFact, machine: &Machine, file: &Path) -> Check {
    let subject = format!("library {}", fact.name);
    let path = fact.path.display();
    let opened = match &fact.outcome {
        Ok(opened) => opened,
        Err(problem) => return library_problem(fact, problem, machine, file),
    };
    let mut found = format!("{path} opens read-only: ");
    match &opened.assets {
        Ok(n) => found.push_str(&format!(
            "{n} asset{} outside the trash (Photos model {})",
            plural(*n),
            opened.model_version
        )),
        Err(why) => found.push_str(&format!(
            "Photos model {}, assets not counted ({why})",
            opened.model_version
        )),
    }
    match &opened.warning {
        Some(warning) => Check::warning(
            subject,
            format!("{found}; {warning}"),
            format!(
                "check that `photos-backup assets --library {}` lists your photos, \
                 and look for a newer photos-backup",
                sh_quote(&path.to_string())
            ),
        ),
        None => Check::ok(subject, found),
    }
}

fn library_problem(
    fact: &LibraryFact,
    problem: &super::facts::LibraryProblem,
    machine: &Machine,
    file: &Path,
) -> Check {
    let subject = format!("library {}", fact.name);
    let key = format!("library[{}].path", fact.index);
    let message = problem.message.clone();
    match problem.kind {
        LibraryFailure::Missing | LibraryFailure::NotALibrary => Check::failed(
            subject,
            message,
            format!(
                "set `{key}` in {} to the .photoslibrary folder (Photos > Settings > \
                 General shows where the library is)",
                file.display()
            ),
        ),
        LibraryFailure::Unsupported => Check::failed(
            subject,
            message,
            "open the library once in Photos on macOS 10.15 or later, which upgrades it",
        ),
        LibraryFailure::PermissionDenied if machine.host.os == Os::MacOs => Check::failed(
            subject,
            format!("{message}: Full Disk Access is missing"),
            format!(
                "System Settings > Privacy & Security > Full Disk Access: \"+\", Cmd-Shift-G, \
                 add {} (for the launch agent) and turn on your terminal app (for commands \
                 typed in it), then run `photos-backup doctor` again",
                machine.binary().display()
            ),
        ),
        LibraryFailure::PermissionDenied => Check::failed(
            subject,
            message,
            format!(
                "make {} readable by this user (ls -ld to see its owner)",
                sh_quote(&fact.path.display().to_string())
            ),
        ),
        LibraryFailure::AccessDenied => super::mac::access_denied(subject, &message, &fact.path),
        LibraryFailure::Busy => Check::warning(
            subject,
            message,
            "run `photos-backup doctor` again when Photos is idle",
        ),
        LibraryFailure::Damaged => Check::failed(
            subject,
            message,
            "let Photos repair it: hold Option and Command while opening Photos, then Repair",
        ),
        LibraryFailure::Unreadable => Check::failed(
            subject,
            message,
            format!(
                "check that the disk holding {} is connected and readable",
                fact.path.display()
            ),
        ),
    }
}

// ---------------------------------------------------------------------------
// Tools

#[must_use]
pub(super) fn tool(fact: &ToolFact, machine: &Machine, file: &Path) -> Check {
    let subject = format!("tool {}", fact.name);
    let install = install_command(machine.host.os, fact.name);
    let found = match &fact.outcome {
        Ok(found) => found,
        Err(MissingTool::NotFound { searched }) => {
            let dirs: Vec<String> = searched.iter().map(|d| d.display().to_string()).collect();
            return Check::failed(
                subject,
                format!("not found (looked in {})", dirs.join(":")),
                install,
            );
        }
        Err(MissingTool::ConfiguredMissing { path }) => {
            let key = fact.key.unwrap_or("its setting");
            return Check::failed(
                subject,
                format!(
                    "{} (`{key}` in {}) does not exist",
                    path.display(),
                    file.display()
                ),
                format!(
                    "correct `{key}`, or remove it to use the {} on PATH; to install it: {install}",
                    fact.name
                ),
            );
        }
    };
    let path = found.path.display();
    let version = match &found.version {
        None => "part of macOS".to_owned(),
        Some(Ok(line)) => line.clone(),
        Some(Err(why)) => {
            return Check::failed(
                subject,
                format!("{path} does not work: {why}"),
                format!("reinstall it: {install}"),
            )
        }
    };
    let from = if found.configured {
        format!(", from `{}`", fact.key.unwrap_or("the config"))
    } else {
        String::new()
    };
    if machine.host.os == Os::MacOs && !found.agent_finds_it {
        let fix = match fact.key.and_then(|k| k.split_once('.')) {
            Some((section, key)) => format!(
                "set `{key} = \"{path}\"` in [{section}] of {}",
                file.display()
            ),
            None => format!("link it into /usr/local/bin: ln -s {path} /usr/local/bin/"),
        };
        return Check::warning(
            subject,
            format!(
                "{path} ({version}), but the launch agent looks only in {}",
                crate::launchd::PATH_ENV
            ),
            fix,
        );
    }
    Check::ok(subject, format!("{path}{from} ({version})"))
}

/// How to install a tool on this OS.
#[must_use]
fn install_command(os: Os, tool: &str) -> String {
    match (os, tool) {
        (Os::MacOs, "borg") => "brew install borgbackup".into(),
        (Os::MacOs, "sshfs") => {
            "brew install --cask macfuse && brew install gromgit/fuse/sshfs-mac".into()
        }
        (Os::MacOs, "gocryptfs") => {
            "brew install --cask macfuse && brew install gromgit/fuse/gocryptfs-mac".into()
        }
        (Os::MacOs, "osascript") => {
            "/usr/bin/osascript is part of macOS; check that /usr/bin is intact".into()
        }
        (Os::Linux, "borg") => "sudo apt-get install borgbackup".into(),
        (Os::Linux, other) => format!("sudo apt-get install {other}"),
        (Os::MacOs, other) => format!("brew install {other}"),
    }
}

// ---------------------------------------------------------------------------
// Secrets

#[must_use]
pub(super) fn secret(fact: &SecretFact, machine: &Machine, file: &Path) -> Check {
    let subject = format!("secret {}", fact.key);
    let Some(reference) = &fact.reference else {
        return Check::failed(
            subject,
            "not a secret reference",
            format!(
                "make `{}` in {} keychain:NAME, command:CMD, file:PATH or env:VAR",
                fact.key,
                file.display()
            ),
        );
    };
    let cause = match &fact.outcome {
        Ok(()) => return Check::ok(subject, format!("{reference} resolves")),
        Err(cause) => cause,
    };
    let fix = match reference {
        Reference::Keychain { service, account } if machine.host.os == Os::MacOs => {
            let name = match account {
                Some(account) => format!("{service}/{account}"),
                None => service.clone(),
            };
            format!("store it: photos-backup secret set {}", sh_quote(&name))
        }
        Reference::Keychain { .. } => format!(
            "the Keychain is macOS's: make `{}` in {} a file:, env: or command: reference",
            fact.key,
            file.display()
        ),
        Reference::File(path) => format!(
            "put the secret in {path}, readable by you only: chmod 600 {}",
            sh_quote_path(path)
        ),
        Reference::Env(name) => format!(
            "set {name} where photos-backup runs (a launch agent does not see your \
             shell's variables: keychain: or file: suit it better)"
        ),
        Reference::Command(cmd) => format!("run `{cmd}` yourself to see why it fails"),
    };
    Check::failed(subject, format!("{reference}: {cause}"), fix)
}

// ---------------------------------------------------------------------------
// The server

/// The gate of `run`: off network is a warning (a run is then skipped),
/// not a failure.
#[must_use]
pub(super) fn server(remote: &Remote, reach: &Reachability, file: &Path) -> Check {
    match reach {
        Reachability::Reachable { address, interface } => Check::ok(
            "server",
            format!(
                "{} port {} answers ({address}{})",
                remote.host,
                remote.port,
                interface
                    .as_ref()
                    .map(|i| format!(" through {i}"))
                    .unwrap_or_default()
            ),
        ),
        Reachability::Unreachable(why) => {
            let fix = match why {
                Unreachable::Route { .. } => format!(
                    "connect the VPN, or correct `remote.interface` in {}",
                    file.display()
                ),
                _ => format!(
                    "on the home network or VPN, check `remote.host` and `remote.port` in {} \
                     and that sshd runs there: ssh -p {} {}",
                    file.display(),
                    remote.port,
                    sh_quote(&format!("{}@{}", remote.user, remote.host))
                ),
            };
            Check::warning(
                "server",
                format!("{why}: off the home network? `run` skips (exit 75) until it answers"),
                fix,
            )
        }
        Reachability::Refused(refused) => {
            Check::failed("server", refused.to_string(), refused.fix())
        }
    }
}

// ---------------------------------------------------------------------------
// The borg repository

/// What borg's complaint means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BorgTrouble {
    Missing,
    WrongPassphrase,
    NotARepository,
    Locked,
    Offline,
    SshRefused,
    Other,
}

/// Reads borg's stderr (borg 1.2 to 1.4 wording).
#[must_use]
fn borg_trouble(stderr: &str) -> BorgTrouble {
    let has = |s: &str| stderr.contains(s);
    if has("passphrase") && has("incorrect") {
        BorgTrouble::WrongPassphrase
    } else if has("does not exist") {
        BorgTrouble::Missing
    } else if has("is not a valid repository") {
        BorgTrouble::NotARepository
    } else if has("lock") && (has("Failed to create/acquire") || has("timeout")) {
        BorgTrouble::Locked
    } else if has("Permission denied") || has("Host key verification failed") {
        BorgTrouble::SshRefused
    } else if has("Connection refused")
        || has("timed out")
        || has("No route to host")
        || has("Could not resolve")
        || has("Network is unreachable")
    {
        BorgTrouble::Offline
    } else {
        BorgTrouble::Other
    }
}

#[must_use]
pub(super) fn repository(fact: &RepositoryFact, borg: &Borg, file: &Path) -> Check {
    const SUBJECT: &str = "borg repository";
    let location = &borg.repository;
    let quoted = sh_quote(location);
    let file = file.display();
    let ask_borg = format!("run `borg list {quoted}` yourself to see why");
    match fact {
        RepositoryFact::Listed { archives } => Check::ok(
            SUBJECT,
            format!(
                "{location} opens: {archives} archive{}",
                plural(*archives as u64)
            ),
        ),
        RepositoryFact::NotChecked(why) => Check::failed(
            SUBJECT,
            format!("{location} not checked: {why}"),
            "fix what FAILED above",
        ),
        RepositoryFact::OffNetwork(why) => Check::warning(
            SUBJECT,
            format!("{location} not checked: the server is off network ({why})"),
            "on the home network or VPN, run `photos-backup doctor` again",
        ),
        RepositoryFact::Trouble(why) => {
            Check::failed(SUBJECT, format!("cannot list {location}: {why}"), ask_borg)
        }
        RepositoryFact::Refused { status, stderr } => match borg_trouble(stderr) {
            BorgTrouble::Missing => Check::failed(
                SUBJECT,
                format!("{location} does not exist"),
                format!(
                    "create it: photos-backup init-repo (it uses the passphrase \
                     `borg.passphrase` refers to), or correct `borg.repository` in {file}"
                ),
            ),
            BorgTrouble::WrongPassphrase => Check::failed(
                SUBJECT,
                format!(
                    "{location} refuses the passphrase from {} (borg: {stderr})",
                    borg.passphrase
                ),
                format!(
                    "put the repository's passphrase in {}, or correct `borg.passphrase` \
                     in {file}",
                    borg.passphrase
                ),
            ),
            BorgTrouble::NotARepository => Check::failed(
                SUBJECT,
                format!("{location} is not a borg repository ({stderr})"),
                format!("correct `borg.repository` in {file}"),
            ),
            BorgTrouble::Locked => Check::warning(
                SUBJECT,
                format!("{location} is locked by another borg (a run in progress?)"),
                format!(
                    "run `photos-backup doctor` again in a while; if no borg runs: \
                     borg break-lock {quoted}"
                ),
            ),
            BorgTrouble::Offline => Check::warning(
                SUBJECT,
                format!("cannot reach {location}: {stderr}"),
                "on the home network or VPN, run `photos-backup doctor` again",
            ),
            BorgTrouble::SshRefused => Check::failed(
                SUBJECT,
                format!("{location} refuses the SSH login: {stderr}"),
                format!(
                    "check `borg.identity_file` and `borg.known_hosts` in {file} \
                     (ssh with that key must log in without a question)"
                ),
            ),
            BorgTrouble::Other => Check::failed(
                SUBJECT,
                format!("borg list {location} failed ({status}): {stderr}"),
                ask_borg,
            ),
        },
    }
}

/// The host of an `ssh://[user@]host[:port]/path` repository (an IPv6
/// address without its brackets); `None` for a local one.
#[must_use]
pub(super) fn ssh_host(location: &str) -> Option<String> {
    let authority = location.strip_prefix("ssh://")?.split('/').next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']')?.0,
        None => host_port.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_owned())
}

// ---------------------------------------------------------------------------
// Folders

#[must_use]
pub(super) fn folder(fact: &FolderFact, file: &Path) -> Check {
    let subject = format!("folder {}", fact.key);
    let path = fact.path.display();
    let quoted = sh_quote(&path.to_string());
    let key = fact.key;
    let file = file.display();
    let (found, where_) = match &fact.presence {
        Presence::Unusable(why) => {
            return Check::failed(
                subject,
                format!("{path}: {why}"),
                format!("make `{key}` in {file} a folder"),
            )
        }
        Presence::Exists => (format!("{path}: writable"), None),
        Presence::Missing { existing } => (
            format!(
                "{path} does not exist yet; a run creates it (in {}: writable",
                existing.display()
            ),
            Some(existing),
        ),
    };
    if let Err(why) = &fact.writable {
        let (found, fix) = match where_ {
            None => (
                format!("{path} is not writable: {why}"),
                format!("sudo chown \"$USER\" {quoted}, or correct `{key}` in {file}"),
            ),
            // On a disk that is not connected: /Volumes/NAME is missing.
            Some(existing) if existing == Path::new("/Volumes") => (
                format!("{path} does not exist: its disk is not connected"),
                format!("connect the disk, or correct `{key}` in {file}"),
            ),
            Some(existing) => (
                format!(
                    "{path} does not exist and cannot be created: {} is not writable: {why}",
                    existing.display()
                ),
                format!(
                    "sudo mkdir -p {quoted} && sudo chown \"$USER\" {quoted}, or correct \
                     `{key}` in {file}"
                ),
            ),
        };
        return Check::failed(subject, found, fix);
    }
    let close = if where_.is_some() { ")" } else { "" };
    match fact.free {
        Ok(bytes) if bytes < LOW_SPACE_BYTES => Check::warning(
            subject,
            format!("{found}, only {} free{close}", gigabytes(bytes)),
            format!(
                "free space on its disk, or move `{key}` in {file} to a disk with more room \
                 (staging holds a month of photos until they are archived)"
            ),
        ),
        Ok(bytes) => Check::ok(
            subject,
            format!("{found}, {} free{close}", gigabytes(bytes)),
        ),
        Err(ref why) => Check::ok(
            subject,
            format!("{found}, free space unknown: {why}{close}"),
        ),
    }
}

/// `59.9 GB` (decimal, like Finder).
#[must_use]
fn gigabytes(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

/// Bytes available in `df -Pk` output (POSIX format: one line per file
/// system, after the header; the name may hold spaces, so the numbers are
/// found before the `NN%` capacity column).
#[must_use]
pub(super) fn df_available(output: &str) -> Option<u64> {
    output.lines().skip(1).find_map(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        let capacity = words.iter().position(|w| {
            w.strip_suffix('%')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })?;
        if capacity < 4 {
            return None;
        }
        let available: u64 = words[capacity - 1].parse().ok()?;
        words[capacity - 3..capacity - 1]
            .iter()
            .all(|w| w.parse::<u64>().is_ok())
            .then_some(available)?
            .checked_mul(1024)
    })
}

// ---------------------------------------------------------------------------
// The launch agent

#[must_use]
pub(super) fn agent(fact: &AgentFact, machine: &Machine, file: &Path) -> Check {
    const SUBJECT: &str = "launch agent";
    let AgentFact::Asked(state) = fact else {
        return Check::ok(SUBJECT, "not applicable on this OS (launchd is macOS's)");
    };
    let label = &machine.label;
    let install = install_fix(file, label);
    let loaded = match &state.loaded {
        Err(why) => {
            return Check::warning(
                SUBJECT,
                format!("cannot ask launchd about {label}: {why}"),
                format!("run `launchctl print gui/$(id -u)/{label}` yourself"),
            )
        }
        Ok(loaded) => loaded,
    };
    let plist = state.plist.display();
    if !loaded.loaded {
        return match &state.plist_config {
            Ok(None) => Check::warning(
                SUBJECT,
                format!("{label} is not installed: nothing runs the backup unattended"),
                install,
            ),
            _ => Check::failed(
                SUBJECT,
                format!("{plist} is there, but {label} is not loaded: no backup runs"),
                install,
            ),
        };
    }
    let Loaded { uid, last_exit, .. } = loaded;
    match &state.plist_config {
        Ok(Some(config)) if Path::new(config) != file => {
            return Check::warning(
                SUBJECT,
                format!(
                    "{label} is loaded, but runs with {config}, not {}",
                    file.display()
                ),
                format!("if this is the config to use: {install}"),
            )
        }
        Err(why) => {
            return Check::warning(SUBJECT, format!("{label} is loaded, but {why}"), install)
        }
        _ => {}
    }
    match last_exit {
        Some(code) if ![0, crate::exit::Code::Skipped.value().into()].contains(code) => {
            Check::warning(
                SUBJECT,
                format!(
                    "{label} is loaded in gui/{uid}, but its last run failed (exit code {code})"
                ),
                format!(
                    "see {}, or run `photos-backup --config {} run` here",
                    crate::launchd::log_dir(&machine.host.home)
                        .join(crate::launchd::STDERR_LOG)
                        .display(),
                    sh_quote(&file.display().to_string())
                ),
            )
        }
        Some(code) => Check::ok(
            SUBJECT,
            format!("{label} is loaded in gui/{uid} (last exit code {code})"),
        ),
        None => Check::ok(
            SUBJECT,
            format!("{label} is loaded in gui/{uid} (it has not run yet)"),
        ),
    }
}

fn install_fix(file: &Path, label: &str) -> String {
    let label_arg = if label == crate::launchd::DEFAULT_LABEL {
        String::new()
    } else {
        format!(" --label {label}")
    };
    format!(
        "photos-backup --config {} install{label_arg}",
        sh_quote(&file.display().to_string())
    )
}

/// `last exit code = N` in `launchctl print` output (`= 78: EX_CONFIG` on
/// newer macOS); `None` when it has not exited yet (`(never exited)`) or was
/// killed by a signal. Only the service's own line counts: a nested block
/// (`endpoints = { last exit code = 0 }`) says nothing about the job.
#[must_use]
pub fn last_exit_code(print: &str) -> Option<i32> {
    let mut depth = 0usize;
    for line in print.lines() {
        let line = line.trim();
        if depth <= 1 {
            if let Some(rest) = line.strip_prefix("last exit code") {
                let value = rest.trim_start().strip_prefix('=')?.trim();
                let digits: String = value
                    .chars()
                    .enumerate()
                    .take_while(|&(i, c)| c.is_ascii_digit() || (i == 0 && c == '-'))
                    .map(|(_, c)| c)
                    .collect();
                return digits.parse().ok();
            }
        }
        if line.ends_with('{') {
            depth += 1;
        } else if line.starts_with('}') {
            depth = depth.saturating_sub(1);
        }
    }
    None
}

/// The `--config` a launch agent's plist gives `run`.
#[must_use]
pub(super) fn plist_config(plist: &plist::Dictionary) -> Option<String> {
    let args = plist.get("ProgramArguments")?.as_array()?;
    let at = args
        .iter()
        .position(|a| a.as_string() == Some("--config"))?;
    args.get(at + 1)?.as_string().map(str::to_owned)
}

// ---------------------------------------------------------------------------
// Small readers

/// The version line in what `TOOL --version` printed: the first line with a
/// digit that names the tool, else the first with a digit.
#[must_use]
pub(super) fn version_line(tool: &str, stdout: &str, stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .map(str::trim)
        .filter(|l| l.chars().any(|c| c.is_ascii_digit()))
        .collect();
    let tool = tool.to_lowercase();
    let line = lines
        .iter()
        .find(|l| l.to_lowercase().contains(&tool))
        .or(lines.first())?;
    Some(line.chars().take(100).collect())
}

#[cfg(test)]
mod tests {
    use super::super::facts::{AgentState, FoundTool, LibraryProblem, Opened};
    use super::super::{render, summary};
    use super::*;

    /// `df -Pk` on Debian 12 and on macOS 14 (an APFS data volume, and
    /// autofs, whose name has a space).
    #[test]
    fn free_space_from_df() {
        let debian = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                      /dev/vda         264212084 35325136  59960752      38% /\n";
        assert_eq!(df_available(debian), Some(59_960_752 * 1024));
        let macos = "Filesystem    1024-blocks      Used Available Capacity  Mounted on\n\
                     /dev/disk3s5    971350180 452016812 489105236    49%    /System/Volumes/Data\n";
        assert_eq!(df_available(macos), Some(489_105_236 * 1024));
        let autofs = "Filesystem    1024-blocks Used Available Capacity  Mounted on\n\
                      map auto_home           0    0         0   100%    /System/Volumes/Data/home\n";
        assert_eq!(df_available(autofs), Some(0));
        for bad in [
            "",
            "Filesystem 1024-blocks Used Available Capacity Mounted on\n",
            "df: /x: No such file or directory\n",
            "header\n/dev/x 10 5 lots 50% /\n",
        ] {
            assert_eq!(df_available(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn versions_as_the_tools_print_them() {
        assert_eq!(
            version_line("borg", "borg 1.2.4\n", "").as_deref(),
            Some("borg 1.2.4")
        );
        let sshfs = "SSHFS version 3.7.3\nFUSE library version 3.14.0\n";
        assert_eq!(
            version_line("sshfs", sshfs, "fusermount3 version: 3.14.0\n").as_deref(),
            Some("SSHFS version 3.7.3")
        );
        // sshfs 2.x on macOS writes to stderr.
        assert_eq!(
            version_line(
                "sshfs",
                "",
                "SSHFS version 2.10\nOSXFUSE library version: 2.7.3\n"
            )
            .as_deref(),
            Some("SSHFS version 2.10")
        );
        let gocryptfs =
            "gocryptfs 2.3; go-fuse 2.1.0+git20220822.58a7e14; 2023-04-09 go1.19.8 linux/amd64\n";
        assert!(version_line("gocryptfs", gocryptfs, "")
            .unwrap()
            .starts_with("gocryptfs 2.3;"));
        assert_eq!(version_line("x", "v2\n", "").as_deref(), Some("v2"));
        assert_eq!(version_line("x", "", "usage: x\n"), None);
    }

    #[test]
    fn last_exit_code_from_launchctl_print() {
        let print = "gui/501/org.photos-backup = {\n\tactive count = 0\n\
                     \tpath = /Users/ann/Library/LaunchAgents/org.photos-backup.plist\n\
                     \tstate = not running\n\truns = 12\n\tlast exit code = 75: EX_TEMPFAIL\n}\n";
        assert_eq!(last_exit_code(print), Some(75));
        assert_eq!(last_exit_code("\tlast exit code = 1\n"), Some(1));
        assert_eq!(last_exit_code("\tlast exit code = (never exited)\n"), None);
        assert_eq!(last_exit_code("\tlast exit reason = OS_REASON\n"), None);
    }

    #[test]
    fn the_config_of_an_installed_agent() {
        let agent = crate::launchd::agent::Agent::example();
        let dict = crate::launchd::agent::dictionary(&agent);
        assert_eq!(plist_config(&dict), Some(agent.config));
        assert_eq!(plist_config(&plist::Dictionary::new()), None);
    }

    #[test]
    fn borg_complaints() {
        for (stderr, trouble) in [
            ("passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND or via BORG_PASSPHRASE_FD is incorrect.", BorgTrouble::WrongPassphrase),
            ("Repository /tmp/dr/nothere does not exist.", BorgTrouble::Missing),
            ("/tmp/dr/notrepo is not a valid repository. Check repo config.", BorgTrouble::NotARepository),
            ("Failed to create/acquire the lock /r/lock.exclusive (timeout).", BorgTrouble::Locked),
            ("Remote: ssh: connect to host 127.0.0.1 port 1: Connection refused / Connection closed by remote host. Is borg working on the server?", BorgTrouble::Offline),
            ("Remote: root@nas: Permission denied (publickey).", BorgTrouble::SshRefused),
            ("Remote: Host key verification failed.", BorgTrouble::SshRefused),
            ("Local Exception", BorgTrouble::Other),
        ] {
            assert_eq!(borg_trouble(stderr), trouble, "{stderr}");
        }
    }

    #[test]
    fn the_host_of_an_ssh_repository() {
        for (location, host) in [
            ("ssh://pb@nas.local:2222/./borg", Some("nas.local")),
            ("ssh://nas/srv/borg", Some("nas")),
            ("ssh://pb@[fd00::1]:22/borg", Some("fd00::1")),
            ("/Volumes/Backup/borg", None),
            ("ssh:///borg", None),
        ] {
            assert_eq!(ssh_host(location).as_deref(), host, "{location}");
        }
    }

    fn machine(os: Os) -> Machine {
        Machine {
            host: crate::host::Host {
                os,
                tool_dirs: vec!["/opt/homebrew/bin".into(), "/usr/bin".into()],
                home: "/Users/ann".into(),
                binary: Some("/usr/local/bin/photos-backup".into()),
                default_state_dir: "/unused".into(),
            },
            agent_tool_dirs: vec!["/opt/homebrew/bin".into(), "/usr/bin".into()],
            label: "org.photos-backup".into(),
            test_notification: false,
        }
    }

    fn test_config(extra: &str) -> Config {
        let text = format!(
            "[state]\ndir = \"/Users/ann/state\"\n[staging]\ndir = \"/Volumes/Backup/staging\"\n\
             [threshold]\ndefault = \"2024-01-01\"\n\
             [[library]]\nname = \"anna\"\npath = \"/Users/ann/Pictures/Photos Library.photoslibrary\"\n\
             [[library]]\nname = \"ben\"\npath = \"/Users/ben/Pictures/Photos Library.photoslibrary\"\n\
             {extra}"
        );
        let env = crate::host::Host {
            home: "/Users/ann".into(),
            default_state_dir: "/Users/ann/state".into(),
            ..crate::host::Host::current()
        };
        crate::config::parse(
            &text,
            Path::new("/Users/ann/.config/photos-backup/photos_backup.conf"),
            &env,
        )
        .unwrap()
    }

    const REMOTE_AND_BORG: &str = "[remote]\nhost = \"nas.local\"\nuser = \"ann\"\ndir = \"/volume1/photos\"\n\
         cipher_mount = \"/Users/ann/.pb/cipher\"\nplain_mount = \"/Users/ann/.pb/plain\"\n\
         password = \"keychain:photos-backup-gocryptfs\"\n\
         [borg]\nrepository = \"ssh://ann@nas.local:22/./borg\"\npassphrase = \"keychain:photos-backup-borg\"\n";

    fn found(path: &str, version: Option<&str>, agent_finds_it: bool) -> FoundTool {
        FoundTool {
            path: path.into(),
            configured: false,
            version: version.map(|v| Ok(v.to_owned())),
            agent_finds_it,
        }
    }

    fn troubled_tools(m: &Machine) -> [ToolFact; 4] {
        [
            ToolFact {
                name: "borg",
                key: Some("borg.borg"),
                outcome: Ok(found("/opt/homebrew/bin/borg", Some("borg 1.4.0"), true)),
            },
            ToolFact {
                name: "sshfs",
                key: Some("remote.sshfs"),
                outcome: Err(MissingTool::NotFound {
                    searched: m.host.tool_dirs.clone(),
                }),
            },
            ToolFact {
                name: "gocryptfs",
                key: Some("remote.gocryptfs"),
                outcome: Ok(found(
                    "/Users/ann/bin/gocryptfs",
                    Some("gocryptfs 2.4.0"),
                    false,
                )),
            },
            ToolFact {
                name: "osascript",
                key: None,
                outcome: Ok(found("/usr/bin/osascript", None, true)),
            },
        ]
    }

    fn troubled_folders(config: &Config) -> [FolderFact; 2] {
        [
            FolderFact {
                key: "staging.dir",
                path: config.staging_dir.clone(),
                presence: Presence::Exists,
                writable: Ok(()),
                free: Ok(3_200_000_000),
            },
            FolderFact {
                key: "state.dir",
                path: config.state_dir.clone(),
                presence: Presence::Missing {
                    existing: "/Users/ann".into(),
                },
                writable: Ok(()),
                free: Ok(181_400_000_000),
            },
        ]
    }

    /// Every check of a troubled Mac, as one fixed set of facts.
    fn troubled_mac() -> Vec<Check> {
        let m = machine(Os::MacOs);
        let config = test_config(REMOTE_AND_BORG);
        let file = config.file.as_path();
        let remote = config.remote.as_ref().unwrap();
        let borg = config.borg.as_ref().unwrap();
        let libraries = [
            LibraryFact {
                name: "anna".into(),
                index: 0,
                path: config.libraries[0].path.clone(),
                outcome: Ok(Opened {
                    model_version: 19_000,
                    assets: Ok(48_213),
                    warning: None,
                }),
            },
            LibraryFact {
                name: "ben".into(),
                index: 1,
                path: config.libraries[1].path.clone(),
                outcome: Err(LibraryProblem {
                    kind: LibraryFailure::PermissionDenied,
                    message: "cannot read /Users/ben/Pictures/Photos Library.photoslibrary/database/Photos.sqlite: Operation not permitted (os error 1)".into(),
                }),
            },
        ];
        let tools = troubled_tools(&m);
        let secrets = [
            SecretFact {
                key: "remote.password",
                reference: Reference::parse(&remote.password).ok(),
                outcome: Ok(()),
            },
            SecretFact {
                key: "borg.passphrase",
                reference: Reference::parse(&borg.passphrase).ok(),
                outcome: Err(
                    "no Keychain item with service \"photos-backup-borg\" and account \"ann\""
                        .into(),
                ),
            },
        ];
        let reach = Reachability::Unreachable(Unreachable::Connect {
            host: "nas.local".into(),
            port: 22,
            failures: vec![(
                "192.168.1.10:22".parse().unwrap(),
                "timed out after 3000 ms".into(),
            )],
        });
        let folders = troubled_folders(&config);
        let agent_fact = AgentFact::Asked(AgentState {
            plist: "/Users/ann/Library/LaunchAgents/org.photos-backup.plist".into(),
            plist_config: Ok(Some(file.display().to_string())),
            loaded: Ok(Loaded {
                uid: 501,
                loaded: false,
                last_exit: None,
            }),
        });

        let mut checks = vec![super::config(&config, file)];
        checks.extend(libraries.iter().map(|f| library(f, &m, file)));
        checks.extend(tools.iter().map(|f| tool(f, &m, file)));
        checks.extend(secrets.iter().map(|f| secret(f, &m, file)));
        checks.push(server(remote, &reach, file));
        checks.push(repository(
            &RepositoryFact::NotChecked(
                "the passphrase (borg.passphrase) is missing (see above)".into(),
            ),
            borg,
            file,
        ));
        checks.extend(folders.iter().map(|f| folder(f, file)));
        checks.push(agent(&agent_fact, &m, file));
        checks
    }

    #[test]
    fn the_report_of_a_troubled_mac() {
        let checks = troubled_mac();
        let mut text: String = checks.iter().map(|c| render(c) + "\n").collect();
        text.push_str(&summary(&checks));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn the_report_of_a_healthy_linux_box() {
        let m = machine(Os::Linux);
        let config = test_config(
            "[borg]\nrepository = \"/srv/borg\"\npassphrase = \"file:~/.config/photos-backup/borg.pass\"\n",
        );
        let file = config.file.as_path();
        let checks = vec![
            super::config(&config, file),
            tool(
                &ToolFact {
                    name: "borg",
                    key: Some("borg.borg"),
                    outcome: Ok(found("/usr/bin/borg", Some("borg 1.2.4"), false)),
                },
                &m,
                file,
            ),
            secret(
                &SecretFact {
                    key: "borg.passphrase",
                    reference: Reference::parse(&config.borg.as_ref().unwrap().passphrase).ok(),
                    outcome: Ok(()),
                },
                &m,
                file,
            ),
            repository(
                &RepositoryFact::Listed { archives: 14 },
                config.borg.as_ref().unwrap(),
                file,
            ),
            agent(&AgentFact::NotApplicable, &m, file),
        ];
        let mut text: String = checks.iter().map(|c| render(c) + "\n").collect();
        text.push_str(&summary(&checks));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn library_failures_say_what_to_do() {
        let file = Path::new("/c.conf");
        let fact = |kind, os| {
            let f = LibraryFact {
                name: "anna".into(),
                index: 2,
                path: "/x/Anna.photoslibrary".into(),
                outcome: Err(LibraryProblem {
                    kind,
                    message: "why".into(),
                }),
            };
            library(&f, &machine(os), file)
        };
        let missing = fact(LibraryFailure::Missing, Os::Linux);
        assert_eq!(missing.status, super::super::Status::Failed);
        assert!(missing
            .fix
            .unwrap()
            .contains("`library[2].path` in /c.conf"));
        let denied = fact(LibraryFailure::PermissionDenied, Os::MacOs);
        assert!(denied.found.contains("Full Disk Access is missing"));
        assert!(denied
            .fix
            .unwrap()
            .contains("Full Disk Access: \"+\", Cmd-Shift-G, add /usr/local/bin/photos-backup"));
        let denied = fact(LibraryFailure::PermissionDenied, Os::Linux);
        assert!(!denied.found.contains("Full Disk Access"));
        assert_eq!(
            fact(LibraryFailure::Busy, Os::MacOs).status,
            super::super::Status::Warning
        );
    }

    #[test]
    fn borg_refusals_say_what_to_do() {
        let config =
            test_config("[borg]\nrepository = \"/srv/my borg\"\npassphrase = \"file:pw\"\n");
        let borg = config.borg.as_ref().unwrap();
        let file = Path::new("/c.conf");
        let refused = |stderr: &str| {
            repository(
                &RepositoryFact::Refused {
                    status: "exit status: 2".into(),
                    stderr: stderr.into(),
                },
                borg,
                file,
            )
        };
        let missing = refused("Repository /srv/my borg does not exist.");
        assert_eq!(
            render(&missing),
            "FAILED  borg repository: /srv/my borg does not exist -> fix: create it: \
             photos-backup init-repo (it uses the passphrase `borg.passphrase` refers to), or \
             correct `borg.repository` in /c.conf"
        );
        let wrong = refused("passphrase supplied in BORG_PASSPHRASE is incorrect.");
        assert!(
            render(&wrong).contains("refuses the passphrase from file:pw"),
            "{wrong:?}"
        );
        assert_eq!(
            refused("Failed to create/acquire the lock /srv/my borg/lock.exclusive (timeout).")
                .status,
            super::super::Status::Warning
        );
    }

    #[test]
    fn folders_missing_unwritable_or_full() {
        let file = Path::new("/c.conf");
        let fact = |presence, writable: Result<(), String>, free| FolderFact {
            key: "staging.dir",
            path: "/v/staging".into(),
            presence,
            writable,
            free,
        };
        let ok = folder(&fact(Presence::Exists, Ok(()), Ok(LOW_SPACE_BYTES)), file);
        assert_eq!(
            render(&ok),
            "ok      folder staging.dir: /v/staging: writable, 5.0 GB free"
        );
        let low = folder(
            &fact(Presence::Exists, Ok(()), Ok(LOW_SPACE_BYTES - 1)),
            file,
        );
        assert_eq!(low.status, super::super::Status::Warning);
        let denied = folder(
            &fact(
                Presence::Missing {
                    existing: "/v".into(),
                },
                Err("Permission denied (os error 13)".into()),
                Ok(1),
            ),
            file,
        );
        assert_eq!(
            render(&denied),
            "FAILED  folder staging.dir: /v/staging does not exist and cannot be created: /v is \
             not writable: Permission denied (os error 13) -> fix: sudo mkdir -p /v/staging && \
             sudo chown \"$USER\" /v/staging, or correct `staging.dir` in /c.conf"
        );
        let unplugged = folder(
            &fact(
                Presence::Missing {
                    existing: "/Volumes".into(),
                },
                Err("Permission denied (os error 13)".into()),
                Ok(1),
            ),
            file,
        );
        assert_eq!(
            render(&unplugged),
            "FAILED  folder staging.dir: /v/staging does not exist: its disk is not connected \
             -> fix: connect the disk, or correct `staging.dir` in /c.conf"
        );
        let unknown = folder(&fact(Presence::Exists, Ok(()), Err("no df".into())), file);
        assert_eq!(unknown.status, super::super::Status::Ok);
    }

    #[test]
    fn the_agent_loaded_not_loaded_or_elsewhere() {
        let m = machine(Os::MacOs);
        let file = Path::new("/Users/ann/pb.conf");
        let state = |loaded: bool, plist_config: Option<&str>, last_exit| {
            AgentFact::Asked(AgentState {
                plist: "/Users/ann/Library/LaunchAgents/org.photos-backup.plist".into(),
                plist_config: Ok(plist_config.map(str::to_owned)),
                loaded: Ok(Loaded {
                    uid: 501,
                    loaded,
                    last_exit,
                }),
            })
        };
        let ok = agent(&state(true, Some("/Users/ann/pb.conf"), Some(75)), &m, file);
        assert_eq!(
            render(&ok),
            "ok      launch agent: org.photos-backup is loaded in gui/501 (last exit code 75)"
        );
        let failing = agent(&state(true, None, Some(1)), &m, file);
        assert_eq!(failing.status, super::super::Status::Warning);
        assert!(failing
            .fix
            .unwrap()
            .contains("/Users/ann/Library/Logs/photos-backup/launchd.err.log"));
        let elsewhere = agent(&state(true, Some("/old.conf"), Some(0)), &m, file);
        assert!(elsewhere
            .found
            .contains("runs with /old.conf, not /Users/ann/pb.conf"));
        let not_installed = agent(&state(false, None, None), &m, file);
        assert_eq!(
            render(&not_installed),
            "warning launch agent: org.photos-backup is not installed: nothing runs the backup \
             unattended -> fix: photos-backup --config /Users/ann/pb.conf install"
        );
        let unloaded = agent(&state(false, Some("/Users/ann/pb.conf"), None), &m, file);
        assert_eq!(unloaded.status, super::super::Status::Failed);
        let other_label = Machine {
            label: "com.example.pb".into(),
            ..m
        };
        let check = agent(&state(false, None, None), &other_label, file);
        assert!(check
            .fix
            .unwrap()
            .ends_with("install --label com.example.pb"));
    }

    #[test]
    fn secrets_fixes_by_kind() {
        let file = Path::new("/c.conf");
        let failed = |reference: &str, os| {
            secret(
                &SecretFact {
                    key: "borg.passphrase",
                    reference: Reference::parse(reference).ok(),
                    outcome: Err("cause".into()),
                },
                &machine(os),
                file,
            )
            .fix
            .unwrap()
        };
        assert_eq!(
            failed("keychain:pb/ann", Os::MacOs),
            "store it: photos-backup secret set pb/ann"
        );
        assert!(failed("keychain:pb", Os::Linux).contains("file:, env: or command:"));
        assert_eq!(
            failed("file:~/pw", Os::Linux),
            "put the secret in ~/pw, readable by you only: chmod 600 ~/pw"
        );
        assert!(failed("env:PB_PW", Os::Linux).starts_with("set PB_PW where"));
        assert_eq!(
            failed("command:op read x", Os::Linux),
            "run `op read x` yourself to see why it fails"
        );
    }

    #[test]
    fn the_server_off_network_is_a_warning() {
        let config = test_config(REMOTE_AND_BORG);
        let remote = config.remote.as_ref().unwrap();
        let reach = Reachability::Reachable {
            address: "192.168.1.10:22".parse().unwrap(),
            interface: Some("utun3".into()),
        };
        assert_eq!(
            render(&server(remote, &reach, Path::new("/c.conf"))),
            "ok      server: nas.local port 22 answers (192.168.1.10:22 through utun3)"
        );
        let route = Reachability::Unreachable(Unreachable::Route {
            host: "nas.local".into(),
            pattern: "utun*".into(),
            routes: vec![("192.168.1.10".parse().unwrap(), "via en0".into())],
        });
        let check = server(remote, &route, Path::new("/c.conf"));
        assert_eq!(check.status, super::super::Status::Warning);
        assert!(check.fix.unwrap().starts_with("connect the VPN"));
    }

    #[test]
    fn the_suggested_ssh_command_quotes_user_and_host() {
        let config = test_config(REMOTE_AND_BORG);
        let mut remote = config.remote.clone().unwrap();
        let down = Reachability::Unreachable(Unreachable::Connect {
            host: "nas.local".into(),
            port: 22,
            failures: Vec::new(),
        });
        let fix = |remote: &Remote| server(remote, &down, Path::new("/c.conf")).fix.unwrap();
        assert!(fix(&remote).ends_with(&format!("ssh -p 22 {}@nas.local", remote.user)));
        remote.user = "o'brien x;id".into();
        assert!(
            fix(&remote).ends_with(r"ssh -p 22 'o'\''brien x;id@nas.local'"),
            "{}",
            fix(&remote)
        );
    }
}
