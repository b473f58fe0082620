//! Shared helpers for bundle-seal's integration tests: a temp dir with the
//! fixtures copied in, keys, running the real binary, and the minisign rule
//! (skip with a notice only when minisign is absent and CI is unset).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

#[allow(unused_imports)]
pub use common::testkit::{copy_tree, jsonl, of_kind, stderr_text, summary, Tmpfs};
use serde_json::Value;

pub fn bin() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("bundle-seal").unwrap();
    cmd.env_remove("SOURCE_DATE_EPOCH")
        .env_remove("BUNDLE_SEAL_KEY")
        .env_remove("BUNDLE_SEAL_PUB");
    cmd
}

/// Runs the binary in `dir` and returns its output (no status assertion).
pub fn run(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Copies a fixture tree from testdata/bundle-seal into `dest`.
pub fn copy_fixture(name: &str, dest: &Path) {
    copy_tree(&common::testkit::testdata("bundle-seal").join(name), dest);
}

/// A workspace: temp dir, an unencrypted key pair k.pub/k.key, fixture `rc1`.
pub struct Work {
    pub tmp: tempfile::TempDir,
}

impl Work {
    pub fn new() -> Work {
        let tmp = tempfile::tempdir().unwrap();
        let w = Work { tmp };
        w.ok(&["keygen", "-p", "k.pub", "-s", "k.key", "--unencrypted"]);
        w
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        run(self.tmp.path(), args)
    }

    /// Runs and asserts exit 0; returns the records.
    pub fn ok(&self, args: &[&str]) -> Vec<Value> {
        let out = self.run(args);
        assert_eq!(
            code(&out),
            0,
            "{args:?}: {}\n{}",
            stderr_text(&out),
            String::from_utf8_lossy(&out.stdout)
        );
        jsonl(&out.stdout)
    }

    pub fn fixture(&self, name: &str, as_name: &str) {
        copy_fixture(name, &self.path(as_name));
    }

    /// A second key pair under other names.
    pub fn other_key(&self, stem: &str) {
        self.ok(&[
            "keygen",
            "-p",
            &format!("{stem}.pub"),
            "-s",
            &format!("{stem}.key"),
            "-W",
        ]);
    }

    pub fn key_id(&self, pub_file: &str) -> String {
        let text = fs::read_to_string(self.path(pub_file)).unwrap();
        text.lines()
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    }
}

/// True when `minisign` can be run. Without it, the test is skipped with a
/// printed notice, unless CI is set: then its absence is a failure.
pub fn have_minisign() -> bool {
    common::testkit::require_tool("minisign")
}

pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub fn file_records(records: &[Value]) -> Vec<(String, String)> {
    of_kind(records, "file")
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}
