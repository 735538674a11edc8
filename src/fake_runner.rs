//! A stand-in for `process::System` in unit tests: it records every command
//! line it is asked to run and answers with an exit code and output chosen
//! by the test, so command lines are tested as data and failures on demand.

use std::cell::RefCell;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Output};
use std::time::Duration;

use crate::process::{CommandLine, CommandRunner, ProcessError};

/// An answer: exit code, stdout, stderr.
type Answer = (i32, String, String);

type Script = Box<dyn Fn(&CommandLine) -> Answer>;

/// Records commands; answers each with what `script` says.
pub(crate) struct FakeRunner {
    script: Script,
    seen: RefCell<Vec<CommandLine>>,
}

impl FakeRunner {
    /// Answers every command with `code` and `stderr` (and no stdout).
    pub(crate) fn exiting(code: i32, stderr: &str) -> Self {
        let stderr = stderr.to_owned();
        Self::answering(move |_| (code, String::new(), stderr.clone()))
    }

    /// Answers each command with `script(command)`.
    pub(crate) fn answering(script: impl Fn(&CommandLine) -> Answer + 'static) -> Self {
        Self {
            script: Box::new(script),
            seen: RefCell::new(Vec::new()),
        }
    }

    /// Every command run so far, in order.
    pub(crate) fn commands(&self) -> Vec<CommandLine> {
        self.seen.borrow().clone()
    }
}

impl CommandRunner for FakeRunner {
    fn run(&self, cmd: &CommandLine, _timeout: Duration) -> Result<Output, ProcessError> {
        self.seen.borrow_mut().push(cmd.clone());
        let (code, stdout, stderr) = (self.script)(cmd);
        Ok(Output {
            status: ExitStatus::from_raw(code << 8),
            stdout: stdout.into_bytes(),
            stderr: stderr.into_bytes(),
        })
    }
}
