//! One start/stop cycle: start, wait for readiness, (on the last cycle)
//! probe health, stop, and look for what was left behind.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde::Serialize;

use crate::attribution;
use crate::config::{Config, Start};
use crate::executables::Executables;
use crate::handoff::{self, Leftover};
use crate::output::OutputHub;
use crate::pidfile;
use crate::probe::{humanize, Probe};
use crate::procfs::{self, Proc};
use crate::supervise::{nap, Exit, Supervisor};

mod audit;
mod crash;

/// How long SIGKILL may take to end the main process before we call it unkillable.
const KILL_WAIT: Duration = Duration::from_secs(5);
/// A zombie must still be there this much later to count (its parent may be
/// about to reap it).
const ZOMBIE_RECHECK: Duration = Duration::from_millis(20);
/// How long a zombie's parent that is runnable but has not run yet may take
/// to reap it.
const ZOMBIE_PATIENCE: Duration = Duration::from_millis(1000);
/// Longest pause between readiness attempts during the first `FAST_PHASE`
/// of a start, and after it.
const FAST_BACKOFF: Duration = Duration::from_millis(2);
const FAST_PHASE: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_millis(5);

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
    fn of(p: &Proc) -> ProcRecord {
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
    pub zombies: Vec<ProcRecord>,
    pub orphans: Vec<ProcRecord>,
    pub leaked_ports: Vec<PortRecord>,
    pub leftover_files: Vec<String>,
    /// Processes outside the service's tree that outlived the stop and
    /// came from the service or hold a listener new since the start (see
    /// `handoff`); counted ones fail the cycle.
    pub foreign_leftovers: Vec<Leftover>,
    /// The crash drill's figures (with --workload).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub drill: Option<crash::Fields>,
    /// The audit's result (with --audit).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub audit: Option<audit::Fields>,
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

/// Health figures of the run.
#[derive(Debug, Default)]
pub struct HealthTally {
    pub ok: u64,
    pub total: u64,
}

pub enum Outcome {
    Done(Box<CycleRecord>),
    /// Ctrl-C: the cycle was abandoned; the caller kills everything.
    Interrupted,
}

/// Everything a cycle needs.
pub struct Runner<'a> {
    pub config: &'a Config,
    pub sup: &'a mut Supervisor,
    pub hub: &'a Arc<OutputHub>,
    pub out: &'a mut crate::report::Report,
    pub health: &'a mut HealthTally,
    pub exes: &'a mut Executables,
}

/// Which processes make up the service right now.
struct Service {
    /// The process we started (the command, or the `sh -c` of --start-cmd).
    started: i32,
    /// Its exit, once seen.
    started_exit: Option<Exit>,
    /// The process that is the service: --pidfile's pid, else `started`;
    /// `None` once `started` has handed the service over to other processes
    /// and no pidfile names one: then the service is whatever is left.
    main: Option<i32>,
    main_exit: Option<Exit>,
    /// When this cycle started: a pidfile written before it is stale.
    since: std::time::SystemTime,
    /// The pid the --pidfile named, once it named a usable one.
    pidfile_pid: Option<i32>,
    /// Why the --pidfile does not name a usable process yet.
    pidfile_state: String,
    /// `started` exited 0 before the stop and left the service running in
    /// other processes (a daemon's launcher; a --start-cmd).
    handed_over: bool,
    /// Set once the stop begins: an exit 0 from then on is the stop's doing,
    /// if the stop can explain it (see `stop_explains_exit`).
    stopping: bool,
    /// `started` handles the stop signal (or a --stop-cmd stops it): its exit
    /// 0 during the stop may be the stop's doing. A process without a
    /// handler dies of the signal instead, so its exit 0 was its own.
    stop_explains_exit: bool,
    /// At the hand-over: what `started` left to us, as `pid N (cmdline)`.
    left: Vec<String>,
}

struct Readiness {
    ready: bool,
    ready_ms: Option<f64>,
    attempts: u64,
    error: Option<String>,
    causes: Vec<&'static str>,
}

fn signal_name(sig: Signal) -> &'static str {
    sig.as_str()
}

