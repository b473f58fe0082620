//! Scanning a haystack (a text line, a JSON string value) and writing it
//! back with findings replaced.
//!
//! Besides the bytes as they are, a haystack holding `%XX`, `\xXX` or
//! `\uXXXX` escapes is also scanned decoded (`john%40example.com`, nginx's
//! `\x22password\x22:\x22…`), with spans mapped back to the raw bytes, so
//! encoding does not hide a value ([`crate::escapes`]).

use crate::actions;
use crate::config::Engine;
use crate::detectors::{self, Ctx, Hit, Scratch, TypeId};
use crate::escapes;

/// One finding, located; never holds the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub ty: TypeId,
    pub start: usize,
    pub end: usize,
    /// JSON Pointer of the value, for JSON lines.
    pub pointer: Option<String>,
    /// For people (`--dry-run --format text`): the finding in its context,
    /// every finding in it masked.
    pub snippet: Option<Vec<u8>>,
}

/// Why a line could not be scrubbed safely.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    LineTooLong,
    InvalidJson,
    TooDeep,
    TooManyFindings,
    DecodeError,
    /// UTF-16 text after the start of an input (invisible to byte patterns).
    Utf16,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::LineTooLong => "line_too_long",
            Reason::InvalidJson => "invalid_json",
            Reason::TooDeep => "too_deep",
            Reason::TooManyFindings => "too_many_findings",
            Reason::DecodeError => "decode_error",
            Reason::Utf16 => "utf16",
        }
    }
}

/// What became of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineOut {
    /// Nothing found: write the line as it came.
    Clean,
    /// Rewritten: write the scrubber's buffer.
    Changed,
    /// Part of a private key block: write nothing.
    Dropped,
}

/// Per-thread scanning state; reused from line to line.
#[derive(Debug)]
pub struct Scrubber<'e> {
    pub engine: &'e Engine,
    scratch: Scratch,
    hits: Vec<Hit>,
    decoded: Vec<u8>,
    map: Vec<usize>,
    /// The next layer of percent-decoding, swapped with `decoded`.
    decoded2: Vec<u8>,
    map2: Vec<usize>,
    dhits: Vec<Hit>,
    /// Values left alone because an allow-list matched.
    pub allowed: u64,
    /// Inside a multi-line PEM private key block (text lines).
    pem_open: bool,
    /// After a YAML secret key whose value is on the next lines (text
    /// lines): the key's column and the type to report.
    yaml_open: Option<(usize, TypeId)>,
    /// The last `find` ended at a YAML secret key with its value on the
    /// next lines.
    open_value: Option<(usize, TypeId)>,
    /// The last `find` met a secret key's candidate (validated or not).
    pub saw_key_candidate: bool,
    /// Count secret pairs left alone by `--allow-key` (off for the raw scan
    /// of a JSON line, whose keys the walker counts).
    pub count_allowed_keys: bool,
    /// Also decode `\xXX` and `\uXXXX` for the second scan (off for the
    /// raw scan of a JSON line, whose strings the walker decodes itself).
    pub decode_backslash: bool,
    scanned_decoded: bool,
    /// The JSON walker's buffers, kept between lines.
    json_buffers: (Vec<Hit>, Vec<usize>, Vec<u8>),
}

/// `%XX` or a character reference (`&quot;`): escapes that are decoded
/// even in the raw bytes of a JSON line (the walker decodes `\` escapes).
pub fn has_line_escape(hay: &[u8]) -> bool {
    escapes::has_escape(hay, false)
}

/// A PEM body line: base64, blank, or an RFC 1421 header.
fn is_pem_body(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    t.is_empty()
        || t.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        || t.starts_with(b"Proc-Type:")
        || t.starts_with(b"DEK-Info:")
}

