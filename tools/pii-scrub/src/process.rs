//! One input stream, line by line: split on `\n` without copying when the
//! line lies in the read buffer, route each line to the JSON or text
//! scrubber, write clean lines through untouched, and hand findings and
//! quarantined lines to a sink.
//!
//! We read lines here rather than with `common::lines::LineReader` because a
//! filter must give back every byte it does not scrub: `\r`, a BOM and a
//! missing final newline are all kept as they came.

use std::io::{BufRead, Write};

use memchr::memchr;

use common::{Error, Result};

use crate::config::Engine;
use crate::detectors::Ctx;
use crate::json;
use crate::scan::{Finding, LineOut, Reason, Scrubber};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Something the report needs to hear about, in input order.
#[derive(Debug)]
pub enum Event {
    Finding {
        line: u64,
        finding: Finding,
    },
    Quarantined {
        line: u64,
        reason: Reason,
        bytes: u64,
        raw: Option<Vec<u8>>,
    },
}

/// Figures for one input.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub lines: u64,
    pub json_lines: u64,
    pub bytes: u64,
    pub lines_changed: u64,
    pub allowed: u64,
    pub findings: u64,
    pub quarantined: u64,
    /// JSON-looking lines that did not parse, scrubbed as text
    /// (`--on-invalid-json text`).
    pub invalid_json_as_text: u64,
    pub interrupted: bool,
}

/// Receives events in order; an error from it stops the input.
pub type Sink<'a> = &'a mut dyn FnMut(Event) -> Result<()>;

/// Why an input stopped: its own bytes (the run goes on with other inputs)
/// or our output (the run cannot go on).
#[derive(Debug)]
pub enum Failure {
    Input(Error),
    Output(Error),
}

impl Failure {
    pub fn into_error(self) -> Error {
        match self {
            Failure::Input(e) | Failure::Output(e) => e,
        }
    }
}

type Res<T> = std::result::Result<T, Failure>;

struct State<'e, 'w> {
    sc: Scrubber<'e>,
    out: Option<&'w mut dyn Write>,
    out_name: &'w str,
    keep_raw: bool,
    buf: Vec<u8>,
    findings: Vec<Finding>,
    stats: Stats,
    /// A UTF-16 line was met: from now on every line holding a NUL is
    /// UTF-16 too (the `\0` after its last newline starts the next line).
    utf16_seen: bool,
}

/// Scrubs `reader` into `out` (if any). `keep_raw`: quarantined lines carry
/// their bytes in the event (for `--quarantine FILE`).
pub fn process<'w>(
    engine: &Engine,
    name: &str,
    reader: &mut dyn BufRead,
    out: Option<&'w mut dyn Write>,
    out_name: &'w str,
    keep_raw: bool,
    sink: Sink<'_>,
) -> Res<Stats> {
    let mut st = State {
        sc: Scrubber::new(engine),
        out,
        out_name,
        keep_raw,
        buf: Vec::new(),
        findings: Vec::new(),
        stats: Stats::default(),
        utf16_seen: false,
    };
    let max = engine.max_line;
    let mut carry: Vec<u8> = Vec::new();
    let mut oversized: Option<u64> = None;
    loop {
        if common::interrupt::requested() {
            st.stats.interrupted = true;
            break;
        }
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // A corrupt `.gz` or a failing disk: the part of a line read so
                // far cannot be judged whole, so it is quarantined, not written.
                if !carry.is_empty() || oversized.is_some() {
                    st.stats.lines += 1;
                    st.stats.quarantined += 1;
                    let bytes = oversized.unwrap_or(carry.len() as u64);
                    let raw = (keep_raw && oversized.is_none()).then(|| std::mem::take(&mut carry));
                    sink(Event::Quarantined {
                        line: st.stats.lines,
                        reason: Reason::DecodeError,
                        bytes,
                        raw,
                    })
                    .map_err(Failure::Output)?;
                }
                return Err(Failure::Input(Error::io(name, e).context("reading")));
            }
        };
        if chunk.is_empty() {
            break;
        }
        if st.stats.bytes == 0 && carry.is_empty() && oversized.is_none() {
            if let Some(kind) = utf16(chunk) {
                // Its text is invisible to byte patterns (`a\0@\0`): refused
                // whole, before a byte of it is written (issue 14).
                return Err(Failure::Input(Error::new(format!(
                    "{name}: looks like {kind} text; pii-scrub reads UTF-8 (or ASCII) logs, so nothing of it was scrubbed or written (convert it first: iconv -f {kind} -t UTF-8)"
                ))));
            }
        }
        let n = chunk.len();
        let mut pos = 0;
        while let Some(i) = memchr(b'\n', &chunk[pos..]) {
            let end = pos + i;
            if let Some(total) = oversized.take() {
                st.oversized(total + i as u64, true, sink)?;
            } else if carry.is_empty() {
                if end - pos > max {
                    st.oversized((end - pos) as u64, true, sink)?;
                } else {
                    st.line(&chunk[pos..end], true, sink)?;
                }
            } else if carry.len() + i > max {
                st.oversized((carry.len() + i) as u64, true, sink)?;
                carry.clear();
            } else {
                carry.extend_from_slice(&chunk[pos..end]);
                let line = std::mem::take(&mut carry);
                st.line(&line, true, sink)?;
                carry = line;
                carry.clear();
            }
            pos = end + 1;
        }
        let tail = &chunk[pos..];
        if let Some(total) = oversized.as_mut() {
            *total += tail.len() as u64;
        } else if carry.len() + tail.len() > max {
            oversized = Some((carry.len() + tail.len()) as u64);
            carry = Vec::new();
        } else {
            carry.extend_from_slice(tail);
        }
        reader.consume(n);
    }
    if !st.stats.interrupted {
        if let Some(total) = oversized {
            st.oversized(total, false, sink)?;
        } else if !carry.is_empty() {
            st.line(&carry, false, sink)?;
        }
    }
    st.sc.end_of_input();
    st.stats.allowed = st.sc.allowed;
    let flushed = match st.out.as_mut() {
        Some(out) => out
            .flush()
            .map_err(|e| Failure::Output(Error::io(st.out_name, e))),
        None => Ok(()),
    };
    let stats = st.stats;
    st.sc.finish();
    flushed.map(|()| stats)
}

