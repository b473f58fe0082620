//! Finding gate summaries in every file of a bundle, whatever its name.
//!
//! A failing gate's output does not always end up in a `*.jsonl` file: a
//! Makefile's `cmd > $@.tmp && mv $@.tmp $@` leaves `sbom.jsonl.tmp` exactly
//! when the gate fails; logrotate leaves `.1` and gzipped `.2`; PowerShell
//! writes UTF-16; a CI log prefixes lines with time stamps. So `seal` looks
//! inside every file, by content, not by name:
//!
//! 1. One read per file ([`hash_and_scan`]) hashes it and searches it. Its
//!    first bytes say what it is: gzip is decoded, a UTF-16 byte-order
//!    mark decoded, a tar's members searched each, compressors we cannot
//!    read refused. In plain text, each block is searched for the needles
//!    of [`text_needles`] (memchr's SIMD search, so hashing stays the cost)
//!    and only the lines they fall in are looked at ([`LineScan`]).
//! 2. On such a line, each `"kind":"summary"` (or `\"kind\":\"summary\"`,
//!    escaped) and each `"verdict"` of pass or fail must belong to a JSON
//!    value on its line (the whole line, one starting at a `{` after a
//!    prefix such as a time stamp or a tar header, or a JSON string such as
//!    logfmt's `msg="..."`). Every summary record of ours (`kind: summary`
//!    with a `verdict` or `gates`), and every gate result that lost its
//!    `kind` (a jq digest), in such a value is found, however deep: at its
//!    top, nested inside another record (an audit receipt), or JSON-escaped
//!    inside a string at any depth (Docker's json-file log driver stores
//!    each line as `{"log":"..."}`). A wrapper must not hide a failing gate.
//!    Our tools' summaries in text form and YAML are read by [`TextSummary`].
//! 3. If some occurrence belongs to no value on its line (pretty-printed
//!    JSON), a file of up to [`MAX_WHOLE`] bytes is read as a stream of
//!    JSON values instead. What still cannot be read is
//!    [`Found::Unreadable`], which fails the release: a failing gate could
//!    hide there. A record of ours that is JSON but not a valid summary
//!    (no gates array: a crashed tool) is [`Found::Malformed`], and stops
//!    the seal, as it does in a gate file.

use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::OnceLock;

use common::gate::{Gate, Verdict};
use common::input::Input;
use common::{Error, Result};
use memchr::memmem::Finder;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::manifest::{is_jsonl, StrayRef};
use crate::strict_json::StrictValue;
use crate::utf16::{self, Utf16ToUtf8};
use crate::walk::{open_regular, Entry};

/// The word searched for; a mark is this word closed by `"` or `\`.
const WORD: &[u8] = b"summary";

/// Lines longer than this are not parsed (a summary record is small); a
/// `"summary"` inside one is reported as unreadable.
pub const MAX_LINE: usize = common::lines::DEFAULT_MAX_LINE;

/// A file whose lines leave a summary unaccounted for is read whole, as a
/// stream of JSON values, up to this size (decompressed).
pub const MAX_WHOLE: u64 = 64 << 20;

/// Give up looking for the start of a value after this many `{` on a line.
const MAX_STARTS: usize = 256;

/// JSON strings inside JSON strings are unwrapped this many times; a mark
/// deeper than that is reported as unreadable.
const MAX_QUOTE_DEPTH: usize = 16;

fn finder() -> &'static Finder<'static> {
    static F: OnceLock<Finder<'static>> = OnceLock::new();
    F.get_or_init(|| Finder::new(WORD))
}

/// Built once: `memmem::find` builds a searcher per call, which showed in
/// profiles of logs where every line and string is searched.
fn verdict_finder() -> &'static Finder<'static> {
    static F: OnceLock<Finder<'static>> = OnceLock::new();
    F.get_or_init(|| Finder::new(b"verdict"))
}

fn kind_rfinder() -> &'static memchr::memmem::FinderRev<'static> {
    static F: OnceLock<memchr::memmem::FinderRev<'static>> = OnceLock::new();
    F.get_or_init(|| memchr::memmem::FinderRev::new(b"kind"))
}

/// Whether `bytes` holds `summary` closed as a quoted word: by `"`, `\`
/// (escaped JSON), `&` (`&quot;`, HTML or XML) or `'` (Python's repr);
/// only where the byte after the word is in `bytes`.
fn has_marker(bytes: &[u8]) -> bool {
    finder().find_iter(bytes).any(|at| {
        matches!(
            bytes.get(at + WORD.len()),
            Some(b'"' | b'\\' | b'&' | b'\'')
        )
    })
}

/// [`has_marker`] over a sequence of blocks, seams included.
#[derive(Debug, Default)]
struct MarkSearch {
    /// The last bytes seen, up to the word's length.
    tail: Vec<u8>,
    found: bool,
}

impl MarkSearch {
    fn update(&mut self, block: &[u8]) {
        if self.found || block.is_empty() {
            return;
        }
        // A mark that starts in the previous block ends within the first
        // WORD.len() bytes of this one (its closing byte included).
        let mut seam = std::mem::take(&mut self.tail);
        seam.extend_from_slice(&block[..block.len().min(WORD.len())]);
        if has_marker(&seam) || has_marker(block) {
            self.found = true;
            return;
        }
        let keep = if block.len() >= WORD.len() {
            &block[block.len() - WORD.len()..]
        } else {
            &seam[seam.len().saturating_sub(WORD.len())..]
        };
        self.tail = keep.to_vec();
    }
}

/// Archives [`opaque_format`] names: what they are is said differently.
const ARCHIVES: [&str; 3] = ["zip", "7z", "rar"];

/// What an opaque format is, after `is` (the file) or, with `data`,
/// after `holds` (something inside it): `xz-compressed`, `a zip archive`.
pub fn opaque_phrase(format: &str, data: bool) -> String {
    match (ARCHIVES.contains(&format), data) {
        (true, _) => format!("a {format} archive"),
        (false, true) => format!("{format}-compressed data"),
        (false, false) => format!("{format}-compressed"),
    }
}

/// Compressed formats and archives we cannot look into: a gate's output
/// in one of these would pass unseen, so `seal` refuses them (a CI
/// artifact download is a zip).
fn opaque_format(head: &[u8]) -> Option<&'static str> {
    const BZIP2_BLOCK: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
    const BZIP2_END: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some("zip")
    } else if head.starts_with(&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c]) {
        Some("7z")
    } else if head.starts_with(b"Rar!\x1a\x07") {
        Some("rar")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some("xz")
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd")
    } else if head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..10] == BZIP2_BLOCK || head[4..10] == BZIP2_END)
    {
        Some("bzip2")
    } else if head.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
        Some("lz4")
    } else if head.starts_with(b"LZIP") {
        Some("lzip")
    } else if head.starts_with(&[0x1f, 0x9d]) {
        Some("compress (.Z)")
    } else {
        None
    }
}

/// A tar header's `ustar` magic (POSIX and GNU) is at offset 257.
const TAR_MAGIC_AT: usize = 257;
const HEAD: usize = TAR_MAGIC_AT + 5;

fn is_tar(head: &[u8]) -> bool {
    head.get(TAR_MAGIC_AT..HEAD) == Some(b"ustar")
}

/// Where a summary record was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The whole of its line: what a gate file's reader reads.
    Line,
    /// At the top of a value on its line that is not the whole line: after
    /// a prefix (a time stamp), an element of a top-level array (`jq -s`),
    /// one of several values.
    Inline,
    /// Inside another record, or JSON-escaped inside a string (a log
    /// wrapper such as Docker's `{"log":"..."}`, an audit receipt).
    Quoted,
}

/// A summary record of ours (or what looks like one) found by the search.
#[derive(Clone, Debug, PartialEq)]
pub enum Found {
    Summary {
        line: u64,
        tool: String,
        /// The record's own verdict, re-judged from its gates: pass only
        /// when it says pass, was not interrupted, and every gate holds.
        pass: bool,
        /// sha256 of the record's canonical JSON, to recognise a copy of a
        /// gate file's summary (a CI log that echoed it).
        canonical_sha256: String,
        place: Place,
    },
    /// `"kind":"summary"` in text that could not be read as JSON.
    Unreadable { line: u64, reason: String },
    /// A record of ours that is not a valid summary (no gates array, a
    /// missing verdict, ...): the seal stops, as for one in a gate file.
    Malformed {
        line: u64,
        reason: String,
        place: Place,
    },
    /// `verdict: fail` of a tool's `--format text` output (see
    /// [`TextSummary`]).
    TextFail { line: u64 },
    /// A gate result without `kind` (a digest such as `jq -c '{verdict,
    /// gates}'` writes; see [`is_digest`]): `pass` as for a summary.
    Digest {
        line: u64,
        tool: Option<String>,
        pass: bool,
        place: Place,
    },
}

impl Found {
    pub fn line(&self) -> u64 {
        match self {
            Found::Summary { line, .. }
            | Found::Unreadable { line, .. }
            | Found::Malformed { line, .. }
            | Found::TextFail { line }
            | Found::Digest { line, .. } => *line,
        }
    }
}

/// The fields a summary's verdict depends on.
#[derive(Deserialize)]
struct SummaryFields {
    tool: String,
    verdict: Verdict,
    #[serde(default)]
    interrupted: bool,
    gates: Vec<Gate>,
}

