//! Nothing a run reads or writes escapes its folders, whatever a crafted
//! library, ledger or planted link says: each escape found in review (issue
//! 13) reproduced through the real binary, and shown to hold.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::borg::Repo;
use common::setup::Setup;
use common::timeline::{photo, staged_files, Growing};
use common::{utc, uuid};
use synthetic::{AssetSpec, DbText};

const SEPTEMBER: &str = "2026-09-29T08:00:00Z";

fn is_xmp(path: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xmp"))
}

fn setup_for(lib: &Growing) -> Setup {
    let mut setup = Setup::new();
    setup.add_library("kim", &lib.path);
    setup.set_threshold("2026-09-01");
    setup
}

/// The pending reason of asset `n` of `kim`.
fn pending_reason(setup: &Setup, n: u32) -> String {
    setup
        .ledger()
        .pending("kim")
        .unwrap()
        .into_iter()
        .find(|p| p.uuid == uuid(n))
        .map(|p| p.reason)
        .unwrap_or_default()
}

/// A referenced photo in `outside`, named `name`.
fn referenced(n: u32, outside: &Path, name: &str) -> AssetSpec {
    AssetSpec {
        referenced: Some(outside.display().to_string()),
        original_filename: DbText::from(name),
        ..photo(n, utc(2026, 9, 5), utc(2026, 9, 5))
    }
}

/// Rewrites the database row of asset `n` to point at `dir/name`, as a
/// hostile or damaged library would.
fn repoint(lib: &Growing, n: u32, dir: &str, name: &str) {
    let db = rusqlite::Connection::open(lib.path.join("database/Photos.sqlite")).unwrap();
    let changed = db
        .execute(
            "UPDATE ZASSET SET ZDIRECTORY = ?1, ZFILENAME = ?2 WHERE ZUUID = ?3",
            [dir, name, &uuid(n)],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

/// The folder that holds the original of the only asset of `lib`.
fn original_folder(lib: &Growing) -> std::path::PathBuf {
    walkdir::WalkDir::new(lib.path.join("originals"))
        .into_iter()
        .map(Result::unwrap)
        .find(|e| e.file_type().is_file())
        .unwrap()
        .path()
        .parent()
        .unwrap()
        .to_owned()
}

#[test]
fn a_row_pointing_at_proc_stays_pending_and_stages_no_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let mut lib = Growing::new(tmp.path(), "Kim");
    lib.add(photo(1, utc(2026, 9, 3), utc(2026, 9, 3)))
        .add(referenced(2, &outside, "a.jpg"))
        .add(referenced(3, &outside, "b.jpg"));
    lib.write();
    repoint(&lib, 2, "/proc/self", "environ");
    repoint(&lib, 3, "/dev", "zero");
    let setup = setup_for(&lib);
    let secret = "s3cr3t-from-env-0xC0FFEE";
    let ran = setup.run_with(
        &[],
        &[("PHOTOS_BACKUP_NOW", SEPTEMBER), ("PB_TEST_SECRET", secret)],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    let why = pending_reason(&setup, 2);
    assert!(
        why.contains("system file") && why.contains("refused"),
        "{why}"
    );
    // A device is not a file to the reader already: pending, never read.
    assert!(!pending_reason(&setup, 3).is_empty());
    for path in staged_files(&setup) {
        let bytes = std::fs::read(setup.staging().join(&path)).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret),
            "{path} holds the run's environment"
        );
    }
}

#[test]
fn a_symlinked_folder_inside_the_library_is_refused_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lib = Growing::new(tmp.path(), "Kim");
    lib.add(photo(1, utc(2026, 9, 3), utc(2026, 9, 3)));
    lib.write();
    // originals/0 (asset 1's folder) becomes a link to a folder elsewhere
    // that holds a file of the same name: a private key, say.
    let folder = original_folder(&lib);
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::rename(&folder, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &folder).unwrap();
    let setup = setup_for(&lib);
    setup.run_at(SEPTEMBER);
    let why = pending_reason(&setup, 1);
    assert!(
        why.contains("symbolic link") && why.contains("originals/"),
        "{why}"
    );
    assert!(
        staged_files(&setup).iter().all(|p| is_xmp(p)),
        "{:?}",
        staged_files(&setup)
    );
}

