//! The mount table, read rather than assumed: before mounting, the backup
//! must know whether its SSHFS and gocryptfs mounts are already there (to
//! reuse them, never stack a second one on top) and after mounting, that the
//! kernel really lists them. Linux publishes the table in `/proc/self/mounts`
//! (space-separated, octal escapes such as `\040` for a space); macOS only
//! through `mount` output (`SOURCE on PATH (TYPE, options...)`). Parsing both
//! is pure; reading is one thin function.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::host::Os;
use crate::process::{stderr_excerpt, CommandLine, CommandRunner, ProcessError};

/// One line of the mount table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    /// What is mounted: `user@host:/dir` for SSHFS, the cipher folder for gocryptfs.
    pub source: String,
    pub mount_point: PathBuf,
    /// `fuse.sshfs`, `fuse.gocryptfs` (Linux); `macfuse`, `osxfuse` (macOS).
    pub fs_type: String,
}

/// What kind of file system an entry is, as far as the backup cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsKind {
    Sshfs,
    Gocryptfs,
    /// A FUSE mount whose program the table does not name (macOS lists
    /// every macFUSE mount as `macfuse`).
    Fuse,
    Other,
}

impl MountEntry {
    #[must_use]
    pub fn kind(&self) -> FsKind {
        match self.fs_type.as_str() {
            "fuse.sshfs" | "fuse.sshfs3" => FsKind::Sshfs,
            "fuse.gocryptfs" => FsKind::Gocryptfs,
            t if t == "fuse" || t.starts_with("fuse.") || t == "macfuse" || t == "osxfuse" => {
                FsKind::Fuse
            }
            _ => FsKind::Other,
        }
    }

    /// Whether this is a FUSE mount at all (the only kind the backup ever unmounts).
    #[must_use]
    pub fn is_fuse(&self) -> bool {
        self.kind() != FsKind::Other
    }
}

/// The parsed mount table, in mount order (a later entry on the same point
/// is stacked on the earlier one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountTable {
    entries: Vec<MountEntry>,
}

impl MountTable {
    /// Parses the table text of `os`: `/proc/self/mounts` or `mount` output.
    #[must_use]
    pub fn parse(os: Os, text: &str) -> Self {
        let entries = match os {
            Os::Linux => text.lines().filter_map(parse_proc_line).collect(),
            Os::MacOs => text.lines().filter_map(parse_macos_line).collect(),
        };
        Self { entries }
    }

    /// Every entry mounted on `mount_point` (more than one: stacked mounts).
    #[must_use]
    pub fn at(&self, mount_point: &Path) -> Vec<&MountEntry> {
        self.entries
            .iter()
            .filter(|e| e.mount_point == mount_point)
            .collect()
    }

    /// Every entry at or below `dir`, most recent first: the order to
    /// unmount them in (a mount can only sit on one made before it).
    #[must_use]
    pub fn under(&self, dir: &Path) -> Vec<&MountEntry> {
        self.entries
            .iter()
            .rev()
            .filter(|e| e.mount_point.starts_with(dir))
            .collect()
    }
}

/// `/proc/mounts`: `SOURCE MOUNTPOINT TYPE OPTIONS FREQ PASSNO`, fields
/// separated by single spaces, with space, tab, newline and backslash
/// written as octal escapes.
fn parse_proc_line(line: &str) -> Option<MountEntry> {
    let mut fields = line.split(' ');
    let source = fields.next().filter(|s| !s.is_empty())?;
    let mount_point = fields.next()?;
    let fs_type = fields.next()?;
    Some(MountEntry {
        source: String::from_utf8_lossy(&unescape_octal(source)).into_owned(),
        mount_point: PathBuf::from(OsString::from_vec(unescape_octal(mount_point))),
        fs_type: String::from_utf8_lossy(&unescape_octal(fs_type)).into_owned(),
    })
}

