//! `--format text`: how pii-scrub's records read for a person. The record
//! writer (`common::output::RecordWriter`) calls this renderer; the report
//! writes the same records in either format.
//!
//! Names and pointers in the records are already masked (`crate::names`);
//! everything shown from a record also goes through `common::printer`'s
//! printable form, so a file named with an escape sequence cannot drive the
//! terminal.

use std::fmt::Write as _;

use common::printer::{gates, json_field, plain, printable, str_field, Render};
use serde_json::Value;

/// The text report: one line per finding (and its masked snippet, with
/// `--dry-run`), one per quarantined line, and a closing paragraph.
#[derive(Debug, Default)]
pub struct Text {
    /// Files `--glob` left out (masked): the summary names them, its record
    /// only counts them.
    pub excluded: Vec<String>,
}

impl Render for Text {
    fn render(&mut self, rec: &Value, out: &mut String) {
        match rec.get("kind").and_then(Value::as_str) {
            Some("finding") => finding(rec, out),
            Some("quarantined") => {
                let _ = writeln!(
                    out,
                    "{}:{}: quarantined: {} ({} bytes)",
                    str_field(rec, "file"),
                    json_field(rec, "line"),
                    str_field(rec, "reason"),
                    json_field(rec, "bytes")
                );
            }
            Some("summary") => summary(rec, &self.excluded, out),
            _ => {
                out.push_str(&plain(rec));
                out.push('\n');
            }
        }
    }
}

/// `FILE:LINE: TYPE at POINTER bytes A..B (ACTION)`, then the snippet.
fn finding(rec: &Value, out: &mut String) {
    let at = rec
        .get("pointer")
        .and_then(Value::as_str)
        .map(|p| format!(" at {}", printable(p)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{}:{}: {}{at} bytes {}..{} ({})",
        str_field(rec, "file"),
        json_field(rec, "line"),
        str_field(rec, "type"),
        json_field(rec, "start"),
        json_field(rec, "end"),
        str_field(rec, "action")
    );
    if let Some(s) = rec.get("snippet").and_then(Value::as_str) {
        let _ = writeln!(out, "    {}", printable(s));
    }
}

/// The counts, what `--glob` left out, the gates and the verdict.
fn summary(rec: &Value, excluded: &[String], out: &mut String) {
    let figures = rec.get("figures").unwrap_or(&Value::Null);
    let n = |k: &str| figures.get(k).and_then(Value::as_u64).unwrap_or(0);
    let by_type: Vec<String> = figures
        .get("findings_by_type")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{} {}", printable(k), plain(v)))
        .collect();
    let _ = writeln!(
        out,
        "{} files, {} lines, {} bytes: {} findings{}, {} lines changed, {} quarantined, {} allowed",
        n("files"),
        n("lines"),
        n("bytes"),
        n("findings"),
        if by_type.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_type.join(", "))
        },
        n("lines_changed"),
        n("quarantined"),
        n("allowed")
    );
    if !excluded.is_empty() {
        let _ = writeln!(
            out,
            "excluded by --glob ({}): {}",
            excluded.len(),
            printable(&crate::report::shortlist(excluded, 10))
        );
    }
    // The shared wording (`gate findings: 1 <= 0: FAIL`); bundle-seal still
    // reads this tool's old `-> FAIL` in bundles sealed before.
    for g in gates(rec) {
        let _ = writeln!(out, "{g}");
    }
    // A filter's pass means its output is scrubbed, not that its input was
    // clean: say which.
    let findings = n("findings");
    let filtered = if figures.get("mode").and_then(Value::as_str) == Some("filter") && findings > 0
    {
        let (s, it) = if findings == 1 {
            ("", "it")
        } else {
            ("s", "them")
        };
        format!(
            " (filter: {findings} finding{s} replaced in the output; the input still holds {it})"
        )
    } else {
        String::new()
    };
    let pass = rec.get("verdict").and_then(Value::as_str) == Some("pass");
    let interrupted = rec.get("interrupted").and_then(Value::as_bool) == Some(true);
    let _ = writeln!(
        out,
        "verdict: {}{}{filtered}",
        if pass { "pass" } else { "fail" },
        if interrupted { " (interrupted)" } else { "" }
    );
}
