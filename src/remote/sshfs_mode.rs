//! sshfs on macOS: the combination that never returns, and the mount
//! options a Mac needs.
//!
//! With macFUSE 5.3.3 the mount is made lazily, on the first use of the
//! session, and `fuse_daemonize()` then refuses to fork. sshfs 3.x up to
//! 3.7.6 touches the session (`fcntl(fuse_session_fd(se), F_SETFD,
//! FD_CLOEXEC)`) before daemonizing, so it prints "fuse: daemonize requested
//! after mount started; continuing in foreground" and never returns
//! (macfuse/macfuse#1180, libfuse/sshfs#373; fixed by libfuse/sshfs#380,
//! after 3.7.6). Running it in the foreground instead does not help: the
//! mount point then answers ENOENT, and on SIGTERM sshfs "failed to unmount
//! `DADiskRef`" and stays, leaving a mount only a reboot clears (same thread).
//! So the broken pair is recognised from `sshfs --version` before any mount
//! and refused with the fix, which is the only way to never leave a stale
//! mount behind.
//!
//! The options: `noappledouble` (Finder's `._` and `.DS_Store` files never
//! reach the server), `noapplexattr` (no `com.apple.*` extended attributes
//! written through the mount, which sftp stores as `._` files) and a
//! `volname` (the name Finder and `diskutil` show). Staged files keep their
//! extended attributes locally (`fs::copy` on macOS copies them, and borg
//! archives them from staging); the mirror drops them, which loses nothing:
//! the originals' metadata is in the XMP sidecar and the ledger.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::process::{CommandLine, CommandRunner};

/// A version as three numbers (`3.7.5`; a missing part is 0).
type Version = (u32, u32, u32);

/// What `sshfs --version` says about sshfs and the macFUSE under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versions {
    sshfs: Option<Version>,
    /// `macFUSE mount version 5.3.3`; `None` on Linux and older builds.
    macfuse: Option<Version>,
}

/// The first macFUSE that mounts lazily.
const LAZY_MACFUSE: Version = (5, 3, 3);
/// The last sshfs release without libfuse/sshfs#380.
const LAST_EAGER_SSHFS: Version = (3, 7, 6);

/// How long `sshfs --version` may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Reads `SSHFS version X` and `macFUSE mount version Y` from the output
/// of `sshfs --version` (stdout and stderr together).
#[must_use]
pub fn parse_versions(output: &str) -> Versions {
    let after = |prefix: &str| {
        output.lines().find_map(|line| {
            let rest = line.trim().strip_prefix(prefix)?;
            parse_version(rest.split_whitespace().next()?)
        })
    };
    Versions {
        sshfs: after("SSHFS version "),
        macfuse: after("macFUSE mount version "),
    }
}

fn parse_version(word: &str) -> Option<Version> {
    let mut parts = word.split('.').map(|p| {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().ok()
    });
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// The pair that never returns: sshfs 3.x up to 3.7.6 on macFUSE 5.3.3 or later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Incompatible {
    program: String,
    sshfs: Version,
    macfuse: Version,
}

impl Incompatible {
    /// What is wrong.
    #[must_use]
    pub(crate) fn problem(&self) -> String {
        let v = |(a, b, c): Version| format!("{a}.{b}.{c}");
        format!(
            "{} is sshfs {} on macFUSE {}: this pair never returns from mounting and leaves a \
             mount only a reboot clears (macfuse/macfuse#1180), so it is not started",
            self.program,
            v(self.sshfs),
            v(self.macfuse)
        )
    }

    /// What to do about it.
    #[must_use]
    #[allow(clippy::unused_self)] // read as `e.fix()`, beside `e.problem()`
    pub(crate) fn fix(&self) -> String {
        let (a, b, c) = LAST_EAGER_SSHFS;
        format!(
            "install an sshfs newer than {a}.{b}.{c} (with libfuse/sshfs#380), or go back to \
             macFUSE 5.3.2 (https://github.com/macfuse/macfuse/releases)"
        )
    }
}

impl fmt::Display for Incompatible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; fix: {}", self.problem(), self.fix())
    }
}

