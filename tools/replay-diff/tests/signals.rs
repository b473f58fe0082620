//! One SIGTERM or SIGINT ends replay-diff at any point (issue 14 item 9), even
//! blocked in `open()` of a FIFO nobody writes to, where no flag is polled:
//! after `common::interrupt::GRACE` the watchdog exits 143 / 130.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use common::testkit::{fifo_without_writer, signal_once, stderr_text, testdata, SendWhen, Signal};

fn blocked_on_a_fifo_then(signal: Signal, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo_without_writer(dir.path(), "replay.jsonl");
    let bin = assert_cmd::cargo::cargo_bin("replay-diff");
    let (out, _) = signal_once(
        Command::new(bin)
            .arg(testdata("replay-diff/golden.jsonl"))
            .arg(&fifo),
        signal,
        SendWhen::BlockedOpeningFifo,
    );
    assert_eq!(
        (out.status.code(), stderr_text(&out)),
        (Some(code), "replay-diff: interrupted\n".to_string())
    );
}

#[test]
fn sigterm_ends_replay_diff_blocked_opening_a_fifo_with_no_writer() {
    blocked_on_a_fifo_then(Signal::SIGTERM, 143);
}

#[test]
fn sigint_ends_replay_diff_blocked_opening_a_fifo_with_no_writer() {
    blocked_on_a_fifo_then(Signal::SIGINT, 130);
}
