//! Restore drills through the real binary and real borg, on a simulated
//! timeline (`PHOTOS_BACKUP_NOW`): a due drill after the rollover proves the
//! archives and is kept in `drill.json` and the status, and is not made
//! again until due; a chunk altered inside the repository's segment files
//! fails the drill (command and run), naming archive and file, and the
//! run's notification names them too; a mirrored file altered on the
//! decrypted side of the real remote stack is named. The borg passphrase
//! never shows.

mod common;

use std::path::{Path, PathBuf};

use common::borg::Repo;
use common::remote::TestServer;
use common::setup::{Ran, Setup};
use common::timeline::{photo, Growing};
use common::{utc, uuid};

/// The `[drill]` table.
fn drill(every_days: u32, files: u32, mirror_files: u32) -> String {
    format!(
        "\n[drill]\nevery_days = {every_days}\nfiles = {files}\nmirror_files = {mirror_files}\n"
    )
}

/// Library `anna` with photos 1 and 2 of September 2026, a borg repository
/// and `[drill]` as given; threshold 2026-09-01.
fn september(tmp: &Path, drill_table: &str) -> (Repo, Growing, Setup) {
    let repo = Repo::init(tmp);
    let mut lib = Growing::new(tmp, "Anna");
    lib.add(photo(1, utc(2026, 9, 10), utc(2026, 9, 10)))
        .add(photo(2, utc(2026, 9, 20), utc(2026, 9, 20)));
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("anna", &lib.path);
    setup.set_threshold("2026-09-01");
    setup.set_extra(format!("{}{drill_table}", repo.config("")));
    (repo, lib, setup)
}

/// `photos-backup ARGS` at the simulated time `now`.
fn at(setup: &Setup, args: &[&str], now: &str) -> Ran {
    Ran::from(
        setup
            .command(args, &[("PHOTOS_BACKUP_NOW", now)])
            .output()
            .unwrap(),
    )
}

fn state_file(setup: &Setup, name: &str) -> String {
    std::fs::read_to_string(setup.state().join(name)).unwrap_or_default()
}

/// Nothing the program printed or kept holds `secret`.
fn assert_never_shown(setup: &Setup, secret: &str, outputs: &[&str]) {
    for text in outputs.iter().copied().chain([
        state_file(setup, "drill.json").as_str(),
        state_file(setup, "status.json").as_str(),
    ]) {
        assert!(!text.contains(secret), "the passphrase shows in:\n{text}");
    }
}

/// The path of photo `n`'s original in the ledger.
fn original_path(setup: &Setup, n: u32) -> String {
    setup
        .ledger()
        .file_records("anna")
        .unwrap()
        .into_iter()
        .find(|r| r.file.uuid == uuid(n) && r.file.role == "original")
        .expect("photo's original in the ledger")
        .file
        .path
}

#[test]
fn a_due_drill_proves_the_archives_and_waits_until_due_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, mut lib, setup) = september(tmp.path(), &drill(7, 20, 0));

    // Nothing archived yet: nothing to drill, no line.
    let first = setup.run_at("2026-09-25T08:00:00Z");
    assert!(!first.contains("drill"), "{first}");
    assert_eq!(state_file(&setup, "drill.json"), "");

    // The first run of October archives September, then proves it.
    let october = setup.run_at("2026-10-01T00:05:00Z");
    assert!(
        october.contains("anna: archived 2026-09 into photos-anna-2026-09: 4 files"),
        "{october}"
    );
    assert!(
        october.contains("drill: proven restore: 4/4 files from 1 archive, 2026-10-01"),
        "{october}"
    );
    let record: serde_json::Value =
        serde_json::from_str(&state_file(&setup, "drill.json")).unwrap();
    assert_eq!(
        (&record["files"], &record["matched"], &record["archives"]),
        (&4.into(), &4.into(), &1.into())
    );
    let status = at(&setup, &["status"], "2026-10-01T00:10:00Z");
    assert!(
        status
            .out
            .contains("Restore drill: last proven restore: 4/4 files from 1 archive, 2026-10-01"),
        "{}",
        status.out
    );
    let json = at(&setup, &["status", "--json"], "2026-10-01T00:10:00Z");
    let json: serde_json::Value = serde_json::from_str(&json.out).unwrap();
    assert_eq!(json["drill"]["matched"], 4);

    // Two days later: not due, no drill, the record untouched.
    lib.add(photo(3, utc(2026, 10, 2), utc(2026, 10, 2)));
    lib.write();
    let not_due = setup.run_at("2026-10-03T08:00:00Z");
    assert!(!not_due.contains("drill"), "{not_due}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&state_file(&setup, "drill.json")).unwrap(),
        record
    );

    // Seven days after the last: due again (a dry run only says so).
    let dry = setup.run_with(
        &["--dry-run"],
        &[("PHOTOS_BACKUP_NOW", "2026-10-08T00:05:00Z")],
    );
    assert!(
        dry.out.contains(
            "drill: would make a restore drill of 20 archived files (last drill: 2026-10-01)"
        ),
        "{}",
        dry.out
    );
    let due = setup.run_at("2026-10-08T00:05:00Z");
    assert!(
        due.contains("drill: proven restore: 4/4 files from 1 archive, 2026-10-08"),
        "{due}"
    );

    // November: October's archive too; the sample comes from both.
    let november = setup.run_at("2026-11-01T00:05:00Z");
    assert!(november.contains("archived 2026-10"), "{november}");
    assert!(
        november.contains("drill: proven restore: 6/6 files from 2 archives, 2026-11-01"),
        "{november}"
    );
    assert_never_shown(
        &setup,
        repo.passphrase(),
        &[&first, &october, &status.out, &not_due, &due, &november],
    );
}