/// Whether `versions` is the pair that never returns.
#[must_use]
pub fn is_incompatible(versions: &Versions) -> bool {
    match (versions.sshfs, versions.macfuse) {
        (Some(sshfs), Some(macfuse)) => {
            sshfs.0 == 3 && sshfs <= LAST_EAGER_SSHFS && macfuse >= LAZY_MACFUSE
        }
        _ => false,
    }
}

/// Asks `sshfs --version` and refuses the pair that never returns. An sshfs
/// that does not say (or cannot be asked) is let through: the mount itself
/// is bounded and its failure reported.
pub(crate) fn check(sshfs: &Path, runner: &dyn CommandRunner) -> Result<(), Incompatible> {
    let cmd = CommandLine::new(sshfs, ["--version"]);
    let Ok(out) = runner.run(&cmd, TIMEOUT) else {
        return Ok(());
    };
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let versions = parse_versions(&text);
    match (is_incompatible(&versions), versions.sshfs, versions.macfuse) {
        (true, Some(version), Some(macfuse)) => Err(Incompatible {
            program: sshfs.display().to_string(),
            sshfs: version,
            macfuse,
        }),
        _ => Ok(()),
    }
}

/// The name Finder and `diskutil` show for the encrypted remote volume.
const VOLUME_NAME: &str = "photos-backup-remote";

/// The extra `-o` list for sshfs on macOS.
#[must_use]
fn macos_options() -> [String; 2] {
    [
        "-o".to_owned(),
        format!("noappledouble,noapplexattr,volname={VOLUME_NAME}"),
    ]
}

