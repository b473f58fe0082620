//! Snapshot manifests: what a snapshot holds, one JSON record per line.
//!
//! ```text
//! {"kind":"snapshot","format":"backup-drill/1","id":"...","created_at":"...","created_unix_ms":..,"roots":[...]}
//! {"kind":"entry","path":"data/a.txt","type":"file","size":3,"mode":420,"sha256":"..."}
//! {"kind":"entry","path":"data/l","type":"symlink","target":"a.txt"}
//! {"kind":"entry","path":"data/caf\\xe9.txt","path_b64":"ZGF0YS9jYWbpLnR4dA==","type":"file",..}
//! {"kind":"database","path":"app.db","size":..,"mode":..,"sha256":"...","tables":[...]}
//! {"kind":"skipped","path":"data/fifo","type":"fifo","reason":"special file"}
//! {"kind":"changed","path":"data/big.bin","reason":"changed during backup"}
//! {"kind":"end","lines":N,"sha256":"<sha256 of every byte before this line>"}
//! ```
//!
//! Names are bytes: one that is not UTF-8 (or holds a backslash) is written
//! as a printable form in `path` plus its bytes in `path_b64` (a link target
//! in `target` + `target_b64`), see [`crate::name`]. Such a manifest says
//! `backup-drill/2`, so an older build refuses it rather than restore the
//! printable form; every other manifest is still `backup-drill/1`.
//!
//! A manifest read from a repository is untrusted input: [`parse`] refuses
//! anything a restore could be tricked by (`..`, absolute or non-canonical
//! paths, duplicates, entries below a symlink or file, object names that are
//! not sha256 hex), checking a raw name's bytes as it checks a `path`,
//! and the `end` trailer proves the file is complete and
//! unedited. Every error names the manifest and its line.

use std::borrow::Cow;
use std::collections::HashMap;

use common::digest::sha256_hex;
use common::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::name;

pub const FORMAT: &str = "backup-drill/1";
/// The format of a manifest holding a raw name (`path_b64`, `target_b64`).
pub const FORMAT_RAW_NAMES: &str = "backup-drill/2";

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
    /// The name ([`name::display`] of it when `path_b64` is present).
    pub path: String,
    /// The name's bytes (base64) when `path` alone cannot hold them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_b64: Option<String>,
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
    /// The link target's bytes (base64) when `target` cannot hold them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_b64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime_ns: Option<i64>,
}

impl Entry {
    /// An entry named `raw` with nothing else set.
    pub fn new(raw: &[u8], kind: EntryType) -> Entry {
        let (path, path_b64) = name::encode(raw);
        Entry {
            path,
            path_b64,
            kind,
            size: None,
            mode: None,
            sha256: None,
            target: None,
            target_b64: None,
            mtime_ns: None,
        }
    }

    /// The name as bytes.
    pub fn name(&self) -> Cow<'_, [u8]> {
        name::bytes(&self.path, self.path_b64.as_deref())
    }

    /// A link's target as bytes.
    pub fn target_name(&self) -> Option<Cow<'_, [u8]>> {
        let target = self.target.as_deref()?;
        Some(name::bytes(target, self.target_b64.as_deref()))
    }

    /// Sets the link target from its bytes.
    pub fn set_target(&mut self, raw: &[u8]) {
        let (target, target_b64) = name::encode(raw);
        self.target = Some(target);
        self.target_b64 = target_b64;
    }
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_b64: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
}

/// A file that kept changing while it was read (twice): its entry holds
/// the bytes as read, which may mix old and new content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Changed {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_b64: Option<String>,
    pub reason: String,
}

impl Skipped {
    pub fn new(raw: &[u8], kind: &str, reason: &str) -> Skipped {
        let (path, path_b64) = name::encode(raw);
        Skipped {
            path,
            path_b64,
            kind: kind.into(),
            reason: reason.into(),
        }
    }

    pub fn name(&self) -> Cow<'_, [u8]> {
        name::bytes(&self.path, self.path_b64.as_deref())
    }
}

impl Changed {
    pub fn new(raw: &[u8], reason: &str) -> Changed {
        let (path, path_b64) = name::encode(raw);
        Changed {
            path,
            path_b64,
            reason: reason.into(),
        }
    }

    pub fn name(&self) -> Cow<'_, [u8]> {
        name::bytes(&self.path, self.path_b64.as_deref())
    }
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

    /// The format this manifest must say: [`FORMAT_RAW_NAMES`] when it holds
    /// a raw name, which older builds would otherwise read without it.
    pub fn format_needed(&self) -> &'static str {
        let raw = self
            .entries
            .iter()
            .any(|e| e.path_b64.is_some() || e.target_b64.is_some())
            || self.skipped.iter().any(|s| s.path_b64.is_some())
            || self.changed.iter().any(|c| c.path_b64.is_some());
        if raw {
            FORMAT_RAW_NAMES
        } else {
            FORMAT
        }
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

