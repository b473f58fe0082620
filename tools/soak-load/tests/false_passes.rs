//! Regression tests for false passes found by a hostile trial: each runs
//! the real demo service (or a saved run of it) and asserts the figures
//! and gates that must now fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

use serde_json::{json, Value};
use util::{run, write, Ran, Supervised};

fn gate(r: &Ran, name: &str) -> (Value, Value, bool) {
    let g = r.gate(name);
    (
        g["value"].clone(),
        g["limit"].clone(),
        g["pass"].as_bool().unwrap(),
    )
}

/// The largest (last − first) / first over runs of consecutive windows
/// read from one process (at least two readings), as the summary must
/// compute it; None when no process was read twice.
fn per_process_growth(windows: &[&Value]) -> Option<f64> {
    let mut best: Option<f64> = None;
    let mut seg: Option<(i64, u64, u64, u32)> = None; // pid, first, last, readings
    let mut close = |seg: Option<(i64, u64, u64, u32)>| {
        if let Some((_, first, last, n)) = seg {
            if n >= 2 {
                let g = (last as f64 - first as f64) / first as f64;
                best = Some(best.map_or(g, |b: f64| b.max(g)));
            }
        }
    };
    for w in windows {
        let (Some(pid), Some(rss)) = (w["service_pid"].as_i64(), w["rss_bytes"].as_u64()) else {
            continue;
        };
        let restarted = w["service_restarts"].as_u64().unwrap() > 0;
        seg = match seg {
            Some((p, first, _, n)) if p == pid && !restarted => Some((p, first, rss, n + 1)),
            other => {
                close(other);
                Some((pid, rss, rss, 1))
            }
        };
    }
    close(seg);
    best
}

#[test]
fn a_service_that_crashed_four_times_and_leaks_passed_with_growth_measured_across_processes() {
    // The trial: a supervisor restarting `demo-service --crash-after N
    // --leak-per-request 64KiB`, soak-load watching its pid file: rc 0 and
    // rss_growth -0.41 (a leaking first process against a fresh last one).
    // Here the first four starts crash after 80 requests; the fifth lives
    // to the end, so the run sees exactly four restarts.
    let svc = Supervised::start_with(
        "0",
        &["--leak-per-request", "65536"],
        &["--crash-after", "80"],
        4,
    );
    let pid_file = svc.pid_file();
    let r = run(&[
        "run",
        &svc.url("/v1/health"),
        "--rate",
        "50/s",
        "--duration",
        "12s",
        "--window",
        "1s",
        "--timeout",
        "2s",
        "--pid-file",
        &pid_file,
        "--max-rss-growth",
        "10%",
        "--quiet",
    ]);
    let pids = svc.pids();
    assert_eq!(pids.len(), 5, "the supervisor started {pids:?}");
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, r.summary());
    // Every restart counted, the gate asked by default (memory is watched).
    assert_eq!(r.u64("service_restarts"), 4, "{}", r.summary());
    assert_eq!(
        gate(&r, "service_restarts"),
        (json!(4.0), json!(0.0), false)
    );
    let windows = r.windows();
    let per_window: u64 = windows
        .iter()
        .map(|w| w["service_restarts"].as_u64().unwrap())
        .sum();
    assert_eq!(per_window, 4);
    let seen: Vec<i64> = windows
        .iter()
        .filter_map(|w| w["service_pid"].as_i64())
        .collect();
    assert!(seen.iter().all(|p| pids.contains(p)), "{seen:?} {pids:?}");
    assert_eq!(*seen.last().unwrap(), pids[4]);
    // Growth is that of one process, never first-of-one to last-of-another:
    // every process leaked, so it is well above the gate.
    let expected = per_process_growth(&windows).expect("a process read twice");
    assert!(expected > 0.1, "{expected}");
    assert_eq!(r.f64("rss_growth"), expected);
    assert_eq!(gate(&r, "rss_growth"), (json!(expected), json!(0.1), false));
    // Judged again from the saved run, restarts allowed: the leak still fails.
    let dir = tempfile::tempdir().unwrap();
    let saved = write(dir.path(), "run.jsonl", &r.stdout);
    let again = run(&[
        "report",
        &saved,
        "--max-restarts",
        "4",
        "--max-rss-growth",
        "10%",
    ]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert_eq!(
        gate(&again, "service_restarts"),
        (json!(4.0), json!(4.0), true)
    );
    assert_eq!(
        gate(&again, "rss_growth"),
        (json!(expected), json!(0.1), false)
    );
    // And with no gate asked, the restarts still fail by default.
    let plain = run(&["report", &saved]);
    assert_eq!(plain.code, 1, "{}", plain.stderr);
    assert_eq!(
        gate(&plain, "service_restarts"),
        (json!(4.0), json!(0.0), false)
    );
}

