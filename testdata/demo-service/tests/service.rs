//! The demo service as its users see it: a real process on 127.0.0.1, real
//! HTTP, a real SQLite file and access log, and each fault switched on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;
use support::{alive, kill9, request, Service};

#[test]
fn endpoints_sessions_and_access_log() {
    let mut svc = Service::start(&["--fake-pii", "--seed", "3"]);
    let a = svc.addr.clone();
    let (status, head, body) = request(&a, "GET", "/v1/health", "", Some("abc-1"));
    assert_eq!(status, 200);
    assert!(head.contains("x-correlation-id: abc-1"), "{head}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["correlation_id"], "abc-1");

    let (status, _, body) = request(&a, "POST", "/session/start", r#"{"user":"bob"}"#, None);
    assert_eq!(status, 201);
    assert_eq!(body["session_id"], "s-000001");
    assert_eq!(body["correlation_id"], "gen-00000002");
    let (status, _, body) = request(
        &a,
        "POST",
        "/v1/chat",
        r#"{"message":"hi there","session_id":"s-000001"}"#,
        Some("c3"),
    );
    assert_eq!(
        (status, body["reply"].as_str()),
        (200, Some("echo: hi there"))
    );
    let (status, _, body) = request(
        &a,
        "POST",
        "/session/stop",
        r#"{"session_id":"s-000001"}"#,
        None,
    );
    assert_eq!((status, body["messages"].as_i64()), (200, Some(1)));
    let (status, _, _) = request(
        &a,
        "POST",
        "/session/stop",
        r#"{"session_id":"s-000001"}"#,
        None,
    );
    assert_eq!(status, 409);
    let (status, _, body) = request(
        &a,
        "POST",
        "/v1/chat",
        r#"{"message":"x","session_id":"s-000001"}"#,
        None,
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("no open session with that id"))
    );
    let (status, _, body) = request(
        &a,
        "POST",
        "/v1/action",
        r#"{"action":"sum","args":[1,2.5]}"#,
        None,
    );
    assert_eq!((status, body["result"].as_f64()), (200, Some(3.5)));
    let (status, _, body) = request(
        &a,
        "POST",
        "/v1/action",
        r#"{"action":"reverse","args":"abc"}"#,
        None,
    );
    assert_eq!((status, body["result"].as_str()), (200, Some("cba")));
    assert_eq!(request(&a, "POST", "/v1/chat", "{bad", None).0, 400);
    assert_eq!(request(&a, "POST", "/v1/chat", "[1]", None).0, 400);
    assert_eq!(request(&a, "GET", "/v1/chat", "", None).0, 405);
    assert_eq!(request(&a, "GET", "/nope", "", None).0, 404);
    let big = format!(r#"{{"message":"{}"}}"#, "x".repeat(2 << 20));
    assert_eq!(request(&a, "POST", "/v1/chat", &big, None).0, 413);

    svc.signal("TERM");
    assert_eq!(svc.wait(Duration::from_secs(10)).code(), Some(0));

    // The database is a real SQLite file with the session and its message.
    let db = rusqlite::Connection::open(svc.path("demo.db")).unwrap();
    let (user, stopped): (String, Option<String>) = db
        .query_row(
            "SELECT user, stopped_at FROM sessions WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(user, "bob");
    assert!(stopped.is_some());
    let n: i64 = db
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);

    // One access-log line per request, with fake PII that passes Luhn.
    let log = std::fs::read_to_string(svc.path("access.jsonl")).unwrap();
    let records: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 13);
    assert_eq!(records[0]["path"], "/v1/health");
    assert_eq!(records[0]["correlation_id"], "abc-1");
    assert_eq!(records[12]["status"], 413);
    for r in &records {
        assert!(r["user_email"].as_str().unwrap().contains("@example."));
        let digits: Vec<u32> = r["card_number"]
            .as_str()
            .unwrap()
            .chars()
            .filter_map(|c| c.to_digit(10))
            .collect();
        assert_eq!(digits.len(), 16);
        let sum: u32 = digits
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &d)| {
                if i % 2 == 1 {
                    if d * 2 > 9 {
                        d * 2 - 9
                    } else {
                        d * 2
                    }
                } else {
                    d
                }
            })
            .sum();
        assert_eq!(sum % 10, 0, "Luhn: {r}");
    }
}

#[test]
fn port_in_use_is_a_clean_error() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_demo-service"))
        .args(["--listen", &addr, "--db"])
        .arg(dir.path().join("d.db"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        format!("demo-service: error: --listen {addr}: Address already in use\n")
    );
}

#[test]
fn fail_rate_latency_and_crash_after() {
    let mut svc = Service::start(&[
        "--fail-rate",
        "100%",
        "--latency",
        "50ms",
        "--crash-after",
        "2",
    ]);
    let a = svc.addr.clone();
    let t = Instant::now();
    let (status, _, body) = request(&a, "GET", "/v1/health", "", None);
    assert_eq!(
        (status, body["error"].as_str()),
        (500, Some("injected failure (--fail-rate)"))
    );
    assert!(t.elapsed() >= Duration::from_millis(50));
    assert_eq!(
        request(&a, "POST", "/v1/chat", r#"{"message":"x"}"#, None).0,
        500
    );
    // The third request finds the service gone (it aborts).
    let mut s = TcpStream::connect(&a).unwrap();
    let _ = s.write_all(b"GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\n");
    let status = svc.wait(Duration::from_secs(10));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(6), "SIGABRT");
    assert!(svc
        .stderr()
        .contains("crashing after 2 requests (--crash-after)"));
}

