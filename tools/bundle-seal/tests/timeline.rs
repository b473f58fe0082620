//! timeline: records merged in time order with source and line, bad time
//! stamps reported, required sections checked.

use std::fs;

use crate::util::*;
use serde_json::json;

#[test]
fn incident_timeline_in_time_order_with_sources() {
    let w = Work::new();
    w.fixture("incident", "inc");
    let out = w.run(&["timeline", "inc", "--require-sections", "app,proxy"]);
    assert_eq!(code(&out), 1, "one time stamp does not parse");
    let recs = jsonl(&out.stdout);
    let events: Vec<(String, String, u64)> = of_kind(&recs, "event")
        .iter()
        .map(|e| {
            (
                e["at"].as_str().unwrap().into(),
                e["source"].as_str().unwrap().into(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            (
                "2026-11-21T08:00:01.250Z".to_string(),
                "app/app.jsonl".to_string(),
                1
            ),
            ("2026-11-21T08:00:02Z".into(), "proxy/proxy.jsonl".into(), 1),
            ("2026-11-21T08:00:03Z".into(), "app/app.jsonl".into(), 2),
            ("2026-11-21T08:00:05Z".into(), "app/app.jsonl".into(), 3),
        ]
    );
    assert_eq!(of_kind(&recs, "event")[2]["record"]["msg"], "db timeout");
    assert_eq!(
        *of_kind(&recs, "unparseable")[0],
        json!({"kind":"unparseable","source":"proxy/proxy.jsonl","line":2,"field":"time",
               "value":"21/Nov/2026:08:00:04","reason":"not an RFC 3339 time: \"21/Nov/2026:08:00:04\""})
    );
    let s = summary(&recs);
    assert_eq!(s["figures"]["events"], 4);
    assert_eq!(s["figures"]["untimed"], 1);
    assert_eq!(
        s["gates"][0],
        json!({"name":"unparseable_timestamps","op":"<=","limit":0.0,"value":1.0,"pass":false})
    );
    assert_eq!(
        s["gates"][1],
        json!({"name":"missing_sections","op":"<=","limit":0.0,"value":0.0,"pass":true})
    );

    // Fix the stamp: everything passes.
    let p = w.path("inc/proxy/proxy.jsonl");
    fs::write(
        &p,
        fs::read_to_string(&p)
            .unwrap()
            .replace("21/Nov/2026:08:00:04", "2026-11-21T08:00:04Z"),
    )
    .unwrap();
    let recs = w.ok(&["timeline", "inc", "--require-sections", "app,proxy"]);
    assert_eq!(of_kind(&recs, "event")[3]["at"], "2026-11-21T08:00:04Z");
}

#[test]
fn missing_sections_fail() {
    let w = Work::new();
    w.fixture("incident", "inc");
    let out = w.run(&["timeline", "inc", "--require-sections", "app,db,metrics"]);
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    let sections: Vec<(String, String)> = of_kind(&recs, "section")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().into(),
                r["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        sections,
        pairs(&[
            ("app", "present"),
            ("db", "missing"),
            ("metrics", "missing")
        ])
    );
    assert_eq!(summary(&recs)["figures"]["missing_sections"], 2);
}

#[test]
fn malformed_lines_are_strict_unless_skipped_and_reported() {
    let w = Work::new();
    w.fixture("incident", "inc");
    fs::write(
        w.path("inc/app/bad.jsonl"),
        "{\"ts\":\"2026-11-21T08:00:00Z\"}\n{\"ts\":\n",
    )
    .unwrap();
    let out = w.run(&["timeline", "inc"]);
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr_text(&out),
        "bundle-seal: error: inc/app/bad.jsonl:2:6: invalid JSON: EOF while parsing a value\n\
         bundle-seal: hint: fix the line, or pass --skip-invalid to report bad lines and go on\n"
    );
    let out = w.run(&["timeline", "inc", "--skip-invalid", "--time-field", "ts"]);
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    let bad = of_kind(&recs, "invalid")[0];
    assert_eq!(
        (bad["source"].as_str(), bad["line"].as_u64()),
        (Some("app/bad.jsonl"), Some(2))
    );
    assert_eq!(bad["reason"], "invalid JSON: EOF while parsing a value");
    // --time-field ts: the proxy's `time` records are now untimed.
    assert_eq!(summary(&recs)["figures"]["events"], 4);
    assert_eq!(summary(&recs)["figures"]["untimed"], 3);
}

#[test]
fn symlinks_in_an_incident_bundle_are_refused() {
    let w = Work::new();
    w.fixture("incident", "inc");
    std::os::unix::fs::symlink("/etc/hostname", w.path("inc/host.jsonl")).unwrap();
    let out = w.run(&["timeline", "inc"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out).contains("inc/host.jsonl: is a symlink"),
        "{}",
        stderr_text(&out)
    );
}

/// Regression (issue 14, item 15): `{"ts":1700000000123}` came out as
/// `...20.122999907Z`: epoch milliseconds went through a float. Integers
/// are exact now, and a fraction is read as written.
#[test]
fn epoch_numbers_are_exact() {
    let w = Work::new();
    fs::create_dir(w.path("inc")).unwrap();
    fs::write(
        w.path("inc/e.jsonl"),
        concat!(
            "{\"ts\":1700000000123}\n",
            "{\"ts\":1700000000.123}\n",
            "{\"ts\":1700000000124.5}\n",
            "{\"ts\":1700000001}\n",
            "{\"ts\":1.7000000015e9}\n",
            "{\"ts\":99999999999}\n",
            "{\"ts\":100000000000}\n",
        ),
    )
    .unwrap();
    let recs = w.ok(&["timeline", "inc"]);
    let at: Vec<&str> = of_kind(&recs, "event")
        .iter()
        .map(|e| e["at"].as_str().unwrap())
        .collect();
    assert_eq!(
        at,
        [
            "1973-03-03T09:46:40Z",
            "2023-11-14T22:13:20.123Z",
            "2023-11-14T22:13:20.123Z",
            "2023-11-14T22:13:20.124500Z",
            "2023-11-14T22:13:21Z",
            "2023-11-14T22:13:21.500Z",
            "5138-11-16T09:46:39Z",
        ]
    );
}

/// Done means (issue 17): "zero critical incidents in the last 7 days" is
/// a gate: one critical incident inside the window fails it, the same
/// incident outside passes.
#[test]
fn critical_incidents_in_the_window_fail_the_incident_gate() {
    let w = Work::new();
    fs::create_dir(w.path("incidents")).unwrap();
    let write = |at: &str| {
        fs::write(
            w.path("incidents/pager.jsonl"),
            format!(
                "{{\"ts\":\"2026-11-01T00:00:00Z\",\"severity\":\"critical\",\"title\":\"old outage\"}}\n\
                 {{\"ts\":\"2026-11-22T10:00:00Z\",\"severity\":\"minor\",\"title\":\"slow page\"}}\n\
                 {{\"ts\":\"{at}\",\"severity\":\"CRITICAL\",\"title\":\"db down\"}}\n"
            ),
        )
        .unwrap();
    };
    let gate_args = [
        "timeline",
        "incidents",
        "--window",
        "7d",
        "--max-critical",
        "0",
        "--as-of",
        "2026-11-23T12:00:00Z",
    ];
    // Inside: two days before.
    write("2026-11-21T12:00:00Z");
    let out = w.run(&gate_args);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(
        common::testkit::gate(s, "critical_in_window"),
        &json!({"name":"critical_in_window","op":"<=","limit":0.0,"value":1.0,"pass":false})
    );
    assert_eq!(s["figures"]["window_start"], "2026-11-16T12:00:00Z");
    assert_eq!(s["figures"]["as_of"], "2026-11-23T12:00:00Z");
    assert_eq!(s["figures"]["critical_total"], 2);
    let crit = of_kind(&recs, "critical");
    assert_eq!(crit.len(), 1);
    assert_eq!(
        (
            crit[0]["source"].as_str(),
            crit[0]["line"].as_u64(),
            crit[0]["at"].as_str()
        ),
        (Some("pager.jsonl"), Some(3), Some("2026-11-21T12:00:00Z"))
    );
    // Outside: eight days before.
    write("2026-11-15T12:00:00Z");
    let recs = w.ok(&gate_args);
    assert_eq!(
        common::testkit::gate(summary(&recs), "critical_in_window")["value"],
        0.0
    );
    // After --as-of counts too: a skewed clock must not hide an incident.
    write("2026-11-24T00:00:00Z");
    assert_eq!(code(&w.run(&gate_args)), 1);
    // A critical record without a time cannot be placed outside the window.
    fs::write(
        w.path("incidents/notes.jsonl"),
        "{\"severity\":\"critical\",\"title\":\"when?\"}\n",
    )
    .unwrap();
    write("2026-11-15T12:00:00Z");
    let out = w.run(&gate_args);
    assert_eq!(code(&out), 1);
    // Another field name: --severity-field.
    fs::remove_file(w.path("incidents/notes.jsonl")).unwrap();
    fs::write(
        w.path("incidents/pager.jsonl"),
        "{\"ts\":\"2026-11-22T00:00:00Z\",\"level\":\"critical\"}\n",
    )
    .unwrap();
    // Looked for in the wrong field, the count is over nothing: that fails
    // too (it passed before).
    let out = w.run(&gate_args);
    assert_eq!(code(&out), 1);
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(
        common::testkit::gate(&s, "critical_in_window")["pass"],
        true
    );
    assert_eq!(
        common::testkit::gate(&s, "records_with_severity"),
        &json!({"name":"records_with_severity","op":">=","limit":1.0,"value":0.0,"pass":false})
    );
    let mut args = gate_args.to_vec();
    args.extend(["--severity-field", "level"]);
    assert_eq!(code(&w.run(&args)), 1);
    // Without --window every critical record counts.
    let out = w.run(&[
        "timeline",
        "incidents",
        "--max-critical",
        "0",
        "--severity-field",
        "level",
    ]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        summary(&jsonl(&out.stdout))["figures"]["window_start"],
        serde_json::Value::Null
    );
}

#[test]
fn every_critical_level_counts_however_written_or_nested() {
    // Trial 2: only the exact word "critical" counted; syslog and logging
    // levels, padded values, Alertmanager's labels and arrays of alerts
    // passed "zero critical incidents".
    let w = Work::new();
    fs::create_dir(w.path("inc")).unwrap();
    let gate_args = [
        "timeline",
        "inc",
        "--window",
        "7d",
        "--max-critical",
        "0",
        "--as-of",
        "2026-11-23T12:00:00Z",
    ];
    for level in [
        "emerg",
        "alert",
        "crit",
        "FATAL",
        "Emergency",
        "panic",
        "critical ",
        " critical",
    ] {
        fs::write(
            w.path("inc/alerts.jsonl"),
            format!("{{\"ts\":\"2026-11-22T00:00:00Z\",\"severity\":\"{level}\"}}\n"),
        )
        .unwrap();
        let out = w.run(&gate_args);
        assert_eq!(code(&out), 1, "{level:?}");
        assert_eq!(
            common::testkit::gate(summary(&jsonl(&out.stdout)), "critical_in_window")["value"],
            1.0,
            "{level:?}"
        );
    }
    // Alertmanager: an array of alerts on one line, severity in labels.
    fs::write(
        w.path("inc/alerts.jsonl"),
        "[{\"ts\":\"2026-11-22T00:00:00Z\",\"labels\":{\"severity\":\"warning\"}},\
          {\"ts\":\"2026-11-22T01:00:00Z\",\"labels\":{\"severity\":\"critical\"}}]\n",
    )
    .unwrap();
    let mut args = gate_args.to_vec();
    args.extend(["--severity-field", "/labels/severity"]);
    let out = w.run(&args);
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(s["figures"]["records"], 2);
    assert_eq!(s["figures"]["records_with_severity"], 2);
    assert_eq!(common::testkit::gate(s, "critical_in_window")["value"], 1.0);
    // "warning" alone passes.
    fs::write(
        w.path("inc/alerts.jsonl"),
        "[{\"ts\":\"2026-11-22T00:00:00Z\",\"labels\":{\"severity\":\"warning\"}}]\n",
    )
    .unwrap();
    w.ok(&args);
}

#[test]
fn a_required_section_must_hold_records_timeline_read() {
    // Trial 2: an empty alerts.jsonl, or a proxy.txt timeline never reads,
    // made the section "present".
    let w = Work::new();
    fs::create_dir(w.path("inc")).unwrap();
    fs::write(w.path("inc/alerts.jsonl"), "").unwrap();
    fs::write(w.path("inc/proxy.txt"), "GET / 200\n").unwrap();
    fs::write(
        w.path("inc/app.jsonl"),
        "{\"ts\":\"2026-11-22T00:00:00Z\",\"msg\":\"up\"}\n",
    )
    .unwrap();
    let out = w.run(&["timeline", "inc", "--require-sections", "alerts,proxy,app"]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    let status: Vec<(String, String)> = of_kind(&recs, "section")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("alerts".into(), "empty".into()),
            ("proxy".into(), "empty".into()),
            ("app".into(), "present".into())
        ]
    );
    let s = summary(&recs);
    assert_eq!(common::testkit::gate(s, "missing_sections")["value"], 2.0);
    assert_eq!(s["figures"]["files_not_read"], 1);
    let not_read = of_kind(&recs, "not_read");
    assert_eq!(not_read.len(), 1);
    assert_eq!(not_read[0]["source"], "proxy.txt");
}
