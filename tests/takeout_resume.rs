//! A Takeout set read across runs (issue 19): a set too large for one run
//! is read part by part, member by member, each run going on from the last
//! checkpoint; a run killed at any point of it (after a checkpoint, in the
//! middle of a member's copy, after a holding file is made and before its
//! checkpoint, after staging moves and before the ledger commit) loses
//! nothing and duplicates nothing: the runs after it end exactly where an
//! uninterrupted run ends. A read that stalls is reported within the bound
//! and goes on next run; too little free space stops the reading with a
//! warning; a part replaced mid-way starts over; a second export whose
//! contents are all staged writes no holding file.
//!
//! The run's deadline, the stall bound and a full disk are stood in for by the test
//! hooks of `commands::run::takeout` (builds with the failpoints only), so
//! no test waits for a clock.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use common::setup::Setup;
use synthetic::takeout::{ArchiveFormat, Manifest, Role, TakeoutSpec};

const NAME: &str = "carla-google";
const HOOKS: &str = "PHOTOS_BACKUP_TAKEOUT_HOOKS";
/// The part's parts are first seen at `SIGHTED`, settled at `SETTLED`.
const SIGHTED: &str = "2026-03-01T10:00:00Z";
const SETTLED: &str = "2026-03-01T10:11:00Z";

fn setup(inbox: &Path) -> Setup {
    let mut setup = Setup::new();
    setup.set_extra(format!(
        "[[takeout]]\nname = \"{NAME}\"\ninbox = {}\ntime_zone = \"Europe/Berlin\"\n",
        toml::Value::String(inbox.display().to_string())
    ));
    setup
}

/// A set of several zip parts in a new inbox under `dir`.
fn export(dir: &Path, seed: u64) -> (std::path::PathBuf, Manifest) {
    export_as(dir, seed, ArchiveFormat::Zip)
}

fn export_as(dir: &Path, seed: u64, format: ArchiveFormat) -> (std::path::PathBuf, Manifest) {
    let inbox = dir.join("inbox");
    fs::create_dir_all(&inbox).unwrap();
    let mut spec = TakeoutSpec::new(seed, 30);
    spec.part_bytes = 60_000;
    spec.format = format;
    let manifest = spec.write(&inbox).unwrap();
    assert!(manifest.parts.len() > 2, "a set of several parts");
    (inbox, manifest)
}

/// Every staged file of the source: path → bytes (originals and XMP).
fn staged_tree(setup: &Setup) -> BTreeMap<String, Vec<u8>> {
    setup
        .staged(NAME)
        .into_values()
        .map(|(path, _, _)| {
            let bytes = fs::read(setup.staging().join(&path)).unwrap();
            (path, bytes)
        })
        .collect()
}

/// Distinct media contents of the manifest, by hash.
fn content_count(manifest: &Manifest) -> usize {
    let mut hashes: Vec<_> = manifest
        .members
        .iter()
        .filter(|m| matches!(m.role, Role::Media { .. }))
        .map(|m| m.blake3)
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes.len()
}

/// What an uninterrupted run stages of the set `seed`.
fn reference(seed: u64) -> BTreeMap<String, Vec<u8>> {
    reference_as(seed, ArchiveFormat::Zip)
}

fn reference_as(seed: u64, format: ArchiveFormat) -> BTreeMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let (inbox, manifest) = export_as(dir.path(), seed, format);
    let setup = setup(&inbox);
    setup.run_at(SIGHTED);
    let out = setup.run_at(SETTLED);
    assert!(out.contains("staged"), "{out}");
    let tree = staged_tree(&setup);
    assert_eq!(
        tree.len(),
        2 * content_count(&manifest),
        "each content once, with its XMP"
    );
    tree
}

/// Nothing of the reading is left: no holding file, no member row.
fn assert_nothing_left(setup: &Setup, manifest: &Manifest) {
    let holding = setup.staging().join(NAME).join(".holding");
    let left: Vec<_> = fs::read_dir(&holding)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in holding: {left:?}");
    let ledger = setup.ledger();
    assert!(ledger.takeout_held_hashes(NAME).unwrap().is_empty());
    for part in &manifest.parts {
        let name = part.path.file_name().unwrap().to_str().unwrap();
        assert!(
            ledger.takeout_members(NAME, name).unwrap().is_empty(),
            "{name}"
        );
    }
}

/// Runs at `SETTLED` with `env` until one stages the set (bounded);
/// returns every run's output.
fn runs_until_staged(setup: &Setup, env: &[(&str, &str)]) -> Vec<String> {
    let mut outs = Vec::new();
    for _ in 0..200 {
        let mut all = vec![("PHOTOS_BACKUP_NOW", SETTLED)];
        all.extend_from_slice(env);
        let ran = setup.run_with(&[], &all);
        assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
        let staged = ran.out.contains("staged ");
        outs.push(ran.out);
        if staged {
            return outs;
        }
    }
    panic!("never staged:\n{}", outs.join("\n"));
}