/// A summary record of ours: an object with `kind: summary` and a
/// `verdict` or `gates` (an app's own `kind: summary` objects, with
/// neither, are not gate results). Whether it is a valid one is judged
/// after: a crashed tool's `{"kind":"summary","verdict":"fail"}` is ours.
fn is_ours(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("summary")
        && (v.get("verdict").is_some() || v.get("gates").is_some())
}

fn judge(line: u64, v: &Value, place: Place) -> Found {
    match SummaryFields::deserialize(v) {
        Err(e) => Found::Malformed {
            line,
            reason: e.to_string(),
            place,
        },
        Ok(s) => {
            let gates_hold = s
                .gates
                .iter()
                .all(|g| g.pass && Gate::check(g.name.clone(), g.op, g.limit, g.value).pass);
            Found::Summary {
                line,
                tool: s.tool,
                pass: s.verdict.is_pass() && !s.interrupted && gates_hold,
                canonical_sha256: crate::canonical::sha256(v),
                place,
            }
        }
    }
}

/// A gate result that lost its `kind` (`jq -c '{tool, verdict, gates}'`,
/// a `results.json` of such digests): an object with no `kind`, a
/// `verdict` of pass or fail (any case), and `gates` or `tool`. An app's
/// `{"verdict":"fail"}` alone is none.
fn is_digest(v: &Value) -> bool {
    let Some(map) = v.as_object() else {
        return false;
    };
    let verdict = map.get("verdict").and_then(Value::as_str);
    !map.contains_key("kind")
        && verdict.is_some_and(|t| t.eq_ignore_ascii_case("pass") || t.eq_ignore_ascii_case("fail"))
        && (map.contains_key("gates") || map.contains_key("tool"))
}

/// A digest's verdict, re-judged from its gates when it has them; gates it
/// has but that cannot be read make a passing digest malformed (it cannot
/// be classified), while a failing one fails whatever they hold.
fn judge_digest(line: u64, v: &Value, place: Place) -> Found {
    let says_pass = v
        .get("verdict")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("pass"));
    let tool = v.get("tool").and_then(Value::as_str).map(str::to_string);
    let interrupted = v.get("interrupted") == Some(&Value::Bool(true));
    let gates_hold = match v.get("gates") {
        None => Ok(true),
        Some(g) => Vec::<Gate>::deserialize(g).map(|gates| {
            gates
                .iter()
                .all(|g| g.pass && Gate::check(g.name.clone(), g.op, g.limit, g.value).pass)
        }),
    };
    match gates_hold {
        Err(e) if says_pass => Found::Malformed {
            line,
            reason: format!("a gate result without \"kind\" whose gates cannot be read: {e}"),
            place,
        },
        Err(_) => Found::Digest {
            line,
            tool,
            pass: false,
            place,
        },
        Ok(hold) => Found::Digest {
            line,
            tool,
            pass: says_pass && hold && !interrupted,
            place,
        },
    }
}

/// Every summary record of ours in one JSON value found on `line`: the
/// value itself (at `place`), anything nested in it, and anything in its
/// strings that are themselves JSON text (`depth` strings deep already).
fn collect(line: u64, v: &Value, place: Place, depth: usize, out: &mut Vec<Found>) {
    match v {
        Value::Object(map) => {
            if is_ours(v) {
                out.push(judge(line, v, place));
            } else if is_digest(v) {
                out.push(judge_digest(line, v, place));
            }
            for child in map.values() {
                collect(line, child, Place::Quoted, depth, out);
            }
        }
        Value::Array(items) => {
            let inner = if place == Place::Quoted {
                Place::Quoted
            } else {
                Place::Inline
            };
            for item in items {
                collect(line, item, inner, depth, out);
            }
        }
        // Both kinds of mark need the word: most strings are ruled out by
        // one search.
        Value::String(text)
            if (finder().find(text.as_bytes()).is_some()
                && (!kind_marks(text.as_bytes()).is_empty()
                    || loose_marks(text.as_bytes()) > 0))
                || !verdict_marks(text.as_bytes()).is_empty() =>
        {
            if depth >= MAX_QUOTE_DEPTH {
                out.push(Found::Unreadable {
                    line,
                    reason: format!(
                        "\"kind\":\"summary\" in JSON strings nested more than {MAX_QUOTE_DEPTH} deep"
                    ),
                });
                return;
            }
            // Docker's `{"log":"<line>\n"}`: the text is one JSON value.
            if let Ok(StrictValue(inner)) =
                serde_json::from_slice::<StrictValue>(trim(text.as_bytes()))
            {
                collect(line, &inner, Place::Quoted, depth + 1, out);
                return;
            }
            for part in text.split('\n') {
                if scan_line(line, part.as_bytes(), depth + 1, out).is_err() {
                    out.push(Found::Unreadable {
                        line,
                        reason:
                            "\"kind\":\"summary\" in a JSON string, outside any JSON value in it"
                                .into(),
                    });
                }
            }
        }
        _ => {}
    }
}

/// Positions in `line` where `summary` is the value of a `kind` key, as
/// JSON writes it (`"kind":"summary"`, whitespace allowed around the colon)
/// or escaped inside a JSON string (`\"kind\":\"summary\"`, at any depth).
fn kind_marks(line: &[u8]) -> Vec<usize> {
    let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    // Backslashes before `line[i]`.
    let slashes = |mut i: usize| {
        let mut n = 0;
        while i > 0 && line[i - 1] == b'\\' {
            i -= 1;
            n += 1;
        }
        n
    };
    finder()
        .find_iter(line)
        .filter(|&at| {
            // `summary` quoted, with as many backslashes on both sides.
            let mut j = at + WORD.len();
            let mut after = 0;
            while line.get(j) == Some(&b'\\') {
                j += 1;
                after += 1;
            }
            if line.get(j) != Some(&b'"') || at == 0 || line[at - 1] != b'"' {
                return false;
            }
            let escapes = slashes(at - 1);
            if escapes != after {
                return false;
            }
            let mut i = at - 1 - escapes;
            while i > 0 && ws(line[i - 1]) {
                i -= 1;
            }
            if i == 0 || line[i - 1] != b':' {
                return false;
            }
            i -= 1;
            while i > 0 && ws(line[i - 1]) {
                i -= 1;
            }
            // `kind` quoted the same way.
            if i == 0 || line[i - 1] != b'"' || slashes(i - 1) != escapes {
                return false;
            }
            let i = i - 1 - escapes;
            i >= 5 && &line[i - 5..i] == b"\"kind" && slashes(i - 5) == escapes
        })
        .collect()
}

/// Positions in `line` where `verdict` is a key whose value is `pass` or
/// `fail` (any case), as JSON writes it or escaped inside a JSON string
/// (as many backslashes before every quote): where a gate result without
/// `kind` may be (see [`is_digest`]).
fn verdict_marks(line: &[u8]) -> Vec<usize> {
    const KEY: &[u8] = b"verdict";
    let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let slashes = |mut i: usize| {
        let mut n = 0;
        while i > 0 && line[i - 1] == b'\\' {
            i -= 1;
            n += 1;
        }
        n
    };
    // `"` after exactly `escapes` backslashes from `j`: the index after it.
    let quote_at = |mut j: usize, escapes: usize| {
        for _ in 0..escapes {
            if line.get(j) != Some(&b'\\') {
                return None;
            }
            j += 1;
        }
        (line.get(j) == Some(&b'"')).then_some(j + 1)
    };
    verdict_finder()
        .find_iter(line)
        .filter(|&at| {
            if at == 0 || line[at - 1] != b'"' {
                return false;
            }
            let escapes = slashes(at - 1);
            let Some(mut j) = quote_at(at + KEY.len(), escapes) else {
                return false;
            };
            while line.get(j).is_some_and(|&b| ws(b)) {
                j += 1;
            }
            if line.get(j) != Some(&b':') {
                return false;
            }
            j += 1;
            while line.get(j).is_some_and(|&b| ws(b)) {
                j += 1;
            }
            // The value's opening quote, escaped as the key's.
            let Some(v) = quote_at(j, escapes) else {
                return false;
            };
            let word = line.get(v..v + 4).unwrap_or_default();
            (word.eq_ignore_ascii_case(b"pass") || word.eq_ignore_ascii_case(b"fail"))
                && quote_at(v + 4, escapes).is_some()
        })
        .collect()
}

/// Quote entities of HTML and XML: between `kind` and `summary` they are
/// quoting, and [`decode_entities`] turns them back.
const ENTITIES: [(&[u8], u8); 9] = [
    (b"&quot;", b'"'),
    (b"&#34;", b'"'),
    (b"&#x22;", b'"'),
    (b"&apos;", b'\''),
    (b"&#39;", b'\''),
    (b"&#x27;", b'\''),
    (b"&lt;", b'<'),
    (b"&gt;", b'>'),
    (b"&amp;", b'&'),
];

