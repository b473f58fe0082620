//! `--format text`: how each kind of record reads for a person at a
//! terminal, one line each (the summary takes a few). The record writer
//! (`common::output::RecordWriter`) calls these; every command writes the
//! same records in either format.
//!
//! Strings come from repositories and source trees, which are untrusted:
//! the field helpers of `common::printer` show them printable.

use std::fmt::Write as _;

use common::printer::{gates, key_values, plain, ByKind};
use serde_json::Value;

/// backup-drill's records as text, by kind.
pub const TEXT: ByKind = ByKind {
    kinds: &[
        ("step", step),
        ("skipped", skipped),
        ("changed", changed),
        ("mismatch", mismatch),
        ("check_error", check_error),
        ("snapshot", snapshot),
        ("summary", summary),
    ],
    other: |v| match v.as_object() {
        Some(_) => format!("{}{}", field(v, "kind"), rest(v, &["kind"])),
        None => plain(v),
    },
};

fn field(rec: &Value, key: &str) -> String {
    rec.get(key).map(plain).unwrap_or_default()
}

/// ` key=value` for the fields not in `skip`, in record order.
fn rest(rec: &Value, skip: &[&str]) -> String {
    rec.as_object()
        .map(|m| key_values(m, skip))
        .unwrap_or_default()
}

fn step(rec: &Value) -> String {
    format!(
        "step        {:<12} {:<4}{}",
        field(rec, "step"),
        field(rec, "result"),
        rest(rec, &["kind", "step", "result"])
    )
}

fn skipped(rec: &Value) -> String {
    format!(
        "skipped     {}  ({}: {})",
        field(rec, "path"),
        field(rec, "type"),
        field(rec, "reason")
    )
}

fn changed(rec: &Value) -> String {
    format!(
        "changed     {}  ({}: stored as read, may mix old and new bytes)",
        field(rec, "path"),
        field(rec, "reason")
    )
}

fn mismatch(rec: &Value) -> String {
    let mut line = format!("mismatch    {}  {}", field(rec, "path"), field(rec, "what"));
    if let Some(e) = rec.get("expected") {
        let _ = write!(line, "  expected {}", plain(e));
    }
    if let Some(a) = rec.get("actual") {
        let _ = write!(line, "  actual {}", plain(a));
    }
    line
}

fn check_error(rec: &Value) -> String {
    format!(
        "check_error {}{}  {}",
        field(rec, "what"),
        rec.get("object")
            .map(|o| format!(" {}", plain(o)))
            .unwrap_or_default(),
        field(rec, "detail")
    )
}

fn snapshot(rec: &Value) -> String {
    format!(
        "snapshot    {}{}",
        field(rec, "id"),
        rest(rec, &["kind", "id"])
    )
}

fn summary(rec: &Value) -> String {
    let mut out = format!("verdict     {}", field(rec, "verdict").to_ascii_uppercase());
    if rec.get("interrupted") == Some(&Value::Bool(true)) {
        out.push_str(" (interrupted)");
    }
    for g in gates(rec) {
        let _ = write!(out, "\n{g}");
    }
    if let Some(f) = rec.get("figures").and_then(Value::as_object) {
        if !f.is_empty() {
            let _ = write!(out, "\nfigures    {}", key_values(f, &[]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::printer::Render;
    use serde_json::json;

    fn text(records: &[Value]) -> String {
        let mut out = String::new();
        for r in records {
            TEXT.clone().render(r, &mut out);
        }
        out
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
             gate mismatches: 2 <= 0: FAIL\n\
             figures     snapshot=S files=2\n"
        );
    }
}
