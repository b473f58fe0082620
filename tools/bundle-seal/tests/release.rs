//! The release decision (issue 17): a bundle bound to its release and
//! commit, summaries bound to the inputs sealed, signed go/no-go decisions
//! and the sign-offs `verify --require-signoff` demands.

use std::fs;
use std::process::Command as StdCommand;

use crate::util::*;
use serde_json::{json, Value};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn sealed_for(w: &Work, dir: &str, release: &str) {
    w.ok(&[
        "seal",
        dir,
        "--key",
        "k.key",
        "--release",
        release,
        "--commit",
        COMMIT,
    ]);
}

fn manifest(w: &Work, dir: &str) -> Value {
    serde_json::from_slice(&fs::read(w.path(&format!("{dir}/MANIFEST.json"))).unwrap()).unwrap()
}

/// Done means: an old passing bundle copied to a new release fails
/// `verify --release`, with a message naming both.
#[test]
fn an_old_passing_bundle_copied_to_a_new_release_fails_verify_release() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    sealed_for(&w, "rc1", "2.4.0");
    let m = manifest(&w, "rc1");
    assert_eq!(
        (m["release"].as_str(), m["commit"].as_str()),
        (Some("2.4.0"), Some(COMMIT))
    );
    let sig = fs::read_to_string(w.path("rc1/MANIFEST.json.minisig")).unwrap();
    assert!(sig.contains("\trelease:2.4.0\t"), "{sig}");
    w.ok(&[
        "verify",
        "rc1",
        "--pub",
        "k.pub",
        "--release",
        "2.4.0",
        "--commit",
        &COMMIT[..12],
    ]);

    // Copied into place for the next release: intact, signed, passing, and
    // still not evidence for 2.5.0-beta.1.
    copy_tree(&w.path("rc1"), &w.path("rc2"));
    let out = w.run(&[
        "verify",
        "rc2",
        "--pub",
        "k.pub",
        "--release",
        "2.5.0-beta.1",
        "--commit",
        "fedcba9876543210fedcba9876543210fedcba98",
    ]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    assert_eq!(
        of_kind(&recs, "binding"),
        [
            &json!({"kind":"binding","field":"release","expected":"2.5.0-beta.1","sealed":"2.4.0",
                    "status":"mismatch",
                    "reason":"the bundle is sealed for release 2.4.0, not 2.5.0-beta.1"}),
            &json!({"kind":"binding","field":"commit",
                    "expected":"fedcba9876543210fedcba9876543210fedcba98","sealed":COMMIT,
                    "status":"mismatch",
                    "reason":format!("the bundle is sealed for commit {COMMIT}, not fedcba9876543210fedcba9876543210fedcba98")}),
        ]
    );
    let s = summary(&recs);
    assert_eq!(common::testkit::gate(s, "release_matches")["pass"], false);
    assert_eq!(common::testkit::gate(s, "commit_matches")["pass"], false);
    assert_eq!(common::testkit::gate(s, "mismatched_files")["pass"], true);
    // A person sees it too.
    let out = w.run(&[
        "verify",
        "rc2",
        "--pub",
        "k.pub",
        "--release",
        "2.5.0-beta.1",
        "--format",
        "text",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "MISMATCH release: the bundle is sealed for release 2.4.0, not 2.5.0-beta.1\n"
        ),
        "{text}"
    );

    // A bundle sealed without a release does not match any.
    w.fixture("rc1", "plain");
    w.ok(&["seal", "plain", "--key", "k.key"]);
    let recs = jsonl(
        &w.run(&["verify", "plain", "--pub", "k.pub", "--release", "2.4.0"])
            .stdout,
    );
    assert_eq!(
        of_kind(&recs, "binding")[0]["reason"],
        "the bundle is sealed without a release, not for 2.4.0"
    );
}