#[test]
fn a_referenced_file_of_another_user_is_refused() {
    if !rustix::process::getuid().is_root() {
        common::skip("not root (CI is), cannot give a file to another user");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let mut lib = Growing::new(tmp.path(), "Kim");
    let mut spec = photo(1, utc(2026, 9, 3), utc(2026, 9, 3));
    spec.referenced = Some(outside.display().to_string());
    spec.original_filename = DbText::from("their.jpg");
    lib.add(spec);
    lib.write();
    let file = outside.join("their.jpg");
    assert!(file.is_file());
    std::os::unix::fs::chown(&file, Some(65534), None).unwrap();
    let setup = setup_for(&lib);
    setup.run_at(SEPTEMBER);
    let why = pending_reason(&setup, 1);
    assert!(why.contains("belongs to user 65534"), "{why}");
}

#[test]
fn a_setuid_original_is_staged_owner_only_without_special_bits() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lib = Growing::new(tmp.path(), "Kim");
    lib.add(photo(1, utc(2026, 9, 3), utc(2026, 9, 3)));
    lib.write();
    let original = walkdir::WalkDir::new(lib.path.join("originals"))
        .into_iter()
        .map(Result::unwrap)
        .find(|e| e.file_type().is_file())
        .unwrap()
        .into_path();
    std::fs::set_permissions(&original, std::fs::Permissions::from_mode(0o6777)).unwrap();
    let setup = setup_for(&lib);
    setup.run_at(SEPTEMBER);
    let staged = staged_files(&setup);
    let photo = staged.iter().find(|p| !is_xmp(p)).unwrap();
    let mode = std::fs::metadata(setup.staging().join(photo))
        .unwrap()
        .mode()
        & 0o7777;
    assert_eq!(mode, 0o600, "{photo}");
}

#[test]
fn a_crafted_ledger_path_stops_the_run_and_writes_nothing_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lib = Growing::new(tmp.path(), "Kim");
    lib.add(photo(1, utc(2026, 9, 3), utc(2026, 9, 3)));
    lib.write();
    let setup = setup_for(&lib);
    setup.run_at(SEPTEMBER);
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, b"keep me").unwrap();
    // The row now points outside staging, and claims the source changed,
    // so a run that trusted it would copy the photo over the victim.
    let db = rusqlite::Connection::open(setup.state().join("ledger.sqlite")).unwrap();
    let crafted = format!("kim/../../../../../../../..{}", victim.display());
    db.execute(
        "UPDATE staged_file SET path = ?1, source_signature = 'x' WHERE role = 'original'",
        [&crafted],
    )
    .unwrap();
    drop(db);
    // A change in the library, a day later: the daily full read plans every
    // selected asset from its ledger rows (a run within the day reads the
    // rows of changed assets only, and asset 1 did not change).
    lib.add(photo(2, utc(2026, 9, 4), utc(2026, 9, 4)));
    lib.write();
    let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-09-30T09:00:00Z")]);
    let all = format!("{}{}", ran.out, ran.err);
    assert_eq!(ran.code, 1, "{all}");
    assert!(all.contains("not a plain relative path"), "{all}");
    assert!(all.contains("ledger.sqlite"), "{all}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
}

#[test]
fn a_resumed_verified_rollover_without_its_archive_purges_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let mut lib = Growing::new(tmp.path(), "Kim");
    lib.add(photo(1, utc(2026, 9, 3), utc(2026, 9, 3)));
    lib.write();
    let mut setup = setup_for(&lib);
    setup.set_extra(repo.config(""));
    setup.run_at(SEPTEMBER);
    let before = staged_files(&setup);
    assert_eq!(before.len(), 2);
    // A ledger that says September was archived and verified, though the
    // repository never got that archive (an old copy, or crafted).
    {
        use photos_backup::archive::period::Month;
        use photos_backup::ledger::{Ledger, Step};
        let ledger = Ledger::open(&setup.state().join("ledger.sqlite")).unwrap();
        let sep = Month {
            year: 2026,
            month: 9,
        };
        let name = "photos-kim-2026-09";
        let now = utc(2026, 10, 1);
        ledger
            .plan_rollover("kim", name, (sep, sep), &[], now)
            .unwrap();
        ledger.snapshot_rollover("kim", name).unwrap();
        ledger
            .set_rollover_step("kim", name, Step::Created, now)
            .unwrap();
        ledger
            .set_rollover_step("kim", name, Step::Verified, now)
            .unwrap();
    }
    let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-10-01T00:05:00Z")]);
    let all = format!("{}{}", ran.out, ran.err);
    assert_eq!(ran.code, 1, "{all}");
    assert!(all.contains("has no such archive"), "{all}");
    assert!(all.contains("nothing was purged"), "{all}");
    assert_eq!(staged_files(&setup), before);
    assert!(repo.archives().is_empty());
}

