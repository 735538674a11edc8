//! Bad and hostile input to the reader: each case gives a clear error that
//! names the path, or a safe value; never a panic, never a write.

mod common;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// Runs `assets --json --library LIB` and returns (exit code, stdout, stderr).
fn assets(lib: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args: Vec<&std::ffi::OsStr> =
        vec!["assets".as_ref(), "--library".as_ref(), lib.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let out = common::run(&args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_clean_failure(lib: &Path, stderr: &str, code: i32, words: &str) {
    assert_eq!(code, 1, "exit code; stderr: {stderr}");
    assert!(
        stderr.contains(&lib.display().to_string()),
        "names the path: {stderr}"
    );
    assert!(stderr.contains(words), "says {words:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Applies `sql` to a copy's database (through its WAL, then checkpointed).
fn alter(lib: &Path, sql: &str) {
    let conn = Connection::open(lib.join("database/Photos.sqlite")).unwrap();
    conn.execute_batch(sql).unwrap();
}

#[test]
fn missing_library_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("Nope.photoslibrary");
    let (code, _, err) = assets(&lib, &[]);
    assert_clean_failure(&lib, &err, code, "does not exist");
}

#[test]
fn a_folder_that_is_not_a_library_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = assets(tmp.path(), &[]);
    assert_clean_failure(tmp.path(), &err, code, "is not a Photos library");
    let file = tmp.path().join("file.photoslibrary");
    std::fs::write(&file, b"x").unwrap();
    let (code, _, err) = assets(&file, &[]);
    assert_clean_failure(&file, &err, code, "is not a Photos library");
}

#[test]
fn a_photos_4_library_is_unsupported() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("database")).unwrap();
    std::fs::write(tmp.path().join("database/photos.db"), b"").unwrap();
    let (code, _, err) = assets(tmp.path(), &[]);
    assert_clean_failure(tmp.path(), &err, code, "unsupported library version");
}

#[test]
fn a_model_older_than_photos_5_is_unsupported_and_a_newer_one_reads_with_a_warning() {
    let Some((_tmp, lib)) = common::fixture_copy("Test-13.0.0") else {
        return;
    };
    let set_version = |v: i64| {
        let mut dict = plist::Dictionary::new();
        dict.insert("PLModelVersion".into(), plist::Value::Integer(v.into()));
        let mut blob = Vec::new();
        plist::Value::Dictionary(dict)
            .to_writer_binary(&mut blob)
            .unwrap();
        let conn = Connection::open(lib.join("database/Photos.sqlite")).unwrap();
        conn.execute("UPDATE Z_METADATA SET Z_PLIST = ?1", [blob])
            .unwrap();
    };
    set_version(12_000);
    let (code, _, err) = assets(&lib, &[]);
    assert_clean_failure(&lib, &err, code, "older than Photos 5");

    set_version(99_999);
    let (code, out, err) = assets(&lib, &["--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning") && err.contains("99999"), "{err}");
    let list: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(list.len(), 14);
}

#[test]
fn a_library_missing_a_needed_table_is_unsupported_not_a_crash() {
    let Some((_tmp, lib)) = common::fixture_copy("Test-13.0.0") else {
        return;
    };
    alter(&lib, "DROP TABLE ZADDITIONALASSETATTRIBUTES;");
    let (code, _, err) = assets(&lib, &[]);
    assert_clean_failure(&lib, &err, code, "ZADDITIONALASSETATTRIBUTES");
}

#[test]
fn a_truncated_database_is_reported_as_damaged() {
    let Some((_tmp, lib)) = common::fixture_copy("Test-26.1") else {
        return;
    };
    let db = lib.join("database/Photos.sqlite");
    let len = std::fs::metadata(&db).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.set_len(len / 3).unwrap();
    drop(f);
    std::fs::remove_file(lib.join("database/Photos.sqlite-wal")).unwrap();
    let (code, _, err) = assets(&lib, &[]);
    assert_clean_failure(&lib, &err, code, "damaged");
}

#[test]
fn garbage_pages_are_reported_as_damaged() {
    let Some((_tmp, lib)) = common::fixture_copy("Test-26.1") else {
        return;
    };
    alter(&lib, "PRAGMA wal_checkpoint(TRUNCATE);");
    let db = lib.join("database/Photos.sqlite");
    let mut bytes = std::fs::read(&db).unwrap();
    // Keep the header (page 1), scribble over everything after the first pages.
    let start = 4096 * 4;
    for (i, b) in bytes[start..].iter_mut().enumerate() {
        *b = (i * 31 % 251) as u8;
    }
    std::fs::write(&db, bytes).unwrap();
    let (code, _, err) = assets(&lib, &[]);
    assert_clean_failure(&lib, &err, code, "damaged");
}

#[test]
fn not_a_database_at_all_is_reported_as_damaged() {
    let Some((_tmp, lib)) = common::fixture_copy("Test-13.0.0") else {
        return;
    };
    std::fs::write(lib.join("database/Photos.sqlite"), b"this is not sqlite").unwrap();
    let (code, _, err) = assets(&lib, &[]);
    assert_clean_failure(&lib, &err, code, "damaged");
}

#[test]
fn a_wal_from_another_library_never_panics() {
    let Some(fixtures) = common::fixtures() else {
        return;
    };
    let Some((_tmp, lib)) = common::fixture_copy("Test-13.0.0") else {
        return;
    };
    std::fs::copy(
        common::library(&fixtures, "Test-26.1").join("database/Photos.sqlite-wal"),
        lib.join("database/Photos.sqlite-wal"),
    )
    .unwrap();
    let (code, out, err) = assets(&lib, &["--json"]);
    assert!(!err.contains("panicked"), "{err}");
    match code {
        // SQLite rejects the foreign WAL (its salts do not match) and reads
        // the database as last checkpointed: a consistent, older library.
        0 => {
            let list: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
            assert!(list
                .iter()
                .all(|a| a["uuid"].as_str().is_some_and(|u| u.len() == 36)));
        }
        1 => assert!(err.contains(&lib.display().to_string()), "{err}"),
        other => panic!("exit {other}: {err}"),
    }
}

#[test]
fn hostile_and_broken_strings_come_back_safe() {
    let Some((_tmp, lib)) = common::fixture_copy("Test-26.1") else {
        return;
    };
    let long_title = "T".repeat(10_000);
    alter(
        &lib,
        &format!(
            "UPDATE ZADDITIONALASSETATTRIBUTES SET ZORIGINALFILENAME = '../../etc/passwd' || char(10) || char(27) || '[31m/x' \
               WHERE ZASSET = (SELECT Z_PK FROM ZASSET WHERE ZUUID = 'D79B8D77-BFFC-460B-9312-034F2877D35B');
             UPDATE ZADDITIONALASSETATTRIBUTES SET ZTITLE = '{long_title}' \
               WHERE ZASSET = (SELECT Z_PK FROM ZASSET WHERE ZUUID = '1EB2B765-0765-43BA-A90C-0D0580E6172C');
             UPDATE ZADDITIONALASSETATTRIBUTES SET ZTITLE = CAST(X'C3A9FF2E2E2F' AS TEXT) \
               WHERE ZASSET = (SELECT Z_PK FROM ZASSET WHERE ZUUID = 'F12384F6-CD17-4151-ACBA-AE0E3688539E');
             UPDATE ZASSET SET ZDATECREATED = 'not a date', ZLATITUDE = 'north' \
               WHERE ZUUID = 'E9BC5C36-7CD1-40A1-A72B-8B8FAC227D51';"
        ),
    );
    let list = common::assets_json(&lib, &[]);
    let get = |uuid: &str| list.iter().find(|a| a["uuid"] == uuid).unwrap().clone();

    let hostile = get("D79B8D77-BFFC-460B-9312-034F2877D35B");
    assert_eq!(
        hostile["original_filename"],
        "../../etc/passwd\n\u{1b}[31m/x"
    );
    assert_eq!(
        get("1EB2B765-0765-43BA-A90C-0D0580E6172C")["title"],
        long_title.as_str()
    );
    assert_eq!(
        get("F12384F6-CD17-4151-ACBA-AE0E3688539E")["title"],
        "é\u{fffd}../"
    );
    let bad_dates = get("E9BC5C36-7CD1-40A1-A72B-8B8FAC227D51");
    assert_eq!(bad_dates["date"], "1970-01-01T00:00:00+00:00");
    assert!(bad_dates["latitude"].is_null());

    // The table for people escapes control characters instead of sending them to the terminal.
    let (code, table, err) = assets(&lib, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!table.contains('\u{1b}'), "raw escape reached the terminal");
    assert!(
        table.contains("../../etc/passwd\\n\\u{1b}[31m/x"),
        "{table}"
    );
}

#[test]
fn a_library_on_a_read_only_volume_reads() {
    let Some((tmp, lib)) = common::fixture_copy("Test-Media-Types-15.7.2") else {
        return;
    };
    let _ = std::fs::remove_file(lib.join("database/Photos.sqlite-shm"));
    let ro = ReadOnly::new(&lib, tmp.path());
    let before = common::tree_state(&ro.path);
    let list = common::assets_json(&ro.path, &["--all"]);
    assert_eq!(list.len(), 18);
    assert_eq!(common::tree_state(&ro.path), before);
}

/// A read-only view of a folder: a read-only bind mount when we are root (as
/// in CI, where permissions alone would not stop root), else permissions.
struct ReadOnly {
    path: PathBuf,
    mounted: bool,
    original: PathBuf,
}

impl ReadOnly {
    fn new(dir: &Path, scratch: &Path) -> Self {
        let mount_point = scratch.join("ro.photoslibrary");
        std::fs::create_dir(&mount_point).unwrap();
        let sh = |cmd: &str| {
            std::process::Command::new("sh")
                .args(["-c", cmd])
                .status()
                .is_ok_and(|s| s.success())
        };
        let (src, dst) = (dir.display(), mount_point.display());
        if sh(&format!(
            "mount --bind '{src}' '{dst}' 2>/dev/null && mount -o remount,bind,ro '{dst}'"
        )) {
            assert!(
                std::fs::write(mount_point.join("probe"), b"x").is_err(),
                "the bind mount is not read-only"
            );
            return Self {
                path: mount_point,
                mounted: true,
                original: dir.to_owned(),
            };
        }
        let _ = sh(&format!("umount '{dst}' 2>/dev/null"));
        assert!(
            !is_root(),
            "as root a read-only bind mount is needed for this test and it failed"
        );
        assert!(sh(&format!("chmod -R a-w '{src}'")));
        Self {
            path: dir.to_owned(),
            mounted: false,
            original: dir.to_owned(),
        }
    }
}

fn is_root() -> bool {
    rustix::process::getuid().is_root()
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        if self.mounted {
            let _ = std::process::Command::new("umount")
                .arg(&self.path)
                .status();
        } else {
            let _ = std::process::Command::new("chmod")
                .arg("-R")
                .arg("u+w")
                .arg(&self.original)
                .status();
        }
    }
}

