//! Confirmations: an action in a session waits for a person to approve or
//! deny it. Created pending for an open session, decided exactly once, never
//! for a closed session; a session's stop expires what is still pending.
//!
//! The guarded decision checks and writes in one transaction under the
//! store's lock, with an `UPDATE ... WHERE status = 'pending'` that cannot
//! decide twice. `--unguarded-decisions` splits it into a check, then the
//! action (`--action-time`), then a write without the guard: the
//! check-then-act race, so two concurrent decisions can both win, or a
//! decision can land after the session closed.

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::{is_open, DbResult, Store};

#[derive(Debug, PartialEq, Eq)]
pub enum Created {
    Pending(i64),
    UnknownSession,
    SessionClosed,
}

/// What a decision found, or did.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Recorded { session_id: i64 },
    Unknown,
    AlreadyDecided(String),
    SessionClosed,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ConfirmationRow {
    pub session_id: i64,
    pub action: String,
    pub status: String,
    pub created_at: String,
    pub decided_at: Option<String>,
    pub decisions: i64,
}

/// `approve` → `approved`, `deny` → `denied`.
pub fn status_of(decision: &str) -> Option<&'static str> {
    match decision {
        "approve" => Some("approved"),
        "deny" => Some("denied"),
        _ => None,
    }
}

impl Store {
    pub fn request_confirmation(&self, session: i64, action: &str, at: &str) -> DbResult<Created> {
        let mut conn = self.lock();
        self.write(&mut conn, |c| {
            let exists: Option<Option<String>> = c
                .query_row(
                    "SELECT stopped_at FROM sessions WHERE id = ?1",
                    [session],
                    |r| r.get(0),
                )
                .optional()?;
            match exists {
                None => Ok(Created::UnknownSession),
                Some(Some(_)) => Ok(Created::SessionClosed),
                Some(None) => {
                    c.execute(
                        "INSERT INTO confirmations (session_id, action, created_at, status)
                         VALUES (?1, ?2, ?3, 'pending')",
                        params![session, action, at],
                    )?;
                    Ok(Created::Pending(c.last_insert_rowid()))
                }
            }
        })
    }

    /// The check half of a decision: what stands in the way of deciding now.
    pub fn check_decision(&self, id: i64) -> DbResult<Result<i64, Decision>> {
        let conn = self.lock();
        check(&conn, id).map_err(|e| self.err(e))
    }

    /// Guarded: check and write as one, under the lock.
    pub fn decide(&self, id: i64, decision: &str, at: &str) -> DbResult<Decision> {
        let mut conn = self.lock();
        self.write(&mut conn, |c| {
            let session_id = match check(c, id)? {
                Ok(session_id) => session_id,
                Err(refused) => return Ok(refused),
            };
            let changed = c.execute(
                "UPDATE confirmations SET status = ?1, decided_at = ?2
                 WHERE id = ?3 AND status = 'pending'",
                params![status_of(decision), at, id],
            )?;
            if changed != 1 {
                // Cannot happen under the lock; say so rather than record twice.
                return Ok(Decision::AlreadyDecided("unknown".into()));
            }
            record(c, id, decision, at)?;
            Ok(Decision::Recorded { session_id })
        })
    }

    /// Unguarded: the write half, after a check made earlier (the fault).
    pub fn decide_unguarded(
        &self,
        id: i64,
        session_id: i64,
        decision: &str,
        at: &str,
    ) -> DbResult<Decision> {
        let mut conn = self.lock();
        self.write(&mut conn, |c| {
            c.execute(
                "UPDATE confirmations SET status = ?1, decided_at = ?2 WHERE id = ?3",
                params![status_of(decision), at, id],
            )?;
            record(c, id, decision, at)?;
            Ok(Decision::Recorded { session_id })
        })
    }

    pub fn confirmation(&self, id: i64) -> DbResult<Option<ConfirmationRow>> {
        let conn = self.lock();
        conn.query_row(
            "SELECT session_id, action, status, created_at, decided_at,
                    (SELECT count(*) FROM decisions WHERE confirmation_id = ?1)
             FROM confirmations WHERE id = ?1",
            [id],
            |r| {
                Ok(ConfirmationRow {
                    session_id: r.get(0)?,
                    action: r.get(1)?,
                    status: r.get(2)?,
                    created_at: r.get(3)?,
                    decided_at: r.get(4)?,
                    decisions: r.get(5)?,
                })
            },
        )
        .optional()
        .map_err(|e| self.err(e))
    }
}

/// `Ok(session id)` when confirmation `id` may be decided now.
fn check(c: &Connection, id: i64) -> rusqlite::Result<Result<i64, Decision>> {
    let row: Option<(i64, String)> = c
        .query_row(
            "SELECT session_id, status FROM confirmations WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        None => Err(Decision::Unknown),
        Some((_, status)) if status != "pending" => Err(Decision::AlreadyDecided(status)),
        Some((session_id, _)) if !is_open(c, session_id)? => Err(Decision::SessionClosed),
        Some((session_id, _)) => Ok(session_id),
    })
}

/// The decision row, with the session's state as the database sees it now.
fn record(c: &Connection, id: i64, decision: &str, at: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO decisions (confirmation_id, decision, at, session_state)
         VALUES (?1, ?2, ?3, coalesce((
             SELECT CASE WHEN s.id IS NULL THEN 'unknown'
                         WHEN s.stopped_at IS NULL THEN 'open' ELSE 'closed' END
             FROM confirmations c LEFT JOIN sessions s ON s.id = c.session_id
             WHERE c.id = ?1), 'unknown'))",
        params![id, decision, at],
    )?;
    Ok(())
}
