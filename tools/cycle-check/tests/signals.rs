//! One SIGTERM or SIGINT ends cycle-check at any point (issue 14 item 9),
//! also where no flag is polled: blocked in `open()` of a `--service-log`
//! FIFO nobody reads, or in a write to a stdout pipe nobody reads. A forced
//! exit still leaves no process of the service behind.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::testkit::{
    fifo_without_writer, jsonl, send_signal, signal_once, stderr_text, summary, SendWhen, Signal,
    SIGNAL_DEADLINE,
};

fn service_log_on_a_fifo_then(signal: Signal, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo_without_writer(dir.path(), "service.log");
    let bin = assert_cmd::cargo::cargo_bin("cycle-check");
    let (out, _) = signal_once(
        Command::new(bin)
            .args(["--cycles", "1", "--ready", "exec:true", "--service-log"])
            .arg(&fifo)
            .args(["--", "sleep", "600"]),
        signal,
        SendWhen::BlockedOpeningFifo,
    );
    assert_eq!(out.status.code(), Some(code), "{}", stderr_text(&out));
    assert_eq!(stderr_text(&out), "cycle-check: interrupted\n");
}

#[test]
fn sigterm_ends_cycle_check_blocked_opening_a_service_log_fifo() {
    service_log_on_a_fifo_then(Signal::SIGTERM, 143);
}

#[test]
fn sigint_ends_cycle_check_blocked_opening_a_service_log_fifo() {
    service_log_on_a_fifo_then(Signal::SIGINT, 130);
}

/// Processes (not zombies) whose command line mentions `marker`.
fn live_processes_mentioning(marker: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')
                        .map(|(_, rest)| rest.trim_start().to_string())
                })
                .is_none_or(|rest| rest.starts_with('Z') || rest.starts_with('X'));
            !zombie
                && std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
        })
        .collect()
}

/// Kills what is left of a test's service if the test fails, so a failing
/// run does not leak processes into the next.
struct KillLeftovers(String);

impl Drop for KillLeftovers {
    fn drop(&mut self) {
        for pid in live_processes_mentioning(&self.0) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// True while the main thread of `pid` waits to write into a full pipe.
fn blocked_writing_a_pipe(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/wchan"))
        .is_ok_and(|w| w.ends_with("pipe_write"))
}

/// A service whose processes all carry `dir` in their command line: the
/// main script, a background child in its process group, and one that
/// left for a session of its own (as a daemon does).
fn service_with_background_children(dir: &Path) -> Vec<String> {
    let child = dir.join("child.sh");
    std::fs::write(&child, "while :; do sleep 1; done\n").unwrap();
    let main = dir.join("main.sh");
    std::fs::write(
        &main,
        format!(
            "sh {child} &\nsetsid sh {child} &\necho up\nwhile :; do sleep 1; done\n",
            child = child.display()
        ),
    )
    .unwrap();
    vec!["sh".into(), main.to_str().unwrap().into()]
}

#[test]
fn a_forced_exit_leaves_no_process_of_the_service_behind() {
    // The main thread is stuck writing health records into a stdout pipe
    // nobody reads, so it never sees the signal: the watchdog ends the run
    // after the grace, and must first kill every process of the service
    // (before, cycle-check ran on until the reader came back, forever).
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().to_str().unwrap().to_string();
    let _cleanup = KillLeftovers(marker.clone());
    let log = dir.path().join("svc.log");
    let bin = assert_cmd::cargo::cargo_bin("cycle-check");
    let mut child = Command::new(bin)
        .args([
            "--cycles",
            "1",
            "--ready",
            "log:^up",
            "--health",
            "exec:true",
        ])
        .args(["--health-interval", "1ms", "--health-duration", "10m"])
        .arg("--service-log")
        .arg(&log)
        .arg("--")
        .args(service_with_background_children(dir.path()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = Instant::now();
    while !(blocked_writing_a_pipe(pid) && live_processes_mentioning(&marker).len() >= 3) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "cycle-check ended before its stdout filled"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "cycle-check never blocked on its full stdout"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    send_signal(pid, Signal::SIGTERM as i32);
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > SIGNAL_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running {SIGNAL_DEADLINE:?} after SIGTERM: it hangs");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(143));
    let took = sent.elapsed();
    assert!(
        took >= Duration::from_secs(8),
        "the grace was cut short: {took:?}"
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.ends_with("cycle-check: interrupted\n"), "{stderr}");
    // SIGKILL was sent before the exit; init reaps what was orphaned soon after.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = live_processes_mentioning(&marker);
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "left running: {left:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sighup_still_stops_cycle_check_with_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().to_str().unwrap().to_string();
    let _cleanup = KillLeftovers(marker.clone());
    let bin = assert_cmd::cargo::cargo_bin("cycle-check");
    let (out, _) = signal_once(
        Command::new(bin)
            .args([
                "--cycles",
                "1",
                "--ready",
                "log:^up",
                "--health",
                "exec:true",
            ])
            .args(["--health-interval", "1s", "--health-duration", "10m"])
            .arg("--service-log")
            .arg(dir.path().join("svc.log"))
            .arg("--")
            .args(service_with_background_children(dir.path())),
        Signal::SIGHUP,
        SendWhen::HandlerInstalled,
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr_text(&out));
    let records = jsonl(&out.stdout);
    assert_eq!(summary(&records)["interrupted"], true);
    assert_eq!(live_processes_mentioning(&marker), Vec::<i32>::new());
}
