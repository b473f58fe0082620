//! What sbom-diff's integration tests share: the binary, inputs written
//! into a temp dir, and change records as tuples to compare exactly.

#![allow(dead_code, unused_imports)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub use common::testkit::{jsonl, run, summary, testdata, Run};
use serde_json::Value;

/// The sbom-diff binary; a run that hangs fails after five minutes.
pub fn bin() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("sbom-diff").unwrap();
    cmd.timeout(std::time::Duration::from_secs(300));
    cmd
}

/// Runs sbom-diff with `args`: exit code, stdout, stderr.
pub fn sbom_diff<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Run {
    run(bin().args(args))
}

/// Writes `bytes` to `dir/name`; returns the path.
pub fn write(dir: &Path, name: &str, bytes: &(impl AsRef<[u8]> + ?Sized)) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// (change, id, from or old_version, new_version) of each change record.
pub fn changes(records: &[Value]) -> Vec<(String, String, String, String)> {
    records
        .iter()
        .filter(|r| r["kind"] == "change")
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
            let old = if r.get("from").is_some() {
                s("from")
            } else {
                s("old_version")
            };
            (s("change"), s("id"), old, s("new_version"))
        })
        .collect()
}

/// One expected change, as [`changes`] gives it.
pub fn t(c: &str, id: &str, old: &str, new: &str) -> (String, String, String, String) {
    (c.into(), id.into(), old.into(), new.into())
}

/// A copy of `p` in `dir`: OLD and NEW naming one file are refused (a file
/// compared with itself proves nothing), two files with its bytes are not.
pub fn copy_in(dir: &Path, p: &Path) -> PathBuf {
    let name = p.file_name().and_then(OsStr::to_str).unwrap_or("input");
    let copy = dir.join(format!("copy-of-{name}"));
    std::fs::copy(p, &copy).unwrap();
    copy
}
