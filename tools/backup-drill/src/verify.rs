//! Verifying a restored tree against its snapshot's manifest.
//!
//! Every attribute the manifest records is compared: type, mode (all 12
//! bits: setuid, setgid and sticky too), size, content (every file re-read
//! and hashed, in parallel), mtime and link target; each difference is its
//! own `mismatch` with both values, and anything missing or extra is named.
//! Names are compared as bytes; a record names a path that is not plain
//! UTF-8 by its printable form plus `path_b64` (see [`crate::name`]).
//! Owners are not recorded, so not compared. Each database is
//! opened read-only and immutable (nothing written beside it) for SQLite's own
//! `integrity_check` and `foreign_key_check`, then its row counts and
//! per-table digests are compared with the ones taken at backup time.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use common::Result;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::manifest::{Database, EntryType, Manifest};
use crate::name;
use crate::sqlite;

/// A `mismatch` record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    pub kind: &'static str,
    pub path: String,
    /// The bytes of a path `path` shows escaped (see [`crate::name`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_b64: Option<String>,
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
            path_b64: None,
            what,
            expected,
            actual,
        }
    }

    /// A mismatch of the file, directory or link named `raw`.
    pub fn named(
        raw: &[u8],
        what: &'static str,
        expected: Option<Value>,
        actual: Option<Value>,
    ) -> Mismatch {
        let (path, path_b64) = name::encode(raw);
        Mismatch {
            path_b64,
            ..Mismatch::new(&path, what, expected, actual)
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
    mtime_ns: i64,
    target: Option<Vec<u8>>,
    abs: PathBuf,
}

/// A mode as people write it (`4755`).
fn mode_text(mode: u32) -> Option<Value> {
    s(format!("{:04o}", mode & 0o7777))
}

/// A time in ns since 1970 as RFC 3339 UTC with nanoseconds, also before
/// 1970 (where `humantime` panics) and for any `i64`.
pub fn time_text(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
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

/// Walks `dir`; what is there, keyed by relative path (bytes). Entries that
/// are not files, dirs or symlinks are extra at once.
fn scan(dir: &Path, mismatches: &mut Vec<Mismatch>) -> Result<HashMap<Vec<u8>, Found>> {
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
        let rel = rel.as_os_str().as_bytes();
        let meta = fs::symlink_metadata(item.path())
            .map_err(|e| common::Error::io(item.path().display(), e))?;
        let Some(kind) = found_type(meta.file_type()) else {
            mismatches.push(Mismatch::named(rel, "extra", None, s("special file")));
            continue;
        };
        let target = if kind == EntryType::Symlink {
            fs::read_link(item.path())
                .ok()
                .map(|t| t.into_os_string().into_vec())
        } else {
            None
        };
        found.insert(
            rel.to_vec(),
            Found {
                kind,
                size: meta.len(),
                mode: meta.mode() & 0o7777,
                mtime_ns: meta
                    .mtime()
                    .saturating_mul(1_000_000_000)
                    .saturating_add(meta.mtime_nsec()),
                target,
                abs: item.path().to_path_buf(),
            },
        );
    }
    Ok(found)
}

/// What the manifest says a regular file (or database) is.
struct FileWant<'a> {
    path: &'a [u8],
    size: u64,
    mode: u32,
    sha256: &'a str,
    /// Not recorded for databases (the copy is made at backup time).
    mtime_ns: Option<i64>,
}

