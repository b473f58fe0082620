//! `--format text`: replay-diff's records as a readable diff, coloured on a
//! terminal. The record writer (`common::output::RecordWriter`) calls this
//! renderer; the tool writes the same records in either format.
//!
//! It reads each record from its JSON text ([`Render::wants_json`]): values
//! are shown with their numbers as written and their repeated member names,
//! which a `serde_json::Value` would change. The `divergence` records of
//! one aligned pair share one `@@` header.
//!
//! Member names, values and file names come from the inputs: each is shown
//! through `common::printer::printable`, so an escape sequence, a DEL or C1
//! control (which JSON leaves as they are) or a bidi override in a replay
//! cannot drive or mislead the terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use common::jsonl::Invalid;
use common::printer::{printable, Render};
use common::summary::Summary;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The renderer; `color` paints with ANSI colours (a terminal, no `NO_COLOR`).
#[derive(Debug, Default)]
pub struct Text {
    pub color: bool,
    /// The pair (run, golden line, replay line) whose `@@` header the last
    /// record showed, while divergence records follow one another.
    pair: Option<(Option<u32>, u64, u64)>,
}

impl Text {
    pub fn new(color: bool) -> Text {
        Text { color, pair: None }
    }

    fn paint(&self, s: Style, text: &str) -> String {
        if self.color {
            format!("{s}{text}{s:#}")
        } else {
            text.to_string()
        }
    }

    fn divergence(&mut self, rec: &Pair, out: &mut String) {
        let (golden_line, replay_line) =
            (rec.golden_line.unwrap_or(0), rec.replay_line.unwrap_or(0));
        let pair = Some((rec.run, golden_line, replay_line));
        if self.pair != pair {
            let head = format!(
                "{}@@ golden:{golden_line} replay:{replay_line}{}",
                run_prefix(rec.run),
                key_text(rec.key)
            );
            out.push_str(&self.paint(style(AnsiColor::Cyan), &head));
            out.push('\n');
        }
        let path = match rec.path.as_deref() {
            None | Some("") => Cow::Borrowed("(record)"),
            Some(path) => printable(path),
        };
        let change = rec.change.as_deref().unwrap_or("");
        let g = rec.golden.map(short).unwrap_or_default();
        let r = rec.replay.map(short).unwrap_or_default();
        let g = self.paint(style(AnsiColor::Red), &format!("- {g}"));
        let r = self.paint(style(AnsiColor::Green), &format!("+ {r}"));
        let _ = match change {
            "added" => writeln!(out, "  {path}  {change}  {r}"),
            "removed" => writeln!(out, "  {path}  {change}  {g}"),
            _ => writeln!(out, "  {path}  {change}  {g}  {r}"),
        };
        self.pair = pair;
    }

    fn unmatched(&self, rec: &Pair, missing: bool, out: &mut String) {
        let (line, color) = if missing {
            let text = format!(
                "{}missing golden:{}{}  - {}",
                run_prefix(rec.run),
                rec.golden_line.unwrap_or(0),
                key_text(rec.key),
                rec.golden.map(short).unwrap_or_default()
            );
            (text, AnsiColor::Red)
        } else {
            let text = format!(
                "{}extra replay:{}{}  + {}",
                run_prefix(rec.run),
                rec.replay_line.unwrap_or(0),
                key_text(rec.key),
                rec.replay.map(short).unwrap_or_default()
            );
            (text, AnsiColor::Green)
        };
        out.push_str(&self.paint(style(color), &line));
        out.push('\n');
    }

    fn invalid(&self, bad: InvalidText, out: &mut String) {
        let bad = Invalid {
            file: bad.file,
            line: bad.line,
            column: bad.column,
            reason: bad.reason,
        };
        let text = format!("invalid {}\n", printable(&bad.to_error().to_string()));
        out.push_str(&self.paint(style(AnsiColor::Yellow), &text));
    }

    fn summary(&self, summary: &Summary, out: &mut String) {
        let f = |name: &str| figure(&summary.figures, name);
        let keyless = match f("keyless") {
            0 => String::new(),
            n => format!(", {n} without the key"),
        };
        let determinism = summary
            .figures
            .get("determinism")
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN);
        let _ = writeln!(
            out,
            "{} golden, {} replay: {} compared, {} identical, {} divergent, {} missing, \
             {} extra, {} invalid{keyless}; {} divergences; determinism {:.2}%",
            f("records_golden"),
            f("records_replay"),
            f("compared"),
            f("identical"),
            f("divergent"),
            f("missing"),
            f("extra"),
            f("invalid"),
            f("divergences"),
            determinism * 100.0
        );
        for g in &summary.gates {
            let verdict = if g.pass { "pass" } else { "FAIL" };
            let _ = writeln!(
                out,
                "gate {} {} {} (value {}): {verdict}",
                g.name,
                g.op.symbol(),
                g.limit,
                g.value
            );
        }
        if summary.interrupted {
            out.push_str("interrupted: the comparison is incomplete\n");
        }
        let (s, word) = if summary.verdict.is_pass() {
            (style(AnsiColor::Green), "verdict: pass")
        } else {
            (style(AnsiColor::Red), "verdict: fail")
        };
        out.push_str(&self.paint(s.bold(), word));
        out.push('\n');
    }
}

