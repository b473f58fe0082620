//! One SIGTERM or SIGINT ends bundle-seal at any point (issue 14 item 9),
//! even blocked in `open()` of a FIFO nobody writes to, where no flag is
//! polled: after `common::interrupt::GRACE` the watchdog exits 143 / 130.

use std::process::Command;

use common::testkit::{fifo_without_writer, signal_once, stderr_text, testdata, SendWhen, Signal};

fn bin() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("bundle-seal"));
    cmd.env_remove("BUNDLE_SEAL_KEY")
        .env_remove("BUNDLE_SEAL_PUB");
    cmd
}

/// `verify --pub <(...)`: a key read through a pipe is fine, and one whose
/// writer never comes must not make verify unkillable.
fn verify_with_the_key_on_a_fifo_then(signal: Signal, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo_without_writer(dir.path(), "release.pub");
    let (out, _) = signal_once(
        bin()
            .arg("verify")
            .arg(testdata("bundle-seal/rc1"))
            .arg("--pub")
            .arg(&fifo),
        signal,
        SendWhen::BlockedOpeningFifo,
    );
    assert_eq!(
        (out.status.code(), stderr_text(&out)),
        (Some(code), "bundle-seal: interrupted\n".to_string())
    );
}

#[test]
fn sigterm_ends_verify_blocked_opening_a_key_fifo_with_no_writer() {
    verify_with_the_key_on_a_fifo_then(Signal::SIGTERM, 143);
}

#[test]
fn sigint_ends_verify_blocked_opening_a_key_fifo_with_no_writer() {
    verify_with_the_key_on_a_fifo_then(Signal::SIGINT, 130);
}

#[test]
fn sigterm_ends_unpack_given_a_fifo_with_no_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo_without_writer(dir.path(), "rc1.tar");
    let st = bin()
        .args(["keygen", "-W", "-p", "k.pub", "-s", "k.key"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", stderr_text(&st));
    let (out, _) = signal_once(
        bin()
            .args(["unpack", "-C", "out", "--pub", "k.pub"])
            .arg(&fifo)
            .current_dir(dir.path()),
        Signal::SIGTERM,
        SendWhen::HandlerInstalled,
    );
    let err = stderr_text(&out);
    // Stopped by the signal, or refusing a non-regular archive up front
    // (exit 2, naming it): either is fine; hanging is not.
    match out.status.code() {
        Some(143) => {}
        Some(2) => assert!(err.contains("rc1.tar"), "{err}"),
        other => panic!("unpack of a FIFO ended with {other:?}: {err}"),
    }
}
