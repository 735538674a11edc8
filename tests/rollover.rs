//! The month rollover through the real binary and real borg, on a simulated
//! timeline (`PHOTOS_BACKUP_NOW`): exports across month ends, an edit of an
//! old photo, a late import, a Mac asleep across two month ends, originals
//! that stay in iCloud past the month end. Each asset version must end in
//! exactly the archive expected, staging must be empty of archived files,
//! and the threshold must follow.

mod common;

use chrono::{TimeZone, Utc};
use common::borg::Repo;
use common::setup::{tree, Setup};
use common::timeline::{
    archived, assert_original_archived, one_photo, photo, roles, staged_files, threshold, Growing,
};
use common::{utc, uuid};
use synthetic::Edit;

#[test]
#[allow(clippy::too_many_lines)] // one timeline, read top to bottom
fn two_months_of_runs_end_with_every_version_in_the_archive_expected() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let mut lib = Growing::new(tmp.path(), "Anna");
    lib.add(photo(1, utc(2026, 9, 10), utc(2026, 9, 10)))
        .add(photo(2, utc(2026, 9, 20), utc(2026, 9, 20)));
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("anna", &lib.path);
    setup.set_threshold("2026-09-01");
    setup.set_extra(repo.config(""));

    // September: two photos staged; nothing closes.
    setup.run_at("2026-09-25T08:00:00Z");
    assert_eq!(staged_files(&setup).len(), 4, "2 originals + 2 XMP");
    assert!(repo.archives().is_empty());

    // A photo taken on the evening of the 30th, exported only after the
    // month end: the first run of October stages it, then closes September.
    lib.add(photo(
        3,
        utc(2026, 9, 30),
        Utc.with_ymd_and_hms(2026, 9, 30, 23, 0, 0).unwrap(),
    ));
    lib.write();
    let out = setup.run_at("2026-10-01T00:05:00Z");
    assert!(
        out.contains("anna: archived 2026-09 into photos-anna-2026-09: 6 files"),
        "{out}"
    );
    assert!(
        out.contains("threshold: moved from 2026-09-01 to 2026-10-01"),
        "{out}"
    );
    assert_eq!(staged_files(&setup), Vec::<String>::new());
    assert_eq!(threshold(&setup), "2026-10-01");

    // Mid October: an edit of photo 1 (archived in September) and a late
    // import of a 2019 photo. A second run the same day does nothing.
    lib.spec(&uuid(1)).edit = Some(Edit {
        at: utc(2026, 10, 15),
        external: false,
    });
    lib.spec(&uuid(1)).modified = Some(utc(2026, 10, 15));
    lib.add(photo(4, utc(2019, 5, 1), utc(2026, 10, 15)));
    lib.write();
    setup.run_at("2026-10-15T13:00:00Z");
    let staged = staged_files(&setup);
    assert!(
        staged.iter().any(|p| p.starts_with("anna/2019/05/01/")),
        "{staged:?}"
    );
    let again = setup.run_at("2026-10-15T13:05:00Z");
    assert!(!again.contains("archived"), "{again}");
    assert_eq!(repo.archives(), ["photos-anna-2026-09"]);

    // The Mac sleeps from mid October to December 3rd: one photo added in
    // November, one on December 2nd. The first run closes both months in
    // one archive.
    lib.add(photo(5, utc(2026, 11, 10), utc(2026, 11, 10)))
        .add(photo(6, utc(2026, 12, 2), utc(2026, 12, 2)));
    lib.write();
    let out = setup.run_at("2026-12-03T07:00:00Z");
    assert!(
        out.contains("anna: archived 2026-10 to 2026-11 into photos-anna-2026-10..2026-11"),
        "{out}"
    );
    assert_eq!(threshold(&setup), "2026-12-01");
    assert_eq!(staged_files(&setup), Vec::<String>::new());
    // Nothing left to do in December.
    let quiet = setup.run_at("2026-12-10T07:00:00Z");
    assert!(!quiet.contains("archived"), "{quiet}");

    assert_eq!(
        repo.archives(),
        ["photos-anna-2026-09", "photos-anna-2026-10..2026-11"]
    );
    let by_archive = archived(&setup, &repo, "anna");
    let sept = &by_archive["photos-anna-2026-09"];
    let span = &by_archive["photos-anna-2026-10..2026-11"];
    for n in [1, 2, 3] {
        assert_eq!(sept[&uuid(n)], roles(&["original", "xmp"]), "photo {n}");
    }
    // The edit: its render, its adjustments and a new XMP; the original
    // (unchanged) stays only in September's archive.
    assert_eq!(span[&uuid(1)], roles(&["adjustments", "edited", "xmp"]));
    for n in [4, 5, 6] {
        assert_eq!(span[&uuid(n)], roles(&["original", "xmp"]), "photo {n}");
    }
    assert_eq!(
        (sept.len(), span.len()),
        (3, 4),
        "no other asset in either archive"
    );

    // Content: what borg holds is the library's original, byte for byte.
    assert_original_archived(&setup, &repo, &lib, "anna", 2);
    let ledger = setup.ledger();
    // Every staged file of the ledger is archived and purged.
    assert!(ledger
        .files("anna")
        .unwrap()
        .iter()
        .all(|f| f.archive.is_some()));
}

