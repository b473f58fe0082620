//! `--format text`: cycle-check's records for a person at a terminal, by
//! kind: a line per cycle (and one per thing it left behind), a line per
//! health check, the summary with its gates. The record writer
//! (`common::output::RecordWriter`) calls these; the records are the same
//! in either format.
//!
//! Command lines, errors and findings come from the service: every line is
//! shown printable.

use common::printer::{gates, plain, printable, ByKind};
use serde_json::Value;

/// cycle-check's records as text, by kind.
pub const TEXT: ByKind = ByKind {
    kinds: &[("cycle", cycle), ("health", health), ("summary", summary)],
    other: plain,
};

/// The lines of a record, each made printable, joined.
fn printable_lines(lines: &[String]) -> String {
    let lines: Vec<_> = lines.iter().map(|l| printable(l)).collect();
    lines.join("\n")
}

fn list<'a>(rec: &'a Value, key: &str) -> &'a [Value] {
    rec[key].as_array().map_or(&[], Vec::as_slice)
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.2} ms"))
}

/// `pid N: CMDLINE` of a record naming a process (`pid N` without its
/// command line when `bare_pid`), else "an unknown process".
fn who(rec: &Value, bare_pid: bool) -> String {
    match (rec["pid"].as_i64(), rec["cmdline"].as_str()) {
        (Some(pid), Some(cmd)) => format!("pid {pid}: {cmd}"),
        (Some(pid), None) if bare_pid => format!("pid {pid}"),
        _ => "an unknown process".to_string(),
    }
}

fn cycle(c: &Value) -> String {
    let exit = match (c["exit_code"].as_i64(), c["signal"].as_str()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(sig)) => sig.to_string(),
        _ => "exit ?".to_string(),
    };
    let verdict = if c["ok"] == true { "ok  " } else { "FAIL" };
    let [n, pid, ended_by] = ["cycle", "pid", "ended_by"].map(|k| plain(&c[k]));
    let [ready, stop] = ["ready_ms", "stop_ms"].map(|k| ms(c[k].as_f64()));
    let mut first = format!(
        "cycle {n:<3} {verdict}  pid {pid:<7} ready {ready:>10}  stop {stop:>10} \
         ({ended_by}, {exit})"
    );
    let causes: Vec<String> = list(c, "causes").iter().map(plain).collect();
    if !causes.is_empty() {
        first = format!("{first}  causes: {}", causes.join(", "));
    }
    let mut lines = vec![first];
    if let Some(e) = c["ready_error"].as_str() {
        lines.push(format!("    not ready: {e}"));
    }
    if let Some(d) = c["detail"].as_str() {
        lines.push(format!("    {d}"));
    }
    for z in list(c, "zombies") {
        let [pid, ppid, cmd] = ["pid", "ppid", "cmdline"].map(|k| plain(&z[k]));
        lines.push(format!("    zombie   pid {pid} (parent {ppid}): {cmd}"));
    }
    for o in list(c, "orphans") {
        let [pid, ppid, sid, state, cmd] =
            ["pid", "ppid", "sid", "state", "cmdline"].map(|k| plain(&o[k]));
        lines.push(format!(
            "    orphan   pid {pid} (parent {ppid}, session {sid}, {state}): {cmd}"
        ));
    }
    for p in list(c, "leaked_ports") {
        let [addr, port] = ["address", "port"].map(|k| plain(&p[k]));
        lines.push(format!(
            "    port     {addr}:{port} still held by {}",
            who(p, false)
        ));
    }
    // Only what fails the cycle: the rest (other people's new servers,
    // allowed ones) is in the JSON record.
    for l in list(c, "foreign_leftovers")
        .iter()
        .filter(|l| l["counted"] == true)
    {
        let why = l["evidence"].as_str();
        let why = why.unwrap_or("a new listener, --fail-on-new-listeners");
        let listening: Vec<String> = list(l, "listening").iter().map(plain).collect();
        let listening = if listening.is_empty() {
            String::new()
        } else {
            format!(", listening on {}", listening.join(" "))
        };
        lines.push(format!("    outside  {}{listening} ({why})", who(l, true)));
    }
    for f in list(c, "leftover_files") {
        lines.push(format!("    file     {}", plain(f)));
    }
    if c.get("killed_pid").is_some() {
        let (pid, ran) = (plain(&c["killed_pid"]), ms(c["workload_ms"].as_f64()));
        let crash = format!("    crash    SIGKILL to pid {pid} after {ran} of workload; ");
        lines.push(match c["recovery_error"].as_str() {
            None => format!("{crash}ready again in {}", ms(c["recovery_ms"].as_f64())),
            Some(e) => format!("{crash}not ready again: {e}"),
        });
    }
    if c.get("audit_exit_code").is_some() {
        lines.push(
            match (c["audit_error"].as_str(), c["audit_findings"].as_u64()) {
                (Some(e), _) => format!("    audit    failed: {e}"),
                (None, n) => format!("    audit    {} finding(s)", n.unwrap_or(0)),
            },
        );
        for f in list(c, "findings") {
            lines.push(format!("    finding  {}", finding(f)));
        }
    }
    printable_lines(&lines)
}

