//! Secrets (the gocryptfs password, later the borg passphrase): where they
//! come from and how they are read, without ever showing them. Being
//! completed: see the issue on the encrypted remote volume.

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

/// A secret reference from the config: `keychain:SERVICE[/ACCOUNT]`,
/// `command:...`, `file:PATH` or `env:VAR`.
pub struct Reference;

impl Reference {
    /// Whether `text` has one of the known forms.
    #[must_use]
    pub fn is_valid(text: &str) -> bool {
        ["keychain:", "command:", "file:", "env:"]
            .iter()
            .any(|p| text.strip_prefix(p).is_some_and(|rest| !rest.trim().is_empty()))
    }
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
}
