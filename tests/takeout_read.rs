//! Reading Takeout parts (issue 19): every member of generated zip, tgz and
//! extracted sets comes back byte for byte as the generator's manifest says;
//! cut parts are errors naming the part and the member; hostile member
//! names and types are refused with the reason; the inbox is never changed.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use photos_backup::takeout::archive::{self, At, Format, Item, ReadError, RefusedKind};
use photos_backup::takeout::inbox::{self, Ignore};
use photos_backup::takeout::member_path::Refusal;
use synthetic::takeout::{ArchiveFormat, Manifest, TakeoutSpec};

/// (path, size, BLAKE3) of every file member, and every refusal.
#[derive(Debug, Default)]
struct Got {
    files: Vec<(String, u64, [u8; 32])>,
    refused: Vec<(String, RefusedKind)>,
}

fn read_all(part: &Path, format: Format) -> (Got, Result<(), ReadError>) {
    let mut got = Got::default();
    let result = archive::read_members(part, format, &mut |item| {
        match item {
            Item::File(mut m) => {
                let mut hasher = blake3::Hasher::new();
                let n = io::copy(&mut m, &mut hasher)?;
                assert_eq!(n, m.size, "{}: the stated size", m.path);
                got.files
                    .push((m.path.to_string(), n, *hasher.finalize().as_bytes()));
            }
            Item::Refused(r) => got.refused.push((r.name, r.kind)),
        }
        Ok(())
    });
    (got, result)
}

fn expected(manifest: &Manifest, part: usize) -> Vec<(String, u64, [u8; 32])> {
    manifest
        .members_of(part)
        .map(|m| (m.path.clone(), m.size, m.blake3))
        .collect()
}

fn format_of(f: ArchiveFormat) -> Format {
    match f {
        ArchiveFormat::Zip => Format::Zip,
        ArchiveFormat::Tgz => Format::TarGz,
    }
}

fn every_member_reads_back(spec: &TakeoutSpec) -> Manifest {
    let dir = tempfile::tempdir().unwrap();
    let manifest = spec.write(dir.path()).unwrap();
    assert!(manifest.parts.len() >= 3, "a set of several parts");
    for (i, part) in manifest.parts.iter().enumerate() {
        let (got, result) = read_all(&part.path, format_of(spec.format));
        result.unwrap();
        assert!(got.refused.is_empty(), "{:?}", got.refused);
        assert_eq!(got.files, expected(&manifest, i), "part {i}");
    }
    manifest
}

#[test]
fn every_member_of_a_zip_set_reads_back_byte_for_byte() {
    let mut spec = TakeoutSpec::new(11, 60);
    spec.part_bytes = 64 * 1024;
    let manifest = every_member_reads_back(&spec);
    assert!(
        manifest.members.iter().any(|m| !m.path.is_ascii()),
        "names beyond ASCII"
    );
}

#[test]
fn every_member_of_a_tgz_set_reads_back_byte_for_byte() {
    let mut spec = TakeoutSpec::new(12, 60);
    spec.format = ArchiveFormat::Tgz;
    spec.part_bytes = 64 * 1024;
    // Long names need GNU long-name entries in a tar.
    assert!(every_member_reads_back(&spec)
        .members
        .iter()
        .any(|m| m.path.len() > 100));
}

#[test]
fn zip64_members_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = TakeoutSpec::new(13, 30);
    spec.force_zip64 = true;
    let manifest = spec.write(dir.path()).unwrap();
    let bytes = fs::read(&manifest.parts[0].path).unwrap();
    // The zip64 extra field (header ID 0x0001, APPNOTE 4.5.3) with both sizes
    // follows each local header's name.
    let m = &manifest.members[0];
    let local = bytes.windows(4).position(|w| w == b"PK\x03\x04").unwrap();
    let name_len = u16::from_le_bytes([bytes[local + 26], bytes[local + 27]]) as usize;
    let extra = local + 30 + name_len;
    assert_eq!(
        &bytes[extra..extra + 2],
        &[1, 0],
        "zip64 extra field of {}",
        m.path
    );
    let (got, result) = read_all(&manifest.parts[0].path, Format::Zip);
    result.unwrap();
    assert_eq!(got.files, expected(&manifest, 0));
}