/// A finding for a person: its `violation` and the ids it names, then its
/// `detail` (or the whole record, or the plain line).
fn finding(f: &Value) -> String {
    let Value::Object(m) = f else {
        return f.to_string();
    };
    if let (1, Some(Value::String(t))) = (m.len(), m.get("text")) {
        return t.clone();
    }
    let mut parts = Vec::new();
    if let Some(Value::String(v)) = m.get("violation") {
        parts.push(v.clone());
    }
    for (k, v) in m {
        if matches!(k.as_str(), "kind" | "violation" | "detail") {
            continue;
        }
        match v {
            Value::String(s) => parts.push(format!("{k} {s}")),
            Value::Array(xs) if xs.is_empty() => {}
            other => parts.push(format!("{k} {other}")),
        }
    }
    match m.get("detail") {
        Some(Value::String(d)) => format!("{}: {d}", parts.join(", ")),
        _ if parts.is_empty() => f.to_string(),
        _ => parts.join(", "),
    }
}

fn health(h: &Value) -> String {
    let verdict = if h["ok"] == true { "ok  " } else { "MISS" };
    let (seq, latency) = (plain(&h["seq"]), ms(h["latency_ms"].as_f64()));
    let mut line = format!("health {seq:<4} {verdict}  {latency:>10}");
    if let Some(e) = h["error"].as_str() {
        line = format!("{line}  {e}");
    }
    printable(&line).into_owned()
}

fn summary(s: &Value) -> String {
    let figure = |k: &str| s["figures"][k].as_f64();
    let [ok, cycles] = ["cycles_ok", "cycles"].map(|k| figure(k).unwrap_or(0.0));
    let [r50, r95, rmax, s50, smax] = [
        "ready_ms_p50",
        "ready_ms_p95",
        "ready_ms_max",
        "stop_ms_p50",
        "stop_ms_max",
    ]
    .map(|k| ms(figure(k)));
    let (pass, stopped) = (s["verdict"] == "pass", s["interrupted"] == true);
    let verdict = if pass { "PASS" } else { "FAIL" };
    let interrupted = if stopped { " (interrupted)" } else { "" };
    let mut lines = vec![format!(
        "{verdict}{interrupted}: {ok} of {cycles} cycles ok; \
         ready p50 {r50} p95 {r95} max {rmax}; stop p50 {s50} max {smax}"
    )];
    if let Some(total) = figure("health_total").filter(|t| *t > 0.0) {
        let ok = figure("health_ok").unwrap_or(0.0);
        lines.push(format!("health: {ok} of {total} checks ok"));
    }
    // The one gate wording of every tool (common::printer's Display).
    lines.extend(gates(s).into_iter().map(|g| format!("  {g}")));
    printable_lines(&lines)
}
