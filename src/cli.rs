//! The command line, as clap definitions and nothing else: what the user can
//! type. Turning it into work is `app`'s job, so this file stays a plain,
//! testable description of the interface.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What `--version` prints after the name: the package's version and the
/// commit the binary was built from (`build.rs`: `$PHOTOS_BACKUP_COMMIT`
/// when set, else git's short hash with `-dirty` when the sources differ
/// from it, else `unknown`).
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("PHOTOS_BACKUP_BUILD_COMMIT"),
    ")"
);

/// Unattended, incremental, encrypted backups of Apple Photos libraries.
#[derive(Debug, Parser)]
#[command(name = "photos-backup", version = VERSION, about, long_about = None)]
pub(crate) struct Cli {
    /// Configuration file (default: `~/.config/photos-backup/photos_backup.conf`;
    /// on Linux in `$XDG_CONFIG_HOME` instead of `~/.config` when it is set).
    #[arg(long, global = true, value_name = "PATH", env = CONFIG_ENV)]
    pub(crate) config: Option<PathBuf>,

    /// More output: with -v, `run` shows every program it starts (secrets masked).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Back up: stage new and changed photos of every configured library and Takeout inbox.
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
    /// Is my data safe, and since when? What the last run did, what is
    /// pending, what is archived (from the state dir's status.json).
    Status(StatusArgs),
    /// List the assets of a Photos library, read directly from its database.
    Assets(AssetsArgs),
    /// Secrets the config refers to: store one in the Keychain, check them all.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Install the launch agent that runs `run` every few minutes, with this
    /// config (macOS: ~/Library/LaunchAgents, loaded with launchctl).
    Install(InstallArgs),
    /// Stop the launch agent and remove its plist.
    Uninstall(UninstallArgs),
    /// Create the borg repository of the config ([borg].repository), then say
    /// how to export its key.
    InitRepo,
    /// The monthly archives, as the ledger records them (offline, no passphrase).
    Archives(ArchivesArgs),
    /// Where a photo is: every version of the matching files, staged,
    /// mirrored or archived (from the ledger).
    Locate(LocateArgs),
    /// Bring the matching files back into a folder, from staging or from
    /// their borg archive; never overwrites a file.
    Restore(RestoreArgs),
    /// Check the setup: config, libraries, tools, secrets, server, borg
    /// repository, folders and the launch agent; says how to fix what is not ok.
    #[command(after_help = DOCTOR_EXIT_CODES)]
    Doctor(DoctorArgs),
    /// Is every photo safe? Each asset of the libraries against the ledger:
    /// in a verified archive (as it is now, or changed since), staged,
    /// mirrored, pending and why, on its way, or never backed up (the back
    /// catalogue); trashed ones counted apart.
    #[command(after_help = COVERAGE_EXIT_CODES)]
    Coverage(CoverageArgs),
    /// A restore drill now: extract a random sample of archived files with
    /// borg (and read a sample of the remote mirror back) and compare them
    /// with what was recorded when they were staged.
    #[command(after_help = DRILL_EXIT_CODES)]
    Drill(DrillArgs),
    /// Write a first config file, or see what one means.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the completion script of a shell to standard output, e.g.
    /// `photos-backup completions zsh > ~/.zfunc/_photos-backup`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff) to standard output, e.g.
    /// `photos-backup man | man -l -`; every command and option in one page.
    Man,
}

