//! A `[[takeout]]` source through the real binary (issue 19): generated
//! Takeout sets in an inbox are staged completely and exactly (every
//! content once, byte for byte, in its day folder, with an XMP sidecar from
//! its JSON), a later scheduled export stages only what is new, a cut part
//! fails the run naming it and stages nothing of its set until it is
//! replaced (what was read of the set well is kept meanwhile), a run with nothing new reads no part, and the inbox is never
//! changed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use common::setup::{Ran, Setup};
use common::takeout::{contents, day_folder, hex};
use synthetic::takeout::{ArchiveFormat, Manifest, Role, TakeoutSpec};

const NAME: &str = "carla-google";
const ZONE: &str = "Europe/Berlin";

fn setup(inbox: &Path) -> Setup {
    let mut setup = Setup::new();
    setup.set_extra(format!(
        "[[takeout]]\nname = \"{NAME}\"\ninbox = {}\ntime_zone = \"{ZONE}\"\n",
        toml::Value::String(inbox.display().to_string())
    ));
    setup
}

/// The staged originals: content hash → path.
fn originals(setup: &Setup) -> BTreeMap<String, String> {
    setup
        .staged(NAME)
        .into_iter()
        .filter(|((_, role), _)| role == "original")
        .map(|((uuid, _), (path, _, _))| (uuid, path))
        .collect()
}

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Every content of `manifest` is staged once, byte for byte, in the day
/// folder of its JSON's taken time, and its XMP holds the JSON's fields.
fn assert_staged_exactly(setup: &Setup, manifest: &Manifest) {
    let staged = originals(setup);
    let staging = setup.staging();
    for (hash, members) in contents(manifest) {
        let path = staged
            .get(&hash)
            .unwrap_or_else(|| panic!("{} not staged", manifest.members[members[0]].path));
        let bytes = fs::read(staging.join(path)).unwrap();
        assert_eq!(blake3::hash(&bytes).to_hex().to_string(), hash, "{path}");
        let xmp = fs::read_to_string(staging.join(format!("{path}.xmp"))).unwrap();
        assert!(xmp.contains(&hash), "{path}: the XMP names the content");
        let Role::Media { expected, .. } = &manifest.members[members[0]].role else {
            continue;
        };
        assert!(
            path.starts_with(&day_folder(NAME, ZONE, expected.taken)),
            "{path}: taken at {}",
            expected.taken
        );
        for person in &expected.people {
            assert!(
                xmp.contains(&xml_text(person)),
                "{path}: {person} in\n{xmp}"
            );
        }
        if !expected.description.is_empty() {
            assert!(
                xmp.contains(&xml_text(&expected.description)),
                "{path}: description in\n{xmp}"
            );
        }
        for m in &members {
            if let Role::Media { expected, .. } = &manifest.members[*m].role {
                if let Some(album) = &expected.album {
                    assert!(xmp.contains(&xml_text(album)), "{path}: album {album}");
                }
            }
        }
    }
}

/// Each part's `processed_at` in the ledger.
fn processed(setup: &Setup, manifest: &Manifest) -> Vec<Option<chrono::DateTime<chrono::Utc>>> {
    let ledger = setup.ledger();
    manifest
        .parts
        .iter()
        .map(|p| {
            let name = p.path.file_name().unwrap().to_str().unwrap();
            ledger
                .takeout_part(NAME, name)
                .unwrap()
                .and_then(|s| s.processed_at)
        })
        .collect()
}

fn run_at(setup: &Setup, now: &str) -> Ran {
    setup.run_with(&[], &[("PHOTOS_BACKUP_NOW", now)])
}

#[test]
fn takeouts_are_staged_once_exactly_and_a_cut_part_stages_nothing_until_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    fs::create_dir(&inbox).unwrap();
    let mut first = TakeoutSpec::new(7, 40);
    first.part_bytes = 60_000;
    let first = first.write(&inbox).unwrap();
    assert!(first.parts.len() > 1, "a set of several parts");
    let setup = setup(&inbox);
    let before = common::tree_state(&inbox);

    // Seen once: the parts may still be arriving.
    let out = setup.run_at("2026-03-01T10:00:00Z");
    assert!(out.contains("waiting for its parts to settle"), "{out}");
    assert!(originals(&setup).is_empty());
    let out = setup.run_at("2026-03-01T10:11:00Z");
    assert!(out.contains("staged"), "{out}");
    assert_staged_exactly(&setup, &first);
    let distinct = contents(&first).len();
    assert_eq!(originals(&setup).len(), distinct, "each content once");
    let copies = first
        .members
        .iter()
        .filter(|m| matches!(m.role, Role::Media { .. }))
        .count();
    assert!(copies > distinct, "the set holds duplicates to drop");

    // Nothing new: no part is read again.
    let read = processed(&setup, &first);
    let out = setup.run_at("2026-03-01T10:30:00Z");
    assert!(out.contains("takeout: nothing new"), "{out}");
    assert_eq!(processed(&setup, &first), read);

    second_export(&setup, &inbox, &first);
    cut_part(&setup, dir.path(), &inbox);

    // The inbox as the exports left it, replaced part aside.
    let now = common::tree_state(&inbox);
    let unchanged: Vec<_> = now
        .iter()
        .filter(|(p, ..)| before.iter().any(|b| &b.0 == p))
        .cloned()
        .collect();
    assert_eq!(unchanged, before, "the inbox is only read");
}