fn assert_cut_names_part_and_member(format: ArchiveFormat) {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = TakeoutSpec::new(14, 40);
    spec.format = format;
    spec.media_bytes = 64 * 1024;
    spec.part_bytes = 1024 * 1024;
    spec.truncate = Some((0, 0.6));
    let manifest = spec.write(dir.path()).unwrap();
    let part = &manifest.parts[0];
    assert!(part.truncated);
    let (got, result) = read_all(&part.path, format_of(format));
    let Err(ReadError::Damaged {
        part: named, at, ..
    }) = result
    else {
        panic!("a cut part is Damaged, got {result:?}");
    };
    assert_eq!(named, part.path);
    let At::Member(member) = at else {
        panic!("the error names the member being read, got {at:?}");
    };
    let want = expected(&manifest, 0);
    // Members before the cut came out whole; the one named is the next.
    assert_eq!(got.files[..], want[..got.files.len()]);
    if format == ArchiveFormat::Tgz {
        assert_eq!(member, want[got.files.len()].0);
    } else {
        assert!(want.iter().any(|(p, _, _)| *p == member), "{member}");
    }
}

#[test]
fn a_cut_zip_names_the_part_and_the_member() {
    assert_cut_names_part_and_member(ArchiveFormat::Zip);
}

#[test]
fn a_cut_tgz_names_the_part_and_the_member() {
    assert_cut_names_part_and_member(ArchiveFormat::Tgz);
}

