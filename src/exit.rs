//! How the program ends, as types: the exit codes by name, and an error on
//! its way out with the class that picks its code. Commands return a
//! [`Code`]; an error becomes a [`Failure`], classed where it arises (a
//! config that does not load, or lacks a section a command needs, is a
//! [`Failure::Config`] by its type, `From<ConfigError>`), never by reading
//! the error back. Only `app::main` turns a code into the process's exit
//! status; the two ways out that cannot return there (the deadline's
//! watchdog, a signal: `128 + N`) end the process themselves. It depends on
//! nothing in the crate. The table is in docs/architecture.md, the README
//! and `cli::EXIT_CODES`.

/// An exit code of the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// 0: done (`run`: nothing failed, warnings allowed; `doctor`: nothing
    /// FAILED).
    Ok,
    /// 1: something failed.
    Failed,
    /// 2: the command line or the config is wrong (clap's code for a
    /// command line it rejects).
    Usage,
    /// 75 (`EX_TEMPFAIL`): `run` skipped: off network, or another run in
    /// progress.
    Skipped,
}

impl Code {
    /// The number the process exits with.
    #[must_use]
    pub(crate) const fn value(self) -> u8 {
        match self {
            Code::Ok => 0,
            Code::Failed => 1,
            Code::Usage => 2,
            Code::Skipped => 75,
        }
    }

    /// [`Code::Ok`] when `passed`, else [`Code::Failed`].
    #[must_use]
    pub(crate) const fn passed(passed: bool) -> Self {
        if passed {
            Code::Ok
        } else {
            Code::Failed
        }
    }
}

/// An error that ends a command, and what kind of failure it is.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The config does not load, or lacks what the command needs: exit 2.
    Config(anyhow::Error),
    /// Anything else: exit 1.
    Other(anyhow::Error),
}

impl Failure {
    /// The code the program exits with.
    #[must_use]
    pub(crate) fn code(&self) -> Code {
        match self {
            Failure::Config(_) => Code::Usage,
            Failure::Other(_) => Code::Failed,
        }
    }

    /// The error itself, to tell the user.
    #[must_use]
    pub(crate) fn error(&self) -> &anyhow::Error {
        match self {
            Failure::Config(e) | Failure::Other(e) => e,
        }
    }
}

/// Any error a command returns is a failure of the command (exit 1).
impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_code() {
        assert_eq!(Failure::Config(anyhow::anyhow!("c")).code().value(), 2);
        let other: Failure = anyhow::anyhow!("o").into();
        assert_eq!(other.code().value(), 1);
        assert_eq!(other.error().to_string(), "o");
        assert_eq!(Code::passed(true), Code::Ok);
        assert_eq!(Code::passed(false).value(), 1);
        assert_eq!(Code::Skipped.value(), 75);
    }
}
