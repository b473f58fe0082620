//! Starting, signalling, waiting for and reaping processes.
//!
//! cycle-check makes itself a child subreaper (`PR_SET_CHILD_SUBREAPER`), so
//! every process the service forks, however it detaches, is re-parented to us
//! when its parent dies instead of to init: "all our descendants" is then
//! exactly "everything the service left". Waiting is done with `waitpid` on
//! specific pids and a collector for the rest, so an exit status is never
//! lost to the wrong wait. [`Supervisor`]'s `Drop` kills and reaps whatever
//! is left, so no exit path (error, panic, Ctrl-C) leaves a process behind.

use std::collections::HashMap;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{getpgrp, Pid};

use crate::procfs;
use crate::service_output::OutputHub;

/// How a process ended, when we could see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Exit {
    pub code: Option<i32>,
    pub signal: Option<Signal>,
}

impl Exit {
    fn from_status(status: WaitStatus) -> Option<Exit> {
        match status {
            WaitStatus::Exited(_, code) => Some(Exit {
                code: Some(code),
                signal: None,
            }),
            WaitStatus::Signaled(_, sig, _) => Some(Exit {
                code: None,
                signal: Some(sig),
            }),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct Supervisor {
    me: i32,
    my_pgid: i32,
    /// Exit statuses collected by [`Supervisor::reap_all`] and not yet asked for.
    reaped: HashMap<i32, Exit>,
    /// This run's `CYCLE_CHECK_RUN` token, in every child's environment.
    token: String,
}

/// Sleeps up to `d`, in slices, returning early (false) on Ctrl-C.
pub fn nap(d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if common::interrupt::requested() {
            return false;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(10)));
    }
}

impl Supervisor {
    /// Becomes a child subreaper. Linux only.
    pub fn new() -> common::Result<Supervisor> {
        nix::sys::prctl::set_child_subreaper(true).map_err(|e| {
            common::Error::io("prctl(PR_SET_CHILD_SUBREAPER)", io::Error::from(e))
                .with_hint("cycle-check needs Linux 3.4 or later")
        })?;
        Ok(Supervisor {
            me: std::process::id() as i32,
            my_pgid: getpgrp().as_raw(),
            reaped: HashMap::new(),
            token: crate::handoff::token(),
        })
    }

    pub fn me(&self) -> i32 {
        self.me
    }

    /// The token every process we start carries (see `handoff`).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Spawns `argv` in a new session (so a new process group too), with the
    /// service output piped into `hub`. If cycle-check dies without a chance
    /// to clean up (SIGKILL), the kernel sends the child SIGKILL.
    pub fn spawn(&self, argv: &[String], hub: &Arc<OutputHub>) -> io::Result<i32> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.spawn_command(cmd)?;
        if let Some(out) = child.stdout.take() {
            hub.follow(out);
        }
        if let Some(err) = child.stderr.take() {
            hub.follow(err);
        }
        // The `Child` is dropped without waiting: we wait by pid (see module docs).
        Ok(child.id() as i32)
    }