/// The next scheduled export holds everything again and 5 new photos:
/// exactly what is new is staged, the rest left alone.
fn second_export(setup: &Setup, inbox: &Path, first: &Manifest) {
    // The next scheduled export holds everything again, and 5 new photos.
    let mut second = TakeoutSpec::new(7, 45);
    second.part_bytes = 60_000;
    second.stamp = "20240901T221728Z".into();
    let second = second.write(inbox).unwrap();
    let old: BTreeSet<String> = contents(first).into_keys().collect();
    let new: BTreeSet<String> = contents(&second)
        .into_keys()
        .filter(|h| !old.contains(h))
        .collect();
    // Five photos with their JSON, and the companions some have (an
    // edited copy, the video of a motion photo) with none of their own.
    let second_contents = contents(&second);
    let photos = new
        .iter()
        .filter(|h| {
            second_contents[*h]
                .iter()
                .any(|&m| matches!(&second.members[m].role, Role::Media { json: Some(_), .. }))
        })
        .count();
    assert_eq!(photos, 5, "{new:?}");
    let stamped: BTreeMap<String, String> = originals(setup);
    setup.run_at("2026-05-01T10:00:00Z");
    setup.run_at("2026-05-01T10:11:00Z");
    let after = originals(setup);
    let added: BTreeSet<String> = after
        .keys()
        .filter(|h| !stamped.contains_key(*h))
        .cloned()
        .collect();
    assert_eq!(added, new, "exactly the new contents");
    for (hash, path) in &stamped {
        assert_eq!(after.get(hash), Some(path), "staged before, left alone");
    }
    assert_staged_exactly(setup, &second);
}

/// A cut tgz part: the run fails naming it, nothing of its set is staged,
/// and it is read again once replaced and settled.
fn cut_part(setup: &Setup, dir: &Path, inbox: &Path) {
    // A cut tgz part: the run fails naming it, nothing of its set staged.
    let good_dir = dir.join("good");
    fs::create_dir(&good_dir).unwrap();
    let mut third = TakeoutSpec::new(8, 20);
    third.format = ArchiveFormat::Tgz;
    third.part_bytes = 40_000;
    third.stamp = "20240801T101010Z".into();
    let good = third.write(&good_dir).unwrap();
    third.truncate = Some((1, 0.5));
    let cut = third.write(inbox).unwrap();
    assert!(cut.parts[1].truncated);
    let before_cut = originals(setup);
    setup.run_at("2026-06-01T10:00:00Z");
    let ran = run_at(setup, "2026-06-01T10:11:00Z");
    assert_ne!(ran.code, 0, "{}", ran.out);
    let part_name = cut.parts[1].path.file_name().unwrap().to_str().unwrap();
    assert!(
        ran.out.contains(part_name) && ran.out.contains("incomplete or damaged"),
        "{}\n{}",
        ran.out,
        ran.err
    );
    assert_eq!(originals(setup), before_cut, "nothing of the cut set");
    // What was read well is kept for when the part is replaced: contents
    // of the set by their hash, no temporary file.
    let holding = setup.staging().join(NAME).join(".holding");
    let ours = contents(&good);
    for entry in fs::read_dir(&holding).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(ours.contains_key(&name), "{name} in holding");
    }
    // Not read again while it stays cut; still a failure.
    let ran = run_at(setup, "2026-06-01T10:20:00Z");
    assert_ne!(ran.code, 0, "{}", ran.out);
    assert_eq!(originals(setup), before_cut);

    // The download replaced: read once it settles.
    fs::copy(&good.parts[1].path, &cut.parts[1].path).unwrap();
    setup.run_at("2026-06-01T10:30:00Z");
    setup.run_at("2026-06-01T10:41:00Z");
    assert_staged_exactly(setup, &good);
    assert_eq!(
        fs::read_dir(&holding).unwrap().count(),
        0,
        "nothing left held"
    );
}

