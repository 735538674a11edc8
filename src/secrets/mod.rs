//! Secrets (the gocryptfs password, the borg passphrase): where they
//! come from and how they are read, without ever showing them. The config
//! holds a [`Reference`] (`keychain:`, `command:`, `file:`, `env:`), never a
//! value; a [`SecretStore`] turns it into a [`Secret`]. The store is a trait
//! passed in, so tests use fakes. Errors name the reference and the cause,
//! never the value.

mod command;
pub(crate) mod env;
mod file;
pub(crate) mod keychain;
mod reference;
mod store;

use std::path::PathBuf;

pub use keychain::{Keychain, KeychainError, SystemKeychain};
pub(crate) use reference::{Reference, ReferenceError};
pub use store::{FixedStore, ReferenceStore};

/// A secret value. It never prints: `Debug` and `Display` show `***`, so a
/// secret cannot end up in a log line, an error or `status.json` by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value itself, for the one place that hands it to a child process.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Where secrets come from: resolves a reference from the config.
pub trait SecretStore {
    /// The secret that `reference` (`keychain:SERVICE[/ACCOUNT]`,
    /// `command:CMD`, `file:PATH`, `env:VAR`) points at.
    fn get(&self, reference: &str) -> Result<Secret, SecretError>;
}

/// A secret that could not be had. Names the reference, never the value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The text is not a reference; it is not repeated (it may be a
    /// password written into the config by mistake).
    #[error("not a secret reference: {0}")]
    Invalid(ReferenceError),
    #[error("secret {reference}")]
    Source {
        reference: Reference,
        #[source]
        cause: SourceError,
    },
}

impl SecretError {
    /// The cause alone, for a line that already names the reference.
    #[must_use]
    pub(crate) fn cause(&self) -> String {
        match self {
            Self::Invalid(e) => e.to_string(),
            Self::Source { cause, .. } => crate::error_text::describe(cause),
        }
    }
}

/// Why a source did not give its secret. Never holds the value, nor any
/// output of a command (which may be the value).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Keychain(KeychainError),
    #[error("no Keychain item with service {service:?} and account {account:?}")]
    KeychainMissing { service: String, account: String },
    #[error("cannot run the command")]
    CommandStart { source: std::io::Error },
    #[error("the command did not finish within {seconds} s and was stopped")]
    CommandTimeout { seconds: u64 },
    #[error("the command failed ({status}); its output is not shown, run it yourself to see why")]
    CommandFailed { status: String },
    #[error("the command printed more than {limit} bytes: not a secret; check the command")]
    CommandTooLong { limit: usize },
    #[error("cannot read {}", path.display())]
    FileRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error(
        "{path} has mode {mode:04o}; a secret file must be readable by its owner only \
         (chmod 600 {path})",
        path = path.display()
    )]
    FileMode { path: PathBuf, mode: u32 },
    #[error(
        "{path} belongs to user {uid}; a secret file must belong to the user running \
         photos-backup ({me}) or to root",
        path = path.display()
    )]
    FileOwner { path: PathBuf, uid: u32, me: u32 },
    #[error(
        "{path} is in {folder}, which other users can write to (mode {mode:04o}): they \
         could replace the file; keep secret files in a folder only you can write to",
        path = path.display(),
        folder = folder.display()
    )]
    FileFolder {
        path: PathBuf,
        folder: PathBuf,
        mode: u32,
    },
    #[error("environment variable {name} is not set")]
    EnvUnset { name: String },
    #[error("the secret is not UTF-8 text")]
    NotUtf8,
    #[error("the secret is empty")]
    Empty,
    /// A stand-in store ([`FixedStore`]) has no secret for the reference.
    #[error("no such secret")]
    Unknown,
}

/// A secret from a file or a command's stdout: UTF-8, one final newline
/// (`\n` or `\r\n`) removed, not empty.
pub(crate) fn from_output(mut bytes: Vec<u8>) -> Result<Secret, SourceError> {
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    from_bytes(bytes)
}

/// A secret from exact bytes (a Keychain item): UTF-8, not empty.
pub(crate) fn from_bytes(bytes: Vec<u8>) -> Result<Secret, SourceError> {
    // No `FromUtf8Error` kept: it would carry the bytes.
    let text = String::from_utf8(bytes).map_err(|_| SourceError::NotUtf8)?;
    if text.is_empty() {
        return Err(SourceError::Empty);
    }
    Ok(Secret::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn output_loses_one_final_newline_only() {
        let text = |b: &[u8]| from_output(b.to_vec()).map(|s| s.expose().to_owned());
        assert_eq!(text(b"pw\n").unwrap(), "pw");
        assert_eq!(text(b"pw\r\n").unwrap(), "pw");
        assert_eq!(text(b"pw\n\n").unwrap(), "pw\n");
        assert_eq!(text(b" pw ").unwrap(), " pw ");
        assert!(matches!(text(b"\n"), Err(SourceError::Empty)));
        let err = text(b"hunter2\xff").unwrap_err();
        assert!(matches!(err, SourceError::NotUtf8));
        assert!(!format!("{err:?}").contains("104"), "no bytes in {err:?}");
    }
}
