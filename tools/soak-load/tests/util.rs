//! Test helpers: run soak-load, start the demo service, read records.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::testkit;
use serde_json::Value;

pub fn bin() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("soak-load"));
    c.stdin(Stdio::null());
    c
}

/// A finished run: exit code, records, stderr.
pub struct Ran {
    pub code: i32,
    pub records: Vec<Value>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn summary(&self) -> &Value {
        testkit::summary(&self.records)
    }

    pub fn windows(&self) -> Vec<&Value> {
        testkit::of_kind(&self.records, "window")
    }

    pub fn figure(&self, name: &str) -> &Value {
        &self.summary()["figures"][name]
    }

    pub fn gate(&self, name: &str) -> &Value {
        testkit::gate(self.summary(), name)
    }

    pub fn f64(&self, name: &str) -> f64 {
        self.figure(name)
            .as_f64()
            .unwrap_or_else(|| panic!("figure {name} is not a number: {}", self.summary()))
    }

    pub fn u64(&self, name: &str) -> u64 {
        self.figure(name)
            .as_u64()
            .unwrap_or_else(|| panic!("figure {name} is not a count: {}", self.summary()))
    }
}

pub fn finish(out: Output) -> Ran {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let looks_json = stdout.trim_start().starts_with('{');
    Ran {
        code: out.status.code().unwrap_or(-1),
        records: if looks_json {
            testkit::jsonl(&out.stdout)
        } else {
            Vec::new()
        },
        stdout,
        stderr: testkit::stderr_text(&out),
    }
}

/// Runs `soak-load ARGS` to its end.
pub fn run(args: &[&str]) -> Ran {
    finish(bin().args(args).output().unwrap())
}

/// A demo service that is stopped (SIGTERM, then reaped) when dropped.
pub struct Demo {
    pub child: Child,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl Demo {
    pub fn start(extra: &[&str]) -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("demo.db");
        let log = dir.path().join("access.jsonl");
        let mut args = vec![
            "--db",
            db.to_str().unwrap(),
            "--access-log",
            log.to_str().unwrap(),
            "--workers",
            "2",
        ];
        args.extend_from_slice(extra);
        let (child, addr) = common::demo::start(&args);
        Demo { child, addr, dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("demo.db")
    }

    /// The access log's records (the service's own view of the traffic).
    pub fn access_log(&self) -> Vec<Value> {
        let bytes = std::fs::read(self.dir.path().join("access.jsonl")).unwrap_or_default();
        testkit::jsonl(&bytes)
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        testkit::send_signal(self.child.id(), 15);
        let _ = self.child.wait();
    }
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// The demo service under a bash supervisor that restarts it when it dies
/// (after `delay`), writing the running pid to `dir/pid` (atomically) and
/// every pid it started, one a line, to `dir/pids`.
pub struct Supervised {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Supervised {
    /// `faults` on every start.
    pub fn start(delay: &str, faults: &[&str]) -> Supervised {
        Supervised::start_with(delay, faults, &[], 0)
    }

    /// `faults` on every start, `first_faults` only on the first `first`
    /// starts (so the number of restarts is known: give the first ones
    /// `--crash-after N` and the last one lives to the end).
    pub fn start_with(
        delay: &str,
        faults: &[&str],
        first_faults: &[&str],
        first: u32,
    ) -> Supervised {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let script = write(
            dir.path(),
            "supervise.sh",
            r#"dir=$1 delay=$2 first=$3 first_faults=$4; shift 4
n=0
while [ ! -e "$dir/stop" ]; do
  n=$((n + 1))
  if [ "$n" -le "$first" ]; then
    "$@" $first_faults > /dev/null 2>&1 &
  else
    "$@" > /dev/null 2>&1 &
  fi
  echo $! >> "$dir/pids"
  echo $! > "$dir/pid.tmp"; mv "$dir/pid.tmp" "$dir/pid"
  wait $!
  sleep "$delay"
done
"#,
        );
        let db = dir.path().join("demo.db");
        let child = Command::new("bash")
            .arg(&script)
            .arg(dir.path())
            .arg(delay)
            .arg(first.to_string())
            .arg(first_faults.join(" "))
            .arg(common::demo::binary())
            .args(["--listen", &format!("127.0.0.1:{port}"), "--db"])
            .arg(&db)
            .args(faults)
            .spawn()
            .unwrap();
        let s = Supervised { child, dir, port };
        s.wait_listening();
        s
    }

    fn wait_listening(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the supervised demo never listened"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("demo.db")
    }

    pub fn pid_file(&self) -> String {
        self.dir.path().join("pid").to_str().unwrap().to_string()
    }

    /// Every pid the supervisor started so far, in order.
    pub fn pids(&self) -> Vec<i64> {
        std::fs::read_to_string(self.dir.path().join("pids"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.trim().parse().unwrap())
            .collect()
    }

    pub fn kill_cmd(&self) -> String {
        format!("kill -9 $(cat '{}')", self.dir.path().join("pid").display())
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        let _ = std::fs::write(self.dir.path().join("stop"), "");
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("pid")) {
            if let Ok(pid) = pid.trim().parse::<u32>() {
                testkit::send_signal(pid, 9);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
