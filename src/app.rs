//! Where a command line becomes work: parse the arguments, find and load the
//! config when the command needs it, dispatch to `commands`, and turn the
//! outcome into an exit code (`exit::Code`; a config that does not load is a
//! `exit::Failure::Config`, exit 2). Errors are printed once, here, with
//! their whole chain of causes.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use crate::cli::{Cli, Command, ConfigCommand, SecretCommand};
use crate::clock::Clock;
use crate::commands::doctor::as_agent::AgentEnv;
use crate::config::{self, Config};
use crate::error_text::describe_error;
use crate::exit::{Code, Failure};
use crate::host::Host;
use crate::{commands, platform};

/// The entry point of the binary.
#[must_use]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let code = if e.use_stderr() {
                Code::Usage
            } else {
                Code::Ok
            };
            return ExitCode::from(code.value());
        }
    };
    // Everything this process and its children create is owner-only.
    crate::private_fs::restrict_umask();
    // Buffered: a JSON listing of 100k assets is millions of lines, and
    // stdout on its own flushes at every one of them.
    let mut stdout =
        std::io::BufWriter::with_capacity(1 << 16, ReaderMayLeave(std::io::stdout().lock()));
    // Stderr is not held locked for the whole run: the signal thread
    // (`terminate`) must be able to say why it stops the process.
    let mut stderr = std::io::stderr();
    let code = run(&cli, &mut stdout, &mut stderr);
    if let Err(e) = stdout.flush() {
        let _ = writeln!(stderr, "photos-backup: error: writing output: {e}");
        return ExitCode::from(Code::Failed.value());
    }
    ExitCode::from(code.value())
}

/// Standard output whose reader may go away (`photos-backup man | head`):
/// once a write finds the pipe closed, the rest of the output is dropped
/// and the command goes on to its end and its own exit code. Nobody reads
/// what it would say; a backup that a closed pipe stopped half-way would
/// be worse.
struct ReaderMayLeave<W>(W);

impl<W: Write> Write for ReaderMayLeave<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

/// Runs one parsed command line; returns the exit code.
fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Code {
    match dispatch(cli, out, err) {
        Ok(code) => code,
        Err(failure) => {
            let _ = writeln!(
                err,
                "photos-backup: error: {}",
                describe_error(failure.error())
            );
            failure.code()
        }
    }
}

/// The clock of this process: the system's, or the instant
/// `$PHOTOS_BACKUP_NOW` (RFC 3339) names, with which the demo and the tests
/// live through month ends in a minute. A malformed value is an error,
/// never silently the real time.
fn clock() -> Result<Clock> {
    match std::env::var("PHOTOS_BACKUP_NOW") {
        Ok(text) => chrono::DateTime::parse_from_rfc3339(text.trim())
            .map(|t| Clock::Fixed(t.to_utc()))
            .with_context(|| format!("$PHOTOS_BACKUP_NOW is not an RFC 3339 time: {text:?}")),
        Err(_) => Ok(Clock::System),
    }
}

