//! Verifying a restored tree against its snapshot's manifest.
//!
//! Every file is re-read and hashed (in parallel); type, size, mode and link
//! target are compared; anything missing or extra is named. Each database is
//! opened read-only and immutable (nothing written beside it) for SQLite's own
//! `integrity_check` and `foreign_key_check`, then its row counts and
//! per-table digests are compared with the ones taken at backup time.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use common::Result;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::manifest::{Database, EntryType, Manifest};
use crate::restore::MODE_MASK;
use crate::sqlite;

/// A `mismatch` record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    pub kind: &'static str,
    pub path: String,
    pub what: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<Value>,
}

impl Mismatch {
    pub fn new(
        path: &str,
        what: &'static str,
        expected: Option<Value>,
        actual: Option<Value>,
    ) -> Mismatch {
        Mismatch {
            kind: "mismatch",
            path: path.to_string(),
            what,
            expected,
            actual,
        }
    }
}

#[derive(Debug)]
pub struct VerifyReport {
    pub mismatches: Vec<Mismatch>,
    pub files: u64,
    pub bytes: u64,
    pub duration_ms: f64,
}

struct Found {
    kind: EntryType,
    size: u64,
    mode: u32,
    target: Option<String>,
    abs: PathBuf,
}

fn found_type(ft: fs::FileType) -> Option<EntryType> {
    if ft.is_symlink() {
        Some(EntryType::Symlink)
    } else if ft.is_dir() {
        Some(EntryType::Dir)
    } else if ft.is_file() {
        Some(EntryType::File)
    } else {
        None
    }
}

fn s(text: impl Into<String>) -> Option<Value> {
    Some(Value::String(text.into()))
}

fn n(v: u64) -> Option<Value> {
    Some(Value::from(v))
}

/// Walks `dir`; what is there, keyed by relative path. Entries that are not
/// files, dirs or symlinks, or have non-UTF-8 names, are extra at once.
fn scan(dir: &Path, mismatches: &mut Vec<Mismatch>) -> Result<HashMap<String, Found>> {
    let mut found = HashMap::new();
    for item in walkdir::WalkDir::new(dir).follow_links(false).min_depth(1) {
        let item = item.map_err(|e| {
            let path = e
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let io = e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("walk failed"));
            common::Error::io(path, io)
        })?;
        let rel = item.path().strip_prefix(dir).unwrap_or(item.path());
        let Some(rel) = rel.to_str() else {
            mismatches.push(Mismatch::new(
                &rel.to_string_lossy(),
                "extra",
                None,
                s("non-UTF-8 name"),
            ));
            continue;
        };
        let meta = fs::symlink_metadata(item.path())
            .map_err(|e| common::Error::io(item.path().display(), e))?;
        let Some(kind) = found_type(meta.file_type()) else {
            mismatches.push(Mismatch::new(rel, "extra", None, s("special file")));
            continue;
        };
        let target = if kind == EntryType::Symlink {
            fs::read_link(item.path())
                .ok()
                .map(|t| t.to_string_lossy().into_owned())
        } else {
            None
        };
        found.insert(
            rel.to_string(),
            Found {
                kind,
                size: meta.len(),
                mode: meta.mode() & 0o7777,
                target,
                abs: item.path().to_path_buf(),
            },
        );
    }
    Ok(found)
}

