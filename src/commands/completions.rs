//! `photos-backup completions SHELL`: the shell's completion script, printed
//! to standard output. It is generated from `cli`'s clap definition at run
//! time, so it cannot drift from the commands and flags the binary accepts,
//! and a user who installed only the binary (or Homebrew, through
//! `generate_completions_from_executable`) can make it themselves.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The name the scripts complete: the binary's, whatever it was started as.
const BIN_NAME: &str = "photos-backup";

/// Writes the completion script of `shell` to `out`.
pub(crate) fn run(shell: Shell, out: &mut dyn Write) -> Result<()> {
    out.write_all(&script(shell))
        .context("writing the completion script")
}

/// The name bash's script is generated for; see [`script`].
const BASH_NAME: &str = "photos_backup";

/// The completion script of `shell`. Generated into memory first: the
/// generator panics on a write error, where a closed pipe must be an error.
///
/// `clap_complete` 4.6's bash script completes nothing after a subcommand
/// when the binary's name has a hyphen (clap-rs/clap#6421, open): its loop
/// and its case labels spell the state differently. So the bash script is
/// generated for `photos_backup`, whose spellings agree (the loop matches
/// the command by the name bash passes, not by this one), and only its
/// `complete` lines, which bind it to a command, name the real one.
#[must_use]
fn script(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    if shell != Shell::Bash {
        clap_complete::generate(shell, &mut Cli::command(), BIN_NAME, &mut script);
        return script;
    }
    clap_complete::generate(shell, &mut Cli::command(), BASH_NAME, &mut script);
    let text = String::from_utf8(script).expect("generated from UTF-8 definitions");
    let suffix = format!(" {BASH_NAME}");
    let mut fixed = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        match body.strip_suffix(&suffix) {
            Some(start) if body.trim_start().starts_with("complete ") => {
                fixed.push_str(start);
                fixed.push(' ');
                fixed.push_str(BIN_NAME);
                fixed.push_str(&line[body.len()..]);
            }
            _ => fixed.push_str(line),
        }
    }
    fixed.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_script_names_the_commands_and_their_flags() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = String::from_utf8(script(shell)).unwrap();
            for word in [
                "coverage",
                "restore",
                "completions",
                "dry-run",
                "test-notification",
            ] {
                assert!(text.contains(word), "{shell}: no {word}");
            }
        }
    }

    #[test]
    fn the_bash_script_is_bound_to_the_real_name_only() {
        let text = String::from_utf8(script(Shell::Bash)).unwrap();
        let bindings: Vec<_> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("complete "))
            .collect();
        assert!(!bindings.is_empty(), "{text}");
        for line in bindings {
            assert!(line.ends_with(" photos-backup"), "{line}");
        }
    }
}
