//! Caps on the property list in `Z_METADATA.Z_PLIST` before it is parsed.
//! The plist parser builds values recursively: a deeply nested (or
//! self-referencing) list in a damaged or hostile library would overflow
//! the stack and abort the whole run, every library with it, without a
//! status or a notification. Size, nesting depth and the number of objects
//! visited are checked first, iteratively; a list past them is an error of
//! its library alone.

/// Bytes: Photos' own is a few kilobytes.
const MAX_BYTES: usize = 4 << 20;
/// Nesting of arrays, sets and dictionaries: Photos' own has a handful.
const MAX_DEPTH: usize = 64;
/// Objects visited while measuring (shared objects count each time).
const MAX_VISITS: usize = 1 << 20;

/// Why `blob` must not be parsed, if it must not.
pub(super) fn check(blob: &[u8]) -> Result<(), String> {
    if blob.len() > MAX_BYTES {
        return Err(format!(
            "Z_METADATA.Z_PLIST is {} bytes, more than the {MAX_BYTES} a Photos library has",
            blob.len()
        ));
    }
    let depth = if blob.starts_with(b"bplist00") {
        binary_depth(blob)?
    } else {
        xml_depth(blob)
    };
    if depth > MAX_DEPTH {
        return Err(format!(
            "Z_METADATA.Z_PLIST nests more than {MAX_DEPTH} levels deep: damaged or not from Photos"
        ));
    }
    Ok(())
}

/// Big-endian unsigned integer of `width` bytes at `at`, if inside `blob`.
fn be(blob: &[u8], at: usize, width: usize) -> Option<usize> {
    let bytes = blob.get(at..at.checked_add(width)?)?;
    let mut n: u64 = 0;
    for b in bytes {
        n = n.checked_mul(256)? | u64::from(*b);
    }
    usize::try_from(n).ok()
}

/// The deepest nesting reached from the top object of a binary plist;
/// a structure it cannot follow counts as flat (the parser then says
/// what is wrong with it). Too many visits is an error.
fn binary_depth(blob: &[u8]) -> Result<usize, String> {
    let Some(trailer) = blob.len().checked_sub(32) else {
        return Ok(0);
    };
    let (Some(offset_size), Some(ref_size)) = (be(blob, trailer + 6, 1), be(blob, trailer + 7, 1))
    else {
        return Ok(0);
    };
    let (Some(objects), Some(top), Some(table)) = (
        be(blob, trailer + 8, 8),
        be(blob, trailer + 16, 8),
        be(blob, trailer + 24, 8),
    ) else {
        return Ok(0);
    };
    if !(1..=8).contains(&offset_size) || !(1..=8).contains(&ref_size) {
        return Ok(0);
    }
    let offset = |i: usize| -> Option<usize> {
        (i < objects).then_some(())?;
        be(
            blob,
            table.checked_add(i.checked_mul(offset_size)?)?,
            offset_size,
        )
    };
    let mut deepest = 0;
    let mut visits = 0;
    let mut stack = vec![(top, 1usize)];
    while let Some((object, depth)) = stack.pop() {
        visits += 1;
        if visits > MAX_VISITS {
            return Err(format!(
                "Z_METADATA.Z_PLIST has more than {MAX_VISITS} objects to read: damaged or not from Photos"
            ));
        }
        let Some(at) = offset(object) else { continue };
        let Some(&marker) = blob.get(at) else {
            continue;
        };
        let refs_per_item = match marker >> 4 {
            0xA | 0xC => 1,
            0xD => 2,
            _ => continue,
        };
        deepest = deepest.max(depth);
        if depth > MAX_DEPTH {
            return Ok(depth);
        }
        let mut count = usize::from(marker & 0x0F);
        let mut first = at + 1;
        if count == 0x0F {
            let Some(&int_marker) = blob.get(first) else {
                continue;
            };
            let width = 1usize << (int_marker & 0x0F).min(3);
            let Some(n) = be(blob, first + 1, width) else {
                continue;
            };
            count = n;
            first += 1 + width;
        }
        let Some(refs) = count.checked_mul(refs_per_item) else {
            continue;
        };
        for k in 0..refs {
            let Some(child) = k
                .checked_mul(ref_size)
                .and_then(|o| be(blob, first.checked_add(o)?, ref_size))
            else {
                break;
            };
            stack.push((child, depth + 1));
        }
    }
    Ok(deepest)
}

