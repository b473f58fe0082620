//! A service that hands a command to a server that was already running
//! (tmux here) leaves a process that is not its descendant: the subreaper
//! never sees it. After the stop cycle-check looks at the processes outside
//! the tree that started during the cycle: one whose command line the
//! service handed over (quoted in its command) is a `foreign_leftover`; the
//! holder of a listener that is new since the start is listed, and counted
//! only with evidence or --fail-on-new-listeners, since other people start
//! servers on a shared machine all the time. Real tmux and Python's
//! http.server; with CI set a missing one fails the test.

use crate::util::{self, Run};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::testkit::{gate, jsonl, of_kind, require_tool, summary};
use serde_json::Value;

fn cycle_check(args: &[&str]) -> Run {
    util::cycle_check_within(args, Duration::from_secs(120))
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A tmux server of the test's own (its socket in a temporary directory),
/// running before cycle-check starts; killed with its windows when dropped.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn start(dir: &Path) -> Tmux {
        let socket = dir.join("tmux.sock");
        let ok = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(["new-session", "-d", "sleep 600"])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session failed");
        Tmux { socket }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .status();
    }
}

/// The port in http.server's `Serving HTTP on 127.0.0.1 port N ...` line.
fn served_port(out: &Path) -> Option<u16> {
    let text = std::fs::read_to_string(out).ok()?;
    let rest = text.split(" port ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

/// The `foreign_leftovers` entries of a cycle listening on `port`.
fn on_port(cycle: &Value, port: u16) -> Vec<Value> {
    let addr = format!("127.0.0.1:{port}");
    leftovers(cycle)
        .into_iter()
        .filter(|l| {
            l["listening"]
                .as_array()
                .unwrap()
                .contains(&addr.as_str().into())
        })
        .collect()
}

fn leftovers(cycle: &Value) -> Vec<Value> {
    cycle["foreign_leftovers"]
        .as_array()
        .unwrap_or_else(|| panic!("no foreign_leftovers in {cycle}"))
        .clone()
}

#[test]
fn a_listener_handed_to_a_running_tmux_server_passed_as_clean() {
    if !require_tool("tmux") || !require_tool("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(dir.path());
    let out = dir.path().join("served.txt");
    let up = dir.path().join("up");
    // The directory makes the command line this test's own.
    let server = format!(
        "exec python3 -u -m http.server 0 --bind 127.0.0.1 --directory {}",
        dir.path().display()
    );
    let service = format!(
        "tmux -S {} new-window -d \"{server} > {}\"; \
         until grep -q Serving {} 2>/dev/null; do sleep 0.05; done; touch {}; exec sleep 60",
        tmux.socket.display(),
        out.display(),
        out.display(),
        up.display()
    );
    let ready = format!("exec:test -e {}", up.display());
    let run = cycle_check(&[
        "--cycles", "1", "--ready", &ready, "--", "sh", "-c", &service,
    ]);
    let port = served_port(&out).expect("http.server said where it listens");
    assert_eq!(run.code, 1, "{} {:?}", run.stderr, run.records);
    let c = of_kind(&run.records, "cycle")[0];
    assert_eq!(c["causes"], serde_json::json!(["foreign_leftover"]), "{c}");
    assert_eq!(c["orphans"], serde_json::json!([]), "not a descendant: {c}");
    let found = on_port(c, port);
    assert_eq!(found.len(), 1, "{c}");
    let l = &found[0];
    let pid = l["pid"].as_i64().unwrap();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(
        String::from_utf8_lossy(&cmdline).contains(dir.path().to_str().unwrap()),
        "pid {pid} is the http.server: {l}"
    );
    assert_eq!(
        (&l["started_in_cycle"], &l["evidence"], &l["counted"]),
        (&true.into(), &"service_command".into(), &true.into()),
        "{l}"
    );
    assert!(
        l["cmdline"].as_str().unwrap().ends_with(&format!(
            "-u -m http.server 0 --bind 127.0.0.1 --directory {}",
            dir.path().display()
        )),
        "{l}"
    );
    // Counted in this cycle only: no other process of this machine is.
    let counted: Vec<Value> = leftovers(c)
        .into_iter()
        .filter(|l| l["counted"] == true)
        .collect();
    assert_eq!(counted, vec![l.clone()], "{c}");
    let s = summary(&run.records);
    assert_eq!(gate(s, "foreign_leftovers")["value"], 1.0);
    assert_eq!(gate(s, "foreign_leftovers")["pass"], false);
    assert_eq!(s["figures"]["orphans"], 0);

    // A listener the user knows about is allowed by a regex on its
    // command line (or its port): recorded, not counted.
    std::fs::remove_file(&out).unwrap();
    std::fs::remove_file(&up).unwrap();
    let run = cycle_check(&[
        "--cycles",
        "1",
        "--ready",
        &ready,
        "--allow-leftover",
        r"http\.server 0 --bind",
        "--",
        "sh",
        "-c",
        &service,
    ]);
    let port = served_port(&out).unwrap();
    assert_eq!(run.code, 0, "{} {:?}", run.stderr, run.records);
    let c = of_kind(&run.records, "cycle")[0];
    let found = on_port(c, port);
    assert_eq!(
        (&found[0]["evidence"], &found[0]["counted"]),
        (&"service_command".into(), &false.into()),
        "{c}"
    );
    assert_eq!(
        gate(summary(&run.records), "foreign_leftovers")["value"],
        0.0
    );
}

/// A server the test started; killed when dropped (also on a panic).
struct Stranger(Child);

impl Drop for Stranger {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `python3 -m http.server` from the test itself (not a process of
/// the service) once the service says it is up, and lets the service go on
/// once it listens; returns the server and its port.
fn stranger_during_the_cycle(dir: &Path, up: &Path, go: &Path) -> (Stranger, u16) {
    wait_for("the service to start", || up.exists());
    let out = dir.join("stranger.txt");
    let _ = std::fs::remove_file(&out);
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec python3 -u -m http.server 0 --bind 127.0.0.1 --directory {} > {}",
            dir.display(),
            out.display()
        ))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Stranger)
        .unwrap();
    wait_for("the stranger to listen", || served_port(&out).is_some());
    let port = served_port(&out).unwrap();
    std::fs::write(go, b"").unwrap();
    (child, port)
}

#[test]
fn a_stranger_listening_during_the_cycle_is_recorded_but_not_counted() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let up = dir.path().join("up");
    let go = dir.path().join("go");
    let service = format!(
        "touch {}; until test -e {}; do sleep 0.02; done; exec sleep 60",
        up.display(),
        go.display()
    );
    let ready = format!("exec:test -e {}", go.display());
    let args = [
        "--cycles", "1", "--ready", &ready, "--", "sh", "-c", &service,
    ];
    let run = std::thread::scope(|s| {
        let stranger = s.spawn(|| stranger_during_the_cycle(dir.path(), &up, &go));
        let run = cycle_check(&args);
        (run, stranger.join().unwrap())
    });
    let (run, (child, port)) = run;
    assert_eq!(run.code, 0, "{} {:?}", run.stderr, run.records);
    let c = of_kind(&run.records, "cycle")[0];
    assert_eq!(c["causes"], serde_json::json!([]), "{c}");
    let found = on_port(c, port);
    assert_eq!(found.len(), 1, "{c}");
    assert_eq!(
        (
            &found[0]["pid"],
            &found[0]["started_in_cycle"],
            &found[0]["evidence"],
            &found[0]["counted"]
        ),
        (
            &child.0.id().into(),
            &true.into(),
            &Value::Null,
            &false.into()
        ),
        "{c}"
    );
    drop(child);

    // --fail-on-new-listeners: for a machine where nothing else starts
    // servers, every new listener that outlived the stop counts.
    std::fs::remove_file(&up).unwrap();
    std::fs::remove_file(&go).unwrap();
    let mut strict = vec!["--fail-on-new-listeners"];
    strict.extend(args);
    let run = std::thread::scope(|s| {
        let stranger = s.spawn(|| stranger_during_the_cycle(dir.path(), &up, &go));
        let run = cycle_check(&strict);
        (run, stranger.join().unwrap())
    });
    let (run, (child, port)) = run;
    drop(child);
    assert_eq!(run.code, 1, "{} {:?}", run.stderr, run.records);
    let c = of_kind(&run.records, "cycle")[0];
    assert_eq!(c["causes"], serde_json::json!(["foreign_leftover"]), "{c}");
    let found = on_port(c, port);
    assert_eq!(
        (&found[0]["evidence"], &found[0]["counted"]),
        (&Value::Null, &true.into()),
        "{c}"
    );
}

#[test]
fn the_same_command_cycled_by_another_run_at_once_is_not_taken_for_this_ones() {
    // Two runs of one command side by side (two CI jobs on one machine):
    // run B's server starts during run A's cycle and outlives A's stop, and
    // its command line is A's command word for word. It carries B's
    // CYCLE_CHECK_RUN token, so it is B's, recorded by A but not counted.
    if !require_tool("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = format!(
        "python3 -u -m http.server 0 --bind 127.0.0.1 --directory {}",
        dir.path().display()
    );
    let log_a = dir.path().join("a.log");
    let log_b = dir.path().join("b.log");
    let cycle = |log: &Path, hold: &str| {
        let mut cmd = assert_cmd::Command::cargo_bin("cycle-check").unwrap();
        cmd.args(["--cycles", "1", "--ready", "log:Serving HTTP"])
            .args(["--health", "exec:true", "--health-interval", "1s"])
            .args(["--health-duration", hold, "--service-log"])
            .arg(log)
            .args(["--", "sh", "-c", &format!("exec {server}")])
            .timeout(Duration::from_secs(120));
        cmd
    };
    std::thread::scope(|s| {
        let a = s.spawn(|| cycle(&log_a, "6s").output().unwrap());
        wait_for("run A's server", || served_port(&log_a).is_some());
        let b = s.spawn(|| cycle(&log_b, "12s").output().unwrap());
        wait_for("run B's server", || served_port(&log_b).is_some());
        let a = a.join().unwrap();
        let b_port = served_port(&log_b).unwrap();
        let records = jsonl(&a.stdout);
        assert_eq!(
            a.status.code(),
            Some(0),
            "{} {records:?}",
            String::from_utf8_lossy(&a.stderr)
        );
        let c = of_kind(&records, "cycle")[0];
        let found = on_port(c, b_port);
        assert_eq!(found.len(), 1, "B was still up when A stopped: {c}");
        assert_eq!(
            (
                &found[0]["started_in_cycle"],
                &found[0]["evidence"],
                &found[0]["counted"]
            ),
            (&true.into(), &Value::Null, &false.into()),
            "{c}"
        );
        let b = b.join().unwrap();
        assert_eq!(
            b.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&b.stderr)
        );
    });
}

