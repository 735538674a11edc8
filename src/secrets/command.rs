//! `command:CMD`: a secret printed by a program (a password manager's CLI,
//! `op read ...`, `pass show ...`), run through `sh -c` by `process`, the
//! one place that spawns. Its output is the secret, so none of it, not even
//! its stderr, ever goes into an error: a failure names the command and its
//! exit status only. A secret is a line, so more than [`MAX_OUTPUT`] bytes
//! is a mistake (the wrong command), refused before it fills memory.

use std::time::Duration;

use super::{Secret, SourceError};
use crate::process::{CommandLine, CommandRunner, ProcessError};

/// The most a secret command may print.
const MAX_OUTPUT: usize = 64 * 1024;

/// Runs `command` with `sh -c`; its stdout, less one final newline, is the secret.
pub(super) fn read(
    runner: &dyn CommandRunner,
    command: &str,
    timeout: Duration,
) -> Result<Secret, SourceError> {
    let line = CommandLine::new("sh", ["-c", command]).max_stdout(MAX_OUTPUT);
    let output = runner.run(&line, timeout).map_err(|e| match e {
        ProcessError::Timeout { seconds, .. } => SourceError::CommandTimeout { seconds },
        ProcessError::Start { source, .. } => SourceError::CommandStart { source },
        ProcessError::TooMuchOutput { limit, .. } => SourceError::CommandTooLong { limit },
    })?;
    if !output.status.success() {
        return Err(SourceError::CommandFailed {
            status: output.status.to_string(),
        });
    }
    super::from_output(output.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::System;

    const TIMEOUT: Duration = Duration::from_secs(20);

    #[test]
    fn stdout_less_its_final_newline_is_the_secret() {
        let secret = read(&System, "printf hunter2", TIMEOUT).unwrap();
        assert_eq!(secret.expose(), "hunter2");
        let secret = read(&System, "echo hunter2", TIMEOUT).unwrap();
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn a_failing_command_shows_its_status_but_no_output() {
        let err = read(&System, "echo hunter2; echo hunter3 >&2; exit 3", TIMEOUT).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("hunter3"),
            "{shown}"
        );
        assert!(err.to_string().contains("exit status: 3"), "{err}");
    }

    #[test]
    fn a_slow_command_is_stopped_and_an_empty_one_refused() {
        let err = read(&System, "sleep 30", Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, SourceError::CommandTimeout { .. }), "{err}");
        let err = read(&System, "true", TIMEOUT).unwrap_err();
        assert!(matches!(err, SourceError::Empty), "{err}");
    }

    #[test]
    fn an_endless_output_is_refused_not_kept() {
        let err = read(&System, "yes hunter2", TIMEOUT).unwrap_err();
        assert!(
            matches!(err, SourceError::CommandTooLong { limit: MAX_OUTPUT }),
            "{err}"
        );
        assert!(!format!("{err} {err:?}").contains("hunter2"));
        let line = "x".repeat(MAX_OUTPUT);
        let secret = read(&System, &format!("printf {line}"), TIMEOUT).unwrap();
        assert_eq!(secret.expose().len(), MAX_OUTPUT);
    }
}
