//! The state the crash drill and the race run audit: confirmations,
//! provenance, the read endpoints, `--audit`, and each fault that breaks an
//! invariant — against the real process, a real SQLite file, real SIGKILLs
//! and real concurrent requests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::thread;
use std::time::Duration;

use serde_json::{json, Value};

mod support;
use support::{audit, get, post, wait_for_requests, Service};

fn start_session(addr: &str) -> String {
    let (status, body) = post(addr, "/session/start", r#"{"user":"ann"}"#);
    assert_eq!(status, 201, "{body}");
    body["session_id"].as_str().unwrap().to_string()
}

fn chat(addr: &str, session: &str, message: &str) -> (u16, Value) {
    post(
        addr,
        "/v1/chat",
        &json!({ "session_id": session, "message": message }).to_string(),
    )
}

fn confirm(addr: &str, session: &str) -> String {
    let (status, body) = post(
        addr,
        "/confirmation/request",
        &json!({ "session_id": session, "action": "delete_file" }).to_string(),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "pending");
    body["confirmation_id"].as_str().unwrap().to_string()
}

fn decide(addr: &str, confirmation: &str, decision: &str) -> (u16, Value) {
    post(
        addr,
        "/confirmation/decide",
        &json!({ "confirmation_id": confirmation, "decision": decision }).to_string(),
    )
}

/// The findings without their `detail` text, to compare exactly.
fn ids(findings: &[Value]) -> Vec<Value> {
    findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.as_object_mut().unwrap().remove("detail");
            f
        })
        .collect()
}

