//! Regression tests for gates that passed when they should have failed, and
//! for input that crashed or stopped the tool (issues 13 and 14). Each runs
//! the real binary on real files and asserts exact records and figures.

use std::fs;
use std::path::Path;
use std::process::Command;

use common::testkit::{gate, jsonl, of_kind, summary};
use serde_json::{json, Value};

use crate::util::{bin, run, run_raw, write};

fn records(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{{\"id\":{i},\"v\":\"value {i}\"}}"))
        .collect()
}

fn lines(records: &[String]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

fn figures(records: &[Value]) -> &Value {
    &summary(records)["figures"]
}

#[test]
fn skip_invalid_no_longer_passes_a_replay_with_invalid_lines() {
    // Issue 13: garbage lines in the replay were skipped and the rest
    // matched, so determinism said 100% and the verdict pass.
    let dir = tempfile::tempdir().unwrap();
    let golden = records(10);
    let mut replay = golden.clone();
    replay.insert(3, "{\"id\": 3, garbage".to_string());
    replay.insert(8, "\u{1}\u{2} not json".to_string());
    let g = write(dir.path(), "g.jsonl", lines(&golden));
    let r = write(dir.path(), "r.jsonl", lines(&replay));
    let (code, out, _) = run(&[&g, &r, "--skip-invalid"]);
    assert_eq!(code, 1);
    let s = summary(&out);
    assert_eq!(s["verdict"], "fail");
    assert_eq!(
        gate(s, "invalid"),
        &json!({"name":"invalid","op":"<=","limit":0.0,"value":2.0,"pass":false})
    );
    assert_eq!(gate(s, "divergences")["pass"], true);
    let f = figures(&out);
    assert_eq!(
        (&f["invalid"], &f["compared"], &f["identical"]),
        (&json!(2), &json!(10), &json!(10))
    );
    assert_eq!(
        f["determinism"],
        10.0 / 12.0,
        "each skipped line counts against it"
    );
    assert_eq!(
        of_kind(&out, "invalid")
            .iter()
            .map(|r| &r["line"])
            .collect::<Vec<_>>(),
        [&json!(4), &json!(9)]
    );

    // A budget for invalid lines is explicit, and still counts them.
    let (code, out, _) = run(&[
        &g,
        &r,
        "--skip-invalid",
        "--max-invalid",
        "2",
        "--min-determinism",
        "80%",
    ]);
    assert_eq!(code, 0);
    assert_eq!(gate(summary(&out), "invalid")["pass"], true);
    let (code, _, stderr) = run(&[&g, &r, "--max-invalid", "2"]);
    assert_eq!(
        code, 2,
        "--max-invalid without --skip-invalid is a usage error"
    );
    assert!(stderr.contains("--skip-invalid"), "{stderr}");
}

#[test]
fn skip_invalid_on_two_files_of_random_bytes_fails_with_determinism_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    };
    let (a, b) = (noise(20_000), noise(20_000));
    let bad_lines = |bytes: &[u8]| -> u64 {
        bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .filter(|l| serde_json::from_slice::<Value>(l).is_err())
            .count() as u64
    };
    let expected_invalid = bad_lines(&a) + bad_lines(&b);
    let g = write(dir.path(), "g.bin", &a);
    let r = write(dir.path(), "r.bin", &b);
    let (code, out, _) = run(&[&g, &r, "--skip-invalid"]);
    assert_eq!(code, 1);
    let f = figures(&out);
    assert_eq!(f["invalid"], expected_invalid);
    assert_eq!(f["records_golden"], 0);
    assert_eq!(f["determinism"], 0.0);
    assert_eq!(summary(&out)["verdict"], "fail");
}

