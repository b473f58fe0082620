//! Scrubbing a JSON object line field by field, on its raw bytes.
//!
//! A strict recursive-descent walk copies the line through unchanged except
//! for the values it rewrites, so keys, key order, whitespace and number
//! spelling survive exactly (a parse-and-reserialize would round floats and
//! big integers). String values are decoded (escapes) before scanning, so
//! JSON-escaped text such as `password=\"x\"` in a `msg` is found; values of
//! secret-named keys are scrubbed whole; `remove` drops the member. Invalid
//! UTF-8 inside strings is carried as bytes.

use std::borrow::Cow;

use crate::actions::{self, Action};
use crate::detectors::{keys, validate, Ctx, Hit};
use crate::scan::{Finding, Reason, Scrubber};

/// Deeper nesting is quarantined rather than recursed into.
pub const MAX_DEPTH: usize = 128;

/// True for a line that should be a JSON object: `{"` after trimming (a
/// record, whole or cut short by a size limit, rotation or a crash: it must
/// not pass as text, issue 12), or the empty object `{}`. Text that merely
/// starts with a brace (`{{ }}`, `{ } { }` in a compiler's test log) is text.
pub fn looks_like_json(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    let Some(rest) = t.strip_prefix(b"{") else {
        return false;
    };
    let rest = rest.trim_ascii_start();
    rest.first() == Some(&b'"') || rest == b"}"
}

/// What the line-level scan says about one value.
#[derive(Clone, Copy)]
enum Local {
    /// No hit in it: copy it through.
    Clean,
    /// Line hits `i..j` lie inside it.
    Hits(usize, usize),
    /// Decode and scan it on its own.
    Scan,
}

enum Seg<'a> {
    Key(Cow<'a, [u8]>),
    Index(usize),
}

struct Walker<'a, 's, 'e> {
    b: &'a [u8],
    i: usize,
    sc: &'s mut Scrubber<'e>,
    out: &'s mut Vec<u8>,
    findings: &'s mut Vec<Finding>,
    path: Vec<Seg<'a>>,
    tmp: Vec<u8>,
    scoped: bool,
    /// Validated hits of the whole raw line, in order: a string without
    /// escapes or `%XX` takes its hits from here instead of a second scan.
    line_hits: Vec<Hit>,
    cursor: usize,
    /// Candidate starts of the raw line (unknown when it held `%XX`, whose
    /// decoded scan has other offsets): a key with no candidate inside holds
    /// no secret word, so its name need not be judged.
    starts: Vec<usize>,
    starts_known: bool,
    start_cursor: usize,
    /// The line has an IPv4 hit or text that is decoded before scanning:
    /// only then does a key's version-likeness matter.
    ipv4_matters: bool,
    ipv4: Option<crate::detectors::TypeId>,
    /// Under a phone- or identity-named key (nested values too): scalars
    /// that field takes are reported whole as its type.
    field: Option<(keys::Field, crate::detectors::TypeId)>,
}

/// Scrubs one JSON object line into `out`; on error `out` holds garbage the
/// caller must discard (the line is quarantined).
/// `scanned`: the scrubber already holds the hits of `sc.find(line)`.
pub fn scrub_line(
    line: &[u8],
    sc: &mut Scrubber<'_>,
    out: &mut Vec<u8>,
    findings: &mut Vec<Finding>,
    scanned: bool,
) -> Result<(), Reason> {
    let scoped = !sc.engine.fields.is_empty() || !sc.engine.skip_fields.is_empty();
    let first = findings.len();
    if !scanned {
        sc.decode_backslash = false;
        sc.find(line, Ctx::default());
        sc.decode_backslash = true;
    }
    // Buffers reused from line to line (a walk per line on dense logs).
    let (mut line_hits, mut starts, tmp) = sc.take_json_buffers();
    line_hits.extend_from_slice(sc.hits());
    // Candidate starts are the decoded text's when `%XX` was decoded.
    let pct = sc.scanned_decoded();
    if !pct {
        starts.extend_from_slice(sc.candidate_starts());
    }
    let ipv4_matters = pct
        || memchr::memchr(b'\\', line).is_some()
        || line_hits
            .iter()
            .any(|h| Some(h.ty) == sc.engine.matcher.ipv4_type());
    let ipv4 = sc.engine.matcher.ipv4_type();
    let mut w = Walker {
        b: line,
        i: 0,
        sc,
        out,
        findings,
        path: Vec::new(),
        tmp,
        scoped,
        line_hits,
        cursor: 0,
        starts,
        starts_known: !pct,
        start_cursor: 0,
        ipv4_matters,
        ipv4,
        field: None,
    };
    let result = w.walk(first);
    let Walker {
        sc,
        line_hits,
        starts,
        tmp,
        ..
    } = w;
    sc.give_json_buffers(line_hits, starts, tmp);
    result
}

