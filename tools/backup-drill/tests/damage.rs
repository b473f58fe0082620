//! A damaged or hostile repository: every corruption is caught by `check`,
//! hostile manifests are refused before anything is written, planted
//! symlinks are never followed, and `kill -9` mid-backup leaves a clean
//! repository.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;
use serde_json::Value;

fn backed_up(tmp: &Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<Value>) {
    let data = sample_tree(tmp);
    let repo = tmp.join("repo");
    let (code, recs, err) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0, "{err}");
    (data, repo, recs)
}

fn manifest_records(repo: &Path) -> Vec<Value> {
    jsonl(&fs::read(only_manifest(repo)).unwrap())
}

fn sha_of(manifest: &[Value], path: &str) -> String {
    manifest.iter().find(|r| r["path"] == path).unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn check_catches_every_kind_of_object_damage() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, repo, recs) = backed_up(tmp.path());
    let id = summary(&recs)["figures"]["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let m = manifest_records(&repo);
    let (code, recs, _) = run(&["check", "--repo", p(&repo), "--read-data"]);
    assert_eq!(code, 0);
    assert_eq!(summary(&recs)["figures"]["objects"], 6);

    // A flipped byte keeps the size: only --read-data can see it.
    let flipped = sha_of(&m, "data/blobs/big.bin");
    tamper(&object(&repo, &flipped), |b| b[12345] ^= 0x40);
    let (code, recs, _) = run(&["check", "--repo", p(&repo)]);
    assert_eq!(code, 0, "a same-size flip is invisible without --read-data");
    assert_eq!(summary(&recs)["figures"]["check_errors"], 0);
    let (code, recs, _) = run(&["check", "--repo", p(&repo), "--read-data"]);
    assert_eq!(code, 1);
    let errs = of_kind(&recs, "check_error");
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["what"], "sha256");
    assert_eq!(errs[0]["object"], flipped.as_str());
    assert_eq!(errs[0]["snapshots"], serde_json::json!([id]));
    assert_eq!(gate(summary(&recs), "check_errors")["value"], 1.0);

    let truncated = sha_of(&m, "data/config/app.toml");
    tamper(&object(&repo, &truncated), |b| b.truncate(3));
    let deleted = sha_of(&m, "data/bin/run.sh");
    fs::remove_file(object(&repo, &deleted)).unwrap();
    let replaced = sha_of(&m, "data/config/secret.key");
    fs::remove_file(object(&repo, &replaced)).unwrap();
    fs::create_dir(object(&repo, &replaced)).unwrap();
    let (code, recs, _) = run(&["check", "--repo", p(&repo), "--read-data"]);
    assert_eq!(code, 1);
    let mut got: Vec<(String, String)> = of_kind(&recs, "check_error")
        .iter()
        .map(|e| {
            (
                e["object"].as_str().unwrap().to_string(),
                e["what"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        (flipped, "sha256".to_string()),
        (truncated, "size".to_string()),
        (deleted, "missing".to_string()),
        (replaced, "not_a_file".to_string()),
    ];
    want.sort();
    assert_eq!(got, want);
    // The drill of this repository fails on the same damage.
    let (code, recs, _) = run(&["drill", "--repo", p(&repo), "--no-backup"]);
    assert_eq!(code, 2, "{recs:?}");
}

#[test]
fn check_catches_edited_and_truncated_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, repo, _) = backed_up(tmp.path());
    let path = only_manifest(&repo);
    let original = fs::read_to_string(&path).unwrap();
    // Pretend a file is smaller than it was: the trailer digest refuses it.
    fs::write(&path, original.replacen("\"size\":12,", "\"size\":11,", 1)).unwrap();
    let (code, recs, _) = run(&["check", "--repo", p(&repo)]);
    assert_eq!(code, 1);
    let errs = of_kind(&recs, "check_error");
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["what"], "manifest");
    let detail = errs[0]["detail"].as_str().unwrap();
    let lines = original.lines().count();
    assert_eq!(
        detail,
        format!(
            "{}:{lines}: manifest digest does not match: the file was altered",
            path.display()
        )
    );

    // `list` still lists it, saying what is wrong, instead of giving up.
    let (code, recs, _) = run(&["list", "--repo", p(&repo)]);
    assert_eq!(code, 0);
    assert_eq!(summary(&recs)["figures"]["unreadable"], 1);
    let list = of_kind(&recs, "snapshot");
    assert_eq!(list.len(), 1);
    assert!(list[0]["error"]
        .as_str()
        .unwrap()
        .contains("manifest digest does not match"));
    assert!(list[0].get("files").is_none());

    fs::write(&path, &original[..original.len() / 2]).unwrap();
    let (code, recs, _) = run(&["check", "--repo", p(&repo)]);
    assert_eq!(code, 1);
    let detail = of_kind(&recs, "check_error")[0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("truncated manifest"), "{detail}");
    // Restoring from it is refused outright.
    let (code, _, err) = run(&[
        "restore",
        "latest",
        "--repo",
        p(&repo),
        "--to",
        p(&tmp.path().join("o")),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("truncated manifest"), "{err}");
}

