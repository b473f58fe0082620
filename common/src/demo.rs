//! The demo service for integration tests (feature `testkit`).
//!
//! Cargo builds only a package's own binaries for its tests, so a tool whose
//! tests run against `testdata/demo-service` gets it from here: [`binary`]
//! builds it once per test run (a no-op when it is up to date) in the same
//! target directory, and [`start`] runs it on a port the OS picks and waits
//! for its `listening on ADDR` line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Path of the demo-service binary, built on first use.
pub fn binary() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        // target/<profile>/deps/<test>-HASH → target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target dir")
            .to_path_buf();
        let target_dir = profile_dir.parent().expect("target dir");
        let mut build = Command::new(env!("CARGO"));
        build
            .args(["build", "-q", "-p", "demo-service", "--target-dir"])
            .arg(target_dir);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("running cargo");
        assert!(status.success(), "building demo-service failed");
        profile_dir.join("demo-service")
    })
}

/// Starts the demo service on `127.0.0.1:0` with `args` (for example
/// `["--db", path, "--access-log", path, "--fake-pii"]`), waits up to 30 s for
/// its first line and returns the child and the address it listens on. Its
/// stdout after the first line is not read; stderr is inherited. The caller
/// stops it (SIGTERM for a graceful stop, `Child::kill` otherwise) and waits.
pub fn start(args: &[&str]) -> (Child, SocketAddr) {
    let mut child = Command::new(binary())
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting demo-service");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // Keep draining so the service never blocks on a full pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("demo-service did not print its address within 30 s");
        }
    };
    let addr = line
        .trim_end()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line from demo-service: {line:?}"));
    (child, addr)
}
