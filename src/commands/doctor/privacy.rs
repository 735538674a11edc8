//! `doctor`'s privacy check: the state, log and staging folders hold every
//! staged photo and what the ledger knows about them, so any path there
//! that other users can read or write is reported, with the command that
//! makes it owner-only. (A run refuses a state or staging folder others can
//! write to, and tightens an older installation once.)

use std::path::{Path, PathBuf};

use super::Check;
use crate::private_fs;
use crate::text::sh_quote;

/// At most this many paths are looked for and named.
const MAX_FOUND: usize = 1000;
/// Paths named in the report.
const MAX_NAMED: usize = 3;

const SUBJECT: &str = "privacy";

/// Looks at `roots` (missing ones are fine) and judges what it finds; the
/// staging dir (the last root) may be readable by the group when
/// `[staging] group_readable` says so.
#[must_use]
pub(super) fn check(roots: &[&Path], group_readable: bool) -> Check {
    let allowed = |i: usize| {
        if group_readable && i + 1 == roots.len() {
            0o050
        } else {
            0
        }
    };
    let with_bits: Vec<(&Path, u32)> = roots
        .iter()
        .enumerate()
        .map(|(i, r)| (*r, allowed(i)))
        .collect();
    let found = private_fs::exposed(&with_bits, MAX_FOUND);
    judge(roots, &found)
}

/// The check for `found`: paths under `roots` and their modes.
#[must_use]
fn judge(roots: &[&Path], found: &[(PathBuf, u32)]) -> Check {
    let all_roots = roots
        .iter()
        .map(|r| r.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if found.is_empty() {
        return Check::ok(SUBJECT, format!("owner-only: {all_roots}"));
    }
    let writable = found
        .iter()
        .any(|(_, mode)| private_fs::others_can_write(*mode));
    let count = if found.len() >= MAX_FOUND {
        format!("{MAX_FOUND} or more paths")
    } else if found.len() == 1 {
        "1 path".to_owned()
    } else {
        format!("{} paths", found.len())
    };
    let named = found
        .iter()
        .take(MAX_NAMED)
        .map(|(p, mode)| format!("{} ({mode:o})", p.display()))
        .collect::<Vec<_>>()
        .join(", ");
    let what = if writable { "read or write" } else { "read" };
    let quoted: Vec<String> = roots
        .iter()
        .filter(|r| found.iter().any(|(p, _)| p.starts_with(r)))
        .map(|r| sh_quote(&r.display().to_string()))
        .collect();
    Check::failed(
        SUBJECT,
        format!("other users can {what} {count} of the backup's: {named}"),
        format!("chmod -R go= {}", quoted.join(" ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn exposed_paths_are_named_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let staging = dir.path().join("my staging");
        std::fs::create_dir_all(&state).unwrap();
        std::fs::create_dir_all(staging.join("lib")).unwrap();
        for d in [dir.path(), &state, &staging, &staging.join("lib")] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let roots = [state.as_path(), staging.as_path()];
        let ok = check(&roots, false);
        assert_eq!(ok.status, super::super::Status::Ok, "{ok:?}");

        let photo = staging.join("lib/a.jpg");
        std::fs::write(&photo, b"x").unwrap();
        std::fs::set_permissions(&photo, std::fs::Permissions::from_mode(0o644)).unwrap();
        let c = check(&roots, false);
        assert_eq!(c.status, super::super::Status::Failed);
        assert!(c.found.contains("can read 1 path"), "{}", c.found);
        assert!(
            c.found.contains(&format!("{} (644)", photo.display())),
            "{}",
            c.found
        );
        assert_eq!(
            c.fix.as_deref(),
            Some(format!("chmod -R go= '{}'", staging.display()).as_str())
        );

        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
        let c = check(&roots, false);
        assert!(c.found.contains("read or write 2 paths"), "{}", c.found);
    }
}
