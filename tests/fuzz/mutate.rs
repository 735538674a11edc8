//! The mutations the reader fuzzer applies to a copy of a library, drawn
//! from a seeded PRNG: SQL-level (hostile values, dropped or renamed tables
//! and columns, deleted rows, dangling keys, duplicate uuids) and
//! byte-level (flipped bytes, garbage pages, truncation, junk, and things
//! that are not files where the database and its WAL belong). Each one
//! prints in full, so a finding can be read and replayed.

use std::fmt;

use synthetic::SplitMix64;

/// A table and its columns, as found in a base library.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub name: String,
    pub columns: Vec<String>,
}

/// The tables the reader looks at: most mutations aim at them.
const READ_TABLES: [&str; 13] = [
    "ZASSET",
    "ZGENERICASSET",
    "ZADDITIONALASSETATTRIBUTES",
    "ZINTERNALRESOURCE",
    "Z_PRIMARYKEY",
    "Z_METADATA",
    "ZKEYWORD",
    "ZPERSON",
    "ZDETECTEDFACE",
    "ZGENERICALBUM",
    "ZASSETDESCRIPTION",
    "ZUNMANAGEDADJUSTMENT",
    "ZUNIFORMTYPEIDENTIFIER",
];

/// The asset columns that make paths: aimed at more often still.
const PATH_COLUMNS: [&str; 5] = [
    "ZUUID",
    "ZFILENAME",
    "ZDIRECTORY",
    "ZSAVEDASSETTYPE",
    "ZKINDSUBTYPE",
];

/// Whether the reader reads `table` (a fixed name or a `Z_<n>...` join table).
#[must_use]
pub fn is_read(table: &str) -> bool {
    READ_TABLES.contains(&table) || is_join(table)
}

/// A Core Data many-to-many table (`Z_<n>KEYWORDS`, `Z_<n>ASSETS`, ...),
/// found by the reader from its columns, whatever its name.
#[must_use]
pub fn is_join(table: &str) -> bool {
    table
        .strip_prefix("Z_")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// A value written into a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    /// Bytes stored as TEXT that are not UTF-8.
    BadText(Vec<u8>),
    Blob(Vec<u8>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "NULL"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Real(x) => write!(f, "{x:e}"),
            Value::Text(s) if s.chars().count() > 40 => {
                write!(
                    f,
                    "text {:?}... ({} chars)",
                    s.chars().take(8).collect::<String>(),
                    s.chars().count()
                )
            }
            Value::Text(s) => write!(f, "text {s:?}"),
            Value::BadText(b) => write!(f, "non-UTF-8 text {b:02X?}"),
            Value::Blob(b) if b.len() > 64 => {
                write!(f, "blob of {} bytes starting {:02X?}", b.len(), &b[..16])
            }
            Value::Blob(b) => write!(f, "blob {b:02X?}"),
        }
    }
}

/// Which rows an update touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    All,
    /// The row at this position in rowid order, modulo the row count.
    Nth(u64),
}

impl fmt::Display for Rows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rows::All => write!(f, "every row"),
            Rows::Nth(n) => write!(f, "row #{n} (mod count)"),
        }
    }
}

/// The database file or its WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFile {
    Db,
    Wal,
}

impl DbFile {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DbFile::Db => "Photos.sqlite",
            DbFile::Wal => "Photos.sqlite-wal",
        }
    }
}

/// What stands where a regular file belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAFile {
    Fifo,
    Directory,
    DevZero,
    Missing,
}

