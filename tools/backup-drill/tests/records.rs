//! What the records promise a pipeline: each step's record is on stdout as
//! soon as the step ends (a `| jq` sees the drill progress, issue 13), the
//! temporary restore's clean-up is timed, every subcommand ends with a
//! summary, and an interrupted summary still says when the run started
//! (issue 14 item 17).

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::*;
use serde_json::Value;

/// The backup and restore records arrive while the restore hook is still
/// running, not all at exit.
#[test]
fn drill_records_arrive_as_steps_finish_not_at_exit() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(&data.join("a.txt"), b"abc", 0o644);
    let go = tmp.path().join("go");
    // The hook waits until the test has seen the restore record.
    let hook = format!(
        "i=0; while [ ! -e {} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done",
        go.display()
    );
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("backup-drill"))
        .args(["--quiet", "--source", p(&data), "--restore-cmd", &hook])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Value>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|r: &Value| r["kind"] == "step" && r["step"] == "restore")
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(r) => seen.push(r),
            Err(_) => break,
        }
    }
    // Let the hook end either way, so a failing run does not hang.
    fs::write(&go, b"").unwrap();
    let live: Vec<String> = seen
        .iter()
        .map(|r| r["step"].as_str().unwrap_or("?").to_string())
        .collect();
    assert!(
        live.contains(&"backup".to_string()) && live.contains(&"restore".to_string()),
        "while the restore hook ran, stdout held only {live:?}"
    );
    assert!(
        seen.iter().all(|r| r["kind"] != "summary"),
        "the summary came before the hook ended: {seen:?}"
    );
    let status = child.wait().unwrap();
    reader.join().unwrap();
    seen.extend(rx.try_iter());
    assert_eq!(status.code(), Some(0), "{seen:?}");
    let steps: Vec<&str> = of_kind(&seen, "step")
        .iter()
        .map(|r| r["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "backup",
            "restore",
            "restore_cmd",
            "verify",
            "check",
            "cleanup"
        ]
    );
}

/// Removing the temporary restore is timed: a `cleanup` step and a
/// `cleanup_ms` figure (not part of the RTO).
#[test]
fn the_temporary_restore_clean_up_is_timed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let scratch = tmp.path().join("scratch");
    fs::create_dir(&scratch).unwrap();
    let (code, recs, err) = run(&["--source", p(&data), "--scratch", p(&scratch)]);
    assert_eq!(code, 0, "{err}");
    let clean = step(&recs, "cleanup");
    assert_eq!(clean["result"], "ok");
    assert_eq!(clean["files"], 7, "{clean}");
    let ms = clean["duration_ms"].as_f64().unwrap();
    assert!(ms > 0.0, "{clean}");
    let s = summary(&recs);
    assert_eq!(s["figures"]["cleanup_ms"].as_f64(), Some(ms));
    assert_eq!(fs::read_dir(&scratch).unwrap().count(), 0);
    // With --keep nothing is removed, so there is no clean-up step.
    let keep = tmp.path().join("kept");
    let (code, recs, err) = run(&["--source", p(&data), "--keep", p(&keep)]);
    assert_eq!(code, 0, "{err}");
    assert!(of_kind(&recs, "step")
        .iter()
        .all(|r| r["step"] != "cleanup"));
    assert!(summary(&recs)["figures"].get("cleanup_ms").is_none());
}

#[test]
fn list_ends_with_a_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let repo = tmp.path().join("repo");
    for _ in 0..2 {
        let (code, _, err) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
        assert_eq!(code, 0, "{err}");
    }
    let (code, recs, err) = run(&["list", "--repo", p(&repo)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(recs.len(), 3, "{recs:?}");
    assert_eq!(of_kind(&recs, "snapshot").len(), 2);
    let s = recs.last().unwrap();
    assert_eq!(s["kind"], "summary");
    assert_eq!(s["verdict"], "pass");
    assert_eq!(s["figures"]["snapshots"], 2);
    assert_eq!(s["figures"]["unreadable"], 0);
    assert_eq!(s["inputs"][0]["path"], p(&repo));
}

#[test]
fn restore_and_verify_accept_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let repo = tmp.path().join("repo");
    let (code, _, err) = run(&["backup", "-q", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0, "{err}");
    let out = tmp.path().join("out");
    let (code, recs, err) = run(&[
        "restore",
        "-q",
        "latest",
        "--repo",
        p(&repo),
        "--to",
        p(&out),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(step(&recs, "restore")["files"], 7);
    let (code, _, err) = run(&[
        "verify",
        "--quiet",
        "latest",
        "--repo",
        p(&repo),
        "--dir",
        p(&out),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["list", "-q", "--repo", p(&repo)]);
    assert_eq!(code, 0, "{err}");
}

/// Regression: the summary written on SIGINT by `backup` (and `restore`,
/// `check`) was made at the interrupt, so it said the run started when it
/// was interrupted.
#[test]
fn an_interrupted_summary_keeps_its_start_time() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::File::create(data.join("huge.img"))
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    for i in 0..300 {
        write(
            &data.join(format!("f{i:03}")),
            format!("file {i}").repeat(2000).as_bytes(),
            0o644,
        );
    }
    let repo = tmp.path().join("repo");
    let child = Command::new(assert_cmd::cargo::cargo_bin("backup-drill"))
        .args([
            "backup",
            "--quiet",
            "--repo",
            p(&repo),
            "--source",
            p(&data),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let writing = repo.join("tmp").is_dir()
            && fs::read_dir(repo.join("tmp"))
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("obj."));
        if writing {
            break;
        }
        assert!(Instant::now() < deadline, "backup never started writing");
        std::thread::sleep(Duration::from_millis(1));
    }
    common::testkit::send_signal(child.id(), nix::libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(s["interrupted"], true);
    let (start, end) = (
        humantime::parse_rfc3339(s["started_at"].as_str().unwrap()).unwrap(),
        humantime::parse_rfc3339(s["finished_at"].as_str().unwrap()).unwrap(),
    );
    assert!(start < end, "started_at {start:?} finished_at {end:?}");
    assert_eq!(s["inputs"][0]["path"], p(&repo));
}
