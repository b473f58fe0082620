//! SQLite: a consistent copy with the online backup API, per-table figures,
//! and the database's own consistency checks on a restored copy.
//!
//! The copy is made in one backup step (`step(-1)`), which holds a read
//! transaction for its duration: writers in WAL mode keep writing, writers in
//! rollback mode wait on their busy timeout, and the copy is one consistent
//! point in time. Table digests are computed on the copy, so they describe
//! exactly what was stored. Restored files are opened with `immutable=1`:
//! verification must not create `-wal`/`-shm` files in the restored tree.

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Error, Result};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};

use crate::manifest::Table;

/// How long to keep retrying while the source is locked by a writer.
const BUSY_LIMIT: Duration = Duration::from_secs(60);

fn sql_err(path: &Path, e: rusqlite::Error) -> Error {
    Error::new(format!("{}: sqlite: {e}", path.display()))
}

/// Copies the live database `src` into the new file `dst` consistently.
pub fn online_copy(src: &Path, dst: &Path) -> Result<()> {
    if !src.is_file() {
        return Err(Error::io(
            src.display(),
            std::io::Error::new(std::io::ErrorKind::NotFound, "not a database file"),
        ));
    }
    let from = Connection::open_with_flags(
        src,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sql_err(src, e))?;
    from.busy_timeout(Duration::from_secs(10))
        .map_err(|e| sql_err(src, e))?;
    // Read the schema first: on a file that is not a database the backup
    // step only reports "not an error" (the message of the destination).
    from.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| sql_err(src, e))?;
    let mut to = Connection::open(dst).map_err(|e| sql_err(dst, e))?;
    {
        let backup = Backup::new(&from, &mut to).map_err(|e| sql_err(src, e))?;
        let started = Instant::now();
        // Bounded: each round either finishes or waits 20 ms on a lock.
        loop {
            match backup.step(-1).map_err(|e| sql_err(src, e))? {
                StepResult::Done => break,
                StepResult::More => continue,
                StepResult::Busy | StepResult::Locked => {
                    if started.elapsed() > BUSY_LIMIT {
                        return Err(Error::new(format!(
                            "{}: database stayed locked for {}s; no consistent copy possible",
                            src.display(),
                            BUSY_LIMIT.as_secs()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    return Err(Error::new(format!(
                        "{}: unexpected backup step",
                        src.display()
                    )))
                }
            }
        }
    }
    // A copy of a WAL database is itself in WAL mode; make it a single
    // self-contained file so restore and verification see one file.
    to.pragma_update(None, "journal_mode", "DELETE")
        .map_err(|e| sql_err(dst, e))?;
    to.close().map_err(|(_, e)| sql_err(dst, e))?;
    // Check the copy opens and is a database (integrity is checked on restore).
    Ok(())
}

/// Opens a database file without writing anything next to it.
pub fn open_immutable(path: &Path) -> Result<Connection> {
    let uri = format!("file:{}?immutable=1", uri_escape(&path.to_string_lossy()));
    Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sql_err(path, e))
}

fn uri_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'%' | b'?' | b'#' => out.push_str(&format!("%{b:02X}")),
            _ => out.push(b as char),
        }
    }
    out
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Row count and content digest of every user table, sorted by name.
///
/// The digest covers the column names and every row, ordered by all columns,
/// with each value typed and length-prefixed so no two contents collide.
pub fn tables(conn: &Connection, path: &Path) -> Result<Vec<Table>> {
    let names: Vec<String> = {
        let mut stmt = conn
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            )
            .map_err(|e| sql_err(path, e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| sql_err(path, e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| sql_err(path, e))?
    };
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        out.push(table(conn, path, &name)?);
    }
    Ok(out)
}

fn table(conn: &Connection, path: &Path, name: &str) -> Result<Table> {
    let probe = conn
        .prepare(&format!("SELECT * FROM {} LIMIT 0", quote(name)))
        .map_err(|e| sql_err(path, e))?;
    let columns: Vec<String> = probe.column_names().iter().map(|c| c.to_string()).collect();
    drop(probe);
    let order: Vec<String> = (1..=columns.len()).map(|i| i.to_string()).collect();
    let sql = if order.is_empty() {
        format!("SELECT * FROM {}", quote(name))
    } else {
        format!("SELECT * FROM {} ORDER BY {}", quote(name), order.join(","))
    };
    let mut stmt = conn.prepare(&sql).map_err(|e| sql_err(path, e))?;
    let mut hasher = Sha256::new();
    for c in &columns {
        hasher.update((c.len() as u64).to_le_bytes());
        hasher.update(c.as_bytes());
    }
    let n = columns.len();
    let mut rows = stmt.query([]).map_err(|e| sql_err(path, e))?;
    let mut count = 0u64;
    while let Some(row) = rows.next().map_err(|e| sql_err(path, e))? {
        count += 1;
        hasher.update(b"R");
        for i in 0..n {
            match row.get_ref(i).map_err(|e| sql_err(path, e))? {
                ValueRef::Null => hasher.update(b"N"),
                ValueRef::Integer(v) => {
                    hasher.update(b"I");
                    hasher.update(v.to_le_bytes());
                }
                ValueRef::Real(v) => {
                    hasher.update(b"F");
                    hasher.update(v.to_bits().to_le_bytes());
                }
                ValueRef::Text(t) => {
                    hasher.update(b"T");
                    hasher.update((t.len() as u64).to_le_bytes());
                    hasher.update(t);
                }
                ValueRef::Blob(b) => {
                    hasher.update(b"B");
                    hasher.update((b.len() as u64).to_le_bytes());
                    hasher.update(b);
                }
            }
        }
    }
    Ok(Table {
        name: name.to_string(),
        rows: count,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// `PRAGMA integrity_check` lines; `["ok"]` for a sound database.
pub fn integrity_check(conn: &Connection, path: &Path) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare("PRAGMA integrity_check")
        .map_err(|e| sql_err(path, e))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(|e| sql_err(path, e))?;
    rows.collect::<rusqlite::Result<_>>()
        .map_err(|e| sql_err(path, e))
}

/// `PRAGMA foreign_key_check` violations as `table rowid N -> parent`.
pub fn foreign_key_check(conn: &Connection, path: &Path) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare("PRAGMA foreign_key_check")
        .map_err(|e| sql_err(path, e))?;
    let rows = stmt
        .query_map([], |r| {
            let table: String = r.get(0)?;
            let rowid: Option<i64> = r.get(1)?;
            let parent: String = r.get(2)?;
            Ok(match rowid {
                Some(id) => format!("{table} rowid {id} -> {parent}"),
                None => format!("{table} -> {parent}"),
            })
        })
        .map_err(|e| sql_err(path, e))?;
    rows.collect::<rusqlite::Result<_>>()
        .map_err(|e| sql_err(path, e))
}
