//! The unmount sequence on macOS, gentlest first: `umount` (refused while a
//! file is open), `umount -f` (forces the kernel's side), then `diskutil
//! unmount force` (asks Disk Arbitration, which macFUSE mounts register
//! with, and clears what `umount -f` leaves when the FUSE daemon is gone:
//! macfuse/macfuse#813). The caller re-reads the mount table after each
//! step and stops as soon as the mount is gone, so a healthy mount costs
//! one `umount`.

use std::path::Path;

use crate::process::CommandLine;

/// `umount PATH`, `umount -f PATH`, `diskutil unmount force PATH`.
#[must_use]
pub(super) fn commands(umount: &Path, diskutil: &Path, mount_point: &Path) -> Vec<CommandLine> {
    let path = mount_point.to_string_lossy().into_owned();
    vec![
        CommandLine::new(umount, [path.clone()]),
        CommandLine::new(umount, ["-f".to_owned(), path.clone()]),
        CommandLine::new(diskutil, ["unmount".to_owned(), "force".to_owned(), path]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gentle_then_forced_then_diskutil() {
        let shown: Vec<String> = commands(
            Path::new("/sbin/umount"),
            Path::new("/usr/sbin/diskutil"),
            Path::new("/m/p q"),
        )
        .iter()
        .map(|c| {
            std::iter::once(c.program.display().to_string())
                .chain(c.args.iter().cloned())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
        assert_eq!(
            shown,
            [
                "/sbin/umount|/m/p q",
                "/sbin/umount|-f|/m/p q",
                "/usr/sbin/diskutil|unmount|force|/m/p q"
            ]
        );
    }
}
