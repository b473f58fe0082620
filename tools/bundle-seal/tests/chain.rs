//! The receipt chain: every tamper case named with the right seq, signed
//! receipts and checkpoints, and concurrent appenders that cannot corrupt
//! the log.

use std::fs;
use std::process::{Command as StdCommand, Stdio};

use crate::util::*;
use serde_json::{json, Value};

fn records(n: usize) -> String {
    (1..=n)
        .map(|i| format!("{{\"event\":\"step\",\"n\":{i}}}\n"))
        .collect()
}

/// A log of `n` receipts (signed when `sign`), plus its checkpoint.
fn log(w: &Work, n: usize, sign: bool) {
    let mut args = vec!["chain", "append", "audit.jsonl"];
    if sign {
        args.extend(["--key", "k.key"]);
    }
    let out = bin()
        .current_dir(w.tmp.path())
        .args(&args)
        .write_stdin(records(n))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    let echoed = jsonl(&out.stdout);
    assert_eq!(echoed.len(), n);
    assert_eq!(echoed[0]["seq"], 1);
    w.ok(&["chain", "checkpoint", "audit.jsonl", "--key", "k.key"]);
}

fn lines(w: &Work) -> Vec<String> {
    fs::read_to_string(w.path("audit.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(w: &Work, lines: &[String]) {
    fs::write(
        w.path("audit.jsonl"),
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

/// Runs chain verify; asserts exit 1 and returns (first bad seq, reason).
fn broken(w: &Work, extra: &[&str]) -> (u64, String) {
    let mut args = vec!["chain", "verify", "audit.jsonl"];
    args.extend(extra);
    let out = w.run(&args);
    assert_eq!(
        code(&out),
        1,
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr_text(&out)
    );
    let recs = jsonl(&out.stdout);
    let b = of_kind(&recs, "chain_break")[0].clone();
    assert_eq!(summary(&recs)["figures"]["first_bad_seq"], b["seq"]);
    (
        b["seq"].as_u64().unwrap(),
        b["reason"].as_str().unwrap().to_string(),
    )
}

#[test]
fn an_intact_chain_verifies_and_links_by_hash() {
    let w = Work::new();
    log(&w, 5, true);
    let recs = w.ok(&[
        "chain",
        "verify",
        "audit.jsonl",
        "--pub",
        "k.pub",
        "--require-signed",
    ]);
    let s = summary(&recs);
    assert_eq!(s["figures"]["receipts"], 5);
    assert_eq!(s["figures"]["signed"], 5);
    assert_eq!(s["figures"]["checkpoint"], "ok");
    assert_eq!(s["figures"]["checkpoint_seq"], 5);
    let entries: Vec<Value> = lines(&w)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries[0]["prev"], bundle_seal::chain::GENESIS);
    for pair in entries.windows(2) {
        assert_eq!(pair[1]["prev"], pair[0]["hash"]);
    }
    assert_eq!(entries[2]["record"], json!({"event":"step","n":3}));
    assert_eq!(entries[2]["kind"], "receipt");
    assert_eq!(s["figures"]["head_hash"], entries[4]["hash"]);
    // The hash is over canonical JSON: re-encoding a receipt with other key
    // order and spacing keeps it valid.
    let mut ls = lines(&w);
    let v: serde_json::Map<String, Value> = serde_json::from_str(&ls[1]).unwrap();
    let reordered: Vec<String> = v
        .iter()
        .rev()
        .map(|(k, v)| format!("{k:?} : {v}"))
        .collect();
    ls[1] = format!("{{ {} }}", reordered.join(" , "));
    write_lines(&w, &ls);
    w.ok(&["chain", "verify", "audit.jsonl", "--pub", "k.pub"]);
    // Appending again continues the chain.
    let out = bin()
        .current_dir(w.tmp.path())
        .args(["chain", "append", "audit.jsonl"])
        .write_stdin("[1,2]\n")
        .output()
        .unwrap();
    assert_eq!(jsonl(&out.stdout)[0]["seq"], 6);
    let s = summary(&w.ok(&["chain", "verify", "audit.jsonl"])).clone();
    assert_eq!(
        (
            s["figures"]["receipts"].as_u64(),
            s["figures"]["unsigned"].as_u64()
        ),
        (Some(6), Some(1))
    );
}

#[test]
fn edit_is_caught_at_its_seq() {
    let w = Work::new();
    log(&w, 6, false);
    let mut ls = lines(&w);
    ls[2] = ls[2].replace("\"n\":3", "\"n\":33");
    write_lines(&w, &ls);
    assert_eq!(
        broken(&w, &[]),
        (
            3,
            "hash does not match the receipt's content (edited)".into()
        )
    );
}

#[test]
fn edit_with_a_recomputed_hash_is_named_with_the_key() {
    let w = Work::new();
    log(&w, 6, true);
    let mut ls = lines(&w);
    let mut e: serde_json::Map<String, Value> = serde_json::from_str(&ls[3]).unwrap();
    e.insert("record".into(), json!({"event":"step","n":400}));
    let h = bundle_seal::chain::entry_hash(&e);
    e.insert("hash".into(), json!(h));
    ls[3] = serde_json::to_string(&e).unwrap();
    write_lines(&w, &ls);
    let (seq, reason) = broken(&w, &["--pub", "k.pub"]);
    assert_eq!(seq, 4);
    assert_eq!(
        reason,
        format!("signature does not verify with key {}", w.key_id("k.pub"))
    );
    // Without the key, the broken link to seq 5 is what shows.
    assert_eq!(
        broken(&w, &[]),
        (5, "prev does not match the hash of seq 4".into())
    );
}

#[test]
fn deletion_is_caught_at_the_missing_seq() {
    let w = Work::new();
    log(&w, 6, false);
    let mut ls = lines(&w);
    ls.remove(2);
    write_lines(&w, &ls);
    assert_eq!(
        broken(&w, &[]),
        (
            3,
            "expected seq 3, found 4 (deleted, inserted or reordered)".into()
        )
    );
}

#[test]
fn insertion_is_caught_where_it_lands() {
    let w = Work::new();
    log(&w, 6, false);
    let mut ls = lines(&w);
    let copy = ls[1].clone();
    ls.insert(2, copy);
    write_lines(&w, &ls);
    assert_eq!(
        broken(&w, &[]),
        (
            3,
            "expected seq 3, found 2 (deleted, inserted or reordered)".into()
        )
    );

    // A well-formed forgery (right seq, prev and hash) in a signed log fails
    // its signature check at the seq it claims.
    let w = Work::new();
    log(&w, 6, true);
    let mut ls = lines(&w);
    let prev: Value = serde_json::from_str(&ls[1]).unwrap();
    let mut forged = serde_json::Map::new();
    forged.insert("kind".into(), json!("receipt"));
    forged.insert("seq".into(), json!(3));
    forged.insert("prev".into(), prev["hash"].clone());
    forged.insert("at".into(), json!("2026-11-23T00:00:00.000Z"));
    forged.insert("record".into(), json!({"event":"forged"}));
    let h = bundle_seal::chain::entry_hash(&forged);
    forged.insert("hash".into(), json!(h));
    ls.insert(2, serde_json::to_string(&forged).unwrap());
    write_lines(&w, &ls);
    assert_eq!(
        broken(&w, &["--pub", "k.pub", "--require-signed"]),
        (3, "receipt is not signed".into())
    );
}

#[test]
fn reordering_is_caught_at_the_first_displaced_seq() {
    let w = Work::new();
    log(&w, 6, false);
    let mut ls = lines(&w);
    ls.swap(3, 4);
    write_lines(&w, &ls);
    assert_eq!(
        broken(&w, &[]),
        (
            4,
            "expected seq 4, found 5 (deleted, inserted or reordered)".into()
        )
    );
}

#[test]
fn truncation_is_caught_by_the_checkpoint() {
    let w = Work::new();
    log(&w, 6, true);
    let ls = lines(&w);
    write_lines(&w, &ls[..4]);
    assert_eq!(
        broken(&w, &["--pub", "k.pub"]),
        (
            5,
            "log ends at seq 4 but the checkpoint names seq 6 (truncated)".into()
        )
    );
    // A cut through the middle of the last line (a crash mid-write).
    let mut text = ls[..5].iter().map(|l| format!("{l}\n")).collect::<String>();
    text.push_str(&ls[5][..40]);
    fs::write(w.path("audit.jsonl"), &text).unwrap();
    let (seq, reason) = broken(&w, &[]);
    assert_eq!(seq, 6);
    assert!(reason.starts_with("truncated last line"), "{reason}");
    // ... and appending onto it is refused rather than making it worse.
    let out = bin()
        .current_dir(w.tmp.path())
        .args(["chain", "append", "audit.jsonl"])
        .write_stdin("{}\n")
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out).contains("audit.jsonl: the last line is incomplete"),
        "{}",
        stderr_text(&out)
    );
}

#[test]
fn a_rewritten_log_or_a_forged_checkpoint_is_caught() {
    // The whole log rebuilt with the same length: the checkpoint's hash differs.
    let w = Work::new();
    log(&w, 3, false);
    let cp = fs::read(w.path("audit.jsonl.checkpoint")).unwrap();
    fs::remove_file(w.path("audit.jsonl")).unwrap();
    let out = bin()
        .current_dir(w.tmp.path())
        .args(["chain", "append", "audit.jsonl"])
        .write_stdin(records(3).replace("step", "quiet"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0);
    assert_eq!(fs::read(w.path("audit.jsonl.checkpoint")).unwrap(), cp);
    assert_eq!(
        broken(&w, &[]),
        (3, "hash differs from the checkpoint's (rewritten)".into())
    );

    // A checkpoint signed by another key.
    let w = Work::new();
    log(&w, 3, false);
    w.other_key("other");
    w.ok(&["chain", "checkpoint", "audit.jsonl", "--key", "other.key"]);
    let (seq, reason) = broken(&w, &["--pub", "k.pub"]);
    assert_eq!(seq, 3);
    assert_eq!(
        reason,
        format!(
            "checkpoint signature does not verify with key {}",
            w.key_id("k.pub")
        )
    );
}

#[test]
fn malformed_input_and_logs() {
    let w = Work::new();
    let out = bin()
        .current_dir(w.tmp.path())
        .args(["chain", "append", "audit.jsonl"])
        .write_stdin("{\"a\":1}\n{oops\n")
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out).starts_with("bundle-seal: error: <stdin>:2:"),
        "{}",
        stderr_text(&out)
    );
    assert_eq!(
        fs::read_to_string(w.path("audit.jsonl")).unwrap(),
        "",
        "nothing appended from a bad batch"
    );
    fs::write(w.path("audit.jsonl"), "not json\n").unwrap();
    let (seq, reason) = broken(&w, &[]);
    assert_eq!(seq, 1);
    assert!(reason.starts_with("invalid JSON"), "{reason}");
    // A checkpoint named but absent is an error, not a silent pass.
    let out = w.run(&[
        "chain",
        "verify",
        "audit.jsonl",
        "--checkpoint",
        "none.json",
    ]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out).contains("none.json: No such file or directory"),
        "{}",
        stderr_text(&out)
    );
}

