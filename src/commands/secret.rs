//! `photos-backup secret`: put a secret into the Keychain (`set`), and find
//! out before a night's unattended run whether every secret the config
//! refers to can be read (`check`). Neither ever prints a value.

use std::io::{IsTerminal, Read, Write};

use anyhow::{bail, Context, Result};

use crate::config::Config;
use crate::secrets::keychain::{self, Keychain, KeychainError};
use crate::secrets::{Reference, Secret, SecretStore};

/// The secret references in `config`, by key.
#[must_use]
pub(super) fn configured(config: &Config) -> Vec<(&'static str, &str)> {
    let remote = config
        .remote
        .iter()
        .map(|remote| ("remote.password", remote.password.as_str()));
    let borg = config
        .borg
        .iter()
        .map(|borg| ("borg.passphrase", borg.passphrase.as_str()));
    let monitor = config
        .monitor
        .iter()
        .map(|monitor| ("monitor.url", monitor.url.as_str()));
    remote.chain(borg).chain(monitor).collect()
}

/// Reads every configured secret and prints one line each, `ok` or the
/// cause; `false` when any failed.
pub(crate) fn check(config: &Config, store: &dyn SecretStore, out: &mut dyn Write) -> Result<bool> {
    let secrets = configured(config);
    if secrets.is_empty() {
        writeln!(
            out,
            "no secrets configured in {} (it has no [remote], [borg] or [monitor] section)",
            config.file.display()
        )?;
        return Ok(true);
    }
    let mut all_ok = true;
    for (key, text) in secrets {
        // An invalid reference is not shown: it may be a password.
        let shown = Reference::parse(text).map_or_else(|_| "?".to_owned(), |r| r.to_string());
        match store.get(text) {
            Ok(_) => writeln!(out, "{key} ({shown}): ok")?,
            Err(e) => {
                all_ok = false;
                writeln!(out, "{key} ({shown}): error: {}", e.cause())?;
            }
        }
    }
    Ok(all_ok)
}

/// Stores a secret in the Keychain under `name` (`SERVICE[/ACCOUNT]`, a
/// leading `keychain:` allowed), read by `read` once the Keychain is known
/// to be there. Removes the pieces `SERVICE_1`, ... of an earlier split
/// secret, which would otherwise be appended to the new one.
pub(crate) fn set(
    name: &str,
    keychain: &dyn Keychain,
    default_account: &str,
    read: &mut dyn FnMut(&Reference) -> Result<Secret>,
    out: &mut dyn Write,
) -> Result<()> {
    let text = name.strip_prefix("keychain:").unwrap_or(name);
    let reference = Reference::parse(&format!("keychain:{text}"))
        .with_context(|| format!("secret set: {name:?} is not SERVICE or SERVICE/ACCOUNT"))?;
    let Reference::Keychain { service, account } = &reference else {
        bail!("secret set: {name:?} is not a Keychain name");
    };
    let account = account.as_deref().unwrap_or(default_account);
    if !keychain.is_available() {
        return Err(KeychainError::Unavailable).context(format!("cannot store {reference}"));
    }
    let secret = read(&reference)?;
    keychain
        .store(service, account, secret.expose().as_bytes())
        .with_context(|| format!("cannot store {reference} in the Keychain"))?;
    let removed = keychain::delete_pieces(keychain, service, account)
        .with_context(|| format!("cannot remove old pieces {service}_1... of {reference}"))?;
    writeln!(
        out,
        "stored {reference} in the Keychain (service {service:?}, account {account:?})"
    )?;
    if removed > 0 {
        writeln!(
            out,
            "removed {removed} piece(s) {service}_1... of an earlier split secret"
        )?;
    }
    Ok(())
}