#[test]
fn release_names_are_semver_and_commits_are_full_hex() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    for bad in ["2.5", "v2.5.0", "2.5.0-", "latest"] {
        let out = w.run(&["seal", "rc1", "--key", "k.key", "--release", bad]);
        assert_eq!(code(&out), 2, "{bad}");
        assert!(
            stderr_text(&out).starts_with(&format!(
                "bundle-seal: error: --release {bad}: not a semantic version"
            )),
            "{}",
            stderr_text(&out)
        );
    }
    for bad in ["abc123", "xyz3456789abcdef0123456789abcdef01234567"] {
        let out = w.run(&["seal", "rc1", "--key", "k.key", "--commit", bad]);
        assert_eq!(code(&out), 2, "{bad}");
        assert!(
            stderr_text(&out).contains("--commit"),
            "{}",
            stderr_text(&out)
        );
    }
    assert!(!w.path("rc1/MANIFEST.json").exists());
    // Upper-case hex is the same commit.
    w.ok(&[
        "seal",
        "rc1",
        "--key",
        "k.key",
        "--release",
        "2.5.0-beta.1+build.7",
        "--commit",
        &COMMIT.to_uppercase(),
    ]);
    assert_eq!(manifest(&w, "rc1")["commit"], COMMIT);
    assert_eq!(manifest(&w, "rc1")["release"], "2.5.0-beta.1+build.7");
}

