//! A real borg repository for the rollover tests: created in the test's temp
//! dir with a passphrase kept in a 0600 file the config refers to, and read
//! back with borg itself (archives, their paths, a file's content).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Fails (never skips) without borg: `scripts/test.sh` installs it.
pub fn require_borg() {
    super::tools::real_tool("borg", "borgbackup");
}

pub struct Repo {
    pub location: String,
    pub passphrase_file: PathBuf,
    passphrase: String,
    /// `BORG_RSH` for an `ssh://` repository.
    rsh: Option<String>,
}

impl Repo {
    /// A new repokey repository at `dir/repo`, passphrase in `dir/borg.pass`.
    pub fn init(dir: &Path) -> Self {
        Self::init_at(dir, &dir.join("repo").display().to_string(), None)
    }

    /// A new repository at `location` (a path or `ssh://` URL reached with
    /// `rsh`), passphrase in `dir/borg.pass`.
    pub fn init_at(dir: &Path, location: &str, rsh: Option<String>) -> Self {
        require_borg();
        let passphrase = format!("borg-test-{}", std::process::id());
        let passphrase_file = dir.join("borg.pass");
        std::fs::write(&passphrase_file, &passphrase).unwrap();
        std::fs::set_permissions(&passphrase_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let repo = Self {
            location: location.to_owned(),
            passphrase_file,
            passphrase,
            rsh,
        };
        super::succeeded(
            repo.borg(&["init", "--encryption=repokey-blake2", &repo.location])
                .output()
                .unwrap(),
        );
        repo
    }

    /// A new repository on the test server, over ssh.
    pub fn on_server(server: &super::remote::TestServer) -> Self {
        let remote = server.remote();
        let location = format!(
            "ssh://root@127.0.0.1:{}{}",
            server.port(),
            server.root().join("server/borg").display()
        );
        let rsh = photos_backup::archive::borg::rsh(
            remote.identity_file.as_deref(),
            remote.known_hosts.as_deref(),
        );
        Self::init_at(server.root(), &location, Some(rsh))
    }

    /// The `[borg]` table for this repository on `server`.
    pub fn config_on(&self, server: &super::remote::TestServer, extra: &str) -> String {
        let remote = server.remote();
        let q = |p: Option<&std::path::PathBuf>| format!("{:?}", p.unwrap().display().to_string());
        self.config(&format!(
            "identity_file = {}\nknown_hosts = {}\n{extra}",
            q(remote.identity_file.as_ref()),
            q(remote.known_hosts.as_ref())
        ))
    }

    /// The `[borg]` table for this repository.
    pub fn config(&self, extra: &str) -> String {
        let lock_wait = if extra.contains("lock_wait_seconds") {
            ""
        } else {
            "lock_wait_seconds = 5\n"
        };
        format!(
            "[borg]\nrepository = {:?}\npassphrase = \"file:{}\"\n{lock_wait}{extra}\n",
            self.location,
            self.passphrase_file.display()
        )
    }

    /// The passphrase, to check it never shows.
    pub fn passphrase(&self) -> &str {
        &self.passphrase
    }

    pub fn borg(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("borg");
        cmd.args(args)
            .env("BORG_PASSPHRASE", &self.passphrase)
            .env("BORG_RELOCATED_REPO_ACCESS_IS_OK", "no");
        if let Some(rsh) = &self.rsh {
            cmd.env("BORG_RSH", rsh);
        }
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
        super::succeeded(
            self.borg(&["extract", "--stdout", &spec, path])
                .output()
                .unwrap(),
        )
        .stdout
    }
}
