//! The crash drill (`--workload`): kill the service with SIGKILL while a
//! workload runs against it, so it dies mid-work, and start it again at
//! once. `recovery_ms` runs from the kill to ready again; what the kill left
//! in the service's state is `--audit`'s to find (see `audit.rs`).
//!
//! The workload is a helper, not part of the service: it runs in a session
//! of its own, and it is ended (SIGTERM, SIGKILL after a grace period, with
//! everything left in its session) before the audit and the checks after
//! the stop, so its processes are never taken for the service's leftovers.

use std::io;
use std::process::{ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Runner, Service, KILL_WAIT};
use crate::config::Crash;
use crate::procfs;
use crate::records::CrashFields;
use crate::supervise::{nap, Exit};
use nix::sys::signal::Signal;

/// How long the workload may take to end after SIGTERM before SIGKILL.
const WORKLOAD_GRACE: Duration = Duration::from_secs(5);

pub struct Done {
    pub fields: CrashFields,
    pub causes: Vec<&'static str>,
}

/// A helper command's stdout or stderr: cycle-check's stderr (stdout carries
/// the records).
pub fn to_stderr() -> io::Result<Stdio> {
    use std::os::fd::AsFd;
    Ok(Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?))
}

impl Runner<'_> {
    /// Starts `sh -c COMMAND` in a session of its own, stdin on /dev/null,
    /// stderr to ours, with `CYCLE_CHECK_CYCLE` and `CYCLE_CHECK_PID` (the
    /// service's main process) in its environment.
    pub(super) fn spawn_helper(
        &self,
        command: &str,
        cycle: u64,
        main: i32,
        stdout: Stdio,
    ) -> io::Result<(i32, Option<ChildStdout>)> {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", command])
            .env("CYCLE_CHECK_CYCLE", cycle.to_string())
            .env("CYCLE_CHECK_PID", main.to_string())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(to_stderr()?);
        let mut child = self.sup.spawn_command(cmd)?;
        Ok((child.id() as i32, child.stdout.take()))
    }

    /// Ends everything still running in session `sid` (a helper's, which
    /// is its pid) and reaps it, bounded.
    pub(super) fn end_session(&mut self, sid: i32) {
        let deadline = Instant::now() + KILL_WAIT;
        loop {
            let left: Vec<i32> = self
                .sup
                .live_descendants()
                .iter()
                .filter(|p| p.sid == sid)
                .map(|p| p.pid)
                .collect();
            if left.is_empty() || Instant::now() >= deadline {
                return;
            }
            for pid in left {
                self.sup.signal_pid(pid, Signal::SIGKILL);
            }
            self.sup.reap_all();
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Runs the drill on the ready service `svc`, which becomes the
    /// restarted one. `Ok(None)` on Ctrl-C (the workload is ended).
    pub(super) fn crash_drill(
        &mut self,
        svc: &mut Service,
        n: u64,
        crash: &Crash,
    ) -> common::Result<Option<Done>> {
        let mut causes = Vec::new();
        let main = svc.main.unwrap_or(svc.started);
        let pgid = procfs::stat(svc.started).map_or(svc.started, |p| p.pgid);
        let t_work = Instant::now();
        let (workload, _) = self
            .spawn_helper(&crash.workload, n, main, crash_stdout()?)
            .map_err(|e| common::Error::io("--workload: cannot start sh", e))?;

        // Let it work; a workload that ends first means the kill cannot land
        // mid-work, which the cycle must say.
        let kill_at = t_work + crash.kill_after;
        let mut workload_exit = None;
        loop {
            workload_exit = workload_exit.or_else(|| self.sup.try_wait(workload));
            let now = Instant::now();
            if workload_exit.is_some() || now >= kill_at {
                break;
            }
            if !nap((kill_at - now).min(Duration::from_millis(5))) {
                self.end_workload(workload, workload_exit);
                return Ok(None);
            }
        }
        if workload_exit.is_some() {
            causes.push("workload_finished");
        }
        let workload_ms = common::clock::ms(t_work.elapsed());
        self.refresh(svc);
        if svc.main_exit.is_some() {
            // It died on its own under the workload: a crash we did not cause.
            causes.push("exited_early");
        }

        // The kill: every group of the service, and its main process.
        let killed_at = common::clock::now_rfc3339();
        let t_kill = Instant::now();
        for g in self.stop_groups(svc, pgid, Some(workload)) {
            self.sup.signal_group(g, Signal::SIGKILL);
        }
        match svc.main {
            Some(m) => self.sup.signal_pid(m, Signal::SIGKILL),
            None => {
                for p in self.sup.live_descendants() {
                    if p.sid != workload {
                        self.sup.signal_pid(p.pid, Signal::SIGKILL);
                    }
                }
            }
        }
        let dead_by = t_kill + KILL_WAIT;
        loop {
            self.refresh(svc);
            let dead = match svc.main {
                Some(_) => svc.main_exit.is_some(),
                None => self
                    .sup
                    .live_descendants()
                    .iter()
                    .all(|p| p.sid == workload),
            };
            if dead {
                break;
            }
            if Instant::now() >= dead_by {
                causes.push("stop_failed");
                break;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        if workload_exit.is_none() {
            self.sup.signal_group(workload, Signal::SIGTERM);
        }

        // Restarted at once, as a supervisor would; ready again is recovery.
        let (mut next, _, log_since) = self.start()?;
        let limit = self
            .config
            .ready_timeout
            .max(Duration::from_secs_f64(crash.max_recovery_ms / 1000.0));
        let readiness = self.await_ready(&mut next, t_kill, log_since, limit);
        *svc = next;
        let workload_exit = self.end_workload(workload, workload_exit);
        if common::interrupt::requested() {
            return Ok(None);
        }
        if !readiness.ready {
            causes.push("not_recovered");
        }
        Ok(Some(Done {
            fields: CrashFields {
                workload_ms,
                workload_exit_code: workload_exit.and_then(|e| e.code),
                workload_signal: workload_exit.and_then(|e| e.signal).map(Signal::as_str),
                killed_at,
                killed_pid: main,
                recovered: readiness.ready,
                recovery_ms: readiness.ready_ms,
                recovery_error: readiness.error,
            },
            causes,
        }))
    }

    /// Ends the workload: SIGTERM was sent (or it ended); wait the grace
    /// period, then SIGKILL its group; then whatever is left in its session.
    fn end_workload(&mut self, pid: i32, exit: Option<Exit>) -> Option<Exit> {
        let mut exit = exit;
        if exit.is_none() {
            self.sup.signal_group(pid, Signal::SIGTERM);
            exit = self.sup.wait_until(pid, Instant::now() + WORKLOAD_GRACE);
        }
        if exit.is_none() {
            self.sup.signal_group(pid, Signal::SIGKILL);
            exit = self.sup.wait_until(pid, Instant::now() + KILL_WAIT);
        }
        self.end_session(pid);
        exit
    }
}

/// The workload's stdout goes where its stderr goes.
fn crash_stdout() -> common::Result<Stdio> {
    to_stderr().map_err(|e| common::Error::io("stderr", e))
}
