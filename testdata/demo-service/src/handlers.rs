//! The stateful endpoints the crash drill and the race run check: a chat
//! turn in a session (message + provenance), confirmations, the read
//! endpoints a client uses to check what it was told was stored, and the
//! audit.
//!
//! A turn takes `--turn-time` (the model's answer and the memory's
//! indexing), a decided action `--action-time`. The correct service does
//! that work outside its writes and writes all at once; the faults write
//! around it (see `store.rs` and `confirmations.rs`), which is what leaves
//! half-done state when the service dies mid-turn.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hyper::StatusCode;
use serde_json::{json, Value};

use crate::confirmations::{self, Created, Decision};
use crate::server::{db_error, error, object, reply, State};
use crate::store::{name, parse_name, session_id, session_name};

async fn pause(d: Option<Duration>) {
    if let Some(d) = d.filter(|d| !d.is_zero()) {
        tokio::time::sleep(d).await;
    }
}

fn not_open() -> (StatusCode, Value) {
    error(StatusCode::NOT_FOUND, "no open session with that id")
}

/// `POST /v1/chat` with a `session_id`: stores the message and its
/// provenance record; answers with the `memory_id` to read it back by.
pub async fn turn(
    state: &Arc<State>,
    session: i64,
    session_name: &str,
    message: &str,
    reply_text: String,
    tokens: usize,
) -> (StatusCode, Value) {
    // A closed or unknown session costs no turn time.
    match state.store.is_open(session) {
        Ok(true) => {}
        Ok(false) => return not_open(),
        Err(e) => return db_error(&e),
    }
    let stored = if let Some(delay) = state.write_behind {
        // The fault: answer now, write later. A crash before the write
        // loses a turn the client was told was stored.
        let id = state.last_message_id.fetch_add(1, Ordering::Relaxed) + 1;
        let state = Arc::clone(state);
        let (message, reply_text) = (message.to_string(), reply_text.clone());
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let at = common::clock::now_rfc3339();
            if let Err(e) = state
                .store
                .turn_behind(session, id, &at, &message, &reply_text)
            {
                eprintln!("demo-service: database: {e}");
            }
        });
        Ok(Some(id))
    } else if state.store.faults.no_transactions {
        // The fault: the message first, the provenance after the turn's
        // work, each committed on its own.
        let at = common::clock::now_rfc3339();
        match state.store.message_only(session, &at, message, &reply_text) {
            Ok(Some(id)) => {
                pause(state.turn_time).await;
                let at = common::clock::now_rfc3339();
                state.store.provenance_only(id, &at).map(|()| Some(id))
            }
            other => other,
        }
    } else {
        pause(state.turn_time).await;
        let at = common::clock::now_rfc3339();
        state.store.turn(session, &at, message, &reply_text)
    };
    match stored {
        Ok(Some(id)) => reply(
            StatusCode::OK,
            json!({
                "reply": reply_text,
                "tokens": tokens,
                "session_id": session_name,
                "memory_id": name('m', id),
            }),
        ),
        // The session closed while the turn was being worked on.
        Ok(None) => not_open(),
        Err(e) => db_error(&e),
    }
}

/// A required string field of a JSON object body.
fn field<'a>(
    m: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<&'a str, (StatusCode, Value)> {
    m.get(key).and_then(Value::as_str).ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            &format!("\"{key}\" (a string) is required"),
        )
    })
}

