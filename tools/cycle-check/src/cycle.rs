//! One start/stop cycle: start, wait for readiness (`ready`), run the crash
//! drill (`crash`) and the audit (`audit`), on the last cycle probe health
//! (`health`), stop (`stop`), and look for what was left behind
//! (`left_behind`). What it finds goes into a `records::CycleRecord`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::output::RecordWriter;
use nix::sys::signal::Signal;

use crate::config::{Config, Start};
use crate::executables::Executables;
use crate::handoff;
use crate::pidfile;
use crate::procfs::{self, Proc};
use crate::records::{AuditFields, CrashFields, CycleRecord};
use crate::service_output::OutputHub;
use crate::supervise::{Exit, Supervisor};

mod audit;
mod crash;
mod health;
mod left_behind;
mod ready;
mod stop;

/// How long SIGKILL may take to end the main process before we call it unkillable.
const KILL_WAIT: Duration = Duration::from_secs(5);

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
    pub out: &'a mut RecordWriter,
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

/// What was done with the service while it was up.
struct WhileUp {
    /// Whether it is up now: ready, and (crash drill) ready again.
    up: bool,
    drill: Option<CrashFields>,
    audit: Option<AuditFields>,
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

    /// Runs cycle `n` (`last`: the one that holds the health phase) from
    /// the start to a service stopped and checked, and nothing of it left.
    pub fn run(&mut self, n: u64, last: bool) -> common::Result<Outcome> {
        let started_at = common::clock::now_rfc3339();
        // Before the start, so a listener the service hands away is new.
        let baseline = handoff::Baseline::take();
        let (mut svc, t0, log_since) = self.start()?;
        // Read at once: the process is not reaped before we wait for it.
        let launched_ticks = procfs::start_ticks(svc.started)
            .or_else(|| procfs::start_ticks(self.sup.me()))
            .unwrap_or(0);

        let readiness = self.await_ready(&mut svc, t0, log_since, self.config.ready_timeout);
        if common::interrupt::requested() {
            return Ok(Outcome::Interrupted);
        }
        let mut causes = readiness.causes.clone();
        let Some(done) = self.while_up(&mut svc, n, last, readiness.ready, &mut causes)? else {
            return Ok(Outcome::Interrupted);
        };

        let running = self.running();
        let pgid = procfs::stat(svc.started).map_or(svc.started, |p| p.pgid);
        for pid in self.what_runs(&svc, &running.tree) {
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
            daemonized_detail(svc.started, &svc.left, &running.listening)
        });
        if common::interrupt::requested() {
            return Ok(Outcome::Interrupted);
        }
        self.judge_stop(&svc, done.up, &stop, &mut causes);

        let Some(after) = self.settle() else {
            return Ok(Outcome::Interrupted);
        };
        let left = self.left_behind(running, &after, &baseline, launched_ticks);
        causes.extend(left.causes());
        self.clear_for_next(n, &after);

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
            signal: exit.signal.map(Signal::as_str),
            stop_cmd_exit_code: stop.stop_cmd_exit_code,
            detail,
            left,
            drill: done.drill,
            audit: done.audit,
        })))
    }

    /// The crash drill, the audit and (on the last cycle) the health phase,
    /// on a service that became `ready`; `None` on Ctrl-C.
    fn while_up(
        &mut self,
        svc: &mut Service,
        n: u64,
        last: bool,
        ready: bool,
        causes: &mut Vec<&'static str>,
    ) -> common::Result<Option<WhileUp>> {
        let config = self.config;
        let mut up = ready;
        let mut drill = None;
        if let (Some(crash), true) = (&config.crash, up) {
            let Some(done) = self.crash_drill(svc, n, crash)? else {
                return Ok(None);
            };
            causes.extend(done.causes.iter().copied());
            up = done.fields.recovered;
            drill = Some(done.fields);
        }
        let mut audit = None;
        if let Some(cfg) = &config.audit {
            let done = self.run_audit(cfg, n, up.then(|| svc.main.unwrap_or(svc.started)));
            if common::interrupt::requested() {
                return Ok(None);
            }
            causes.extend(done.causes.iter().copied());
            audit = Some(done.fields);
        }
        if last && up {
            if let Some(health) = &config.health {
                if !self.health_phase(
                    &health.probe,
                    health.interval,
                    health.duration,
                    n,
                    svc.main,
                )? {
                    return Ok(None);
                }
            }
        }
        Ok(Some(WhileUp { up, drill, audit }))
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

fn describe_exit(exit: Exit) -> String {
    match (exit.code, exit.signal) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by {}", sig.as_str()),
        _ => "exit status unknown".to_string(),
    }
}
