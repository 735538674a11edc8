//! What this particular `Photos.sqlite` looks like, discovered from the file.
//!
//! Apple renames tables and columns between Photos versions (`ZGENERICASSET`
//! became `ZASSET`, `ZHASADJUSTMENTS` became `ZADJUSTMENTSSTATE`) and the
//! numbers in join-table names (`Z_1KEYWORDS.Z_37KEYWORDS`, `Z_26ASSETS`) are
//! Core Data entity numbers that shift whenever the model gains an entity.
//! Rather than a table of versions to keep up by hand, this module reads the
//! catalog (`sqlite_master`, `PRAGMA table_info`, `Z_PRIMARYKEY`) and answers
//! "which table, which column" for the concepts the reader needs. A column a
//! version lacks is read as NULL.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;

use super::PhotosError;

/// Photos 5 (macOS 10.15) is the first model this reader supports.
const FIRST_SUPPORTED_MODEL: i64 = 13_000;
/// The newest model seen in a real library (macOS 26.1). Newer ones still
/// read, with a warning, when the tables the reader needs are there.
const NEWEST_KNOWN_MODEL: i64 = 19_320;

/// A table and the set of its column names.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub name: String,
    columns: HashSet<String>,
}

/// `name` as an SQL identifier: in double quotes, inner ones doubled. Table
/// names are discovered from the file (join tables), so a hostile name must
/// not be able to end the identifier and add SQL of its own.
#[must_use]
pub(super) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Table {
    /// The table's name, quoted for SQL text.
    #[must_use]
    pub(super) fn sql(&self) -> String {
        ident(&self.name)
    }

    #[must_use]
    pub(super) fn has(&self, column: &str) -> bool {
        self.columns.contains(column)
    }

    /// `alias.COLUMN` for the first candidate the table has, else `NULL`:
    /// the way a renamed or missing column is read across versions.
    #[must_use]
    pub(super) fn col(&self, alias: &str, candidates: &[&str]) -> String {
        candidates
            .iter()
            .find(|c| self.has(c))
            .map_or_else(|| "NULL".to_owned(), |c| format!("{alias}.{c}"))
    }

    /// The first candidate column the table has.
    #[must_use]
    pub(super) fn first<'a>(&self, candidates: &[&'a str]) -> Option<&'a str> {
        candidates.iter().copied().find(|c| self.has(c))
    }

    fn columns_matching(&self, prefix: &str, suffix: &str) -> Option<&str> {
        self.columns.iter().map(String::as_str).find(|c| {
            c.starts_with(prefix) && c.ends_with(suffix) && is_entity_column(c, prefix, suffix)
        })
    }
}

/// `Z_<digits>ASSETS` and the like: Core Data's many-to-many columns.
fn is_entity_column(column: &str, prefix: &str, suffix: &str) -> bool {
    let middle = &column[prefix.len()..column.len() - suffix.len()];
    !middle.is_empty() && middle.bytes().all(|b| b.is_ascii_digit())
}

/// A many-to-many table: which column points at the asset side and which at
/// the other side.
#[derive(Debug, Clone)]
pub(super) struct JoinTable {
    table: String,
    pub(super) left: String,
    pub(super) right: String,
}

impl JoinTable {
    /// The table's name, quoted for SQL text.
    #[must_use]
    pub(super) fn sql(&self) -> String {
        ident(&self.table)
    }
}

/// The discovered shape of one library database.
#[derive(Debug, Clone)]
pub struct Schema {
    pub model_version: i64,
    /// `ZASSET` on Photos 6+, `ZGENERICASSET` on Photos 5.
    pub asset: Table,
    pub(super) attributes: Table,
    pub(super) description: Option<Table>,
    pub(super) resource: Option<Table>,
    pub(super) album: Option<Table>,
    pub(super) person: Option<Table>,
    pub(super) face: Option<Table>,
    pub(super) keyword: Option<Table>,
    /// `ZUNMANAGEDADJUSTMENT`: how an edit was made (external editors).
    pub(super) unmanaged_adjustment: Option<Table>,
    /// `ZUNIFORMTYPEIDENTIFIER`: UTI strings the resource table points at (Photos 5, 6).
    pub(super) uti_table: Option<Table>,
    /// `Z_1KEYWORDS`: attributes row (left) to keyword (right).
    pub(super) keywords_join: Option<JoinTable>,
    /// `Z_<n>ASSETS`: album (left) to asset (right).
    pub(super) albums_join: Option<JoinTable>,
    /// Core Data entity numbers by entity name, from `Z_PRIMARYKEY`.
    pub entities: HashMap<String, i64>,
    /// Set when the model is newer than any this reader was tested with.
    pub warning: Option<String>,
}

