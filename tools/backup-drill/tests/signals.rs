//! One SIGTERM or SIGINT ends backup-drill at any point (issue 14 item 9),
//! also while it waits for a hook command that never ends: after
//! `common::interrupt::GRACE` the watchdog exits 143 / 130.

use std::path::Path;
use std::process::Command;

use common::testkit::{signal_once, stderr_text, SendWhen, Signal};

/// Pids of the processes whose environment mentions `dir` (the hook sees
/// BACKUP_DRILL_REPO under it), other than backup-drill itself.
fn hook_processes(dir: &Path) -> Vec<i32> {
    let needle = dir.to_str().unwrap().as_bytes();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            comm.trim() != "backup-drill" && env.windows(needle.len()).any(|w| w == needle)
        })
        .collect()
}

/// Runs a drill whose backup hook never ends, sends `signal` once; returns
/// the exit code and the hook processes still alive (killed afterwards).
fn drill_with_a_hook_that_never_ends_then(signal: Signal) -> (Option<i32>, Vec<i32>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/a.txt"), "a\n").unwrap();
    let bin = assert_cmd::cargo::cargo_bin("backup-drill");
    // The hook lets go of our pipes, so a hook left running cannot stall the test.
    let (out, _) = signal_once(
        Command::new(bin)
            .args(["drill", "--source", "data", "--repo", "repo"])
            .args(["--backup-cmd", "exec sleep 600 >/dev/null 2>&1"])
            .current_dir(dir.path()),
        signal,
        SendWhen::HandlerInstalled,
    );
    let left = hook_processes(dir.path());
    for pid in &left {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), Signal::SIGKILL);
    }
    let code = out.status.code();
    assert!(code.is_some(), "{}", stderr_text(&out));
    (code, left)
}

#[test]
fn sigterm_ends_a_drill_waiting_on_a_hook_with_143() {
    assert_eq!(
        drill_with_a_hook_that_never_ends_then(Signal::SIGTERM).0,
        Some(143)
    );
}

#[test]
fn sigint_ends_a_drill_waiting_on_a_hook_with_130() {
    assert_eq!(
        drill_with_a_hook_that_never_ends_then(Signal::SIGINT).0,
        Some(130)
    );
}

#[test]
fn a_signal_leaves_no_hook_running() {
    let (_, left) = drill_with_a_hook_that_never_ends_then(Signal::SIGTERM);
    assert_eq!(
        left,
        Vec::<i32>::new(),
        "hook processes outlived backup-drill"
    );
}
