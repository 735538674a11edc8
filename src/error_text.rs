//! How an error is told to a person: its message, then each cause in its
//! chain once, joined with `: `, on one line. Used wherever an error becomes
//! text (the terminal, the run log, the run's report lines, `status.json`, a
//! notification), so it sits below every one of them and depends on nothing
//! in the crate. Our error types follow one convention: a
//! message says what went wrong and where, and names its cause only through
//! `source()` (never both), so printing the chain says everything once.
//! Some library errors (rusqlite's) put their cause's text in their own
//! message too: a cause whose text the message just printed already ends
//! with is not printed again.

use std::error::Error;

/// `MESSAGE: CAUSE: CAUSE ...`
#[must_use]
pub(crate) fn describe(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut previous = text.clone();
    let mut cause = e.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !previous.ends_with(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        previous = said;
        cause = c.source();
    }
    text
}

/// [`describe`] for the `anyhow` errors commands return.
#[must_use]
pub(crate) fn describe_error(e: &anyhow::Error) -> String {
    describe(e.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read threshold file /s/date_threshold.txt")]
    struct Outer {
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("ledger /s/ledger.sqlite")]
    struct Ledger {
        source: Repeats,
    }

    /// A library error that says its cause in its own message too.
    #[derive(Debug, thiserror::Error)]
    #[error("database is locked")]
    struct Repeats {
        source: Leaf,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("database is locked")]
    struct Leaf;

    #[test]
    fn each_cause_is_said_once_in_order() {
        let e = Outer {
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(
            describe(&e),
            "cannot read threshold file /s/date_threshold.txt: permission denied"
        );
        let e = Ledger {
            source: Repeats { source: Leaf },
        };
        assert_eq!(describe(&e), "ledger /s/ledger.sqlite: database is locked");
        // Through anyhow, contexts first.
        let e = anyhow::Error::new(Outer {
            source: std::io::Error::other("disk gone"),
        })
        .context("run");
        assert_eq!(
            describe(e.as_ref()),
            "run: cannot read threshold file /s/date_threshold.txt: disk gone"
        );
    }
}
