//! soak-load against the real demo service on 127.0.0.1: exact counts,
//! faults that must fail their gates, the service's own records as the
//! independent witness.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.u64("requests"), 5);
    assert_eq!(r.u64("skipped_steps"), 10);
    assert_eq!(r.figure("targets")["s.b"]["requests"], 0);
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
    assert_eq!(r.code, 0, "{}", r.stderr);
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
