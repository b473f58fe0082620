//! Sessions, chat messages, confirmations and provenance in a real SQLite file.
//!
//! WAL mode so readers (backup-drill's online backup, `--audit`) never block
//! the service and the service never blocks them for long. One connection
//! behind a mutex: each statement takes microseconds, far below a request's
//! other costs.
//!
//! Every write that touches more than one row runs in one transaction, so a
//! crash leaves either all of it or none of it. `--no-transactions` turns
//! that off (each statement commits on its own), which is how the crash
//! drill's negative control leaves half-written state behind.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use crate::provenance;

/// What a stop did.
#[derive(Debug, PartialEq, Eq)]
pub enum StopResult {
    Stopped {
        stopped_at: String,
        messages: i64,
        expired_confirmations: usize,
    },
    Unknown,
    AlreadyStopped,
}

/// The faults that break the state's invariants (see the README).
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Multi-statement writes commit statement by statement.
    pub no_transactions: bool,
    /// Decisions check the confirmation, then write without a guard.
    pub unguarded_decisions: bool,
    /// Every Nth provenance record links past its predecessor.
    pub skip_chain_every: Option<u64>,
    /// Every Nth provenance record has an empty `source_type`.
    pub blank_provenance_every: Option<u64>,
}

pub struct Store {
    conn: Mutex<Connection>,
    path: String,
    pub faults: Faults,
}

pub const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS sessions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user           TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    stopped_at     TEXT,
    correlation_id TEXT
);
CREATE TABLE IF NOT EXISTS messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    at         TEXT NOT NULL,
    message    TEXT NOT NULL,
    reply      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS provenance (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  INTEGER NOT NULL,
    memory_id   TEXT NOT NULL,
    source_type TEXT NOT NULL,
    tracked_at  TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS confirmations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    action     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status     TEXT NOT NULL,
    decided_at TEXT
);
-- One row per decision written. session_state is what the sessions table
-- said at the moment of the insert (computed by the INSERT itself), so the
-- audit sees a decision made for a closed session even when the code that
-- made it believed the session open.
CREATE TABLE IF NOT EXISTS decisions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    confirmation_id INTEGER NOT NULL,
    decision        TEXT NOT NULL,
    at              TEXT NOT NULL,
    session_state   TEXT NOT NULL
);";

/// `s-000042` ↔ 42 (and `m-` for memories, `c-` for confirmations, `p-` for
/// provenance records).
pub fn name(prefix: char, id: i64) -> String {
    format!("{prefix}-{id:06}")
}

pub fn parse_name(prefix: char, name: &str) -> Option<i64> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('-')?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok().filter(|n| *n > 0)
}

pub fn session_name(id: i64) -> String {
    name('s', id)
}

pub fn session_id(name: &str) -> Option<i64> {
    parse_name('s', name)
}

/// A session as the read endpoint shows it.
#[derive(Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub user: String,
    pub started_at: String,
    pub stopped_at: Option<String>,
    pub messages: i64,
    pub confirmations: i64,
}

/// A stored message and its provenance record, as the read endpoint shows it.
#[derive(Debug, PartialEq, Eq)]
pub struct MemoryRow {
    pub session_id: i64,
    pub at: String,
    pub message: String,
    pub reply: String,
    pub provenance: Option<provenance::Record>,
}

pub type DbResult<T> = Result<T, String>;