/// Adds [`macos_options`] to an sshfs command line.
pub(super) fn add_macos_options(cmd: &mut CommandLine) {
    cmd.args.extend(macos_options());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_runner::FakeRunner;

    /// `sshfs --version` of the broken pair, as reported in
    /// macfuse/macfuse#1180 (macOS 26.5.2, Apple M1).
    const MACFUSE_533: &str = "SSHFS version 3.7.5
FUSE library version 3.18.2
using FUSE kernel interface version 7.45
macFUSE mount version 5.3.3
";

    /// A working pair, from macfuse/macfuse#1102 (`sshfs -V`, macOS 26).
    const MACFUSE_505: &str = "SSHFS version 3.7.3
FUSE library version 3.17.2
using FUSE kernel interface version 7.40
macFUSE mount version 5.0.5
";

    /// sshfs 2.x for macFUSE, from osxfuse/sshfs#64 (macOS 10.14).
    const SSHFS_2: &str = "SSHFS version 2.9
FUSE library version: 2.9.9
fuse: no mount point
";

    /// Debian 12's sshfs 3.7.3, captured on the test machine: no macFUSE line.
    const LINUX: &str = "fusermount3 version: 3.14.0
SSHFS version 3.7.3
FUSE library version 3.14.0
using FUSE kernel interface version 7.31
";

    #[test]
    fn versions_from_real_outputs() {
        assert_eq!(
            parse_versions(MACFUSE_533),
            Versions {
                sshfs: Some((3, 7, 5)),
                macfuse: Some((5, 3, 3))
            }
        );
        assert_eq!(parse_versions(MACFUSE_505).macfuse, Some((5, 0, 5)));
        assert_eq!(
            parse_versions(SSHFS_2),
            Versions {
                sshfs: Some((2, 9, 0)),
                macfuse: None
            }
        );
        assert_eq!(parse_versions(LINUX).macfuse, None);
        assert_eq!(parse_versions("").sshfs, None);
    }

    #[test]
    fn only_sshfs_3_up_to_3_7_6_on_macfuse_5_3_3_or_later_is_refused() {
        let pair = |sshfs, macfuse| Versions {
            sshfs: Some(sshfs),
            macfuse: Some(macfuse),
        };
        assert!(is_incompatible(&parse_versions(MACFUSE_533)));
        assert!(is_incompatible(&pair((3, 7, 6), (5, 4, 0))));
        assert!(!is_incompatible(&pair((3, 7, 7), (5, 3, 3))));
        assert!(!is_incompatible(&pair((3, 7, 6), (5, 3, 2))));
        assert!(!is_incompatible(&pair((2, 10, 0), (5, 3, 3))));
        assert!(!is_incompatible(&parse_versions(MACFUSE_505)));
        assert!(!is_incompatible(&parse_versions(LINUX)));
    }

    #[test]
    fn check_asks_sshfs_and_names_the_fix() {
        let broken = FakeRunner::answering(|_| (0, MACFUSE_533.into(), String::new()));
        let err = check(Path::new("/opt/homebrew/bin/sshfs"), &broken).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("/opt/homebrew/bin/sshfs is sshfs 3.7.5 on macFUSE 5.3.3"),
            "{text}"
        );
        assert!(
            text.contains("newer than 3.7.6") && text.contains("macFUSE 5.3.2"),
            "{text}"
        );
        assert_eq!(broken.commands()[0].args, ["--version"]);
        // On stderr (some builds print there) it is found all the same.
        let on_stderr = FakeRunner::answering(|_| (1, String::new(), MACFUSE_533.into()));
        assert!(check(Path::new("sshfs"), &on_stderr).is_err());
        let fine = FakeRunner::answering(|_| (0, MACFUSE_505.into(), String::new()));
        assert_eq!(check(Path::new("sshfs"), &fine), Ok(()));
    }

    /// The run's mount on a Mac with the broken pair: `sshfs --version` is
    /// asked, sshfs is never started to mount (it would never return), the
    /// error names the fix, and nothing is left mounted.
    #[test]
    fn a_mac_with_the_broken_pair_never_starts_the_mount() {
        use crate::host::Os;
        use crate::remote::mount::{ensure_mounted, MountEnv, MountError};
        let bin = tempfile::tempdir().unwrap();
        for tool in ["sshfs", "gocryptfs", "umount", "diskutil", "ssh", "mkdir"] {
            std::fs::write(bin.path().join(tool), "").unwrap();
        }
        let mounts = tempfile::tempdir().unwrap();
        let runner = FakeRunner::answering(|cmd| match cmd.args.first().map(String::as_str) {
            Some("--version") => (0, MACFUSE_533.into(), String::new()),
            // `mount` (the table, empty) and anything else: fine and silent.
            _ => (0, String::new(), String::new()),
        });
        let env = MountEnv {
            os: Os::MacOs,
            tool_dirs: vec![bin.path().to_owned()],
            stat_timeout: Duration::from_secs(1),
            mount_timeout: Duration::from_secs(60),
            unmount_timeout: Duration::from_secs(5),
        };
        let remote = crate::config::Remote {
            host: "nas.local".into(),
            port: 22,
            user: "anna".into(),
            dir: "/photos".into(),
            identity_file: None,
            known_hosts: None,
            cipher_mount: mounts.path().join("c"),
            plain_mount: mounts.path().join("p"),
            password: "keychain:pb".into(),
            keep_mounted: false,
            probe_timeout: Duration::from_secs(2),
            interface: None,
            sshfs: None,
            gocryptfs: None,
        };
        let secret = crate::secrets::Secret::new("pw".into());
        let err = ensure_mounted(&remote, &secret, &runner, &env).unwrap_err();
        assert!(matches!(err, MountError::SshfsIncompatible(_)), "{err}");
        let started: Vec<String> = runner.commands().iter().map(ToString::to_string).collect();
        let sshfs = bin.path().join("sshfs").display().to_string();
        assert!(
            started.contains(&format!("{sshfs} --version")),
            "{started:?}"
        );
        assert!(
            !started
                .iter()
                .any(|c| c.starts_with(&sshfs) && c.contains("nas.local")),
            "{started:?}"
        );
    }

    #[test]
    fn macos_options_keep_apple_files_off_the_server() {
        let mut cmd = CommandLine::new("sshfs", ["a@b:/d", "/m/c"]);
        add_macos_options(&mut cmd);
        assert_eq!(
            cmd.args[2..],
            [
                "-o",
                "noappledouble,noapplexattr,volname=photos-backup-remote"
            ]
        );
    }
}
