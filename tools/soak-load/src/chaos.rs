//! `--chaos-cmd CMD --chaos-every 5m`: during the run, `sh -c CMD` every
//! period (a `kill -9` of the service under its supervisor, a SIGSTOP and
//! SIGCONT, a dropped link), and what each injection did to the traffic:
//! from the first request that failed after it to the first one sent after
//! that failure that succeeded (the outage the users saw), and how many
//! failed in between. One `chaos` record per injection.
//!
//! A success only ends an outage if its request was sent after the first
//! failure: an answer already on its way when the service died says
//! nothing about it being back. Gates: every outage recovered within
//! `--max-recovery` (an outage still open at the next injection or at the
//! end has no recovery time: null, a fail; so has a run in which no
//! injection happened), every chaos command exited 0 (one that failed
//! injected nothing, and a pass would be about nothing), and every
//! injection had an effect: a request failed after it or, with the
//! service's process watched, that process restarted. A command that exits
//! 0 and hits nothing (`kubectl delete pod -l app=wrong`) proves no
//! recovery; `chaos_no_effect` counts those, at most `--max-chaos-no-effect`
//! (0).

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::gate::Gate;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::load::Ctx;
use crate::memory::Restarts;

/// The chaos settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub command: String,
    pub every: Duration,
    pub max_recovery_ms: f64,
    /// Injections allowed to have no observed effect.
    pub max_no_effect: f64,
}

/// One injection, as it is being watched.
#[derive(Debug, Clone)]
struct Injection {
    seq: u64,
    at: Instant,
    first_failure: Option<Instant>,
    recovered: Option<Instant>,
    failed: u64,
    exit_code: Option<i32>,
    command_ms: Option<f64>,
    /// Restarts of the watched process seen before it (None: not watched).
    restarts_before: Option<u64>,
}

/// Watches request outcomes for the current injection.
#[derive(Default)]
pub struct Tracker {
    active: AtomicBool,
    injections: Mutex<Vec<Injection>>,
}