/// How many times `kind` is followed by `summary` with nothing but quoting
/// between them (quotes, backslashes, quote entities, `:` or `=`, blanks;
/// a quote at least: `kind: summary` in prose or YAML is no record),
/// on a line that also says `verdict`: a summary record however it is
/// written, JSON or not (HTML- or XML-escaped, CSV-quoted, Python's repr).
/// More of these than [`kind_marks`] means one is in a form JSON does not
/// read: [`scan_line`] decodes it, or reports it.
fn loose_marks(line: &[u8]) -> usize {
    if finder().find(line).is_none() || verdict_finder().find(line).is_none() {
        return 0;
    }
    finder()
        .find_iter(line)
        .filter(|&at| {
            let before = &line[at.saturating_sub(40)..at];
            let Some(k) = kind_rfinder().rfind(before) else {
                return false;
            };
            let raw = &before[k + 4..];
            let mut quoted = raw.iter().any(|b| matches!(b, b'"' | b'\''));
            // Entities only where there is an `&`: most gaps have none, and
            // this runs for every `summary` of a line that says verdict.
            let mut gap = std::borrow::Cow::Borrowed(raw);
            if memchr::memchr(b'&', raw).is_some() {
                let owned = gap.to_mut();
                for (entity, _) in ENTITIES {
                    while let Some(i) = memchr::memmem::find(owned, entity) {
                        owned.drain(i..i + entity.len());
                        quoted = true;
                    }
                }
            }
            quoted
                && gap.iter().any(|b| matches!(b, b':' | b'='))
                && gap
                    .iter()
                    .all(|b| matches!(b, b'"' | b'\'' | b'\\' | b':' | b'=' | b' ' | b'\t'))
        })
        .count()
}

/// `line` with HTML/XML entities decoded (a JSON record in an XML report's
/// attribute or an HTML page), or `None` when it has none.
fn decode_entities(line: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    let mut changed = false;
    'bytes: while i < line.len() {
        if line[i] == b'&' {
            for (entity, byte) in ENTITIES {
                if line[i..].starts_with(entity) {
                    out.push(byte);
                    i += entity.len();
                    changed = true;
                    continue 'bytes;
                }
            }
        }
        out.push(line[i]);
        i += 1;
    }
    changed.then_some(out)
}

/// `line` with CSV's doubled quotes undone (a JSON record in a quoted
/// cell), or `None` when it has none.
fn undouble_quotes(line: &[u8]) -> Option<Vec<u8>> {
    memchr::memmem::find(line, b"\"\"")?;
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        out.push(line[i]);
        i += if line[i] == b'"' && line.get(i + 1) == Some(&b'"') {
            2
        } else {
            1
        };
    }
    Some(out)
}

/// Strips a UTF-8 BOM (also a decoded UTF-16 one) and surrounding whitespace.
fn trim(line: &[u8]) -> &[u8] {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let start = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &line[start..end]
}

/// The summaries on one line; `Err(at)` names an occurrence that belongs
/// to no JSON value on the line. `depth` > 0: the line is the text of a
/// JSON string, so whatever is found in it is quoted.
fn scan_line(
    number: u64,
    line: &[u8],
    depth: usize,
    out: &mut Vec<Found>,
) -> std::result::Result<(), usize> {
    let kinds = kind_marks(line);
    if loose_marks(line) > kinds.len() {
        return scan_decoded(number, line, depth, out);
    }
    let mut marks = kinds;
    if verdict_finder().find(line).is_some() {
        marks.extend(verdict_marks(line));
        marks.sort_unstable();
    }
    if marks.is_empty() {
        return Ok(());
    }
    let (whole, inline) = if depth == 0 {
        (Place::Line, Place::Inline)
    } else {
        (Place::Quoted, Place::Quoted)
    };
    if let Ok(StrictValue(v)) = serde_json::from_slice::<StrictValue>(trim(line)) {
        collect(number, &v, whole, depth, out);
        return Ok(());
    }
    // Not one JSON value: a prefix (time stamp, tar header) or several
    // values. Each occurrence must lie inside a value that starts at a `{`,
    // or inside a JSON string that holds it escaped (logfmt's msg="...").
    let mut covered_to = 0usize;
    for &at in &marks {
        if at < covered_to {
            continue;
        }
        let mut found = false;
        for start in memchr::memchr_iter(b'{', &line[covered_to..at])
            .map(|i| i + covered_to)
            .take(MAX_STARTS)
        {
            let mut values =
                serde_json::Deserializer::from_slice(&line[start..]).into_iter::<StrictValue>();
            if let Some(Ok(StrictValue(v))) = values.next() {
                let end = start + values.byte_offset();
                if end > at {
                    collect(number, &v, inline, depth, out);
                    covered_to = end;
                    found = true;
                    break;
                }
            }
        }
        if !found {
            for start in memchr::memchr_iter(b'"', &line[covered_to..at])
                .map(|i| i + covered_to)
                .take(MAX_STARTS)
            {
                let mut strings =
                    serde_json::Deserializer::from_slice(&line[start..]).into_iter::<String>();
                if let Some(Ok(text)) = strings.next() {
                    let end = start + strings.byte_offset();
                    // The string must hold the mark, not be the bare
                    // `"summary"` of an unreadable record.
                    if end > at
                        && !(kind_marks(text.as_bytes()).is_empty()
                            && verdict_marks(text.as_bytes()).is_empty())
                    {
                        collect(number, &Value::String(text), Place::Quoted, depth, out);
                        covered_to = end;
                        found = true;
                        break;
                    }
                }
            }
        }
        if !found {
            return Err(at);
        }
    }
    Ok(())
}

/// A line holding a summary record in a form JSON does not read: decoded
/// (HTML/XML entities, CSV's doubled quotes) and searched again, what is
/// found counting as quoted; `Err` when no decoding reads it (Python's
/// repr, YAML): reported as unreadable, never passed.
fn scan_decoded(
    number: u64,
    line: &[u8],
    depth: usize,
    out: &mut Vec<Found>,
) -> std::result::Result<(), usize> {
    let at = finder().find(line).unwrap_or(0);
    if depth >= MAX_QUOTE_DEPTH {
        return Err(at);
    }
    for decoded in [decode_entities(line), undouble_quotes(line)]
        .into_iter()
        .flatten()
    {
        let mut found = Vec::new();
        if !kind_marks(&decoded).is_empty()
            && scan_line(number, &decoded, depth + 1, &mut found).is_ok()
        {
            out.extend(found);
            return Ok(());
        }
    }
    Err(at)
}

/// Opens `path` decompressed (gzip, by magic bytes) and decoded (UTF-16,
/// by byte-order mark), hashing the raw bytes as they are read.
fn open_text(
    path: &Path,
    name: &str,
) -> Result<(Box<dyn BufRead + Send>, common::input::InputDigest)> {
    let input = Input::from_reader(
        name,
        Some(path.to_path_buf()),
        Box::new(open_regular(path)?),
    )?;
    let (_, mut reader, digest) = input.into_parts();
    let head = reader.fill_buf().map_err(|e| read_error(name, e))?;
    let reader: Box<dyn BufRead + Send> = match utf16::bom(head) {
        Some(endian) => Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            Utf16ToUtf8::new(reader, endian),
        )),
        None => reader,
    };
    Ok((reader, digest))
}

fn read_error(name: &str, e: std::io::Error) -> Error {
    Error::io(name, e).with_hint(
        "a file seal cannot read to its end cannot be searched for gate summaries; fix or remove it",
    )
}

/// A summary (or an unreadable one) and the tar member it is in, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Located {
    /// `member` or `member(inner member)` when the file is a tar archive.
    pub member: Option<String>,
    pub found: Found,
}

/// Layers of gzip and tar undone inside a file before giving up: logrotate
/// over a glob that holds `.gz` files gives `app.log.1.gz.gz`; a tar of
/// rotated logs holds `.gz` members.
const MAX_LAYERS: usize = 3;

/// What the seal's one read of a file learned: its sha256 and size, and
/// every summary record (and every unreadable one) in it.
#[derive(Debug)]
pub struct Scanned {
    pub sha256: String,
    pub size: u64,
    /// A compressor or archive whose content cannot be searched (named):
    /// not searched; the seal refuses the file.
    pub opaque: Option<&'static str>,
    pub found: Vec<Located>,
    /// Some summary in the file's own text could not be read on its line
    /// (pretty-printed JSON): the file is to be read whole.
    pub read_whole: bool,
}

/// Hashes what passes through it: gzip, UTF-16 and tar are searched from
/// the same read that hashes the raw bytes.
struct Hashing<R> {
    inner: R,
    sha: Sha256,
    size: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Checked per read, so Ctrl-C stops a many-gigabyte file promptly.
        if common::interrupt::requested() {
            return Err(std::io::Error::other("interrupted"));
        }
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

/// Reads into `buf`, retrying on EINTR; 0 at the end.
fn read_block(file: &mut std::fs::File, buf: &mut [u8], name: &str) -> Result<usize> {
    loop {
        if common::interrupt::requested() {
            return Err(Error::new(format!("{name}: interrupted")));
        }
        match file.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(name, e)),
        }
    }
}

