//! Finding photos again, through the real binary and real borg: a small
//! library lives through a month end (September is archived and purged from
//! staging) and an edit in October (one version of the photo's XMP is in the
//! archive, the next is staged). Then `archives` lists the archive, `locate`
//! finds every version by uuid, name and date, and `restore` brings files
//! back byte for byte, from the archive or from staging, never over a file
//! already there. `init-repo` makes a repository borg opens with the
//! passphrase, refuses to make it twice, and never shows the passphrase.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::borg::{require_borg, Repo};
use common::setup::{Ran, Setup};
use common::timeline::{named_photo as photo, Growing};
use common::tools::{fake_tool, real_tool};
use common::{utc, uuid};
use synthetic::Edit;

const SEPT: &str = "photos-anna-2026-09";

/// Runs a command of the binary with the setup's config.
fn cli(setup: &Setup, args: &[&str]) -> Ran {
    Ran::from(setup.command(args, &[]).output().unwrap())
}

fn ok(setup: &Setup, args: &[&str]) -> String {
    let ran = cli(setup, args);
    assert_eq!(ran.code, 0, "{args:?}:\n{}\n{}", ran.out, ran.err);
    ran.out
}

fn json(setup: &Setup, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(setup, args)).unwrap()
}

/// Photos 1 and 2 taken in September and archived at its end; in October
/// photo 1 is edited and photo 3 is taken (both staged).
fn timeline(tmp: &Path, repo: &Repo) -> (Setup, Growing) {
    let mut lib = Growing::new(tmp, "Anna");
    lib.add(photo(
        &uuid(1),
        "IMG_1001.JPG",
        utc(2026, 9, 10),
        utc(2026, 9, 10),
    ))
    .add(photo(
        &uuid(2),
        "IMG_1002.JPG",
        utc(2026, 9, 20),
        utc(2026, 9, 20),
    ));
    lib.write();
    let mut setup = Setup::new();
    setup.add_library("anna", &lib.path);
    setup.set_threshold("2026-09-01");
    setup.set_extra(repo.config(""));
    setup.run_at("2026-09-25T08:00:00Z");
    let out = setup.run_at("2026-10-01T00:05:00Z");
    assert!(
        out.contains("archived 2026-09 into photos-anna-2026-09: 4 files"),
        "{out}"
    );

    lib.spec(&uuid(1)).edit = Some(Edit {
        at: utc(2026, 10, 15),
        external: false,
    });
    lib.spec(&uuid(1)).modified = Some(utc(2026, 10, 15));
    lib.add(photo(
        &uuid(3),
        "IMG_1003.JPG",
        utc(2026, 10, 12),
        utc(2026, 10, 12),
    ));
    lib.write();
    setup.run_at("2026-10-15T13:00:00Z");
    (setup, lib)
}

/// (role, kinds of places) of each version of the one asset in a `locate --json`.
fn versions(found: &serde_json::Value) -> Vec<(String, Vec<String>)> {
    found["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let places = v["places"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| match p["kind"].as_str().unwrap() {
                    "archived" => format!("archived {}", p["archive"].as_str().unwrap()),
                    kind => kind.to_owned(),
                })
                .collect();
            (v["role"].as_str().unwrap().to_owned(), places)
        })
        .collect()
}

fn strings(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    list.iter()
        .map(|(role, places)| {
            (
                (*role).to_owned(),
                places.iter().map(|p| (*p).to_owned()).collect(),
            )
        })
        .collect()
}

