//! `photos-backup doctor` through the real binary: a healthy setup (a
//! synthetic library, a real borg repository) passes; a missing library, a
//! wrong borg passphrase, a missing repository, a missing tool and a bad
//! config each FAIL with the fix and exit 1; a server that stops answering
//! is a warning (off network), not a failure. A fake `launchctl` on `PATH`
//! (a shell script recording its arguments) says whether the agent is
//! loaded, a fake `df` reports a nearly full disk. No secret ever shows.

mod common;

use std::path::PathBuf;

use common::borg::Repo;
use common::remote::TestServer;
use common::setup::{Ran, Setup};
use common::timeline::{photo, Growing};
use common::tools::{fake_tool, path_with};
use common::utc;

/// A setup, a library with three photos (one in the trash), a temp `HOME`
/// and a folder of fake tools put first on `PATH`.
struct Case {
    setup: Setup,
    tmp: tempfile::TempDir,
    _library: Growing,
}

impl Case {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let mut library = Growing::new(tmp.path(), "Anna");
        library
            .add(photo(1, utc(2026, 9, 10), utc(2026, 9, 10)))
            .add(photo(2, utc(2026, 9, 11), utc(2026, 9, 11)));
        let mut trashed = photo(3, utc(2026, 9, 12), utc(2026, 9, 12));
        trashed.trashed = true;
        library.add(trashed);
        library.write();
        let mut setup = Setup::new();
        setup.add_library("anna", &library.path);
        for dir in ["home", "bin"] {
            std::fs::create_dir_all(tmp.path().join(dir)).unwrap();
        }
        Self {
            setup,
            tmp,
            _library: library,
        }
    }

    fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    fn bin(&self) -> PathBuf {
        self.tmp.path().join("bin")
    }

    fn doctor(&self) -> Ran {
        self.doctor_with(&[])
    }

    /// `doctor` with more arguments (`--json`).
    fn doctor_with(&self, args: &[&str]) -> Ran {
        let home = self.home();
        let out = self
            .setup
            .command(
                &[&["doctor"][..], args].concat(),
                &[
                    ("HOME", home.to_str().unwrap()),
                    ("PATH", &path_with(&self.bin())),
                ],
            )
            .output()
            .unwrap();
        Ran::from(out)
    }
}

/// The one line of `ran` about `subject`, with its status.
fn line<'a>(ran: &'a Ran, subject: &str) -> &'a str {
    let found: Vec<&str> = ran
        .out
        .lines()
        .filter(|l| {
            l.get(8..)
                .is_some_and(|rest| rest.starts_with(&format!("{subject}:")))
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one line about {subject:?} expected:\n{}\n{}",
        ran.out,
        ran.err
    );
    found[0]
}

fn assert_status(ran: &Ran, subject: &str, status: &str) -> String {
    let l = line(ran, subject);
    assert!(
        l.starts_with(&format!("{status:<8}")),
        "{subject} is not {status}:\n{}",
        ran.out
    );
    l.to_owned()
}

