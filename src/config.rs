//! The configuration file (`photos_backup.conf`, TOML) and what it means.
//!
//! Parse, then resolve: serde reads the text into `RawConfig`, which rejects
//! unknown keys; `validate` turns it into a `Config` whose paths are absolute
//! (with `~` expanded) and whose values have been checked. Every error names
//! the file and the key, so a user can fix it without reading code.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use crate::host::Host;
use crate::printable::printable;
use crate::text::one_line;

/// A configuration error: always the file, usually the key, and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: key `{key}`: {message}")]
    Key {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("config file {path}: {message}")]
    Syntax { path: PathBuf, message: String },
    /// The config loads, but lacks a section a command needs.
    #[error(
        "config file {path}: there is no [{section}] section, and {needed_by} needs one \
         (see photos_backup.conf.example)"
    )]
    MissingSection {
        path: PathBuf,
        section: &'static str,
        needed_by: String,
    },
}

/// A config that does not load, or lacks a section, is a config failure
/// (exit 2), wherever it is met.
impl From<ConfigError> for crate::exit::Failure {
    fn from(e: ConfigError) -> Self {
        crate::exit::Failure::Config(e.into())
    }
}

/// The configuration as written, before any checking beyond its shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    state: RawState,
    /// Required: `None` is a `ConfigError::MissingSection`.
    staging: Option<RawStaging>,
    /// Required: `None` is a `ConfigError::MissingSection`.
    threshold: Option<RawThreshold>,
    #[serde(default)]
    export: RawExport,
    #[serde(default)]
    run: RawRun,
    remote: Option<RawRemote>,
    borg: Option<RawBorg>,
    drill: Option<RawDrill>,
    #[serde(default)]
    pub(crate) notify: crate::notify::settings::RawNotify,
    #[serde(default, rename = "library")]
    libraries: Vec<RawLibrary>,
    #[serde(default, rename = "takeout")]
    takeouts: Vec<RawTakeout>,
    #[serde(default)]
    backfill: crate::backfill::settings::RawBackfill,
    monitor: Option<crate::monitor::settings::RawMonitor>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    dir: Option<String>,
    log_dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    only_on_ac_power: Option<bool>,
    deadline_seconds: Option<u64>,
    archive_deadline_seconds: Option<u64>,
    skip_alert_hours: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStaging {
    dir: String,
    /// Staged files readable by the owner's group (`0640`, folders `0750`):
    /// a deliberate choice for a staging folder shared with another account.
    #[serde(default)]
    group_readable: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    /// A string `"YYYY-MM-DD"`, or a TOML date written without quotes.
    default: toml::Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExport {
    edited: Option<bool>,
    unpicked_bursts: Option<bool>,
    download_missing: Option<bool>,
    max_downloads_per_run: Option<u32>,
    download_timeout_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRemote {
    host: String,
    port: Option<u16>,
    user: String,
    dir: String,
    identity_file: Option<String>,
    known_hosts: Option<String>,
    cipher_mount: String,
    plain_mount: String,
    password: String,
    keep_mounted: Option<bool>,
    probe_timeout_seconds: Option<u64>,
    interface: Option<String>,
    sshfs: Option<String>,
    gocryptfs: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBorg {
    repository: String,
    passphrase: String,
    prefix: Option<String>,
    compression: Option<String>,
    lock_wait_seconds: Option<u32>,
    verify: Option<String>,
    max_pending_days: Option<u32>,
    check_every_days: Option<u32>,
    prune_keep_monthly: Option<u32>,
    prune_keep_yearly: Option<u32>,
    identity_file: Option<String>,
    known_hosts: Option<String>,
    borg: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDrill {
    enabled: Option<bool>,
    every_days: Option<u32>,
    files: Option<u32>,
    mirror_files: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLibrary {
    name: String,
    path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTakeout {
    name: String,
    inbox: String,
    time_zone: String,
    settle_minutes: Option<u64>,
}

/// A checked configuration: absolute paths, parsed dates, unique names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub(crate) file: PathBuf,
    pub state_dir: PathBuf,
    /// Where the run log goes (`~/Library/Logs/photos-backup` on macOS,
    /// `STATE/logs` elsewhere).
    pub(crate) log_dir: PathBuf,
    /// The heavy steps (archive, iCloud downloads) wait for a charger.
    pub(crate) only_on_ac_power: bool,
    /// How long a run may take, and how long skips may go on (`[run]`).
    pub(crate) limits: Limits,
    pub staging_dir: PathBuf,
    /// `[staging] group_readable`: staged files `0640`, folders `0750`
    /// (never others); otherwise owner-only like everything else.
    pub(crate) staging_group_readable: bool,
    pub(crate) default_threshold: NaiveDate,
    pub(crate) export: Export,
    /// The encrypted remote volume; `None`: stage locally only.
    pub remote: Option<Remote>,
    /// The long-term store; `None`: nothing is archived or purged.
    pub(crate) borg: Option<Borg>,
    /// Restore drills (`[drill]`); `None`: none in runs.
    pub(crate) drill: Option<Drill>,
    /// How failures are notified (`[notify]`).
    pub notify: crate::notify::Settings,
    pub libraries: Vec<Library>,
    /// `[[takeout]]`: Google Takeout inboxes, staged like libraries.
    pub takeouts: Vec<Takeout>,
    /// `[backfill]`: the back catalogue, a part at a time (off by default).
    pub(crate) backfill: crate::backfill::settings::Settings,
    /// `[monitor]`: dead-man pings; `None`: none.
    pub(crate) monitor: Option<crate::monitor::Settings>,
}

/// A backup that stops is never silent: past `deadline` (`archive_deadline`
/// when the run archives a month) a run stops and fails; a lock held
/// longer than that is a failure, not a skip; and skips for longer than
/// `skip_alert_after` raise a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) deadline: std::time::Duration,
    pub(crate) archive_deadline: std::time::Duration,
    pub(crate) skip_alert_after: std::time::Duration,
}

impl Limits {
    /// The longest a run may take: longer, its lock is stuck.
    #[must_use]
    pub(crate) fn longest_run(&self) -> std::time::Duration {
        self.deadline.max(self.archive_deadline)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            deadline: std::time::Duration::from_secs(45 * 60),
            archive_deadline: std::time::Duration::from_secs(4 * 3600),
            skip_alert_after: std::time::Duration::from_secs(72 * 3600),
        }
    }
}

/// The backup server and the two mounts that make its encrypted folder a
/// local, decrypted view: SSHFS of `user@host:dir` on `cipher_mount`, then
/// gocryptfs of that on `plain_mount`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// The gocryptfs cipher folder on the server.
    pub dir: String,
    pub identity_file: Option<PathBuf>,
    /// `None`: ssh's own (`~/.ssh/known_hosts`). Host keys are always checked.
    pub known_hosts: Option<PathBuf>,
    pub cipher_mount: PathBuf,
    pub plain_mount: PathBuf,
    /// Secret reference of the gocryptfs password (`keychain:NAME`, `file:PATH`, ...).
    pub password: String,
    pub keep_mounted: bool,
    pub probe_timeout: std::time::Duration,
    /// Only when the route to `host` goes through this interface (`utun*` for a VPN).
    pub interface: Option<String>,
    /// Tool paths; `None`: found on PATH, `/opt/homebrew/bin`, `/usr/local/bin`.
    pub sshfs: Option<PathBuf>,
    pub gocryptfs: Option<PathBuf>,
}

/// The borg repository that receives one archive per library and closed
/// period, and how the rollover treats it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Borg {
    /// A local folder or `ssh://user@host:port/path`.
    pub(crate) repository: String,
    /// Secret reference of the repository passphrase.
    pub(crate) passphrase: String,
    /// Archive names are `PREFIX-LIBRARY-YYYY-MM`.
    pub(crate) prefix: String,
    pub(crate) compression: String,
    pub(crate) lock_wait: u32,
    pub(crate) verify: Verify,
    /// How long pending originals hold a closed period open.
    pub(crate) max_pending_days: u32,
    /// `borg check` at most this often; `None`: never.
    pub(crate) check_every_days: Option<u32>,
    /// Retention (`borg prune`); both `None` (the default): archives are kept.
    pub(crate) prune_keep_monthly: Option<u32>,
    pub(crate) prune_keep_yearly: Option<u32>,
    /// For `ssh://` repositories; `None`: ssh's own.
    pub(crate) identity_file: Option<PathBuf>,
    pub(crate) known_hosts: Option<PathBuf>,
    /// `None`: found on PATH, `/opt/homebrew/bin`, `/usr/local/bin`.
    pub(crate) program: Option<PathBuf>,
}

/// Restore drills: every so many days a run extracts a random sample of
/// archived files with borg and compares them with the ledger, and reads a
/// sample of the remote mirror back through the decrypted view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Drill {
    pub(crate) every_days: u32,
    /// Archived files per drill, spread across the archives.
    pub(crate) files: u32,
    /// Mirrored files per drill (0: no mirror sample).
    pub(crate) mirror_files: u32,
}