/// Hashes a file and searches it for summary records in the same read
/// (`buf`, at least [`HEAD`] bytes, is reused between files). Plain text,
/// the common case, is hashed block by block and its lines searched where
/// a needle of [`text_needles`] falls; gzip is decoded (and gzip in it, up
/// to [`MAX_LAYERS`] deep), UTF-16 decoded, a tar's members searched each,
/// from a reader that hashes the raw bytes as they pass. A compressor or
/// archive seal cannot read is only hashed, and named.
pub fn hash_and_scan(path: &Path, buf: &mut [u8]) -> Result<Scanned> {
    let name = path.display().to_string();
    let mut file = open_regular(path)?;
    // The first bytes say what the file is.
    let mut filled = 0;
    while filled < HEAD {
        match read_block(&mut file, &mut buf[filled..], &name)? {
            0 => break,
            n => filled += n,
        }
    }
    let head = &buf[..filled.min(HEAD)];
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let opaque = if gzip { None } else { opaque_format(head) };
    if gzip || is_tar(head) || utf16::bom(head).is_some() {
        let hashing = Hashing {
            inner: std::io::Cursor::new(buf[..filled].to_vec()).chain(file),
            sha: Sha256::new(),
            size: 0,
        };
        let mut reader = std::io::BufReader::with_capacity(1 << 20, hashing);
        let mut found = Vec::new();
        let read_whole = scan_layers(&mut reader, &name, None, 0, &mut found)?;
        // The digest covers the raw bytes: read what a tar's end or a gzip
        // stream's trailer left over.
        std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| read_error(&name, e))?;
        let hashing = reader.into_inner();
        return Ok(Scanned {
            sha256: hex::encode(hashing.sha.finalize()),
            size: hashing.size,
            opaque: None,
            found,
            read_whole,
        });
    }
    let mut sha = Sha256::new();
    let mut size = 0u64;
    let mut lines = opaque.is_none().then(LineScan::default);
    let mut len = filled;
    while len > 0 {
        let block = &buf[..len];
        sha.update(block);
        size += len as u64;
        if let Some(lines) = lines.as_mut() {
            lines.feed(block);
        }
        len = read_block(&mut file, buf, &name)?;
    }
    let (found, unreadable) = lines.map(LineScan::finish).unwrap_or_default();
    let read_whole = !unreadable.is_empty();
    Ok(Scanned {
        sha256: hex::encode(sha.finalize()),
        size,
        opaque,
        found: found
            .into_iter()
            .chain(unreadable)
            .map(|found| Located {
                member: None,
                found,
            })
            .collect(),
        read_whole,
    })
}

/// 1 MiB reads: few syscalls on big files, and SHA-NI is never starved.
const READ_BUF: usize = 1 << 20;

/// [`hash_and_scan`] over many files on all cores, one reused buffer per
/// worker; results come back in input order.
pub fn hash_and_scan_all(
    paths: &[&Path],
    progress: &indicatif::ProgressBar,
) -> Vec<Result<Scanned>> {
    use rayon::prelude::*;
    paths
        .par_iter()
        .map_init(
            || vec![0u8; READ_BUF],
            |buf, p| {
                let r = hash_and_scan(p, buf);
                progress.inc(1);
                r
            },
        )
        .collect()
}

/// Scans what `reader` holds, by its first bytes: gzip is decoded (up to
/// [`MAX_LAYERS`] deep), a tar's regular members are scanned each, an
/// opaque format is an error, anything else is text (UTF-16 decoded).
/// True when this is the file's own text (at most one gzip layer, no tar)
/// and a summary on some line could not be read: the caller may read it
/// whole.
fn scan_layers(
    reader: &mut dyn BufRead,
    name: &str,
    member: Option<&str>,
    layers: usize,
    out: &mut Vec<Located>,
) -> Result<bool> {
    let head_in_buffer = {
        let buf = fill_buf(reader, name)?;
        (buf.len() >= HEAD).then(|| buf[..HEAD].to_vec())
    };
    match head_in_buffer {
        Some(head) => scan_layer(&head, reader, name, member, layers, out),
        None => {
            // A short read: gather the head, then read it again first.
            let mut head = Vec::with_capacity(HEAD);
            (&mut *reader)
                .take(HEAD as u64)
                .read_to_end(&mut head)
                .map_err(|e| read_error(name, e))?;
            let mut joined =
                std::io::BufReader::new(std::io::Cursor::new(head.clone()).chain(&mut *reader));
            scan_layer(&head, &mut joined, name, member, layers, out)
        }
    }
}

fn fill_buf<'r>(reader: &'r mut dyn BufRead, name: &str) -> Result<&'r [u8]> {
    reader.fill_buf().map_err(|e| read_error(name, e))
}

fn scan_layer(
    head: &[u8],
    reader: &mut dyn BufRead,
    name: &str,
    member: Option<&str>,
    layers: usize,
    out: &mut Vec<Located>,
) -> Result<bool> {
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let opaque = opaque_format(head);
    let tar = is_tar(head);
    if (gzip || tar) && layers >= MAX_LAYERS {
        return Err(opaque_inside(
            name,
            member,
            &format!("gzip or tar nested more than {MAX_LAYERS} deep"),
        ));
    }
    if gzip {
        let mut decoded = std::io::BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(&mut *reader),
        );
        scan_layers(&mut decoded, name, member, layers + 1, out)?;
        return Ok(false);
    }
    if let Some(format) = opaque {
        return Err(opaque_inside(name, member, &opaque_phrase(format, true)));
    }
    if tar {
        scan_tar(reader, name, member, layers + 1, out)?;
        return Ok(false);
    }
    let mut text: Box<dyn BufRead + '_> = match utf16::bom(head) {
        Some(endian) => Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            Utf16ToUtf8::new(reader, endian),
        )),
        None => Box::new(reader),
    };
    let (found, unreadable) = scan_lines(&mut *text).map_err(|e| match e {
        LinesError::Io(e) => read_error(name, e),
        LinesError::Interrupted => Error::new(format!("{name}: interrupted")),
    })?;
    let top = member.is_none() && layers <= 1;
    let any_unreadable = !unreadable.is_empty();
    out.extend(found.into_iter().chain(unreadable).map(|found| Located {
        member: member.map(str::to_string),
        found,
    }));
    Ok(top && any_unreadable)
}

/// Scans each regular member of a tar archive as a file of its own.
fn scan_tar(
    reader: &mut dyn BufRead,
    name: &str,
    member: Option<&str>,
    layers: usize,
    out: &mut Vec<Located>,
) -> Result<()> {
    let tar_error = |e: std::io::Error| {
        Error::new(format!("{name}: a tar archive that cannot be read: {e}")).with_hint(
            "a tar seal cannot read to its end cannot be searched for gate summaries; fix or \
             remove it",
        )
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(tar_error)? {
        let mut entry = entry.map_err(tar_error)?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse()) {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let inner = match member {
            Some(outer) => format!("{outer}({path})"),
            None => path,
        };
        let mut body = std::io::BufReader::with_capacity(1 << 16, &mut entry);
        scan_layers(&mut body, name, Some(&inner), layers, out)?;
    }
    Ok(())
}

/// The error for an opaque format found inside gzip or a tar member.
fn opaque_inside(name: &str, member: Option<&str>, what: &str) -> Error {
    let place = match member {
        Some(m) => format!("in its tar member {m}"),
        None => "inside gzip".to_string(),
    };
    Error::new(format!(
        "{name}: holds {what} {place}; seal cannot look inside it for gate summaries"
    ))
    .with_hint("decompress it, or compress it with gzip, which seal reads")
}

/// The same search over bytes in memory (plain text: no gzip, no UTF-16),
/// for tests and the fuzzer.
pub fn summaries_in_bytes(bytes: &[u8]) -> Vec<Found> {
    let Ok((out, unreadable)) = scan_lines(&mut &bytes[..]) else {
        return Vec::new();
    };
    if unreadable.is_empty() {
        return out;
    }
    if bytes.len() as u64 <= MAX_WHOLE {
        if let Some(whole) = stream_values(bytes) {
            return whole;
        }
    }
    merge_unreadable(out, unreadable)
}

fn merge_unreadable(mut out: Vec<Found>, unreadable: Vec<Found>) -> Vec<Found> {
    out.extend(unreadable);
    out.sort_by_key(Found::line);
    out
}

enum LinesError {
    Io(std::io::Error),
    Interrupted,
}

/// The line pass over a reader: the summaries found, and the lines where
/// one could not be read.
fn scan_lines(
    reader: &mut dyn BufRead,
) -> std::result::Result<(Vec<Found>, Vec<Found>), LinesError> {
    let mut lines = LineScan::default();
    loop {
        if common::interrupt::requested() {
            return Err(LinesError::Interrupted);
        }
        let block = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(LinesError::Io(e)),
        };
        if block.is_empty() {
            return Ok(lines.finish());
        }
        lines.feed(block);
        let n = block.len();
        reader.consume(n);
    }
}

/// The line pass, fed a text block by block as it is read (and hashed):
/// only the lines a needle of [`text_needles`] falls in are looked at, so
/// a block without one costs a search per needle and a count of its
/// newlines. Every form [`scan_line`] and [`TextSummary`] find failing
/// holds one. A line longer
/// than [`MAX_LINE`] is not kept: only whether it holds a mark of
/// [`has_marker`], which makes it unreadable.
#[derive(Debug, Default)]
struct LineScan {
    /// Lines ended so far.
    number: u64,
    /// The line a block left open, while it fits in [`MAX_LINE`].
    partial: Vec<u8>,
    /// A block left a line open (`partial` or `overflow` holds it).
    open: bool,
    /// The open line went past [`MAX_LINE`].
    overflow: Option<MarkSearch>,
    /// Reused: where the needles fall in a block.
    hits: Vec<usize>,
    out: LineFindings,
}

#[derive(Debug, Default)]
struct LineFindings {
    found: Vec<Found>,
    unreadable: Vec<Found>,
    text: TextSummary,
}

impl LineFindings {
    fn line(&mut self, number: u64, line: &[u8]) {
        if may_be_text(line) {
            self.text.line(number, line);
        }
        if let Err(at) = scan_line(number, line, 0, &mut self.found) {
            self.unreadable.push(Found::Unreadable {
                line: number,
                reason: format!("{} outside any JSON value on its line", mark_name(line, at)),
            });
        }
    }
}