/// Verifies `dir` against `m`.
pub fn verify(m: &Manifest, dir: &Path) -> Result<VerifyReport> {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut found = scan(dir, &mut out)?;
    // (path, abs, expected sha256) of files whose shape already matches.
    let mut to_hash: Vec<(Vec<u8>, PathBuf, String)> = Vec::new();
    let mut files = 0u64;
    let mut bytes = 0u64;

    // Every recorded attribute of a regular file; false if it is not one.
    let mut compare_file = |out: &mut Vec<Mismatch>, want: FileWant<'_>, have: &Found| {
        let path = want.path;
        if have.kind != EntryType::File {
            out.push(Mismatch::named(
                path,
                "type",
                s("file"),
                s(have.kind.name()),
            ));
            return false;
        }
        if have.mode != want.mode & 0o7777 {
            out.push(Mismatch::named(
                path,
                "mode",
                mode_text(want.mode),
                mode_text(have.mode),
            ));
        }
        if have.size != want.size {
            out.push(Mismatch::named(path, "size", n(want.size), n(have.size)));
        }
        if let Some(mtime) = want.mtime_ns.filter(|t| *t != have.mtime_ns) {
            out.push(Mismatch::named(
                path,
                "mtime",
                s(time_text(mtime)),
                s(time_text(have.mtime_ns)),
            ));
        }
        files += 1;
        bytes += have.size;
        to_hash.push((path.to_vec(), have.abs.clone(), want.sha256.to_string()));
        true
    };

    for e in &m.entries {
        let path = e.name();
        let Some(have) = found.remove(path.as_ref()) else {
            out.push(Mismatch::named(&path, "missing", s(e.kind.name()), None));
            continue;
        };
        match e.kind {
            EntryType::File => {
                let want = FileWant {
                    path: &path,
                    size: e.size.unwrap_or(0),
                    mode: e.mode.unwrap_or(0),
                    sha256: e.sha256.as_deref().unwrap_or(""),
                    mtime_ns: e.mtime_ns,
                };
                compare_file(&mut out, want, &have);
            }
            EntryType::Dir => {
                if have.kind != EntryType::Dir {
                    out.push(Mismatch::named(
                        &path,
                        "type",
                        s("dir"),
                        s(have.kind.name()),
                    ));
                } else {
                    let want = e.mode.unwrap_or(0) & 0o7777;
                    if have.mode != want {
                        out.push(Mismatch::named(
                            &path,
                            "mode",
                            mode_text(want),
                            mode_text(have.mode),
                        ));
                    }
                }
            }
            EntryType::Symlink => {
                let want = e.target_name();
                if have.kind != EntryType::Symlink {
                    out.push(Mismatch::named(
                        &path,
                        "type",
                        s("symlink"),
                        s(have.kind.name()),
                    ));
                } else if have.target.as_deref() != want.as_deref() {
                    // Both shown as names are (`\xNN` for bytes not UTF-8).
                    out.push(Mismatch::named(
                        &path,
                        "link_target",
                        want.map(|t| Value::String(name::display(&t))),
                        have.target
                            .as_deref()
                            .map(|t| Value::String(name::display(t))),
                    ));
                }
            }
        }
    }
    let mut db_paths: Vec<(&Database, PathBuf)> = Vec::new();
    for d in &m.databases {
        let Some(have) = found.remove(d.path.as_bytes()) else {
            out.push(Mismatch::named(
                d.path.as_bytes(),
                "missing",
                s("file"),
                None,
            ));
            continue;
        };
        let want = FileWant {
            path: d.path.as_bytes(),
            size: d.size,
            mode: d.mode,
            sha256: &d.sha256,
            mtime_ns: None,
        };
        if compare_file(&mut out, want, &have) {
            db_paths.push((d, have.abs));
        }
    }
    let mut extra: Vec<Vec<u8>> = found.into_keys().collect();
    extra.sort();
    for path in extra {
        out.push(Mismatch::named(&path, "extra", None, None));
    }

    let hashed: Vec<Option<Mismatch>> = to_hash
        .par_iter()
        .map(|(path, abs, want)| match common::digest::sha256_file(abs) {
            Ok((have, _)) if &have == want => None,
            Ok((have, _)) => Some(Mismatch::named(path, "sha256", s(want.clone()), s(have))),
            Err(e) => Some(Mismatch::named(
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn times_read_as_rfc3339_with_nanoseconds_before_1970_and_at_the_extremes() {
        assert_eq!(time_text(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(time_text(-1), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(
            time_text(978_307_200_500_000_000),
            "2001-01-01T00:00:00.500000000Z"
        );
        assert_eq!(
            time_text(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000000Z"
        );
        assert_eq!(time_text(i64::MAX), "2262-04-11T23:47:16.854775807Z");
        assert_eq!(time_text(i64::MIN), "1677-09-21T00:12:43.145224192Z");
        // Agrees with humantime wherever humantime works.
        for ns in [
            1,
            86_399_999_999_999,
            1_795_441_562_198_811_000,
            4_102_444_800_123_456_789,
        ] {
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns as u64);
            assert_eq!(
                time_text(ns),
                humantime::format_rfc3339_nanos(at).to_string()
            );
        }
    }
}