/// The most files one drill may sample: each is read back in full.
pub(crate) const MAX_DRILL_FILES: u32 = 10_000;

/// What the check before any purge compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Every file is in the archive with its size.
    Size,
    /// Also the same content: borg's SHA-256 of each archived file against
    /// the staged file read again.
    Content,
}

/// What to export besides originals, and how to fetch originals in iCloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Export {
    /// Also stage the edited render as `NAME_edited.EXT` (default on).
    pub(crate) edited: bool,
    /// Also stage burst frames that were not picked: they are originals too (default on).
    pub(crate) unpicked_bursts: bool,
    /// Ask Photos to download originals that are only in iCloud (macOS; default off).
    pub(crate) download_missing: bool,
    pub(crate) max_downloads_per_run: u32,
    pub(crate) download_timeout: std::time::Duration,
}

impl Default for Export {
    fn default() -> Self {
        Self {
            edited: true,
            unpicked_bursts: true,
            download_missing: false,
            max_downloads_per_run: 50,
            download_timeout: std::time::Duration::from_secs(300),
        }
    }
}

/// One configured Photos library: a family member's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    /// Short name used in staging paths and archive names.
    pub name: String,
    pub(crate) path: PathBuf,
}

/// One configured Google Takeout inbox (issue 19): its name shares the
/// namespace of library names (a staging folder, an archive name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Takeout {
    pub name: String,
    /// Where Takeout parts arrive; only ever read.
    pub inbox: PathBuf,
    /// An IANA zone name (`Europe/Berlin`), checked to exist: the day
    /// folder of a photo whose own offset is unknown.
    pub time_zone: String,
    /// How long a part must stay unchanged before it is read
    /// (`settle_minutes`, 10 by default; 0 reads it when first seen).
    pub settle: std::time::Duration,
}

/// Reads and validates the config file at `path`.
/// Paths in it are resolved against the file's folder made absolute: tools
/// run from another folder (borg runs in staging) must find them too.
pub fn load(path: &Path, host: &Host) -> Result<Config, ConfigError> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    parse(&text, &path, host)
}

/// Parses config text; `path` is used for messages and relative paths.
pub fn parse(text: &str, path: &Path, host: &Host) -> Result<Config, ConfigError> {
    let deserializer = toml::Deserializer::parse(text).map_err(|e| ConfigError::Syntax {
        path: path.to_owned(),
        message: toml_message(text, &e),
    })?;
    let raw: RawConfig = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = printable(&e.path().to_string());
        let mut message = toml_message(text, e.inner());
        if key.ends_with(".password") || key.ends_with(".passphrase") || key == "monitor.url" {
            // The message would quote the value, and the value may be the secret.
            message = "must be a secret reference in quotes: keychain:NAME, command:..., \
                       file:PATH or env:NAME"
                .into();
        }
        if key == "." {
            ConfigError::Syntax {
                path: path.to_owned(),
                message,
            }
        } else {
            ConfigError::Key {
                path: path.to_owned(),
                key,
                message,
            }
        }
    })?;
    validate(raw, path, host)
}