impl<'e> Scrubber<'e> {
    pub fn new(engine: &'e Engine) -> Self {
        Scrubber {
            engine,
            scratch: engine.matcher.scratch(),
            hits: Vec::new(),
            decoded: Vec::new(),
            map: Vec::new(),
            decoded2: Vec::new(),
            map2: Vec::new(),
            dhits: Vec::new(),
            allowed: 0,
            pem_open: false,
            yaml_open: None,
            open_value: None,
            saw_key_candidate: false,
            count_allowed_keys: true,
            decode_backslash: true,
            scanned_decoded: false,
            json_buffers: Default::default(),
        }
    }

    /// Finds, validates, allow-filters and merges the hits in `hay`; they are
    /// left in `self.hits`. Returns true when a private key block is left open.
    pub fn find(&mut self, hay: &[u8], ctx: Ctx) -> bool {
        self.hits.clear();
        let m = &self.engine.matcher;
        let found = m.find(hay, ctx, &mut self.scratch, &mut self.hits);
        let mut open = found.pem_open;
        let mut open_value = self.scratch.open_value;
        self.saw_key_candidate = found.key_candidates;
        self.scanned_decoded = hay.len() >= 3 && escapes::has_escape(hay, self.decode_backslash);
        if self.scanned_decoded {
            escapes::decode(hay, self.decode_backslash, &mut self.decoded, &mut self.map);
            // Each layer is scanned: percent-encoding repeated (a URL in a
            // query parameter: `%2540` is `@`) is decoded again, at most
            // `MAX_LAYERS` times in all.
            for layer in 0..escapes::MAX_LAYERS {
                if layer > 0 {
                    if !escapes::has_percent(&self.decoded) {
                        break;
                    }
                    escapes::decode_percent(
                        &self.decoded,
                        &self.map,
                        &mut self.decoded2,
                        &mut self.map2,
                    );
                    std::mem::swap(&mut self.decoded, &mut self.decoded2);
                    std::mem::swap(&mut self.map, &mut self.map2);
                }
                self.dhits.clear();
                let found = m.find(&self.decoded, ctx, &mut self.scratch, &mut self.dhits);
                open |= found.pem_open;
                open_value = open_value.or(self.scratch.open_value);
                self.saw_key_candidate |= found.key_candidates;
                for h in &self.dhits {
                    if self.engine.allowed(&self.decoded[h.start..h.end]) {
                        self.allowed += 1;
                        continue;
                    }
                    let (start, end) = escapes::raw_span(&self.map, h.start, h.end);
                    self.hits.push(Hit {
                        start,
                        end,
                        ty: h.ty,
                    });
                }
            }
        }
        if self.engine.has_allow() {
            let before = self.hits.len();
            let engine = self.engine;
            self.hits.retain(|h| !engine.allowed(&hay[h.start..h.end]));
            self.allowed += (before - self.hits.len()) as u64;
        }
        let keys = std::mem::take(&mut self.scratch.allowed_keys);
        if self.count_allowed_keys {
            self.allowed += keys;
        }
        detectors::resolve(&mut self.hits);
        self.open_value = open_value;
        open
    }

    /// True when the last search also scanned a decoded copy (so
    /// [`Self::candidate_starts`] are the decoded text's).
    pub fn scanned_decoded(&self) -> bool {
        self.scanned_decoded
    }

    /// Where the candidates of the last search started (of the decoded
    /// text, when the haystack held escapes).
    pub fn candidate_starts(&self) -> &[usize] {
        &self.scratch.starts
    }

    /// Empty buffers for the JSON walker (line hits, candidate starts, scratch).
    pub fn take_json_buffers(&mut self) -> (Vec<Hit>, Vec<usize>, Vec<u8>) {
        let (mut h, mut s, mut t) = std::mem::take(&mut self.json_buffers);
        h.clear();
        s.clear();
        t.clear();
        (h, s, t)
    }

    pub fn give_json_buffers(&mut self, hits: Vec<Hit>, starts: Vec<usize>, tmp: Vec<u8>) {
        self.json_buffers = (hits, starts, tmp);
    }

    /// Replaces the current hits (already validated, sorted, merged).
    pub fn load_hits(&mut self, hits: impl Iterator<Item = Hit>) {
        self.hits.clear();
        self.hits.extend(hits);
    }