#[test]
fn the_passphrase_is_read_only_once_there_is_an_archive_to_drill() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, _lib, mut setup) = september(tmp.path(), &drill(7, 20, 0));
    let log = tmp.path().join("passphrase-reads.txt");
    let file = format!("file:{}", repo.passphrase_file.display());
    let command = format!(
        "command:echo read >> '{}'; cat '{}'",
        log.display(),
        repo.passphrase_file.display()
    );
    let extra = setup.extra().replace(&file, &command);
    setup.set_extra(extra);
    // A due drill with nothing archived yet: no line, no passphrase read.
    let first = setup.run_at("2026-09-25T08:00:00Z");
    assert!(!first.contains("drill"), "{first}");
    assert!(
        !log.exists(),
        "the passphrase was read with nothing to drill"
    );
    let october = setup.run_at("2026-10-01T00:05:00Z");
    assert!(october.contains("drill: proven restore: 4/4"), "{october}");
    assert!(log.exists());
}

#[test]
fn a_damaged_chunk_fails_the_drill_naming_archive_and_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, _lib, mut setup) = september(tmp.path(), &drill(1, 20, 0));
    let notified = setup.notify_log();
    setup.run_at("2026-09-25T08:00:00Z");
    let october = setup.run_at("2026-10-01T00:05:00Z");
    assert!(october.contains("drill: proven restore: 4/4"), "{october}");

    let damaged = original_path(&setup, 1);
    damage(&repo, "photos-anna-2026-09", &damaged);

    // The command: the damaged file is named with its archive; the others pass.
    let ran = at(&setup, &["drill"], "2026-10-01T12:00:00Z");
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    assert!(
        ran.out.contains(&format!(
            "FAILED: archive photos-anna-2026-09: {damaged} could not be restored: \
             borg extract failed"
        )),
        "{}",
        ran.out
    );
    assert_eq!(
        ran.out.matches("ok: archive photos-anna-2026-09: ").count(),
        3,
        "{}",
        ran.out
    );
    assert!(
        ran.out
            .contains("restore drill FAILED: 3/4 files from 1 archive, 2026-10-01"),
        "{}",
        ran.out
    );
    let json = at(
        &setup,
        &["drill", "--json", "--files", "4"],
        "2026-10-01T12:05:00Z",
    );
    assert_eq!(json.code, 1);
    let json: serde_json::Value = serde_json::from_str(&json.out).unwrap();
    assert_eq!(json["passed"], false);
    let failed: Vec<&serde_json::Value> = json["checked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["matched"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{json}");
    assert_eq!(
        (&failed[0]["archive"], &failed[0]["path"]),
        (&"photos-anna-2026-09".into(), &damaged.clone().into())
    );

    // The run's drill, due a day after the command's, fails the run; so
    // says the notification.
    let run = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-10-02T13:00:00Z")]);
    assert_eq!(run.code, 1, "{}\n{}", run.out, run.err);
    assert!(
        run.out
            .contains("drill: restore drill FAILED (3/4 files from 1 archive, 2026-10-02)"),
        "{}",
        run.out
    );
    let told = std::fs::read_to_string(&notified).unwrap();
    assert!(
        told.contains("photos-anna-2026-09") && told.contains(&damaged),
        "{told}"
    );
    let status = at(&setup, &["status"], "2026-10-02T13:05:00Z");
    assert!(
        status.out.contains(&format!(
            "ATTENTION: the last restore drill found files that do not come back as recorded: \
             archive photos-anna-2026-09: {damaged}"
        )),
        "{}",
        status.out
    );
    assert_never_shown(
        &setup,
        repo.passphrase(),
        &[&ran.out, &ran.err, &run.out, &run.err, &told, &status.out],
    );
}