#[test]
fn a_database_locked_by_photos_still_reads() {
    let Some((_tmp, lib)) = common::fixture_copy("Test-13.0.0") else {
        return;
    };
    // Photos holds a write transaction open: the live file is locked.
    let photos = Connection::open(lib.join("database/Photos.sqlite")).unwrap();
    photos
        .execute_batch("BEGIN EXCLUSIVE; UPDATE ZASSET SET ZFAVORITE = ZFAVORITE;")
        .unwrap();
    let list = common::assets_json(&lib, &[]);
    assert_eq!(list.len(), 14);
    photos.execute_batch("ROLLBACK;").unwrap();
}

#[test]
fn a_library_path_that_climbs_out_of_the_library_is_not_followed() {
    let Some((_tmp, lib)) = common::fixture_copy("Test-13.0.0") else {
        return;
    };
    alter(
        &lib,
        "UPDATE ZASSET SET ZDIRECTORY = '../../..' WHERE ZUUID = 'D79B8D77-BFFC-460B-9312-034F2877D35B';
         UPDATE ZASSET SET ZFILENAME = '../../../etc/passwd' WHERE ZUUID = '1EB2B765-0765-43BA-A90C-0D0580E6172C';",
    );
    let list = common::assets_json(&lib, &[]);
    for uuid in [
        "D79B8D77-BFFC-460B-9312-034F2877D35B",
        "1EB2B765-0765-43BA-A90C-0D0580E6172C",
    ] {
        let a = list.iter().find(|a| a["uuid"] == uuid).unwrap();
        assert!(a["path"].is_null(), "{a}");
        assert!(
            a["resources"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| !r["path"].as_str().unwrap().contains("..")),
            "{a}"
        );
    }
}