impl Tracker {
    /// A request sent at `sent` ended at `done`, ok or not.
    pub fn observe(&self, sent: Instant, done: Instant, ok: bool) {
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        let Ok(mut all) = self.injections.lock() else {
            return;
        };
        let Some(inj) = all.last_mut() else {
            return;
        };
        if done < inj.at || inj.recovered.is_some() {
            return;
        }
        match (inj.first_failure, ok) {
            (None, false) => {
                inj.first_failure = Some(done);
                inj.failed = 1;
            }
            (Some(_), false) => inj.failed += 1,
            (Some(first), true) if sent > first => {
                inj.recovered = Some(done);
                // Nothing more to watch until the next injection.
                self.active.store(false, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    fn begin(&self, seq: u64, at: Instant, restarts_before: Option<u64>) {
        if let Ok(mut all) = self.injections.lock() {
            all.push(Injection {
                seq,
                at,
                first_failure: None,
                recovered: None,
                failed: 0,
                exit_code: None,
                command_ms: None,
                restarts_before,
            });
        }
        self.active.store(true, Ordering::Relaxed);
    }

    fn command_done(&self, seq: u64, exit_code: Option<i32>, command_ms: f64) {
        if let Ok(mut all) = self.injections.lock() {
            if let Some(inj) = all.iter_mut().find(|i| i.seq == seq) {
                inj.exit_code = exit_code;
                inj.command_ms = Some(command_ms);
            }
        }
    }

    fn snapshot(&self) -> Vec<Injection> {
        self.injections
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }
}

/// Runs the chaos command every period until the load is over (`done`).
/// A command still running then is waited for (it may be the SIGCONT of
/// a stall), bounded by the period, after which its group is killed.
pub async fn schedule(
    ctx: Arc<Ctx>,
    config: Config,
    done: Arc<AtomicBool>,
    restarts: Option<Arc<Mutex<Restarts>>>,
) {
    let mut seq = 0;
    loop {
        let due = ctx.start + config.every * (seq as u32 + 1);
        while Instant::now() < due {
            if done.load(Ordering::Relaxed) || ctx.stopping() {
                return;
            }
            tokio::time::sleep_until(due.min(Instant::now() + Duration::from_millis(20))).await;
        }
        if done.load(Ordering::Relaxed) || ctx.stopping() {
            return;
        }
        seq += 1;
        let at = Instant::now();
        ctx.chaos.begin(seq, at, restarts.as_ref().map(|r| seen(r)));
        let command = config.command.clone();
        let limit = config.every.min(Duration::from_secs(600));
        let code = tokio::task::spawn_blocking(move || run_command(&command, limit))
            .await
            .unwrap_or(None);
        let ms = common::clock::ms(at.elapsed());
        if code != Some(0) {
            common::runner::warn(
                "soak-load",
                format!(
                    "--chaos-cmd (injection {seq}): {}",
                    code.map_or("did not exit normally".to_string(), |c| format!(
                        "exit status {c}"
                    ))
                ),
            );
        }
        ctx.chaos.command_done(seq, code, ms);
    }
}

/// Restarts of the watched process seen so far.
pub fn seen(restarts: &Mutex<Restarts>) -> u64 {
    restarts.lock().unwrap_or_else(|p| p.into_inner()).seen()
}

/// `sh -c COMMAND` in a group of its own, stdin closed, output on our
/// stderr; its exit code (None: killed, or could not start).
fn run_command(command: &str, limit: Duration) -> Option<i32> {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", command])
        .stdin(Stdio::null())
        .process_group(0);
    if let Ok(err) = stderr() {
        cmd.stdout(err);
    }
    let mut child = cmd.spawn().ok()?;
    let deadline = std::time::Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.code(),
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => {
                let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
                let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
                let _ = child.wait();
                return None;
            }
        }
    }
}

fn stderr() -> std::io::Result<Stdio> {
    use std::os::fd::AsFd;
    Ok(Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?))
}

/// The `chaos` record of one injection.
#[derive(Debug, Serialize)]
pub struct Record {
    pub kind: &'static str,
    pub seq: u64,
    pub at: String,
    pub offset_ms: f64,
    pub command_exit_code: Option<i32>,
    pub command_ms: Option<f64>,
    /// The first request that failed after the injection (its end).
    pub outage_started_at: Option<String>,
    /// The first success sent after that failure (its end).
    pub outage_ended_at: Option<String>,
    /// From the first failure to the first success after it; 0 when nothing
    /// failed; null when it never recovered.
    pub recovery_ms: Option<f64>,
    pub failed_requests: u64,
    pub recovered: bool,
    /// Restarts of the watched process from this injection to the next
    /// (or the end); null when no process is watched.
    pub service_restarts: Option<u64>,
    /// A request failed after it, or the watched process restarted: the
    /// injection did something a recovery can be measured from.
    pub effective: bool,
}

/// What the chaos did over the run.
pub struct Outcome {
    pub records: Vec<Record>,
    max_recovery_ms: f64,
    max_no_effect: f64,
}

/// Turns what the tracker saw into records, once the load is over;
/// `restarts_now`: the restarts seen by the end (None: not watched).
pub fn finish(ctx: &Ctx, config: &Config, restarts_now: Option<u64>) -> Outcome {
    ctx.chaos.active.store(false, Ordering::Relaxed);
    let wall = |t: Instant| {
        common::clock::rfc3339(ctx.start_wall + t.saturating_duration_since(ctx.start))
    };
    let injections = ctx.chaos.snapshot();
    // Each injection's restarts: up to the next one's start, or the end.
    let until: Vec<Option<u64>> = injections
        .iter()
        .skip(1)
        .map(|i| i.restarts_before)
        .chain([restarts_now])
        .collect();
    let records: Vec<Record> = injections
        .into_iter()
        .zip(until)
        .map(|(inj, until)| {
            let service_restarts = match (inj.restarts_before, until) {
                (Some(a), Some(b)) => Some(b.saturating_sub(a)),
                _ => None,
            };
            let recovery_ms = match (inj.first_failure, inj.recovered) {
                (None, _) => Some(0.0),
                (Some(f), Some(r)) => Some(common::clock::ms(r.saturating_duration_since(f))),
                (Some(_), None) => None,
            };
            Record {
                kind: "chaos",
                seq: inj.seq,
                at: wall(inj.at),
                offset_ms: common::clock::ms(inj.at.saturating_duration_since(ctx.start)),
                command_exit_code: inj.exit_code,
                command_ms: inj.command_ms,
                outage_started_at: inj.first_failure.map(wall),
                outage_ended_at: inj.recovered.map(wall),
                recovery_ms,
                failed_requests: inj.failed,
                recovered: recovery_ms.is_some(),
                service_restarts,
                effective: inj.first_failure.is_some() || service_restarts.is_some_and(|r| r > 0),
            }
        })
        .collect();
    let outcome = Outcome {
        records,
        max_recovery_ms: config.max_recovery_ms,
        max_no_effect: config.max_no_effect,
    };
    let none = outcome.no_effect();
    if none > 0 {
        common::runner::warn(
            "soak-load",
            format!(
                "{none} of {} chaos injections had no effect (no request failed after them, \
                 the watched process did not restart)",
                outcome.records.len()
            ),
        );
    }
    outcome
}

impl Outcome {
    pub fn figures(&self) -> Vec<(&'static str, Value)> {
        let recoveries: Vec<f64> = self.records.iter().filter_map(|r| r.recovery_ms).collect();
        vec![
            ("chaos_injections", json!(self.records.len())),
            ("chaos_command_failures", json!(self.command_failures())),
            (
                "outages",
                json!(self
                    .records
                    .iter()
                    .filter(|r| r.outage_started_at.is_some())
                    .count()),
            ),
            (
                "unrecovered_outages",
                json!(self.records.iter().filter(|r| !r.recovered).count()),
            ),
            (
                "recovery_ms_max",
                json!(recoveries.iter().copied().reduce(f64::max)),
            ),
            (
                "outage_failed_requests",
                json!(self.records.iter().map(|r| r.failed_requests).sum::<u64>()),
            ),
            ("chaos_no_effect", json!(self.no_effect())),
        ]
    }