/// Replaces the repository's manifest with `body` (sealed with a valid trailer).
fn plant(repo: &Path, body: &str) -> String {
    let path = only_manifest(repo);
    fs::write(&path, seal(body)).unwrap();
    path.display().to_string()
}

fn header(repo: &Path) -> String {
    fs::read_to_string(only_manifest(repo))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn hostile_manifests_are_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, repo, _) = backed_up(tmp.path());
    let head = header(&repo);
    let sha = sha_of(&manifest_records(&repo), "data/config/app.toml");
    let dir = r#"{"kind":"entry","path":"data","type":"dir","mode":493}"#;
    let file = |path: &str| {
        format!(
            r#"{{"kind":"entry","path":"{path}","type":"file","size":12,"mode":420,"sha256":"{sha}"}}"#
        )
    };
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{head}\n{dir}\n{}\n", file("data/../../escape")),
            "contains '..': refusing to leave the root",
        ),
        (
            format!("{head}\n{dir}\n{}\n", file("/tmp/escape")),
            "is absolute",
        ),
        (
            format!("{head}\n{dir}\n{}\n", file("data//x")),
            "not in canonical form",
        ),
        (
            format!(
                "{head}\n{dir}\n{}\n{}\n",
                r#"{"kind":"entry","path":"data/l","type":"symlink","target":"/tmp"}"#,
                file("data/l/escape")
            ),
            "lies below a non-directory \"data/l\"",
        ),
        (
            format!("{head}\n{dir}\n{}\n{}\n", file("data/a"), file("data/a")),
            "out of order or duplicated",
        ),
        (
            format!(
                "{head}\n{dir}\n{}\n",
                file("data/x").replace(&sha, "../../../../etc/passwd")
            ),
            "sha256 is not 64 hex digits",
        ),
        (
            format!("{head}\n{}\n", file("evil")),
            "is not a directory root",
        ),
    ];
    for (body, why) in cases {
        let name = plant(&repo, &body);
        let out = tmp.path().join("out");
        let (code, recs, err) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]);
        assert_eq!(code, 2, "{why}: {recs:?}");
        assert!(
            err.starts_with(&format!("backup-drill: error: {name}:")),
            "{err}"
        );
        assert!(err.contains(why), "expected {why:?} in {err}");
        assert!(
            !out.exists() || fs::read_dir(&out).unwrap().next().is_none(),
            "{why}: wrote into target"
        );
        assert!(!tmp.path().join("escape").exists());
        let (code, recs, _) = run(&["check", "--repo", p(&repo)]);
        assert_eq!(code, 1);
        assert_eq!(of_kind(&recs, "check_error")[0]["what"], "manifest");
    }
}