fn dispatch(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<Code, Failure> {
    // The machine, described once; everything below takes it or its parts.
    let host = Host::current();
    let host = &host;
    match &cli.command {
        Command::Run(args) => run_backup(cli, args, host, out, err),
        Command::Status(args) => {
            let config = load_config(cli, host)?;
            let healthy = commands::status::run(&config, args, clock()?.now(), out)?;
            Ok(Code::passed(healthy || !args.check))
        }
        Command::Assets(args) => {
            let libraries = match &args.library {
                Some(path) => vec![path.clone()],
                None => load_config(cli, host)?
                    .libraries
                    .into_iter()
                    .map(|l| l.path)
                    .collect(),
            };
            commands::assets::run(args, &libraries, out, err)?;
            Ok(Code::Ok)
        }
        Command::Secret(SecretCommand::Set { name }) => {
            let account = crate::secrets::keychain::default_account();
            let mut read = commands::secret::read_new_secret;
            let keychain = crate::secrets::SystemKeychain;
            commands::secret::set(name, &keychain, &account, &mut read, out)?;
            Ok(Code::Ok)
        }
        Command::Secret(SecretCommand::Check) => {
            let config = load_config(cli, host)?;
            let ok = commands::secret::check(&config, &secret_store(&config, host), out)?;
            Ok(Code::passed(ok))
        }
        Command::Install(args) => {
            // The agent would fail every few minutes with a config that does not load.
            let config = load_config(cli, host)?;
            let env = AgentEnv::on(host)?;
            commands::install::install(args, &config.file, &env, &crate::process::System, out)?;
            Ok(Code::Ok)
        }
        Command::Uninstall(args) => {
            let env = AgentEnv::on(host)?;
            commands::install::uninstall(args, &env, &crate::process::System, out)?;
            Ok(Code::Ok)
        }
        Command::InitRepo => {
            let config = load_config(cli, host)?;
            with_borg(&config, host, |deps| {
                commands::init_repo::run(&config, deps, out)
            })?;
            Ok(Code::Ok)
        }
        Command::Archives(args) => {
            commands::archives::run(&load_config(cli, host)?, args.json, out)?;
            Ok(Code::Ok)
        }
        Command::Locate(args) => {
            commands::locate::run(&load_config(cli, host)?, &args.query, args.json, out)?;
            Ok(Code::Ok)
        }
        Command::Restore(args) => {
            let config = load_config(cli, host)?;
            let archive = args.archive.as_deref();
            with_borg(&config, host, |deps| {
                commands::restore::run(&config, &args.query, &args.to, archive, deps, out)
            })?;
            Ok(Code::Ok)
        }
        // A config that does not load is a finding of the doctor.
        Command::Doctor(args) => Ok(doctor(cli, args, host, out)?),
        Command::Coverage(args) => coverage(cli, args, host, (out, err)),
        Command::Drill(args) => drill(cli, args, host, out),
        Command::Config(command) => config_command(cli, command, host, out),
        Command::Completions(args) => {
            commands::completions::run(args.shell, out)?;
            Ok(Code::Ok)
        }
        Command::Man => {
            commands::man::run(out)?;
            Ok(Code::Ok)
        }
    }
}

/// `config init` / `config check`: `--path`, else the config of every command.
fn config_command(
    cli: &Cli,
    command: &ConfigCommand,
    host: &Host,
    out: &mut dyn Write,
) -> Result<Code, Failure> {
    let (ConfigCommand::Init(args) | ConfigCommand::Check(args)) = command;
    let path = args.path.clone().unwrap_or_else(|| config_path(cli, host));
    match command {
        ConfigCommand::Init(_) => commands::config_cmd::init(&path, host, out)?,
        ConfigCommand::Check(_) => commands::config_cmd::check(&config::load(&path, host)?, out)?,
    }
    Ok(Code::Ok)
}

/// `drill`: a restore drill now, through the repository of the config.
fn drill(
    cli: &Cli,
    args: &crate::cli::DrillArgs,
    host: &Host,
    out: &mut dyn Write,
) -> Result<Code, Failure> {
    let config = load_config(cli, host)?;
    let now = clock()?.now();
    let passed = with_borg(&config, host, |borg| {
        let machine = commands::drill::Machine { borg, host, now };
        commands::drill::run(&config, args.files, args.json, &machine, out)
    })?;
    Ok(Code::passed(passed))
}

/// `run`: one backup cycle with the real seams, as the LaunchAgent runs it.
fn run_backup(
    cli: &Cli,
    args: &crate::cli::RunArgs,
    host: &Host,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Code, Failure> {
    let config = load_config(cli, host)?;
    let mut progress = progress_for(cli);
    // -v: every program run, on stderr (and so in launchd's log).
    let traced = crate::process::Traced {
        inner: &crate::process::System,
        log: std::sync::Mutex::new(std::io::stderr()),
    };
    let runner: &dyn crate::process::CommandRunner = if cli.verbose > 0 {
        &traced
    } else {
        &crate::process::System
    };
    let photos_app = crate::export::download::PhotosApp { runner };
    let secrets = secret_store(&config, host);
    let clock = clock()?;
    let ctx = commands::run::unattended::Context {
        now: clock.now(),
        clock,
        runner,
        secrets: &secrets,
        downloader: platform::can_ask_photos().then_some(&photos_app as _),
        host,
    };
    Ok(commands::run::unattended::command(
        &config,
        (args.dry_run, cli.quiet),
        ctx,
        progress.as_mut(),
        out,
        err,
    )?)
}

/// `coverage`: its exit code says whether everything is covered.
fn coverage(
    cli: &Cli,
    args: &crate::cli::CoverageArgs,
    host: &Host,
    streams: (&mut dyn Write, &mut dyn Write),
) -> Result<Code, Failure> {
    let config = load_config(cli, host)?;
    Ok(commands::coverage::run(
        &config,
        args,
        clock()?.now(),
        streams,
    )?)
}

/// `doctor`: here, as the agent (`--as-agent`), or as the agent's probe
/// (`--agent-report`, which also writes the report to a file).
fn doctor(
    cli: &Cli,
    args: &crate::cli::DoctorArgs,
    host: &Host,
    out: &mut dyn Write,
) -> Result<Code> {
    if args.as_agent {
        let env = AgentEnv::on(host)?;
        let ok = commands::doctor::as_agent::run(
            &config_path(cli, host),
            &args.label,
            &env,
            &crate::process::System,
            out,
        )?;
        return Ok(Code::passed(ok));
    }
    let mut machine = commands::doctor::Machine::on(host, &args.label);
    machine.test_notification = args.test_notification;
    let format = if args.json {
        commands::doctor::Format::Json
    } else {
        commands::doctor::Format::Text
    };
    // As the agent: no Keychain dialog either (nobody would answer it).
    let _no_keychain_ui = match &args.agent_report {
        Some(_) => Some(platform::forbid_keychain_ui()?),
        None => None,
    };
    let mut report = Vec::new();
    let sink: &mut dyn Write = if args.agent_report.is_some() {
        &mut report
    } else {
        out
    };
    // A config that does not load is the doctor's first finding, not an error.
    let ok = match load_config(cli, host) {
        Ok(config) => commands::doctor::run(
            &config,
            &secret_store(&config, host),
            &crate::process::System,
            &machine,
            (sink, format),
        )?,
        Err(e) => commands::doctor::bad_config(&config_path(cli, host), &e, (sink, format))?,
    };
    if let Some(path) = &args.agent_report {
        let text = String::from_utf8_lossy(&report);
        commands::doctor::as_agent::write_report(path, ok, &text)?;
        out.write_all(&report)?;
    }
    Ok(Code::passed(ok))
}

/// The real secret store for `config`: `file:` paths relative to its folder.
#[must_use]
fn secret_store(config: &Config, host: &Host) -> crate::secrets::ReferenceStore<'static> {
    // An `env:` secret reaches no child, from the first one on (the gate
    // runs programs before any secret is read).
    let references = [
        config.remote.as_ref().map(|r| r.password.as_str()),
        config.borg.as_ref().map(|b| b.passphrase.as_str()),
        config.monitor.as_ref().map(|m| m.url.as_str()),
    ];
    for reference in references.into_iter().flatten() {
        if let Ok(crate::secrets::Reference::Env(name)) =
            crate::secrets::Reference::parse(reference)
        {
            crate::process::withhold_env(&name);
        }
    }
    let file = std::path::absolute(&config.file).unwrap_or_else(|_| config.file.clone());
    let base = file.parent().map(PathBuf::from).unwrap_or_default();
    crate::secrets::ReferenceStore::new(
        &crate::process::System,
        &crate::secrets::SystemKeychain,
        host.home.clone(),
        base,
    )
}

/// Runs `f` with what reaching the borg repository takes on this machine.
fn with_borg<T>(
    config: &Config,
    host: &Host,
    f: impl FnOnce(&crate::archive::access::Deps) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let secrets = secret_store(config, host);
    f(&crate::archive::access::Deps {
        runner: &crate::process::System,
        secrets: &secrets,
        tool_dirs: &host.tool_dirs,
    })
}

/// A progress bar on a terminal, plain log lines otherwise, nothing with `-q`.
fn progress_for(cli: &Cli) -> Box<dyn crate::export::stage::Progress> {
    use std::io::IsTerminal;
    if cli.quiet {
        Box::new(crate::export::stage::Silent)
    } else if std::io::stderr().is_terminal() {
        Box::new(crate::export::progress::Bar::default())
    } else {
        Box::new(crate::export::progress::Lines::to_stderr())
    }
}

/// `--config`, else `$PHOTOS_BACKUP_CONFIG` (both read by clap into
/// `cli.config`), else the default file (`$XDG_CONFIG_HOME` on Linux).
#[must_use]
fn config_path(cli: &Cli, host: &Host) -> PathBuf {
    cli.config.clone().unwrap_or_else(|| {
        let xdg_config_home = std::env::var_os("XDG_CONFIG_HOME");
        crate::host::default_config_file(host.os, &host.home, xdg_config_home.as_deref())
    })
}

/// The config of the command line; its error is a config failure (exit 2).
fn load_config(cli: &Cli, host: &Host) -> Result<Config, config::ConfigError> {
    config::load(&config_path(cli, host), host)
}