#[test]
fn links_planted_in_our_folders_are_refused_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lib = Growing::new(tmp.path(), "Kim");
    lib.add(photo(1, utc(2026, 9, 3), utc(2026, 9, 3)));
    lib.write();
    let setup = setup_for(&lib);
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, b"keep me").unwrap();
    let state = setup.state();
    std::fs::create_dir_all(state.join("logs")).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();

    // run.lock: a link to the victim would have been truncated.
    std::os::unix::fs::symlink(&victim, state.join("run.lock")).unwrap();
    let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", SEPTEMBER)]);
    assert_eq!(ran.code, 1, "{}{}", ran.out, ran.err);
    assert!(ran.err.contains("run.lock"), "{}", ran.err);
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    std::fs::remove_file(state.join("run.lock")).unwrap();

    // The log: the run goes on without it, and says so.
    std::os::unix::fs::symlink(&victim, state.join("logs/photos-backup.log")).unwrap();
    // A year folder of staging, pointing elsewhere.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::create_dir_all(setup.staging().join("kim")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, setup.staging().join("kim/2026")).unwrap();
    let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", SEPTEMBER)]);
    let all = format!("{}{}", ran.out, ran.err);
    assert_eq!(ran.code, 1, "{all}");
    assert!(all.contains("photos-backup.log"), "{all}");
    assert!(all.contains("symbolic link"), "{all}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);

    // Gone: the next run stages as usual.
    std::fs::remove_file(setup.staging().join("kim/2026")).unwrap();
    std::fs::remove_file(state.join("logs/photos-backup.log")).unwrap();
    setup.run_at(SEPTEMBER);
    assert_eq!(staged_files(&setup).len(), 2);
}

#[test]
fn restore_writes_owner_only_files_and_never_follows_a_planted_link() {
    rustix::process::umask(rustix::fs::Mode::WGRP | rustix::fs::Mode::WOTH);
    let tmp = tempfile::tempdir().unwrap();
    let mut lib = Growing::new(tmp.path(), "Kim");
    lib.add(photo(1, utc(2026, 9, 3), utc(2026, 9, 3)));
    lib.write();
    let setup = setup_for(&lib);
    setup.run_at(SEPTEMBER);
    // A staged file with loose modes (as older versions left them).
    for path in staged_files(&setup) {
        let staged = setup.staging().join(path);
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o6755)).unwrap();
    }
    let restore = |to: &Path| {
        let out = setup
            .command(&["restore", &uuid(1), "--to", to.to_str().unwrap()], &[])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // A link planted where the library's folder goes: refused.
    let dest = tmp.path().join("dest");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dest.join("kim")).unwrap();
    let (code, err) = restore(&dest);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);

    let fresh = tmp.path().join("fresh");
    let (code, err) = restore(&fresh);
    assert_eq!(code, Some(0), "{err}");
    let mut files = 0;
    for e in walkdir::WalkDir::new(fresh.join("kim"))
        .into_iter()
        .map(Result::unwrap)
    {
        let mode = e.metadata().unwrap().mode() & 0o7777;
        let want = if e.file_type().is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, want, "{}", e.path().display());
        files += usize::from(e.file_type().is_file());
    }
    assert_eq!(files, 2);
}

#[test]
fn huge_text_fields_are_cut_and_their_sidecar_stays_small() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lib = Growing::new(tmp.path(), "Kim");
    let mut spec = photo(1, utc(2026, 9, 3), utc(2026, 9, 3));
    spec.title = Some(DbText::from("T".repeat(4 << 20).as_str()));
    spec.description = Some(DbText::from("D".repeat(4 << 20).as_str()));
    spec.keywords = vec!["K".repeat(1 << 20)];
    lib.add(spec);
    lib.write();
    let asset = common::all_assets(&lib.path).remove(0);
    let cap = photos_backup::photos::query::MAX_TEXT_BYTES;
    assert_eq!(asset.title.as_deref().map(str::len), Some(cap));
    assert_eq!(asset.description.as_deref().map(str::len), Some(cap));
    assert_eq!(asset.keywords[0].len(), cap);
    let setup = setup_for(&lib);
    setup.run_at(SEPTEMBER);
    let xmp = staged_files(&setup)
        .into_iter()
        .find(|p| is_xmp(p))
        .unwrap();
    let size = std::fs::metadata(setup.staging().join(xmp)).unwrap().len();
    assert!(size < 4 * cap as u64 + 8192, "{size}");
}