impl Runner<'_> {
    /// Starts the service; returns it, the moment of the start and the
    /// count of `log:` matches before it (older lines do not count).
    fn start(&mut self) -> common::Result<(Service, Instant, u64)> {
        // Taken before the start so the service's first line cannot slip past it.
        let log_since = self.config.ready.log_count(self.hub);
        // File times come from a coarse clock: allow for its granularity.
        let since = std::time::SystemTime::now() - Duration::from_millis(20);
        let t0 = Instant::now();
        let started = match &self.config.start {
            Start::Exec(argv) => self.sup.spawn(argv, self.hub),
            Start::Shell(cmd) => self.sup.spawn_shell(cmd, self.hub),
        };
        let started = started.map_err(|e| {
            let what = match &self.config.start {
                Start::Exec(argv) => argv.first().cloned().unwrap_or_default(),
                Start::Shell(_) => "sh".to_string(),
            };
            common::Error::io(format!("cannot start {what}"), e)
        })?;
        let svc = Service {
            started,
            started_exit: None,
            main: Some(started),
            main_exit: None,
            since,
            pidfile_pid: None,
            pidfile_state: "not written".to_string(),
            handed_over: false,
            stopping: false,
            stop_explains_exit: true,
            left: Vec::new(),
        };
        Ok((svc, t0, log_since))
    }

    pub fn run(&mut self, n: u64, last: bool) -> common::Result<Outcome> {
        let config = self.config;
        let started_at = common::clock::now_rfc3339();
        // Before the start, so a listener the service hands away is new.
        let listening_before = handoff::Baseline::take();
        let (mut svc, t0, log_since) = self.start()?;
        // Read at once: the process is not reaped before we wait for it.
        let launched_ticks = procfs::start_ticks(svc.started)
            .or_else(|| procfs::start_ticks(self.sup.me()))
            .unwrap_or(0);
        let mut causes: Vec<&'static str> = Vec::new();

        let readiness = self.await_ready(&mut svc, t0, log_since, config.ready_timeout);
        if common::interrupt::requested() {
            return Ok(Outcome::Interrupted);
        }
        causes.extend(readiness.causes.iter().copied());
        // Whether the service is up now: ready, and (crash drill) ready again.
        let mut up = readiness.ready;

        let mut drill = None;
        if let (Some(crash), true) = (&config.crash, up) {
            let Some(done) = self.crash_drill(&mut svc, n, crash)? else {
                return Ok(Outcome::Interrupted);
            };
            causes.extend(done.causes.iter().copied());
            up = done.fields.recovered;
            drill = Some(done.fields);
        }
        let mut audit = None;
        if let Some(cfg) = &config.audit {
            let done = if up {
                self.run_audit(cfg, n, svc.main.unwrap_or(svc.started))
            } else {
                audit::Done::not_run()
            };
            if common::interrupt::requested() {
                return Ok(Outcome::Interrupted);
            }
            causes.extend(done.causes.iter().copied());
            audit = Some(done.fields);
        }

        if last && up {
            if let Some(health) = &self.config.health {
                if !self.health_phase(
                    &health.probe,
                    health.interval,
                    health.duration,
                    n,
                    svc.main,
                )? {
                    return Ok(Outcome::Interrupted);
                }
            }
        }

        // What the running service holds: its zombies and its listening sockets.
        let before = procfs::descendants(&procfs::scan(), self.sup.me());
        let mut zombies = self.unreaped_zombies(&before);
        let service_inodes: HashSet<u64> = before
            .iter()
            .filter(|p| !p.is_zombie())
            .flat_map(|p| procfs::socket_inodes(p.pid))
            .collect();
        let held: Vec<procfs::Listener> = procfs::listeners()
            .into_iter()
            .filter(|l| service_inodes.contains(&l.inode))
            .collect();
        let service_listeners: HashSet<u64> = held.iter().map(|l| l.inode).collect();
        let mut listening: Vec<String> = held
            .iter()
            .map(|l| std::net::SocketAddr::new(l.addr, l.port).to_string())
            .collect();
        listening.sort();
        listening.dedup();
        let pgid = procfs::stat(svc.started).map_or(svc.started, |p| p.pgid);
        for pid in self.what_runs(&svc, &before) {
            self.exes.observe(pid);
        }

        let stop = self.stop(&mut svc, pgid);
        // `-- CMD` that went to the background without a --pidfile: the
        // daemon is stopped like the service it is, but the cycle says how
        // to point cycle-check at it. Judged after the stop, which looks
        // once more: a launcher may exit after the probe passed (nginx
        // listens before it forks).
        let detail = (svc.handed_over
            && self.config.pidfile.is_none()
            && matches!(self.config.start, Start::Exec(_)))
        .then(|| {
            causes.push("daemonized");
            daemonized_detail(svc.started, &svc.left, &listening)
        });
        if common::interrupt::requested() {
            return Ok(Outcome::Interrupted);
        }
        if up && stop.ended_by == "exited" {
            // It was ready and then ended before we asked it to (judged
            // after the stop, so an exit just before it is not missed). A
            // --start-cmd that failed after a lenient probe passed is a
            // failed start.
            let start_cmd_failed = matches!(self.config.start, Start::Shell(_))
                && svc.started_exit.is_some_and(|e| e.code != Some(0));
            causes.push(if start_cmd_failed {
                "start_failed"
            } else {
                "exited_early"
            });
        }
        causes.extend(stop.causes.iter().copied());
        // A --start-cmd that exited non-zero on its own failed to start the
        // service, also when its exit raced the stop signal: a script ended
        // by that signal exits by signal (or 128+N), never with its own code.
        let start_cmd_failed = matches!(self.config.start, Start::Shell(_))
            && svc.started_exit.is_some_and(|e| {
                e.code.is_some_and(|c| c != 0) && !clean_exit(e, self.config.stop_signal)
            });
        if start_cmd_failed {
            causes.retain(|c| *c != "exit_status" && *c != "exited_early");
            if !causes.contains(&"start_failed") {
                causes.push("start_failed");
            }
        }

        // Give the rest of the tree --settle to follow the main process out.
        let settle_end = Instant::now() + self.config.settle;
        let after = loop {
            self.sup.reap_all();
            let tree = procfs::descendants(&procfs::scan(), self.sup.me());
            let now = Instant::now();
            if tree.iter().all(Proc::is_zombie) || now >= settle_end {
                break tree;
            }
            if !nap(Duration::from_millis(2).min(settle_end - now)) {
                return Ok(Outcome::Interrupted);
            }
        };
        let orphans: Vec<ProcRecord> = after
            .iter()
            .filter(|p| !p.is_zombie())
            .map(ProcRecord::of)
            .collect();
        for z in self.unreaped_zombies(&after) {
            if !zombies.iter().any(|known| known.pid == z.pid) {
                zombies.push(z);
            }
        }
        zombies.sort_by_key(|z| z.pid);

        let main_was_ours = svc.main.is_none_or(|m| before.iter().any(|p| p.pid == m));
        let leaked_ports = leaked_ports(&service_listeners, &orphans, !main_was_ours);
        let leftover_files: Vec<String> = self
            .config
            .check_files
            .iter()
            .flat_map(|c| c.matches())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();

        let mut own_sockets = service_inodes;
        own_sockets.extend(
            after
                .iter()
                .filter(|p| !p.is_zombie())
                .flat_map(|p| procfs::socket_inodes(p.pid)),
        );
        let (foreign_leftovers, _) = handoff::leftovers(
            &listening_before,
            &handoff::Service {
                launched_ticks,
                handed: &self.config.handed,
                me: self.sup.me(),
                own_sockets: &own_sockets,
                token: self.sup.token(),
            },
            &self.config.leftovers,
        );

        for (bad, cause) in [
            (!zombies.is_empty(), "zombies"),
            (!orphans.is_empty(), "orphans"),
            (!leaked_ports.is_empty(), "leaked_ports"),
            (!leftover_files.is_empty(), "leftover_files"),
            (
                foreign_leftovers.iter().any(|l| l.counted),
                "foreign_leftover",
            ),
        ] {
            if bad {
                causes.push(cause);
            }
        }

        // Leave nothing for the next cycle (nothing to do if the tree was empty).
        let stuck = if after.is_empty() {
            Vec::new()
        } else {
            self.sup.kill_all(Duration::from_secs(2))
        };
        if !stuck.is_empty() {
            let pids: Vec<String> = stuck.iter().map(|p| p.pid.to_string()).collect();
            common::runner::warn(
                "cycle-check",
                format!("cycle {n}: could not kill {}", pids.join(", ")),
            );
        }
        self.sup.forget_reaped();

        let exit = svc.main_exit.or(svc.started_exit).unwrap_or_default();
        causes.dedup();
        Ok(Outcome::Done(Box::new(CycleRecord {
            kind: "cycle",
            cycle: n,
            ok: causes.is_empty(),
            causes,
            started_at,
            pid: svc.main.unwrap_or(svc.started),
            pgid,
            ready: readiness.ready,
            ready_ms: readiness.ready_ms,
            ready_attempts: readiness.attempts,
            ready_error: readiness.error,
            stop_ms: stop.stop_ms,
            ended_by: stop.ended_by,
            exit_code: exit.code,
            signal: exit.signal.map(signal_name),
            stop_cmd_exit_code: stop.stop_cmd_exit_code,
            detail,
            zombies,
            orphans,
            leaked_ports,
            leftover_files,
            foreign_leftovers,
            drill,
            audit,
        })))
    }

    /// Updates which processes are the service and whether they have ended.
    fn refresh(&mut self, svc: &mut Service) {
        if svc.started_exit.is_none() {
            svc.started_exit = self.sup.try_wait(svc.started);
        }
        if let (Some(path), None) = (&self.config.pidfile, svc.pidfile_pid) {
            // Only a --start-cmd can hand the service to a process that is
            // not ours (a service manager started it); the pidfile of
            // `-- CMD` must name CMD or a descendant, or a stray pid would
            // have a stranger's group signalled.
            let may_be_foreign = matches!(self.config.start, Start::Shell(_));
            let me = self.sup.me();
            let ours = |pid: i32| {
                procfs::descendants(&procfs::scan(), me)
                    .iter()
                    .any(|p| p.pid == pid)
            };
            match pidfile::read(path, svc.started, svc.since, may_be_foreign, ours) {
                pidfile::Reading::Main(pid) => {
                    svc.pidfile_pid = Some(pid);
                    if svc.main != Some(pid) {
                        svc.main = Some(pid);
                        svc.main_exit = None;
                    }
                }
                pidfile::Reading::Unusable(why) => svc.pidfile_state = why,
            }
        }
        // `started` exited 0 before the stop and the service lives on in
        // other processes: a --start-cmd always hands over (its daemon may
        // belong to a service manager), `-- CMD` when it left processes.
        if !svc.handed_over
            && (!svc.stopping || !svc.stop_explains_exit)
            && svc.main == Some(svc.started)
            && svc.pidfile_pid != Some(svc.started)
            && svc.started_exit.is_some_and(|e| e.code == Some(0))
        {
            let left = self.sup.live_descendants();
            if matches!(self.config.start, Start::Shell(_)) || !left.is_empty() {
                svc.handed_over = true;
                svc.main = None;
                svc.main_exit = None;
                // Named now: by the time the cycle is judged they are stopped.
                svc.left = left
                    .iter()
                    .filter(|p| p.ppid == self.sup.me())
                    .map(|p| format!("pid {} ({})", p.pid, procfs::cmdline(p.pid, &p.comm)))
                    .collect();
            }
        }
        match svc.main {
            Some(pid) if pid == svc.started => svc.main_exit = svc.started_exit,
            Some(pid) if svc.main_exit.is_none() => svc.main_exit = self.sup.try_wait(pid),
            _ => {}
        }
    }

    /// Polls the readiness probe until `t0 + timeout`; `since`: log matches
    /// from before this start.
    fn await_ready(
        &mut self,
        svc: &mut Service,
        t0: Instant,
        since: u64,
        timeout: Duration,
    ) -> Readiness {
        let probe = &self.config.ready;
        let deadline = t0 + timeout;
        let mut attempts = 0;
        let mut delay = Duration::from_micros(250);
        let mut probe_passed = false;
        loop {
            self.refresh(svc);
            let pidfile_pending = self.config.pidfile.is_some() && svc.pidfile_pid.is_none();
            attempts += 1;
            let result = probe.check(self.hub, since);
            // Taken before the attribution below: that is our cost, not the service's.
            let ready_ms = common::clock::ms(t0.elapsed());
            let not_ready = |error: String, causes: Vec<&'static str>| Readiness {
                ready: false,
                ready_ms: None,
                attempts,
                error: Some(error),
                causes,
            };
            let last_error = match result {
                Ok(()) => {
                    // Another process on the port would answer just as well.
                    if let Err(e) = self.answered_by_service(probe, svc.main) {
                        return not_ready(e, vec!["foreign_listener"]);
                    }
                    if !pidfile_pending {
                        return Readiness {
                            ready: true,
                            ready_ms: Some(ready_ms),
                            attempts,
                            error: None,
                            causes: Vec::new(),
                        };
                    }
                    probe_passed = true;
                    "the probe passed".to_string()
                }
                Err(e) => e,
            };
            if let Start::Shell(_) = self.config.start {
                if let Some(exit) = svc.started_exit.filter(|e| e.code != Some(0)) {
                    return not_ready(
                        format!("--start-cmd failed: {}", describe_exit(exit)),
                        vec!["start_failed"],
                    );
                }
            }
            if let (Some(_), Some(exit)) = (svc.main, svc.main_exit) {
                return not_ready(
                    format!("exited before it was ready ({})", describe_exit(exit)),
                    vec!["exited_before_ready"],
                );
            }
            // `-- CMD` handed over to processes that have all ended since.
            if svc.handed_over
                && matches!(self.config.start, Start::Exec(_))
                && svc.main.is_none()
                && self.sup.live_descendants().is_empty()
            {
                return not_ready(
                    "exited 0 before it was ready, and every process it left has ended".to_string(),
                    vec!["exited_before_ready"],
                );
            }
            let now = Instant::now();
            if now >= deadline || common::interrupt::requested() {
                let waited = humanize(timeout);
                if pidfile_pending {
                    let path = self.config.pidfile.as_deref().unwrap_or(Path::new(""));
                    let state = &svc.pidfile_state;
                    let (probe_said, mut causes) = if probe_passed {
                        ("the probe passed".to_string(), vec![])
                    } else {
                        (format!("the probe: {last_error}"), vec!["not_ready"])
                    };
                    causes.push("pidfile_missing");
                    let state = if state == "not written" {
                        format!("not written within {waited}")
                    } else {
                        format!("{state} (after {waited})")
                    };
                    return not_ready(
                        format!("--pidfile {}: {state} ({probe_said})", path.display()),
                        causes,
                    );
                }
                return not_ready(
                    format!("not ready after {waited}: {last_error}"),
                    vec!["not_ready"],
                );
            }
            if probe.is_log() {
                // A matching line wakes us at once; no need to poll faster.
                self.hub.wait_for_match(delay.min(deadline - now));
            } else {
                std::thread::sleep(delay.min(deadline - now));
            }
            // Tight polling while a fast start is likely, gentler after that.
            let cap = if now - t0 < FAST_PHASE {
                FAST_BACKOFF
            } else {
                MAX_BACKOFF
            };
            delay = (delay * 2).min(cap);
        }
    }

    /// The processes whose executables say what ran as the service: the
    /// main process, except the `sh` of a --start-cmd (then its children);
    /// after a hand-over without a pidfile, what was left directly to us.
    fn what_runs(&self, svc: &Service, tree: &[Proc]) -> Vec<i32> {
        let live = |p: &&Proc| !p.is_zombie();
        match svc.main {
            Some(main) if main == svc.started && matches!(self.config.start, Start::Shell(_)) => {
                let children: Vec<i32> = tree
                    .iter()
                    .filter(live)
                    .filter(|p| p.ppid == main)
                    .map(|p| p.pid)
                    .collect();
                // `sh -c CMD` usually execs a lone command: then it is CMD.
                if children.is_empty() {
                    vec![main]
                } else {
                    children
                }
            }
            Some(main) => vec![main],
            None => tree
                .iter()
                .filter(live)
                .filter(|p| p.ppid == self.sup.me())
                .map(|p| p.pid)
                .collect(),
        }
    }

    /// The processes that make up the service: every live descendant of
    /// cycle-check, and a --pidfile main process that is not one (started
    /// through a service manager) with its own descendants.
    fn service_pids(&self, main: Option<i32>) -> Vec<i32> {
        let table = procfs::scan();
        let mut pids: Vec<i32> = procfs::descendants(&table, self.sup.me())
            .iter()
            .filter(|p| !p.is_zombie())
            .map(|p| p.pid)
            .collect();
        if let Some(main) = main.filter(|m| !pids.contains(m)) {
            pids.push(main);
            pids.extend(procfs::descendants(&table, main).iter().map(|p| p.pid));
        }
        pids
    }

    /// For a probe that just passed: Ok when no process outside the service
    /// listens where the probe connected, else who does.
    fn answered_by_service(&self, probe: &Probe, main: Option<i32>) -> Result<(), String> {
        let Some(addr) = probe.addr() else {
            return Ok(());
        };
        let foreign = attribution::foreign_listeners(addr, &self.service_pids(main));
        if foreign.is_empty() {
            return Ok(());
        }
        let holders: Vec<String> = foreign.iter().map(ToString::to_string).collect();
        Err(format!(
            "the probe was answered by {}, which is not part of the service",
            holders.join(" and by ")
        ))
    }

    /// Probes every interval for the duration; false on Ctrl-C.
    fn health_phase(
        &mut self,
        probe: &Probe,
        interval: Duration,
        duration: Duration,
        n: u64,
        main: Option<i32>,
    ) -> common::Result<bool> {
        let start = Instant::now();
        let mut seq = 0u64;
        let mut since = probe.log_count(self.hub);
        loop {
            let due = interval.saturating_mul(seq as u32);
            if due >= duration || seq >= u64::from(u32::MAX) {
                return Ok(true);
            }
            let wait = (start + due).saturating_duration_since(Instant::now());
            if !nap(wait) {
                return Ok(false);
            }
            seq += 1;
            let at = common::clock::now_rfc3339();
            let mut attempts = 0;
            let mut result;
            let mut t;
            loop {
                attempts += 1;
                t = Instant::now();
                result = probe
                    .check(self.hub, since)
                    .and_then(|()| self.answered_by_service(probe, main));
                if result.is_ok() || attempts >= self.config.failure_threshold {
                    break;
                }
                if !nap(Duration::from_millis(100)) {
                    return Ok(false);
                }
            }
            since = probe.log_count(self.hub);
            let ok = result.is_ok();
            self.health.total += 1;
            if ok {
                self.health.ok += 1;
            }
            self.out.health(&HealthRecord {
                kind: "health",
                seq,
                cycle: n,
                at,
                ok,
                latency_ms: common::clock::ms(t.elapsed()),
                attempts,
                error: result.err(),
            })?;
        }
    }

    /// Zombies whose parent is alive and is not us: children the service
    /// (or a leftover) has not reaped. A zombie counts once it is still
    /// there `ZOMBIE_RECHECK` later and its parent has had the chance to reap
    /// it (see [`parent_may_yet_reap`]), or after `ZOMBIE_PATIENCE`.
    fn unreaped_zombies(&self, tree: &[Proc]) -> Vec<ProcRecord> {
        let me = self.sup.me();
        let mut pending: Vec<&Proc> = tree
            .iter()
            .filter(|p| p.is_zombie() && p.ppid != me)
            .collect();
        let give_up = Instant::now() + ZOMBIE_PATIENCE;
        let mut found = Vec::new();
        while !pending.is_empty() {
            std::thread::sleep(ZOMBIE_RECHECK);
            let patient = Instant::now() < give_up;
            pending.retain(|p| {
                let Some(now) =
                    procfs::stat(p.pid).filter(|now| now.is_zombie() && now.ppid == p.ppid)
                else {
                    return false; // reaped
                };
                let parent = procfs::stat(p.ppid).map(|pp| pp.state);
                if patient && parent_may_yet_reap(parent) {
                    return true;
                }
                found.push(ProcRecord::of(&now));
                false
            });
        }
        found
    }

    /// A launcher on its way out: the started process is still there but
    /// has already put processes into a session of their own, as a daemon's
    /// launcher does just before it exits 0 (nginx listens, forks its master
    /// and exits; under load the probe can pass first). It gets --settle to
    /// exit on its own before the stop, so its exit is not taken for the
    /// stop's doing. A service that keeps running (one that left a detached
    /// child behind) just costs that wait.
    fn await_launcher(&mut self, svc: &mut Service) {
        if self.config.pidfile.is_some() || svc.main != Some(svc.started) || svc.main_exit.is_some()
        {
            return;
        }
        let Some(sid) = procfs::stat(svc.started).map(|p| p.sid) else {
            return;
        };
        if self.sup.live_descendants().iter().all(|p| p.sid == sid) {
            return;
        }
        let until = Instant::now() + self.config.settle;
        while Instant::now() < until && svc.main == Some(svc.started) && svc.main_exit.is_none() {
            if !nap(Duration::from_millis(1)) {
                return;
            }
            self.refresh(svc);
        }
    }

    fn stop(&mut self, svc: &mut Service, pgid: i32) -> StopResult {
        let mut result = StopResult {
            stop_ms: None,
            ended_by: "exited",
            stop_cmd_exit_code: None,
            causes: Vec::new(),
        };
        self.refresh(svc);
        self.await_launcher(svc);
        svc.stopping = true;
        let already = match svc.main {
            Some(_) => svc.main_exit.is_some(),
            None => self.sup.live_descendants().is_empty(),
        };
        if already {
            return result;
        }
        svc.stop_explains_exit = self.config.stop_cmd.is_some()
            || procfs::catches(svc.started, self.config.stop_signal as i32);
        let t = Instant::now();
        let deadline = t + self.config.stop_timeout;
        let mut stop_cmd = None;
        let mut signalled: Vec<i32> = Vec::new();
        match &self.config.stop_cmd {
            Some(cmd) => match self.sup.spawn_shell(cmd, self.hub) {
                Ok(pid) => stop_cmd = Some(pid),
                Err(e) => {
                    common::runner::warn("cycle-check", format!("cannot run --stop-cmd: {e}"));
                    result.causes.push("stop_failed");
                }
            },
            None => {
                // The main process gets the stop signal exactly once: a
                // second SIGTERM or SIGINT means "stop now" to many services.
                let main_group = svc.main.and_then(procfs::stat).map(|p| p.pgid);
                let mut main_reached = false;
                for g in self.stop_groups(svc, pgid, None) {
                    signalled.push(g);
                    if self.sup.signal_group(g, self.config.stop_signal) && Some(g) == main_group {
                        main_reached = true;
                    }
                }
                if let (Some(main), false) = (svc.main, main_reached) {
                    self.sup.signal_pid(main, self.config.stop_signal);
                }
            }
        }
        let stop_cmd_sid = stop_cmd;
        let stopped = |this: &mut Self, svc: &mut Service| -> bool {
            this.refresh(svc);
            match svc.main {
                Some(_) => svc.main_exit.is_some(),
                // No main process: stopped when nothing but the stop command is left.
                None => this
                    .sup
                    .live_descendants()
                    .iter()
                    .all(|p| Some(p.sid) == stop_cmd_sid),
            }
        };
        let mut delay = Duration::from_micros(100);
        let mut ended = false;
        loop {
            if let (Some(pid), None) = (stop_cmd, result.stop_cmd_exit_code) {
                if let Some(exit) = self.sup.try_wait(pid) {
                    result.stop_cmd_exit_code = Some(
                        exit.code
                            .unwrap_or(128 + exit.signal.map_or(0, |s| s as i32)),
                    );
                }
            }
            if stopped(self, svc) {
                ended = true;
                break;
            }
            // Handed over during the stop (a launcher that exited on its
            // own): what it left is the service, and gets the stop signal too.
            if svc.main.is_none() && self.config.stop_cmd.is_none() {
                for g in self.stop_groups(svc, pgid, None) {
                    if !signalled.contains(&g) {
                        signalled.push(g);
                        self.sup.signal_group(g, self.config.stop_signal);
                    }
                }
            }
            let now = Instant::now();
            if now >= deadline || common::interrupt::requested() {
                break;
            }
            std::thread::sleep(delay.min(deadline - now));
            delay = (delay * 2).min(Duration::from_millis(1));
        }
        if let Some(pid) = stop_cmd {
            if result.stop_cmd_exit_code.is_none() {
                // The service may be down before its stop command has finished:
                // let the command have the rest of the grace period.
                if let Some(exit) = self.sup.wait_until(pid, deadline) {
                    result.stop_cmd_exit_code = Some(
                        exit.code
                            .unwrap_or(128 + exit.signal.map_or(0, |s| s as i32)),
                    );
                }
            }
            if result.stop_cmd_exit_code.is_none() {
                // A --stop-cmd still running at the deadline is killed with its group.
                let _ = self.sup.signal_group(pid, Signal::SIGKILL);
                if let Some(exit) = self.sup.wait_until(pid, Instant::now() + KILL_WAIT) {
                    result.stop_cmd_exit_code = exit.code.or(Some(137));
                }
            }
            if result.stop_cmd_exit_code != Some(0) {
                result.causes.push("stop_failed");
            }
        }
        if ended {
            result.stop_ms = Some(common::clock::ms(t.elapsed()));
            result.ended_by = if stop_cmd.is_some() {
                "stop_cmd"
            } else {
                "stop_signal"
            };
            if let Some(exit) = svc.main_exit {
                if !clean_exit(exit, self.config.stop_signal) {
                    result.causes.push("exit_status");
                }
            }
            return result;
        }
        if common::interrupt::requested() {
            return result;
        }
        // The grace period is over: SIGKILL, as systemd and Kubernetes do.
        for g in self.stop_groups(svc, pgid, stop_cmd_sid) {
            let _ = self.sup.signal_group(g, Signal::SIGKILL);
        }
        match svc.main {
            Some(main) => self.sup.signal_pid(main, Signal::SIGKILL),
            None => {
                for p in self.sup.live_descendants() {
                    if Some(p.sid) != stop_cmd_sid {
                        self.sup.signal_pid(p.pid, Signal::SIGKILL);
                    }
                }
            }
        }
        let kill_deadline = Instant::now() + KILL_WAIT;
        while !stopped(self, svc) {
            if Instant::now() >= kill_deadline || common::interrupt::requested() {
                result.ended_by = "unkillable";
                result.causes.push("stop_failed");
                return result;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        result.stop_ms = Some(common::clock::ms(t.elapsed()));
        result.ended_by = "sigkill";
        result.causes.push("stop_timeout");
        result
    }
}

impl Runner<'_> {
    /// The process groups a stop signal goes to: the one we started and the
    /// main process's own (a daemon usually made a new one); without a main
    /// process, the groups of everything left (but not `spare`'s, the
    /// --stop-cmd's session).
    fn stop_groups(&self, svc: &Service, pgid: i32, spare: Option<i32>) -> Vec<i32> {
        let mut groups = vec![pgid];
        if let Some(p) = svc.main.and_then(procfs::stat) {
            groups.push(p.pgid);
        }
        if svc.main.is_none() {
            groups.extend(
                self.sup
                    .live_descendants()
                    .iter()
                    .filter(|p| Some(p.sid) != spare)
                    .map(|p| p.pgid),
            );
        }
        groups.sort_unstable();
        groups.dedup();
        groups
    }
}