impl LineScan {
    fn feed(&mut self, block: &[u8]) {
        let mut rest = block;
        if self.open {
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                self.extend(rest);
                return;
            };
            self.extend(&rest[..nl]);
            self.end_line();
            rest = &rest[nl + 1..];
        }
        let Some(last) = memchr::memrchr(b'\n', rest) else {
            self.extend(rest);
            return;
        };
        // Lines wholly in this block: each ends at a newline in `whole`.
        let (whole, tail) = rest.split_at(last + 1);
        let mut hits = std::mem::take(&mut self.hits);
        hits.clear();
        for (i, needle) in text_needles().iter().enumerate() {
            if i == VERDICT {
                hits.extend(needle.find_iter(whole).filter(|&h| verdict_says(whole, h)));
            } else {
                hits.extend(needle.find_iter(whole));
            }
        }
        hits.sort_unstable();
        let mut at = 0;
        for &h in &hits {
            if h < at {
                continue;
            }
            let start = memchr::memrchr(b'\n', &whole[at..h]).map_or(at, |i| at + i + 1);
            let end = memchr::memchr(b'\n', &whole[h..]).map_or(whole.len(), |i| h + i);
            self.number += memchr::memchr_iter(b'\n', &whole[at..start]).count() as u64 + 1;
            self.out.line(self.number, &whole[start..end]);
            at = end + 1;
        }
        self.hits = hits;
        if at < whole.len() {
            self.number += memchr::memchr_iter(b'\n', &whole[at..]).count() as u64;
        }
        self.extend(tail);
    }

    /// Adds to the open line (opens one unless `bytes` is empty).
    fn extend(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.open = true;
        if let Some(marks) = self.overflow.as_mut() {
            marks.update(bytes);
        } else if self.partial.len() + bytes.len() <= MAX_LINE {
            self.partial.extend_from_slice(bytes);
        } else {
            let mut marks = MarkSearch::default();
            marks.update(&self.partial);
            marks.update(bytes);
            self.partial = Vec::new();
            self.overflow = Some(marks);
        }
    }

    fn end_line(&mut self) {
        self.number += 1;
        match self.overflow.take() {
            Some(marks) if marks.found => self.out.unreadable.push(Found::Unreadable {
                line: self.number,
                reason: format!("\"summary\" on a line longer than {MAX_LINE} bytes"),
            }),
            Some(_) => {}
            None => self.out.line(self.number, &self.partial),
        }
        self.partial.clear();
        self.open = false;
    }

    /// The summaries found (text summaries last), and the unreadable lines.
    fn finish(mut self) -> (Vec<Found>, Vec<Found>) {
        if self.open {
            self.end_line();
        }
        let LineFindings {
            mut found,
            unreadable,
            text,
        } = self.out;
        found.extend(text.failures());
        (found, unreadable)
    }
}

/// What the mark at `at` (from [`scan_line`]) is, for a message.
fn mark_name(line: &[u8], at: usize) -> &'static str {
    if line[at.min(line.len())..].starts_with(b"verdict") {
        "a \"verdict\" of pass or fail"
    } else {
        "\"kind\":\"summary\""
    }
}

/// Our tools' summaries in text form, in a text: the `--format text`
/// output of sbom-diff and replay-diff (`gate upgraded: 1 <= 0: FAIL`,
/// `verdict: fail`), older pii-scrub (`gate findings: 1 <= 0 -> FAIL`),
/// backup-drill (`verdict     FAIL`), cycle-check (`FAIL: 1 of 3 cycles ok;
/// ...`, `  FAIL cycles_ok  1 >= 3`), soak-load's summary on stderr under
/// `--format csv` (`soak-load: fail: requests 40, ...`, `soak-load: gate ok
/// 0 >= 1: FAIL`), and a summary rendered as YAML (`kind: summary` ...
/// `verdict: fail`, as `yq -y` writes it). A file that has a line only these
/// have (a gate line, a cycle-check or soak-load summary line, a YAML
/// `kind: summary`, a `verdict: fail (interrupted)`) has its failing
/// verdict lines counted as failing summaries, or, when it has none, its
/// failing gate lines. Prose that says `verdict: fail` without such a line
/// is none.
#[derive(Debug, Default)]
struct TextSummary {
    context: bool,
    failing: Vec<u64>,
    failing_gates: Vec<u64>,
}

/// What one line of text says, for [`TextSummary`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TextLine {
    /// A summary's verdict line: `Some(false)` when it fails. `own`: only
    /// our tools write such a line (cycle-check's, soak-load's), so it
    /// needs no other line to be believed.
    Verdict { pass: bool, own: bool },
    /// A gate as one of our tools prints it.
    Gate { pass: bool },
    /// YAML's `kind: summary`.
    YamlSummary,
}

impl TextSummary {
    fn line(&mut self, number: u64, line: &[u8]) {
        let plain = strip_ansi(line);
        let plain = trim(&plain);
        match text_line(plain) {
            Some(TextLine::Verdict { pass, own }) => {
                // A YAML flow mapping says both on one line.
                self.context |= own || is_yaml_summary(plain);
                if !pass {
                    self.failing.push(number);
                }
            }
            Some(TextLine::Gate { pass }) => {
                self.context = true;
                if !pass {
                    self.failing_gates.push(number);
                }
            }
            Some(TextLine::YamlSummary) => self.context = true,
            None => {}
        }
    }

    fn failures(self) -> Vec<Found> {
        if !self.context {
            return Vec::new();
        }
        let lines = if self.failing.is_empty() {
            self.failing_gates
        } else {
            self.failing
        };
        lines
            .into_iter()
            .map(|line| Found::TextFail { line })
            .collect()
    }
}

