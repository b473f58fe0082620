//! cycle-check: start/stop reliability as a command.
//!
//! Start a service N times, wait until it is really ready, stop it the way
//! systemd and Kubernetes do, and prove after each stop that nothing was
//! left: no zombie, no orphan (cycle-check is a child subreaper, so even
//! double-forked descendants come back to it), no listening port still held,
//! no leftover file. Optionally hold the last start up and probe its health.
//! Writes a `cycle` record per cycle, `health` records, and the summary.
//!
//! Modules: `cli` (flags) → `config` (validated) → `cycle` (one cycle) using
//! `supervise` (spawn, signal, wait, reap), `probe`/`http` (readiness and
//! health), `procfs` (process table, sockets a process holds), `sock_diag`
//! (the machine's listening sockets), `attribution` (who answered a probe),
//! `handoff` (what the service handed to processes outside its tree) and
//! `service_output` (the service's stdout and stderr); the cycle fills in
//! and writes `records`, which `text` renders for `--format text`.

use std::collections::BTreeMap;
use std::time::Duration;

use common::cli::Format;
use common::gate::Gate;
use common::output::RecordWriter;
use common::summary::SummaryBuilder;
use common::Outcome;

pub mod attribution;
pub mod cli;
pub mod config;
pub mod cycle;
pub mod executables;
pub mod handoff;
pub mod http;
pub mod pidfile;
pub mod probe;
pub mod procfs;
pub mod records;
pub mod service_output;
pub mod sock_diag;
pub mod supervise;
pub mod text;

use config::Config;
use cycle::{HealthTally, Runner};
use records::CycleRecord;
use supervise::Supervisor;

/// Parses, validates and runs; the result becomes the exit code.
pub fn run(cli: cli::Cli) -> common::Result<Outcome> {
    let config = Config::from_cli(cli)?;
    install_signal_handlers()?;
    let mut out = match config.format {
        Format::Jsonl => RecordWriter::stdout(),
        Format::Text => RecordWriter::stdout().rendered(text::TEXT),
    };
    // Dropped (killing and reaping every descendant) on every way out of
    // this function, including errors and panics.
    let mut sup = Supervisor::new()?;
    let hub =
        service_output::OutputHub::new(config.service_log.as_deref(), config.log_regexes.clone())?;
    let mut summary = SummaryBuilder::new("cycle-check", env!("CARGO_PKG_VERSION"));
    check_before_first_start(&config, &hub)?;
    let mut cycles: Vec<CycleRecord> = Vec::new();
    let mut health = HealthTally::default();
    let mut exes = executables::Executables::default();
    let mut interrupted = false;

    for n in 1..=config.cycles {
        if common::interrupt::requested() {
            interrupted = true;
            break;
        }
        let mut runner = Runner {
            config: &config,
            sup: &mut sup,
            hub: &hub,
            out: &mut out,
            health: &mut health,
            exes: &mut exes,
        };
        match runner.run(n, n == config.cycles)? {
            cycle::Outcome::Done(record) => {
                records::write(&mut out, &record)?;
                cycles.push(*record);
            }
            cycle::Outcome::Interrupted => {
                interrupted = true;
                break;
            }
        }
    }
    // Kill before the summary, so "interrupted" also means "nothing left".
    let stuck = sup.kill_all(Duration::from_secs(5));
    if !stuck.is_empty() {
        let pids: Vec<String> = stuck.iter().map(|p| p.pid.to_string()).collect();
        common::runner::warn(
            "cycle-check",
            format!("could not kill: {}", pids.join(", ")),
        );
    }
    drop(sup);

    // The evidence names exactly what was cycled: the program as named
    // (a script, a shim) and the executables that ran as the service.
    let given = executables::given(&config.start);
    for (path, digest) in exes.inputs(given.as_deref()) {
        summary.input(&path, digest);
    }

    summarize(&mut summary, &config, &cycles, &health);
    let lost = hub.lost_lines();
    summary.figure("service_log_lost_lines", lost);
    if let (true, Some(path)) = (lost > 0, hub.log_path()) {
        common::runner::warn(
            "cycle-check",
            format!("--service-log {path}: {lost} lines of service output could not be written"),
        );
    }
    let summary = summary.finish(interrupted);
    records::write(&mut out, &summary)?;
    Ok(summary.outcome())
}