/// `POST /confirmation/request {"session_id","action"}`.
pub fn request_confirmation(state: &State, body: &[u8]) -> (StatusCode, Value) {
    let m = match object(body) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let (session, action) = match (field(&m, "session_id"), field(&m, "action")) {
        (Ok(s), Ok(a)) => (s, a),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let Some(id) = session_id(session) else {
        return error(StatusCode::NOT_FOUND, "no such session");
    };
    let at = common::clock::now_rfc3339();
    match state.store.request_confirmation(id, action, &at) {
        Ok(Created::Pending(c)) => reply(
            StatusCode::CREATED,
            json!({
                "confirmation_id": name('c', c),
                "session_id": session,
                "action": action,
                "status": "pending",
                "created_at": at,
            }),
        ),
        Ok(Created::UnknownSession) => error(StatusCode::NOT_FOUND, "no such session"),
        Ok(Created::SessionClosed) => error(StatusCode::CONFLICT, "session closed"),
        Err(e) => db_error(&e),
    }
}

/// `POST /confirmation/decide {"confirmation_id","decision":"approve"|"deny"}`.
pub async fn decide(state: &Arc<State>, body: &[u8]) -> (StatusCode, Value) {
    let m = match object(body) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let (confirmation, decision) = match (field(&m, "confirmation_id"), field(&m, "decision")) {
        (Ok(c), Ok(d)) => (c, d),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let Some(status) = confirmations::status_of(decision) else {
        return error(
            StatusCode::BAD_REQUEST,
            "\"decision\" must be \"approve\" or \"deny\"",
        );
    };
    let Some(id) = parse_name('c', confirmation) else {
        return error(StatusCode::NOT_FOUND, "no such confirmation");
    };
    let store = &state.store;
    let decided = if store.faults.unguarded_decisions {
        // The fault: check, run the action, then write what the check allowed.
        match store.check_decision(id) {
            Ok(Ok(session)) => {
                pause(state.action_time).await;
                let at = common::clock::now_rfc3339();
                store
                    .decide_unguarded(id, session, decision, &at)
                    .map(|d| (d, at))
            }
            Ok(Err(refused)) => Ok((refused, String::new())),
            Err(e) => Err(e),
        }
    } else {
        let at = common::clock::now_rfc3339();
        let decided = store.decide(id, decision, &at);
        if matches!(decided, Ok(Decision::Recorded { .. })) {
            // The approved (or denied) action runs once it is recorded.
            pause(state.action_time).await;
        }
        decided.map(|d| (d, at))
    };
    match decided {
        Ok((Decision::Recorded { session_id }, at)) => reply(
            StatusCode::OK,
            json!({
                "confirmation_id": confirmation,
                "session_id": session_name(session_id),
                "status": status,
                "decided_at": at,
            }),
        ),
        Ok((Decision::Unknown, _)) => error(StatusCode::NOT_FOUND, "no such confirmation"),
        Ok((Decision::AlreadyDecided(now), _)) => (
            StatusCode::CONFLICT,
            json!({ "error": "confirmation already decided", "status": now }),
        ),
        Ok((Decision::SessionClosed, _)) => error(StatusCode::CONFLICT, "session closed"),
        Err(e) => db_error(&e),
    }
}

/// `GET /session/s-N`.
pub fn read_session(state: &State, id: &str) -> (StatusCode, Value) {
    let Some(n) = session_id(id) else {
        return error(StatusCode::NOT_FOUND, "no such session");
    };
    match state.store.session(n) {
        Ok(Some(s)) => reply(
            StatusCode::OK,
            json!({
                "session_id": id,
                "user": s.user,
                "started_at": s.started_at,
                "stopped_at": s.stopped_at,
                "messages": s.messages,
                "confirmations": s.confirmations,
            }),
        ),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such session"),
        Err(e) => db_error(&e),
    }
}

/// `GET /memory/m-N`: the stored message and its provenance record.
pub fn read_memory(state: &State, id: &str) -> (StatusCode, Value) {
    let Some(n) = parse_name('m', id) else {
        return error(StatusCode::NOT_FOUND, "no such memory");
    };
    match state.store.memory(n) {
        Ok(Some(m)) => {
            let provenance = m.provenance.map(|p| {
                json!({
                    "record_id": name('p', p.id),
                    "memory_id": p.memory_id,
                    "source_type": p.source_type,
                    "tracked_at": p.tracked_at,
                    "prev_hash": p.prev_hash,
                    "hash": p.hash,
                })
            });
            reply(
                StatusCode::OK,
                json!({
                    "memory_id": id,
                    "session_id": session_name(m.session_id),
                    "at": m.at,
                    "message": m.message,
                    "reply": m.reply,
                    "provenance": provenance,
                }),
            )
        }
        Ok(None) => error(StatusCode::NOT_FOUND, "no such memory"),
        Err(e) => db_error(&e),
    }
}

/// `GET /confirmation/c-N`.
pub fn read_confirmation(state: &State, id: &str) -> (StatusCode, Value) {
    let Some(n) = parse_name('c', id) else {
        return error(StatusCode::NOT_FOUND, "no such confirmation");
    };
    match state.store.confirmation(n) {
        Ok(Some(c)) => reply(
            StatusCode::OK,
            json!({
                "confirmation_id": id,
                "session_id": session_name(c.session_id),
                "action": c.action,
                "status": c.status,
                "created_at": c.created_at,
                "decided_at": c.decided_at,
                "decisions": c.decisions,
            }),
        ),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such confirmation"),
        Err(e) => db_error(&e),
    }
}

/// `GET /v1/audit`: the `--audit` findings of the live database.
pub fn audit(state: &State) -> (StatusCode, Value) {
    let conn = state.store.lock();
    match crate::audit::findings(&conn) {
        Ok(found) => reply(StatusCode::OK, crate::audit::as_json(found)),
        Err(e) => db_error(&state.store.err(e)),
    }
}