/// The needles a line must hold for [`TextSummary`] and [`scan_line`] to
/// find anything that fails in it: `verdict` (text verdicts, YAML, jq
/// digests), `FAIL` (every failing gate line, cycle-check's summary line),
/// `soak-load: ` (its summary line, which an interrupted run fails with
/// every gate passing) and `summary` (JSON summaries, YAML's `kind:
/// summary`). A passing gate line holds none: it matters only beside a
/// failing verdict, which a failing gate line (or `(interrupted)`)
/// accompanies. One search less per block than with `gate `.
fn text_needles() -> &'static [Finder<'static>; 4] {
    static F: OnceLock<[Finder<'static>; 4]> = OnceLock::new();
    F.get_or_init(|| {
        [
            Finder::new(b"verdict"),
            Finder::new(b"FAIL"),
            Finder::new(b"soak-load: "),
            Finder::new(WORD),
        ]
    })
}

/// [`text_needles`]' index of `verdict`.
const VERDICT: usize = 0;

/// Whether the `verdict` at `at` is followed by pass or fail (any case)
/// with only quotes, backslashes, `:` and blanks between: every form that
/// reads a verdict needs that ([`text_verdict`], [`verdict_marks`]), so a
/// line whose every `verdict` fails this says nothing by that word (a log
/// saying "verdict pending" on every line costs a check per line).
fn verdict_says(text: &[u8], at: usize) -> bool {
    let rest = text.get(at + b"verdict".len()..).unwrap_or_default();
    let word_at = rest
        .iter()
        .position(|b| !matches!(b, b'"' | b'\\' | b'\'' | b':' | b' ' | b'\t' | b'\r'))
        .unwrap_or(rest.len());
    let word = rest.get(word_at..word_at + 4).unwrap_or_default();
    word.eq_ignore_ascii_case(b"pass") || word.eq_ignore_ascii_case(b"fail")
}

/// Whether `line` holds a needle of [`text_needles`].
fn may_be_text(line: &[u8]) -> bool {
    text_needles().iter().any(|f| f.find(line).is_some())
}

/// What a trimmed, uncoloured line says as part of a text summary.
fn text_line(line: &[u8]) -> Option<TextLine> {
    if let Some(pass) = cycle_check_verdict(line).or_else(|| soak_load_verdict(line)) {
        return Some(TextLine::Verdict { pass, own: true });
    }
    if let Some(pass) = text_verdict(line) {
        // `verdict: fail (interrupted)`: its gates may all have passed, so
        // no failing gate line need stand beside it.
        let own = !pass && line.ends_with(b"(interrupted)");
        return Some(TextLine::Verdict { pass, own });
    }
    if let Some(pass) = gate_line(line).or_else(|| cycle_check_gate(line)) {
        return Some(TextLine::Gate { pass });
    }
    is_yaml_summary(line).then_some(TextLine::YamlSummary)
}

/// `line` without terminal colour codes (`--color always`).
fn strip_ansi(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if memchr::memchr(0x1b, line).is_none() {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] == 0x1b && line.get(i + 1) == Some(&b'[') {
            i += 2;
            while i < line.len() && !(0x40..=0x7e).contains(&line[i]) {
                i += 1;
            }
            i += 1;
        } else {
            out.push(line[i]);
            i += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `rest` after an optional ` (interrupted)`: an interrupted run fails
/// whatever its word.
fn after_interrupted(rest: &[u8]) -> (bool, &[u8]) {
    match rest.strip_prefix(b" (interrupted)") {
        Some(r) => (true, r),
        None => (false, rest),
    }
}

/// cycle-check's summary line: `FAIL: 1 of 3 cycles ok; ready p50 ...`
/// (`PASS`, ` (interrupted)` after the word).
fn cycle_check_verdict(line: &[u8]) -> Option<bool> {
    let (pass, rest) = if let Some(r) = line.strip_prefix(b"PASS") {
        (true, r)
    } else {
        (false, line.strip_prefix(b"FAIL")?)
    };
    let (interrupted, rest) = after_interrupted(rest);
    let rest = rest.strip_prefix(b": ")?;
    let words: Vec<&[u8]> = rest.splitn(5, |&b| b == b' ').collect();
    let number = |w: &[u8]| !w.is_empty() && w.iter().all(|b| b.is_ascii_digit() || *b == b'.');
    match words.as_slice() {
        [a, b"of", b, b"cycles", ok] if number(a) && number(b) && ok.starts_with(b"ok") => {
            Some(pass && !interrupted)
        }
        _ => None,
    }
}

/// soak-load's summary line (stderr under `--format csv`):
/// `soak-load: fail: requests 40, errors 40, ...`, after a prefix.
fn soak_load_verdict(line: &[u8]) -> Option<bool> {
    let at = text_needles()[2].find(line)?;
    let rest = &line[at + b"soak-load: ".len()..];
    let (pass, rest) = if let Some(r) = rest.strip_prefix(b"pass") {
        (true, r)
    } else {
        (false, rest.strip_prefix(b"fail")?)
    };
    let (interrupted, rest) = after_interrupted(rest);
    rest.starts_with(b": requests ")
        .then_some(pass && !interrupted)
}

/// The word after a `verdict: ` or `verdict   ` (after a time stamp or
/// other prefix, the word quoted or not): `Some(true)` for pass,
/// `Some(false)` for fail (any case). After the word: the end of the line,
/// `(...)` (`(interrupted)` fails whatever the word), or `,` / `}` (a YAML
/// flow mapping).
fn text_verdict(line: &[u8]) -> Option<bool> {
    static LAST: OnceLock<memchr::memmem::FinderRev<'static>> = OnceLock::new();
    let at = LAST
        .get_or_init(|| memchr::memmem::FinderRev::new(b"verdict"))
        .rfind(line)?;
    if at > 0 && !line[at - 1].is_ascii_whitespace() && !matches!(line[at - 1], b'{' | b',') {
        return None;
    }
    let rest = &line[at + b"verdict".len()..];
    let word_at = rest
        .iter()
        .position(|b| !(*b == b':' || b.is_ascii_whitespace()))?;
    let sep = &rest[..word_at];
    if sep.is_empty() || sep.iter().filter(|&&b| b == b':').count() > 1 {
        return None;
    }
    let mut word = &rest[word_at..];
    let quote = word.first().copied().filter(|q| matches!(q, b'"' | b'\''));
    if quote.is_some() {
        word = &word[1..];
    }
    let (word, mut after) = word.split_at(word.len().min(4));
    if let Some(q) = quote {
        after = after.strip_prefix(&[q][..])?;
    }
    let after = trim(after);
    let interrupted = after == b"(interrupted)";
    if !(after.is_empty()
        || (after.starts_with(b"(") && after.ends_with(b")"))
        || after.starts_with(b",")
        || after.starts_with(b"}"))
    {
        return None;
    }
    if word.eq_ignore_ascii_case(b"pass") {
        Some(!interrupted)
    } else if word.eq_ignore_ascii_case(b"fail") {
        Some(false)
    } else {
        None
    }
}

/// A gate as our tools print it: `gate NAME`, a comparison, and `: pass`,
/// `: FAIL` or `-> FAIL` at the end: whether it passes.
fn gate_line(line: &[u8]) -> Option<bool> {
    static GATE: OnceLock<Finder<'static>> = OnceLock::new();
    let at = GATE.get_or_init(|| Finder::new(b"gate ")).find(line)?;
    if at > 0 && !line[at - 1].is_ascii_whitespace() {
        return None;
    }
    let rest = &line[at..];
    let pass = if rest.ends_with(b": pass") || rest.ends_with(b"-> pass") {
        true
    } else if rest.ends_with(b": FAIL") || rest.ends_with(b"-> FAIL") {
        false
    } else {
        return None;
    };
    [&b" <= "[..], b" >= ", b" == ", b" != ", b" < ", b" > "]
        .iter()
        .any(|op| memchr::memmem::find(rest, op).is_some())
        .then_some(pass)
}

/// cycle-check's gate line: `FAIL cycles_ok  1 >= 3` (word, name, value,
/// comparison, limit): whether it passes.
fn cycle_check_gate(line: &[u8]) -> Option<bool> {
    if !(line.starts_with(b"pass ") || line.starts_with(b"FAIL ")) {
        return None;
    }
    let words: Vec<&[u8]> = line
        .split(|b| *b == b' ')
        .filter(|w| !w.is_empty())
        .collect();
    let [word, name, value, op, limit] = words.as_slice() else {
        return None;
    };
    let pass = match *word {
        b"pass" => true,
        b"FAIL" => false,
        _ => return None,
    };
    let number = |w: &[u8]| std::str::from_utf8(w).is_ok_and(|t| t.parse::<f64>().is_ok());
    let ops: [&[u8]; 6] = [b"<=", b">=", b"==", b"!=", b"<", b">"];
    let named = name
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    (named && ops.contains(op) && number(value) && number(limit)).then_some(pass)
}

/// YAML's `kind: summary` (a block mapping's key, maybe a list item's
/// first, or in a flow mapping; key and value quoted or not).
fn is_yaml_summary(line: &[u8]) -> bool {
    if finder().find(line).is_none() {
        return false;
    }
    let line = line.strip_prefix(b"- ").unwrap_or(line);
    let line = line.strip_prefix(b"---").map_or(line, trim);
    static KIND: OnceLock<Finder<'static>> = OnceLock::new();
    let Some(at) = KIND.get_or_init(|| Finder::new(b"kind")).find(line) else {
        return false;
    };
    let before = &line[..at];
    let key_starts = before.is_empty()
        || before.ends_with(b"\"")
        || before.ends_with(b"'")
        || before.ends_with(b"{")
        || before.ends_with(b", ")
        || before.ends_with(b"{ ");
    if !key_starts {
        return false;
    }
    let rest = &line[at + 4..];
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let Some(rest) = rest.strip_prefix(b":") else {
        return false;
    };
    let rest = trim(rest);
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let Some(after) = rest.strip_prefix(WORD) else {
        return false;
    };
    let after = after
        .strip_prefix(b"\"")
        .or_else(|| after.strip_prefix(b"'"))
        .unwrap_or(after);
    let after = trim(after);
    after.is_empty() || after.starts_with(b",") || after.starts_with(b"}")
}

fn changed(name: &str) -> Error {
    Error::new(format!(
        "{name}: changed while the bundle was being sealed; nothing was written"
    ))
    .with_hint("stop whatever writes into the bundle, then seal again")
}

/// The file as a sequence of JSON values (whitespace between), or `None`
/// when it is larger than [`MAX_WHOLE`] or is not one.
/// `sealed_sha256` is what the hashing pass saw: a file that reads
/// differently now changed during the seal.
fn whole_stream(path: &Path, name: &str, sealed_sha256: &str) -> Result<Option<Vec<Found>>> {
    let (mut reader, digest) = open_text(path, name)?;
    let mut bytes = Vec::new();
    (&mut reader)
        .take(MAX_WHOLE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| read_error(name, e))?;
    if bytes.len() as u64 > MAX_WHOLE {
        return Ok(None);
    }
    // The digest covers the raw bytes: read what gzip's trailer left over.
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| read_error(name, e))?;
    if digest.sha256() != sealed_sha256 {
        return Err(changed(name));
    }
    Ok(stream_values(&bytes))
}

/// `bytes` as a sequence of JSON values (whitespace between): the summary
/// records at their tops, or `None` when it is not such a sequence.
fn stream_values(bytes: &[u8]) -> Option<Vec<Found>> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let offset = bytes.len() - body.len();
    let mut values = serde_json::Deserializer::from_slice(body).into_iter::<StrictValue>();
    let mut out = Vec::new();
    loop {
        // The value starts after the whitespace before it.
        let before = values.byte_offset();
        let start = before
            + body[before..]
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(body.len() - before);
        match values.next() {
            None => return Some(out),
            Some(Err(_)) => return None,
            Some(Ok(StrictValue(v))) => {
                let line = 1 + memchr::memchr_iter(b'\n', &bytes[..offset + start]).count() as u64;
                collect(line, &v, Place::Line, 0, &mut out);
            }
        }
    }
}

/// The summary records the gate files' reader does not see, in entry
/// order: every one in a file that is not a gate file, and in a gate file
/// every one that is not a record of its own line (quoted inside another
/// record or a JSON string, an element of an array). `scans` are the
/// hashing pass's results for `entries` (a file it could not read on its
/// lines, pretty-printed JSON, is read again here, whole); `canonical` maps the
/// gate files' summaries (canonical sha256) to `source:line`. A malformed
/// record of ours stops the seal, as it does in a gate file.
pub fn stray_summaries(
    entries: &[Entry],
    scans: Vec<Scanned>,
    canonical: &std::collections::HashMap<String, String>,
) -> Result<Vec<StrayRef>> {
    let mut out = Vec::new();
    for (e, scan) in entries.iter().zip(scans) {
        let mut found = scan.found;
        if scan.read_whole {
            let name = e.path.display().to_string();
            match whole_stream(&e.path, &name, &scan.sha256)? {
                Some(whole) => {
                    found = whole
                        .into_iter()
                        .map(|found| Located {
                            member: None,
                            found,
                        })
                        .collect();
                }
                None => found.sort_by_key(|l| l.found.line()),
            }
        }
        for Located { member, found: f } in found {
            // A tar member is no gate file, whatever its name.
            let gate_file = member.is_none() && is_jsonl(&e.rel);
            let source = match &member {
                Some(m) => format!("{}({m})", e.rel),
                None => e.rel.clone(),
            };
            out.push(match f {
                // The gate files' reader has judged these (strictly).
                Found::Summary {
                    place: Place::Line, ..
                }
                | Found::Malformed {
                    place: Place::Line, ..
                } if gate_file => continue,
                Found::Malformed {
                    line,
                    reason,
                    place,
                } => {
                    return Err(crate::manifest::malformed_summary(
                        match &member {
                            Some(m) => format!("{}({m})", e.path.display()),
                            None => e.path.display().to_string(),
                        },
                        line,
                        place == Place::Quoted,
                        reason,
                    ))
                }
                Found::Summary {
                    line,
                    tool,
                    pass,
                    canonical_sha256,
                    place,
                } => StrayRef {
                    source: source.clone(),
                    line,
                    tool: Some(tool),
                    verdict: Some(if pass { Verdict::Pass } else { Verdict::Fail }),
                    copy_of: canonical.get(&canonical_sha256).cloned(),
                    reason: None,
                    quoted: place == Place::Quoted,
                    text: false,
                    digest: false,
                },
                // A passing digest adds nothing the gate files do not say.
                Found::Digest { pass: true, .. } => continue,
                Found::Digest {
                    line, tool, place, ..
                } => StrayRef {
                    source: source.clone(),
                    line,
                    tool,
                    verdict: Some(Verdict::Fail),
                    copy_of: None,
                    reason: None,
                    quoted: place == Place::Quoted,
                    text: false,
                    digest: true,
                },
                Found::TextFail { line } => StrayRef {
                    source: source.clone(),
                    line,
                    tool: None,
                    verdict: Some(Verdict::Fail),
                    copy_of: None,
                    reason: None,
                    quoted: false,
                    text: true,
                    digest: false,
                },
                Found::Unreadable { line, reason } => StrayRef {
                    source,
                    line,
                    tool: None,
                    verdict: None,
                    copy_of: None,
                    reason: Some(reason),
                    quoted: false,
                    text: false,
                    digest: false,
                },
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FAIL: &str = r#"{"kind":"summary","tool":"t","verdict":"fail","gates":[{"name":"g","op":"<=","limit":0,"value":1,"pass":false}]}"#;
    const PASS: &str = r#"{"kind":"summary","tool":"t","verdict":"pass","gates":[{"name":"g","op":"<=","limit":0,"value":0,"pass":true}]}"#;

    fn line(text: &str) -> (Vec<Found>, std::result::Result<(), usize>) {
        let mut out = Vec::new();
        let r = scan_line(7, text.as_bytes(), 0, &mut out);
        (out, r)
    }

    fn verdicts(found: &[Found]) -> Vec<(u64, bool)> {
        found
            .iter()
            .map(|f| match f {
                Found::Summary { line, pass, .. } => (*line, *pass),
                Found::Unreadable { line, .. }
                | Found::Malformed { line, .. }
                | Found::TextFail { line } => (*line, false),
                Found::Digest { line, pass, .. } => (*line, *pass),
            })
            .collect()
    }

    #[test]
    fn whole_lines_prefixed_lines_and_arrays() {
        assert_eq!(verdicts(&line(FAIL).0), [(7, false)]);
        assert_eq!(
            verdicts(&line(&format!("\u{feff}  {PASS}\r")).0),
            [(7, true)]
        );
        assert_eq!(
            verdicts(&line(&format!("2026-11-23T10:00:00Z INFO {FAIL} trailing")).0),
            [(7, false)]
        );
        assert_eq!(
            verdicts(&line(&format!("[{PASS},{FAIL}]")).0),
            [(7, true), (7, false)]
        );
        // Two records on one line, no separator.
        assert_eq!(
            verdicts(&line(&format!("{PASS}{FAIL}")).0),
            [(7, true), (7, false)]
        );
        // The `{` of a prefix that is no JSON is skipped.
        assert_eq!(verdicts(&line(&format!("x{{ y {FAIL}")).0), [(7, false)]);
    }

    fn places(found: &[Found]) -> Vec<(bool, Place)> {
        found
            .iter()
            .map(|f| match f {
                Found::Summary { pass, place, .. } => (*pass, *place),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn quoted_and_escaped_summaries_are_found_and_mere_mentions_are_not() {
        // Nested in a receipt: found, quoted.
        let receipt = format!(r#"{{"kind":"receipt","seq":1,"record":{FAIL}}}"#);
        assert_eq!(places(&line(&receipt).0), [(false, Place::Quoted)]);
        assert_eq!(
            places(&line(&format!("12:00 {receipt}")).0),
            [(false, Place::Quoted)]
        );
        assert_eq!(places(&line(FAIL).0), [(false, Place::Line)]);
        assert_eq!(
            places(&line(&format!("12:00 {PASS}")).0),
            [(true, Place::Inline)]
        );
        // JSON-escaped in a string, once (Docker) and twice (forwarded).
        let docker =
            serde_json::json!({"log": format!("{FAIL}\n"), "stream": "stdout"}).to_string();
        assert_eq!(places(&line(&docker).0), [(false, Place::Quoted)]);
        let twice = serde_json::json!({"message": docker}).to_string();
        assert_eq!(places(&line(&twice).0), [(false, Place::Quoted)]);
        // A JSON string after a prefix (logfmt).
        let logfmt = format!("msg={} level=info", serde_json::to_string(PASS).unwrap());
        assert_eq!(places(&line(&logfmt).0), [(true, Place::Quoted)]);
        // Mentions, and an app's own kind:summary (no verdict, no gates).
        assert_eq!(
            line(r#"{"msg":"{\"kind\":\"summary\"}"}"#),
            (vec![], Ok(()))
        );
        assert_eq!(line(r#"the "summary" is below"#), (vec![], Ok(())));
        assert_eq!(line(r#"the \"summary\" is below"#), (vec![], Ok(())));
        assert_eq!(
            line(r#"{"kind":"summary","text":"daily"}"#),
            (vec![], Ok(()))
        );
    }

    /// Hostile nesting (strings in strings, each inside deep arrays) is
    /// found, or reported, without overflowing a rayon worker's 2 MiB stack.
    #[test]
    fn deep_nesting_in_and_around_strings_stays_on_a_small_stack() {
        let mut text = FAIL.to_string();
        for _ in 0..10 {
            let quoted = serde_json::to_string(&text).unwrap();
            text = format!("{}{quoted}{}", "[".repeat(100), "]".repeat(100));
        }
        let found = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || summaries_in_bytes(text.as_bytes()))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(verdicts(&found), [(1, false)]);
    }

    #[test]
    fn summaries_in_other_quotings_are_decoded_or_reported() {
        // HTML/XML entities and CSV's doubled quotes are decoded.
        let html = FAIL.replace('"', "&quot;");
        assert_eq!(
            places(&line(&format!("<a t=\"{html}\">")).0),
            [(false, Place::Quoted)]
        );
        let csv = format!("x,\"{}\"", PASS.replace('"', "\"\""));
        assert_eq!(places(&line(&csv).0), [(true, Place::Quoted)]);
        // Python's repr: no decoding reads it, so it is reported.
        let (found, r) = line("{'kind': 'summary', 'verdict': 'fail'}");
        assert_eq!((found, r.is_err()), (vec![], true));
        // Prose, YAML without quotes, and a record without a verdict are not.
        assert_eq!(loose_marks(b"kind: summary, verdict: fail"), 0);
        assert_eq!(loose_marks(b"the kind of summary a verdict has"), 0);
        assert_eq!(loose_marks(b"{'kind': 'summary'}"), 0);
        assert_eq!(loose_marks(br#"{"kind":"summary","verdict":"x"}"#), 1);
    }

    /// The text summaries of sbom-diff and replay-diff (`verdict: fail`),
    /// pii-scrub (`-> FAIL`) and backup-drill (`verdict     FAIL`, gates
    /// after it), coloured or after a CI time stamp; prose is none.
    #[test]
    fn text_summaries_of_our_tools_fail_and_prose_does_not() {
        let fails = |text: &str| -> Vec<u64> {
            summaries_in_bytes(text.as_bytes())
                .iter()
                .map(Found::line)
                .collect()
        };
        assert_eq!(fails("gate upgraded: 1 <= 0: FAIL\nverdict: fail\n"), [2]);
        assert_eq!(
            fails("gate divergences <= 0 (value 1): FAIL\nverdict: fail\n"),
            [2]
        );
        assert_eq!(
            fails("gate findings: 1 <= 0 -> FAIL\ngate errors: 0 <= 0 -> pass\nverdict: fail\n"),
            [3]
        );
        assert_eq!(
            fails("verdict     FAIL (interrupted)\ngate mismatches: 2 <= 0: FAIL\n"),
            [1]
        );
        assert_eq!(
            fails("gate g: 1 <= 0: FAIL\n\x1b[31mverdict: fail\x1b[0m\n"),
            [2]
        );
        assert_eq!(
            fails("10:00:01 gate g: 1 <= 0: FAIL\n10:00:01 verdict: fail\n"),
            [2]
        );
        // cycle-check: its summary line; its gate lines when it has none.
        assert_eq!(
            fails("cycle 1   FAIL  pid 9\nFAIL: 0 of 2 cycles ok; ready p50 -\n  FAIL failed_cycles     2 <= 0\n  pass zombies 0 <= 0\n"),
            [2]
        );
        assert_eq!(fails("  FAIL failed_cycles     2 <= 0\n"), [1]);
        assert_eq!(
            fails("FAIL (interrupted): 1 of 1 cycles ok; ready p50 2 ms\n"),
            [1]
        );
        assert!(fails("PASS: 1 of 1 cycles ok; ready\n  pass zombies 0 <= 0\n").is_empty());
        // soak-load's stderr summary, after a CI time stamp.
        assert_eq!(
            fails("10:00 soak-load: fail: requests 20, errors 20\n10:00 soak-load: gate ok 0 >= 1: FAIL\n"),
            [1]
        );
        assert_eq!(
            fails("soak-load: fail (interrupted): requests 20, errors 0\nsoak-load: gate ok 20 >= 1: pass\n"),
            [1]
        );
        // YAML, block and flow, the word quoted or not.
        assert_eq!(fails("kind: summary\ntool: t\nverdict: fail\n"), [3]);
        assert_eq!(fails("- kind: 'summary'\n  verdict: \"FAIL\"\n"), [2]);
        assert_eq!(
            fails("{kind: summary, tool: t, verdict: fail, gates: []}\n"),
            [1]
        );
        assert!(fails("kind: summary\nverdict: pass\n").is_empty());
        // Interrupted, every gate passing: the verdict line needs no other.
        assert_eq!(
            fails("gate g: 0 <= 0: pass\nverdict: fail (interrupted)\n"),
            [2]
        );
        // Go's test output and prose are none.
        assert!(fails("--- FAIL: TestX (0.00s)\nFAIL\tpkg\t0.01s\nFAIL\n").is_empty());
        assert!(fails("kind: report\nverdict: fail\n").is_empty());
        assert!(fails("gate g: 0 <= 0: pass\nverdict: pass\n").is_empty());
        assert!(fails("the tool prints\nverdict: fail\nwhen a gate fails\n").is_empty());
        assert!(fails("a gate that will pass\nverdict: fail\n").is_empty());
        assert_eq!(text_verdict(b"verdict: failed builds"), None);
        assert_eq!(text_verdict(b"the verdict: pass"), Some(true));
        assert_eq!(text_verdict(b"verdictfail"), None);
    }

    /// Gate results that lost `kind` (jq digests): failing ones fail, also
    /// quoted in a log wrapper or spread over lines; an app's verdict alone
    /// is none; a passing one with unreadable gates cannot be classified.
    #[test]
    fn digests_without_kind_are_judged() {
        let digest = |text: &str| -> Vec<(u64, bool)> {
            summaries_in_bytes(text.as_bytes())
                .iter()
                .map(|f| match f {
                    Found::Digest { line, pass, .. } => (*line, *pass),
                    other => panic!("{text}: {other:?}"),
                })
                .collect()
        };
        let fail = r#"{"verdict":"fail","gates":[{"name":"g","op":"<=","limit":0,"value":1,"pass":false}]}"#;
        assert_eq!(digest(fail), [(1, false)]);
        assert_eq!(
            digest(&format!("x\n{PASS}")[..].replace("\"kind\":\"summary\",", "")),
            [(2, true)]
        );
        // A pass that its own gates contradict, or interrupted, fails.
        assert_eq!(
            digest(
                r#"{"tool":"t","verdict":"PASS","gates":[{"name":"g","op":"<=","limit":0,"value":1,"pass":true}]}"#
            ),
            [(1, false)]
        );
        assert_eq!(
            digest(r#"{"tool":"t","verdict":"pass","interrupted":true}"#),
            [(1, false)]
        );
        let docker = serde_json::json!({"log": format!("{fail}\n")}).to_string();
        assert_eq!(digest(&docker), [(1, false)]);
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(fail).unwrap()).unwrap();
        assert_eq!(digest(&format!("\n{pretty}\n")), [(2, false)]);
        assert_eq!(
            digest(&format!("[{fail},{fail}]")),
            [(1, false), (1, false)]
        );
        assert!(digest(r#"{"verdict":"fail","reason":"spam"}"#).is_empty());
        assert!(digest(r#"{"kind":"check","tool":"t","verdict":"fail"}"#).is_empty());
        assert!(digest(r#"{"tool":"t","verdict":"maybe"}"#).is_empty());
        assert!(matches!(
            summaries_in_bytes(br#"{"tool":"t","verdict":"pass","gates":"all"}"#).as_slice(),
            [Found::Malformed { line: 1, .. }]
        ));
        assert_eq!(verdict_marks(br#"{"verdict" : "Fail"}"#), [2]);
        assert_eq!(verdict_marks(br#"{\"verdict\":\"pass\"}"#), [3]);
        assert!(verdict_marks(br#"{\"verdict":"pass\"}"#).is_empty());
        assert!(verdict_marks(br#"{"verdict":"passed"}"#).is_empty());
    }

    #[test]
    fn kind_marks_match_as_many_escapes_on_every_quote() {
        assert_eq!(kind_marks(br#"{"kind" : "summary"}"#), [11]);
        assert_eq!(kind_marks(br#"\"kind\":\"summary\""#), [11]);
        assert_eq!(kind_marks(br#"\\\"kind\\\":\\\"summary\\\""#), [17]);
        assert!(kind_marks(br#"\"kind":"summary\""#).is_empty());
        assert!(kind_marks(br#""skind":"summary""#).is_empty());
        assert!(kind_marks(br#""kind":"summary"#).is_empty());
    }

    /// The line pass gives the same findings, on the same lines, however
    /// the text is cut into blocks (a line, a needle or a mark across a
    /// seam).
    #[test]
    fn the_line_pass_finds_the_same_across_any_blocks() {
        let escaped = serde_json::to_string(PASS).unwrap();
        let text = format!(
            "start, verdict pending\nxx{escaped}\n{FAIL}\nkind: summary\nverdict: fail\n\
             \x20 FAIL g 1 <= 0\n{{\"tool\":\"t\",\"verdict\":\"fail\"}}\nend"
        );
        let bytes = text.as_bytes();
        let whole = {
            let mut l = LineScan::default();
            l.feed(bytes);
            l.finish()
        };
        assert_eq!(
            verdicts(&whole.0),
            [(2, true), (3, false), (7, false), (5, false)]
        );
        let cuts = |points: &[usize]| {
            let mut l = LineScan::default();
            let mut from = 0;
            for &p in points {
                l.feed(&bytes[from..p]);
                from = p;
            }
            l.feed(&bytes[from..]);
            l.finish()
        };
        for a in 0..=bytes.len() {
            assert_eq!(cuts(&[a]), whole, "cut at {a}");
            for b in (a..=bytes.len()).step_by(7) {
                assert_eq!(cuts(&[a, b]), whole, "cut at {a}, {b}");
            }
        }
    }

    #[test]
    fn a_verdict_says_something_only_before_pass_or_fail() {
        for text in [
            "verdict: fail",
            "verdict     FAIL",
            "\"verdict\" : \"Pass\"",
            "\\\"verdict\\\":\\\"fail",
            "verdict: 'fail'",
        ] {
            let at = text.find("verdict").unwrap();
            assert!(verdict_says(text.as_bytes(), at), "{text}");
        }
        for text in [
            "verdict pending",
            "verdict",
            "verdict: fai",
            "verdict:\nfail",
            "verdicts pass",
        ] {
            assert!(!verdict_says(text.as_bytes(), 0), "{text}");
        }
    }

    #[test]
    fn formats_seal_cannot_read_are_known_by_their_first_bytes() {
        for (head, name) in [
            (&b"\xfd7zXZ\x00\x00\x04"[..], "xz"),
            (b"\x28\xb5\x2f\xfd\x00", "zstd"),
            (b"BZh91AY&SY\x00", "bzip2"),
        ] {
            assert_eq!(opaque_format(head), Some(name));
        }
        assert_eq!(opaque_format(b"BZh9 is how a text file may start"), None);
    }

    #[test]
    fn overlong_lines_report_a_mark_anywhere_in_them() {
        let mut long = vec![b'x'; MAX_LINE + 10];
        long.extend_from_slice(b"\"summary\"");
        long.extend_from_slice(b"\nshort\n");
        let mut plain = vec![b'y'; MAX_LINE + 10];
        plain.extend_from_slice(b" summary of it\n");
        for text in [long, plain] {
            let mut l = LineScan::default();
            for block in text.chunks(1 << 20) {
                l.feed(block);
            }
            let (found, unreadable) = l.finish();
            assert!(found.is_empty());
            let lines: Vec<u64> = unreadable.iter().map(Found::line).collect();
            assert_eq!(lines, if text[0] == b'x' { vec![1] } else { vec![] });
        }
    }

    /// The fuzz target's property over its seeds, in every `cargo test`:
    /// a failing summary appended on a line of its own fails the release.
    #[test]
    fn the_fuzz_property_holds_over_the_seeds() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/summary_scan");
        let mut seeds = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let mut bytes = std::fs::read(e.unwrap().path()).unwrap();
            let lines = bytes.split(|&b| b == b'\n').count() as u64;
            assert!(summaries_in_bytes(&bytes).iter().all(|f| f.line() <= lines));
            bytes.push(b'\n');
            bytes.extend_from_slice(FAIL.as_bytes());
            bytes.push(b'\n');
            let found = summaries_in_bytes(&bytes);
            assert!(
                found.iter().any(|f| matches!(
                    f,
                    Found::Unreadable { .. }
                        | Found::Malformed { .. }
                        | Found::Summary { pass: false, .. }
                )),
                "{found:?}"
            );
            seeds += 1;
        }
        assert!(seeds >= 4);
    }
}
