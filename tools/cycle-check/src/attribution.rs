//! Who answered a probe: the listening sockets that could have accepted a
//! connection to the probe's address, and the processes that hold them.
//!
//! A probe that connects to a port says nothing about the service unless the
//! service is what listens there: an old instance, another service or a
//! stray test server on the same port answers just as well. So a passing
//! `http://` or `tcp://` probe counts only when every listener that could
//! have taken its connection is held by the service's process tree, and
//! before the first start no listener may be there at all.
//!
//! Listeners are those of cycle-check's network namespace. A probe to an
//! address no local listener accepts (another host, another namespace) cannot
//! be attributed; there the check before the first start (the probe must
//! fail) is the only guard.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::procfs::{self, Listener};
use crate::sock_diag;

/// A listener that could have answered and is not the service's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// The listener's own address (`0.0.0.0:80`, `127.0.0.1:8080`, `[::]:80`).
    pub listener: SocketAddr,
    pub pid: Option<i32>,
    pub cmdline: Option<String>,
}

impl Holder {
    /// `pid N (cmdline)`, or `an unknown process` when no /proc entry we can
    /// read holds the socket (another user's process when not root, another
    /// pid namespace).
    pub fn who(&self) -> String {
        match (self.pid, &self.cmdline) {
            (Some(pid), Some(cmd)) => format!("pid {pid} ({cmd})"),
            (Some(pid), None) => format!("pid {pid}"),
            _ => "an unknown process".to_string(),
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, held by {}", self.listener, self.who())
    }
}

/// Whether listener `l` takes connections to `dest`: same port, and the same
/// address or a wildcard of the family (`[::]` also takes IPv4 unless the
/// socket is v6-only, which sock_diag does not tell us: counted as taking it,
/// the cautious answer here).
pub fn accepts(l: &Listener, dest: SocketAddr) -> bool {
    if l.port != dest.port() {
        return false;
    }
    let (have, want) = (l.addr.to_canonical(), dest.ip().to_canonical());
    if have == want {
        return true;
    }
    match (have, want) {
        (IpAddr::V4(a), IpAddr::V4(_)) => a.is_unspecified(),
        (IpAddr::V6(a), _) => a.is_unspecified(),
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    }
}

/// The listeners that could take a connection to `dest` and are not held by
/// any of `service` (pids), each with the process that holds it.
pub fn foreign_listeners(dest: SocketAddr, service: &[i32]) -> Vec<Holder> {
    let accepting: Vec<Listener> = sock_diag::listeners()
        .into_iter()
        .filter(|l| accepts(l, dest))
        .collect();
    if accepting.is_empty() {
        return Vec::new();
    }
    let ours: HashSet<u64> = service
        .iter()
        .flat_map(|&pid| procfs::socket_inodes(pid))
        .collect();
    let strangers: Vec<&Listener> = accepting
        .iter()
        .filter(|l| !ours.contains(&l.inode))
        .collect();
    if strangers.is_empty() {
        return Vec::new();
    }
    let inodes: HashSet<u64> = strangers.iter().map(|l| l.inode).collect();
    let owners = procfs::owners(&inodes, &[]);
    let mut out: Vec<Holder> = strangers
        .iter()
        .filter_map(|l| {
            let pid = owners.get(&l.inode).copied();
            // Opened by the service between our two looks: it is the service's.
            if pid.is_some_and(|p| service.contains(&p)) {
                return None;
            }
            Some(Holder {
                listener: SocketAddr::new(l.addr, l.port),
                pid,
                cmdline: pid.map(|p| {
                    let comm = procfs::stat(p).map(|s| s.comm).unwrap_or_default();
                    procfs::cmdline(p, &comm)
                }),
            })
        })
        .collect();
    out.sort_by_key(|h| (h.listener, h.pid));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(addr: &str, port: u16) -> Listener {
        Listener {
            addr: addr.parse().unwrap(),
            port,
            inode: 1,
        }
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn which_listeners_take_a_connection() {
        let dest = sa("127.0.0.1:80");
        assert!(accepts(&l("127.0.0.1", 80), dest));
        assert!(accepts(&l("0.0.0.0", 80), dest));
        assert!(accepts(&l("::", 80), dest), "dual-stack wildcard");
        assert!(accepts(&l("::ffff:127.0.0.1", 80), dest));
        assert!(!accepts(&l("127.0.0.1", 81), dest));
        assert!(!accepts(&l("127.0.0.2", 80), dest));
        assert!(!accepts(&l("::1", 80), dest));
        let dest6 = sa("[::1]:80");
        assert!(accepts(&l("::1", 80), dest6));
        assert!(accepts(&l("::", 80), dest6));
        assert!(!accepts(&l("0.0.0.0", 80), dest6));
        assert!(!accepts(&l("127.0.0.1", 80), dest6));
    }

    #[test]
    fn a_listener_of_this_process_is_foreign_unless_we_are_the_service() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let me = std::process::id() as i32;
        let found = foreign_listeners(addr, &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].listener, addr);
        assert_eq!(found[0].pid, Some(me));
        assert!(found[0]
            .to_string()
            .starts_with(&format!("{addr}, held by pid {me} (")));
        assert_eq!(foreign_listeners(addr, &[me]), Vec::new());
        drop(listener);
        assert_eq!(foreign_listeners(addr, &[]), Vec::new());
        let unknown = Holder {
            listener: addr,
            pid: None,
            cmdline: None,
        };
        assert_eq!(unknown.who(), "an unknown process");
    }
}
