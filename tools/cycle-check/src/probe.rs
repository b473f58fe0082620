//! Probes: is the service ready / healthy? Four kinds, with Kubernetes
//! semantics where they apply (HTTP 200-399 is success, each attempt has a
//! timeout): `http://`, `tcp://`, `exec:` and `log:`.

use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process_group::{Ended, GroupChild};
use regex::Regex;

use crate::http;
use crate::service_output::OutputHub;

#[derive(Debug)]
pub enum Kind {
    Http {
        url: http::Url,
        addr: SocketAddr,
        expect_body: Option<Regex>,
    },
    Tcp {
        addr: SocketAddr,
    },
    Exec {
        command: String,
    },
    /// Index of the regex in the [`OutputHub`].
    Log {
        index: usize,
    },
}

#[derive(Debug)]
pub struct Probe {
    pub text: String,
    pub kind: Kind,
    pub timeout: Duration,
}

/// Parses a probe; `log:` regexes are registered in `log_regexes`.
pub fn parse(
    flag: &str,
    text: &str,
    timeout: Duration,
    expect_body: Option<&Regex>,
    log_regexes: &mut Vec<Regex>,
) -> Result<Probe, common::Error> {
    let bad = |msg: String| common::Error::usage(format!("{flag} {text}: {msg}"));
    let kind = if text.starts_with("http://") {
        let url = http::Url::parse(text).map_err(bad)?;
        let addr = http::resolve(&url.host, url.port).map_err(bad)?;
        Kind::Http {
            url,
            addr,
            expect_body: expect_body.cloned(),
        }
    } else if let Some(rest) = text.strip_prefix("tcp://") {
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| bad("expected tcp://HOST:PORT".to_string()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(format!("'{port}' is not a port (1-65535)")))?;
        Kind::Tcp {
            addr: http::resolve(host, port).map_err(bad)?,
        }
    } else if let Some(command) = text.strip_prefix("exec:") {
        if command.trim().is_empty() {
            return Err(bad("empty command".to_string()));
        }
        Kind::Exec {
            command: command.to_string(),
        }
    } else if let Some(pattern) = text.strip_prefix("log:") {
        let re = Regex::new(pattern).map_err(|e| bad(format!("bad regex: {e}")))?;
        log_regexes.push(re);
        Kind::Log {
            index: log_regexes.len() - 1,
        }
    } else {
        return Err(bad("unknown probe".to_string()).with_hint(
            "probes are http://HOST:PORT/PATH, tcp://HOST:PORT, exec:COMMAND or log:REGEX",
        ));
    };
    Ok(Probe {
        text: text.to_string(),
        kind,
        timeout,
    })
}

impl Probe {
    pub fn is_log(&self) -> bool {
        matches!(self.kind, Kind::Log { .. })
    }

    /// The address an `http://` or `tcp://` probe connects to.
    pub fn addr(&self) -> Option<SocketAddr> {
        match self.kind {
            Kind::Http { addr, .. } | Kind::Tcp { addr } => Some(addr),
            Kind::Exec { .. } | Kind::Log { .. } => None,
        }
    }

    /// The log-match count this probe compares against (0 for others).
    pub fn log_count(&self, hub: &OutputHub) -> u64 {
        match self.kind {
            Kind::Log { index } => hub.matches(index),
            _ => 0,
        }
    }

    /// One attempt. `log_since`: for `log:` probes, the match count that
    /// does not count yet (lines seen before this cycle or the last probe).
    pub fn check(&self, hub: &OutputHub, log_since: u64) -> Result<(), String> {
        let deadline = Instant::now() + self.timeout;
        match &self.kind {
            Kind::Http {
                url,
                addr,
                expect_body,
            } => {
                let response = http::get(url, *addr, deadline)?;
                if !(200..400).contains(&response.status) {
                    return Err(format!("HTTP {}", response.status));
                }
                if let Some(re) = expect_body {
                    if !re.is_match(&String::from_utf8_lossy(&response.body)) {
                        return Err(format!(
                            "HTTP {}: body does not match --expect-body {}",
                            response.status,
                            re.as_str()
                        ));
                    }
                }
                Ok(())
            }
            Kind::Tcp { addr } => TcpStream::connect_timeout(addr, self.timeout)
                .map(drop)
                .map_err(|e| format!("connect {addr}: {}", http::short_io(&e))),
            Kind::Exec { command } => run_exec(command, self.timeout),
            Kind::Log { index } => {
                if hub.matches(*index) > log_since {
                    Ok(())
                } else {
                    Err("no matching line yet".to_string())
                }
            }
        }
    }
}