/// The new secret, from the user: typed twice without echo on a terminal,
/// else all of standard input (so scripts can pipe it), one trailing
/// newline removed.
pub(crate) fn read_new_secret(reference: &Reference) -> Result<Secret> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut bytes = Vec::new();
        stdin
            .lock()
            .read_to_end(&mut bytes)
            .context("cannot read the secret from standard input")?;
        return crate::secrets::from_output(bytes)
            .context("the secret on standard input is not usable");
    }
    let ask = |prompt: String| {
        rpassword::prompt_password(prompt)
            .map(Secret::new)
            .context("cannot read the secret from the terminal")
    };
    let first = ask(format!("Secret for {reference}: "))?;
    let second = ask("Again, to confirm: ".to_owned())?;
    if first != second {
        bail!("the two entries differ; nothing was stored");
    }
    crate::secrets::from_bytes(first.expose().as_bytes().to_vec())
        .context("the secret typed is not usable")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::secrets::keychain::MemoryKeychain;
    use crate::secrets::FixedStore;

    fn config(password: Option<&str>) -> Config {
        let remote = password.map(|p| {
            format!(
                "[remote]\nhost = \"nas\"\nuser = \"u\"\ndir = \"/c\"\n\
                 cipher_mount = \"/m/c\"\nplain_mount = \"/m/p\"\npassword = {p:?}\n"
            )
        });
        let text = format!(
            "[staging]\ndir = \"/s\"\n[threshold]\ndefault = \"2024-01-01\"\n{}",
            remote.unwrap_or_default()
        );
        let env = crate::host::Host {
            home: PathBuf::from("/home/anna"),
            default_state_dir: PathBuf::from("/state"),
            ..crate::host::Host::current()
        };
        crate::config::parse(&text, &PathBuf::from("/etc/pb.conf"), &env).unwrap()
    }

    fn check_text(config: &Config, store: &dyn SecretStore) -> (bool, String) {
        let mut out = Vec::new();
        let ok = check(config, store, &mut out).unwrap();
        (ok, String::from_utf8(out).unwrap())
    }

    #[test]
    fn check_says_ok_or_why_not_and_never_the_value() {
        let store = FixedStore::default().with("keychain:pb", "hunter2");
        let (ok, text) = check_text(&config(Some("keychain:pb")), &store);
        assert!(ok);
        assert_eq!(text, "remote.password (keychain:pb): ok\n");
        let (ok, text) = check_text(&config(Some("keychain:other")), &store);
        assert!(!ok);
        assert_eq!(
            text,
            "remote.password (keychain:other): error: no such secret\n"
        );
        let (ok, text) = check_text(&config(None), &store);
        assert!(ok);
        assert!(text.starts_with("no secrets configured in /etc/pb.conf"));
    }

    fn set_text(name: &str, keychain: &MemoryKeychain, value: &str) -> Result<String> {
        let mut out = Vec::new();
        let mut read = |_: &Reference| Ok(Secret::new(value.to_owned()));
        set(name, keychain, "anna", &mut read, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn set_stores_under_the_default_account_and_clears_old_pieces() {
        let k = MemoryKeychain::default();
        for service in ["pb", "pb_1", "pb_2"] {
            k.store(service, "anna", b"old").unwrap();
        }
        let text = set_text("pb", &k, "hunter2").unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains("stored keychain:pb in the Keychain (service \"pb\", account \"anna\")")
                && text.contains("removed 2 piece(s)"),
            "{text}"
        );
        assert_eq!(k.find("pb", "anna").unwrap(), Some(b"hunter2".to_vec()));
        assert_eq!(k.services(), ["pb"]);

        set_text("keychain:pb/ben", &k, "s3cr3t").unwrap();
        assert_eq!(k.find("pb", "ben").unwrap(), Some(b"s3cr3t".to_vec()));
    }

    #[test]
    fn set_refuses_a_bad_name_and_a_missing_keychain_before_asking() {
        struct NoKeychain;
        impl Keychain for NoKeychain {
            fn is_available(&self) -> bool {
                false
            }
            fn find(&self, _: &str, _: &str) -> Result<Option<Vec<u8>>, KeychainError> {
                Err(KeychainError::Unavailable)
            }
            fn store(&self, _: &str, _: &str, _: &[u8]) -> Result<(), KeychainError> {
                Err(KeychainError::Unavailable)
            }
            fn delete(&self, _: &str, _: &str) -> Result<bool, KeychainError> {
                Err(KeychainError::Unavailable)
            }
        }
        let mut read = |_: &Reference| -> Result<Secret> { panic!("asked for a secret") };
        let err = set("pb", &NoKeychain, "anna", &mut read, &mut Vec::new()).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "cannot store keychain:pb: the Keychain is only available on macOS; \
             use file:, env: or command:"
        );
        let err = set(
            "pb/",
            &MemoryKeychain::default(),
            "anna",
            &mut read,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("\"pb/\""), "{err:#}");
    }
}
