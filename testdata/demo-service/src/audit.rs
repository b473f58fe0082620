//! The state audit (`demo-service --audit --db PATH`, or `GET /v1/audit`):
//! reads the database in one snapshot and names every violation of the
//! invariants the crash drill and the race run gate on, one `finding`
//! record each:
//!
//! - `orphaned_session`: a session that a half-done write left behind — a
//!   message stored without its provenance record (its turn never
//!   finished), a closed session with a confirmation still pending, or
//!   messages of a session that does not exist;
//! - `phantom_confirmation`: decided more than once, decided while its
//!   session was closed or unknown, a status that disagrees with the
//!   decisions recorded, a decision for a confirmation that does not exist;
//! - `broken_chain`: a provenance record whose `prev_hash` is not its
//!   predecessor's hash, whose `hash` does not match its content, or that
//!   tracks a message that does not exist;
//! - `empty_field`: a provenance record with an empty `memory_id`,
//!   `source_type` or `tracked_at`.
//!
//! Output order is stable (by kind, then id), so two audits of the same
//! database are byte-identical.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use serde_json::{json, Map, Value};

use crate::provenance::{self, GENESIS};
use crate::store::{name, session_name};

/// One violation, as a JSON record.
pub type Finding = Value;

fn finding(violation: &str, ids: &[(&str, Value)], detail: String) -> Finding {
    let mut m = Map::new();
    m.insert("kind".into(), "finding".into());
    m.insert("violation".into(), violation.into());
    for (k, v) in ids {
        m.insert((*k).into(), v.clone());
    }
    m.insert("detail".into(), detail.into());
    Value::Object(m)
}

/// Every finding in the database behind `c`, read in one transaction.
pub fn findings(c: &Connection) -> rusqlite::Result<Vec<Finding>> {
    // A deferred transaction: every query below sees the same snapshot,
    // even while the service keeps writing.
    c.execute_batch("BEGIN")?;
    let result = all(c);
    let _ = c.execute_batch("COMMIT");
    result
}

fn all(c: &Connection) -> rusqlite::Result<Vec<Finding>> {
    let mut out = orphaned_sessions(c)?;
    out.extend(phantom_confirmations(c)?);
    out.extend(chain(c)?);
    Ok(out)
}