/// A TOML error as `line L, column C: what`, on one line. Not the excerpt of
/// the file that `toml` adds: it may hold a secret written in the clear, or
/// control characters that a terminal would obey.
fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let message = printable(&one_line(e.message()));
    let Some(span) = e.span() else {
        return message;
    };
    let start = span.start.min(text.len());
    // A key is safe to quote (a value is not): say which key is twice.
    let key = text.get(start..span.end).filter(|k| k.len() <= 64);
    let message = match key {
        Some(key) if message == "duplicate key" => format!("duplicate key `{}`", printable(key)),
        _ => message,
    };
    let before = String::from_utf8_lossy(&text.as_bytes()[..start]);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("line {line}, column {column}: {message}")
}

/// Checks a raw config and resolves its paths.
fn validate(raw: RawConfig, path: &Path, host: &Host) -> Result<Config, ConfigError> {
    let key_error = |key: &str, message: String| ConfigError::Key {
        path: path.to_owned(),
        key: key.to_owned(),
        message,
    };
    let raw_staging = required(raw.staging.as_ref(), "staging", path)?;
    let raw_threshold = required(raw.threshold.as_ref(), "threshold", path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let resolve = |key: &str, value: &str| -> Result<PathBuf, ConfigError> {
        if value.trim().is_empty() {
            return Err(key_error(key, "must not be empty".into()));
        }
        if value.contains(char::is_control) {
            return Err(key_error(
                key,
                "must not hold a control character (NUL, newline, ...)".into(),
            ));
        }
        Ok(resolve_path(value, &host.home, base))
    };

    let state_dir = match &raw.state.dir {
        Some(dir) => resolve("state.dir", dir)?,
        None => host.default_state_dir.clone(),
    };
    let log_dir = match &raw.state.log_dir {
        Some(dir) => resolve("state.log_dir", dir)?,
        None => crate::platform::default_log_dir(&host.home, &state_dir),
    };
    let staging_dir = resolve("staging.dir", &raw_staging.dir)?;
    let default_threshold =
        default_threshold(&raw_threshold.default).map_err(|m| key_error("threshold.default", m))?;

    let export = validate_export(&raw.export, &key_error)?;

    let remote = (raw.remote)
        .map(|r| validate_remote(r, &resolve, &key_error))
        .transpose()?;
    let borg = (raw.borg)
        .map(|b| validate_borg(b, &resolve, &key_error))
        .transpose()?;
    let drill = validate_drill(raw.drill.as_ref(), &key_error)?;
    let notify = crate::notify::settings::validate(
        raw.notify,
        crate::platform::has_notification_center(),
        &host.home,
        base,
    )
    .map_err(|e| key_error(&e.key, e.message))?;

    let libraries = validate_libraries(raw.libraries, &resolve, &key_error)?;
    let takeouts = validate_takeouts(raw.takeouts, &libraries, &resolve, &key_error)?;
    outside_libraries(
        &[
            ("staging.dir", &staging_dir),
            ("state.dir", &state_dir),
            ("state.log_dir", &log_dir),
        ],
        &libraries,
        &key_error,
    )?;

    Ok(Config {
        file: path.to_owned(),
        state_dir,
        log_dir,
        only_on_ac_power: raw.run.only_on_ac_power.unwrap_or(false),
        limits: validate_limits(&raw.run, &key_error)?,
        staging_dir,
        staging_group_readable: raw_staging.group_readable,
        default_threshold,
        export,
        remote,
        borg,
        drill,
        notify,
        libraries,
        takeouts,
        backfill: crate::backfill::settings::validate(&raw.backfill)
            .map_err(|e| key_error(&e.key, e.message))?,
        monitor: validate_monitor(raw.monitor, &key_error)?,
    })
}

/// `[export]`: the switches, defaults where not given.
fn validate_export(
    raw: &RawExport,
    key_error: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Export, ConfigError> {
    let defaults = Export::default();
    Ok(Export {
        edited: raw.edited.unwrap_or(defaults.edited),
        unpicked_bursts: raw.unpicked_bursts.unwrap_or(defaults.unpicked_bursts),
        download_missing: raw.download_missing.unwrap_or(defaults.download_missing),
        max_downloads_per_run: raw
            .max_downloads_per_run
            .unwrap_or(defaults.max_downloads_per_run),
        download_timeout: match raw.download_timeout_seconds {
            Some(0) => {
                return Err(key_error(
                    "export.download_timeout_seconds",
                    "must be at least 1".into(),
                ))
            }
            Some(s) => std::time::Duration::from_secs(s),
            None => defaults.download_timeout,
        },
    })
}

/// `[monitor]`: its settings, and its URL a secret reference (the text is
/// not repeated: it may be the URL itself).
fn validate_monitor(
    raw: Option<crate::monitor::settings::RawMonitor>,
    key_error: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Option<crate::monitor::Settings>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let settings =
        crate::monitor::settings::validate(raw).map_err(|e| key_error(&e.key, e.message))?;
    if !crate::secrets::Reference::is_valid(&settings.url) {
        return Err(key_error(
            "monitor.url",
            "must be a secret reference to the ping URL: keychain:NAME, command:..., \
             file:PATH or env:NAME (the URL lets anyone mark the backup healthy)"
                .into(),
        ));
    }
    Ok(Some(settings))
}

/// A section every config has, or the error that names it.
fn required<'a, T>(
    section: Option<&'a T>,
    name: &'static str,
    path: &Path,
) -> Result<&'a T, ConfigError> {
    section.ok_or_else(|| ConfigError::MissingSection {
        path: path.to_owned(),
        section: name,
        needed_by: "every backup".into(),
    })
}

