//! The one place that starts other programs. Every child gets a timeout, its
//! output captured, and a description for errors that names the program.
//! Secrets reach a child only through its standard input or an environment
//! variable marked secret, never its arguments, and every rendering of a
//! command line (`Display`, `Debug`, errors, logs) masks them. No other
//! module spawns a process.

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

/// A program and its arguments, built by pure functions and tested as lists,
/// with the environment and standard input it needs.
#[derive(Clone, PartialEq, Eq)]
pub struct CommandLine {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<EnvVar>,
    /// Bytes written to the child's standard input (a password, a list of
    /// paths), then closed.
    pub stdin: Option<Vec<u8>>,
    /// The child's working folder (default: ours).
    pub cwd: Option<PathBuf>,
}

/// One environment variable for a child; a secret one is never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
    pub secret: bool,
}

impl CommandLine {
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            stdin: None,
            cwd: None,
        }
    }

    /// Runs the child in `dir`.
    #[must_use]
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    #[must_use]
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push(EnvVar {
            name: name.to_owned(),
            value: value.to_owned(),
            secret: false,
        });
        self
    }

    #[must_use]
    pub fn secret_env(mut self, name: &str, value: &str) -> Self {
        self.env.push(EnvVar {
            name: name.to_owned(),
            value: value.to_owned(),
            secret: true,
        });
        self
    }

    /// Sends `bytes` (a secret) on the child's standard input.
    #[must_use]
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// The program's name, for messages.
    #[must_use]
    pub fn name(&self) -> String {
        self.program.display().to_string()
    }
}

/// `NAME=value program args`, secrets as `***`, standard input never shown.
impl std::fmt::Display for CommandLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for var in &self.env {
            let value = if var.secret {
                "***"
            } else {
                var.value.as_str()
            };
            write!(f, "{}={} ", var.name, value)?;
        }
        write!(f, "{}", self.program.display())?;
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        if self.stdin.is_some() {
            write!(f, " <(secret on stdin)")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for CommandLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CommandLine({self})")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start {program}: {source}")]
    Start {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} did not finish within {seconds} s and was stopped")]
    Timeout { program: String, seconds: u64 },
}

/// Names of environment variables that hold a secret (`env:NAME`
/// references): no child inherits them. A child that needs the secret gets
/// it through its own channel (`BORG_PASSPHRASE`, standard input), set
/// explicitly on its `CommandLine`, which this does not remove.
static WITHHELD: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Keeps the variable `name` out of the environment of every child started
/// from now on (unless its command line sets it).
pub fn withhold_env(name: &str) {
    WITHHELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(name.to_owned());
}

/// The withheld variables `cmd` does not set itself.
fn withheld_from(cmd: &CommandLine) -> Vec<String> {
    WITHHELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .filter(|name| !cmd.env.iter().any(|v| &v.name == *name))
        .cloned()
        .collect()
}

/// Runs programs. A trait so tests can stand in for the real thing.
pub trait CommandRunner {
    /// Runs `cmd` to completion or until `timeout`; output is captured.
    fn run(&self, cmd: &CommandLine, timeout: Duration) -> Result<Output, ProcessError>;
}

/// Runs real processes (through duct, which reaps children properly).
#[derive(Debug, Default, Clone, Copy)]
pub struct System;

