//! The records cycle-check writes: a `cycle` record per cycle (with what
//! the crash drill and the audit add to it, and what was left behind after
//! the stop) and a `health` record per health check. The cycle logic fills
//! them in and [`write`]s them; the summary is built from them; `text`
//! shows them to a person.

use common::output::RecordWriter;
use serde::Serialize;
use serde_json::Value;

use crate::handoff::Leftover;
use crate::procfs::{self, Proc};

/// A process that should not be there, as the records show it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ProcRecord {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    pub sid: i32,
    pub state: String,
    pub cmdline: String,
}

impl ProcRecord {
    pub fn of(p: &Proc) -> ProcRecord {
        ProcRecord {
            pid: p.pid,
            ppid: p.ppid,
            pgid: p.pgid,
            sid: p.sid,
            state: p.state.to_string(),
            cmdline: procfs::cmdline(p.pid, &p.comm),
        }
    }
}

/// A listening socket still held after the stop.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PortRecord {
    pub address: String,
    pub port: u16,
    pub pid: Option<i32>,
    pub cmdline: Option<String>,
}

/// The `cycle` record.
#[derive(Debug, Serialize)]
pub struct CycleRecord {
    pub kind: &'static str,
    pub cycle: u64,
    pub ok: bool,
    pub causes: Vec<&'static str>,
    pub started_at: String,
    pub pid: i32,
    pub pgid: i32,
    pub ready: bool,
    pub ready_ms: Option<f64>,
    pub ready_attempts: u64,
    pub ready_error: Option<String>,
    pub stop_ms: Option<f64>,
    pub ended_by: &'static str,
    pub exit_code: Option<i32>,
    pub signal: Option<&'static str>,
    pub stop_cmd_exit_code: Option<i32>,
    /// What a cause needs said in words (`daemonized`: what was left running).
    pub detail: Option<String>,
    #[serde(flatten)]
    pub left: LeftBehind,
    /// The crash drill's figures (with --workload).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub drill: Option<CrashFields>,
    /// The audit's result (with --audit).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditFields>,
}

/// What the checks after the stop found, in the `cycle` record.
#[derive(Debug, Default, Serialize)]
pub struct LeftBehind {
    pub zombies: Vec<ProcRecord>,
    pub orphans: Vec<ProcRecord>,
    pub leaked_ports: Vec<PortRecord>,
    pub leftover_files: Vec<String>,
    /// Processes outside the service's tree that outlived the stop and
    /// came from the service or hold a listener new since the start (see
    /// `handoff`); counted ones fail the cycle.
    pub foreign_leftovers: Vec<Leftover>,
}

impl LeftBehind {
    /// The causes it gives the cycle, in the order the record lists them.
    pub fn causes(&self) -> impl Iterator<Item = &'static str> {
        [
            (!self.zombies.is_empty(), "zombies"),
            (!self.orphans.is_empty(), "orphans"),
            (!self.leaked_ports.is_empty(), "leaked_ports"),
            (!self.leftover_files.is_empty(), "leftover_files"),
            (
                self.foreign_leftovers.iter().any(|l| l.counted),
                "foreign_leftover",
            ),
        ]
        .into_iter()
        .filter_map(|(bad, cause)| bad.then_some(cause))
    }
}

/// What the crash drill (`--workload`) adds to the `cycle` record.
#[derive(Debug, Serialize)]
pub struct CrashFields {
    /// How long the workload ran before the kill.
    pub workload_ms: f64,
    pub workload_exit_code: Option<i32>,
    pub workload_signal: Option<&'static str>,
    pub killed_at: String,
    /// The main process that was killed.
    pub killed_pid: i32,
    /// Ready again after the restart.
    pub recovered: bool,
    /// From the SIGKILL to ready again.
    pub recovery_ms: Option<f64>,
    pub recovery_error: Option<String>,
}

/// What the audit (`--audit`) adds to the `cycle` record.
#[derive(Debug, Serialize)]
pub struct AuditFields {
    pub audit_exit_code: Option<i32>,
    /// Null when the audit did not run or failed.
    pub audit_findings: Option<u64>,
    /// The first findings (`audit::KEPT` of them).
    pub findings: Vec<Value>,
    pub audit_error: Option<String>,
    /// Every finding as canonical JSON text, so the summary can count the
    /// distinct ones (a violation that stays is seen by every later audit).
    #[serde(skip)]
    pub keys: Vec<String>,
}

/// The `health` record.
#[derive(Debug, Serialize)]
pub struct HealthRecord {
    pub kind: &'static str,
    pub seq: u64,
    pub cycle: u64,
    pub at: String,
    pub ok: bool,
    pub latency_ms: f64,
    pub attempts: u32,
    pub error: Option<String>,
}

/// Writes a record and flushes it: a long health phase shows as it goes,
/// and a crash keeps what was already found.
pub fn write(out: &mut RecordWriter, record: &impl Serialize) -> common::Result<()> {
    out.write(record)?;
    out.flush()
}
