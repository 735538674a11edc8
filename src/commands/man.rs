//! `photos-backup man`: the manual page, as roff on standard output, made
//! from `cli`'s clap definition so it says what the binary accepts. One page
//! holds every command with its options (`clap_mangen`'s own subcommand list
//! would point at a page per command, which nothing installs), then the
//! environment variables. It is a visible command, not a hidden one: a user
//! who installed with `cargo install` has no other way to get the page, and
//! the README, `--help` and the completions list it like every command.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;
use roff::{bold, italic, roman, Roff};

use crate::cli::Cli;

/// Writes the page to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<()> {
    out.write_all(page().as_bytes())
        .context("writing the manual page")
}

/// The whole page, as roff source.
#[must_use]
fn page() -> String {
    let mut cli = Cli::command();
    cli.build();
    let man = clap_mangen::Man::new(cli.clone());
    // The title line by hand: clap_mangen's drops the empty date field, so
    // man would show the source as the date. No date: the page is the same
    // at every build of one commit.
    let title = format!(
        ".TH PHOTOS-BACKUP 1 \"\" \"photos-backup {}\" \"photos-backup manual\"\n",
        crate::cli::VERSION
    );
    let mut page = title.into_bytes();
    // Writing into a Vec cannot fail.
    man.render_name_section(&mut page).expect("in memory");
    man.render_synopsis_section(&mut page).expect("in memory");
    man.render_description_section(&mut page)
        .expect("in memory");
    man.render_options_section(&mut page).expect("in memory");
    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    for command in shown(&cli) {
        describe(&mut roff, command, &[cli.get_name()]);
    }
    environment(&mut roff);
    roff.to_writer(&mut page).expect("in memory");
    man.render_version_section(&mut page).expect("in memory");
    String::from_utf8(page).expect("roff of UTF-8 text is UTF-8")
}

/// The subcommands a user is shown: not hidden, not clap's own `help`.
fn shown(command: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    command
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
}

/// One command (and, for `secret` and `config`, each of theirs): its full
/// name, what it does, its arguments and options.
fn describe(roff: &mut Roff, command: &clap::Command, parents: &[&str]) {
    let mut words = parents.to_vec();
    words.push(command.get_name());
    if command.has_subcommands() {
        for sub in shown(command) {
            describe(roff, sub, &words);
        }
        return;
    }
    roff.control("SS", [words.join(" ").as_str()]);
    if let Some(about) = command.get_long_about().or_else(|| command.get_about()) {
        paragraph(roff, &about.to_string());
    }
    let args: Vec<_> = command
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_global_set() && a.get_id() != "help")
        .collect();
    for arg in args {
        roff.control("TP", []);
        roff.text(synopsis(arg));
        if let Some(help) = arg.get_long_help().or_else(|| arg.get_help()) {
            paragraph(roff, &help.to_string());
        }
        let defaults: Vec<_> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        if !defaults.is_empty() && arg.get_action().takes_values() {
            roff.control("br", []);
            roff.text([roman(format!("Default: {}.", defaults.join(", ")))]);
        }
        let values: Vec<_> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_owned())
            .collect();
        if !values.is_empty() && arg.get_action().takes_values() {
            roff.control("br", []);
            roff.text([roman(format!("One of: {}.", values.join(", ")))]);
        }
    }
    if let Some(after) = command
        .get_after_long_help()
        .or_else(|| command.get_after_help())
    {
        roff.control("PP", []);
        paragraph(roff, &after.to_string());
    }
}

/// How an argument is written: `-v, --verbose`, `--to <DIR>`, `<QUERY>`.
fn synopsis(arg: &clap::Arg) -> Vec<roff::Inline> {
    let value = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map_or_else(|| arg.get_id().as_str().to_uppercase(), ToString::to_string);
    if arg.is_positional() {
        return vec![italic(format!("<{value}>"))];
    }
    let mut line = Vec::new();
    if let Some(short) = arg.get_short() {
        line.push(bold(format!("-{short}")));
        line.push(roman(", "));
    }
    if let Some(long) = arg.get_long() {
        line.push(bold(format!("--{long}")));
    }
    if arg.get_action().takes_values() {
        line.push(roman(" "));
        line.push(italic(format!("<{value}>")));
    }
    line
}

/// Text from the clap definition, its line breaks kept as spaces.
fn paragraph(roff: &mut Roff, text: &str) {
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        roff.text([roman(line.trim())]);
    }
}

/// The ENVIRONMENT section: what the binary reads from its environment.
fn environment(roff: &mut Roff) {
    roff.control("SH", ["ENVIRONMENT"]);
    let variables = [
        (
            crate::cli::CONFIG_ENV,
            "The config file, when --config does not name one.",
        ),
        (
            "XDG_CONFIG_HOME",
            "On Linux, when absolute: the default config file is \
             $XDG_CONFIG_HOME/photos-backup/photos_backup.conf (else under ~/.config).",
        ),
        (
            "XDG_STATE_HOME",
            "On Linux, when absolute and the config names no state dir: state \
             lives in $XDG_STATE_HOME/photos-backup (else ~/.local/state/photos-backup).",
        ),
    ];
    for (name, what) in variables {
        roff.control("TP", []);
        roff.text([bold(name)]);
        roff.text([roman(what)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_every_command_and_option() {
        let page = page();
        let mut cli = Cli::command();
        cli.build();
        for command in shown(&cli) {
            assert!(
                page.contains(&format!(".SS \"photos-backup {}", command.get_name())),
                "{}",
                command.get_name()
            );
        }
        for option in [
            "\\-\\-dry\\-run",
            "\\-\\-interval",
            "\\-\\-test\\-notification",
            "PHOTOS_BACKUP_CONFIG",
        ] {
            assert!(page.contains(option), "{option}");
        }
        assert!(!page.contains("agent\\-report"), "a hidden flag is shown");
    }
}
