//! What a user installing the binary meets, through the real binary and
//! real programs: `--version` naming the commit it was built from;
//! completion scripts that bash, zsh and fish load and answer with; the man
//! page as mandoc renders it; `$PHOTOS_BACKUP_CONFIG` shown in `--help` and
//! `$XDG_CONFIG_HOME` choosing the default config path; and the Homebrew
//! formula, checked by Ruby and run (all but `cargo install`) through a
//! stand-in for Homebrew's API (`tests/formula/brew.rb`); and a README that
//! shows every command the binary has. The shells,
//! mandoc, ruby and git are required, never skipped: `scripts/test.sh`
//! installs them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::tools::real_tool;

const BINARY: &str = env!("CARGO_BIN_EXE_photos-backup");

/// `command`'s standard output; fails the test, with its stderr, unless it
/// succeeded.
fn stdout_of(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The binary with `args`, without `$PHOTOS_BACKUP_CONFIG` or
/// `$XDG_CONFIG_HOME` from the test's environment.
fn photos_backup(args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_remove("PHOTOS_BACKUP_CONFIG")
        .env_remove("XDG_CONFIG_HOME");
    command
}

/// The commands `--help` lists, clap's own `help` aside: the real CLI.
fn commands() -> Vec<String> {
    let help = stdout_of(&mut photos_backup(&["--help"]));
    let listed: Vec<String> = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    for expected in ["run", "status", "coverage", "completions", "man"] {
        assert!(listed.iter().any(|c| c == expected), "{expected}: {help}");
    }
    listed
}

/// The completion script of `shell`, written to `dir`.
fn script(shell: &str, dir: &Path) -> PathBuf {
    let path = dir.join(format!("photos-backup.{shell}"));
    std::fs::write(
        &path,
        stdout_of(&mut photos_backup(&["completions", shell])),
    )
    .unwrap();
    path
}

/// What bash completes for the command line `words`, the last one being
/// completed, as bash calls the function the script registers.
fn bash_completes(script: &Path, words: &[&str]) -> Vec<String> {
    let bash = real_tool("bash", "bash");
    let program = r#"
        source "$1"; shift
        function=$(complete -p photos-backup | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
        [[ -n $function ]] || { echo "no completion function registered" >&2; exit 1; }
        COMP_WORDS=("$@")
        COMP_CWORD=$(( $# - 1 ))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        "$function" photos-backup "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let out = stdout_of(
        Command::new(bash)
            .args(["--norc", "--noprofile", "-c", program, "bash"])
            .arg(script)
            .args(words),
    );
    out.lines().map(str::to_owned).collect()
}

#[test]
fn bash_completes_the_commands_and_their_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let script = script("bash", tmp.path());
    let all = bash_completes(&script, &["photos-backup", ""]);
    for command in commands() {
        assert!(all.contains(&command), "{command} not in {all:?}");
    }
    assert_eq!(
        bash_completes(&script, &["photos-backup", "st"]),
        ["status"]
    );
    let coverage = bash_completes(&script, &["photos-backup", "coverage", "--"]);
    for flag in ["--json", "--list", "--library", "--config"] {
        assert!(coverage.iter().any(|w| w == flag), "{flag}: {coverage:?}");
    }
    assert!(!coverage.iter().any(|w| w == "--dry-run"), "{coverage:?}");
    let shells = bash_completes(&script, &["photos-backup", "completions", ""]);
    for shell in ["bash", "zsh", "fish"] {
        assert!(shells.iter().any(|w| w == shell), "{shell}: {shells:?}");
    }
}

#[test]
fn zsh_loads_the_script_and_registers_it() {
    let zsh = real_tool("zsh", "zsh");
    let tmp = tempfile::tempdir().unwrap();
    let script = script("zsh", tmp.path());
    stdout_of(Command::new(&zsh).arg("-n").arg(&script));
    // With the completion system on, sourcing it binds it to the command.
    let program = r#"
        autoload -Uz compinit && compinit -u -D -d "$2/zcompdump"
        source "$1"
        print -r -- "${_comps[photos-backup]}"
    "#;
    let bound = stdout_of(
        Command::new(&zsh)
            .args(["-f", "-c", program, "zsh"])
            .arg(&script)
            .arg(tmp.path()),
    );
    assert_eq!(bound.trim(), "_photos-backup");
}

#[test]
fn fish_parses_the_script_and_answers_with_it() {
    let fish = real_tool("fish", "fish");
    let tmp = tempfile::tempdir().unwrap();
    let script = script("fish", tmp.path());
    stdout_of(Command::new(&fish).arg("--no-execute").arg(&script));
    let complete = |line: &str| -> Vec<String> {
        let program = format!("source $argv[1]; complete -C '{line}'");
        stdout_of(
            Command::new(&fish)
                .args(["--no-config", "-c", &program])
                .arg(&script)
                .env("HOME", tmp.path()),
        )
        .lines()
        .filter_map(|l| l.split('\t').next())
        .map(str::to_owned)
        .collect()
    };
    assert_eq!(complete("photos-backup st"), ["status"]);
    let run = complete("photos-backup run --");
    assert!(run.iter().any(|w| w == "--dry-run"), "{run:?}");
    assert!(!run.iter().any(|w| w == "--json"), "{run:?}");
}

/// The page as a person reads it: mandoc's rendering, as plain text.
fn rendered(page: &Path) -> String {
    let mandoc = real_tool("mandoc", "mandoc");
    // Errors (an unknown macro, an unclosed block) fail; style notes do not.
    stdout_of(
        Command::new(&mandoc)
            .args(["-T", "lint", "-W", "error"])
            .arg(page),
    );
    let text = stdout_of(Command::new(&mandoc).args(["-T", "ascii"]).arg(page));
    // Bold and underline are overstrikes in -T ascii: keep the letters.
    let mut plain = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if chars.peek() == Some(&'\u{8}') {
            chars.next();
        } else {
            plain.push(c);
        }
    }
    plain
}

#[test]
fn the_man_page_renders_and_names_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("photos-backup.1");
    std::fs::write(&page, stdout_of(&mut photos_backup(&["man"]))).unwrap();
    let text = rendered(&page);
    assert!(text.starts_with("PHOTOS-BACKUP(1)"), "{text}");
    for command in commands() {
        // Commands with their own (`secret set`) are named in full.
        assert!(
            text.contains(&format!("photos-backup {command}")),
            "{command} not in the page:\n{text}"
        );
    }
    for words in ["--dry-run", "--interval <SECONDS>", "PHOTOS_BACKUP_CONFIG"] {
        assert!(text.contains(words), "{words}:\n{text}");
    }
}

