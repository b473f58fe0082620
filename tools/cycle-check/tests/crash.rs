//! The crash drill (--workload) and the state audit (--audit) against the
//! real demo service: a SIGKILL while turns are in flight, a restart, and
//! the service's own audit of its SQLite file. Each fault must fail its gate
//! (exit 1) naming the violation; the correct service must pass.

use crate::util::{self, Run};

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::testkit::{free_port, gate, of_kind, summary, workspace_root};
use serde_json::{json, Value};

fn demo() -> &'static Path {
    common::demo::binary()
}

fn cycle_check(args: &[String]) -> Run {
    util::cycle_check_within(args, Duration::from_secs(120))
}

/// The workload: `sessions` sessions, each with `quick` chats and then one
/// more that takes the service's whole --turn-time (bash and the repo's
/// scripts/lib/demo.sh only: /dev/tcp, no curl). Then it waits, so it is
/// still running at the kill.
fn workload(dir: &Path, port: u16, sessions: u32, quick: u32) -> String {
    let script = dir.join("workload.sh");
    std::fs::write(
        &script,
        format!(
            r#". '{lib}'
for i in $(seq 1 {sessions}); do
  ( s=$(http POST {port} /session/start '{{"user":"drill"}}' | sed -n 's/.*"session_id":"\([^"]*\)".*/\1/p')
    for q in $(seq 1 {quick}); do http POST {port} /v1/chat "{{\"session_id\":\"$s\",\"message\":\"q$q\"}}" >/dev/null; done
    http POST {port} /v1/chat "{{\"session_id\":\"$s\",\"message\":\"mid-turn\"}}" >/dev/null ) &
done
wait
sleep 300
"#,
            lib = workspace_root().join("scripts/lib/demo.sh").display(),
        ),
    )
    .unwrap();
    format!("exec bash '{}'", script.display())
}

struct Drill {
    dir: tempfile::TempDir,
    port: u16,
}

impl Drill {
    fn new() -> Drill {
        Drill {
            dir: tempfile::tempdir().unwrap(),
            port: free_port(),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("demo.db")
    }

    /// The service's own audit of its database.
    fn audit(&self) -> String {
        format!(
            "'{}' --audit --db '{}'",
            demo().display(),
            self.db().display()
        )
    }

    /// cycle-check over the demo service (with `faults`), `flags` first.
    fn run(&self, flags: &[String], faults: &[&str]) -> Run {
        let mut args: Vec<String> = vec![
            "--ready".into(),
            format!("http://127.0.0.1:{}/v1/health", self.port),
            "--service-log".into(),
            self.dir.path().join("svc.log").display().to_string(),
        ];
        args.extend_from_slice(flags);
        args.push("--".into());
        args.push(demo().display().to_string());
        args.extend(
            [
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--db",
                self.db().to_str().unwrap(),
            ]
            .map(String::from),
        );
        args.extend(faults.iter().map(|f| f.to_string()));
        cycle_check(&args)
    }

    /// The crash drill flags: `sessions` turns in flight at the kill.
    fn drill_flags(&self, cycles: u32, sessions: u32, quick: u32) -> Vec<String> {
        vec![
            "--cycles".into(),
            cycles.to_string(),
            "--workload".into(),
            workload(self.dir.path(), self.port, sessions, quick),
            // Long enough for bash to start and send its requests on a
            // loaded machine; the turns then wait out --turn-time 60s.
            "--kill-after".into(),
            "5s".into(),
            "--audit".into(),
            self.audit(),
        ]
    }
}

fn gate_of(s: &Value, name: &str) -> (Value, bool) {
    let g = gate(s, name);
    (g["value"].clone(), g["pass"].as_bool().unwrap())
}

fn processes_mentioning(marker: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                String::from_utf8_lossy(&c)
                    .replace('\0', "\\0")
                    .contains(marker)
            })
        })
        .collect()
}