#[test]
fn malformed_manifests_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, repo, _) = backed_up(tmp.path());
    let head = header(&repo);
    let huge = "x".repeat(10 << 20);
    let cases: Vec<(Vec<u8>, String)> = vec![
        (
            format!("{head}\n{huge}\n").into_bytes(),
            ":2: expected value".to_string(),
        ),
        (
            [
                head.as_bytes(),
                b"\n{\"kind\":\"entry\",\"path\":\"data/\xff\",\"type\":\"dir\",\"mode\":1}\n",
            ]
            .concat(),
            ":2: invalid unicode".to_string(),
        ),
        (b"".to_vec(), ":1: empty manifest".to_string()),
        (
            format!("{head}\n{{\"kind\":\"entry\"}}\n").into_bytes(),
            ":2: missing field".to_string(),
        ),
    ];
    let path = only_manifest(&repo);
    for (bytes, want) in cases {
        let body = if bytes.is_empty() {
            bytes
        } else {
            seal_bytes(&bytes)
        };
        fs::write(&path, &body).unwrap();
        let (code, _, err) = run(&[
            "restore",
            "latest",
            "--repo",
            p(&repo),
            "--to",
            p(&tmp.path().join("o")),
        ]);
        assert_eq!(code, 2);
        assert!(
            err.contains(&format!("{}{want}", path.display())),
            "{want}: {}",
            &err[..err.len().min(500)]
        );
        assert!(err.len() < 1000, "error echoes the input");
    }
}

fn seal_bytes(body: &[u8]) -> Vec<u8> {
    let lines = body.iter().filter(|&&b| b == b'\n').count();
    let sha = common::digest::sha256_hex(body);
    [
        body,
        format!("{{\"kind\":\"end\",\"lines\":{lines},\"sha256\":\"{sha}\"}}\n").as_bytes(),
    ]
    .concat()
}

#[test]
fn symlinks_leaving_the_root_are_refused_unless_allowed_and_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let data = tmp.path().join("data");
    fs::create_dir(&data).unwrap();
    std::os::unix::fs::symlink("../../outside", data.join("up")).unwrap();
    std::os::unix::fs::symlink(&outside, data.join("abs")).unwrap();
    write(&data.join("f.txt"), b"x", 0o644);
    let repo = tmp.path().join("repo");
    assert_eq!(
        run(&["backup", "--repo", p(&repo), "--source", p(&data)]).0,
        0
    );
    let out = tmp.path().join("out");
    let (code, _, err) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "symlink data/abs -> {} leaves the restore directory; refusing it",
            outside.display()
        )),
        "{err}"
    );
    assert!(err.contains("hint: pass --allow-outside-links"), "{err}");
    let (code, _, err) = run(&[
        "restore",
        "latest",
        "--repo",
        p(&repo),
        "--to",
        p(&out),
        "--allow-outside-links",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        fs::read_link(out.join("data/up")).unwrap().to_str(),
        Some("../../outside")
    );
    assert!(fs::read_dir(&outside).unwrap().next().is_none());
}

#[test]
fn planted_symlinks_in_the_target_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, repo, _) = backed_up(tmp.path());
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    // An attacker plants data -> outside, hoping the restore writes through it.
    std::os::unix::fs::symlink(&outside, out.join("data")).unwrap();
    let (code, _, err) = run(&[
        "restore",
        "latest",
        "--repo",
        p(&repo),
        "--to",
        p(&out),
        "--force",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("passes through symlink"), "{err}");
    assert!(
        fs::read_dir(&outside).unwrap().next().is_none(),
        "wrote outside the target"
    );
    // One level down, on a file: replaced as a link, the outside file untouched.
    fs::remove_file(out.join("data")).unwrap();
    fs::create_dir_all(out.join("data/config")).unwrap();
    write(&outside.join("victim"), b"precious", 0o644);
    std::os::unix::fs::symlink(outside.join("victim"), out.join("data/config/app.toml")).unwrap();
    let (code, _, err) = run(&[
        "restore",
        "latest",
        "--repo",
        p(&repo),
        "--to",
        p(&out),
        "--force",
    ]);
    assert_eq!(code, 2, "the last component is a planted link too");
    assert!(err.contains("passes through symlink"), "{err}");
    assert_eq!(fs::read(outside.join("victim")).unwrap(), b"precious");
}