impl Schema {
    pub(super) fn discover(conn: &Connection, db: &std::path::Path) -> Result<Self, PhotosError> {
        let sql_err = |e: rusqlite::Error| PhotosError::Corrupt {
            path: db.to_owned(),
            detail: e.to_string(),
        };
        let tables = read_tables(conn).map_err(sql_err)?;
        let unsupported = |detail: String| PhotosError::Unsupported {
            path: db.to_owned(),
            detail,
        };

        if !tables.contains_key("Z_METADATA") || !tables.contains_key("Z_PRIMARYKEY") {
            return Err(unsupported(
                "the database has no Core Data metadata (Z_METADATA, Z_PRIMARYKEY); \
                 only Photos 5 (macOS 10.15) and later libraries are supported"
                    .into(),
            ));
        }
        let model_version = read_model_version(conn).map_err(unsupported)?;
        if model_version < FIRST_SUPPORTED_MODEL {
            return Err(unsupported(format!(
                "Photos model version {model_version} is older than Photos 5 (macOS 10.15); \
                 open the library once in a newer Photos to upgrade it"
            )));
        }
        let entities = read_entities(conn).map_err(sql_err)?;

        let take = |name: &str| tables.get(name).cloned();
        let asset = take("ZASSET")
            .or_else(|| take("ZGENERICASSET"))
            .ok_or_else(|| unsupported("no asset table (ZASSET or ZGENERICASSET)".into()))?;
        let attributes = take("ZADDITIONALASSETATTRIBUTES")
            .ok_or_else(|| unsupported("no table ZADDITIONALASSETATTRIBUTES".into()))?;
        for needed in ["Z_PK", "ZUUID", "ZDATECREATED"] {
            if !asset.has(needed) {
                return Err(unsupported(format!(
                    "{} has no column {needed}",
                    asset.name
                )));
            }
        }
        if !attributes.has("ZASSET") {
            return Err(unsupported(
                "ZADDITIONALASSETATTRIBUTES has no column ZASSET".into(),
            ));
        }

        let keywords_join = entities
            .get("Keyword")
            .and_then(|ent| find_join(&tables, &format!("Z_{ent}KEYWORDS"), "ASSETATTRIBUTES"));
        let albums_join = ["Album", "GenericAlbum"].iter().find_map(|name| {
            let ent = entities.get(*name)?;
            find_join(&tables, &format!("Z_{ent}ALBUMS"), "ASSETS")
        });

        let warning = (model_version > NEWEST_KNOWN_MODEL).then(|| {
            format!(
                "Photos model version {model_version} is newer than any this version of \
                 photos-backup was tested with ({NEWEST_KNOWN_MODEL}); reading it anyway"
            )
        });

        Ok(Self {
            model_version,
            asset,
            attributes,
            description: take("ZASSETDESCRIPTION"),
            resource: take("ZINTERNALRESOURCE"),
            album: take("ZGENERICALBUM"),
            person: take("ZPERSON"),
            face: take("ZDETECTEDFACE"),
            keyword: take("ZKEYWORD"),
            unmanaged_adjustment: take("ZUNMANAGEDADJUSTMENT"),
            uti_table: take("ZUNIFORMTYPEIDENTIFIER"),
            keywords_join,
            albums_join,
            entities,
            warning,
        })
    }
}

impl Schema {
    /// Every table the reader reads, for the integrity check.
    #[must_use]
    pub(super) fn tables_read(&self) -> Vec<&str> {
        let mut tables = vec![self.asset.name.as_str(), self.attributes.name.as_str()];
        let optional = [
            &self.description,
            &self.resource,
            &self.album,
            &self.person,
            &self.face,
            &self.keyword,
            &self.unmanaged_adjustment,
            &self.uti_table,
        ];
        tables.extend(optional.into_iter().flatten().map(|t| t.name.as_str()));
        tables.extend(self.keywords_join.iter().map(|j| j.table.as_str()));
        tables.extend(self.albums_join.iter().map(|j| j.table.as_str()));
        tables
    }
}

/// The many-to-many table that has the column `other` (e.g. `Z_37KEYWORDS`)
/// and a column `Z_<n><suffix>` for the asset side.
fn find_join(tables: &HashMap<String, Table>, other: &str, suffix: &str) -> Option<JoinTable> {
    let mut candidates: Vec<&Table> = tables.values().filter(|t| t.has(other)).collect();
    candidates.sort_by(|a, b| a.name.cmp(&b.name));
    candidates.into_iter().find_map(|t| {
        let left = t.columns_matching("Z_", suffix)?;
        Some(JoinTable {
            table: t.name.clone(),
            left: left.to_owned(),
            right: other.to_owned(),
        })
    })
}

fn read_tables(conn: &Connection) -> rusqlite::Result<HashMap<String, Table>> {
    let mut stmt = conn.prepare(
        "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p \
         WHERE m.type = 'table'",
    )?;
    let mut tables: HashMap<String, Table> = HashMap::new();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (table, column) = row?;
        let entry = tables.entry(table.clone()).or_insert_with(|| Table {
            name: table,
            columns: HashSet::new(),
        });
        entry.columns.insert(column);
    }
    Ok(tables)
}

fn read_entities(conn: &Connection) -> rusqlite::Result<HashMap<String, i64>> {
    let mut stmt = conn.prepare("SELECT Z_NAME, Z_ENT FROM Z_PRIMARYKEY")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    rows.collect()
}

/// `PLModelVersion` from the binary plist in `Z_METADATA.Z_PLIST`.
fn read_model_version(conn: &Connection) -> Result<i64, String> {
    let blob: Vec<u8> = conn
        .query_row("SELECT Z_PLIST FROM Z_METADATA LIMIT 1", [], |r| r.get(0))
        .map_err(|e| format!("cannot read Z_METADATA.Z_PLIST: {e}"))?;
    // The plist crate's error text is debug output (`Io(Error { kind: ... })`):
    // what the user needs is which value is bad.
    let len = blob.len();
    super::plist_guard::check(&blob)?;
    let value = plist::Value::from_reader(std::io::Cursor::new(blob)).map_err(|_| {
        format!("Z_METADATA.Z_PLIST is not a property list ({len} bytes of something else)")
    })?;
    let version = value
        .as_dictionary()
        .and_then(|d| d.get("PLModelVersion"))
        .ok_or("Z_METADATA has no PLModelVersion: not a Photos library database")?;
    version
        .as_signed_integer()
        .or_else(|| version.as_string().and_then(|s| s.trim().parse().ok()))
        .ok_or_else(|| format!("PLModelVersion is not a number: {version:?}"))
}
