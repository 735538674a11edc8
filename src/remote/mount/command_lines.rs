//! The command lines of the mounts, pure: sshfs and the ssh it runs (host
//! keys always checked, never a prompt, options escaped for FUSE and ssh),
//! gocryptfs (the password on standard input only), the unmount sequence
//! per system, and the small probes run as children (`find`, `mkdir`) so
//! that the run itself never touches a mount point that may hang.

use std::path::{Path, PathBuf};

use crate::config::Remote;
use crate::host::Os;
use crate::process::CommandLine;
use crate::secrets::Secret;

/// The remote folder as ssh and sshfs name it: `user@host:dir`, an IPv6
/// address in brackets.
#[must_use]
pub(super) fn remote_spec(remote: &Remote) -> String {
    let host = if remote.host.contains(':') {
        format!("[{}]", remote.host)
    } else {
        remote.host.clone()
    };
    format!("{}@{}:{}", remote.user, host, remote.dir)
}

/// Seconds ssh waits for the TCP connection (the gate already saw the port open).
const CONNECT_TIMEOUT_SECS: u32 = 15;

/// The ssh options of both sshfs and the diagnosis: keys from the config,
/// host keys always checked, never a prompt.
fn ssh_options(remote: &Remote) -> Vec<(&'static str, String)> {
    let mut options = vec![
        ("ServerAliveInterval", "15".to_owned()),
        ("ServerAliveCountMax", "3".to_owned()),
        ("ConnectTimeout", CONNECT_TIMEOUT_SECS.to_string()),
    ];
    if let Some(identity) = &remote.identity_file {
        options.push(("IdentityFile", ssh_value(&identity.to_string_lossy())));
        // Only that key: an agent full of others can exhaust MaxAuthTries.
        options.push(("IdentitiesOnly", "yes".to_owned()));
    }
    if let Some(known) = &remote.known_hosts {
        options.push(("UserKnownHostsFile", ssh_value(&known.to_string_lossy())));
    }
    options.push(("StrictHostKeyChecking", "yes".to_owned()));
    options.push(("BatchMode", "yes".to_owned()));
    options
}

/// An ssh option value: quoted when it holds blanks (ssh splits `-o` values
/// like config lines).
fn ssh_value(value: &str) -> String {
    if value.chars().any(|c| c.is_whitespace() || c == '"') {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        value.to_owned()
    }
}

/// A FUSE `-o` list item: commas and backslashes escaped.
fn fuse_escape(item: &str) -> String {
    item.replace('\\', "\\\\").replace(',', "\\,")
}

/// `sshfs user@host:dir MOUNTPOINT -p PORT -o reconnect,ServerAlive...,
/// IdentityFile=...,UserKnownHostsFile=...,StrictHostKeyChecking=yes,BatchMode=yes`.
#[must_use]
pub(super) fn sshfs_command(sshfs: &Path, remote: &Remote, mount_point: &Path) -> CommandLine {
    let mut items = vec!["reconnect".to_owned()];
    items.extend(
        ssh_options(remote)
            .into_iter()
            .map(|(k, v)| fuse_escape(&format!("{k}={v}"))),
    );
    CommandLine::new(
        sshfs,
        [
            remote_spec(remote),
            mount_point.to_string_lossy().into_owned(),
            "-p".to_owned(),
            remote.port.to_string(),
            "-o".to_owned(),
            items.join(","),
        ],
    )
}

/// What sshfs itself runs, run directly to learn why sshfs failed: sshfs
/// sends ssh's messages to /dev/null unless kept in the foreground.
#[must_use]
pub(super) fn ssh_diagnosis_command(ssh: &Path, remote: &Remote) -> CommandLine {
    let host = remote.host.clone();
    let mut args = vec![
        "-x".to_owned(),
        "-a".to_owned(),
        "-oClearAllForwardings=yes".to_owned(),
        "-p".to_owned(),
        remote.port.to_string(),
    ];
    args.extend(
        ssh_options(remote)
            .into_iter()
            .map(|(k, v)| format!("-o{k}={v}")),
    );
    args.extend([
        "-s".to_owned(),
        "--".to_owned(),
        format!("{}@{}", remote.user, host),
        "sftp".to_owned(),
    ]);
    CommandLine::new(ssh, args)
}

/// `gocryptfs -q -passfile /dev/stdin CIPHER PLAIN`, the password (and a
/// newline) on standard input. Not `-nosyslog`: with it, the daemon keeps
/// the captured stderr open and the mount command never seems to finish.
#[must_use]
pub(super) fn gocryptfs_command(
    gocryptfs: &Path,
    cipher: &Path,
    plain: &Path,
    password: &Secret,
) -> CommandLine {
    CommandLine::new(
        gocryptfs,
        [
            "-q".to_owned(),
            "-passfile".to_owned(),
            "/dev/stdin".to_owned(),
            "--".to_owned(),
            cipher.to_string_lossy().into_owned(),
            plain.to_string_lossy().into_owned(),
        ],
    )
    .stdin(format!("{}\n", password.expose()))
}

/// The unmount commands for `mount_point`, gentle first: `fusermount3 -u`
/// then `-uz` (lazy: detaches even a busy or dead mount) on Linux; on
/// macOS `umount`, `umount -f`, then `diskutil unmount force` (`unmount_macos`).
#[must_use]
pub(super) fn unmount_commands(
    os: Os,
    tools: &UnmountTools,
    mount_point: &Path,
) -> Vec<CommandLine> {
    let path = mount_point.to_string_lossy().into_owned();
    match os {
        Os::Linux => vec![
            CommandLine::new(&tools.gentle, ["-u".to_owned(), path.clone()]),
            CommandLine::new(&tools.forceful, ["-uz".to_owned(), path]),
        ],
        Os::MacOs => super::unmount_macos::commands(&tools.gentle, &tools.forceful, mount_point),
    }
}

