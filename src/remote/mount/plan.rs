//! What to do with the two mount points, decided from the mount table and
//! a health probe: each point is free, ours and healthy, ours but stale
//! (dead, hung or stacked), or someone else's; the plan keeps, mounts or
//! remounts each, the plain view never outliving the SSHFS mount under it.
//! Pure.

use std::path::Path;

use super::health::Health;
use super::MountError;
use crate::remote::mount_table::MountEntry;

/// How a mount point looks before mounting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PointState {
    /// Nothing mounted.
    Free,
    /// Our mount, once, answering.
    Healthy,
    /// Our mount, but dead, hung or stacked: to clear before mounting.
    Stale(String),
    /// Something else is mounted there: not ours to touch.
    Foreign(MountEntry),
}

/// Judges the entries on one mount point: ours when the source is what we
/// mount there (`expected_source`); `health` only matters for ours.
#[must_use]
pub(super) fn judge(entries: &[&MountEntry], expected_source: &str, health: &Health) -> PointState {
    if let Some(other) = entries
        .iter()
        .find(|e| !same_source(&e.source, expected_source) || !e.is_fuse())
    {
        return PointState::Foreign((*other).clone());
    }
    match (entries.len(), health) {
        (0, _) => PointState::Free,
        (1, Health::Healthy) => PointState::Healthy,
        (1, Health::Dead(reason)) => PointState::Stale(reason.clone()),
        (n, _) => PointState::Stale(format!("mounted {n} times on top of itself")),
    }
}

/// Whether a table source is the one we mount: gocryptfs shows a comma
/// of the cipher folder's path as `_` (commas separate mount options).
#[must_use]
fn same_source(found: &str, expected: &str) -> bool {
    found == expected || found == expected.replace(',', "_")
}

/// What to do with one mount point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// Healthy: reuse it.
    Keep,
    /// Nothing there: mount.
    Mount,
    /// Unmount what is there (dead, stacked, or on a cipher mount being
    /// redone), then mount.
    Remount,
}

impl Action {
    #[must_use]
    pub(super) fn clears(self) -> bool {
        self == Action::Remount
    }

    #[must_use]
    pub(super) fn mounts(self) -> bool {
        self != Action::Keep
    }
}

/// The actions for both mount points, carried out as: clear plain, clear
/// cipher, mount cipher, mount plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Plan {
    pub(super) cipher: Action,
    pub(super) plain: Action,
}

impl Plan {
    /// Both mounts are there and healthy.
    #[must_use]
    pub(super) fn reuses_all(self) -> bool {
        self.cipher == Action::Keep && self.plain == Action::Keep
    }
}

/// The plan for the two mount points: the plain view is only as good as
/// the SSHFS mount under it, so a cipher mount to redo takes the plain one
/// with it. Foreign mounts stop everything.
pub(super) fn plan(
    cipher_path: &Path,
    cipher: &PointState,
    plain_path: &Path,
    plain: &PointState,
) -> Result<Plan, MountError> {
    for (path, state) in [(cipher_path, cipher), (plain_path, plain)] {
        if let PointState::Foreign(entry) = state {
            return Err(MountError::MountPointBusy {
                path: path.to_owned(),
                mounted: entry.source.clone(),
                fs_type: entry.fs_type.clone(),
            });
        }
    }
    let cipher_action = match cipher {
        PointState::Healthy => Action::Keep,
        PointState::Free => Action::Mount,
        _ => Action::Remount,
    };
    let plain_action = match plain {
        PointState::Free => Action::Mount,
        PointState::Healthy if cipher_action == Action::Keep => Action::Keep,
        _ => Action::Remount,
    };
    Ok(Plan {
        cipher: cipher_action,
        plain: plain_action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::mount::testing::entry;

    #[test]
    fn judging_a_mount_point() {
        let ours = entry("anna@nas.local:/volume1/photos", "/m/c", "fuse.sshfs");
        let spec = "anna@nas.local:/volume1/photos";
        assert_eq!(judge(&[], spec, &Health::Healthy), PointState::Free);
        assert_eq!(judge(&[&ours], spec, &Health::Healthy), PointState::Healthy);
        assert_eq!(
            judge(
                &[&ours],
                spec,
                &Health::Dead("Transport endpoint is not connected".into())
            ),
            PointState::Stale("Transport endpoint is not connected".into())
        );
        assert!(matches!(
            judge(&[&ours, &ours], spec, &Health::Healthy),
            PointState::Stale(_)
        ));
        let other = entry("bob@elsewhere:/x", "/m/c", "fuse.sshfs");
        assert_eq!(
            judge(&[&ours, &other], spec, &Health::Healthy),
            PointState::Foreign(other)
        );
        let disk = entry(spec, "/m/c", "ext4");
        assert!(matches!(
            judge(&[&disk], spec, &Health::Healthy),
            PointState::Foreign(_)
        ));
        let mac = entry(spec, "/m/c", "macfuse");
        assert_eq!(judge(&[&mac], spec, &Health::Healthy), PointState::Healthy);
    }

    #[test]
    fn sources_as_gocryptfs_shows_them() {
        assert!(same_source("/m/cipher_ raw", "/m/cipher, raw"));
        assert!(same_source("/m/c", "/m/c"));
        assert!(!same_source("/m/c2", "/m/c"));
    }

    #[test]
    fn plans() {
        use Action::{Keep, Mount, Remount};
        use PointState::{Free, Healthy, Stale};
        let (c, p) = (Path::new("/m/c"), Path::new("/m/p"));
        let dead = || Stale("dead".into());
        let plan_of = |a: &PointState, b: &PointState| {
            let plan = plan(c, a, p, b).unwrap();
            (plan.cipher, plan.plain)
        };
        assert_eq!(plan_of(&Healthy, &Healthy), (Keep, Keep));
        assert!(plan(c, &Healthy, p, &Healthy).unwrap().reuses_all());
        assert_eq!(plan_of(&Free, &Free), (Mount, Mount));
        assert_eq!(plan_of(&Healthy, &Free), (Keep, Mount));
        assert_eq!(plan_of(&Healthy, &dead()), (Keep, Remount));
        // A dead SSHFS mount takes the gocryptfs view on it down too.
        assert_eq!(plan_of(&dead(), &Healthy), (Remount, Remount));
        assert_eq!(plan_of(&dead(), &dead()), (Remount, Remount));
        assert_eq!(plan_of(&dead(), &Free), (Remount, Mount));
        // A view left on an unmounted cipher folder shows the local, empty folder.
        assert_eq!(plan_of(&Free, &Healthy), (Mount, Remount));
        let foreign = PointState::Foreign(entry("/dev/sdb1", "/m/p", "ext4"));
        let err = plan(c, &Healthy, p, &foreign).unwrap_err().to_string();
        assert_eq!(
            err,
            "mount point /m/p holds /dev/sdb1 (ext4), not this backup's mount; \
             unmount it or choose another mount point"
        );
    }
}
