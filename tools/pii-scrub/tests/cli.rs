//! The real binary on real files: filter output byte for byte, actions,
//! JSON structure, bytes that are not UTF-8, huge lines, quarantine, atomic
//! in-place rewrites, trees, reports, gates and exit codes.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};

use common::testkit::{gate, jsonl, of_kind, summary, testdata};
use serde_json::{json, Value};

use crate::util::{assert_exit, bin, cmd};

const SALT: &str = "test-salt-0123456789abcdef";

/// Runs the filter on `input`; returns (stdout, stderr, code).
fn filter(args: &[&str], input: &[u8]) -> (Vec<u8>, String, i32) {
    let out = cmd()
        .args(args)
        .write_stdin(input.to_vec())
        .output()
        .unwrap();
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn text(args: &[&str], input: &str) -> String {
    let (out, err, code) = filter(args, input.as_bytes());
    assert_eq!(code, 0, "stderr: {err}");
    String::from_utf8(out).unwrap()
}

#[test]
fn filters_text_lines_exactly() {
    let input = "2024-01-15T10:23:45Z login john.doe@acme.com from 10.1.2.3 port 8080 (1500ms)\n\
                 card 4111 1111 1111 1111 order 1234567812345678 version 1.2.3.4\n\
                 nothing here 550e8400-e29b-41d4-a716-446655440000\n";
    assert_eq!(
        text(&[], input),
        "2024-01-15T10:23:45Z login [REDACTED:email] from [REDACTED:ipv4] port 8080 (1500ms)\n\
         card [REDACTED:card] order 1234567812345678 version 1.2.3.4\n\
         nothing here 550e8400-e29b-41d4-a716-446655440000\n"
    );
}

#[test]
fn keeps_crlf_bom_and_a_missing_final_newline() {
    let input = "\u{feff}mail a@acme.com\r\nplain\r\nlast b@acme.com";
    assert_eq!(
        text(&[], input),
        "\u{feff}mail [REDACTED:email]\r\nplain\r\nlast [REDACTED:email]"
    );
}

#[test]
fn json_lines_keep_keys_order_layout_and_numbers() {
    let input = r#"{ "z": 1.50e10, "user": {"email": "a@acme.com", "tags": ["x", "b@acme.com"]},  "big": 123456789012345678901234567890, "ok": true, "n": null }"#;
    let out = text(&[], &format!("{input}\n"));
    assert_eq!(
        out,
        "{ \"z\": 1.50e10, \"user\": {\"email\": \"[REDACTED:email]\", \"tags\": [\"x\", \"[REDACTED:email]\"]},  \"big\": 123456789012345678901234567890, \"ok\": true, \"n\": null }\n"
    );
}

#[test]
fn secret_named_keys_are_scrubbed_whole_and_escaped_text_is_decoded() {
    let input = r#"{"password":"hunter2","pin":1234,"token_count":7,"credentials":{"user":"u","x":"y"},"msg":"login password=\"s3cr3t!\" by x%40acme.com","ver":"1.2.3.4","ip":"1.2.3.4"}"#;
    let out = text(&[], &format!("{input}\n"));
    assert_eq!(
        out,
        r#"{"password":"[REDACTED:secret]","pin":"[REDACTED:secret]","token_count":7,"credentials":{"user":"[REDACTED:secret]","x":"[REDACTED:secret]"},"msg":"login password=\"[REDACTED:secret]\" by [REDACTED:email]","ver":"1.2.3.4","ip":"[REDACTED:ipv4]"}"#.to_string()
            + "\n"
    );
}

#[test]
fn json_keys_with_spaces_or_escapes_are_still_judged_by_name() {
    let out = text(
        &[],
        "{\"password hash\":\"abc\",\"n\":1}\n{\"api\\u005fkey\":\"abc\"}\n",
    );
    assert_eq!(out, "{\"password hash\":\"[REDACTED:secret]\",\"n\":1}\n{\"api\\u005fkey\":\"[REDACTED:secret]\"}\n");
}

#[test]
fn text_secrets_tokens_headers_and_url_credentials() {
    let input = "GET https://bob:s3cret@db.example.com/x?q=1 Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345\n\
                 env AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY id AKIAIOSFODNN7EXAMPLE\n\
                 password=hunter2 max_tokens=100 token_type=bearer msg=\\\"api_key=\\\"abc123\\\"\\\"\n";
    assert_eq!(
        text(&[], input),
        "GET https://[REDACTED:url_credentials]@db.example.com/x?q=1 Authorization: Bearer [REDACTED:auth_header]\n\
         env AWS_SECRET_ACCESS_KEY=[REDACTED:aws_secret_key] id [REDACTED:aws_access_key]\n\
         password=[REDACTED:secret] max_tokens=100 token_type=bearer msg=\\\"api_key=\\\"[REDACTED:secret]\\\"\\\"\n"
    );
}

#[test]
fn pem_private_keys_multi_line_and_one_line() {
    let input = "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234\nabcd+/==\n-----END RSA PRIVATE KEY----- tail\n\
                 {\"key\":\"-----BEGIN PRIVATE KEY-----\\nMIIEv\\n-----END PRIVATE KEY-----\\n\",\"k\":1}\n\
                 log key=-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEE\\n-----END EC PRIVATE KEY----- done\n\
                 -----BEGIN PRIVATE KEY-----\nMIIEunterminated\n2024-01-01 next log line\n";
    assert_eq!(
        text(&[], input),
        "before\n[REDACTED:private_key]\n tail\n\
         {\"key\":\"[REDACTED:private_key]\\n\",\"k\":1}\n\
         log key=[REDACTED:private_key] done\n\
         [REDACTED:private_key]\n2024-01-01 next log line\n"
    );
}

#[test]
fn invalid_utf8_is_kept_as_bytes_and_still_scrubbed() {
    let input = b"\xff\xfe user a@acme.com \xc3\x28 end\n{\"m\":\"\xff b@acme.com\"}\n".to_vec();
    let (out, err, code) = filter(&[], &input);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        b"\xff\xfe user [REDACTED:email] \xc3\x28 end\n{\"m\":\"\xff [REDACTED:email]\"}\n"
            .to_vec()
    );
}

