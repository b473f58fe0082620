//! Gate results saved in our tools' `--format text` (trial 2 item 15):
//! `sbom-diff ... --format text > evidence/sbom-diff.txt` ends with
//! `gate upgraded: 1 <= 0: FAIL` / `verdict: fail`, and the release
//! passed. The files are the real output of sbom-diff and replay-diff
//! (testdata/bundle-seal/text-evidence/make.sh).

use std::fs;

use serde_json::json;

use crate::util::*;

fn evidence(w: &Work, name: &str) {
    fs::create_dir_all(w.path("rc/evidence")).unwrap();
    fs::copy(
        common::testkit::testdata("bundle-seal/text-evidence").join(name),
        w.path("rc/evidence").join(name),
    )
    .unwrap();
}

#[test]
fn regression_a_failing_gate_saved_as_text_fails_the_release() {
    let w = Work::new();
    w.fixture("rc1", "rc");
    evidence(&w, "sbom-diff.txt");
    evidence(&w, "replay-diff.txt");
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(s["figures"]["release_verdict"], "fail");
    let why = "holds a failing gate summary in text form (`verdict: fail`); seal judges \
               JSON summaries only: keep the tool's JSON output (--format jsonl) as the evidence";
    assert_eq!(
        s["figures"]["verdict_reasons"],
        json!([
            format!("evidence/replay-diff.txt:6 {why}"),
            format!("evidence/sbom-diff.txt:10 {why}"),
        ])
    );
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(w.path("rc/MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(
        m["stray_summaries"],
        json!([
            {"source":"evidence/replay-diff.txt","line":6,"verdict":"fail","text":true},
            {"source":"evidence/sbom-diff.txt","line":10,"verdict":"fail","text":true}
        ])
    );
}

/// A passing text summary claims nothing the gate files do not; prose that
/// says `verdict: fail` without our gate lines is no summary.
#[test]
fn passing_text_summaries_and_prose_do_not_fail_the_release() {
    let w = Work::new();
    w.fixture("rc1", "rc");
    evidence(&w, "replay-diff-pass.txt");
    fs::write(
        w.path("rc/evidence/notes.txt"),
        "If the drill fails, the tool prints\nverdict: fail\nand exits 1.\n",
    )
    .unwrap();
    let s = summary(&w.ok(&["seal", "rc", "--key", "k.key"])).clone();
    assert_eq!(s["figures"]["release_verdict"], "pass");
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(w.path("rc/MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(m.get("stray_summaries"), None);
}