/// The session churn of the release gates: start, three chats, stop.
fn churn(dir: &std::path::Path, demo: &util::Demo) -> String {
    let seq = json!({"name":"churn","sequence":[
        {"name":"start","method":"POST","url":demo.url("/session/start"),"body":{"user":"soak"}},
        {"name":"chat","method":"POST","url":demo.url("/v1/chat"),"repeat":3,"body":{"session_id":"{{steps.start.session_id}}","message":"hi"}},
        {"name":"stop","method":"POST","url":demo.url("/session/stop"),"body":{"session_id":"{{steps.start.session_id}}"}}
    ]});
    write(dir, "churn.jsonl", &format!("{seq}\n"))
}

#[test]
fn a_start_answering_200_database_is_locked_skipped_200_of_250_steps_and_passed() {
    // The trial: every session start answered 200 {"error":"database is
    // locked"} (no session_id): 200 of 250 steps were never sent, errors 0,
    // rc 0. A step that cannot be built is a failed request of class
    // `template` now, and skipped steps have a gate of their own (0).
    let demo = util::Demo::start(&["--locked-starts", "100%"]);
    let dir = tempfile::tempdir().unwrap();
    let targets = churn(dir.path(), &demo);
    let r = run(&[
        "run",
        "--targets",
        &targets,
        "--rate",
        "100/s",
        "--requests",
        "50",
        "--window",
        "1s",
        "--max-p99",
        "10s",
        "--quiet",
    ]);
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, r.summary());
    // The service answered exactly the 50 starts, nothing else.
    let log = demo.access_log();
    assert_eq!(log.len(), 50);
    assert!(log
        .iter()
        .all(|a| a["path"] == "/session/start" && a["status"] == 200));
    assert_eq!(r.u64("requests"), 250);
    assert_eq!(r.u64("ok"), 50);
    assert_eq!(r.u64("errors"), 200);
    assert_eq!(r.figure("errors_by_class")["template"], 200);
    assert_eq!(r.f64("error_rate"), 0.8);
    assert_eq!(r.u64("skipped_steps"), 200);
    let t = r.figure("targets");
    assert_eq!(
        (&t["churn.chat"]["requests"], &t["churn.chat"]["errors"]),
        (&json!(150), &json!(150))
    );
    assert_eq!(
        (&t["churn.stop"]["requests"], &t["churn.stop"]["errors"]),
        (&json!(50), &json!(50))
    );
    // Asked by default: no step may go unsent. The latency gate asked is
    // about the 50 requests sent and passes; the verdict does not.
    assert_eq!(gate(&r, "skipped_steps"), (json!(200.0), json!(0.0), false));
    assert!(gate(&r, "p99_ms").2);
    // The error rate gate, when asked, sees them.
    let dir2 = tempfile::tempdir().unwrap();
    let saved = write(dir2.path(), "run.jsonl", &r.stdout);
    let again = run(&["report", &saved, "--max-error-rate", "0.5%"]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert_eq!(
        gate(&again, "error_rate"),
        (json!(0.8), json!(0.005), false)
    );
    assert_eq!(
        gate(&again, "skipped_steps"),
        (json!(200.0), json!(0.0), false)
    );
    assert_eq!(again.summary()["figures"], r.summary()["figures"]);
}

/// Rewrites every record of `text` of kind `kind` with `edit`.
fn edit_records(text: &str, kind: &str, edit: impl Fn(&mut Value)) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        if v["kind"] == kind {
            edit(&mut v);
        }
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

/// The trial's edit of a figures object: every error made a success.
fn all_ok(f: &mut Value) {
    f["ok"] = f["requests"].clone();
    f["errors"] = json!(0);
    for class in f["errors_by_class"].as_object_mut().unwrap().values_mut() {
        *class = json!(0);
    }
}