/// The environment variable that names the config file when `--config` does not.
pub(crate) const CONFIG_ENV: &str = "PHOTOS_BACKUP_CONFIG";

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell the script is for.
    #[arg(value_name = "SHELL")]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Write the example config (your Photos library filled in when it is at
    /// ~/Pictures/Photos Library.photoslibrary) to the config path; never
    /// overwrites a file. Exit codes: 0 written, 1 not (the file exists).
    Init(ConfigPathArgs),
    /// Load the config and print its settings resolved (absolute paths,
    /// defaults filled; secrets as their references, never read). Exit codes:
    /// 0 it loads, 2 it does not (the error names the file and the key).
    Check(ConfigPathArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ConfigPathArgs {
    /// The config file (default: as for every command: --config,
    /// `$PHOTOS_BACKUP_CONFIG`, else the default path).
    #[arg(long, value_name = "PATH")]
    pub(crate) path: Option<PathBuf>,
}

const DRILL_EXIT_CODES: &str = "Exit codes: 0 every sampled file came back as recorded \
     (or nothing to drill yet), 1 a file did not, or the repository could not be reached, \
     2 usage or config error (no [borg] section)";

#[derive(Debug, Args)]
pub(crate) struct DrillArgs {
    /// Archived files to sample (default: [drill] files, else 20).
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::config::MAX_DRILL_FILES)))]
    pub(crate) files: Option<u32>,

    /// The result as JSON: the counts and every sampled file with its verdict.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SecretCommand {
    /// Store a secret in the macOS Keychain, for `keychain:NAME` in the config.
    /// It is asked twice without echo on a terminal, else read from standard
    /// input (one trailing newline removed).
    Set {
        /// SERVICE or SERVICE/ACCOUNT (the account defaults to your user name).
        name: String,
    },
    /// Read every secret the config refers to and say `ok` or why not; never
    /// prints a value. Exit code 1 when any fails.
    Check,
}

const EXIT_CODES: &str = "Exit codes: 0 done (or nothing to do), 1 failed (a library, \
     its mirror or its monthly archive), 2 usage or config error, 75 skipped (the backup \
     server is not reachable: off network; or another run is in progress). 128 + N: stopped \
     by signal N (SIGTERM from launchd: 143), after releasing the mounts.";

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Show what would be done, change nothing anywhere.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    /// Seconds between runs (`StartInterval` in the plist).
    #[arg(long, value_name = "SECONDS", default_value_t = crate::launchd::DEFAULT_INTERVAL,
          value_parser = clap::value_parser!(u32).range(60..=86_400))]
    pub(crate) interval: u32,

    /// The agent's label, also its plist's name in ~/Library/LaunchAgents.
    #[arg(long, default_value = crate::launchd::DEFAULT_LABEL, value_parser = label)]
    pub(crate) label: String,
}

const COVERAGE_EXIT_CODES: &str = "Exit codes: 0 everything covered or on its way within \
     the normal cycle, 1 something is not (a back catalogue without [backfill], a file missing, \
     pending past [borg] max_pending_days, a Takeout content missing from the ledger, a Takeout \
     part damaged or missing past max_pending_days) or an error, 2 usage or config error";

#[derive(Debug, Args)]
pub(crate) struct CoverageArgs {
    /// Only this library or Takeout source (its name in the config).
    #[arg(long, value_name = "NAME")]
    pub(crate) library: Option<String>,

    /// Also name the assets not in a verified archive as they are now
    /// (uuid, date, file name).
    #[arg(long)]
    pub(crate) list: bool,

    /// The figures as JSON, for scripts and monitors (fields in the README).
    #[arg(long)]
    pub(crate) json: bool,
}

const DOCTOR_EXIT_CODES: &str =
    "Exit codes: 0 nothing FAILED (warnings allowed), 1 something FAILED";

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// The label given to `install`.
    #[arg(long, default_value = crate::launchd::DEFAULT_LABEL, value_parser = label)]
    pub(crate) label: String,

    /// Run the checks as the launch agent meets the Mac (a one-off agent
    /// started by launchd: Local Network, Keychain, Full Disk Access and
    /// Automation as the agent has them), and print its report.
    #[arg(long, conflicts_with = "agent_report")]
    pub(crate) as_agent: bool,

    /// Also send a test notification through the configured method.
    #[arg(long)]
    pub(crate) test_notification: bool,

    /// Print the checks as one JSON document (for scripts), once all are done.
    #[arg(long, conflicts_with_all = ["as_agent", "agent_report"])]
    pub(crate) json: bool,

    /// Used by `--as-agent`'s one-off agent: write the report to FILE.
    #[arg(long, value_name = "FILE", hide = true)]
    pub(crate) agent_report: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct UninstallArgs {
    /// The label given to `install`.
    #[arg(long, default_value = crate::launchd::DEFAULT_LABEL, value_parser = label)]
    pub(crate) label: String,
}

