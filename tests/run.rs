//! `photos-backup run` through a test builder: a temp dir with a config,
//! staging and state; real fixture libraries or synthetic ones; the real
//! binary. Checks the staged tree against what the database says, that a
//! re-run copies nothing, that edits and metadata changes re-stage only what
//! changed, that iCloud-only originals stay pending until they arrive, that
//! hostile names stay inside staging, and that `--dry-run` changes nothing.

mod common;

use common::setup::{tree, Setup};
use common::{utc, uuid};

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use synthetic::{AssetSpec, DbText, Flavor, SyntheticLibrary};

#[test]
fn real_libraries_are_staged_as_their_databases_say() {
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let mut setup = Setup::new();
    for name in common::LIBRARIES {
        setup.add_library(&name.replace('.', "_"), &common::library(&fixtures, name));
    }
    setup.run_ok();
    let ledger = setup.ledger();
    let mut checked = 0;
    for name in common::LIBRARIES {
        let lib_name = name.replace('.', "_");
        let root = common::library(&fixtures, name);
        let staged = setup.staged(&lib_name);
        let pending: Vec<String> = ledger
            .pending(&lib_name)
            .unwrap()
            .into_iter()
            .map(|p| p.uuid)
            .collect();
        let assets = common::all_assets(&root);
        for asset in assets.iter().filter(|a| !a.intrash) {
            for r in &asset.resources {
                let role = photos_backup::export::layout::Role::from(r.role)
                    .as_str()
                    .to_owned();
                if let Some((path, size, _)) = staged.get(&(asset.uuid.clone(), role.clone())) {
                    let src = std::fs::read(root.join(&r.path)).unwrap();
                    let dst = std::fs::read(setup.staging().join(path)).unwrap();
                    assert_eq!(src.len() as u64, *size, "{path}");
                    assert!(src == dst, "{path}: content differs from {}", r.path);
                    assert!(path.starts_with(&format!("{lib_name}/")), "{path}");
                    checked += 1;
                } else {
                    assert!(
                        !r.present,
                        "{name} {} {role} present but not staged",
                        asset.uuid
                    );
                    assert!(
                        pending.contains(&asset.uuid),
                        "{name} {}: missing and not pending",
                        asset.uuid
                    );
                }
            }
            let (xmp, _, _) = staged
                .get(&(asset.uuid.clone(), "xmp".into()))
                .expect("an XMP sidecar");
            let text = std::fs::read_to_string(setup.staging().join(xmp)).unwrap();
            assert!(text.contains(&asset.uuid), "{xmp} names its asset");
        }
        // Disk and ledger agree: every staged file is in the ledger and back.
        let on_disk: Vec<String> = tree(&setup.staging().join(&lib_name))
            .into_keys()
            .map(|p| format!("{lib_name}/{p}"))
            .collect();
        let mut in_ledger: Vec<String> = staged.values().map(|(p, _, _)| p.clone()).collect();
        in_ledger.sort();
        assert_eq!(on_disk, in_ledger, "{name}");
    }
    assert!(checked > 100, "only {checked} files checked");
}

#[test]
fn an_xmp_sidecar_of_a_real_photo() {
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let mut setup = Setup::new();
    setup.add_library("t", &common::library(&fixtures, "Test-10.15.7"));
    setup.run_ok();
    // An edited photo with keywords, a person, GPS and a title.
    let staged = setup.staged("t");
    let (path, _, _) = &staged[&(
        "D79B8D77-BFFC-460B-9312-034F2877D35B".to_owned(),
        "xmp".to_owned(),
    )];
    let text = std::fs::read_to_string(setup.staging().join(path)).unwrap();
    insta::assert_snapshot!(text);
}

#[test]
fn a_second_run_copies_nothing() {
    let Some((_tmp, lib)) = common::fixture_copy("Test-Media-Types-15.7.2") else {
        return;
    };
    let mut setup = Setup::new();
    setup.add_library("m", &lib);
    setup.run_ok();
    let before = tree(&setup.staging());
    assert!(!before.is_empty());
    let second = setup.run_ok();
    assert!(
        second.contains("m: unchanged since the last run"),
        "{second}"
    );
    // Even when the database changed (Photos touched it), nothing is copied.
    let db = lib.join("database/Photos.sqlite");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&db)
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    let third = setup.run_ok();
    assert!(third.contains("m: staged 0 files"), "{third}");
    assert_eq!(tree(&setup.staging()), before);
}

