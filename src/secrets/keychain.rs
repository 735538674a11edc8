//! The macOS Keychain as a secret source: generic passwords found by service
//! and account. A trait, so the rules on top of it (split secrets, the
//! default account) are tested with a fake on any OS; the real one is
//! `platform`'s, which on other systems says the Keychain is macOS only.
//!
//! Split secrets: a user may store a long secret in pieces, `SERVICE`,
//! `SERVICE_1`, `SERVICE_2`, ... (same account); the secret is their
//! concatenation, read up to the first missing piece. This applies to the
//! Keychain only.

/// A Keychain, or a stand-in for one.
pub trait Keychain {
    /// Whether there is a Keychain at all (macOS); checked before asking a
    /// user to type a secret that could not be stored.
    fn is_available(&self) -> bool;

    /// The generic password of `service` and `account`; `None` when there is
    /// no such item.
    fn find(&self, service: &str, account: &str) -> Result<Option<Vec<u8>>, KeychainError>;

    /// Creates or replaces the generic password of `service` and `account`.
    fn store(&self, service: &str, account: &str, value: &[u8]) -> Result<(), KeychainError>;

    /// Removes the item; `false` when there was none.
    fn delete(&self, service: &str, account: &str) -> Result<bool, KeychainError>;
}

/// What went wrong in the Keychain itself. Never holds a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainError {
    #[error("the Keychain is only available on macOS; use file:, env: or command:")]
    Unavailable,
    /// An error of Apple's Security framework, e.g. -25308 "User interaction
    /// is not allowed." when the login keychain is locked or the item does
    /// not trust this build (the run forbids dialogs).
    #[error("Keychain error {code}: {message}{}", fix_for(*code))]
    Os { code: i32, message: String },
}

/// `errSecInteractionNotAllowed`: the Keychain wanted to show a dialog.
const INTERACTION_NOT_ALLOWED: i32 = -25308;

/// The fix for a Keychain error the user can act on.
fn fix_for(code: i32) -> &'static str {
    if code == INTERACTION_NOT_ALLOWED {
        " (the Keychain wanted to ask you, which an unattended run never lets it do: the \
         login keychain is locked, or the item trusts another build of photos-backup, as \
         after every rebuild or upgrade (the item's partition list names the exact build); \
         fix: store the secret again from Terminal with `photos-backup secret set NAME`, \
         then check with `photos-backup doctor --as-agent`)"
    } else {
        ""
    }
}

/// The Keychain of this machine (see `platform`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemKeychain;

impl Keychain for SystemKeychain {
    fn is_available(&self) -> bool {
        crate::platform::has_keychain()
    }

    fn find(&self, service: &str, account: &str) -> Result<Option<Vec<u8>>, KeychainError> {
        crate::platform::keychain_find(service, account)
    }

    fn store(&self, service: &str, account: &str, value: &[u8]) -> Result<(), KeychainError> {
        crate::platform::keychain_store(service, account, value)
    }

    fn delete(&self, service: &str, account: &str) -> Result<bool, KeychainError> {
        crate::platform::keychain_delete(service, account)
    }
}

/// At most this many pieces after the first (`SERVICE_1` .. `SERVICE_99`).
const MAX_PIECES: usize = 99;

/// The name of piece `index` (1-based) of a split secret.
#[must_use]
fn piece_service(service: &str, index: usize) -> String {
    format!("{service}_{index}")
}

/// `SERVICE`, followed by `SERVICE_1`, `SERVICE_2`, ... while they exist;
/// `None` when `SERVICE` itself does not.
pub(super) fn find_split(
    keychain: &dyn Keychain,
    service: &str,
    account: &str,
) -> Result<Option<Vec<u8>>, KeychainError> {
    let Some(mut value) = keychain.find(service, account)? else {
        return Ok(None);
    };
    for index in 1..=MAX_PIECES {
        match keychain.find(&piece_service(service, index), account)? {
            Some(piece) => value.extend_from_slice(&piece),
            None => break,
        }
    }
    Ok(Some(value))
}

