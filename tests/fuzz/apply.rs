//! Puts the drawn mutations into a library copy: SQL ones through SQLite
//! (so the file stays a valid database, with the change in its WAL or
//! checkpointed), then byte ones straight into the files. A mutation the
//! database refuses (a constraint, an index on a dropped column) is
//! reported as not applied and the case runs without it.

use std::fs;
use std::io::Write;
use std::path::Path;

use rusqlite::config::DbConfig;
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use synthetic::SplitMix64;

use super::mutate::{DbFile, Mutation, NotAFile, Rows, Value};

/// Applies `mutations` to the library at `root`; returns how many were not
/// applicable. `keep_wal`: leave SQL changes in the WAL (no checkpoint on close).
pub fn apply(
    root: &Path,
    mutations: &[Mutation],
    keep_wal: bool,
    rng: &mut SplitMix64,
) -> Result<usize, String> {
    let db = root.join("database/Photos.sqlite");
    let mut refused = 0;
    if mutations.iter().any(Mutation::is_sql) {
        let conn = Connection::open(&db).map_err(|e| format!("open {}: {e}", db.display()))?;
        if keep_wal {
            conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
                .map_err(|e| e.to_string())?;
            conn.pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(|e| e.to_string())?;
        }
        for m in mutations.iter().filter(|m| m.is_sql()) {
            if sql(&conn, m).is_err() {
                refused += 1;
            }
        }
    }
    for m in mutations.iter().filter(|m| !m.is_sql()) {
        bytes(root, m, rng).map_err(|e| format!("{m}: {e}"))?;
    }
    Ok(refused)
}

fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `WHERE` clause for `rows` of `table`.
fn row_filter(conn: &Connection, table: &str, rows: Rows) -> rusqlite::Result<String> {
    Ok(match rows {
        Rows::All => String::new(),
        Rows::Nth(n) => {
            let count: i64 =
                conn.query_row(&format!("SELECT COUNT(*) FROM {}", q(table)), [], |r| {
                    r.get(0)
                })?;
            let offset = n % count.max(1) as u64;
            format!(
                " WHERE rowid = (SELECT rowid FROM {} ORDER BY rowid LIMIT 1 OFFSET {offset})",
                q(table)
            )
        }
    })
}

fn sql(conn: &Connection, m: &Mutation) -> rusqlite::Result<()> {
    match m {
        Mutation::Set {
            table,
            column,
            rows,
            value,
        } => {
            let filter = row_filter(conn, table, *rows)?;
            let (param, placeholder) = match value {
                Value::Null => (SqlValue::Null, "?1"),
                Value::Int(n) => (SqlValue::Integer(*n), "?1"),
                Value::Real(x) => (SqlValue::Real(*x), "?1"),
                Value::Text(s) => (SqlValue::Text(s.clone()), "?1"),
                Value::BadText(b) => (SqlValue::Blob(b.clone()), "CAST(?1 AS TEXT)"),
                Value::Blob(b) => (SqlValue::Blob(b.clone()), "?1"),
            };
            conn.execute(
                &format!(
                    "UPDATE {} SET {} = {placeholder}{filter}",
                    q(table),
                    q(column)
                ),
                [param],
            )?;
        }
        Mutation::DeleteRows { table, every } => {
            conn.execute(
                &format!("DELETE FROM {} WHERE rowid % {every} = 0", q(table)),
                [],
            )?;
        }
        Mutation::DropTable { table } => {
            conn.execute_batch(&format!("DROP TABLE {}", q(table)))?;
        }
        Mutation::RenameTable { table, to } => {
            conn.execute_batch(&format!("ALTER TABLE {} RENAME TO {}", q(table), q(to)))?;
        }
        Mutation::DropColumn { table, column } => {
            drop_dependents(conn, column)?;
            conn.execute_batch(&format!(
                "ALTER TABLE {} DROP COLUMN {}",
                q(table),
                q(column)
            ))?;
        }
        Mutation::RenameColumn { table, column, to } => {
            conn.execute_batch(&format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                q(table),
                q(column),
                q(to)
            ))?;
        }
        Mutation::DuplicateUuid { table, rows } => {
            let filter = row_filter(conn, table, *rows)?;
            conn.execute(
                &format!(
                    "UPDATE {t} SET ZUUID = (SELECT ZUUID FROM {t} ORDER BY rowid LIMIT 1){filter}",
                    t = q(table)
                ),
                [],
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// Indexes and triggers that name `column` (of any table, to be safe):
/// SQLite will not drop a column they use.
fn drop_dependents(conn: &Connection, column: &str) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT type, name FROM sqlite_master WHERE type IN ('index', 'trigger') \
         AND sql LIKE '%' || ?1 || '%'",
    )?;
    let found: Vec<(String, String)> = stmt
        .query_map([column], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (kind, name) in found {
        conn.execute_batch(&format!("DROP {} {}", kind.to_uppercase(), q(&name)))?;
    }
    Ok(())
}

fn random_bytes(rng: &mut SplitMix64, len: u64) -> Vec<u8> {
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

fn bytes(root: &Path, m: &Mutation, rng: &mut SplitMix64) -> std::io::Result<()> {
    let dir = root.join("database");
    let path = |f: DbFile| dir.join(f.name());
    // A byte mutation of a file that is not there (no WAL) leaves it absent.
    let read = |f: DbFile| fs::read(path(f)).ok();
    match m {
        Mutation::Flip {
            file,
            at,
            count,
            xor,
        } => {
            if let Some(mut b) = read(*file).filter(|b| !b.is_empty()) {
                let len = b.len() as u64;
                let stride = (len / count).max(1);
                for i in 0..*count {
                    b[((at + i * stride) % len) as usize] ^= xor;
                }
                fs::write(path(*file), b)?;
            }
        }
        Mutation::GarbagePage { file, page } => {
            if let Some(mut b) = read(*file).filter(|b| !b.is_empty()) {
                let pages = (b.len() as u64).div_ceil(4096);
                let start = ((page % pages) * 4096) as usize;
                let end = (start + 4096).min(b.len());
                let junk = random_bytes(rng, (end - start) as u64);
                b[start..end].copy_from_slice(&junk);
                fs::write(path(*file), b)?;
            }
        }
        Mutation::Truncate { file, permille } => {
            if let Some(b) = read(*file) {
                let keep = (b.len() as u64 * permille / 1000) as usize;
                fs::write(path(*file), &b[..keep])?;
            }
        }
        Mutation::AppendJunk { file, len } => {
            let mut f = fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path(*file))?;
            f.write_all(&random_bytes(rng, *len))?;
        }
        Mutation::GarbageWal { len } => fs::write(path(DbFile::Wal), random_bytes(rng, *len))?,
        Mutation::Replace { file, with } => replace(&path(*file), *with)?,
        Mutation::GarbageShm => {
            let shm = dir.join("Photos.sqlite-shm");
            fs::write(&shm, random_bytes(rng, 32_768))?;
        }
        _ => {}
    }
    Ok(())
}

/// Puts `with` where the file at `path` was.
fn replace(path: &Path, with: NotAFile) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    match with {
        NotAFile::Fifo => {
            let ok = std::process::Command::new("mkfifo")
                .arg(path)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(std::io::Error::other("mkfifo failed"));
            }
        }
        NotAFile::Directory => fs::create_dir(path)?,
        NotAFile::DevZero => std::os::unix::fs::symlink("/dev/zero", path)?,
        NotAFile::Missing => {}
    }
    Ok(())
}