#[test]
fn actions_mask_remove_and_per_type_overrides() {
    let input = "{\"card\":\"4111-1111-1111-1111\",\"mail\":\"john@acme.com\",\"ip\":\"10.9.8.7\",\"keep\":1}\n";
    let out = text(&["--action", "mask", "--action", "ipv4=remove"], input);
    assert_eq!(
        out,
        "{\"card\":\"************1111\",\"mail\":\"j***@acme.com\",\"keep\":1}\n"
    );
    let out = text(
        &["--action", "phone=mask"],
        "call +1 415-555-2671 now, ssn 123-45-6789\n",
    );
    assert_eq!(out, "call +* ***-***-**71 now, ssn [REDACTED:ssn]\n");
    let out = text(&["--action", "remove"], "x a@acme.com y\n");
    assert_eq!(out, "x  y\n");
}

#[test]
fn hash_is_keyed_stable_and_rotation_changes_the_key_id() {
    let run = |salt: &str| {
        let out = cmd()
            .args(["--action", "email=hash"])
            .env("PII_SCRUB_SALT", salt)
            .write_stdin("a John@Acme.com b john@acme.com c other@acme.com\n")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    let one = run(SALT);
    let tokens: Vec<&str> = one
        .split_whitespace()
        .filter(|w| w.starts_with("[email:"))
        .collect();
    assert_eq!(tokens.len(), 3, "{one}");
    assert_eq!(tokens[0], tokens[1], "same person, same token");
    assert_ne!(tokens[1], tokens[2]);
    let parts: Vec<&str> = tokens[0].trim_matches(['[', ']']).split(':').collect();
    assert_eq!(parts[0], "email");
    assert!(
        parts[1].starts_with('k') && parts[1].len() == 9,
        "{}",
        parts[1]
    );
    assert_eq!(parts[2].len(), 32);
    assert_eq!(run(SALT), one, "deterministic under one salt");
    let rotated = run("another-salt-0123456789abcdef");
    let key2 = rotated
        .split("[email:")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap();
    assert_ne!(key2, parts[1], "rotation is visible in the key id");
    assert!(!rotated.contains(parts[2]));

    // --salt-file and an explicit key id.
    let dir = tempfile::tempdir().unwrap();
    let salt = dir.path().join("salt");
    fs::write(&salt, format!("{SALT}\n")).unwrap();
    let out = cmd()
        .args(["--action", "hash", "--key-id", "2026q4", "--salt-file"])
        .arg(&salt)
        .write_stdin("x john@acme.com\n")
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.starts_with("x [email:2026q4:") && s.ends_with("]\n"),
        "{s}"
    );
    assert!(
        s.contains(parts[2]),
        "the salt file trims its newline: same salt, same hash"
    );
}

#[test]
fn hash_without_a_salt_is_refused() {
    let out = cmd()
        .args(["--action", "email=hash"])
        .write_stdin("a@acme.com\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing may be written");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("pii-scrub: error: hash needs a secret salt: give --salt-file FILE or set PII_SCRUB_SALT\n"),
        "{err}"
    );
    let out = cmd()
        .args(["--action", "hash"])
        .env("PII_SCRUB_SALT", "short")
        .write_stdin("x\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("the salt is 5 bytes; at least 16 are required"));
}

#[test]
fn check_exit_codes_and_records_never_hold_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.log");
    fs::write(&clean, "nothing 1.2.3 here\n").unwrap();
    let out = cmd().arg("--check").arg(&clean).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let recs = jsonl(&out.stdout);
    assert_eq!(recs.len(), 1);
    let s = summary(&recs);
    assert_eq!(s["verdict"], "pass");
    assert_eq!(gate(s, "findings")["value"], 0.0);

    let dirty = dir.path().join("dirty.log");
    fs::write(
        &dirty,
        "ok\nmail john@acme.com and 4111111111111111\n{\"u\":{\"e\":\"x@acme.com\"}}\n",
    )
    .unwrap();
    let out = cmd().arg("--check").arg(&dirty).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        !stdout.contains("john@acme.com")
            && !stdout.contains("4111111111111111")
            && !stdout.contains("x@acme.com")
    );
    let recs = jsonl(&out.stdout);
    let findings = of_kind(&recs, "finding");
    let name = dirty.display().to_string();
    assert_eq!(
        findings
            .iter()
            .map(|v| (*v).clone())
            .collect::<Vec<Value>>(),
        vec![
            json!({"kind":"finding","file":name,"line":2,"type":"email","action":"redact","start":5,"end":18}),
            json!({"kind":"finding","file":name,"line":2,"type":"card","action":"redact","start":23,"end":39}),
            json!({"kind":"finding","file":name,"line":3,"pointer":"/u/e","type":"email","action":"redact","start":0,"end":10}),
        ]
    );
    let s = summary(&recs);
    assert_eq!(s["verdict"], "fail");
    assert_eq!(s["figures"]["findings"], 3);
    assert_eq!(
        s["figures"]["findings_by_type"],
        json!({"card":1,"email":2})
    );
    assert_eq!(s["figures"]["lines"], 3);
    assert_eq!(s["figures"]["lines_changed"], 2);
    assert_eq!(s["inputs"][0]["path"], name);
    assert_eq!(s["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(
        gate(s, "findings"),
        &json!({"name":"findings","op":"<=","limit":0.0,"value":3.0,"pass":false})
    );
    assert_eq!(
        fs::read_to_string(&dirty).unwrap().lines().count(),
        3,
        "check never writes"
    );

    let out = cmd()
        .arg("--check")
        .arg(dir.path().join("missing.log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("missing.log: No such file or directory"),
        "{err}"
    );
}

#[test]
fn dry_run_text_report_for_people() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.log");
    fs::write(&f, "x a@acme.com\n").unwrap();
    let out = cmd()
        .args(["--dry-run", "--format", "text"])
        .arg(&f)
        .output()
        .unwrap();
    // A dry run with findings fails like --check (trial 2, item 31).
    assert_eq!(out.status.code(), Some(1));
    let s = String::from_utf8(out.stdout).unwrap();
    let name = f.display();
    assert!(s.starts_with(&format!("{name}:1: email bytes 2..12 (redact)\n    x >>a***@acme.com<<\n1 files, 1 lines, 13 bytes: 1 findings (email 1)")), "{s}");
    assert!(s.ends_with("verdict: fail\n"), "{s}");
}

