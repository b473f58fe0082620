//! Hooks run real shell commands with the documented environment.

use std::fs;

use crate::util::*;

#[test]
fn backup_restore_and_verify_hooks_see_their_environment() {
    let tmp = tempfile::tempdir().unwrap();
    // A stand-in for pg_dump/pg_restore: a "service" directory dumped to a
    // file, restored into a fresh place, verified by comparing.
    let service = tmp.path().join("service");
    write(&service.join("state.txt"), b"orders=42\n", 0o644);
    let live = tmp.path().join("live");
    fs::create_dir(&live).unwrap();
    let log = tmp.path().join("hook.log");
    let repo = tmp.path().join("repo");
    let backup_cmd = format!(
        "cp {svc}/state.txt \"$BACKUP_DRILL_OUT/dump.txt\" && echo \"backup $BACKUP_DRILL_SNAPSHOT $BACKUP_DRILL_REPO\" >> {log}",
        svc = service.display(),
        log = log.display()
    );
    let restore_cmd = format!(
        "cp \"$BACKUP_DRILL_IN/dump.txt\" {live}/state.txt && echo \"restore $BACKUP_DRILL_TARGET\" >> {log}",
        live = live.display(),
        log = log.display()
    );
    let verify_cmd = format!("grep -qx orders=42 {live}/state.txt", live = live.display());
    let keep = tmp.path().join("restored");
    let (code, recs, err) = run(&[
        "--repo",
        p(&repo),
        "--keep",
        p(&keep),
        "--backup-cmd",
        &backup_cmd,
        "--restore-cmd",
        &restore_cmd,
        "--verify-cmd",
        &verify_cmd,
    ]);
    assert_eq!(code, 0, "{err}\n{recs:?}");
    let id = summary(&recs)["figures"]["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let steps: Vec<&str> = of_kind(&recs, "step")
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "backup_cmd",
            "backup",
            "restore",
            "restore_cmd",
            "verify",
            "verify_cmd",
            "check"
        ]
    );
    assert_eq!(step(&recs, "verify_cmd")["detail"], "exit status 0");
    assert_eq!(fs::read(live.join("state.txt")).unwrap(), b"orders=42\n");
    assert_eq!(
        fs::read(keep.join("hook/dump.txt")).unwrap(),
        b"orders=42\n"
    );
    let log = fs::read_to_string(&log).unwrap();
    assert_eq!(
        log,
        format!(
            "backup {id} {}\nrestore {}\n",
            repo.display(),
            keep.display()
        )
    );
    assert_eq!(gate(summary(&recs), "hook_failures")["value"], 0.0);
    // The dump is part of the snapshot: list says so.
    let (_, list, _) = run(&["list", "--repo", p(&repo)]);
    assert_eq!(list[0]["hook"], true);
}

#[test]
fn a_failing_verify_hook_fails_the_drill() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let (code, recs, _) = run(&[
        "--source",
        p(&data),
        "--verify-cmd",
        "test -f \"$BACKUP_DRILL_TARGET/data/not-there\"",
    ]);
    assert_eq!(code, 1);
    assert_eq!(step(&recs, "verify_cmd")["result"], "fail");
    assert_eq!(step(&recs, "verify_cmd")["detail"], "exit status 1");
    assert_eq!(
        mismatches(&recs),
        vec![("<verify-cmd>".to_string(), "verify_cmd".to_string())]
    );
    let s = summary(&recs);
    assert_eq!(gate(s, "hook_failures")["pass"], false);
    assert_eq!(s["figures"]["mismatches"], 1);
}

#[test]
fn a_failing_backup_hook_writes_no_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let (code, recs, err) = run(&[
        "backup",
        "--repo",
        p(&repo),
        "--backup-cmd",
        "echo partial > \"$BACKUP_DRILL_OUT/x\"; exit 3",
    ]);
    assert_eq!(code, 2);
    assert!(recs.is_empty());
    assert_eq!(
        err,
        "backup-drill: error: backup-cmd failed: exit status 3\n"
    );
    let (_, list, _) = run(&["list", "--repo", p(&repo)]);
    assert!(of_kind(&list, "snapshot").is_empty());
    // Its half-written dump does not linger in the repository.
    assert_eq!(fs::read_dir(repo.join("tmp")).unwrap().count(), 0);
}

#[test]
fn hook_output_goes_to_stderr_not_into_the_records() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let out = bin()
        .args([
            "--source",
            p(&data),
            "--restore-cmd",
            "echo hello-from-hook",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let recs = jsonl(&out.stdout);
    assert!(recs.iter().all(|r| r.get("kind").is_some()));
    assert!(stderr_text(&out).contains("hello-from-hook"));
}

/// SIGINT (to the whole process group, as a terminal's Ctrl-C) while the
/// restore hook runs: exit 130, the hook's step, and a summary that still
/// names the snapshot, marked interrupted; the temporary restore is gone.
#[test]
fn ctrl_c_during_the_restore_hook_writes_the_summary_so_far() {
    use std::os::unix::process::CommandExt;
    use std::time::{Duration, Instant};

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(&data.join("a.txt"), b"abc", 0o644);
    let scratch = tmp.path().join("scratch");
    fs::create_dir(&scratch).unwrap();
    let marker = tmp.path().join("hook-started");
    let hook = format!("touch {} && exec sleep 60", marker.display());
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("backup-drill"))
        .args(["--quiet", "--source", p(&data), "--scratch", p(&scratch)])
        .args(["--restore-cmd", &hook])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the restore hook never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    let hook_step = step(&recs, "restore_cmd");
    assert_eq!(
        (hook_step["result"].as_str(), hook_step["detail"].as_str()),
        (Some("fail"), Some("interrupted (killed by signal 9)"))
    );
    let s = summary(&recs);
    assert_eq!(s["interrupted"], true);
    assert_eq!(s["verdict"], "fail");
    let backup = step(&recs, "backup");
    assert_eq!(s["figures"]["snapshot"], backup["snapshot"]);
    assert_eq!(
        (
            s["figures"]["files"].as_u64(),
            s["figures"]["bytes"].as_u64()
        ),
        (Some(1), Some(3))
    );
    assert_eq!(s["figures"]["error"], "interrupted");
    assert_eq!(fs::read_dir(&scratch).unwrap().count(), 0);
}
