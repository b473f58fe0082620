//! Verify compares every attribute a snapshot records: mode with its
//! setuid, setgid and sticky bits, mtime, size, content, link target and
//! type. Each difference is its own `mismatch` record with both values.
//! Real trees (a copy of this machine's /etc) restored, or copied with
//! `cp -a`, pass; `cp -r` fails on what it does not preserve.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::util::*;

/// Runs a real coreutils command; panics with its stderr if it fails.
fn sh(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small source tree `src/` with a 0600 file, returns the repository
/// after one backup and a restore of it in `rx`.
fn restored(tmp: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let src = tmp.join("src");
    write(&src.join("modefile"), b"secret\n", 0o600);
    write(&src.join("notes.txt"), b"hello\n", 0o644);
    fs::create_dir_all(src.join("shared")).unwrap();
    let repo = tmp.join("repo");
    let (code, _, err) = run(&["backup", "--repo", p(&repo), "--source", p(&src)]);
    assert_eq!(code, 0, "{err}");
    let rx = tmp.join("rx");
    let (code, _, err) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&rx)]);
    assert_eq!(code, 0, "{err}");
    (repo, rx)
}

fn verify(repo: &Path, dir: &Path) -> (i32, Vec<Value>) {
    let (code, recs, err) = run(&["verify", "latest", "--repo", p(repo), "--dir", p(dir)]);
    assert_ne!(code, 2, "{err}");
    (code, recs)
}

/// The mismatch records, without their `kind`.
fn findings(recs: &[Value]) -> Vec<Value> {
    of_kind(recs, "mismatch")
        .into_iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("kind");
            r
        })
        .collect()
}

/// A file's mtime as verify prints it (RFC 3339, nanoseconds, UTC).
fn mtime_text(path: &Path) -> String {
    let meta = fs::symlink_metadata(path).unwrap();
    let at = std::time::UNIX_EPOCH
        + std::time::Duration::new(meta.mtime() as u64, meta.mtime_nsec() as u32);
    humantime::format_rfc3339_nanos(at).to_string()
}

#[test]
fn verify_ignored_a_changed_mtime() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, rx) = restored(tmp.path());
    assert_eq!(verify(&repo, &rx).0, 0);
    let file = rx.join("src/notes.txt");
    let want = mtime_text(&tmp.path().join("src/notes.txt"));
    assert_eq!(mtime_text(&file), want, "restore sets the mtime");

    sh("touch", &["-d", "2001-01-01 00:00:00 UTC", p(&file)]);
    let (code, recs) = verify(&repo, &rx);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&recs),
        vec![serde_json::json!({
            "path": "src/notes.txt", "what": "mtime",
            "expected": want, "actual": "2001-01-01T00:00:00.000000000Z",
        })]
    );
    assert_eq!(gate(summary(&recs), "mismatches")["value"], 1.0);
}

#[test]
fn verify_ignored_an_added_setuid_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, rx) = restored(tmp.path());
    sh("chmod", &["u+s", p(&rx.join("src/modefile"))]);
    let (code, recs) = verify(&repo, &rx);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&recs),
        vec![serde_json::json!({
            "path": "src/modefile", "what": "mode", "expected": "0600", "actual": "4600",
        })]
    );

    // setgid and sticky too, on files and directories; each its own finding.
    sh("chmod", &["u-s,g+s", p(&rx.join("src/modefile"))]);
    sh("chmod", &["g+s", p(&rx.join("src/shared"))]);
    sh("chmod", &["+t", p(&rx.join("src/notes.txt"))]);
    let (code, recs) = verify(&repo, &rx);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&recs),
        vec![
            serde_json::json!({"path": "src/modefile", "what": "mode", "expected": "0600", "actual": "2600"}),
            serde_json::json!({"path": "src/notes.txt", "what": "mode", "expected": "0644", "actual": "1644"}),
            serde_json::json!({"path": "src/shared", "what": "mode", "expected": "0755", "actual": "2755"}),
        ]
    );
}

#[test]
fn every_difference_of_one_file_is_its_own_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let (repo, rx) = restored(tmp.path());
    let file = rx.join("src/notes.txt");
    let want_mtime = mtime_text(&file);
    fs::write(&file, b"hello, world\n").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o4640)).unwrap();
    sh("touch", &["-d", "2001-01-01 00:00:00.5 UTC", p(&file)]);
    let (code, recs) = verify(&repo, &rx);
    assert_eq!(code, 1);
    let got = findings(&recs);
    let what: Vec<&str> = got.iter().map(|f| f["what"].as_str().unwrap()).collect();
    assert_eq!(what, ["mode", "mtime", "sha256", "size"], "{got:?}");
    assert_eq!(
        (&got[0]["expected"], &got[0]["actual"]),
        (&"0644".into(), &"4640".into())
    );
    assert_eq!(
        (&got[1]["expected"], &got[1]["actual"]),
        (&want_mtime.into(), &"2001-01-01T00:00:00.500000000Z".into())
    );
    assert_eq!(got[2]["expected"], common::digest::sha256_hex(b"hello\n"));
    assert_eq!(
        got[2]["actual"],
        common::digest::sha256_hex(b"hello, world\n")
    );
    assert_eq!(
        (&got[3]["expected"], &got[3]["actual"]),
        (&6.into(), &13.into())
    );
}

