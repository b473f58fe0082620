//! One SIGTERM or SIGINT ends replay-diff at any point (issue 14 item 9), even
//! while an input is a FIFO nobody writes to: replay-diff opens its inputs
//! on the reader threads, so the main thread notices the signal, writes the
//! summary marked interrupted and exits 143 / 130 itself, before
//! `common::interrupt::GRACE` would make the watchdog force the exit (which
//! prints `replay-diff: interrupted` and writes no summary).

use std::process::Command;

use common::testkit::{
    fifo_without_writer, jsonl, signal_once, stderr_text, summary, testdata, SendWhen, Signal,
};
use serde_json::json;

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
        (Some(code), String::new())
    );
    let records = jsonl(&out.stdout);
    let s = summary(&records);
    assert_eq!(
        (&s["interrupted"], &s["verdict"], &s["figures"]["compared"]),
        (&json!(true), &json!("fail"), &json!(0))
    );
    assert_eq!(s["inputs"][1], json!({"path": fifo.to_str().unwrap()}));
}

#[test]
fn sigterm_ends_replay_diff_blocked_opening_a_fifo_with_no_writer() {
    blocked_on_a_fifo_then(Signal::SIGTERM, 143);
}

#[test]
fn sigint_ends_replay_diff_blocked_opening_a_fifo_with_no_writer() {
    blocked_on_a_fifo_then(Signal::SIGINT, 130);
}
