//! soak-load against the real demo service on 127.0.0.1: exact counts,
//! faults that must fail their gates, the service's own records as the
//! independent witness.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod false_passes;
mod http2;
mod races;
mod util;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use serde_json::Value;
use util::{run, write, Demo};

/// Counts of every window (and target) add up to the summary's, and every
/// request is in exactly one histogram.
fn assert_consistent(r: &util::Ran) {
    let windows = r.windows();
    let sum = |k: &str| windows.iter().map(|w| w[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("requests"), r.u64("requests"));
    assert_eq!(sum("ok") + sum("errors"), r.u64("requests"));
    assert_eq!(r.u64("windows"), windows.len() as u64);
    for (i, w) in windows.iter().enumerate() {
        assert_eq!(w["window"], i as u64 + 1);
        let per_target: u64 = w["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["requests"].as_u64().unwrap())
            .sum();
        assert_eq!(per_target, w["requests"].as_u64().unwrap(), "{w}");
    }
}

#[test]
fn open_model_sends_exactly_the_requests_asked_and_the_service_saw_each_correlation_id() {
    let demo = Demo::start(&[]);
    let log = demo.path("requests.jsonl");
    let r = run(&[
        "run",
        &demo.url("/v1/health"),
        "--rate",
        "400/s",
        "--requests",
        "300",
        "--window",
        "250ms",
        "--requests-log",
        &log,
        "--max-error-rate",
        "0.5%",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.u64("requests"), 300);
    assert_eq!(r.u64("ok"), 300);
    assert_eq!(r.f64("error_rate"), 0.0);
    assert_eq!(r.gate("error_rate")["pass"], true);
    assert_eq!(r.u64("dropped"), 0);
    assert!(r.windows().len() >= 2, "{}", r.stdout);
    assert_consistent(&r);
    // The requests log: one record per request, unique correlation ids,
    // and the service's own access log saw exactly those ids.
    let lines = common::testkit::jsonl(&std::fs::read(&log).unwrap());
    assert_eq!(lines.len(), 300);
    let ids: HashSet<&str> = lines
        .iter()
        .map(|l| l["correlation_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 300);
    assert!(lines
        .iter()
        .all(|l| l["kind"] == "request" && l["status"] == 200 && l["target"] == "GET /v1/health"));
    let seen: HashSet<String> = demo
        .access_log()
        .iter()
        .map(|a| a["correlation_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, ids.iter().map(|s| s.to_string()).collect());
}

#[test]
fn closed_model_sends_exactly_n_and_weights_are_exact_shares() {
    let demo = Demo::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let targets = write(
        dir.path(),
        "t.jsonl",
        &format!(
            "{{\"name\":\"health\",\"url\":\"{}\",\"weight\":3}}\n{{\"name\":\"chat\",\"method\":\"POST\",\"url\":\"{}\",\"body\":{{\"message\":\"hi\"}}}}\n",
            demo.url("/v1/health"),
            demo.url("/v1/chat")
        ),
    );
    let r = run(&[
        "run",
        "--targets",
        &targets,
        "--connections",
        "8",
        "--requests",
        "4000",
        "--window",
        "1s",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.u64("requests"), 4000);
    assert_eq!(r.u64("ok"), 4000);
    let t = &r.figure("targets");
    assert_eq!(t["health"]["requests"], 3000);
    assert_eq!(t["chat"]["requests"], 1000);
    assert_consistent(&r);
    // The service answered exactly that many, by path.
    let log = demo.access_log();
    assert_eq!(
        log.iter()
            .filter(|a| a["path"] == "/v1/chat" && a["status"] == 200)
            .count(),
        1000
    );
    assert_eq!(log.len(), 4000);
}

#[test]
fn fail_rate_one_percent_fails_the_half_percent_gate_with_the_services_own_count() {
    let demo = Demo::start(&["--fail-rate", "1%", "--seed", "7"]);
    let r = run(&[
        "run",
        &demo.url("/v1/health"),
        "--connections",
        "4",
        "--requests",
        "5000",
        "--window",
        "1s",
        "--max-error-rate",
        "0.5%",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.summary()["verdict"], "fail");
    let failed = demo
        .access_log()
        .iter()
        .filter(|a| a["status"] == 500)
        .count() as u64;
    assert_eq!(r.u64("errors"), failed);
    assert_eq!(r.figure("errors_by_class")["5xx"], failed);
    let rate = r.f64("error_rate");
    assert_eq!(rate, failed as f64 / 5000.0);
    assert!((0.006..0.014).contains(&rate), "{rate}");
    let g = r.gate("error_rate");
    assert_eq!(
        (g["op"].as_str(), g["limit"].as_f64(), g["pass"].as_bool()),
        (Some("<="), Some(0.005), Some(false))
    );
    assert_eq!(g["value"].as_f64(), Some(rate));
}

#[test]
fn leak_per_request_fails_the_rss_gate_and_a_clean_service_passes_it() {
    let args = |demo: &Demo| {
        vec![
            "run".to_string(),
            demo.url("/v1/health"),
            "--rate".into(),
            "500/s".into(),
            "--duration".into(),
            "2s".into(),
            "--window".into(),
            "500ms".into(),
            "--pid".into(),
            demo.pid(),
            "--max-rss-growth".into(),
            "10%".into(),
        ]
    };
    let leaky = Demo::start(&["--leak-per-request", "32768"]);
    let a = args(&leaky);
    let r = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let g = r.gate("rss_growth");
    assert_eq!(g["pass"], false);
    // 1000 requests leak 32 MB; the windows after the first hold most of it.
    assert!(g["value"].as_f64().unwrap() > 0.5, "{g}");
    assert!(r.f64("rss_slope_bytes_per_hour") > 0.0);
    assert!(r
        .windows()
        .iter()
        .all(|w| w["rss_bytes"].as_u64().unwrap() > 0 && w["service_pid"] == leaky.child.id()));
    drop(leaky);

    let clean = Demo::start(&[]);
    let a = args(&clean);
    let r = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.stdout);
    let g = r.gate("rss_growth");
    assert_eq!(g["pass"], true, "{g}");
    assert_eq!(r.u64("requests"), 1000);
    assert_eq!(r.u64("service_restarts"), 0);
    assert_eq!(r.gate("service_restarts")["pass"], true);
}

#[test]
fn warmup_windows_are_left_out_of_memory_growth_and_nothing_else() {
    let demo = Demo::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let r = run(&[
        "run",
        &demo.url("/v1/health"),
        "--rate",
        "200/s",
        "--duration",
        "3s",
        "--window",
        "500ms",
        "--warmup",
        "1s",
        "--pid",
        &demo.pid(),
        "--max-rss-growth",
        "1000%",
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let windows = r.windows();
    assert_eq!(windows.len(), 6);
    let flags: Vec<bool> = windows
        .iter()
        .map(|w| w["warmup"].as_bool().unwrap_or(false))
        .collect();
    assert_eq!(flags, [true, true, false, false, false, false]);
    let rss = |i: usize| windows[i]["rss_bytes"].as_u64().unwrap();
    assert_eq!(r.u64("rss_first_bytes"), rss(2));
    assert_eq!(r.u64("rss_last_bytes"), rss(5));
    assert_eq!(
        r.f64("rss_growth"),
        (rss(5) as f64 - rss(2) as f64) / rss(2) as f64
    );
    assert_eq!(r.u64("rss_growth_windows"), 4);
    assert_eq!(r.u64("rss_warmup_windows"), 2);
    // Every request still counts.
    assert_eq!(r.u64("requests"), 600);
    // Judged again, the same.
    let saved = write(dir.path(), "run.jsonl", &r.stdout);
    let again = run(&["report", &saved, "--max-rss-growth", "1000%"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.summary()["figures"], r.summary()["figures"]);
    // A warm-up as long as the run leaves nothing to judge memory on.
    let e = run(&[
        "run",
        &demo.url("/v1/health"),
        "--rate",
        "5/s",
        "--duration",
        "1s",
        "--warmup",
        "1s",
    ]);
    assert_eq!(e.code, 2);
    assert!(
        e.stderr
            .contains("--warmup must be shorter than --duration"),
        "{}",
        e.stderr
    );
}

#[test]
fn a_stall_shows_in_p99_in_the_open_model() {
    // From each whole second of the service's uptime, requests wait until
    // 300 ms into it: about 30% of requests are delayed by up to 300 ms.
    let demo = Demo::start(&["--stall-every", "1s", "--stall-for", "300ms"]);
    let r = run(&[
        "run",
        &demo.url("/v1/health"),
        "--rate",
        "200/s",
        "--duration",
        "3s",
        "--window",
        "1s",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p99 = r.f64("p99_ms");
    let p50 = r.f64("p50_ms");
    assert!(
        (200.0..=600.0).contains(&p99),
        "p99 {p99} ms should show the 300 ms stalls"
    );
    assert!(p50 < 100.0, "p50 {p50}");
    assert_eq!(r.u64("requests"), 600);
}

#[test]
fn session_churn_sequence_leaves_no_open_session() {
    let demo = Demo::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let targets = write(
        dir.path(),
        "churn.jsonl",
        &format!(
            concat!(
                "{{\"name\":\"churn\",\"sequence\":[",
                "{{\"name\":\"start\",\"method\":\"POST\",\"url\":\"{start}\",\"body\":{{\"user\":\"soak\"}}}},",
                "{{\"name\":\"chat\",\"method\":\"POST\",\"url\":\"{chat}\",\"repeat\":3,\"body\":{{\"session_id\":\"{{{{steps.start.session_id}}}}\",\"message\":\"hi\"}}}},",
                "{{\"name\":\"stop\",\"method\":\"POST\",\"url\":\"{stop}\",\"body\":{{\"session_id\":\"{{{{steps.start.session_id}}}}\"}}}}]}}\n"
            ),
            start = demo.url("/session/start"),
            chat = demo.url("/v1/chat"),
            stop = demo.url("/session/stop"),
        ),
    );
    let r = run(&[
        "run",
        "--targets",
        &targets,
        "--rate",
        "100/s",
        "--requests",
        "20",
        "--window",
        "1s",
        "--max-error-rate",
        "0",
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.stdout);
    assert_eq!(r.u64("requests"), 100);
    let t = r.figure("targets");
    assert_eq!(
        (
            t["churn.start"]["requests"].as_u64(),
            t["churn.chat"]["requests"].as_u64(),
            t["churn.stop"]["requests"].as_u64()
        ),
        (Some(20), Some(60), Some(20))
    );
    assert_eq!(r.u64("skipped_steps"), 0);
    let db = rusqlite::Connection::open(demo.db()).unwrap();
    let q = |sql: &str| -> i64 { db.query_row(sql, [], |row| row.get(0)).unwrap() };
    assert_eq!(q("SELECT count(*) FROM sessions"), 20);
    assert_eq!(
        q("SELECT count(*) FROM sessions WHERE stopped_at IS NULL"),
        0
    );
    assert_eq!(q("SELECT count(*) FROM messages"), 60);
    // Every session got exactly its own three messages.
    assert_eq!(q("SELECT count(*) FROM (SELECT session_id FROM messages GROUP BY session_id HAVING count(*) = 3)"), 20);
}

#[test]
fn a_sequence_step_whose_value_is_missing_is_skipped_and_counted() {
    let demo = Demo::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let targets = write(
        dir.path(),
        "t.jsonl",
        &format!(
            "{{\"name\":\"s\",\"sequence\":[{{\"name\":\"a\",\"url\":\"{}\"}},{{\"name\":\"b\",\"method\":\"POST\",\"url\":\"{}\",\"repeat\":2,\"body\":{{\"session_id\":\"{{{{steps.a.no_such_field}}}}\"}}}}]}}\n",
            demo.url("/v1/health"),
            demo.url("/session/stop")
        ),
    );
    let r = run(&[
        "run",
        "--targets",
        &targets,
        "--rate",
        "100/s",
        "--requests",
        "5",
        "--window",
        "1s",
        "--max-skipped-steps",
        "10",
        "--max-error-rate",
        "70%",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Each step not sent is a planned request that failed (class
    // template), with no latency: 5 sent, 10 never built.
    assert_eq!(r.u64("requests"), 15);
    assert_eq!(r.u64("skipped_steps"), 10);
    assert_eq!(r.figure("errors_by_class")["template"], 10);
    assert_eq!(r.figure("targets")["s.b"]["requests"], 10);
    assert_eq!(r.figure("targets")["s.b"]["errors"], 10);
    assert_eq!(r.figure("targets")["s.b"]["p99_ms"], Value::Null);
    assert_eq!(r.gate("skipped_steps")["limit"], 10.0);
    assert_eq!(demo.access_log().len(), 5);
}

#[test]
fn connection_refused_and_timeouts_are_errors_of_their_class() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let r = run(&[
        "run",
        &url,
        "--rate",
        "100/s",
        "--requests",
        "20",
        "--window",
        "1s",
        "--max-error-rate",
        "1%",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.figure("errors_by_class")["connect"], 20);
    assert_eq!(r.f64("error_rate"), 1.0);
    assert!(r.stderr.contains("no request succeeded"), "{}", r.stderr);

    let demo = Demo::start(&["--latency", "400ms"]);
    let r = run(&[
        "run",
        &demo.url("/v1/health"),
        "--rate",
        "50/s",
        "--requests",
        "10",
        "--timeout",
        "100ms",
        "--window",
        "1s",
    ]);
    // No request succeeded: a fail whatever was asked.
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.gate("ok")["pass"], false);
    assert_eq!(r.figure("errors_by_class")["timeout"], 10);
    // A timeout is in the histogram at (at least) its timeout.
    assert!(r.f64("p50_ms") >= 100.0, "{}", r.summary());
}

#[test]
fn malformed_targets_files_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("{\"url\":\"http://127.0.0.1:9/\"}\n\n{\"url\":\"http://127.0.0.1:9/\",\"wieght\":2}\n", ":3: not a target: unknown field `wieght`"),
        ("{\"url\":\"http://127.0.0.1:9/\"\n", ":1:"),
        ("{\"name\":\"s\",\"sequence\":[{\"name\":\"a\",\"url\":\"http://127.0.0.1:9/{{steps.b.id}}\"}]}\n", ":1: sequence 's' step 1 ('a'): url: template '{{steps.b.id}}' refers to step 'b', which is not an earlier step"),
        ("{\"name\":\"a\",\"url\":\"https://127.0.0.1/\"}\n", ":1: 'https://127.0.0.1/': https is not supported"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("bad{i}.jsonl"), text);
        let r = run(&[
            "run",
            "--targets",
            &path,
            "--rate",
            "1/s",
            "--requests",
            "1",
        ]);
        assert_eq!(r.code, 2, "{text}: {}", r.stderr);
        let first = r.stderr.lines().next().unwrap_or_default();
        let expected_prefix = format!("soak-load: error: {path}{want}");
        assert!(
            first.starts_with(&expected_prefix),
            "got: {first}\nwant: {expected_prefix}"
        );
        assert!(r.records.is_empty());
    }
    let r = run(&["run", "--targets", "/nonexistent/t.jsonl", "--rate", "1/s"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.lines().next(),
        Some("soak-load: error: /nonexistent/t.jsonl: No such file or directory")
    );
}

#[test]
fn usage_errors_say_which_flag() {
    let r = run(&["run", "http://127.0.0.1:9/"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("say how to send: --rate R"),
        "{}",
        r.stderr
    );
    let r = run(&[
        "run",
        "http://127.0.0.1:9/",
        "--rate",
        "5/s",
        "--max-rss-growth",
        "10%",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--max-rss-growth needs the service's process"),
        "{}",
        r.stderr
    );
    let r = run(&[
        "run",
        "http://127.0.0.1:9/",
        "--rate",
        "5/s",
        "--max-restarts",
        "1",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--max-restarts needs the service's process"),
        "{}",
        r.stderr
    );
    let r = run(&["run", "http://127.0.0.1:9/", "--rate", "fast"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("soak-load: error: invalid value 'fast' for '--rate <RATE>'"),
        "{}",
        r.stderr
    );
}

#[test]
fn sigint_flushes_the_window_and_writes_an_interrupted_summary() {
    let demo = Demo::start(&[]);
    let mut child = util::bin()
        .args([
            "run",
            &demo.url("/v1/health"),
            "--rate",
            "200/s",
            "--duration",
            "1h",
            "--window",
            "200ms",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    // Wait for the first window: the load is running.
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["kind"], "window");
    common::testkit::send_signal(child.id(), 2);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let records = common::testkit::jsonl(rest.as_bytes());
    let summary = common::testkit::summary(&records);
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["verdict"], "fail");
    let windows = common::testkit::of_kind(&records, "window");
    let last = windows.last().unwrap();
    assert_eq!(last["interrupted"], true);
    let total: u64 = std::iter::once(&first)
        .chain(windows.iter().copied())
        .map(|w| w["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(summary["figures"]["requests"], total);
    assert!(total > 0);
}

#[test]
fn csv_has_a_row_per_window_and_target() {
    let demo = Demo::start(&[]);
    let r = run(&[
        "run",
        &demo.url("/v1/health"),
        "--rate",
        "100/s",
        "--requests",
        "50",
        "--window",
        "200ms",
        "--format",
        "csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut rdr = csv::Reader::from_reader(r.stdout.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "window");
    assert_eq!(&headers[5], "target");
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert!(rows.len() >= 4, "{}", r.stdout);
    let total: u64 = rows
        .iter()
        .filter(|row| row[5].is_empty())
        .map(|row| row[6].parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 50);
    assert!(rows.iter().any(|row| &row[5] == "GET /v1/health"));
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with("soak-load: pass: requests 50, errors 0")),
        "{}",
        r.stderr
    );
}

/// Runs a load and returns (its stdout saved to a file, the parsed run).
fn saved_run(demo: &Demo, name: &str, args: &[&str]) -> (String, util::Ran) {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    let r = run(&all);
    let path = demo.path(name);
    std::fs::write(&path, &r.stdout).unwrap();
    (path, r)
}

#[test]
fn report_reproduces_a_saved_runs_summary_and_judges_it_again() {
    let demo = Demo::start(&["--fail-rate", "2%", "--seed", "3"]);
    let url = demo.url("/v1/health");
    let (path, r) = saved_run(
        &demo,
        "run.jsonl",
        &[
            &url,
            "--rate",
            "300/s",
            "--requests",
            "600",
            "--window",
            "500ms",
            "--pid",
            &demo.pid(),
            "--max-error-rate",
            "5%",
            "--max-p99",
            "10s",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let again = run(&[
        "report",
        &path,
        "--max-error-rate",
        "5%",
        "--max-p99",
        "10s",
    ]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.records.len(), 1, "report writes only the summary");
    let (a, b) = (r.summary(), again.summary());
    assert_eq!(a["figures"], b["figures"]);
    assert_eq!(a["gates"], b["gates"]);
    assert_eq!(
        (&a["verdict"], &a["started_at"], &a["finished_at"]),
        (&b["verdict"], &b["started_at"], &b["finished_at"])
    );
    assert_eq!(b["inputs"][0]["path"], path.as_str());
    assert_eq!(b["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    // Judged again with a stricter gate: it fails, on the same figure.
    let strict = run(&["report", &path, "--max-error-rate", "0.5%"]);
    assert_eq!(strict.code, 1);
    assert_eq!(
        strict.gate("error_rate")["value"],
        r.figure("error_rate").clone()
    );
    // The profile's gates apply to a saved run too.
    let profiled = run(&["report", &path, "--profile", "baseline"]);
    let names: Vec<&str> = profiled.summary()["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    // ... and the default gates: no step unsent, no restart (the process
    // was watched).
    assert_eq!(
        names,
        [
            "error_rate",
            "ok",
            "p95_ms",
            "p99_ms",
            "skipped_steps",
            "service_restarts",
            "rss_unrelated"
        ]
    );
    assert_eq!(profiled.gate("service_restarts")["value"], 0.0);
}

/// Latencies (µs) of a requests log.
fn logged_latencies(path: &str) -> Vec<u64> {
    common::testkit::jsonl(&std::fs::read(path).unwrap())
        .iter()
        .map(|l| (l["latency_ms"].as_f64().unwrap() * 1000.0).round() as u64)
        .collect()
}

#[test]
fn merge_of_two_runs_equals_one_run_over_the_union_of_their_samples() {
    let demo = Demo::start(&["--fail-rate", "3%", "--seed", "11", "--latency", "1ms"]);
    let (log_a, log_b) = (demo.path("a-requests.jsonl"), demo.path("b-requests.jsonl"));
    let health = demo.url("/v1/health");
    let chat_dir = tempfile::tempdir().unwrap();
    let targets = write(chat_dir.path(), "t.jsonl", &format!(
        "{{\"name\":\"chat\",\"method\":\"POST\",\"url\":\"{}\",\"body\":{{\"message\":\"hi\"}}}}\n{{\"name\":\"GET /v1/health\",\"url\":\"{health}\"}}\n",
        demo.url("/v1/chat")
    ));
    let (a, ra) = saved_run(
        &demo,
        "a.jsonl",
        &[
            &health,
            "--rate",
            "400/s",
            "--requests",
            "800",
            "--window",
            "500ms",
            "--requests-log",
            &log_a,
            "--max-error-rate",
            "10%",
        ],
    );
    let (b, rb) = saved_run(
        &demo,
        "b.jsonl",
        &[
            "--targets",
            &targets,
            "--connections",
            "3",
            "--requests",
            "1500",
            "--window",
            "300ms",
            "--requests-log",
            &log_b,
            "--max-error-rate",
            "10%",
        ],
    );
    assert_eq!((ra.code, rb.code), (0, 0), "{}{}", ra.stderr, rb.stderr);
    let m = run(&["merge", &a, &b, "--max-error-rate", "10%"]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    // One run over the union: every sample of both requests logs.
    let mut union = soak_load::histo::new();
    let mut samples = logged_latencies(&log_a);
    samples.extend(logged_latencies(&log_b));
    for &us in &samples {
        soak_load::histo::record(&mut union, us);
    }
    assert_eq!(m.u64("requests"), 2300);
    assert_eq!(samples.len(), 2300);
    for (name, q) in [
        ("p50_ms", 0.5),
        ("p90_ms", 0.9),
        ("p95_ms", 0.95),
        ("p99_ms", 0.99),
        ("p999_ms", 0.999),
    ] {
        assert_eq!(
            m.f64(name),
            soak_load::histo::quantile_ms(&union, q).unwrap(),
            "{name}"
        );
    }
    assert_eq!(m.f64("max_ms"), soak_load::histo::max_ms(&union).unwrap());
    // And within the histogram's resolution (0.1%) of the exact sorted samples.
    samples.sort_unstable();
    for (name, q) in [("p50_ms", 0.5), ("p99_ms", 0.99)] {
        let rank = ((q * samples.len() as f64).ceil() as usize).max(1) - 1;
        let exact = samples[rank] as f64 / 1000.0;
        let got = m.f64(name);
        assert!(
            (got - exact).abs() <= exact * 0.001 + 0.001,
            "{name}: {got} vs exact {exact}"
        );
    }
    let errors = ra.u64("errors") + rb.u64("errors");
    assert_eq!(m.u64("errors"), errors);
    assert_eq!(m.f64("error_rate"), errors as f64 / 2300.0);
    // Targets with the same name merge; windows pair up by number.
    assert_eq!(
        m.figure("targets")["GET /v1/health"]["requests"]
            .as_u64()
            .unwrap()
            + m.figure("targets")["chat"]["requests"].as_u64().unwrap(),
        2300
    );
    assert_eq!(
        m.windows().len(),
        ra.windows().len().max(rb.windows().len())
    );
    // The merged output is itself a run report reads back identically.
    let merged = demo.path("merged.jsonl");
    std::fs::write(&merged, &m.stdout).unwrap();
    let again = run(&["report", &merged, "--max-error-rate", "10%"]);
    assert_eq!(again.summary()["figures"], m.summary()["figures"]);
}

#[test]
fn report_refuses_edited_windows_and_fails_interrupted_runs() {
    let demo = Demo::start(&[]);
    let (path, r) = saved_run(
        &demo,
        "run.jsonl",
        &[
            &demo.url("/v1/health"),
            "--rate",
            "200/s",
            "--requests",
            "100",
            "--window",
            "200ms",
        ],
    );
    assert_eq!(r.code, 0);
    // Someone "fixes" the error count of the first window by hand.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut w: Value = serde_json::from_str(&lines[0]).unwrap();
    w["requests"] = Value::from(w["requests"].as_u64().unwrap() + 5);
    w["ok"] = Value::from(w["ok"].as_u64().unwrap() + 5);
    lines[0] = w.to_string();
    let edited = write(demo.dir.path(), "edited.jsonl", &(lines.join("\n") + "\n"));
    let bad = run(&["report", &edited]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.starts_with(&format!(
            "soak-load: error: {edited}:1: window 1: the histogram holds"
        )),
        "{}",
        bad.stderr
    );
    // Not JSON, not a record, no windows at all.
    let junk = write(demo.dir.path(), "junk.jsonl", "{\"kind\":\"window\"}\n");
    let e = run(&["report", &junk]);
    assert_eq!(e.code, 2);
    assert!(
        e.stderr.starts_with(&format!(
            "soak-load: error: {junk}:1: bad window record: missing field"
        )),
        "{}",
        e.stderr
    );
    let none = write(demo.dir.path(), "none.jsonl", "{\"kind\":\"summary\"}\n");
    assert_eq!(run(&["report", &none]).code, 2);
    // merge takes one run per file, windows in order.
    let twice = write(demo.dir.path(), "twice.jsonl", &(text.clone() + &text));
    let e = run(&["merge", &twice]);
    assert_eq!(e.code, 2);
    assert!(e.stderr.contains("comes after window"), "{}", e.stderr);
    // A window marked interrupted makes the report fail its run_complete
    // gate (the windows of a run whose summary was never written).
    let windows: Vec<&str> = text.lines().filter(|l| l.contains("\"window\"")).collect();
    let mut last: Value = serde_json::from_str(windows[windows.len() - 1]).unwrap();
    last["interrupted"] = Value::Bool(true);
    let cut = write(
        demo.dir.path(),
        "cut.jsonl",
        &format!("{}\n{last}\n", windows[..windows.len() - 1].join("\n")),
    );
    let rep = run(&["report", &cut]);
    assert_eq!(rep.code, 1, "{}", rep.stderr);
    assert_eq!(rep.gate("run_complete")["pass"], false);
}

#[test]
fn plot_writes_one_self_contained_page_with_limits_and_escaped_names() {
    let demo = Demo::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    // A hostile target name must not become markup in the page.
    let targets = write(dir.path(), "t.jsonl", &format!(
        "{{\"name\":\"<img src=x onerror=alert(1)>\",\"url\":\"{}\"}}\n{{\"name\":\"chat\",\"method\":\"POST\",\"url\":\"{}\",\"body\":{{\"message\":\"hi\"}}}}\n",
        demo.url("/v1/health"), demo.url("/v1/chat")
    ));
    let (path, r) = saved_run(
        &demo,
        "run.jsonl",
        &[
            "--targets",
            &targets,
            "--rate",
            "200/s",
            "--requests",
            "200",
            "--window",
            "200ms",
            "--pid",
            &demo.pid(),
            "--max-p99",
            "150ms",
            "--max-error-rate",
            "1%",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = dir.path().join("soak.html");
    let p = run(&["plot", &path, "--per-target", "-o", out.to_str().unwrap()]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Self-contained: nothing to fetch, no script.
    for banned in ["<script", "src=\"", "href=", "url(", "@import", "<img"] {
        assert!(!html.contains(banned), "page contains {banned}");
    }
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; p95"));
    for chart in [
        "Latency per window",
        "Error rate",
        "Achieved rate",
        "Service memory",
    ] {
        assert!(html.contains(chart), "{chart} missing");
    }
    assert!(
        html.contains("p99 limit 150 ms") && html.contains("limit 1%"),
        "gate lines from the summary"
    );
    assert_eq!(html.matches("<svg").count(), 4);
    assert!(html.matches("<polyline").count() >= 8);
    // Limits given on the command line win; several runs are drawn together.
    let p = run(&[
        "plot",
        &path,
        &path,
        "--max-p95",
        "5ms",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(p.code, 0);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("p95 limit 5 ms"));
    assert!(html.contains(&format!("{path} p99")));
    // No windows: refused, and the old page is left as it was.
    let empty = write(dir.path(), "empty.jsonl", "");
    let e = run(&["plot", &empty, "-o", out.to_str().unwrap()]);
    assert_eq!(e.code, 2);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), html);
}
