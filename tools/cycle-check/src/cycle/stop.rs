//! The stop, as systemd and Kubernetes do it: the stop signal (or
//! --stop-cmd) to the service's process groups, the grace period, then
//! SIGKILL; and what the way it ended says about the cycle.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::{Runner, Service, KILL_WAIT};
use crate::config::Start;
use crate::procfs;
use crate::supervise::{nap, Exit};

pub(super) struct StopResult {
    pub stop_ms: Option<f64>,
    pub ended_by: &'static str,
    pub stop_cmd_exit_code: Option<i32>,
    pub causes: Vec<&'static str>,
}

impl Runner<'_> {
    /// The causes the way the service ended gives the cycle, after those
    /// of the stop itself (`up`: it was ready, or ready again).
    pub(super) fn judge_stop(
        &self,
        svc: &Service,
        up: bool,
        stop: &StopResult,
        causes: &mut Vec<&'static str>,
    ) {
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

    pub(super) fn stop(&mut self, svc: &mut Service, pgid: i32) -> StopResult {
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

    /// The process groups a stop signal goes to: the one we started and the
    /// main process's own (a daemon usually made a new one); without a main
    /// process, the groups of everything left (but not `spare`'s, the
    /// --stop-cmd's session).
    pub(super) fn stop_groups(&self, svc: &Service, pgid: i32, spare: Option<i32>) -> Vec<i32> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