/// `UTF-16LE`/`UTF-16BE` when the start of an input is UTF-16: a BOM, or
/// NULs in every other byte (ASCII text encoded as UTF-16 without a BOM).
fn utf16(head: &[u8]) -> Option<&'static str> {
    // A BOM, then text with a NUL in it (ASCII as UTF-16): `\xFF\xFE` alone
    // is as likely two bytes of binary noise before a UTF-8 line.
    let nul_after_bom = head.len() <= 2 || memchr(0, &head[2..head.len().min(512)]).is_some();
    if head.starts_with(b"\xFF\xFE") && nul_after_bom {
        return Some("UTF-16LE");
    }
    if head.starts_with(b"\xFE\xFF") && nul_after_bom {
        return Some("UTF-16BE");
    }
    let n = head.len().min(512) & !1;
    if n < 8 {
        return None;
    }
    let pairs = n / 2;
    let (mut even, mut odd) = (0, 0);
    for p in head[..n].chunks_exact(2) {
        even += usize::from(p[0] == 0);
        odd += usize::from(p[1] == 0);
    }
    // 90% of one side NUL, almost none of the other.
    if odd * 10 >= pairs * 9 && even * 10 < pairs {
        Some("UTF-16LE")
    } else if even * 10 >= pairs * 9 && odd * 10 < pairs {
        Some("UTF-16BE")
    } else {
        None
    }
}

/// True when a line is UTF-16 text (ASCII or Latin-1 letters in it put a
/// NUL in every other byte): four ASCII characters in a row so encoded, or
/// most bytes on one side NUL and almost none on the other. The refusal at the start of an input does not see UTF-16 appended
/// to a UTF-8 log (issue: hostile trial leak 8); its text, `m\0a\0i\0l\0`,
/// is invisible to byte patterns. NUL padding (both sides) is not UTF-16.
fn utf16_line(line: &[u8]) -> bool {
    let (mut even, mut odd) = (0usize, 0usize);
    // A run of ASCII characters as UTF-16 (`m\0a\0i\0l\0`) anywhere in the
    // line, even after UTF-8 text that dilutes the ratio below.
    let (mut run, mut last) = (0usize, usize::MAX);
    for i in memchr::memchr_iter(0, line) {
        if i % 2 == 0 {
            even += 1;
        } else {
            odd += 1;
        }
        let printable_before = i > 0 && (0x20..0x7f).contains(&line[i - 1]);
        run = match (printable_before, last.checked_add(2) == Some(i)) {
            (false, _) => 0,
            (true, true) => run + 1,
            (true, false) => 1,
        };
        if run >= 4 {
            return true;
        }
        last = i;
    }
    let (n_even, n_odd) = (line.len().div_ceil(2), line.len() / 2);
    let one_sided =
        |nul: usize, n: usize, other: usize, m: usize| n >= 2 && nul * 4 >= n * 3 && other * 8 <= m;
    one_sided(even, n_even, odd, n_odd) || one_sided(odd, n_odd, even, n_even)
}