#[test]
fn a_kill_mid_turn_of_the_correct_service_passes_the_drill() {
    let d = Drill::new();
    let run = d.run(&d.drill_flags(2, 2, 0), &["--turn-time", "60s"]);
    assert_eq!(run.code, 0, "{:?}\n{}", run.records, run.stderr);
    let cycles = of_kind(&run.records, "cycle");
    assert_eq!(cycles.len(), 2);
    for c in &cycles {
        assert_eq!(c["ok"], true, "{c}");
        assert_eq!(c["recovered"], true);
        assert!(c["recovery_ms"].as_f64().unwrap() > 0.0);
        assert!(c["workload_ms"].as_f64().unwrap() >= 5000.0, "{c}");
        // The workload was still running: it ended by our SIGTERM.
        assert_eq!(c["workload_signal"], "SIGTERM", "{c}");
        assert_ne!(c["killed_pid"], c["pid"]);
        assert_eq!(
            (&c["audit_exit_code"], &c["audit_findings"], &c["findings"]),
            (&json!(0), &json!(0), &json!([]))
        );
    }
    let s = summary(&run.records);
    assert_eq!(s["figures"]["crashes"], 2);
    assert_eq!(s["figures"]["audit_findings"], 0);
    assert_eq!(gate_of(s, "audit_findings"), (json!(0.0), true));
    assert!(gate_of(s, "recovery_ms_max").1);
    assert_eq!(gate(s, "recovery_ms_max")["limit"], 120000.0);
    // The turns were in flight and died with the service: nothing stored.
    let db = rusqlite::Connection::open(d.db()).unwrap();
    let (sessions, messages): (i64, i64) = db
        .query_row(
            "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((sessions, messages), (4, 0));
}

#[test]
fn a_kill_mid_turn_without_transactions_fails_the_audit_gate_naming_each_session() {
    let d = Drill::new();
    let run = d.run(
        &d.drill_flags(1, 2, 0),
        &["--turn-time", "60s", "--no-transactions"],
    );
    assert_eq!(run.code, 1, "{:?}\n{}", run.records, run.stderr);
    let c = of_kind(&run.records, "cycle")[0];
    assert_eq!(c["causes"], json!(["audit_findings"]));
    assert_eq!(
        (&c["recovered"], &c["audit_exit_code"]),
        (&json!(true), &json!(1))
    );
    assert_eq!(c["audit_findings"], 2);
    let mut named: Vec<(Value, Value)> = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["violation"], "orphaned_session", "{f}");
            (f["session_id"].clone(), f["memory_ids"].clone())
        })
        .collect();
    named.sort_by_key(|n| n.0.to_string());
    assert_eq!(named[0].0, "s-000001");
    assert_eq!(named[1].0, "s-000002");
    let mut memories: Vec<Value> = named
        .iter()
        .flat_map(|n| n.1.as_array().unwrap().clone())
        .collect();
    memories.sort_by_key(Value::to_string);
    assert_eq!(memories, [json!("m-000001"), json!("m-000002")]);
    let s = summary(&run.records);
    assert_eq!(s["verdict"], "fail");
    assert_eq!(gate_of(s, "audit_findings"), (json!(2.0), false));
    assert_eq!(
        s["figures"]["audit_violations"],
        json!({"orphaned_session": 2})
    );
    assert_eq!(s["figures"]["failures"], json!({"audit_findings": 1}));
    assert!(gate_of(s, "recovery_ms_max").1, "recovery itself was fine");
}