#[test]
fn confirmations_are_decided_exactly_once_and_never_for_a_closed_session() {
    let svc = Service::start(&[]);
    let a = svc.addr.as_str();
    let s = start_session(a);
    let c = confirm(a, &s);
    assert_eq!(c, "c-000001");
    let (status, body) = get(a, "/confirmation/c-000001");
    assert_eq!(status, 200);
    assert_eq!(
        (&body["status"], &body["decisions"], &body["session_id"]),
        (&json!("pending"), &json!(0), &json!("s-000001"))
    );

    let (status, body) = decide(a, &c, "approve");
    assert_eq!((status, &body["status"]), (200, &json!("approved")));
    // A second decision, either way, is refused and says what stands.
    for d in ["approve", "deny"] {
        let (status, body) = decide(a, &c, d);
        assert_eq!(status, 409);
        assert_eq!(body["error"], "confirmation already decided");
        assert_eq!(body["status"], "approved");
    }
    let (_, body) = get(a, "/confirmation/c-000001");
    assert_eq!(
        (&body["status"], &body["decisions"]),
        (&json!("approved"), &json!(1))
    );

    // Bad requests: unknown ids, a bad decision, a missing field.
    assert_eq!(decide(a, "c-000099", "deny").0, 404);
    assert_eq!(decide(a, "x-1", "deny").0, 404);
    assert_eq!(decide(a, &c, "maybe").0, 400);
    assert_eq!(
        post(a, "/confirmation/request", r#"{"session_id":"s-000001"}"#).0,
        400
    );
    assert_eq!(
        post(
            a,
            "/confirmation/request",
            r#"{"session_id":"s-000042","action":"x"}"#
        )
        .0,
        404
    );

    // A stop expires what is pending; nothing can be asked or decided after it.
    let pending = confirm(a, &s);
    let (status, body) = post(a, "/session/stop", &json!({ "session_id": s }).to_string());
    assert_eq!((status, &body["expired_confirmations"]), (200, &json!(1)));
    let (_, body) = get(a, &format!("/confirmation/{pending}"));
    assert_eq!(
        (&body["status"], &body["decisions"]),
        (&json!("expired"), &json!(0))
    );
    let (status, body) = decide(a, &pending, "approve");
    assert_eq!((status, &body["status"]), (409, &json!("expired")));
    let (status, body) = post(
        a,
        "/confirmation/request",
        &json!({ "session_id": s, "action": "x" }).to_string(),
    );
    assert_eq!((status, &body["error"]), (409, &json!("session closed")));

    let (code, findings, err) = audit(&svc.path("demo.db"));
    assert_eq!((code, findings.len()), (0, 0), "{findings:?} {err}");
    assert!(
        err.ends_with("1 sessions, 0 messages, 2 confirmations, 1 decisions, 0 provenance records: 0 finding(s)\n"),
        "{err}"
    );
}

#[test]
fn every_stored_message_has_a_chained_provenance_record_to_read_back() {
    let svc = Service::start(&[]);
    let a = svc.addr.as_str();
    let s = start_session(a);
    let mut previous = "0".repeat(64);
    for i in 1..=3 {
        let (status, body) = chat(a, &s, &format!("note {i}"));
        assert_eq!(status, 200);
        let memory = format!("m-{i:06}");
        assert_eq!(body["memory_id"], memory);
        let (status, read) = get(a, &format!("/memory/{memory}"));
        assert_eq!(status, 200);
        assert_eq!(
            (&read["message"], &read["reply"], &read["session_id"]),
            (
                &json!(format!("note {i}")),
                &json!(format!("echo: note {i}")),
                &json!(s)
            )
        );
        let p = &read["provenance"];
        assert_eq!(p["record_id"], format!("p-{i:06}"));
        assert_eq!(p["memory_id"], memory);
        assert_eq!(p["source_type"], "chat_message");
        assert_eq!(p["tracked_at"].as_str().unwrap().len(), 24, "{p}");
        assert_eq!(p["prev_hash"], previous);
        previous = p["hash"].as_str().unwrap().to_string();
    }
    let (status, body) = get(a, "/session/s-000001");
    assert_eq!(
        (status, &body["messages"], &body["stopped_at"]),
        (200, &json!(3), &Value::Null)
    );
    assert_eq!(get(a, "/memory/m-000004").0, 404);
    assert_eq!(get(a, "/memory/nope").0, 404);
    assert_eq!(get(a, "/session/s-000009").0, 404);
    assert_eq!(post(a, "/memory/m-000001", "").0, 405);
    let (status, body) = get(a, "/v1/audit");
    assert_eq!(
        (status, &body["findings"], &body["records"]),
        (200, &json!(0), &json!([]))
    );
}

#[test]
fn chain_faults_are_named_by_record_and_field() {
    let svc = Service::start(&["--skip-chain-every", "3", "--blank-provenance-every", "4"]);
    let a = svc.addr.as_str();
    let s = start_session(a);
    for i in 1..=7 {
        assert_eq!(chat(a, &s, &format!("m{i}")).0, 200);
    }
    let (code, findings, _) = audit(&svc.path("demo.db"));
    assert_eq!(code, 1);
    assert_eq!(
        ids(&findings),
        vec![
            json!({"kind":"finding","violation":"broken_chain","record_id":"p-000003","memory_id":"m-000003"}),
            json!({"kind":"finding","violation":"broken_chain","record_id":"p-000006","memory_id":"m-000006"}),
            json!({"kind":"finding","violation":"empty_field","record_id":"p-000004","memory_id":"m-000004","field":"source_type"}),
        ]
    );
    assert!(
        findings[0]["detail"]
            .as_str()
            .unwrap()
            .contains("is not the previous record's hash"),
        "{}",
        findings[0]
    );
    // The endpoint says the same.
    let (_, body) = get(a, "/v1/audit");
    assert_eq!(body["records"], json!(findings));
}

#[test]
fn an_edited_message_breaks_its_record_hash() {
    let svc = Service::start(&[]);
    let a = svc.addr.as_str();
    let s = start_session(a);
    for m in ["one", "two"] {
        assert_eq!(chat(a, &s, m).0, 200);
    }
    let db = rusqlite::Connection::open(svc.path("demo.db")).unwrap();
    db.execute("UPDATE messages SET reply = 'forged' WHERE id = 2", [])
        .unwrap();
    drop(db);
    let (code, findings, _) = audit(&svc.path("demo.db"));
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["record_id"], "p-000002");
    assert_eq!(
        findings[0]["detail"],
        "hash does not match the record's content"
    );
}

