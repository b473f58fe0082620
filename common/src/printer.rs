//! Showing things to a person: untrusted text made safe for a terminal
//! ([`printable`]), and records rendered as text (`--format text`).
//!
//! A tool declares how each kind of record reads as text ([`ByKind`], or
//! its own [`Render`] when a kind needs the records before it, as a table
//! does) and hands that to its [`RecordWriter`](crate::output::RecordWriter).
//! The tool then writes the same records in every format; the writer turns
//! each into JSON or into text. Renderers read a record as its JSON value,
//! so they render records read back from a file just as well.
//!
//! Everything a renderer shows from a record goes through [`printable`]:
//! names, paths and values come from inputs (a file named with an escape
//! sequence, an SBOM field holding one), not from us.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::gate::Gate;

/// True for a character that must not reach a terminal as it is: control
/// characters (C0, DEL and C1, which move the cursor, retitle the window or
/// clear the screen), the bidirectional marks and overrides (which reorder
/// what a reader sees: `evil\u{202e}txt.sh` shows as `evilhs.txt`), and
/// the Unicode line and paragraph separators (which break a line where the
/// reader sees none).
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// `text` safe to print on a terminal: every character of [`unsafe_char`]
/// is shown escaped as Rust writes it (`\n`, `\t`, `\u{1b}`, `\u{202e}`);
/// the rest is left as it is. Borrowed when nothing needed escaping.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The one wording of a gate for people, in every tool:
/// `gate drift: 0.012 <= 0.005: FAIL` (the value, how it must relate to
/// the limit, the verdict). Gate names can come from inputs (bundle-seal
/// gathers them), so the name is printable.
impl std::fmt::Display for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "gate {}: {} {} {}: {}",
            printable(&self.name),
            self.value,
            self.op.symbol(),
            self.limit,
            if self.pass { "pass" } else { "FAIL" }
        )
    }
}

/// How a tool shows its records to a person.
pub trait Render {
    /// Appends the text for `record` to `out`: whole lines, each ending in
    /// `\n`, or nothing when the record is held back (a table row waits
    /// for the last row, to know the column widths).
    fn render(&mut self, record: &Value, out: &mut String);

    /// True for a renderer that reads each record from its JSON text
    /// ([`Render::render_json`]) rather than from a `Value`: for records
    /// a `Value` would change (replay-diff's hold numbers as written, which
    /// a `Value` turns into `f64`, and repeated member names, which it
    /// merges).
    fn wants_json(&self) -> bool {
        false
    }

    /// Appends the text for the record whose JSON text (its JSON Lines
    /// line, without the `\n`) is `json`; called instead of
    /// [`Render::render`] when [`Render::wants_json`]. By default: the text
    /// read as a `Value`, rendered by [`Render::render`].
    fn render_json(&mut self, json: &str, out: &mut String) {
        match serde_json::from_str::<Value>(json) {
            Ok(value) => self.render(&value, out),
            Err(_) => {
                out.push_str(&printable(json));
                out.push('\n');
            }
        }
    }
}

/// One kind's text: the record's lines, without the final `\n`.
pub type KindText = fn(&Value) -> String;

/// A [`Render`] that is a table of record kinds and how each reads (the
/// usual case: every record shown on its own), with `other` for any kind
/// not in the table.
#[derive(Clone, Copy, Debug)]
pub struct ByKind {
    pub kinds: &'static [(&'static str, KindText)],
    pub other: KindText,
}

impl Render for ByKind {
    fn render(&mut self, record: &Value, out: &mut String) {
        let kind = record.get("kind").and_then(Value::as_str).unwrap_or("");
        let text = self
            .kinds
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(self.other, |(_, f)| *f);
        out.push_str(&text(record));
        out.push('\n');
    }
}

/// A string field, printable; empty when absent or not a string.
pub fn str_field(record: &Value, key: &str) -> String {
    printable(record.get(key).and_then(Value::as_str).unwrap_or("")).into_owned()
}

/// Any field as JSON text (numbers, objects), printable; empty when absent.
pub fn json_field(record: &Value, key: &str) -> String {
    record
        .get(key)
        .map(|v| printable(&v.to_string()).into_owned())
        .unwrap_or_default()
}

/// A value as a person would write it, printable: strings bare, lists
/// comma-joined, anything else as JSON text.
pub fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => printable(s).into_owned(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(","),
        other => printable(&other.to_string()).into_owned(),
    }
}

/// ` key=value` for every field of `record` not in `skip`, in record order
/// (values as [`plain`]).
pub fn key_values(record: &Map<String, Value>, skip: &[&str]) -> String {
    let mut out = String::new();
    for (k, v) in record.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
        let _ = write!(out, " {}={}", printable(k), plain(v));
    }
    out
}

/// The gates of a summary record; a gate that does not read as one is
/// shown failing under its name, never dropped.
pub fn gates(summary: &Value) -> Vec<Gate> {
    let list = summary.get("gates").and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .map(|g| {
            serde_json::from_value::<Gate>(g.clone()).unwrap_or_else(|_| Gate {
                name: g.get("name").map_or_else(String::new, plain),
                op: crate::gate::Op::Eq,
                limit: f64::NAN,
                value: f64::NAN,
                pass: false,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_controls_bidi_and_separators_and_nothing_else() {
        assert!(matches!(printable("plain é 名 \\ \""), Cow::Borrowed(_)));
        assert_eq!(
            printable("x\u{1b}]0;pwned\u{7}\u{1b}[2J\n\t\u{9b}\u{7f}"),
            "x\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\n\\t\\u{9b}\\u{7f}"
        );
        assert_eq!(
            printable("evil\u{202e}txt.sh\u{2066}\u{61c}\u{200f}\u{2028}"),
            "evil\\u{202e}txt.sh\\u{2066}\\u{61c}\\u{200f}\\u{2028}"
        );
    }

    #[test]
    fn records_render_by_kind_with_a_fallback() {
        fn file(v: &Value) -> String {
            format!("file {}", str_field(v, "path"))
        }
        fn other(v: &Value) -> String {
            format!(
                "{}{}",
                str_field(v, "kind"),
                key_values(v.as_object().unwrap(), &["kind"])
            )
        }
        let mut r = ByKind {
            kinds: &[("file", file)],
            other,
        };
        let mut out = String::new();
        r.render(&json!({"kind":"file","path":"a\u{1b}b"}), &mut out);
        r.render(&json!({"kind":"x","n":1,"l":["a","b"],"s":"t"}), &mut out);
        assert_eq!(out, "file a\\u{1b}b\nx n=1 l=a,b s=t\n");
    }

    #[test]
    fn gates_read_back_from_a_summary_and_a_bad_one_fails() {
        let s = json!({"gates":[
            {"name":"drift","op":"<=","limit":0.005,"value":0.012,"pass":false},
            {"name":"rate","op":"<","limit":0.5,"value":null,"pass":false},
            {"name":"odd\u{1b}","op":"?"}
        ]});
        let lines: Vec<String> = gates(&s).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "gate drift: 0.012 <= 0.005: FAIL",
                "gate rate: NaN < 0.5: FAIL",
                "gate odd\\u{1b}: NaN == NaN: FAIL"
            ]
        );
    }
}