#[test]
fn findings_that_stay_are_counted_once_over_cycles() {
    let d = Drill::new();
    let run = d.run(
        &d.drill_flags(2, 1, 0),
        &["--turn-time", "60s", "--no-transactions"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let cycles = of_kind(&run.records, "cycle");
    // The second audit sees the first cycle's orphan again, and its own.
    assert_eq!(cycles[0]["audit_findings"], 1);
    assert_eq!(cycles[1]["audit_findings"], 2);
    let s = summary(&run.records);
    assert_eq!(gate_of(s, "audit_findings"), (json!(2.0), false));
}

#[test]
fn a_broken_provenance_chain_is_named_by_record() {
    let d = Drill::new();
    let run = d.run(&d.drill_flags(1, 1, 3), &["--skip-chain-every", "2"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let c = of_kind(&run.records, "cycle")[0];
    // 3 quick chats and the last one, all stored at once (no --turn-time).
    let records: Vec<&Value> = c["findings"].as_array().unwrap().iter().collect();
    assert_eq!(
        records
            .iter()
            .map(|f| (f["violation"].clone(), f["record_id"].clone()))
            .collect::<Vec<_>>(),
        [
            (json!("broken_chain"), json!("p-000002")),
            (json!("broken_chain"), json!("p-000004")),
        ]
    );
    let s = summary(&run.records);
    assert_eq!(s["figures"]["audit_violations"], json!({"broken_chain": 2}));
}

#[test]
fn a_slow_restart_fails_the_recovery_gate() {
    let d = Drill::new();
    let mut flags = d.drill_flags(1, 1, 0);
    flags.extend(["--max-recovery".into(), "1s".into()]);
    let run = d.run(&flags, &["--slow-start", "1500ms"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let c = of_kind(&run.records, "cycle")[0];
    assert_eq!(c["ok"], true, "recovered, just slowly: {c}");
    let recovery = c["recovery_ms"].as_f64().unwrap();
    assert!(recovery >= 1500.0, "{c}");
    let s = summary(&run.records);
    assert_eq!(gate_of(s, "recovery_ms_max"), (json!(recovery), false));
    assert_eq!(gate(s, "recovery_ms_max")["limit"], 1000.0);
    assert!(gate_of(s, "audit_findings").1);
}

#[test]
fn a_service_that_does_not_come_back_is_not_recovered_and_fails_every_drill_gate() {
    // Starts once; the restart finds its marker and exits 3.
    let d = Drill::new();
    let marker = d.dir.path().join("started-once");
    let start = format!(
        "if [ -e '{m}' ]; then exit 3; fi; touch '{m}'; exec '{demo}' --listen 127.0.0.1:{p} --db '{db}'",
        m = marker.display(),
        demo = demo().display(),
        p = d.port,
        db = d.db().display()
    );
    let mut args = vec![
        "--ready".to_string(),
        format!("http://127.0.0.1:{}/v1/health", d.port),
        "--ready-timeout".into(),
        "5s".into(),
        "--start-cmd".into(),
        start,
    ];
    args.extend(d.drill_flags(1, 1, 0));
    let run = cycle_check(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let c = of_kind(&run.records, "cycle")[0];
    assert_eq!(c["recovered"], false);
    assert_eq!(c["recovery_ms"], Value::Null);
    assert!(
        c["recovery_error"]
            .as_str()
            .unwrap()
            .contains("--start-cmd failed: exit status 3"),
        "{c}"
    );
    assert!(
        c["causes"]
            .as_array()
            .unwrap()
            .contains(&json!("not_recovered")),
        "{c}"
    );
    assert_eq!(c["audit_findings"], Value::Null);
    assert_eq!(c["audit_error"], "not run: the service was not ready");
    let s = summary(&run.records);
    // Unknown is not zero: both gates fail with no value.
    assert_eq!(gate_of(s, "recovery_ms_max"), (Value::Null, false));
    assert_eq!(gate_of(s, "audit_findings"), (Value::Null, false));
    assert_eq!(s["figures"]["audit_findings"], Value::Null);
    assert_eq!(s["figures"]["audit_failures"], 1);
}

#[test]
fn a_workload_that_ends_before_the_kill_fails_the_cycle() {
    let d = Drill::new();
    let run = d.run(
        &[
            "--cycles".into(),
            "1".into(),
            "--workload".into(),
            "true".into(),
            "--kill-after".into(),
            "20s".into(),
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let c = of_kind(&run.records, "cycle")[0];
    assert_eq!(c["causes"], json!(["workload_finished"]));
    assert_eq!(c["workload_exit_code"], 0);
    assert!(
        c["workload_ms"].as_f64().unwrap() < 20000.0,
        "killed at once, not after 20 s"
    );
    assert_eq!(c["recovered"], true);
    let s = summary(&run.records);
    assert_eq!(gate_of(s, "failed_cycles"), (json!(1.0), false));
}

#[test]
fn nothing_of_the_workload_or_the_audit_is_left_running() {
    let d = Drill::new();
    // Sleeps with durations no other test uses, to find them in /proc after.
    let (w1, w2, a) = (
        format!("7{}1", d.port),
        format!("7{}2", d.port),
        format!("7{}3", d.port),
    );
    let run = d.run(
        &[
            "--cycles".into(),
            "1".into(),
            "--workload".into(),
            format!("sleep {w1} & sleep {w2}"),
            "--kill-after".into(),
            "200ms".into(),
            "--audit".into(),
            format!("sleep {a} & echo left-a-sleep"),
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let c = of_kind(&run.records, "cycle")[0];
    // The audit's plain line is a finding; neither helper's processes are
    // taken for the service's leftovers.
    assert_eq!(c["causes"], json!(["audit_findings"]), "{c}");
    assert_eq!(c["findings"], json!([{ "text": "left-a-sleep" }]));
    assert_eq!(c["orphans"], json!([]));
    for n in [w1, w2, a] {
        assert!(
            processes_mentioning(&format!("sleep\0{n}")).is_empty(),
            "sleep {n} left running"
        );
    }
}

/// A small shell service for the audit's own forms (no workload needed).
fn audited(audit: &str, extra: &[&str]) -> Run {
    let mut args: Vec<String> = ["--cycles", "1", "--ready", "log:^up$", "--audit", audit]
        .map(String::from)
        .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--", "sh", "-c", "echo up; exec sleep 30"].map(String::from));
    cycle_check(&args)
}

#[test]
fn the_audit_is_judged_by_its_lines_and_its_exit_status() {
    let run = audited(
        "echo '{\"violation\":\"x\",\"id\":1}'; echo; echo '{\"kind\":\"summary\"}'",
        &[],
    );
    assert_eq!(run.code, 1);
    let c = of_kind(&run.records, "cycle")[0];
    assert_eq!(c["findings"], json!([{"violation":"x","id":1}]));
    assert_eq!(c["audit_exit_code"], 0);

    let run = audited("exit 1", &[]);
    assert_eq!(run.code, 1);
    let c = of_kind(&run.records, "cycle")[0];
    assert_eq!(c["audit_findings"], 1);
    assert_eq!(
        c["findings"],
        json!([{"text":"the audit exited 1 without printing a finding"}])
    );

    let run = audited("true", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        gate_of(summary(&run.records), "audit_findings"),
        (json!(0.0), true)
    );
}

#[test]
fn an_audit_that_fails_or_hangs_is_audit_failed_never_zero() {
    for (audit, extra, error) in [
        ("exit 2", vec![], "exit status 2 (0: clean, 1: findings)"),
        (
            "kill -9 $$",
            vec![],
            "killed by SIGKILL (0: clean, 1: findings)",
        ),
        (
            "exec sleep 30",
            vec!["--audit-timeout", "300ms"],
            "timed out after 300ms",
        ),
    ] {
        let run = audited(audit, &extra);
        assert_eq!(run.code, 1, "{audit}: {}", run.stderr);
        let c = of_kind(&run.records, "cycle")[0];
        assert_eq!(c["causes"], json!(["audit_failed"]), "{audit}");
        assert_eq!(
            (&c["audit_findings"], &c["audit_error"]),
            (&Value::Null, &json!(error)),
            "{audit}"
        );
        let s = summary(&run.records);
        assert_eq!(
            gate_of(s, "audit_findings"),
            (Value::Null, false),
            "{audit}"
        );
    }
}

#[test]
fn drill_flags_are_checked_before_anything_runs() {
    for (args, message) in [
        (vec!["--kill-after", "1s"], "--workload"),
        (vec!["--workload", " "], "--workload: the command is empty"),
        (vec!["--audit", ""], "--audit: the command is empty"),
        (
            vec!["--audit", "true", "--audit-timeout", "0s"],
            "--audit-timeout must be above zero",
        ),
    ] {
        let mut all: Vec<String> = ["--ready", "log:^up$"].map(String::from).to_vec();
        all.extend(args.iter().map(|s| s.to_string()));
        all.extend(["--", "true"].map(String::from));
        let run = cycle_check(&all);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(
            run.stderr.starts_with("cycle-check: error: "),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.records.is_empty());
    }
}