#[test]
fn concurrent_appenders_cannot_corrupt_the_log() {
    let w = Work::new();
    let exe = assert_cmd::cargo::cargo_bin("bundle-seal");
    let writers = 6;
    let per = 40;
    fs::write(w.path("audit.jsonl"), "").unwrap();
    let mut children = Vec::new();
    for i in 0..writers {
        let input: String = (0..per)
            .map(|j| format!("{{\"writer\":{i},\"n\":{j}}}\n"))
            .collect();
        let path = w.path(&format!("in{i}.jsonl"));
        fs::write(&path, input).unwrap();
        // Each writer appends one record per run, many runs: maximal interleaving.
        let script = format!(
            "for j in $(seq 1 {per}); do sed -n \"${{j}}p\" {} | {} chain append audit.jsonl || exit 1; done",
            path.display(),
            exe.display()
        );
        children.push(
            StdCommand::new("sh")
                .args(["-c", &script])
                .current_dir(w.tmp.path())
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    // A reader verifying all along never sees a half-written chain.
    let reader = StdCommand::new("sh")
        .args([
            "-c",
            &format!(
                "for j in $(seq 1 30); do {} chain verify audit.jsonl || exit 1; done",
                exe.display()
            ),
        ])
        .current_dir(w.tmp.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    children.push(reader);
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let recs = w.ok(&["chain", "verify", "audit.jsonl"]);
    assert_eq!(summary(&recs)["figures"]["receipts"], writers * per);
    let mut seen: Vec<(u64, u64)> = lines(&w)
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["record"]["writer"].as_u64().unwrap(),
                v["record"]["n"].as_u64().unwrap(),
            )
        })
        .collect();
    seen.sort();
    let want: Vec<(u64, u64)> = (0..writers as u64)
        .flat_map(|i| (0..per as u64).map(move |j| (i, j)))
        .collect();
    assert_eq!(seen, want, "every record exactly once");
}

