//! Writing the result: JSON Lines records and summary, a text table, or CSV.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use common::output::RecordWriter;
use common::summary::Summary;
use common::{Error, Result};

use crate::cli::Format;
use crate::diff::{Change, ChangeKind, Diff};
use crate::load::Loaded;
use crate::model::Component;

/// The `change` record (field names are documented in cli.rs).
#[derive(Serialize)]
struct Record<'a> {
    kind: &'static str,
    change: &'static str,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ecosystem: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_license: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_license: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_hashes: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_hashes: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_supplier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_supplier: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

fn record<'a>(c: &'a Change, old: &'a Loaded, new: &'a Loaded) -> Record<'a> {
    let o: Option<&Component> = c.old.map(|i| &old.sbom.components[i]);
    let n: Option<&Component> = c.new.map(|i| &new.sbom.components[i]);
    let either = n.or(o);
    let hashes = |x: Option<&Component>| x.map(Component::hash_map).filter(|m| !m.is_empty());
    Record {
        kind: "change",
        change: c.kind.name(),
        id: &c.id,
        name: either.map(Component::name),
        ecosystem: either.map(Component::ty),
        from: c.from.as_deref(),
        old_version: o.map(|x| x.version.as_str()),
        new_version: n.map(|x| x.version.as_str()),
        old_purl: o.map(Component::purl),
        new_purl: n.map(Component::purl),
        old_license: o.and_then(|x| x.licenses.display()),
        new_license: n.and_then(|x| x.licenses.display()),
        old_hashes: hashes(o),
        new_hashes: hashes(n),
        old_supplier: o.and_then(|x| x.supplier.as_deref()),
        new_supplier: n.and_then(|x| x.supplier.as_deref()),
        allowed: c.allowed.is_some(),
        reason: c.allowed.as_deref().filter(|r| !r.is_empty()),
    }
}

pub fn write(
    format: Format,
    old: &Loaded,
    new: &Loaded,
    d: &Diff,
    summary: &Summary,
) -> Result<()> {
    let mut out = RecordWriter::stdout();
    match format {
        Format::Jsonl => {
            for c in &d.changes {
                out.write(&record(c, old, new))?;
            }
            out.write(summary)?;
        }
        Format::Text => text(&mut out, old, new, d, summary)?,
        Format::Csv => csv_rows(&mut out, old, new, d)?,
    }
    out.flush()
}

fn text(
    out: &mut RecordWriter,
    old: &Loaded,
    new: &Loaded,
    d: &Diff,
    summary: &Summary,
) -> Result<()> {
    let io = |e: std::io::Error| Error::io("<stdout>", e);
    let rows: Vec<[String; 5]> = d
        .changes
        .iter()
        .map(|c| {
            let r = record(c, old, new);
            let component = match c.from.as_deref() {
                Some(from) => format!("{from} -> {}", c.id),
                None => r
                    .name
                    .map(|n| format!("{n} ({})", r.ecosystem.unwrap_or("")))
                    .unwrap_or_else(|| c.id.to_string()),
            };
            let note = match c.kind {
                ChangeKind::LicenseChanged => format!(
                    "{} -> {}",
                    r.old_license.unwrap_or_default(),
                    r.new_license.unwrap_or_default()
                ),
                ChangeKind::HashChanged => {
                    short_hashes(r.old_hashes.as_ref(), r.new_hashes.as_ref())
                }
                ChangeKind::SupplierChanged => format!(
                    "{} -> {}",
                    r.old_supplier.unwrap_or(""),
                    r.new_supplier.unwrap_or("")
                ),
                _ => String::new(),
            };
            let note = match &c.allowed {
                Some(reason) if reason.is_empty() => format!("{note} [allowed]").trim().to_string(),
                Some(reason) => format!("{note} [allowed: {reason}]").trim().to_string(),
                None => note,
            };
            // Cells come from the inputs: control characters (ANSI escapes,
            // newlines) are escaped so a hostile SBOM cannot forge lines or
            // drive the terminal.
            [
                c.kind.name().to_string(),
                printable(&component),
                printable(r.old_version.unwrap_or("")),
                printable(r.new_version.unwrap_or("")),
                printable(&note),
            ]
        })
        .collect();
    let header = ["CHANGE", "COMPONENT", "OLD", "NEW", "NOTE"];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count()).min(60);
        }
    }
    let w = out.raw();
    if rows.is_empty() {
        writeln!(w, "no changes").map_err(io)?;
    } else {
        let line = |cells: [&str; 5]| {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(cell);
                } else {
                    s.push_str(&format!("{cell:<width$}  ", width = widths[i]));
                }
            }
            s.trim_end().to_string()
        };
        writeln!(w, "{}", line(header)).map_err(io)?;
        for r in &rows {
            writeln!(w, "{}", line([&r[0], &r[1], &r[2], &r[3], &r[4]])).map_err(io)?;
        }
    }
    let fig = |k: &str| {
        summary
            .figures
            .get(k)
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    writeln!(w).map_err(io)?;
    writeln!(
        w,
        "{} ({}) -> {} ({}): {} -> {} components",
        printable(&old.name),
        old.sbom.format,
        printable(&new.name),
        new.sbom.format,
        fig("components_old"),
        fig("components_new")
    )
    .map_err(io)?;
    writeln!(
        w,
        "added {}, removed {}, upgraded {}, downgraded {}, license_changed {}, hash_changed {}, supplier_changed {}, dependency_added {}, dependency_removed {}, allowed {}",
        fig("added"), fig("removed"), fig("upgraded"), fig("downgraded"), fig("license_changed"),
        fig("hash_changed"), fig("supplier_changed"), fig("dependency_added"), fig("dependency_removed"), fig("allowed")
    )
    .map_err(io)?;
    let drift = summary
        .figures
        .get("drift")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    writeln!(
        w,
        "drift {:.4}% ({} changed, of {} in the baseline)",
        drift * 100.0,
        fig("changed"),
        fig("components_old")
    )
    .map_err(io)?;
    for g in &summary.gates {
        writeln!(
            w,
            "gate {}: {} {} {}: {}",
            g.name,
            g.value,
            g.op.symbol(),
            g.limit,
            if g.pass { "pass" } else { "FAIL" }
        )
        .map_err(io)?;
    }
    writeln!(
        w,
        "verdict: {}",
        if summary.verdict.is_pass() {
            "pass"
        } else {
            "fail"
        }
    )
    .map_err(io)?;
    Ok(())
}