#[test]
fn a_saved_run_whose_errors_were_edited_to_successes_passed_report() {
    // The README said "an edited record cannot pass"; the trial set ok =
    // requests, errors 0 and every error class 0 in each window (histograms
    // untouched) and `report --max-error-rate 0.5%` passed.
    let demo = util::Demo::start(&["--fail-rate", "5%", "--seed", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let r = run(&[
        "run",
        &demo.url("/v1/health"),
        "--rate",
        "400/s",
        "--requests",
        "400",
        "--window",
        "250ms",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let errors = r.u64("errors");
    let fives = demo
        .access_log()
        .iter()
        .filter(|a| a["status"] == 500)
        .count();
    assert_eq!(errors, fives as u64);
    assert!(errors >= 10, "{errors}");
    let saved = write(dir.path(), "run.jsonl", &r.stdout);
    let honest = run(&["report", &saved, "--max-error-rate", "0.5%"]);
    assert_eq!(honest.code, 1);

    // 1. The trial's edit: the windows' own counts only.
    let first_bad = r
        .windows()
        .iter()
        .position(|w| w["errors"].as_u64().unwrap() > 0)
        .unwrap()
        + 1;
    let text = edit_records(&r.stdout, "window", all_ok);
    let edited = write(dir.path(), "edited.jsonl", &text);
    let e = run(&["report", &edited, "--max-error-rate", "0.5%"]);
    assert_eq!(e.code, 2, "{}", e.stderr);
    assert!(
        e.stderr.starts_with(&format!(
            "soak-load: error: {edited}:{first_bad}: window {first_bad}: the targets' figures do not add up to the window's: ok"
        )),
        "{}",
        e.stderr
    );
    assert!(e.records.is_empty(), "no summary for edited input");

    // 2. The windows and their targets, and the error rates they show.
    let text = edit_records(&r.stdout, "window", |w| {
        all_ok(w);
        w["error_rate"] = json!(0.0);
        for t in w["targets"].as_array_mut().unwrap() {
            all_ok(t);
            t["error_rate"] = json!(0.0);
        }
    });
    let edited = write(dir.path(), "edited2.jsonl", &text);
    let e = run(&["report", &edited, "--max-error-rate", "0.5%"]);
    assert_eq!(e.code, 2, "{}", e.stderr);
    let summary_line = r.records.len();
    assert!(
        e.stderr.starts_with(&format!(
            "soak-load: error: {edited}:{summary_line}: the run's summary does not match its windows: ok"
        )),
        "{}",
        e.stderr
    );
    // merge reads the same way.
    let m = run(&["merge", &edited]);
    assert_eq!(m.code, 2, "{}", m.stderr);
    assert!(
        m.stderr
            .contains("the run's summary does not match its windows"),
        "{}",
        m.stderr
    );

    // 3. A window's percentiles edited: they must be its histogram's.
    let text = edit_records(&r.stdout, "window", |w| {
        if w["window"] == 1 {
            w["p99_ms"] = json!(0.1);
        }
    });
    let edited = write(dir.path(), "edited3.jsonl", &text);
    let e = run(&["report", &edited]);
    assert_eq!(e.code, 2, "{}", e.stderr);
    assert!(
        e.stderr.starts_with(&format!(
            "soak-load: error: {edited}:1: window 1: p99_ms is 0.1 but its histogram says"
        )),
        "{}",
        e.stderr
    );
}

#[test]
fn a_service_that_stopped_and_removed_its_pid_file_counted_no_restart() {
    // nginx removes its pid file as it exits: the pid file is gone, so the
    // process it named must be looked at itself (found ended: a restart).
    let demo = util::Demo::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("app.pid");
    std::fs::write(&pid_file, format!("{}\n", demo.pid())).unwrap();
    let pid = demo.child.id();
    let pf = pid_file.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1200));
        std::fs::remove_file(&pf).unwrap();
        common::testkit::send_signal(pid, 15);
    });
    let r = run(&[
        "run",
        &demo.url("/v1/health"),
        "--rate",
        "50/s",
        "--duration",
        "3s",
        "--window",
        "500ms",
        "--timeout",
        "1s",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--quiet",
    ]);
    stopper.join().unwrap();
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, r.summary());
    assert_eq!(r.u64("service_restarts"), 1, "{}", r.summary());
    assert_eq!(
        gate(&r, "service_restarts"),
        (json!(1.0), json!(0.0), false)
    );
    let windows = r.windows();
    let last = windows.last().unwrap();
    assert_eq!(
        (&last["rss_bytes"], &last["service_pid"]),
        (&Value::Null, &Value::Null)
    );
    // The saved run reads back as it was written.
    let saved = write(dir.path(), "run.jsonl", &r.stdout);
    let again = run(&["report", &saved]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert_eq!(again.summary()["figures"], r.summary()["figures"]);
}
