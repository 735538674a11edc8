//! `coverage` and `doctor` for a `[[takeout]]` source, through the binary
//! (issue 19): after a run, coverage lists exactly the media a generated
//! set holds without JSON, the JSON that does not parse and the members
//! refused, and proves every content of the set is in the ledger; a
//! content whose staged row is gone is reported MISSING and the exit code
//! says so; a set with a part missing is listed with the part's number;
//! a set whose part is damaged is listed FAILED with why; doctor names an
//! inbox that is not there.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use common::setup::Setup;
use common::takeout::hex;
use photos_backup::takeout::archive::{self, Format, Item};
use synthetic::takeout::{Manifest, Role, TakeoutSpec};

const NAME: &str = "carla-google";

fn setup(inbox: &Path) -> Setup {
    let mut setup = Setup::new();
    setup.set_extra(format!(
        "[[takeout]]\nname = \"{NAME}\"\ninbox = {}\ntime_zone = \"Europe/Berlin\"\n",
        toml::Value::String(inbox.display().to_string())
    ));
    setup
}

/// `coverage --json` at `now`: its exit code and document.
fn coverage_json(setup: &Setup, now: &str) -> (i32, serde_json::Value) {
    let out = setup
        .command(&["coverage", "--json"], &[("PHOTOS_BACKUP_NOW", now)])
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), doc)
}

fn coverage_text(setup: &Setup, now: &str) -> (i32, String) {
    let out = setup
        .command(&["coverage"], &[("PHOTOS_BACKUP_NOW", now)])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// Photos a change to can be predicted: in a year folder, with a JSON of
/// their own, a content held once, no edited copy or moving part.
fn plain_photos(m: &Manifest) -> Vec<usize> {
    let mut copies: BTreeMap<[u8; 32], usize> = BTreeMap::new();
    for member in &m.members {
        *copies.entry(member.blake3).or_default() += 1;
    }
    (0..m.members.len())
        .filter(|&i| {
            let member = &m.members[i];
            let companions = m
                .members
                .iter()
                .any(|o| matches!(&o.role, Role::Media { companion_of: Some(c), .. } if *c == i));
            matches!(
                &member.role,
                Role::Media {
                    json: Some(_),
                    companion_of: None,
                    ..
                }
            ) && member.path.contains("/Photos from ")
                && copies[&member.blake3] == 1
                && !companions
        })
        .collect()
}

/// Writes `from` (a generated zip part) to `to` without the members
/// `drop`, with `garble`'s bytes replaced by text that is not JSON, and
/// with `extra` members (name, bytes) at the end.
fn rewrite(from: &Path, to: &Path, drop: &[&str], garble: &str, extra: &[(&str, &[u8])]) {
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    archive::read_members(from, Format::Zip, &mut |item| {
        if let Item::File(mut f) = item {
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes)?;
            members.push((f.path.as_str().to_owned(), bytes));
        }
        Ok(())
    })
    .unwrap();
    let mut zip = zip::ZipWriter::new(fs::File::create(to).unwrap());
    let options: zip::write::SimpleFileOptions =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (path, bytes) in &members {
        if drop.contains(&path.as_str()) {
            continue;
        }
        zip.start_file(path.as_str(), options).unwrap();
        if path == garble {
            zip.write_all(b"{\"title\": not json").unwrap();
        } else {
            zip.write_all(bytes).unwrap();
        }
    }
    for (path, bytes) in extra {
        zip.start_file(*path, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn coverage_lists_what_a_set_holds_and_proves_every_content_is_in_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("generated");
    let inbox = dir.path().join("inbox");
    fs::create_dir(&generated).unwrap();
    fs::create_dir(&inbox).unwrap();
    let manifest = TakeoutSpec::new(21, 30).write(&generated).unwrap();
    assert_eq!(manifest.parts.len(), 1);
    let plain = plain_photos(&manifest);
    assert!(plain.len() >= 6, "{plain:?}");
    let json_of = |i: usize| match &manifest.members[i].role {
        Role::Media { json: Some(j), .. } => manifest.members[*j].path.clone(),
        _ => unreachable!(),
    };
    // Four photos lose their JSON, one JSON does not parse, one photo is
    // lost while its JSON stays, one member is refused (it would land
    // outside the folder). Takeout's own index page
    // (`archive_browser.html`) is no photo: neither staged nor listed.
    let without: Vec<String> = plain[..4]
        .iter()
        .map(|&i| manifest.members[i].path.clone())
        .collect();
    let dropped: Vec<String> = plain[..4].iter().map(|&i| json_of(i)).collect();
    let garbled = json_of(plain[4]);
    let lost = manifest.members[plain[5]].path.clone();
    let part = manifest.parts[0]
        .path
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    let left_out: Vec<&str> = dropped.iter().chain([&lost]).map(String::as_str).collect();
    rewrite(
        &manifest.parts[0].path,
        &inbox.join(part),
        &left_out,
        &garbled,
        &[("Takeout/../../evil.jpg", b"\xFF\xD8\xFF\xE0 not ours")],
    );
    let setup = setup(&inbox);
    setup.run_at("2026-03-01T10:00:00Z");
    let out = setup.run_at("2026-03-01T10:11:00Z");
    assert!(out.contains("staged"), "{out}");
    status_shows_the_source(&setup);

    let (code, doc) = coverage_json(&setup, "2026-03-01T12:00:00Z");
    assert_eq!(code, 0, "{doc:#}");
    let t = &doc["takeouts"][0];
    assert_eq!(t["source"], NAME);
    let set = &t["sets"][0];
    assert_eq!(set["state"]["state"], "read", "{set:#}");
    let read = &set["read"];
    let lists = &read["lists"];
    let listed: BTreeSet<String> = strings(&lists["without_json"]["names"])
        .into_iter()
        .collect();
    assert_eq!(listed, without.iter().cloned().collect(), "{lists:#}");
    assert_eq!(lists["without_json"]["count"], without.len());
    let bad = strings(&lists["bad_json"]["names"]);
    assert_eq!(bad.len(), 1, "{lists:#}");
    assert!(bad[0].contains(&garbled), "{bad:?}");
    assert_eq!(
        strings(&lists["json_without_media"]["names"]),
        [json_of(plain[5])],
        "{lists:#}"
    );
    let refused = strings(&lists["refused"]["names"]);
    assert_eq!(refused.len(), 1, "{lists:#}");
    assert!(
        refused[0].starts_with(&format!("{part}: ")) && refused[0].contains("evil.jpg"),
        "{refused:?}"
    );
    // Every content of the set, and nothing else, accounted for.
    let hashes: BTreeSet<String> = manifest
        .members
        .iter()
        .filter(|m| matches!(m.role, Role::Media { .. }) && m.path != lost)
        .map(|m| hex(&m.blake3))
        .collect();
    let distinct = hashes.len() as u64;
    assert_eq!(read["contents"], distinct);
    assert_eq!(t["contents"], distinct);
    assert_eq!(
        read["staged"].as_u64().unwrap() + read["mirrored"].as_u64().unwrap(),
        distinct,
        "{read:#}"
    );
    assert_eq!(strings(&read["missing"]), Vec::<String>::new());
    assert_eq!(t["covered"], true);

    // The text: counts always, the first names with how many more.
    let (code, text) = coverage_text(&setup, "2026-03-01T12:00:00Z");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!("{} media without JSON", without.len())),
        "{text}"
    );
    assert!(
        text.contains(&format!("and {} more", without.len() - 3)),
        "{text}"
    );
    assert!(text.contains("1 members refused"), "{text}");
    assert!(text.contains(&format!("{NAME} by year")), "{text}");

    content_gone_from_the_ledger(&setup, &hashes);
}

