//! Trial finding 8: gates passed on empty evidence. Two empty files had
//! determinism 1 and passed, and `run` passed a command that failed every
//! run with no output. A comparison over nothing proves nothing: the
//! `records` gate (golden records >= --min-records, default 1) and, in run
//! mode, the `run_failures` gate (runs that exited non-zero or were killed,
//! 0 by default; --allow-exit names codes that are a normal outcome).

use common::testkit::{gate, of_kind, summary};
use serde_json::{json, Value};

use crate::util::{run, write};

fn events(n: usize) -> String {
    (0..n).map(|i| format!("{{\"event\":{i}}}\n")).collect()
}

fn gate_json(name: &str, op: &str, limit: f64, value: f64, pass: bool) -> Value {
    json!({"name": name, "op": op, "limit": limit, "value": value, "pass": pass})
}

#[test]
fn two_empty_files_no_longer_pass() {
    let dir = tempfile::tempdir().unwrap();
    // Each compared with a copy (a file against itself is refused).
    let empty = write(dir.path(), "empty.jsonl", "");
    let empty2 = write(dir.path(), "empty2.jsonl", "");
    let blank = write(dir.path(), "blank.jsonl", "\n\r\n  \n");
    let blank2 = write(dir.path(), "blank2.jsonl", "\n\r\n  \n");
    for (g, r) in [(&empty, &empty2), (&empty, &blank), (&blank, &blank2)] {
        let (code, records, stderr) = run(&[g, r]);
        assert_eq!(code, 1, "{g} vs {r}: {stderr}");
        let s = summary(&records);
        assert_eq!(s["verdict"], "fail");
        assert_eq!(
            gate(s, "records"),
            &gate_json("records", ">=", 1.0, 0.0, false)
        );
        // The other figures are unchanged: nothing diverged.
        assert_eq!(gate(s, "divergences")["pass"], true);
        assert_eq!(s["figures"]["records_golden"], 0);
        assert_eq!(s["figures"]["determinism"], 1.0);
    }
    // Whatever other gate is asked for.
    let (code, records, _) = run(&[&empty, &empty2, "--min-determinism", "98%"]);
    assert_eq!(code, 1);
    assert_eq!(gate(summary(&records), "records")["pass"], false);
    let (code, records, _) = run(&[&empty, &empty2, "--max-divergences", "5"]);
    assert_eq!(code, 1);
    assert_eq!(gate(summary(&records), "records")["pass"], false);
}

#[test]
fn an_empty_golden_fails_even_when_the_replay_has_records() {
    // The replay's records are `extra`, but --max-divergences 5 would
    // allow them: the records gate still says the golden proves nothing.
    let dir = tempfile::tempdir().unwrap();
    let g = write(dir.path(), "g.jsonl", "");
    let r = write(dir.path(), "r.jsonl", events(3));
    let (code, records, _) = run(&[&g, &r, "--max-divergences", "5"]);
    assert_eq!(code, 1);
    let s = summary(&records);
    assert_eq!(gate(s, "divergences")["pass"], true);
    assert_eq!(
        gate(s, "records"),
        &gate_json("records", ">=", 1.0, 0.0, false)
    );
}

#[test]
fn invalid_lines_are_not_records() {
    // Under --skip-invalid, a golden of garbage has no records: the invalid
    // gate allowed them (--max-invalid 10), the records gate does not.
    let dir = tempfile::tempdir().unwrap();
    let g = write(dir.path(), "g.jsonl", "garbage\nmore garbage\n");
    let r = write(dir.path(), "r.jsonl", "");
    let (code, records, _) = run(&[&g, &r, "--skip-invalid", "--max-invalid", "10"]);
    assert_eq!(code, 1);
    let s = summary(&records);
    assert_eq!(gate(s, "invalid")["pass"], true);
    assert_eq!(
        gate(s, "records"),
        &gate_json("records", ">=", 1.0, 0.0, false)
    );
}

#[test]
fn min_records_expresses_a_50_event_replay() {
    // GATES.md: "0 divergences across a 50-event replay".
    let dir = tempfile::tempdir().unwrap();
    let short = write(dir.path(), "49.jsonl", events(49));
    let short2 = write(dir.path(), "49b.jsonl", events(49));
    let full = write(dir.path(), "50.jsonl", events(50));
    let full2 = write(dir.path(), "50b.jsonl", events(50));
    let gate_args = ["--max-divergences", "0", "--min-records", "50"];

    let (code, records, _) = run(&[&[short.as_str(), short2.as_str()][..], &gate_args].concat());
    assert_eq!(code, 1);
    let s = summary(&records);
    assert_eq!(gate(s, "divergences")["pass"], true);
    assert_eq!(
        gate(s, "records"),
        &gate_json("records", ">=", 50.0, 49.0, false)
    );

    let (code, records, _) = run(&[&[full.as_str(), full2.as_str()][..], &gate_args].concat());
    assert_eq!(code, 0);
    assert_eq!(
        gate(summary(&records), "records"),
        &gate_json("records", ">=", 50.0, 50.0, true)
    );
}

