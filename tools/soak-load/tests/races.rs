//! Races, verification and chaos against the real demo service: 20 actors
//! deciding confirmations two at once, every acknowledged write read back,
//! and kill -9 of the service under its supervisor mid-load. Each fault of
//! the demo must fail its gate and be named; the correct service passes.

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::{run, write, Demo, Ran, Supervised};
use common::testkit;
use serde_json::{json, Value};

/// The race run's targets: a session, a chat, a confirmation decided both
/// ways at once, the stop; then reads of the chat and of each decision.
fn race_targets(dir: &Path, base: &str) -> String {
    let step = |v: Value| v.to_string();
    let steps = [
        step(
            json!({"name":"start","method":"POST","url":format!("{base}/session/start"),"body":{"user":"racer"}}),
        ),
        step(
            json!({"name":"chat","method":"POST","url":format!("{base}/v1/chat"),"body":{"session_id":"{{steps.start.session_id}}","message":"hi"}}),
        ),
        step(
            json!({"name":"ask","method":"POST","url":format!("{base}/confirmation/request"),"body":{"session_id":"{{steps.start.session_id}}","action":"delete_file"}}),
        ),
        step(
            json!({"name":"approve","method":"POST","url":format!("{base}/confirmation/decide"),"body":{"confirmation_id":"{{steps.ask.confirmation_id}}","decision":"approve"},"accept":[409]}),
        ),
        step(
            json!({"name":"deny","parallel":true,"method":"POST","url":format!("{base}/confirmation/decide"),"body":{"confirmation_id":"{{steps.ask.confirmation_id}}","decision":"deny"},"accept":[409]}),
        ),
        step(
            json!({"name":"stop","method":"POST","url":format!("{base}/session/stop"),"body":{"session_id":"{{steps.start.session_id}}"}}),
        ),
        step(
            json!({"name":"check_chat","verify":"chat","url":format!("{base}/memory/{{{{steps.chat.memory_id}}}}"),"expect":{"message":"hi","reply":"{{steps.chat.reply}}","session_id":"{{steps.start.session_id}}"}}),
        ),
        step(
            json!({"name":"check_approve","verify":"approve","url":format!("{base}/confirmation/{{{{steps.ask.confirmation_id}}}}"),"expect":{"status":"approved","decisions":1}}),
        ),
        step(
            json!({"name":"check_deny","verify":"deny","url":format!("{base}/confirmation/{{{{steps.ask.confirmation_id}}}}"),"expect":{"status":"denied","decisions":1}}),
        ),
    ];
    write(
        dir,
        "race.jsonl",
        &format!("{{\"name\":\"race\",\"sequence\":[{}]}}\n", steps.join(",")),
    )
}

fn audit(db: &Path) -> (i32, Vec<Value>) {
    let out = std::process::Command::new(common::demo::binary())
        .arg("--audit")
        .arg("--db")
        .arg(db)
        .output()
        .unwrap();
    (out.status.code().unwrap(), testkit::jsonl(&out.stdout))
}

fn db_count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn gate(r: &Ran, name: &str) -> (Value, bool) {
    let g = r.gate(name);
    (g["value"].clone(), g["pass"].as_bool().unwrap())
}