#[test]
fn report_file_and_filter_output_are_never_mixed() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.jsonl");
    let out = cmd()
        .arg("--report")
        .arg(&report)
        .write_stdin("a@acme.com\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"[REDACTED:email]\n");
    assert!(out.stderr.is_empty());
    let recs = jsonl(&fs::read(&report).unwrap());
    assert_eq!(
        recs[0],
        json!({"kind":"finding","file":"<stdin>","line":1,"type":"email","action":"redact","start":0,"end":10})
    );
    assert_eq!(summary(&recs)["figures"]["bytes"], 11);
}

#[test]
fn quarantine_reasons_and_fail_closed() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.jsonl");
    let deep = format!(
        "{}{}",
        "{\"a\":".repeat(200),
        "1".to_string() + &"}".repeat(200)
    );
    let many = (0..20)
        .map(|i| format!("u{i}@acme.com"))
        .collect::<Vec<_>>()
        .join(" ");
    let input = format!(
        "ok a@acme.com\n{{\"a\": \"b@acme.com\", }}\n{deep}\n{many}\n{}\ntail {{not json\n",
        "y".repeat(2000)
    );
    let bytes = input.into_bytes();
    let out = cmd()
        .args(["--max-findings", "10", "--max-line", "1500", "--quarantine"])
        .arg(&q)
        .write_stdin(bytes)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        stdout, "ok [REDACTED:email]\ntail {not json\n",
        "only lines scrubbed safely pass"
    );
    assert_eq!(
        fs::metadata(&q).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let recs = jsonl(&fs::read(&q).unwrap());
    let reasons: Vec<(&str, u64)> = recs
        .iter()
        .map(|r| (r["reason"].as_str().unwrap(), r["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("invalid_json", 2),
            ("too_deep", 3),
            ("too_many_findings", 4),
            ("line_too_long", 5)
        ]
    );
    assert_eq!(recs[0]["record"], "{\"a\": \"b@acme.com\", }");
    assert_eq!(recs[3]["record"], Value::Null);
    assert_eq!(recs[3]["bytes"], 2000);
}

#[test]
fn quarantined_lines_without_a_file_are_dropped_counted_and_warned() {
    let (out, err, code) = filter(&["--max-quarantined", "0"], b"{\"a\":}\nfine\n");
    assert_eq!(code, 1, "the quarantined gate fails");
    assert_eq!(out, b"fine\n");
    assert!(
        err.contains("pii-scrub: warning: 1 line(s) could not be scrubbed safely"),
        "{err}"
    );
    let (_, _, code) = filter(&["--max-quarantined", "1"], b"{\"a\":}\nfine\n");
    assert_eq!(code, 0);
}

#[test]
fn invalid_utf8_json_line_is_quarantined_as_base64() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.jsonl");
    let out = cmd()
        .arg("--quarantine")
        .arg(&q)
        .write_stdin(b"{\"a\" \xff}\n".to_vec())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let recs = jsonl(&fs::read(&q).unwrap());
    assert_eq!(recs[0]["record_base64"], "eyJhIiD/fQ==");
}

#[test]
fn a_ten_megabyte_line_is_scrubbed_in_full() {
    let mut line = "a".repeat(10 * 1024 * 1024);
    line.push_str(" tail x@acme.com\n");
    let (out, err, code) = filter(&[], line.as_bytes());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.len(),
        line.len() - "x@acme.com".len() + "[REDACTED:email]".len()
    );
    assert!(out.ends_with(b" tail [REDACTED:email]\n"));
}

#[test]
fn in_place_is_atomic_keeps_backups_and_leaves_clean_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir_all(logs.join("sub")).unwrap();
    fs::write(logs.join("a.log"), "user a@acme.com\n").unwrap();
    fs::write(logs.join("sub/b.log"), "clean line\n").unwrap();
    fs::set_permissions(logs.join("a.log"), fs::Permissions::from_mode(0o640)).unwrap();
    let clean_mtime = fs::metadata(logs.join("sub/b.log"))
        .unwrap()
        .modified()
        .unwrap();
    let out = cmd()
        .args(["--in-place", "--backup-suffix", ".orig"])
        .arg(&logs)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        fs::read_to_string(logs.join("a.log")).unwrap(),
        "user [REDACTED:email]\n"
    );
    assert_eq!(
        fs::read_to_string(logs.join("a.log.orig")).unwrap(),
        "user a@acme.com\n"
    );
    assert_eq!(
        fs::metadata(logs.join("a.log"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o640
    );
    assert_eq!(
        fs::metadata(logs.join("sub/b.log"))
            .unwrap()
            .modified()
            .unwrap(),
        clean_mtime
    );
    assert!(!logs.join("sub/b.log.orig").exists());
    let names: Vec<String> = fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".tmp")),
        "no temp files left: {names:?}"
    );
}

