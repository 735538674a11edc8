//! Realistic database size: the bulk a real `Photos.sqlite` carries besides
//! what the reader reads, so benchmarks meet a database of the real size
//! (0.5 to 1.5 GB at 100k assets) instead of a lean one that flatters them.
//!
//! Real libraries are big for two reasons, and both are reproduced here:
//! the rows the reader does read are wide (the asset and attribute tables
//! have a hundred columns, most filled by Photos' analysis; each asset has
//! several derivative resource rows), and analysis tables the reader never
//! reads hold kilobytes per asset (scene prints, scene classifications,
//! computed scores, text recognition, EXIF). Contents are filler of the
//! right types and sizes (random blobs do not compress, as real prints do
//! not); no value is read back by the reader, so none can change a listing.

use std::io;

use rusqlite::Connection;

use super::flavor::Model;

/// Analysis tables (name, columns besides `Z_PK`/`Z_ENT`/`Z_OPT`), with
/// Apple's table names; filled per asset by `ANALYSIS_FILL`.
const ANALYSIS_TABLES: &[(&str, &str)] = &[
    ("ZCOMPUTEDASSETATTRIBUTES", "ZASSET INTEGER, ZSCORES BLOB"),
    (
        "ZMEDIAANALYSISASSETATTRIBUTES",
        "ZASSET INTEGER, ZMEDIAANALYSISVERSION INTEGER, ZMEDIAANALYSISTIMESTAMP TIMESTAMP, \
         ZACTIVITYSCORE FLOAT, ZAUDIOCLASSIFICATION INTEGER, ZBESTKEYFRAMETIMESCALE INTEGER, \
         ZBLURRINESSSCORE FLOAT, ZEXPOSURESCORE FLOAT, ZFACECOUNT INTEGER, \
         ZPACKEDBESTPLAYBACKRECT INTEGER, ZCOLORNORMALIZATIONDATA BLOB",
    ),
    (
        "ZSCENEPRINT",
        "ZMEDIAANALYSISASSETATTRIBUTES INTEGER, ZVERSION INTEGER, ZDATA BLOB",
    ),
    (
        "ZSCENECLASSIFICATION",
        "ZASSETATTRIBUTES INTEGER, ZSCENEIDENTIFIER INTEGER, ZCONFIDENCE FLOAT, \
         ZPACKEDBOUNDINGBOXRECT INTEGER, ZSTARTTIME FLOAT, ZDURATION FLOAT, \
         ZCLASSIFICATIONTYPE INTEGER",
    ),
    (
        "ZEXTENDEDATTRIBUTES",
        "ZASSET INTEGER, ZAPERTURE FLOAT, ZBITRATE FLOAT, ZDURATION FLOAT, ZEXPOSUREBIAS FLOAT, \
         ZFLASHFIRED INTEGER, ZFOCALLENGTH FLOAT, ZFOCALLENGTHIN35MM INTEGER, ZFPS FLOAT, \
         ZISO INTEGER, ZLATITUDE FLOAT, ZLONGITUDE FLOAT, ZSHUTTERSPEED FLOAT, \
         ZCAMERAMAKE VARCHAR, ZCAMERAMODEL VARCHAR, ZCODEC VARCHAR, ZLENSMODEL VARCHAR, \
         ZTIMEZONENAME VARCHAR, ZDATECREATED TIMESTAMP",
    ),
    (
        "ZCHARACTERRECOGNITIONATTRIBUTES",
        "ZMEDIAANALYSISASSETATTRIBUTES INTEGER, ZALGORITHMVERSION INTEGER, \
         ZCHARACTERRECOGNITIONDATA BLOB, ZMACHINEREADABLECODEDATA BLOB",
    ),
];