/// One change to a library copy.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    Set {
        table: String,
        column: String,
        rows: Rows,
        value: Value,
    },
    DeleteRows {
        table: String,
        every: u64,
    },
    DropTable {
        table: String,
    },
    RenameTable {
        table: String,
        to: String,
    },
    DropColumn {
        table: String,
        column: String,
    },
    RenameColumn {
        table: String,
        column: String,
        to: String,
    },
    DuplicateUuid {
        table: String,
        rows: Rows,
    },
    /// Bytes flipped (XOR `xor`) at `count` places spread from `at` (modulo the length).
    Flip {
        file: DbFile,
        at: u64,
        count: u64,
        xor: u8,
    },
    GarbagePage {
        file: DbFile,
        page: u64,
    },
    Truncate {
        file: DbFile,
        permille: u64,
    },
    AppendJunk {
        file: DbFile,
        len: u64,
    },
    /// The WAL replaced with this many random bytes.
    GarbageWal {
        len: u64,
    },
    Replace {
        file: DbFile,
        with: NotAFile,
    },
    /// Random bytes over the `-shm` (which the reader must not use).
    GarbageShm,
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::Set {
                table,
                column,
                rows,
                value,
            } => {
                write!(f, "set {table}.{column} of {rows} to {value}")
            }
            Mutation::DeleteRows { table, every } => {
                write!(f, "delete every {every}th row of {table}")
            }
            Mutation::DropTable { table } => write!(f, "drop table {table}"),
            Mutation::RenameTable { table, to } => write!(f, "rename table {table} to {to:?}"),
            Mutation::DropColumn { table, column } => write!(f, "drop column {table}.{column}"),
            Mutation::RenameColumn { table, column, to } => {
                write!(f, "rename column {table}.{column} to {to:?}")
            }
            Mutation::DuplicateUuid { table, rows } => {
                write!(f, "give {rows} of {table} the uuid of its first row")
            }
            Mutation::Flip {
                file,
                at,
                count,
                xor,
            } => write!(
                f,
                "xor {count} bytes of {} with {xor:#04x} from offset {at} (mod length)",
                file.name()
            ),
            Mutation::GarbagePage { file, page } => {
                write!(f, "garbage over page {page} (mod pages) of {}", file.name())
            }
            Mutation::Truncate { file, permille } => {
                write!(f, "truncate {} to {permille}\u{2030}", file.name())
            }
            Mutation::AppendJunk { file, len } => {
                write!(f, "append {len} junk bytes to {}", file.name())
            }
            Mutation::GarbageWal { len } => write!(f, "replace the WAL with {len} random bytes"),
            Mutation::Replace { file, with } => write!(f, "{with:?} in place of {}", file.name()),
            Mutation::GarbageShm => write!(f, "random bytes over Photos.sqlite-shm"),
        }
    }
}

impl Mutation {
    /// Changes the SQL content (applied through SQLite, before byte mutations).
    #[must_use]
    pub fn is_sql(&self) -> bool {
        matches!(
            self,
            Mutation::Set { .. }
                | Mutation::DeleteRows { .. }
                | Mutation::DropTable { .. }
                | Mutation::RenameTable { .. }
                | Mutation::DropColumn { .. }
                | Mutation::RenameColumn { .. }
                | Mutation::DuplicateUuid { .. }
        )
    }
}

/// The mutations of one case: SQL ones, byte ones, or both.
pub fn draw(rng: &mut SplitMix64, tables: &[TableInfo]) -> Vec<Mutation> {
    let mut out = Vec::new();
    match rng.below(10) {
        // Mostly hostile content: the reader's rules meet it row by row.
        0..=5 => {
            for _ in 0..=rng.below(3) {
                out.push(sql(rng, tables));
            }
        }
        6..=8 => out.push(bytes(rng)),
        _ => {
            out.push(sql(rng, tables));
            out.push(bytes(rng));
        }
    }
    out
}

fn pick_table<'a>(rng: &mut SplitMix64, tables: &'a [TableInfo]) -> &'a TableInfo {
    let read: Vec<&TableInfo> = tables.iter().filter(|t| is_read(&t.name)).collect();
    if !read.is_empty() && rng.chance(0.85) {
        read[rng.below(read.len() as u64) as usize]
    } else {
        rng.pick(tables)
    }
}