/// A small modern library: three photos, one of them in iCloud only, one
/// with a hostile name.
fn small_library(dir: &Path) -> PathBuf {
    let root = dir.join("Small.photoslibrary");
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    let mut a = AssetSpec::photo(&uuid(1), utc(2024, 5, 1));
    a.title = Some(DbText::Text("Before".into()));
    lib.asset(a);
    lib.asset(AssetSpec::photo(&uuid(2), utc(2024, 5, 2)));
    let mut cloud = AssetSpec::photo(&uuid(3), utc(2024, 5, 3));
    cloud.cloud_only = true;
    cloud.original_filename = DbText::Text("CLOUD.HEIC".into());
    cloud.extension = "heic".into();
    lib.asset(cloud);
    lib.write(&root).unwrap();
    root
}

/// Writes to the library's database as Photos would (Photos' saves bump
/// each row's `Z_OPT`, which the run's versions rely on; the callers do).
fn sql(lib: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(lib.join("database/Photos.sqlite")).unwrap();
    conn.execute_batch(sql).unwrap();
}

#[test]
fn an_edit_restages_its_files_and_a_title_change_only_the_xmp() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = small_library(tmp.path());
    let mut setup = Setup::new();
    setup.add_library("s", &lib);
    setup.run_ok();
    let first = setup.staged("s");
    let times = tree(&setup.staging());

    // Photos renders an edit of photo 2: render, adjustments plist, state, time.
    let u2 = uuid(2);
    let renders = lib.join(format!("resources/renders/{}", &u2[..1]));
    std::fs::create_dir_all(&renders).unwrap();
    std::fs::write(renders.join(format!("{u2}_1_201_a.jpeg")), b"edited pixels").unwrap();
    std::fs::write(
        renders.join(format!("{u2}.plist")),
        b"<plist>adjustments</plist>",
    )
    .unwrap();
    sql(&lib, &format!(
        "UPDATE ZASSET SET ZADJUSTMENTSSTATE = 1, ZADJUSTMENTTIMESTAMP = 760000000, Z_OPT = Z_OPT + 1 WHERE ZUUID = '{u2}'"
    ));
    setup.run_ok();
    let second = setup.staged("s");
    let changed: Vec<(String, String)> = second
        .iter()
        .filter(|(k, v)| first.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(
        changed,
        [
            (u2.clone(), "adjustments".into()),
            (u2.clone(), "edited".into()),
            (u2.clone(), "xmp".into())
        ],
    );
    let (aae, _, _) = &second[&(u2.clone(), "adjustments".to_owned())];
    assert!(Path::new(aae).extension().is_some_and(|e| e == "AAE"));
    assert_eq!(
        std::fs::read(setup.staging().join(aae)).unwrap(),
        b"<plist>adjustments</plist>"
    );
    // The original was not copied again.
    let (orig, _, _) = &second[&(u2.clone(), "original".to_owned())];
    assert_eq!(
        tree(&setup.staging())[&orig["s/".len() - 2..]],
        times[&orig["s/".len() - 2..]]
    );

    // A title change rewrites photo 1's sidecar and nothing else.
    sql(&lib, &format!(
        "UPDATE ZADDITIONALASSETATTRIBUTES SET ZTITLE = 'After', Z_OPT = Z_OPT + 1 WHERE ZASSET = (SELECT Z_PK FROM ZASSET WHERE ZUUID = '{}');
         UPDATE ZASSET SET ZMODIFICATIONDATE = 760000100, Z_OPT = Z_OPT + 1 WHERE ZUUID = '{}'",
        uuid(1),
        uuid(1)
    ));
    let before = tree(&setup.staging());
    setup.run_ok();
    let after = tree(&setup.staging());
    let rewritten: Vec<&String> = after
        .keys()
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert_eq!(rewritten.len(), 1, "{rewritten:?}");
    assert!(Path::new(rewritten[0])
        .extension()
        .is_some_and(|e| e == "xmp"));
    assert!(std::fs::read_to_string(setup.staging().join(rewritten[0]))
        .unwrap()
        .contains("After"));
}