/// Verifies `dir` against `m`.
pub fn verify(m: &Manifest, dir: &Path) -> Result<VerifyReport> {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut found = scan(dir, &mut out)?;
    // (path, abs, expected sha256) of files whose shape already matches.
    let mut to_hash: Vec<(String, PathBuf, String)> = Vec::new();
    let mut files = 0u64;
    let mut bytes = 0u64;

    let mut compare_file =
        |out: &mut Vec<Mismatch>, path: &str, size: u64, mode: u32, sha: &str, have: &Found| {
            if have.kind != EntryType::File {
                out.push(Mismatch::new(path, "type", s("file"), s(have.kind.name())));
                return false;
            }
            if have.mode & MODE_MASK != mode & MODE_MASK {
                out.push(Mismatch::new(
                    path,
                    "mode",
                    s(format!("{:04o}", mode & MODE_MASK)),
                    s(format!("{:04o}", have.mode & MODE_MASK)),
                ));
            }
            if have.size != size {
                out.push(Mismatch::new(path, "size", n(size), n(have.size)));
                return false;
            }
            files += 1;
            bytes += size;
            to_hash.push((path.to_string(), have.abs.clone(), sha.to_string()));
            true
        };

    for e in &m.entries {
        let Some(have) = found.remove(&e.path) else {
            out.push(Mismatch::new(&e.path, "missing", s(e.kind.name()), None));
            continue;
        };
        match e.kind {
            EntryType::File => {
                compare_file(
                    &mut out,
                    &e.path,
                    e.size.unwrap_or(0),
                    e.mode.unwrap_or(0),
                    e.sha256.as_deref().unwrap_or(""),
                    &have,
                );
            }
            EntryType::Dir => {
                if have.kind != EntryType::Dir {
                    out.push(Mismatch::new(
                        &e.path,
                        "type",
                        s("dir"),
                        s(have.kind.name()),
                    ));
                } else {
                    let want = e.mode.unwrap_or(0) & MODE_MASK;
                    if have.mode & MODE_MASK != want {
                        out.push(Mismatch::new(
                            &e.path,
                            "mode",
                            s(format!("{want:04o}")),
                            s(format!("{:04o}", have.mode & MODE_MASK)),
                        ));
                    }
                }
            }
            EntryType::Symlink => {
                if have.kind != EntryType::Symlink {
                    out.push(Mismatch::new(
                        &e.path,
                        "type",
                        s("symlink"),
                        s(have.kind.name()),
                    ));
                } else if have.target.as_deref() != e.target.as_deref() {
                    out.push(Mismatch::new(
                        &e.path,
                        "link_target",
                        e.target.clone().map(Value::String),
                        have.target.clone().map(Value::String),
                    ));
                }
            }
        }
    }
    let mut db_paths: Vec<(&Database, PathBuf)> = Vec::new();
    for d in &m.databases {
        let Some(have) = found.remove(&d.path) else {
            out.push(Mismatch::new(&d.path, "missing", s("file"), None));
            continue;
        };
        let ok = compare_file(&mut out, &d.path, d.size, d.mode, &d.sha256, &have);
        if ok || have.kind == EntryType::File {
            db_paths.push((d, have.abs));
        }
    }
    let mut extra: Vec<String> = found.into_keys().collect();
    extra.sort();
    for path in extra {
        out.push(Mismatch::new(&path, "extra", None, None));
    }

    let hashed: Vec<Option<Mismatch>> = to_hash
        .par_iter()
        .map(|(path, abs, want)| match common::digest::sha256_file(abs) {
            Ok((have, _)) if &have == want => None,
            Ok((have, _)) => Some(Mismatch::new(path, "sha256", s(want.clone()), s(have))),
            Err(e) => Some(Mismatch::new(
                path,
                "sha256",
                s(want.clone()),
                s(format!("unreadable: {e}")),
            )),
        })
        .collect();
    out.extend(hashed.into_iter().flatten());

    for (d, abs) in db_paths {
        verify_database(d, &abs, &mut out);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path).then(a.what.cmp(b.what)));
    Ok(VerifyReport {
        mismatches: out,
        files,
        bytes,
        duration_ms: common::clock::ms(started.elapsed()),
    })
}

fn verify_database(d: &Database, abs: &Path, out: &mut Vec<Mismatch>) {
    let conn = match sqlite::open_immutable(abs) {
        Ok(c) => c,
        Err(e) => {
            out.push(Mismatch::new(
                &d.path,
                "database_unreadable",
                None,
                s(e.to_string()),
            ));
            return;
        }
    };
    match sqlite::integrity_check(&conn, abs) {
        Ok(lines) if lines == ["ok"] => {}
        Ok(lines) => {
            let shown: Vec<String> = lines.into_iter().take(10).collect();
            out.push(Mismatch::new(
                &d.path,
                "integrity_check",
                s("ok"),
                s(shown.join("; ")),
            ));
        }
        Err(e) => out.push(Mismatch::new(
            &d.path,
            "integrity_check",
            s("ok"),
            s(e.to_string()),
        )),
    }
    match sqlite::foreign_key_check(&conn, abs) {
        Ok(v) if v.is_empty() => {}
        Ok(v) => {
            for violation in v.into_iter().take(100) {
                out.push(Mismatch::new(
                    &d.path,
                    "foreign_key_check",
                    None,
                    s(violation),
                ));
            }
        }
        Err(e) => out.push(Mismatch::new(
            &d.path,
            "foreign_key_check",
            None,
            s(e.to_string()),
        )),
    }
    let have = match sqlite::tables(&conn, abs) {
        Ok(t) => t,
        Err(e) => {
            out.push(Mismatch::new(
                &d.path,
                "database_unreadable",
                None,
                s(e.to_string()),
            ));
            return;
        }
    };
    let mut have: BTreeMap<String, _> = have.into_iter().map(|t| (t.name.clone(), t)).collect();
    for want in &d.tables {
        let label = format!("{}#{}", d.path, want.name);
        match have.remove(&want.name) {
            None => out.push(Mismatch::new(&label, "table_missing", n(want.rows), None)),
            Some(t) => {
                if t.rows != want.rows {
                    out.push(Mismatch::new(&label, "rows", n(want.rows), n(t.rows)));
                }
                if t.sha256 != want.sha256 {
                    out.push(Mismatch::new(
                        &label,
                        "table_sha256",
                        s(&want.sha256),
                        s(t.sha256),
                    ));
                }
            }
        }
    }
    for (name, t) in have {
        out.push(Mismatch::new(
            &format!("{}#{name}", d.path),
            "table_extra",
            None,
            n(t.rows),
        ));
    }
}