#[test]
fn a_failure_of_the_caller_is_not_blamed_on_the_part() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = TakeoutSpec::new(15, 5).write(dir.path()).unwrap();
    let result = archive::read_members(&manifest.parts[0].path, Format::Zip, &mut |item| {
        if let Item::File(m) = item {
            if m.path.file_name().starts_with("IMG_") {
                return Err(io::Error::other("staging is full"));
            }
        }
        Ok(())
    });
    match result {
        Err(ReadError::Visit { member, .. }) => assert!(member.contains("/IMG_"), "{member}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn hostile_zip_members_are_refused_with_the_reason_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("takeout-20240701T221728Z-001.zip");
    let mut zip = zip::ZipWriter::new(fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    let long = format!("Takeout/{}.jpg", "x".repeat(300));
    let hostile = [
        ("../../evil.jpg", Refusal::ParentDirectory),
        ("/etc/evil.jpg", Refusal::Absolute),
        ("C:/evil.jpg", Refusal::DriveLetter),
        ("Takeout\\..\\evil.jpg", Refusal::Backslash),
        ("Takeout/a\u{1b}[2J.jpg", Refusal::ControlCharacter),
        ("Takeout/a\0.jpg", Refusal::Nul),
        (long.as_str(), Refusal::TooLong),
    ];
    for (name, _) in &hostile {
        zip.start_file(*name, options).unwrap();
        zip.write_all(b"evil").unwrap();
    }
    zip.add_symlink("Takeout/link.jpg", "/etc/passwd", options)
        .unwrap();
    zip.start_file("Takeout/Google Photos/Café/ok.jpg", options)
        .unwrap();
    zip.write_all(b"fine").unwrap();
    zip.finish().unwrap();

    let (got, result) = read_all(&path, Format::Zip);
    result.unwrap();
    let mut want: Vec<RefusedKind> = hostile.iter().map(|(_, r)| RefusedKind::Path(*r)).collect();
    want.push(RefusedKind::SymbolicLink);
    assert_eq!(
        got.refused.iter().map(|(_, k)| *k).collect::<Vec<_>>(),
        want
    );
    // Names are shown printable.
    assert!(got
        .refused
        .iter()
        .all(|(n, _)| !n.chars().any(char::is_control)));
    assert_eq!(got.files.len(), 1);
    assert_eq!(got.files[0].0, "Takeout/Google Photos/Café/ok.jpg");
}

/// A tar header with `name` written as raw bytes (the `tar` crate refuses
/// to build `..` paths itself, as it should).
fn raw_header(name: &[u8], kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h
}

#[test]
fn hostile_tar_members_are_refused_with_the_reason_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("takeout-20240701T221728Z-001.tgz");
    let gz = flate2::write::GzEncoder::new(
        fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    let cases: [(&[u8], tar::EntryType, RefusedKind); 7] = [
        (
            b"Takeout/../../evil.jpg",
            tar::EntryType::Regular,
            RefusedKind::Path(Refusal::ParentDirectory),
        ),
        (
            b"/evil.jpg",
            tar::EntryType::Regular,
            RefusedKind::Path(Refusal::Absolute),
        ),
        (
            b"Takeout/\xff\xfe.jpg",
            tar::EntryType::Regular,
            RefusedKind::Path(Refusal::NotUtf8),
        ),
        (
            b"Takeout/link.jpg",
            tar::EntryType::Symlink,
            RefusedKind::SymbolicLink,
        ),
        (
            b"Takeout/hard.jpg",
            tar::EntryType::Link,
            RefusedKind::HardLink,
        ),
        (b"Takeout/dev", tar::EntryType::Char, RefusedKind::Device),
        (b"Takeout/fifo", tar::EntryType::Fifo, RefusedKind::Fifo),
    ];
    for (name, kind, _) in &cases {
        let size = if *kind == tar::EntryType::Regular {
            4
        } else {
            0
        };
        let header = raw_header(name, *kind, size);
        tar.append(&header, &b"evil"[..size as usize]).unwrap();
    }
    let header = raw_header(b"Takeout/ok.jpg", tar::EntryType::Regular, 4);
    tar.append(&header, &b"fine"[..]).unwrap();
    tar.into_inner().unwrap().finish().unwrap();

    let (got, result) = read_all(&path, Format::TarGz);
    result.unwrap();
    let want: Vec<RefusedKind> = cases.iter().map(|(_, _, k)| *k).collect();
    assert_eq!(
        got.refused.iter().map(|(_, k)| *k).collect::<Vec<_>>(),
        want
    );
    assert_eq!(
        got.files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["Takeout/ok.jpg"]
    );
}

/// Everything about every file under `root`: what a read must not change.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u64, i64, i64, u32, [u8; 32])> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .map(|e| {
            let meta = fs::symlink_metadata(e.path()).unwrap();
            let hash = if meta.is_file() {
                *blake3::hash(&fs::read(e.path()).unwrap()).as_bytes()
            } else {
                [0; 32]
            };
            (
                e.path().to_owned(),
                (
                    meta.len(),
                    meta.mtime(),
                    meta.mtime_nsec(),
                    meta.mode(),
                    hash,
                ),
            )
        })
        .collect()
}