/// Before anything is started, the probes must not already be answered:
/// no process may listen where an `http://` or `tcp://` probe connects, and
/// the readiness probe must fail. Otherwise a service that never came up
/// would pass on another process's answers.
fn check_before_first_start(
    config: &Config,
    hub: &service_output::OutputHub,
) -> common::Result<()> {
    let health = config.health.as_ref().map(|h| ("--health", &h.probe));
    for (flag, probe) in std::iter::once(("--ready", &config.ready)).chain(health) {
        let held = |what: String| {
            common::Error::new(format!(
                "{flag} {}: {what} before the service is started",
                probe.text
            ))
        };
        if let Some(addr) = probe.addr() {
            if let Some(h) = attribution::foreign_listeners(addr, &[]).first() {
                return Err(
                    held(format!("{} is already held by {}", h.listener, h.who())).with_hint(
                        "stop that process or give the service a free port: a probe it \
                         answers says nothing about the service",
                    ),
                );
            }
        }
        // The health probe of a `log:` or `exec:` kind may well pass before
        // the start (it is only asked once the service is ready).
        let ask = flag == "--ready" || probe.addr().is_some();
        if ask && !probe.is_log() && probe.check(hub, 0).is_ok() {
            return Err(common::Error::new(format!(
                "{flag} {}: already passes before the service is started, so it cannot \
                 tell when the service is {}",
                probe.text,
                if flag == "--ready" {
                    "ready"
                } else {
                    "healthy"
                }
            ))
            .with_hint(
                "use a probe that fails until the service is up (http://, tcp://, \
                 log:REGEX, or an exec: command that checks the service)",
            ));
        }
    }
    Ok(())
}

/// How long cycle-check has, after SIGINT or SIGTERM, to stop on its own
/// before the watchdog ends it: above its own clean-up (the cycle in
/// progress is abandoned, every descendant killed and reaped within 5 s,
/// the summary written).
pub const INTERRUPT_GRACE: Duration = Duration::from_secs(8);

