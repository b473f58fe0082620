//! Hostile input: one long line built to make a detector's search slow.
//! Scrubbing must stay linear in the line's length. Timed as the child's
//! own CPU time (from /proc, read before it is reaped), so a loaded machine
//! changes both runs alike; a run that goes far past the linear budget is
//! stopped instead of waited for.

use std::fs;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::wait::{waitid, Id, WaitPidFlag};

use crate::util::bin;

/// Seconds of CPU (user + system) a live or exited, unreaped child used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line.
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .unwrap()
        .unwrap() as f64;
    ticks / hz
}

fn spawn(path: &std::path::Path) -> Child {
    Command::new(bin())
        .env_remove("PII_SCRUB_SALT")
        .args(["--check", "--format", "jsonl"])
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Runs pii-scrub on `path`; its CPU seconds, or None when it passed
/// `budget` CPU seconds (then it is killed).
// Every way out of the loop reaps the child (clippy cannot follow the loop).
#[allow(clippy::zombie_processes)]
fn cpu_of_run(path: &std::path::Path, budget: f64) -> Option<f64> {
    let mut child = spawn(path);
    let pid = child.id();
    loop {
        // Exited? Leave it unreaped (WNOWAIT) so /proc still has its times.
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT | WaitPidFlag::WNOHANG;
        let st = waitid(Id::Pid(nix::unistd::Pid::from_raw(pid as i32)), flags).unwrap();
        let cpu = cpu_seconds(pid);
        if st != nix::sys::wait::WaitStatus::StillAlive {
            let status = child.wait().unwrap();
            // Findings or none (an address between name words is read as
            // part of a name); never a crash or an error.
            assert!(
                matches!(status.code(), Some(0 | 1)),
                "{}: {status}",
                path.display()
            );
            return Some(cpu);
        }
        if cpu > budget {
            child.kill().unwrap();
            child.wait().unwrap();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn line_of(unit: &str, bytes: usize) -> Vec<u8> {
    let mut line = unit.repeat(bytes / unit.len() + 1).into_bytes();
    line.truncate(bytes);
    line.push(b'\n');
    line
}

/// Each unit repeated on one line, 1 MB then 4 MB: 4x the input must cost
/// less than 8x the CPU (plus 0.3 s for start-up and the clock's 10 ms ticks).
fn assert_linear(units: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    for unit in units {
        let small = dir.path().join("small.log");
        let big = dir.path().join("big.log");
        fs::write(&small, line_of(unit, 1 << 20)).unwrap();
        fs::write(&big, line_of(unit, 4 << 20)).unwrap();
        let t1 = cpu_of_run(&small, f64::INFINITY).unwrap();
        let budget = 8.0 * t1 + 0.3;
        match cpu_of_run(&big, budget) {
            Some(t4) => eprintln!("{unit:?}: 1 MB {t1:.2} s CPU, 4 MB {t4:.2} s"),
            None => panic!(
                "{unit:?} repeated: 1 MB took {t1:.2} s CPU, 4 MB more than {budget:.2} s (not linear)"
            ),
        }
    }
}

/// Issue item: `password x 1.2.3.4 ` repeated kept the secret trigger's
/// JSON-key branch (`[a-z0-9_.\- ]*"`) alive to the end of the line, so
/// every IPv4 candidate on it rescanned the rest: 12.8 s for 0.8 MB.
#[test]
fn a_long_line_of_secret_words_and_addresses_is_scrubbed_in_linear_time() {
    assert_linear(&[
        "password x 1.2.3.4 ",
        "password-1.2.3.4-",
        "bearer 1.2.3.4 ",
    ]);
}

/// The phone and identity triggers had the same unbounded tails.
#[test]
fn a_long_line_of_phone_or_identity_words_and_addresses_is_scrubbed_in_linear_time() {
    assert_linear(&[
        "phone x 1.2.3.4 ",
        "passport x 1.2.3.4 ",
        "first_name-1.2.3.4-",
    ]);
}

/// Each `://` in one long token read the token to its end to find where
/// the URL stops (16 s CPU for 156 KB of `://x-1.2.3.4-`, debug build).
#[test]
fn a_long_token_of_url_separators_is_scrubbed_in_linear_time() {
    assert_linear(&["://x-1.2.3.4-", "a://b:c-1.2.3.4-"]);
}
