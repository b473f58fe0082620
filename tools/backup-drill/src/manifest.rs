//! Snapshot manifests: what a snapshot holds, one JSON record per line.
//!
//! ```text
//! {"kind":"snapshot","format":"backup-drill/1","id":"...","created_at":"...","created_unix_ms":..,"roots":[...]}
//! {"kind":"entry","path":"data/a.txt","type":"file","size":3,"mode":420,"sha256":"..."}
//! {"kind":"entry","path":"data/l","type":"symlink","target":"a.txt"}
//! {"kind":"database","path":"app.db","size":..,"mode":..,"sha256":"...","tables":[...]}
//! {"kind":"skipped","path":"data/fifo","type":"fifo","reason":"special file"}
//! {"kind":"changed","path":"data/big.bin","reason":"changed during backup"}
//! {"kind":"end","lines":N,"sha256":"<sha256 of every byte before this line>"}
//! ```
//!
//! A manifest read from a repository is untrusted input: [`parse`] refuses
//! anything a restore could be tricked by (`..`, absolute or non-canonical
//! paths, duplicates, entries below a symlink or file, object names that are
//! not sha256 hex), and the `end` trailer proves the file is complete and
//! unedited. Every error names the manifest and its line.

use std::collections::HashMap;

use common::digest::sha256_hex;
use common::{Error, Result};
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "backup-drill/1";

/// Largest manifest we read (a hostile repository must not exhaust memory).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 30;

/// The first line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub id: String,
    pub created_at: String,
    pub created_unix_ms: u64,
    /// Top-level names: one per source, database and the hook dump.
    pub roots: Vec<Root>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Root {
    pub name: String,
    /// `dir`, `sqlite` or `hook`.
    pub kind: String,
    /// Where it was backed up from (informational only; never used to write).
    pub origin: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryType {
    File,
    Dir,
    Symlink,
}

impl EntryType {
    pub fn name(self) -> &'static str {
        match self {
            EntryType::File => "file",
            EntryType::Dir => "dir",
            EntryType::Symlink => "symlink",
        }
    }
}

/// A file, directory or symlink.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    #[serde(rename = "type")]
    pub kind: EntryType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime_ns: Option<i64>,
}

/// Per-table figures of a database, computed on the backup copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub rows: u64,
    pub sha256: String,
}

/// A SQLite database: a file plus its table figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Database {
    pub path: String,
    pub size: u64,
    pub mode: u32,
    pub sha256: String,
    pub tables: Vec<Table>,
}

/// A source entry that was not backed up, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
}

/// A file that kept changing while it was read (twice): its entry holds
/// the bytes as read, which may mix old and new content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Changed {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Line {
    Snapshot(Header),
    Entry(Entry),
    Database(Database),
    Skipped(Skipped),
    Changed(Changed),
    End { lines: u64, sha256: String },
}

/// A whole, validated manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub header: Header,
    /// Sorted by path (byte order); parents before children.
    pub entries: Vec<Entry>,
    pub databases: Vec<Database>,
    pub skipped: Vec<Skipped>,
    pub changed: Vec<Changed>,
}

impl Manifest {
    /// Regular files: count and bytes (databases included).
    pub fn totals(&self) -> (u64, u64) {
        let mut files = 0;
        let mut bytes = 0;
        for e in &self.entries {
            if e.kind == EntryType::File {
                files += 1;
                bytes += e.size.unwrap_or(0);
            }
        }
        for d in &self.databases {
            files += 1;
            bytes += d.size;
        }
        (files, bytes)
    }