#[test]
fn keyed_record_without_its_key_is_paired_by_position_among_keyless_records() {
    // Issue 13: a record without the key stopped the run (exit 2) or, with
    // --skip-invalid, vanished from every figure and the gate passed.
    let dir = tempfile::tempdir().unwrap();
    let g = write(
        dir.path(),
        "g.jsonl",
        "{\"header\":\"v1\"}\n{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n",
    );
    let r = write(
        dir.path(),
        "r.jsonl",
        "{\"id\":2,\"v\":\"b\"}\n{\"header\":\"v1\"}\n{\"id\":1,\"v\":\"a\"}\n{\"note\":\"no key\"}\n",
    );
    for extra_flag in [None, Some("--skip-invalid")] {
        let mut args = vec![g.as_str(), r.as_str(), "--key", "/id"];
        args.extend(extra_flag);
        let (code, out, stderr) = run(&args);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(
            of_kind(&out, "extra"),
            vec![&json!({"kind":"extra","replay_line":4,"replay":{"note":"no key"}})]
        );
        let f = figures(&out);
        assert_eq!(
            (&f["keyless"], &f["compared"], &f["identical"], &f["extra"]),
            (&json!(3), &json!(3), &json!(3), &json!(1))
        );
        assert_eq!(f["determinism"], 0.75);
        assert_eq!(gate(summary(&out), "divergences")["value"], 1.0);
    }
    // Keyless records that differ are one divergence, reported without a key.
    let r2 = write(
        dir.path(),
        "r2.jsonl",
        "{\"header\":\"v2\"}\n{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n",
    );
    let (code, out, _) = run(&[&g, &r2, "--key", "/id"]);
    assert_eq!(code, 1);
    assert_eq!(
        of_kind(&out, "divergence"),
        vec![
            &json!({"kind":"divergence","golden_line":1,"replay_line":1,"path":"/header",
                     "change":"changed","golden":"v1","replay":"v2"})
        ]
    );
}

#[test]
fn numbers_are_compared_exactly_as_written_not_through_f64() {
    // Issue 13: f64 rounding called these "identical".
    let dir = tempfile::tempdir().unwrap();
    let g = write(
        dir.path(),
        "g.jsonl",
        "{\"big\":123456789012345678901234567890,\"frac\":1.00000000000000001,\"same\":100,\"huge\":1e999}\n",
    );
    let r = write(
        dir.path(),
        "r.jsonl",
        "{\"big\":123456789012345678901234567891,\"frac\":1.00000000000000002,\"same\":1e2,\"huge\":1E+999}\n",
    );
    for key in [None, Some("/same")] {
        let mut args = vec![g.as_str(), r.as_str()];
        if let Some(k) = key {
            args.extend(["--key", k]);
        }
        let (code, stdout, stderr) = run_raw(&args);
        assert_eq!(code, 1, "{stderr}");
        let key_field = if key.is_some() { "\"key\":100," } else { "" };
        let divergences: Vec<&str> = stdout
            .lines()
            .filter(|l| l.contains("\"kind\":\"divergence\""))
            .collect();
        assert_eq!(
            divergences,
            [
                format!("{{\"kind\":\"divergence\",\"golden_line\":1,\"replay_line\":1,{key_field}\"path\":\"/big\",\"change\":\"changed\",\"golden\":123456789012345678901234567890,\"replay\":123456789012345678901234567891}}"),
                format!("{{\"kind\":\"divergence\",\"golden_line\":1,\"replay_line\":1,{key_field}\"path\":\"/frac\",\"change\":\"changed\",\"golden\":1.00000000000000001,\"replay\":1.00000000000000002}}"),
            ],
            "100 = 1e2 and 1e999 = 1E+999: the same decimal value in other notation"
        );
    }
    // --float-tolerance is the one way to loosen it.
    let (code, _, _) = run(&[&g, &r, "--float-tolerance", "1e-9", "--ignore", "/big"]);
    assert_eq!(code, 0);
    // 1e999 is just a number: no error, and different from 2e999.
    let e1 = write(dir.path(), "e1.jsonl", "{\"x\":1e999}\n");
    let e2 = write(dir.path(), "e2.jsonl", "{\"x\":2e999}\n");
    let (code, stdout, stderr) = run_raw(&[&e1, &e2, "--float-tolerance", "1"]);
    assert_eq!((code, stderr.as_str()), (1, ""));
    assert!(stdout.starts_with("{\"kind\":\"divergence\",\"golden_line\":1,\"replay_line\":1,\"path\":\"/x\",\"change\":\"changed\",\"golden\":1e999,\"replay\":2e999}\n"), "{stdout}");
}