#[test]
fn kill_9_mid_backup_leaves_a_clean_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, repo, _) = backed_up(tmp.path());
    // Enough work that the second backup is surely still running when killed:
    // a 128 MB sparse file and many small ones.
    let big = fs::File::create(data.join("huge.img")).unwrap();
    big.set_len(128 << 20).unwrap();
    for i in 0..300 {
        write(
            &data.join(format!("many/f{i:03}")),
            format!("file {i}").repeat(2000).as_bytes(),
            0o644,
        );
    }
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("backup-drill"))
        .args([
            "backup",
            "--quiet",
            "--repo",
            p(&repo),
            "--source",
            p(&data),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the event "an object is being written", then kill -9.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let writing = fs::read_dir(repo.join("tmp")).unwrap().flatten().any(|e| {
            e.file_name().to_string_lossy().starts_with("obj.")
                && e.metadata().is_ok_and(|m| m.len() > 0)
        });
        if writing {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "backup finished before it could be killed"
        );
        assert!(Instant::now() < deadline, "backup never started writing");
        std::thread::sleep(Duration::from_millis(1));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );

    // Still exactly one snapshot, and the repository checks clean.
    let (code, list, _) = run(&["list", "--repo", p(&repo)]);
    assert_eq!(code, 0);
    assert_eq!(of_kind(&list, "snapshot").len(), 1);
    let (code, recs, err) = run(&["check", "--repo", p(&repo), "--read-data"]);
    assert_eq!(code, 0, "{err}{recs:?}");
    assert_eq!(summary(&recs)["figures"]["check_errors"], 0);
    // The old snapshot restores and verifies; a new backup completes.
    let (code, recs, err) = run(&["drill", "--repo", p(&repo), "--no-backup"]);
    assert_eq!(code, 0, "{err}{recs:?}");
    let (code, recs, err) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(step(&recs, "backup")["files"], 308);
    let (code, _, _) = run(&["check", "--repo", p(&repo), "--read-data"]);
    assert_eq!(code, 0);
}

#[test]
fn sigint_mid_backup_writes_an_interrupted_summary_and_no_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::File::create(data.join("huge.img"))
        .unwrap()
        .set_len(128 << 20)
        .unwrap();
    for i in 0..200 {
        write(
            &data.join(format!("f{i:03}")),
            format!("file {i}").repeat(2000).as_bytes(),
            0o644,
        );
    }
    let repo = tmp.path().join("repo");
    let child = Command::new(assert_cmd::cargo::cargo_bin("backup-drill"))
        .args(["--quiet", "--repo", p(&repo), "--source", p(&data)])
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
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(s["interrupted"], true);
    assert_eq!(s["verdict"], "fail");
    // Nothing half-done: no snapshot, no temporary objects left.
    let (_, list, _) = run(&["list", "--repo", p(&repo)]);
    assert!(of_kind(&list, "snapshot").is_empty());
    let (code, recs, _) = run(&["check", "--repo", p(&repo)]);
    assert_eq!(code, 0);
    assert_eq!(summary(&recs)["figures"]["tmp_files"], 0);
}

#[test]
fn an_object_planted_as_a_symlink_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, repo, _) = backed_up(tmp.path());
    let secret = tmp.path().join("secret");
    write(&secret, b"machine secret", 0o600);
    let sha = sha_of(&manifest_records(&repo), "data/config/app.toml");
    fs::remove_file(object(&repo, &sha)).unwrap();
    std::os::unix::fs::symlink(&secret, object(&repo, &sha)).unwrap();
    let out = tmp.path().join("out");
    let (code, _, err) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]);
    assert_eq!(code, 2);
    assert!(err.contains("restoring data/config/app.toml"), "{err}");
    assert!(!out.join("data/config/app.toml").exists());
    let (code, recs, _) = run(&["check", "--repo", p(&repo), "--read-data"]);
    assert_eq!(code, 1);
    let errs = of_kind(&recs, "check_error");
    assert_eq!(
        (errs.len(), errs[0]["what"].as_str()),
        (1, Some("not_a_file"))
    );
}

#[test]
fn a_repository_with_a_bad_config_is_refused_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, repo, _) = backed_up(tmp.path());
    let config = repo.join("config.json");
    for (body, want) in [
        (
            "{\"format\":\"something-else\",\"version\":1}",
            "not a backup-drill repository config",
        ),
        (
            "{\"format\":\"backup-drill-repo\",\"version\":7}",
            "unsupported repository version 7",
        ),
        ("{\"format\":", "not a repository config: EOF while parsing"),
    ] {
        fs::write(&config, body).unwrap();
        let (code, _, err) = run(&["check", "--repo", p(&repo)]);
        assert_eq!(code, 2);
        assert!(
            err.starts_with(&format!(
                "backup-drill: error: {}:1: {want}",
                config.display()
            )),
            "{err}"
        );
    }
}