#[test]
fn a_process_handed_to_tmux_is_counted_before_it_listens() {
    // The issue's command: the service does not wait for what it handed
    // over, and the whole cycle takes less time than Python needs to bind
    // its port; the process is judged, not only its listener.
    if !require_tool("tmux") || !require_tool("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(dir.path());
    let up = dir.path().join("up");
    let server = format!(
        "exec python3 -m http.server 0 --bind 127.0.0.1 --directory {}",
        dir.path().display()
    );
    let service = format!(
        "tmux -S {} new-window -d \"{server}\"; touch {}; exec sleep 60",
        tmux.socket.display(),
        up.display()
    );
    let ready = format!("exec:test -e {}", up.display());
    let run = cycle_check(&[
        "--cycles", "2", "--ready", &ready, "--", "sh", "-c", &service,
    ]);
    assert_eq!(run.code, 1, "{} {:?}", run.stderr, run.records);
    for c in of_kind(&run.records, "cycle") {
        assert_eq!(c["causes"], serde_json::json!(["foreign_leftover"]), "{c}");
        let counted: Vec<Value> = leftovers(c)
            .into_iter()
            .filter(|l| l["counted"] == true)
            .collect();
        // One process, or two while a wrapper (pyenv's shim) has forked a
        // subshell with the same argv: each is this test's server.
        assert!(!counted.is_empty(), "{c}");
        for l in &counted {
            let cmdline = l["cmdline"].as_str().unwrap();
            // Python, the shell tmux runs it with, or a wrapper around it.
            assert!(
                cmdline.ends_with(&format!(
                    "-m http.server 0 --bind 127.0.0.1 --directory {}",
                    dir.path().display()
                )),
                "{c}"
            );
            assert_eq!(l["evidence"], "service_command", "{c}");
        }
    }
    let counted = gate(summary(&run.records), "foreign_leftovers")["value"]
        .as_f64()
        .unwrap();
    assert!(counted >= 2.0, "{counted}");
}

/// Keeps the listening sockets handed to it over a unix socket (SCM_RIGHTS,
/// as einhorn or a hot-restart does); writes `up` once it accepts and
/// `held` once it holds one.
const HOLDER: &str = r#"
import array, signal, socket, sys
path, up, held = sys.argv[1:4]
u = socket.socket(socket.AF_UNIX)
u.bind(path)
u.listen(1)
open(up, "w").close()
c, _ = u.accept()
_, anc, _, _ = c.recvmsg(1, socket.CMSG_SPACE(4))
fds = [fd for (_, _, data) in anc for fd in array.array("i", data[:4])]
open(held, "w").write(" ".join(map(str, fds)))
while True:
    signal.pause()
"#;

/// Listens on a port, hands the listening socket to the holder at a unix
/// socket and keeps its own copy; exits 0 on SIGTERM.
const HANDS_ITS_LISTENER_AWAY: &str = r#"
import array, os, signal, socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
s = socket.socket()
s.bind(("127.0.0.1", port))
s.listen(16)
u = socket.socket(socket.AF_UNIX)
u.connect(path)
u.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [s.fileno()]))])
u.close()
while True:
    signal.pause()
