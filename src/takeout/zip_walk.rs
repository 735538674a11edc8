//! Where a zip without a readable central directory breaks. A download cut
//! short loses the end of the file, and with it the directory the `zip`
//! crate reads members by; what is left is the members' local headers, one
//! after another from the start (APPNOTE 4.3.7). Walking them names the
//! member the data ends in, so the error can say which part and which
//! member, whether sizes are in the local header or, as a writer streaming
//! the archive puts them, in a data descriptor after the data (flag bit 3:
//! the deflate stream is inflated to find its end). Only ever reached on
//! the error path; nothing is handed out.

use std::io::{self, BufRead, BufReader, Read};

use super::archive::At;
use super::member_path;
use crate::printable::printable;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const DIRECTORY_SIGNATURES: [u32; 3] = [0x0201_4b50, 0x0605_4b50, 0x0606_4b50];
const UTF8_FLAG: u16 = 1 << 11;
const SIZES_AFTER_DATA: u16 = 1 << 3;
const DEFLATED: u16 = 8;
const ZIP64_EXTRA: u16 = 0x0001;

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Walks the local headers of `part` from its start; returns where the
/// walk broke and why. `directory_cause` is the error reading the
/// directory gave, used when every member was whole.
pub(super) fn where_it_breaks(part: impl Read, directory_cause: io::Error) -> (At, io::Error) {
    let mut r = BufReader::with_capacity(256 * 1024, part);
    let mut last: Option<String> = None;
    loop {
        let mut sig = [0u8; 4];
        if let Err(e) = r.read_exact(&mut sig) {
            return (At::After(last), e);
        }
        let sig = le32(&sig);
        if DIRECTORY_SIGNATURES.contains(&sig) {
            // Every member is whole; the directory is what is damaged.
            return (At::After(last), directory_cause);
        }
        if sig != LOCAL_HEADER {
            return (
                At::After(last),
                invalid("no member header where one should begin"),
            );
        }
        let (name, result) = one_member(&mut r);
        match result {
            Ok(()) => last = Some(name),
            Err(e) => return (At::Member(name), e),
        }
    }
}

/// Reads one member after its signature: its name, then past its data.
fn one_member(r: &mut BufReader<impl Read>) -> (String, io::Result<()>) {
    let mut h = [0u8; 26];
    if let Err(e) = r.read_exact(&mut h) {
        return ("(a header cut short)".into(), Err(e));
    }
    let (flags, method) = (le16(&h[2..]), le16(&h[4..]));
    let compressed = u64::from(le32(&h[14..]));
    let (name_len, extra_len) = (usize::from(le16(&h[22..])), usize::from(le16(&h[24..])));
    let mut raw = vec![0u8; name_len];
    if let Err(e) = r.read_exact(&mut raw) {
        return ("(a name cut short)".into(), Err(e));
    }
    let name = member_path::decode_zip_name(&raw, flags & UTF8_FLAG != 0)
        .unwrap_or_else(|_| String::from_utf8_lossy(&raw).into_owned());
    let name = printable(&name);
    let mut extra = vec![0u8; extra_len];
    if let Err(e) = r.read_exact(&mut extra) {
        return (name, Err(e));
    }
    let (zip64, compressed) = zip64_sizes(&extra, compressed, u64::from(le32(&h[18..])));
    let result = if flags & SIZES_AFTER_DATA == 0 {
        skip_exactly(r, compressed)
    } else if method == DEFLATED {
        inflate_to_end(r).and_then(|()| skip_descriptor(r, zip64))
    } else {
        Err(invalid(
            "sizes after the data of a member that is not deflated",
        ))
    };
    (name, result)
}

/// Whether the header has a zip64 extra field, and the compressed size
/// (from that field when the header's is `0xFFFFFFFF`; APPNOTE 4.5.3: the
/// uncompressed size comes first when it too is in the field).
fn zip64_sizes(extra: &[u8], compressed: u64, uncompressed: u64) -> (bool, u64) {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let (id, len) = (le16(&extra[at..]), usize::from(le16(&extra[at + 2..])));
        let body = &extra[(at + 4).min(extra.len())..(at + 4 + len).min(extra.len())];
        if id == ZIP64_EXTRA {
            let mut fields = body
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
            if uncompressed == 0xFFFF_FFFF {
                fields.next();
            }
            let compressed = if compressed == 0xFFFF_FFFF {
                fields.next().unwrap_or(compressed)
            } else {
                compressed
            };
            return (true, compressed);
        }
        at += 4 + len;
    }
    (false, compressed)
}

fn skip_exactly(r: &mut impl Read, n: u64) -> io::Result<()> {
    let skipped = io::copy(&mut r.take(n), &mut io::sink())?;
    if skipped < n {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the member's data is cut short",
        ));
    }
    Ok(())
}

/// Inflates one deflate stream to its end (the `bufread` decoder takes no
/// byte past it).
fn inflate_to_end(r: &mut impl BufRead) -> io::Result<()> {
    let mut d = flate2::bufread::DeflateDecoder::new(r);
    io::copy(&mut d, &mut io::sink()).map(drop)
}

/// The data descriptor: an optional signature, CRC-32, then both sizes (4
/// bytes each, 8 with zip64).
fn skip_descriptor(r: &mut impl Read, zip64: bool) -> io::Result<()> {
    let mut first = [0u8; 4];
    r.read_exact(&mut first)?;
    let crc_then_sizes = if zip64 { 4 + 16 } else { 4 + 8 };
    let left = if le32(&first) == DATA_DESCRIPTOR {
        crc_then_sizes
    } else {
        crc_then_sizes - 4
    };
    skip_exactly(r, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(id: u16, body: &[u8]) -> Vec<u8> {
        let mut f = id.to_le_bytes().to_vec();
        f.extend((body.len() as u16).to_le_bytes());
        f.extend(body);
        f
    }

    #[test]
    fn zip64_sizes_come_from_the_extra_field_only_where_the_header_says_so() {
        let sizes: Vec<u8> = [5_000_000_000u64, 4_900_000_000]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut extra = field(0x5455, &[1, 0, 0, 0, 0]);
        extra.extend(field(ZIP64_EXTRA, &sizes));
        // Both sizes in the field: uncompressed first, then compressed.
        assert_eq!(
            zip64_sizes(&extra, 0xFFFF_FFFF, 0xFFFF_FFFF),
            (true, 4_900_000_000)
        );
        // Only the compressed size in the field.
        let extra = field(ZIP64_EXTRA, &5_000_000_000u64.to_le_bytes());
        assert_eq!(zip64_sizes(&extra, 0xFFFF_FFFF, 10), (true, 5_000_000_000));
        // A zip64 field with the sizes in the header (forced zip64).
        assert_eq!(zip64_sizes(&extra, 10, 20), (true, 10));
        assert_eq!(zip64_sizes(&field(0x5455, &[1]), 10, 20), (false, 10));
        // A field running past the end is not read out of bounds.
        assert_eq!(zip64_sizes(&[1, 0, 50, 0, 1, 2], 10, 20), (true, 10));
    }
}
