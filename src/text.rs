//! Small pieces of wording that several commands and the status share: sizes
//! for people, plurals, a line made of text that may span several, and a
//! word quoted for the shell in a command we suggest. One copy of each, so
//! that two places never say the same thing two ways; it depends on nothing
//! in the crate, so any module may use it.

/// `532 B`, `1.2 KB`, `3.4 GB`: decimal units, like Finder.
#[must_use]
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The `s` of a plural: `format!("{n} file{}", plural(n))`.
#[must_use]
pub(crate) fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `text` on one line: runs of white space (line breaks included) become
/// one space, none at either end.
#[must_use]
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `word` as the shell reads it back as one word, for a command we suggest
/// to the user (a path, a user or host name from the config): as it is when
/// nothing in it is special, else in single quotes, so that it cannot add
/// words or commands to what the user pastes. A word with control
/// characters (a line break, an escape) is written `$'...'` with them
/// escaped, so it stays on one line and nothing reaches the terminal raw;
/// bash, zsh and POSIX.1-2024 `sh` read that form back. `~` and a leading
/// `=` are quoted: a shell would expand them (zsh's `=cmd`).
#[must_use]
pub(crate) fn sh_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-:@+=,%".contains(c);
    if !word.is_empty() && !word.starts_with('=') && word.chars().all(plain) {
        word.to_owned()
    } else if !word.chars().any(char::is_control) {
        format!("'{}'", word.replace('\'', "'\\''"))
    } else {
        let mut quoted = String::from("$'");
        for c in word.chars() {
            match c {
                '\\' => quoted.push_str("\\\\"),
                '\'' => quoted.push_str("\\'"),
                '\n' => quoted.push_str("\\n"),
                '\t' => quoted.push_str("\\t"),
                '\r' => quoted.push_str("\\r"),
                c if c.is_control() => {
                    // Three octal digits per byte: never more digits than
                    // the shell takes, whatever follows.
                    let mut bytes = [0; 4];
                    for b in c.encode_utf8(&mut bytes).bytes() {
                        quoted.push_str(&format!("\\{b:03o}"));
                    }
                }
                c => quoted.push(c),
            }
        }
        quoted.push('\'');
        quoted
    }
}

/// A path as the config may hold it, for a suggested command: a leading
/// `~/` is left to the shell, which expands it to the home folder as the
/// config does; the rest is quoted by [`sh_quote`].
#[must_use]
pub(crate) fn sh_quote_path(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some(rest) => format!("~/{}", sh_quote(rest)),
        None => sh_quote(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_decimal_units_with_one_decimal() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1000), "1.0 KB");
        assert_eq!(human_bytes(1_234_567), "1.2 MB");
        assert_eq!(human_bytes(59_900_000_000), "59.9 GB");
        assert_eq!(human_bytes(u64::MAX), "18446744.1 TB");
    }

    #[test]
    fn plural_only_for_one() {
        assert_eq!(format!("0 file{}", plural(0)), "0 files");
        assert_eq!(format!("1 file{}", plural(1)), "1 file");
        assert_eq!(format!("2 file{}", plural(2)), "2 files");
    }

    #[test]
    fn one_line_joins_lines_and_runs_of_blanks() {
        assert_eq!(
            one_line("  not found\n(looked in\t/usr/bin)  "),
            "not found (looked in /usr/bin)"
        );
        assert_eq!(one_line("\n"), "");
    }

    #[test]
    fn plain_words_are_left_as_they_are_and_others_quoted() {
        assert_eq!(sh_quote("/Users/ann/borg"), "/Users/ann/borg");
        assert_eq!(sh_quote("pb@nas.local:2222"), "pb@nas.local:2222");
        assert_eq!(
            sh_quote("/Users/ann/Photos Library.photoslibrary"),
            "'/Users/ann/Photos Library.photoslibrary'"
        );
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("$HOME"), "'$HOME'");
        assert_eq!(sh_quote("~/borg"), "'~/borg'");
        assert_eq!(sh_quote("=ls"), "'=ls'");
        assert_eq!(sh_quote("a=b"), "a=b");
        assert_eq!(sh_quote("a\nb"), "$'a\\nb'");
        assert_eq!(sh_quote("it's\x1b[2J"), "$'it\\'s\\033[2J'");
    }

    #[test]
    fn a_path_from_home_leaves_its_tilde_to_the_shell() {
        assert_eq!(sh_quote_path("~/pw"), "~/pw");
        assert_eq!(sh_quote_path("~/my pw"), "~/'my pw'");
        assert_eq!(sh_quote_path("~ann/pw"), "'~ann/pw'");
        assert_eq!(sh_quote_path("/etc/pb pw"), "'/etc/pb pw'");
        let out = std::process::Command::new("bash")
            .args(["--norc", "--noprofile", "-c"])
            .arg(format!("printf '%s' {}", sh_quote_path("~/my 'pw'")))
            .env("HOME", "/home/ann")
            .output()
            .expect("bash runs");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "/home/ann/my 'pw'");
    }

    /// What a real shell makes of the quoted word: the word itself.
    #[test]
    fn the_shell_reads_every_quoted_word_back_as_it_was() {
        let words = [
            "/Users/ann/Photos Library.photoslibrary",
            "it's",
            "'",
            "''\\'",
            "a b;rm -rf ~",
            "$(id) `id` $HOME * ? [a] {a,b} !x #c",
            "line\nbreak",
            "tab\tand\rcarriage",
            "esc\x1b[2J then 7",
            "quote ' and newline\n and backslash \\ ",
            "\u{85}next line, \u{9b}csi",
            "~ann",
            "=ls",
            "-n",
            "",
        ];
        // bash: `sh` is dash on Debian, and this dash does not read `$'...'`.
        let script = words
            .iter()
            .map(|w| format!("printf '%s\\0' {}", sh_quote(w)))
            .collect::<Vec<_>>()
            .join("\n");
        let out = std::process::Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &script])
            .output()
            .expect("bash runs");
        assert!(out.status.success(), "{out:?}");
        let expected: Vec<u8> = words.iter().flat_map(|w| w.bytes().chain([0])).collect();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&expected)
        );
        for w in words {
            assert!(!sh_quote(w).contains(['\n', '\r', '\x1b']), "{w:?}");
        }
    }
}