#[test]
fn an_icloud_original_stays_pending_until_it_arrives() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = small_library(tmp.path());
    let mut setup = Setup::new();
    setup.add_library("s", &lib);
    let out = setup.run_ok();
    assert!(
        out.contains("1 pending: 1 original only in iCloud"),
        "{out}"
    );
    let u3 = uuid(3);
    assert!(!setup
        .staged("s")
        .contains_key(&(u3.clone(), "original".into())));
    assert_eq!(setup.ledger().pending("s").unwrap()[0].uuid, u3);

    // Runs while it is still in iCloud keep it pending.
    setup.run_ok();
    assert_eq!(setup.ledger().pending("s").unwrap().len(), 1);

    // Photos downloads it: the file appears and the resource becomes local.
    let dir = lib.join(format!("originals/{}", &u3[..1]));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{u3}.heic")), b"the original from iCloud").unwrap();
    sql(&lib, &format!(
        "UPDATE ZINTERNALRESOURCE SET ZLOCALAVAILABILITY = 1 WHERE ZASSET = (SELECT Z_PK FROM ZASSET WHERE ZUUID = '{u3}')"
    ));
    let out = setup.run_ok();
    assert!(!out.contains("pending"), "{out}");
    let (path, _, _) = &setup.staged("s")[&(u3.clone(), "original".to_owned())];
    assert!(path.ends_with("CLOUD.HEIC"), "{path}");
    assert_eq!(
        std::fs::read(setup.staging().join(path)).unwrap(),
        b"the original from iCloud"
    );
    assert!(setup.ledger().pending("s").unwrap().is_empty());
}

#[test]
fn hostile_original_names_stay_inside_staging() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("Hostile.photoslibrary");
    let names = [
        "../../../../etc/passwd".to_owned(),
        "a/b/c.jpg".to_owned(),
        "..".to_owned(),
        ".hidden.jpg".to_owned(),
        "\u{1b}[31mred\u{7}.jpg".to_owned(),
        "x".repeat(600) + ".jpg",
        "IMG_0001.JPG".to_owned(),
        "img_0001.jpg".to_owned(),
    ];
    let mut lib = SyntheticLibrary::new(Flavor::Photos5);
    for (i, name) in names.iter().enumerate() {
        let mut a = AssetSpec::photo(&uuid(i as u32 + 10), utc(2024, 6, 1));
        a.original_filename = DbText::Text(name.clone());
        lib.asset(a);
    }
    lib.write(&root).unwrap();
    let mut setup = Setup::new();
    setup.add_library("h", &root);
    setup.run_ok();
    let staged = setup.staged("h");
    let originals: Vec<&String> = staged
        .iter()
        .filter(|(k, _)| k.1 == "original")
        .map(|(_, v)| &v.0)
        .collect();
    assert_eq!(originals.len(), names.len());
    let day = setup.staging().join("h/2024/06/01");
    for p in &originals {
        let full = setup.staging().join(p);
        assert_eq!(full.parent().unwrap(), day, "{p:?} left its day folder");
        let name = full.file_name().unwrap().to_str().unwrap();
        assert!(
            !name.starts_with('.') && !name.chars().any(char::is_control),
            "{name:?}"
        );
        assert!(name.len() <= 255);
        assert!(full.is_file());
    }
    // Two names that differ only in case must not share a file on APFS.
    let lower: std::collections::HashSet<String> =
        originals.iter().map(|p| p.to_lowercase()).collect();
    assert_eq!(lower.len(), originals.len());
    // Nothing was written outside staging.
    assert!(!tmp.path().join("etc").exists() && !setup.root().join("etc").exists());
}

#[test]
fn dry_run_changes_nothing_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = small_library(tmp.path());
    let mut setup = Setup::new();
    setup.add_library("s", &lib);
    let ran = setup.run(&["--dry-run"]);
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert!(ran.out.contains("would stage 5 files"), "{}", ran.out);
    assert!(
        ran.out.contains("1 pending: 1 original only in iCloud"),
        "{}",
        ran.out
    );
    assert!(!setup.staging().exists() && !setup.state().exists());
    assert_eq!(
        std::fs::read_dir(setup.root().join("tmp")).unwrap().count(),
        0,
        "temp files left"
    );

    // After a real run, a dry run leaves staging and the ledger byte for byte.
    setup.run_ok();
    sql(
        &lib,
        &format!(
            "UPDATE ZASSET SET ZFAVORITE = 1, ZMODIFICATIONDATE = 760000200, Z_OPT = Z_OPT + 1 WHERE ZUUID = '{}'",
            uuid(1)
        ),
    );
    let ledger_file = setup.state().join("ledger.sqlite");
    let before = (
        tree(&setup.root().join("staging")),
        std::fs::read(&ledger_file).unwrap(),
    );
    let ran = setup.run(&["--dry-run"]);
    assert!(ran.out.contains("would stage 1 files"), "{}", ran.out);
    assert_eq!(
        (
            tree(&setup.root().join("staging")),
            std::fs::read(&ledger_file).unwrap()
        ),
        before
    );
    assert_eq!(
        std::fs::read_dir(setup.root().join("tmp")).unwrap().count(),
        0
    );
}