/// `detail` of a `daemonized` cycle: who exited and what it left running,
/// listening where.
fn daemonized_detail(started: i32, left: &[String], listening: &[String]) -> String {
    let mut what: Vec<String> = left.iter().take(3).cloned().collect();
    if left.len() > 3 {
        what.push(format!("{} more", left.len() - 3));
    }
    let doing = if listening.is_empty() {
        "running".to_string()
    } else {
        format!("listening on {}", listening.join(", "))
    };
    format!(
        "the service daemonized: pass --pidfile (pid {started} exited 0 and left {} {doing})",
        if what.is_empty() {
            "processes".to_string()
        } else {
            what.join(", ")
        }
    )
}

struct StopResult {
    stop_ms: Option<f64>,
    ended_by: &'static str,
    stop_cmd_exit_code: Option<i32>,
    causes: Vec<&'static str>,
}

/// Whether a zombie's parent may simply not have had the CPU yet: it is
/// runnable (`R`: woken by SIGCHLD or busy, waiting for a CPU on a loaded
/// machine) or in uninterruptible sleep (`D`). A parent asleep (`S`) or
/// stopped with an unreaped child is not about to reap it. Before this, a
/// service looping over short-lived children was now and then charged with
/// a zombie its parent reaped a few ms after the 20 ms recheck (2 runs in
/// ~45 of the test suite at load 8-12 on 2 CPUs).
fn parent_may_yet_reap(parent_state: Option<char>) -> bool {
    matches!(parent_state, Some('R' | 'D'))
}