impl Store {
    pub fn open(path: &Path, faults: Faults) -> common::Result<Store> {
        let shown = path.display().to_string();
        let fail = |e: rusqlite::Error| common::Error::new(format!("{shown}: {e}"));
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(fail)?;
        conn.execute_batch(SCHEMA).map_err(fail)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: shown,
            faults,
        })
    }

    pub fn err(&self, e: rusqlite::Error) -> String {
        format!("{}: {e}", self.path)
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (an open transaction is rolled back when it is dropped), so a
        // poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `body` as one write: in a transaction, or (`--no-transactions`)
    /// statement by statement, each committing on its own.
    pub fn write<T>(
        &self,
        conn: &mut Connection,
        body: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> DbResult<T> {
        if self.faults.no_transactions {
            return body(conn).map_err(|e| self.err(e));
        }
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let value = body(&tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(value)
    }

    /// Starts a session; returns its numeric id.
    pub fn start(&self, user: &str, at: &str, correlation_id: &str) -> DbResult<i64> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO sessions (user, started_at, correlation_id) VALUES (?1, ?2, ?3)",
            params![user, at, correlation_id],
        )
        .map_err(|e| self.err(e))?;
        Ok(conn.last_insert_rowid())
    }

    /// Closes a session and expires its pending confirmations, as one write.
    pub fn stop(&self, id: i64, at: &str) -> DbResult<StopResult> {
        let mut conn = self.lock();
        self.write(&mut conn, |c| {
            let row: Option<Option<String>> = c
                .query_row("SELECT stopped_at FROM sessions WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?;
            match row {
                None => Ok(StopResult::Unknown),
                Some(Some(_)) => Ok(StopResult::AlreadyStopped),
                Some(None) => {
                    c.execute(
                        "UPDATE sessions SET stopped_at = ?1 WHERE id = ?2",
                        params![at, id],
                    )?;
                    let expired = c.execute(
                        "UPDATE confirmations SET status = 'expired', decided_at = ?1
                         WHERE session_id = ?2 AND status = 'pending'",
                        params![at, id],
                    )?;
                    let messages: i64 = c.query_row(
                        "SELECT count(*) FROM messages WHERE session_id = ?1",
                        [id],
                        |r| r.get(0),
                    )?;
                    Ok(StopResult::Stopped {
                        stopped_at: at.to_string(),
                        messages,
                        expired_confirmations: expired,
                    })
                }
            }
        })
    }

    /// Whether session `id` exists and is open.
    pub fn is_open(&self, id: i64) -> DbResult<bool> {
        let conn = self.lock();
        is_open(&conn, id).map_err(|e| self.err(e))
    }

    /// Records a chat turn in an open session: the message and its
    /// provenance record, as one write. `Ok(None)` if the session is not
    /// open.
    pub fn turn(
        &self,
        session: i64,
        at: &str,
        message: &str,
        reply: &str,
    ) -> DbResult<Option<i64>> {
        self.turn_as(session, None, at, message, reply)
    }

    /// A turn answered earlier under `--write-behind`, with the id it was
    /// given then; stored even if its session has closed since (it was
    /// open when the turn was accepted).
    pub fn turn_behind(
        &self,
        session: i64,
        id: i64,
        at: &str,
        message: &str,
        reply: &str,
    ) -> DbResult<Option<i64>> {
        self.turn_as(session, Some(id), at, message, reply)
    }

    fn turn_as(
        &self,
        session: i64,
        id: Option<i64>,
        at: &str,
        message: &str,
        reply: &str,
    ) -> DbResult<Option<i64>> {
        let mut conn = self.lock();
        let faults = self.faults.clone();
        self.write(&mut conn, |c| {
            let Some(message_id) = insert_message(c, session, id, at, message, reply)? else {
                return Ok(None);
            };
            provenance::append(c, &faults, message_id, at)?;
            Ok(Some(message_id))
        })
    }

    /// The first half of a turn under `--no-transactions`: the message alone.
    pub fn message_only(
        &self,
        session: i64,
        at: &str,
        message: &str,
        reply: &str,
    ) -> DbResult<Option<i64>> {
        let conn = self.lock();
        insert_message(&conn, session, None, at, message, reply).map_err(|e| self.err(e))
    }

    /// The second half of a turn under `--no-transactions`: its provenance.
    pub fn provenance_only(&self, message_id: i64, at: &str) -> DbResult<()> {
        let conn = self.lock();
        provenance::append(&conn, &self.faults, message_id, at).map_err(|e| self.err(e))
    }

    /// The highest message id so far (write-behind numbers messages after it).
    pub fn last_message_id(&self) -> DbResult<i64> {
        let conn = self.lock();
        conn.query_row("SELECT coalesce(max(id), 0) FROM messages", [], |r| {
            r.get(0)
        })
        .map_err(|e| self.err(e))
    }

    pub fn session(&self, id: i64) -> DbResult<Option<SessionRow>> {
        let conn = self.lock();
        conn.query_row(
            "SELECT user, started_at, stopped_at,
                    (SELECT count(*) FROM messages WHERE session_id = ?1),
                    (SELECT count(*) FROM confirmations WHERE session_id = ?1)
             FROM sessions WHERE id = ?1",
            [id],
            |r| {
                Ok(SessionRow {
                    user: r.get(0)?,
                    started_at: r.get(1)?,
                    stopped_at: r.get(2)?,
                    messages: r.get(3)?,
                    confirmations: r.get(4)?,
                })
            },
        )
        .optional()
        .map_err(|e| self.err(e))
    }

    pub fn memory(&self, id: i64) -> DbResult<Option<MemoryRow>> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT session_id, at, message, reply FROM messages WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((session_id, at, message, reply)) = row else {
            return Ok(None);
        };
        let provenance = provenance::for_message(&conn, id).map_err(|e| self.err(e))?;
        Ok(Some(MemoryRow {
            session_id,
            at,
            message,
            reply,
            provenance,
        }))
    }

    /// Folds the WAL back into the main file so the database is one file at rest.
    pub fn checkpoint(&self) {
        let conn = self.lock();
        let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
    }
}