fn pick_column(rng: &mut SplitMix64, table: &TableInfo) -> String {
    let paths: Vec<&String> = table
        .columns
        .iter()
        .filter(|c| PATH_COLUMNS.contains(&c.as_str()))
        .collect();
    if !paths.is_empty() && rng.chance(0.4) {
        return paths[rng.below(paths.len() as u64) as usize].clone();
    }
    rng.pick(&table.columns).clone()
}

fn rows(rng: &mut SplitMix64) -> Rows {
    if rng.chance(0.2) {
        Rows::All
    } else {
        Rows::Nth(rng.below(64))
    }
}

/// One SQL-level mutation.
pub fn sql(rng: &mut SplitMix64, tables: &[TableInfo]) -> Mutation {
    // The attacks on paths and on discovered names, aimed at on purpose:
    // left to chance among hundreds of columns they would be rare.
    let asset = tables
        .iter()
        .find(|t| t.name == "ZASSET" || t.name == "ZGENERICASSET");
    // The keyword and album joins are the ones the reader reads.
    let joins: Vec<&TableInfo> = tables
        .iter()
        .filter(|t| {
            is_join(&t.name) && (t.name.ends_with("KEYWORDS") || t.name.ends_with("ASSETS"))
        })
        .collect();
    match (rng.below(10), asset) {
        (0..=2, Some(asset)) => {
            let column = (*rng.pick(&PATH_COLUMNS)).to_owned();
            if asset.columns.contains(&column) {
                return Mutation::Set {
                    table: asset.name.clone(),
                    column,
                    rows: rows(rng),
                    value: path_value(rng),
                };
            }
        }
        (3, _) if !joins.is_empty() => {
            let table = joins[rng.below(joins.len() as u64) as usize].name.clone();
            return Mutation::RenameTable {
                to: hostile_name(rng, &table),
                table,
            };
        }
        _ => {}
    }
    let table = pick_table(rng, tables);
    let name = table.name.clone();
    match rng.below(20) {
        0..=12 => Mutation::Set {
            column: pick_column(rng, table),
            table: name,
            rows: rows(rng),
            value: value(rng),
        },
        13 => Mutation::DeleteRows {
            table: name,
            every: 1 + rng.below(3),
        },
        14 => Mutation::DropTable { table: name },
        15 => Mutation::RenameTable {
            to: hostile_name(rng, &name),
            table: name,
        },
        16 => Mutation::DropColumn {
            column: pick_column(rng, table),
            table: name,
        },
        17 => {
            let column = pick_column(rng, table);
            Mutation::RenameColumn {
                to: hostile_name(rng, &column),
                column,
                table: name,
            }
        }
        _ => {
            let asset = tables
                .iter()
                .find(|t| t.name == "ZASSET" || t.name == "ZGENERICASSET")
                .map_or(name, |t| t.name.clone());
            Mutation::DuplicateUuid {
                table: asset,
                rows: rows(rng),
            }
        }
    }
}

/// A new name for a table or column: odd, quoted, or an SQL injection.
fn hostile_name(rng: &mut SplitMix64, old: &str) -> String {
    let forms = [
        format!("{old}_renamed"),
        format!("{old} x"),
        format!("{old}\"; DROP TABLE ZASSET; --"),
        format!("{old}'"),
        format!("[{old}]"),
        format!("{old}) UNION SELECT 1 --"),
        "Z".to_owned(),
    ];
    rng.pick(&forms).clone()
}

