//! Text from untrusted places (names from a library, the text of a config
//! file) shown on a terminal or in a log: control characters are escaped so
//! they cannot move the cursor, hide text or end a line.

/// `text` with control characters escaped (`\u{1b}`), safe for a terminal.
#[must_use]
pub fn printable(text: &str) -> String {
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

/// A word as `sh` reads it back, for a command we suggest to the user:
/// quoted only when it must be, so a user or host name from the config
/// cannot add words or commands to what they paste.
#[must_use]
pub fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-:@+=,%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", printable(word).replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shell_words_are_quoted_when_they_must_be() {
        use super::shell_word;
        assert_eq!(shell_word("ann"), "ann");
        assert_eq!(shell_word("nas.local"), "nas.local");
        assert_eq!(shell_word("a b;rm -rf ~"), "'a b;rm -rf ~'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word("$(id)"), "'$(id)'");
        assert_eq!(shell_word(""), "''");
    }

    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_is_kept() {
        assert_eq!(printable("a\u{1b}[2Jb\nc\0é"), "a\\u{1b}[2Jb\\nc\\u{0}é");
    }
}
