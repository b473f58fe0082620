//! cycle-check on services nobody here wrote: nginx and redis-server from
//! the distribution, in the foreground and daemonizing as they do by
//! default, on 127.0.0.1 and OS-chosen ports. Each case is what a user would
//! type, and each record is asserted: a daemon without --pidfile is named as
//! such, with --pidfile it passes, a port another real server holds is
//! refused. With CI set a missing nginx or redis-server fails the test
//! (.ci/run installs the `nginx` and `redis-server` packages).

use crate::util::{self, Run};

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::testkit::{free_port, of_kind, require_tool, summary};
use serde_json::json;

fn cycle_check(args: &[&str]) -> Run {
    util::cycle_check_within(args, Duration::from_secs(120))
}

/// The file `program` runs from, as cycle-check's inputs name it.
fn on_path(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap();
    let found = std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap();
    std::fs::canonicalize(found).unwrap()
}

fn sha256_of(path: &Path) -> String {
    common::digest::sha256_file(path).unwrap().0
}

/// An nginx prefix in `dir` serving 200 on 127.0.0.1:`port`, its pid file
/// at `dir/nginx.pid`; the command line to run it (daemonizing unless
/// `extra` says `-g 'daemon off;'`).
fn nginx(dir: &Path, port: u16, extra: &[&str]) -> Vec<String> {
    let d = dir.display();
    let conf = format!(
        "worker_processes 2;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  \
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  \
         scgi_temp_path {d}/scgi;\n  \
         server {{ listen 127.0.0.1:{port}; location / {{ return 200 \"ok\\n\"; }} }}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut cmd: Vec<String> = ["nginx", "-p", &format!("{d}"), "-e"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    cmd.push(format!("{d}/error.log"));
    cmd.push("-c".into());
    cmd.push(format!("{d}/nginx.conf"));
    cmd.extend(extra.iter().map(|s| s.to_string()));
    cmd
}

fn redis(dir: &Path, port: u16, extra: &[&str]) -> Vec<String> {
    let mut cmd: Vec<String> = [
        "redis-server",
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    cmd.extend(extra.iter().map(|s| s.to_string()));
    cmd
}

fn with_cmd<'a>(head: &[&'a str], cmd: &'a [String]) -> Vec<&'a str> {
    let mut v = head.to_vec();
    v.push("--");
    v.extend(cmd.iter().map(String::as_str));
    v
}

/// A process started in its own process group; the whole group is killed
/// and the leader reaped when this is dropped, also when a test panics
/// (killing only nginx's master would leave its workers listening).
struct Group(std::process::Child);

impl Group {
    fn spawn(cmd: &[String]) -> Group {
        use std::os::unix::process::CommandExt;
        let child = std::process::Command::new(&cmd[0])
            .args(&cmd[1..])
            .stdin(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        Group(child)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = self.0.wait();
        // The workers are not our children: wait until the port is theirs no more.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while nix::sys::signal::killpg(pgid, None).is_ok() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

#[test]
fn nginx_in_the_foreground_cycles_clean_and_its_binary_is_the_input() {
    if !require_tool("nginx") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cmd = nginx(dir.path(), port, &["-g", "daemon off;"]);
    let probe = format!("http://127.0.0.1:{port}/");
    let log = dir.path().join("svc.log");
    let run = cycle_check(&with_cmd(
        &[
            "--cycles",
            "3",
            "--ready",
            &probe,
            "--service-log",
            log.to_str().unwrap(),
        ],
        &cmd,
    ));
    assert_eq!(run.code, 0, "{} {:?}", run.stderr, run.records);
    for c in of_kind(&run.records, "cycle") {
        assert_eq!(
            (&c["causes"], &c["ended_by"], &c["exit_code"]),
            (&json!([]), &json!("stop_signal"), &json!(0)),
            "{c}"
        );
        assert_eq!(c["pid"], c["pgid"], "{c}");
    }
    let nginx = on_path("nginx");
    assert_eq!(
        summary(&run.records)["inputs"],
        json!([{"path": nginx.to_str().unwrap(), "sha256": sha256_of(&nginx)}])
    );
    assert!(port_is_free(port));
}

#[test]
fn nginx_daemonizing_by_default_is_named_and_passes_with_its_pid_file() {
    if !require_tool("nginx") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cmd = nginx(dir.path(), port, &[]);
    let probe = format!("http://127.0.0.1:{port}/");
    let run = cycle_check(&with_cmd(&["--cycles", "2", "--ready", &probe], &cmd));
    assert_eq!(run.code, 1, "{} {:?}", run.stderr, run.records);
    for c in of_kind(&run.records, "cycle") {
        assert_eq!(c["causes"], json!(["daemonized"]), "{c}");
        let detail = c["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("the service daemonized: pass --pidfile (pid ")
                // Named the moment the launcher exits: the master may not
                // have retitled itself "nginx: master process ..." yet.
                && detail.contains("nginx -p ")
                && detail.ends_with(&format!(" listening on 127.0.0.1:{port})")),
            "{detail}"
        );
        assert_eq!(
            (&c["orphans"], &c["leaked_ports"], &c["ended_by"]),
            (&json!([]), &json!([]), &json!("stop_signal")),
            "the daemon is stopped like the service it is: {c}"
        );
    }
    assert!(port_is_free(port));

    let pidfile = dir.path().join("nginx.pid");
    let run = cycle_check(&with_cmd(
        &[
            "--cycles",
            "2",
            "--ready",
            &probe,
            "--pidfile",
            pidfile.to_str().unwrap(),
        ],
        &cmd,
    ));
    assert_eq!(run.code, 0, "{} {:?}", run.stderr, run.records);
    for c in of_kind(&run.records, "cycle") {
        assert_eq!(c["causes"], json!([]), "{c}");
        assert_ne!(c["pid"], c["pgid"], "the main process is the daemon: {c}");
        assert_eq!(c["exit_code"], 0, "{c}");
    }
    assert!(
        !pidfile.exists(),
        "nginx removed its pid file on the way out"
    );
    assert!(port_is_free(port));

    // A pid file nginx does not write is named, not "orphans, leaked ports".
    let wrong = dir.path().join("elsewhere.pid");
    let run = cycle_check(&with_cmd(
        &[
            "--cycles",
            "1",
            "--ready",
            &probe,
            "--ready-timeout",
            "1s",
            "--pidfile",
            wrong.to_str().unwrap(),
        ],
        &cmd,
    ));
    assert_eq!(run.code, 1);
    let c = of_kind(&run.records, "cycle")[0];
    assert_eq!(c["causes"], json!(["pidfile_missing"]), "{c}");
    assert_eq!(
        c["ready_error"],
        format!(
            "--pidfile {}: not written within 1s (the probe passed)",
            wrong.display()
        )
    );
    assert!(port_is_free(port));
}

#[test]
fn redis_in_the_foreground_and_daemonized_with_and_without_a_pid_file() {
    if !require_tool("redis-server") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let probe = format!("tcp://127.0.0.1:{port}");
    let fg = redis(dir.path(), port, &["--daemonize", "no"]);
    let run = cycle_check(&with_cmd(
        &[
            "--cycles",
            "2",
            "--ready",
            &probe,
            "--service-log",
            "/dev/null",
        ],
        &fg,
    ));
    assert_eq!(run.code, 0, "{} {:?}", run.stderr, run.records);
    for c in of_kind(&run.records, "cycle") {
        assert_eq!(
            (&c["causes"], &c["exit_code"]),
            (&json!([]), &json!(0)),
            "redis exits 0 on SIGTERM: {c}"
        );
    }

    let bg = redis(dir.path(), port, &["--daemonize", "yes"]);
    let run = cycle_check(&with_cmd(&["--cycles", "1", "--ready", &probe], &bg));
    assert_eq!(run.code, 1, "{} {:?}", run.stderr, run.records);
    let c = of_kind(&run.records, "cycle")[0];
    assert_eq!(c["causes"], json!(["daemonized"]), "{c}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .ends_with(&format!(" listening on 127.0.0.1:{port})")),
        "{c}"
    );
    assert!(port_is_free(port));

    let pidfile = dir.path().join("redis.pid");
    let pf = pidfile.to_str().unwrap();
    let bg = redis(dir.path(), port, &["--daemonize", "yes", "--pidfile", pf]);
    let run = cycle_check(&with_cmd(
        &["--cycles", "2", "--ready", &probe, "--pidfile", pf],
        &bg,
    ));
    assert_eq!(run.code, 0, "{} {:?}", run.stderr, run.records);
    for c in of_kind(&run.records, "cycle") {
        assert_ne!(c["pid"], c["pgid"], "{c}");
    }
    assert!(port_is_free(port));
}

#[test]
fn a_port_a_real_nginx_already_holds_is_refused_for_redis() {
    // Issue 13's false pass with real servers: the probe would have been
    // answered by nginx, never by redis (which cannot bind).
    if !(require_tool("nginx") && require_tool("redis-server")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let ng = nginx(dir.path(), port, &["-g", "daemon off;"]);
    let nginx = Group::spawn(&ng);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "nginx did not listen");
        std::thread::sleep(Duration::from_millis(10));
    }
    let rd = redis(dir.path(), port, &["--daemonize", "no"]);
    let probe = format!("tcp://127.0.0.1:{port}");
    let run = cycle_check(&with_cmd(&["--cycles", "3", "--ready", &probe], &rd));
    let nginx_pid = nginx.0.id();
    drop(nginx);
    assert!(port_is_free(port), "nginx and its workers are gone");
    assert_eq!(run.code, 2, "{:?}", run.records);
    assert!(run.records.is_empty());
    assert!(
        run.stderr.starts_with(&format!(
            "cycle-check: error: --ready {probe}: 127.0.0.1:{port} is already held by pid {nginx_pid} (nginx: master process ",
        )),
        "{}",
        run.stderr
    );
}