/// Regression: a key inserted twice into a receipt (`"record":"evil"` before
/// the real `record`) left its hash intact, since the hash covered only the
/// last key, so verify passed a line other readers see as "evil".
#[test]
fn a_duplicated_key_in_a_receipt_is_a_break() {
    let w = Work::new();
    log(&w, 3, false);
    let mut l = lines(&w);
    l[1] = l[1].replacen(
        r#"{"kind":"receipt","#,
        r#"{"kind":"receipt","record":"evil","#,
        1,
    );
    write_lines(&w, &l);
    let (seq, reason) = broken(&w, &[]);
    assert_eq!(seq, 2);
    assert_eq!(
        reason,
        "invalid JSON: duplicate key \"record\" (readers disagree on which one counts)"
    );
}

#[test]
fn append_refuses_an_input_record_with_a_duplicated_key() {
    let w = Work::new();
    let out = bin()
        .current_dir(w.tmp.path())
        .args(["chain", "append", "audit.jsonl"])
        .write_stdin("{\"a\":1}\n{\"b\":2,\"b\":3}\n")
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr_text(&out),
        "bundle-seal: error: <stdin>:2:10: invalid JSON: duplicate key \"b\" \
         (readers disagree on which one counts)\n\
         bundle-seal: hint: each input line must be one JSON record; nothing was appended\n"
    );
    // Nothing appended: the whole input is read before the log is touched.
    assert_eq!(fs::read_to_string(w.path("audit.jsonl")).unwrap(), "");
}

