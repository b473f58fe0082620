//! One SIGTERM or SIGINT ends pii-scrub at any point (issue 14 item 9), even
//! blocked in `open()` of a FIFO nobody writes to, where no flag is polled:
//! after `common::interrupt::GRACE` the watchdog exits 143 / 130.

use std::process::Command;

use common::testkit::{fifo_without_writer, signal_once, stderr_text, SendWhen, Signal};

use crate::util::bin;

fn blocked_on_a_fifo_then(signal: Signal, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo_without_writer(dir.path(), "app.log");
    let bin = bin();
    let (out, _) = signal_once(
        Command::new(bin).arg(&fifo),
        signal,
        SendWhen::BlockedOpeningFifo,
    );
    assert_eq!(
        (out.status.code(), stderr_text(&out)),
        (Some(code), "pii-scrub: interrupted\n".to_string())
    );
}

#[test]
fn sigterm_ends_pii_scrub_blocked_opening_a_fifo_with_no_writer() {
    blocked_on_a_fifo_then(Signal::SIGTERM, 143);
}

#[test]
fn sigint_ends_pii_scrub_blocked_opening_a_fifo_with_no_writer() {
    blocked_on_a_fifo_then(Signal::SIGINT, 130);
}
