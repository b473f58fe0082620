//! Regression tests for false passes found by a hostile trial: each runs
//! the real demo service (or a saved run of it) and asserts the figures
//! and gates that must now fail.

use crate::util::{run, write, Ran, Supervised};
use serde_json::{json, Value};

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
fn churn(dir: &std::path::Path, demo: &crate::util::Demo) -> String {
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
    let demo = crate::util::Demo::start(&["--locked-starts", "100%"]);
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
    let demo = crate::util::Demo::start(&["--fail-rate", "5%", "--seed", "1"]);
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
        "--max-error-rate",
        "20%",
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
    let demo = crate::util::Demo::start(&[]);
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

/// A port on 127.0.0.1 where nothing listens (bound, then closed).
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn a_run_where_every_request_failed_passed_with_no_gate_flag() {
    // Trial 2, item 32: nothing listens on the port, 40 of 40 requests
    // fail to connect, and with no --max-* flag the verdict was pass (only
    // a warning), so bundle-seal released on it. The error rate now has a
    // default gate (1%, the seed load gate), and a run with no success
    // fails `ok >= 1` whatever limits are given.
    let url = format!("http://127.0.0.1:{}/", dead_port());
    let r = run(&["run", &url, "--rate", "20/s", "--duration", "2s", "--quiet"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, r.summary());
    assert_eq!(r.summary()["verdict"], "fail");
    assert_eq!(
        (r.u64("requests"), r.u64("ok"), r.u64("errors")),
        (40, 0, 40)
    );
    assert_eq!(r.figure("errors_by_class")["connect"], 40);
    assert_eq!(gate(&r, "error_rate"), (json!(1.0), json!(0.01), false));
    assert_eq!(gate(&r, "ok"), (json!(0.0), json!(1.0), false));
    // A limit that lets every error through still cannot pass it.
    let loose = run(&[
        "run",
        &url,
        "--rate",
        "20/s",
        "--requests",
        "10",
        "--max-error-rate",
        "100%",
        "--quiet",
    ]);
    assert_eq!(loose.code, 1, "{}", loose.stderr);
    assert_eq!(gate(&loose, "error_rate"), (json!(1.0), json!(1.0), true));
    assert_eq!(gate(&loose, "ok"), (json!(0.0), json!(1.0), false));
    // Judged again, and merged: the same default gates.
    let dir = tempfile::tempdir().unwrap();
    let saved = write(dir.path(), "run.jsonl", &r.stdout);
    for cmd in ["report", "merge"] {
        let again = run(&[cmd, &saved]);
        assert_eq!(again.code, 1, "{cmd}: {}", again.stderr);
        assert_eq!(
            gate(&again, "error_rate"),
            (json!(1.0), json!(0.01), false),
            "{cmd}"
        );
        assert_eq!(gate(&again, "ok"), (json!(0.0), json!(1.0), false), "{cmd}");
    }
}

#[test]
fn the_default_error_rate_gate_passes_a_healthy_run_and_yields_to_the_flag() {
    // The other side of the default: a service answering every request
    // passes it, and --max-error-rate replaces the 1%.
    let demo = crate::util::Demo::start(&[]);
    let r = run(&[
        "run",
        &demo.url("/v1/health"),
        "--rate",
        "100/s",
        "--requests",
        "50",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.summary());
    assert_eq!(gate(&r, "error_rate"), (json!(0.0), json!(0.01), true));
    assert_eq!(gate(&r, "ok"), (json!(50.0), json!(1.0), true));
    let dir = tempfile::tempdir().unwrap();
    let saved = write(dir.path(), "run.jsonl", &r.stdout);
    let again = run(&["report", &saved, "--max-error-rate", "0.5%"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(gate(&again, "error_rate"), (json!(0.0), json!(0.005), true));
}

/// Starts `soak-load ARGS` with stdout to `out`, waits until `windows`
/// window records are there, then kills it with SIGKILL (a CI timeout, the
/// OOM killer): the file holds windows and no summary.
fn killed_run(args: &[&str], out: &std::path::Path, windows: usize) {
    let file = std::fs::File::create(out).unwrap();
    let mut child = crate::util::bin().args(args).stdout(file).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(out).unwrap_or_default();
        let done = text
            .lines()
            .filter(|l| l.contains("\"kind\":\"window\""))
            .count();
        if done >= windows {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {windows} windows in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    common::testkit::send_signal(child.id(), 9);
    child.wait().unwrap();
}

#[test]
fn a_run_killed_with_sigkill_has_no_summary_and_report_and_merge_passed_its_windows() {
    // Trial 2, item 19: `timeout -s KILL 4 soak-load run ... --duration 48h`
    // leaves windows and no summary; report and merge judged the windows
    // alone and passed. A run without its summary is incomplete now:
    // `run_complete` 0 (a fail), the file named on stderr.
    let demo = crate::util::Demo::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k9.jsonl");
    let url = demo.url("/v1/health");
    killed_run(
        &[
            "run",
            &url,
            "--rate",
            "50/s",
            "--duration",
            "48h",
            "--window",
            "200ms",
            "--quiet",
        ],
        &out,
        3,
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("\"kind\":\"summary\""), "{text}");
    let saved = out.to_str().unwrap();
    for cmd in ["report", "merge"] {
        let r = run(&[cmd, saved, "--max-error-rate", "0.5%", "--max-p95", "1s"]);
        assert_eq!(r.code, 1, "{cmd}: {}\n{}", r.stderr, r.stdout);
        assert_eq!(r.summary()["verdict"], "fail", "{cmd}");
        assert_eq!(
            gate(&r, "run_complete"),
            (json!(0.0), json!(1.0), false),
            "{cmd}"
        );
        assert!(
            gate(&r, "error_rate").2,
            "{cmd}: the windows themselves are fine"
        );
        assert!(
            r.stderr.contains(&format!(
                "soak-load: warning: {saved}: the run has no summary (killed before it ended?)"
            )),
            "{cmd}: {}",
            r.stderr
        );
    }
    // A complete run before it in the same file does not make it whole.
    let good = run(&[
        "run",
        &url,
        "--rate",
        "100/s",
        "--requests",
        "20",
        "--quiet",
    ]);
    assert_eq!(good.code, 0, "{}", good.stderr);
    let both = write(dir.path(), "both.jsonl", &format!("{}{text}", good.stdout));
    let r = run(&["report", &both]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(gate(&r, "run_complete"), (json!(0.0), json!(1.0), false));
    // And a complete run alone has no such gate.
    let alone = write(dir.path(), "good.jsonl", &good.stdout);
    let r = run(&["report", &alone]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.summary()["gates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["name"] != "run_complete"));
}

#[test]
fn chaos_injections_that_hit_nothing_passed_the_recovery_gate() {
    // Trial 2, item 29: a chaos command that exits 0 but kills nothing
    // (`kubectl delete pod -l app=wrong`, a pid file that is not there)
    // gave recovered: true, recovery_ms 0 each and a passing recovery
    // gate while the watched service never restarted. An injection with
    // no outage and no restart had no effect: counted, and gated at 0.
    let demo = crate::util::Demo::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let pid_file = write(dir.path(), "app.pid", &format!("{}\n", demo.pid()));
    let missing = dir.path().join("nonexistent.pid");
    let cmd = format!(
        "kill -9 $(cat '{}' 2>/dev/null) 2>/dev/null; true",
        missing.display()
    );
    let r = run(&[
        "run",
        &demo.url("/v1/health"),
        "--rate",
        "20/s",
        "--duration",
        "3500ms",
        "--window",
        "1s",
        "--pid-file",
        &pid_file,
        "--chaos-cmd",
        &cmd,
        "--chaos-every",
        "1s",
        "--max-error-rate",
        "5%",
        "--quiet",
    ]);
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, r.summary());
    let chaos = common::testkit::of_kind(&r.records, "chaos");
    let n = chaos.len();
    assert!(n >= 2, "{chaos:?}");
    for c in &chaos {
        assert_eq!(c["command_exit_code"], 0, "{c}");
        assert_eq!(
            (
                &c["failed_requests"],
                &c["service_restarts"],
                &c["effective"]
            ),
            (&json!(0), &json!(0), &json!(false)),
            "{c}"
        );
    }
    assert_eq!(r.u64("errors"), 0);
    assert_eq!(r.u64("service_restarts"), 0);
    assert_eq!(r.u64("chaos_no_effect"), n as u64);
    assert_eq!(
        gate(&r, "chaos_no_effect"),
        (json!(n as f64), json!(0.0), false)
    );
    assert!(
        r.stderr.contains(&format!(
            "soak-load: warning: {n} of {n} chaos injections had no effect (no request failed after them, the watched process did not restart)"
        )),
        "{}",
        r.stderr
    );
    // Judged again, the gate is carried from the summary.
    let saved = write(dir.path(), "run.jsonl", &r.stdout);
    let again = run(&["report", &saved, "--max-error-rate", "5%"]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert_eq!(
        gate(&again, "chaos_no_effect"),
        (json!(n as f64), json!(0.0), false)
    );
    // Allowed explicitly (a stall shorter than --timeout fails nothing).
    let allowed = run(&[
        "run",
        &demo.url("/v1/health"),
        "--rate",
        "20/s",
        "--duration",
        "1500ms",
        "--chaos-cmd",
        "true",
        "--chaos-every",
        "1s",
        "--max-chaos-no-effect",
        "5",
        "--quiet",
    ]);
    assert_eq!(allowed.code, 0, "{}\n{}", allowed.stderr, allowed.summary());
    assert_eq!(
        gate(&allowed, "chaos_no_effect"),
        (json!(1.0), json!(5.0), true)
    );
}

#[test]
fn merging_a_run_with_itself_doubled_its_counts() {
    // Trial 2, item 12: `soak-load merge a.jsonl a.jsonl` merged one
    // generator's run with itself (requests 82 -> 164) without a word. The
    // same file twice (by name, a hard link or a symlink: same device and
    // inode), or a copy (same content, sha256), is refused (exit 2).
    let demo = crate::util::Demo::start(&[]);
    let r = run(&[
        "run",
        &demo.url("/v1/health"),
        "--rate",
        "100/s",
        "--requests",
        "30",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.jsonl", &r.stdout);
    let link = dir.path().join("link.jsonl");
    std::fs::hard_link(&a, &link).unwrap();
    let sym = dir.path().join("sym.jsonl");
    std::os::unix::fs::symlink(&a, &sym).unwrap();
    let copy = write(dir.path(), "copy.jsonl", &r.stdout);
    for cmd in ["merge", "report"] {
        for other in [a.as_str(), link.to_str().unwrap(), sym.to_str().unwrap()] {
            let m = run(&[cmd, &a, other]);
            assert_eq!(m.code, 2, "{cmd} {other}: {}", m.stdout);
            assert!(m.records.is_empty(), "{cmd}: no summary");
            assert_eq!(
                m.stderr.lines().next().unwrap(),
                format!("soak-load: error: {other}: the same file as {a} (a run given twice would be counted twice)"),
                "{cmd}"
            );
        }
        let m = run(&[cmd, &a, &copy]);
        assert_eq!(m.code, 2, "{cmd}: {}", m.stdout);
        assert_eq!(
            m.stderr.lines().next().unwrap(),
            format!("soak-load: error: {copy}: the same content as {a} (a run given twice would be counted twice)"),
            "{cmd}"
        );
    }
    // One copy alone still merges to itself.
    let one = run(&["merge", &a]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert_eq!(one.u64("requests"), 30);
}

#[test]
fn a_pid_of_an_unrelated_process_gave_a_passing_memory_gate() {
    // Trial 2, item 17: `sleep 300 & soak-load run URL --pid $!
    // --max-rss-growth 10%` judged sleep's memory (growth 0, pass) while
    // the service on the port was never looked at. The watched process
    // tree must hold a listening socket on a target's (loopback) port:
    // else `rss_unrelated` is 1 and fails.
    let demo = crate::util::Demo::start(&[]);
    let mut sleep = std::process::Command::new("sleep")
        .arg("300")
        .spawn()
        .unwrap();
    let sleep_pid = sleep.id().to_string();
    let args = |pid: &str| {
        vec![
            "run".to_string(),
            demo.url("/v1/health"),
            "--rate".into(),
            "20/s".into(),
            "--duration".into(),
            "2s".into(),
            "--window".into(),
            "500ms".into(),
            "--pid".into(),
            pid.to_string(),
            "--max-rss-growth".into(),
            "50%".into(),
            "--quiet".into(),
        ]
    };
    let run_args = |a: &[String]| run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let r = run_args(&args(&sleep_pid));
    let _ = sleep.kill();
    let _ = sleep.wait();
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, r.summary());
    assert_eq!(r.u64("rss_unrelated"), 1);
    assert_eq!(gate(&r, "rss_unrelated"), (json!(1.0), json!(0.0), false));
    assert!(
        r.stderr.contains(&format!(
            "soak-load: warning: the watched process {sleep_pid} (and its descendants) holds no listening socket on the target's port {}: its memory is not the service's",
            demo.addr.port()
        )),
        "{}",
        r.stderr
    );
    // Re-judged, the gate is carried.
    let dir = tempfile::tempdir().unwrap();
    let saved = write(dir.path(), "run.jsonl", &r.stdout);
    let again = run(&["report", &saved]);
    assert_eq!(
        gate(&again, "rss_unrelated"),
        (json!(1.0), json!(0.0), false)
    );
    // The service's own pid passes it.
    let ok = run_args(&args(&demo.pid()));
    assert_eq!(ok.code, 0, "{}\n{}", ok.stderr, ok.summary());
    assert_eq!(ok.u64("rss_unrelated"), 0);
    assert_eq!(gate(&ok, "rss_unrelated"), (json!(0.0), json!(0.0), true));
    // --no-listener-check: not asked (a port mapped into a container).
    let mut a = args(&demo.pid());
    a.push("--no-listener-check".into());
    let skipped = run_args(&a);
    assert_eq!(skipped.code, 0, "{}", skipped.stderr);
    assert_eq!(skipped.figure("rss_unrelated"), &Value::Null);
    assert!(skipped.summary()["gates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["name"] != "rss_unrelated"));
}

/// A server on 127.0.0.1 answering every request (GET, no body) with
/// `head` (HTTP/1.1, keep-alive, empty body), a thread per connection.
fn answering(head: &'static str) -> u16 {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        if c.write_all(head.as_bytes()).is_err() {
                            return;
                        }
                    }
                    match c.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    port
}

#[test]
fn a_service_redirecting_every_call_to_its_login_page_passed_with_0_errors() {
    // Trial 2, item 7: every call answered `302 Location: /login?expired=1`
    // (auth broken); soak-load counted each 3xx a success: 60 of 60 ok,
    // rc 0 with --max-error-rate 0.5%. Redirects are not followed, so a
    // 3xx is an error (class `other`) unless the target accepts it.
    let port =
        answering("HTTP/1.1 302 Found\r\nLocation: /login?expired=1\r\nContent-Length: 0\r\n\r\n");
    let url = format!("http://127.0.0.1:{port}/v1/chat");
    let r = run(&[
        "run",
        &url,
        "--rate",
        "20/s",
        "--requests",
        "20",
        "--max-error-rate",
        "0.5%",
        "--max-p95",
        "1s",
        "--quiet",
    ]);
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, r.summary());
    assert_eq!(
        (r.u64("requests"), r.u64("ok"), r.u64("errors")),
        (20, 0, 20)
    );
    assert_eq!(r.figure("errors_by_class")["other"], 20);
    assert_eq!(gate(&r, "error_rate"), (json!(1.0), json!(0.005), false));
    // A redirect the service is meant to give is accepted when listed.
    let ok = run(&[
        "run",
        &url,
        "--rate",
        "20/s",
        "--requests",
        "20",
        "--accept-status",
        "302",
        "--quiet",
    ]);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stderr, ok.summary());
    assert_eq!((ok.u64("ok"), ok.u64("errors")), (20, 0));
    let dir = tempfile::tempdir().unwrap();
    let t = write(
        dir.path(),
        "t.jsonl",
        &format!("{}\n", json!({"name":"home","url":url,"accept":[302]})),
    );
    let ok = run(&[
        "run",
        "--targets",
        &t,
        "--rate",
        "20/s",
        "--requests",
        "10",
        "--quiet",
    ]);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stderr, ok.summary());
    assert_eq!(ok.u64("ok"), 10);
    let bad = write(
        dir.path(),
        "bad.jsonl",
        &format!("{}\n", json!({"url":url,"accept":[42]})),
    );
    let e = run(&["run", "--targets", &bad, "--requests", "1", "--rate", "1/s"]);
    assert_eq!(e.code, 2);
    assert!(
        e.stderr.starts_with(&format!(
            "soak-load: error: {bad}:1: \"accept\": 42 is not an HTTP status"
        )),
        "{}",
        e.stderr
    );
}

#[test]
fn a_graphql_service_failing_every_call_with_200_passed_with_0_errors() {
    // Trial 2, item 30: every call answered 200 {"data":null,"errors":[..]}
    // and the soak passed, 60 of 60 ok; a plain target could not say what a
    // right answer is ("expect" was refused on targets). It can now: a 2xx
    // whose JSON does not hold the expected fields (null: absent or null)
    // is an error of class `other`.
    let body = r#"{"data":null,"errors":[{"message":"Internal server error: connection pool exhausted"}]}"#;
    let head: &'static str = Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_boxed_str(),
    );
    let port = answering(head);
    let url = format!("http://127.0.0.1:{port}/graphql");
    let dir = tempfile::tempdir().unwrap();
    let t = write(
        dir.path(),
        "gq.jsonl",
        &format!(
            "{}\n",
            json!({"name":"graphql","url":url,"expect":{"errors":null}})
        ),
    );
    let r = run(&[
        "run",
        "--targets",
        &t,
        "--rate",
        "20/s",
        "--requests",
        "20",
        "--max-error-rate",
        "0.5%",
        "--quiet",
    ]);
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, r.summary());
    assert_eq!(
        (r.u64("requests"), r.u64("ok"), r.u64("errors")),
        (20, 0, 20)
    );
    assert_eq!(r.figure("errors_by_class")["other"], 20);
    assert_eq!(gate(&r, "error_rate"), (json!(1.0), json!(0.005), false));
    // A field that is there and right passes; so does null for an absent one.
    let t = write(
        dir.path(),
        "ok.jsonl",
        &format!(
            "{}\n",
            json!({"name":"graphql","url":url,"expect":{"errors.0.message":"Internal server error: connection pool exhausted","data":null,"extensions":null}})
        ),
    );
    let ok = run(&[
        "run",
        "--targets",
        &t,
        "--rate",
        "20/s",
        "--requests",
        "10",
        "--quiet",
    ]);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stderr, ok.summary());
    assert_eq!(ok.u64("ok"), 10);
}

/// Trial 2 item 34: `--max-error-rate 0.5` allowed half the requests to
/// fail (a fraction), where GATES.md's figure is 0.5%; `--max-rss-growth
/// 0.1` was 10%. A bare number other than 0 is refused before any request,
/// showing both readings.
#[test]
fn regression_a_bare_max_error_rate_is_refused_not_read_as_a_fraction() {
    for (flag, bare, fraction) in [
        ("--max-error-rate", "0.5", "50%"),
        ("--max-rss-growth", "0.1", "10%"),
    ] {
        let r = run(&[
            "run",
            "http://127.0.0.1:9/",
            "--rate",
            "10/s",
            "--duration",
            "1s",
            flag,
            bare,
        ]);
        assert_eq!((r.code, r.records.len()), (2, 0), "{}", r.stderr);
        let want = format!(
            "invalid value '{bare}' for '{flag} <PERCENT>': '{bare}' needs a %: as a fraction it \
             is {fraction}, as a percentage {bare}%; write the one you mean ({fraction} or \
             {bare}%); only 0 may go without %"
        );
        assert!(r.stderr.contains(&want), "{}", r.stderr);
    }
}
