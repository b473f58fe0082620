//! Where records go: JSON Lines (the default, what other tools read) or,
//! with `--format text`, one readable line per record for a person at a
//! terminal doing forensic work.

use std::fmt::Write as _;

use common::cli::Format;
use common::output::RecordWriter;
use common::{Error, Result};
use serde::Serialize;
use serde_json::Value;

/// A record sink in the chosen format.
#[derive(Debug)]
pub struct Out {
    inner: RecordWriter,
    text: bool,
}

impl Out {
    pub fn new(inner: RecordWriter, format: Format) -> Out {
        Out {
            inner,
            text: format == Format::Text,
        }
    }

    pub fn write<T: Serialize + ?Sized>(&mut self, record: &T) -> Result<()> {
        if !self.text {
            return self.inner.write(record);
        }
        let line = self.encode(record)?;
        self.inner.write_bytes(&line)
    }

    /// A record as the bytes `write` would write (one line, with `\n`).
    pub fn encode<T: Serialize + ?Sized>(&self, record: &T) -> Result<Vec<u8>> {
        let mut bytes = if self.text {
            let value = serde_json::to_value(record)
                .map_err(|e| Error::new(format!("cannot encode record: {e}")))?;
            render(&value).into_bytes()
        } else {
            serde_json::to_vec(record)
                .map_err(|e| Error::new(format!("cannot encode record: {e}")))?
        };
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Writes what [`Out::encode`] returned.
    pub fn write_encoded(&mut self, bytes: &[u8]) -> Result<()> {
        self.inner.write_bytes(bytes)
    }

    pub fn flush(&mut self) -> Result<()> {
        self.inner.flush()
    }
}

/// `text` safe to print on a terminal: control characters (C0, DEL, C1,
/// which can move the cursor, retitle the window or clear the screen) and
/// the bidirectional overrides (which reorder what a reader sees) are
/// shown escaped, as `\u{1b}`. File names and records come from the
/// bundle, not from us.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A string field, printable.
fn s(v: &Value, key: &str) -> String {
    printable(v.get(key).and_then(Value::as_str).unwrap_or("")).into_owned()
}

/// Any field as JSON text (numbers; records), printable.
fn n(v: &Value, key: &str) -> String {
    v.get(key)
        .map(|x| printable(&x.to_string()).into_owned())
        .unwrap_or_default()
}

fn count(figures: &serde_json::Map<String, Value>, key: &str) -> u64 {
    figures.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// One record as one readable line (the summary takes several).
pub fn render(v: &Value) -> String {
    let with_reason = |mut text: String| {
        if v.get("reason").and_then(Value::as_str).is_some() {
            let _ = write!(text, "  ({})", s(v, "reason"));
        }
        text
    };
    match v.get("kind").and_then(Value::as_str).unwrap_or("") {
        "file" => with_reason(format!("{:<9}{}", s(v, "status"), s(v, "path"))),
        "signature" => with_reason(format!(
            "{:<9}{}  key {}  {}",
            s(v, "status"),
            s(v, "file"),
            if v.get("key_id").and_then(Value::as_str).is_some() {
                s(v, "key_id")
            } else {
                s(v, "expected_key_id")
            },
            s(v, "trusted_comment")
        )),
        "chain_break" => format!("BROKEN   seq {}: {}", n(v, "seq"), s(v, "reason")),
        "event" => format!(
            "{}  {}:{}  {}",
            s(v, "at"),
            s(v, "source"),
            n(v, "line"),
            n(v, "record")
        ),
        "unparseable" => format!(
            "UNPARSEABLE  {}:{}  {}={}  ({})",
            s(v, "source"),
            n(v, "line"),
            s(v, "field"),
            n(v, "value"),
            s(v, "reason")
        ),
        "section" => format!("section  {}: {}", s(v, "name"), s(v, "status")),
        "invalid" => format!(
            "INVALID  {}:{}  {}",
            s(v, "source"),
            n(v, "line"),
            s(v, "reason")
        ),
        "binding" => {
            if s(v, "status") == "ok" {
                format!("ok       {} {}", s(v, "field"), s(v, "expected"))
            } else {
                format!("MISMATCH {}: {}", s(v, "field"), s(v, "reason"))
            }
        }
        "decision" => {
            let who = format!(
                "{} ({})",
                s(v, "by"),
                v.get("role")
                    .and_then(Value::as_str)
                    .map_or_else(|| "no role".to_string(), |r| printable(r).into_owned())
            );
            let mut line = match v.get("status").and_then(Value::as_str) {
                // decide's own record: what was recorded.
                None => format!(
                    "recorded {} by {who}  seq {}  {}",
                    s(v, "decision"),
                    n(v, "seq"),
                    s(v, "at")
                ),
                Some(_) => format!(
                    "{:<9}{} by {who}  {}  key {}",
                    s(v, "status"),
                    s(v, "decision"),
                    s(v, "at"),
                    s(v, "key_id")
                ),
            };
            if v.get("override").and_then(Value::as_str).is_some() {
                let _ = write!(line, "\n  OVERRIDE by {who}: {}", s(v, "override"));
            }
            if v.get("status").is_some() {
                line = with_reason(line);
            }
            line
        }
        "critical" => format!(
            "CRITICAL {}  {}:{}",
            if v.get("at").and_then(Value::as_str).is_some() {
                s(v, "at")
            } else {
                "(no time)".to_string()
            },
            s(v, "source"),
            n(v, "line")
        ),
        "summary" => render_summary(v),
        _ => printable(&v.to_string()).into_owned(),
    }
}

/// Figures shown on lines of their own, not in the `k=v` line.
const OWN_LINES: [&str; 3] = ["verdict_reasons", "derived_verdict_reasons", "overrides"];

fn render_summary(v: &Value) -> String {
    let empty = serde_json::Map::new();
    let figures = v
        .get("figures")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let integrity_only = figures.get("integrity_only") == Some(&Value::Bool(true));
    let mut out = format!(
        "{}: {}{}",
        s(v, "tool"),
        s(v, "verdict").to_uppercase(),
        if v.get("interrupted") == Some(&Value::Bool(true)) {
            " (interrupted)"
        } else if integrity_only {
            " (the seal only: --integrity-only)"
        } else {
            ""
        }
    );
    // verify: is the seal intact? Said apart from the release verdict, so
    // an intact bundle of a failed release cannot read as a pass.
    if let Some(sig) = figures.get("signature").and_then(Value::as_str) {
        if figures.contains_key("release_verdict") {
            let (ok, modified, missing, extra) = (
                count(figures, "ok"),
                count(figures, "modified"),
                count(figures, "missing"),
                count(figures, "extra"),
            );
            let files = format!("{ok} file{} ok", if ok == 1 { "" } else { "s" });
            if sig == "ok" && modified + missing + extra == 0 {
                let _ = write!(out, "\n  seal     intact: signature ok, {files}");
            } else {
                let _ = write!(
                    out,
                    "\n  seal     BROKEN: signature {}, {files}, {modified} modified, \
                     {missing} missing, {extra} extra",
                    printable(sig)
                );
            }
        }
    }
    if let Some(release) = figures.get("release_verdict").and_then(Value::as_str) {
        let consistent = figures.get("verdict_consistent") != Some(&Value::Bool(false));
        let mut line = match (release, consistent) {
            ("pass", true) => "pass".to_string(),
            ("pass", false) => "FAILED: sealed as pass, but its own gates say fail".to_string(),
            (other, _) => {
                if other == "fail" {
                    "FAILED".to_string()
                } else {
                    printable(other).to_uppercase()
                }
            }
        };
        if figures.get("release_overridden") == Some(&Value::Bool(true)) {
            line.push_str(", overridden by the sign-off");
        }
        let _ = write!(out, "\n  release  {line}");
        for r in figures
            .get("overrides")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let _ = write!(
                out,
                "\n    OVERRIDE {}",
                printable(r.as_str().unwrap_or_default())
            );
        }
        for key in OWN_LINES.iter().take(2) {
            for r in figures
                .get(*key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let _ = write!(out, "\n    {}", printable(r.as_str().unwrap_or_default()));
            }
        }
    }
    for g in v
        .get("gates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = write!(
            out,
            "\n  gate {:<24} {} {} {}  {}",
            s(g, "name"),
            n(g, "value"),
            s(g, "op"),
            n(g, "limit"),
            if g.get("pass") == Some(&Value::Bool(true)) {
                "pass"
            } else {
                "FAIL"
            }
        );
    }
    let parts: Vec<String> = figures
        .iter()
        .filter(|(k, x)| !x.is_null() && !OWN_LINES.contains(&k.as_str()))
        .map(|(k, x)| match x {
            Value::String(t) => format!("{}={}", printable(k), printable(t)),
            other => format!("{}={}", printable(k), printable(&other.to_string())),
        })
        .collect();
    if !parts.is_empty() {
        let _ = write!(out, "\n  {}", parts.join("  "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn readable_lines() {
        assert_eq!(
            render(&json!({"kind":"file","path":"a.txt","status":"modified"})),
            "modified a.txt"
        );
        assert_eq!(
            render(&json!({"kind":"file","path":"l","status":"extra","reason":"is a symlink"})),
            "extra    l  (is a symlink)"
        );
        assert_eq!(
            render(&json!({"kind":"chain_break","seq":3,"reason":"edited"})),
            "BROKEN   seq 3: edited"
        );
        let sum = json!({"kind":"summary","tool":"bundle-seal","verdict":"fail",
            "gates":[{"name":"mismatched_files","op":"<=","limit":0.0,"value":1.0,"pass":false}],
            "figures":{"ok":3,"signature":"ok","key_id":null}});
        assert_eq!(
            render(&sum),
            "bundle-seal: FAIL\n  gate mismatched_files         1.0 <= 0.0  FAIL\n  ok=3  signature=ok"
        );
    }
}
