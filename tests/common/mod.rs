//! Shared helpers for the integration tests: where the real Photos fixture
//! libraries are and the one policy for a test that cannot run here, the
//! dates and uuids tests give their assets, how to run the built binary, and
//! how to make a private, writable copy of a library to damage on purpose.
//! Each test binary compiles this folder on its own and uses a subset.

#![allow(dead_code)] // each test file uses its own subset

pub mod borg;
pub mod remote;
pub mod setup;
pub mod takeout;
pub mod timeline;
pub mod tmpfs;
pub mod tools;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};

/// The six real libraries: `$PHOTOS_BACKUP_FIXTURES`, else
/// `../shared/fixtures/photos-libraries` relative to the project root.
/// `None` when they are absent, after [`skip`] said so (which fails the
/// test instead in CI or with `PHOTOS_BACKUP_REQUIRE_FIXTURES` set).
pub fn fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("PHOTOS_BACKUP_FIXTURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/photos-libraries"),
        PathBuf::from,
    );
    if dir.join("expected").is_dir() {
        return Some(dir);
    }
    skip(&format!(
        "fixture {} missing (set PHOTOS_BACKUP_FIXTURES)",
        dir.display()
    ));
    None
}

/// The one policy for a test that cannot run here (a fixture missing, not
/// root): outside CI it prints `SKIPPED: <test>: <why>` to stderr and the
/// caller returns; in CI, or with `PHOTOS_BACKUP_REQUIRE_FIXTURES` set, it
/// fails the test, since CI never skips silently.
pub fn skip(why: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let required = in_ci() || std::env::var_os("PHOTOS_BACKUP_REQUIRE_FIXTURES").is_some();
    assert!(!required, "{test}: {why}, and CI runs every test");
    eprintln!("SKIPPED: {test}: {why}");
}

/// Whether this is CI: `CI` set to anything but empty, `0` or `false`, as
/// `scripts/test.sh` reads it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// Noon UTC on the given day.
pub fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

/// Test asset uuid number `n`: upper-case hex in Photos' form, one per `n`.
/// All share the prefix `A0000000-0000-` (so a prefix can match several) and
/// so the folder `A` (Photos files an asset under its uuid's first
/// character).
pub fn uuid(n: u32) -> String {
    format!("A0000000-0000-4000-8000-{n:012}")
}

/// The names of the fixture libraries, without `.photoslibrary`.
pub const LIBRARIES: [&str; 6] = [
    "Test-10.15.7",
    "Test-13.0.0",
    "Test-26.1",
    "Test-Empty-Library-Ventura-13-5",
    "Test-Media-Types-15.7.2",
    "Test-Shared-10.15.1",
];

pub fn library(fixtures: &Path, name: &str) -> PathBuf {
    fixtures.join(format!("{name}.photoslibrary"))
}

/// Runs the built binary with `args`, no config from the environment.
pub fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_photos-backup"))
        .args(args)
        .env_remove("PHOTOS_BACKUP_CONFIG")
        .output()
        .expect("run photos-backup")
}

/// `assets --json --library LIB [extra...]`, parsed; panics with stderr on failure.
pub fn assets_json(library: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "assets".as_ref(),
        "--json".as_ref(),
        "--library".as_ref(),
        library.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let out = run(&args);
    assert!(
        out.status.success(),
        "assets failed on {}: {}",
        library.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("assets --json prints JSON")
}

/// A private, writable copy of fixture library `name` in a new temp dir
/// (keep it alive), or `None` when the fixtures are absent (see [`fixtures`]).
pub fn fixture_copy(name: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    let fixtures = fixtures()?;
    let tmp = tempfile::tempdir().unwrap();
    let lib = copy_library(&library(&fixtures, name), tmp.path());
    Some((tmp, lib))
}

/// Copies a library folder (recursively) into `dest`, returning the copy's path.
pub fn copy_library(src: &Path, dest: &Path) -> PathBuf {
    let target = dest.join(src.file_name().unwrap());
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(src).unwrap();
        let to = target.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
            let mut perms = std::fs::metadata(&to).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&to, perms).unwrap();
        }
    }
    target
}

/// A listing of every file under `root` with size, mtime and content, to
/// prove a command left a library exactly as it found it.
pub fn tree_state(root: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime, Vec<u8>)> {
    let mut out: Vec<_> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let meta = e.metadata().unwrap();
            (
                e.path().to_owned(),
                meta.len(),
                meta.modified().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every asset of a library, trash and unpicked burst frames included.
pub fn all_assets(root: &Path) -> Vec<photos_backup::photos::Asset> {
    photos_backup::photos::Library::open(root)
        .unwrap()
        .assets(&photos_backup::photos::Selection {
            all: true,
            ..photos_backup::photos::Selection::default()
        })
        .unwrap()
}

/// Waits for `child` at most `bound` (a guard against a hang, not a
/// measure): how it ended, or `None` (then it is killed).
pub fn ends_within(child: &mut Child, bound: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + bound;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// `out`, after checking the program succeeded (else its stderr is shown).
pub fn succeeded(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
