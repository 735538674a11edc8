//! Text from untrusted places (names from a library, the text of a config
//! file) shown on a terminal or in a log: control characters are escaped so
//! they cannot move the cursor, hide text or end a line.

/// `text` with control characters escaped (`\u{1b}`), safe for a terminal.
#[must_use]
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_is_kept() {
        assert_eq!(printable("a\u{1b}[2Jb\nc\0é"), "a\\u{1b}[2Jb\\nc\\u{0}é");
    }
}
