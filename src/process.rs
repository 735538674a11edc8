//! The one place that starts other programs. Every child gets a timeout, its
//! output captured, and a description for errors that names the program;
//! later the secret masking of argv and environment lives here too, so no
//! other module ever spawns a process directly.

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

/// A program and its arguments, built by pure functions and tested as lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl CommandLine {
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
        }
    }

    /// The program's name, for messages.
    #[must_use]
    pub fn name(&self) -> String {
        self.program.display().to_string()
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
        let handle = duct::cmd(cmd.program.as_os_str(), &cmd.args)
            .stdin_null()
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
