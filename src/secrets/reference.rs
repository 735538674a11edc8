//! A secret reference: the text in the config that says where a secret is
//! (`keychain:SERVICE[/ACCOUNT]`, `command:CMD`, `file:PATH`, `env:VAR`), never
//! the secret itself. Parsed here, once, so the config can refuse a bad one
//! at load time and the store only ever sees well-formed references. A parse
//! error never repeats the text: a password pasted into the config by mistake
//! must not end up in an error message.

/// Where a secret comes from. `Display` writes it back as in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A generic password in the macOS Keychain, found by service and
    /// account; the account defaults to the user's login name.
    Keychain {
        service: String,
        account: Option<String>,
    },
    /// A shell command (`sh -c`) that prints the secret.
    Command(String),
    /// A file holding the secret, as written (`~` and relative paths are
    /// resolved by the store).
    File(String),
    /// An environment variable holding the secret.
    Env(String),
}

/// Why a text is not a secret reference. Never quotes the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("it must start with keychain:, command:, file: or env:")]
    UnknownKind,
    #[error("nothing after `{0}`")]
    Empty(&'static str),
    #[error(
        "keychain: needs SERVICE or SERVICE/ACCOUNT, both non-empty and without control characters"
    )]
    Keychain,
    #[error("env: needs a variable name (letters, digits and '_', not starting with a digit)")]
    EnvName,
    #[error("`{0}` must not hold control characters (a line break, an escape)")]
    Control(&'static str),
}

impl Reference {
    /// Parses `keychain:SERVICE[/ACCOUNT]`, `command:CMD`, `file:PATH` or
    /// `env:VAR`. Surrounding blanks of the part after the colon are ignored.
    pub(crate) fn parse(text: &str) -> Result<Self, ReferenceError> {
        let (kind, rest) = text.split_once(':').ok_or(ReferenceError::UnknownKind)?;
        let rest = rest.trim();
        let kind = match kind {
            "keychain" => "keychain:",
            "command" => "command:",
            "file" => "file:",
            "env" => "env:",
            _ => return Err(ReferenceError::UnknownKind),
        };
        if rest.is_empty() {
            return Err(ReferenceError::Empty(kind));
        }
        if matches!(kind, "command:" | "file:") && rest.chars().any(char::is_control) {
            return Err(ReferenceError::Control(kind));
        }
        match kind {
            "keychain:" => parse_keychain(rest),
            "command:" => Ok(Self::Command(rest.to_owned())),
            "file:" => Ok(Self::File(rest.to_owned())),
            _ => parse_env(rest),
        }
    }

    /// Whether `text` is a well-formed reference (see [`Reference::parse`]).
    #[must_use]
    pub(crate) fn is_valid(text: &str) -> bool {
        Self::parse(text).is_ok()
    }
}

fn parse_keychain(rest: &str) -> Result<Reference, ReferenceError> {
    let (service, account) = match rest.split_once('/') {
        Some((service, account)) => (service, Some(account)),
        None => (rest, None),
    };
    let plain = |s: &str| !s.is_empty() && !s.chars().any(char::is_control);
    if !plain(service) || !account.is_none_or(plain) {
        return Err(ReferenceError::Keychain);
    }
    Ok(Reference::Keychain {
        service: service.to_owned(),
        account: account.map(str::to_owned),
    })
}

fn parse_env(name: &str) -> Result<Reference, ReferenceError> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(Reference::Env(name.to_owned()))
    } else {
        Err(ReferenceError::EnvName)
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Keychain {
                service,
                account: None,
            } => write!(f, "keychain:{service}"),
            Self::Keychain {
                service,
                account: Some(account),
            } => write!(f, "keychain:{service}/{account}"),
            Self::Command(command) => write!(f, "command:{command}"),
            Self::File(path) => write!(f, "file:{path}"),
            Self::Env(name) => write!(f, "env:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keychain(service: &str, account: Option<&str>) -> Reference {
        Reference::Keychain {
            service: service.into(),
            account: account.map(Into::into),
        }
    }

    #[test]
    fn each_kind_parses_and_prints_back() {
        let cases = [
            (
                "keychain:photos-backup-gocryptfs",
                keychain("photos-backup-gocryptfs", None),
            ),
            ("keychain:svc/anna", keychain("svc", Some("anna"))),
            (
                "command:op read op://Private/gocryptfs/password",
                Reference::Command("op read op://Private/gocryptfs/password".into()),
            ),
            (
                "file:~/.config/photos-backup/pw",
                Reference::File("~/.config/photos-backup/pw".into()),
            ),
            ("env:PB_PASSWORD", Reference::Env("PB_PASSWORD".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(Reference::parse(text), Ok(expected.clone()), "{text}");
            assert_eq!(expected.to_string(), text);
            assert!(Reference::is_valid(text), "{text}");
        }
    }

    #[test]
    fn blanks_around_the_value_are_ignored() {
        assert_eq!(
            Reference::parse("file:  /etc/pw \n"),
            Ok(Reference::File("/etc/pw".into()))
        );
    }

    #[test]
    fn bad_references_are_refused_without_repeating_them() {
        let cases = [
            ("hunter2", ReferenceError::UnknownKind),
            ("password:hunter2", ReferenceError::UnknownKind),
            ("Keychain:x", ReferenceError::UnknownKind),
            ("keychain:", ReferenceError::Empty("keychain:")),
            ("command:  ", ReferenceError::Empty("command:")),
            ("file:", ReferenceError::Empty("file:")),
            ("env:", ReferenceError::Empty("env:")),
            ("keychain:/anna", ReferenceError::Keychain),
            ("keychain:svc/", ReferenceError::Keychain),
            ("keychain:s\u{7}vc", ReferenceError::Keychain),
            ("env:1PASSWORD", ReferenceError::EnvName),
            ("env:PB-PASSWORD", ReferenceError::EnvName),
            ("env:hunter2 x", ReferenceError::EnvName),
            (
                "command:op read x\nrm -rf ~",
                ReferenceError::Control("command:"),
            ),
            (
                "command:printf '\u{1b}[2J'",
                ReferenceError::Control("command:"),
            ),
            ("file:/etc/p\tw", ReferenceError::Control("file:")),
        ];
        for (text, expected) in cases {
            let err = Reference::parse(text).unwrap_err();
            assert_eq!(err, expected, "{text}");
            assert!(!Reference::is_valid(text), "{text}");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }
}
