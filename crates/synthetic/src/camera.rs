//! Media bytes that say when they were taken, for the tests of dating a
//! Takeout photo without a taken time in its JSON (issue 19: by its EXIF,
//! a video by its `QuickTime` creation date): a JPEG with an EXIF
//! `DateTimeOriginal` (and its offset tag), a movie with a movie header
//! time and Apple's `com.apple.quicktime.creationdate`, and a single zip
//! part holding the members a test chooses. Written from the EXIF 2.32
//! and ISO-BMFF / `QuickTime` layouts, not decodable as pictures.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::random::SplitMix64;

/// A JPEG whose EXIF says it was taken at `taken` (`YYYY:MM:DD HH:MM:SS`),
/// with `OffsetTimeOriginal` (`+HH:MM`) when `offset` is given, followed by
/// `len` bytes of a pattern from `seed` (so contents differ).
///
/// # Panics
/// When `taken` and `offset` make an EXIF block larger than a JPEG
/// segment (64 KiB).
#[must_use]
pub fn jpeg_with_exif(taken: &str, offset: Option<&str>, seed: u64, len: usize) -> Vec<u8> {
    let ascii = |s: &str| {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        v
    };
    // Exif IFD entries (tag, ASCII value), in tag order.
    let mut entries = vec![(0x9003u16, ascii(taken))];
    if let Some(offset) = offset {
        entries.push((0x9011, ascii(offset)));
    }
    // Big-endian TIFF: header, IFD0 with the Exif IFD pointer, Exif IFD,
    // then the values it points to.
    let ifd0_at = 8u32;
    let exif_at = ifd0_at + 2 + 12 + 4;
    let exif_len = 2 + 12 * entries.len() as u32 + 4;
    let mut data_at = exif_at + exif_len;
    let mut tiff = b"MM\0\x2a".to_vec();
    tiff.extend_from_slice(&ifd0_at.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x8769u16.to_be_bytes());
    tiff.extend_from_slice(&4u16.to_be_bytes()); // LONG
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&exif_at.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(&(entries.len() as u16).to_be_bytes());
    let mut values = Vec::new();
    for (tag, value) in &entries {
        tiff.extend_from_slice(&tag.to_be_bytes());
        tiff.extend_from_slice(&2u16.to_be_bytes()); // ASCII
        tiff.extend_from_slice(&(value.len() as u32).to_be_bytes());
        if value.len() <= 4 {
            let mut inline = value.clone();
            inline.resize(4, 0);
            tiff.extend_from_slice(&inline);
        } else {
            tiff.extend_from_slice(&data_at.to_be_bytes());
            data_at += value.len() as u32;
            values.extend_from_slice(value);
        }
    }
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(&values);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = b"\xFF\xD8\xFF\xE1".to_vec();
    out.extend_from_slice(&(u16::try_from(app1.len() + 2).expect("small")).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend(pattern(seed, len));
    out.extend_from_slice(b"\xFF\xD9");
    out
}

/// A movie (`QuickTime` brand) whose movie header says `header_utc`
/// (seconds since 1970, UTC) and, when given, whose metadata says
/// `creation_date` (`2020-12-31T23:30:00-0800`), the media data first and
/// the movie box last as iPhones write them; `len` bytes of media data
/// from `seed`.
#[must_use]
pub fn movie_with_dates(
    header_utc: i64,
    creation_date: Option<&str>,
    seed: u64,
    len: usize,
) -> Vec<u8> {
    let mut mvhd = vec![0u8; 100];
    let since_1904 = u32::try_from(header_utc + 2_082_844_800).unwrap_or(0);
    mvhd[4..8].copy_from_slice(&since_1904.to_be_bytes());
    let mut moov = boxed(*b"mvhd", &mvhd);
    if let Some(date) = creation_date {
        let key = b"com.apple.quicktime.creationdate";
        let mut keys = vec![0, 0, 0, 0];
        keys.extend_from_slice(&1u32.to_be_bytes());
        keys.extend_from_slice(&(key.len() as u32 + 8).to_be_bytes());
        keys.extend_from_slice(b"mdta");
        keys.extend_from_slice(key);
        let mut data = vec![0, 0, 0, 1, 0, 0, 0, 0];
        data.extend_from_slice(date.as_bytes());
        let ilst = boxed(1u32.to_be_bytes(), &boxed(*b"data", &data));
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(b"mdta");
        hdlr.extend_from_slice(&[0u8; 13]);
        let meta = [
            boxed(*b"hdlr", &hdlr),
            boxed(*b"keys", &keys),
            boxed(*b"ilst", &ilst),
        ]
        .concat();
        moov.extend(boxed(*b"meta", &meta));
    }
    [
        boxed(*b"ftyp", b"qt  \0\0\0\0qt  "),
        boxed(*b"wide", b""),
        boxed(*b"mdat", &pattern(seed, len)),
        boxed(*b"moov", &moov),
    ]
    .concat()
}

/// A box: its size, type and body.
fn boxed(kind: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(body.len() + 8)
        .expect("small box")
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(&kind);
    out.extend_from_slice(body);
    out
}

fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// Writes one zip part at `path` holding `members` (path in the archive,
/// bytes), each dated `modified` (seconds since 1970, written as the zip's
/// local time of day).
pub fn write_zip(path: &Path, members: &[(String, Vec<u8>)], modified: i64) -> io::Result<()> {
    let mut zip = zip::ZipWriter::new(BufWriter::new(File::create(path)?));
    let mut options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    if let Some(t) = crate::takeout::dos_time(modified) {
        options = options.last_modified_time(t);
    }
    for (name, bytes) in members {
        zip.start_file(name.as_str(), options)?;
        zip.write_all(bytes)?;
    }
    zip.finish()?.flush()
}