    /// Spawns `cmd` (its stdio and environment set by the caller) in a new
    /// session, tied to our life like [`Supervisor::spawn`]. The caller
    /// waits by pid ([`Supervisor::try_wait`]), never through the `Child`.
    pub fn spawn_command(&self, mut cmd: Command) -> io::Result<std::process::Child> {
        let parent = self.me;
        // Passed on by what keeps the environment (`at`, `sudo -E`): a
        // listener that carries it came from here.
        cmd.env(crate::handoff::TOKEN_VAR, &self.token);
        // SAFETY: the closure runs in the forked child before exec and only
        // makes async-signal-safe system calls (setsid, prctl, getppid); it
        // allocates nothing and touches no lock.
        #[allow(
            unsafe_code,
            reason = "pre_exec to start the service in its own session"
        )]
        unsafe {
            cmd.pre_exec(move || {
                nix::unistd::setsid().map_err(io::Error::from)?;
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)?;
                // We may have died between fork and prctl: then do not run at all.
                if nix::unistd::getppid().as_raw() != parent {
                    return Err(io::Error::from(io::ErrorKind::BrokenPipe));
                }
                Ok(())
            });
        }
        cmd.spawn()
    }

    /// Spawns `sh -c COMMAND` the same way.
    pub fn spawn_shell(&self, command: &str, hub: &Arc<OutputHub>) -> io::Result<i32> {
        self.spawn(
            &["sh".to_string(), "-c".to_string(), command.to_string()],
            hub,
        )
    }

    /// Has `pid` ended? `Some` once it has (with its status when it was our
    /// child), `None` while it runs.
    pub fn try_wait(&mut self, pid: i32) -> Option<Exit> {
        if let Some(exit) = self.reaped.remove(&pid) {
            return Some(exit);
        }
        match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => None,
            Ok(status) => Exit::from_status(status),
            // Not our child (yet): look at /proc. A zombie of another parent has ended.
            Err(Errno::ECHILD) => match procfs::stat(pid) {
                None => Some(Exit::default()),
                Some(p) if p.is_zombie() => Some(Exit::default()),
                Some(_) => None,
            },
            Err(_) => None,
        }
    }

    /// Waits for `pid` until `deadline` (polling with a short backoff, so the
    /// moment of exit is seen within a millisecond or so).
    pub fn wait_until(&mut self, pid: i32, deadline: Instant) -> Option<Exit> {
        let mut delay = Duration::from_micros(100);
        loop {
            if let Some(exit) = self.try_wait(pid) {
                return Some(exit);
            }
            let now = Instant::now();
            if now >= deadline || common::interrupt::requested() {
                return None;
            }
            std::thread::sleep(delay.min(deadline - now));
            delay = (delay * 2).min(Duration::from_millis(1));
        }
    }

    /// Reaps every child that has ended, keeping the statuses for `try_wait`.
    pub fn reap_all(&mut self) {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(status) => {
                    if let (Some(pid), Some(exit)) = (status.pid(), Exit::from_status(status)) {
                        self.reaped.insert(pid.as_raw(), exit);
                    }
                }
            }
        }
    }

    /// Forgets statuses nobody asked for (leftovers reaped during cleanup).
    pub fn forget_reaped(&mut self) {
        self.reaped.clear();
    }

    /// Sends `sig` to process group `pgid`, never to ours or to init's.
    /// True when it was sent.
    pub fn signal_group(&self, pgid: i32, sig: Signal) -> bool {
        pgid > 1 && pgid != self.my_pgid && killpg(Pid::from_raw(pgid), sig).is_ok()
    }

    /// Sends `sig` to `pid`, never to ourselves or init.
    pub fn signal_pid(&self, pid: i32, sig: Signal) {
        if pid > 1 && pid != self.me {
            let _ = kill(Pid::from_raw(pid), sig);
        }
    }

    /// Live (non-zombie) descendants.
    pub fn live_descendants(&self) -> Vec<procfs::Proc> {
        procfs::descendants(&procfs::scan(), self.me)
            .into_iter()
            .filter(|p| !p.is_zombie())
            .collect()
    }

    /// Kills every descendant with SIGKILL and reaps them, until none is left
    /// or `limit` has passed. Returns what could not be killed (a process in
    /// uninterruptible sleep, say).
    pub fn kill_all(&mut self, limit: Duration) -> Vec<procfs::Proc> {
        let deadline = Instant::now() + limit;
        let mut left = procfs::descendants(&procfs::scan(), self.me);
        loop {
            if left.is_empty() {
                return left;
            }
            stop_then_kill(self.me, &left);
            self.reap_all();
            left = procfs::descendants(&procfs::scan(), self.me);
            if left.is_empty() || Instant::now() >= deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// SIGSTOP, then SIGKILL, to each of `procs` (never to `me` or init):
/// stopped first, so nothing can fork between our look and the kill.
fn stop_then_kill(me: i32, procs: &[procfs::Proc]) {
    let signal = |pid: i32, sig: Signal| {
        if pid > 1 && pid != me {
            let _ = kill(Pid::from_raw(pid), sig);
        }
    };
    for p in procs.iter().filter(|p| !p.is_zombie()) {
        signal(p.pid, Signal::SIGSTOP);
    }
    for p in procs {
        signal(p.pid, Signal::SIGKILL);
    }
}

/// Kills every live descendant of process `me` (cycle-check itself) now,
/// looking again until none is alive or `limit` has passed; reaps nothing.
/// For the interrupt watchdog's forced exit, which runs on its own thread
/// while the main thread may be stuck anywhere: it takes no lock and does
/// not touch the [`Supervisor`]. What it kills is reparented and reaped by
/// init once cycle-check has exited.
pub fn kill_tree_now(me: i32, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let live: Vec<procfs::Proc> = procfs::descendants(&procfs::scan(), me)
            .into_iter()
            .filter(|p| !p.is_zombie())
            .collect();
        if live.is_empty() || Instant::now() >= deadline {
            return;
        }
        stop_then_kill(me, &live);
        std::thread::sleep(Duration::from_millis(1));
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        let left = self.kill_all(Duration::from_secs(5));
        if !left.is_empty() {
            let pids: Vec<String> = left.iter().map(|p| p.pid.to_string()).collect();
            common::runner::warn(
                "cycle-check",
                format!("could not kill: {}", pids.join(", ")),
            );
        }
    }
}
