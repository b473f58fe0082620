//! Round trips on real trees: every file kind, dedup across snapshots,
//! restore safety, verification of damaged restores, drill gates.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use crate::util::*;

#[test]
fn drill_round_trips_every_file_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let db = tmp.path().join("app.db");
    sample_db(&db, 50);
    let repo = tmp.path().join("repo");
    let keep = tmp.path().join("restored");
    let (code, recs, err) = run(&[
        "--repo",
        p(&repo),
        "--source",
        p(&data),
        "--sqlite",
        p(&db),
        "--keep",
        p(&keep),
        "--max-rto",
        "8m",
        "--max-rpo",
        "6h",
        "--read-data",
    ]);
    assert_eq!(code, 0, "{err}\n{recs:?}");
    // The FIFO is skipped with a record, not silently.
    let skipped = of_kind(&recs, "skipped");
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["path"], "data/pipe");
    assert_eq!(skipped[0]["type"], "fifo");
    let backup = step(&recs, "backup");
    // 7 files in the tree + the database.
    assert_eq!(backup["files"], 8);
    // s1.json and s2.json share content: 6 distinct objects + the database.
    assert_eq!(backup["new_objects"], 7);
    assert_eq!(step(&recs, "verify")["result"], "ok");
    assert_eq!(step(&recs, "check")["result"], "ok");
    let s = summary(&recs);
    assert_eq!(s["verdict"], "pass");
    assert_eq!(
        s["inputs"],
        serde_json::json!([{"path": p(&repo)}, {"path": p(&data)}, {"path": p(&db)}])
    );
    assert_eq!(s["figures"]["mismatches"], 0);
    assert_eq!(s["figures"]["files"], 8);
    assert_eq!(gate(s, "rto_ms")["limit"], 480000.0);
    assert_eq!(gate(s, "rpo_ms")["limit"], 21600000.0);
    assert!(gate(s, "rto_ms")["value"].as_f64().unwrap() > 0.0);

    // What was restored is the tree, byte for byte, with modes and links.
    let r = keep.join("data");
    assert_eq!(
        fs::read(r.join("config/app.toml")).unwrap(),
        b"port = 8080\n"
    );
    assert_eq!(
        fs::metadata(r.join("config/secret.key")).unwrap().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs::metadata(r.join("bin/run.sh")).unwrap().mode() & 0o777,
        0o755
    );
    assert_eq!(
        fs::read_link(r.join("app.toml")).unwrap().to_str(),
        Some("config/app.toml")
    );
    assert_eq!(
        fs::read_link(r.join("dangling")).unwrap().to_str(),
        Some("nowhere")
    );
    assert!(fs::symlink_metadata(r.join("config-link"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::read_dir(r.join("empty-dir")).unwrap().next().is_none());
    assert!(!r.join("pipe").exists());
    assert_eq!(
        fs::read(r.join("blobs/big.bin")).unwrap(),
        fs::read(data.join("blobs/big.bin")).unwrap()
    );
    assert_eq!(
        fs::metadata(r.join("config/app.toml")).unwrap().mtime(),
        fs::metadata(data.join("config/app.toml")).unwrap().mtime()
    );
    // The restored database answers queries: the service can start on it.
    let conn = rusqlite::Connection::open(keep.join("app.db")).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM orders", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 50);
}

#[test]
fn second_backup_of_unchanged_tree_stores_nothing_new() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let repo = tmp.path().join("repo");
    let (code, first, err) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(step(&first, "backup")["new_objects"], 6);
    let (code, second, _) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0);
    let b = step(&second, "backup");
    assert_eq!(
        (b["new_objects"].as_u64(), b["new_bytes"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(b["bytes"], step(&first, "backup")["bytes"]);
    // One changed file: exactly one new object of its size.
    write(&data.join("sessions/s3.json"), b"{\"user\":3}", 0o644);
    let (_, third, _) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(step(&third, "backup")["new_objects"], 1);
    assert_eq!(step(&third, "backup")["new_bytes"], 10);
    let (code, list, _) = run(&["list", "--repo", p(&repo)]);
    assert_eq!(code, 0);
    let list = of_kind(&list, "snapshot");
    let ids: Vec<&str> = list.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    let firsts = [&first, &second, &third].map(|r| {
        summary(r)["figures"]["snapshot"]
            .as_str()
            .unwrap()
            .to_string()
    });
    assert_eq!(
        ids,
        firsts.iter().map(String::as_str).collect::<Vec<_>>(),
        "list is oldest first"
    );
    assert_eq!(list[2]["files"], 8);
    assert_eq!(list[2]["sources"], serde_json::json!(["data"]));
    // `latest` is the third snapshot.
    let out = tmp.path().join("out");
    let (code, recs, _) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]);
    assert_eq!(code, 0);
    assert_eq!(summary(&recs)["figures"]["snapshot"], firsts[2].as_str());
    assert!(out.join("data/sessions/s3.json").exists());
}