/// Stands in for Photos.app: "downloads" an original by writing it, or fails.
struct FakePhotos {
    fail: bool,
    calls: std::cell::RefCell<Vec<String>>,
}

impl photos_backup::export::download::Downloader for FakePhotos {
    fn fetch(
        &self,
        uuid: &str,
        into: &Path,
        _timeout: std::time::Duration,
    ) -> Result<Vec<PathBuf>, photos_backup::export::download::DownloadError> {
        self.calls.borrow_mut().push(uuid.to_owned());
        if self.fail {
            return Err(photos_backup::export::download::DownloadError::Failed {
                uuid: uuid.to_owned(),
                detail: "Photos is not signed in to iCloud".into(),
            });
        }
        let file = into.join("CLOUD.HEIC");
        std::fs::write(&file, format!("original of {uuid}")).unwrap();
        Ok(vec![file])
    }
}

fn run_with(
    setup: &Setup,
    downloader: &dyn photos_backup::export::download::Downloader,
    now: DateTime<Utc>,
) -> String {
    let text = std::fs::read_to_string(setup.config()).unwrap() + "\n";
    // `[export]` goes before the `[[library]]` tables.
    let text = text.replacen(
        "[[library]]",
        "[export]\ndownload_missing = true\n\n[[library]]",
        1,
    );
    let env = photos_backup::host::Host {
        home: setup.root().to_owned(),
        default_state_dir: setup.state(),
        ..photos_backup::host::Host::current()
    };
    let config = photos_backup::config::parse(&text, &setup.config(), &env).unwrap();
    let mut progress = photos_backup::export::stage::Silent;
    let secrets = photos_backup::secrets::FixedStore::default();
    let mut deps = photos_backup::commands::run::Deps {
        now,
        downloader: Some(downloader),
        progress: &mut progress,
        runner: &photos_backup::process::System,
        secrets: &secrets,
        mount_env: photos_backup::remote::mount::MountEnv::on(&photos_backup::host::Host::current()),
        on_battery: false,
        on_begin: None,
        note: &|_| {},
    };
    let mut out = Vec::new();
    let outcome = photos_backup::commands::run::run(&config, false, &mut deps, &mut out).unwrap();
    assert_eq!(
        outcome,
        photos_backup::commands::run::RunOutcome::Done(vec![])
    );
    String::from_utf8(out).unwrap()
}

#[test]
fn icloud_originals_are_asked_of_photos_with_backoff_after_a_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = small_library(tmp.path());
    let mut setup = Setup::new();
    setup.add_library("s", &lib);
    let u3 = uuid(3);
    let t0 = utc(2026, 3, 1);

    // Photos fails: the asset stays pending, with why, and is not asked again at once.
    let failing = FakePhotos {
        fail: true,
        calls: std::cell::RefCell::default(),
    };
    run_with(&setup, &failing, t0);
    let pending = setup.ledger().pending("s").unwrap();
    assert!(
        pending[0].reason.contains("download failed") && pending[0].reason.contains("iCloud"),
        "{pending:?}"
    );
    run_with(&setup, &failing, t0 + chrono::Duration::minutes(1));
    assert_eq!(
        failing.calls.borrow().len(),
        1,
        "asked again before the backoff"
    );
    run_with(&setup, &failing, t0 + chrono::Duration::minutes(6));
    assert_eq!(failing.calls.borrow().len(), 2);

    // Later Photos delivers: staged where the original belongs, no longer pending.
    let working = FakePhotos {
        fail: false,
        calls: std::cell::RefCell::default(),
    };
    let out = run_with(&setup, &working, t0 + chrono::Duration::hours(1));
    assert_eq!(*working.calls.borrow(), std::slice::from_ref(&u3));
    assert!(out.contains("1 downloaded from iCloud"), "{out}");
    let (path, _, _) = &setup.staged("s")[&(u3.clone(), "original".to_owned())];
    assert!(path.ends_with("CLOUD.HEIC"));
    assert_eq!(
        std::fs::read_to_string(setup.staging().join(path)).unwrap(),
        format!("original of {u3}")
    );
    assert!(setup.ledger().pending("s").unwrap().is_empty());
    // And nothing is asked any more.
    run_with(&setup, &working, t0 + chrono::Duration::hours(2));
    assert_eq!(working.calls.borrow().len(), 1);
}