#[test]
fn archives_lists_the_archive_with_its_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let (setup, _lib) = timeline(tmp.path(), &repo);
    let archived = setup.ledger().rollover_files("anna", SEPT).unwrap();

    let listed = json(&setup, &["archives", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let a = &listed[0];
    assert_eq!(
        (
            a["library"].as_str(),
            a["archive"].as_str(),
            a["state"].as_str()
        ),
        (Some("anna"), Some(SEPT), Some("done"))
    );
    assert_eq!(a["files"], 4);
    assert_eq!(a["bytes"], archived.iter().map(|f| f.size).sum::<u64>());
    assert_eq!(a["missing"].as_array().unwrap().len(), 0);
    let table = ok(&setup, &["archives"]);
    let row = table.lines().find(|l| l.contains(SEPT)).unwrap();
    assert!(
        row.starts_with("anna") && row.contains("2026-09"),
        "{table}"
    );
    assert!(row.contains(" 4 ") && row.contains("done"), "{table}");
    assert!(
        row.contains("2026-10-01 00:05"),
        "made and verified: {table}"
    );
}

#[test]
fn locate_finds_archived_and_staged_versions_by_uuid_name_and_date() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let (setup, _lib) = timeline(tmp.path(), &repo);
    let staging = setup.staging();

    // locate by uuid (any case): the original only archived; the XMP
    // archived in its September version and staged in its October one.
    let by_uuid = json(&setup, &["locate", "--json", &uuid(1).to_lowercase()]);
    assert_eq!(by_uuid.as_array().unwrap().len(), 1);
    assert_eq!(by_uuid[0]["uuid"], uuid(1));
    let archived_sept = format!("archived {SEPT}");
    let want = [
        ("adjustments", &["staged"][..]),
        ("edited", &["staged"][..]),
        ("original", &[archived_sept.as_str()][..]),
        ("xmp", &[archived_sept.as_str()][..]),
        ("xmp", &["staged"][..]),
    ];
    assert_eq!(versions(&by_uuid[0]), strings(&want), "{by_uuid:#}");
    let text = ok(&setup, &["locate", &uuid(1)]);
    assert!(
        text.contains(&format!(
            "archived in {SEPT} at anna/2026/09/10/IMG_1001.JPG\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "staged at {}, not yet mirrored",
            staging.join("anna/2026/09/10/IMG_1001.JPG.xmp").display()
        )),
        "{text}"
    );
    assert!(text.contains("xmp IMG_1001.JPG.xmp ("), "{text}");
    assert!(text.contains("), older version\n"), "{text}");

    // A prefix all three uuids share is ambiguous; the uuid's first group
    // alone is not a name either.
    let ambiguous = cli(&setup, &["locate", "a0000000-0000"]);
    assert_eq!(ambiguous.code, 1, "{}", ambiguous.out);
    assert!(
        ambiguous.err.contains("3 assets") && ambiguous.err.contains(&uuid(3)),
        "{}",
        ambiguous.err
    );

    // By name: both files of photo 2, archived; by date: photo 1's folder.
    let by_name = json(&setup, &["locate", "--json", "img_1002"]);
    assert_eq!(by_name.as_array().unwrap().len(), 1);
    assert_eq!(
        versions(&by_name[0]),
        strings(&[
            ("original", &[archived_sept.as_str()][..]),
            ("xmp", &[archived_sept.as_str()][..]),
        ])
    );
    let by_day = json(&setup, &["locate", "--json", "2026-09-10"]);
    assert_eq!(versions(&by_day[0]), strings(&want));
    assert_eq!(by_day.as_array().unwrap().len(), 1);
    let by_month = json(&setup, &["locate", "--json", "2026-10"]);
    assert_eq!(by_month.as_array().unwrap().len(), 1);
    assert_eq!(by_month[0]["uuid"], uuid(3));
    let nothing = cli(&setup, &["locate", "IMG_9999"]);
    assert_eq!(nothing.code, 1);
    assert!(
        nothing.err.contains("nothing matches \"IMG_9999\""),
        "{}",
        nothing.err
    );
}

#[test]
fn restore_brings_back_archived_and_staged_files_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::init(tmp.path());
    let (mut setup, lib) = timeline(tmp.path(), &repo);
    let staging = setup.staging();

    // An archived original: byte for byte the library's file.
    let dest = tmp.path().join("restored");
    let dest_arg = dest.to_str().unwrap();
    let out = ok(&setup, &["restore", "IMG_1002.JPG", "--to", dest_arg]);
    let original = dest.join("anna/2026/09/20/IMG_1002.JPG");
    assert_eq!(std::fs::read(&original).unwrap(), lib.original(&uuid(2)));
    assert!(
        out.contains("restored anna/2026/09/20/IMG_1002.JPG (original, ")
            && out.contains(&format!(") from archive {SEPT}")),
        "{out}"
    );
    assert!(dest.join("anna/2026/09/20/IMG_1002.JPG.xmp").is_file());
    assert_eq!(files_in(&dest).len(), 2, "nothing else, no temp files left");
    let top: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(top, ["anna"], "no temp folder left");

    // Again: refused, naming the file, and the file is left as it is.
    std::fs::write(&original, "my own").unwrap();
    let again = cli(&setup, &["restore", "IMG_1002.JPG", "--to", dest_arg]);
    assert_eq!(again.code, 1, "{}", again.out);
    assert!(
        again
            .err
            .contains(&format!("{} already exists", original.display()))
            && again.err.contains("never overwrites"),
        "{}",
        again.err
    );
    assert_eq!(std::fs::read(&original).unwrap(), b"my own");

    // The newest version of each file of photo 1: the XMP from staging, the
    // original from the archive; with --archive, September's XMP.
    let newest = tmp.path().join("newest");
    ok(
        &setup,
        &["restore", &uuid(1), "--to", newest.to_str().unwrap()],
    );
    let xmp = "anna/2026/09/10/IMG_1001.JPG.xmp";
    assert_eq!(
        std::fs::read(newest.join(xmp)).unwrap(),
        std::fs::read(staging.join(xmp)).unwrap()
    );
    assert_eq!(
        std::fs::read(newest.join("anna/2026/09/10/IMG_1001.JPG")).unwrap(),
        lib.original(&uuid(1))
    );
    assert_eq!(files_in(&newest).len(), 4, "{:?}", files_in(&newest));
    let old = tmp.path().join("old");
    let out = ok(
        &setup,
        &[
            "restore",
            &uuid(1),
            "--to",
            old.to_str().unwrap(),
            "--archive",
            SEPT,
        ],
    );
    assert_eq!(files_in(&old).len(), 2, "{out}");
    assert_eq!(
        std::fs::read(old.join(xmp)).unwrap(),
        repo.content(SEPT, xmp)
    );
    assert_ne!(
        std::fs::read(old.join(xmp)).unwrap(),
        std::fs::read(staging.join(xmp)).unwrap(),
        "the edit changed the XMP"
    );

    // Without [borg]: staged files still restore, archived ones are a
    // configuration error naming the file and the section.
    setup.set_extra(String::new());
    let staged_only = tmp.path().join("staged-only");
    let out = ok(
        &setup,
        &["restore", "IMG_1003", "--to", staged_only.to_str().unwrap()],
    );
    assert!(out.contains("from staging"), "{out}");
    assert_eq!(files_in(&staged_only).len(), 2);
    let needs_borg = cli(
        &setup,
        &[
            "restore",
            "IMG_1002",
            "--to",
            tmp.path().join("x").to_str().unwrap(),
        ],
    );
    assert_eq!(needs_borg.code, 2, "{}", needs_borg.err);
    assert!(
        needs_borg.err.contains("photos_backup.conf") && needs_borg.err.contains("[borg]"),
        "{}",
        needs_borg.err
    );
    // archives and locate need neither borg nor its section.
    assert!(ok(&setup, &["archives"]).contains(SEPT));
}