#[test]
fn seeded_failures_are_a_fraction() {
    let svc = Service::start(&["--fail-rate", "20%", "--seed", "9"]);
    let fails = (0..200)
        .filter(|_| request(&svc.addr, "GET", "/v1/health", "", None).0 == 500)
        .count();
    assert!((20..=60).contains(&fails), "{fails} of 200 failed");
}

#[test]
fn ignoring_sigterm_and_stopping_on_sigint() {
    let mut svc = Service::start(&["--ignore-sigterm"]);
    svc.signal("TERM");
    // Still serving after SIGTERM was handled (and ignored).
    assert_eq!(request(&svc.addr, "GET", "/v1/health", "", None).0, 200);
    assert!(svc.child.try_wait().unwrap().is_none());
    svc.signal("INT");
    assert_eq!(svc.wait(Duration::from_secs(10)).code(), Some(0));
    assert!(svc.stderr().contains("ignoring SIGTERM (--ignore-sigterm)"));
}

#[test]
fn process_faults_leave_an_orphan_a_zombie_and_a_held_port() {
    let mut svc = Service::start(&["--orphan", "--zombie", "--hold-port"]);
    let me = svc.child.id() as i32;
    let (orphan, zombie, holder) = (
        svc.fault_pid("orphan"),
        svc.fault_pid("zombie"),
        svc.fault_pid("port holder"),
    );
    assert_eq!(alive(zombie), Some('Z'));
    assert!(matches!(alive(orphan), Some('S' | 'R')));
    assert!(matches!(alive(holder), Some('S' | 'R')));
    let port: u16 = svc.addr.rsplit(':').next().unwrap().parse().unwrap();
    assert!(svc
        .lines
        .contains(&format!("fault: port holder pid {holder} port {port}")));
    assert!(svc.lines.contains(&format!("pid {me}")));
    // Both escape into sessions of their own (the child does that itself,
    // so give it a moment after the parent has announced it).
    for pid in [orphan, holder] {
        let sid = || {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            let f: Vec<String> = stat[stat.rfind(')').unwrap() + 2..]
                .split(' ')
                .map(str::to_string)
                .collect();
            f[3].clone()
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while sid() != pid.to_string() {
            assert!(
                Instant::now() < deadline,
                "pid {pid} never got its own session"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    svc.signal("TERM");
    assert_eq!(svc.wait(Duration::from_secs(10)).code(), Some(0));
    // The port is still held after the service exited.
    assert!(TcpStream::connect(&svc.addr).is_ok());
    assert!(alive(orphan).is_some());
    kill9(orphan);
    kill9(holder);
}

#[test]
fn slow_start_delays_the_port() {
    let t = Instant::now();
    let _svc = Service::start(&["--slow-start", "300ms"]);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[test]
fn periodic_stalls_delay_requests() {
    let svc = Service::start(&["--stall-every", "200ms", "--stall-for", "150ms"]);
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    while started.elapsed() < Duration::from_millis(450) {
        let t = Instant::now();
        assert_eq!(request(&svc.addr, "GET", "/v1/health", "", None).0, 200);
        slowest = slowest.max(t.elapsed());
    }
    assert!(
        slowest >= Duration::from_millis(60),
        "slowest request took {slowest:?}"
    );
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn memory_grows_per_request() {
    let svc = Service::start(&["--leak-per-request", "1000000"]);
    let before = rss_kb(svc.child.id());
    for _ in 0..20 {
        assert_eq!(request(&svc.addr, "GET", "/v1/health", "", None).0, 200);
    }
    let after = rss_kb(svc.child.id());
    assert!(after >= before + 15_000, "RSS {before} kB -> {after} kB");
}

#[test]
fn leak_per_request_64kib_as_the_readme_writes_it() {
    // The README's control `--leak-per-request 64KiB` exited 2 with
    // "invalid digit found in string": sizes take units now.
    let svc = Service::start(&["--leak-per-request", "1MiB"]);
    let before = rss_kb(svc.child.id());
    for _ in 0..20 {
        assert_eq!(request(&svc.addr, "GET", "/v1/health", "", None).0, 200);
    }
    let after = rss_kb(svc.child.id());
    assert!(after >= before + 15_000, "RSS {before} kB -> {after} kB");
    drop(svc);
    let svc = Service::start(&["--leak-per-request", "64KiB"]);
    assert_eq!(request(&svc.addr, "GET", "/v1/health", "", None).0, 200);
    drop(svc);
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_demo-service"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("d.db"))
        .args(["--leak-per-request", "64 parsecs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(
            "error: invalid value '64 parsecs' for '--leak-per-request <SIZE>': '64 parsecs' is not a size (examples: 65536, 64KiB, 64k, 1MiB, 1M)"
        ),
        "{err}"
    );
}