#[test]
fn originals_still_in_icloud_hold_the_month_open_then_are_listed_and_archived_later() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let mut lib = Growing::new(tmp.path(), "Ben");
    lib.add(photo(1, utc(2026, 9, 10), utc(2026, 9, 10)));
    let mut cloud = photo(2, utc(2026, 9, 24), utc(2026, 9, 24));
    cloud.cloud_only = true;
    lib.add(cloud);
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("ben", &lib.path);
    setup.set_threshold("2026-09-01");
    setup.set_extra(repo.config("max_pending_days = 10"));
    let notified = setup.notify_log();

    setup.run_at("2026-09-25T08:00:00Z");
    // The month is over but photo 2's original is still in iCloud.
    let out = setup.run_at("2026-10-01T00:05:00Z");
    assert!(
        out.contains("ben: 2026-09 not archived yet: 1 originals still pending in iCloud; waiting for them until 2026-10-05"),
        "{out}"
    );
    assert!(repo.archives().is_empty());
    assert_eq!(threshold(&setup), "2026-09-01");
    assert!(!out.contains("threshold: moved"), "{out}");
    // The status says so loudly.
    let status = setup
        .command(
            &["status"],
            &[("PHOTOS_BACKUP_NOW", "2026-10-01T00:06:00Z")],
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains(
            "ATTENTION: ben: 2026-09 waits for 1 originals still in iCloud, until 2026-10-05"
        ),
        "{text}"
    );

    // Past the grace: archived without it, loudly; it stays pending.
    let out = setup.run_at("2026-10-06T09:00:00Z");
    assert!(
        out.contains("ben: archived 2026-09 into photos-ben-2026-09: 3 files") && out.contains(&format!(
            "WARNING: archived without the originals of 1 assets still pending (they stay pending): {}",
            uuid(2)
        )),
        "{out}"
    );
    assert_eq!(threshold(&setup), "2026-10-01");
    // The alert: once, a warning naming the asset.
    let alerts = std::fs::read_to_string(&notified).unwrap();
    assert_eq!(alerts.lines().count(), 1, "{alerts}");
    assert!(
        alerts.starts_with("warning|ben: archived 2026-09") && alerts.contains(&uuid(2)),
        "{alerts}"
    );
    let ledger = setup.ledger();
    assert_eq!(ledger.pending("ben").unwrap().len(), 1);
    let r = ledger
        .rollover("ben", "photos-ben-2026-09")
        .unwrap()
        .unwrap();
    assert_eq!(r.missing, [uuid(2)]);
    drop(ledger);

    // The original arrives in October: staged, then archived with October.
    lib.spec(&uuid(2)).cloud_only = false;
    lib.write();
    setup.run_at("2026-10-20T09:00:00Z");
    assert!(setup.ledger().pending("ben").unwrap().is_empty());
    let out = setup.run_at("2026-11-01T09:00:00Z");
    assert!(
        out.contains("ben: archived 2026-10 into photos-ben-2026-10"),
        "{out}"
    );
    let by_archive = archived(&setup, &repo, "ben");
    assert_eq!(
        by_archive["photos-ben-2026-09"][&uuid(1)],
        roles(&["original", "xmp"])
    );
    assert_eq!(by_archive["photos-ben-2026-09"][&uuid(2)], roles(&["xmp"]));
    assert_eq!(
        by_archive["photos-ben-2026-10"][&uuid(2)],
        roles(&["original"])
    );
    assert_eq!(staged_files(&setup), Vec::<String>::new());
}

