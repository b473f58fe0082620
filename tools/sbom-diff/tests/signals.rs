//! One SIGTERM or SIGINT ends sbom-diff at any point (issue 14 item 9), even
//! blocked in `open()` of a FIFO nobody writes to, where no flag is polled:
//! after `common::interrupt::GRACE` the watchdog exits 143 / 130.

use std::process::Command;

use common::testkit::{fifo_without_writer, signal_once, stderr_text, testdata, SendWhen, Signal};

fn blocked_on_a_fifo_then(signal: Signal, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo_without_writer(dir.path(), "new.cdx.json");
    let bin = assert_cmd::cargo::cargo_bin("sbom-diff");
    let (out, _) = signal_once(
        Command::new(bin)
            .arg(testdata("sbom-diff/cargo-a.cdx.json"))
            .arg(&fifo),
        signal,
        SendWhen::BlockedOpeningFifo,
    );
    assert_eq!(
        (out.status.code(), stderr_text(&out)),
        (Some(code), "sbom-diff: interrupted\n".to_string())
    );
}

#[test]
fn sigterm_ends_sbom_diff_blocked_opening_a_fifo_with_no_writer() {
    blocked_on_a_fifo_then(Signal::SIGTERM, 143);
}

#[test]
fn sigint_ends_sbom_diff_blocked_opening_a_fifo_with_no_writer() {
    blocked_on_a_fifo_then(Signal::SIGINT, 130);
}
