//! Integration tests: the real `replay-diff` binary on real files, asserting
//! exact records, figures, messages and exit codes.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::testkit::{gate, jsonl, of_kind, summary};
use serde_json::{json, Value};

use crate::util::{bin, fixture, run, write};

#[test]
fn replay_of_the_50_event_run_is_identical_once_volatile_fields_are_handled() {
    let (code, records, stderr) = run(&[
        &fixture("golden.jsonl"),
        &fixture("replay.jsonl"),
        "--ignore",
        "/ts",
        "--mask",
        "uuid",
        "--max-divergences",
        "0",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records.len(), 1, "only the summary: {records:?}");
    let s = summary(&records);
    assert_eq!(s["tool"], "replay-diff");
    assert_eq!(s["verdict"], "pass");
    assert_eq!(s["figures"]["records_golden"], 50);
    assert_eq!(s["figures"]["records_replay"], 50);
    assert_eq!(s["figures"]["identical"], 50);
    assert_eq!(s["figures"]["determinism"], 1.0);
    assert_eq!(gate(s, "divergences")["value"], 0.0);
    assert_eq!(s["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn three_planted_divergences_are_found_exactly() {
    let (code, records, _) = run(&[
        &fixture("golden.jsonl"),
        &fixture("replay-diverged.jsonl"),
        "--ignore",
        "/ts",
        "--mask",
        "uuid",
        "--min-determinism",
        "98%",
    ]);
    assert_eq!(code, 1);
    let divergences = of_kind(&records, "divergence");
    assert_eq!(
        divergences,
        vec![
            &json!({"kind":"divergence","golden_line":8,"replay_line":8,"path":"/output/text",
                    "change":"changed","golden":"reply 7","replay":"reply seven"}),
            &json!({"kind":"divergence","golden_line":22,"replay_line":22,"path":"/output/tokens",
                    "change":"changed","golden":31,"replay":99}),
            &json!({"kind":"divergence","golden_line":43,"replay_line":43,"path":"/action",
                    "change":"changed","golden":"memory.write","replay":"tool"}),
        ]
    );
    let s = summary(&records);
    assert_eq!(s["figures"]["divergent"], 3);
    assert_eq!(s["figures"]["determinism"], 0.94);
    assert_eq!(
        gate(s, "determinism"),
        &json!({"name":"determinism","op":">=","limit":0.98,"value":0.94,"pass":false})
    );
}

#[test]
fn every_change_kind_and_rfc6901_escaping() {
    let dir = tempfile::tempdir().unwrap();
    let g = write(
        dir.path(),
        "g.jsonl",
        r#"{"a/b":1,"m~n":"x","gone":true,"arr":[1,2,3]}"#,
    );
    let r = write(
        dir.path(),
        "r.jsonl",
        "{\"a/b\":2,\"m~n\":5,\"new\":null,\"arr\":[1,2]}\n",
    );
    let (code, records, _) = run(&[&g, &r]);
    assert_eq!(code, 1);
    let got: Vec<(&str, &str)> = of_kind(&records, "divergence")
        .iter()
        .map(|d| (d["path"].as_str().unwrap(), d["change"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("/a~1b", "changed"),
            ("/m~0n", "type_changed"),
            ("/gone", "removed"),
            ("/arr/2", "removed"),
            ("/new", "added")
        ]
    );
    let removed = of_kind(&records, "divergence")[2];
    assert_eq!(
        removed.get("replay"),
        None,
        "the side without the path has no value"
    );
    let s = summary(&records);
    assert_eq!(
        gate(s, "divergences")["value"],
        5.0,
        "no gate asked: any divergence fails"
    );
}

#[test]
fn missing_and_extra_records_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let g = write(dir.path(), "g.jsonl", "1\n2\n3\n");
    let r = write(dir.path(), "r.jsonl", "1\n");
    let (code, records, _) = run(&[&g, &r]);
    assert_eq!(code, 1);
    assert_eq!(
        of_kind(&records, "missing"),
        vec![
            &json!({"kind":"missing","golden_line":2,"golden":2}),
            &json!({"kind":"missing","golden_line":3,"golden":3})
        ]
    );
    let (_, records, _) = run(&[&r, &g]);
    assert_eq!(of_kind(&records, "extra").len(), 2);
    assert_eq!(summary(&records)["figures"]["extra"], 2);
    assert_eq!(summary(&records)["figures"]["determinism"], 1.0 / 3.0);
}

#[test]
fn keyed_alignment_tolerates_reordering_and_pairs_repeated_keys_in_order() {
    // A key seen twice pairs in order of appearance: the n-th golden record
    // with key K with the n-th replay record with key K; one without a
    // partner is extra. (Before, every key seen was kept to report
    // duplicates, which made memory grow with the input.)
    let dir = tempfile::tempdir().unwrap();
    let g = write(
        dir.path(),
        "g.jsonl",
        "{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n{\"id\":3,\"v\":\"c\"}\n",
    );
    let r = write(
        dir.path(),
        "r.jsonl",
        "{\"id\":3,\"v\":\"c\"}\n{\"id\":1,\"v\":\"a\"}\n{\"id\":1,\"v\":\"dup\"}\n{\"id\":4,\"v\":\"d\"}\n{\"id\":2,\"v\":\"B\"}\n",
    );
    let (code, records, _) = run(&[&g, &r, "--key", "/id"]);
    assert_eq!(code, 1);
    assert_eq!(
        of_kind(&records, "divergence"),
        vec![
            &json!({"kind":"divergence","golden_line":2,"replay_line":5,"key":2,"path":"/v",
                     "change":"changed","golden":"b","replay":"B"})
        ]
    );
    assert_eq!(
        of_kind(&records, "extra"),
        vec![
            &json!({"kind":"extra","replay_line":3,"key":1,"replay":{"id":1,"v":"dup"}}),
            &json!({"kind":"extra","replay_line":4,"key":4,"replay":{"id":4,"v":"d"}})
        ]
    );
    let f = &summary(&records)["figures"];
    assert_eq!(
        (f["compared"].clone(), f["identical"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!((&f["extra"], &f["divergences"]), (&json!(2), &json!(3)));
    assert_eq!(gate(summary(&records), "divergences")["value"], 3.0);

    // The same key repeated on both sides, in the same order: identical.
    let g2 = write(
        dir.path(),
        "g2.jsonl",
        "{\"id\":1,\"n\":1}\n{\"id\":1,\"n\":2}\n{\"id\":2}\n",
    );
    let r2 = write(
        dir.path(),
        "r2.jsonl",
        "{\"id\":2}\n{\"id\":1,\"n\":1}\n{\"id\":1,\"n\":2}\n",
    );
    let (code, records, _) = run(&[&g2, &r2, "--key", "/id"]);
    assert_eq!(code, 0);
    assert_eq!(summary(&records)["figures"]["identical"], 3);
    // In the other order they pair first with first: two divergences.
    let r3 = write(
        dir.path(),
        "r3.jsonl",
        "{\"id\":1,\"n\":2}\n{\"id\":1,\"n\":1}\n{\"id\":2}\n",
    );
    let (code, records, _) = run(&[&g2, &r3, "--key", "/id"]);
    assert_eq!(code, 1);
    assert_eq!(of_kind(&records, "divergence").len(), 2);
}

#[test]
fn composite_keys_and_missing_key_handling() {
    let dir = tempfile::tempdir().unwrap();
    let g = write(
        dir.path(),
        "g.jsonl",
        "{\"s\":1,\"n\":1}\n{\"s\":1,\"n\":2}\n",
    );
    let r = write(
        dir.path(),
        "r.jsonl",
        "{\"s\":1,\"n\":2}\n{\"s\":1,\"n\":1}\n",
    );
    let (code, records, _) = run(&[&g, &r, "--key", "/s", "--key", "/n"]);
    assert_eq!(code, 0);
    assert_eq!(summary(&records)["figures"]["identical"], 2);

    // A record without a key part is keyless: no partner among the golden
    // run's keyless records, so it is extra and its keyed peer missing.
    let bad = write(dir.path(), "bad.jsonl", "{\"s\":1,\"n\":1}\n{\"s\":1}\n");
    let (code, records, stderr) = run(&[&g, &bad, "--key", "/s", "--key", "/n"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        of_kind(&records, "missing"),
        vec![&json!({"kind":"missing","golden_line":2,"key":[1,2],"golden":{"s":1,"n":2}})]
    );
    assert_eq!(
        of_kind(&records, "extra"),
        vec![&json!({"kind":"extra","replay_line":2,"replay":{"s":1}})]
    );
    assert_eq!(summary(&records)["figures"]["keyless"], 1);
}

#[test]
fn masks_tolerance_and_unordered_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let g = write(
        dir.path(),
        "g.jsonl",
        r#"{"msg":"done at 2026-11-23T10:00:00Z","x":0.1,"tags":["a","b"],"at":1700000000123}"#,
    );
    let r = write(
        dir.path(),
        "r.jsonl",
        r#"{"msg":"done at 2026-11-24T11:11:11.5+01:00","x":0.1000001,"tags":["b","a"],"at":1700000999999}"#,
    );
    let (code, records, _) = run(&[&g, &r]);
    assert_eq!(code, 1);
    let paths: Vec<&Value> = of_kind(&records, "divergence")
        .iter()
        .map(|d| &d["path"])
        .collect();
    assert_eq!(paths, ["/msg", "/x", "/tags/0", "/tags/1", "/at"]);
    let (code, records, _) = run(&[
        &g,
        &r,
        "--mask",
        "timestamp",
        "--float-tolerance",
        "1e-6",
        "--unordered",
        "/tags",
        "--ignore",
        "/at",
    ]);
    assert_eq!(code, 0, "{records:?}");
    // --mask epoch instead of --ignore: the 13-digit times are masked.
    let (code, records, _) = run(&[
        &g,
        &r,
        "--mask",
        "timestamp",
        "--float-tolerance",
        "1e-6",
        "--unordered",
        "/tags",
        "--mask",
        "epoch",
    ]);
    assert_eq!(code, 1, "epoch masks strings only: /at is a number");
    assert_eq!(of_kind(&records, "divergence")[0]["path"], "/at");

    // Inside an --unordered array elements match exactly: --float-tolerance
    // does not reach them (documented in --help and the README).
    let g = write(dir.path(), "g2.jsonl", "{\"t\":[1.0,2.0]}\n");
    let r = write(dir.path(), "r2.jsonl", "{\"t\":[2.0001,1.0]}\n");
    let (code, records, _) = run(&[&g, &r, "--unordered", "/t", "--float-tolerance", "0.01"]);
    assert_eq!(code, 1);
    assert_eq!(
        of_kind(&records, "divergence"),
        vec![
            &json!({"kind":"divergence","golden_line":1,"replay_line":1,"path":"/t/1",
                     "change":"removed","golden":2.0}),
            &json!({"kind":"divergence","golden_line":1,"replay_line":1,"path":"/t/0",
                     "change":"added","replay":2.0001}),
        ]
    );
}

#[test]
fn gzip_inputs_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("g.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(
        fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(b"{\"a\":1}\n{\"a\":2}\n").unwrap();
    enc.finish().unwrap();
    let r = write(dir.path(), "r.jsonl", "{\"a\":1}\n{\"a\":3}\n");
    let (code, records, _) = run(&[gz.to_str().unwrap(), &r]);
    assert_eq!(code, 1);
    assert_eq!(of_kind(&records, "divergence")[0]["golden"], 2);

    let out = Command::new(bin())
        .args(["-", &r])
        .stdin(fs::File::open(&gz).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let records = jsonl(&out.stdout);
    assert_eq!(summary(&records)["inputs"][0]["path"], "<stdin>");

    let (code, _, stderr) = run(&["-", "-"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot both be '-'"), "{stderr}");
}

#[test]
fn malformed_line_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let g = write(dir.path(), "g.jsonl", "{\"a\":1}\n{\"a\":2}\n");
    let r = write(dir.path(), "r.jsonl", "{\"a\":1}\n{\"a\": }\n");
    let (code, _, stderr) = run(&[&g, &r]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        format!(
            "replay-diff: error: {r}:2:7: invalid JSON: expected value\n\
             replay-diff: hint: fix the line, or pass --skip-invalid to report bad lines and go on\n"
        )
    );
    let (code, records, _) = run(&[&g, &r, "--skip-invalid"]);
    assert_eq!(code, 1, "the skipped line leaves a golden record missing");
    assert_eq!(
        of_kind(&records, "invalid"),
        vec![
            &json!({"kind":"invalid","file":r,"line":2,"column":7,"reason":"invalid JSON: expected value"})
        ]
    );
    let f = &summary(&records)["figures"];
    assert_eq!(
        (f["invalid"].clone(), f["missing"].clone()),
        (json!(1), json!(1))
    );
}

#[test]
fn invalid_utf8_truncated_and_empty_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let g = write(dir.path(), "g.jsonl", "{\"a\":\"x\"}\n");
    let bad = dir.path().join("bad.jsonl");
    fs::write(&bad, b"{\"a\":\"\xff\xfe\"}\n").unwrap();
    let (code, _, stderr) = run(&[&g, bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("bad.jsonl:1:7: invalid JSON"), "{stderr}");

    let cut = write(dir.path(), "cut.jsonl", "{\"a\":\"x\"}\n{\"a\":\"y");
    let (code, _, stderr) = run(&[&g, &cut]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cut.jsonl:2:"), "{stderr}");
    assert!(stderr.contains("truncated last line"), "{stderr}");

    // Empty inputs are read without error; the `records` gate fails them
    // (tests/empty_evidence.rs).
    let e1 = write(dir.path(), "e1.jsonl", "");
    let e2 = write(dir.path(), "e2.jsonl", "\n\r\n  \n");
    let (code, records, _) = run(&[&e1, &e2]);
    assert_eq!(code, 1);
    let f = &summary(&records)["figures"];
    assert_eq!(
        (f["records_golden"].clone(), f["determinism"].clone()),
        (json!(0), json!(1.0))
    );
}

#[test]
fn crlf_bom_and_non_object_values() {
    let dir = tempfile::tempdir().unwrap();
    let g = write(
        dir.path(),
        "g.jsonl",
        "\u{feff}[1,2]\r\n\"text\"\r\n3.5\r\nnull\r\n",
    );
    let r = write(dir.path(), "r.jsonl", "[1,2]\n\"text\"\n3.5\nfalse\n");
    let (code, records, _) = run(&[&g, &r]);
    assert_eq!(code, 1);
    assert_eq!(
        of_kind(&records, "divergence"),
        vec![
            &json!({"kind":"divergence","golden_line":4,"replay_line":4,"path":"",
                     "change":"type_changed","golden":null,"replay":false})
        ]
    );
}

#[test]
fn huge_lines_are_compared_or_refused_without_running_out_of_memory() {
    let dir = tempfile::tempdir().unwrap();
    let big = format!("{{\"blob\":\"{}\"}}\n", "x".repeat(50 * 1024 * 1024));
    let g = write(dir.path(), "g.jsonl", &big);
    let r = write(dir.path(), "r.jsonl", big.replacen('x', "y", 1));
    let (code, records, _) = run(&[&g, &r]);
    assert_eq!(code, 1);
    assert_eq!(of_kind(&records, "divergence")[0]["path"], "/blob");

    let (code, _, stderr) = run(&[&g, &r, "--max-line", "1000000"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!("{g}:1: line is 52428811 bytes, over the limit")),
        "{stderr}"
    );
}

#[test]
fn text_format_is_readable_and_uncoloured_off_a_terminal() {
    let out = Command::new(bin())
        .args([
            &fixture("golden.jsonl"),
            &fixture("replay-diverged.jsonl"),
            "--ignore",
            "/ts",
        ])
        .args(["--mask", "uuid", "--format", "text"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
    assert!(
        text.starts_with(
            "@@ golden:8 replay:8\n  /output/text  changed  - \"reply 7\"  + \"reply seven\"\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("50 golden, 50 replay: 50 compared, 47 identical, 3 divergent"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "gate divergences <= 0 (value 3): FAIL\ngate records >= 1 (value 50): pass\n\
             verdict: fail\n"
        ),
        "{text}"
    );
}

#[test]
fn gates_pass_when_within_limits() {
    let (code, records, _) = run(&[
        &fixture("golden.jsonl"),
        &fixture("replay-diverged.jsonl"),
        "--ignore",
        "/ts",
        "--mask",
        "uuid",
        "--max-divergences",
        "3",
        "--min-determinism",
        "94%",
    ]);
    assert_eq!(code, 0);
    assert_eq!(summary(&records)["verdict"], "pass");
    let (code, _, stderr) = run(&["a", "b", "--min-determinism", "150%"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("outside 0%..100%"), "{stderr}");
}

/// Trial 2 item 34: `--min-determinism 0.98` was read as a fraction (98%);
/// someone who means 0.98% got a gate 100 times stricter, and a bare `0.5`
/// meant as 50% or 0.5% silently became one of them. A bare number other
/// than 0 is refused, showing both readings.
#[test]
fn regression_a_bare_min_determinism_is_refused_not_read_as_a_fraction() {
    let (code, records, stderr) = run(&[
        &fixture("golden.jsonl"),
        &fixture("replay-diverged.jsonl"),
        "--min-determinism",
        "0.98",
    ]);
    assert_eq!((code, records.len()), (2, 0), "{stderr}");
    assert!(
        stderr.contains(
            "invalid value '0.98' for '--min-determinism <PERCENT>': '0.98' needs a %: as a \
             fraction it is 98%, as a percentage 0.98%; write the one you mean (98% or 0.98%); \
             only 0 may go without %"
        ),
        "{stderr}"
    );
}

#[test]
fn closed_stdout_ends_quietly() {
    // Far more output than a pipe buffer holds (20,000 divergences, ~1.5 MB),
    // so the tool is still writing when the reader goes away and must meet
    // the broken pipe, not finish first.
    let dir = tempfile::tempdir().unwrap();
    let lines = |v: &str| -> String {
        (0..20_000)
            .map(|i| format!("{{\"i\":{i},\"v\":\"{v}\"}}\n"))
            .collect()
    };
    let g = write(dir.path(), "g.jsonl", lines("golden"));
    let r = write(dir.path(), "r.jsonl", lines("replay"));
    let mut child = Command::new(bin())
        .args([&g, &r])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    drop(reader);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        first,
        "{\"kind\":\"divergence\",\"golden_line\":1,\"replay_line\":1,\"path\":\"/v\",\
         \"change\":\"changed\",\"golden\":\"golden\",\"replay\":\"replay\"}\n"
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(141), "{:?}", out.status);
}

#[test]
fn sigint_writes_an_interrupted_summary_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let r = write(dir.path(), "r.jsonl", "{\"a\":1}\n{\"a\":2}\n");
    let mut child = Command::new(bin())
        .args(["-", &r])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{\"a\":1}\n").unwrap();
    stdin.flush().unwrap();
    wait_for_sigint_handler(child.id());
    send_sigint(child.id());
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(out.status.code(), Some(130));
    let records = jsonl(&out.stdout);
    let s = summary(&records);
    assert_eq!(s["interrupted"], true);
    assert_eq!(s["verdict"], "fail");
}

#[test]
fn sigint_before_stdin_has_sent_a_byte_still_writes_the_summary() {
    // Regression: stdin was opened (its first bytes read, to detect gzip) on
    // the main thread, so a silent pipe made the first Ctrl-C go unnoticed and
    // only a second one ended the tool, with no summary.
    let dir = tempfile::tempdir().unwrap();
    let r = write(dir.path(), "r.jsonl", "{\"a\":1}\n");
    let mut child = Command::new(bin())
        .args(["-", &r])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    wait_for_sigint_handler(child.id());
    send_sigint(child.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("one SIGINT did not end replay-diff while stdin was silent");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let records = jsonl(&out.stdout);
    let s = summary(&records);
    assert_eq!(
        (&s["interrupted"], &s["verdict"], &s["inputs"][0]),
        (&json!(true), &json!("fail"), &json!({"path": "<stdin>"}))
    );
}

#[test]
fn run_mode_kills_the_command_on_sigint_to_replay_diff_alone() {
    // Regression: a SIGINT/SIGTERM sent to replay-diff only (a CI runner
    // cancelling a job) waited for the command without end.
    let mut child = Command::new(bin())
        .args(["run", "--times", "3", "--", "sleep", "30"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let children = format!("/proc/{pid}/task/{pid}/children");
    while fs::read_to_string(&children).unwrap().trim().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the command never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    wait_for_sigint_handler(pid);
    send_sigint(pid);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("replay-diff waited for the command after SIGINT");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let records = jsonl(&out.stdout);
    let runs = of_kind(&records, "run");
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (&runs[0]["signal"], &runs[0]["records"]),
        (&json!(9), &json!(0))
    );
    let s = summary(&records);
    assert_eq!(
        (&s["interrupted"], &s["figures"]["runs"]),
        (&json!(true), &json!(1))
    );
}

/// Awaits the moment the tool catches SIGINT, so the test never races start-up.
fn wait_for_sigint_handler(pid: u32) {
    common::testkit::wait_for_signal_handler(pid, 2);
}

/// SIGINT, as Ctrl-C at a shell sends it.
fn send_sigint(pid: u32) {
    common::testkit::send_signal(pid, 2);
}

#[test]
fn run_mode_accepts_a_deterministic_command() {
    let (code, records, stderr) = run(&[
        "run",
        "--times",
        "3",
        "--",
        "sh",
        "-c",
        "printf '{\"n\":1}\\n{\"n\":2}\\n'",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let runs = of_kind(&records, "run");
    assert_eq!(runs.len(), 3);
    assert!(runs
        .iter()
        .all(|r| r["exit_code"] == 0 && r["records"] == 2));
    assert_eq!(runs[0]["sha256"], runs[2]["sha256"]);
    let f = &summary(&records)["figures"];
    assert_eq!(
        (
            f["runs"].clone(),
            f["compared"].clone(),
            f["identical"].clone()
        ),
        (json!(3), json!(4), json!(4))
    );
}

#[test]
fn run_mode_catches_a_non_deterministic_command() {
    let (code, records, _) = run(&[
        "run",
        "--",
        "sh",
        "-c",
        "echo '{\"id\":\"fixed\",\"nonce\":\"'$(cat /proc/sys/kernel/random/uuid)'\"}'",
    ]);
    assert_eq!(code, 1);
    let d = of_kind(&records, "divergence");
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0]["run"].clone(), d[0]["path"].clone()),
        (json!(2), json!("/nonce"))
    );
    // The same command passes once the nonce is masked.
    let (code, _, _) = run(&[
        "run",
        "--mask",
        "uuid",
        "--",
        "sh",
        "-c",
        "echo '{\"id\":\"fixed\",\"nonce\":\"'$(cat /proc/sys/kernel/random/uuid)'\"}'",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn run_mode_keeps_no_file_open_per_run() {
    // Regression: every run's stdout file stayed open until the end, so with
    // the usual limit of 1024 descriptors `--times 1100` failed ("Too many
    // open files", blamed on the command). Here: 40 runs under a limit of 24.
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 24 && exec \"$0\" run --times 40 -- echo '{\"a\":1}'")
        .arg(bin())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let records = jsonl(&out.stdout);
    assert_eq!(of_kind(&records, "run").len(), 40);
    let f = &summary(&records)["figures"];
    assert_eq!(
        (&f["runs"], &f["compared"], &f["identical"]),
        (&json!(40), &json!(39), &json!(39))
    );
}

#[test]
fn run_mode_counts_differing_exit_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("n");
    let script = format!(
        "n=$(cat {0} 2>/dev/null || echo 0); echo $((n+1)) > {0}; echo '{{}}'; exit $n",
        counter.display()
    );
    let (code, records, _) = run(&["run", "--", "sh", "-c", &script]);
    assert_eq!(code, 1);
    let s = summary(&records);
    assert_eq!(s["figures"]["exit_mismatches"], 1);
    assert_eq!(s["figures"]["identical"], 1);
    let exit_codes: Vec<&Value> = of_kind(&records, "run")
        .iter()
        .map(|r| &r["exit_code"])
        .collect();
    assert_eq!(exit_codes, [&json!(0), &json!(1)]);
    assert_eq!(
        gate(summary(&records), "divergences"),
        &json!({"name":"divergences","op":"<=","limit":0.0,"value":0.0,"pass":true})
    );
    assert_eq!(
        gate(summary(&records), "exit_mismatches"),
        &json!({"name":"exit_mismatches","op":"<=","limit":0.0,"value":1.0,"pass":false})
    );

    // Regression: a determinism gate alone used to pass runs that exited differently.
    fs::remove_file(&counter).unwrap();
    let (code, records, _) = run(&[
        "run",
        "--min-determinism",
        "100%",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    assert_eq!(code, 1);
    assert_eq!(gate(summary(&records), "determinism")["pass"], true);
    assert_eq!(gate(summary(&records), "exit_mismatches")["pass"], false);
    assert_eq!(summary(&records)["verdict"], "fail");
    let (code, _, stderr) = run(&["run", "--", "/nonexistent/cmd"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("run 1: /nonexistent/cmd: No such file or directory"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_are_reported_like_every_other_error() {
    let (code, records, stderr) = run(&["--bogus", "a", "b"]);
    assert_eq!((code, records.len()), (2, 0));
    assert!(
        stderr.starts_with("replay-diff: error: unexpected argument '--bogus' found"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["a"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("replay-diff: error: the following required arguments"),
        "{stderr}"
    );
    let out = Command::new(bin()).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Examples:"));
}
