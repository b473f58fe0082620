//! What the demo service's integration tests share: the service as a real
//! process on 127.0.0.1, and one HTTP request per connection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

pub struct Service {
    pub child: Child,
    pub addr: String,
    pub lines: Vec<String>,
    _stdout: BufReader<ChildStdout>,
    dir: Option<tempfile::TempDir>,
}

impl Service {
    pub fn start(args: &[&str]) -> Service {
        Service::start_in(tempfile::tempdir().unwrap(), args)
    }

    /// Starts the service on `dir/demo.db` (so a test can restart it on
    /// the same database: `Service::start_in(svc.kill(), ..)`).
    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Service {
        let mut child = Command::new(env!("CARGO_BIN_EXE_demo-service"))
            .args(["--listen", "127.0.0.1:0", "--child-lifetime", "30s"])
            .arg("--db")
            .arg(dir.path().join("demo.db"))
            .arg("--access-log")
            .arg(dir.path().join("access.jsonl"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        // `listening on`, `pid`, then one line per fault: read what was announced.
        let faults = args
            .iter()
            .filter(|a| ["--orphan", "--zombie", "--hold-port"].contains(a))
            .count();
        for _ in 0..2 + faults {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            lines.push(line.trim_end().to_string());
        }
        let addr = lines[0]
            .strip_prefix("listening on ")
            .expect("first line names the address")
            .to_string();
        Service {
            child,
            addr,
            lines,
            _stdout: stdout,
            dir: Some(dir),
        }
    }

    /// SIGKILL (no chance to finish anything), then the directory back.
    pub fn kill(mut self) -> tempfile::TempDir {
        self.signal("KILL");
        let status = self.wait(Duration::from_secs(10));
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9));
        self.dir.take().unwrap()
    }

    pub fn fault_pid(&self, what: &str) -> i32 {
        let prefix = format!("fault: {what} pid ");
        let line = self.lines.iter().find(|l| l.starts_with(&prefix)).unwrap();
        line[prefix.len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.as_ref().unwrap().path().join(name)
    }

    pub fn signal(&self, sig: &str) {
        let sig: Signal = format!("SIG{sig}").parse().unwrap();
        kill(Pid::from_raw(self.child.id() as i32), sig).unwrap();
    }

    pub fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "service did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn stderr(&mut self) -> String {
        let mut s = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request on its own connection; returns status, headers (lowercase), JSON body.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: &str,
    cid: Option<&str>,
) -> (u16, String, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let cid = cid
        .map(|c| format!("x-correlation-id: {c}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: x\r\n{cid}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (
        status,
        head.to_ascii_lowercase(),
        serde_json::from_str(body).unwrap(),
    )
}

pub fn alive(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

pub fn kill9(pid: i32) {
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
}

/// `demo-service --audit --db DB`: exit code, findings, stderr.
pub fn audit(db: &std::path::Path) -> (i32, Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_demo-service"))
        .arg("--audit")
        .arg("--db")
        .arg(db)
        .output()
        .unwrap();
    let findings = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        out.status.code().unwrap(),
        findings,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// POST with a JSON body; status and body.
pub fn post(addr: &str, path: &str, body: &str) -> (u16, Value) {
    let (status, _, value) = request(addr, "POST", path, body, None);
    (status, value)
}

pub fn get(addr: &str, path: &str) -> (u16, Value) {
    let (status, _, value) = request(addr, "GET", path, "", None);
    (status, value)
}

/// Waits (bounded, 30 s) until the service has begun `n` requests other
/// than the health checks this asks with: they are in its hands.
pub fn wait_for_requests(addr: &str, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut polls = 0;
    loop {
        polls += 1;
        let (_, body) = get(addr, "/v1/health");
        let begun = body["requests"].as_u64().unwrap() - polls;
        if begun >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {begun} of {n} requests began within 30 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