#[test]
fn a_repository_out_of_reach_is_a_warning_and_the_drill_stays_due() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, _lib, setup) = september(tmp.path(), &drill(7, 20, 0));
    setup.run_at("2026-09-25T08:00:00Z");
    // The repository goes away after the rollover's verification: moved
    // aside once September is archived and purged.
    setup.run_at("2026-10-01T00:05:00Z");
    let aside = tmp.path().join("repo-aside");
    std::fs::rename(&repo.location, &aside).unwrap();
    std::fs::remove_file(setup.state().join("drill.json")).unwrap();
    let out = setup.run_at("2026-10-02T08:00:00Z");
    assert!(
        out.contains(
            "drill: WARNING: restore drill not made, the borg repository could not be reached"
        ),
        "{out}"
    );
    assert!(!setup.state().join("drill.json").exists());
    std::fs::rename(&aside, &repo.location).unwrap();
    let back = setup.run_at("2026-10-02T08:05:00Z");
    assert!(back.contains("drill: proven restore: 4/4"), "{back}");
}

#[test]
fn the_drill_waits_while_an_earlier_step_fails_and_needs_borg() {
    let tmp = tempfile::tempdir().unwrap();
    let (_repo, lib, mut setup) = september(tmp.path(), &drill(1, 20, 0));
    setup.run_at("2026-09-25T08:00:00Z");
    setup.run_at("2026-10-01T00:05:00Z");
    // Two days later a drill is due, but the library cannot be read.
    let aside = tmp.path().join("aside.photoslibrary");
    std::fs::rename(&lib.path, &aside).unwrap();
    let failed = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-10-03T08:00:00Z")]);
    assert_eq!(failed.code, 1, "{}", failed.out);
    assert!(failed.out.contains("anna: FAILED"), "{}", failed.out);
    assert!(!failed.out.contains("drill"), "{}", failed.out);
    std::fs::rename(&aside, &lib.path).unwrap();
    let back = setup.run_at("2026-10-03T08:05:00Z");
    assert!(
        back.contains("drill: proven restore: 4/4 files from 1 archive, 2026-10-03"),
        "{back}"
    );
    // Without [borg] the command is a config error.
    setup.set_extra(drill(1, 20, 0));
    let ran = at(&setup, &["drill"], "2026-10-03T09:00:00Z");
    assert_eq!(ran.code, 2, "{}\n{}", ran.out, ran.err);
    assert!(
        ran.err
            .contains("there is no [borg] section, and drill needs one"),
        "{}",
        ran.err
    );
}

#[test]
fn a_mirrored_file_altered_on_the_plain_side_is_named() {
    common::remote::require_tools();
    let server = TestServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let (repo, _lib, mut setup) = september(tmp.path(), &drill(7, 20, 5));
    let extra = format!("{}{}", server.config_toml(setup.root()), setup.extra());
    setup.set_extra(extra);

    // September: mirrored, nothing archived yet: the drill reads the mirror.
    let first = setup.run_at("2026-09-25T08:00:00Z");
    assert!(
        first.contains("drill: proven restore: mirror 4/4 files, 2026-09-25"),
        "{first}"
    );

    // Photo 1's original changes on the decrypted view, same size.
    let altered = original_path(&setup, 1);
    let remote = server.remote();
    let env = photos_backup::remote::mount::MountEnv::on(&photos_backup::host::Host::current());
    let system = photos_backup::process::System;
    let mounted =
        photos_backup::remote::mount::ensure_mounted(&remote, &server.password(), &system, &env)
            .unwrap();
    let target: PathBuf = mounted.plain.join(&altered);
    let mut bytes = std::fs::read(&target).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&target, &bytes).unwrap();
    photos_backup::remote::mount::unmount(&remote, &system, &env).unwrap();

    let ran = at(&setup, &["drill"], "2026-09-26T08:00:00Z");
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    assert!(
        ran.out.contains(&format!(
            "FAILED: mirror: {altered} came back with other content"
        )),
        "{}",
        ran.out
    );
    assert_eq!(ran.out.matches("ok: mirror: ").count(), 3, "{}", ran.out);
    assert!(
        server.mounts().is_empty(),
        "the drill left the volume mounted"
    );
    assert_never_shown(&setup, repo.passphrase(), &[&first, &ran.out, &ran.err]);
    assert_never_shown(
        &setup,
        server.password_text(),
        &[&first, &ran.out, &ran.err],
    );
}

