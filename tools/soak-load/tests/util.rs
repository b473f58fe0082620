//! Test helpers: run soak-load, start the demo service, read records.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::testkit;
use serde_json::Value;

pub fn bin() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("soak-load"));
    c.stdin(Stdio::null());
    c
}

/// A finished run: exit code, records, stderr.
pub struct Ran {
    pub code: i32,
    pub records: Vec<Value>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn summary(&self) -> &Value {
        testkit::summary(&self.records)
    }

    pub fn windows(&self) -> Vec<&Value> {
        testkit::of_kind(&self.records, "window")
    }

    pub fn figure(&self, name: &str) -> &Value {
        &self.summary()["figures"][name]
    }

    pub fn gate(&self, name: &str) -> &Value {
        testkit::gate(self.summary(), name)
    }

    pub fn f64(&self, name: &str) -> f64 {
        self.figure(name)
            .as_f64()
            .unwrap_or_else(|| panic!("figure {name} is not a number: {}", self.summary()))
    }

    pub fn u64(&self, name: &str) -> u64 {
        self.figure(name)
            .as_u64()
            .unwrap_or_else(|| panic!("figure {name} is not a count: {}", self.summary()))
    }
}

pub fn finish(out: Output) -> Ran {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let looks_json = stdout.trim_start().starts_with('{');
    Ran {
        code: out.status.code().unwrap_or(-1),
        records: if looks_json {
            testkit::jsonl(&out.stdout)
        } else {
            Vec::new()
        },
        stdout,
        stderr: testkit::stderr_text(&out),
    }
}

/// Runs `soak-load ARGS` to its end.
pub fn run(args: &[&str]) -> Ran {
    finish(bin().args(args).output().unwrap())
}

/// A demo service that is stopped (SIGTERM, then reaped) when dropped.
pub struct Demo {
    pub child: Child,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl Demo {
    pub fn start(extra: &[&str]) -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("demo.db");
        let log = dir.path().join("access.jsonl");
        let mut args = vec![
            "--db",
            db.to_str().unwrap(),
            "--access-log",
            log.to_str().unwrap(),
            "--workers",
            "2",
        ];
        args.extend_from_slice(extra);
        let (child, addr) = common::demo::start(&args);
        Demo { child, addr, dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("demo.db")
    }

    /// The access log's records (the service's own view of the traffic).
    pub fn access_log(&self) -> Vec<Value> {
        let bytes = std::fs::read(self.dir.path().join("access.jsonl")).unwrap_or_default();
        testkit::jsonl(&bytes)
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        testkit::send_signal(self.child.id(), 15);
        let _ = self.child.wait();
    }
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}