#[test]
fn in_place_refuses_symlinks_and_gz_stays_gz() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.log");
    fs::write(&target, "a@acme.com\n").unwrap();
    let link = dir.path().join("link.log");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = cmd().arg("--in-place").arg(&link).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("is a symlink: refusing to rewrite it in place"));
    assert_eq!(fs::read_to_string(&target).unwrap(), "a@acme.com\n");

    let gz = dir.path().join("x.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(b"mail b@acme.com\n").unwrap();
    fs::write(&gz, enc.finish().unwrap()).unwrap();
    let out = cmd().arg("--in-place").arg(&gz).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(&gz).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "mail [REDACTED:email]\n");
}

#[test]
fn out_dir_mirrors_the_whole_tree_and_globs_filter_it() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir_all(logs.join("app")).unwrap();
    fs::write(logs.join("app/a.log"), "a@acme.com\n").unwrap();
    fs::write(logs.join("app/skip.txt"), "b@acme.com\n").unwrap();
    fs::write(logs.join(".hidden.log"), "c@acme.com\n").unwrap();
    fs::write(logs.join("ignored.log"), "d@acme.com\n").unwrap();
    fs::write(logs.join(".gitignore"), "ignored.log\n").unwrap();
    let out_dir = dir.path().join("clean");
    let out = cmd()
        .arg("--out-dir")
        .arg(&out_dir)
        .args(["--glob", "!*.txt", "--report", "-"])
        .arg(&logs)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    for name in ["app/a.log", ".hidden.log", "ignored.log"] {
        assert_eq!(
            fs::read_to_string(out_dir.join(name)).unwrap(),
            "[REDACTED:email]\n",
            "{name}"
        );
    }
    assert!(!out_dir.join("app/skip.txt").exists());
    let s = jsonl(&out.stdout);
    assert_eq!(
        summary(&s)["figures"]["files"],
        4,
        "a.log, .hidden.log, ignored.log, .gitignore"
    );
    // Asked for, ignore files are honoured, and what they hid is counted.
    let out = cmd()
        .arg("--check")
        .arg("--respect-ignore")
        .arg(&logs)
        .output()
        .unwrap();
    let s = jsonl(&out.stdout);
    assert_eq!(summary(&s)["figures"]["files"], 4);
    assert_eq!(summary(&s)["figures"]["ignored"], 1);
}

/// Regression: a log directory's own `.gitignore` (`*.log`, common because logs
/// are not committed) hid every log from `--check`, which then passed with an
/// email in the log: the gate judged only the `.gitignore` file.
#[test]
fn check_is_not_blinded_by_a_gitignore_in_the_log_dir() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir_all(&logs).unwrap();
    fs::write(
        logs.join("app.log"),
        "user a.person@example.com logged in\n",
    )
    .unwrap();
    fs::write(logs.join(".gitignore"), "*.log\n").unwrap();
    fs::write(dir.path().join(".ignore"), "logs/\n").unwrap();
    let out = cmd().arg("--check").arg(&logs).output().unwrap();
    assert_exit(&out, 1);
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(s["verdict"], "fail");
    assert_eq!(s["figures"]["findings"], 1);
    assert_eq!(s["figures"]["files"], 2, "app.log and .gitignore");
    // The compatibility flag --no-ignore (now the default) still parses.
    let out = cmd()
        .args(["--check", "--no-ignore"])
        .arg(&logs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn rules_files_allow_lists_only_except_and_fields() {
    let rules = testdata("pii-scrub/rules.toml");
    let out = text(
        &["--rules", rules.to_str().unwrap()],
        "emp EMP-004217 card-ish 79927398713 bad 79927398710\n",
    );
    assert_eq!(
        out,
        "emp [REDACTED:employee_id] card-ish [REDACTED:loyalty_card] bad 79927398710\n"
    );
    let rules_json = testdata("pii-scrub/rules.json");
    let out = text(
        &["--rules", rules_json.to_str().unwrap()],
        "ticket TCK-12345678\n",
    );
    assert_eq!(out, "ticket ********\n");

    let out = text(
        &["--allow", r"@example\.com$"],
        "a@example.com b@acme.com\n",
    );
    assert_eq!(out, "a@example.com [REDACTED:email]\n");
    let dir = tempfile::tempdir().unwrap();
    let allow = dir.path().join("allow.txt");
    fs::write(&allow, "10.0.0.1\n").unwrap();
    let out = text(
        &["--allow-file", allow.to_str().unwrap()],
        "10.0.0.1 10.0.0.2\n",
    );
    assert_eq!(out, "10.0.0.1 [REDACTED:ipv4]\n");

    assert_eq!(
        text(&["--only", "email"], "a@acme.com 10.0.0.1\n"),
        "[REDACTED:email] 10.0.0.1\n"
    );
    assert_eq!(
        text(&["--except", "email"], "a@acme.com 10.0.0.1\n"),
        "a@acme.com [REDACTED:ipv4]\n"
    );
    let line = "{\"user\":{\"mail\":\"a@acme.com\"},\"req\":{\"ip\":\"10.0.0.1\",\"h\":{\"x\":\"b@acme.com\"}}}\n";
    assert_eq!(
        text(&["--fields", "/req/*"], line),
        "{\"user\":{\"mail\":\"a@acme.com\"},\"req\":{\"ip\":\"[REDACTED:ipv4]\",\"h\":{\"x\":\"[REDACTED:email]\"}}}\n"
    );
    assert_eq!(
        text(&["--skip-fields", "/req/h"], line),
        "{\"user\":{\"mail\":\"[REDACTED:email]\"},\"req\":{\"ip\":\"[REDACTED:ipv4]\",\"h\":{\"x\":\"b@acme.com\"}}}\n"
    );
}

#[test]
fn usage_errors_name_the_flag() {
    let (_, err, code) = filter(&["--only", "emial"], b"");
    assert_eq!(code, 2);
    assert!(
        err.contains("pii-scrub: error: --only: unknown type 'emial'"),
        "{err}"
    );
    let (_, err, code) = filter(&["--action", "email=scramble"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("--action 'scramble': unknown action"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    fs::write(&bad, "[[rule]]\nname = \"x\"\nregex = \"(\"\n").unwrap();
    let (_, err, code) = filter(&["--rules", bad.to_str().unwrap()], b"");
    assert_eq!(code, 2);
    assert!(err.contains("rule 'x': bad regex"), "{err}");
    fs::write(&bad, "[[rule]]\nname = \"x\"\nregexp = \"a\"\n").unwrap();
    let (_, err, code) = filter(&["--rules", bad.to_str().unwrap()], b"");
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{}:3: unknown field `regexp`", bad.display())),
        "{err}"
    );
    let (_, err, code) = filter(&["--in-place"], b"");
    assert_eq!(code, 2);
    assert!(
        err.contains("--in-place and --out-dir need file or directory paths"),
        "{err}"
    );
}

#[test]
fn gzip_on_stdin_is_decoded() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(b"x a@acme.com\n").unwrap();
    let (out, _, code) = filter(&[], &enc.finish().unwrap());
    assert_eq!(code, 0);
    assert_eq!(out, b"x [REDACTED:email]\n");
}

#[test]
fn scrubbing_is_idempotent() {
    let input = fs::read(testdata("pii-scrub/sample.log")).unwrap();
    let (once, _, _) = filter(&["--action", "mask"], &input);
    let (twice, _, _) = filter(&["--action", "mask"], &once);
    assert_eq!(
        String::from_utf8_lossy(&once),
        String::from_utf8_lossy(&twice)
    );
    let (once, _, _) = filter(&[], &input);
    let (twice, _, _) = filter(&[], &once);
    assert_eq!(once, twice);
    assert_ne!(once, input);
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let mut child = StdCommand::new(bin())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let line = "user a@acme.com did something\n".repeat(1000);
        for _ in 0..200 {
            if stdin.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
    });
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(141));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn list_types_names_every_builtin() {
    let out = cmd().arg("--list-types").output().unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    // 19 types; `phone` is found by two detectors and listed once.
    assert_eq!(s.lines().count(), 19);
    assert!(s.lines().any(|l| l.starts_with("email ")));
    assert!(s.lines().any(|l| l.starts_with("identity ")));
    assert_eq!(s.lines().filter(|l| l.starts_with("phone ")).count(), 1);
    assert!(Path::new(&testdata("pii-scrub")).is_dir());
}

#[test]
fn trees_read_symlinked_files_and_out_dir_refuses_to_write_through_one() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir_all(logs.join("app")).unwrap();
    fs::write(logs.join("app/a.log"), "a@acme.com\n").unwrap();
    let outside = dir.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret.log"), "b@acme.com\n").unwrap();
    std::os::unix::fs::symlink(outside.join("secret.log"), logs.join("link.log")).unwrap();
    // The link's target is read (skipping it passed --check on a tree of links).
    let out = cmd().arg("--check").arg(&logs).output().unwrap();
    let s = jsonl(&out.stdout);
    assert_eq!(summary(&s)["figures"]["files"], 2);
    assert_eq!(summary(&s)["figures"]["findings"], 2);
    assert_eq!(summary(&s)["figures"]["symlinks"], 1);

    // A planted symlink inside --out-dir must not redirect the write.
    let clean = dir.path().join("clean");
    fs::create_dir_all(&clean).unwrap();
    std::os::unix::fs::symlink(&outside, clean.join("app")).unwrap();
    let out = cmd()
        .arg("--out-dir")
        .arg(&clean)
        .arg(&logs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("passes through symlink"), "{err}");
    assert!(!outside.join("a.log").exists());
}

