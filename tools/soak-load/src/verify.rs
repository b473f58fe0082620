//! `--verify`: what happened to the data. A sequence may end with verify
//! steps (`"verify": "STEP"`, `"expect": {FIELD: VALUE}`): not sent during
//! the load, but for every run of the sequence in which STEP's write was
//! acknowledged (answered 2xx), the verify step's request is rendered then
//! (with that run's answers) and kept; once the load is over, every kept
//! read is sent and its answer compared with what the client was told:
//!
//! - 404 or 410: the write is `lost`;
//! - 2xx, but a FIELD missing or different from VALUE: `changed`;
//! - anything else (refused, timeout, 5xx, not JSON, a value the verify
//!   step needed missing from the acknowledgement): `unverified` — not
//!   known to be kept, so it fails its gate like the others.
//!
//! One `verify` record per write that did not check out, naming the
//! sequence step, the read and each field. Gates: lost, changed and
//! unverified writes at most 0; with no write acknowledged at all there is
//! nothing to vouch for, and the gates' values are null (a fail).
//!
//! Also here: the compile-time checks of the step fields this adds
//! (`parallel`, `accept`, `verify`, `expect`); see `sequence.rs` for how
//! they run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::gate::Gate;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::client::Conns;
use crate::load::Ctx;
use crate::stats::ErrorClass;
use crate::targets::Step;
use crate::template::{JsonTemplate, Ref};

/// How many verify reads are in flight at once.
const CONCURRENT_READS: usize = 16;

/// A verify step, compiled.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Index of the write step it checks.
    pub of: usize,
    /// (FIELD as written, its path in the read's answer, the expected value).
    pub expect: Vec<(String, Vec<String>, JsonTemplate)>,
}

impl Spec {
    /// The earlier steps its expectations use.
    pub fn steps(&self, out: &mut Vec<usize>) {
        for (_, _, t) in &self.expect {
            t.steps(out);
        }
    }
}

/// The step fields this module adds, checked.
pub struct Extras {
    pub parallel: bool,
    pub accept: Vec<u16>,
    pub verify: Option<Spec>,
}

/// Checks a step's `parallel`, `accept`, `verify` and `expect` against the
/// steps before it (`names`, `compiled`).
pub fn step_extras(
    names: &[String],
    compiled: &[Step],
    parallel: Option<bool>,
    accept: Option<Vec<u16>>,
    verify: Option<&str>,
    expect: Option<&Map<String, Value>>,
    repeat: u32,
) -> Result<Extras, String> {
    let parallel = parallel.unwrap_or(false);
    let accept = accept.unwrap_or_default();
    if let Some(bad) = accept.iter().find(|s| !(100..=599).contains(*s)) {
        return Err(format!("\"accept\": {bad} is not an HTTP status"));
    }
    if parallel {
        let Some(before) = compiled.last() else {
            return Err("the first step cannot be \"parallel\" (nothing to run with)".into());
        };
        if repeat != 1 || before.repeat != 1 {
            return Err("\"parallel\" steps (and the step before one) cannot \"repeat\"".into());
        }
        if before.verify.is_some() {
            return Err("a verify step cannot run in parallel with others".into());
        }
    }
    let verify =
        match (verify, expect) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err("\"expect\" belongs to a verify step (\"verify\": STEP)".into())
            }
            (Some(_), None) => return Err(
                "a verify step needs \"expect\": {FIELD: VALUE, ...} (what the read must answer)"
                    .into(),
            ),
            (Some(of), Some(expect)) => {
                let Some(i) = names.iter().position(|n| n == of) else {
                    return Err(format!("\"verify\": '{of}' is not an earlier step"));
                };
                if compiled[i].verify.is_some() {
                    return Err(format!("\"verify\": '{of}' is a verify step itself"));
                }
                if parallel || repeat != 1 || !accept.is_empty() {
                    return Err(
                        "a verify step cannot be \"parallel\", \"repeat\" or \"accept\"".into(),
                    );
                }
                if expect.is_empty() {
                    return Err("\"expect\" is empty: say which fields the read must answer".into());
                }
                let mut fields = Vec::new();
                for (key, value) in expect {
                    let path: Vec<String> = key.split('.').map(str::to_string).collect();
                    if path.iter().any(String::is_empty) {
                        return Err(format!("\"expect\": '{key}' is not a field path (a.b.0)"));
                    }
                    let t = JsonTemplate::parse(value, Some(names))
                        .map_err(|e| format!("\"expect\" '{key}': {e}"))?;
                    fields.push((key.clone(), path, t));
                }
                Some(Spec {
                    of: i,
                    expect: fields,
                })
            }
        };
    Ok(Extras {
        parallel,
        accept,
        verify,
    })
}

/// Whether any sequence of `plan` has a verify step.
pub fn has_verify_steps(plan: &crate::targets::Plan) -> bool {
    plan.targets.iter().any(|t| match &t.work {
        crate::targets::Work::Sequence(steps) => steps.iter().any(|s| s.verify.is_some()),
        _ => false,
    })
}