#[test]
fn a_reader_that_leaves_early_is_no_error() {
    // `photos-backup man | head -c0`: the pipe's reader is gone before the
    // first write, which so meets a closed pipe (EPIPE) at once.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = photos_backup(&["man"]).stdout(writer).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn help_shows_the_config_variable() {
    let help = stdout_of(&mut photos_backup(&["--help"]));
    assert!(help.contains("[env: PHOTOS_BACKUP_CONFIG=]"), "{help}");
    let set =
        stdout_of(photos_backup(&["status", "--help"]).env("PHOTOS_BACKUP_CONFIG", "/x/pb.conf"));
    assert!(
        set.contains("[env: PHOTOS_BACKUP_CONFIG=/x/pb.conf]"),
        "{set}"
    );
}

/// `config init`'s exit code and what it says, with `HOME` = `home` and
/// the environment `env`.
fn config_init(home: &Path, env: &[(&str, &Path)]) -> (i32, String) {
    let mut command = photos_backup(&["config", "init"]);
    command.env("HOME", home);
    for (key, value) in env {
        command.env(key, value);
    }
    let out: Output = command.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn the_default_config_path_follows_xdg_on_linux_and_the_variable_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let xdg = tmp.path().join("xdg");
    std::fs::create_dir_all(&home).unwrap();

    let (code, said) = config_init(&home, &[("XDG_CONFIG_HOME", &xdg)]);
    assert_eq!(code, 0, "{said}");
    let expected = if cfg!(target_os = "macos") {
        home.join(".config/photos-backup/photos_backup.conf")
    } else {
        xdg.join("photos-backup/photos_backup.conf")
    };
    assert!(expected.is_file(), "{said}");
    assert!(said.contains(&expected.display().to_string()), "{said}");

    // A relative XDG_CONFIG_HOME is ignored, as the spec says.
    let (code, said) = config_init(&home, &[("XDG_CONFIG_HOME", Path::new("rel"))]);
    assert_eq!(code, 0, "{said}");
    assert!(home
        .join(".config/photos-backup/photos_backup.conf")
        .is_file());

    // $PHOTOS_BACKUP_CONFIG wins over the default, and every command reads it.
    let named = tmp.path().join("named.conf");
    let (code, said) = config_init(
        &home,
        &[("XDG_CONFIG_HOME", &xdg), ("PHOTOS_BACKUP_CONFIG", &named)],
    );
    assert_eq!(code, 0, "{said}");
    assert!(named.is_file(), "{said}");
    let checked = stdout_of(
        photos_backup(&["config", "check"])
            .env("HOME", &home)
            .env("PHOTOS_BACKUP_CONFIG", &named),
    );
    assert!(
        checked.starts_with(&format!("config file {}: ok", named.display())),
        "{checked}"
    );
    // And --config wins over it.
    let other = tmp.path().join("other.conf");
    let out = photos_backup(&["--config", other.to_str().unwrap(), "config", "check"])
        .env("HOME", &home)
        .env("PHOTOS_BACKUP_CONFIG", &named)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&other.display().to_string()));
}

