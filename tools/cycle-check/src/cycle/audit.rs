//! The state audit (`--audit`): a command that looks at what the service
//! stored and prints what is wrong with it, run once the service is ready
//! (after the crash drill's restart). Every non-empty stdout line is a
//! finding: a JSON object is kept as it is (records of kind `summary` are
//! skipped, so a hardgate tool's output can be an audit), any other line as
//! `{"text": LINE}`. Exit 1 with no line is one finding; an exit other than
//! 0 or 1, a signal or the time limit is `audit_failed`, and the cycle's
//! finding count is then unknown (null), never 0.

use std::io::Read;
use std::process::{ChildStdout, Stdio};
use std::time::Instant;

use serde_json::{json, Value};

use super::{describe_exit, Runner, KILL_WAIT};
use crate::config::Audit;
use crate::probe::humanize;
use crate::records::AuditFields;

/// Findings kept in a `cycle` record (the count is always complete).
pub const KEPT: usize = 100;
/// Stdout read from one audit; more is counted as one finding saying so.
const MAX_OUTPUT: u64 = 16 << 20;

pub struct Done {
    pub fields: AuditFields,
    pub causes: Vec<&'static str>,
}

impl Done {
    /// The service was not up, so there was nothing to audit: unknown.
    fn not_run() -> Done {
        Done {
            fields: AuditFields {
                audit_exit_code: None,
                audit_findings: None,
                findings: Vec::new(),
                audit_error: Some("not run: the service was not ready".into()),
                keys: Vec::new(),
            },
            causes: Vec::new(),
        }
    }

    fn failed(exit_code: Option<i32>, error: String) -> Done {
        Done {
            fields: AuditFields {
                audit_exit_code: exit_code,
                audit_findings: None,
                findings: Vec::new(),
                audit_error: Some(error),
                keys: Vec::new(),
            },
            causes: vec!["audit_failed"],
        }
    }
}

/// The findings in an audit's stdout.
pub fn findings(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|line| match serde_json::from_str::<Value>(line) {
            Ok(v @ Value::Object(_)) if v["kind"] == "summary" => None,
            Ok(v @ Value::Object(_)) => Some(v),
            _ => Some(json!({ "text": line })),
        })
        .collect()
}

/// Reads `pipe` to the end on a thread, keeping the first `MAX_OUTPUT`
/// bytes (the rest is drained, so the audit never blocks on a full pipe).
fn collect(pipe: ChildStdout) -> std::sync::mpsc::Receiver<(Vec<u8>, bool)> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut pipe = pipe;
        let _ = (&mut pipe).take(MAX_OUTPUT).read_to_end(&mut kept);
        let more = std::io::copy(&mut pipe, &mut std::io::sink()).unwrap_or(0) > 0;
        let _ = tx.send((kept, more));
    });
    rx
}

impl Runner<'_> {
    /// Runs the audit against the service whose main process is `main`;
    /// `None`: the service is not up, so there is nothing to audit.
    pub(super) fn run_audit(&mut self, audit: &Audit, n: u64, main: Option<i32>) -> Done {
        let Some(main) = main else {
            return Done::not_run();
        };
        let (pid, stdout) = match self.spawn_helper(&audit.command, n, main, Stdio::piped()) {
            Ok((pid, Some(stdout))) => (pid, stdout),
            Ok((pid, None)) => {
                self.end_session(pid);
                return Done::failed(None, "no stdout pipe".into());
            }
            Err(e) => return Done::failed(None, format!("cannot start sh: {e}")),
        };
        let output = collect(stdout);
        let exit = self.sup.wait_until(pid, Instant::now() + audit.timeout);
        let timed_out = exit.is_none() && !common::interrupt::requested();
        // Nothing of the audit may stay (a timed-out one included).
        self.end_session(pid);
        let exit = exit.or_else(|| self.sup.wait_until(pid, Instant::now() + KILL_WAIT));
        let (bytes, more) = output.recv_timeout(KILL_WAIT).unwrap_or_default();
        if common::interrupt::requested() {
            return Done::failed(None, "interrupted".into());
        }
        if timed_out {
            return Done::failed(None, format!("timed out after {}", humanize(audit.timeout)));
        }
        let Some(exit) = exit else {
            return Done::failed(None, "did not end".into());
        };
        let code = exit.code;
        if !matches!(code, Some(0 | 1)) {
            return Done::failed(
                code,
                format!("{} (0: clean, 1: findings)", describe_exit(exit)),
            );
        }
        let mut found = findings(&String::from_utf8_lossy(&bytes));
        if more {
            found.push(
                json!({ "text": format!("(more output after {MAX_OUTPUT} bytes not read)") }),
            );
        }
        if found.is_empty() && code == Some(1) {
            found.push(json!({ "text": "the audit exited 1 without printing a finding" }));
        }
        let count = found.len() as u64;
        let keys = found.iter().map(Value::to_string).collect();
        found.truncate(KEPT);
        Done {
            fields: AuditFields {
                audit_exit_code: code,
                audit_findings: Some(count),
                findings: found,
                audit_error: None,
                keys,
            },
            causes: if count > 0 {
                vec!["audit_findings"]
            } else {
                Vec::new()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_is_a_finding_but_summaries() {
        let out = "{\"kind\":\"finding\",\"violation\":\"orphaned_session\"}\n\n  plain text  \n\
                   {\"kind\":\"summary\",\"verdict\":\"fail\"}\n[1,2]\n";
        assert_eq!(
            findings(out),
            vec![
                json!({"kind":"finding","violation":"orphaned_session"}),
                json!({"text":"plain text"}),
                json!({"text":"[1,2]"}),
            ]
        );
        assert!(findings("\n \n").is_empty());
    }
}
