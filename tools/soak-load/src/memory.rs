//! The service's memory: VmRSS summed over a process and all its
//! descendants (a service that forks workers is judged as a whole), read
//! from Linux's /proc at the end of each window.
//!
//! `--pid-file` is re-read at every sample, so a service restarted by its
//! supervisor is followed (its uptime drops, which the window shows). A
//! process that vanishes between listing /proc and reading it is skipped,
//! never an error.
//!
//! Restarts are counted by [`Restarts`] from the watched process's identity
//! (pid and start time, so a reused pid is a new process), looked at every
//! [`RESTART_POLL`] as well as at each window's end: a process that crashed
//! and came back between two windows is not missed, and memory growth is
//! never measured from one process to another (see `judge.rs`).

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;

use crate::window::Memory;

/// Which process to watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Watch {
    Pid(i32),
    PidFile(PathBuf),
}

impl Watch {
    /// The pid to watch now; `Err` says why there is none.
    pub fn pid(&self) -> Result<i32, String> {
        match self {
            Watch::Pid(p) => Ok(*p),
            Watch::PidFile(path) => {
                let text =
                    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
                text.split_whitespace()
                    .next()
                    .and_then(|t| t.parse::<i32>().ok())
                    .filter(|&p| p > 0)
                    .ok_or_else(|| format!("{}: does not hold a process id", path.display()))
            }
        }
    }
}

/// How often the watched process's identity is looked at between windows.
pub const RESTART_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// One process, told apart from a later one with the same pid by its start
/// time (clock ticks since boot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub pid: i32,
    pub start_ticks: u64,
}

/// The watched process now: `Some(None)` when its pid is known and it is
/// not running (or is a zombie), `None` when the pid file cannot be read
/// now (being rewritten, say): nothing can be said then.
pub fn identity(watch: &Watch) -> Option<Option<Identity>> {
    let pid = watch.pid().ok()?;
    Some(identity_of(pid))
}

fn identity_of(pid: i32) -> Option<Identity> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let close = stat.rfind(')')?;
    // A zombie or a dead task has ended: it is not the service any more.
    if matches!(
        stat[close + 1..].trim_start().chars().next(),
        Some('Z' | 'X')
    ) {
        return None;
    }
    let (_, start_ticks) = parse_ppid_and_start(&stat)?;
    Some(Identity { pid, start_ticks })
}

/// Counts the watched processes that ended (crashed, were killed, were
/// replaced) while they were watched.
#[derive(Debug, Default)]
pub struct Restarts {
    last: Option<Identity>,
    /// The last process seen is not running now (and no other is yet).
    gone: bool,
    pending: u64,
    /// Every restart counted so far (never taken): what a chaos injection
    /// did is told by its change.
    seen: u64,
}

impl Restarts {
    /// What the watched process is now.
    pub fn observe(&mut self, now: Option<Identity>) {
        match now {
            Some(id) => {
                if self.last.is_some_and(|prev| prev != id) && !self.gone {
                    self.pending += 1;
                    self.seen += 1;
                }
                self.last = Some(id);
                self.gone = false;
            }
            None => {
                if self.last.is_some() && !self.gone {
                    // It ended; a successor, if one comes, is the same restart.
                    self.pending += 1;
                    self.seen += 1;
                    self.gone = true;
                }
            }
        }
    }

    /// Looks at the watched process now. When the pid file cannot be read
    /// (a service that removes it as it exits), the last process seen is
    /// looked at itself: if it has ended, that counts.
    pub fn look(&mut self, watch: &Watch) {
        match identity(watch) {
            Some(now) => self.observe(now),
            None => {
                if let Some(last) = self.last {
                    if identity_of(last.pid) != Some(last) {
                        self.observe(None);
                    }
                }
            }
        }
    }

    /// Restarts seen since the watch began.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Restarts seen since the last call.
    pub fn take(&mut self) -> u64 {
        std::mem::take(&mut self.pending)
    }
}

/// Parent pid from `/proc/PID/stat` (the command name may hold spaces and
/// parentheses, so fields are counted from the last `)`).
fn parse_ppid_and_start(stat: &str) -> Option<(i32, u64)> {
    let close = stat.rfind(')')?;
    let fields: Vec<&str> = stat[close + 1..].split_ascii_whitespace().collect();
    // After the name: state(0) ppid(1) ... starttime is field 22 of the
    // line, index 19 after the name.
    let ppid = fields.get(1)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((ppid, start))
}