impl CommandRunner for System {
    fn run(&self, cmd: &CommandLine, timeout: Duration) -> Result<Output, ProcessError> {
        let mut expression = duct::cmd(cmd.program.as_os_str(), &cmd.args);
        for name in withheld_from(cmd) {
            expression = expression.env_remove(name);
        }
        for var in &cmd.env {
            expression = expression.env(&var.name, &var.value);
        }
        if let Some(dir) = &cmd.cwd {
            expression = expression.dir(dir);
        }
        expression = match &cmd.stdin {
            Some(bytes) => expression.stdin_bytes(bytes.clone()),
            None => expression.stdin_null(),
        };
        let handle = expression
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .start()
            .map_err(|source| ProcessError::Start {
                program: cmd.name(),
                source,
            })?;
        let deadline = Instant::now() + timeout;
        loop {
            match handle.try_wait() {
                Ok(Some(output)) => return Ok(output.clone()),
                Ok(None) if Instant::now() >= deadline => {
                    let _ = handle.kill();
                    return Err(ProcessError::Timeout {
                        program: cmd.name(),
                        seconds: timeout.as_secs(),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(source) => {
                    return Err(ProcessError::Start {
                        program: cmd.name(),
                        source,
                    })
                }
            }
        }
    }
}

/// A runner that says what it runs (`-v`): each command line, secrets
/// masked, then how it ended and how long it took, to `log`.
pub struct Traced<'a, W: std::io::Write + Send> {
    pub inner: &'a dyn CommandRunner,
    pub log: std::sync::Mutex<W>,
}

impl<W: std::io::Write + Send> CommandRunner for Traced<'_, W> {
    fn run(&self, cmd: &CommandLine, timeout: Duration) -> Result<Output, ProcessError> {
        let started = Instant::now();
        let result = self.inner.run(cmd, timeout);
        let ended = match &result {
            Ok(out) => out.status.to_string(),
            Err(e) => e.to_string(),
        };
        if let Ok(mut log) = self.log.lock() {
            let _ = writeln!(
                log,
                "$ {cmd}  [{ended}, {:.2} s]",
                started.elapsed().as_secs_f64()
            );
        }
        result
    }
}

/// Starts `cmd` and leaves it running, reaped by a thread when it ends
/// (`caffeinate -w PID` ends with us). Its output is discarded.
pub fn spawn_background(cmd: &CommandLine) -> Result<(), ProcessError> {
    let mut command = std::process::Command::new(&cmd.program);
    command
        .args(&cmd.args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for name in withheld_from(cmd) {
        command.env_remove(name);
    }
    for var in &cmd.env {
        command.env(&var.name, &var.value);
    }
    if let Some(dir) = &cmd.cwd {
        command.current_dir(dir);
    }
    let mut child = command.spawn().map_err(|source| ProcessError::Start {
        program: cmd.name(),
        source,
    })?;
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// How a child ended, for an error message: its status and, when it said
/// something, the first lines of its stderr.
#[must_use]
pub fn failure_detail(output: &Output) -> String {
    let excerpt = stderr_excerpt(output);
    if excerpt.is_empty() {
        output.status.to_string()
    } else {
        format!("{}: {excerpt}", output.status)
    }
}

/// The first lines of a child's stderr, for an error message.
#[must_use]
pub fn stderr_excerpt(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(3)
        .collect();
    lines.join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traced_runner_says_what_it_ran_without_secrets() {
        let traced = Traced {
            inner: &System,
            log: std::sync::Mutex::new(Vec::new()),
        };
        let cmd = CommandLine::new("sh", ["-c", "exit 3"]).secret_env("PW", "hunter2");
        let out = traced.run(&cmd, Duration::from_secs(10)).unwrap();
        assert_eq!(out.status.code(), Some(3));
        let log = String::from_utf8(traced.log.into_inner().unwrap()).unwrap();
        assert!(
            log.starts_with("$ PW=*** sh -c exit 3  [exit status: 3, "),
            "{log}"
        );
        assert!(!log.contains("hunter2"));
    }

    #[test]
    fn runs_captures_and_times_out() {
        let out = System
            .run(
                &CommandLine::new("sh", ["-c", "echo out; echo err >&2; exit 3"]),
                Duration::from_secs(10),
            )
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(stderr_excerpt(&out), "err");

        let started = Instant::now();
        let err = System
            .run(
                &CommandLine::new("sleep", ["30"]),
                Duration::from_millis(200),
            )
            .unwrap_err();
        assert!(err.to_string().contains("sleep did not finish"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn an_env_secret_reaches_no_child_unless_set_for_it() {
        // A name used by this test alone: tests run in parallel.
        std::env::set_var("PB_TEST_WITHHELD_SECRET", "hunter2");
        let show = "echo ${PB_TEST_WITHHELD_SECRET-unset}";
        let run = |cmd: &CommandLine| {
            let out = System.run(cmd, Duration::from_secs(10)).unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        assert_eq!(run(&CommandLine::new("sh", ["-c", show])), "hunter2");
        crate::secrets::env::read("PB_TEST_WITHHELD_SECRET").unwrap();
        assert_eq!(run(&CommandLine::new("sh", ["-c", show])), "unset");
        let meant = CommandLine::new("sh", ["-c", show])
            .secret_env("PB_TEST_WITHHELD_SECRET", "for this one");
        assert_eq!(run(&meant), "for this one");
    }

    #[test]
    fn secrets_reach_the_child_but_never_its_rendering() {
        let cmd = CommandLine::new("sh", ["-c", "read line; echo \"$line $PB_TOKEN $PB_MODE\""])
            .stdin("hunter2\n")
            .secret_env("PB_TOKEN", "s3cr3t")
            .env("PB_MODE", "plain");
        let out = System.run(&cmd, Duration::from_secs(10)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hunter2 s3cr3t plain\n"
        );
        for shown in [cmd.to_string(), format!("{cmd:?}")] {
            assert!(
                !shown.contains("hunter2") && !shown.contains("s3cr3t"),
                "{shown}"
            );
            assert!(
                shown.contains("PB_TOKEN=***") && shown.contains("PB_MODE=plain"),
                "{shown}"
            );
        }
    }

    #[test]
    fn a_missing_program_is_named() {
        let err = System
            .run(
                &CommandLine::new("/nonexistent/tool", ["x"]),
                Duration::from_secs(1),
            )
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/tool"), "{err}");
    }
}
