//! Shared helpers for backup-drill's integration tests: run the real
//! binary, parse its records, build real trees.
#![allow(dead_code, unused_imports)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

pub use common::testkit::{copy_tree, gate, jsonl, of_kind, stderr_text, summary, Run, Tmpfs};
use serde_json::Value;

pub fn bin() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("backup-drill").unwrap();
    c.env_remove("NO_COLOR")
        .timeout(std::time::Duration::from_secs(90));
    c
}

/// Runs backup-drill with `args`; returns (exit code, records, stderr).
pub fn run(args: &[&str]) -> (i32, Vec<Value>, String) {
    decode(bin().args(args).output().unwrap())
}

/// A finished run as (exit code, records, stderr).
pub fn decode(out: Output) -> (i32, Vec<Value>, String) {
    let r = Run::from(out);
    (r.code, r.records(), r.stderr)
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

pub fn write(path: &Path, bytes: &[u8], mode: u32) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, bytes).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A tree with every kind of entry: files of several sizes and modes,
/// duplicate contents, an empty file, an empty dir, relative symlinks (to a
/// file, a dir, a dangling one), and a FIFO (skipped).
pub fn sample_tree(root: &Path) -> PathBuf {
    let data = root.join("data");
    write(&data.join("config/app.toml"), b"port = 8080\n", 0o640);
    write(&data.join("config/secret.key"), b"k3y", 0o600);
    write(&data.join("bin/run.sh"), b"#!/bin/sh\necho hi\n", 0o755);
    write(&data.join("sessions/s1.json"), b"{\"user\":1}", 0o644);
    write(&data.join("sessions/s2.json"), b"{\"user\":1}", 0o644);
    write(&data.join("empty.txt"), b"", 0o644);
    let big: Vec<u8> = (0..6_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    write(&data.join("blobs/big.bin"), &big, 0o644);
    fs::create_dir_all(data.join("empty-dir")).unwrap();
    std::os::unix::fs::symlink("config/app.toml", data.join("app.toml")).unwrap();
    std::os::unix::fs::symlink("config", data.join("config-link")).unwrap();
    std::os::unix::fs::symlink("nowhere", data.join("dangling")).unwrap();
    nix::unistd::mkfifo(
        &data.join("pipe"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    data
}

/// Creates a SQLite database with a parent/child pair of tables.
pub fn sample_db(path: &Path, rows: i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL;
         CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, avatar BLOB);
         CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), total REAL);",
    )
    .unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    for i in 1..=rows {
        tx.execute(
            "INSERT INTO users(id, name, score, avatar) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![i, format!("user {i}"), i as f64 / 3.0, vec![i as u8; 16]],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO orders(user_id, total) VALUES (?1, ?2)",
            rusqlite::params![i, i as f64 * 1.5],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

pub fn step<'a>(records: &'a [Value], name: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["kind"] == "step" && r["step"] == name)
        .unwrap_or_else(|| panic!("no step {name} in {records:?}"))
}

/// (path, what) of every mismatch record.
pub fn mismatches(records: &[Value]) -> Vec<(String, String)> {
    of_kind(records, "mismatch")
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["what"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The only snapshot manifest in a repository.
pub fn only_manifest(repo: &Path) -> PathBuf {
    let mut found: Vec<PathBuf> = fs::read_dir(repo.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.pop().unwrap()
}

/// Object path of a sha256 in a repository.
pub fn object(repo: &Path, sha: &str) -> PathBuf {
    repo.join("objects").join(&sha[..2]).join(sha)
}

/// Makes a file writable and applies `f` to its bytes, keeping its mtime
/// as bit rot would (so only the content differs).
pub fn tamper(path: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mtime = fs::metadata(path).unwrap().modified().unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = fs::read(path).unwrap();
    f(&mut bytes);
    fs::write(path, bytes).unwrap();
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
}

/// Re-seals a hand-edited manifest body (lines without the end record) so
/// only our path checks, not the digest, can refuse it.
pub fn seal(body: &str) -> String {
    let lines = body.lines().count();
    let sha = common::digest::sha256_hex(body.as_bytes());
    format!("{body}{{\"kind\":\"end\",\"lines\":{lines},\"sha256\":\"{sha}\"}}\n")
}