#[test]
fn custom_rule_groups_and_text_reports_on_stderr_in_filter_mode() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.toml");
    fs::write(&rules, "[[rule]]\nname = \"badge\"\nregex = 'badge=([A-Z]{3}[0-9]{4})'\ngroup = 1\naction = \"mask\"\n").unwrap();
    let out = cmd()
        .args(["--format", "text", "--rules"])
        .arg(&rules)
        .write_stdin("in badge=ABC1234 ok\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"in badge=******** ok\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("<stdin>:1: badge bytes 9..16 (mask)\n"),
        "{err}"
    );
}

#[test]
fn sigint_writes_the_summary_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.jsonl");
    let q = dir.path().join("q.jsonl");
    let mut child = StdCommand::new(bin())
        .arg("--report")
        .arg(&report)
        .arg("--quarantine")
        .arg(&q)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The quarantine's temporary file appears after the SIGINT handler is
    // installed: wait for it (bounded) before signalling.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !fs::read_dir(dir.path())
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "pii-scrub did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"mail a@acme.com\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 130);
    let recs = jsonl(&fs::read(&report).unwrap());
    let s = summary(&recs);
    assert_eq!(s["interrupted"], true);
    assert_eq!(s["verdict"], "fail");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("a@acme.com"),
        "nothing unscrubbed leaks"
    );
}

#[test]
fn out_dir_refuses_two_inputs_with_one_destination() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b"] {
        fs::create_dir_all(dir.path().join(sub)).unwrap();
        fs::write(dir.path().join(sub).join("x.log"), "a@acme.com\n").unwrap();
    }
    let out = cmd()
        .arg("--out-dir")
        .arg(dir.path().join("clean"))
        .arg(dir.path().join("a/x.log"))
        .arg(dir.path().join("b/x.log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("would both be written to x.log"));
    assert!(!dir.path().join("clean").exists());
}

#[test]
fn a_corrupt_gzip_quarantines_the_partial_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.jsonl");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(b"one a@acme.com\ntwo b@acme.com").unwrap();
    let mut gz = enc.finish().unwrap();
    let n = gz.len();
    gz[n - 8] ^= 0xff; // break the CRC: every byte decodes, then the check fails
    let f = dir.path().join("bad.log.gz");
    fs::write(&f, gz).unwrap();
    let out = cmd().arg("--quarantine").arg(&q).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        out.stdout, b"one [REDACTED:email]\n",
        "nothing unjudged reaches the output"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.log.gz"), "{err}");
    let recs = jsonl(&fs::read(&q).unwrap());
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["reason"], "decode_error");
    assert_eq!(recs[0]["line"], 2);
    assert_eq!(recs[0]["record"], "two b@acme.com");
}