/// `sh -c COMMAND` in its own process group, which is killed when the
/// command ends (whatever it left in the background: a probe's leftovers
/// would come back to cycle-check, the subreaper, and be taken for the
/// service's), on timeout, and on Ctrl-C.
fn run_exec(command: &str, timeout: Duration) -> Result<(), String> {
    let mut child = GroupChild::spawn(
        Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .map_err(|e| format!("cannot run sh: {}", http::short_io(&e)))?;
    let ended = child
        .wait_until(Some(Instant::now() + timeout))
        .map_err(|e| format!("waiting for sh: {}", http::short_io(&e)))?;
    match ended {
        Ended::Exited(exit) if exit.status.success() => Ok(()),
        Ended::Exited(exit) => {
            use std::os::unix::process::ExitStatusExt;
            Err(match (exit.status.code(), exit.status.signal()) {
                (Some(code), _) => format!("exit status {code}"),
                (None, Some(sig)) => format!("killed by signal {sig}"),
                _ => "failed".to_string(),
            })
        }
        Ended::TimedOut(_) => Err(format!("timed out after {}", humanize(timeout))),
        Ended::Interrupted(_) => Err("interrupted".to_string()),
    }
}

/// `1.5s`, `200ms` for messages.
pub fn humanize(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Probe, String> {
        parse(
            "--ready",
            text,
            Duration::from_secs(1),
            None,
            &mut Vec::new(),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn parsing() {
        assert!(matches!(
            p("http://127.0.0.1:1/x").unwrap().kind,
            Kind::Http { .. }
        ));
        assert!(matches!(
            p("tcp://127.0.0.1:80").unwrap().kind,
            Kind::Tcp { .. }
        ));
        assert!(matches!(
            p("tcp://[::1]:80").unwrap().kind,
            Kind::Tcp { .. }
        ));
        assert!(matches!(p("exec:true").unwrap().kind, Kind::Exec { .. }));
        assert!(matches!(
            p("log:^ready").unwrap().kind,
            Kind::Log { index: 0 }
        ));
        assert_eq!(p("ftp://x").unwrap_err(), "--ready ftp://x: unknown probe");
        assert_eq!(
            p("tcp://x").unwrap_err(),
            "--ready tcp://x: expected tcp://HOST:PORT"
        );
        assert_eq!(
            p("tcp://h:0").unwrap_err(),
            "--ready tcp://h:0: '0' is not a port (1-65535)"
        );
        assert_eq!(p("exec: ").unwrap_err(), "--ready exec: : empty command");
        assert!(p("log:(")
            .unwrap_err()
            .starts_with("--ready log:(: bad regex"));
    }

    #[test]
    fn exec_probes() {
        let hub = OutputHub::new(None, Vec::new()).unwrap();
        assert_eq!(p("exec:true").unwrap().check(&hub, 0), Ok(()));
        assert_eq!(
            p("exec:exit 3").unwrap().check(&hub, 0),
            Err("exit status 3".to_string())
        );
        let slow = parse(
            "--ready",
            "exec:sleep 5",
            Duration::from_millis(50),
            None,
            &mut Vec::new(),
        )
        .unwrap();
        let t = Instant::now();
        assert_eq!(slow.check(&hub, 0), Err("timed out after 50ms".to_string()));
        assert!(t.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_passing_exec_probe_leaves_no_background_child() {
        let hub = OutputHub::new(None, Vec::new()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let probe = p(&format!(
            "exec:sleep 300 >/dev/null 2>&1 & echo $! > {}",
            pidfile.display()
        ))
        .unwrap();
        assert_eq!(probe.check(&hub, 0), Ok(()));
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Killed before check returned; init reaps it soon after (the
        // name check keeps a reused pid from holding the loop).
        let deadline = Instant::now() + Duration::from_secs(10);
        while crate::procfs::stat(pid).is_some_and(|p| !p.is_zombie() && p.comm == "sleep") {
            assert!(
                Instant::now() < deadline,
                "the probe's sleep {pid} survived"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn tcp_probe_against_a_real_listener() {
        let hub = OutputHub::new(None, Vec::new()).unwrap();
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert_eq!(
            p(&format!("tcp://127.0.0.1:{port}"))
                .unwrap()
                .check(&hub, 0),
            Ok(())
        );
        drop(l);
        let err = p(&format!("tcp://127.0.0.1:{port}"))
            .unwrap()
            .check(&hub, 0)
            .unwrap_err();
        assert_eq!(err, format!("connect 127.0.0.1:{port}: Connection refused"));
    }
}