#[test]
fn twenty_actors_times_a_hundred_ops_pass_against_the_guarded_service() {
    let demo = Demo::start(&["--action-time", "2ms"]);
    let dir = tempfile::tempdir().unwrap();
    let targets = race_targets(dir.path(), &demo.url(""));
    let r = run(&[
        "run",
        "--targets",
        &targets,
        "--actors",
        "20",
        "--ops",
        "100",
        "--verify",
        "--max-error-rate",
        "0",
        "--window",
        "1s",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.summary());
    // Six requests sent per op; the verify steps are not load.
    assert_eq!(r.u64("requests"), 12_000);
    let t = r.figure("targets");
    for step in ["start", "chat", "ask", "approve", "deny", "stop"] {
        assert_eq!(t[format!("race.{step}")]["requests"], 2000, "{step}");
    }
    assert_eq!(t["race.check_chat"]["requests"], 0);
    // Every refused second decision (409) was accepted: no race error.
    assert_eq!(r.u64("errors"), 0);
    // A chat and exactly one decision acknowledged per op, all read back.
    assert_eq!(r.u64("writes_acknowledged"), 4000);
    assert_eq!(r.u64("writes_verified"), 4000);
    for name in ["lost_writes", "changed_writes", "unverified_writes"] {
        assert_eq!(gate(&r, name), (json!(0.0), true), "{name}");
    }
    assert!(testkit::of_kind(&r.records, "verify").is_empty());
    let db = demo.db();
    assert_eq!(db_count(&db, "SELECT count(*) FROM decisions"), 2000);
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM sessions WHERE stopped_at IS NULL"
        ),
        0
    );
    assert_eq!(audit(&db), (0, vec![]));
}