#[test]
fn the_inbox_is_scanned_and_read_without_being_changed() {
    let inbox = tempfile::tempdir().unwrap();
    let mut spec = TakeoutSpec::new(16, 40);
    spec.part_bytes = 48 * 1024;
    let manifest = spec.write(inbox.path()).unwrap();
    fs::write(
        inbox
            .path()
            .join("takeout-20240901T080000Z-001.zip.crdownload"),
        b"half",
    )
    .unwrap();
    fs::write(
        inbox.path().join("takeout-20240901T080000Z-002.zip.part"),
        b"half",
    )
    .unwrap();
    fs::write(inbox.path().join(".DS_Store"), b"x").unwrap();
    // An extracted copy of the first part, with a link out of the inbox.
    let extracted = inbox.path().join("takeout-20240701T221728Z-001");
    zip::ZipArchive::new(fs::File::open(&manifest.parts[0].path).unwrap())
        .unwrap()
        .extract(&extracted)
        .unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.jpg"), b"secret").unwrap();
    std::os::unix::fs::symlink(outside.path(), extracted.join("Takeout/escape")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.jpg"),
        extracted.join("Takeout/s.jpg"),
    )
    .unwrap();
    let before = snapshot(inbox.path());

    let scan = inbox::scan(inbox.path(), inbox::BOUND).unwrap();
    assert_eq!(scan.sets.len(), 2, "the zip set and the extracted folder");
    let of = |format| scan.sets.iter().find(|s| s.format == format).unwrap();
    let set = of(Format::Zip);
    assert_eq!(set.id, "takeout-20240701T221728Z");
    assert_eq!(set.parts.len(), manifest.parts.len());
    assert!(set.missing.is_empty());
    let why: Vec<Ignore> = scan.ignored.iter().map(|i| i.why).collect();
    assert!(
        why.contains(&Ignore::PartialDownload("Chrome or Edge")),
        "{why:?}"
    );
    assert!(why.contains(&Ignore::PartialDownload("Firefox")), "{why:?}");
    assert!(why.contains(&Ignore::Hidden), "{why:?}");
    let folder = of(Format::Folder);
    assert_eq!(folder.id, set.id, "named like its zip");
    assert_eq!(folder.parts.len(), 1);
    assert_eq!(folder.parts[0].name, "takeout-20240701T221728Z-001");

    for (i, part) in set.parts.iter().enumerate() {
        let path = inbox.path().join(&part.name);
        let first = inbox::fingerprint(&path, Format::Zip, inbox::BOUND).unwrap();
        assert_eq!(first.size, part.size);
        let (got, result) = read_all(&path, Format::Zip);
        result.unwrap();
        assert_eq!(got.files, expected(&manifest, i));
        assert_eq!(
            inbox::fingerprint(&path, Format::Zip, inbox::BOUND).unwrap(),
            first,
            "reading changes nothing"
        );
    }
    let root = inbox.path().join(&folder.parts[0].name);
    let listed = inbox::fingerprint(&root, Format::Folder, inbox::BOUND).unwrap();
    let (got, result) = read_all(&root, Format::Folder);
    result.unwrap();
    let mut want = expected(&manifest, 0);
    want.sort();
    assert_eq!(got.files, want, "the extracted folder holds the first part");
    let refused: Vec<RefusedKind> = got.refused.iter().map(|(_, k)| *k).collect();
    assert_eq!(
        refused,
        [RefusedKind::SymbolicLink, RefusedKind::SymbolicLink]
    );
    assert_eq!(
        inbox::fingerprint(&root, Format::Folder, inbox::BOUND).unwrap(),
        listed,
        "reading the folder changes nothing"
    );

    assert_eq!(
        snapshot(inbox.path()),
        before,
        "the inbox is byte-identical, times kept"
    );
}

#[test]
fn a_part_rewritten_with_the_same_size_and_time_gets_another_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = TakeoutSpec::new(17, 20).write(dir.path()).unwrap();
    let path = &manifest.parts[0].path;
    let before = inbox::fingerprint(path, Format::Zip, inbox::BOUND).unwrap();
    let meta = fs::metadata(path).unwrap();
    // The central directory at the end changes; size and mtime are put back.
    let mut bytes = fs::read(path).unwrap();
    let last = bytes.len() - 30;
    bytes[last] ^= 0xff;
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(meta.modified().unwrap())
        .unwrap();
    let after = inbox::fingerprint(path, Format::Zip, inbox::BOUND).unwrap();
    assert_eq!(
        (after.size, after.modified_ns),
        (before.size, before.modified_ns)
    );
    assert_ne!(after, before);
}

