//! Helpers for integration tests (feature `testkit`): fixtures from
//! `testdata/`, running a tool, and parsing its JSON Lines output so tests
//! assert exact records rather than "exit 0".

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use serde_json::Value;

/// The workspace root (where `Cargo.toml` with `[workspace]` lives).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A path under `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    workspace_root().join("testdata").join(rel)
}

/// Parses JSON Lines output; panics with the bad line on anything else.
pub fn jsonl(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("output is UTF-8");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

/// Records of one `kind`.
pub fn of_kind<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["kind"] == kind).collect()
}

/// The last record, asserted to be the summary.
pub fn summary(records: &[Value]) -> &Value {
    let last = records.last().expect("no records");
    assert_eq!(
        last["kind"], "summary",
        "last record is not the summary: {last}"
    );
    last
}

/// The gate named `name` in a summary.
pub fn gate<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["gates"]
        .as_array()
        .and_then(|gs| gs.iter().find(|g| g["name"] == name))
        .unwrap_or_else(|| panic!("no gate {name} in {summary}"))
}

/// Stdout of a finished command as UTF-8 text (lossy).
pub fn stdout_text(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Stderr of a finished command as UTF-8 text (lossy).
pub fn stderr_text(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub use assert_cmd;

/// Waits (bounded, 20 s) until process `pid` catches `signal` — its handler
/// is installed, read from the `SigCgt` mask in `/proc/PID/status` — so a
/// test can send the signal without racing the tool's start-up.
pub fn wait_for_signal_handler(pid: u32, signal: i32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .unwrap_or(0);
        if caught & (1 << (signal - 1)) != 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "pid {pid} never installed a handler for signal {signal}"
        );
        std::thread::yield_now();
    }
}

/// Sends `signal` to process `pid` (no `kill` binary needed: procps may be absent).
pub fn send_signal(pid: u32, signal: i32) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap());
    let signal = nix::sys::signal::Signal::try_from(signal).unwrap();
    nix::sys::signal::kill(pid, signal).unwrap();
}