impl Render for Text {
    fn render(&mut self, record: &Value, out: &mut String) {
        self.render_json(&record.to_string(), out);
    }

    fn wants_json(&self) -> bool {
        true
    }

    fn render_json(&mut self, json: &str, out: &mut String) {
        let kind = serde_json::from_str::<Kind>(json).map(|k| k.kind);
        if kind.as_deref().ok() != Some("divergence") {
            self.pair = None;
        }
        let shown = match kind.as_deref().unwrap_or("") {
            "divergence" => pair(json).map(|p| self.divergence(&p, out)),
            "missing" => pair(json).map(|p| self.unmatched(&p, true, out)),
            "extra" => pair(json).map(|p| self.unmatched(&p, false, out)),
            "invalid" => serde_json::from_str(json)
                .ok()
                .map(|b| self.invalid(b, out)),
            "run" => serde_json::from_str(json).ok().map(|r| run(&r, out)),
            "summary" => serde_json::from_str(json)
                .ok()
                .map(|s| self.summary(&s, out)),
            _ => None,
        };
        // Not a record of ours (never written by this tool): as it is.
        if shown.is_none() {
            out.push_str(&printable(json));
            out.push('\n');
        }
    }
}

#[derive(Deserialize)]
struct Kind<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
}

/// A `divergence`, `missing` or `extra` record. Values stay as written; a
/// value that is JSON `null` is `Some("null")`, an absent one `None`.
#[derive(Deserialize)]
struct Pair<'a> {
    run: Option<u32>,
    golden_line: Option<u64>,
    replay_line: Option<u64>,
    #[serde(default, borrow, deserialize_with = "present")]
    key: Option<&'a RawValue>,
    path: Option<String>,
    change: Option<String>,
    #[serde(default, borrow, deserialize_with = "present")]
    golden: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    replay: Option<&'a RawValue>,
}

fn pair(json: &str) -> Option<Pair<'_>> {
    serde_json::from_str(json).ok()
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct InvalidText {
    file: String,
    line: u64,
    column: Option<u64>,
    reason: String,
}

#[derive(Deserialize)]
struct RunText {
    run: u32,
    exit_code: Option<i32>,
    signal: Option<i32>,
    records: u64,
    sha256: String,
    duration_ms: f64,
    leftover_processes: usize,
}

fn run(record: &RunText, out: &mut String) {
    let status = match (record.exit_code, record.signal) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "unknown status".to_string(),
    };
    let leftovers = match record.leftover_processes {
        0 => String::new(),
        n => format!(", {n} leftover processes killed"),
    };
    let _ = writeln!(
        out,
        "run {}: {status}, {} records, {:.0} ms, sha256 {}{leftovers}",
        record.run, record.records, record.duration_ms, record.sha256
    );
}

fn figure(figures: &Map<String, Value>, name: &str) -> u64 {
    figures.get(name).and_then(Value::as_u64).unwrap_or(0)
}

fn style(color: AnsiColor) -> Style {
    Style::new().fg_color(Some(color.into()))
}

fn run_prefix(run: Option<u32>) -> String {
    run.map(|r| format!("run {r}: ")).unwrap_or_default()
}

fn key_text(key: Option<&RawValue>) -> String {
    key.map(|k| format!(" key {}", short(k)))
        .unwrap_or_default()
}

/// A value as written, cut so one line stays readable, printable.
fn short(value: &RawValue) -> String {
    const MAX: usize = 120;
    let text = value.get();
    if text.chars().count() <= MAX {
        return printable(text).into_owned();
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{}…", printable(&cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(records: &[&str]) -> String {
        let mut r = Text::new(false);
        let mut out = String::new();
        for rec in records {
            r.render_json(rec, &mut out);
        }
        out
    }

    #[test]
    fn one_header_per_pair_values_as_written_null_is_not_absent() {
        let out = text(&[
            r#"{"kind":"divergence","golden_line":2,"replay_line":2,"path":"/n","change":"changed","golden":1e2,"replay":123456789012345678901234567890}"#,
            r#"{"kind":"divergence","golden_line":2,"replay_line":2,"path":"/v","change":"type_changed","golden":null,"replay":{"a":1,"a":2}}"#,
            r#"{"kind":"divergence","golden_line":3,"replay_line":4,"path":"/x","change":"added","replay":null}"#,
            r#"{"kind":"missing","run":2,"golden_line":5,"key":null,"golden":{}}"#,
        ]);
        assert_eq!(
            out,
            "@@ golden:2 replay:2\n\
             \x20 /n  changed  - 1e2  + 123456789012345678901234567890\n\
             \x20 /v  type_changed  - null  + {\"a\":1,\"a\":2}\n\
             @@ golden:3 replay:4\n\
             \x20 /x  added  + null\n\
             run 2: missing golden:5 key null  - {}\n"
        );
    }
}
