//! Helpers for integration tests (feature `testkit`): fixtures from
//! `testdata/` ([`testdata`], [`copy_tree`]), running a tool ([`run`]: exit
//! code, records, stderr), and parsing its JSON Lines output so tests
//! assert exact records rather than "exit 0".

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use serde_json::Value;

/// The workspace root (where `Cargo.toml` with `[workspace]` lives).
/// A TCP port on 127.0.0.1 free a moment ago (bound, then released) for a
/// server a test starts. It lies below the kernel's range for the source
/// ports of outgoing connections (`ip_local_port_range`): a client that
/// reconnects while the server restarts on a port from that range can be
/// given the port itself and connect to itself (TCP simultaneous open),
/// and then holds it, so the restart cannot bind. Port 0 would pick from
/// that very range.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (from, to) = (10_000u16, low.clamp(10_001, 32_768));
    for _ in 0..10_000 {
        // A random start, so tests running at once do not try the same ports.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let port = from + (h.finish() % u64::from(to - from)) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on 127.0.0.1 in {from}..{to}")
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A path under `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    workspace_root().join("testdata").join(rel)
}

/// Parses JSON Lines output; panics with the bad line on anything else.
pub fn jsonl(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("output is UTF-8");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

/// Records of one `kind`.
pub fn of_kind<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["kind"] == kind).collect()
}

/// The last record, asserted to be the summary.
pub fn summary(records: &[Value]) -> &Value {
    let last = records.last().expect("no records");
    assert_eq!(
        last["kind"], "summary",
        "last record is not the summary: {last}"
    );
    last
}

/// The gate named `name` in a summary.
pub fn gate<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["gates"]
        .as_array()
        .and_then(|gs| gs.iter().find(|g| g["name"] == name))
        .unwrap_or_else(|| panic!("no gate {name} in {summary}"))
}

/// Stderr of a finished command as UTF-8 text (lossy).
pub fn stderr_text(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub use assert_cmd;
pub use nix::sys::signal::Signal;

/// Waits (bounded, 20 s) until process `pid` catches `signal` — its handler
/// is installed, read from the `SigCgt` mask in `/proc/PID/status` — so a
/// test can send the signal without racing the tool's start-up.
pub fn wait_for_signal_handler(pid: u32, signal: i32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !catches(pid, signal) {
        assert!(
            std::time::Instant::now() < deadline,
            "pid {pid} never installed a handler for signal {signal}"
        );
        std::thread::yield_now();
    }
}

fn catches(pid: u32, signal: i32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let caught = status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .unwrap_or(0);
    caught & (1 << (signal - 1)) != 0
}

/// True when a thread of process `pid` is blocked opening a FIFO that has
/// no writer (`wait_for_partner` in its `/proc/PID/task/*/wchan`).
pub fn blocked_opening_fifo(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|t| {
            std::fs::read_to_string(t.path().join("wchan")).is_ok_and(|w| w == "wait_for_partner")
        })
}

/// Sends `signal` to process `pid` (no `kill` binary needed: procps may be absent).
pub fn send_signal(pid: u32, signal: i32) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap());
    let signal = nix::sys::signal::Signal::try_from(signal).unwrap();
    nix::sys::signal::kill(pid, signal).unwrap();
}

/// Makes a FIFO at `dir/name` that nobody writes to: opening it for reading
/// blocks until a writer comes, which none will (as `cat` would block).
pub fn fifo_without_writer(dir: &std::path::Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    path
}

/// How long a test waits for a signalled tool to exit before calling it a
/// hang: far above `common::interrupt::GRACE`, so a loaded machine passes.
pub const SIGNAL_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// When [`signal_once`] sends its signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendWhen {
    /// Once the tool handles the signal (its handler is installed).
    HandlerInstalled,
    /// Once, besides, a thread of it is blocked in `open()` of a FIFO with
    /// no writer (`wait_for_partner` in `/proc/PID/task/*/wchan`), where no
    /// interrupt flag can be polled.
    BlockedOpeningFifo,
}

/// Starts `cmd` (stdin closed, stdout and stderr piped), waits for `when`,
/// sends `signal` once, and waits for the exit. Returns the output and the
/// time from the signal to the exit; panics (killing the tool) if it is
/// still running after [`SIGNAL_DEADLINE`].
pub fn signal_once(
    cmd: &mut std::process::Command,
    signal: Signal,
    when: SendWhen,
) -> (std::process::Output, std::time::Duration) {
    let signal = signal as i32;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain the pipes while waiting, so a chatty tool cannot block on them.
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
        rx
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    // Waits (bounded) for `when`; a tool that ends first is not signalled.
    let start = std::time::Instant::now();
    let pid = child.id();
    let sent = loop {
        if child.try_wait().unwrap().is_some() {
            break std::time::Instant::now();
        }
        if catches(pid, signal) && (when == SendWhen::HandlerInstalled || blocked_opening_fifo(pid))
        {
            send_signal(pid, signal);
            break std::time::Instant::now();
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "pid {pid} never reached {when:?} for signal {signal}"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > SIGNAL_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running {SIGNAL_DEADLINE:?} after signal {signal}: it hangs");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let took = sent.elapsed();
    // A process the tool left running may hold the pipes open: that is a leak.
    let rest = |rx: std::sync::mpsc::Receiver<Vec<u8>>| {
        rx.recv_timeout(SIGNAL_DEADLINE)
            .expect("a process the tool started outlived it, holding its stdout or stderr")
    };
    let output = std::process::Output {
        status,
        stdout: rest(out),
        stderr: rest(err),
    };
    (output, took)
}

/// True when env `CI` is set to anything but empty, `false` or `0`: then a
/// test must never skip because something it needs is missing.
pub fn in_ci() -> bool {
    ci_value_means_ci(std::env::var("CI").ok().as_deref())
}

fn ci_value_means_ci(value: Option<&str>) -> bool {
    value.is_some_and(|v| !matches!(v.trim(), "" | "false" | "0"))
}

/// Peer programs the tests check against, how to confirm it is the right one
/// (`--version` output must contain the text), and how to install it.
const TOOLS: &[(&str, &[&str], &str, &str)] = &[
    ("minisign", &["-v"], "minisign", "apt-get install minisign"),
    ("sqlite3", &["-version"], "", "apt-get install sqlite3"),
    ("nginx", &["-v"], "nginx", "apt-get install nginx"),
    (
        "redis-server",
        &["--version"],
        "Redis",
        "apt-get install redis-server",
    ),
    ("tar", &["--version"], "GNU tar", "apt-get install tar"),
];

/// True when the peer program `name` is installed (for `tar`: GNU tar).
///
/// When it is not: with [`in_ci`], panics with how to install it (a test in
/// CI never passes by skipping); otherwise writes a loud notice and returns
/// false, and the caller skips its check. The notice goes straight to the
/// stderr stream, which the test harness does not capture, so a skip is
/// visible in a plain `cargo test` run.
pub fn require_tool(name: &str) -> bool {
    let (args, must_say, install) = TOOLS
        .iter()
        .find(|(n, ..)| *n == name)
        .map_or((&["--version"][..], "", "install it"), |(_, a, s, i)| {
            (*a, *s, *i)
        });
    let found = std::process::Command::new(name)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|out| {
            let said = [out.stdout, out.stderr].concat();
            String::from_utf8_lossy(&said).contains(must_say)
        });
    let what = if must_say.is_empty() {
        format!("`{name}` is not installed")
    } else {
        format!("`{name}` is not installed, or is not {must_say}")
    };
    require(&what, found, install)
}

/// Like [`require_tool`] for a capability that is not a program (say,
/// `mknod` of a device node, which needs root): `available` is whether it is
/// here, `what` says what is missing, `how` how to get it.
pub fn require(what: &str, available: bool, how: &str) -> bool {
    if available {
        return true;
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    if in_ci() {
        panic!("{what}, and CI is set: {test} must not skip ({how})");
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n*** NOTICE: SKIPPED part of {test}: {what} ({how}; with CI set this fails) ***\n"
    );
    false
}

/// What a finished run of a tool gave: its exit code, stdout and stderr.
#[derive(Debug)]
pub struct Run {
    /// The exit code; -1 when a signal ended the process.
    pub code: i32,
    pub stdout: Vec<u8>,
    /// Stderr as UTF-8 text (lossy).
    pub stderr: String,
}

impl Run {
    /// Stdout as JSON Lines records; panics naming the line on anything else.
    pub fn records(&self) -> Vec<Value> {
        jsonl(&self.stdout)
    }

    /// Stdout as UTF-8 text (lossy), for `--format text`.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stderr: stderr_text(&out),
            stdout: out.stdout,
        }
    }
}

/// Runs `cmd` (a tool's binary, from `assert_cmd::Command::cargo_bin`) to
/// its end and returns what it gave, asserting nothing: the test asserts
/// the exact code, records and message.
pub fn run(cmd: &mut assert_cmd::Command) -> Run {
    cmd.output().expect("the binary runs").into()
}

/// Copies the tree `src` into `dest` (created if missing): directories and
/// regular files, as fixtures are.
pub fn copy_tree(src: &std::path::Path, dest: &std::path::Path) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dest.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// A small tmpfs mounted on a new temporary directory for a test (a disk
/// that fills up); unmounted when dropped. Mounting needs root: without it,
/// [`require`] says so (and fails the test when CI is set) and `mount`
/// gives `None`.
#[derive(Debug)]
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    pub fn mount(size_kib: u32) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_kib}k"), "tmpfs"])
            .arg(dir.path())
            .output();
        let why = match out {
            Ok(o) if o.status.success() => return Some(Tmpfs { dir }),
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => e.to_string(),
        };
        let what = format!("cannot mount a tmpfs for a full-disk test ({why})");
        require(&what, false, "run the tests as root, as CI does");
        None
    }

    /// A path inside the tmpfs.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Fills the file system: a file `filler` as large as it will grow.
    pub fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.path("filler")).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        // Also the slack of partly used pages.
        while f.write_all(&[0u8]).is_ok() {}
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_port_is_below_the_source_port_range_and_bindable() {
        let low: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .map(|r| r.split_whitespace().next().unwrap().parse().unwrap())
            .unwrap_or(32768);
        for _ in 0..20 {
            let port = free_port();
            assert!((10_000..low.max(10_001)).contains(&port), "{port}");
            std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        }
    }

    #[test]
    fn ci_is_any_value_but_empty_false_or_zero() {
        for (value, ci) in [
            (None, false),
            (Some(""), false),
            (Some("false"), false),
            (Some("0"), false),
            (Some("true"), true),
            (Some("1"), true),
            (Some("yes"), true),
        ] {
            assert_eq!(ci_value_means_ci(value), ci, "{value:?}");
        }
    }

    #[test]
    fn a_missing_tool_fails_in_ci_and_skips_loudly_elsewhere() {
        let got = std::panic::catch_unwind(|| require_tool("hardgate-no-such-tool"));
        if in_ci() {
            assert!(got.is_err(), "a missing tool passed in CI");
        } else {
            assert_eq!(got.ok(), Some(false));
        }
        assert!(require_tool("sh"));
    }
}