#[test]
fn kill_9_during_in_place_leaves_the_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.log");
    let original = "user a@acme.com did a thing at 10.1.2.3\n".repeat(400_000);
    fs::write(&f, &original).unwrap();
    let mut child = StdCommand::new(bin())
        .arg("--in-place")
        .arg(&f)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the temporary file exists, i.e. mid-rewrite (bounded wait).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let tmp = fs::read_dir(dir.path())
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"));
        if tmp || child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no temporary file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let now = fs::read_to_string(&f).unwrap();
    let scrubbed = "user [REDACTED:email] did a thing at [REDACTED:ipv4]\n".repeat(400_000);
    assert!(
        now == original || now == scrubbed,
        "the file is neither the original nor the whole result"
    );
}

// ---- issue 12: leaks -------------------------------------------------------

#[test]
fn truncated_json_line_with_a_password_is_quarantined_not_passed() {
    // Logs are cut mid-record (size limits, rotation, crashes): a line that
    // starts like a JSON object but does not parse never reaches the output.
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.jsonl");
    let input = "{\"user\":{\"id\":1},\"db\":{\"password\":\"AEkfC3CwD^g3YnkFXS@j\n\
                 {\"msg\":\"hello\"} trailing text\n\
                 {  \"api_key\": \"k3y-abcdef\n\
                 ok\n";
    let out = cmd()
        .arg("--quarantine")
        .arg(&q)
        .write_stdin(input)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "ok\n");
    let recs = jsonl(&fs::read(&q).unwrap());
    let got: Vec<(u64, &str)> = recs
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "invalid_json"),
            (2, "invalid_json"),
            (3, "invalid_json")
        ]
    );
}

#[test]
fn truncated_json_scrubbed_as_text_still_loses_its_secrets() {
    // The second layer: with --on-invalid-json text the text scrubber reads
    // JSON-syntax pairs with secret-named keys, terminated or not.
    let input = "{\"user\":{\"id\":1},\"db\":{\"password\":\"AEkfC3CwD^g3YnkFXS@j\n\
                 {\"api_key\": \"abc\\\"def\", \"n\": 1, \"token\":\"tok-123456\n\
                 {\"credentials\":{\"user\":\"bob\",\"pin\":4321},\"x\":\n\
                 {\"msg\":\"hi\",\"session_id\":98765432,\"cut\n";
    let out = text(&["--on-invalid-json", "text"], input);
    assert_eq!(
        out,
        "{\"user\":{\"id\":1},\"db\":{\"password\":\"[REDACTED:secret]\n\
         {\"api_key\": \"[REDACTED:secret]\", \"n\": 1, \"token\":\"[REDACTED:secret]\n\
         {\"credentials\":[REDACTED:secret],\"x\":\n\
         {\"msg\":\"hi\",\"session_id\":[REDACTED:secret],\"cut\n"
    );
}

#[test]
fn url_credentials_with_unencoded_reserved_characters_are_redacted_whole() {
    // Connection strings are logged as typed: the userinfo runs to the last
    // `@` before the host, whatever the password holds.
    let cases = [
        "postgres://app_user:NgFa7T#uf!@db-1.internal:5432/orders",
        "redis://u:p?w/x@cache:6379/0",
        "amqp://svc:a@b@mq.internal/vhost",
        "mysql://root:it's\"q@db/x",
        "mongodb://admin:50%off@mongo-0.internal:27017/db",
        "https://:only#pass@example.com",
        "ftp://bob:pa:ss@files.example.org",
    ];
    for case in cases {
        let line = format!("connect {case} done\n");
        let out = text(&[], &line);
        let scheme = case.split("://").next().unwrap();
        let host = case.rsplit('@').next().unwrap();
        assert_eq!(
            out,
            format!("connect {scheme}://[REDACTED:url_credentials]@{host} done\n"),
            "{case}"
        );
    }
    // Not credentials: a host with a port and an email in the query.
    assert_eq!(
        text(&[], "GET https://example.com:8080/x?u=a@acme.com\n"),
        "GET https://example.com:8080/x?u=[REDACTED:email]\n"
    );
}

// ---- issue 12: false positives on ordinary system logs --------------------

#[test]
fn test_suite_status_words_are_not_secret_keys() {
    let input = "PASS: gdb.base/foo.exp: changing the language\n\
                 --- PASS: TestPassword (0.00s)\n\
                 geegeefoobarPASS: gfortran.dg/dollar_edit_descriptor_3.f   -O0  execution test\n\
                 tests pass=0: none\n\
                 restored session=first: ok\n";
    assert_eq!(text(&[], input), input);
    // The same words as real keys still are.
    assert_eq!(
        text(&[], "DB_PASS: hunter22\npass=hunter22 session=0a1b2c3d\n"),
        "DB_PASS: [REDACTED:secret]\npass=[REDACTED:secret] session=[REDACTED:secret]\n"
    );
}

#[test]
fn package_names_are_not_secret_keys() {
    let input = "2025-06-24 14:37:48 install dbus-user-session:amd64 <none> 1.14.10-1~deb12u1\n\
                 Install: python3-jwt:all (2.6.0-1, automatic), libsecret-1-0:amd64 (0.20.5-3)\n\
                 Commandline: apt-get install -y google-cloud-cli-gke-gcloud-auth-plugin=528.0.0-0 dbus-user-session=1.14.10-1~deb12u1\n";
    assert_eq!(text(&[], input), input);
}

