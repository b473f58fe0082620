//! A repository's own directories (`objects/`, `objects/ab/`, `tmp/`,
//! `snapshots/`) replaced by symlinks leading outside it: no write goes
//! through them and no read comes from them (issue 14 item 5). The
//! repository's root may itself be a link (the user names it); nothing
//! below it is ever followed.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::*;

/// Every file below `dir`, relative, sorted: what a write outside would change.
fn files_below(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(
                    e.path()
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}

/// A repository with one snapshot of `data/` (one file, "first").
fn repo_with_a_snapshot(tmp: &Path) -> (PathBuf, PathBuf) {
    let data = tmp.join("data");
    write(&data.join("first.txt"), b"first", 0o644);
    let repo = tmp.join("repo");
    let (code, _, err) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0, "{err}");
    (data, repo)
}

/// Moves `repo/sub` to `outside/` and leaves a symlink to it in its place.
fn swap_for_a_link(repo: &Path, sub: &str, outside: &Path) -> PathBuf {
    let real = repo.join(sub);
    let moved = outside.join(sub.replace('/', "_"));
    fs::create_dir_all(outside).unwrap();
    fs::rename(&real, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &real).unwrap();
    moved
}

#[test]
fn backup_writes_through_symlinked_repository_directories() {
    let second = b"second file, new content";
    let fan = common::digest::sha256_hex(second)[..2].to_string();
    for sub in [
        "objects".to_string(),
        format!("objects/{fan}"),
        "tmp".to_string(),
        "snapshots".to_string(),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let (data, repo) = repo_with_a_snapshot(tmp.path());
        write(&data.join("second.txt"), second, 0o644);
        let outside = tmp.path().join("outside");
        let moved = swap_for_a_link(&repo, &sub, &outside);
        let before = files_below(&outside);

        let (code, recs, err) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
        assert_eq!(
            code, 2,
            "{sub}: backup through a symlinked {sub}/: {recs:?}"
        );
        assert!(
            err.starts_with("backup-drill: error: ")
                && err.contains(&format!("{}: is a symlink", repo.join(&sub).display())),
            "{sub}: {err}"
        );
        assert_eq!(
            files_below(&outside),
            before,
            "{sub}: something was written outside the repository"
        );
        assert!(
            files_below(&moved).iter().all(|f| !f.starts_with("obj.")),
            "{sub}"
        );

        // Nor is anything read through it: check, list, restore, verify,
        // drill all refuse the repository.
        let out = tmp.path().join("out");
        for args in [
            vec!["check", "--repo", p(&repo), "--read-data"],
            vec!["list", "--repo", p(&repo)],
            vec!["restore", "latest", "--repo", p(&repo), "--to", p(&out)],
            vec!["verify", "latest", "--repo", p(&repo), "--dir", p(&data)],
            vec!["drill", "--repo", p(&repo), "--no-backup"],
        ] {
            let (code, recs, err) = run(&args);
            assert_eq!(code, 2, "{sub}: {} passed: {recs:?}", args[0]);
            assert!(err.contains("is a symlink"), "{sub}: {}: {err}", args[0]);
        }
        assert!(!out.join("data").exists(), "{sub}");
    }
}

/// The root named on the command line may be a link (to another disk,
/// say): only the directories below it are refused as links.
#[test]
fn a_repository_root_that_is_a_symlink_still_works() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, repo) = repo_with_a_snapshot(tmp.path());
    let link = tmp.path().join("repo-link");
    std::os::unix::fs::symlink(&repo, &link).unwrap();
    write(&data.join("second.txt"), b"second", 0o644);
    let (code, _, err) = run(&["backup", "--repo", p(&link), "--source", p(&data)]);
    assert_eq!(code, 0, "{err}");
    let (code, recs, err) = run(&["check", "--repo", p(&link), "--read-data"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary(&recs)["figures"]["snapshots"], 2);
    assert_eq!(summary(&recs)["figures"]["objects"], 2);
}