    fn no_effect(&self) -> usize {
        self.records.iter().filter(|r| !r.effective).count()
    }

    fn command_failures(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.command_exit_code != Some(0))
            .count()
    }

    pub fn gates(&self) -> Vec<Gate> {
        let all_recovered = self.records.iter().all(|r| r.recovered);
        let max = self
            .records
            .iter()
            .filter_map(|r| r.recovery_ms)
            .reduce(f64::max);
        let value = match max {
            Some(m) if all_recovered => m,
            _ => f64::NAN,
        };
        let failures = if self.records.is_empty() {
            f64::NAN
        } else {
            self.command_failures() as f64
        };
        vec![
            Gate::at_most("recovery_ms_max", self.max_recovery_ms, value),
            Gate::at_most("chaos_command_failures", 0.0, failures),
            Gate::at_most(
                "chaos_no_effect",
                self.max_no_effect,
                self.no_effect() as f64,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_runs_from_the_first_failure_to_a_success_sent_after_it() {
        let t = Tracker::default();
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        t.observe(ms(0), ms(1), false); // before any injection: ignored
        t.begin(1, ms(10), None);
        t.observe(ms(5), ms(9), false); // ended before the injection
        t.observe(ms(8), ms(11), true); // no outage yet
        t.observe(ms(9), ms(12), false); // the first failure
        t.observe(ms(11), ms(13), true); // sent before it: no recovery
        t.observe(ms(13), ms(14), false);
        t.observe(ms(15), ms(20), true); // recovered
        t.observe(ms(16), ms(21), false); // after recovery: not counted
        let inj = &t.snapshot()[0];
        assert_eq!(inj.first_failure, Some(ms(12)));
        assert_eq!(inj.recovered, Some(ms(20)));
        assert_eq!(inj.failed, 2);
    }
}