/// Writes `bytes` as a JSON string (quotes included), escaping what JSON
/// requires; other bytes, including invalid UTF-8, are written as they are.
pub fn write_string(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in bytes {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    let mut v = 0u32;
    for &c in &b[..4] {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

/// Decodes the inside of a JSON string that has escapes (already validated).
fn decode(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' || i + 1 >= raw.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let e = raw[i + 1];
        i += 2;
        let ch = match e {
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'u' => {
                let hi = hex4(&raw[i..]).unwrap_or(0xFFFD);
                i += 4;
                let code = if (0xD800..0xDC00).contains(&hi)
                    && raw.get(i) == Some(&b'\\')
                    && raw.get(i + 1) == Some(&b'u')
                {
                    match hex4(&raw[i + 2..]) {
                        Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                            i += 6;
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        }
                        _ => 0xFFFD,
                    }
                } else {
                    hi
                };
                char::from_u32(code).unwrap_or('\u{FFFD}')
            }
            other => other as char,
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    out
}

/// What a member of an object is to a name/value entry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Name,
    Value,
    Other,
}

fn entry_role(key: &[u8]) -> Role {
    const NAMES: [&[u8]; 6] = [
        b"name",
        b"key",
        b"header",
        b"field",
        b"parameterkey",
        b"parametername",
    ];
    const VALUES: [&[u8]; 2] = [b"value", b"parametervalue"];
    // Runs on every key: most are ruled out by their first letter.
    if !matches!(
        key.first().map(u8::to_ascii_lowercase),
        Some(b'n' | b'k' | b'h' | b'f' | b'p' | b'v')
    ) {
        return Role::Other;
    }
    if NAMES.iter().any(|n| key.eq_ignore_ascii_case(n)) {
        Role::Name
    } else if VALUES.iter().any(|n| key.eq_ignore_ascii_case(n)) {
        Role::Value
    } else {
        Role::Other
    }
}

/// An entry's scalar value written before its name was seen.
struct Pending<'a> {
    key: Cow<'a, [u8]>,
    /// The raw value in the line (quotes included).
    raw: std::ops::Range<usize>,
    /// Where it was written, and the findings it made.
    out: std::ops::Range<usize>,
    findings: std::ops::Range<usize>,
}

/// The end (past `]`) of a byte array at `at`: at least 6 integers 0-255
/// and nothing else (`journalctl -o json` writes a field that is not UTF-8
/// this way). Shorter arrays of small numbers are left to the walker.
fn byte_array_end(b: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    let mut n = 0;
    loop {
        while b
            .get(i)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        {
            i += 1;
        }
        let digits = b[i.min(b.len())..]
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || digits > 3 || (digits > 1 && b[i] == b'0') {
            return None;
        }
        let v = b[i..i + digits]
            .iter()
            .fold(0u32, |v, c| v * 10 + u32::from(c - b'0'));
        if v > 255 {
            return None;
        }
        i += digits;
        n += 1;
        while b
            .get(i)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        {
            i += 1;
        }
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b']') if n >= 6 => return Some(i + 1),
            _ => return None,
        }
    }
}

/// The bytes a byte array (checked by [`byte_array_end`]) holds.
fn byte_values(raw: &[u8]) -> impl Iterator<Item = u8> + '_ {
    raw[1..raw.len() - 1].split(|&c| c == b',').map(|n| {
        n.trim_ascii()
            .iter()
            .fold(0u8, |v, c| v.wrapping_mul(10).wrapping_add(c - b'0'))
    })
}

/// True when a JSON object line holds a byte array: such a line must be
/// walked even when its raw bytes hold no candidate.
pub fn has_byte_array(line: &[u8]) -> bool {
    memchr::memchr_iter(b'[', line).any(|i| byte_array_end(line, i).is_some())
}