/// Made inside a git work tree, the bundle records HEAD without --commit.
#[test]
fn the_commit_is_read_from_git_inside_a_work_tree() {
    if !common::testkit::require_tool("git") {
        return;
    }
    let w = Work::new();
    let git = |args: &[&str]| {
        let out = StdCommand::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .current_dir(w.path("repo"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    fs::create_dir(w.path("repo")).unwrap();
    git(&["init", "-q"]);
    fs::write(w.path("repo/src.txt"), "v1\n").unwrap();
    git(&["add", "src.txt"]);
    git(&["commit", "-q", "-m", "v1"]);
    let head = git(&["rev-parse", "HEAD"]).trim().to_string();
    w.fixture("rc1", "repo/out/rc1");
    w.ok(&[
        "seal",
        "repo/out/rc1",
        "--key",
        "k.key",
        "--release",
        "1.0.0",
    ]);
    assert_eq!(manifest(&w, "repo/out/rc1")["commit"], head.as_str());
    // Outside a work tree: no commit, unless given.
    w.fixture("rc1", "rc1");
    w.ok(&["seal", "rc1", "--key", "k.key"]);
    assert!(manifest(&w, "rc1").get("commit").is_none());
}

fn summary_line(tool: &str, input: &str, sha: &str) -> String {
    format!(
        r#"{{"kind":"summary","tool":"{tool}","version":"1","verdict":"pass","inputs":[{{"path":"{input}","sha256":"{sha}"}}],"gates":[{{"name":"findings","op":"<=","limit":0,"value":0,"pass":true}}],"figures":{{}}}}"#
    )
}

/// Done means: a summary's input sha256 is checked against the file in
/// the bundle, so a summary cannot vouch for an input that is not sealed.
#[test]
fn a_summary_cannot_vouch_for_an_input_that_is_not_the_one_sealed() {
    let w = Work::new();
    w.fixture("rc1", "rc");
    fs::create_dir(w.path("rc/logs")).unwrap();
    fs::write(w.path("rc/logs/app.log"), "clean line\n").unwrap();
    let checked = common::digest::sha256_hex(b"clean line\n");
    let other = common::digest::sha256_hex(b"the log before it was swapped\n");
    // Named relative to the bundle (the gate ran inside it), and as the
    // gate saw it from the directory the seal runs in.
    fs::write(
        w.path("rc/pii.jsonl"),
        format!(
            "{}\n{}\n",
            summary_line("pii-scrub", "logs/app.log", &checked),
            summary_line("pii-scrub", "rc/logs/app.log", &checked)
        ),
    )
    .unwrap();
    let s = summary(&w.ok(&["seal", "rc", "--key", "k.key"])).clone();
    assert_eq!(s["figures"]["release_verdict"], "pass");
    let m = manifest(&w, "rc");
    assert_eq!(m["summaries"][0]["inputs_checked"], 1);
    assert_eq!(m["summaries"][1]["inputs_checked"], 1);

    // The log was swapped after the gate judged it.
    fs::write(
        w.path("rc/pii.jsonl"),
        format!("{}\n", summary_line("pii-scrub", "rc/logs/app.log", &other)),
    )
    .unwrap();
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(
        s["figures"]["verdict_reasons"],
        json!([format!(
            "pii.jsonl:1 pii-scrub judged input rc/logs/app.log with sha256 {}..., but the \
             bundle's logs/app.log has {}...: the summary is not about the file sealed",
            &other[..12],
            &checked[..12]
        )])
    );
    assert_eq!(common::testkit::gate(&s, "input_mismatches")["value"], 1.0);
    assert_eq!(
        manifest(&w, "rc")["input_mismatches"][0]["file"],
        "logs/app.log"
    );
    // verify re-derives the same verdict from the signed manifest.
    let out = w.run(&["verify", "rc", "--pub", "k.pub"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        summary(&jsonl(&out.stdout))["figures"]["verdict_consistent"],
        true
    );

    // An input outside the bundle is not checked (it is not there).
    fs::write(
        w.path("rc/pii.jsonl"),
        format!(
            "{}\n",
            summary_line("pii-scrub", "/var/log/elsewhere.log", &other)
        ),
    )
    .unwrap();
    w.ok(&["seal", "rc", "--key", "k.key"]);
}

/// Keys of three people and a trusted-keys folder holding two of them.
fn people(w: &Work) {
    for who in ["eng", "sec", "ops"] {
        w.other_key(who);
    }
    fs::create_dir(w.path("trusted")).unwrap();
    fs::copy(w.path("eng.pub"), w.path("trusted/eng.pub")).unwrap();
    fs::create_dir(w.path("trusted/security")).unwrap();
    fs::copy(w.path("sec.pub"), w.path("trusted/security/sec.pub")).unwrap();
}

fn decide(w: &Work, dir: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["decide", dir];
    all.extend_from_slice(args);
    w.run(&all)
}

fn signoff(w: &Work, dir: &str, roles: &str) -> std::process::Output {
    w.run(&[
        "verify",
        dir,
        "--pub",
        "k.pub",
        "--require-signoff",
        roles,
        "--trusted-keys",
        "trusted",
    ])
}

/// Done means: two roles' sign-offs satisfy --require-signoff.
#[test]
fn two_roles_sign_off_and_satisfy_require_signoff() {
    let w = Work::new();
    people(&w);
    w.fixture("rc1", "rc1");
    sealed_for(&w, "rc1", "2.5.0-beta.1");
    let out = decide(
        &w,
        "rc1",
        &[
            "--decision",
            "go",
            "--by",
            "alice",
            "--role",
            "engineering",
            "--key",
            "eng.key",
            "--note",
            "all gates green",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    let rec = jsonl(&out.stdout)[0].clone();
    assert_eq!(rec["kind"], "decision");
    assert_eq!(rec["seq"], 1);
    assert_eq!(rec["decision"], "go");
    assert_eq!(rec["release"], "2.5.0-beta.1");
    assert_eq!(
        rec["manifest_sha256"],
        common::digest::sha256_hex(&fs::read(w.path("rc1/MANIFEST.json")).unwrap())
    );
    assert_eq!(rec["key_id"], w.key_id("eng.pub"));

    // One role of two: not yet.
    let out = signoff(&w, "rc1", "engineering,security");
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(
        s["figures"]["signoff_missing"],
        json!(["security: no accepted go"])
    );
    assert_eq!(common::testkit::gate(s, "signoffs_missing")["value"], 1.0);

    let out = decide(
        &w,
        "rc1",
        &[
            "--decision",
            "go",
            "--by",
            "bob",
            "--role",
            "security",
            "--key",
            "sec.key",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    let out = signoff(&w, "rc1", "engineering,security");
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let recs = jsonl(&out.stdout);
    let decisions = of_kind(&recs, "decision");
    assert_eq!(decisions.len(), 2);
    assert!(
        decisions.iter().all(|d| d["status"] == "accepted"),
        "{decisions:?}"
    );
    assert_eq!(
        summary(&recs)["figures"]["signed_off_by"],
        json!(["alice (engineering)", "bob (security)"])
    );
    // The decision log is not an extra file, and the seal still verifies.
    assert_eq!(summary(&recs)["figures"]["extra"], 0);
    // The log is a receipt chain: `chain verify` checks its links (each
    // receipt is signed by its own decider's key).
    let recs = w.ok(&["chain", "verify", "rc1/DECISIONS.jsonl"]);
    assert_eq!(summary(&recs)["figures"]["receipts"], 2);
    assert_eq!(summary(&recs)["figures"]["signed"], 2);

    // Packed and unpacked, the decisions travel with the bundle.
    w.ok(&["pack", "rc1", "-o", "rc1.tar.gz"]);
    let recs = w.ok(&[
        "unpack",
        "rc1.tar.gz",
        "-C",
        "copy",
        "--pub",
        "k.pub",
        "--require-signoff",
        "engineering,security",
        "--trusted-keys",
        "trusted",
    ]);
    assert_eq!(of_kind(&recs, "decision").len(), 2);

    // One key cannot sign off two roles; a key trusted for one role only
    // (trusted/security/) cannot sign for another.
    let out = decide(
        &w,
        "rc1",
        &[
            "--decision",
            "go",
            "--by",
            "alice",
            "--role",
            "operations",
            "--key",
            "eng.key",
        ],
    );
    assert_eq!(code(&out), 0);
    let out = signoff(&w, "rc1", "engineering,security,operations");
    assert_eq!(code(&out), 1);
    assert_eq!(
        summary(&jsonl(&out.stdout))["figures"]["signoff_missing"],
        json!([format!(
            "operations: signed with key {}, which already signed off engineering",
            w.key_id("eng.pub")
        )])
    );
    decide(
        &w,
        "rc1",
        &[
            "--decision",
            "go",
            "--by",
            "bob",
            "--role",
            "operations",
            "--key",
            "sec.key",
        ],
    );
    let recs = jsonl(&signoff(&w, "rc1", "engineering").stdout);
    let last = of_kind(&recs, "decision")[3];
    assert_eq!(last["status"], "rejected");
    assert_eq!(
        last["reason"],
        format!(
            "key {} is trusted for role security only, not operations",
            w.key_id("sec.pub")
        )
    );

    // A no-go stands until that role says go again.
    decide(
        &w,
        "rc1",
        &[
            "--decision",
            "no-go",
            "--by",
            "bob",
            "--role",
            "security",
            "--key",
            "sec.key",
            "--note",
            "CVE-2026-1234 unpatched",
        ],
    );
    let out = signoff(&w, "rc1", "engineering");
    assert_eq!(code(&out), 1);
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(
        s["figures"]["signoff_no_go"],
        json!(["security: bob said no-go"])
    );
}

/// Done means: a decision made by an untrusted key is rejected.
#[test]
fn a_decision_by_an_untrusted_key_is_rejected() {
    let w = Work::new();
    people(&w);
    w.fixture("rc1", "rc1");
    sealed_for(&w, "rc1", "2.5.0");
    let out = decide(
        &w,
        "rc1",
        &[
            "--decision",
            "go",
            "--by",
            "mallory",
            "--role",
            "engineering",
            "--key",
            "ops.key",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    let out = signoff(&w, "rc1", "engineering");
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    let d = of_kind(&recs, "decision")[0];
    assert_eq!(d["status"], "rejected");
    assert_eq!(
        d["reason"],
        format!(
            "signed by key {}, which is not in --trusted-keys",
            w.key_id("ops.pub")
        )
    );
    // Without --trusted-keys a decision is shown but never counted.
    let recs = jsonl(&w.run(&["verify", "rc1", "--pub", "k.pub"]).stdout);
    assert_eq!(of_kind(&recs, "decision")[0]["status"], "unchecked");
    let out = w.run(&[
        "verify",
        "rc1",
        "--pub",
        "k.pub",
        "--require-signoff",
        "engineering",
    ]);
    assert_eq!(code(&out), 2, "--require-signoff needs --trusted-keys");
}

/// Done means: a decision from before the seal is rejected (by decide, and
/// by verify when one is written into the log by other means).
#[test]
fn a_decision_before_the_seal_is_rejected() {
    let w = Work::new();
    people(&w);
    w.fixture("rc1", "rc1");
    // Sealed "in 2100": every decision made now is older than the seal.
    let out = bin()
        .current_dir(w.tmp.path())
        .env("SOURCE_DATE_EPOCH", "4102444800")
        .args(["seal", "rc1", "--key", "k.key", "--release", "3.0.0"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    let out = decide(
        &w,
        "rc1",
        &[
            "--decision",
            "go",
            "--by",
            "alice",
            "--role",
            "engineering",
            "--key",
            "eng.key",
        ],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out).contains("is not after the seal (2100-01-01T00:00:00.000Z)"),
        "{}",
        stderr_text(&out)
    );
    assert!(!w.path("rc1/DECISIONS.jsonl").exists());
    // Written by hand (chain append signs it with a trusted key).
    let sha = common::digest::sha256_hex(&fs::read(w.path("rc1/MANIFEST.json")).unwrap());
    let forged = json!({"kind":"decision","decision":"go","by":"alice","role":"engineering",
                        "manifest_sha256":sha,"release":"3.0.0","verdict":"pass"});
    let out = bin()
        .current_dir(w.tmp.path())
        .args(["chain", "append", "rc1/DECISIONS.jsonl", "--key", "eng.key"])
        .write_stdin(format!("{forged}\n"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0);
    let out = signoff(&w, "rc1", "engineering");
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    let d = of_kind(&recs, "decision")[0];
    assert_eq!(d["status"], "rejected");
    assert!(
        d["reason"]
            .as_str()
            .unwrap()
            .ends_with("not after the seal (2100-01-01T00:00:00.000Z)"),
        "{d}"
    );
}

/// Done means: a go on a failed verdict without --override is rejected;
/// with one it is recorded and shown in every later verify.
#[test]
fn a_go_on_a_failed_verdict_needs_an_override_that_every_verify_shows() {
    let w = Work::new();
    people(&w);
    w.fixture("rc-fail", "rc");
    let out = w.run(&["seal", "rc", "--key", "k.key", "--release", "2.5.0"]);
    assert_eq!(code(&out), 1);
    let out = decide(
        &w,
        "rc",
        &[
            "--decision",
            "go",
            "--by",
            "alice",
            "--role",
            "engineering",
            "--key",
            "eng.key",
        ],
    );
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr_text(&out),
        "bundle-seal: error: rc: the release verdict is fail; refusing to record a go\n\
         bundle-seal: hint: to ship anyway, say why: --override REASON (it is recorded and shown by every verify)\n"
    );
    assert!(!w.path("rc/DECISIONS.jsonl").exists());
    // A no-go needs no reason.
    decide(
        &w,
        "rc",
        &[
            "--decision",
            "no-go",
            "--by",
            "bob",
            "--role",
            "security",
            "--key",
            "sec.key",
        ],
    );
    let out = decide(
        &w,
        "rc",
        &[
            "--decision",
            "go",
            "--by",
            "alice",
            "--role",
            "engineering",
            "--key",
            "eng.key",
            "--override",
            "drift is a doc-only dependency",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    assert_eq!(
        jsonl(&out.stdout)[0]["override"],
        "drift is a doc-only dependency"
    );

    // Shown by every verify, trusted or not.
    let recs = jsonl(&w.run(&["verify", "rc", "--pub", "k.pub"]).stdout);
    assert_eq!(
        summary(&recs)["figures"]["overrides"],
        json!(["alice (engineering, unchecked): drift is a doc-only dependency"])
    );
    let out = w.run(&["verify", "rc", "--pub", "k.pub", "--format", "text"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("OVERRIDE by alice (engineering): drift is a doc-only dependency"),
        "{text}"
    );

    // security's no-go vetoes the release, whichever roles are required.
    let out = signoff(&w, "rc", "engineering");
    assert_eq!(code(&out), 1);
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(
        s["figures"]["signoff_no_go"],
        json!(["security: bob said no-go"])
    );
    assert_eq!(common::testkit::gate(&s, "no_go")["pass"], false);
    // Until security says go too, with its own reason: the sign-off
    // ceremony then lets the overridden release through.
    let out = decide(
        &w,
        "rc",
        &[
            "--decision",
            "go",
            "--by",
            "bob",
            "--role",
            "security",
            "--key",
            "sec.key",
            "--override",
            "no security impact",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    let out = signoff(&w, "rc", "engineering,security");
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(s["figures"]["release_overridden"], true);
    assert_eq!(
        common::testkit::gate(&s, "release_verdict_pass")["pass"],
        true
    );
    let out = w.run(&[
        "verify",
        "rc",
        "--pub",
        "k.pub",
        "--require-signoff",
        "engineering,security",
        "--trusted-keys",
        "trusted",
        "--format",
        "text",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("\n  release  FAILED, overridden by the sign-off\n"),
        "{text}"
    );
    // Without the ceremony the release gate still fails.
    assert_eq!(code(&w.run(&["verify", "rc", "--pub", "k.pub"])), 1);

    // A go without override forged into the log is rejected.
    let sha = common::digest::sha256_hex(&fs::read(w.path("rc/MANIFEST.json")).unwrap());
    let forged = json!({"kind":"decision","decision":"go","by":"bob","role":"security",
                        "manifest_sha256":sha,"verdict":"fail"});
    bin()
        .current_dir(w.tmp.path())
        .args(["chain", "append", "rc/DECISIONS.jsonl", "--key", "sec.key"])
        .write_stdin(format!("{forged}\n"))
        .assert()
        .success();
    let out = signoff(&w, "rc", "engineering,security");
    assert_eq!(code(&out), 0, "a rejected record counts for nothing");
    let recs = jsonl(&out.stdout);
    let d = *of_kind(&recs, "decision").last().unwrap();
    assert_eq!(d["status"], "rejected");
    assert_eq!(
        d["reason"],
        "a go on a failed release verdict without --override"
    );

    // Sealing again would detach the decisions from their manifest: refused.
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out).contains("rc/DECISIONS.jsonl: the bundle has recorded decisions"),
        "{}",
        stderr_text(&out)
    );
}

/// Decisions name their manifest: a log copied to another bundle counts
/// for nothing there; an edited log breaks the sign-off.
#[test]
fn decisions_copied_or_edited_do_not_count() {
    let w = Work::new();
    people(&w);
    w.fixture("rc1", "a");
    w.fixture("rc1", "b");
    sealed_for(&w, "a", "1.0.0");
    sealed_for(&w, "b", "1.0.1");
    decide(
        &w,
        "a",
        &[
            "--decision",
            "go",
            "--by",
            "alice",
            "--role",
            "engineering",
            "--key",
            "eng.key",
        ],
    );
    fs::copy(w.path("a/DECISIONS.jsonl"), w.path("b/DECISIONS.jsonl")).unwrap();
    let recs = jsonl(&signoff(&w, "b", "engineering").stdout);
    let d = of_kind(&recs, "decision")[0];
    assert_eq!(d["status"], "rejected");
    assert!(
        d["reason"]
            .as_str()
            .unwrap()
            .starts_with("made for another manifest"),
        "{d}"
    );

    let log = fs::read_to_string(w.path("a/DECISIONS.jsonl")).unwrap();
    fs::write(w.path("a/DECISIONS.jsonl"), log.replace("alice", "alicia")).unwrap();
    let out = signoff(&w, "a", "engineering");
    assert_eq!(code(&out), 1);
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(
        common::testkit::gate(&s, "decision_log_intact")["pass"],
        false
    );
    assert_eq!(
        s["figures"]["decision_log_break"],
        "DECISIONS.jsonl:1: hash does not match the receipt's content (edited)"
    );
}

/// decide refuses a bundle that does not verify: a decision on tampered
/// evidence would vouch for it.
#[test]
fn decide_refuses_a_modified_bundle() {
    let w = Work::new();
    people(&w);
    w.fixture("rc1", "rc1");
    sealed_for(&w, "rc1", "1.0.0");
    fs::write(w.path("rc1/NOTES.md"), "changed\n").unwrap();
    let out = decide(
        &w,
        "rc1",
        &["--decision", "go", "--by", "alice", "--key", "eng.key"],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out).contains(
            "rc1: 1 file modified, missing or extra since the seal; refusing to record a decision"
        ),
        "{}",
        stderr_text(&out)
    );
    // With --pub, the signature too.
    fs::write(
        w.path("rc1/NOTES.md"),
        fs::read(testdata_file("rc1/NOTES.md")).unwrap(),
    )
    .unwrap();
    w.other_key("stranger");
    let out = decide(
        &w,
        "rc1",
        &[
            "--decision",
            "go",
            "--by",
            "alice",
            "--key",
            "eng.key",
            "--pub",
            "stranger.pub",
        ],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out).contains("signature"),
        "{}",
        stderr_text(&out)
    );
}

fn testdata_file(rel: &str) -> std::path::PathBuf {
    common::testkit::testdata("bundle-seal").join(rel)
}
