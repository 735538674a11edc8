//! Secrets (the gocryptfs password, later the borg passphrase): where they
//! come from and how they are read, without ever showing them. Being
//! written: see the issue on the encrypted remote volume.

/// A secret reference from the config: `keychain:SERVICE[/ACCOUNT]`,
/// `command:...`, `file:PATH` or `env:VAR`.
pub struct Reference;

impl Reference {
    /// Whether `text` has one of the known forms.
    #[must_use]
    pub fn is_valid(text: &str) -> bool {
        ["keychain:", "command:", "file:", "env:"].iter().any(|p| {
            text.strip_prefix(p)
                .is_some_and(|rest| !rest.trim().is_empty())
        })
    }
}
