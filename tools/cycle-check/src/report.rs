//! Writing what cycle-check found: JSON Lines records (the default, what
//! other tools read) or, with `--format text`, lines for a person at a
//! terminal. Each record is flushed as it is written, so a long health
//! phase shows progress and a crash keeps what was already found.

use std::fmt::Write;

use common::cli::Format;
use common::output::RecordWriter;
use common::summary::Summary;

use crate::records::{CycleRecord, HealthRecord};

pub struct Report {
    out: RecordWriter,
    format: Format,
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.2} ms"))
}

/// A finding for a person: its `violation` and the ids it names, then its
/// `detail` (or the whole record, or the plain line).
fn finding_text(f: &serde_json::Value) -> String {
    use serde_json::Value;
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

impl Report {
    pub fn stdout(format: Format) -> Report {
        Report {
            out: RecordWriter::stdout(),
            format,
        }
    }

    pub fn cycle(&mut self, c: &CycleRecord) -> common::Result<()> {
        match self.format {
            Format::Jsonl => self.out.write(c)?,
            Format::Text => {
                let exit = match (c.exit_code, c.signal) {
                    (Some(code), _) => format!("exit {code}"),
                    (None, Some(sig)) => sig.to_string(),
                    _ => "exit ?".to_string(),
                };
                let verdict = if c.ok { "ok  " } else { "FAIL" };
                let mut text = String::new();
                let w = &mut text;
                let _ = write!(
                    w,
                    "cycle {:<3} {verdict}  pid {:<7} ready {:>10}  stop {:>10} ({}, {exit})",
                    c.cycle,
                    c.pid,
                    ms(c.ready_ms),
                    ms(c.stop_ms),
                    c.ended_by
                );
                if !c.causes.is_empty() {
                    let _ = write!(w, "  causes: {}", c.causes.join(", "));
                }
                let _ = writeln!(w);
                if let Some(e) = &c.ready_error {
                    let _ = writeln!(w, "    not ready: {e}");
                }
                if let Some(d) = &c.detail {
                    let _ = writeln!(w, "    {d}");
                }
                for z in &c.left.zombies {
                    let _ = writeln!(
                        w,
                        "    zombie   pid {} (parent {}): {}",
                        z.pid, z.ppid, z.cmdline
                    );
                }
                for o in &c.left.orphans {
                    let _ = writeln!(
                        w,
                        "    orphan   pid {} (parent {}, session {}, {}): {}",
                        o.pid, o.ppid, o.sid, o.state, o.cmdline
                    );
                }
                for p in &c.left.leaked_ports {
                    let holder = match (p.pid, &p.cmdline) {
                        (Some(pid), Some(cmd)) => format!("pid {pid}: {cmd}"),
                        _ => "an unknown process".to_string(),
                    };
                    let _ = writeln!(
                        w,
                        "    port     {}:{} still held by {holder}",
                        p.address, p.port
                    );
                }
                // Only what fails the cycle: the rest (other people's new
                // servers, allowed ones) is in the JSON record.
                for l in c.left.foreign_leftovers.iter().filter(|l| l.counted) {
                    let who = match (l.pid, &l.cmdline) {
                        (Some(pid), Some(cmd)) => format!("pid {pid}: {cmd}"),
                        (Some(pid), None) => format!("pid {pid}"),
                        _ => "an unknown process".to_string(),
                    };
                    let why = l
                        .evidence
                        .unwrap_or("a new listener, --fail-on-new-listeners");
                    let listening = if l.listening.is_empty() {
                        String::new()
                    } else {
                        format!(", listening on {}", l.listening.join(" "))
                    };
                    let _ = writeln!(w, "    outside  {who}{listening} ({why})");
                }
                for f in &c.left.leftover_files {
                    let _ = writeln!(w, "    file     {f}");
                }
                if let Some(d) = &c.drill {
                    let _ = write!(
                        w,
                        "    crash    SIGKILL to pid {} after {} of workload; ",
                        d.killed_pid,
                        ms(Some(d.workload_ms))
                    );
                    let _ = match &d.recovery_error {
                        None => writeln!(w, "ready again in {}", ms(d.recovery_ms)),
                        Some(e) => writeln!(w, "not ready again: {e}"),
                    };
                }
                if let Some(a) = &c.audit {
                    match (&a.audit_error, a.audit_findings) {
                        (Some(e), _) => {
                            let _ = writeln!(w, "    audit    failed: {e}");
                        }
                        (None, n) => {
                            let _ = writeln!(w, "    audit    {} finding(s)", n.unwrap_or(0));
                        }
                    }
                    for f in &a.findings {
                        let _ = writeln!(w, "    finding  {}", finding_text(f));
                    }
                }
                self.out.write_bytes(text.as_bytes())?;
            }
        }
        self.out.flush()
    }

    pub fn health(&mut self, h: &HealthRecord) -> common::Result<()> {
        match self.format {
            Format::Jsonl => self.out.write(h)?,
            Format::Text => {
                let mut text = String::new();
                let w = &mut text;
                let verdict = if h.ok { "ok  " } else { "MISS" };
                let _ = write!(
                    w,
                    "health {:<4} {verdict}  {:>10}",
                    h.seq,
                    ms(Some(h.latency_ms))
                );
                if let Some(e) = &h.error {
                    let _ = write!(w, "  {e}");
                }
                let _ = writeln!(w);
                self.out.write_bytes(text.as_bytes())?;
            }
        }
        self.out.flush()
    }

    pub fn summary(&mut self, s: &Summary) -> common::Result<()> {
        match self.format {
            Format::Jsonl => self.out.write(s)?,
            Format::Text => {
                let f = &s.figures;
                let num = |k: &str| f.get(k).and_then(serde_json::Value::as_f64);
                let mut text = String::new();
                let w = &mut text;
                let verdict = if s.verdict.is_pass() { "PASS" } else { "FAIL" };
                let _ = writeln!(
                    w,
                    "{verdict}{}: {} of {} cycles ok; ready p50 {} p95 {} max {}; stop p50 {} max {}",
                    if s.interrupted { " (interrupted)" } else { "" },
                    num("cycles_ok").unwrap_or(0.0),
                    num("cycles").unwrap_or(0.0),
                    ms(num("ready_ms_p50")),
                    ms(num("ready_ms_p95")),
                    ms(num("ready_ms_max")),
                    ms(num("stop_ms_p50")),
                    ms(num("stop_ms_max")),
                );
                if num("health_total").is_some_and(|t| t > 0.0) {
                    let _ = writeln!(
                        w,
                        "health: {} of {} checks ok",
                        num("health_ok").unwrap_or(0.0),
                        num("health_total").unwrap_or(0.0)
                    );
                }
                for g in &s.gates {
                    let _ = writeln!(
                        w,
                        "  {} {:<17} {} {} {}",
                        if g.pass { "pass" } else { "FAIL" },
                        g.name,
                        g.value,
                        g.op.symbol(),
                        g.limit
                    );
                }
                self.out.write_bytes(text.as_bytes())?;
            }
        }
        self.out.flush()
    }
}