fn uid() -> String {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_healthy_local_setup_passes() {
    let mut case = Case::new();
    let repo = Repo::init(case.tmp.path());
    case.setup.set_extra(repo.config(""));
    case.setup.set_threshold("2026-09-01");
    let ran = case.doctor();
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    assert!(
        ran.out
            .lines()
            .all(|l| l.starts_with("ok ") || l.starts_with("doctor: ")),
        "{}",
        ran.out
    );

    let config = assert_status(&ran, "config", "ok");
    assert!(config.contains("1 library (anna), [borg]"), "{config}");
    let library = assert_status(&ran, "library anna", "ok");
    assert!(
        library.contains("opens read-only: 2 assets outside the trash"),
        "{library}"
    );
    let borg = assert_status(&ran, "tool borg", "ok");
    assert!(borg.contains("/borg (borg 1."), "{borg}");
    let secret = assert_status(&ran, "secret borg.passphrase", "ok");
    assert!(
        secret.contains(&format!("file:{} resolves", repo.passphrase_file.display())),
        "{secret}"
    );
    let repository = assert_status(&ran, "borg repository", "ok");
    assert!(repository.ends_with("opens: 0 archives"), "{repository}");
    // Nothing is created by looking: a run will make both folders.
    for key in ["staging.dir", "state.dir"] {
        let folder = assert_status(&ran, &format!("folder {key}"), "ok");
        assert!(
            folder.contains("does not exist yet; a run creates it") && folder.contains("GB free"),
            "{folder}"
        );
    }
    assert!(!case.setup.staging().exists() && !case.setup.state().exists());
    assert_status(&ran, "launch agent", "ok");
    assert!(ran.out.contains("not applicable on this OS"), "{}", ran.out);
    let privacy = assert_status(&ran, "privacy", "ok");
    assert!(privacy.contains("privacy: owner-only: "), "{privacy}");
    assert!(
        ran.out
            .lines()
            .last()
            .unwrap()
            .starts_with("doctor: 9 ok, 0 warning(s), 0 FAILED"),
        "{}",
        ran.out
    );
    let order: Vec<&str> = ran
        .out
        .lines()
        .filter(|l| !l.starts_with("doctor: "))
        .filter_map(|l| l.get(8..)?.split(':').next())
        .collect();
    assert_eq!(
        order,
        [
            "config",
            "library anna",
            "tool borg",
            "secret borg.passphrase",
            "borg repository",
            "folder staging.dir",
            "folder state.dir",
            "privacy",
            "launch agent"
        ]
    );
    assert!(!ran.out.contains(repo.passphrase()) && !ran.err.contains(repo.passphrase()));

    // After a backup, the folders exist and the archive is counted.
    case.setup.run_at("2026-09-20T08:00:00Z");
    case.setup.run_at("2026-10-01T08:00:00Z");
    let ran = case.doctor();
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    assert!(
        assert_status(&ran, "borg repository", "ok").ends_with("opens: 1 archive"),
        "{}",
        ran.out
    );
    let staging = assert_status(&ran, "folder staging.dir", "ok");
    assert!(staging.contains(": writable, "), "{staging}");
    let leftovers: Vec<_> = std::fs::read_dir(case.setup.staging())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("doctor"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_missing_library_fails_with_the_key_to_correct() {
    let mut case = Case::new();
    case.setup = Setup::new();
    case.setup
        .add_library("anna", &case.tmp.path().join("Gone.photoslibrary"));
    let ran = case.doctor();
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    let library = assert_status(&ran, "library anna", "FAILED");
    assert!(
        library.contains("Gone.photoslibrary does not exist")
            && library.contains("-> fix: set `library[0].path` in ")
            && library.contains(".photoslibrary folder"),
        "{library}"
    );
    // The other checks still run.
    assert_status(&ran, "folder staging.dir", "ok");
    assert_status(&ran, "launch agent", "ok");
    assert!(ran.out.contains("1 FAILED"), "{}", ran.out);
}

/// `doctor --json` of `case`: its exit code and the document.
fn doctor_json(case: &Case) -> (i32, serde_json::Value) {
    let ran = case.doctor_with(&["--json"]);
    let value = serde_json::from_str(&ran.out)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", ran.out, ran.err));
    (ran.code, value)
}

#[test]
fn json_has_the_same_checks_and_exit_code_as_the_text() {
    let mut case = Case::new();
    let (code, doc) = doctor_json(&case);
    let text = case.doctor();
    assert_eq!((code, text.code), (0, 0), "{doc}\n{}", text.out);
    assert_eq!(doc["passed"], true, "{doc}");
    let checks = doc["checks"].as_array().unwrap();
    // One object per text line but the summary, in the same order.
    let subjects: Vec<&str> = checks
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    let text_subjects: Vec<&str> = text
        .out
        .lines()
        .filter(|l| !l.starts_with("doctor: "))
        .filter_map(|l| l.get(8..)?.split(':').next())
        .collect();
    assert_eq!(subjects, text_subjects);
    let library = &checks[1];
    assert_eq!(library["level"], "ok", "{doc}");
    assert!(library["fix"].is_null(), "{doc}");
    assert!(
        library["found"]
            .as_str()
            .unwrap()
            .contains("opens read-only: 2 assets outside the trash"),
        "{doc}"
    );

    // A library gone: failed, with its fix, exit 1 as the text.
    case.setup = Setup::new();
    case.setup
        .add_library("anna", &case.tmp.path().join("Gone.photoslibrary"));
    let (code, doc) = doctor_json(&case);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        (doc["passed"].clone(), doc["failed"].clone()),
        (false.into(), 1.into())
    );
    let gone = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["subject"] == "library anna")
        .unwrap();
    assert_eq!(gone["level"], "failed", "{doc}");
    assert!(
        gone["fix"]
            .as_str()
            .unwrap()
            .starts_with("set `library[0].path` in "),
        "{doc}"
    );

    // A config that does not load: its one check, still JSON.
    case.setup.set_threshold("2026-13-01");
    let (code, doc) = doctor_json(&case);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(doc["checks"].as_array().unwrap().len(), 1, "{doc}");
    assert_eq!(doc["checks"][0]["subject"], "config", "{doc}");
    assert_eq!(doc["checks"][0]["level"], "failed", "{doc}");
}

#[test]
fn a_wrong_borg_passphrase_fails_and_shows_neither_passphrase() {
    let mut case = Case::new();
    let repo = Repo::init(case.tmp.path());
    case.setup.set_extra(repo.config(""));
    let wrong = format!("not-{}", repo.passphrase());
    std::fs::write(&repo.passphrase_file, &wrong).unwrap();
    let ran = case.doctor();
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    assert_status(&ran, "secret borg.passphrase", "ok");
    let repository = assert_status(&ran, "borg repository", "FAILED");
    assert!(
        repository.contains(&format!(
            "refuses the passphrase from file:{}",
            repo.passphrase_file.display()
        )) && repository.contains("-> fix: put the repository's passphrase in file:"),
        "{repository}"
    );
    for shown in [&ran.out, &ran.err] {
        assert!(
            !shown.contains(repo.passphrase()) && !shown.contains(&wrong),
            "{shown}"
        );
    }
}

#[test]
fn a_missing_repository_fails_with_how_to_create_it() {
    let mut case = Case::new();
    let repo = Repo::init(case.tmp.path());
    case.setup.set_extra(repo.config(""));
    std::fs::remove_dir_all(&repo.location).unwrap();
    let ran = case.doctor();
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    let repository = assert_status(&ran, "borg repository", "FAILED");
    assert!(
        repository.contains(&format!("{} does not exist", repo.location))
            && repository.contains("-> fix: create it: photos-backup init-repo"),
        "{repository}"
    );
}

#[test]
fn a_missing_tool_fails_with_how_to_install_it() {
    let mut case = Case::new();
    let repo = Repo::init(case.tmp.path());
    case.setup
        .set_extra(repo.config("borg = \"/nonexistent/borg\"\n"));
    let ran = case.doctor();
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    let tool = assert_status(&ran, "tool borg", "FAILED");
    assert!(
        tool.contains("/nonexistent/borg (`borg.borg` in ")
            && tool.contains("does not exist -> fix: correct `borg.borg`")
            && tool.contains("sudo apt-get install borgbackup"),
        "{tool}"
    );
    let repository = assert_status(&ran, "borg repository", "FAILED");
    assert!(
        repository.contains("not checked: borg is missing"),
        "{repository}"
    );
}

#[test]
fn a_config_that_does_not_load_is_said_and_nothing_else() {
    let mut case = Case::new();
    case.setup.set_threshold("2026-13-01");
    let ran = case.doctor();
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    let lines: Vec<&str> = ran.out.lines().collect();
    assert_eq!(lines.len(), 2, "{}", ran.out);
    let config = assert_status(&ran, "config", "FAILED");
    assert!(
        config.contains("photos_backup.conf: key `threshold.default`")
            && config.contains("-> fix: correct `threshold.default` in "),
        "{config}"
    );
    assert!(lines[1].starts_with("doctor: 0 ok, 0 warning(s), 1 FAILED"));
}

#[test]
fn the_server_answers_then_is_off_network_which_is_a_warning() {
    let mut server = TestServer::start();
    let repo = Repo::on_server(&server);
    let mut case = Case::new();
    case.setup
        .set_extra(server.config_toml(case.tmp.path()) + &repo.config_on(&server, ""));
    let ran = case.doctor();
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    let over_ssh = assert_status(&ran, "borg repository", "ok");
    assert!(
        over_ssh.contains(&format!("{} opens: 0 archives", repo.location)),
        "{over_ssh}"
    );
    let answers = assert_status(&ran, "server", "ok");
    assert!(
        answers.contains(&format!("127.0.0.1 port {} answers", server.port())),
        "{answers}"
    );
    for tool in ["sshfs", "gocryptfs"] {
        let found = assert_status(&ran, &format!("tool {tool}"), "ok");
        assert!(found.contains(&format!("/{tool} (")), "{found}");
    }
    assert_status(&ran, "secret remote.password", "ok");

    server.stop();
    let ran = case.doctor();
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    let off = assert_status(&ran, "server", "warning");
    assert!(
        off.contains("connection refused")
            && off.contains("off the home network?")
            && off.contains("-> fix: on the home network or VPN, check `remote.host`"),
        "{off}"
    );
    // The repository is on that server: borg is not asked to time out.
    let skipped = assert_status(&ran, "borg repository", "warning");
    assert!(
        skipped.contains("not checked: the server is off network"),
        "{skipped}"
    );
    for shown in [&ran.out, &ran.err] {
        assert!(
            !shown.contains(server.password_text()) && !shown.contains(repo.passphrase()),
            "{shown}"
        );
    }
}

#[test]
fn a_fake_launchctl_says_whether_the_agent_is_loaded() {
    let case = Case::new();
    let calls = case.tmp.path().join("launchctl.calls");
    let answer = case.tmp.path().join("launchctl.answer");
    fake_tool(
        &case.bin(),
        "launchctl",
        &format!(
            "printf '%s\\n' \"$*\" >> '{calls}'\n\
             code=$(cat '{answer}')\n\
             [ \"$code\" = 0 ] && printf '\\tlast exit code = 75: EX_TEMPFAIL\\n'\n\
             [ \"$code\" = 113 ] && echo 'Could not find service' >&2\n\
             exit \"$code\"\n",
            calls = calls.display(),
            answer = answer.display()
        ),
    );
    let uid = uid();

    std::fs::write(&answer, "0").unwrap();
    let ran = case.doctor();
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    let loaded = assert_status(&ran, "launch agent", "ok");
    assert!(
        loaded.ends_with(&format!(
            "org.photos-backup is loaded in gui/{uid} (last exit code 75)"
        )),
        "{loaded}"
    );
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        format!("print gui/{uid}/org.photos-backup\n")
    );

    std::fs::write(&answer, "113").unwrap();
    let ran = case.doctor();
    assert_eq!(ran.code, 0, "not installed is a warning:\n{}", ran.out);
    let missing = assert_status(&ran, "launch agent", "warning");
    assert!(
        missing.contains("org.photos-backup is not installed")
            && missing.contains(&format!(
                "-> fix: photos-backup --config {} install",
                case.setup.root().join("photos_backup.conf").display()
            )),
        "{missing}"
    );

    // A plist that launchd does not have loaded: no backup runs.
    let plist = photos_backup::launchd::plist_path(&case.home(), "org.photos-backup");
    std::fs::create_dir_all(plist.parent().unwrap()).unwrap();
    let agent = photos_backup::launchd::agent::Agent {
        config: case.setup.config().display().to_string(),
        ..photos_backup::launchd::agent::Agent::example()
    };
    std::fs::write(
        &plist,
        photos_backup::launchd::agent::to_xml(&agent).unwrap(),
    )
    .unwrap();
    let ran = case.doctor();
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    let unloaded = assert_status(&ran, "launch agent", "FAILED");
    assert!(
        unloaded.contains("is there, but org.photos-backup is not loaded"),
        "{unloaded}"
    );

    // Loaded, but with another config.
    std::fs::write(&answer, "0").unwrap();
    let other = photos_backup::launchd::agent::Agent::example();
    std::fs::write(
        &plist,
        photos_backup::launchd::agent::to_xml(&other).unwrap(),
    )
    .unwrap();
    let ran = case.doctor();
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    let elsewhere = assert_status(&ran, "launch agent", "warning");
    assert!(
        elsewhere.contains(&format!("runs with {}", other.config)),
        "{elsewhere}"
    );
}