/// Regression: with --pub, an editor could strip the signatures from the
/// edited receipt to the end, re-hash those receipts, delete the checkpoint,
/// and the chain verified (unsigned receipts were only counted).
#[test]
fn stripping_signatures_to_hide_an_edit_is_caught_with_the_key() {
    let w = Work::new();
    log(&w, 5, true);
    fs::remove_file(w.path("audit.jsonl.checkpoint")).unwrap();
    let mut ls = lines(&w);
    let mut prev: Option<String> = None;
    for (i, line) in ls.iter_mut().enumerate().skip(2) {
        let mut e: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
        e.remove("sig");
        e.remove("key_id");
        if i == 2 {
            e.insert("record".into(), json!({"event":"step","n":300}));
        }
        if let Some(p) = &prev {
            e.insert("prev".into(), json!(p));
        }
        let h = bundle_seal::chain::entry_hash(&e);
        e.insert("hash".into(), json!(h));
        prev = Some(h);
        *line = serde_json::to_string(&e).unwrap();
    }
    write_lines(&w, &ls);
    // Without the key the rewrite is invisible (documented) ...
    w.ok(&["chain", "verify", "audit.jsonl"]);
    // ... with it, the first unsigned receipt after a signed one is named.
    assert_eq!(
        broken(&w, &["--pub", "k.pub"]),
        (
            3,
            "receipt is not signed, but seq 2 before it was (signatures stripped?)".into()
        )
    );
}

/// A log that was never signed still verifies with --pub (signing is
/// optional per append); --require-signed is what refuses it.
#[test]
fn an_unsigned_log_verifies_with_the_key_unless_signatures_are_required() {
    let w = Work::new();
    log(&w, 3, false);
    let v = w.ok(&["chain", "verify", "audit.jsonl", "--pub", "k.pub"]);
    assert_eq!(summary(&v)["figures"]["unsigned"], 3);
    assert_eq!(
        broken(&w, &["--pub", "k.pub", "--require-signed"]),
        (1, "receipt is not signed".into())
    );
}