/// The libraries: names usable as folders (unique also when letter case is
/// ignored, as APFS ignores it), each library configured once.
fn validate_libraries(
    raw: Vec<RawLibrary>,
    resolve: &dyn Fn(&str, &str) -> Result<PathBuf, ConfigError>,
    key_error: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Vec<Library>, ConfigError> {
    let mut names = HashSet::new();
    let mut libraries: Vec<Library> = Vec::with_capacity(raw.len());
    for (i, lib) in raw.into_iter().enumerate() {
        let key = format!("library[{i}]");
        check_library_name(&lib.name).map_err(|m| key_error(&format!("{key}.name"), m))?;
        // Unique as the folder it names, compared as APFS compares names.
        let folder = crate::export::layout::library_dir(&lib.name).to_lowercase();
        if !names.insert(folder) {
            return Err(key_error(
                &format!("{key}.name"),
                format!(
                    "{:?} is used by another library (letter case aside: it names a folder)",
                    lib.name
                ),
            ));
        }
        let path = resolve(&format!("{key}.path"), &lib.path)?;
        if let Some(other) = libraries
            .iter()
            .position(|l| normal(&l.path) == normal(&path))
        {
            return Err(key_error(
                &format!("{key}.path"),
                format!(
                    "{} is already configured as library[{other}]",
                    path.display()
                ),
            ));
        }
        libraries.push(Library {
            name: lib.name,
            path,
        });
    }
    Ok(libraries)
}

/// `[[takeout]] settle_minutes` when not given: a browser or Drive writing
/// a part changes it well within this.
const DEFAULT_SETTLE_MINUTES: u64 = 10;
/// The most `settle_minutes` may be: a day.
const MAX_SETTLE_MINUTES: u64 = 24 * 60;

/// The Takeout inboxes: names checked like library names and unique among
/// libraries and inboxes together (they name staging folders and archives
/// alike); a time zone that exists here.
fn validate_takeouts(
    raw: Vec<RawTakeout>,
    libraries: &[Library],
    resolve: &dyn Fn(&str, &str) -> Result<PathBuf, ConfigError>,
    key_error: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Vec<Takeout>, ConfigError> {
    let folder = |name: &str| crate::export::layout::library_dir(name).to_lowercase();
    let mut names: HashSet<String> = libraries.iter().map(|l| folder(&l.name)).collect();
    let mut takeouts = Vec::with_capacity(raw.len());
    for (i, t) in raw.into_iter().enumerate() {
        let key = format!("takeout[{i}]");
        check_library_name(&t.name).map_err(|m| key_error(&format!("{key}.name"), m))?;
        if !names.insert(folder(&t.name)) {
            return Err(key_error(
                &format!("{key}.name"),
                format!(
                    "{:?} is used by another library or takeout (letter case aside: it names a \
                     folder)",
                    t.name
                ),
            ));
        }
        let inbox = resolve(&format!("{key}.inbox"), &t.inbox)?;
        if jiff::tz::TimeZone::get(&t.time_zone).is_err() {
            return Err(key_error(
                &format!("{key}.time_zone"),
                format!(
                    "{} is not a known time zone (an IANA name such as \"Europe/Berlin\")",
                    crate::printable::printable(&t.time_zone)
                ),
            ));
        }
        let settle_minutes = t.settle_minutes.unwrap_or(DEFAULT_SETTLE_MINUTES);
        if settle_minutes > MAX_SETTLE_MINUTES {
            return Err(key_error(
                &format!("{key}.settle_minutes"),
                format!(
                    "{settle_minutes} is more than {MAX_SETTLE_MINUTES} (a day): a part unchanged \
                     for a day is settled, and a longer wait would hold every export back"
                ),
            ));
        }
        takeouts.push(Takeout {
            name: t.name,
            inbox,
            time_zone: t.time_zone,
            settle: std::time::Duration::from_secs(settle_minutes * 60),
        });
    }
    Ok(takeouts)
}

/// The folders a run writes to must not be inside a library: Photos owns it.
fn outside_libraries(
    dirs: &[(&str, &PathBuf)],
    libraries: &[Library],
    key_error: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    for (key, dir) in dirs {
        if let Some((i, lib)) = libraries
            .iter()
            .enumerate()
            .find(|(_, lib)| normal(dir).starts_with(normal(&lib.path)))
        {
            return Err(key_error(
                key,
                format!(
                    "{} is inside library[{i}] ({}): a run would write into the library",
                    dir.display(),
                    lib.path.display()
                ),
            ));
        }
    }
    Ok(())
}

/// `threshold.default`: `"YYYY-MM-DD"` as the threshold file holds it, or
/// the same date written as a TOML date without quotes.
fn default_threshold(value: &toml::Value) -> Result<NaiveDate, String> {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        other => {
            return Err(format!(
                "{other} is not a date \"YYYY-MM-DD\" (a {})",
                other.type_str()
            ))
        }
    };
    crate::threshold::parse(&text).ok_or_else(|| {
        format!("{text:?} is not a date YYYY-MM-DD (a real day, e.g. \"2024-01-01\")")
    })
}

/// A path with `.` components and trailing slashes left out, to compare.
fn normal(path: &Path) -> PathBuf {
    path.components().collect()
}

fn validate_borg(
    b: RawBorg,
    resolve: &dyn Fn(&str, &str) -> Result<PathBuf, ConfigError>,
    key_error: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Borg, ConfigError> {
    let optional = |key: &str, v: Option<String>| v.map(|v| resolve(key, &v)).transpose();
    let repository = if b.repository.starts_with("ssh://") {
        let ok = !b
            .repository
            .chars()
            .any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(key_error(
                "borg.repository",
                "an ssh:// location must not hold spaces or control characters".into(),
            ));
        }
        b.repository
    } else if b.repository.contains("::")
        || (b.repository.contains(':') && !b.repository.starts_with('/'))
    {
        return Err(key_error(
            "borg.repository",
            format!(
                "{:?}: use a local folder or ssh://user@host:port/path",
                b.repository
            ),
        ));
    } else {
        resolve("borg.repository", &b.repository)?
            .display()
            .to_string()
    };
    if !crate::secrets::Reference::is_valid(&b.passphrase) {
        return Err(key_error(
            "borg.passphrase",
            "must be a secret reference: keychain:NAME, command:..., file:PATH or env:NAME".into(),
        ));
    }
    let prefix = b.prefix.unwrap_or_else(|| "photos".into());
    let prefix_ok = !prefix.is_empty()
        && prefix.len() <= 32
        && !prefix.starts_with('-')
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !prefix_ok {
        return Err(key_error(
            "borg.prefix",
            format!("{prefix:?} must be 1 to 32 letters, digits, '-', '_' or '.'"),
        ));
    }
    let compression = b.compression.unwrap_or_else(|| "zstd,3".into());
    if compression.is_empty()
        || compression.starts_with('-')
        || compression
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(key_error(
            "borg.compression",
            format!("{compression:?} is not a borg compression spec (e.g. \"zstd,3\", \"lz4\", \"none\")"),
        ));
    }
    let verify = match b.verify.as_deref() {
        None | Some("size") => Verify::Size,
        Some("content") => Verify::Content,
        Some(other) => {
            return Err(key_error(
                "borg.verify",
                format!("{other:?} must be \"size\" or \"content\""),
            ))
        }
    };
    let nonzero = |key: &str, v: Option<u32>| match v {
        Some(0) => Err(key_error(
            key,
            "must be at least 1 (leave it out to turn it off)".into(),
        )),
        v => Ok(v),
    };
    Ok(Borg {
        repository,
        passphrase: b.passphrase,
        prefix,
        compression,
        lock_wait: b.lock_wait_seconds.unwrap_or(600),
        verify,
        max_pending_days: b.max_pending_days.unwrap_or(30),
        check_every_days: nonzero("borg.check_every_days", b.check_every_days)?,
        prune_keep_monthly: nonzero("borg.prune_keep_monthly", b.prune_keep_monthly)?,
        prune_keep_yearly: nonzero("borg.prune_keep_yearly", b.prune_keep_yearly)?,
        identity_file: optional("borg.identity_file", b.identity_file)?,
        known_hosts: optional("borg.known_hosts", b.known_hosts)?,
        program: optional("borg.borg", b.borg)?,
    })
}

