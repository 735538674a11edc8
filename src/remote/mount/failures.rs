//! What the tools' failures mean: ssh's stderr sorted into the classes a
//! person can act on (host key changed or unknown, login refused, server
//! unreachable), sshfs's and gocryptfs's exits turned into the error that
//! names the fix, and the secret scrubbed from anything a tool echoed.
//! Pure: text and exit codes in, a `MountError` out.

use std::path::Path;

use super::command_lines::remote_spec;
use super::MountError;
use crate::config::Remote;
use crate::secrets::Secret;

/// What ssh's stderr says went wrong, when it says something we know.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SshFailure {
    HostKeyChanged,
    HostKeyUnknown,
    Auth(String),
    Unreachable(String),
}

/// Reads ssh's stderr (OpenSSH wording, stable for decades).
#[must_use]
fn classify_ssh_stderr(stderr: &str) -> Option<SshFailure> {
    let line_with = |needle: &str| {
        stderr
            .lines()
            .find(|l| l.contains(needle))
            .map(|l| l.trim().trim_start_matches("ssh: ").to_owned())
    };
    if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || stderr.contains("has changed and you have requested strict checking")
    {
        return Some(SshFailure::HostKeyChanged);
    }
    if stderr.contains("host key is known for") || stderr.contains("Host key verification failed") {
        return Some(SshFailure::HostKeyUnknown);
    }
    for needle in [
        "Permission denied",
        "no such identity",
        "Load key",
        "Too many authentication failures",
    ] {
        if let Some(line) = line_with(needle) {
            return Some(SshFailure::Auth(line));
        }
    }
    for needle in [
        "Connection refused",
        "timed out",
        "No route to host",
        "Network is unreachable",
        "Could not resolve hostname",
        "Connection closed by",
        "Connection reset",
    ] {
        if let Some(line) = line_with(needle) {
            return Some(SshFailure::Unreachable(line));
        }
    }
    None
}

/// The error for an sshfs failure, from sshfs's own stderr and, when it
/// ran, the diagnosis by ssh.
pub(super) fn sshfs_error(
    remote: &Remote,
    mount_point: &Path,
    sshfs_stderr: &str,
    ssh_stderr: Option<&str>,
) -> MountError {
    let known_hosts = remote.known_hosts.as_ref().map_or_else(
        || "~/.ssh/known_hosts".to_owned(),
        |p| p.display().to_string(),
    );
    match ssh_stderr.and_then(classify_ssh_stderr) {
        Some(SshFailure::HostKeyChanged) => {
            return MountError::HostKeyChanged {
                host: remote.host.clone(),
                port: remote.port,
                known_hosts,
            }
        }
        Some(SshFailure::HostKeyUnknown) => {
            return MountError::HostKeyUnknown {
                host: remote.host.clone(),
                port: remote.port,
                known_hosts,
            }
        }
        Some(SshFailure::Auth(detail)) => {
            return MountError::Auth {
                user: remote.user.clone(),
                host: remote.host.clone(),
                identity: remote
                    .identity_file
                    .as_ref()
                    .map_or_else(|| "ssh's default".to_owned(), |p| p.display().to_string()),
                detail,
            }
        }
        Some(SshFailure::Unreachable(reason)) => {
            return MountError::Unreachable {
                host: remote.host.clone(),
                port: remote.port,
                reason,
            }
        }
        None => {}
    }
    let spec = remote_spec(remote);
    if sshfs_stderr.contains(&format!("{spec}: No such file or directory")) {
        return MountError::RemoteDirMissing {
            host: remote.host.clone(),
            dir: remote.dir.clone(),
        };
    }
    MountError::Sshfs {
        spec,
        path: mount_point.to_owned(),
        detail: non_empty(first_lines(sshfs_stderr)),
    }
}

/// gocryptfs's exit codes: 12 wrong password, 10 mount point not empty,
/// 23 (documented) or 11 (2.3 in practice) no readable gocryptfs.conf.
pub(super) fn gocryptfs_error(
    remote: &Remote,
    cipher: &Path,
    plain: &Path,
    code: i32,
    stderr: &str,
) -> MountError {
    match code {
        12 => MountError::WrongPassword {
            host: remote.host.clone(),
            dir: remote.dir.clone(),
        },
        10 => MountError::MountPointNotEmpty {
            path: plain.to_owned(),
        },
        11 | 23 if stderr.contains("gocryptfs.conf") => MountError::NotCipherDir {
            host: remote.host.clone(),
            dir: remote.dir.clone(),
        },
        _ => MountError::Gocryptfs {
            cipher: cipher.to_owned(),
            path: plain.to_owned(),
            code,
            detail: non_empty(first_lines(stderr)),
        },
    }
}