#[test]
fn restore_refuses_non_empty_target_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let repo = tmp.path().join("repo");
    assert_eq!(
        run(&["backup", "--repo", p(&repo), "--source", p(&data)]).0,
        0
    );
    let out = tmp.path().join("out");
    write(&out.join("keep-me"), b"mine", 0o644);
    let (code, recs, err) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]);
    assert_eq!(code, 2);
    assert!(recs.is_empty());
    assert_eq!(
        err,
        format!(
            "backup-drill: error: {}: restore target is not empty\n\
             backup-drill: hint: restore into an empty directory, or pass --force to overwrite\n",
            out.display()
        )
    );
    // --force restores over it; an old file in the way is replaced.
    write(&out.join("data/config/app.toml"), b"old", 0o644);
    let (code, _, err) = run(&[
        "restore",
        "latest",
        "--repo",
        p(&repo),
        "--to",
        p(&out),
        "--force",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        fs::read(out.join("data/config/app.toml")).unwrap(),
        b"port = 8080\n"
    );
    assert_eq!(fs::read(out.join("keep-me")).unwrap(), b"mine");
    // ...and verify then names the extra file.
    let (code, recs, _) = run(&["verify", "latest", "--repo", p(&repo), "--dir", p(&out)]);
    assert_eq!(code, 1);
    assert_eq!(
        mismatches(&recs),
        vec![("keep-me".to_string(), "extra".to_string())]
    );
}

