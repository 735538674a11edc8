//! `status` shows each past time with the offset it had where the user is,
//! through the real binary and the system's time zone (`TZ`): a backup
//! made in July (summer time) and a run in December (winter time) read in
//! Berlin and in Chicago in December.

mod common;

use common::setup::Setup;
use common::timeline::{photo, Growing};
use common::utc;

/// `status` at `now` with the time zone `tz`: its text.
fn status_in(setup: &Setup, tz: &str, now: &str) -> String {
    let out = setup
        .command(&["status"], &[("PHOTOS_BACKUP_NOW", now), ("TZ", tz)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn a_july_backup_and_a_december_run_each_show_their_own_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lib = Growing::new(tmp.path(), "Ida");
    lib.add(photo(1, utc(2026, 6, 10), utc(2026, 6, 10)));
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("ida", &lib.path);
    setup.set_threshold("2026-06-01");
    setup.run_at("2026-07-14T06:30:00Z");
    // The December run fails (a damaged database): the last success stays July's.
    std::fs::write(lib.path.join("database/Photos.sqlite"), b"not a database").unwrap();
    let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-12-06T06:00:00Z")]);
    assert_eq!(ran.code, 1, "{}{}", ran.out, ran.err);

    let berlin = status_in(&setup, "Europe/Berlin", "2026-12-06T06:10:00Z");
    assert!(
        berlin.starts_with("Backed up as of 2026-07-14 08:30 (144 days ago).\n"),
        "{berlin}"
    );
    assert!(
        berlin.contains("\nLast run:     2026-12-06 07:00 (10 minutes ago), failed"),
        "{berlin}"
    );
    let chicago = status_in(&setup, "America/Chicago", "2026-12-06T06:10:00Z");
    assert!(
        chicago.starts_with("Backed up as of 2026-07-14 01:30 (144 days ago).\n"),
        "{chicago}"
    );
    assert!(
        chicago.contains("\nLast run:     2026-12-06 00:00 (10 minutes ago), failed"),
        "{chicago}"
    );
}