fn label(text: &str) -> Result<String, String> {
    crate::launchd::check_label(text).map(|()| text.to_owned())
}

const STATUS_EXIT_CODES: &str = "Exit codes: 0 done (with --check: healthy), 1 an error, or \
     with --check: something needs attention (no run yet included), 2 usage or config error";

#[derive(Debug, Args)]
#[command(after_help = STATUS_EXIT_CODES)]
pub(crate) struct StatusArgs {
    /// The status file (JSON), for scripts and monitors; its `verdict`
    /// decided now.
    #[arg(long)]
    pub(crate) json: bool,

    /// For monitors: exit 0 when healthy, 1 when anything needs attention
    /// (the ATTENTION lines, printed; no run yet counts).
    #[arg(long)]
    pub(crate) check: bool,

    /// Also show each library by year as a bar chart (in verified archives,
    /// staged, pending, not backed up), from the last coverage figures.
    #[arg(long, conflicts_with_all = ["json", "check"])]
    pub(crate) chart: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AssetsArgs {
    /// The `.photoslibrary` bundle to read (default: every library in the config).
    #[arg(long, value_name = "PATH")]
    pub(crate) library: Option<PathBuf>,

    /// One JSON object per asset (a JSON array), paths relative to the library.
    #[arg(long)]
    pub(crate) json: bool,

    /// Everything a complete backup must hold: trashed assets and burst frames
    /// that were not picked too. By default, what Photos shows.
    #[arg(long)]
    pub(crate) all: bool,

    /// Only assets added, created, edited or modified on or after this day
    /// (YYYY-MM-DD, local midnight).
    #[arg(long, value_name = "DATE")]
    pub(crate) since: Option<chrono::NaiveDate>,
}

#[derive(Debug, Args)]
pub(crate) struct ArchivesArgs {
    /// One JSON object per archive (a JSON array).
    #[arg(long)]
    pub(crate) json: bool,
}

/// How a query is read, for `locate` and `restore`.
const QUERY_HELP: &str = "A uuid (whole, or its first 8 characters or more), \
    a part of a file name (e.g. IMG_1234, any case), or a date YYYY-MM-DD or YYYY-MM \
    (the photo's date folder)";

#[derive(Debug, Args)]
pub(crate) struct LocateArgs {
    #[arg(value_name = "QUERY", help = QUERY_HELP)]
    pub(crate) query: String,

    /// One JSON object per asset (a JSON array), with every place of every version.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    #[arg(value_name = "QUERY", help = QUERY_HELP)]
    pub(crate) query: String,

    /// The folder to restore into (created if missing); files land at
    /// DIR/LIBRARY/YYYY/MM/DD/NAME.
    #[arg(long, value_name = "DIR")]
    pub(crate) to: PathBuf,

    /// Restore the versions this archive holds (default: the newest version
    /// of each file, from staging when it is still staged).
    #[arg(long, value_name = "NAME")]
    pub(crate) archive: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn since_must_be_a_date() {
        let err =
            Cli::try_parse_from(["photos-backup", "assets", "--since", "yesterday"]).unwrap_err();
        assert!(err.to_string().contains("--since"), "{err}");
        let ok = Cli::try_parse_from(["photos-backup", "assets", "--since", "2024-02-29"]).unwrap();
        let Command::Assets(args) = ok.command else {
            panic!("not assets")
        };
        assert_eq!(args.since, chrono::NaiveDate::from_ymd_opt(2024, 2, 29));
    }

    #[test]
    fn secret_has_set_and_check() {
        let set = Cli::try_parse_from(["photos-backup", "secret", "set", "pb/anna"]).unwrap();
        assert!(
            matches!(set.command, Command::Secret(SecretCommand::Set { name }) if name == "pb/anna")
        );
        let check = Cli::try_parse_from(["photos-backup", "secret", "check"]).unwrap();
        assert!(matches!(
            check.command,
            Command::Secret(SecretCommand::Check)
        ));
        assert!(Cli::try_parse_from(["photos-backup", "secret", "set"]).is_err());
    }

