//! `status --check` as a monitor runs it, through the real binary: exit 0
//! after a good run, 1 with the ATTENTION lines after a failed one (and
//! before any run), and `status.json`'s verdict saying the same thing.

mod common;

use common::setup::Setup;
use common::timeline::one_photo;

/// `status` with `args` at the simulated time `now`: exit code and stdout.
fn status(setup: &Setup, args: &[&str], now: &str) -> (i32, String) {
    let out = setup
        .command(
            &[&["status"][..], args].concat(),
            &[("PHOTOS_BACKUP_NOW", now)],
        )
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The `verdict` of `status --json` and of the file as the run wrote it.
fn verdicts(setup: &Setup, now: &str) -> (serde_json::Value, serde_json::Value) {
    let (code, json) = status(setup, &["--json"], now);
    assert_eq!(code, 0, "{json}");
    let shown: serde_json::Value = serde_json::from_str(&json).unwrap();
    let file = std::fs::read_to_string(setup.state().join("status.json")).unwrap();
    let file: serde_json::Value = serde_json::from_str(&file).unwrap();
    (shown["verdict"].clone(), file["verdict"].clone())
}

#[test]
fn check_exits_by_the_attention_lines_and_the_json_verdict_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let (lib, setup) = one_photo(tmp.path(), "Nia");

    // No run yet: that needs attention.
    let (code, out) = status(&setup, &["--check"], "2026-09-20T10:00:00Z");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("ATTENTION: no run has finished yet: ")
            && out.contains("status.json does not exist"),
        "{out}"
    );

    // A good run: healthy, in the exit code and in the file.
    setup.run_at("2026-09-20T10:00:00Z");
    let (code, out) = status(&setup, &["--check"], "2026-09-20T10:05:00Z");
    assert_eq!((code, out.as_str()), (0, "healthy\n"));
    let (shown, file) = verdicts(&setup, "2026-09-20T10:05:00Z");
    assert_eq!(shown["healthy"], true, "{shown}");
    assert_eq!(shown["attention"], serde_json::json!([]));
    assert_eq!(shown["at"], "2026-09-20T10:05:00Z");
    assert_eq!(file["healthy"], true, "{file}");

    // A day later without a run: stale, by the same rule as `status`.
    let (code, out) = status(&setup, &["--check"], "2026-09-21T10:00:00Z");
    assert_eq!(code, 1, "{out}");
    assert_eq!(out, "ATTENTION: no successful run for more than a day\n");

    // The library's database is damaged: the run fails, and says so.
    std::fs::write(lib.path.join("database/Photos.sqlite"), b"not a database").unwrap();
    let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-09-20T11:00:00Z")]);
    assert_eq!(ran.code, 1, "{}{}", ran.out, ran.err);
    let (code, out) = status(&setup, &["--check"], "2026-09-20T11:05:00Z");
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out
        .lines()
        .map(|l| {
            l.strip_prefix("ATTENTION: ")
                .unwrap_or_else(|| panic!("{out}"))
        })
        .collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("the last run failed: nia: "),
        "{out}"
    );
    // The verdict, in the file and as shown now, is those lines.
    let (shown, file) = verdicts(&setup, "2026-09-20T11:05:00Z");
    assert_eq!(shown["healthy"], false, "{shown}");
    assert_eq!(shown["attention"], serde_json::json!(lines));
    assert_eq!(file["healthy"], false, "{file}");
    assert_eq!(file["attention"], serde_json::json!(lines));
    assert_eq!(file["at"], "2026-09-20T11:00:00Z");
    // The text for people shows the same line.
    let (code, text) = status(&setup, &[], "2026-09-20T11:05:00Z");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!("ATTENTION: {}\n", lines[0])),
        "{text}"
    );
}
