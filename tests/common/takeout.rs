//! What the Takeout tests ask of a generated set's manifest: the content
//! hashes as the ledger spells them, which members are the media a run
//! stages (no JSON, not Takeout's own index page), and the day folder a
//! photo belongs in.

use std::collections::BTreeMap;

use synthetic::takeout::{Manifest, Role};

/// A BLAKE3 hash as lowercase hex (the uuid of a Takeout content).
pub fn hex(hash: &[u8; 32]) -> String {
    blake3::Hash::from(*hash).to_hex().to_string()
}

/// Every media content `manifest` holds: hash → the members with it.
pub fn contents(manifest: &Manifest) -> BTreeMap<String, Vec<usize>> {
    let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, m) in manifest.members.iter().enumerate() {
        if matches!(m.role, Role::Media { .. }) {
            out.entry(hex(&m.blake3)).or_default().push(i);
        }
    }
    out
}

/// The day folder (`NAME/YYYY/MM/DD/`) of source `name` a photo taken at
/// `seconds` belongs in, in the time zone `zone`.
pub fn day_folder(name: &str, zone: &str, seconds: i64) -> String {
    use chrono::Datelike;
    let tz = jiff::tz::TimeZone::get(zone).unwrap();
    let offset = tz
        .to_offset(jiff::Timestamp::from_second(seconds).unwrap())
        .seconds();
    let date = chrono::DateTime::from_timestamp(seconds + i64::from(offset), 0)
        .unwrap()
        .date_naive();
    format!(
        "{name}/{:04}/{:02}/{:02}/",
        date.year(),
        date.month(),
        date.day()
    )
}