/// Each link looks inside on its own (`up -> ..` from data/ is the restore
/// root), but `esc -> up/..` resolves through `up` to the root's parent.
#[test]
fn a_chain_of_symlinks_that_escapes_together_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fs::create_dir(&data).unwrap();
    std::os::unix::fs::symlink("..", data.join("up")).unwrap();
    std::os::unix::fs::symlink("up/..", data.join("esc")).unwrap();
    let repo = tmp.path().join("repo");
    // Links only, no file: --min-files 0.
    let backup = [
        "backup",
        "--repo",
        p(&repo),
        "--source",
        p(&data),
        "--min-files",
        "0",
    ];
    assert_eq!(run(&backup).0, 0);
    let out = tmp.path().join("out");
    let (code, recs, err) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]);
    assert_eq!(code, 2, "{recs:?}");
    assert!(
        err.contains("symlink data/esc -> up/.. leaves the restore directory; refusing it"),
        "{err}"
    );
    assert!(!out.join("data/esc").exists() && fs::symlink_metadata(out.join("data/esc")).is_err());
}

/// A restore into a new or empty target is staged in a hidden sibling and
/// renamed into place when complete: one that fails part-way (an object is
/// missing) leaves the target empty, and no sibling, even with read-only
/// directories in the snapshot.
#[test]
fn a_restore_that_fails_part_way_leaves_the_target_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_tree(tmp.path());
    write(&data.join("ro/inside.txt"), b"locked in", 0o644);
    fs::set_permissions(data.join("ro"), fs::Permissions::from_mode(0o555)).unwrap();
    let repo = tmp.path().join("repo");
    let (code, _, err) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0, "{err}");
    let sha = sha_of(&manifest_records(&repo), "data/blobs/big.bin");
    fs::remove_file(object(&repo, &sha)).unwrap();
    let place = tmp.path().join("place");
    fs::create_dir(&place).unwrap();
    let listing = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    for (what, target) in [("new", place.join("new")), ("empty", place.join("empty"))] {
        if what == "empty" {
            fs::create_dir(&target).unwrap();
        }
        let (code, recs, err) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&target)]);
        assert_eq!(code, 2, "{what}: {recs:?}");
        assert!(
            err.contains(&sha) && err.contains("restoring data/blobs/big.bin"),
            "{err}"
        );
        assert!(recs.is_empty(), "{recs:?}");
        assert!(
            listing(&target).is_empty(),
            "{what}: {:?}",
            listing(&target)
        );
    }
    assert_eq!(
        listing(&place),
        ["empty", "new"],
        "a staging sibling was left"
    );
    // The same through drill --keep.
    let keep = place.join("keep");
    let (code, _, err) = run(&[
        "drill",
        "--repo",
        p(&repo),
        "--no-backup",
        "--keep",
        p(&keep),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(listing(&keep).is_empty());
    assert_eq!(listing(&place), ["empty", "keep", "new"]);
}

/// The staged restore ends in the target itself, with the target's mode.
#[test]
fn a_staged_restore_keeps_the_target_directory_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, repo, _) = backed_up(tmp.path());
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o750)).unwrap();
    let (code, _, err) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]);
    assert_eq!(code, 0, "{err}");
    let mode = fs::metadata(&out).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o750);
    assert_eq!(
        fs::read(out.join("data/config/app.toml")).unwrap(),
        b"port = 8080\n"
    );
    let names: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.to_string_lossy().contains(".restore-")),
        "{names:?}"
    );
}

