//! The borg command lines against the real borg: an archive created from a
//! list of staged paths holds exactly those files with their sizes, a
//! verification catches a file it lacks, a wrong passphrase is an error
//! (never a prompt), and the passphrase never reaches borg's arguments.

use std::path::Path;
use std::time::Duration;

use photos_backup::archive::borg::{self, Exit, Repository};
use photos_backup::process::{CommandLine, CommandRunner, System};
use photos_backup::secrets::Secret;

fn require_borg() {
    assert!(
        Path::new("/usr/bin/borg").exists()
            || std::process::Command::new("borg")
                .arg("--version")
                .output()
                .is_ok(),
        "borg is missing: scripts/test.sh installs it (apt-get install borgbackup)"
    );
}

fn run(cmd: &CommandLine) -> std::process::Output {
    System.run(cmd, Duration::from_secs(120)).unwrap()
}

#[test]
#[allow(clippy::too_many_lines)] // one story: create, list, verify, damage, verify again
fn an_archive_holds_exactly_the_staged_files_it_was_given() {
    require_borg();
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repository {
        location: tmp.path().join("repo").display().to_string(),
        lock_wait: 5,
        rsh: None,
    };
    let pass = Secret::new("borg test passphrase".into());
    let init = CommandLine::new(
        "borg",
        ["init", "--encryption", "repokey", repo.location.as_str()],
    )
    .secret_env("BORG_PASSPHRASE", pass.expose());
    assert!(run(&init).status.success());

    let staging = tmp.path().join("staging");
    let files = [
        ("anna/2026/01/02/IMG 1.HEIC", 1000usize),
        ("anna/2026/01/02/IMG 1.HEIC.xmp", 37),
    ];
    for (path, size) in files {
        let p = staging.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, vec![7u8; size]).unwrap();
    }
    // A file staged later, not part of this archive.
    std::fs::write(staging.join("anna/2026/01/02/later.jpg"), b"later").unwrap();
    let paths: Vec<String> = files.iter().map(|(p, _)| (*p).to_owned()).collect();
    let name = borg::archive_name("photos", "anna", (2026, 1), (2026, 1));
    let create = borg::create(
        Path::new("borg"),
        &repo,
        &pass,
        &name,
        "lz4",
        &staging,
        &paths,
    );
    assert!(!create.args.iter().any(|a| a.contains("passphrase")));
    let out = run(&create);
    assert_eq!(
        Exit::of(out.status.code()),
        Exit::Ok,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let listed = run(&borg::list_archive(
        Path::new("borg"),
        &repo,
        &pass,
        &name,
        false,
    ));
    let items = borg::parse_items(&String::from_utf8_lossy(&listed.stdout)).unwrap();
    let expected: Vec<borg::Expected> = files
        .iter()
        .map(|(p, s)| borg::Expected {
            path: (*p).to_owned(),
            size: *s as u64,
            sha256: None,
        })
        .collect();
    assert!(borg::verify(&expected, &items).passed());
    // With content: borg's SHA-256 of what it archived, against the file's.
    let listed = run(&borg::list_archive(
        Path::new("borg"),
        &repo,
        &pass,
        &name,
        true,
    ));
    let items = borg::parse_items(&String::from_utf8_lossy(&listed.stdout)).unwrap();
    let with_hash = |byte: u8| -> Vec<borg::Expected> {
        files
            .iter()
            .map(|(p, s)| {
                use sha2::Digest;
                borg::Expected {
                    path: (*p).to_owned(),
                    size: *s as u64,
                    sha256: Some(format!("{:x}", sha2::Sha256::digest(vec![byte; *s]))),
                }
            })
            .collect()
    };
    assert!(borg::verify(&with_hash(7), &items).passed());
    assert_eq!(borg::verify(&with_hash(8), &items).wrong_content.len(), 2);
    assert!(
        !items.iter().any(|i| i.path.ends_with("later.jpg")),
        "an unlisted file was archived"
    );
    // Verification fails for a file the archive does not hold.
    let mut more = expected.clone();
    more.push(borg::Expected {
        path: "anna/2026/01/02/later.jpg".into(),
        size: 5,
        sha256: None,
    });
    assert_eq!(
        borg::verify(&more, &items).missing,
        ["anna/2026/01/02/later.jpg"]
    );

    // A wrong passphrase: an error exit, no prompt (stdin is not a terminal).
    let wrong = Secret::new("wrong".into());
    let out = run(&borg::list_archive(
        Path::new("borg"),
        &repo,
        &wrong,
        &name,
        false,
    ));
    assert_eq!(Exit::of(out.status.code()), Exit::Error);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("borg test passphrase"));
}
