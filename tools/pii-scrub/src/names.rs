//! Names the report writes (file names, JSON Pointers) with the personal
//! data in them masked the way snippets are (`m***@example.de`,
//! `************1111`). A finding names where and what, never the value,
//! but a value that is an object KEY is part of its own pointer
//! (`/sessions/4111111111111111`), and a file can be named after a person
//! (`maria.schmidt@example.de.log`): a second trial found both in the
//! report sealed as evidence.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::actions::{self, Action};
use crate::config::Engine;
use crate::detectors::Ctx;
use crate::scan::Scrubber;

/// Names seen before are not scanned again; the cache is bounded.
const CACHE: usize = 4096;

/// Masks names for the report, remembering recent ones.
#[derive(Debug, Default)]
pub struct Masker {
    seen: HashMap<String, String>,
}

impl Masker {
    /// `path` (a file name or a JSON Pointer) with each `/`-separated part
    /// masked where it holds a finding.
    pub fn path(&mut self, engine: &Engine, path: &str) -> String {
        if let Some(m) = self.seen.get(path) {
            return m.clone();
        }
        let masked = path
            .split('/')
            .map(|part| mask_part(engine, part))
            .collect::<Vec<_>>()
            .join("/");
        if self.seen.len() >= CACHE {
            self.seen.clear();
        }
        self.seen.insert(path.to_string(), masked.clone());
        masked
    }
}

/// One part of a path, masked whole and then with its extensions peeled
/// off one by one (`maria@example.de.log`: the detectors do not take `log`
/// for a domain, so the address is found in `maria@example.de`).
fn mask_part(engine: &Engine, part: &str) -> String {
    let mut cur = part.to_string();
    let mut end = cur.len();
    for _ in 0..5 {
        if let Cow::Owned(m) = mask(engine, &cur[..end]) {
            let rest = cur[end..].to_string();
            end = m.len();
            cur = m + &rest;
        }
        match cur[..end].rfind('.') {
            Some(i) if i > 0 => end = i,
            _ => break,
        }
    }
    cur
}

/// `text` with every finding in it masked.
pub fn mask<'t>(engine: &Engine, text: &'t str) -> Cow<'t, str> {
    if text.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut scrubber = Scrubber::new(engine);
    scrubber.find(text.as_bytes(), Ctx::default());
    let hits = scrubber.hits();
    let result = if hits.is_empty() {
        Cow::Borrowed(text)
    } else {
        let hay = text.as_bytes();
        let mut out = Vec::with_capacity(hay.len());
        let mut last = 0;
        for h in hits {
            out.extend_from_slice(&hay[last.min(h.start)..h.start]);
            actions::render(
                Action::Mask,
                engine.name(h.ty),
                &hay[h.start..h.end],
                None,
                &mut out,
            );
            last = last.max(h.end);
        }
        out.extend_from_slice(&hay[last.min(hay.len())..]);
        Cow::Owned(String::from_utf8_lossy(&out).into_owned())
    };
    scrubber.finish();
    result
}