/// The bytes of a path read as `text` (+ `b64`): canonical and relative
/// either way. A raw name needs a version-2 manifest, and in one a plain
/// `path` holds no backslash, so no two names show alike.
fn path_bytes<'a>(
    text: &'a str,
    b64: Option<&str>,
    raw_names: bool,
) -> std::result::Result<Cow<'a, [u8]>, String> {
    let Some(b64) = b64 else {
        check_path(text)?;
        if raw_names && text.contains('\\') {
            return Err(format!(
                "path {text:?} holds a backslash but no path_b64 (needed in {FORMAT_RAW_NAMES})"
            ));
        }
        return Ok(Cow::Borrowed(text.as_bytes()));
    };
    if !raw_names {
        return Err(format!(
            "path_b64 needs format {FORMAT_RAW_NAMES} (older builds would restore {text:?} without it)"
        ));
    }
    let raw = name::from_b64(b64, "path")?;
    name::check_relative(&raw).map_err(|e| format!("path_b64: {e}"))?;
    name::check_raw(text, &raw, "path")?;
    Ok(Cow::Owned(raw))
}

/// Parses and validates a manifest. `name` is used in error messages.
pub fn parse(bytes: &[u8], name: &str) -> Result<Manifest> {
    let mut header: Option<Header> = None;
    let mut entries = Vec::new();
    let mut databases = Vec::new();
    let mut skipped = Vec::new();
    let mut changed = Vec::new();
    // name -> type, for the tree checks; databases count as files.
    let mut seen: HashMap<Vec<u8>, Option<EntryType>> = HashMap::new();
    let mut roots: HashMap<String, String> = HashMap::new();
    let mut last_path: Option<Vec<u8>> = None;
    let mut raw_names = false;
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
                if h.format != FORMAT && h.format != FORMAT_RAW_NAMES {
                    return Err(at(format!(
                        "unknown manifest format {:?} (this build reads {FORMAT} and {FORMAT_RAW_NAMES})",
                        h.format
                    )));
                }
                raw_names = h.format == FORMAT_RAW_NAMES;
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
                let path = validate_entry(&e, raw_names, &roots, &seen).map_err(&at)?;
                if let Some(prev) = &last_path {
                    if path.as_ref() <= prev.as_slice() {
                        return Err(at(format!(
                            "entry {:?} is out of order or duplicated (after {:?})",
                            e.path,
                            name::display(prev)
                        )));
                    }
                }
                if !databases.is_empty() || !skipped.is_empty() {
                    return Err(at("entry after database or skipped records".into()));
                }
                let path = path.into_owned();
                last_path = Some(path.clone());
                seen.insert(path, Some(e.kind));
                entries.push(e);
            }
            Line::Database(d) => {
                check_path(&d.path).map_err(&at)?;
                if roots.get(&d.path).map(String::as_str) != Some("sqlite") {
                    return Err(at(format!("database {:?} is not a sqlite root", d.path)));
                }
                if seen.insert(d.path.as_bytes().to_vec(), None).is_some() {
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
                path_bytes(&s.path, s.path_b64.as_deref(), raw_names).map_err(&at)?;
                if !changed.is_empty() {
                    return Err(at("skipped record after changed records".into()));
                }
                skipped.push(s);
            }
            Line::Changed(c) => {
                let path = path_bytes(&c.path, c.path_b64.as_deref(), raw_names).map_err(&at)?;
                if seen.get(path.as_ref()) != Some(&Some(EntryType::File)) {
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
        let present = seen.get(root.as_bytes());
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

/// Checks one entry against the tree so far; returns its name's bytes.
fn validate_entry<'a>(
    e: &'a Entry,
    raw_names: bool,
    roots: &HashMap<String, String>,
    seen: &HashMap<Vec<u8>, Option<EntryType>>,
) -> std::result::Result<Cow<'a, [u8]>, String> {
    let path = path_bytes(&e.path, e.path_b64.as_deref(), raw_names)?;
    match name::parent(&path) {
        None => match std::str::from_utf8(&path).ok().and_then(|p| roots.get(p)) {
            Some(kind) if matches!(kind.as_str(), "dir" | "hook") && e.kind == EntryType::Dir => {}
            _ => {
                return Err(format!(
                    "top-level entry {:?} is not a directory root",
                    e.path
                ))
            }
        },
        Some(parent) => match seen.get(parent) {
            Some(Some(EntryType::Dir)) => {}
            Some(_) => {
                return Err(format!(
                    "entry {:?} lies below a non-directory {:?}",
                    e.path,
                    name::display(parent)
                ))
            }
            None => return Err(format!("entry {:?} has no parent directory entry", e.path)),
        },
    }
    if e.kind != EntryType::Symlink && e.target_b64.is_some() {
        return Err(format!("{} {:?} has a link target", e.kind.name(), e.path));
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
        EntryType::Symlink => {
            check_target(e, raw_names)?;
            if e.sha256.is_some() || e.size.is_some() {
                return Err(format!("symlink {:?} has file content", e.path));
            }
        }
    }
    Ok(path)
}

/// A link target: not empty, no NUL; raw bytes checked as a raw path is.
fn check_target(e: &Entry, raw_names: bool) -> std::result::Result<(), String> {
    let Some(text) = e.target.as_deref() else {
        return Err(format!("symlink {:?}: target missing", e.path));
    };
    let Some(b64) = e.target_b64.as_deref() else {
        if text.is_empty() || text.contains('\0') {
            return Err(format!("symlink {:?}: target empty or has NUL", e.path));
        }
        if raw_names && text.contains('\\') {
            return Err(format!(
                "symlink {:?}: target holds a backslash but no target_b64",
                e.path
            ));
        }
        return Ok(());
    };
    if !raw_names {
        return Err(format!(
            "symlink {:?}: target_b64 needs format {FORMAT_RAW_NAMES}",
            e.path
        ));
    }
    let raw = name::from_b64(b64, "target")?;
    if raw.is_empty() || raw.contains(&0) {
        return Err(format!(
            "symlink {:?}: target_b64: link target has NUL or is empty",
            e.path
        ));
    }
    name::check_raw(text, &raw, "target")
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
                    path_b64: None,
                    kind: EntryType::Dir,
                    size: None,
                    mode: Some(0o755),
                    sha256: None,
                    target: None,
                    target_b64: None,
                    mtime_ns: None,
                },
                Entry {
                    path: "data/a".into(),
                    path_b64: None,
                    kind: EntryType::File,
                    size: Some(1),
                    mode: Some(0o644),
                    sha256: Some(sha.clone()),
                    target: None,
                    target_b64: None,
                    mtime_ns: Some(5),
                },
                Entry {
                    path: "data/l".into(),
                    path_b64: None,
                    kind: EntryType::Symlink,
                    size: None,
                    mode: None,
                    sha256: None,
                    target: Some("a".into()),
                    target_b64: None,
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
        m.changed
            .push(Changed::new(b"data/a", "changed during backup"));
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
        m.entries.sort_by(|a, b| a.name().cmp(&b.name()));
        m.to_bytes().unwrap()
    }

    #[test]
    fn hostile_paths_are_refused() {
        let file = |p: &str| Entry {
            path: p.into(),
            path_b64: None,
            kind: EntryType::File,
            size: Some(1),
            mode: Some(0o644),
            sha256: Some("b".repeat(64)),
            target: None,
            target_b64: None,
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

    #[test]
    fn raw_names_round_trip_in_a_version_2_manifest() {
        let mut m = sample();
        let mut dir = Entry::new(b"data/Kundenvertr\xe4ge", EntryType::Dir);
        dir.mode = Some(0o755);
        let mut file = Entry::new(b"data/Kundenvertr\xe4ge/M\xfcller.pdf", EntryType::File);
        file.size = Some(1);
        file.mode = Some(0o600);
        file.sha256 = Some("c".repeat(64));
        let mut link = Entry::new(b"data/l\xe9", EntryType::Symlink);
        link.set_target(b"Kundenvertr\xe4ge/M\xfcller.pdf");
        m.entries.extend([dir, file, link]);
        m.entries.sort_by(|a, b| a.name().cmp(&b.name()));
        m.changed.push(Changed::new(
            b"data/Kundenvertr\xe4ge/M\xfcller.pdf",
            "changed during backup",
        ));
        m.skipped
            .push(Skipped::new(b"data/p\xff", "fifo", "special file"));
        assert_eq!(m.format_needed(), FORMAT_RAW_NAMES);
        // Written as version 1, older builds would read the names as shown.
        let err = parse(&m.to_bytes().unwrap(), "m").unwrap_err().to_string();
        assert!(
            err.contains("path_b64 needs format backup-drill/2"),
            "{err}"
        );
        m.header.format = FORMAT_RAW_NAMES.into();
        let bytes = m.to_bytes().unwrap();
        let back = parse(&bytes, "m").unwrap();
        assert_eq!(back, m);
        let names: Vec<Vec<u8>> = back.entries.iter().map(|e| e.name().into_owned()).collect();
        assert_eq!(
            names,
            [
                &b"data"[..],
                b"data/Kundenvertr\xe4ge",
                b"data/Kundenvertr\xe4ge/M\xfcller.pdf",
                b"data/a",
                b"data/l",
                b"data/l\xe9"
            ]
        );
        assert_eq!(
            back.entries[5].target_name().unwrap().as_ref(),
            b"Kundenvertr\xe4ge/M\xfcller.pdf"
        );
        assert_eq!(
            back.entries[5].target.as_deref(),
            Some("Kundenvertr\\xe4ge/M\\xfcller.pdf")
        );
        assert!(std::str::from_utf8(&bytes).is_ok());
        assert_eq!(sample().format_needed(), FORMAT);
    }
}