/// Writes `bytes` as a JSON array of numbers.
pub fn write_byte_array(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'[');
    for (k, &c) in bytes.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        let mut buf = [0u8; 3];
        let n = if c >= 100 {
            buf = [b'0' + c / 100, b'0' + c / 10 % 10, b'0' + c % 10];
            3
        } else if c >= 10 {
            buf[..2].copy_from_slice(&[b'0' + c / 10, b'0' + c % 10]);
            2
        } else {
            buf[0] = b'0' + c;
            1
        };
        out.extend_from_slice(&buf[..n]);
    }
    out.push(b']');
}

impl<'a> Walker<'a, '_, '_> {
    /// The whole line: one object and nothing after it.
    fn walk(&mut self, first: usize) -> Result<(), Reason> {
        self.ws_copy();
        if self.peek() != Some(b'{') {
            return Err(Reason::InvalidJson);
        }
        self.value(false, false, 0)?;
        self.ws_copy();
        if self.i != self.b.len() {
            return Err(Reason::InvalidJson);
        }
        if self.findings.len() - first > self.sc.engine.max_findings {
            return Err(Reason::TooManyFindings);
        }
        Ok(())
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws_copy(&mut self) {
        let start = self.i;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
        self.out.extend_from_slice(&self.b[start..self.i]);
    }

    fn skip_ws(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
        start
    }

    /// Parses a string at `self.i` (on its quote); returns the raw inside and
    /// whether it holds escapes. Strict: bad escapes and raw control bytes fail.
    fn string(&mut self) -> Result<(usize, usize, bool), Reason> {
        if self.peek() != Some(b'"') {
            return Err(Reason::InvalidJson);
        }
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        loop {
            let rest = &self.b[self.i..];
            let Some(j) = memchr::memchr3(b'"', b'\\', b'\n', rest).map(|j| j + self.i) else {
                return Err(Reason::InvalidJson);
            };
            if self.b[self.i..j].iter().any(|&c| c < 0x20) {
                return Err(Reason::InvalidJson);
            }
            match self.b[j] {
                b'"' => {
                    self.i = j + 1;
                    return Ok((start, j, escaped));
                }
                b'\\' => {
                    escaped = true;
                    match self.b.get(j + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.i = j + 2
                        }
                        Some(b'u') => {
                            hex4(self.b.get(j + 2..).unwrap_or_default())
                                .ok_or(Reason::InvalidJson)?;
                            self.i = j + 6;
                        }
                        _ => return Err(Reason::InvalidJson),
                    }
                }
                _ => return Err(Reason::InvalidJson),
            }
        }
    }

    /// What the line-level hits say about the raw bytes `a..z` of a string
    /// or number. Escapes or `%XX` mean the decoded text must be scanned on
    /// its own; so does a hit that crosses the value's edge.
    fn local(&mut self, a: usize, z: usize, escaped: bool) -> Local {
        if escaped || crate::scan::has_line_escape(&self.b[a..z]) {
            return Local::Scan;
        }
        while self.cursor < self.line_hits.len() && self.line_hits[self.cursor].end <= a {
            self.cursor += 1;
        }
        let first = self.cursor;
        let mut last = first;
        while let Some(h) = self.line_hits.get(last) {
            if h.start >= z {
                break;
            }
            if h.start < a || h.end > z {
                return Local::Scan;
            }
            last += 1;
        }
        if first == last {
            Local::Clean
        } else {
            Local::Hits(first, last)
        }
    }

    /// True when a candidate of the raw line starts inside `a..z` (or we
    /// cannot tell).
    fn candidate_in(&mut self, a: usize, z: usize) -> bool {
        if !self.starts_known {
            return true;
        }
        let starts = &self.starts;
        while self.start_cursor < starts.len() && starts[self.start_cursor] < a {
            self.start_cursor += 1;
        }
        starts.get(self.start_cursor).is_some_and(|&s| s < z)
    }

    /// Loads line hits `i..j` into the scrubber, relative to `a`.
    fn load(&mut self, i: usize, j: usize, a: usize, version: bool) -> bool {
        let ipv4 = self.ipv4;
        let hits = self.line_hits[i..j]
            .iter()
            .filter(|h| !(version && Some(h.ty) == ipv4))
            .map(|h| Hit {
                start: h.start - a,
                end: h.end - a,
                ty: h.ty,
            });
        self.sc.load_hits(hits);
        !self.sc.hits().is_empty()
    }