/// `[drill]`: on unless `enabled = false`; counts within bounds.
fn validate_drill(
    d: Option<&RawDrill>,
    key_error: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Option<Drill>, ConfigError> {
    let Some(d) = d else {
        return Ok(None);
    };
    let count = |key: &str, value: Option<u32>, default: u32, min: u32| match value {
        Some(n) if n < min => Err(key_error(key, format!("must be at least {min}"))),
        Some(n) if n > MAX_DRILL_FILES => {
            Err(key_error(key, format!("must be at most {MAX_DRILL_FILES}")))
        }
        Some(n) => Ok(n),
        None => Ok(default),
    };
    let drill = Drill {
        every_days: count("drill.every_days", d.every_days, 7, 1)?,
        files: count("drill.files", d.files, 20, 1)?,
        mirror_files: count("drill.mirror_files", d.mirror_files, 5, 0)?,
    };
    Ok(d.enabled.unwrap_or(true).then_some(drill))
}

fn validate_limits(
    run: &RawRun,
    key_error: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Limits, ConfigError> {
    let defaults = Limits::default();
    let duration = |key: &str, value: Option<u64>, unit: u64, default| match value {
        Some(0) => Err(key_error(key, "must be at least 1".into())),
        Some(n) => Ok(std::time::Duration::from_secs(n.saturating_mul(unit))),
        None => Ok(default),
    };
    Ok(Limits {
        deadline: duration(
            "run.deadline_seconds",
            run.deadline_seconds,
            1,
            defaults.deadline,
        )?,
        archive_deadline: duration(
            "run.archive_deadline_seconds",
            run.archive_deadline_seconds,
            1,
            defaults.archive_deadline,
        )?,
        skip_alert_after: duration(
            "run.skip_alert_hours",
            run.skip_alert_hours,
            3600,
            defaults.skip_alert_after,
        )?,
    })
}

fn validate_remote(
    r: RawRemote,
    resolve: &dyn Fn(&str, &str) -> Result<PathBuf, ConfigError>,
    key_error: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Remote, ConfigError> {
    let plain = |key: &str, v: &str| -> Result<String, ConfigError> {
        let ok = !v.trim().is_empty()
            && !v.starts_with('-')
            && !v.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(v.to_owned())
        } else {
            Err(key_error(
                key,
                format!("{v:?} must be one word, not starting with '-'"),
            ))
        }
    };
    let optional = |key: &str, v: Option<String>| v.map(|v| resolve(key, &v)).transpose();
    let dir = r.dir.trim();
    if dir.is_empty() || dir.chars().any(char::is_control) {
        return Err(key_error(
            "remote.dir",
            "must be a folder on the server".into(),
        ));
    }
    if !crate::secrets::Reference::is_valid(&r.password) {
        return Err(key_error(
            "remote.password",
            "must be a secret reference: keychain:NAME, command:..., file:PATH or env:NAME".into(),
        ));
    }
    if r.port == Some(0) {
        return Err(key_error("remote.port", "must be 1 to 65535, not 0".into()));
    }
    let cipher_mount = resolve("remote.cipher_mount", &r.cipher_mount)?;
    let plain_mount = resolve("remote.plain_mount", &r.plain_mount)?;
    let (c, p) = (normal(&cipher_mount), normal(&plain_mount));
    if c.starts_with(&p) || p.starts_with(&c) {
        return Err(key_error(
            "remote.plain_mount",
            format!(
                "{} and remote.cipher_mount {} must be two separate folders, neither inside the other",
                plain_mount.display(),
                cipher_mount.display()
            ),
        ));
    }
    Ok(Remote {
        host: plain("remote.host", &r.host)?,
        port: r.port.unwrap_or(22),
        user: plain("remote.user", &r.user)?,
        dir: dir.to_owned(),
        identity_file: optional("remote.identity_file", r.identity_file)?,
        known_hosts: optional("remote.known_hosts", r.known_hosts)?,
        cipher_mount,
        plain_mount,
        password: r.password,
        keep_mounted: r.keep_mounted.unwrap_or(false),
        probe_timeout: std::time::Duration::from_secs(r.probe_timeout_seconds.unwrap_or(3).max(1)),
        interface: r
            .interface
            .map(|i| plain("remote.interface", &i))
            .transpose()?,
        sshfs: optional("remote.sshfs", r.sshfs)?,
        gocryptfs: optional("remote.gocryptfs", r.gocryptfs)?,
    })
}

/// A library name becomes a folder and part of an archive name: keep it plain.
fn check_library_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 64 {
        Err("must be 1 to 64 characters".into())
    } else if name.starts_with('.') || name.ends_with('.') || !name.chars().all(ok_char) {
        // A final '.' is dropped from folder names: `anna.` would share
        // `anna`'s staging folder.
        Err(format!(
            "{name:?} may only hold letters, digits, '-', '_' and '.', and not start or end \
             with '.'"
        ))
    } else {
        Ok(())
    }
}

/// Expands `~` and makes a path absolute relative to the config file's folder.
#[must_use]
pub(crate) fn resolve_path(value: &str, home: &Path, base: &Path) -> PathBuf {
    let expanded = if value == "~" {
        home.to_owned()
    } else if let Some(rest) = value.strip_prefix("~/") {
        home.join(rest)
    } else {
        PathBuf::from(value)
    };
    if expanded.is_absolute() {
        expanded
    } else {
        base.join(expanded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Host {
        Host {
            home: PathBuf::from("/home/ann"),
            default_state_dir: PathBuf::from("/home/ann/.local/state/photos-backup"),
            ..Host::current()
        }
    }

    const MINIMAL: &str = r#"
        [staging]
        dir = "~/staging"
        [threshold]
        default = "2024-01-01"
        [[library]]
        name = "ann"
        path = "~/Pictures/Photos Library.photoslibrary"
    "#;

    fn parse_str(text: &str) -> Result<Config, ConfigError> {
        parse(text, Path::new("/etc/pb/photos_backup.conf"), &env())
    }

    #[test]
    fn minimal_config_expands_home_and_defaults_state() {
        let c = parse_str(MINIMAL).unwrap();
        assert_eq!(c.staging_dir, PathBuf::from("/home/ann/staging"));
        assert_eq!(c.state_dir, env().default_state_dir);
        assert_eq!(
            c.libraries[0].path,
            PathBuf::from("/home/ann/Pictures/Photos Library.photoslibrary")
        );
        assert_eq!(
            c.default_threshold,
            NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
        );
    }

    #[test]
    fn run_limits_default_and_read_and_refuse_zero() {
        let c = parse_str(MINIMAL).unwrap();
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.limits.longest_run().as_secs(), 4 * 3600);
        let text = format!(
            "[run]\ndeadline_seconds = 600\narchive_deadline_seconds = 300\nskip_alert_hours = 24\n{MINIMAL}"
        );
        let c = parse_str(&text).unwrap();
        assert_eq!(c.limits.deadline.as_secs(), 600);
        assert_eq!(c.limits.archive_deadline.as_secs(), 300);
        assert_eq!(c.limits.longest_run().as_secs(), 600);
        assert_eq!(c.limits.skip_alert_after.as_secs(), 24 * 3600);
        let msg = parse_str(&format!("[run]\ndeadline_seconds = 0\n{MINIMAL}"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("run.deadline_seconds"), "{msg}");
    }

    #[test]
    fn relative_paths_are_relative_to_the_config_file() {
        let c = parse_str(&MINIMAL.replace("~/staging", "staging")).unwrap();
        assert_eq!(c.staging_dir, PathBuf::from("/etc/pb/staging"));
    }

    #[test]
    fn a_config_named_by_a_relative_path_gives_absolute_paths() {
        // Tests run in the package root; the file goes under target/.
        let dir = tempfile::Builder::new()
            .prefix("config-test-")
            .tempdir_in("target")
            .unwrap();
        let name = dir.path().file_name().unwrap().to_str().unwrap().to_owned();
        let text = format!(
            "{}\n[borg]\nrepository = \"repo\"\npassphrase = \"env:X\"\n",
            MINIMAL.replace("~/staging", "staging")
        );
        std::fs::write(dir.path().join("pb.conf"), text).unwrap();
        let c = load(Path::new(&format!("target/{name}/pb.conf")), &env()).unwrap();
        let root = std::env::current_dir().unwrap().join("target").join(&name);
        assert_eq!(c.staging_dir, root.join("staging"));
        assert_eq!(
            c.borg.unwrap().repository,
            root.join("repo").display().to_string()
        );
        assert!(c.file.is_absolute());
    }

    #[test]
    fn unknown_key_is_named_with_the_file() {
        let text = MINIMAL.replace("[staging]", "[staging]\ndirr = 1");
        let msg = parse_str(&text).unwrap_err().to_string();
        assert!(msg.contains("/etc/pb/photos_backup.conf"), "{msg}");
        assert!(msg.contains("dirr"), "{msg}");
    }

    #[test]
    fn unknown_section_is_rejected() {
        let msg = parse_str(&format!("{MINIMAL}\n[stagin]\ndir = 'x'"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("stagin"), "{msg}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let msg = parse_str(&MINIMAL.replace("\"~/staging\"", "3"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("key `staging.dir`"), "{msg}");
    }

    #[test]
    fn bad_date_names_the_key() {
        let msg = parse_str(&MINIMAL.replace("2024-01-01", "2024-13-01"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("key `threshold.default`"), "{msg}");
        assert!(msg.contains("2024-13-01"), "{msg}");
    }

    #[test]
    fn the_default_threshold_may_be_a_toml_date_but_must_be_exact() {
        let c = parse_str(&MINIMAL.replace("\"2024-01-01\"", "2024-01-02")).unwrap();
        assert_eq!(
            c.default_threshold,
            NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()
        );
        for bad in [
            "\"24-1-1\"",
            "\"+2024-1-01\"",
            "2024-01-01T00:00:00",
            "20240101",
        ] {
            let msg = parse_str(&MINIMAL.replace("\"2024-01-01\"", bad))
                .unwrap_err()
                .to_string();
            assert!(msg.contains("key `threshold.default`"), "{bad}: {msg}");
        }
    }

    #[test]
    fn takeouts_share_the_library_namespace_and_name_the_key() {
        let ok = parse_str(&format!(
            "{MINIMAL}\n[[takeout]]\nname = \"carla-google\"\ninbox = \"~/Takeout\"\n\
             time_zone = \"Europe/Berlin\"\n"
        ))
        .unwrap();
        assert_eq!(ok.takeouts[0].inbox, PathBuf::from("/home/ann/Takeout"));
        assert_eq!(ok.takeouts[0].time_zone, "Europe/Berlin");
        assert_eq!(
            ok.takeouts[0].settle,
            std::time::Duration::from_secs(600),
            "10 minutes unless told"
        );
        let settle = |minutes: &str| {
            parse_str(&format!(
                "{MINIMAL}\n[[takeout]]\nname = \"g\"\ninbox = \"/t\"\ntime_zone = \"UTC\"\n\
                 settle_minutes = {minutes}\n"
            ))
            .map(|c| c.takeouts[0].settle.as_secs())
            .map_err(|e| e.to_string())
        };
        assert_eq!(settle("0"), Ok(0), "0: read when first seen (tests)");
        assert_eq!(settle("1440"), Ok(86_400));
        for bad in ["1441", "-1", "\"10\"", "1.5"] {
            let e = settle(bad).unwrap_err();
            assert!(e.contains("settle_minutes"), "{bad}: {e}");
        }
        let refused = |block: &str, key: &str| {
            let e = parse_str(&format!("{MINIMAL}\n{block}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{e}");
        };
        refused(
            "[[takeout]]\nname = \"ANN\"\ninbox = \"/t\"\ntime_zone = \"UTC\"\n",
            "takeout[0].name",
        );
        refused(
            "[[takeout]]\nname = \"g\"\ninbox = \"/t\"\ntime_zone = \"UTC\"\n\
             [[takeout]]\nname = \"G\"\ninbox = \"/u\"\ntime_zone = \"UTC\"\n",
            "takeout[1].name",
        );
        refused(
            "[[takeout]]\nname = \"g\"\ninbox = \"/t\"\ntime_zone = \"Mars/Base\"\n",
            "takeout[0].time_zone",
        );
        refused(
            "[[takeout]]\nname = \"../g\"\ninbox = \"/t\"\ntime_zone = \"UTC\"\n",
            "takeout[0].name",
        );
    }

    #[test]
    fn hostile_or_duplicate_library_names_are_refused() {
        for bad in ["../x", "a/b", ".hidden", "", "tab\there", "anna.", "anna.."] {
            let text = MINIMAL.replace("name = \"ann\"", &format!("name = {bad:?}"));
            let msg = parse_str(&text).unwrap_err().to_string();
            assert!(msg.contains("key `library[0].name`"), "{bad:?}: {msg}");
        }
        for same in ["ann", "ANN", "Ann"] {
            let twice = format!("{MINIMAL}\n[[library]]\nname = {same:?}\npath = \"/x\"");
            let msg = parse_str(&twice).unwrap_err().to_string();
            assert!(msg.contains("key `library[1].name`"), "{msg}");
        }
    }

    #[test]
    fn remote_values_that_could_become_options_or_leak_are_refused() {
        let remote = |host: &str, password: &str| {
            format!(
                "{MINIMAL}\n[remote]\nhost = {host:?}\nuser = \"u\"\ndir = \"/c\"\n\
                 cipher_mount = \"/m/c\"\nplain_mount = \"/m/p\"\npassword = {password:?}\n"
            )
        };
        assert!(parse_str(&remote("nas", "keychain:x")).is_ok());
        let msg = parse_str(&remote("-oProxyCommand=evil", "keychain:x"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("key `remote.host`"), "{msg}");
        // An interface pattern is one word too: no line break or escape to
        // reach a log or the route command.
        let with_interface = |toml_string: &str| {
            format!("{}interface = {toml_string}\n", remote("nas", "keychain:x"))
        };
        assert!(parse_str(&with_interface(r#""utun*""#)).is_ok());
        let msg = parse_str(&with_interface(r#""utun*\u001b[2J""#))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("key `remote.interface`"), "{msg}");
        // A password written in the config is refused, and not repeated.
        let msg = parse_str(&remote("nas", "hunter2"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("key `remote.password`") && !msg.contains("hunter2"),
            "{msg}"
        );
    }

    #[test]
    fn drill_defaults_off_switch_and_refusals() {
        assert_eq!(parse_str(MINIMAL).unwrap().drill, None);
        let drill = |body: &str| parse_str(&format!("{MINIMAL}\n[drill]\n{body}\n"));
        assert_eq!(
            drill("").unwrap().drill,
            Some(Drill {
                every_days: 7,
                files: 20,
                mirror_files: 5
            })
        );
        let d = drill("every_days = 3\nfiles = 2\nmirror_files = 0")
            .unwrap()
            .drill
            .unwrap();
        assert_eq!((d.every_days, d.files, d.mirror_files), (3, 2, 0));
        assert_eq!(drill("enabled = false").unwrap().drill, None);
        for (body, key) in [
            ("every_days = 0", "drill.every_days"),
            ("files = 0", "drill.files"),
            ("files = 10001", "drill.files"),
            ("mirror_files = 20000", "drill.mirror_files"),
            ("every_days = \"weekly\"", "drill.every_days"),
            ("sample = 3", "sample"),
        ] {
            let msg = drill(body).unwrap_err().to_string();
            assert!(msg.contains(key), "{body}: {msg}");
        }
    }

    #[test]
    fn borg_defaults_and_refusals() {
        let borg =
            |body: &str| format!("{MINIMAL}\n[borg]\npassphrase = \"keychain:pb-borg\"\n{body}\n");
        let c = parse_str(&borg("repository = \"~/borg\"")).unwrap();
        let b = c.borg.unwrap();
        assert_eq!(b.repository, "/home/ann/borg");
        assert_eq!(
            (b.prefix.as_str(), b.compression.as_str(), b.lock_wait),
            ("photos", "zstd,3", 600)
        );
        assert_eq!((b.verify, b.max_pending_days), (Verify::Size, 30));
        assert_eq!((b.check_every_days, b.prune_keep_monthly), (None, None));
        let ssh = parse_str(&borg(
            "repository = \"ssh://pb@nas:2222/./borg\"\nverify = \"content\"",
        ))
        .unwrap()
        .borg
        .unwrap();
        assert_eq!(ssh.repository, "ssh://pb@nas:2222/./borg");
        assert_eq!(ssh.verify, Verify::Content);

        for (body, key) in [
            ("repository = \"nas:borg\"", "borg.repository"),
            ("repository = \"/r\"\nverify = \"sha\"", "borg.verify"),
            ("repository = \"/r\"\nprefix = \"a b\"", "borg.prefix"),
            (
                "repository = \"/r\"\ncompression = \"--x\"",
                "borg.compression",
            ),
            (
                "repository = \"/r\"\ncheck_every_days = 0",
                "borg.check_every_days",
            ),
            (
                "repository = \"/r\"\nprune_keep_monthly = 0",
                "borg.prune_keep_monthly",
            ),
        ] {
            let msg = parse_str(&borg(body)).unwrap_err().to_string();
            assert!(msg.contains(&format!("key `{key}`")), "{body}: {msg}");
        }
        let msg = parse_str(&format!(
            "{MINIMAL}\n[borg]\nrepository = \"/r\"\npassphrase = \"s3cret\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("key `borg.passphrase`") && !msg.contains("s3cret"),
            "{msg}"
        );
    }

    #[test]
    fn notify_errors_name_the_key_and_the_file() {
        for (notify, key) in [
            ("method = \"pager\"", "notify.method"),
            ("method = \"command\"", "notify.command"),
            ("command = \"curl https://x\"", "notify.command"),
            ("repeat_after_hours = 0", "notify.repeat_after_hours"),
            ("repeat_after_hours = -1", "notify.repeat_after_hours"),
            ("on_succes = true", "on_succes"),
        ] {
            let msg = parse_str(&format!("{MINIMAL}\n[notify]\n{notify}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains("/etc/pb/photos_backup.conf") && msg.contains(key),
                "{notify}: {msg}"
            );
        }
        let c = parse_str(&format!(
            "{MINIMAL}\n[notify]\ncommand = [\"notify/hook\"]\nrepeat_after_hours = 6\n"
        ))
        .unwrap();
        assert_eq!(
            c.notify.method,
            crate::notify::Method::Command(vec!["/etc/pb/notify/hook".into()])
        );
        assert_eq!(
            c.notify.repeat_after,
            std::time::Duration::from_secs(6 * 3600)
        );
    }

    #[test]
    fn monitor_settings_and_errors_that_name_the_key_but_never_the_url() {
        assert_eq!(parse_str(MINIMAL).unwrap().monitor, None);
        let c = parse_str(&format!(
            "{MINIMAL}\n[monitor]\nurl = \"keychain:pb-ping\"\nstyle = \"uptime-kuma\"\n"
        ))
        .unwrap();
        let m = c.monitor.unwrap();
        assert_eq!(
            (m.url.as_str(), m.style),
            (
                "keychain:pb-ping",
                crate::monitor::settings::Style::UptimeKuma
            )
        );
        for (monitor, key) in [
            ("url = \"https://hc-ping.com/s3cr3t-uuid\"", "monitor.url"),
            ("url = [\"https://hc-ping.com/s3cr3t-uuid\"]", "monitor.url"),
            ("url = \"env:P\"\nstyle = \"pager\"", "monitor.style"),
            ("url = \"env:P\"\non_skip = \"ping\"", "monitor.on_skip"),
            (
                "url = \"env:P\"\ntimeout_seconds = 0",
                "monitor.timeout_seconds",
            ),
            ("url = \"env:P\"\ntimeout = 3", "timeout"),
        ] {
            let msg = parse_str(&format!("{MINIMAL}\n[monitor]\n{monitor}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains("/etc/pb/photos_backup.conf") && msg.contains(key),
                "{monitor}: {msg}"
            );
            assert!(!msg.contains("s3cr3t"), "{msg}");
        }
    }

    #[test]
    fn syntax_error_names_the_file() {
        let msg = parse_str("[staging\n").unwrap_err().to_string();
        assert!(
            msg.starts_with("config file /etc/pb/photos_backup.conf"),
            "{msg}"
        );
    }

    #[test]
    fn a_missing_section_is_its_own_error_naming_file_and_section() {
        let err = parse_str("[threshold]\ndefault = \"2024-01-01\"").unwrap_err();
        assert!(
            matches!(
                &err,
                ConfigError::MissingSection {
                    section: "staging",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "config file /etc/pb/photos_backup.conf: there is no \
             [staging] section, and every backup needs one (see photos_backup.conf.example)"
        );
        let err = parse_str("[staging]\ndir = \"s\"").unwrap_err();
        assert!(
            matches!(
                &err,
                ConfigError::MissingSection {
                    section: "threshold",
                    ..
                }
            ),
            "{err:?}"
        );
        // A section that is there but lacks a key is that key's error.
        let err = parse_str("[staging]\n[threshold]\ndefault = \"2024-01-01\"").unwrap_err();
        assert!(
            matches!(&err, ConfigError::Key { key, .. } if key == "staging"),
            "{err:?}"
        );
    }
}
