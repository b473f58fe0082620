//! Running a command in its own process group, so that everything it starts
//! can be stopped with it.
//!
//! A command's background children (`server &`, a test runner's workers)
//! outlive it unless killed, and killing the command's pid alone misses
//! them. [`GroupChild`] starts the command as the leader of a new process
//! group and, when the leader has exited (or on [`GroupChild::kill`], or
//! when dropped), SIGKILLs the whole group. The leader is reaped only after
//! that: while it is an unreaped zombie its pid, which is the group id,
//! cannot be reused, so the kill can never reach a stranger's group. The
//! group is also registered with [`crate::interrupt::kill_on_forced_exit`].
//! A process that leaves the group on purpose (`setsid`, daemons) escapes.
//!
//! cycle-check's supervisor does more (sessions, a subreaper); its probe
//! commands (`exec:`) could use this as it is.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::interrupt::{kill_on_forced_exit, Tracked};

/// How a group leader ended, and what of its group was still running then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupExit {
    pub status: ExitStatus,
    /// Live processes of the group other than the leader when it was
    /// killed (all of them killed).
    pub leftovers: usize,
}

/// How [`GroupChild::wait_until`] ended; the group is gone in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The leader exited by itself.
    Exited(GroupExit),
    /// The deadline passed: the group was killed.
    TimedOut(GroupExit),
    /// SIGINT/SIGTERM was requested: the group was killed.
    Interrupted(GroupExit),
}

/// A command running as the leader of its own process group.
#[derive(Debug)]
pub struct GroupChild {
    child: Child,
    pgid: i32,
    _tracked: Tracked,
    done: bool,
}

impl GroupChild {
    /// Spawns `command` in a new process group (its pid is the group id).
    pub fn spawn(command: &mut Command) -> io::Result<GroupChild> {
        let child = command.process_group(0).spawn()?;
        let pgid =
            i32::try_from(child.id()).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
        Ok(GroupChild {
            _tracked: kill_on_forced_exit(child.id()),
            child,
            pgid,
            done: false,
        })
    }

    /// The leader's pid (and group id).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// `Some` once the leader has exited: the rest of the group is then
    /// killed and the leader reaped. `None` while it runs.
    pub fn try_wait(&mut self) -> io::Result<Option<GroupExit>> {
        if self.done {
            return Err(io::Error::other("process group already waited for"));
        }
        // WNOWAIT: see the exit without reaping, so the group id stays ours.
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(Pid::from_raw(self.pgid)), flags) {
            Ok(WaitStatus::StillAlive) => Ok(None),
            Ok(_) => self.finish().map(Some),
            Err(nix::errno::Errno::EINTR) => Ok(None),
            Err(e) => Err(io::Error::from(e)),
        }
    }

    /// Waits for the leader to exit, polling, and kills the whole group
    /// instead when `deadline` passes or SIGINT/SIGTERM was requested
    /// ([`crate::interrupt::requested`]): what a tool that runs a command
    /// must do to stop within its grace. The nap grows from 100 µs to 5 ms.
    pub fn wait_until(&mut self, deadline: Option<Instant>) -> io::Result<Ended> {
        let mut nap = Duration::from_micros(100);
        loop {
            if let Some(exit) = self.try_wait()? {
                return Ok(Ended::Exited(exit));
            }
            if crate::interrupt::requested() {
                return self.kill().map(Ended::Interrupted);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return self.kill().map(Ended::TimedOut);
            }
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(5));
        }
    }

    /// Kills the whole group now and reaps the leader.
    pub fn kill(&mut self) -> io::Result<GroupExit> {
        if self.done {
            return Err(io::Error::other("process group already waited for"));
        }
        self.finish()
    }

    fn finish(&mut self) -> io::Result<GroupExit> {
        let leftovers = live_members(self.pgid)
            .into_iter()
            .filter(|pid| *pid != self.pgid)
            .count();
        // The leader is alive or an unreaped zombie: the group id is ours.
        let _ = killpg(Pid::from_raw(self.pgid), Signal::SIGKILL);
        let status = self.child.wait()?;
        self.done = true;
        Ok(GroupExit { status, leftovers })
    }
}

impl Drop for GroupChild {
    /// No exit path (an error, a panic) leaves the group running.
    fn drop(&mut self) {
        if !self.done {
            let _ = self.finish();
        }
    }
}

/// Live (not zombie) processes whose process group is `pgid`, from /proc.
pub fn live_members(pgid: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| group_of_live(&stat))
                == Some(pgid)
        })
        .collect()
}

/// The process group in a `/proc/PID/stat` line, unless the process is a
/// zombie (or dead). The command name may hold spaces and parentheses: the
/// fields start after the last `)`.
fn group_of_live(stat: &str) -> Option<i32> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    (state != "Z" && state != "X").then_some(pgrp)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn stat_lines() {
        assert_eq!(group_of_live("42 (a b) c) S 1 42 42 0"), Some(42));
        assert_eq!(group_of_live("42 (x) Z 1 42 42 0"), None);
        assert_eq!(group_of_live("garbage"), None);
    }

    #[test]
    fn a_group_is_killed_with_its_leader() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!(
            "sleep 300 >/dev/null 2>&1 & echo $! > {}; exit 3",
            pidfile.display()
        );
        let mut child = GroupChild::spawn(Command::new("sh").arg("-c").arg(&script)).unwrap();
        let exit = loop {
            if let Some(exit) = child.try_wait().unwrap() {
                break exit;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        };
        assert_eq!((exit.status.code(), exit.leftovers), (Some(3), 1));
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // SIGKILL is sent; the orphan is reaped by init (or a subreaper) soon after.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while live_members(child.pgid).contains(&pid) {
            assert!(
                std::time::Instant::now() < deadline,
                "sleep survived its group"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert!(child.try_wait().is_err(), "waited for once only");
    }
}