/// The deepest nesting of `<array>` and `<dict>` in an XML plist.
fn xml_depth(blob: &[u8]) -> usize {
    let text = String::from_utf8_lossy(blob);
    let (mut depth, mut deepest) = (0usize, 0usize);
    for tag in text.split('<').skip(1) {
        let name = tag.split(['>', ' ', '/']).next().unwrap_or("");
        let self_closing = tag.split('>').next().is_some_and(|t| t.ends_with('/'));
        match name {
            "array" | "dict" if !self_closing => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            "" if tag.starts_with("/array") || tag.starts_with("/dict") => {
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> plist::Value {
        let mut v = plist::Value::Integer(1.into());
        for _ in 0..levels {
            v = plist::Value::Array(vec![v]);
        }
        v
    }

    fn binary(v: &plist::Value) -> Vec<u8> {
        let mut out = Vec::new();
        v.to_writer_binary(&mut out).unwrap();
        out
    }

    fn xml(v: &plist::Value) -> Vec<u8> {
        let mut out = Vec::new();
        v.to_writer_xml(&mut out).unwrap();
        out
    }

    /// `levels` arrays each holding the next, built without recursion
    /// (building them as values would overflow the test's own stack).
    fn deep_binary(levels: usize) -> Vec<u8> {
        let mut blob = b"bplist00".to_vec();
        let mut offsets = Vec::with_capacity(levels + 1);
        for i in 0..levels {
            offsets.push(blob.len() as u32);
            blob.push(0xA1);
            blob.extend((i as u32 + 1).to_be_bytes());
        }
        offsets.push(blob.len() as u32);
        blob.push(0x10); // integer 1
        blob.push(1);
        let table = blob.len() as u64;
        for o in &offsets {
            blob.extend(o.to_be_bytes());
        }
        let mut trailer = [0u8; 32];
        trailer[6] = 4;
        trailer[7] = 4;
        trailer[8..16].copy_from_slice(&(offsets.len() as u64).to_be_bytes());
        trailer[24..32].copy_from_slice(&table.to_be_bytes());
        blob.extend(trailer);
        blob
    }

    fn deep_xml(levels: usize) -> Vec<u8> {
        format!(
            "<?xml version=\"1.0\"?><plist version=\"1.0\">{}<integer>1</integer>{}</plist>",
            "<array>".repeat(levels),
            "</array>".repeat(levels)
        )
        .into_bytes()
    }

    #[test]
    fn photos_like_plists_pass_and_deep_ones_are_refused() {
        let mut dict = plist::Dictionary::new();
        dict.insert("PLModelVersion".into(), 17000.into());
        dict.insert("hashes".into(), nested(5));
        let ok = plist::Value::Dictionary(dict);
        assert_eq!(check(&binary(&ok)), Ok(()));
        assert_eq!(check(&xml(&ok)), Ok(()));
        assert_eq!(binary_depth(&binary(&ok)).unwrap(), 6);
        assert_eq!(xml_depth(&xml(&ok)), 6);

        for deep in [deep_binary(100_000), deep_xml(100_000)] {
            let why = check(&deep).unwrap_err();
            assert!(why.contains("nests more than 64"), "{why}");
        }
        assert!(check(&binary(&nested(MAX_DEPTH - 1))).is_ok());
        assert!(check(&deep_binary(MAX_DEPTH - 1)).is_ok());
        assert_eq!(binary_depth(&deep_binary(10)).unwrap(), 10);
        assert_eq!(xml_depth(&deep_xml(10)), 10);
        assert!(check(&vec![0; MAX_BYTES + 1])
            .unwrap_err()
            .contains("bytes"));
        // Garbage passes the guard: the parser says it is not a plist.
        assert_eq!(check(b"\x00\xff\x13"), Ok(()));
        assert_eq!(check(b"bplist00"), Ok(()));
    }

    #[test]
    fn a_self_referencing_array_is_refused() {
        // bplist00, object 0 = array of one ref to object 0; offset table at 10.
        let mut blob = b"bplist00".to_vec();
        blob.extend([0xA1, 0x00]); // array, 1 item: ref 0
        blob.push(8); // offset table: object 0 at byte 8
        let mut trailer = [0u8; 32];
        trailer[6] = 1; // offset size
        trailer[7] = 1; // ref size
        trailer[15] = 1; // 1 object
        trailer[31] = 10; // offset table at 10
        blob.extend(trailer);
        let why = check(&blob).unwrap_err();
        assert!(why.contains("nests more than"), "{why}");
    }
}
