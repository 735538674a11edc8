//! `photos-backup init-repo`: creates the borg repository of the config
//! (`[borg].repository`), encrypted with `repokey-blake2`, the passphrase
//! read from its secret reference and handed to borg through its
//! environment only. Then it says the one thing a new repository needs at
//! once: export the key and keep it offline with the passphrase, because
//! without both nobody can read the archives. An existing repository is
//! never touched: initialising twice is an error naming it.

use std::io::Write;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};

use crate::archive::access::{self, Access, Deps};
use crate::archive::borg::{self, Exit};
use crate::config::{Borg, Config};
use crate::exit::Failure;
use crate::process::stderr_excerpt;
use crate::text::sh_quote;

/// An ssh repository may take a while to answer; a local one is quick.
const TIMEOUT: Duration = Duration::from_secs(600);

/// Where the advice suggests to put the exported key.
const KEY_FILE: &str = "~/photos-backup-borg-key.txt";

/// Why borg refused to create a repository, when it says so plainly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// A repository is already there.
    Exists,
    /// Something that is not a repository is there.
    Occupied,
}

/// Reads borg's refusal from its error output.
#[must_use]
fn refusal(stderr: &str) -> Option<Refusal> {
    if stderr.contains("A repository already exists at") {
        Some(Refusal::Exists)
    } else if stderr.contains("There is already something at") {
        Some(Refusal::Occupied)
    } else {
        None
    }
}

/// `init-repo`: creates the repository and prints the key advice; without
/// a `[borg]` section, a config failure.
pub(crate) fn run(config: &Config, deps: &Deps, out: &mut dyn Write) -> Result<(), Failure> {
    let section = access::section(config, "init-repo")?;
    Ok(create(section, deps, out)?)
}

fn create(section: &Borg, deps: &Deps, out: &mut dyn Write) -> Result<()> {
    let access = Access::open(section, deps)?;
    let location = &access.repo.location;
    let cmd = borg::init(&access.program, &access.repo, &access.passphrase);
    let output = deps
        .runner
        .run(&cmd, TIMEOUT)
        .with_context(|| format!("creating borg repository {location}"))?;
    let warning = match Exit::of(output.status.code()) {
        Exit::Ok => None,
        Exit::Warning => Some(stderr_excerpt(&output)),
        Exit::Error => {
            let said = String::from_utf8_lossy(&output.stderr);
            match refusal(&said) {
                Some(Refusal::Exists) => bail!(
                    "borg repository {location} already exists: it was initialised before \
                     (nothing was changed); to start over, choose another [borg].repository"
                ),
                Some(Refusal::Occupied) => bail!(
                    "cannot create borg repository {location}: the folder already holds \
                     files that are not a borg repository (nothing was changed); choose an \
                     empty or new folder for [borg].repository"
                ),
                None => bail!(
                    "creating borg repository {location}: borg failed ({}): {}",
                    output.status,
                    stderr_excerpt(&output)
                ),
            }
        }
    };
    for line in advice(location, access.repo.rsh.as_deref()) {
        writeln!(out, "{line}")?;
    }
    if let Some(w) = warning {
        writeln!(out, "borg warned: {w}")?;
    }
    Ok(())
}

/// What to do right after creating the repository: the exact commands that
/// export its key, and why.
#[must_use]
fn advice(location: &str, rsh: Option<&str>) -> Vec<String> {
    let env = rsh.map_or_else(String::new, |rsh| format!("BORG_RSH={} ", sh_quote(rsh)));
    let repo = sh_quote(location);
    vec![
        format!("created borg repository {location} (encryption repokey-blake2)"),
        String::new(),
        "Export its key now, and keep the key and the passphrase offline:".into(),
        format!("  {env}borg key export {repo} {KEY_FILE}"),
        format!("  {env}borg key export --paper {repo}    (the same, to print on paper)"),
        "The key is kept inside the repository, locked by the passphrase. Without the key".into(),
        "AND the passphrase nobody can read the archives, you included: if the repository's".into(),
        "copy of the key is damaged, the exported one is the only way back. Keep both offline"
            .into(),
        "(printed, or on a USB stick in a drawer), apart from this Mac and the backup server."
            .into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borgs_refusals_are_recognised() {
        assert_eq!(
            refusal("A repository already exists at /tmp/r."),
            Some(Refusal::Exists)
        );
        assert_eq!(
            refusal("There is already something at /tmp/x."),
            Some(Refusal::Occupied)
        );
        assert_eq!(refusal("Permission denied: '/r'"), None);
    }

    #[test]
    fn advice_gives_the_exact_export_command_and_why() {
        let lines = advice("/Volumes/Backup/borg repo", None);
        assert_eq!(
            lines[3],
            "  borg key export '/Volumes/Backup/borg repo' ~/photos-backup-borg-key.txt"
        );
        let text = lines.join("\n");
        assert!(text.contains("key\nAND the passphrase"), "{text}");
        assert!(text.contains("offline"), "{text}");

        let ssh = advice(
            "ssh://pb@nas:2222/./borg",
            Some("ssh -o BatchMode=yes -i '/k'"),
        );
        assert_eq!(
            ssh[3],
            "  BORG_RSH='ssh -o BatchMode=yes -i '\\''/k'\\''' borg key export \
             ssh://pb@nas:2222/./borg ~/photos-backup-borg-key.txt"
        );
    }
}