/// Rows of `sql` as (a, b) integer pairs.
fn pairs(c: &Connection, sql: &str) -> rusqlite::Result<Vec<(i64, i64)>> {
    let mut stmt = c.prepare(sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

fn orphaned_sessions(c: &Connection) -> rusqlite::Result<Vec<Finding>> {
    #[derive(Default)]
    struct Problems {
        unfinished: Vec<i64>,
        pending: Vec<i64>,
        missing: bool,
    }
    let mut by_session: BTreeMap<i64, Problems> = BTreeMap::new();
    for (session, message) in pairs(
        c,
        "SELECT m.session_id, m.id FROM messages m
         WHERE NOT EXISTS (SELECT 1 FROM provenance p WHERE p.message_id = m.id)
         ORDER BY m.id",
    )? {
        by_session
            .entry(session)
            .or_default()
            .unfinished
            .push(message);
    }
    for (session, confirmation) in pairs(
        c,
        "SELECT c.session_id, c.id FROM confirmations c JOIN sessions s ON s.id = c.session_id
         WHERE s.stopped_at IS NOT NULL AND c.status = 'pending' ORDER BY c.id",
    )? {
        by_session
            .entry(session)
            .or_default()
            .pending
            .push(confirmation);
    }
    for (session, _) in pairs(
        c,
        "SELECT DISTINCT m.session_id, 0 FROM messages m
         WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = m.session_id)",
    )? {
        by_session.entry(session).or_default().missing = true;
    }
    Ok(by_session
        .into_iter()
        .map(|(session, p)| {
            let mut why = Vec::new();
            if p.missing {
                why.push("the session does not exist, but messages name it".to_string());
            }
            if !p.unfinished.is_empty() {
                why.push(format!(
                    "{} stored without a provenance record: the turn never finished",
                    list('m', &p.unfinished)
                ));
            }
            if !p.pending.is_empty() {
                why.push(format!(
                    "the session is closed but {} still pending",
                    list('c', &p.pending)
                ));
            }
            let ids = |prefix, xs: &[i64]| {
                Value::from(xs.iter().map(|&i| name(prefix, i)).collect::<Vec<_>>())
            };
            finding(
                "orphaned_session",
                &[
                    ("session_id", session_name(session).into()),
                    ("memory_ids", ids('m', &p.unfinished)),
                    ("confirmation_ids", ids('c', &p.pending)),
                ],
                why.join("; "),
            )
        })
        .collect())
}

/// `m-000001, m-000002` (at most 5, then how many more).
fn list(prefix: char, ids: &[i64]) -> String {
    let mut shown: Vec<String> = ids.iter().take(5).map(|&i| name(prefix, i)).collect();
    if ids.len() > 5 {
        shown.push(format!("and {} more", ids.len() - 5));
    }
    let noun = match (prefix, ids.len()) {
        ('m', 1) => "message",
        ('m', _) => "messages",
        (_, 1) => "confirmation",
        _ => "confirmations",
    };
    format!("{noun} {}", shown.join(", "))
}

fn phantom_confirmations(c: &Connection) -> rusqlite::Result<Vec<Finding>> {
    // Every confirmation with its session's existence, status and decisions.
    let mut stmt = c.prepare(
        "SELECT c.id, c.session_id, c.status, s.id IS NOT NULL,
                d.decision, d.at, d.session_state
         FROM confirmations c
         LEFT JOIN sessions s ON s.id = c.session_id
         LEFT JOIN decisions d ON d.confirmation_id = c.id
         ORDER BY c.id, d.id",
    )?;
    struct Conf {
        session: i64,
        status: String,
        session_exists: bool,
        decisions: Vec<(String, String, String)>,
    }
    let mut confs: BTreeMap<i64, Conf> = BTreeMap::new();
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, bool>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    for row in rows {
        let (id, session, status, session_exists, decision, at, state) = row?;
        let conf = confs.entry(id).or_insert(Conf {
            session,
            status,
            session_exists,
            decisions: Vec::new(),
        });
        if let (Some(d), Some(at), Some(state)) = (decision, at, state) {
            conf.decisions.push((d, at, state));
        }
    }
    let mut out = Vec::new();
    for (id, conf) in &confs {
        let mut why = Vec::new();
        if !conf.session_exists {
            why.push(format!(
                "its session {} does not exist",
                session_name(conf.session)
            ));
        }
        let n = conf.decisions.len();
        if n > 1 {
            let each: Vec<String> = conf
                .decisions
                .iter()
                .map(|(d, at, _)| format!("{d} at {at}"))
                .collect();
            why.push(format!("decided {n} times ({})", each.join(", ")));
        }
        for (d, at, state) in &conf.decisions {
            if state != "open" {
                why.push(format!(
                    "{d} at {at} was recorded while its session was {state}"
                ));
            }
        }
        let decided = matches!(conf.status.as_str(), "approved" | "denied");
        if decided && n == 0 {
            why.push(format!("status {} but no decision recorded", conf.status));
        }
        if conf.status == "pending" && n > 0 {
            why.push("a decision is recorded but the status is still pending".into());
        }
        if let Some((last, _, _)) = conf.decisions.last() {
            if decided && crate::confirmations::status_of(last) != Some(conf.status.as_str()) {
                why.push(format!(
                    "status {} but the last decision was {last}",
                    conf.status
                ));
            }
        }
        if !why.is_empty() {
            out.push(finding(
                "phantom_confirmation",
                &[
                    ("confirmation_id", name('c', *id).into()),
                    ("session_id", session_name(conf.session).into()),
                ],
                why.join("; "),
            ));
        }
    }
    for (confirmation, n) in pairs(
        c,
        "SELECT d.confirmation_id, count(*) FROM decisions d
         WHERE NOT EXISTS (SELECT 1 FROM confirmations c WHERE c.id = d.confirmation_id)
         GROUP BY d.confirmation_id ORDER BY d.confirmation_id",
    )? {
        out.push(finding(
            "phantom_confirmation",
            &[("confirmation_id", name('c', confirmation).into())],
            format!("{n} decision(s) recorded for a confirmation that does not exist"),
        ));
    }
    Ok(out)
}

fn chain(c: &Connection) -> rusqlite::Result<Vec<Finding>> {
    let mut stmt = c.prepare(
        "SELECT p.id, p.message_id, p.memory_id, p.source_type, p.tracked_at, p.prev_hash, p.hash,
                m.session_id, m.message, m.reply
         FROM provenance p LEFT JOIN messages m ON m.id = p.message_id
         ORDER BY p.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            r.get::<_, Option<String>>(5)?.unwrap_or_default(),
            r.get::<_, Option<String>>(6)?.unwrap_or_default(),
            r.get::<_, Option<i64>>(7)?,
            r.get::<_, Option<String>>(8)?,
            r.get::<_, Option<String>>(9)?,
        ))
    })?;
    let mut broken = Vec::new();
    let mut empty = Vec::new();
    let mut previous = GENESIS.to_string();
    for row in rows {
        let (
            id,
            message_id,
            memory_id,
            source_type,
            tracked_at,
            prev_hash,
            hash,
            session,
            text,
            reply,
        ) = row?;
        let ids = [
            ("record_id", Value::from(name('p', id))),
            ("memory_id", Value::from(memory_id.as_str())),
        ];
        let mut why = Vec::new();
        if prev_hash != previous {
            why.push(format!(
                "prev_hash {} is not the previous record's hash {}",
                short(&prev_hash),
                short(&previous)
            ));
        }
        match (session, text, reply) {
            (Some(session), Some(text), Some(reply)) => {
                let want = provenance::hash(
                    &prev_hash,
                    &memory_id,
                    &source_type,
                    &tracked_at,
                    (session, &text, &reply),
                );
                if want != hash {
                    why.push("hash does not match the record's content".into());
                }
            }
            _ => why.push(format!(
                "it tracks {}, which does not exist",
                name('m', message_id)
            )),
        }
        if !why.is_empty() {
            broken.push(finding("broken_chain", &ids, why.join("; ")));
        }
        for (field, value) in [
            ("memory_id", &memory_id),
            ("source_type", &source_type),
            ("tracked_at", &tracked_at),
        ] {
            if value.trim().is_empty() {
                let mut with_field = ids.to_vec();
                with_field.push(("field", field.into()));
                empty.push(finding(
                    "empty_field",
                    &with_field,
                    format!("{field} is empty"),
                ));
            }
        }
        previous = hash;
    }
    broken.extend(empty);
    Ok(broken)
}

