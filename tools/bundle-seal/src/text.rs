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
        let value = serde_json::to_value(record)
            .map_err(|e| Error::new(format!("cannot encode record: {e}")))?;
        let mut line = render(&value);
        line.push('\n');
        self.inner.write_bytes(line.as_bytes())
    }

    pub fn flush(&mut self) -> Result<()> {
        self.inner.flush()
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn n(v: &Value, key: &str) -> String {
    v.get(key).map(|x| x.to_string()).unwrap_or_default()
}

/// One record as one readable line (the summary takes several).
pub fn render(v: &Value) -> String {
    let with_reason = |mut text: String| {
        if let Some(r) = v.get("reason").and_then(Value::as_str) {
            let _ = write!(text, "  ({r})");
        }
        text
    };
    match s(v, "kind") {
        "file" => with_reason(format!("{:<9}{}", s(v, "status"), s(v, "path"))),
        "signature" => with_reason(format!(
            "{:<9}{}  key {}  {}",
            s(v, "status"),
            s(v, "file"),
            v.get("key_id")
                .and_then(Value::as_str)
                .unwrap_or(s(v, "expected_key_id")),
            s(v, "trusted_comment")
        )),
        "chain_break" => format!("BROKEN   seq {}: {}", n(v, "seq"), s(v, "reason")),
        "event" => format!(
            "{}  {}:{}  {}",
            s(v, "at"),
            s(v, "source"),
            n(v, "line"),
            v.get("record").map(Value::to_string).unwrap_or_default()
        ),
        "unparseable" => format!(
            "UNPARSEABLE  {}:{}  {}={}  ({})",
            s(v, "source"),
            n(v, "line"),
            s(v, "field"),
            v.get("value").map(Value::to_string).unwrap_or_default(),
            s(v, "reason")
        ),
        "section" => format!("section  {}: {}", s(v, "name"), s(v, "status")),
        "invalid" => format!(
            "INVALID  {}:{}  {}",
            s(v, "source"),
            n(v, "line"),
            s(v, "reason")
        ),
        "summary" => {
            let mut out = format!(
                "{}: {}{}",
                s(v, "tool"),
                s(v, "verdict").to_uppercase(),
                if v.get("interrupted") == Some(&Value::Bool(true)) {
                    " (interrupted)"
                } else {
                    ""
                }
            );
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
            if let Some(figures) = v.get("figures").and_then(Value::as_object) {
                let parts: Vec<String> = figures
                    .iter()
                    .filter(|(_, x)| !x.is_null())
                    .map(|(k, x)| match x {
                        Value::String(t) => format!("{k}={t}"),
                        other => format!("{k}={other}"),
                    })
                    .collect();
                let _ = write!(out, "\n  {}", parts.join("  "));
            }
            out
        }
        _ => v.to_string(),
    }
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
