//! What replay-diff's integration tests share: the binary, running it to
//! its end (through `common::testkit::run`), and inputs written into a
//! temp dir.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn bin() -> PathBuf {
    PathBuf::from(assert_cmd::cargo::cargo_bin!("replay-diff"))
}

/// Runs replay-diff with `args`; returns (exit code, stdout records, stderr).
pub fn run(args: &[&str]) -> (i32, Vec<Value>, String) {
    let out = common::testkit::run(assert_cmd::Command::new(bin()).args(args));
    (out.code, out.records(), out.stderr)
}

/// Runs replay-diff; returns (exit code, stdout text, stderr).
pub fn run_raw(args: &[&str]) -> (i32, String, String) {
    let out = common::testkit::run(assert_cmd::Command::new(bin()).args(args));
    (out.code, String::from_utf8(out.stdout).unwrap(), out.stderr)
}

/// Writes `bytes` to `dir/name`; returns the path.
pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

/// The path of a fixture in testdata/replay-diff.
pub fn fixture(name: &str) -> String {
    common::testkit::testdata(&format!("replay-diff/{name}"))
        .to_str()
        .unwrap()
        .to_string()
}