/// Photos exporting a RAW+JPEG pair: both files, the RAW first by name.
struct RawPlusJpeg;

impl photos_backup::export::download::Downloader for RawPlusJpeg {
    fn fetch(
        &self,
        uuid: &str,
        into: &Path,
        _timeout: std::time::Duration,
    ) -> Result<Vec<PathBuf>, photos_backup::export::download::DownloadError> {
        let raw = into.join("CLOUD.CR2");
        std::fs::write(&raw, format!("raw of {uuid}")).unwrap();
        let original = into.join("CLOUD.HEIC");
        std::fs::write(&original, format!("original of {uuid}")).unwrap();
        Ok(vec![raw, original])
    }
}

#[test]
fn of_a_raw_pair_photos_exports_the_original_is_staged_not_the_first_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = small_library(tmp.path());
    let mut setup = Setup::new();
    setup.add_library("s", &lib);
    let u3 = uuid(3);
    run_with(&setup, &RawPlusJpeg, utc(2026, 3, 1));
    let (path, _, _) = &setup.staged("s")[&(u3.clone(), "original".to_owned())];
    assert!(path.ends_with("CLOUD.HEIC"), "{path}");
    assert_eq!(
        std::fs::read_to_string(setup.staging().join(path)).unwrap(),
        format!("original of {u3}"),
        "the RAW's bytes were staged under the original's name"
    );
    assert!(setup.ledger().pending("s").unwrap().is_empty());
}

#[test]
fn a_malformed_threshold_file_stops_the_run_and_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = small_library(tmp.path());
    let mut setup = Setup::new();
    setup.add_library("s", &lib);
    std::fs::create_dir_all(setup.staging()).unwrap();
    let file = setup.staging().join("date_threshold.txt");
    std::fs::write(&file, "2024-13-01\n").unwrap();
    let ran = setup.run(&[]);
    assert_eq!(ran.code, 1, "{}", ran.out);
    assert!(
        ran.err.contains(&file.display().to_string()) && ran.err.contains("malformed"),
        "{}",
        ran.err
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "2024-13-01\n");
    assert!(
        !setup.state().join("ledger.sqlite").exists(),
        "nothing was started"
    );
    assert_eq!(tree(&setup.staging()).len(), 1, "nothing was staged");
}

#[test]
fn the_threshold_file_wins_over_the_default() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = small_library(tmp.path());
    let mut setup = Setup::new();
    setup.add_library("s", &lib);
    std::fs::create_dir_all(setup.staging()).unwrap();
    // All three photos are from May 2024: a June threshold selects none.
    std::fs::write(setup.staging().join("date_threshold.txt"), "2024-06-01\n").unwrap();
    let out = setup.run_ok();
    assert!(
        out.contains("threshold: 2024-06-01") && out.contains("s: staged 0 files"),
        "{out}"
    );
}

/// Whether a run failed is read from what happened, never from the words of
/// its lines: libraries called `FAILED` and `WARNING` that go through do
/// not make a failure (or a warning), and when another library does fail,
/// the failure names only that one.
#[test]
fn a_library_named_failed_is_not_a_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let first = small_library(&tmp.path().join("a"));
    let second = small_library(&tmp.path().join("b"));
    let mut setup = Setup::new();
    setup.add_library("FAILED", &first);
    setup.add_library("WARNING", &second);
    let notified = setup.notify_log();
    let out = setup.run_ok();
    assert!(
        out.contains("\nFAILED: staged ") || out.starts_with("FAILED: staged "),
        "{out}"
    );
    let status = std::fs::read_to_string(setup.state().join("status.json")).unwrap();
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["last_run"]["outcome"], "ok", "{status}");
    let sent = std::fs::read_to_string(&notified).unwrap_or_default();
    assert!(
        !sent.contains("failure|") && !sent.contains("warning|"),
        "{sent}"
    );

    // A third library that cannot be read: the run fails, and says why in
    // one line about that library only.
    let mut setup = Setup::new();
    setup.add_library("FAILED", &first);
    setup.add_library("broken", &tmp.path().join("missing.photoslibrary"));
    let notified = setup.notify_log();
    let ran = setup.run(&[]);
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    let status = std::fs::read_to_string(setup.state().join("status.json")).unwrap();
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["last_run"]["outcome"], "failed", "{status}");
    let detail = status["last_run"]["detail"].as_str().unwrap();
    assert!(detail.starts_with("broken: FAILED: "), "{detail}");
    assert!(!detail.contains("staged"), "{detail}");
    let sent = std::fs::read_to_string(&notified).unwrap();
    assert!(sent.starts_with("failure|broken: FAILED: "), "{sent}");
    assert!(!sent.contains("staged"), "{sent}");
}