/// VmRSS of `/proc/PID/status` in bytes.
fn parse_vmrss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn rss_of(pid: i32) -> Option<u64> {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .as_deref()
        .and_then(parse_vmrss)
}

/// `pid` and its descendants, from one scan of /proc.
pub fn tree(root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            if let Some((ppid, _)) = fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .as_deref()
                .and_then(parse_ppid_and_start)
            {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        if let Some(kids) = children.get(&out[i]) {
            for &k in kids {
                // A snapshot of a moving table: guard against pid reuse loops.
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
        i += 1;
    }
    out
}

/// Seconds since `pid` started, from its start time in clock ticks since boot.
fn uptime_s(pid: i32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, start_ticks) = parse_ppid_and_start(&stat)?;
    let boot_uptime: f64 = fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|&h| h > 0)
        .unwrap_or(100) as f64;
    Some(((boot_uptime - start_ticks as f64 / hz) * 100.0).round() / 100.0)
}

/// Reads the watched tree's memory now. `Err` when the process is not there.
pub fn sample(watch: &Watch) -> Result<Memory, String> {
    sample_identified(watch).map(|(m, _)| m)
}

/// [`sample`], with the identity of the process it read.
pub fn sample_identified(watch: &Watch) -> Result<(Memory, Identity), String> {
    let pid = watch.pid()?;
    let id = identity_of(pid)
        .ok_or_else(|| format!("process {pid} is not running (or has no memory: a zombie)"))?;
    let Some(root_rss) = rss_of(pid) else {
        return Err(format!(
            "process {pid} is not running (or has no memory: a zombie)"
        ));
    };
    let mut rss = root_rss;
    let mut processes = 1;
    for p in tree(pid).into_iter().skip(1) {
        if let Some(r) = rss_of(p) {
            rss += r;
            processes += 1;
        }
    }
    Ok((
        Memory {
            rss_bytes: Some(rss),
            processes: Some(processes),
            service_uptime_s: uptime_s(pid),
            service_pid: Some(pid),
            service_restarts: None,
        },
        id,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_awkward_names() {
        let stat = "42 (a) b (c)) S 7 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 12345 1000 50";
        assert_eq!(parse_ppid_and_start(stat), Some((7, 12345)));
        assert_eq!(parse_ppid_and_start("garbage"), None);
    }

    #[test]
    fn restarts_count_each_process_that_ended_once() {
        let a = Identity {
            pid: 10,
            start_ticks: 1,
        };
        let b = Identity {
            pid: 11,
            start_ticks: 2,
        };
        let reused = Identity {
            pid: 10,
            start_ticks: 3,
        };
        let mut r = Restarts::default();
        r.observe(None); // never seen: nothing ended
        r.observe(Some(a));
        r.observe(Some(a));
        assert_eq!(r.take(), 0);
        r.observe(Some(b)); // replaced between two looks
        assert_eq!(r.take(), 1);
        r.observe(None); // ended ...
        r.observe(None);
        assert_eq!(r.take(), 1);
        r.observe(Some(reused)); // ... and its successor is the same restart
        assert_eq!(r.take(), 0);
        r.observe(Some(a)); // the old pid's first process again? a new one
        assert_eq!(r.take(), 1);
    }

    #[test]
    fn parses_vmrss() {
        assert_eq!(
            parse_vmrss("Name:\tx\nVmRSS:\t    1234 kB\n"),
            Some(1234 * 1024)
        );
        assert_eq!(parse_vmrss("Name:\tx\n"), None);
    }

    #[test]
    fn samples_this_process_and_its_children() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let me = std::process::id() as i32;
        let m = sample(&Watch::Pid(me)).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert!(m.rss_bytes.unwrap() > 1 << 20);
        assert!(m.processes.unwrap() >= 2, "{m:?}");
        assert!(m.service_uptime_s.unwrap() >= 0.0);
        assert!(sample(&Watch::Pid(i32::MAX)).is_err());
        let dir = tempfile::tempdir().unwrap();
        let pf = dir.path().join("pid");
        std::fs::write(&pf, format!("{me}\n")).unwrap();
        assert_eq!(Watch::PidFile(pf.clone()).pid(), Ok(me));
        std::fs::write(&pf, "nope").unwrap();
        assert!(Watch::PidFile(pf)
            .pid()
            .unwrap_err()
            .contains("does not hold"));
    }
}