/// The run that staged a set computed the figures again: `status` shows
/// the source like a library, with its chart.
fn status_shows_the_source(setup: &Setup) {
    let status = setup
        .command(
            &["status", "--chart"],
            &[("PHOTOS_BACKUP_NOW", "2026-03-01T10:12:00Z")],
        )
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.contains(&format!("Coverage:     {NAME}: 0.0% of "))
            && status.contains(&format!("{NAME} by year:")),
        "{status}"
    );
}

/// A content whose row left the ledger: MISSING, and the exit code says so.
fn content_gone_from_the_ledger(setup: &Setup, hashes: &BTreeSet<String>) {
    let gone = hashes.iter().next().unwrap().clone();
    let conn = rusqlite::Connection::open(setup.state().join("ledger.sqlite")).unwrap();
    let removed = conn
        .execute(
            "DELETE FROM staged_file WHERE library = ?1 AND uuid = ?2",
            rusqlite::params![NAME, gone],
        )
        .unwrap();
    assert_eq!(removed, 2, "the original and its sidecar");
    drop(conn);
    let (code, doc) = coverage_json(setup, "2026-03-01T12:05:00Z");
    assert_ne!(code, 0, "{doc:#}");
    let t = &doc["takeouts"][0];
    assert_eq!(
        strings(&t["sets"][0]["read"]["missing"]),
        std::slice::from_ref(&gone)
    );
    assert_eq!(t["missing"], 1);
    assert_eq!(t["covered"], false);
    let (code, text) = coverage_text(setup, "2026-03-01T12:05:00Z");
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("MISSING") && text.contains(&gone), "{text}");
}

