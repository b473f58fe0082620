//! Hooks run real shell commands with the documented environment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::fs;

use support::*;

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
    assert!(list.is_empty());
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