/// Filler rows for the assets above `?1` (`Z_PK`): `{a}` is the asset table.
const ANALYSIS_FILL: &[&str] = &[
    // Sixty-odd scores, eight bytes each.
    "INSERT INTO ZCOMPUTEDASSETATTRIBUTES (ZASSET, ZSCORES) \
     SELECT Z_PK, randomblob(480) FROM {a} WHERE Z_PK > ?1",
    "INSERT INTO ZMEDIAANALYSISASSETATTRIBUTES (Z_PK, ZASSET, ZMEDIAANALYSISVERSION, \
     ZMEDIAANALYSISTIMESTAMP, ZACTIVITYSCORE, ZAUDIOCLASSIFICATION, ZBESTKEYFRAMETIMESCALE, \
     ZBLURRINESSSCORE, ZEXPOSURESCORE, ZFACECOUNT, ZPACKEDBESTPLAYBACKRECT, \
     ZCOLORNORMALIZATIONDATA) \
     SELECT Z_PK, Z_PK, 72, 700000000.5 + Z_PK, 0.25, 3, 600, 0.5, 0.75, Z_PK % 4, \
     Z_PK * 7919, randomblob(256) FROM {a} WHERE Z_PK > ?1",
    // Scene prints are a couple of kilobytes each.
    "INSERT INTO ZSCENEPRINT (ZMEDIAANALYSISASSETATTRIBUTES, ZVERSION, ZDATA) \
     SELECT Z_PK, 3, randomblob(2048) FROM {a} WHERE Z_PK > ?1",
    // A dozen classifications per asset.
    "WITH n(k) AS (VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10),(11),(12)) \
     INSERT INTO ZSCENECLASSIFICATION (ZASSETATTRIBUTES, ZSCENEIDENTIFIER, ZCONFIDENCE, \
     ZPACKEDBOUNDINGBOXRECT, ZSTARTTIME, ZDURATION, ZCLASSIFICATIONTYPE) \
     SELECT a.Z_PK, (a.Z_PK * 31 + n.k * 977) % 2000000, 0.5 + n.k / 100.0, \
     a.Z_PK * 1000003 + n.k, 0.0, 0.0, n.k % 3 \
     FROM {a} AS a, n WHERE a.Z_PK > ?1",
    "INSERT INTO ZEXTENDEDATTRIBUTES (ZASSET, ZAPERTURE, ZBITRATE, ZDURATION, ZEXPOSUREBIAS, \
     ZFLASHFIRED, ZFOCALLENGTH, ZFOCALLENGTHIN35MM, ZFPS, ZISO, ZLATITUDE, ZLONGITUDE, \
     ZSHUTTERSPEED, ZCAMERAMAKE, ZCAMERAMODEL, ZCODEC, ZLENSMODEL, ZTIMEZONENAME, ZDATECREATED) \
     SELECT Z_PK, 1.78, 0.0, 0.0, 0.0, 0, 5.1, 26, 0.0, 50 + Z_PK % 800, 48.85, 2.35, \
     0.008, 'Apple', 'iPhone 15 Pro', NULL, \
     'iPhone 15 Pro back triple camera 6.765mm f/1.78', 'Europe/Paris', ZDATECREATED \
     FROM {a} WHERE Z_PK > ?1",
    // Text found in about a quarter of the photos.
    "INSERT INTO ZCHARACTERRECOGNITIONATTRIBUTES (ZMEDIAANALYSISASSETATTRIBUTES, \
     ZALGORITHMVERSION, ZCHARACTERRECOGNITIONDATA, ZMACHINEREADABLECODEDATA) \
     SELECT Z_PK, 6, randomblob(1500), NULL FROM {a} WHERE Z_PK > ?1 AND Z_PK % 4 = 0",
];

/// Indexes Photos keeps on the analysis tables' asset columns.
const ANALYSIS_INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS ZCOMPUTEDASSETATTRIBUTES_ZASSET_INDEX \
     ON ZCOMPUTEDASSETATTRIBUTES (ZASSET)",
    "CREATE INDEX IF NOT EXISTS ZMEDIAANALYSISASSETATTRIBUTES_ZASSET_INDEX \
     ON ZMEDIAANALYSISASSETATTRIBUTES (ZASSET)",
    "CREATE INDEX IF NOT EXISTS ZSCENEPRINT_ZMEDIAANALYSISASSETATTRIBUTES_INDEX \
     ON ZSCENEPRINT (ZMEDIAANALYSISASSETATTRIBUTES)",
    "CREATE INDEX IF NOT EXISTS ZSCENECLASSIFICATION_ZASSETATTRIBUTES_INDEX \
     ON ZSCENECLASSIFICATION (ZASSETATTRIBUTES)",
    "CREATE INDEX IF NOT EXISTS ZEXTENDEDATTRIBUTES_ZASSET_INDEX ON ZEXTENDEDATTRIBUTES (ZASSET)",
];

/// Derivative resources per asset (thumbnails and previews Photos makes):
/// `ZINTERNALRESOURCE` rows that no reader rule looks at.
const DERIVATIVES: i64 = 4;
/// Their `Z_PK`s start here, far above the ones the builder hands out.
const DERIVATIVE_PK_BASE: i64 = 1_000_000_000;

/// Creates the analysis tables.
pub fn create(conn: &Connection) -> io::Result<()> {
    for (name, columns) in ANALYSIS_TABLES {
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {name} \
             (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, {columns})"
        ))
        .map_err(super::writer::sql_err)?;
    }
    Ok(())
}

