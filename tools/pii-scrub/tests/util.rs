//! What pii-scrub's integration tests share: the binary, run with no salt
//! from the environment (a salt set where the tests run would change the
//! hash action's output).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The pii-scrub binary cargo built for these tests.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("pii-scrub")
}

/// pii-scrub, with `PII_SCRUB_SALT` removed.
pub fn cmd() -> Command {
    let mut c = Command::new(bin());
    c.env_remove("PII_SCRUB_SALT");
    c
}

/// [`cmd`], run in `dir`.
pub fn cmd_in(dir: &Path) -> Command {
    let mut c = cmd();
    c.current_dir(dir);
    c
}

/// Asserts a finished run's exit status, showing its stderr when it differs.
pub fn assert_exit(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