/// SIGINT and SIGTERM through `common::interrupt`: the flag the cycle polls,
/// and a watchdog that ends cycle-check [`INTERRUPT_GRACE`] after the
/// signal (at once after a second one) where nothing polls it (blocked
/// opening a `--service-log` FIFO, or writing to a full stdout pipe),
/// killing every process of the service first, so no way out leaves one
/// running. SIGHUP only sets the flag: the terminal went away, and the
/// cooperative stop is enough.
fn install_signal_handlers() -> common::Result<()> {
    let me = std::process::id() as i32;
    let kill_service: common::interrupt::BeforeExit =
        Box::new(move || supervise::kill_tree_now(me, Duration::from_secs(1)));
    common::interrupt::install_with(INTERRUPT_GRACE, Some(kill_service))?;
    signal_hook::flag::register(signal_hook::consts::SIGHUP, common::interrupt::flag())
        .map_err(|e| common::Error::io("signal handler", e))?;
    Ok(())
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn summarize(
    s: &mut SummaryBuilder,
    config: &Config,
    records: &[CycleRecord],
    health: &HealthTally,
) {
    let mut ready: Vec<f64> = records.iter().filter_map(|r| r.ready_ms).collect();
    ready.sort_by(f64::total_cmp);
    let mut stop: Vec<f64> = records.iter().filter_map(|r| r.stop_ms).collect();
    stop.sort_by(f64::total_cmp);
    let failed = records.iter().filter(|r| !r.ok).count();
    let zombies: usize = records.iter().map(|r| r.left.zombies.len()).sum();
    let orphans: usize = records.iter().map(|r| r.left.orphans.len()).sum();
    let ports: usize = records.iter().map(|r| r.left.leaked_ports.len()).sum();
    let files: usize = records.iter().map(|r| r.left.leftover_files.len()).sum();
    let foreign: usize = records
        .iter()
        .flat_map(|r| &r.left.foreign_leftovers)
        .filter(|l| l.counted)
        .count();
    let mut failures: BTreeMap<&str, u64> = BTreeMap::new();
    for cause in records.iter().flat_map(|r| r.causes.iter()) {
        *failures.entry(cause).or_default() += 1;
    }
    let misses = health.total - health.ok;

    s.figure("cycles", records.len());
    s.figure("cycles_ok", records.len() - failed);
    s.figure("failed_cycles", failed);
    s.figure("ready_ms_p50", percentile(&ready, 0.50));
    s.figure("ready_ms_p95", percentile(&ready, 0.95));
    s.figure("ready_ms_max", ready.last());
    s.figure("stop_ms_p50", percentile(&stop, 0.50));
    s.figure("stop_ms_max", stop.last());
    s.figure("zombies", zombies);
    s.figure("orphans", orphans);
    s.figure("leaked_ports", ports);
    s.figure("leftover_files", files);
    s.figure("foreign_leftovers", foreign);
    s.figure("health_ok", health.ok);
    s.figure("health_total", health.total);
    s.figure("health_misses", misses);
    s.figure("failures", failures);

    s.gate(Gate::at_most("failed_cycles", 0.0, failed as f64));
    s.gate(Gate::at_most("zombies", 0.0, zombies as f64));
    s.gate(Gate::at_most("orphans", 0.0, orphans as f64));
    s.gate(Gate::at_most("leaked_ports", 0.0, ports as f64));
    s.gate(Gate::at_most("foreign_leftovers", 0.0, foreign as f64));
    if let Some(h) = &config.health {
        // A run that never got to its health phase missed every planned check.
        let planned = (h.duration.as_secs_f64() / h.interval.as_secs_f64()).ceil();
        let value = if health.total == 0 {
            planned.max(1.0)
        } else {
            misses as f64
        };
        s.gate(Gate::at_most(
            "health_misses",
            config.max_health_misses as f64,
            value,
        ));
    }
    if let Some(crash) = &config.crash {
        crash_figures(s, crash.max_recovery_ms, records);
    }
    if config.audit.is_some() {
        audit_figures(s, records);
    }
    if let Some(limit) = config.max_ready_ms {
        if records.iter().any(|r| !r.ready) {
            // A cycle that never became ready took at least --ready-timeout: a fail.
            s.gate(Gate {
                name: "ready_ms_max".into(),
                op: common::gate::Op::Le,
                limit,
                value: config.ready_timeout.as_secs_f64() * 1000.0,
                pass: false,
            });
        } else {
            s.gate(Gate::at_most(
                "ready_ms_max",
                limit,
                ready.last().copied().unwrap_or(0.0),
            ));
        }
    }
}

/// The crash drill's figures and gate. A cycle that never got to the kill
/// (not ready) or never came back has no recovery time: the gate's value
/// is then null, and it fails.
fn crash_figures(s: &mut SummaryBuilder, limit_ms: f64, records: &[CycleRecord]) {
    let drills: Vec<_> = records.iter().filter_map(|r| r.drill.as_ref()).collect();
    let mut recovery: Vec<f64> = drills.iter().filter_map(|d| d.recovery_ms).collect();
    recovery.sort_by(f64::total_cmp);
    let complete = !records.is_empty() && recovery.len() == records.len();
    s.figure("crashes", drills.len());
    s.figure("recovery_ms_p50", percentile(&recovery, 0.50));
    s.figure("recovery_ms_max", recovery.last());
    let value = match recovery.last() {
        Some(&max) if complete => max,
        _ => f64::NAN,
    };
    s.gate(Gate::at_most("recovery_ms_max", limit_ms, value));
}

/// The audit's figures and gate: the distinct findings of every cycle's
/// audit (a violation that stays is seen again by each later audit, and
/// counted once), null (a fail) when an audit did not run or failed.
fn audit_figures(s: &mut SummaryBuilder, records: &[CycleRecord]) {
    let audits: Vec<_> = records.iter().filter_map(|r| r.audit.as_ref()).collect();
    let counted = audits.iter().filter(|a| a.audit_findings.is_some()).count();
    let complete = !records.is_empty() && counted == records.len();
    let distinct: std::collections::BTreeSet<&str> = audits
        .iter()
        .flat_map(|a| a.keys.iter().map(String::as_str))
        .collect();
    let total = distinct.len() as u64;
    let mut violations: BTreeMap<String, u64> = BTreeMap::new();
    for key in &distinct {
        let f: serde_json::Value = serde_json::from_str(key).unwrap_or_default();
        let name = f["violation"].as_str().unwrap_or("unnamed");
        *violations.entry(name.to_string()).or_default() += 1;
    }
    s.figure("audit_findings", complete.then_some(total));
    s.figure("audit_failures", audits.len() - counted);
    s.figure("audit_violations", violations);
    let value = if complete { total as f64 } else { f64::NAN };
    s.gate(Gate::at_most("audit_findings", 0.0, value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(10.0));
        assert_eq!(percentile(&v, 0.95), Some(19.0));
        assert_eq!(percentile(&v, 1.0), Some(20.0));
        assert_eq!(percentile(&[3.0], 0.5), Some(3.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