impl State<'_, '_> {
    fn write(&mut self, bytes: &[u8]) -> Res<()> {
        match self.out.as_mut() {
            Some(w) => w
                .write_all(bytes)
                .map_err(|e| Failure::Output(Error::io(self.out_name, e))),
            None => Ok(()),
        }
    }

    fn oversized(&mut self, len: u64, terminated: bool, sink: Sink<'_>) -> Res<()> {
        self.stats.lines += 1;
        self.stats.bytes += len + u64::from(terminated);
        self.stats.quarantined += 1;
        sink(Event::Quarantined {
            line: self.stats.lines,
            reason: Reason::LineTooLong,
            bytes: len,
            raw: None,
        })
        .map_err(Failure::Output)
    }

    fn line(&mut self, line: &[u8], terminated: bool, sink: Sink<'_>) -> Res<()> {
        self.stats.lines += 1;
        self.stats.bytes += line.len() as u64 + u64::from(terminated);
        let number = self.stats.lines;
        let (bom, body) = if number == 1 && line.starts_with(BOM) {
            (BOM, &line[BOM.len()..])
        } else {
            (&b""[..], line)
        };
        self.buf.clear();
        self.findings.clear();
        // Fail closed: a UTF-16 line cannot be scanned, so it never passes.
        let utf16 = memchr(0, body).is_some() && (self.utf16_seen || utf16_line(body));
        self.utf16_seen |= utf16;
        let result = if utf16 {
            Err(Reason::Utf16)
        } else if json::looks_like_json(body) {
            self.stats.json_lines += 1;
            self.sc.end_of_input();
            match self.json_line(body) {
                Err(Reason::InvalidJson) if self.sc.engine.invalid_json_as_text => {
                    self.stats.invalid_json_as_text += 1;
                    self.buf.clear();
                    self.findings.clear();
                    self.sc.text_line(body, &mut self.buf, &mut self.findings)
                }
                other => other,
            }
        } else {
            self.sc.text_line(body, &mut self.buf, &mut self.findings)
        };
        match result {
            Err(reason) => {
                // Fail closed: nothing of this line reaches the output.
                self.stats.quarantined += 1;
                let raw = self.keep_raw.then(|| line.to_vec());
                sink(Event::Quarantined {
                    line: number,
                    reason,
                    bytes: line.len() as u64,
                    raw,
                })
                .map_err(Failure::Output)
            }
            Ok(how) => {
                let keep = how != LineOut::Dropped;
                if how == LineOut::Clean {
                    self.write(line)?;
                } else {
                    self.stats.lines_changed += 1;
                    if keep {
                        self.write(bom)?;
                        let buf = std::mem::take(&mut self.buf);
                        let r = self.write(&buf);
                        self.buf = buf;
                        r?;
                    }
                }
                if keep && terminated {
                    self.write(b"\n")?;
                }
                self.stats.findings += self.findings.len() as u64;
                for finding in self.findings.drain(..) {
                    sink(Event::Finding {
                        line: number,
                        finding,
                    })
                    .map_err(Failure::Output)?;
                }
                Ok(())
            }
        }
    }

    /// JSON lines: a line whose raw bytes hold no finding and no secret
    /// key's candidate, with no escapes and no `%XX` (whose decoded text the
    /// walker would scan), only needs to be valid JSON (serde's validator is
    /// fast); anything else, or a line serde refuses, is walked field by
    /// field. Look-alikes (order numbers, versions) are candidates that were
    /// all rejected: they no longer send a line to the walker.
    fn json_line(&mut self, body: &[u8]) -> std::result::Result<LineOut, Reason> {
        // One scan of the raw line; its hits are handed to the walker (which
        // counts the keys `--allow-key` leaves alone itself).
        self.sc.count_allowed_keys = false;
        self.sc.decode_backslash = false;
        self.sc.find(body, Ctx::default());
        self.sc.count_allowed_keys = true;
        self.sc.decode_backslash = true;
        if self.sc.hits().is_empty()
            && !self.sc.saw_key_candidate
            && memchr(b'\\', body).is_none()
            && !crate::escapes::has_escape(body, false)
            && !json::has_byte_array(body)
            // serde stops at its own depth limit; deep lines take the walker,
            // which quarantines them as too_deep rather than passing them on.
            && memchr::memchr2_iter(b'{', b'[', body).nth(json::MAX_DEPTH).is_none()
            && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
        {
            return Ok(LineOut::Clean);
        }
        json::scrub_line(body, &mut self.sc, &mut self.buf, &mut self.findings, true)?;
        Ok(if self.findings.is_empty() {
            LineOut::Clean
        } else {
            LineOut::Changed
        })
    }
}
