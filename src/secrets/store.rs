//! The real [`SecretStore`]: parses a reference and asks the source it
//! names (Keychain, command, file, environment). Its seams (the command
//! runner, the Keychain, home and the config's folder) are passed in, so it
//! runs in tests on any OS. [`FixedStore`] is the stand-in for code that
//! only needs some secret.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::keychain::{self, Keychain};
use super::{command, env, file, Reference, Secret, SecretError, SecretStore, SourceError};
use crate::process::CommandRunner;

/// Resolves references against the real sources.
pub struct ReferenceStore<'a> {
    runner: &'a dyn CommandRunner,
    keychain: &'a dyn Keychain,
    /// What `~` in a `file:` path means.
    home: PathBuf,
    /// What a relative `file:` path is relative to: the config file's folder.
    base: PathBuf,
    /// The account of a `keychain:SERVICE` that names none.
    default_account: String,
    /// How long a `command:` may take (it may wait for a password manager).
    command_timeout: Duration,
}

impl<'a> ReferenceStore<'a> {
    /// The default command timeout: enough to unlock a password manager.
    const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

    /// A store with the user's login name as default account and the
    /// default command timeout.
    #[must_use]
    pub(crate) fn new(
        runner: &'a dyn CommandRunner,
        keychain: &'a dyn Keychain,
        home: PathBuf,
        base: PathBuf,
    ) -> Self {
        Self {
            runner,
            keychain,
            home,
            base,
            default_account: keychain::default_account(),
            command_timeout: Self::COMMAND_TIMEOUT,
        }
    }

    /// The secret of a parsed reference.
    fn resolve(&self, reference: &Reference) -> Result<Secret, SourceError> {
        match reference {
            Reference::Keychain { service, account } => {
                let account = account.as_deref().unwrap_or(&self.default_account);
                match keychain::find_split(self.keychain, service, account) {
                    Ok(Some(bytes)) => super::from_bytes(bytes),
                    Ok(None) => Err(SourceError::KeychainMissing {
                        service: service.clone(),
                        account: account.to_owned(),
                    }),
                    Err(e) => Err(SourceError::Keychain(e)),
                }
            }
            Reference::Command(cmd) => command::read(self.runner, cmd, self.command_timeout),
            Reference::File(path) => {
                file::read(&crate::config::resolve_path(path, &self.home, &self.base))
            }
            Reference::Env(name) => env::read(name),
        }
    }
}

impl SecretStore for ReferenceStore<'_> {
    fn get(&self, reference: &str) -> Result<Secret, SecretError> {
        let reference = Reference::parse(reference).map_err(SecretError::Invalid)?;
        self.resolve(&reference)
            .map_err(|cause| SecretError::Source { reference, cause })
    }
}

/// Secrets given up front, by reference text: a stand-in for tests.
#[derive(Debug, Default, Clone)]
pub struct FixedStore(BTreeMap<String, Secret>);

impl FixedStore {
    /// Adds `value` as the secret of `reference`.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn with(mut self, reference: &str, value: &str) -> Self {
        self.0
            .insert(reference.to_owned(), Secret::new(value.to_owned()));
        self
    }
}

impl SecretStore for FixedStore {
    fn get(&self, reference: &str) -> Result<Secret, SecretError> {
        let parsed = Reference::parse(reference).map_err(SecretError::Invalid)?;
        self.0.get(reference).cloned().ok_or(SecretError::Source {
            reference: parsed,
            cause: SourceError::Unknown,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::error_text::describe;
    use crate::process::System;
    use crate::secrets::keychain::MemoryKeychain;

    fn store<'a>(keychain: &'a MemoryKeychain, home: &std::path::Path) -> ReferenceStore<'a> {
        ReferenceStore {
            default_account: "anna".into(),
            ..ReferenceStore::new(&System, keychain, home.to_owned(), home.join("conf"))
        }
    }

    #[test]
    fn every_kind_resolves() {
        let home = tempfile::tempdir().unwrap();
        let k = MemoryKeychain::default();
        k.store("pb", "anna", b"from-keychain").unwrap();
        k.store("pb_1", "anna", b"-continued").unwrap();
        k.store("pb", "ben", b"bens").unwrap();
        std::fs::create_dir(home.path().join("conf")).unwrap();
        for (name, content) in [("pw", "from-home\n"), ("conf/pw", "from-conf\n")] {
            let path = home.path().join(name);
            std::fs::write(&path, content).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::env::set_var("PB_TEST_STORE_ENV", "from-env");
        let s = store(&k, home.path());
        for (reference, expected) in [
            ("keychain:pb", "from-keychain-continued"),
            ("keychain:pb/ben", "bens"),
            ("command:printf hunter2", "hunter2"),
            ("file:~/pw", "from-home"),
            ("file:pw", "from-conf"),
            ("env:PB_TEST_STORE_ENV", "from-env"),
        ] {
            let secret = s.get(reference).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(secret.expose(), expected, "{reference}");
        }
    }

    #[test]
    fn errors_name_the_reference_and_the_cause() {
        let home = tempfile::tempdir().unwrap();
        let k = MemoryKeychain::default();
        let s = store(&k, home.path());
        let cases = [
            (
                "keychain:photos-backup-gocryptfs",
                "secret keychain:photos-backup-gocryptfs: no Keychain item with service \
                 \"photos-backup-gocryptfs\" and account \"anna\"",
            ),
            (
                "env:PB_TEST_STORE_UNSET",
                "secret env:PB_TEST_STORE_UNSET: environment variable PB_TEST_STORE_UNSET is not set",
            ),
            (
                "command:exit 4",
                "secret command:exit 4: the command failed (exit status: 4); its output is not \
                 shown, run it yourself to see why",
            ),
            (
                "hunter2",
                "not a secret reference: it must start with keychain:, command:, file: or env:",
            ),
        ];
        for (reference, expected) in cases {
            assert_eq!(describe(&s.get(reference).unwrap_err()), expected);
        }
    }

    #[test]
    fn the_value_never_shows_in_errors() {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join("pw");
        std::fs::write(&path, "hunter2\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let k = MemoryKeychain::default();
        k.store("bad", "anna", b"hunter2\xff").unwrap();
        let s = store(&k, home.path());
        for reference in [
            "file:~/pw",
            // The value is printed, on stdout and stderr, but not written out here.
            "command:printf '%s%s\\n' hun ter2; printf '%s%s' hun ter2 >&2; false",
            "keychain:bad",
            "hunter2",
            "env:hunter2 x",
        ] {
            let err = s.get(reference).unwrap_err();
            let shown = format!("{err} {err:?} {}", err.cause());
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        let ok = s.get("command:printf hunter2").unwrap();
        assert_eq!(format!("{ok} {ok:?}"), "*** Secret(***)");
    }

    #[test]
    fn the_fixed_store_gives_what_it_was_given() {
        let s = FixedStore::default().with("keychain:pb", "pw");
        assert_eq!(s.get("keychain:pb").unwrap().expose(), "pw");
        let err = describe(&s.get("keychain:other").unwrap_err());
        assert_eq!(err, "secret keychain:other: no such secret");
    }
}