#[test]
fn file_names_and_flags_are_not_secret_keys() {
    let input = "\tat com.acme.Password.java:123\n\
                 gcc.dg/diagnostic-token-ranges.c: In function 'f':\n\
                 collect2 -plugin-opt=-pass-through=-lgcc -plugin-opt=-pass-through=-lc\n\
                   Array cookie:            ac\n";
    assert_eq!(text(&[], input), input);
}

#[test]
fn systemd_units_are_not_emails() {
    let input = "Created symlink /etc/systemd/system/getty.target.wants/getty@tty1.service -> /lib/systemd/system/getty@.service.\n\
                 Started user@1000.service - User Manager for UID 1000.\n";
    assert_eq!(text(&[], input), input);
}

#[test]
fn allow_key_leaves_values_of_named_keys_alone() {
    let input = "session=abcdef12 password=hunter22\n{\"session\":\"abcdef12\",\"password\":\"hunter22\"}\n";
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.jsonl");
    let out = cmd()
        .args(["--allow-key", "session", "--report"])
        .arg(&report)
        .write_stdin(input)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "session=abcdef12 password=[REDACTED:secret]\n{\"session\":\"abcdef12\",\"password\":\"[REDACTED:secret]\"}\n"
    );
    let s = summary(&jsonl(&fs::read(&report).unwrap())).clone();
    assert_eq!(s["figures"]["allowed"], 2);
    // Anchored: allowing `session` does not allow `session_token`.
    assert_eq!(
        text(&["--allow-key", "session"], "session_token=abcdef12\n"),
        "session_token=[REDACTED:secret]\n"
    );
}

#[test]
fn dry_run_text_shows_a_masked_context_snippet() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.log");
    fs::write(
        &f,
        "2024-01-15 login john.doe@acme.com from 10.1.2.3 with password=hunter22 ok\n{\"u\":{\"mail\":\"x@acme.com\"}}\n",
    )
    .unwrap();
    let out = cmd()
        .args(["--dry-run", "--format", "text"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let s = String::from_utf8(out.stdout).unwrap();
    let name = f.display();
    let want = format!(
        "{name}:1: email bytes 17..34 (redact)\n\
         \x20   2024-01-15 login >>j***@acme.com<< from 10.*.*.* with password=******** ok\n\
         {name}:1: ipv4 bytes 40..48 (redact)\n\
         \x20   2024-01-15 login j***@acme.com from >>10.*.*.*<< with password=******** ok\n\
         {name}:1: secret bytes 63..71 (redact)\n\
         \x20   ...from 10.*.*.* with password=>>********<< ok\n\
         {name}:2: email at /u/mail bytes 0..10 (redact)\n\
         \x20   /u/mail: >>x***@acme.com<<\n"
    );
    assert!(s.starts_with(&want), "{s}");
    assert!(!s.contains("john.doe") && !s.contains("hunter22") && !s.contains("10.1.2.3"));
}

#[test]
fn report_on_stdout_is_refused_in_filter_mode() {
    let (out, err, code) = filter(&["--report", "-"], b"a@acme.com\n");
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.starts_with(
            "pii-scrub: error: --report -: stdout carries the scrubbed data in filter mode"
        ),
        "{err}"
    );
}

// ---- issue 13: --check never passes what it could not check --------------

#[test]
fn check_fails_when_a_line_was_quarantined() {
    // A line quarantined as invalid JSON holds an email nobody looked at.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.log");
    fs::write(&f, "ok\n{\"user\": \"bob@acme.com\", }\n").unwrap();
    let out = cmd().arg("--check").arg(&f).output().unwrap();
    assert_exit(&out, 1);
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(s["verdict"], "fail");
    assert_eq!(gate(s, "findings")["pass"], true);
    assert_eq!(
        gate(s, "quarantined"),
        &json!({"name":"quarantined","op":"<=","limit":0.0,"value":1.0,"pass":false})
    );
    // A line too long to read is a line unread.
    fs::write(&f, format!("ok\n{}\n", "z".repeat(300))).unwrap();
    let out = cmd()
        .args(["--check", "--max-line", "100"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let recs = jsonl(&out.stdout);
    assert_eq!(gate(summary(&recs), "quarantined")["value"], 1.0);
    // --max-quarantined still sets the limit.
    let out = cmd()
        .args(["--check", "--max-line", "100", "--max-quarantined", "1"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_summary_after_an_error_never_says_pass() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.log");
    fs::write(&clean, "nothing here\n").unwrap();
    let missing = dir.path().join("missing.log");
    for mode in ["--check", "--dry-run"] {
        let out = cmd().arg(mode).arg(&clean).arg(&missing).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{mode}");
        let recs = jsonl(&out.stdout);
        let s = summary(&recs);
        assert_eq!(s["verdict"], "fail", "{mode}: {s}");
        assert_eq!(
            gate(s, "errors"),
            &json!({"name":"errors","op":"<=","limit":0.0,"value":1.0,"pass":false}),
            "{mode}"
        );
        if mode == "--check" {
            // Findings in an unread file are unknown: the gate cannot pass.
            assert_eq!(
                gate(s, "findings"),
                &json!({"name":"findings","op":"<=","limit":0.0,"value":null,"pass":false})
            );
        }
    }
    // In filter mode the summary in --report says the same.
    let report = dir.path().join("r.jsonl");
    let out = cmd()
        .arg("--report")
        .arg(&report)
        .arg(&clean)
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        summary(&jsonl(&fs::read(&report).unwrap()))["verdict"],
        "fail"
    );
}

// ---- issue 14: nothing lost, nothing written outside -----------------------

#[test]
fn backup_through_a_planted_symlink_is_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    fs::write(&log, "user a@acme.com\n").unwrap();
    let victim = dir.path().join("victim.txt");
    fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, dir.path().join("a.log.orig")).unwrap();
    let out = cmd()
        .args(["--in-place", "--backup-suffix", ".orig"])
        .arg(&log)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        fs::read_to_string(&victim).unwrap(),
        "precious\n",
        "written through the link"
    );
    let backup = dir.path().join("a.log.orig");
    assert!(fs::symlink_metadata(&backup).unwrap().file_type().is_file());
    assert_eq!(fs::read_to_string(&backup).unwrap(), "user a@acme.com\n");
    assert_eq!(fs::read_to_string(&log).unwrap(), "user [REDACTED:email]\n");
}

