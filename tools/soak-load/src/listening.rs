//! Does the watched process serve the target? A `--pid` naming the wrong
//! process (a stale pid file, a launcher, `pgrep -o` picking another one)
//! would have its memory judged instead of the service's: the process
//! tree watched must hold a TCP socket listening on a target's port.
//!
//! Read from /proc: the listening sockets of the watched process's own
//! network namespace (`/proc/PID/net/tcp{,6}`, so a service in a
//! container's namespace is seen there), then the socket inodes in each
//! process's fd table. Only the port is compared (a service bound to
//! 0.0.0.0 serves 127.0.0.1). What this cannot see: a port mapped to
//! another one (docker -p 8080:80, a proxy in front): `--no-listener-check`.

use std::collections::HashSet;
use std::fs;

/// Inodes of the TCP sockets listening on one of `ports` in `pid`'s
/// network namespace; None when neither table can be read.
fn listening_inodes(pid: i32, ports: &[u16]) -> Option<HashSet<u64>> {
    let mut read_any = false;
    let mut out = HashSet::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        read_any = true;
        out.extend(parse_listeners(&text, ports));
    }
    read_any.then_some(out)
}

/// From a /proc/net/tcp table: the inodes of LISTEN (0A) sockets whose
/// local port is one of `ports`.
fn parse_listeners(text: &str, ports: &[u16]) -> Vec<u64> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        let cols: Vec<&str> = line.split_ascii_whitespace().collect();
        let (Some(local), Some(&"0A"), Some(inode)) = (cols.get(1), cols.get(3), cols.get(9))
        else {
            continue;
        };
        let port = local
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok());
        if port.is_some_and(|p| ports.contains(&p)) {
            if let Ok(i) = inode.parse() {
                out.push(i);
            }
        }
    }
    out
}

/// `socket:[12345]` → 12345.
fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Some(true): a process of `pids` (the watched one first) holds a socket
/// listening on one of `ports`; Some(false): none does and every fd table
/// was read; None: it cannot be told (tables unreadable: another user's
/// process, or one that ended meanwhile).
pub fn serves(pids: &[i32], ports: &[u16]) -> Option<bool> {
    let root = *pids.first()?;
    let inodes = listening_inodes(root, ports)?;
    let mut unreadable = false;
    for pid in pids {
        let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            unreadable = true;
            continue;
        };
        for entry in dir.flatten() {
            let Ok(link) = fs::read_link(entry.path()) else {
                continue;
            };
            if link
                .to_str()
                .and_then(socket_inode)
                .is_some_and(|i| inodes.contains(&i))
            {
                return Some(true);
            }
        }
    }
    (!unreadable).then_some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_are_read_by_state_and_port() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0000000000000000 20 4 30 10 -1
   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0000000000000000 100 0 0 10 0
";
        assert_eq!(parse_listeners(text, &[8080]), [4242]);
        assert_eq!(parse_listeners(text, &[22, 8080]), [4242, 99]);
        assert!(parse_listeners("garbage\nmore garbage", &[80]).is_empty());
        assert_eq!(socket_inode("socket:[4242]"), Some(4242));
        assert_eq!(socket_inode("pipe:[4242]"), None);
    }

    #[test]
    fn this_process_serves_its_own_listener_and_not_another_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let me = std::process::id() as i32;
        assert_eq!(serves(&[me], &[port]), Some(true));
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let free = other.local_addr().unwrap().port();
        drop(other);
        assert_eq!(serves(&[me], &[free]), Some(false));
    }
}