#[test]
fn a_nearly_full_disk_is_a_warning() {
    let case = Case::new();
    fake_tool(
        &case.bin(),
        "df",
        "echo 'Filesystem 1024-blocks Used Available Capacity Mounted on'\n\
         echo '/dev/fake 10000000 9000000 1000000 90% /'\n",
    );
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(case.setup.staging())
        .unwrap();
    let ran = case.doctor();
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    let staging = assert_status(&ran, "folder staging.dir", "warning");
    assert!(
        staging.contains(&format!(
            "{}: writable, only 1.0 GB free -> fix: free space on its disk",
            case.setup.staging().display()
        )),
        "{staging}"
    );
}

#[test]
fn a_staged_photo_others_can_read_fails_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let case = Case::new();
    let day = case.setup.staging().join("anna/2026/09/03");
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(&day)
        .unwrap();
    std::fs::write(day.join("IMG_1.JPG"), b"photo").unwrap();
    std::fs::set_permissions(
        day.join("IMG_1.JPG"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let ran = case.doctor();
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    let privacy = assert_status(&ran, "privacy", "FAILED");
    assert!(
        privacy.contains(&format!(
            "other users can read 1 path of the backup's: {} (644)",
            day.join("IMG_1.JPG").display()
        )) && privacy.contains(&format!(
            "fix: chmod -R go= {}",
            case.setup.staging().display()
        )),
        "{privacy}"
    );
}

#[test]
fn a_folder_that_is_a_file_fails() {
    let case = Case::new();
    std::fs::write(case.setup.staging(), "not a folder").unwrap();
    let ran = case.doctor();
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    let staging = assert_status(&ran, "folder staging.dir", "FAILED");
    assert!(
        staging.contains("it is not a folder -> fix: make `staging.dir`"),
        "{staging}"
    );
}