/// A small tmpfs (root only): the ENOSPC tests need a disk that fills up.
fn small_tmpfs(kib: u64) -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    if !nix::unistd::geteuid().is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run this test as root (it mounts a tmpfs)"
        );
        eprintln!("SKIPPED: not root, cannot mount a tmpfs for the ENOSPC test");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("fs");
    fs::create_dir(&mnt).unwrap();
    let status = StdCommand::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(status.success(), "mount -t tmpfs failed");
    Some((dir, mnt))
}

struct Unmount(std::path::PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = StdCommand::new("umount").arg(&self.0).status();
    }
}

#[test]
fn the_old_backup_survives_a_full_disk() {
    let Some((_dir, mnt)) = small_tmpfs(256) else {
        return;
    };
    let _guard = Unmount(mnt.clone());
    let log = mnt.join("a.log");
    // A key block scrubs down to one line: the scrubbed copy fits where a
    // backup of the original (~130 KB) does not.
    let original = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}-----END RSA PRIVATE KEY-----\n",
        "MIIEowIBAAKCAQEA1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP\n".repeat(2000)
    );
    fs::write(&log, &original).unwrap();
    fs::write(mnt.join("a.log.orig"), "previous backup\n").unwrap();
    // Fill the disk, leaving 16 KiB: room for the scrubbed copy only.
    fs::write(mnt.join("room"), vec![b'r'; 16 * 1024]).unwrap();
    let mut filler = fs::File::create(mnt.join("filler")).unwrap();
    let chunk = vec![b'x'; 4096];
    while filler.write_all(&chunk).is_ok() {}
    let _ = filler.sync_all();
    drop(filler);
    fs::remove_file(mnt.join("room")).unwrap();
    let out = cmd()
        .args(["--in-place", "--backup-suffix", ".orig"])
        .arg(&log)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("No space left on device"), "{err}");
    let backup = fs::read(mnt.join("a.log.orig")).unwrap();
    assert!(
        backup == b"previous backup\n",
        "the previous backup was replaced by {} bytes",
        backup.len()
    );
    assert!(
        fs::read_to_string(&log).unwrap() == original,
        "the log is untouched"
    );
    let names: Vec<String> = fs::read_dir(&mnt)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn lines_appended_during_an_in_place_scrub_are_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("live.log");
    let original = "user a@acme.com did a thing at 10.1.2.3\n".repeat(400_000);
    fs::write(&log, &original).unwrap();
    let child = StdCommand::new(bin())
        .arg("--in-place")
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Append once the rewrite has started (its temporary file exists).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !fs::read_dir(dir.path())
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no temporary file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let mut f = fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b"appended late b@acme.com\n").unwrap();
    drop(f);
    let out = child.wait_with_output().unwrap();
    let now = fs::read_to_string(&log).unwrap();
    assert!(
        now.ends_with("appended late b@acme.com\n"),
        "the appended line was lost"
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("live.log: changed while it was being scrubbed"),
        "{err}"
    );
    assert_eq!(
        now.len(),
        original.len() + 25,
        "left as it was, nothing replaced"
    );
}

#[test]
fn in_place_refuses_hard_linked_files() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    fs::write(&log, "user a@acme.com\n").unwrap();
    fs::hard_link(&log, dir.path().join("b.log")).unwrap();
    let out = cmd().arg("--in-place").arg(&log).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a.log: has 2 hard links: rewriting this name would leave the personal data in the others"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&log).unwrap(), "user a@acme.com\n");
}

#[test]
fn in_place_refuses_what_is_not_a_regular_file_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.log");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let mut child = StdCommand::new(bin())
        .arg("--in-place")
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It must not block opening the FIFO: bounded wait, then fail the test.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("pii-scrub --in-place blocked on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pipe.log: not a regular file (a FIFO): refusing to rewrite it in place"),
        "{err}"
    );
}

#[test]
fn utf16_logs_are_not_passed_through_unread() {
    let text = "login alice@acme.com ok\n";
    let mut le = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        le.extend_from_slice(&u.to_le_bytes());
    }
    let mut no_bom = Vec::new();
    for u in text.encode_utf16() {
        no_bom.extend_from_slice(&u.to_le_bytes());
    }
    for input in [le, no_bom] {
        let (out, err, code) = filter(&[], &input);
        assert_eq!(code, 2, "{err}");
        assert!(out.is_empty(), "nothing of it reaches the output");
        assert!(err.contains("<stdin>: looks like UTF-16LE text"), "{err}");
        let (out, _, code) = filter(&["--check"], &input);
        assert_eq!(code, 2);
        assert_eq!(summary(&jsonl(&out))["verdict"], "fail");
    }
}

/// `--format text` goes to a terminal: a file named with an escape sequence
/// is shown escaped, not sent to it (issue 16: one printable() for every
/// tool's text).
#[test]
fn text_report_shows_control_characters_in_file_names_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "a\u{1b}[2Jb.log";
    fs::write(dir.path().join(name), "mail bob@example.com\n").unwrap();
    let out = cmd()
        .current_dir(dir.path())
        .args(["--check", "--format", "text", name])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(
        text.starts_with("a\\u{1b}[2Jb.log:1: email bytes 5..20 (redact)\n"),
        "{text:?}"
    );
}