#[test]
fn a_set_with_a_part_missing_is_listed_with_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    fs::create_dir(&inbox).unwrap();
    let mut spec = TakeoutSpec::new(3, 30);
    spec.part_bytes = 40_000;
    let manifest = spec.write(&inbox).unwrap();
    assert!(manifest.parts.len() >= 3, "{}", manifest.parts.len());
    fs::remove_file(&manifest.parts[1].path).unwrap();
    let mut setup = setup(&inbox);
    // `max_pending_days` as for a library's pending originals (`[borg]`
    // is never reached by `coverage`).
    setup.push_extra(
        "[borg]\nrepository = \"/nonexistent/repo\"\npassphrase = \"env:NONE\"\n\
         max_pending_days = 30\n",
    );
    setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-03-01T10:00:00Z")]);
    // Within the days: on its way, listed.
    let (code, doc) = coverage_json(&setup, "2026-03-01T10:20:00Z");
    let set = &doc["takeouts"][0]["sets"][0];
    assert_eq!(set["state"]["state"], "parts_missing", "{set:#}");
    assert_eq!(set["state"]["numbers"], serde_json::json!([2]));
    assert_eq!(set["state"]["overdue"], false);
    assert_eq!(code, 0, "{doc:#}");
    let (_, text) = coverage_text(&setup, "2026-03-01T10:20:00Z");
    assert!(text.contains("part 2 is missing"), "{text}");
    // Past them: not covered.
    let (code, doc) = coverage_json(&setup, "2026-04-01T10:20:00Z");
    assert_eq!(doc["takeouts"][0]["sets"][0]["state"]["overdue"], true);
    assert_eq!(code, 1, "{doc:#}");
    let (_, text) = coverage_text(&setup, "2026-04-01T10:20:00Z");
    assert!(
        text.contains("part 2 is missing") && text.contains("longer than [borg] max_pending_days"),
        "{text}"
    );
}

#[test]
fn doctor_names_an_inbox_that_is_not_there_and_passes_one_that_is() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("Google Drive").join("Takeout");
    let setup = setup(&inbox);
    let subject = format!("takeout {NAME}");
    let doctor = |json: bool| {
        let args: &[&str] = if json {
            &["doctor", "--json"]
        } else {
            &["doctor"]
        };
        let out = setup.command(args, &[]).output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = doctor(false);
    assert_eq!(code, 1, "{text}");
    let line = text
        .lines()
        .find(|l| l.contains(&format!("{subject}:")))
        .unwrap_or_else(|| panic!("no {subject} line in\n{text}"));
    assert!(
        line.starts_with("FAILED")
            && line.contains(&format!("the inbox {} does not exist", inbox.display())),
        "{line}"
    );
    let (code, json) = doctor(true);
    assert_eq!(code, 1, "{json}");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let check = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["subject"] == subject.as_str())
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(check["level"], "failed");

    // There, with a set not read yet: ok, and it says how large.
    fs::create_dir_all(&inbox).unwrap();
    let manifest = TakeoutSpec::new(4, 5).write(&inbox).unwrap();
    let bytes = fs::metadata(&manifest.parts[0].path).unwrap().len();
    let (_, text) = doctor(false);
    let line = text
        .lines()
        .find(|l| l.contains(&format!("{subject}:")))
        .unwrap_or_else(|| panic!("no {subject} line in\n{text}"));
    assert!(line.starts_with("ok"), "{line}");
    assert!(
        line.contains("1 Takeout set (largest not read yet: takeout-20240701T221728Z"),
        "{line} ({bytes} bytes)"
    );
}

#[test]
fn a_set_whose_part_is_damaged_is_listed_failed_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    fs::create_dir(&inbox).unwrap();
    let mut spec = TakeoutSpec::new(9, 20);
    spec.part_bytes = 40_000;
    spec.truncate = Some((1, 0.5));
    let manifest = spec.write(&inbox).unwrap();
    assert!(manifest.parts[1].truncated);
    let setup = setup(&inbox);
    setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-03-01T10:00:00Z")]);
    let ran = setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", "2026-03-01T10:11:00Z")]);
    assert_ne!(ran.code, 0, "{}", ran.out);
    // Named alone, as `--library` names a library.
    let out = setup
        .command(
            &["coverage", "--json", "--library", NAME],
            &[("PHOTOS_BACKUP_NOW", "2026-03-01T10:20:00Z")],
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["libraries"], serde_json::json!([]));
    let t = &doc["takeouts"][0];
    let state = &t["sets"][0]["state"];
    let part = manifest.parts[1]
        .path
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(state["state"], "failed", "{t:#}");
    assert!(state["why"].as_str().unwrap().contains(part), "{state}");
    assert_eq!(
        t["not_covered"],
        serde_json::json!([{"reason": "read_failed", "count": 1}])
    );
    let (code, text) = coverage_text(&setup, "2026-03-01T10:20:00Z");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAILED: ") && text.contains(part), "{text}");
}
