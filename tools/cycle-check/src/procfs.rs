//! Reading Linux's /proc: the process table (who is whose child, in which
//! group and session, in which state), command lines, the sockets a process
//! holds, and the listening TCP sockets of /proc/net/tcp and tcp6.
//!
//! Everything here is a snapshot of a system that keeps moving: a process
//! can vanish between listing /proc and reading its files, so a missing file
//! is "gone", never an error.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One line of the process table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    pub sid: i32,
    /// `R`, `S`, `D`, `Z`, `T`, ... as in ps(1).
    pub state: char,
    pub comm: String,
    /// When it started, in clock ticks since boot (0 if unreadable).
    pub start_ticks: u64,
}

impl Proc {
    pub fn is_zombie(&self) -> bool {
        self.state == 'Z' || self.state == 'X'
    }
}

/// Parses `/proc/PID/stat`. The command name sits in parentheses and may
/// itself contain spaces and `)`, so fields are counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<Proc> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    if close < open {
        return None;
    }
    let pid = text[..open].trim().parse().ok()?;
    let comm = text[open + 1..close].to_string();
    let mut rest = text[close + 1..].split_ascii_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    let pgid = rest.next()?.parse().ok()?;
    let sid = rest.next()?.parse().ok()?;
    // Fields 7..=21 lie between the session (6) and the start time (22).
    let start_ticks = rest.nth(22 - 7).and_then(|t| t.parse().ok()).unwrap_or(0);
    Some(Proc {
        pid,
        ppid,
        pgid,
        sid,
        state,
        comm,
        start_ticks,
    })
}

/// When a process started, in clock ticks since boot (field 22 of
/// `/proc/PID/stat`); `None` if it is gone.
pub fn start_ticks(pid: i32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_ticks(&text)
}

/// Field 22 of a stat line, counted after the command name's last `)`
/// (which is followed by field 3).
pub fn parse_start_ticks(text: &str) -> Option<u64> {
    let (_, rest) = text.rsplit_once(')')?;
    rest.split_ascii_whitespace().nth(22 - 3)?.parse().ok()
}

/// Reads one process's stat line; `None` if it is gone.
pub fn stat(pid: i32) -> Option<Proc> {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .as_deref()
        .and_then(parse_stat)
}

/// The whole process table, in pid order.
pub fn scan() -> Vec<Proc> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut procs: Vec<Proc> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter_map(stat)
        .collect();
    procs.sort_by_key(|p| p.pid);
    procs
}

/// Every process below `root` in the parent tree (not `root` itself), in pid order.
pub fn descendants(table: &[Proc], root: i32) -> Vec<Proc> {
    let mut children: HashMap<i32, Vec<&Proc>> = HashMap::new();
    for p in table {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        for child in children.get(&pid).map(Vec::as_slice).unwrap_or_default() {
            // The table is a snapshot; guard against a pid-reuse cycle.
            if child.pid != root && seen.insert(child.pid) {
                out.push((*child).clone());
                stack.push(child.pid);
            }
        }
    }
    out.sort_by_key(|p| p.pid);
    out
}

/// The command line, arguments joined by spaces (an empty argument shown as
/// `''`); `[comm]` when there is none (kernel threads, zombies), as ps(1)
/// shows it.
pub fn cmdline(pid: i32, comm: &str) -> String {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    join_cmdline(&raw).unwrap_or_else(|| format!("[{comm}]"))
}

/// `/proc/PID/cmdline`'s NUL-terminated arguments joined by spaces. A
/// process that rewrote its title may have dropped the final NUL or padded
/// with more; those trailing NULs are not arguments.
pub fn join_cmdline(raw: &[u8]) -> Option<String> {
    let end = raw.iter().rposition(|&b| b != 0)? + 1;
    let args: Vec<String> = raw[..end]
        .split(|&b| b == 0)
        .map(|a| match a {
            [] => "''".to_string(),
            a => String::from_utf8_lossy(a).into_owned(),
        })
        .collect();
    Some(args.join(" "))
}

/// Whether `pid` has a handler installed for signal number `signo` (the
/// `SigCgt` mask of /proc/PID/status); false when it is gone.
pub fn catches(pid: i32, signo: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| caught_mask(&status))
        .is_some_and(|mask| (1..=64).contains(&signo) && mask & (1 << (signo - 1)) != 0)
}