#[test]
fn setgid_and_sticky_directories_round_trip_and_a_lost_setuid_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write(&src.join("team/doc.txt"), b"x", 0o664);
    write(&src.join("spool/job"), b"y", 0o600);
    write(&src.join("bin/tool"), b"#!/bin/sh\n", 0o755);
    fs::set_permissions(src.join("team"), fs::Permissions::from_mode(0o2770)).unwrap();
    fs::set_permissions(src.join("spool"), fs::Permissions::from_mode(0o1777)).unwrap();
    let repo = tmp.path().join("repo");
    assert_eq!(
        run(&["backup", "--repo", p(&repo), "--source", p(&src)]).0,
        0
    );
    let rx = tmp.path().join("rx");
    assert_eq!(
        run(&["restore", "latest", "--repo", p(&repo), "--to", p(&rx)]).0,
        0
    );
    // A directory's setgid bit only decides the group of new files in it:
    // restored, like the sticky bit.
    assert_eq!(
        fs::metadata(rx.join("src/team")).unwrap().mode() & 0o7777,
        0o2770
    );
    assert_eq!(
        fs::metadata(rx.join("src/spool")).unwrap().mode() & 0o7777,
        0o1777
    );
    let (code, recs) = verify(&repo, &rx);
    assert_eq!((code, findings(&recs)), (0, vec![]));

    // A setuid file is backed up with its bit; restore does not set it
    // (the repository is untrusted input), and verify says so.
    fs::set_permissions(src.join("bin/tool"), fs::Permissions::from_mode(0o4755)).unwrap();
    assert_eq!(
        run(&["backup", "--repo", p(&repo), "--source", p(&src)]).0,
        0
    );
    let ry = tmp.path().join("ry");
    assert_eq!(
        run(&["restore", "latest", "--repo", p(&repo), "--to", p(&ry)]).0,
        0
    );
    assert_eq!(
        fs::metadata(ry.join("src/bin/tool")).unwrap().mode() & 0o7777,
        0o755
    );
    let (code, recs) = verify(&repo, &ry);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&recs),
        vec![serde_json::json!({
            "path": "src/bin/tool", "what": "mode", "expected": "4755", "actual": "0755",
        })]
    );
}

/// A copy of this machine's /etc (3.6 MB, ~1,300 entries on the dev VM:
/// setgid directories, many symlinks, files of every mode), made with
/// `cp -a` so the source holds still while the test runs.
fn real_etc(tmp: &Path) -> std::path::PathBuf {
    let src = tmp.join("etc");
    sh("cp", &["-a", "/etc", p(&src)]);
    src
}

#[test]
fn a_real_tree_restored_or_copied_with_cp_a_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let src = real_etc(tmp.path());
    let repo = tmp.path().join("repo");
    let (code, recs, err) = run(&["backup", "--repo", p(&repo), "--source", p(&src)]);
    assert_eq!(code, 0, "{err}");
    let files = step(&recs, "backup")["files"].as_u64().unwrap();
    assert!(files > 50, "{files} files in /etc");

    let rx = tmp.path().join("rx");
    let (code, _, err) = run(&[
        "restore",
        "latest",
        "--repo",
        p(&repo),
        "--to",
        p(&rx),
        "--allow-outside-links",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, recs) = verify(&repo, &rx);
    assert_eq!((code, findings(&recs)), (0, vec![]));
    assert_eq!(step(&recs, "verify")["files"].as_u64(), Some(files));

    let copy = tmp.path().join("copy");
    fs::create_dir(&copy).unwrap();
    sh("cp", &["-a", p(&src), p(&copy)]);
    let (code, recs) = verify(&repo, &copy);
    assert_eq!((code, findings(&recs)), (0, vec![]));
}

#[test]
fn a_real_tree_copied_with_cp_r_fails_on_what_cp_r_does_not_keep_only() {
    let tmp = tempfile::tempdir().unwrap();
    let src = real_etc(tmp.path());
    let repo = tmp.path().join("repo");
    let (code, recs, err) = run(&["backup", "--repo", p(&repo), "--source", p(&src)]);
    assert_eq!(code, 0, "{err}");
    let files = step(&recs, "backup")["files"].as_u64().unwrap();

    // cp -r keeps contents and links but not mtimes (nor every mode bit).
    let copy = tmp.path().join("copy");
    fs::create_dir(&copy).unwrap();
    sh("cp", &["-r", p(&src), p(&copy)]);
    let (code, recs) = verify(&repo, &copy);
    assert_eq!(code, 1);
    let got = findings(&recs);
    let mtimes = got.iter().filter(|f| f["what"] == "mtime").count() as u64;
    assert_eq!(mtimes, files, "every regular file's mtime is new");
    for f in &got {
        let path = copy.join(f["path"].as_str().unwrap());
        let src_path = tmp.path().join(f["path"].as_str().unwrap());
        match f["what"].as_str().unwrap() {
            // Each finding states the source's value and the copy's.
            "mtime" => {
                assert_eq!(f["expected"], mtime_text(&src_path), "{f}");
                assert_eq!(f["actual"], mtime_text(&path), "{f}");
            }
            "mode" => {
                let mode =
                    |p: &Path| format!("{:04o}", fs::symlink_metadata(p).unwrap().mode() & 0o7777);
                assert_eq!(f["expected"], mode(&src_path), "{f}");
                assert_eq!(f["actual"], mode(&path), "{f}");
                assert_ne!(f["expected"], f["actual"]);
            }
            other => panic!("cp -r keeps {other}, yet verify says it differs: {f}"),
        }
    }
}