/// Exit 0, death by the stop signal, or 128 + the stop signal (what a shell
/// or a JVM reports) is a clean stop; anything else is not.
fn clean_exit(exit: Exit, stop_signal: Signal) -> bool {
    match (exit.code, exit.signal) {
        (Some(0), _) => true,
        (Some(code), _) => code == 128 + stop_signal as i32,
        (None, Some(sig)) => sig == stop_signal,
        // Not our child: no status to judge.
        (None, None) => true,
    }
}

fn describe_exit(exit: Exit) -> String {
    match (exit.code, exit.signal) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by {}", sig.as_str()),
        _ => "exit status unknown".to_string(),
    }
}

/// Listening sockets that the service held before the stop, or that a
/// leftover process holds, and which are still open.
///
/// Without leftovers, and with a main process that was our descendant, the
/// kernel table is not read again: cycle-check is the subreaper, so any
/// process still holding the service's sockets would be a leftover of ours.
fn leaked_ports(
    service_listeners: &HashSet<u64>,
    orphans: &[ProcRecord],
    must_look: bool,
) -> Vec<PortRecord> {
    if orphans.is_empty() && !must_look {
        return Vec::new();
    }
    let orphan_pids: Vec<i32> = orphans.iter().map(|o| o.pid).collect();
    let orphan_inodes: HashSet<u64> = orphan_pids
        .iter()
        .flat_map(|&p| procfs::socket_inodes(p))
        .collect();
    let still: Vec<procfs::Listener> = procfs::listeners()
        .into_iter()
        .filter(|l| service_listeners.contains(&l.inode) || orphan_inodes.contains(&l.inode))
        .collect();
    if still.is_empty() {
        return Vec::new();
    }
    let inodes: HashSet<u64> = still.iter().map(|l| l.inode).collect();
    let owners = procfs::owners(&inodes, &orphan_pids);
    let mut out: Vec<PortRecord> = still
        .iter()
        .map(|l| {
            let pid = owners.get(&l.inode).copied();
            PortRecord {
                address: l.addr.to_string(),
                port: l.port,
                pid,
                cmdline: pid.map(|p| {
                    let comm = procfs::stat(p).map(|s| s.comm).unwrap_or_default();
                    procfs::cmdline(p, &comm)
                }),
            }
        })
        .collect();
    out.sort_by(|a, b| (a.port, &a.address).cmp(&(b.port, &b.address)));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zombie_is_judged_once_its_parent_could_have_reaped_it() {
        assert!(parent_may_yet_reap(Some('R')));
        assert!(parent_may_yet_reap(Some('D')));
        for asleep_or_stopped in ['S', 'T', 't', 'I', 'Z'] {
            assert!(!parent_may_yet_reap(Some(asleep_or_stopped)));
        }
        assert!(!parent_may_yet_reap(None), "gone: the zombie is reparented");
    }

    #[test]
    fn clean_exits() {
        let term = Signal::SIGTERM;
        assert!(clean_exit(
            Exit {
                code: Some(0),
                signal: None
            },
            term
        ));
        assert!(clean_exit(
            Exit {
                code: Some(143),
                signal: None
            },
            term
        ));
        assert!(clean_exit(
            Exit {
                code: None,
                signal: Some(term)
            },
            term
        ));
        assert!(!clean_exit(
            Exit {
                code: Some(1),
                signal: None
            },
            term
        ));
        assert!(!clean_exit(
            Exit {
                code: None,
                signal: Some(Signal::SIGABRT)
            },
            term
        ));
        assert!(clean_exit(Exit::default(), term));
    }
}