pub fn is_open(c: &Connection, id: i64) -> rusqlite::Result<bool> {
    let row: Option<Option<String>> = c
        .query_row("SELECT stopped_at FROM sessions WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(matches!(row, Some(None)))
}

/// Inserts a message if its session is open; returns its id.
fn insert_message(
    c: &Connection,
    session: i64,
    id: Option<i64>,
    at: &str,
    message: &str,
    reply: &str,
) -> rusqlite::Result<Option<i64>> {
    // A write-behind turn (an id given) was checked when it was accepted.
    if id.is_none() && !is_open(c, session)? {
        return Ok(None);
    }
    c.execute(
        "INSERT INTO messages (id, session_id, at, message, reply) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, session, at, message, reply],
    )?;
    Ok(Some(c.last_insert_rowid()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_lifecycle() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), Faults::default()).unwrap();
        let id = store.start("alice", "t0", "c1").unwrap();
        assert_eq!(session_name(id), "s-000001");
        assert_eq!(session_id("s-000001"), Some(1));
        assert_eq!(session_id("s-0"), None);
        assert_eq!(session_id("s-+1"), None);
        assert_eq!(session_id("x-1"), None);
        assert_eq!(parse_name('m', "m-000012"), Some(12));
        assert_eq!(store.turn(id, "t1", "hi", "echo: hi").unwrap(), Some(1));
        assert_eq!(store.turn(99, "t1", "hi", "echo: hi").unwrap(), None);
        let memory = store.memory(1).unwrap().unwrap();
        assert_eq!((memory.session_id, memory.reply.as_str()), (1, "echo: hi"));
        assert_eq!(memory.provenance.unwrap().memory_id, "m-000001");
        assert_eq!(
            store.stop(id, "t2").unwrap(),
            StopResult::Stopped {
                stopped_at: "t2".into(),
                messages: 1,
                expired_confirmations: 0,
            }
        );
        assert_eq!(store.stop(id, "t3").unwrap(), StopResult::AlreadyStopped);
        assert_eq!(store.stop(7, "t3").unwrap(), StopResult::Unknown);
        assert_eq!(store.turn(id, "t4", "late", "x").unwrap(), None);
        let session = store.session(id).unwrap().unwrap();
        assert_eq!(session.stopped_at.as_deref(), Some("t2"));
        assert_eq!(session.messages, 1);
    }
}
