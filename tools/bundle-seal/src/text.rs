//! `--format text`: how each kind of record reads for a person at a
//! terminal doing forensic work, one line each (the summary takes several).
//! The record writer (`common::output::RecordWriter`) calls these; every
//! command writes the same records in either format.

use std::fmt::Write as _;

use common::printer::{gates, json_field as n, printable, str_field as s, ByKind};
use serde_json::Value;

/// bundle-seal's records as text, by kind.
pub const TEXT: ByKind = ByKind {
    kinds: &[
        ("file", file),
        ("signature", signature),
        ("chain_break", chain_break),
        ("event", event),
        ("unparseable", unparseable),
        ("section", section),
        ("invalid", invalid),
        ("binding", binding),
        ("decision", decision),
        ("critical", critical),
        ("summary", summary),
    ],
    other: |v| printable(&v.to_string()).into_owned(),
};

fn count(figures: &serde_json::Map<String, Value>, key: &str) -> u64 {
    figures.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// `text`, then `  (reason)` when the record gives one.
fn with_reason(v: &Value, mut text: String) -> String {
    if v.get("reason").and_then(Value::as_str).is_some() {
        let _ = write!(text, "  ({})", s(v, "reason"));
    }
    text
}

fn file(v: &Value) -> String {
    with_reason(v, format!("{:<9}{}", s(v, "status"), s(v, "path")))
}

fn signature(v: &Value) -> String {
    let key = if v.get("key_id").and_then(Value::as_str).is_some() {
        s(v, "key_id")
    } else {
        s(v, "expected_key_id")
    };
    let line = format!(
        "{:<9}{}  key {key}  {}",
        s(v, "status"),
        s(v, "file"),
        s(v, "trusted_comment")
    );
    with_reason(v, line)
}

fn chain_break(v: &Value) -> String {
    format!("BROKEN   seq {}: {}", n(v, "seq"), s(v, "reason"))
}

fn event(v: &Value) -> String {
    let (at, source, line) = (s(v, "at"), s(v, "source"), n(v, "line"));
    format!("{at}  {source}:{line}  {}", n(v, "record"))
}

fn unparseable(v: &Value) -> String {
    format!(
        "UNPARSEABLE  {}:{}  {}={}  ({})",
        s(v, "source"),
        n(v, "line"),
        s(v, "field"),
        n(v, "value"),
        s(v, "reason")
    )
}

fn section(v: &Value) -> String {
    format!("section  {}: {}", s(v, "name"), s(v, "status"))
}

fn invalid(v: &Value) -> String {
    format!(
        "INVALID  {}:{}  {}",
        s(v, "source"),
        n(v, "line"),
        s(v, "reason")
    )
}

fn binding(v: &Value) -> String {
    if s(v, "status") == "ok" {
        format!("ok       {} {}", s(v, "field"), s(v, "expected"))
    } else {
        format!("MISMATCH {}: {}", s(v, "field"), s(v, "reason"))
    }
}

fn decision(v: &Value) -> String {
    let role = v.get("role").and_then(Value::as_str);
    let who = format!(
        "{} ({})",
        s(v, "by"),
        role.map_or_else(|| "no role".to_string(), |r| printable(r).into_owned())
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
        line = with_reason(v, line);
    }
    line
}

fn critical(v: &Value) -> String {
    let at = if v.get("at").and_then(Value::as_str).is_some() {
        s(v, "at")
    } else {
        "(no time)".to_string()
    };
    format!("CRITICAL {at}  {}:{}", s(v, "source"), n(v, "line"))
}

/// Figures shown on lines of their own, not in the `k=v` line.
const OWN_LINES: [&str; 3] = ["verdict_reasons", "derived_verdict_reasons", "overrides"];

fn summary(v: &Value) -> String {
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
    for g in gates(v) {
        let _ = write!(out, "\n  {g}");
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
    use common::printer::Render;
    use serde_json::json;

    fn render(v: &Value) -> String {
        let mut out = String::new();
        TEXT.clone().render(v, &mut out);
        out.strip_suffix('\n').unwrap().to_string()
    }

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
            "bundle-seal: FAIL\n  gate mismatched_files: 1 <= 0: FAIL\n  ok=3  signature=ok"
        );
    }
}