#[test]
fn divergences_figure_and_gate_value_are_one_number() {
    // Issue 13: with missing records the figure said 0 and the gate 2.
    let dir = tempfile::tempdir().unwrap();
    let g = write(dir.path(), "g.jsonl", "{\"a\":1,\"b\":1}\n2\n3\n");
    let r = write(dir.path(), "r.jsonl", "{\"a\":2,\"b\":2}\n");
    let (code, out, _) = run(&[&g, &r]);
    assert_eq!(code, 1);
    let s = summary(&out);
    assert_eq!(gate(s, "divergences")["value"], 4.0);
    assert_eq!(
        (
            &s["figures"]["divergences"],
            &s["figures"]["divergent_paths"],
            &s["figures"]["missing"]
        ),
        (&json!(4), &json!(2), &json!(2))
    );
}

#[test]
fn one_inserted_record_is_one_extra_and_the_rest_realigns() {
    // Issue 13: one record inserted at line 100 of 5,000 gave a divergence
    // on every record after it.
    let dir = tempfile::tempdir().unwrap();
    let golden = records(5000);
    let mut replay = golden.clone();
    replay.insert(99, "{\"id\":\"inserted\"}".to_string());
    let g = write(dir.path(), "g.jsonl", lines(&golden));
    let r = write(dir.path(), "r.jsonl", lines(&replay));
    let (code, out, _) = run(&[&g, &r]);
    assert_eq!(code, 1);
    assert_eq!(
        out.len(),
        2,
        "one extra and the summary: {:?}",
        &out[..out.len().min(5)]
    );
    assert_eq!(
        of_kind(&out, "extra"),
        vec![&json!({"kind":"extra","replay_line":100,"replay":{"id":"inserted"}})]
    );
    let f = figures(&out);
    assert_eq!(
        (&f["compared"], &f["identical"], &f["divergences"]),
        (&json!(5000), &json!(5000), &json!(1))
    );

    // The same deleted: one missing.
    let (code, out, _) = run(&[&r, &g]);
    assert_eq!(code, 1);
    assert_eq!(
        of_kind(&out, "missing"),
        vec![&json!({"kind":"missing","golden_line":100,"golden":{"id":"inserted"}})]
    );
    assert_eq!(figures(&out)["identical"], 5000);

    // Deletion, a change in place right after, and a block of 3 inserted
    // later: each reported once, with the lines of both sides.
    let mut mixed = golden.clone();
    mixed.remove(1000);
    mixed[1000] = "{\"id\":1001,\"v\":\"changed\"}".to_string();
    for k in 0..3 {
        mixed.insert(3000, format!("{{\"new\":{k}}}"));
    }
    let m = write(dir.path(), "m.jsonl", lines(&mixed));
    let (code, out, _) = run(&[&g, &m]);
    assert_eq!(code, 1);
    let kinds: Vec<(&Value, &Value, &Value)> = out[..out.len() - 1]
        .iter()
        .map(|r| (&r["kind"], &r["golden_line"], &r["replay_line"]))
        .collect();
    assert_eq!(
        kinds,
        [
            (&json!("missing"), &json!(1001), &Value::Null),
            (&json!("divergence"), &json!(1002), &json!(1001)),
            (&json!("extra"), &Value::Null, &json!(3001)),
            (&json!("extra"), &Value::Null, &json!(3002)),
            (&json!("extra"), &Value::Null, &json!(3003)),
        ]
    );
    let f = figures(&out);
    assert_eq!(
        (&f["compared"], &f["identical"], &f["missing"], &f["extra"]),
        (&json!(4999), &json!(4998), &json!(1), &json!(3))
    );
}

