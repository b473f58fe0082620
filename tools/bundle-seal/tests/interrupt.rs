//! Ctrl-C while hashing: the summary is still written, marked interrupted,
//! nothing half-sealed is left, and the exit status is 130.

use std::fs;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// Waits (bounded) until process `pid` has `target` open.
fn wait_until_open(pid: u32, target: &std::path::Path, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) {
            for fd in fds.flatten() {
                if fs::read_link(fd.path()).is_ok_and(|l| l == target) {
                    return true;
                }
            }
        }
        std::thread::yield_now();
    }
    false
}

#[test]
fn sigint_during_seal_writes_an_interrupted_summary_and_no_seal() {
    let w = Work::new();
    fs::create_dir(w.path("big")).unwrap();
    // A 64 GiB sparse file: hashing it takes far longer than the test waits.
    let blob = w.path("big/blob.bin");
    fs::File::create(&blob).unwrap().set_len(64 << 30).unwrap();
    let child = StdCommand::new(assert_cmd::cargo::cargo_bin("bundle-seal"))
        .args(["seal", "big", "--key", "k.key", "--quiet"])
        .current_dir(w.tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let canonical = fs::canonicalize(&blob).unwrap();
    assert!(
        wait_until_open(child.id(), &canonical, Duration::from_secs(30)),
        "seal never opened the file"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(s["interrupted"], true);
    assert_eq!(s["verdict"], "fail");
    assert!(
        !w.path("big/MANIFEST.json").exists(),
        "an interrupted seal writes nothing"
    );
    assert!(!w.path("big/SHA256SUMS").exists());
}