/// A parallel step (the next after `compiled`) is sent with the steps of
/// its group, so it cannot use their answers (`used`: the steps it uses).
pub fn check_group(names: &[String], compiled: &[Step], used: &[usize]) -> Result<(), String> {
    // The group: back from the last compiled step over the parallel ones.
    let mut start = compiled.len().saturating_sub(1);
    while start > 0 && compiled[start].parallel {
        start -= 1;
    }
    match used.iter().find(|&&u| u >= start) {
        Some(&u) => Err(format!(
            "a \"parallel\" step cannot use the answer of '{}', which is sent at the same time",
            names[u]
        )),
        None => Ok(()),
    }
}

/// A read kept for the end.
pub struct Pending {
    /// The verify step's name (`SEQUENCE.STEP`) and the write's.
    pub step: String,
    pub write: String,
    pub write_correlation_id: String,
    pub endpoint: usize,
    pub url: String,
    /// The read, or why it could not be made (a value it needs was not in
    /// the acknowledgement).
    pub request: Result<crate::client::Outgoing, String>,
    pub expect: Vec<(String, Vec<String>, Value)>,
}

/// Reads kept during the load (only with --verify).
#[derive(Default)]
pub struct Queue {
    enabled: AtomicBool,
    items: Mutex<Vec<Pending>>,
}