/// Regression: a restore copied a damaged object (same size, other bytes)
/// and reported `result: ok`; only a later verify could notice.
#[test]
fn restore_refuses_an_object_that_does_not_match_its_name() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, repo, _) = backed_up(tmp.path());
    let sha = sha_of(&manifest_records(&repo), "data/config/app.toml");
    let obj = object(&repo, &sha);
    fs::set_permissions(&obj, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&obj, b"port = 6666\n").unwrap();
    let out = tmp.path().join("out");
    let (code, recs, err) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]);
    assert_eq!(code, 2, "{recs:?}");
    assert!(recs.is_empty(), "{recs:?}");
    let bad = common::digest::sha256_hex(b"port = 6666\n");
    assert!(
        err.starts_with(&format!(
            "backup-drill: error: {}: object hashes to {bad}: the repository is damaged \
             (restoring data/config/app.toml)\n",
            obj.display()
        )),
        "{err}"
    );
    assert!(fs::read_dir(&out).unwrap().next().is_none());
    // The drill restores it and names the damage as a mismatch.
    let (code, recs, _) = run(&["drill", "--repo", p(&repo), "--no-backup"]);
    assert_eq!(code, 1);
    assert_eq!(
        mismatches(&recs),
        vec![("data/config/app.toml".to_string(), "sha256".to_string())]
    );
}

/// FIFOs planted as an object, a manifest or the config must not hang any
/// command (opening a FIFO for reading waits for a writer).
#[test]
fn fifos_planted_in_a_repository_do_not_hang_it() {
    let mkfifo = |path: &Path| {
        let _ = fs::remove_file(path);
        nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    };
    let quick = |args: &[&str]| {
        let out = bin()
            .args(args)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        decode(out)
    };
    let tmp = tempfile::tempdir().unwrap();
    let (_, repo, _) = backed_up(tmp.path());
    let sha = sha_of(&manifest_records(&repo), "data/config/app.toml");
    mkfifo(&object(&repo, &sha));
    let out = tmp.path().join("out");
    let (code, _, err) = quick(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not a regular file") && err.contains("restoring data/config/app.toml"),
        "{err}"
    );

    let manifest = only_manifest(&repo);
    let id = manifest.file_stem().unwrap().to_str().unwrap().to_string();
    mkfifo(&manifest);
    let (code, recs, err) = quick(&["list", "--repo", p(&repo)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["id"], id.as_str());
    assert_eq!(recs[1]["kind"], "summary");
    assert!(
        recs[0]["error"]
            .as_str()
            .unwrap()
            .ends_with("not a regular file"),
        "{recs:?}"
    );
    let (code, recs, _) = quick(&["check", "--repo", p(&repo)]);
    assert_eq!(code, 1);
    assert_eq!(of_kind(&recs, "check_error")[0]["what"], "manifest");

    mkfifo(&repo.join("config.json"));
    let (code, _, err) = quick(&["check", "--repo", p(&repo)]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(&format!(
            "backup-drill: error: {}: not a regular file",
            repo.join("config.json").display()
        )),
        "{err}"
    );
}

/// A closed stdout (`| head`) ends quietly with 141, in both formats: more
/// records than a pipe holds are written and nobody reads them.
#[test]
fn a_closed_stdout_ends_quietly_with_141() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    for i in 0..600 {
        write(
            &data.join(format!("f{i:03}")),
            format!("{i}").as_bytes(),
            0o644,
        );
    }
    let repo = tmp.path().join("repo");
    assert_eq!(
        run(&["backup", "--repo", p(&repo), "--source", p(&data)]).0,
        0
    );
    // 600 missing objects: 600 check_error records, well over 64 KiB.
    for fan in fs::read_dir(repo.join("objects")).unwrap() {
        for obj in fs::read_dir(fan.unwrap().path()).unwrap() {
            fs::remove_file(obj.unwrap().path()).unwrap();
        }
    }
    for format in ["jsonl", "text"] {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("backup-drill"))
            .args(["check", "--repo", p(&repo), "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(141), "{format}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{format}");
    }
}

#[test]
fn help_shows_examples_for_every_command() {
    for cmd in [
        &[][..],
        &["backup"],
        &["restore"],
        &["verify"],
        &["check"],
        &["list"],
        &["drill"],
    ] {
        let out = bin().args(cmd).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{cmd:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let examples = text.split_once("Examples:\n").map_or("", |(_, e)| e);
        assert!(examples.contains("  backup-drill "), "{cmd:?}: {text}");
    }
}