#[test]
fn nesting_100000_deep_is_an_invalid_line_not_a_stack_overflow() {
    // Issue 14: 100,000 nested '[' aborted the process (exit 134).
    let dir = tempfile::tempdir().unwrap();
    let n = 100_000;
    let deep = |inner: &str| {
        format!(
            "{{\"id\":1,\"v\":{}{inner}{}}}\n",
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    let g = write(dir.path(), "g.jsonl", deep(""));
    let r = write(dir.path(), "r.jsonl", deep("1"));
    for key in [None, Some("/id")] {
        let mut args = vec![g.as_str(), r.as_str()];
        if let Some(k) = key {
            args.extend(["--key", k]);
        }
        let (code, _, stderr) = run_raw(&args);
        assert_eq!(code, 2, "{stderr}");
        assert_eq!(
            stderr.lines().next().unwrap(),
            format!("replay-diff: error: {g}:1:140: invalid JSON: nested deeper than 128 levels"),
        );
        args.push("--skip-invalid");
        let (code, out, stderr) = run(&args);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(figures(&out)["invalid"], 2);
    }
    // Unbalanced too.
    let open = write(dir.path(), "open.jsonl", "[".repeat(n) + "\n");
    let (code, _, stderr) = run_raw(&[&open, &r]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(&format!("replay-diff: error: {open}:1:")),
        "{stderr}"
    );
}

#[test]
fn lone_surrogate_is_an_invalid_line_named_by_file_and_line() {
    // serde_json's raw validation lets "\ud800" through; the full comparison
    // then failed with "re-reading a record", naming no file or line.
    let dir = tempfile::tempdir().unwrap();
    let g = write(dir.path(), "g.jsonl", "{\"a\":1}\n{\"s\":\"\\ud800\"}\n");
    let r = write(dir.path(), "r.jsonl", "{\"a\":1}\n{\"s\":\"x\"}\n");
    let (code, _, stderr) = run_raw(&[&g, &r]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.lines().next().unwrap(),
        format!("replay-diff: error: {g}:2:6: invalid JSON: lone surrogate in a \\u escape")
    );
}

/// Runs replay-diff with stdout to a file and returns (exit code, stdout
/// records, the largest VmHWM seen in /proc while it ran, in KiB). VmHWM
/// only grows, and is read until the process ends, so it is a close lower
/// bound of the peak (a lower bound is what a "stays under" check needs
/// only if growth shows before the end, which it does for memory that
/// grows with the input).
fn run_measuring_rss(args: &[&str], dir: &Path) -> (i32, Vec<Value>, u64) {
    let out_path = dir.join("stdout.jsonl");
    let mut child = Command::new(bin())
        .args(args)
        .stdout(fs::File::create(&out_path).unwrap())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Ok(text) = fs::read_to_string(&status_path) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            peak = peak.max(hwm.unwrap_or(0));
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let records = jsonl(&fs::read(&out_path).unwrap());
    (status.code().unwrap_or(-1), records, peak)
}

#[test]
fn keyed_streams_in_the_same_order_hold_almost_nothing() {
    // Issue 14: --key kept every key seen (to report duplicates) and held
    // whole parsed records: 1.9 GB RSS on two 1 GB files. Now only records
    // waiting for a partner are held. 400,000 records a side here: the old
    // code peaked at 110 MB, this one at 22 MB.
    let dir = tempfile::tempdir().unwrap();
    let n = 400_000;
    let text: String = (0..n)
        .map(|i| {
            format!(
                "{{\"id\":\"evt-{i:08}\",\"n\":{i},\"pad\":\"{}\"}}\n",
                "x".repeat(64)
            )
        })
        .collect();
    let g = write(dir.path(), "g.jsonl", &text);
    let r = write(dir.path(), "r.jsonl", &text);
    let (code, out, peak_kb) = run_measuring_rss(&[&g, &r, "--key", "/id"], dir.path());
    assert_eq!(code, 0);
    assert_eq!(figures(&out)["identical"], n);
    assert!(peak_kb > 0, "VmHWM was never read");
    assert!(
        peak_kb < 64 * 1024,
        "peak RSS {peak_kb} KiB for two {} MB files",
        text.len() / 1_000_000
    );
}

#[test]
fn insertion_realigns_even_when_every_fourth_record_differs() {
    // Found on a real nginx JSON access log: a request logged twice in the
    // replay, where every fourth request also changed (404 then, 200 now).
    // Realignment wanted 4 matching records in a row, never found them, and
    // every record after the duplicate diverged (186 divergent records).
    let dir = tempfile::tempdir().unwrap();
    let request = |i: usize, now: bool| {
        let status = if i % 4 == 3 && !now { 404 } else { 200 };
        format!(
            "{{\"id\":{i},\"path\":\"/p{}.html\",\"status\":{status}}}",
            i % 4
        )
    };
    let golden: Vec<String> = (0..300).map(|i| request(i, false)).collect();
    let mut replay: Vec<String> = (0..300).map(|i| request(i, true)).collect();
    replay.insert(151, request(150, true));
    let g = write(dir.path(), "g.jsonl", lines(&golden));
    let r = write(dir.path(), "r.jsonl", lines(&replay));
    let (code, out, _) = run(&[&g, &r]);
    assert_eq!(code, 1);
    // Lines 151 and 152 are the same request: the first is called extra.
    assert_eq!(
        of_kind(&out, "extra"),
        vec![
            &json!({"kind":"extra","replay_line":151,"replay":{"id":150,"path":"/p2.html","status":200}})
        ]
    );
    let f = figures(&out);
    assert_eq!(
        (&f["compared"], &f["divergent"], &f["extra"], &f["missing"]),
        (&json!(300), &json!(75), &json!(1), &json!(0)),
        "only the 75 changed statuses diverge"
    );
    assert_eq!(
        of_kind(&out, "divergence")
            .iter()
            .filter(|d| d["path"] != "/status")
            .count(),
        0
    );
}

#[test]
fn text_format_shows_escape_sequences_and_bidi_marks_in_inputs_escaped() {
    // Issue 16: --format text printed member names (in the path), values
    // and file names as they were: a key holding ESC ] 0 ; ... BEL retitled
    // the terminal, U+202E reversed what the reader saw, and DEL and C1
    // controls, which JSON does not escape, reached the terminal raw.
    let dir = tempfile::tempdir().unwrap();
    let g = write(
        dir.path(),
        "g\u{1b}[2J.jsonl",
        "{\"a\\u001b]0;pwned\\u0007\":1,\"b\":\"x\u{202e}y\u{7f}\u{9b}\"}\n{bad\n",
    );
    let r = write(
        dir.path(),
        "r.jsonl",
        "{\"a\\u001b]0;pwned\\u0007\":2,\"b\":\"x\u{202e}z\u{7f}\u{9b}\"}\n{\"k\":\"\u{202e}\"}\n",
    );
    let (code, text, _) = run_raw(&[&g, &r, "--skip-invalid", "--format", "text"]);
    assert_eq!(code, 1);
    for c in ['\u{1b}', '\u{7}', '\u{202e}', '\u{7f}', '\u{9b}'] {
        assert!(!text.contains(c), "{c:?} reached the terminal: {text:?}");
    }
    let dir = dir.path().to_str().unwrap();
    assert_eq!(
        text.lines().take(5).collect::<Vec<_>>(),
        [
            format!("invalid {dir}/g\\u{{1b}}[2J.jsonl:2:2: invalid JSON: key must be a string"),
            "@@ golden:1 replay:1".to_string(),
            "  /a\\u{1b}]0;pwned\\u{7}  changed  - 1  + 2".to_string(),
            "  /b  changed  - \"x\\u{202e}y\\u{7f}\\u{9b}\"  + \"x\\u{202e}z\\u{7f}\\u{9b}\""
                .to_string(),
            "extra replay:2  + {\"k\":\"\\u{202e}\"}".to_string(),
        ],
        "{text}"
    );
}