impl Queue {
    pub fn enable(&self) {
        self.enabled.store(true, Ordering::Relaxed);
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub fn push(&self, p: Pending) {
        if let Ok(mut items) = self.items.lock() {
            items.push(p);
        }
    }

    fn take(&self) -> Vec<Pending> {
        self.items
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

/// A field that did not check out.
#[derive(Debug, Serialize, PartialEq)]
pub struct Mismatch {
    pub field: String,
    pub expected: Value,
    /// Null when the answer did not have the field.
    pub found: Value,
}

/// The `verify` record of a write that did not check out.
#[derive(Debug, Serialize)]
pub struct Record {
    pub kind: &'static str,
    /// `lost`, `changed` or `unverified`.
    pub outcome: &'static str,
    pub step: String,
    pub write: String,
    pub write_correlation_id: String,
    pub url: String,
    pub status: Option<u16>,
    pub mismatches: Vec<Mismatch>,
    pub error: Option<String>,
}

/// What the verification found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub acknowledged: u64,
    pub verified: u64,
    pub lost: u64,
    pub changed: u64,
    pub unverified: u64,
    pub records: Vec<Record>,
}

impl Outcome {
    pub fn figures(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("writes_acknowledged", json!(self.acknowledged)),
            ("writes_verified", json!(self.verified)),
            ("lost_writes", json!(self.lost)),
            ("changed_writes", json!(self.changed)),
            ("unverified_writes", json!(self.unverified)),
        ]
    }

    /// Lost, changed and unverified at most 0; null (a fail) when no write
    /// was acknowledged, since then nothing was vouched for.
    pub fn gates(&self) -> Vec<Gate> {
        let value = |n: u64| {
            if self.acknowledged == 0 {
                f64::NAN
            } else {
                n as f64
            }
        };
        vec![
            Gate::at_most("lost_writes", 0.0, value(self.lost)),
            Gate::at_most("changed_writes", 0.0, value(self.changed)),
            Gate::at_most("unverified_writes", 0.0, value(self.unverified)),
        ]
    }
}

/// Gates of a run that its windows cannot give again: the verification's
/// and the chaos injections'. `report` and `merge` carry them from the saved
/// summaries (merged over files: counts added, the longest recovery, the
/// strictest limit; a null value stays null), so re-judging a run never
/// drops a failure its windows cannot show.
pub fn carried_gates(summaries: &[Option<Value>]) -> Vec<Gate> {
    const SUMMED: [&str; 6] = [
        "lost_writes",
        "changed_writes",
        "unverified_writes",
        "chaos_command_failures",
        "chaos_no_effect",
        "rss_unrelated",
    ];
    const MAXED: [&str; 1] = ["recovery_ms_max"];
    let mut out: Vec<Gate> = Vec::new();
    for gates in summaries
        .iter()
        .flatten()
        .filter_map(|s| s["gates"].as_array())
    {
        for g in gates {
            let Ok(g) = serde_json::from_value::<Gate>(g.clone()) else {
                continue;
            };
            let summed = SUMMED.contains(&g.name.as_str());
            if !summed && !MAXED.contains(&g.name.as_str()) {
                continue;
            }
            match out.iter_mut().find(|o| o.name == g.name) {
                None => out.push(Gate::at_most(g.name.clone(), g.limit, g.value)),
                Some(o) => {
                    let value = if summed {
                        o.value + g.value
                    } else if o.value.is_nan() || g.value.is_nan() {
                        f64::NAN
                    } else {
                        o.value.max(g.value)
                    };
                    *o = Gate::at_most(o.name.clone(), o.limit.min(g.limit), value);
                }
            }
        }
    }
    out
}

/// Compares an answer with what was expected.
pub fn compare(answer: &Value, expect: &[(String, Vec<String>, Value)]) -> Vec<Mismatch> {
    let answers = [Some(answer.clone())];
    expect
        .iter()
        .filter_map(|(field, path, want)| {
            let found = Ref {
                step: 0,
                path: path.clone(),
            }
            .lookup(&answers)
            .cloned();
            (found.as_ref() != Some(want)).then(|| Mismatch {
                field: field.clone(),
                expected: want.clone(),
                found: found.unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// One read, judged.
async fn check(ctx: &Ctx, conns: &mut Conns, p: Pending) -> Record {
    let mut record = Record {
        kind: "verify",
        outcome: "unverified",
        step: p.step,
        write: p.write,
        write_correlation_id: p.write_correlation_id,
        url: p.url,
        status: None,
        mismatches: Vec::new(),
        error: None,
    };
    let request = match p.request {
        Ok(r) => r,
        Err(e) => {
            record.error = Some(e);
            return record;
        }
    };
    let sent = conns
        .exchange(
            tokio::time::Instant::now(),
            ctx.timeout,
            p.endpoint,
            &ctx.plan.endpoints,
            &request,
            true,
        )
        .await;
    let answer = match sent {
        Err(f) if f.class == ErrorClass::Timeout => {
            record.error = Some("timeout".into());
            return record;
        }
        Err(f) => {
            record.status = f.status;
            record.error = Some(format!("{} error", f.class.name()));
            return record;
        }
        Ok(a) => a,
    };
    record.status = Some(answer.status);
    match answer.status {
        404 | 410 => {
            record.outcome = "lost";
            return record;
        }
        200..=299 => {}
        s => {
            record.error = Some(format!("the read answered {s}"));
            return record;
        }
    }
    let body = answer.body.unwrap_or_default();
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        record.error = Some("the read's answer is not JSON".into());
        return record;
    };
    record.mismatches = compare(&value, &p.expect);
    record.outcome = if record.mismatches.is_empty() {
        "ok"
    } else {
        "changed"
    };
    record
}

/// Sends every kept read and judges it; records in the order the writes
/// were kept.
pub async fn run(ctx: Arc<Ctx>) -> Outcome {
    let pending = ctx.verify.take();
    let total = pending.len();
    let mut out = Outcome {
        acknowledged: total as u64,
        ..Outcome::default()
    };
    let queue = Arc::new(Mutex::new(
        pending.into_iter().enumerate().collect::<Vec<_>>(),
    ));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENT_READS.min(total) {
        let (ctx, queue) = (Arc::clone(&ctx), Arc::clone(&queue));
        workers.spawn(async move {
            let mut conns = Conns::default();
            let mut done = Vec::new();
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((i, p)) = next else {
                    return done;
                };
                done.push((i, check(&ctx, &mut conns, p).await));
            }
        });
    }
    let mut judged = Vec::with_capacity(total);
    while let Some(done) = workers.join_next().await {
        judged.extend(done.unwrap_or_default());
    }
    judged.sort_by_key(|(i, _)| *i);
    for (_, r) in judged {
        match r.outcome {
            "ok" => out.verified += 1,
            "lost" => out.lost += 1,
            "changed" => out.changed += 1,
            _ => out.unverified += 1,
        }
        if r.outcome != "ok" {
            out.records.push(r);
        }
    }
    // A worker that panicked took its reads with it: they were not verified.
    let seen = out.verified + out.lost + out.changed + out.unverified;
    out.unverified += out.acknowledged - seen;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_compare_by_path_and_value() {
        let expect = vec![
            (
                "status".to_string(),
                vec!["status".to_string()],
                json!("approved"),
            ),
            (
                "decisions".to_string(),
                vec!["decisions".to_string()],
                json!(1),
            ),
            (
                "provenance.memory_id".to_string(),
                vec!["provenance".to_string(), "memory_id".to_string()],
                json!("m-000001"),
            ),
        ];
        let ok = json!({"status":"approved","decisions":1,"provenance":{"memory_id":"m-000001"}});
        assert!(compare(&ok, &expect).is_empty());
        let bad = json!({"status":"denied","decisions":2});
        assert_eq!(
            compare(&bad, &expect),
            vec![
                Mismatch {
                    field: "status".into(),
                    expected: json!("approved"),
                    found: json!("denied")
                },
                Mismatch {
                    field: "decisions".into(),
                    expected: json!(1),
                    found: json!(2)
                },
                Mismatch {
                    field: "provenance.memory_id".into(),
                    expected: json!("m-000001"),
                    found: Value::Null
                },
            ]
        );
    }

    #[test]
    fn no_acknowledged_write_is_no_pass() {
        let none = Outcome::default();
        assert!(none.gates().iter().all(|g| !g.pass && g.value.is_nan()));
        let clean = Outcome {
            acknowledged: 3,
            verified: 3,
            ..Outcome::default()
        };
        assert!(clean.gates().iter().all(|g| g.pass));
    }
}