/// Alters one byte in the middle of every chunk of `path` in `archive`,
/// where the repository's segment files hold it: borg's own debug commands
/// give the chunk ids and each stored object, found again in the segments.
/// A failed drill is made again at every run, the files it could not read
/// back first, until they come back as recorded: a one-file sample that
/// happens to miss the damaged file does not pass, and a run that is not
/// due by the calendar still fails.
#[test]
fn a_failed_drill_fails_every_run_until_its_files_come_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, _lib, setup) = september(tmp.path(), &drill(30, 1, 0));
    setup.run_at("2026-09-25T08:00:00Z");
    let october = setup.run_at("2026-10-01T00:05:00Z");
    assert!(october.contains("drill: proven restore: 1/1"), "{october}");

    let damaged = original_path(&setup, 2);
    damage(&repo, "photos-anna-2026-09", &damaged);
    let ran = at(&setup, &["drill", "--files", "4"], "2026-10-01T12:00:00Z");
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);

    // Not due by the calendar for 30 days, sample of one: every run still
    // reads the damaged file again, and fails naming it.
    for hour in ["13", "14", "15"] {
        let run = setup.run_with(
            &[],
            &[("PHOTOS_BACKUP_NOW", &format!("2026-10-01T{hour}:00:00Z"))],
        );
        assert_eq!(run.code, 1, "{}\n{}", run.out, run.err);
        assert!(
            run.out.contains("drill: restore drill FAILED")
                && run
                    .out
                    .contains(&format!("archive photos-anna-2026-09: {damaged}")),
            "{}",
            run.out
        );
    }
    // The command reads it again too, first.
    let again = at(&setup, &["drill", "--files", "1"], "2026-10-01T16:00:00Z");
    assert_eq!(again.code, 1, "{}\n{}", again.out, again.err);
    assert!(again.out.contains(&damaged), "{}", again.out);
}

fn damage(repo: &Repo, archive: &str, path: &str) {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("archive.json");
    let spec = format!("{}::{archive}", repo.location);
    common::succeeded(
        repo.borg(&["debug", "dump-archive", &spec, &dump.display().to_string()])
            .output()
            .unwrap(),
    );
    let dumped: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&dump).unwrap()).unwrap();
    let item = dumped["_items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in {archive}"));
    let chunks = item["chunks"].as_array().unwrap();
    assert!(!chunks.is_empty());
    let segments: Vec<PathBuf> = walkdir::WalkDir::new(Path::new(&repo.location).join("data"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect();
    for chunk in chunks {
        // The id is written as a marker character and 64 hex digits.
        let id = chunk[0].as_str().unwrap();
        let id = &id[id.len() - 64..];
        let object = dir.path().join(id);
        common::succeeded(
            repo.borg(&[
                "debug",
                "get-obj",
                &repo.location,
                id,
                &object.display().to_string(),
            ])
            .output()
            .unwrap(),
        );
        let stored = std::fs::read(&object).unwrap();
        let mut found = false;
        for segment in &segments {
            let mut bytes = std::fs::read(segment).unwrap();
            if let Some(at) = bytes.windows(stored.len()).position(|w| w == stored) {
                bytes[at + stored.len() / 2] ^= 0xff;
                std::fs::write(segment, &bytes).unwrap();
                found = true;
            }
        }
        assert!(found, "chunk {id} of {path} not found in any segment");
    }
}