/// A small synthetic library (no fixtures needed) with keywords, albums and a
/// referenced file; returns the temp dir, the bundle and the uuids.
fn synthetic() -> (tempfile::TempDir, PathBuf, Vec<String>) {
    use synthetic::{AssetSpec, Flavor, SyntheticLibrary};
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("Hostile.photoslibrary");
    let outside = tmp.path().join("Referenced");
    let day = chrono::DateTime::from_timestamp(1_600_000_000, 0).unwrap();
    let uuids: Vec<String> = (1..=4)
        .map(|n| format!("A{n:07}-0000-4000-8000-{n:012}"))
        .collect();
    let mut lib = SyntheticLibrary::new(Flavor::Modern);
    for (i, uuid) in uuids.iter().enumerate() {
        lib.asset(AssetSpec {
            keywords: vec![format!("k{i}")],
            albums: vec!["Album".into()],
            referenced: (i == 3).then(|| outside.display().to_string()),
            original_filename: "REF.JPG".into(),
            ..AssetSpec::photo(uuid, day)
        });
    }
    lib.write(&root).unwrap();
    (tmp, root, uuids)
}

fn asset_table(lib: &Path) -> &'static str {
    let conn = Connection::open(lib.join("database/Photos.sqlite")).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'ZASSET'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if n == 1 {
        "ZASSET"
    } else {
        "ZGENERICASSET"
    }
}

fn read_all(lib: &Path) -> Vec<photos_backup::photos::Asset> {
    common::all_assets(lib)
}