    /// Every object this snapshot needs, with its size.
    pub fn objects(&self) -> Vec<(&str, u64)> {
        let mut out: Vec<(&str, u64)> = self
            .entries
            .iter()
            .filter_map(|e| Some((e.sha256.as_deref()?, e.size?)))
            .chain(self.databases.iter().map(|d| (d.sha256.as_str(), d.size)))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The manifest as bytes, with the `end` trailer.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut lines = 0u64;
        let mut push = |line: &Line| -> Result<()> {
            serde_json::to_writer(&mut out, line)
                .map_err(|e| Error::new(format!("cannot encode manifest: {e}")))?;
            out.push(b'\n');
            lines += 1;
            Ok(())
        };
        push(&Line::Snapshot(self.header.clone()))?;
        for e in &self.entries {
            push(&Line::Entry(e.clone()))?;
        }
        for d in &self.databases {
            push(&Line::Database(d.clone()))?;
        }
        for s in &self.skipped {
            push(&Line::Skipped(s.clone()))?;
        }
        for c in &self.changed {
            push(&Line::Changed(c.clone()))?;
        }
        let end = Line::End {
            lines,
            sha256: sha256_hex(&out),
        };
        serde_json::to_writer(&mut out, &end)
            .map_err(|e| Error::new(format!("cannot encode manifest: {e}")))?;
        out.push(b'\n');
        Ok(out)
    }
}

/// True for 64 lowercase hex digits: the only object names we accept.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Snapshot ids are file names: letters, digits, `-`, at most 64 bytes.
pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
}

/// A path in canonical form: relative, no `.`/`..`/empty parts, no NUL.
fn check_path(path: &str) -> std::result::Result<(), String> {
    match common::safe_path::check_relative(path) {
        Err(e) => Err(e.to_string()),
        Ok(clean) if clean.to_str() != Some(path) => {
            Err(format!("path {path:?} is not in canonical form"))
        }
        Ok(_) => Ok(()),
    }
}

/// Parses and validates a manifest. `name` is used in error messages.
pub fn parse(bytes: &[u8], name: &str) -> Result<Manifest> {
    let mut header: Option<Header> = None;
    let mut entries = Vec::new();
    let mut databases = Vec::new();
    let mut skipped = Vec::new();
    let mut changed = Vec::new();
    // path -> type, for the tree checks; databases count as files.
    let mut seen: HashMap<String, Option<EntryType>> = HashMap::new();
    let mut roots: HashMap<String, String> = HashMap::new();
    let mut last_path: Option<String> = None;
    let mut offset = 0usize;
    let mut line_no = 0u64;
    let mut ended = false;

    while offset < bytes.len() {
        line_no += 1;
        let rest = &bytes[offset..];
        let Some(len) = rest.iter().position(|&b| b == b'\n') else {
            return Err(Error::at(
                name,
                line_no,
                "truncated manifest: last line has no newline",
            ));
        };
        let line = &rest[..len];
        let at = |msg: String| Error::at(name, line_no, msg);
        if ended {
            return Err(at("data after the end record".into()));
        }
        let record: Line = serde_json::from_slice(line).map_err(|e| at(format!("{e}")))?;
        match record {
            Line::Snapshot(h) => {
                if line_no != 1 {
                    return Err(at("snapshot header must be the first line".into()));
                }
                if h.format != FORMAT {
                    return Err(at(format!(
                        "unknown manifest format {:?} (this build reads {FORMAT})",
                        h.format
                    )));
                }
                if !is_valid_id(&h.id) {
                    return Err(at(format!("invalid snapshot id {:?}", h.id)));
                }
                for r in &h.roots {
                    check_path(&r.name).map_err(&at)?;
                    if r.name.contains('/') {
                        return Err(at(format!("root name {:?} contains '/'", r.name)));
                    }
                    if !matches!(r.kind.as_str(), "dir" | "sqlite" | "hook") {
                        return Err(at(format!(
                            "root {:?} has unknown kind {:?}",
                            r.name, r.kind
                        )));
                    }
                    if roots.insert(r.name.clone(), r.kind.clone()).is_some() {
                        return Err(at(format!("duplicate root {:?}", r.name)));
                    }
                }
                header = Some(h);
            }
            _ if header.is_none() => {
                return Err(at("first line is not the snapshot header".into()));
            }
            Line::Entry(e) => {
                validate_entry(&e, &roots, &seen).map_err(&at)?;
                if let Some(prev) = &last_path {
                    if e.path.as_str() <= prev.as_str() {
                        return Err(at(format!(
                            "entry {:?} is out of order or duplicated (after {prev:?})",
                            e.path
                        )));
                    }
                }
                if !databases.is_empty() || !skipped.is_empty() {
                    return Err(at("entry after database or skipped records".into()));
                }
                last_path = Some(e.path.clone());
                seen.insert(e.path.clone(), Some(e.kind));
                entries.push(e);
            }
            Line::Database(d) => {
                check_path(&d.path).map_err(&at)?;
                if roots.get(&d.path).map(String::as_str) != Some("sqlite") {
                    return Err(at(format!("database {:?} is not a sqlite root", d.path)));
                }
                if seen.insert(d.path.clone(), None).is_some() {
                    return Err(at(format!("duplicate path {:?}", d.path)));
                }
                if !is_sha256_hex(&d.sha256) {
                    return Err(at(format!(
                        "database {:?}: sha256 is not 64 hex digits",
                        d.path
                    )));
                }
                if d.mode > 0o7777 {
                    return Err(at(format!(
                        "database {:?}: mode {} out of range",
                        d.path, d.mode
                    )));
                }
                for t in &d.tables {
                    if !is_sha256_hex(&t.sha256) {
                        return Err(at(format!(
                            "table {:?}: sha256 is not 64 hex digits",
                            t.name
                        )));
                    }
                }
                if !skipped.is_empty() {
                    return Err(at("database after skipped records".into()));
                }
                databases.push(d);
            }
            Line::Skipped(s) => {
                check_path(&s.path).map_err(&at)?;
                if !changed.is_empty() {
                    return Err(at("skipped record after changed records".into()));
                }
                skipped.push(s);
            }
            Line::Changed(c) => {
                if seen.get(&c.path) != Some(&Some(EntryType::File)) {
                    return Err(at(format!("changed {:?} names no file entry", c.path)));
                }
                changed.push(c);
            }
            Line::End { lines, sha256 } => {
                if lines != line_no - 1 {
                    return Err(at(format!(
                        "end record counts {lines} lines but {} precede it",
                        line_no - 1
                    )));
                }
                if sha256 != sha256_hex(&bytes[..offset]) {
                    return Err(at(
                        "manifest digest does not match: the file was altered".into()
                    ));
                }
                ended = true;
            }
        }
        offset += len + 1;
    }
    let Some(header) = header else {
        return Err(Error::at(name, 1, "empty manifest"));
    };
    if !ended {
        return Err(Error::at(
            name,
            line_no,
            "truncated manifest: no end record",
        ));
    }
    for (root, kind) in &roots {
        let present = seen.get(root);
        let ok = match kind.as_str() {
            "sqlite" => matches!(present, Some(None)),
            _ => matches!(present, Some(Some(EntryType::Dir))),
        };
        if !ok {
            return Err(Error::at(
                name,
                1,
                format!("root {root:?} has no matching record"),
            ));
        }
    }
    Ok(Manifest {
        header,
        entries,
        databases,
        skipped,
        changed,
    })
}