/// The first 12 hex digits, enough to tell hashes apart in a message.
fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// `--audit`: prints the findings of the database at `path` as JSON Lines,
/// a one-line count on stderr; fails when there is any.
pub fn run(path: &Path) -> common::Result<common::Outcome> {
    let shown = path.display().to_string();
    let fail = |e: rusqlite::Error| common::Error::new(format!("{shown}: {e}"));
    if !path.is_file() {
        return Err(common::Error::new(format!("{shown}: no such database"))
            .with_hint("pass the --db the service writes"));
    }
    // Read-only: an audit never changes what it audits.
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(fail)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(fail)?;
    let found =
        findings(&conn).map_err(|e| fail(e).with_hint("is this a demo-service database?"))?;
    let mut out = std::io::stdout().lock();
    for f in &found {
        writeln!(out, "{f}").map_err(|e| common::Error::io("stdout", e))?;
    }
    out.flush().map_err(|e| common::Error::io("stdout", e))?;
    let counts = counts(&conn).map_err(fail)?;
    eprintln!("demo-service: audit: {counts}: {} finding(s)", found.len());
    Ok(common::Outcome::from_pass(found.is_empty()))
}

fn counts(c: &Connection) -> rusqlite::Result<String> {
    let n = |table: &str| -> rusqlite::Result<i64> {
        c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
    };
    Ok(format!(
        "{} sessions, {} messages, {} confirmations, {} decisions, {} provenance records",
        n("sessions")?,
        n("messages")?,
        n("confirmations")?,
        n("decisions")?,
        n("provenance")?
    ))
}

/// The same findings as a JSON value (for `GET /v1/audit`).
pub fn as_json(found: Vec<Finding>) -> Value {
    json!({ "findings": found.len(), "records": found })
}