#[test]
fn nul_bytes_in_file_names_or_folders_give_no_path_and_say_why() {
    let (_tmp, lib, uuids) = synthetic();
    let table = asset_table(&lib);
    alter(
        &lib,
        &format!(
            "UPDATE {table} SET ZFILENAME = ZFILENAME || char(0) || 'x' WHERE ZUUID = '{}';
             UPDATE {table} SET ZDIRECTORY = 'A' || char(0) WHERE ZUUID = '{}';",
            uuids[0], uuids[1]
        ),
    );
    let all = read_all(&lib);
    for uuid in &uuids[..2] {
        let a = all.iter().find(|a| &a.uuid == uuid).unwrap();
        assert_eq!(a.path, None, "{a:?}");
        assert!(a.resources.is_empty(), "{:?}", a.resources);
        assert!(
            a.path_refused.as_deref().is_some_and(|w| w.contains("NUL")),
            "{a:?}"
        );
    }
    let fine = all.iter().find(|a| a.uuid == uuids[2]).unwrap();
    assert!(fine.path.is_some() && fine.path_refused.is_none());
}

#[test]
fn an_absolute_folder_is_trusted_only_for_a_referenced_file() {
    let (_tmp, lib, uuids) = synthetic();
    let table = asset_table(&lib);
    // The referenced asset (ZSAVEDASSETTYPE 10) keeps its absolute path.
    let referenced = read_all(&lib)
        .into_iter()
        .find(|a| a.uuid == uuids[3])
        .unwrap();
    assert!(referenced.isreference);
    assert!(
        referenced
            .path
            .as_deref()
            .is_some_and(|p| p.starts_with('/')),
        "{referenced:?}"
    );
    // A copied-in asset pointing at /etc is refused, not followed.
    alter(
        &lib,
        &format!(
            "UPDATE {table} SET ZDIRECTORY = '/etc', ZFILENAME = 'passwd' WHERE ZUUID = '{}';",
            uuids[0]
        ),
    );
    let a = read_all(&lib)
        .into_iter()
        .find(|a| a.uuid == uuids[0])
        .unwrap();
    assert!(!a.isreference);
    assert_eq!(a.path, None, "{a:?}");
    assert!(
        a.resources.iter().all(|r| !r.path.starts_with('/')),
        "{:?}",
        a.resources
    );
    assert!(
        a.path_refused
            .as_deref()
            .is_some_and(|w| w.contains("not a referenced file")),
        "{a:?}"
    );
}

#[test]
fn uuids_that_are_not_hex_and_dashes_give_no_path() {
    let (_tmp, lib, uuids) = synthetic();
    let table = asset_table(&lib);
    let hostile = ["../../../../tmp/x", "A/B", "..", "A B"];
    for (uuid, bad) in uuids.iter().zip(hostile) {
        alter(
            &lib,
            &format!("UPDATE {table} SET ZUUID = '{bad}' WHERE ZUUID = '{uuid}';"),
        );
    }
    let all = read_all(&lib);
    for bad in hostile {
        let a = all.iter().find(|a| a.uuid == bad).unwrap();
        assert!(a.path.is_none() && a.path_edited.is_none(), "{a:?}");
        assert!(a.resources.is_empty(), "{:?}", a.resources);
        assert!(
            a.path_refused
                .as_deref()
                .is_some_and(|w| w.contains("uuid")),
            "{a:?}"
        );
    }
}

#[test]
fn hostile_join_table_names_are_quoted_not_run() {
    let (_tmp, lib, _) = synthetic();
    let before = read_all(&lib);
    assert!(before.iter().any(|a| !a.keywords.is_empty()));
    assert!(before.iter().any(|a| !a.albums.is_empty()));
    let conn = Connection::open(lib.join("database/Photos.sqlite")).unwrap();
    let joins: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'Z_[0-9]*'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(joins.len() >= 2, "{joins:?}");
    for (i, table) in joins.iter().enumerate() {
        let hostile = format!("{table}\" AS j; DROP TABLE ZASSET; -- {i}");
        conn.execute_batch(&format!(
            "ALTER TABLE \"{table}\" RENAME TO \"{}\";",
            hostile.replace('"', "\"\"")
        ))
        .unwrap();
    }
    drop(conn);
    assert_eq!(read_all(&lib), before);
}

#[test]
fn a_fifo_in_place_of_the_wal_is_an_error_naming_it_not_a_hang() {
    let (_tmp, lib, _) = synthetic();
    let wal = lib.join("database/Photos.sqlite-wal");
    let _ = std::fs::remove_file(&wal);
    let made = std::process::Command::new("mkfifo")
        .arg(&wal)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "mkfifo");
    let (code, _, err) = assets(&lib, &[]);
    assert_clean_failure(&lib, &err, code, "FIFO");
    assert!(err.contains("Photos.sqlite-wal"), "{err}");
}