#[test]
fn unguarded_decisions_race_and_verify_names_each_double_decided_confirmation() {
    // Two decisions sent together; the unguarded check-then-act lets both
    // win when the second checks during the first's 20 ms action.
    let demo = Demo::start(&["--unguarded-decisions", "--action-time", "20ms"]);
    let dir = tempfile::tempdir().unwrap();
    let targets = race_targets(dir.path(), &demo.url(""));
    let r = run(&[
        "run",
        "--targets",
        &targets,
        "--actors",
        "20",
        "--ops",
        "10",
        "--verify",
        "--window",
        "1s",
        "--quiet",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let db = demo.db();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut twice = conn
        .prepare(
            "SELECT confirmation_id FROM decisions GROUP BY confirmation_id HAVING count(*) = 2",
        )
        .unwrap();
    let doubled: BTreeSet<String> = twice
        .query_map([], |row| row.get::<_, i64>(0))
        .unwrap()
        .map(|id| format!("/confirmation/c-{:06}", id.unwrap()))
        .collect();
    assert!(
        !doubled.is_empty(),
        "no race happened in 200 double decisions"
    );
    // Both acknowledgements of a double decision were told decisions 1 is
    // what stands; the read says 2: each is a changed write, named.
    let records = testkit::of_kind(&r.records, "verify");
    assert_eq!(records.len(), 2 * doubled.len());
    let named: BTreeSet<String> = records
        .iter()
        .map(|v| {
            assert_eq!(v["outcome"], "changed", "{v}");
            assert!(
                v["mismatches"]
                    .as_array()
                    .unwrap()
                    .contains(&json!({"field":"decisions","expected":1,"found":2})),
                "{v}"
            );
            v["url"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(named, doubled);
    assert_eq!(
        gate(&r, "changed_writes"),
        (json!(2.0 * doubled.len() as f64), false)
    );
    assert_eq!(gate(&r, "lost_writes"), (json!(0.0), true));
    // Judged again from the saved run, with no gate asked: the windows
    // cannot show the changed writes, so their gates are carried over.
    let saved = write(dir.path(), "run.jsonl", &r.stdout);
    let again = run(&["report", &saved]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert_eq!(
        gate(&again, "changed_writes"),
        (json!(2.0 * doubled.len() as f64), false)
    );
    // The same run twice is refused (it would count twice)...
    let twice = run(&["merge", &saved, &saved]);
    assert_eq!(twice.code, 2, "{}", twice.stderr);
    // ...a second generator's file is merged and its gates summed (here
    // the same windows with a blank line added, so not the same bytes).
    let second = write(dir.path(), "run2.jsonl", &format!("{}\n", r.stdout));
    let merged = run(&["merge", &saved, &second]);
    assert_eq!(merged.code, 1, "{}", merged.stderr);
    assert_eq!(
        gate(&merged, "changed_writes"),
        (json!(4.0 * doubled.len() as f64), false)
    );
    // The service's own audit names the same confirmations.
    let (code, findings) = audit(&db);
    assert_eq!(code, 1);
    let phantoms: BTreeSet<String> = findings
        .iter()
        .filter(|f| f["violation"] == "phantom_confirmation")
        .map(|f| format!("/confirmation/{}", f["confirmation_id"].as_str().unwrap()))
        .collect();
    assert_eq!(phantoms, doubled);
}

/// Session churn with a chat whose stored memory is read back at the end.
fn churn_targets(dir: &Path, svc: &Supervised) -> String {
    let seq = json!({"name":"turn","sequence":[
        {"name":"start","method":"POST","url":svc.url("/session/start"),"body":{"user":"soak"}},
        {"name":"chat","method":"POST","url":svc.url("/v1/chat"),"body":{"session_id":"{{steps.start.session_id}}","message":"hi"}},
        {"name":"stop","method":"POST","url":svc.url("/session/stop"),"body":{"session_id":"{{steps.start.session_id}}"}},
        {"name":"check","verify":"chat","url":format!("{}/{{{{steps.chat.memory_id}}}}", svc.url("/memory")),"expect":{"message":"hi","reply":"{{steps.chat.reply}}"}}
    ]});
    write(dir, "churn.jsonl", &format!("{seq}\n"))
}

/// soak-load at 100/s for `duration` with kill -9 every `every`.
fn chaos_run(svc: &Supervised, every: &str, duration: &str, extra: &[&str]) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let targets = churn_targets(dir.path(), svc);
    let kill = svc.kill_cmd();
    let mut args = vec![
        "run",
        "--targets",
        &targets,
        "--rate",
        "100/s",
        "--duration",
        duration,
        "--window",
        "1s",
        "--timeout",
        "5s",
        "--verify",
        "--chaos-cmd",
        &kill,
        "--chaos-every",
        every,
        "--quiet",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn a_kill_under_load_recovers_and_loses_no_acknowledged_write() {
    // Turns take 200 ms, so chats are always in flight when the kill lands.
    let svc = Supervised::start("0", &["--turn-time", "200ms"]);
    let pid_file = svc.pid_file();
    let r = chaos_run(&svc, "1s", "3500ms", &["--pid-file", &pid_file]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.summary());
    let chaos = testkit::of_kind(&r.records, "chaos");
    assert_eq!(chaos.len(), 3, "{chaos:?}");
    for (i, c) in chaos.iter().enumerate() {
        assert_eq!(c["seq"], i as u64 + 1);
        assert_eq!(c["command_exit_code"], 0);
        assert_eq!(c["recovered"], true, "{c}");
        // The turns in flight failed with the service.
        assert!(c["failed_requests"].as_u64().unwrap() >= 1, "{c}");
        assert!(c["outage_started_at"].is_string() && c["outage_ended_at"].is_string());
        assert!(c["recovery_ms"].as_f64().unwrap() < 120_000.0);
    }
    assert_eq!(r.u64("chaos_injections"), 3);
    assert_eq!(r.u64("unrecovered_outages"), 0);
    assert!(gate(&r, "recovery_ms_max").1);
    assert_eq!(gate(&r, "chaos_command_failures"), (json!(0.0), true));
    // Each kill ended one process; with --chaos-cmd that is allowed, one
    // restart per injection (a crash of its own beyond that would fail).
    assert_eq!(svc.pids().len(), 4);
    assert_eq!(r.u64("service_restarts"), 3);
    assert_eq!(r.gate("service_restarts")["limit"], 3.0);
    assert_eq!(r.gate("service_restarts")["pass"], true);
    assert!(r.u64("writes_acknowledged") > 0);
    assert_eq!(r.u64("writes_verified"), r.u64("writes_acknowledged"));
    assert_eq!(gate(&r, "lost_writes"), (json!(0.0), true));
    assert_eq!(
        audit(&svc.db()).0,
        0,
        "transactions leave nothing half-written"
    );
}

#[test]
fn write_behind_loses_acknowledged_writes_in_a_kill_and_verify_names_each() {
    let svc = Supervised::start("0", &["--write-behind", "400ms"]);
    let r = chaos_run(&svc, "1s", "2500ms", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lost = testkit::of_kind(&r.records, "verify");
    assert!(!lost.is_empty());
    assert_eq!(gate(&r, "lost_writes"), (json!(lost.len() as f64), false));
    for v in &lost {
        assert_eq!(
            (&v["outcome"], &v["status"], &v["write"]),
            (&json!("lost"), &json!(404), &json!("turn.chat")),
            "{v}"
        );
        // Named by the id it was acknowledged with. (Whether that id holds
        // something else by now is not asked: write-behind ids are handed
        // out from memory, so a restart hands the lost ones out again.)
        assert!(v["url"].as_str().unwrap().starts_with("/memory/m-"), "{v}");
    }
}

#[test]
fn a_kill_mid_turn_without_transactions_leaves_orphans_only_the_audit_finds() {
    // Nothing acknowledged is lost (the half-written turns were never
    // answered), so soak-load's gates pass; the state audit of the crash
    // drill (cycle-check --audit) is what finds the orphans.
    let svc = Supervised::start("0", &["--turn-time", "200ms", "--no-transactions"]);
    let r = chaos_run(&svc, "1s", "2500ms", &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.summary());
    assert_eq!(gate(&r, "lost_writes"), (json!(0.0), true));
    let (code, findings) = audit(&svc.db());
    assert_eq!(code, 1);
    assert!(!findings.is_empty());
    for f in &findings {
        assert_eq!(f["violation"], "orphaned_session", "{f}");
        assert!(f["session_id"].as_str().unwrap().starts_with("s-"));
    }
}

#[test]
fn a_slow_restart_fails_the_recovery_gate() {
    let svc = Supervised::start("1.5", &[]);
    // One injection (at 2.5 s); the service is back 1.5 s later, well
    // before the end even if the injection comes late on a loaded machine.
    let r = chaos_run(&svc, "2500ms", "4900ms", &["--max-recovery", "500ms"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let chaos = testkit::of_kind(&r.records, "chaos");
    assert_eq!(chaos.len(), 1);
    let recovery = chaos[0]["recovery_ms"].as_f64().unwrap();
    assert!(recovery >= 1400.0, "{}", chaos[0]);
    assert_eq!(gate(&r, "recovery_ms_max"), (json!(recovery), false));
    assert_eq!(r.gate("recovery_ms_max")["limit"], 500.0);
}

#[test]
fn chaos_that_injected_nothing_is_no_pass() {
    let demo = Demo::start(&[]);
    let url = demo.url("/v1/health");
    // The command fails: nothing was injected.
    let r = run(&[
        "run",
        &url,
        "--rate",
        "50/s",
        "--duration",
        "1s",
        "--window",
        "1s",
        "--quiet",
        "--chaos-cmd",
        "exit 3",
        "--chaos-every",
        "300ms",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let chaos = testkit::of_kind(&r.records, "chaos");
    assert!(!chaos.is_empty());
    assert!(chaos.iter().all(|c| c["command_exit_code"] == 3));
    assert_eq!(
        gate(&r, "chaos_command_failures"),
        (json!(chaos.len() as f64), false)
    );
    assert!(
        r.stderr
            .contains("--chaos-cmd (injection 1): exit status 3"),
        "{}",
        r.stderr
    );
    // The run ended before the first injection was due.
    let r = run(&[
        "run",
        &url,
        "--rate",
        "50/s",
        "--duration",
        "500ms",
        "--window",
        "1s",
        "--quiet",
        "--chaos-cmd",
        "true",
        "--chaos-every",
        "10s",
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(r.u64("chaos_injections"), 0);
    assert_eq!(gate(&r, "recovery_ms_max"), (Value::Null, false));
    assert_eq!(gate(&r, "chaos_command_failures"), (Value::Null, false));
}

#[test]
fn verify_with_nothing_acknowledged_is_no_pass() {
    // Every chat fails (the session id is made up): nothing to vouch for.
    let demo = Demo::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let seq = json!({"name":"t","sequence":[
        {"name":"chat","method":"POST","url":demo.url("/v1/chat"),"body":{"session_id":"s-999999","message":"hi"}},
        {"name":"check","verify":"chat","url":demo.url("/v1/health"),"expect":{"status":"ok"}}
    ]});
    let targets = write(dir.path(), "t.jsonl", &format!("{seq}\n"));
    let r = run(&[
        "run",
        "--targets",
        &targets,
        "--actors",
        "2",
        "--ops",
        "3",
        "--verify",
        "--quiet",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.u64("writes_acknowledged"), 0);
    for name in ["lost_writes", "changed_writes", "unverified_writes"] {
        assert_eq!(gate(&r, name), (Value::Null, false), "{name}");
    }
}

#[test]
fn new_step_fields_and_flags_are_checked_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let u = "http://127.0.0.1:1";
    let cases = [
        (
            json!([{"name":"a","url":u,"parallel":true}]),
            "step 1 ('a'): the first step cannot be \"parallel\"",
        ),
        (
            json!([{"name":"a","url":u},{"name":"b","url":u,"verify":"c","expect":{"x":1}}]),
            "step 2 ('b'): \"verify\": 'c' is not an earlier step",
        ),
        (
            json!([{"name":"a","url":u,"expect":{"x":1}}]),
            "step 1 ('a'): \"expect\" belongs to a verify step",
        ),
        (
            json!([{"name":"a","url":u},{"name":"b","url":u,"verify":"a"}]),
            "step 2 ('b'): a verify step needs \"expect\"",
        ),
        (
            json!([{"name":"a","url":u,"accept":[42]}]),
            "step 1 ('a'): \"accept\": 42 is not an HTTP status",
        ),
        (
            json!([{"name":"a","url":u,"repeat":2},{"name":"b","url":u,"parallel":true}]),
            "step 2 ('b'): \"parallel\" steps (and the step before one) cannot \"repeat\"",
        ),
        (
            json!([{"name":"a","url":u},{"name":"b","url":format!("{u}/{{{{steps.a.id}}}}"),"parallel":true}]),
            "step 2 ('b'): a \"parallel\" step cannot use the answer of 'a', which is sent at the same time",
        ),
    ];
    for (steps, want) in cases {
        let t = write(
            dir.path(),
            "t.jsonl",
            &format!("{{\"name\":\"s\",\"sequence\":{steps}}}\n"),
        );
        let r = run(&["run", "--targets", &t, "--actors", "1", "--ops", "1"]);
        assert_eq!(r.code, 2, "{steps}");
        let want = format!("soak-load: error: {t}:1: sequence 's' {want}");
        assert!(
            r.stderr.starts_with(&want) || r.stderr.starts_with(&want.replace("sequence 's' ", "")),
            "{}\nwant: {want}",
            r.stderr
        );
    }
    let t = write(
        dir.path(),
        "plain.jsonl",
        &format!("{{\"name\":\"h\",\"url\":\"{u}/\"}}\n"),
    );
    for (args, want) in [
        (
            vec!["--actors", "2", "--ops", "1", "--verify"],
            "--verify: no step of the targets verifies a write",
        ),
        (
            vec!["--actors", "0", "--ops", "1"],
            "--actors must be at least 1",
        ),
        (
            vec!["--actors", "2", "--ops", "1", "--requests", "5"],
            "--requests and --actors exclude each other",
        ),
        (
            vec!["--actors", "2", "--ops", "1", "--chaos-cmd", " "],
            "--chaos-cmd: the command is empty",
        ),
    ] {
        let mut all = vec!["run", "--targets", &t];
        all.extend(args.iter().copied());
        let r = run(&all);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
    }
    let r = run(&["run", "--targets", &t, "--ops", "3", "--rate", "1/s"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--actors"), "{}", r.stderr);
}
