//! Gate summaries inside archives and nested compression (trial 2 items 1
//! and 35): a failing gate zipped, tarred as a `.jsonl.gz` member, or
//! gzipped twice was not seen and the release passed. Each file here is
//! made by the real zip, tar and gzip.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::util::*;

const FAILING_SBOM: &str = r#"{"kind":"summary","tool":"sbom-diff","version":"0.1.0","verdict":"fail","inputs":[],"gates":[{"name":"drift","op":"<=","limit":0.005,"value":0.012,"pass":false}],"figures":{}}"#;

fn sh(dir: &Path, script: &str) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{script}: {}", stderr_text(&out));
}

/// A bundle `rc` (fixture rc1) and `inner/sbom-diff.jsonl` holding a
/// failing summary, outside it.
fn work() -> Work {
    let w = Work::new();
    w.fixture("rc1", "rc");
    fs::create_dir(w.path("inner")).unwrap();
    fs::write(w.path("inner/sbom-diff.jsonl"), format!("{FAILING_SBOM}\n")).unwrap();
    w
}

fn refused(w: &Work, file: &str, what: &str) {
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 2, "{}", stderr_text(&out));
    assert_eq!(
        stderr_text(&out),
        format!(
            "bundle-seal: error: rc/{file}: {what}; seal cannot look inside it for gate \
             summaries\nbundle-seal: hint: decompress it, or compress it with gzip, which seal \
             reads\n"
        )
    );
    assert!(!w.path("rc/MANIFEST.json").exists());
}

fn failed_with(w: &Work, reasons: Value) {
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(s["figures"]["release_verdict"], "fail");
    assert_eq!(s["figures"]["verdict_reasons"], reasons);
}

#[test]
fn regression_a_failing_summary_in_a_deflated_zip_is_refused() {
    if !common::testkit::require_tool("zip") {
        return;
    }
    let w = work();
    sh(
        w.tmp.path(),
        "cd inner && zip -q ../rc/ev.zip sbom-diff.jsonl",
    );
    refused(&w, "ev.zip", "is a zip archive");
}

#[test]
fn regression_a_failing_summary_twice_gzipped_fails_the_release() {
    if !common::testkit::require_tool("gzip") {
        return;
    }
    let w = work();
    sh(
        w.tmp.path(),
        "gzip -c inner/sbom-diff.jsonl | gzip -c > rc/app.log.gz",
    );
    failed_with(
        &w,
        serde_json::json!([
            "app.log.gz:1 holds a failing sbom-diff summary in a file not read for gates \
             (only *.jsonl, *.jsonl.gz, *.ndjson and *.ndjson.gz are)"
        ]),
    );
}

#[test]
fn xz_inside_gzip_is_refused() {
    if !common::testkit::require_tool("gzip") || !common::testkit::require_tool("xz") {
        return;
    }
    let w = work();
    sh(
        w.tmp.path(),
        "xz -c inner/sbom-diff.jsonl | gzip -c > rc/app.log.gz",
    );
    refused(&w, "app.log.gz", "holds xz-compressed data inside gzip");
}

#[test]
fn regression_a_failing_summary_in_a_gzipped_member_of_a_plain_tar_fails_the_release() {
    if !common::testkit::require_tool("tar") || !common::testkit::require_tool("gzip") {
        return;
    }
    let w = work();
    sh(
        w.tmp.path(),
        "gzip -k inner/sbom-diff.jsonl && tar cf rc/ev.tar inner/sbom-diff.jsonl.gz",
    );
    failed_with(
        &w,
        serde_json::json!([
            "ev.tar(inner/sbom-diff.jsonl.gz):1 holds a failing sbom-diff summary in a file not \
             read for gates (only *.jsonl, *.jsonl.gz, *.ndjson and *.ndjson.gz are)"
        ]),
    );
}

/// A .tar.gz of plain members, a tar holding a zip, and three gzip layers
/// (one more than logrotate makes): read, refused, refused, by name.
#[test]
fn tar_gz_members_are_named_and_archives_inside_are_refused() {
    if !common::testkit::require_tool("tar")
        || !common::testkit::require_tool("gzip")
        || !common::testkit::require_tool("zip")
    {
        return;
    }
    let w = work();
    sh(w.tmp.path(), "tar czf rc/ev.tar.gz inner/sbom-diff.jsonl");
    failed_with(
        &w,
        serde_json::json!([
            "ev.tar.gz(inner/sbom-diff.jsonl):1 holds a failing sbom-diff summary in a file not \
             read for gates (only *.jsonl, *.jsonl.gz, *.ndjson and *.ndjson.gz are)"
        ]),
    );
    fs::remove_file(w.path("rc/ev.tar.gz")).unwrap();
    for e in fs::read_dir(w.path("rc")).unwrap() {
        let e = e.unwrap();
        if e.file_name().to_string_lossy().starts_with("MANIFEST") {
            fs::remove_file(e.path()).unwrap();
        }
    }
    sh(
        w.tmp.path(),
        "zip -q inner/ev.zip inner/sbom-diff.jsonl && tar cf rc/ev.tar inner/ev.zip",
    );
    refused(
        &w,
        "ev.tar",
        "holds a zip archive in its tar member inner/ev.zip",
    );
    fs::remove_file(w.path("rc/ev.tar")).unwrap();
    sh(
        w.tmp.path(),
        "gzip -c inner/sbom-diff.jsonl | gzip -c | gzip -c | gzip -c > rc/app.log.gz",
    );
    refused(
        &w,
        "app.log.gz",
        "holds gzip or tar nested more than 3 deep inside gzip",
    );
}