/// Starts `n` turns of `turn_time` in sessions of their own, each on its own
/// thread; returns the sessions once the service has begun every turn.
fn turns_in_flight(svc: &Service, n: usize) -> Vec<String> {
    let a = svc.addr.clone();
    let sessions: Vec<String> = (0..n).map(|_| start_session(&a)).collect();
    for s in &sessions {
        let (a, s) = (a.clone(), s.clone());
        // The answer never comes (the service is killed): the thread ends
        // with the connection.
        thread::spawn(move || {
            let _ = std::panic::catch_unwind(|| chat(&a, &s, "mid-turn"));
        });
    }
    wait_for_requests(&a, (2 * n) as u64);
    sessions
}

#[test]
fn a_kill_mid_turn_leaves_nothing_half_written_with_transactions() {
    let svc = Service::start(&["--turn-time", "60s"]);
    turns_in_flight(&svc, 3);
    let dir = svc.kill();
    let db = dir.path().join("demo.db");
    let (code, findings, err) = audit(&db);
    assert_eq!((code, findings.len()), (0, 0), "{findings:?}");
    assert!(err.contains("3 sessions, 0 messages"), "{err}");
    // Restarted on the same database, it serves and stays clean.
    let svc = Service::start_in(dir, &[]);
    assert_eq!(chat(&svc.addr, "s-000001", "after").0, 200);
    assert_eq!(audit(&svc.path("demo.db")).0, 0);
}

#[test]
fn a_kill_mid_turn_without_transactions_leaves_orphaned_sessions() {
    let svc = Service::start(&["--turn-time", "60s", "--no-transactions"]);
    let sessions = turns_in_flight(&svc, 3);
    // Each turn stored its message before its turn time: wait for all three.
    let db = svc.path("demo.db");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
            .unwrap();
        if n == 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{n} of 3 messages stored"
        );
        thread::sleep(Duration::from_millis(5));
    }
    let dir = svc.kill();
    let (code, findings, _) = audit(&dir.path().join("demo.db"));
    assert_eq!(code, 1);
    let mut named: Vec<(String, Value)> = findings
        .iter()
        .map(|f| {
            assert_eq!(f["violation"], "orphaned_session", "{f}");
            assert!(
                f["detail"]
                    .as_str()
                    .unwrap()
                    .ends_with("stored without a provenance record: the turn never finished"),
                "{f}"
            );
            (
                f["session_id"].as_str().unwrap().to_string(),
                f["memory_ids"].clone(),
            )
        })
        .collect();
    named.sort_by(|x, y| x.0.cmp(&y.0));
    // Which memory went with which session depends on arrival order; the
    // sessions and the count do not.
    assert_eq!(
        named.iter().map(|n| n.0.clone()).collect::<Vec<_>>(),
        sessions
    );
    let mut memories: Vec<String> = named
        .iter()
        .flat_map(|n| {
            n.1.as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_string())
        })
        .collect();
    memories.sort();
    assert_eq!(memories, ["m-000001", "m-000002", "m-000003"]);
}

/// Sends both decisions of one confirmation at once; returns both statuses.
fn decide_twice_at_once(addr: &str, confirmation: &str, already_begun: u64) -> Vec<u16> {
    let handles: Vec<_> = ["approve", "deny"]
        .into_iter()
        .map(|d| {
            let (a, c) = (addr.to_string(), confirmation.to_string());
            thread::spawn(move || decide(&a, &c, d).0)
        })
        .collect();
    wait_for_requests(addr, already_begun + 2);
    let mut statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    statuses.sort();
    statuses
}

#[test]
fn concurrent_decisions_one_wins_with_the_guard() {
    let svc = Service::start(&["--action-time", "2s"]);
    let a = svc.addr.as_str();
    let s = start_session(a);
    let c = confirm(a, &s);
    assert_eq!(decide_twice_at_once(a, &c, 2), [200, 409]);
    let (_, body) = get(a, &format!("/confirmation/{c}"));
    assert_eq!(body["decisions"], 1);
    assert_eq!(audit(&svc.path("demo.db")).0, 0);
}

