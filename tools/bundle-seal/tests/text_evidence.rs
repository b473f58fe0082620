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
    let why = TEXT_WHY;
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

/// The manifest's stray summaries and the seal's verdict reasons, after a
/// seal that must exit 1; `verify --require-pass` must refuse it too.
fn sealed_fail(w: &Work) -> (serde_json::Value, serde_json::Value) {
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(s["figures"]["release_verdict"], "fail");
    let v = w.run(&["verify", "rc", "--pub", "k.pub", "--require-pass"]);
    assert_eq!(code(&v), 1, "{}", stderr_text(&v));
    assert_eq!(
        summary(&jsonl(&v.stdout))["figures"]["release_verdict"],
        "fail"
    );
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(w.path("rc/MANIFEST.json")).unwrap()).unwrap();
    (
        s["figures"]["verdict_reasons"].clone(),
        m["stray_summaries"].clone(),
    )
}

const TEXT_WHY: &str = "holds a failing gate summary in text form (a tool's --format text, or \
                        YAML); seal judges JSON summaries only: keep the tool's JSON output \
                        (--format jsonl) as the evidence";

/// Trial 2 item 15, the forms 15449e2 left open: cycle-check's
/// `--format text` (`FAIL: 0 of 2 cycles ok`, no word verdict) and
/// soak-load's summary on stderr under `--format csv` (`soak-load: fail:
/// requests 20, ...`), the real output of both tools for a failing run.
#[test]
fn regression_cycle_check_and_soak_load_text_summaries_that_fail_fail_the_release() {
    let w = Work::new();
    w.fixture("rc1", "rc");
    evidence(&w, "cycle-check.txt");
    evidence(&w, "soak-load.txt");
    let (reasons, strays) = sealed_fail(&w);
    assert_eq!(
        reasons,
        json!([
            format!("evidence/cycle-check.txt:5 {TEXT_WHY}"),
            format!("evidence/soak-load.txt:3 {TEXT_WHY}"),
        ])
    );
    assert_eq!(
        strays,
        json!([
            {"source":"evidence/cycle-check.txt","line":5,"verdict":"fail","text":true},
            {"source":"evidence/soak-load.txt","line":3,"verdict":"fail","text":true}
        ])
    );
}

/// Trial 2 item 15: sbom-diff's failing summary with `kind` dropped by jq
/// (`jq -c '{verdict, gates}'`, `{tool, version, verdict, gates}` in a
/// .jsonl file, and jq's pretty output over many lines).
#[test]
fn regression_a_jq_digest_of_a_failing_summary_without_kind_fails_the_release() {
    let w = Work::new();
    w.fixture("rc1", "rc");
    for f in ["digest.json", "results.jsonl", "digest-pretty.json"] {
        evidence(&w, f);
    }
    let (reasons, strays) = sealed_fail(&w);
    let why = "gate result without \"kind\":\"summary\" (a digest such as jq writes); keep the \
               tool's own summary record as the evidence";
    assert_eq!(
        reasons,
        json!([
            format!("evidence/digest-pretty.json:1 holds a failing sbom-diff {why}"),
            format!("evidence/digest.json:1 holds a failing {why}"),
            format!("evidence/results.jsonl:1 holds a failing sbom-diff {why}"),
        ])
    );
    assert_eq!(
        strays,
        json!([
            {"source":"evidence/digest-pretty.json","line":1,"tool":"sbom-diff","verdict":"fail","digest":true},
            {"source":"evidence/digest.json","line":1,"verdict":"fail","digest":true},
            {"source":"evidence/results.jsonl","line":1,"tool":"sbom-diff","verdict":"fail","digest":true}
        ])
    );
}

/// Trial 2 item 15: sbom-diff's failing summary as YAML (`yq -y`).
#[test]
fn regression_a_failing_summary_rendered_as_yaml_fails_the_release() {
    let w = Work::new();
    w.fixture("rc1", "rc");
    evidence(&w, "sbom-diff.yaml");
    let (reasons, strays) = sealed_fail(&w);
    assert_eq!(
        reasons,
        json!([format!("evidence/sbom-diff.yaml:4 {TEXT_WHY}")])
    );
    assert_eq!(
        strays,
        json!([{"source":"evidence/sbom-diff.yaml","line":4,"verdict":"fail","text":true}])
    );
}

/// The same forms of a passing run add nothing the gate files do not say.
#[test]
fn passing_cycle_check_text_and_a_passing_digest_do_not_fail_the_release() {
    let w = Work::new();
    w.fixture("rc1", "rc");
    evidence(&w, "cycle-check-pass.txt");
    evidence(&w, "digest-pass.json");
    let s = summary(&w.ok(&["seal", "rc", "--key", "k.key"])).clone();
    assert_eq!(s["figures"]["release_verdict"], "pass");
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(w.path("rc/MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(m.get("stray_summaries"), None);
}
