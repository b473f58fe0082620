//! `common::interrupt` in a real process: this test binary re-runs itself as
//! the child (env `INTERRUPT_CHILD` says what the child does), blocks it in
//! `open()` of a FIFO with no writer (where no flag can be polled), and sends
//! it real signals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// The child leaves its sleeper for the watchdog to kill: that is the test.
#![allow(clippy::zombie_processes)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::interrupt;
use nix::sys::signal::Signal;

const CHILD: &str = "INTERRUPT_CHILD";
const FIFO: &str = "INTERRUPT_FIFO";
/// Far above the grace: only a process that never exits takes this long.
const HANG: Duration = Duration::from_secs(30);

/// Not a test: what the re-run child does. Without `INTERRUPT_CHILD` it returns at once.
#[test]
fn child_process_helper() {
    let Ok(mode) = std::env::var(CHILD) else {
        return;
    };
    let fifo = std::env::var(FIFO).unwrap();
    match mode.as_str() {
        "default" => interrupt::install().unwrap(),
        "long-grace" => interrupt::install_with(
            Duration::from_secs(600),
            Some(Box::new(|| eprintln!("before_exit ran"))),
        )
        .unwrap(),
        "with-child" => {
            interrupt::install().unwrap();
            let sleeper =
                std::os::unix::process::CommandExt::process_group(&mut Command::new("sleep"), 0)
                    .arg("600")
                    .spawn()
                    .unwrap();
            std::mem::forget(interrupt::kill_on_forced_exit(sleeper.id()));
            println!("sleeper {}", sleeper.id());
        }
        other => panic!("unknown child mode {other}"),
    }
    // Says when the first signal has been handled, so the parent's second
    // signal is not merged with the first while pending.
    std::thread::spawn(|| {
        while !interrupt::requested() {
            std::thread::sleep(Duration::from_millis(5));
        }
        println!("flag set");
    });
    println!("blocking");
    let _ = std::fs::File::open(fifo);
    panic!("open() of a FIFO with no writer returned");
}

fn spawn(mode: &str, dir: &Path) -> Child {
    let fifo = dir.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_helper", "--nocapture"])
        .env(CHILD, mode)
        .env(FIFO, &fifo)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads the child's stdout until a line starting with `prefix`; returns it.
fn await_line(lines: &mut impl Iterator<Item = std::io::Result<String>>, prefix: &str) -> String {
    for line in lines {
        let line = line.unwrap();
        if line.starts_with(prefix) {
            return line;
        }
    }
    panic!("the child ended before printing {prefix:?}");
}

fn signal(child: &Child, signal: Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
}

/// Waits (bounded by [`HANG`]) for the child to exit: its status and stderr.
fn finish(mut child: Child) -> (Option<i32>, String) {
    let deadline = Instant::now() + HANG;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the child was still running {HANG:?} after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stderr)
}

fn blocked_child(
    mode: &str,
) -> (
    Child,
    impl Iterator<Item = std::io::Result<String>>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(mode, dir.path());
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    await_line(&mut lines, "blocking");
    (child, lines, dir)
}

fn one_signal_ends_a_process_blocked_in_open(sig: Signal, code: i32) {
    let (child, _lines, _dir) = blocked_child("default");
    let sent = Instant::now();
    signal(&child, sig);
    let (status, stderr) = finish(child);
    let took = sent.elapsed();
    assert_eq!(status, Some(code), "{stderr}");
    assert!(stderr.ends_with(": interrupted\n"), "{stderr:?}");
    // The grace was given before the forced exit.
    assert!(took >= interrupt::GRACE, "exited after {took:?}");
}

#[test]
fn sigterm_ends_a_process_blocked_opening_a_fifo_with_143() {
    one_signal_ends_a_process_blocked_in_open(Signal::SIGTERM, 143);
}

#[test]
fn sigint_ends_a_process_blocked_opening_a_fifo_with_130() {
    one_signal_ends_a_process_blocked_in_open(Signal::SIGINT, 130);
}

#[test]
fn a_second_signal_exits_without_waiting_for_the_grace() {
    // Repeated: the watchdog once woke on the second signal's pipe byte
    // before that handler had recorded which signal it was, and exited 130
    // for a SIGTERM in about one run in ten.
    for round in 0..25 {
        // A 600 s grace: only the second signal can end this child within HANG.
        let (child, mut lines, _dir) = blocked_child("long-grace");
        signal(&child, Signal::SIGINT);
        await_line(&mut lines, "flag set");
        signal(&child, Signal::SIGTERM);
        let (status, stderr) = finish(child);
        assert_eq!(
            status,
            Some(143),
            "round {round}: the last signal names the status"
        );
        assert!(stderr.contains("before_exit ran\n"), "{stderr:?}");
        assert!(stderr.ends_with(": interrupted\n"), "{stderr:?}");
    }
}

#[test]
fn a_forced_exit_kills_the_tracked_process_group() {
    let (child, mut lines, _dir) = {
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn("with-child", dir.path());
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        (child, lines, dir)
    };
    let sleeper: i32 = await_line(&mut lines, "sleeper ")["sleeper ".len()..]
        .parse()
        .unwrap();
    await_line(&mut lines, "blocking");
    signal(&child, Signal::SIGTERM);
    let (status, stderr) = finish(child);
    assert_eq!(status, Some(143), "{stderr}");
    // Orphaned, the sleeper is reaped by init (or a subreaper) once killed.
    let deadline = Instant::now() + HANG;
    let stat = format!("/proc/{sleeper}/stat");
    while let Ok(text) = std::fs::read_to_string(&stat) {
        if text
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z'))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sleep {sleeper} outlived the forced exit"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn exit_code_is_130_before_any_signal() {
    assert_eq!(interrupt::exit_code(), 130);
}