#[test]
fn concurrent_decisions_both_win_without_the_guard_and_the_audit_names_it() {
    // The action takes 3 s between the check and the write, so both
    // requests pass the check before either writes, however loaded the
    // machine (wait_for_requests sees both begun before joining).
    let svc = Service::start(&["--unguarded-decisions", "--action-time", "3s"]);
    let a = svc.addr.as_str();
    let s = start_session(a);
    let c = confirm(a, &s);
    assert_eq!(decide_twice_at_once(a, &c, 2), [200, 200]);
    let (code, findings, _) = audit(&svc.path("demo.db"));
    assert_eq!(code, 1);
    assert_eq!(
        ids(&findings),
        [
            json!({"kind":"finding","violation":"phantom_confirmation","confirmation_id":"c-000001","session_id":"s-000001"})
        ]
    );
    assert!(
        findings[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("decided 2 times ("),
        "{}",
        findings[0]
    );
}

#[test]
fn a_decision_that_lands_after_the_stop_is_a_phantom_without_the_guard() {
    let svc = Service::start(&["--unguarded-decisions", "--action-time", "3s"]);
    let a = svc.addr.clone();
    // The stop must land after the decision's check: it is sent once the
    // service has begun the decision, and the check follows within
    // microseconds. A machine that stalls the decision's thread exactly
    // there lets the stop win (409); then try again (bounded).
    let mut begun = 0;
    for attempt in 1..=3 {
        let s = start_session(&a);
        let c = confirm(&a, &s);
        let decision = {
            let (a, c) = (a.clone(), c.clone());
            thread::spawn(move || decide(&a, &c, "approve"))
        };
        begun += 3;
        wait_for_requests(&a, begun);
        let (status, body) = post(&a, "/session/stop", &json!({ "session_id": s }).to_string());
        begun += 1;
        assert_eq!((status, &body["expired_confirmations"]), (200, &json!(1)));
        let (status, body) = decision.join().unwrap();
        if status == 409 && attempt < 3 {
            assert_eq!(body["error"], "session closed");
            continue;
        }
        assert_eq!(status, 200);
        let (code, findings, _) = audit(&svc.path("demo.db"));
        assert_eq!(code, 1);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0]["violation"], "phantom_confirmation");
        assert_eq!(findings[0]["confirmation_id"], c);
        assert_eq!(findings[0]["session_id"], s);
        let detail = findings[0]["detail"].as_str().unwrap();
        assert!(
            detail.contains("was recorded while its session was closed"),
            "{detail}"
        );
        return;
    }
}

#[test]
fn write_behind_loses_an_acknowledged_turn_in_a_crash() {
    let svc = Service::start(&["--write-behind", "60s"]);
    let a = svc.addr.clone();
    let s = start_session(&a);
    let (status, body) = chat(&a, &s, "remember me");
    assert_eq!((status, &body["memory_id"]), (200, &json!("m-000001")));
    // Acknowledged, but not there.
    assert_eq!(get(&a, "/memory/m-000001").0, 404);
    let svc = Service::start_in(svc.kill(), &[]);
    assert_eq!(get(&svc.addr, "/memory/m-000001").0, 404);
    assert_eq!(get(&svc.addr, "/session/s-000001").1["messages"], 0);
}

#[test]
fn write_behind_without_a_crash_stores_the_turn_even_after_the_stop() {
    let svc = Service::start(&["--write-behind", "200ms"]);
    let a = svc.addr.clone();
    let s = start_session(&a);
    assert_eq!(chat(&a, &s, "later").0, 200);
    assert_eq!(
        post(&a, "/session/stop", &json!({ "session_id": s }).to_string()).0,
        200
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while get(&a, "/memory/m-000001").0 != 200 {
        assert!(std::time::Instant::now() < deadline, "never stored");
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(audit(&svc.path("demo.db")).0, 0);
}

#[test]
fn audit_of_a_missing_or_foreign_database_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.db");
    let (code, findings, err) = audit(&missing);
    assert_eq!((code, findings.len()), (2, 0));
    assert_eq!(
        err,
        format!(
            "demo-service: error: {}: no such database\ndemo-service: hint: pass the --db the service writes\n",
            missing.display()
        )
    );
    assert!(!missing.exists(), "the audit created the database");
    let foreign = dir.path().join("other.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let (code, _, err) = audit(&foreign);
    assert_eq!(code, 2);
    assert!(err.contains("no such table: messages"), "{err}");
}