#[test]
fn a_zip_written_as_a_stream_reads_back_and_a_cut_one_names_part_and_member() {
    // Written without seeking: sizes in data descriptors after each member
    // (general purpose bit 3), as a server streaming a download writes.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("takeout-20240701T221728Z-001.zip");
    let mut zip = zip::ZipWriter::new_stream(fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    let mut want = Vec::new();
    for i in 0..5u8 {
        let name = format!("Takeout/Google Photos/Photos from 2020/IMG_{i}.jpg");
        let body: Vec<u8> = (0..20_000u32)
            .map(|k| (k * 7 + u32::from(i)) as u8)
            .collect();
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(&body).unwrap();
        want.push((name, body.len() as u64, *blake3::hash(&body).as_bytes()));
    }
    zip.finish().unwrap();
    let (got, result) = read_all(&path, Format::Zip);
    result.unwrap();
    assert_eq!(got.files, want);

    let len = fs::metadata(&path).unwrap().len();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let (_, result) = read_all(&path, Format::Zip);
    match result {
        Err(ReadError::Damaged { part, at, .. }) => {
            assert_eq!(part, path);
            // Half of five equal members: the third is where the data ends.
            assert_eq!(at, At::Member(want[2].0.clone()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_inbox_that_cannot_be_listed_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no inbox");
    let err = inbox::scan(&missing, inbox::BOUND).unwrap_err();
    assert!(matches!(&err, inbox::InboxError::List { inbox, .. } if *inbox == missing));
    assert!(err.to_string().contains("no inbox"), "{err}");
    let part = missing.join("takeout-20240701T221728Z-001.zip");
    let err = inbox::fingerprint(&part, Format::Zip, inbox::BOUND).unwrap_err();
    assert!(matches!(err, inbox::InboxError::Part { .. }));
    let err = inbox::fingerprint(&missing, Format::Folder, inbox::BOUND).unwrap_err();
    assert!(matches!(err, inbox::InboxError::Part { .. }));
}

#[test]
fn a_zip_of_more_than_65535_members_reads_every_one() {
    // Past 65,535 entries the count lives only in the zip64 end records.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("takeout-20240701T221728Z-001.zip");
    let mut zip = zip::ZipWriter::new(io::BufWriter::new(fs::File::create(&path).unwrap()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let n = 65_600u32;
    for i in 0..n {
        zip.start_file(
            format!("Takeout/Google Photos/Photos from 2020/{i}.json"),
            options,
        )
        .unwrap();
        zip.write_all(&i.to_le_bytes()).unwrap();
    }
    zip.finish().unwrap();
    let bytes = fs::read(&path).unwrap();
    assert!(
        bytes.windows(4).any(|w| w == b"PK\x06\x06"),
        "a zip64 end record"
    );
    let mut seen = 0u32;
    archive::read_members(&path, Format::Zip, &mut |item| {
        let Item::File(mut m) = item else {
            panic!("refused")
        };
        let mut body = Vec::new();
        io::Read::read_to_end(&mut m, &mut body)?;
        assert_eq!(body, seen.to_le_bytes());
        seen += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, n);
}

#[test]
fn a_zip_name_without_the_utf8_flag_is_read_as_cp437() {
    // Old zip tools write names in code page 437 without the flag: byte
    // 0x82 is "é" there (and not UTF-8 at all).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("takeout-20240701T221728Z-001.zip");
    let mut zip = zip::ZipWriter::new(fs::File::create(&path).unwrap());
    zip.start_file("Takeout/Caf#.jpg", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"photo").unwrap();
    zip.finish().unwrap();
    let mut bytes = fs::read(&path).unwrap();
    let mut patched = 0;
    for i in 0..bytes.len() - 16 {
        if &bytes[i..i + 16] == b"Takeout/Caf#.jpg" {
            bytes[i + 11] = 0x82;
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "the local and the central header");
    fs::write(&path, &bytes).unwrap();
    let (got, result) = read_all(&path, Format::Zip);
    result.unwrap();
    assert_eq!(got.files.len(), 1);
    assert_eq!(got.files[0].0, "Takeout/Café.jpg");
}
