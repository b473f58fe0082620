//! `check`: is the repository intact? Every manifest parses and is complete,
//! every object it names exists as a regular file of the right size, and
//! with `--read-data` every object still hashes to its name.
//!
//! Damage becomes `check_error` records, not an abort: a check should tell
//! you everything that is wrong in one run.

use std::collections::BTreeMap;
use std::time::Instant;

use common::Result;
use rayon::prelude::*;
use serde::Serialize;

use crate::manifest::is_sha256_hex;
use crate::repo::Repo;

/// A `check_error` record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckError {
    pub kind: &'static str,
    pub what: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    pub snapshots: Vec<String>,
    pub detail: String,
}

#[derive(Debug)]
pub struct CheckReport {
    pub errors: Vec<CheckError>,
    pub snapshots: u64,
    pub objects: u64,
    pub bytes: u64,
    pub bytes_read: u64,
    pub unreferenced_objects: u64,
    pub tmp_files: u64,
    pub duration_ms: f64,
}

fn error(what: &'static str, object: Option<&str>, snaps: &[String], detail: String) -> CheckError {
    CheckError {
        kind: "check_error",
        what,
        object: object.map(str::to_string),
        snapshots: snaps.to_vec(),
        detail,
    }
}

/// Checks every snapshot in `repo`.
pub fn check(repo: &Repo, read_data: bool, quiet: bool) -> Result<CheckReport> {
    let started = Instant::now();
    let mut errors = Vec::new();
    let files = repo.snapshot_files()?;
    // sha256 -> (size, snapshots naming it)
    let mut objects: BTreeMap<String, (u64, Vec<String>)> = BTreeMap::new();
    for f in &files {
        match repo.load(f) {
            Ok(m) => {
                for (sha, size) in m.objects() {
                    let slot = objects.entry(sha.to_string()).or_insert((size, Vec::new()));
                    if slot.0 != size {
                        errors.push(error(
                            "size",
                            Some(sha),
                            std::slice::from_ref(&f.id),
                            format!("manifest says {size} bytes, another says {}", slot.0),
                        ));
                    }
                    slot.1.push(f.id.clone());
                }
            }
            Err(e) => errors.push(error(
                "manifest",
                None,
                std::slice::from_ref(&f.id),
                e.to_string(),
            )),
        }
    }
    let total: u64 = objects.values().map(|(size, _)| size).sum();
    let bar = common::progress::bytes(Some(if read_data { total } else { 0 }), quiet);
    let list: Vec<(&String, &(u64, Vec<String>))> = objects.iter().collect();
    let found: Vec<(Option<CheckError>, u64)> = list
        .par_iter()
        .map(|(sha, (size, snaps))| {
            let path = repo.object_path(sha);
            let (file_type, len) = match repo.stat_object(sha) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return (
                        Some(error(
                            "missing",
                            Some(sha),
                            snaps,
                            format!("{} is missing", path.display()),
                        )),
                        0,
                    )
                }
                Err(e) => {
                    return (
                        Some(error(
                            "unreadable",
                            Some(sha),
                            snaps,
                            format!("{}: {e}", path.display()),
                        )),
                        0,
                    )
                }
            };
            if file_type != rustix::fs::FileType::RegularFile {
                return (
                    Some(error(
                        "not_a_file",
                        Some(sha),
                        snaps,
                        format!("{} is not a regular file", path.display()),
                    )),
                    0,
                );
            }
            if len != *size {
                let detail = format!("{} has {len} bytes, expected {size}", path.display());
                return (Some(error("size", Some(sha), snaps, detail)), 0);
            }
            if !read_data {
                return (None, 0);
            }
            let result = repo
                .open_object(sha)
                .and_then(common::digest::sha256_reader)
                .map_err(|e| format!("{}: {e}", path.display()));
            bar.inc(*size);
            match result {
                Ok((have, n)) if &have == *sha => (None, n),
                Ok((have, n)) => (
                    Some(error(
                        "sha256",
                        Some(sha),
                        snaps,
                        format!("{} hashes to {have}", path.display()),
                    )),
                    n,
                ),
                Err(e) => (Some(error("unreadable", Some(sha), snaps, e)), 0),
            }
        })
        .collect();
    bar.finish_and_clear();
    let mut bytes_read = 0;
    for (err, n) in found {
        bytes_read += n;
        errors.extend(err);
    }
    Ok(CheckReport {
        errors,
        snapshots: files.len() as u64,
        objects: objects.len() as u64,
        bytes: total,
        bytes_read,
        unreferenced_objects: count_unreferenced(repo, &objects),
        tmp_files: repo.tmp_files(),
        duration_ms: common::clock::ms(started.elapsed()),
    })
}

/// Objects on disk no snapshot names (left by an interrupted backup).
fn count_unreferenced(repo: &Repo, named: &BTreeMap<String, (u64, Vec<String>)>) -> u64 {
    repo.stored_objects().map_or(0, |names| {
        names
            .iter()
            .filter(|n| is_sha256_hex(n) && !named.contains_key(n.as_str()))
            .count() as u64
    })
}
