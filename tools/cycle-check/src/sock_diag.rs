//! Listening TCP sockets through the kernel's sock_diag netlink interface.
//!
//! Reading /proc/net/tcp walks every bucket of the established-connections
//! hash table (milliseconds on a large machine, even with a handful of
//! sockets); asking sock_diag for LISTEN sockets only walks the listening
//! table. Same answer, a fraction of the cost, which matters because it is
//! asked several times per cycle. [`crate::procfs::listeners_from_proc`]
//! stays as the fallback when netlink is not available.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;

use nix::sys::socket::{
    recv, sendto, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};

use crate::procfs::Listener;

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_HDRLEN: usize = 16;
const INET_DIAG_MSG_LEN: usize = 72;
const TCP_LISTEN: u8 = 10;
const IPPROTO_TCP: u8 = 6;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// The dump request for one address family: nlmsghdr + inet_diag_req_v2.
fn request(family: u8, seq: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(72);
    m.extend_from_slice(&72u32.to_ne_bytes());
    m.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    m.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    // inet_diag_req_v2: family, protocol, ext, pad, states, then a zero sockid.
    m.extend_from_slice(&[family, IPPROTO_TCP, 0, 0]);
    m.extend_from_slice(&(1u32 << TCP_LISTEN).to_ne_bytes());
    m.resize(72, 0);
    m
}

fn u16_ne(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_ne(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// What one received datagram said.
#[derive(Debug, PartialEq, Eq)]
pub enum Batch {
    More,
    Done,
}

/// Parses one datagram of netlink messages, appending LISTEN sockets to
/// `out`. Malformed data is an error (never a panic): it comes from the
/// kernel, but the parser does not trust lengths it has not checked.
pub fn parse(buf: &[u8], out: &mut Vec<Listener>) -> Result<Batch, String> {
    let mut at = 0;
    while at + NLMSG_HDRLEN <= buf.len() {
        let len = u32_ne(buf, at).ok_or("short header")? as usize;
        let kind = u16_ne(buf, at + 4).ok_or("short header")?;
        if len < NLMSG_HDRLEN || at + len > buf.len() {
            return Err(format!("bad netlink message length {len}"));
        }
        let body = &buf[at + NLMSG_HDRLEN..at + len];
        match kind {
            NLMSG_DONE => return Ok(Batch::Done),
            NLMSG_ERROR => {
                let errno = u32_ne(body, 0).map_or(0, |e| (e as i32).wrapping_neg());
                return Err(format!("netlink error {errno}"));
            }
            SOCK_DIAG_BY_FAMILY => {
                if body.len() < INET_DIAG_MSG_LEN {
                    return Err("short inet_diag_msg".to_string());
                }
                let (family, state) = (body[0], body[1]);
                if state == TCP_LISTEN {
                    let port = u16::from_be_bytes([body[4], body[5]]);
                    let addr = match family {
                        AF_INET => IpAddr::V4(Ipv4Addr::new(body[8], body[9], body[10], body[11])),
                        AF_INET6 => {
                            let mut a = [0u8; 16];
                            a.copy_from_slice(&body[8..24]);
                            IpAddr::V6(Ipv6Addr::from(a))
                        }
                        other => return Err(format!("unexpected address family {other}")),
                    };
                    let inode = u64::from(u32_ne(body, 68).ok_or("short inet_diag_msg")?);
                    out.push(Listener { addr, port, inode });
                }
            }
            _ => {}
        }
        // Messages are aligned to 4 bytes.
        at += (len + 3) & !3;
    }
    Ok(Batch::More)
}

/// Every listening TCP socket on the machine (this network namespace):
/// through sock_diag when the kernel offers it, else from /proc/net/tcp{,6}.
pub fn listeners() -> Vec<Listener> {
    dump().unwrap_or_else(|_| crate::procfs::listeners_from_proc())
}

/// Every listening TCP socket, IPv4 and IPv6, as sock_diag dumps them.
pub fn dump() -> io::Result<Vec<Listener>> {
    let sock = socket(
        AddressFamily::Netlink,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkSockDiag,
    )?;
    let kernel = NetlinkAddr::new(0, 0);
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for (seq, family) in [(1, AF_INET), (2, AF_INET6)] {
        sendto(
            sock.as_raw_fd(),
            &request(family, seq),
            &kernel,
            MsgFlags::empty(),
        )?;
        // Bounded: a dump of the listening table ends with NLMSG_DONE; 10 000
        // datagrams of 64 KiB would be ~9 million sockets.
        let mut done = false;
        for _ in 0..10_000 {
            let n = recv(sock.as_raw_fd(), &mut buf, MsgFlags::empty())?;
            match parse(&buf[..n], &mut out) {
                Ok(Batch::Done) => {
                    done = true;
                    break;
                }
                Ok(Batch::More) => {}
                Err(e) => return Err(io::Error::other(e)),
            }
        }
        if !done {
            return Err(io::Error::other("sock_diag dump did not end"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_real_listener_like_proc_net_tcp_does() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let found = dump().unwrap();
        let mine: Vec<&Listener> = found.iter().filter(|x| x.port == port).collect();
        assert_eq!(mine.len(), 1, "{found:?}");
        assert_eq!(mine[0].addr, "127.0.0.1".parse::<IpAddr>().unwrap());
        let from_proc: Vec<Listener> = crate::procfs::listeners_from_proc()
            .into_iter()
            .filter(|x| x.port == port)
            .collect();
        assert_eq!(from_proc, vec![mine[0].clone()]);
    }

    #[test]
    fn malformed_datagrams_are_errors_not_panics() {
        let mut out = Vec::new();
        assert_eq!(parse(&[], &mut out), Ok(Batch::More));
        let mut m = 8u32.to_ne_bytes().to_vec();
        m.extend_from_slice(&[0; 12]);
        assert_eq!(
            parse(&m, &mut out),
            Err("bad netlink message length 8".to_string())
        );
        let mut m = 400u32.to_ne_bytes().to_vec();
        m.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        assert_eq!(
            parse(&m, &mut out),
            Err("bad netlink message length 400".to_string())
        );
        let mut m = 20u32.to_ne_bytes().to_vec();
        m.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        m.extend_from_slice(&[0; 14]);
        assert_eq!(parse(&m, &mut out), Err("short inet_diag_msg".to_string()));
        let mut m = 20u32.to_ne_bytes().to_vec();
        m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(&(-13i32).to_ne_bytes());
        assert_eq!(parse(&m, &mut out), Err("netlink error 13".to_string()));
        // Found by fuzzing: an error code of i32::MIN must not overflow.
        let mut m = 20u32.to_ne_bytes().to_vec();
        m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(&i32::MIN.to_ne_bytes());
        assert_eq!(
            parse(&m, &mut out),
            Err(format!("netlink error {}", i32::MIN))
        );
        assert!(out.is_empty());
    }
}