#[test]
fn version_names_the_commit_of_this_checkout() {
    let git = real_tool("git", "git");
    let head = stdout_of(
        Command::new(git)
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR")),
    );
    let version = stdout_of(&mut photos_backup(&["--version"]));
    let expected = format!(
        "photos-backup {} ({}",
        env!("CARGO_PKG_VERSION"),
        head.trim()
    );
    assert!(version.starts_with(&expected), "{version} vs {expected}");
}

/// The words after each `photos-backup ` in `text` that could be a command
/// line: lower-case words, up to the first other one (`NAME`, `(run`).
fn command_lines(text: &str) -> Vec<Vec<&str>> {
    text.split("photos-backup")
        .skip(1)
        .filter(|rest| rest.starts_with(char::is_whitespace))
        .map(|rest| {
            let mut words = Vec::new();
            for word in rest.split_whitespace() {
                let bare = word.trim_end_matches([',', '.']);
                if bare.is_empty() || !bare.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                    break;
                }
                words.push(bare);
                if bare != word {
                    break;
                }
            }
            words
        })
        .filter(|words| !words.is_empty())
        .collect()
}

#[test]
fn the_formula_is_valid_ruby_and_installs_what_the_binary_makes() {
    let ruby = real_tool("ruby", "ruby");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let formula = root.join("Formula/photos-backup.rb");
    stdout_of(Command::new(&ruby).arg("-c").arg(&formula));

    let tmp = tempfile::tempdir().unwrap();
    let caveats = stdout_of(
        Command::new(&ruby)
            .arg(root.join("tests/formula/brew.rb"))
            .arg(&formula)
            .arg(BINARY)
            .arg(tmp.path())
            .env_remove("PHOTOS_BACKUP_CONFIG"),
    );
    let prefix = tmp.path().join("prefix");
    // The installed page and scripts are the binary's own.
    let page = prefix.join("share/man/man1/photos-backup.1");
    assert_eq!(
        std::fs::read_to_string(&page).unwrap(),
        stdout_of(&mut photos_backup(&["man"]))
    );
    assert!(rendered(&page).contains("photos-backup coverage"));
    for (shell, file) in [
        ("bash", "etc/bash_completion.d/photos-backup"),
        ("zsh", "share/zsh/site-functions/_photos-backup"),
        ("fish", "share/fish/vendor_completions.d/photos-backup.fish"),
    ] {
        assert_eq!(
            std::fs::read_to_string(prefix.join(file)).unwrap(),
            stdout_of(&mut photos_backup(&["completions", shell])),
            "{shell}"
        );
    }

    // Every step the caveats name is a command the binary has.
    let lines = command_lines(&caveats);
    for step in ["config", "secret", "doctor", "init-repo", "install"] {
        assert!(lines.iter().any(|l| l[0] == step), "{step}: {caveats}");
    }
    assert!(caveats.contains("Full Disk Access"), "{caveats}");
    for words in lines {
        // The longest start of the words that is a command (`doctor until
        // everything is ok`: `doctor`), and not a group without its
        // subcommand (`secret sett`: `secret` alone is no step).
        let help = (1..=words.len()).rev().find_map(|n| {
            let mut args = words[..n].to_vec();
            args.push("--help");
            let out = photos_backup(&args).output().unwrap();
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
        });
        let help =
            help.unwrap_or_else(|| panic!("`photos-backup {}` is no command", words.join(" ")));
        assert!(
            !help.contains("\nCommands:"),
            "`photos-backup {}` names no subcommand",
            words.join(" ")
        );
    }
}

#[test]
fn the_readme_shows_every_command() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for command in commands() {
        assert!(
            readme.contains(&format!("photos-backup {command}")),
            "README.md never shows `photos-backup {command}`"
        );
    }
}