/// Regression: a log ending in a blank line (an editor's extra newline, or
/// CRLF) verified, but append failed with 'last line: invalid JSON'. Append
/// now skips trailing blank lines as verify does, and links to the real head.
#[test]
fn append_after_trailing_blank_lines_links_to_the_last_receipt() {
    let w = Work::new();
    log(&w, 2, false);
    let mut text = fs::read_to_string(w.path("audit.jsonl")).unwrap();
    text = text.replace('\n', "\r\n") + "\n  \r\n";
    fs::write(w.path("audit.jsonl"), &text).unwrap();
    let out = bin()
        .current_dir(w.tmp.path())
        .args(["chain", "append", "audit.jsonl"])
        .write_stdin("{\"event\":\"late\"}\n")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    assert_eq!(jsonl(&out.stdout)[0]["seq"], 3);
    let v = w.ok(&["chain", "verify", "audit.jsonl"]);
    assert_eq!(summary(&v)["figures"]["receipts"], 3);

    // A log of blank lines only is an empty chain: the first receipt is seq 1.
    fs::write(w.path("blank.jsonl"), "\n\n").unwrap();
    let out = bin()
        .current_dir(w.tmp.path())
        .args(["chain", "append", "blank.jsonl"])
        .write_stdin("{\"event\":\"first\"}\n")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    assert_eq!(jsonl(&out.stdout)[0]["seq"], 1);
    w.ok(&["chain", "verify", "blank.jsonl"]);
}

/// Regression (issue 14, item 7): `chain append` on a full disk left a
/// partial line, after which every append was refused and `chain verify`
/// reported a break. Now the log is cut back to its previous length.
#[test]
fn append_on_a_full_disk_leaves_the_log_as_it_was() {
    let Some(fs_) = Tmpfs::mount(64) else { return };
    let w = Work::new();
    let log = fs_.path("audit.jsonl");
    let log_arg = log.to_str().unwrap();
    let append = |input: String| {
        bin()
            .current_dir(w.tmp.path())
            .args(["chain", "append", log_arg, "--key", "k.key"])
            .write_stdin(input)
            .output()
            .unwrap()
    };
    assert_eq!(code(&append(records(3))), 0);
    let before = fs::read(&log).unwrap();
    fs_.fill();
    // Larger than any slack left in the log's last page.
    let big = format!("{{\"blob\":\"{}\"}}\n", "x".repeat(20_000));
    let out = append(big.clone());
    assert_eq!(code(&out), 2, "{}", stderr_text(&out));
    assert!(
        stderr_text(&out).contains("No space left on device"),
        "{}",
        stderr_text(&out)
    );
    assert!(out.stdout.is_empty(), "no receipt reported");
    assert!(fs::read(&log).unwrap() == before, "the log is as it was");
    // Space again: appends and verification carry on as if nothing happened.
    fs::remove_file(fs_.path("filler")).unwrap();
    assert_eq!(code(&append(big)), 0);
    let out = w.run(&[
        "chain",
        "verify",
        log_arg,
        "--pub",
        "k.pub",
        "--require-signed",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(summary(&jsonl(&out.stdout))["figures"]["receipts"], 4);
}

#[test]
fn a_log_no_signature_covers_does_not_verify_against_a_key() {
    // Trial 2: a forged audit trail of unsigned receipts "verified" with
    // --pub (only --require-signed refused it).
    let w = Work::new();
    let out = bin()
        .current_dir(w.tmp.path())
        .args(["chain", "append", "audit.jsonl"])
        .write_stdin(records(3))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    let out = w.run(&["chain", "verify", "audit.jsonl", "--pub", "k.pub"]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(
        common::testkit::gate(s, "unauthenticated_receipts"),
        &json!({"name":"unauthenticated_receipts","op":"<=","limit":0.0,"value":3.0,"pass":false})
    );
    assert_eq!(common::testkit::gate(s, "chain_breaks")["pass"], true);
    // Without a key the chain is only checked for integrity, as before.
    let recs = w.ok(&["chain", "verify", "audit.jsonl"]);
    assert_eq!(
        summary(&recs)["figures"]["unauthenticated_receipts"],
        Value::Null
    );
    // A signed checkpoint covers the receipts up to its seq...
    w.ok(&["chain", "checkpoint", "audit.jsonl", "--key", "k.key"]);
    let recs = w.ok(&["chain", "verify", "audit.jsonl", "--pub", "k.pub"]);
    assert_eq!(summary(&recs)["figures"]["unauthenticated_receipts"], 0);
    // ...and no further.
    let out = bin()
        .current_dir(w.tmp.path())
        .args(["chain", "append", "audit.jsonl"])
        .write_stdin(records(2))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0);
    let out = w.run(&["chain", "verify", "audit.jsonl", "--pub", "k.pub"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        common::testkit::gate(summary(&jsonl(&out.stdout)), "unauthenticated_receipts")["value"],
        2.0
    );
}