"#;

/// Trial 2, #38: the service handed its listening socket to a process
/// outside its tree (SCM_RIGHTS) and kept serving; after the stop the port
/// still listened, in the other process, and the cycle passed (only the
/// next cycle failed, as `foreign_listener`; `--cycles 1` passed).
#[test]
fn a_listener_handed_away_with_scm_rights_is_a_leaked_port() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (sock, up, held) = (
        dir.path().join("h.sock"),
        dir.path().join("up"),
        dir.path().join("held"),
    );
    let holder = Command::new("python3")
        .args(["-c", HOLDER])
        .args([&sock, &up, &held])
        .stdin(Stdio::null())
        .spawn()
        .map(Stranger)
        .unwrap();
    wait_for("the holder to accept", || up.exists());
    let port = common::testkit::free_port();
    let ready = format!("exec:test -s {}", held.display());
    let run = cycle_check(&[
        "--cycles",
        "1",
        "--ready",
        &ready,
        "--",
        "python3",
        "-c",
        HANDS_ITS_LISTENER_AWAY,
        &port.to_string(),
        sock.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{} {:?}", run.stderr, run.records);
    let c = of_kind(&run.records, "cycle")[0];
    assert_eq!(c["causes"], serde_json::json!(["leaked_ports"]), "{c}");
    let leaked = c["leaked_ports"].as_array().unwrap();
    assert_eq!(leaked.len(), 1, "{c}");
    assert_eq!(
        (&leaked[0]["address"], &leaked[0]["port"], &leaked[0]["pid"]),
        (&"127.0.0.1".into(), &port.into(), &holder.0.id().into()),
        "{c}"
    );
    let cmdline = leaked[0]["cmdline"].as_str().unwrap();
    assert!(cmdline.ends_with(held.to_str().unwrap()), "{cmdline}");
    assert_eq!(c["orphans"], serde_json::json!([]), "{c}");
    assert!(on_port(c, port).is_empty(), "{c}");
    let g = gate(summary(&run.records), "leaked_ports");
    assert_eq!((&g["value"], &g["pass"]), (&1.0.into(), &false.into()));
    drop(holder);
}

/// Opens a listening socket, leaves it open across exec (as socket
/// activation passes one down), writes its port to a file and execs the rest
/// of its arguments.
const PASSES_A_LISTENER_DOWN: &str = r#"
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
s.set_inheritable(True)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
os.execvp(sys.argv[2], sys.argv[2:])
"#;

/// The other side of #38's fix: a listener cycle-check's caller passed down
/// (so the service inherited it) stays open after the stop in cycle-check
/// itself; it was open before the start and is not the service's leak.
#[test]
fn a_listener_passed_down_to_cycle_check_is_not_the_services_leak() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (port_file, up, fds) = (
        dir.path().join("port"),
        dir.path().join("up"),
        dir.path().join("fds"),
    );
    let service = format!(
        "ls -l /proc/$$/fd > {}; touch {}; exec sleep 60",
        fds.display(),
        up.display()
    );
    let out = assert_cmd::Command::new("python3")
        .args(["-c", PASSES_A_LISTENER_DOWN])
        .arg(&port_file)
        .arg(assert_cmd::cargo::cargo_bin("cycle-check"))
        .args(["--cycles", "1", "--ready"])
        .arg(format!("exec:test -e {}", up.display()))
        .args(["--", "sh", "-c", &service])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let records = jsonl(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr} {records:?}");
    let held = std::fs::read_to_string(&fds).unwrap();
    assert!(
        held.contains("socket:["),
        "the service inherited it: {held}"
    );
    let c = of_kind(&records, "cycle")[0];
    assert_eq!(c["causes"], serde_json::json!([]), "{c}");
    assert_eq!(c["leaked_ports"], serde_json::json!([]), "{c}");
    let port: u16 = std::fs::read_to_string(&port_file)
        .unwrap()
        .parse()
        .unwrap();
    assert!(on_port(c, port).is_empty(), "{c}");
}
