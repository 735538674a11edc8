//! Which Photos version a synthetic library imitates, and everything that
//! follows from it: table definitions, indexes, Core Data entity numbers and
//! the names of the join tables built from them.

use super::ddl::{self, TableDef};

/// The shape of the database to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// macOS 10.15 (model 13703): `ZGENERICASSET`, `ZHASADJUSTMENTS`,
    /// `ZDETECTEDFACE.ZASSET`, a `ZUNIFORMTYPEIDENTIFIER` table; entities
    /// GenericAsset=34, Album=26, Keyword=37.
    Photos5,
    /// macOS 26.1 (model 19320): `ZASSET`, `ZADJUSTMENTSSTATE`,
    /// `ZDETECTEDFACE.ZASSETFORFACE`, `ZCOMPACTUTI`; entities Asset=3,
    /// Album=33, Keyword=52.
    Modern,
    /// A model newer than any known: the modern tables, with `model_version`
    /// in the metadata and every entity number from 2 up shifted by one (as
    /// when Apple adds an entity), so Asset=4, Album=34, Keyword=53. Tests
    /// that the reader discovers names instead of knowing them.
    Custom { model_version: i64 },
}

impl Flavor {
    #[must_use]
    pub fn model_version(self) -> i64 {
        match self {
            Self::Photos5 => 13_703,
            Self::Modern => 19_320,
            Self::Custom { model_version } => model_version,
        }
    }
}

/// The resolved schema of a flavor.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub flavor: Flavor,
    pub tables: &'static [TableDef],
    pub indexes: &'static [&'static str],
    /// `(Z_ENT, Z_NAME, Z_SUPER)` for every entity.
    pub entities: Vec<(i64, String, i64)>,
}

impl Model {
    pub fn new(flavor: Flavor) -> Self {
        let (tables, indexes, entities) = match flavor {
            Flavor::Photos5 => (
                ddl::PHOTOS5_TABLES,
                ddl::PHOTOS5_INDEXES,
                owned(ddl::PHOTOS5_ENTITIES),
            ),
            Flavor::Modern => (
                ddl::MODERN_TABLES,
                ddl::MODERN_INDEXES,
                owned(ddl::MODERN_ENTITIES),
            ),
            Flavor::Custom { .. } => (
                ddl::MODERN_TABLES,
                ddl::MODERN_INDEXES,
                shifted(ddl::MODERN_ENTITIES),
            ),
        };
        Self {
            flavor,
            tables,
            indexes,
            entities,
        }
    }

    pub fn photos5(&self) -> bool {
        self.flavor == Flavor::Photos5
    }

    pub fn table(&self, name: &str) -> &'static TableDef {
        self.tables
            .iter()
            .chain(ddl::CORE_DATA_TABLES)
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("synthetic schema has no table {name}"))
    }

    /// `ZGENERICASSET` or `ZASSET`.
    pub fn asset_table(&self) -> &'static TableDef {
        if self.photos5() {
            self.table("ZGENERICASSET")
        } else {
            self.table("ZASSET")
        }
    }

    /// The entity number of `name`.
    pub fn ent(&self, name: &str) -> i64 {
        self.entities
            .iter()
            .find(|(_, n, _)| n == name)
            .map_or_else(
                || panic!("synthetic model has no entity {name}"),
                |(e, _, _)| *e,
            )
    }

    /// `Z_ENT` of asset rows (`Asset`, a sub-entity of `GenericAsset` on Photos 5).
    pub fn asset_row_ent(&self) -> i64 {
        self.ent("Asset")
    }

    /// The number Core Data uses in many-to-many column names for assets:
    /// the root entity, `GenericAsset` where it exists.
    pub fn asset_join_ent(&self) -> i64 {
        self.entities
            .iter()
            .find(|(_, n, _)| n == "GenericAsset")
            .map_or_else(|| self.ent("Asset"), |(e, _, _)| *e)
    }

    /// `(table, album column, asset column, order column)` of album membership.
    pub fn albums_join(&self) -> (String, String, String, String) {
        let album = self.ent("Album");
        let asset = self.asset_join_ent();
        (
            format!("Z_{album}ASSETS"),
            format!("Z_{album}ALBUMS"),
            format!("Z_{asset}ASSETS"),
            format!("Z_FOK_{asset}ASSETS"),
        )
    }

    /// `(table, attributes column, keyword column)` of keyword assignment.
    pub fn keywords_join(&self) -> (String, String, String) {
        let attributes = self.ent("AdditionalAssetAttributes");
        let keyword = self.ent("Keyword");
        (
            format!("Z_{attributes}KEYWORDS"),
            format!("Z_{attributes}ASSETATTRIBUTES"),
            format!("Z_{keyword}KEYWORDS"),
        )
    }

    /// `CREATE TABLE` and `CREATE INDEX` of the join tables, as Core Data writes them.
    pub fn join_sql(&self) -> (Vec<String>, Vec<String>) {
        let (kt, kl, kr) = self.keywords_join();
        let (at, al, ar, afok) = self.albums_join();
        let tables = vec![
            format!("CREATE TABLE {kt} ( {kl} INTEGER, {kr} INTEGER, PRIMARY KEY ({kl}, {kr}) )"),
            format!(
                "CREATE TABLE {at} ( {al} INTEGER, {ar} INTEGER, {afok} INTEGER, \
                 PRIMARY KEY ({al}, {ar}) )"
            ),
        ];
        let indexes = vec![
            format!("CREATE INDEX {kt}_{kr}_INDEX ON {kt} ({kr}, {kl})"),
            format!("CREATE INDEX {at}_{ar}_INDEX ON {at} ({ar}, {al})"),
        ];
        (tables, indexes)
    }
}

fn owned(entities: &[(i64, &str, i64)]) -> Vec<(i64, String, i64)> {
    entities
        .iter()
        .map(|&(e, n, s)| (e, n.to_owned(), s))
        .collect()
}

/// The modern entities with a made-up entity inserted at number 2.
fn shifted(entities: &[(i64, &str, i64)]) -> Vec<(i64, String, i64)> {
    let bump = |e: i64| if e >= 2 { e + 1 } else { e };
    let mut out: Vec<(i64, String, i64)> = entities
        .iter()
        .map(|&(e, n, s)| (bump(e), n.to_owned(), bump(s)))
        .collect();
    out.push((2, "SyntheticFutureEntity".to_owned(), 0));
    out.sort_by_key(|(e, _, _)| *e);
    out
}