/// `text` with control characters escaped (`\u{1b}`, `\n`).
fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn short_hashes(
    o: Option<&BTreeMap<String, String>>,
    n: Option<&BTreeMap<String, String>>,
) -> String {
    let (Some(o), Some(n)) = (o, n) else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (alg, a) in o {
        if let Some(b) = n.get(alg) {
            if a != b {
                // Show only the digests that differ: `-gone.. +new..`.
                let cut = |s: &str| s.chars().take(12).collect::<String>();
                let (sa, sb): (Vec<&str>, Vec<&str>) =
                    (a.split(' ').collect(), b.split(' ').collect());
                let gone: Vec<String> = sa
                    .iter()
                    .filter(|d| !sb.contains(d))
                    .map(|d| format!("-{}..", cut(d)))
                    .collect();
                let new: Vec<String> = sb
                    .iter()
                    .filter(|d| !sa.contains(d))
                    .map(|d| format!("+{}..", cut(d)))
                    .collect();
                parts.push(
                    format!("{alg} {} {}", gone.join(" "), new.join(" "))
                        .trim()
                        .to_string(),
                );
            }
        }
    }
    parts.join("; ")
}

fn csv_rows(out: &mut RecordWriter, old: &Loaded, new: &Loaded, d: &Diff) -> Result<()> {
    let mut w = csv::Writer::from_writer(out.raw());
    let err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("<stdout>", io),
        other => Error::new(format!("<stdout>: cannot write CSV: {other:?}")),
    };
    w.write_record([
        "change",
        "id",
        "name",
        "ecosystem",
        "from",
        "old_version",
        "new_version",
        "old_license",
        "new_license",
        "old_hashes",
        "new_hashes",
        "old_supplier",
        "new_supplier",
        "allowed",
        "reason",
    ])
    .map_err(err)?;
    let joined = |m: Option<BTreeMap<String, String>>| {
        m.map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(";")
        })
        .unwrap_or_default()
    };
    for c in &d.changes {
        let r = record(c, old, new);
        w.write_record([
            r.change,
            r.id,
            r.name.as_deref().unwrap_or(""),
            r.ecosystem.unwrap_or(""),
            r.from.unwrap_or(""),
            r.old_version.unwrap_or(""),
            r.new_version.unwrap_or(""),
            r.old_license.as_deref().unwrap_or(""),
            r.new_license.as_deref().unwrap_or(""),
            &joined(r.old_hashes.clone()),
            &joined(r.new_hashes.clone()),
            r.old_supplier.unwrap_or(""),
            r.new_supplier.unwrap_or(""),
            if r.allowed { "true" } else { "false" },
            r.reason.unwrap_or(""),
        ])
        .map_err(err)?;
    }
    w.flush().map_err(|e| Error::io("<stdout>", e))
}