/// A hostile value for a column.
pub fn value(rng: &mut SplitMix64) -> Value {
    let texts = [
        "",
        "a\0b.jpeg",
        "\0",
        "/",
        "..",
        "../../../../etc/passwd",
        "/etc",
        "/etc/passwd",
        "\u{1}\u{1b}[31m\r\n\t",
        "x'); DROP TABLE ZASSET; --",
        "\"",
        "d79b8d77-bffc-460b-9312-034f2877d35b",
        "Zu\u{308}rich",
        "Z_99KEYWORDS",
        "com.apple.Photos.externalEdit",
        "public.heic",
    ];
    match rng.below(17) {
        0..=2 => Value::Null,
        3 => Value::Int(*rng.pick(&[i64::MAX, i64::MIN, -1, 0, 1, 2, 3, 10, 17, 1505])),
        4 => Value::Int(rng.next_u64() as i64),
        5 => Value::Real(*rng.pick(&[1e308, -1e308, 1e20, -1e20, 0.5, 252_423_993_600.0])),
        6..=10 => Value::Text((*rng.pick(&texts)).to_owned()),
        11 => Value::Text("T".repeat(10_000)),
        12 => Value::Text(format!("{}/{}", "../".repeat(8), "é".repeat(300))),
        13 => Value::BadText(vec![0xC3, 0x28, b'/', 0xFF, b'.', b'.', 0x80]),
        14 => Value::Blob(vec![0xFF, 0xFE, 0x00, b'.', b'.', b'/', 0xC0]),
        // A binary plist nested far deeper than a recursive parser's stack.
        15 => Value::Blob(deep_plist(20_000)),
        _ => Value::Blob((0..rng.below(40)).map(|_| rng.next_u64() as u8).collect()),
    }
}

/// A binary plist of `levels` arrays each holding the next, built byte by
/// byte (as values, they would overflow the fuzzer's own stack).
fn deep_plist(levels: u32) -> Vec<u8> {
    let mut blob = b"bplist00".to_vec();
    let mut offsets = Vec::new();
    for i in 0..levels {
        offsets.push(u32::try_from(blob.len()).unwrap());
        blob.push(0xA1);
        blob.extend((i + 1).to_be_bytes());
    }
    offsets.push(u32::try_from(blob.len()).unwrap());
    blob.extend([0x10, 1]);
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

/// A value for a column that makes paths: hostile paths, odd uuids, the
/// referenced-file marker, or any hostile value.
fn path_value(rng: &mut SplitMix64) -> Value {
    let texts = [
        "a\0b.jpeg",
        "A\0",
        "/etc",
        "/etc/passwd",
        "../../../../etc",
        "..",
        "/",
        "A/../../B",
        "../../../../tmp/x",
        "A B",
        "",
        // What a process can read but must never stage (issue 13).
        "/proc/self",
        "environ",
        "/proc/self/environ",
        "/dev",
        "zero",
        "/sys/kernel",
    ];
    match rng.below(5) {
        0 | 1 => Value::Text((*rng.pick(&texts)).to_owned()),
        2 => Value::Int(*rng.pick(&[10, 3, 4, 6, 0, -1])),
        _ => value(rng),
    }
}

/// One byte-level (or file-kind) mutation.
pub fn bytes(rng: &mut SplitMix64) -> Mutation {
    let file = if rng.chance(0.5) {
        DbFile::Db
    } else {
        DbFile::Wal
    };
    match rng.below(12) {
        0 | 1 => Mutation::Flip {
            file,
            at: rng.next_u64(),
            count: 1 + rng.below(64),
            xor: 1 + rng.below(255) as u8,
        },
        2 | 3 => Mutation::GarbagePage {
            file,
            page: rng.below(1024),
        },
        4 => Mutation::Truncate {
            file,
            permille: rng.below(1000),
        },
        5 => Mutation::AppendJunk {
            file,
            len: 1 + rng.below(9000),
        },
        6 => Mutation::GarbageWal {
            len: rng.below(70_000),
        },
        7 | 8 => Mutation::Replace {
            file,
            with: *rng.pick(&[
                NotAFile::Fifo,
                NotAFile::Directory,
                NotAFile::DevZero,
                NotAFile::Missing,
            ]),
        },
        9 => Mutation::GarbageShm,
        // Header and first pages matter most: aim there too.
        _ => Mutation::Flip {
            file: DbFile::Db,
            at: rng.below(200),
            count: 1 + rng.below(4),
            xor: 1 + rng.below(255) as u8,
        },
    }
}
