//! The service's memory: VmRSS summed over a process and all its
//! descendants (a service that forks workers is judged as a whole), read
//! from Linux's /proc at the end of each window.
//!
//! `--pid-file` is re-read at every sample, so a service restarted by its
//! supervisor is followed (its uptime drops, which the window shows). A
//! process that vanishes between listing /proc and reading it is skipped,
//! never an error.

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
fn tree(root: i32) -> Vec<i32> {
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
    let pid = watch.pid()?;
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
    Ok(Memory {
        rss_bytes: Some(rss),
        processes: Some(processes),
        service_uptime_s: uptime_s(pid),
        service_pid: Some(pid),
    })
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