    #[test]
    fn install_defaults_and_limits() {
        let Command::Install(args) = Cli::try_parse_from(["photos-backup", "install"])
            .unwrap()
            .command
        else {
            panic!("not install")
        };
        assert_eq!(
            (args.interval, args.label.as_str()),
            (300, "org.photos-backup")
        );
        for bad in [
            &["--interval", "59"][..],
            &["--interval", "86401"],
            &["--label", "../evil"],
        ] {
            let words = ["photos-backup", "install"].iter().chain(bad);
            assert!(Cli::try_parse_from(words).is_err(), "{bad:?}");
        }
        let Command::Uninstall(args) =
            Cli::try_parse_from(["photos-backup", "uninstall", "--label", "com.example.pb"])
                .unwrap()
                .command
        else {
            panic!("not uninstall")
        };
        assert_eq!(args.label, "com.example.pb");
    }

    #[test]
    fn finding_photos_again() {
        let init = Cli::try_parse_from(["photos-backup", "init-repo"]).unwrap();
        assert!(matches!(init.command, Command::InitRepo));
        let archives = Cli::try_parse_from(["photos-backup", "archives", "--json"]).unwrap();
        assert!(matches!(
            archives.command,
            Command::Archives(ArchivesArgs { json: true })
        ));
        let locate = Cli::try_parse_from(["photos-backup", "locate", "2026-09"]).unwrap();
        assert!(
            matches!(locate.command, Command::Locate(LocateArgs { query, json: false }) if query == "2026-09")
        );
        let restore = Cli::try_parse_from([
            "photos-backup",
            "restore",
            "IMG_1",
            "--to",
            "/tmp/r",
            "--archive",
            "photos-anna-2026-09",
        ])
        .unwrap();
        let Command::Restore(args) = restore.command else {
            panic!("not restore")
        };
        assert_eq!(
            (
                args.query.as_str(),
                args.to.as_path(),
                args.archive.as_deref()
            ),
            (
                "IMG_1",
                std::path::Path::new("/tmp/r"),
                Some("photos-anna-2026-09")
            )
        );
        assert!(Cli::try_parse_from(["photos-backup", "restore", "IMG_1"]).is_err());
        assert!(Cli::try_parse_from(["photos-backup", "locate"]).is_err());
    }

    #[test]
    fn doctor_takes_the_agent_label() {
        let Command::Doctor(args) = Cli::try_parse_from(["photos-backup", "doctor"])
            .unwrap()
            .command
        else {
            panic!("not doctor")
        };
        assert_eq!(args.label, "org.photos-backup");
        assert!(Cli::try_parse_from(["photos-backup", "doctor", "--label", "a/b"]).is_err());
    }

    #[test]
    fn config_has_init_and_check_with_a_path() {
        let init =
            Cli::try_parse_from(["photos-backup", "config", "init", "--path", "/tmp/c"]).unwrap();
        assert!(
            matches!(init.command, Command::Config(ConfigCommand::Init(ConfigPathArgs { path: Some(p) })) if p == std::path::Path::new("/tmp/c"))
        );
        let check = Cli::try_parse_from(["photos-backup", "config", "check"]).unwrap();
        assert!(matches!(
            check.command,
            Command::Config(ConfigCommand::Check(ConfigPathArgs { path: None }))
        ));
        assert!(Cli::try_parse_from(["photos-backup", "config"]).is_err());
    }

    #[test]
    fn drill_takes_a_bounded_sample_size_and_json() {
        let Command::Drill(args) =
            Cli::try_parse_from(["photos-backup", "drill", "--files", "5", "--json"])
                .unwrap()
                .command
        else {
            panic!("not drill")
        };
        assert_eq!((args.files, args.json), (Some(5), true));
        for bad in ["0", "10001", "many"] {
            assert!(
                Cli::try_parse_from(["photos-backup", "drill", "--files", bad]).is_err(),
                "{bad}"
            );
        }
    }
}
