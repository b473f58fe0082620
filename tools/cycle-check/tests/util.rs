//! What cycle-check's integration tests share: running the real
//! binary to its end under a deadline, and its records.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::time::Duration;

use common::testkit::{jsonl, of_kind, summary};
use serde_json::Value;

/// One finished run of cycle-check.
pub struct Run {
    pub code: i32,
    pub records: Vec<Value>,
    pub stderr: String,
}

impl Run {
    pub fn cycles(&self) -> Vec<&Value> {
        of_kind(&self.records, "cycle")
    }

    pub fn summary(&self) -> &Value {
        summary(&self.records)
    }
}

/// Runs cycle-check with `args`, killed if it has not ended by `deadline`.
pub fn cycle_check_within<S: AsRef<OsStr>>(args: &[S], deadline: Duration) -> Run {
    let out = assert_cmd::Command::cargo_bin("cycle-check")
        .unwrap()
        .args(args)
        .timeout(deadline)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        records: jsonl(&out.stdout),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
