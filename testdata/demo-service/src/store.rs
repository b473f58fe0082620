//! Sessions and chat messages in a real SQLite file.
//!
//! WAL mode so readers (backup-drill's online backup) never block the service
//! and the service never blocks them for long. One connection behind a mutex:
//! each statement takes microseconds, far below a request's other costs.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

/// What a stop did.
#[derive(Debug, PartialEq, Eq)]
pub enum StopResult {
    Stopped { stopped_at: String, messages: i64 },
    Unknown,
    AlreadyStopped,
}

pub struct Store {
    conn: Mutex<Connection>,
    path: String,
}

const SCHEMA: &str = "
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
);";

/// `s-000042` ↔ 42.
pub fn session_name(id: i64) -> String {
    format!("s-{id:06}")
}

pub fn session_id(name: &str) -> Option<i64> {
    name.strip_prefix("s-")?.parse().ok().filter(|n| *n > 0)
}

impl Store {
    pub fn open(path: &Path) -> common::Result<Store> {
        let shown = path.display().to_string();
        let fail = |e: rusqlite::Error| common::Error::new(format!("{shown}: {e}"));
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(fail)?;
        conn.execute_batch(SCHEMA).map_err(fail)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: shown,
        })
    }

    fn err(&self, e: rusqlite::Error) -> String {
        format!("{}: {e}", self.path)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (every statement is atomic), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session; returns its numeric id.
    pub fn start(&self, user: &str, at: &str, correlation_id: &str) -> Result<i64, String> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO sessions (user, started_at, correlation_id) VALUES (?1, ?2, ?3)",
            params![user, at, correlation_id],
        )
        .map_err(|e| self.err(e))?;
        Ok(conn.last_insert_rowid())
    }

    pub fn stop(&self, id: i64, at: &str) -> Result<StopResult, String> {
        let conn = self.lock();
        let row: Option<Option<String>> = conn
            .query_row("SELECT stopped_at FROM sessions WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        match row {
            None => Ok(StopResult::Unknown),
            Some(Some(_)) => Ok(StopResult::AlreadyStopped),
            Some(None) => {
                conn.execute(
                    "UPDATE sessions SET stopped_at = ?1 WHERE id = ?2",
                    params![at, id],
                )
                .map_err(|e| self.err(e))?;
                let messages: i64 = conn
                    .query_row(
                        "SELECT count(*) FROM messages WHERE session_id = ?1",
                        [id],
                        |r| r.get(0),
                    )
                    .map_err(|e| self.err(e))?;
                Ok(StopResult::Stopped {
                    stopped_at: at.to_string(),
                    messages,
                })
            }
        }
    }

    /// Records a chat message in an open session; `Ok(false)` if there is none.
    pub fn message(&self, id: i64, at: &str, message: &str, reply: &str) -> Result<bool, String> {
        let conn = self.lock();
        let open: Option<Option<String>> = conn
            .query_row("SELECT stopped_at FROM sessions WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        if !matches!(open, Some(None)) {
            return Ok(false);
        }
        conn.execute(
            "INSERT INTO messages (session_id, at, message, reply) VALUES (?1, ?2, ?3, ?4)",
            params![id, at, message, reply],
        )
        .map_err(|e| self.err(e))?;
        Ok(true)
    }

    /// Folds the WAL back into the main file so the database is one file at rest.
    pub fn checkpoint(&self) {
        let conn = self.lock();
        let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_lifecycle() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let id = store.start("alice", "t0", "c1").unwrap();
        assert_eq!(session_name(id), "s-000001");
        assert_eq!(session_id("s-000001"), Some(1));
        assert_eq!(session_id("s-0"), None);
        assert_eq!(session_id("x-1"), None);
        assert!(store.message(id, "t1", "hi", "echo: hi").unwrap());
        assert!(!store.message(99, "t1", "hi", "echo: hi").unwrap());
        assert_eq!(
            store.stop(id, "t2").unwrap(),
            StopResult::Stopped {
                stopped_at: "t2".into(),
                messages: 1
            }
        );
        assert_eq!(store.stop(id, "t3").unwrap(), StopResult::AlreadyStopped);
        assert_eq!(store.stop(7, "t3").unwrap(), StopResult::Unknown);
        assert!(!store.message(id, "t4", "late", "x").unwrap());
    }
}
