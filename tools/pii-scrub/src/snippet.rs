//! Context for people judging a finding (`--dry-run --format text`): the
//! finding and up to 40 bytes either side, with every finding in that text
//! masked (`j***@acme.com`, `********`) and the one in question marked
//! `>>…<<`. A person doing forensics can tell `getty@tty1.service` from an
//! address without seeing any value.

use crate::actions::{self, Action};
use crate::config::Engine;
use crate::detectors::Hit;

const CONTEXT: usize = 40;

/// `hay` with its `hits` masked, cut around hit number `target`.
pub fn around(engine: &Engine, hay: &[u8], hits: &[Hit], target: usize) -> Vec<u8> {
    let mut masked = Vec::with_capacity(hay.len() + 16);
    let (mut mark_start, mut mark_end, mut last) = (0, 0, 0);
    for (i, h) in hits.iter().enumerate() {
        masked.extend_from_slice(&hay[last.min(h.start)..h.start]);
        if i == target {
            mark_start = masked.len();
            masked.extend_from_slice(b">>");
        }
        let value = &hay[h.start..h.end];
        actions::render(Action::Mask, engine.name(h.ty), value, None, &mut masked);
        if i == target {
            masked.extend_from_slice(b"<<");
            mark_end = masked.len();
        }
        last = last.max(h.end);
    }
    masked.extend_from_slice(&hay[last.min(hay.len())..]);

    let mut out = Vec::with_capacity(2 * CONTEXT + 32);
    let from = if mark_start > CONTEXT {
        // Start at a word after the cut, and on a character boundary.
        let mut f = mark_start - CONTEXT;
        if let Some(sp) = masked[f..mark_start].iter().position(|&b| b == b' ') {
            f += sp + 1;
        }
        while f < mark_start && masked[f] & 0xC0 == 0x80 {
            f += 1;
        }
        out.extend_from_slice(b"...");
        f
    } else {
        0
    };
    out.extend_from_slice(&masked[from..mark_end]);
    let to = if masked.len() - mark_end > CONTEXT {
        let mut t = mark_end + CONTEXT;
        if let Some(sp) = masked[mark_end + 1..t].iter().rposition(|&b| b == b' ') {
            t = mark_end + 1 + sp;
        }
        while t > mark_end && masked[t] & 0xC0 == 0x80 {
            t -= 1;
        }
        t
    } else {
        masked.len()
    };
    out.extend_from_slice(&masked[mark_end..to]);
    if to < masked.len() {
        out.extend_from_slice(b"...");
    }
    out
}

/// The snippet as one printable line: control bytes escaped, invalid UTF-8
/// shown as U+FFFD.
pub fn printable(snippet: &[u8]) -> String {
    let text = String::from_utf8_lossy(snippet);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}