/// Every file under `dir`, relative.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| !e.file_type().is_dir())
        .map(|e| e.path().strip_prefix(dir).unwrap().to_owned())
        .collect();
    files.sort();
    files
}

#[test]
fn archives_without_a_ledger_says_so() {
    let setup = Setup::new();
    let out = ok(&setup, &["archives"]);
    assert!(out.starts_with("no ledger at "), "{out}");
    assert_eq!(ok(&setup, &["archives", "--json"]).trim(), "[]");
    let locate = cli(&setup, &["locate", "IMG_1"]);
    assert_eq!(locate.code, 1);
    assert!(locate.err.contains("no ledger at"), "{}", locate.err);
}

#[test]
fn init_repo_makes_a_repository_once_and_never_shows_the_passphrase() {
    require_borg();
    let tmp = tempfile::tempdir().unwrap();
    let passphrase = format!("init-secret-{}", std::process::id());
    let pass_file = tmp.path().join("borg.pass");
    std::fs::write(&pass_file, &passphrase).unwrap();
    std::fs::set_permissions(&pass_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    // A borg that writes down its arguments, then is borg.
    let real = real_tool("borg", "borgbackup");
    let argv_log = tmp.path().join("argv.log");
    let wrapper = fake_tool(
        tmp.path(),
        "borg-wrapper",
        &format!(
            "printf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"",
            argv_log.display(),
            real.display()
        ),
    );
    let location = tmp.path().join("new/borg repo");

    let mut setup = Setup::new();
    // No [borg] section: a configuration error naming the file and the section.
    let missing = cli(&setup, &["init-repo"]);
    assert_eq!(missing.code, 2, "{}", missing.err);
    assert!(
        missing.err.contains(&setup.config().display().to_string())
            && missing.err.contains("no [borg] section"),
        "{}",
        missing.err
    );

    setup.set_extra(format!(
        "[borg]\nrepository = {:?}\npassphrase = \"file:{}\"\nborg = {:?}\n",
        location.display().to_string(),
        pass_file.display(),
        wrapper.display().to_string()
    ));
    let made = cli(&setup, &["init-repo"]);
    assert_eq!(made.code, 0, "{}\n{}", made.out, made.err);
    assert!(
        made.out.contains(&format!(
            "borg key export '{}' ~/photos-backup-borg-key.txt",
            location.display()
        )),
        "{}",
        made.out
    );
    assert!(made.out.contains("AND the passphrase"), "{}", made.out);

    // borg opens it with the passphrase, and not without it.
    let list = |pass: &str| {
        std::process::Command::new(&real)
            .args(["list", location.to_str().unwrap()])
            .env("BORG_PASSPHRASE", pass)
            .env("BORG_RELOCATED_REPO_ACCESS_IS_OK", "no")
            .output()
            .unwrap()
    };
    let opened = list(&passphrase);
    assert!(
        opened.status.success(),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    assert!(!list("not the passphrase").status.success());

    // Twice: refused, naming the repository; it still opens.
    let twice = cli(&setup, &["init-repo"]);
    assert_eq!(twice.code, 1, "{}", twice.out);
    assert!(
        twice.err.contains(&format!(
            "borg repository {} already exists",
            location.display()
        )),
        "{}",
        twice.err
    );
    assert!(list(&passphrase).status.success());

    // The passphrase went nowhere but borg's environment.
    let argv = std::fs::read_to_string(&argv_log).unwrap();
    let init = format!(
        "init --encryption=repokey-blake2 --make-parent-dirs {}",
        location.display()
    );
    assert_eq!(argv.lines().collect::<Vec<_>>(), [&init, &init]);
    for shown in [&made.out, &made.err, &twice.out, &twice.err, &argv] {
        assert!(!shown.contains(&passphrase), "{shown}");
    }
}