    fn in_scope(&self) -> bool {
        if !self.scoped {
            return true;
        }
        let e = self.sc.engine;
        let names: Vec<Cow<'_, str>> = self
            .path
            .iter()
            .map(|s| match s {
                Seg::Key(k) => String::from_utf8_lossy(k),
                Seg::Index(_) => Cow::Borrowed(""),
            })
            .collect();
        let segs: Vec<common::pointer::Seg<'_>> = self
            .path
            .iter()
            .zip(&names)
            .map(|(s, n)| match s {
                Seg::Key(_) => common::pointer::Seg::Key(n),
                Seg::Index(i) => common::pointer::Seg::Index(*i),
            })
            .collect();
        (e.fields.is_empty() || e.fields.iter().any(|p| p.covers(&segs)))
            && !e.skip_fields.iter().any(|p| p.covers(&segs))
    }

    fn pointer(&self) -> String {
        let mut p = String::new();
        for s in &self.path {
            p.push('/');
            match s {
                Seg::Key(k) => p.push_str(
                    &String::from_utf8_lossy(k)
                        .replace('~', "~0")
                        .replace('/', "~1"),
                ),
                Seg::Index(i) => p.push_str(&i.to_string()),
            }
        }
        p
    }

    /// Records the scrubber's current hits as findings; true if any says remove.
    /// `text`: the decoded string the hits lie in (for snippets).
    fn record_hits(&mut self, text: &[u8]) -> bool {
        let pointer = self.pointer();
        let mut remove = false;
        let e = self.sc.engine;
        let hits = self.sc.hits();
        for (i, h) in hits.iter().enumerate() {
            remove |= e.action(h.ty) == Action::Remove;
            self.findings.push(Finding {
                ty: h.ty,
                start: h.start,
                end: h.end,
                snippet: e.snippets.then(|| {
                    let mut s = format!("{pointer}: ").into_bytes();
                    s.extend(crate::snippet::around(e, text, hits, i));
                    s
                }),
                pointer: Some(pointer.clone()),
            });
        }
        remove
    }

    /// Scans a decoded scalar's text; writes the original raw bytes when
    /// clean, else the rewritten text as a JSON string. Returns "remove".
    /// `preloaded`: the scrubber already holds this value's hits.
    fn scalar(
        &mut self,
        raw: &[u8],
        text: &[u8],
        secret: bool,
        version: bool,
        preloaded: bool,
    ) -> bool {
        self.scalar_as(raw, text, secret, version, preloaded, write_string)
    }

    /// [`Self::scalar`], writing a rewritten value with `write` (a JSON
    /// string, or a byte array for a value that came as one).
    fn scalar_as(
        &mut self,
        raw: &[u8],
        text: &[u8],
        secret: bool,
        version: bool,
        preloaded: bool,
        write: fn(&[u8], &mut Vec<u8>),
    ) -> bool {
        let e = self.sc.engine;
        let whole = if secret {
            e.secret_ty
        } else {
            self.field.filter(|(f, _)| f.takes(text)).map(|(_, ty)| ty)
        };
        {
            if let Some(ty) = whole {
                if !validate::is_placeholder(text) {
                    let pointer = self.pointer();
                    let snippet = e.snippets.then(|| {
                        let hit = Hit {
                            start: 0,
                            end: text.len(),
                            ty,
                        };
                        let mut s = format!("{pointer}: ").into_bytes();
                        s.extend(crate::snippet::around(e, text, &[hit], 0));
                        s
                    });
                    self.findings.push(Finding {
                        ty,
                        start: 0,
                        end: text.len(),
                        pointer: Some(pointer),
                        snippet,
                    });
                    if e.action(ty) == Action::Remove {
                        return true;
                    }
                    self.tmp.clear();
                    actions::render(
                        e.action(ty),
                        e.name(ty),
                        text,
                        e.hasher.as_ref(),
                        &mut self.tmp,
                    );
                    write(&self.tmp, self.out);
                    return false;
                }
            }
        }
        if !preloaded {
            self.sc.find(
                text,
                Ctx {
                    version_field: version,
                },
            );
        }
        if self.sc.hits().is_empty() {
            self.out.extend_from_slice(raw);
            return false;
        }
        if self.record_hits(text) {
            return true;
        }
        self.tmp.clear();
        self.sc.replace_into(text, &mut self.tmp);
        write(&self.tmp, self.out);
        false
    }