/// Removes the pieces `SERVICE_1`, `SERVICE_2`, ... that would be appended to
/// `SERVICE`; returns how many there were.
pub(crate) fn delete_pieces(
    keychain: &dyn Keychain,
    service: &str,
    account: &str,
) -> Result<usize, KeychainError> {
    let mut deleted = 0;
    for index in 1..=MAX_PIECES {
        if !keychain.delete(&piece_service(service, index), account)? {
            break;
        }
        deleted += 1;
    }
    Ok(deleted)
}

/// The account of a `keychain:SERVICE` reference that names none: the
/// user's login name (`$USER`, else `$LOGNAME`; launchd sets both), as in
/// `security add-generic-password -s SERVICE -a "$USER" -w`.
#[must_use]
pub(crate) fn default_account() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_default()
}

/// A Keychain in memory, for tests.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct MemoryKeychain {
    items: std::sync::Mutex<std::collections::BTreeMap<(String, String), Vec<u8>>>,
}

#[cfg(test)]
impl MemoryKeychain {
    /// The services stored, in order, for assertions.
    #[must_use]
    pub(crate) fn services(&self) -> Vec<String> {
        self.lock().keys().map(|(s, _)| s.clone()).collect()
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<(String, String), Vec<u8>>> {
        self.items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
impl Keychain for MemoryKeychain {
    fn is_available(&self) -> bool {
        true
    }

    fn find(&self, service: &str, account: &str) -> Result<Option<Vec<u8>>, KeychainError> {
        Ok(self
            .lock()
            .get(&(service.to_owned(), account.to_owned()))
            .cloned())
    }

    fn store(&self, service: &str, account: &str, value: &[u8]) -> Result<(), KeychainError> {
        self.lock()
            .insert((service.to_owned(), account.to_owned()), value.to_vec());
        Ok(())
    }

    fn delete(&self, service: &str, account: &str) -> Result<bool, KeychainError> {
        Ok(self
            .lock()
            .remove(&(service.to_owned(), account.to_owned()))
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_dialog_says_why_and_how_to_fix_it() {
        // Apple's text for -25308, as reported in
        // lionheart/openradar-mirror#13474 and oblador/react-native-keychain#558;
        // the cause after a rebuild: cachix/secretspec#438 (partition list).
        let refused = KeychainError::Os {
            code: INTERACTION_NOT_ALLOWED,
            message: "User interaction is not allowed.".into(),
        }
        .to_string();
        assert!(refused.starts_with("Keychain error -25308: User interaction is not allowed."));
        assert!(refused.contains("trusts another build"), "{refused}");
        assert!(
            refused.contains("photos-backup secret set NAME"),
            "{refused}"
        );
        let other = KeychainError::Os {
            code: -25293,
            message: "The user name or passphrase you entered is not correct.".into(),
        }
        .to_string();
        assert_eq!(
            other,
            "Keychain error -25293: The user name or passphrase you entered is not correct."
        );
    }

    #[test]
    fn a_split_secret_is_the_concatenation_of_its_pieces() {
        let k = MemoryKeychain::default();
        k.store("svc", "anna", b"abc").unwrap();
        assert_eq!(
            find_split(&k, "svc", "anna").unwrap(),
            Some(b"abc".to_vec())
        );
        k.store("svc_1", "anna", b"def").unwrap();
        k.store("svc_2", "anna", b"gh").unwrap();
        k.store("svc_4", "anna", b"not read: _3 is missing")
            .unwrap();
        k.store("svc_1", "ben", b"another account").unwrap();
        assert_eq!(
            find_split(&k, "svc", "anna").unwrap(),
            Some(b"abcdefgh".to_vec())
        );
        assert_eq!(find_split(&k, "other", "anna").unwrap(), None);
        assert_eq!(find_split(&k, "svc", "carl").unwrap(), None);
    }

    #[test]
    fn deleting_pieces_stops_at_the_first_missing_one() {
        let k = MemoryKeychain::default();
        for service in ["svc", "svc_1", "svc_2", "svc_4"] {
            k.store(service, "anna", b"x").unwrap();
        }
        assert_eq!(delete_pieces(&k, "svc", "anna").unwrap(), 2);
        assert_eq!(k.services(), ["svc", "svc_4"]);
    }

    #[test]
    fn the_unavailable_keychain_says_what_to_use_instead() {
        assert_eq!(
            KeychainError::Unavailable.to_string(),
            "the Keychain is only available on macOS; use file:, env: or command:"
        );
    }
}