/// The programs of [`unmount_commands`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UnmountTools {
    pub(super) gentle: PathBuf,
    pub(super) forceful: PathBuf,
}

/// `find PATH -maxdepth 1 -name NAME -type f`: stats and lists the mount
/// point (a stat alone is answered from the kernel's cache for a gocryptfs
/// view whose SSHFS below has died) and prints `PATH/NAME` when that file
/// is there. Run as a child, under a timeout: a dead or hung mount can put
/// the process that touches it in uninterruptible sleep, and that must
/// never be the run itself.
#[must_use]
pub(super) fn probe_command(find: &Path, path: &Path, name: &str) -> CommandLine {
    CommandLine::new(
        find,
        [
            path.to_string_lossy().into_owned(),
            "-maxdepth".to_owned(),
            "1".to_owned(),
            "-name".to_owned(),
            name.to_owned(),
            "-type".to_owned(),
            "f".to_owned(),
        ],
    )
    .max_stdout(64 * 1024)
}

/// `mkdir -p PATH`, as a child: the point may be a dead mount the table no
/// longer lists, which a `stat` from the run would hang on.
#[must_use]
pub(super) fn mkdir_command(mkdir: &Path, path: &Path) -> CommandLine {
    CommandLine::new(
        mkdir,
        [
            "-p".to_owned(),
            "--".to_owned(),
            path.to_string_lossy().into_owned(),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::mount::testing::remote;

    #[test]
    fn sshfs_checks_host_keys_and_escapes_options() {
        let cmd = sshfs_command(Path::new("/usr/bin/sshfs"), &remote(), Path::new("/m/c"));
        assert_eq!(
            cmd.args,
            [
                "anna@nas.local:/volume1/photos",
                "/m/c",
                "-p",
                "2222",
                "-o",
                "reconnect,ServerAliveInterval=15,ServerAliveCountMax=3,ConnectTimeout=15,\
                 IdentityFile=/Users/anna/.ssh/id_backup,IdentitiesOnly=yes,\
                 UserKnownHostsFile=\"/Users/anna/Library/Application Support/pb/known_hosts\",\
                 StrictHostKeyChecking=yes,BatchMode=yes"
            ]
        );
        let mut odd = remote();
        odd.identity_file = Some("/k,ey".into());
        odd.known_hosts = None;
        odd.host = "fd00::5".into();
        let cmd = sshfs_command(Path::new("sshfs"), &odd, Path::new("/m/c"));
        assert_eq!(cmd.args[0], "anna@[fd00::5]:/volume1/photos");
        assert!(
            cmd.args[5].contains("IdentityFile=/k\\,ey,"),
            "{}",
            cmd.args[5]
        );
        assert!(!cmd.args[5].contains("UserKnownHostsFile"));
        assert!(cmd.args[5].contains("StrictHostKeyChecking=yes"));
    }

    #[test]
    fn ssh_diagnosis_runs_what_sshfs_runs() {
        let cmd = ssh_diagnosis_command(Path::new("/usr/bin/ssh"), &remote());
        let args = cmd.args.join(" ");
        assert!(
            args.starts_with("-x -a -oClearAllForwardings=yes -p 2222 -oServerAliveInterval=15"),
            "{args}"
        );
        assert!(
            args.contains("-oStrictHostKeyChecking=yes -oBatchMode=yes"),
            "{args}"
        );
        assert!(args.ends_with("-s -- anna@nas.local sftp"), "{args}");
        assert!(cmd.stdin.is_none());
    }

    #[test]
    fn the_password_goes_on_stdin_only() {
        let secret = Secret::new("hunter2 with spaces".into());
        let cmd = gocryptfs_command(
            Path::new("/opt/homebrew/bin/gocryptfs"),
            Path::new("/m/c"),
            Path::new("/m/p"),
            &secret,
        );
        assert_eq!(
            cmd.args,
            ["-q", "-passfile", "/dev/stdin", "--", "/m/c", "/m/p"]
        );
        assert_eq!(cmd.stdin.as_deref(), Some(&b"hunter2 with spaces\n"[..]));
        for shown in [cmd.to_string(), format!("{cmd:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }

    #[test]
    fn unmount_commands_escalate() {
        let linux = UnmountTools {
            gentle: "/usr/bin/fusermount3".into(),
            forceful: "/usr/bin/fusermount3".into(),
        };
        let cmds = unmount_commands(Os::Linux, &linux, Path::new("/m/p"));
        let shown: Vec<String> = cmds.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "/usr/bin/fusermount3 -u /m/p",
                "/usr/bin/fusermount3 -uz /m/p"
            ]
        );
        let mac = UnmountTools {
            gentle: "/sbin/umount".into(),
            forceful: "/usr/sbin/diskutil".into(),
        };
        let cmds = unmount_commands(Os::MacOs, &mac, Path::new("/m/p"));
        let shown: Vec<String> = cmds.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "/sbin/umount /m/p",
                "/sbin/umount -f /m/p",
                "/usr/sbin/diskutil unmount force /m/p"
            ]
        );
    }

    #[test]
    fn probes_run_as_children() {
        let cmd = probe_command(
            Path::new("/usr/bin/find"),
            Path::new("/m/c"),
            "gocryptfs.conf",
        );
        assert_eq!(
            cmd.to_string(),
            "/usr/bin/find /m/c -maxdepth 1 -name gocryptfs.conf -type f"
        );
        let cmd = mkdir_command(Path::new("/bin/mkdir"), Path::new("/m/-p"));
        assert_eq!(cmd.args, ["-p", "--", "/m/-p"]);
    }
}