/// The `SigCgt:` mask of a /proc/PID/status text.
pub fn caught_mask(status: &str) -> Option<u64> {
    let hex = status.lines().find_map(|l| l.strip_prefix("SigCgt:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// Inodes of the sockets `pid` holds open (from the `socket:[N]` fd links).
pub fn socket_inodes(pid: i32) -> Vec<u64> {
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| fs::read_link(e.path()).ok())
        .filter_map(|target| parse_socket_link(&target.to_string_lossy()))
        .collect()
}

/// `socket:[12345]` → 12345.
pub fn parse_socket_link(target: &str) -> Option<u64> {
    target
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// A listening TCP socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub addr: IpAddr,
    pub port: u16,
    pub inode: u64,
}

/// TCP state 0x0A is LISTEN (include/net/tcp_states.h).
const TCP_LISTEN: &str = "0A";

/// Parses the text of /proc/net/tcp (or tcp6, when `v6`) and returns the
/// listening sockets. The header line and lines that do not parse are skipped:
/// the kernel's format is fixed, so an odd line is a torn read, not input to
/// report.
pub fn parse_net_tcp(text: &str, v6: bool) -> Vec<Listener> {
    text.lines()
        .skip(1)
        .filter_map(|line| parse_net_tcp_line(line, v6))
        .collect()
}

fn parse_net_tcp_line(line: &str, v6: bool) -> Option<Listener> {
    let fields: Vec<&str> = line.split_ascii_whitespace().collect();
    if fields.len() < 10 || fields[3] != TCP_LISTEN {
        return None;
    }
    let (addr_hex, port_hex) = fields[1].split_once(':')?;
    let port = u16::from_str_radix(port_hex, 16).ok()?;
    let addr = if v6 {
        IpAddr::V6(parse_v6(addr_hex)?)
    } else {
        IpAddr::V4(parse_v4(addr_hex)?)
    };
    let inode = fields[9].parse().ok()?;
    Some(Listener { addr, port, inode })
}

/// The kernel prints each 32-bit word of the address as a native-endian
/// number, so the bytes come back with `to_ne_bytes`.
fn word(hex: &str) -> Option<[u8; 4]> {
    if hex.len() != 8 {
        return None;
    }
    u32::from_str_radix(hex, 16).ok().map(u32::to_ne_bytes)
}

fn parse_v4(hex: &str) -> Option<Ipv4Addr> {
    word(hex).map(Ipv4Addr::from)
}

fn parse_v6(hex: &str) -> Option<Ipv6Addr> {
    if hex.len() != 32 || !hex.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 16];
    for i in 0..4 {
        bytes[i * 4..i * 4 + 4].copy_from_slice(&word(&hex[i * 8..i * 8 + 8])?);
    }
    Some(Ipv6Addr::from(bytes))
}

/// Every listening TCP socket, read from /proc/net/tcp and tcp6.
pub fn listeners_from_proc() -> Vec<Listener> {
    let mut out = Vec::new();
    for (path, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        if let Ok(text) = fs::read_to_string(path) {
            out.extend(parse_net_tcp(&text, v6));
        }
    }
    out
}

/// Which pid holds each of `inodes`, looking first at `likely` pids and then,
/// for any still unknown, at every process.
pub fn owners(inodes: &HashSet<u64>, likely: &[i32]) -> HashMap<u64, i32> {
    let mut found = HashMap::new();
    let look = |pid: i32, found: &mut HashMap<u64, i32>| {
        for inode in socket_inodes(pid) {
            if inodes.contains(&inode) {
                found.entry(inode).or_insert(pid);
            }
        }
    };
    for &pid in likely {
        look(pid, &mut found);
    }
    if found.len() < inodes.len() {
        for p in scan() {
            if found.len() == inodes.len() {
                break;
            }
            look(p.pid, &mut found);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_hostile_names() {
        let p = parse_stat("42 (a) b (c)) S 1 42 42 0 -1 4194560 0 0").unwrap();
        assert_eq!(p.pid, 42);
        assert_eq!(p.comm, "a) b (c)");
        assert_eq!((p.state, p.ppid, p.pgid, p.sid), ('S', 1, 42, 42));
        assert!(parse_stat("42 (x").is_none());
        assert!(parse_stat("x (y) S 1 2 3").is_none());
        assert!(parse_stat("42 (y) S 1 2").is_none());
        assert!(parse_stat(")(").is_none());
        assert!(parse_stat("").is_none());
    }

    #[test]
    fn start_times() {
        let line = "7 (a) b) S 1 7 7 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 123456 999 9";
        assert_eq!(parse_start_ticks(line), Some(123_456));
        assert_eq!(parse_stat(line).unwrap().start_ticks, 123_456);
        assert_eq!(parse_start_ticks("7 (x) S 1 7"), None);
        let me = std::process::id() as i32;
        assert!(start_ticks(me).is_some_and(|t| t > 0));
        assert_eq!(start_ticks(i32::MAX), None);
    }

    #[test]
    fn descendants_follow_the_parent_tree() {
        let p = |pid, ppid| Proc {
            pid,
            ppid,
            pgid: pid,
            sid: pid,
            state: 'S',
            comm: "x".into(),
            start_ticks: 0,
        };
        let table = vec![p(1, 0), p(10, 1), p(11, 10), p(12, 11), p(20, 1), p(13, 10)];
        let pids: Vec<i32> = descendants(&table, 10).iter().map(|p| p.pid).collect();
        assert_eq!(pids, vec![11, 12, 13]);
        // A cycle (pid reuse in a torn snapshot) terminates.
        let table = vec![p(5, 6), p(6, 5)];
        assert_eq!(descendants(&table, 5).len(), 1);
    }

    #[test]
    fn net_tcp_listening_sockets() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5551 1 0000000000000000 100 0 0 10 0\n\
   1: 0100007F:1F91 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 5552 1\n\
   2: garbage\n\
   3: 0100007G:1F90 00000000:0000 0A 0 0 0 0 0 9\n";
        let ls = parse_net_tcp(v4, false);
        let want = Listener {
            addr: "127.0.0.1".parse().unwrap(),
            port: 8080,
            inode: 5551,
        };
        if cfg!(target_endian = "little") {
            assert_eq!(ls, vec![want]);
        }
        let v6 = "header\n   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1\n";
        let ls = parse_net_tcp(v6, true);
        if cfg!(target_endian = "little") {
            assert_eq!(ls.len(), 1);
            assert_eq!(ls[0].addr, "::1".parse::<IpAddr>().unwrap());
            assert_eq!((ls[0].port, ls[0].inode), (80, 777));
        }
        assert!(parse_net_tcp("h\n 0: 00:0050 x 0A a b c d e 1\n", true).is_empty());
        assert!(parse_net_tcp(
            "h\n 0: é0000000000000000000000000000000:0050 x 0A a b c d e 1\n",
            true
        )
        .is_empty());
    }

    #[test]
    fn command_lines_keep_empty_arguments() {
        // `redis-server --save '' --port 1` showed as `--save --port 1`.
        assert_eq!(
            join_cmdline(b"redis-server\0--save\0\0--port\x001\0").as_deref(),
            Some("redis-server --save '' --port 1")
        );
        assert_eq!(
            join_cmdline(b"title no nul").as_deref(),
            Some("title no nul")
        );
        assert_eq!(join_cmdline(b"t\0\0\0\0").as_deref(), Some("t"));
        assert_eq!(join_cmdline(b""), None);
        assert_eq!(join_cmdline(b"\0\0"), None);
    }

    #[test]
    fn caught_signals() {
        assert_eq!(
            caught_mask("Name:\tx\nSigCgt:\t0000000000004a02\nSigIgn:\t0\n"),
            Some(0x4a02)
        );
        assert_eq!(caught_mask("Name:\tx\n"), None);
        assert_eq!(caught_mask("SigCgt:\tzz\n"), None);
        // This test process catches nothing by default, but gone is "no".
        assert!(!catches(i32::MAX, 15));
    }

    #[test]
    fn socket_links() {
        assert_eq!(parse_socket_link("socket:[123]"), Some(123));
        assert_eq!(parse_socket_link("pipe:[123]"), None);
        assert_eq!(parse_socket_link("socket:[x]"), None);
    }

    #[test]
    fn this_process_is_in_the_table() {
        let me = std::process::id() as i32;
        let table = scan();
        assert!(table.iter().any(|p| p.pid == me));
        assert!(!cmdline(me, "x").is_empty());
    }
}
