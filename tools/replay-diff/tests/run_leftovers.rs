//! `replay-diff run` must leave nothing of the command running (issue 14
//! item 10): background children the command started die with it, after a
//! normal run and after Ctrl-C. Real processes; pids read from a file the
//! command writes.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::testkit::{jsonl, of_kind, summary};
use serde_json::json;

use crate::util::bin;

/// True while `pid` is a live process (not gone, not a zombie).
fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Pids the command wrote to `file`, one a line.
fn pids(file: &Path) -> Vec<i32> {
    fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Waits (bounded: 10 s, for a loaded machine) until none of `pids` is
/// alive; returns those still alive then, and kills them so no test leaves
/// a process behind.
fn still_alive_after_a_while(pids: &[i32]) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<i32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() || Instant::now() > deadline {
            for p in &left {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(*p),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            return left;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn run_mode_kills_background_children_the_command_leaves_after_a_normal_run() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let script = format!(
        "sleep 300 >/dev/null 2>&1 & echo $! >> {0}; (sleep 301 >/dev/null 2>&1 & echo $! >> {0}); echo '{{\"a\":1}}'",
        pidfile.display()
    );
    let out = Command::new(bin())
        .args(["run", "--times", "2", "--", "sh", "-c", &script])
        .output()
        .unwrap();
    let spawned = pids(&pidfile);
    assert_eq!(spawned.len(), 4, "two background sleeps per run");
    let left = still_alive_after_a_while(&spawned);
    assert_eq!(left, Vec::<i32>::new(), "background children left running");
    assert_eq!(out.status.code(), Some(0));
    let records = jsonl(&out.stdout);
    let runs = of_kind(&records, "run");
    // Each run left two processes: `sleep 300` and the orphaned `sleep 301`.
    assert_eq!(
        runs.iter()
            .map(|r| &r["leftover_processes"])
            .collect::<Vec<_>>(),
        [&json!(2), &json!(2)]
    );
    assert_eq!(summary(&records)["figures"]["identical"], 1);
}

#[test]
fn run_mode_kills_the_whole_command_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let script = format!(
        "sleep 300 >/dev/null 2>&1 & echo $! >> {0}; echo $$ >> {0}; wait",
        pidfile.display()
    );
    let mut child = Command::new(bin())
        .args(["run", "--times", "2", "--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while pids(&pidfile).len() < 2 {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    common::testkit::wait_for_signal_handler(child.id(), 2);
    common::testkit::send_signal(child.id(), 2);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("replay-diff did not end after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let spawned = pids(&pidfile);
    let left = still_alive_after_a_while(&spawned);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        left,
        Vec::<i32>::new(),
        "the command's processes left running"
    );
    assert_eq!(out.status.code(), Some(130));
    let records = jsonl(&out.stdout);
    let runs = of_kind(&records, "run");
    assert_eq!(
        (
            runs.len(),
            &runs[0]["signal"],
            &runs[0]["leftover_processes"]
        ),
        (1, &json!(9), &json!(1))
    );
    assert_eq!(summary(&records)["interrupted"], true);
}