#[test]
fn a_takeout_month_is_archived_into_borg_and_leaves_staging() {
    common::borg::require_borg();
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    fs::create_dir(&inbox).unwrap();
    let manifest = TakeoutSpec::new(11, 12).write(&inbox).unwrap();
    let repo = common::borg::Repo::init(dir.path());
    let mut setup = setup(&inbox);
    setup.set_threshold("2026-03-01");
    setup.push_extra(&repo.config(""));
    setup.run_at("2026-03-01T10:00:00Z");
    setup.run_at("2026-03-01T10:11:00Z");
    let staged = originals(&setup);
    assert_eq!(staged.len(), contents(&manifest).len());

    // April: March closes; every staged file of the source is in its archive.
    setup.run_at("2026-04-01T08:00:00Z");
    let archive = format!("{NAME}-2026-03");
    let archives = repo.archives();
    let name = archives
        .iter()
        .find(|a| a.ends_with(&archive))
        .unwrap_or_else(|| panic!("{archive} in {archives:?}"));
    let by_archive = common::timeline::archived(&setup, &repo, NAME);
    let in_it = &by_archive[name];
    assert_eq!(in_it.len(), staged.len(), "every content, once");
    for (hash, path) in &staged {
        assert_eq!(
            in_it[hash],
            ["original".to_owned(), "xmp".to_owned()],
            "{path}"
        );
        let bytes = repo.content(name, path);
        assert_eq!(blake3::hash(&bytes).to_hex().to_string(), *hash, "{path}");
        assert!(!setup.staging().join(path).exists(), "{path} purged");
    }
    // `locate` finds it by its name, in its archive (the ledger's rows).
    let path = staged.values().next().unwrap();
    let file = path.rsplit('/').next().unwrap();
    let out = setup.command(&["locate", file], &[]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(name.as_str()),
        "{text}"
    );
    // `restore` brings it back from the archive, byte for byte.
    let to = dir.path().join("restored");
    let out = setup
        .command(&["restore", file, "--to", to.to_str().unwrap()], &[])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back: Vec<_> = walkdir::WalkDir::new(&to)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file() && e.file_name().to_str() == Some(file))
        .collect();
    assert_eq!(back.len(), 1, "{back:?}");
    let bytes = fs::read(back[0].path()).unwrap();
    assert_eq!(
        Some(&blake3::hash(&bytes).to_hex().to_string()),
        staged.iter().find(|(_, p)| *p == path).map(|(h, _)| h)
    );
    // `status.json` has the source's figures, like a library's.
    let status = fs::read_to_string(setup.state().join("status.json")).unwrap();
    assert!(
        status.contains(&format!("\"{NAME}\"")) && status.contains(name.as_str()),
        "{status}"
    );
    // Still known: the same export again stages nothing.
    let out = setup.run_at("2026-04-01T09:00:00Z");
    assert!(out.contains("takeout: nothing new"), "{out}");
}

#[test]
fn a_file_left_unrecorded_is_taken_over_when_its_bytes_match_and_kept_when_not() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    fs::create_dir(&inbox).unwrap();
    let manifest = TakeoutSpec::new(5, 8).write(&inbox).unwrap();
    let setup = setup(&inbox);
    setup.run_at("2026-03-01T10:00:00Z");
    // Two photos' places in staging, as a killed run (same bytes) or
    // something else (other bytes) left them.
    let mut plain = manifest.members.iter().filter(|m| {
        let name = m.path.rsplit('/').next().unwrap();
        m.path.contains("/Photos from ")
            && name.is_ascii()
            && Path::new(name).extension().is_some_and(|e| e == "jpg")
            && matches!(m.role, Role::Media { json: Some(_), .. })
    });
    let (same, other) = (plain.next().unwrap(), plain.next().unwrap());
    let place = |m: &synthetic::takeout::ManifestMember| {
        let Role::Media { expected, .. } = &m.role else {
            unreachable!()
        };
        let rel = format!(
            "{}{}",
            day_folder(NAME, ZONE, expected.taken),
            m.path.rsplit('/').next().unwrap()
        );
        fs::create_dir_all(setup.staging().join(&rel).parent().unwrap()).unwrap();
        rel
    };
    let bytes = |m: &synthetic::takeout::ManifestMember| {
        let mut found = None;
        photos_backup::takeout::archive::read_members(
            &manifest.parts[m.part].path,
            photos_backup::takeout::archive::Format::Zip,
            &mut |item| {
                if let photos_backup::takeout::archive::Item::File(mut f) = item {
                    if f.path.as_str() == m.path {
                        let mut b = Vec::new();
                        std::io::Read::read_to_end(&mut f, &mut b)?;
                        found = Some(b);
                    }
                }
                Ok(())
            },
        )
        .unwrap();
        found.unwrap()
    };
    let same_rel = place(same);
    fs::write(setup.staging().join(&same_rel), bytes(same)).unwrap();
    let other_rel = place(other);
    fs::write(setup.staging().join(&other_rel), b"not the photo").unwrap();

    setup.run_at("2026-03-01T10:11:00Z");
    let staged = originals(&setup);
    assert_eq!(staged[&hex(&same.blake3)], same_rel, "taken over");
    let moved = &staged[&hex(&other.blake3)];
    assert_ne!(moved, &other_rel, "another name beside it");
    assert_eq!(
        fs::read(setup.staging().join(&other_rel)).unwrap(),
        b"not the photo",
        "kept as it was"
    );
    assert_staged_exactly(&setup, &manifest);
}
