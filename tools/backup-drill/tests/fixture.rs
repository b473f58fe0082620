//! A repository written by backup-drill 0.1 is checked in under
//! testdata/backup-drill/repo-v1: later versions must keep reading it, and
//! the table digest algorithm must not drift (old manifests would all fail).

use std::fs;

use crate::util::*;

const ID: &str = "20261123T134602198811Z-5469c18f";

#[test]
fn version_1_repository_still_checks_restores_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    copy_tree(&common::testkit::testdata("backup-drill/repo-v1"), &repo);
    let (code, list, _) = run(&["list", "--repo", p(&repo)]);
    assert_eq!(code, 0);
    assert_eq!(summary(&list)["figures"]["snapshots"], 1);
    assert_eq!(
        list[..1],
        [serde_json::json!({
            "kind": "snapshot", "id": ID, "created_at": "2026-11-23T13:46:02.198Z",
            "files": 3, "bytes": 8228, "sources": ["app"], "databases": ["users.db"], "hook": false
        })]
    );
    let (code, recs, _) = run(&["check", "--repo", p(&repo), "--read-data"]);
    assert_eq!(code, 0);
    let f = &summary(&recs)["figures"];
    assert_eq!(
        (f["objects"].as_u64(), f["bytes_read"].as_u64()),
        (Some(3), Some(8228))
    );
    // A drill of the stored snapshot: every byte, mode, link and table digest.
    let keep = tmp.path().join("restored");
    let (code, recs, err) = run(&[
        "drill",
        "--repo",
        p(&repo),
        "--no-backup",
        "--keep",
        p(&keep),
    ]);
    assert_eq!(code, 0, "{err}{recs:?}");
    assert_eq!(summary(&recs)["figures"]["snapshot"], ID);
    assert_eq!(
        fs::read(keep.join("app/conf/app.toml")).unwrap(),
        b"port = 8080\n"
    );
    assert_eq!(
        fs::read_link(keep.join("app/app.toml")).unwrap().to_str(),
        Some("conf/app.toml")
    );
    let conn = rusqlite::Connection::open(keep.join("users.db")).unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM users ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, ["ada", "grace"]);
}
