//! `--format text`: the same records, one readable line each, for a person
//! at a terminal. Implemented as a [`Write`] adapter under the record
//! writer, so every command gets it without a second output path: each
//! complete JSON line is parsed back and rendered.
//!
//! Strings come from repositories and source trees, which are untrusted:
//! control characters (newlines, terminal escapes) are shown escaped.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde_json::{Map, Value};

/// Turns the JSON Lines written into it into text lines on `inner`.
pub struct TextLines<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> TextLines<W> {
    pub fn new(inner: W) -> Self {
        TextLines {
            inner,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for TextLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let text = match serde_json::from_slice::<Value>(&line[..end]) {
                Ok(v) => render(&v),
                // Not reachable from our own records; show it as it is.
                Err(_) => String::from_utf8_lossy(&line[..end]).into_owned(),
            };
            self.inner.write_all(text.as_bytes())?;
            self.inner.write_all(b"\n")?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A string with control characters escaped (`\n`, `\u{1b}`).
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A value as a person would write it: strings bare, lists comma-joined.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => clean(s),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join(","),
        other => clean(&other.to_string()),
    }
}

fn field(rec: &Map<String, Value>, key: &str) -> String {
    rec.get(key).map(show).unwrap_or_default()
}

/// ` key=value` for every field not in `skip`, in record order.
fn rest(rec: &Map<String, Value>, skip: &[&str]) -> String {
    let mut out = String::new();
    for (k, v) in rec {
        if !skip.contains(&k.as_str()) {
            let _ = write!(out, " {k}={}", show(v));
        }
    }
    out
}

/// One record as text (a summary takes several lines).
pub fn render(v: &Value) -> String {
    let Some(rec) = v.as_object() else {
        return show(v);
    };
    let kind = field(rec, "kind");
    match kind.as_str() {
        "step" => format!(
            "step        {:<12} {:<4}{}",
            field(rec, "step"),
            field(rec, "result"),
            rest(rec, &["kind", "step", "result"])
        ),
        "skipped" => format!(
            "skipped     {}  ({}: {})",
            field(rec, "path"),
            field(rec, "type"),
            field(rec, "reason")
        ),
        "mismatch" => {
            let mut line = format!("mismatch    {}  {}", field(rec, "path"), field(rec, "what"));
            if let Some(e) = rec.get("expected") {
                let _ = write!(line, "  expected {}", show(e));
            }
            if let Some(a) = rec.get("actual") {
                let _ = write!(line, "  actual {}", show(a));
            }
            line
        }
        "check_error" => format!(
            "check_error {}{}  {}",
            field(rec, "what"),
            rec.get("object")
                .map(|o| format!(" {}", show(o)))
                .unwrap_or_default(),
            field(rec, "detail")
        ),
        "snapshot" => format!(
            "snapshot    {}{}",
            field(rec, "id"),
            rest(rec, &["kind", "id"])
        ),
        "summary" => summary(rec),
        _ => format!("{kind}{}", rest(rec, &["kind"])),
    }
}

fn summary(rec: &Map<String, Value>) -> String {
    let mut out = format!("verdict     {}", field(rec, "verdict").to_ascii_uppercase());
    if rec.get("interrupted") == Some(&Value::Bool(true)) {
        out.push_str(" (interrupted)");
    }
    for g in rec
        .get("gates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(g) = g.as_object() else { continue };
        let pass = g.get("pass") == Some(&Value::Bool(true));
        let _ = write!(
            out,
            "\ngate        {} {} {}: {}  {}",
            field(g, "name"),
            field(g, "op"),
            field(g, "limit"),
            field(g, "value"),
            if pass { "pass" } else { "FAIL" }
        );
    }
    if let Some(f) = rec.get("figures").and_then(Value::as_object) {
        if !f.is_empty() {
            let _ = write!(out, "\nfigures    {}", rest(f, &[]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn text(records: &[Value]) -> String {
        let mut w = TextLines::new(Vec::new());
        for r in records {
            // Written in odd pieces, as a buffered writer may.
            let line = format!("{r}\n");
            let (a, b) = line.as_bytes().split_at(line.len() / 2);
            w.write_all(a).unwrap();
            w.write_all(b).unwrap();
        }
        String::from_utf8(w.inner).unwrap()
    }

    #[test]
    fn every_kind_renders_as_one_readable_line() {
        let out = text(&[
            json!({"kind":"skipped","path":"data/p","type":"fifo","reason":"special file"}),
            json!({"kind":"step","step":"restore","snapshot":"S","files":2,"bytes":8,
                   "duration_ms":1.5,"result":"ok"}),
            json!({"kind":"mismatch","path":"data/a\nb\u{1b}[2J","what":"missing","expected":"file"}),
            json!({"kind":"mismatch","path":"db#t","what":"rows","expected":3,"actual":2}),
            json!({"kind":"check_error","what":"sha256","object":"ab","snapshots":["S"],
                   "detail":"x hashes to y"}),
            json!({"kind":"snapshot","id":"S","files":1,"sources":["a","b"],"databases":[]}),
            json!({"kind":"summary","verdict":"fail","interrupted":true,
                   "gates":[{"name":"mismatches","op":"<=","limit":0.0,"value":2.0,"pass":false}],
                   "figures":{"snapshot":"S","files":2}}),
        ]);
        assert_eq!(
            out,
            "skipped     data/p  (fifo: special file)\n\
             step        restore      ok   snapshot=S files=2 bytes=8 duration_ms=1.5\n\
             mismatch    data/a\\nb\\u{1b}[2J  missing  expected file\n\
             mismatch    db#t  rows  expected 3  actual 2\n\
             check_error sha256 ab  x hashes to y\n\
             snapshot    S files=1 sources=a,b databases=\n\
             verdict     FAIL (interrupted)\n\
             gate        mismatches <= 0.0: 2.0  FAIL\n\
             figures     snapshot=S files=2\n"
        );
    }
}