#[test]
fn a_set_read_across_runs_stages_what_one_run_stages() {
    let want = reference(21);
    let dir = tempfile::tempdir().unwrap();
    let (inbox, manifest) = export(dir.path(), 21);
    let setup = setup(&inbox);
    setup.run_at(SIGHTED);
    // A dry run says what a run would do, and writes nothing.
    let ledger_file = setup.state().join("ledger.sqlite");
    let before = fs::read(&ledger_file).unwrap();
    let ran = setup.run_with(&["--dry-run"], &[("PHOTOS_BACKUP_NOW", SETTLED)]);
    assert!(
        ran.out
            .contains(&format!("would read {} parts", manifest.parts.len())),
        "{}",
        ran.out
    );
    assert_eq!(
        fs::read(&ledger_file).unwrap(),
        before,
        "the dry run wrote nothing"
    );

    let outs = runs_until_staged(&setup, &[(HOOKS, "members_per_run=7,checkpoint_members=3")]);
    assert!(outs.len() > manifest.parts.len(), "{} runs", outs.len());
    assert!(
        outs[0].contains(&format!("part 1 of {}", manifest.parts.len()))
            && outs[0].contains("goes on next run"),
        "{}",
        outs[0]
    );
    assert!(outs.iter().any(|o| o.contains("part 2 of")), "{outs:?}");
    assert_eq!(staged_tree(&setup), want);
    assert_nothing_left(&setup, &manifest);
    // Done: the next run reads nothing.
    let out = setup.run_at(SETTLED);
    assert!(out.contains("takeout: nothing new"), "{out}");
    let ran = setup.run_with(&["--dry-run"], &[("PHOTOS_BACKUP_NOW", SETTLED)]);
    assert!(ran.out.contains(": done"), "{}", ran.out);
}

#[test]
fn a_tgz_set_read_across_runs_streams_past_what_was_read() {
    let want = reference_as(27, ArchiveFormat::Tgz);
    let dir = tempfile::tempdir().unwrap();
    let (inbox, manifest) = export_as(dir.path(), 27, ArchiveFormat::Tgz);
    let setup = setup(&inbox);
    setup.run_at(SIGHTED);
    let outs = runs_until_staged(&setup, &[(HOOKS, "members_per_run=5,checkpoint_members=2")]);
    assert!(outs.len() > manifest.parts.len(), "{} runs", outs.len());
    assert_eq!(staged_tree(&setup), want);
    assert_nothing_left(&setup, &manifest);
}

/// Spawns a run at `SETTLED` with `hooks` that pauses at `point`, and
/// kills it there (SIGKILL).
fn kill_at(setup: &Setup, point: &str, hooks: &str) {
    let mut child = setup.spawn_with(&[
        ("PHOTOS_BACKUP_NOW", SETTLED),
        (photos_backup::failpoint::VAR, point),
        (HOOKS, hooks),
    ]);
    setup.wait_for_output(
        &mut child,
        &format!("paused at {point}"),
        Duration::from_secs(120),
    );
    child.kill().unwrap();
    let _ = child.wait();
}

fn killed_then_resumed(point: &str, hooks: &str) {
    let want = reference(22);
    let dir = tempfile::tempdir().unwrap();
    let (inbox, manifest) = export(dir.path(), 22);
    let setup = setup(&inbox);
    setup.run_at(SIGHTED);
    kill_at(&setup, point, hooks);
    runs_until_staged(&setup, &[]);
    assert_eq!(staged_tree(&setup), want, "killed at {point}");
    // A run after: nothing new, and nothing held.
    let out = setup.run_at(SETTLED);
    assert!(out.contains("takeout: nothing new"), "{out}");
    assert_nothing_left(&setup, &manifest);
}

#[test]
fn killed_inside_a_part_after_a_checkpoint() {
    killed_then_resumed("takeout-checkpointed", "checkpoint_members=4");
}

#[test]
fn killed_in_the_middle_of_a_members_copy() {
    killed_then_resumed("takeout-copying", "");
}

#[test]
fn killed_after_a_holding_file_before_its_checkpoint() {
    killed_then_resumed("takeout-held", "");
}

#[test]
fn killed_after_staging_moves_before_the_ledger_commit() {
    killed_then_resumed("takeout-staged-moved", "");
}

#[test]
fn a_stalled_read_fails_within_the_bound_and_goes_on_next_run() {
    let want = reference(23);
    let dir = tempfile::tempdir().unwrap();
    let (inbox, manifest) = export(dir.path(), 23);
    let setup = setup(&inbox);
    setup.run_at(SIGHTED);
    // The reading blocks forever in its first member (as a file Drive
    // never downloads); the run ends within the bound, naming it.
    let ran = setup.run_with(
        &[],
        &[
            ("PHOTOS_BACKUP_NOW", SETTLED),
            (photos_backup::failpoint::VAR, "takeout-member-read"),
            (HOOKS, "stall_seconds=2"),
        ],
    );
    assert_ne!(ran.code, 0, "{}", ran.out);
    let first = manifest.parts[0]
        .path
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        ran.out
            .contains(&format!("reading part {first} stalled in member"))
            && ran.out.contains("still being downloaded by Google Drive"),
        "{}\n{}",
        ran.out,
        ran.err
    );
    runs_until_staged(&setup, &[]);
    assert_eq!(staged_tree(&setup), want);
    assert_nothing_left(&setup, &manifest);
}