/// A child's stderr for a message: its first meaningful lines, without
/// gocryptfs's complaints that there is no syslog to switch to.
pub(super) fn first_lines(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains("ToSyslog"))
        .take(3)
        .collect::<Vec<_>>()
        .join(" / ")
}

pub(super) fn non_empty(text: String) -> String {
    if text.is_empty() {
        "no message".to_owned()
    } else {
        text
    }
}

/// `text` with every occurrence of the secret replaced by `***`: a last
/// guard, should a tool ever echo what it read.
#[must_use]
pub(super) fn scrub(text: &str, secret: &Secret) -> String {
    let value = secret.expose();
    if value.is_empty() {
        text.to_owned()
    } else {
        text.replace(value, "***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::mount::testing::remote;

    #[test]
    fn ssh_messages() {
        let changed = "@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n\
            Host key for [127.0.0.1]:42222 has changed and you have requested strict checking.\n\
            Host key verification failed.\n";
        assert_eq!(
            classify_ssh_stderr(changed),
            Some(SshFailure::HostKeyChanged)
        );
        let unknown = "No ED25519 host key is known for [127.0.0.1]:42222 and you have requested strict checking.\n\
            Host key verification failed.\n";
        assert_eq!(
            classify_ssh_stderr(unknown),
            Some(SshFailure::HostKeyUnknown)
        );
        assert_eq!(
            classify_ssh_stderr("root@127.0.0.1: Permission denied (publickey).\n"),
            Some(SshFailure::Auth(
                "root@127.0.0.1: Permission denied (publickey).".into()
            ))
        );
        assert_eq!(
            classify_ssh_stderr("ssh: connect to host 127.0.0.1 port 42223: Connection refused\n"),
            Some(SshFailure::Unreachable(
                "connect to host 127.0.0.1 port 42223: Connection refused".into()
            ))
        );
        assert!(matches!(
            classify_ssh_stderr(
                "ssh: Could not resolve hostname nas.invalid: Name or service not known\n"
            ),
            Some(SshFailure::Unreachable(_))
        ));
        assert_eq!(classify_ssh_stderr(""), None);
        assert_eq!(
            classify_ssh_stderr("Warning: Permanently added ...\n"),
            None
        );
    }

    #[test]
    fn sshfs_failures_become_distinct_errors() {
        let r = remote();
        let p = Path::new("/m/c");
        let e = sshfs_error(
            &r,
            p,
            "read: Connection reset by peer",
            Some("Host key verification failed.\n"),
        );
        assert!(matches!(e, MountError::HostKeyUnknown { .. }), "{e}");
        let e = sshfs_error(
            &r,
            p,
            "anna@nas.local:/volume1/photos: No such file or directory\n",
            Some(""),
        );
        assert_eq!(
            e.to_string(),
            "folder /volume1/photos does not exist on nas.local"
        );
        let e = sshfs_error(
            &r,
            p,
            "sshfs: bad mount point `/m/c': No such file or directory",
            None,
        );
        assert_eq!(
            e.to_string(),
            "sshfs could not mount anna@nas.local:/volume1/photos on /m/c: \
             sshfs: bad mount point `/m/c': No such file or directory"
        );
        let e = sshfs_error(
            &r,
            p,
            "",
            Some("anna@nas.local: Permission denied (publickey).\n"),
        );
        assert_eq!(
            e.to_string(),
            "anna@nas.local refused the SSH login (key /Users/anna/.ssh/id_backup): \
             anna@nas.local: Permission denied (publickey)."
        );
    }

    #[test]
    fn gocryptfs_exit_codes() {
        let r = remote();
        let (c, p) = (Path::new("/m/c"), Path::new("/m/p"));
        let e = gocryptfs_error(&r, c, p, 12, "Password incorrect.");
        assert_eq!(
            e.to_string(),
            "wrong gocryptfs password for nas.local:/volume1/photos (remote.password)"
        );
        let e = gocryptfs_error(
            &r,
            c,
            p,
            11,
            "Cannot open config file: open /m/c/gocryptfs.conf: no such file",
        );
        assert!(matches!(e, MountError::NotCipherDir { .. }), "{e}");
        let e = gocryptfs_error(&r, c, p, 10, "");
        assert!(matches!(e, MountError::MountPointNotEmpty { .. }), "{e}");
        let e = gocryptfs_error(
            &r,
            c,
            p,
            7,
            "SwitchToSyslog: Unix syslog delivery error\nfuse: device not found",
        );
        assert_eq!(
            e.to_string(),
            "gocryptfs could not mount /m/c on /m/p (exit 7): fuse: device not found"
        );
    }

    #[test]
    fn scrub_hides_the_secret() {
        let s = Secret::new("pw1".into());
        assert_eq!(scrub("bad pw1 here pw1", &s), "bad *** here ***");
        assert_eq!(scrub("x", &Secret::new(String::new())), "x");
    }
}