#[test]
fn min_records_zero_is_the_explicit_way_to_accept_empty_streams() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.jsonl", "");
    let empty2 = write(dir.path(), "empty2.jsonl", "");
    let (code, records, _) = run(&[&empty, &empty2, "--min-records", "0"]);
    assert_eq!(code, 0);
    assert_eq!(
        gate(summary(&records), "records"),
        &gate_json("records", ">=", 0.0, 0.0, true)
    );
}

#[test]
fn run_mode_no_longer_passes_a_command_that_fails_every_run() {
    // The trial's reproducer: every run exits 3 with nothing on stdout.
    let (code, records, stderr) = run(&[
        "run",
        "--times",
        "3",
        "--",
        "sh",
        "-c",
        "echo boom >&2; exit 3",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.matches("boom").count(), 3, "{stderr}");
    let s = summary(&records);
    assert_eq!(s["verdict"], "fail");
    assert_eq!(
        gate(s, "run_failures"),
        &gate_json("run_failures", "<=", 0.0, 3.0, false)
    );
    assert_eq!(
        gate(s, "records"),
        &gate_json("records", ">=", 1.0, 0.0, false)
    );
    assert_eq!(
        gate(s, "exit_mismatches"),
        &gate_json("exit_mismatches", "<=", 0.0, 0.0, true)
    );
    assert_eq!(s["figures"]["run_failures"], 3);
    let codes: Vec<&Value> = of_kind(&records, "run")
        .iter()
        .map(|r| &r["exit_code"])
        .collect();
    assert_eq!(codes, [&json!(3), &json!(3), &json!(3)]);
}

#[test]
fn run_mode_fails_a_command_that_prints_records_then_fails() {
    // Identical output, identical status, but the status says it failed.
    let (code, records, _) = run(&[
        "run",
        "--",
        "sh",
        "-c",
        "echo '{\"tests\":12,\"passed\":12}'; exit 1",
    ]);
    assert_eq!(code, 1);
    let s = summary(&records);
    assert_eq!(
        gate(s, "run_failures"),
        &gate_json("run_failures", "<=", 0.0, 2.0, false)
    );
    assert_eq!(gate(s, "records")["pass"], true);
    assert_eq!(gate(s, "divergences")["pass"], true);
}

#[test]
fn run_mode_counts_a_killed_run_as_a_failure() {
    let (code, records, _) = run(&[
        "run",
        "--times",
        "2",
        "--allow-exit",
        "137",
        "--",
        "sh",
        "-c",
        "echo '{\"a\":1}'; kill -KILL $$",
    ]);
    assert_eq!(code, 1);
    let runs = of_kind(&records, "run");
    assert!(
        runs.iter()
            .all(|r| r["signal"] == 9 && r["exit_code"].is_null()),
        "{runs:?}"
    );
    // --allow-exit names exit codes; a signal is never a normal outcome.
    assert_eq!(
        gate(summary(&records), "run_failures"),
        &gate_json("run_failures", "<=", 0.0, 2.0, false)
    );
}

#[test]
fn allow_exit_accepts_a_status_that_is_a_normal_outcome() {
    // A test runner that exits 1 when a test fails, run to check that its
    // outcomes are the same every time.
    let script = "echo '{\"test\":\"a\",\"ok\":false}'; exit 1";
    let (code, records, stderr) = run(&[
        "run",
        "--times",
        "3",
        "--allow-exit",
        "1",
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        gate(summary(&records), "run_failures"),
        &gate_json("run_failures", "<=", 0.0, 0.0, true)
    );
    // Only the codes named: exit 2 is still a failure.
    let (code, records, _) = run(&[
        "run",
        "--allow-exit",
        "1",
        "--",
        "sh",
        "-c",
        "echo '{}'; exit 2",
    ]);
    assert_eq!(code, 1);
    assert_eq!(gate(summary(&records), "run_failures")["value"], 2.0);
}

#[test]
fn run_mode_records_gate_counts_the_first_runs_records_once() {
    // Three runs of 2 records: the golden is the first run's 2 records, not
    // 2 per comparison.
    let (code, records, _) = run(&[
        "run",
        "--times",
        "3",
        "--min-records",
        "3",
        "--",
        "sh",
        "-c",
        "printf '{\"n\":1}\\n{\"n\":2}\\n'",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        gate(summary(&records), "records"),
        &gate_json("records", ">=", 3.0, 2.0, false)
    );
}

#[test]
fn bad_gate_flags_are_usage_errors() {
    let (code, _, stderr) = run(&["a", "b", "--min-records", "-1"]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("replay-diff: error:"), "{stderr}");
    let (code, _, stderr) = run(&["run", "--allow-exit", "x", "--", "true"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--allow-exit"), "{stderr}");
    let (code, _, stderr) = run(&["run", "--allow-exit", "0", "--", "true"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--allow-exit"), "{stderr}");
}