#[test]
fn a_part_replaced_mid_way_starts_over() {
    let want = reference(25);
    let dir = tempfile::tempdir().unwrap();
    let (inbox, manifest) = export(dir.path(), 24);
    let setup = setup(&inbox);
    setup.run_at(SIGHTED);
    let out = setup.run_with(
        &[],
        &[
            ("PHOTOS_BACKUP_NOW", SETTLED),
            (HOOKS, "members_per_run=5,checkpoint_members=2"),
        ],
    );
    assert!(out.out.contains("goes on next run"), "{}", out.out);
    let first = manifest.parts[0]
        .path
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    assert!(!setup
        .ledger()
        .takeout_members(NAME, first)
        .unwrap()
        .is_empty());
    // Another download under the same names (same stamp, other photos).
    let other = dir.path().join("other");
    let (other_inbox, replaced) = export(&other, 25);
    for (theirs, ours) in replaced.parts.iter().zip(&manifest.parts) {
        fs::copy(&theirs.path, &ours.path).unwrap();
    }
    for extra in replaced.parts.iter().skip(manifest.parts.len()) {
        fs::copy(&extra.path, inbox.join(extra.path.file_name().unwrap())).unwrap();
    }
    for gone in manifest.parts.iter().skip(replaced.parts.len()) {
        fs::remove_file(&gone.path).unwrap();
    }
    drop(other_inbox);
    // Seen changed: its rows go at once, and it settles again.
    let out = setup.run_at("2026-03-01T10:20:00Z");
    assert!(out.contains("waiting for its parts to settle"), "{out}");
    assert!(setup
        .ledger()
        .takeout_members(NAME, first)
        .unwrap()
        .is_empty());
    let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-03-01T10:31:00Z")]);
    assert!(ran.out.contains("staged "), "{}", ran.out);
    assert_eq!(staged_tree(&setup), want);
    assert_nothing_left(&setup, &replaced);
}

#[test]
fn a_second_export_of_known_contents_writes_no_holding_file() {
    let dir = tempfile::tempdir().unwrap();
    let (inbox, _) = export(dir.path(), 26);
    let setup = setup(&inbox);
    setup.run_at(SIGHTED);
    setup.run_at(SETTLED);
    let staged = staged_tree(&setup);
    // The next scheduled export: the same library again.
    let mut again = TakeoutSpec::new(26, 30);
    again.part_bytes = 60_000;
    again.stamp = "20240901T221728Z".into();
    let again = again.write(&inbox).unwrap();
    setup.run_at("2026-05-01T10:00:00Z");
    // A holding file made would pause the run there: it ends instead.
    let mut child = setup.spawn_with(&[
        ("PHOTOS_BACKUP_NOW", "2026-05-01T10:11:00Z"),
        (photos_backup::failpoint::VAR, "takeout-held"),
    ]);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the run paused:\n{}", setup.spawned_output());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = setup.spawned_output();
    assert!(status.success(), "{out}");
    assert!(!out.contains("paused at"), "{out}");
    let ledger = setup.ledger();
    for part in &again.parts {
        let name = part.path.file_name().unwrap().to_str().unwrap();
        let state = ledger.takeout_part(NAME, name).unwrap().unwrap();
        assert_eq!(state.outcome.as_deref(), Some("ok"), "{name} read");
    }
    assert_eq!(staged_tree(&setup), staged);
    assert_nothing_left(&setup, &again);
}

#[test]
fn too_little_free_space_stops_the_reading_with_a_warning_and_it_goes_on() {
    let want = reference(28);
    let dir = tempfile::tempdir().unwrap();
    let (inbox, manifest) = export(dir.path(), 28);
    let setup = setup(&inbox);
    setup.run_at(SIGHTED);
    // More free space asked for than any disk has: stopped before the
    // first media member is copied, with what is needed and where.
    let ran = setup.run_with(
        &[],
        &[
            ("PHOTOS_BACKUP_NOW", SETTLED),
            (HOOKS, "free_margin_bytes=9000000000000000000"),
        ],
    );
    assert_eq!(ran.code, 0, "a warning, not a failure: {}", ran.out);
    let holding = setup.staging().join(NAME).join(".holding");
    assert!(
        ran.out.contains("WARNING: reading stopped in part 1 of")
            && ran.out.contains(&holding.display().to_string())
            && ran.out.contains("goes on next run"),
        "{}",
        ran.out
    );
    assert!(setup.staged(NAME).is_empty());
    runs_until_staged(&setup, &[]);
    assert_eq!(staged_tree(&setup), want);
    assert_nothing_left(&setup, &manifest);
}
