//! The version of an asset: a number that changes whenever anything the
//! reader derives the asset from changes, read without reading the asset's
//! wide rows. A run compares it with the version recorded when the asset
//! was last staged and reads in full, plans and stats only the assets whose
//! version changed (plus the pending ones): a run after Photos touched its
//! database costs what changed, not what is selected.
//!
//! What goes into it, and why each part is safe:
//!
//! - `Z_OPT` of the asset row, of its additional-attributes row, of its
//!   description row and of its unmanaged-adjustment row (the wide rows:
//!   the ones worth not reading). `Z_OPT` is Core Data's optimistic-locking
//!   version: every save of an object writes `Z_OPT = old + 1` (`UPDATE ...
//!   SET Z_OPT = ?, ... WHERE Z_PK = ? AND Z_OPT = ?`), so any change to a
//!   field of such a row changes it. The six fixture libraries (Photos 5 to
//!   26) have it on every table, with values well above 1 on edited rows.
//!   Which row is the asset's attribute, description or adjustment row is
//!   part of the version too (their `Z_PK`s).
//! - the asset's keywords, persons and albums as read (their names): these
//!   live in narrow tables and join tables (which have no `Z_OPT`); they are
//!   read anyway, once, and the full read uses the same values.
//! - the asset's resource rows as read (kind, local availability, type):
//!   also narrow, also read anyway.
//!
//! What it does not see: a file of the library replaced on disk without
//! any change to the database, a change by a tool that writes the database
//! without bumping `Z_OPT`, and a change of this program's reader or
//! planner. The run reads everything in full (today's path) once a day,
//! whenever its copy of the database is checked whole (first run, a day
//! after the last, after any read error), after any error of a run, when
//! the program, the Photos model or the export options differ from those
//! of the last full read, and when the ledger holds no versions (a new or
//! migrated ledger): a missed change waits a day at most
//! (`export::versions`).
//!
//! The combination is a sum of 64-bit hashes of each part (a multiset:
//! order does not matter, repeats do), with a fixed hash function, since
//! versions are compared across runs and builds.

use std::collections::HashMap;

use rusqlite::{Connection, Row};

use super::derive::RawResource;
use super::schema::Schema;

/// Whether this library's schema has what a version needs (`Z_OPT` on the
/// asset and attribute tables). Without it every run reads in full.
#[must_use]
pub fn supported(schema: &Schema) -> bool {
    schema.asset.has("Z_OPT") && schema.attributes.has("Z_OPT")
}

/// The row versions of an asset's wide rows: (`Z_PK`, `Z_OPT`) of its asset,
/// attributes, description and unmanaged-adjustment rows (`None`: no row).
type Rows = [(Option<i64>, Option<i64>); 4];

/// The columns that give `Rows`, in order, for the aliases of the asset
/// query (`a`, `b`, `d`, `u`); `d` and `u` only when joined.
#[must_use]
pub(super) fn columns(schema: &Schema, description: bool, adjustment: bool) -> Vec<String> {
    let opt = |alias: &str, joined: bool| {
        if joined {
            [format!("{alias}.Z_PK"), format!("{alias}.Z_OPT")]
        } else {
            ["NULL".to_owned(), "NULL".to_owned()]
        }
    };
    let b = if schema.attributes.has("Z_OPT") {
        ["b.Z_PK".to_owned(), "b.Z_OPT".to_owned()]
    } else {
        ["NULL".to_owned(), "NULL".to_owned()]
    };
    let a = if schema.asset.has("Z_OPT") {
        ["a.Z_PK".to_owned(), "a.Z_OPT".to_owned()]
    } else {
        ["NULL".to_owned(), "NULL".to_owned()]
    };
    let d = opt(
        "d",
        description && schema.description.as_ref().is_some_and(|t| t.has("Z_OPT")),
    );
    let u = opt(
        "u",
        adjustment
            && schema
                .unmanaged_adjustment
                .as_ref()
                .is_some_and(|t| t.has("Z_OPT")),
    );
    [a, b, d, u].into_iter().flatten().collect()
}

/// Reads `Rows` from `row`, starting at column `first` (see `columns`).
pub(super) fn rows(row: &Row, first: usize) -> rusqlite::Result<Rows> {
    let mut out = [(None, None); 4];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = (
            row.get::<_, Option<i64>>(first + 2 * i)?,
            row.get::<_, Option<i64>>(first + 2 * i + 1)?,
        );
    }
    Ok(out)
}

/// The version of one asset from its parts (see the module notes).
#[must_use]
pub(super) fn version(
    rows: &Rows,
    keywords: &[String],
    persons: &[String],
    albums: &[String],
    resources: &[RawResource],
) -> u64 {
    let mut sum = 0u64;
    for (i, (pk, opt)) in rows.iter().enumerate() {
        let mut h = Fnv::new(1 + i as u8);
        h.int(*pk);
        h.int(*opt);
        sum = sum.wrapping_add(h.finish());
    }
    for (tag, texts) in [(10u8, keywords), (11, persons), (12, albums)] {
        for t in texts {
            let mut h = Fnv::new(tag);
            h.bytes(t.as_bytes());
            sum = sum.wrapping_add(h.finish());
        }
    }
    for r in resources {
        let mut h = Fnv::new(20);
        h.int(r.subtype);
        h.int(r.local_availability);
        match &r.uti {
            Some(u) => h.bytes(u.as_bytes()),
            None => h.bytes(b"\xff"),
        }
        sum = sum.wrapping_add(h.finish());
    }
    sum
}