/// The version shortcut (`export::versions`) on a pending asset: while its
/// original is only in iCloud nothing of it changes between runs, so runs
/// read it by version; when Photos downloads it (the file appears, the
/// resource row says it is local: no `Z_OPT` of a wide row moves), the
/// next run reads it again and stages it, without a full read.
#[test]
fn an_icloud_original_that_arrives_is_staged_by_a_run_reading_only_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = small_library(tmp.path());
    let mut setup = Setup::new();
    setup.add_library("s", &lib);
    setup.run_ok();
    let u3 = uuid(3);
    assert_eq!(setup.ledger().pending("s").unwrap()[0].uuid, u3);
    // The ledger now holds versions: this run and the next read by them.
    setup.run_ok();
    assert!(setup.ledger().version_basis("s").unwrap().is_some());

    // A witness that the next run does not read everything: a title written
    // behind Core Data's back (no `Z_OPT` bump) is seen by a full read only.
    sql(&lib, &format!(
        "UPDATE ZADDITIONALASSETATTRIBUTES SET ZTITLE = 'Unseen by versions' WHERE ZASSET = (SELECT Z_PK FROM ZASSET WHERE ZUUID = '{}')",
        uuid(1)
    ));
    // Photos downloads the original: the file first, then its resource row.
    let dir = lib.join("originals").join(&u3[..1]);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{u3}.heic")), b"arrived from iCloud").unwrap();
    sql(&lib, &format!(
        "UPDATE ZINTERNALRESOURCE SET ZLOCALAVAILABILITY = 1 WHERE ZASSET = (SELECT Z_PK FROM ZASSET WHERE ZUUID = '{u3}')"
    ));
    let before = tree(&setup.staging());
    let out = setup.run_ok();
    assert!(!out.contains("pending"), "{out}");
    assert!(setup.ledger().pending("s").unwrap().is_empty());
    let (path, _, _) = &setup.staged("s")[&(u3.clone(), "original".to_owned())];
    assert_eq!(
        std::fs::read(setup.staging().join(path)).unwrap(),
        b"arrived from iCloud"
    );
    let after = tree(&setup.staging());
    let new: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    assert_eq!(
        new,
        [path],
        "its original (its XMP was staged while pending)"
    );
    assert!(
        after
            .iter()
            .all(|(k, t)| before.get(k).is_none_or(|b| b == t)),
        "nothing else was written"
    );
    let xmp_1 = setup.staged("s")[&(uuid(1), "xmp".to_owned())].0.clone();
    let xmp_text = || std::fs::read_to_string(setup.staging().join(&xmp_1)).unwrap();
    assert!(!xmp_text().contains("Unseen"), "read by version only");

    // Its version is recorded: the next run reads nothing again.
    let out = setup.run_ok();
    assert!(
        out.contains("s: staged 0 files") || out.contains("unchanged"),
        "{out}"
    );
    assert_eq!(tree(&setup.staging()), after);
    // A day later (Photos touched its database: an unchanged one is not
    // read at all) the run reads everything in full and catches the witness.
    std::fs::OpenOptions::new()
        .append(true)
        .open(lib.join("database/Photos.sqlite"))
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    let tomorrow = (Utc::now() + chrono::TimeDelta::hours(25)).to_rfc3339();
    setup.run_at(&tomorrow);
    assert!(xmp_text().contains("Unseen by versions"));
    assert_eq!(
        std::fs::read(setup.staging().join(path)).unwrap(),
        b"arrived from iCloud"
    );
}