/// Decodes `\NNN` (three octal digits) escapes; anything else is kept as is.
fn unescape_octal(field: &str) -> Vec<u8> {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| {
            bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)) && d[0] <= b'3'
        });
        if let Some(digits) = octal {
            out.push(digits.iter().fold(0u8, |n, d| n * 8 + (d - b'0')));
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// macOS `mount`: `SOURCE on MOUNTPOINT (TYPE, option, option...)`, names
/// unescaped. The source may itself contain " on ", so the split is at the
/// first " on " followed by an absolute path.
fn parse_macos_line(line: &str) -> Option<MountEntry> {
    let line = line.trim_end();
    let open = line.rfind(" (")?;
    let inside = line[open + 2..].strip_suffix(')')?;
    let fs_type = inside.split(',').next()?.trim();
    let head = &line[..open];
    let split = head.match_indices(" on /").map(|(i, _)| i).next()?;
    let source = &head[..split];
    let mount_point = &head[split + 4..];
    if source.is_empty() || fs_type.is_empty() {
        return None;
    }
    Some(MountEntry {
        source: source.to_owned(),
        mount_point: PathBuf::from(mount_point),
        fs_type: fs_type.to_owned(),
    })
}

/// The mount table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("cannot read the mount table {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot list mounts")]
    Run(#[from] ProcessError),
    #[error("cannot list mounts: {command} failed: {detail}")]
    Failed { command: String, detail: String },
}

/// Where Linux publishes the mount table of this process.
const PROC_MOUNTS: &str = "/proc/self/mounts";
/// Linux's mount table with each mount's device number.
pub(super) const PROC_MOUNTINFO: &str = "/proc/self/mountinfo";

/// The FUSE connection numbers of the mounts at `mount_point`, from
/// `/proc/self/mountinfo` text: a FUSE mount's device is `0:N`, and N names
/// its folder in fusectl (`/sys/fs/fuse/connections/N`). Fields: id,
/// parent, `major:minor`, root, mount point (octal escapes), options...,
/// `-`, type, source, super options.
#[must_use]
pub(super) fn fuse_connections(mountinfo: &str, mount_point: &Path) -> Vec<u32> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (head, tail) = line.split_once(" - ")?;
            let fields: Vec<&str> = head.split(' ').collect();
            let (major, minor) = fields.get(2)?.split_once(':')?;
            let point = PathBuf::from(OsString::from_vec(unescape_octal(fields.get(4)?)));
            let fs_type = tail.split(' ').next()?;
            let fuse = fs_type == "fuse" || fs_type.starts_with("fuse.");
            (fuse && major == "0" && point == mount_point)
                .then(|| minor.parse().ok())
                .flatten()
        })
        .collect()
}

/// The macOS tool that prints the mount table.
const MACOS_MOUNT: &str = "/sbin/mount";