/// The (pk, uuid, `Rows`) of every asset in `temp.selected`: the asset's
/// own `Z_OPT` as the selection's scan took it, the other rows through the
/// same joins as the full read, their narrow columns only.
pub(super) fn read_rows(
    conn: &Connection,
    schema: &Schema,
    joins: &str,
    (description, adjustment): (bool, bool),
) -> rusqlite::Result<Vec<(i64, String, Rows)>> {
    let mut columns = columns(schema, description, adjustment);
    if schema.asset.has("Z_OPT") {
        "s.pk".clone_into(&mut columns[0]);
        "s.opt".clone_into(&mut columns[1]);
    }
    let sql = format!(
        "SELECT s.pk, s.uuid, {} FROM temp.selected AS s LEFT JOIN {} AS b ON b.ZASSET = s.pk{joins} \
         ORDER BY s.pk",
        columns.join(", "),
        schema.attributes.sql(),
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let uuid = match row.get_ref(1)? {
            rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
            _ => String::new(),
        };
        out.push((row.get(0)?, uuid, self::rows(row, 2)?));
    }
    Ok(out)
}

/// The version of each asset of `rows`, from the maps of the narrow reads.
pub(super) fn of_rows(
    rows: &[(i64, String, Rows)],
    keywords: &HashMap<i64, Vec<String>>,
    persons: &HashMap<i64, Vec<String>>,
    albums: &HashMap<i64, Vec<String>>,
    resources: &HashMap<i64, Vec<RawResource>>,
) -> Vec<u64> {
    let none: Vec<String> = Vec::new();
    rows.iter()
        .map(|(pk, _, r)| {
            version(
                r,
                keywords.get(pk).unwrap_or(&none),
                persons.get(pk).unwrap_or(&none),
                albums.get(pk).unwrap_or(&none),
                resources.get(pk).map_or(&[], Vec::as_slice),
            )
        })
        .collect()
}

/// FNV-1a, 64 bits, finished with a mix of its bits: fixed across builds
/// and platforms (the std hasher is not), fast on a few bytes.
struct Fnv(u64);

impl Fnv {
    fn new(tag: u8) -> Self {
        let mut h = Self(0xcbf2_9ce4_8422_2325);
        h.bytes(&[tag]);
        h
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // The length ends the field: ("ab", "c") and ("a", "bc") differ.
        for b in (bytes.len() as u64).to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn int(&mut self, n: Option<i64>) {
        match n {
            Some(n) => self.bytes(&n.to_le_bytes()),
            None => self.bytes(&[]),
        }
    }

    /// splitmix64's finalizer: every input bit moves every output bit, so
    /// a sum of these is not fooled by small neighbouring values.
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(opt: i64) -> Rows {
        [
            (Some(1), Some(opt)),
            (Some(7), Some(2)),
            (None, None),
            (None, None),
        ]
    }

    #[test]
    fn every_part_changes_the_version_and_order_does_not() {
        let k = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let res = |a: i64| RawResource {
            subtype: Some(1),
            local_availability: Some(a),
            uti: None,
        };
        let base = version(&rows(3), &k(&["a", "b"]), &k(&["p"]), &k(&["x"]), &[res(1)]);
        assert_eq!(
            base,
            version(&rows(3), &k(&["b", "a"]), &k(&["p"]), &k(&["x"]), &[res(1)])
        );
        let changed = [
            version(&rows(4), &k(&["a", "b"]), &k(&["p"]), &k(&["x"]), &[res(1)]),
            version(&rows(3), &k(&["a"]), &k(&["p"]), &k(&["x"]), &[res(1)]),
            version(
                &rows(3),
                &k(&["a", "b", "b"]),
                &k(&["p"]),
                &k(&["x"]),
                &[res(1)],
            ),
            version(
                &rows(3),
                &k(&["a", "b"]),
                &k(&["p", "p"]),
                &k(&["x"]),
                &[res(1)],
            ),
            version(&rows(3), &k(&["a", "b"]), &k(&["p"]), &k(&["y"]), &[res(1)]),
            version(&rows(3), &k(&["a", "b"]), &k(&["p"]), &k(&["x"]), &[res(0)]),
            version(&rows(3), &k(&["a", "b"]), &k(&["p"]), &k(&["x"]), &[]),
            // A name moved from keywords to albums is a change.
            version(&rows(3), &k(&["b"]), &k(&["p"]), &k(&["x", "a"]), &[res(1)]),
        ];
        for (i, v) in changed.iter().enumerate() {
            assert_ne!(*v, base, "change {i}");
        }
        let mut other = rows(3);
        other[2] = (Some(9), Some(1));
        assert_ne!(
            version(&other, &k(&["a", "b"]), &k(&["p"]), &k(&["x"]), &[res(1)]),
            base
        );
    }
}
