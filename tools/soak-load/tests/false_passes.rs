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