/// Reads the current mount table: `/proc/self/mounts` on Linux, `mount`
/// output on macOS.
pub fn read(os: Os, runner: &dyn CommandRunner) -> Result<MountTable, TableError> {
    match os {
        Os::Linux => {
            let path = Path::new(PROC_MOUNTS);
            let text = std::fs::read(path).map_err(|source| TableError::Read {
                path: path.to_owned(),
                source,
            })?;
            Ok(MountTable::parse(os, &String::from_utf8_lossy(&text)))
        }
        Os::MacOs => {
            let cmd = CommandLine::new(MACOS_MOUNT, Vec::<String>::new());
            let out = runner.run(&cmd, Duration::from_secs(10))?;
            if !out.status.success() {
                return Err(TableError::Failed {
                    command: cmd.to_string(),
                    detail: stderr_excerpt(&out),
                });
            }
            Ok(MountTable::parse(os, &String::from_utf8_lossy(&out.stdout)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured on Debian 12 with both mounts up, one mount point with a space.
    const PROC: &str = "\
sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
/dev/vda1 / ext4 rw,relatime 0 0
root@127.0.0.1:/tmp/exp/cipher /tmp/exp/mnt_c fuse.sshfs rw,nosuid,nodev,relatime,user_id=0,group_id=0 0 0
/tmp/exp/mnt_c /tmp/exp/mnt_p fuse.gocryptfs rw,nosuid,nodev,relatime,user_id=0,group_id=0,max_read=131072 0 0
root@127.0.0.1:/tmp/exp/cipher /tmp/exp/m\\0404 fuse.sshfs rw,nosuid,nodev,relatime,user_id=0,group_id=0 0 0
";

    /// macOS 14 with macFUSE: system volumes, then the two backup mounts.
    const MACOS: &str = "\
/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)
devfs on /dev (devfs, local, nobrowse)
map auto_home on /System/Volumes/Data/home (autofs, automounted, nobrowse)
anna@nas.local:/volume1/photos on /Users/anna/.photos-backup/cipher (macfuse, nodev, nosuid, synchronous, mounted by anna)
/Users/anna/.photos-backup/cipher on /Users/anna/Photos Backup (macfuse, local, nodev, nosuid, synchronous, mounted by anna)
anna@old:/x on /Volumes/old on disk (osxfuse, nodev, nosuid, mounted by anna)
";

    #[test]
    fn proc_mounts_with_escapes() {
        let t = MountTable::parse(Os::Linux, PROC);
        assert_eq!(t.entries.len(), 6);
        let cipher = t.at(Path::new("/tmp/exp/mnt_c"));
        assert_eq!(cipher.len(), 1);
        assert_eq!(cipher[0].source, "root@127.0.0.1:/tmp/exp/cipher");
        assert_eq!(cipher[0].kind(), FsKind::Sshfs);
        let plain = t.at(Path::new("/tmp/exp/mnt_p"));
        assert_eq!(plain[0].source, "/tmp/exp/mnt_c");
        assert_eq!(plain[0].kind(), FsKind::Gocryptfs);
        assert_eq!(t.at(Path::new("/tmp/exp/m 4")).len(), 1);
        assert_eq!(t.at(Path::new("/")).len(), 1);
        assert!(!t.at(Path::new("/"))[0].is_fuse());
    }

    #[test]
    fn octal_escapes() {
        assert_eq!(unescape_octal(r"a\040b\011c\012d\134e"), b"a b\tc\nd\\e");
        // Not an escape: kept as written.
        assert_eq!(unescape_octal(r"a\09x\"), b"a\\09x\\");
        assert_eq!(unescape_octal(r"\1"), b"\\1");
    }

    #[test]
    fn non_utf8_mount_points_survive() {
        let t = MountTable::parse(Os::Linux, "s /mnt/\\377x fuse.sshfs rw 0 0\n");
        assert_eq!(
            t.entries[0].mount_point,
            PathBuf::from(OsString::from_vec(b"/mnt/\xffx".to_vec()))
        );
    }

    #[test]
    fn macos_mount_output() {
        let t = MountTable::parse(Os::MacOs, MACOS);
        assert_eq!(t.entries.len(), 6);
        let cipher = t.at(Path::new("/Users/anna/.photos-backup/cipher"));
        assert_eq!(cipher[0].source, "anna@nas.local:/volume1/photos");
        assert_eq!(cipher[0].fs_type, "macfuse");
        assert_eq!(cipher[0].kind(), FsKind::Fuse);
        let plain = t.at(Path::new("/Users/anna/Photos Backup"));
        assert_eq!(plain[0].source, "/Users/anna/.photos-backup/cipher");
        let home = t.at(Path::new("/System/Volumes/Data/home"));
        assert_eq!(home[0].source, "map auto_home");
        assert!(!home[0].is_fuse());
        let old = t.at(Path::new("/Volumes/old on disk"));
        assert_eq!(old[0].kind(), FsKind::Fuse);
    }

    #[test]
    fn fuse_connection_numbers_from_mountinfo() {
        // Captured on Debian 12 with both mounts up (one stacked twice).
        let info = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw
801 27 0:52 / /tmp/exp/mnt_c rw,nosuid,nodev,relatime - fuse.sshfs root@127.0.0.1:/tmp/exp/cipher rw,user_id=0,group_id=0
802 801 0:53 / /tmp/exp/mnt\\040p rw,nosuid,nodev,relatime - fuse.gocryptfs /tmp/exp/mnt_c rw,user_id=0,group_id=0,max_read=131072
803 801 0:57 / /tmp/exp/mnt_c rw,nosuid,nodev,relatime shared:5 - fuse.sshfs root@127.0.0.1:/tmp/exp/cipher rw
804 27 8:3 / /tmp/exp/disk rw - ext4 /dev/sdb1 rw
";
        assert_eq!(
            fuse_connections(info, Path::new("/tmp/exp/mnt_c")),
            [52, 57]
        );
        assert_eq!(fuse_connections(info, Path::new("/tmp/exp/mnt p")), [53]);
        assert!(fuse_connections(info, Path::new("/tmp/exp/disk")).is_empty());
        assert!(fuse_connections(info, Path::new("/proc")).is_empty());
        assert!(fuse_connections("garbage\n\n", Path::new("/")).is_empty());
    }

    #[test]
    fn garbage_lines_are_skipped() {
        assert!(MountTable::parse(Os::MacOs, "nonsense\n\n x on y (z)\n")
            .entries
            .is_empty());
        assert!(MountTable::parse(Os::Linux, "\nonly-one-field\n")
            .entries
            .is_empty());
    }

    #[test]
    fn stacked_and_nested_mounts() {
        let text =
            "a /m/c fuse.sshfs rw 0 0\n/m/c /m/p fuse.gocryptfs rw 0 0\nb /m/c fuse.sshfs rw 0 0\n";
        let t = MountTable::parse(Os::Linux, text);
        assert_eq!(t.at(Path::new("/m/c")).len(), 2);
        let under: Vec<_> = t
            .under(Path::new("/m"))
            .iter()
            .map(|e| e.source.clone())
            .collect();
        // Most recent first: the top of a stack, and what sits on another mount.
        assert_eq!(under, ["b", "/m/c", "a"]);
        assert!(t.under(Path::new("/m/cc")).is_empty());
    }
}