#[test]
fn verify_reports_a_flipped_byte_and_every_other_difference() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let repo = tmp.path().join("repo");
    assert_eq!(
        run(&["backup", "--repo", p(&repo), "--source", p(&data)]).0,
        0
    );
    let out = tmp.path().join("out");
    assert_eq!(
        run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]).0,
        0
    );
    let (code, recs, _) = run(&["verify", "latest", "--repo", p(&repo), "--dir", p(&out)]);
    assert_eq!(code, 0, "{recs:?}");

    let r = out.join("data");
    tamper(&r.join("blobs/big.bin"), |b| b[3_000_000] ^= 0x01);
    let (code, recs, _) = run(&["verify", "latest", "--repo", p(&repo), "--dir", p(&out)]);
    assert_eq!(code, 1);
    let mm = of_kind(&recs, "mismatch");
    assert_eq!(mm.len(), 1, "{mm:?}");
    assert_eq!(mm[0]["path"], "data/blobs/big.bin");
    assert_eq!(mm[0]["what"], "sha256");
    assert_eq!(mm[0]["expected"].as_str().unwrap().len(), 64);
    assert_ne!(mm[0]["expected"], mm[0]["actual"]);
    assert_eq!(summary(&recs)["figures"]["mismatches"], 1);
    assert_eq!(gate(summary(&recs), "mismatches")["pass"], false);

    fs::set_permissions(r.join("bin/run.sh"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::remove_file(r.join("sessions/s1.json")).unwrap();
    fs::write(r.join("config/app.toml"), b"port = 9").unwrap();
    fs::remove_file(r.join("app.toml")).unwrap();
    std::os::unix::fs::symlink("config/secret.key", r.join("app.toml")).unwrap();
    fs::remove_dir(r.join("empty-dir")).unwrap();
    fs::write(r.join("empty-dir"), b"").unwrap();
    let (code, recs, _) = run(&["verify", "latest", "--repo", p(&repo), "--dir", p(&out)]);
    assert_eq!(code, 1);
    let got = mismatches(&recs);
    let want: Vec<(String, String)> = [
        ("data/app.toml", "link_target"),
        ("data/bin/run.sh", "mode"),
        ("data/blobs/big.bin", "sha256"),
        // Rewritten: its mtime, content and size all differ.
        ("data/config/app.toml", "mtime"),
        ("data/config/app.toml", "sha256"),
        ("data/config/app.toml", "size"),
        ("data/empty-dir", "type"),
        ("data/sessions/s1.json", "missing"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
    let mode = of_kind(&recs, "mismatch")
        .into_iter()
        .find(|r| r["what"] == "mode")
        .unwrap()
        .clone();
    assert_eq!(
        (mode["expected"].as_str(), mode["actual"].as_str()),
        (Some("0755"), Some("0644"))
    );
}

#[test]
fn drill_catches_a_byte_flipped_after_restore() {
    // The restore hook damages the restored copy: the verifier must notice.
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let (code, recs, err) = run(&[
        "--source", p(&data),
        "--restore-cmd", "printf X | dd of=\"$BACKUP_DRILL_TARGET/data/config/app.toml\" bs=1 seek=2 conv=notrunc 2>/dev/null",
    ]);
    assert_eq!(code, 1, "{err}");
    // dd wrote the file: its content and its mtime differ.
    assert_eq!(
        mismatches(&recs),
        vec![
            ("data/config/app.toml".to_string(), "mtime".to_string()),
            ("data/config/app.toml".to_string(), "sha256".to_string())
        ]
    );
    let s = summary(&recs);
    assert_eq!(s["verdict"], "fail");
    // The throw-away repository is not an input (it is gone by now).
    assert_eq!(s["inputs"], serde_json::json!([{"path": p(&data)}]));
    assert_eq!(gate(s, "mismatches")["value"], 2.0);
    assert_eq!(gate(s, "hook_failures")["value"], 0.0);
    assert_eq!(step(&recs, "restore_cmd")["result"], "ok");
}

#[test]
fn rto_and_rpo_gates_fail_when_exceeded() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let repo = tmp.path().join("repo");
    assert_eq!(
        run(&["backup", "--repo", p(&repo), "--source", p(&data)]).0,
        0
    );
    // Drill the existing snapshot: its age is the RPO; it is older than 0 ms.
    let (code, recs, err) = run(&[
        "drill",
        "--repo",
        p(&repo),
        "--no-backup",
        "--max-rpo",
        "0",
        "--max-rto",
        "8m",
    ]);
    assert_eq!(code, 1, "{err}");
    let s = summary(&recs);
    assert_eq!(gate(s, "rpo_ms")["pass"], false);
    assert!(gate(s, "rpo_ms")["value"].as_f64().unwrap() > 0.0);
    assert_eq!(gate(s, "rto_ms")["pass"], true);
    assert!(
        of_kind(&recs, "step").iter().all(|r| r["step"] != "backup"),
        "--no-backup backed up"
    );
    let (code, recs, _) = run(&["drill", "--repo", p(&repo), "--no-backup", "--max-rto", "0"]);
    assert_eq!(code, 1);
    assert_eq!(gate(summary(&recs), "rto_ms")["pass"], false);
    let (code, _, _) = run(&[
        "drill",
        "--repo",
        p(&repo),
        "--no-backup",
        "--max-rpo",
        "6h",
        "--self-test",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn self_test_proves_check_is_alive_without_touching_the_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let repo = tmp.path().join("repo");
    let (code, recs, err) = run(&["--repo", p(&repo), "--source", p(&data), "--self-test"]);
    assert_eq!(code, 0, "{err}");
    let st = step(&recs, "self_test");
    assert_eq!(st["result"], "ok");
    assert!(st["detail"]
        .as_str()
        .unwrap()
        .starts_with("check caught the corrupted object "));
    assert_eq!(gate(summary(&recs), "self_test")["pass"], true);
    // The real repository is untouched.
    let (code, recs, _) = run(&["check", "--repo", p(&repo), "--read-data"]);
    assert_eq!(code, 0);
    assert_eq!(summary(&recs)["figures"]["check_errors"], 0);
}

#[test]
fn usage_errors_name_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["backup", "--repo", p(&tmp.path().join("r"))]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "backup-drill: error: nothing to back up\n\
         backup-drill: hint: give --source DIR, --sqlite FILE or --backup-cmd CMD\n"
    );
    let missing = tmp.path().join("nope");
    let (code, _, err) = run(&[
        "backup",
        "--repo",
        p(&tmp.path().join("r")),
        "--source",
        p(&missing),
    ]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "backup-drill: error: {}: No such file or directory\n",
            missing.display()
        )
    );
    let (code, _, err) = run(&["check", "--repo", p(tmp.path())]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(&format!(
            "backup-drill: error: {}: not a backup-drill repository (no config.json)\n",
            tmp.path().display()
        )),
        "{err}"
    );
    // Two sources with one base name would collide in the restore.
    let a = tmp.path().join("a/data");
    let b = tmp.path().join("b/data");
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(&b).unwrap();
    let (code, _, err) = run(&["--source", p(&a), "--source", p(&b)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("two sources would both be restored as \"data\""),
        "{err}"
    );
    let inside = a.join("repo");
    let (code, _, err) = run(&["backup", "--repo", p(&inside), "--source", p(&a)]);
    assert_eq!(code, 2);
    assert!(err.contains("lies inside it"), "{err}");
    let (code, _, err) = run(&["--no-backup"]);
    assert_eq!(code, 2);
    assert!(err.contains("--repo"), "{err}");
}

#[test]
fn drill_leaves_nothing_in_scratch_even_with_read_only_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(&data.join("ro/inner/f.txt"), b"x", 0o444);
    fs::set_permissions(data.join("ro/inner"), fs::Permissions::from_mode(0o555)).unwrap();
    fs::set_permissions(data.join("ro"), fs::Permissions::from_mode(0o555)).unwrap();
    let scratch = tmp.path().join("scratch");
    fs::create_dir(&scratch).unwrap();
    let (code, recs, err) = run(&[
        "--source",
        p(&data),
        "--scratch",
        p(&scratch),
        "--self-test",
    ]);
    assert_eq!(code, 0, "{err}{recs:?}");
    assert_eq!(step(&recs, "verify")["files"], 1);
    let left: Vec<_> = fs::read_dir(&scratch).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    for d in [data.join("ro/inner"), data.join("ro")] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Regression: a second `restore --force` over a first restore of the same
/// snapshot failed with "passes through symlink" on the tree's own links.
#[test]
fn restore_force_twice_over_the_same_tree_replaces_its_symlinks() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    let repo = tmp.path().join("repo");
    assert_eq!(
        run(&["backup", "--repo", p(&repo), "--source", p(&data)]).0,
        0
    );
    let out = tmp.path().join("out");
    let args = [
        "restore",
        "latest",
        "--repo",
        p(&repo),
        "--to",
        p(&out),
        "--force",
    ];
    assert_eq!(run(&args).0, 0);
    // Point a restored link elsewhere: the second restore must put it back.
    fs::remove_file(out.join("data/app.toml")).unwrap();
    std::os::unix::fs::symlink("elsewhere", out.join("data/app.toml")).unwrap();
    let (code, recs, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(step(&recs, "restore")["result"], "ok");
    assert_eq!(
        fs::read_link(out.join("data/app.toml")).unwrap().to_str(),
        Some("config/app.toml")
    );
    let (code, recs, err) = run(&["verify", "latest", "--repo", p(&repo), "--dir", p(&out)]);
    assert_eq!(code, 0, "{err}{recs:?}");
    assert_eq!(summary(&recs)["figures"]["mismatches"], 0);
}

/// `--format text`: the same records as readable lines; names from the tree
/// (untrusted) have control characters escaped.
#[test]
fn format_text_prints_readable_lines_with_names_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(&data.join("ok.txt"), b"abc", 0o644);
    write(&data.join("we\x1bird\nname"), b"x", 0o644);
    let repo = tmp.path().join("repo");
    let (code, recs, _) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0);
    let id = summary(&recs)["figures"]["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let out = tmp.path().join("out");
    assert_eq!(
        run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]).0,
        0
    );
    fs::remove_file(out.join("data/we\x1bird\nname")).unwrap();
    tamper(&out.join("data/ok.txt"), |b| b[2] = b'd');
    let o = bin()
        .args(["verify", "latest", "--repo", p(&repo), "--dir", p(&out)])
        .args(["--format", "text"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let good = common::digest::sha256_hex(b"abc");
    let bad = common::digest::sha256_hex(b"abd");
    assert_eq!(lines.len(), 6, "{text}");
    assert_eq!(
        lines[0],
        format!("mismatch    data/ok.txt  sha256  expected {good}  actual {bad}")
    );
    assert_eq!(
        lines[1],
        "mismatch    data/we\\u{1b}ird\\nname  missing  expected file"
    );
    assert!(
        lines[2].starts_with(&format!(
            "step        verify       fail snapshot={id} files=1 bytes=3 duration_ms="
        )),
        "{}",
        lines[2]
    );
    assert_eq!(
        lines[3..],
        [
            "verdict     FAIL",
            "gate mismatches: 2 <= 0: FAIL",
            &format!("figures     snapshot={id} files=1 bytes=3 mismatches=2"),
        ]
    );
}
