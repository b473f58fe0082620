//! Readiness: the probe polled until it passes (and a --pidfile names the
//! service), or the start fails, or time runs out; and whether whoever
//! answered a probe is the service at all.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{describe_exit, Runner, Service};
use crate::attribution;
use crate::config::Start;
use crate::probe::{humanize, Probe};
use crate::procfs;

/// Longest pause between readiness attempts during the first `FAST_PHASE`
/// of a start, and after it.
const FAST_BACKOFF: Duration = Duration::from_millis(2);
const FAST_PHASE: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_millis(5);

pub(super) struct Readiness {
    pub ready: bool,
    pub ready_ms: Option<f64>,
    pub attempts: u64,
    pub error: Option<String>,
    pub causes: Vec<&'static str>,
}

impl Runner<'_> {
    /// Polls the readiness probe until `t0 + timeout`; `since`: log matches
    /// from before this start.
    pub(super) fn await_ready(
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
    pub(super) fn answered_by_service(
        &self,
        probe: &Probe,
        main: Option<i32>,
    ) -> Result<(), String> {
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
}
