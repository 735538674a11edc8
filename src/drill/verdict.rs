//! Whether a file read back matches what the ledger recorded when it was
//! staged (size, then BLAKE3), and the words for it. Pure: the reading is
//! done elsewhere and handed in, as data or as why it could not be read.

use crate::text::human_bytes;

/// What reading a file back gave: its size and BLAKE3, or why not.
pub(crate) type ReadBack = Result<(u64, String), String>;

/// The outcome for one sampled file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Matched,
    WrongSize {
        expected: u64,
        got: u64,
    },
    WrongContent {
        expected: String,
        got: String,
    },
    /// Not restored or not readable: borg failed, the file is missing, ...
    Unreadable(String),
}

impl Verdict {
    #[must_use]
    pub(crate) fn matched(&self) -> bool {
        *self == Verdict::Matched
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Matched => f.write_str("matches the ledger"),
            Verdict::WrongSize { expected, got } => write!(
                f,
                "came back with {got} bytes ({}), the ledger recorded {expected}",
                human_bytes(*got)
            ),
            Verdict::WrongContent { expected, got } => write!(
                f,
                "came back with other content (BLAKE3 {got}, the ledger recorded {expected})"
            ),
            Verdict::Unreadable(why) => write!(f, "could not be restored: {why}"),
        }
    }
}

/// Judges a file read back against the recorded size and hash.
#[must_use]
pub(crate) fn judge(expected_size: u64, expected_hash: &str, read: ReadBack) -> Verdict {
    match read {
        Err(why) => Verdict::Unreadable(why),
        Ok((size, _)) if size != expected_size => Verdict::WrongSize {
            expected: expected_size,
            got: size,
        },
        Ok((_, hash)) if !hash.eq_ignore_ascii_case(expected_hash) => Verdict::WrongContent {
            expected: expected_hash.to_owned(),
            got: hash,
        },
        Ok(_) => Verdict::Matched,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_then_content_then_a_match() {
        let ok = |size, hash: &str| Ok((size, hash.to_owned()));
        assert_eq!(judge(3, "ab", ok(3, "AB")), Verdict::Matched);
        assert_eq!(
            judge(3, "ab", ok(4, "ab")),
            Verdict::WrongSize {
                expected: 3,
                got: 4
            }
        );
        let other = judge(3, "ab", ok(3, "cd"));
        assert!(!other.matched());
        assert!(other.to_string().contains("BLAKE3 cd"), "{other}");
        let gone = judge(3, "ab", Err("borg failed".into()));
        assert_eq!(gone.to_string(), "could not be restored: borg failed");
    }
}
