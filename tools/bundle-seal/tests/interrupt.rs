//! Ctrl-C while hashing: the summary is still written, marked interrupted,
//! nothing half-sealed is left, and the exit status is 130.

use std::fs;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// Waits (bounded) until process `pid` has `target` open.
fn wait_until_open(pid: u32, target: &std::path::Path, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) {
            for fd in fds.flatten() {
                if fs::read_link(fd.path()).is_ok_and(|l| l == target) {
                    return true;
                }
            }
        }
        std::thread::yield_now();
    }
    false
}

#[test]
fn sigint_during_seal_writes_an_interrupted_summary_and_no_seal() {
    let w = Work::new();
    fs::create_dir(w.path("big")).unwrap();
    // A 64 GiB sparse file: hashing it takes far longer than the test waits.
    let blob = w.path("big/blob.bin");
    fs::File::create(&blob).unwrap().set_len(64 << 30).unwrap();
    let child = StdCommand::new(assert_cmd::cargo::cargo_bin("bundle-seal"))
        .args(["seal", "big", "--key", "k.key", "--quiet"])
        .current_dir(w.tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let canonical = fs::canonicalize(&blob).unwrap();
    assert!(
        wait_until_open(child.id(), &canonical, Duration::from_secs(30)),
        "seal never opened the file"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(s["interrupted"], true);
    assert_eq!(s["verdict"], "fail");
    assert!(
        !w.path("big/MANIFEST.json").exists(),
        "an interrupted seal writes nothing"
    );
    assert!(!w.path("big/SHA256SUMS").exists());
}

/// What a directory holds, by name, sorted: temp files left behind show.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Spawns the real binary in `w` with stdout/stderr piped.
fn spawn(w: &Work, args: &[&str]) -> std::process::Child {
    spawn_with(w, args, Stdio::null(), &[])
}

fn spawn_with(
    w: &Work,
    args: &[&str],
    stdin: Stdio,
    env: &[(&str, std::path::PathBuf)],
) -> std::process::Child {
    let mut cmd = StdCommand::new(assert_cmd::cargo::cargo_bin("bundle-seal"));
    cmd.args(args)
        .current_dir(w.tmp.path())
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("BUNDLE_SEAL_KEY")
        .env_remove("BUNDLE_SEAL_PUB")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Waits until `child` has `file` open, then sends `signal`.
fn signal_once_open(
    child: &std::process::Child,
    file: &std::path::Path,
    signal: nix::sys::signal::Signal,
) {
    let canonical = fs::canonicalize(file).unwrap();
    assert!(
        wait_until_open(child.id(), &canonical, Duration::from_secs(60)),
        "never opened {}",
        file.display()
    );
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
}

/// The summary of an interrupted run: exit 130 (SIGINT) / 143 (SIGTERM),
/// `interrupted: true`, verdict fail.
fn assert_interrupted(out: &std::process::Output, status: i32) {
    assert_eq!(
        out.status.code(),
        Some(status),
        "{:?}: {}",
        out.status,
        stderr_text(out)
    );
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(s["interrupted"], true, "{s}");
    assert_eq!(s["verdict"], "fail", "{s}");
}

/// A sealed bundle whose `blob.bin` then becomes a 64 GiB sparse file, its
/// manifest entry edited to match in size: `pack` checks a file's digest
/// only once it has copied it all, so it is still copying when signalled.
fn bundle_packing_forever(w: &Work) -> std::path::PathBuf {
    fs::create_dir(w.path("big")).unwrap();
    fs::write(w.path("big/blob.bin"), b"x").unwrap();
    fs::write(
        w.path("big/gates.jsonl"),
        r#"{"kind":"summary","tool":"t","verdict":"pass","gates":[{"name":"g","op":"<=","limit":0,"value":0,"pass":true}]}"#.to_owned() + "\n",
    )
    .unwrap();
    w.ok(&["seal", "big", "--key", "k.key", "--quiet"]);
    let blob = w.path("big/blob.bin");
    fs::OpenOptions::new()
        .write(true)
        .open(&blob)
        .unwrap()
        .set_len(64 << 30)
        .unwrap();
    let manifest = w.path("big/MANIFEST.json");
    let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    for f in m["files"].as_array_mut().unwrap() {
        if f["path"] == "blob.bin" {
            f["size"] = serde_json::json!(64u64 << 30);
        }
    }
    fs::write(&manifest, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    blob
}

fn pack_interrupted_leaves_no_archive_and_no_temp_file(
    output: &str,
    signal: nix::sys::signal::Signal,
    status: i32,
) {
    let w = Work::new();
    let blob = bundle_packing_forever(&w);
    let before = names(w.tmp.path());
    let child = spawn(&w, &["pack", "big", "-o", output]);
    signal_once_open(&child, &blob, signal);
    let out = child.wait_with_output().unwrap();
    assert_interrupted(&out, status);
    assert_eq!(
        names(w.tmp.path()),
        before,
        "no {output}, and no temporary file of it, after the interrupt"
    );
}

#[test]
fn regression_sigint_during_pack_left_its_temp_file_and_no_summary() {
    pack_interrupted_leaves_no_archive_and_no_temp_file(
        "rc1.tar.gz",
        nix::sys::signal::Signal::SIGINT,
        130,
    );
}

#[test]
fn regression_sigterm_during_pack_left_its_temp_file_and_no_summary() {
    pack_interrupted_leaves_no_archive_and_no_temp_file(
        "rc1.tar",
        nix::sys::signal::Signal::SIGTERM,
        143,
    );
}

#[test]
fn regression_sigint_during_timeline_ended_it_without_a_summary() {
    use std::io::Write;
    let w = Work::new();
    fs::create_dir_all(w.path("inc")).unwrap();
    fs::create_dir_all(w.path("spill")).unwrap();
    let events = w.path("inc/events.jsonl");
    let mut f = std::io::BufWriter::new(fs::File::create(&events).unwrap());
    // 3 M events out of order (about 100 MB): seconds of work, spilled.
    for i in 0u64..3_000_000 {
        writeln!(
            f,
            r#"{{"ts":{},"msg":"event {i}"}}"#,
            1_700_000_000 + (i * 7919) % 3_000_000
        )
        .unwrap();
    }
    drop(f);
    // Spilled runs go to TMPDIR: it must be empty after the interrupt.
    let child = spawn_with(
        &w,
        &["timeline", "inc", "--buffer-size", "1M"],
        Stdio::null(),
        &[("TMPDIR", w.path("spill"))],
    );
    signal_once_open(&child, &events, nix::sys::signal::Signal::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert_interrupted(&out, 130);
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert!(s["figures"]["records"].as_u64().unwrap() < 3_000_000, "{s}");
    assert_eq!(names(&w.path("spill")), Vec::<String>::new());
}

/// `app | bundle-seal chain append LOG`: Ctrl-C reaches both; the app's
/// records so far must not be appended as if it had finished.
#[test]
fn regression_sigint_during_chain_append_was_a_kill_not_an_interrupted_summary() {
    use std::io::Write;
    let w = Work::new();
    let mut child = spawn_with(
        &w,
        &["chain", "append", "audit.log", "--key", "k.key"],
        Stdio::piped(),
        &[],
    );
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"{\"event\":\"deploy\",\"n\":1}\n{\"event\":\"deploy\",\"n\":2}\n")
        .unwrap();
    common::testkit::wait_for_signal_handler(child.id(), libc_sigint());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    // The producer ends too (as the terminal's Ctrl-C ends the pipeline).
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_interrupted(&out, 130);
    assert!(of_kind(&jsonl(&out.stdout), "receipt").is_empty());
    // The log is created on start; nothing was appended to it.
    assert_eq!(
        fs::read(w.path("audit.log")).unwrap(),
        b"",
        "nothing appended"
    );
}

fn libc_sigint() -> i32 {
    nix::sys::signal::Signal::SIGINT as i32
}

#[test]
fn regression_sigint_during_sign_was_a_kill_not_an_interrupted_summary() {
    let w = Work::new();
    fs::write(w.path("small.txt"), b"signed before the interrupt\n").unwrap();
    let blob = w.path("blob.bin");
    fs::File::create(&blob).unwrap().set_len(64 << 30).unwrap();
    let before = names(w.tmp.path());
    let child = spawn(&w, &["sign", "small.txt", "blob.bin", "--key", "k.key"]);
    signal_once_open(&child, &blob, nix::sys::signal::Signal::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert_interrupted(&out, 130);
    let recs = jsonl(&out.stdout);
    assert_eq!(of_kind(&recs, "signed").len(), 1, "small.txt was signed");
    let mut expected = before;
    expected.push("small.txt.minisig".into());
    expected.sort();
    assert_eq!(
        names(w.tmp.path()),
        expected,
        "no blob.bin.minisig, no temp file"
    );
}

/// scrypt (minisign's cost: about 1 GiB, seconds) cannot poll a flag: the
/// watchdog ends it with the interrupt's status, and no key file exists.
#[test]
fn regression_sigterm_during_keygen_was_a_kill_by_signal() {
    let w = Work::new();
    fs::write(w.path("pass.txt"), b"correct horse\n").unwrap();
    let before = names(w.tmp.path());
    let (out, _) = common::testkit::signal_once(
        StdCommand::new(assert_cmd::cargo::cargo_bin("bundle-seal"))
            .args([
                "keygen",
                "-p",
                "n.pub",
                "-s",
                "n.key",
                "--passphrase-file",
                "pass.txt",
            ])
            .current_dir(w.tmp.path()),
        common::testkit::Signal::SIGTERM,
        common::testkit::SendWhen::HandlerInstalled,
    );
    assert_eq!(
        out.status.code(),
        Some(143),
        "{:?}: {}",
        out.status,
        stderr_text(&out)
    );
    assert_eq!(names(w.tmp.path()), before, "no key file, no temp file");
}