    /// A byte array (`journalctl -o json` writes a field that is not UTF-8
    /// as `[108,111,...]`) ending at `z`: scanned as the bytes it holds, one
    /// value; a rewritten one stays a byte array.
    fn byte_array(&mut self, secret: bool, z: usize) -> bool {
        let b = self.b;
        let raw = &b[self.i..z];
        self.i = z;
        if !self.in_scope() {
            self.out.extend_from_slice(raw);
            return false;
        }
        let text: Vec<u8> = byte_values(raw).collect();
        self.scalar_as(raw, &text, secret, false, false, write_byte_array)
    }

    /// The phone or identity field a key (`ka..kz` in the line) names, if
    /// its type is selected and `--allow-key` does not name it.
    fn key_field(
        &mut self,
        key: &[u8],
        ka: usize,
        kz: usize,
        kesc: bool,
    ) -> Option<(keys::Field, crate::detectors::TypeId)> {
        let e = self.sc.engine;
        if e.key_fields.is_empty() || !(kesc || self.candidate_in(ka, kz)) {
            return None;
        }
        let f = e.key_fields.iter().find(|(f, _)| f.names(key)).copied()?;
        if e.matcher.key_allowed(key) {
            self.sc.allowed += 1;
            return None;
        }
        Some(f)
    }