#[test]
fn a_dry_run_says_what_the_rollover_would_do_and_does_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let (_lib, mut setup) = one_photo(tmp.path(), "Cy");
    setup.set_extra(repo.config(""));
    setup.run_at("2026-09-25T08:00:00Z");
    let before = tree(&setup.staging());
    let ran = setup.run_with(
        &["--dry-run"],
        &[("PHOTOS_BACKUP_NOW", "2026-10-02T08:00:00Z")],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    assert!(
        ran.out.contains("cy: would archive 2 staged files")
            && ran.out.contains("into photos-cy-2026-09"),
        "{}",
        ran.out
    );
    assert_eq!(tree(&setup.staging()), before);
    assert!(repo.archives().is_empty());
}

#[test]
fn with_a_remote_volume_and_a_repository_over_ssh_both_sides_are_purged() {
    let server = common::remote::TestServer::start();
    let repo = Repo::on_server(&server);
    let tmp = tempfile::tempdir().unwrap();
    let mut lib = Growing::new(tmp.path(), "Dee");
    lib.add(photo(1, utc(2026, 9, 10), utc(2026, 9, 10)))
        .add(photo(2, utc(2026, 9, 11), utc(2026, 9, 11)));
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("dee", &lib.path);
    setup.set_threshold("2026-09-01");
    setup.set_extra(server.config_toml(setup.root()) + &repo.config_on(&server, ""));
    setup.run_at("2026-09-25T08:00:00Z");
    // The cipher side holds the two photos and their sidecars (encrypted).
    let cipher_files = || {
        tree(&server.cipher_dir())
            .into_keys()
            .filter(|p| !p.ends_with("gocryptfs.diriv") && !p.ends_with("gocryptfs.conf"))
            .count()
    };
    assert_eq!(cipher_files(), 5, "4 files and the threshold");

    let out = setup.run_at("2026-10-01T06:00:00Z");
    assert!(
        out.contains("dee: archived 2026-09 into photos-dee-2026-09: 4 files"),
        "{out}"
    );
    assert_eq!(repo.archives(), ["photos-dee-2026-09"]);
    assert_eq!(staged_files(&setup), Vec::<String>::new());
    assert_eq!(
        cipher_files(),
        1,
        "only the threshold is left on the server"
    );
    // The remote threshold moved too: mount and read it.
    let env = photos_backup::remote::mount::MountEnv::on(&photos_backup::host::Host::current());
    let system = photos_backup::process::System;
    let mounted = photos_backup::remote::mount::ensure_mounted(
        &server.remote(),
        &server.password(),
        &system,
        &env,
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(mounted.plain.join("date_threshold.txt")).unwrap(),
        "2026-10-01\n"
    );
    photos_backup::remote::mount::unmount(&server.remote(), &system, &env).unwrap();
    assert_original_archived(&setup, &repo, &lib, "dee", 1);
}

#[test]
fn retention_and_scheduled_checks_when_configured() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let (mut lib, mut setup) = one_photo(tmp.path(), "Eve");
    setup.set_extra(repo.config("prune_keep_monthly = 1\ncheck_every_days = 7"));
    let out = setup.run_at("2026-09-25T08:00:00Z");
    assert!(out.contains("borg check: ok"), "{out}");
    // Not due again within the week.
    let out = setup.run_at("2026-10-01T08:00:00Z");
    assert!(!out.contains("borg check"), "{out}");

    lib.add(photo(2, utc(2026, 10, 10), utc(2026, 10, 10)));
    lib.write();
    setup.run_at("2026-10-20T08:00:00Z");
    let out = setup.run_at("2026-11-01T08:00:00Z");
    assert!(
        out.contains("eve: retention deleted 1 archives: photos-eve-2026-09"),
        "{out}"
    );
    assert_eq!(repo.archives(), ["photos-eve-2026-10"]);
    let ledger = setup.ledger();
    let sept = ledger
        .rollover("eve", "photos-eve-2026-09")
        .unwrap()
        .unwrap();
    assert!(sept.pruned_at.is_some());
    drop(ledger);

    // Damage in the repository: the next scheduled check fails the run.
    for segment in walkdir::WalkDir::new(std::path::Path::new(&repo.location).join("data"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
    {
        let mut bytes = std::fs::read(segment.path()).unwrap();
        if bytes.len() > 40 {
            let at = bytes.len() - 20;
            bytes[at] ^= 0xff;
            std::fs::write(segment.path(), bytes).unwrap();
        }
    }
    let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-11-09T08:00:00Z")]);
    assert_eq!(ran.code, 1, "{}{}", ran.out, ran.err);
    assert!(
        ran.out.contains("borg check: FAILED: errors found"),
        "{}",
        ran.out
    );
    let (_, ok, _) = setup.ledger().last_repo_check().unwrap().unwrap();
    assert!(!ok);
}
