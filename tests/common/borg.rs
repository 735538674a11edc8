//! A real borg repository for the rollover tests: created in the test's temp
//! dir with a passphrase kept in a 0600 file the config refers to, and read
//! back with borg itself (archives, their paths, a file's content).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Fails (never skips) without borg: `scripts/test.sh` installs it.
pub fn require_borg() {
    let found = Command::new("borg").arg("--version").output().is_ok();
    assert!(
        found,
        "borg is missing: scripts/test.sh installs it (apt-get install borgbackup)"
    );
}

pub struct Repo {
    pub location: String,
    pub passphrase_file: PathBuf,
    passphrase: String,
}

impl Repo {
    /// A new repokey repository at `dir/repo`, passphrase in `dir/borg.pass`.
    pub fn init(dir: &Path) -> Self {
        require_borg();
        let passphrase = format!("borg-test-{}", std::process::id());
        let passphrase_file = dir.join("borg.pass");
        std::fs::write(&passphrase_file, &passphrase).unwrap();
        std::fs::set_permissions(&passphrase_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let repo = Self {
            location: dir.join("repo").display().to_string(),
            passphrase_file,
            passphrase,
        };
        let out = repo
            .borg(&["init", "--encryption=repokey-blake2", &repo.location])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        repo
    }

    /// The `[borg]` table for this repository.
    pub fn config(&self, extra: &str) -> String {
        format!(
            "[borg]\nrepository = {:?}\npassphrase = \"file:{}\"\nlock_wait_seconds = 5\n{extra}\n",
            self.location,
            self.passphrase_file.display()
        )
    }

    pub fn borg(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("borg");
        cmd.args(args)
            .env("BORG_PASSPHRASE", &self.passphrase)
            .env("BORG_RELOCATED_REPO_ACCESS_IS_OK", "no");
        cmd
    }

    fn output(&self, args: &[&str]) -> String {
        let out = self.borg(args).output().unwrap();
        assert!(
            out.status.success(),
            "borg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Archive names, sorted.
    pub fn archives(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .output(&["list", "--short", &self.location])
            .lines()
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    }

    /// The regular files of an archive, sorted.
    pub fn paths(&self, archive: &str) -> Vec<String> {
        let spec = format!("{}::{archive}", self.location);
        let mut paths: Vec<String> = self
            .output(&["list", "--format", "{type} {path}{NL}", &spec])
            .lines()
            .filter_map(|l| l.strip_prefix("- ").map(str::to_owned))
            .collect();
        paths.sort();
        paths
    }

    /// One file's content in an archive.
    pub fn content(&self, archive: &str, path: &str) -> Vec<u8> {
        let spec = format!("{}::{archive}", self.location);
        let out = self
            .borg(&["extract", "--stdout", &spec, path])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}