    /// True when the string at `a..z` (quotes included) names a secret: the
    /// `name` of a `{"name":…,"value":…}` entry, or a header name before its
    /// value in an array (`["Authorization","Basic …"]`).
    fn names_secret(&mut self, a: usize, z: usize) -> bool {
        if self.sc.engine.secret_ty.is_none() || z < a + 2 || self.b[a] != b'"' {
            return false;
        }
        let inside = &self.b[a + 1..z - 1];
        let esc = memchr::memchr(b'\\', inside).is_some();
        if !esc && !self.candidate_in(a + 1, z - 1) {
            return false;
        }
        let name: Cow<'_, [u8]> = if esc {
            Cow::Owned(decode(inside))
        } else {
            Cow::Borrowed(inside)
        };
        keys::is_secret_name(&name) && !self.sc.engine.matcher.key_allowed(&name)
    }

    /// The entry's value was written before its name said secret: scrub it
    /// now, in place. Returns "remove" (the caller drops the whole entry).
    fn rescrub(&mut self, p: Pending<'a>) -> bool {
        let b = self.b;
        let raw = &b[p.raw.clone()];
        let text: Cow<'_, [u8]> = match raw.first() {
            Some(b'"') if memchr::memchr(b'\\', raw).is_some() => {
                Cow::Owned(decode(&raw[1..raw.len() - 1]))
            }
            Some(b'"') => Cow::Borrowed(&raw[1..raw.len() - 1]),
            _ => Cow::Borrowed(raw),
        };
        self.path.push(Seg::Key(p.key));
        let remove = self.in_scope() && {
            let (tail, f_tail) = (self.out.len(), self.findings.len());
            let remove = self.scalar(raw, &text, true, false, false);
            let new = self.out.split_off(tail);
            let found = self.findings.split_off(f_tail);
            if !remove {
                self.out.splice(p.out, new);
            }
            self.findings.splice(p.findings, found);
            remove
        };
        self.path.pop();
        remove
    }

    fn value(&mut self, secret: bool, version: bool, depth: usize) -> Result<bool, Reason> {
        match self.peek() {
            Some(b'{') => self.object(secret, depth + 1),
            Some(b'[') => match byte_array_end(self.b, self.i) {
                Some(z) => Ok(self.byte_array(secret, z)),
                None => self.array(secret, depth + 1),
            },
            Some(b'"') => {
                let (a, z, esc) = self.string()?;
                let b = self.b;
                if !self.in_scope() {
                    self.out.extend_from_slice(&b[a - 1..=z]);
                    return Ok(false);
                }
                let local = self.local(a, z, esc);
                let plain = !secret && self.field.is_none();
                let preloaded = match local {
                    Local::Clean if plain => {
                        self.out.extend_from_slice(&b[a - 1..=z]);
                        return Ok(false);
                    }
                    Local::Hits(i, j) => self.load(i, j, a, version),
                    _ => false,
                };
                if plain && matches!(local, Local::Hits(..)) && !preloaded {
                    self.out.extend_from_slice(&b[a - 1..=z]);
                    return Ok(false);
                }
                let text: Cow<'_, [u8]> = if esc {
                    Cow::Owned(decode(&b[a..z]))
                } else {
                    Cow::Borrowed(&b[a..z])
                };
                let preloaded = preloaded && !secret;
                Ok(self.scalar(&b[a - 1..=z], &text, secret, version, preloaded))
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                self.number()?;
                let b = self.b;
                if !self.in_scope() {
                    self.out.extend_from_slice(&b[start..self.i]);
                    return Ok(false);
                }
                let t = &b[start..self.i];
                let plain = !secret && self.field.is_none();
                let preloaded = match self.local(start, self.i, false) {
                    Local::Clean if plain => {
                        self.out.extend_from_slice(t);
                        return Ok(false);
                    }
                    Local::Hits(i, j) => self.load(i, j, start, version),
                    _ => false,
                };
                Ok(self.scalar(t, t, secret, version, preloaded && !secret))
            }
            _ => Err(Reason::InvalidJson),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<bool, Reason> {
        if self.b[self.i..].starts_with(word) {
            self.out.extend_from_slice(word);
            self.i += word.len();
            Ok(false)
        } else {
            Err(Reason::InvalidJson)
        }
    }

    fn digits(&mut self) -> usize {
        let s = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - s
    }

    fn number(&mut self) -> Result<(), Reason> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let lead = self.peek();
        let n = self.digits();
        if n == 0 || (lead == Some(b'0') && n > 1) {
            return Err(Reason::InvalidJson);
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(Reason::InvalidJson);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(Reason::InvalidJson);
            }
        }
        Ok(())
    }

    fn object(&mut self, secret: bool, depth: usize) -> Result<bool, Reason> {
        if depth > MAX_DEPTH {
            return Err(Reason::TooDeep);
        }
        self.out.push(b'{');
        self.i += 1;
        let save = self.i;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.out.extend_from_slice(&self.b[save..self.i]);
            self.out.push(b'}');
            self.i += 1;
            return Ok(false);
        }
        self.i = save;
        let mut wrote = false;
        let b = self.b;
        // A `{"name":"password","value":"…"}` entry (HAR, Kubernetes env,
        // AWS tags): the value is secret when the name says so.
        let mut name_secret = false;
        let mut pending: Option<Pending<'a>> = None;
        let mut drop_entry = false;
        loop {
            let mark = self.out.len();
            if wrote {
                self.out.push(b',');
            }
            self.ws_copy();
            let (ka, kz, kesc) = self.string()?;
            let key: Cow<'a, [u8]> = if kesc {
                Cow::Owned(decode(&b[ka..kz]))
            } else {
                Cow::Borrowed(&b[ka..kz])
            };
            let mut secret_here = secret
                || (self.sc.engine.secret_ty.is_some()
                    && (kesc || self.candidate_in(ka, kz))
                    && keys::is_secret_name(&key));
            if secret_here && !secret && self.sc.engine.matcher.key_allowed(&key) {
                // `--allow-key`: this key's value is scanned like any other.
                secret_here = false;
                self.sc.allowed += 1;
            }
            let role = if secret || self.sc.engine.secret_ty.is_none() {
                Role::Other
            } else {
                entry_role(&key)
            };
            secret_here |= role == Role::Value && name_secret;
            let version = self.ipv4_matters && keys::is_version_name(&key);
            // Cheap for the usual unescaped key (a borrow of the line).
            let key_scan = key.clone();
            self.path.push(Seg::Key(key));
            // Keys are kept, but a key that is itself personal data
            // (`{"john@example.com": 3}`) is scrubbed like a value.
            let mut remove = false;
            let local = self.local(ka, kz, kesc);
            let key_hits = !matches!(local, Local::Clean) && self.in_scope() && {
                match local {
                    Local::Hits(i, j) => {
                        self.load(i, j, ka, false);
                    }
                    _ => {
                        self.sc.find(&key_scan, Ctx::default());
                    }
                }
                if self.sc.hits().is_empty() {
                    false
                } else {
                    remove = self.record_hits(&key_scan);
                    self.tmp.clear();
                    self.sc.replace_into(&key_scan, &mut self.tmp);
                    true
                }
            };
            if key_hits {
                write_string(&self.tmp, self.out);
            } else {
                self.out.extend_from_slice(&b[ka - 1..=kz]);
            }
            self.ws_copy();
            if self.peek() != Some(b':') {
                return Err(Reason::InvalidJson);
            }
            self.out.push(b':');
            self.i += 1;
            self.ws_copy();
            let (at, out_at, found_at) = (self.i, self.out.len(), self.findings.len());
            let outer = self.field;
            if !secret_here {
                if let Some(f) = self.key_field(&key_scan, ka, kz, kesc) {
                    self.field = Some(f);
                }
            }
            let removed = self.value(secret_here, version, depth);
            self.field = outer;
            let removed = removed? || remove;
            self.path.pop();
            if !removed {
                match role {
                    Role::Name if !name_secret && self.names_secret(at, self.i) => {
                        name_secret = true;
                        if let Some(p) = pending.take() {
                            drop_entry |= self.rescrub(p);
                        }
                    }
                    Role::Value if !secret_here && !matches!(b[at], b'{' | b'[') => {
                        pending = Some(Pending {
                            key: key_scan,
                            raw: at..self.i,
                            out: out_at..self.out.len(),
                            findings: found_at..self.findings.len(),
                        });
                    }
                    _ => {}
                }
            }
            if removed {
                self.out.truncate(mark);
            } else {
                wrote = true;
            }
            let ws = self.skip_ws();
            if !removed {
                self.out.extend_from_slice(&b[ws..self.i]);
            }
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.out.push(b'}');
                    self.i += 1;
                    return Ok(drop_entry);
                }
                _ => return Err(Reason::InvalidJson),
            }
        }
    }

    fn array(&mut self, secret: bool, depth: usize) -> Result<bool, Reason> {
        if depth > MAX_DEPTH {
            return Err(Reason::TooDeep);
        }
        self.out.push(b'[');
        self.i += 1;
        let save = self.i;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.out.extend_from_slice(&self.b[save..self.i]);
            self.out.push(b']');
            self.i += 1;
            return Ok(false);
        }
        self.i = save;
        let mut wrote = false;
        let b = self.b;
        let mut index = 0;
        let mut next_secret = false;
        loop {
            let mark = self.out.len();
            if wrote {
                self.out.push(b',');
            }
            self.ws_copy();
            self.path.push(Seg::Index(index));
            let at = self.i;
            let removed = self.value(secret || next_secret, false, depth)?;
            self.path.pop();
            // `["Authorization","Basic …"]`, `["Host","x","Cookie","a=b"]`:
            // a secret name at an even index makes the next element secret.
            next_secret = !secret && index % 2 == 0 && !removed && self.names_secret(at, self.i);
            index += 1;
            if removed {
                self.out.truncate(mark);
            } else {
                wrote = true;
            }
            let ws = self.skip_ws();
            if !removed {
                self.out.extend_from_slice(&b[ws..self.i]);
            }
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.out.push(b']');
                    self.i += 1;
                    return Ok(false);
                }
                _ => return Err(Reason::InvalidJson),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_handles_escapes_and_surrogates() {
        assert_eq!(
            decode(br#"a\"b\\c\n\u0040\ud83d\ude00"#),
            "a\"b\\c\n@😀".as_bytes()
        );
        assert_eq!(decode(br"\ud800x"), "\u{FFFD}x".as_bytes());
    }

    #[test]
    fn byte_arrays_are_six_or_more_integers_0_to_255() {
        assert_eq!(byte_array_end(b"[1,2,3,4,5,6]x", 0), Some(13));
        assert_eq!(byte_array_end(b"[ 0 ,255,\n9, 10,100,7 ]", 0), Some(23));
        for no in [
            &b"[1,2,3,4,5]"[..],
            b"[1,2,3,4,5,256]",
            b"[1,2,3,4,5,06]",
            b"[1,2,3,4,5,-6]",
            b"[1,2,3,4,5,6.0]",
            b"[1,2,3,4,5,\"6\"]",
            b"[1,2,3,4,5,6",
        ] {
            assert_eq!(
                byte_array_end(no, 0),
                None,
                "{}",
                String::from_utf8_lossy(no)
            );
        }
        let raw = b"[0, 9,10 ,99,100,255]";
        let bytes: Vec<u8> = byte_values(raw).collect();
        assert_eq!(bytes, [0, 9, 10, 99, 100, 255]);
        let mut out = Vec::new();
        write_byte_array(&bytes, &mut out);
        assert_eq!(out, b"[0,9,10,99,100,255]");
    }

    #[test]
    fn strings_round_trip_through_write_string() {
        let mut out = Vec::new();
        write_string(b"a\"b\\c\n\x01\xff", &mut out);
        assert_eq!(out, b"\"a\\\"b\\\\c\\n\\u0001\xff\"");
    }
}