/// Widens the rows of assets above `after` (`Z_PK`) and adds their analysis
/// and derivative rows. `filled` names the columns the builder wrote (kept
/// as they are, NULL included): every other column is given a value of its
/// type, as Photos' analysis fills them.
pub fn fill(
    conn: &Connection,
    model: &Model,
    after: i64,
    filled: &[(&str, &[&str])],
) -> io::Result<()> {
    let err = super::writer::sql_err;
    let asset = model.asset_table().name;
    for (table, written) in filled {
        let def = model.table(table);
        let key = if *table == asset { "Z_PK" } else { "ZASSET" };
        let sets: Vec<String> = def
            .columns
            .split(',')
            .filter_map(|c| {
                let mut words = c.split_whitespace();
                Some((words.next()?, words.next().unwrap_or("")))
            })
            .filter(|(name, _)| *name != "PRIMARY" && !written.contains(name))
            .map(|(name, kind)| format!("{name} = {}", filler(name, kind)))
            .collect();
        if !sets.is_empty() {
            conn.execute(
                &format!("UPDATE {table} SET {} WHERE {key} > ?1", sets.join(", ")),
                [after],
            )
            .map_err(err)?;
        }
    }
    for sql in ANALYSIS_FILL {
        conn.execute(&sql.replace("{a}", asset), [after])
            .map_err(err)?;
    }
    let resource = model.table("ZINTERNALRESOURCE");
    let has = |c: &str| resource.has(c);
    let optional = |c: &str, v: &str| has(c).then(|| (c.to_owned(), v.to_owned()));
    let mut columns: Vec<(String, String)> = vec![
        (
            "Z_PK".into(),
            format!("{DERIVATIVE_PK_BASE} + a.Z_PK * {DERIVATIVES} + n.k"),
        ),
        ("Z_ENT".into(), model.ent("InternalResource").to_string()),
        ("Z_OPT".into(), "1".into()),
        ("ZASSET".into(), "a.Z_PK".into()),
        ("ZRESOURCETYPE".into(), "0".into()),
        ("ZDATASTORESUBTYPE".into(), "0".into()),
        ("ZLOCALAVAILABILITY".into(), "1".into()),
        ("ZVERSION".into(), "0".into()),
        ("ZRECIPEID".into(), "65735 + 2 * n.k".into()),
        ("ZDATALENGTH".into(), "20000 * n.k".into()),
        ("ZUNORIENTEDWIDTH".into(), "256 * n.k".into()),
        ("ZUNORIENTEDHEIGHT".into(), "192 * n.k".into()),
    ];
    columns.extend(optional("ZFINGERPRINT", "hex(randomblob(14))"));
    columns.extend(optional("ZSTABLEHASH", "hex(randomblob(16))"));
    columns.extend(optional("ZCODECFOURCHARCODENAME", "'jpeg'"));
    columns.retain(|(c, _)| has(c));
    let (names, values): (Vec<_>, Vec<_>) = columns.into_iter().unzip();
    conn.execute(
        &format!(
            "WITH n(k) AS (VALUES (1),(2),(3),(4)) \
             INSERT INTO ZINTERNALRESOURCE ({}) SELECT {} FROM {asset} AS a, n \
             WHERE a.Z_PK > ?1",
            names.join(", "),
            values.join(", ")
        ),
        [after],
    )
    .map_err(err)?;
    Ok(())
}

/// Creates the analysis tables' indexes (after the bulk of the rows).
pub fn create_indexes(conn: &Connection) -> io::Result<()> {
    conn.execute_batch(&(ANALYSIS_INDEXES.join(";\n") + ";"))
        .map_err(super::writer::sql_err)
}

/// A value of a column's declared type, for the filler `UPDATE`. Flags,
/// links and text stay NULL or 0: other readers of Photos' schema give some
/// of them meaning (osxphotos takes any `ZSYNDICATIONIDENTIFIER` for a photo
/// shared in Messages and skips it), so the width comes from numbers and
/// blobs, which none of them reads from these tables (but the place data,
/// which osxphotos parses).
fn filler(name: &str, kind: &str) -> &'static str {
    if name.contains("LOCATION") {
        return "NULL";
    }
    match kind {
        "INTEGER" => "0",
        "FLOAT" | "TIMESTAMP" => "Z_PK * 1.618033988 + 0.5",
        "BLOB" => "randomblob(160)",
        _ => "NULL",
    }
}