    pub fn hits(&self) -> &[Hit] {
        &self.hits
    }

    /// Writes `hay` to `out` with each of `self.hits` replaced by its action.
    pub fn replace_into(&self, hay: &[u8], out: &mut Vec<u8>) {
        let e = self.engine;
        let mut last = 0;
        for h in &self.hits {
            out.extend_from_slice(&hay[last..h.start]);
            actions::render(
                e.action(h.ty),
                e.name(h.ty),
                &hay[h.start..h.end],
                e.hasher.as_ref(),
                out,
            );
            last = h.end;
        }
        out.extend_from_slice(&hay[last..]);
    }

    /// Scrubs one text line (without its terminator); a changed line is
    /// written to `out`.
    pub fn text_line(
        &mut self,
        line: &[u8],
        out: &mut Vec<u8>,
        findings: &mut Vec<Finding>,
    ) -> Result<LineOut, Reason> {
        if let Some(out_line) = self.yaml_value_line(line, out, findings) {
            return Ok(out_line);
        }
        let mut rest = line;
        let mut offset = 0;
        if self.pem_open {
            if let Some(end) = self.engine.matcher.pem_end(line) {
                self.pem_open = false;
                rest = &line[end..];
                offset = end;
            } else if is_pem_body(line) {
                return Ok(LineOut::Dropped);
            } else {
                // Not key material: the block was cut short; this line is ordinary.
                self.pem_open = false;
            }
        }
        let open = self.find(rest, Ctx::default());
        if self.hits.len() > self.engine.max_findings {
            return Err(Reason::TooManyFindings);
        }
        self.pem_open = open;
        self.yaml_open = if offset == 0 { self.open_value } else { None };
        for (i, h) in self.hits.iter().enumerate() {
            findings.push(Finding {
                ty: h.ty,
                start: h.start + offset,
                end: h.end + offset,
                pointer: None,
                snippet: self
                    .engine
                    .snippets
                    .then(|| crate::snippet::around(self.engine, rest, &self.hits, i)),
            });
        }
        if self.hits.is_empty() && offset == 0 {
            return Ok(LineOut::Clean);
        }
        self.replace_into(rest, out);
        Ok(LineOut::Changed)
    }

    /// A line of a YAML secret's value (after `password:` or `token: |`):
    /// its content is the secret. Blank lines keep the value open; a line
    /// indented no deeper than the key ends it (and is scanned as usual).
    fn yaml_value_line(
        &mut self,
        line: &[u8],
        out: &mut Vec<u8>,
        findings: &mut Vec<Finding>,
    ) -> Option<LineOut> {
        let (col, ty) = self.yaml_open?;
        if line.trim_ascii().is_empty() {
            return Some(LineOut::Clean);
        }
        let Some(r) = detectors::pairs::continuation(line, col) else {
            self.yaml_open = None;
            return None;
        };
        let value = &line[r.clone()];
        if crate::detectors::validate::is_placeholder(value) {
            return Some(LineOut::Clean); // already scrubbed
        }
        if self.engine.allowed(value) {
            self.allowed += 1;
            return Some(LineOut::Clean);
        }
        let hit = Hit {
            start: r.start,
            end: r.end,
            ty,
        };
        self.hits.clear();
        self.hits.push(hit);
        findings.push(Finding {
            ty,
            start: r.start,
            end: r.end,
            pointer: None,
            snippet: self
                .engine
                .snippets
                .then(|| crate::snippet::around(self.engine, line, &self.hits, 0)),
        });
        self.replace_into(line, out);
        Some(LineOut::Changed)
    }

    /// Returns the scratch space to the matcher's pool (end of an input).
    pub fn finish(self) {
        self.engine.matcher.recycle(self.scratch);
    }

    /// Forgets a PEM block left open (at the end of an input).
    pub fn end_of_input(&mut self) -> bool {
        self.yaml_open = None;
        std::mem::take(&mut self.pem_open)
    }
}