fn validate_entry(
    e: &Entry,
    roots: &HashMap<String, String>,
    seen: &HashMap<String, Option<EntryType>>,
) -> std::result::Result<(), String> {
    check_path(&e.path)?;
    match e.path.rsplit_once('/') {
        None => match roots.get(&e.path).map(String::as_str) {
            Some("dir" | "hook") if e.kind == EntryType::Dir => {}
            _ => {
                return Err(format!(
                    "top-level entry {:?} is not a directory root",
                    e.path
                ))
            }
        },
        Some((parent, _)) => match seen.get(parent) {
            Some(Some(EntryType::Dir)) => {}
            Some(_) => {
                return Err(format!(
                    "entry {:?} lies below a non-directory {parent:?}",
                    e.path
                ))
            }
            None => return Err(format!("entry {:?} has no parent directory entry", e.path)),
        },
    }
    if let Some(mode) = e.mode {
        if mode > 0o7777 {
            return Err(format!("entry {:?}: mode {mode} out of range", e.path));
        }
    }
    match e.kind {
        EntryType::File => {
            let sha = e.sha256.as_deref().unwrap_or("");
            if !is_sha256_hex(sha) {
                return Err(format!("file {:?}: sha256 is not 64 hex digits", e.path));
            }
            if e.size.is_none() || e.mode.is_none() {
                return Err(format!("file {:?}: size and mode are required", e.path));
            }
            if e.target.is_some() {
                return Err(format!("file {:?} has a link target", e.path));
            }
        }
        EntryType::Dir => {
            if e.mode.is_none() || e.sha256.is_some() || e.target.is_some() || e.size.is_some() {
                return Err(format!("dir {:?}: needs a mode and nothing else", e.path));
            }
        }
        EntryType::Symlink => match e.target.as_deref() {
            Some(t) if !t.is_empty() && !t.contains('\0') => {
                if e.sha256.is_some() || e.size.is_some() {
                    return Err(format!("symlink {:?} has file content", e.path));
                }
            }
            _ => {
                return Err(format!(
                    "symlink {:?}: target missing, empty or has NUL",
                    e.path
                ))
            }
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let sha = "a".repeat(64);
        Manifest {
            header: Header {
                format: FORMAT.into(),
                id: "20261123T000000Z-00000000".into(),
                created_at: "2026-11-23T00:00:00.000Z".into(),
                created_unix_ms: 1,
                roots: vec![
                    Root {
                        name: "data".into(),
                        kind: "dir".into(),
                        origin: "/x/data".into(),
                    },
                    Root {
                        name: "app.db".into(),
                        kind: "sqlite".into(),
                        origin: "/x/app.db".into(),
                    },
                ],
            },
            entries: vec![
                Entry {
                    path: "data".into(),
                    kind: EntryType::Dir,
                    size: None,
                    mode: Some(0o755),
                    sha256: None,
                    target: None,
                    mtime_ns: None,
                },
                Entry {
                    path: "data/a".into(),
                    kind: EntryType::File,
                    size: Some(1),
                    mode: Some(0o644),
                    sha256: Some(sha.clone()),
                    target: None,
                    mtime_ns: Some(5),
                },
                Entry {
                    path: "data/l".into(),
                    kind: EntryType::Symlink,
                    size: None,
                    mode: None,
                    sha256: None,
                    target: Some("a".into()),
                    mtime_ns: None,
                },
            ],
            databases: vec![Database {
                path: "app.db".into(),
                size: 4096,
                mode: 0o600,
                sha256: sha,
                tables: vec![],
            }],
            skipped: vec![],
            changed: vec![],
        }
    }

    #[test]
    fn round_trip() {
        let mut m = sample();
        m.changed.push(Changed {
            path: "data/a".into(),
            reason: "changed during backup".into(),
        });
        let bytes = m.to_bytes().unwrap();
        assert_eq!(parse(&bytes, "m").unwrap(), m);
    }

    #[test]
    fn edits_and_truncation_are_caught() {
        let bytes = sample().to_bytes().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let edited = text.replace("\"size\":1,", "\"size\":2,");
        let err = parse(edited.as_bytes(), "m").unwrap_err().to_string();
        assert!(err.contains("m:6: manifest digest does not match"), "{err}");
        let cut = &bytes[..bytes.len() - 1];
        assert!(parse(cut, "m")
            .unwrap_err()
            .to_string()
            .contains("no newline"));
        let lines: Vec<&str> = text.lines().collect();
        let no_end = format!("{}\n", lines[..lines.len() - 1].join("\n"));
        assert!(parse(no_end.as_bytes(), "m")
            .unwrap_err()
            .to_string()
            .contains("no end record"));
    }

    fn with_entry(extra: Entry) -> Vec<u8> {
        let mut m = sample();
        m.entries.push(extra);
        m.entries.sort_by(|a, b| a.path.cmp(&b.path));
        m.to_bytes().unwrap()
    }

    #[test]
    fn hostile_paths_are_refused() {
        let file = |p: &str| Entry {
            path: p.into(),
            kind: EntryType::File,
            size: Some(1),
            mode: Some(0o644),
            sha256: Some("b".repeat(64)),
            target: None,
            mtime_ns: None,
        };
        for (bad, why) in [
            ("data/../../etc/passwd", "'..'"),
            ("/etc/passwd", "absolute"),
            ("data/./x", "canonical"),
            ("data/l/x", "below a non-directory"),
            ("data/a/x", "below a non-directory"),
            ("data/nodir/x", "no parent"),
            ("other", "not a directory root"),
        ] {
            let err = parse(&with_entry(file(bad)), "m").unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
        let mut e = file("data/b");
        e.sha256 = Some("../../../etc/passwd".into());
        assert!(parse(&with_entry(e), "m")
            .unwrap_err()
            .to_string()
            .contains("64 hex"));
    }
}
