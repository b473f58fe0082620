//! Writing the result: the `change` records and the summary, as JSON
//! Lines, a text table or CSV rows. The records are the same in every
//! format; `--format` picks how common's record writer shows them (the
//! renderers below).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use common::output::RecordWriter;
use common::printer::{gates, printable, Render};
use common::summary::Summary;
use common::Result;

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
    #[serde(skip_serializing_if = "Option::is_none")]
    old_source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_source: Option<&'a str>,
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
    // The default registry is shown only where the source is the change:
    // on every other record it would be noise.
    let source = |x: Option<&'a Component>| {
        x.and_then(|x| x.source.as_deref())
            .map(String::as_str)
            .filter(|s| *s != crate::source::REGISTRY || c.kind == ChangeKind::SourceChanged)
    };
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
        old_source: source(o),
        new_source: source(n),
        allowed: c.allowed.is_some(),
        reason: c.allowed.as_deref().filter(|r| !r.is_empty()),
    }
}

/// Stdout, showing records as `format` asks.
pub fn writer(format: Format) -> RecordWriter {
    let out = RecordWriter::stdout();
    match format {
        Format::Jsonl => out,
        Format::Text => out.rendered(Table::default()),
        Format::Csv => out.rendered(CsvRows::default()),
    }
}

/// Writes every change, then the summary.
pub fn write(
    out: &mut RecordWriter,
    old: &Loaded,
    new: &Loaded,
    d: &Diff,
    summary: &Summary,
) -> Result<()> {
    for c in &d.changes {
        out.write(&record(c, old, new))?;
    }
    out.write(summary)?;
    out.flush()
}

/// A string field; empty when absent.
fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `--format text`: the changes as a table (held until the summary, which
/// sets the column widths), then the inputs, counts, drift and gates.
#[derive(Default)]
struct Table {
    rows: Vec<[String; 5]>,
}

impl Render for Table {
    fn render(&mut self, v: &Value, out: &mut String) {
        match field(v, "kind") {
            "change" => self.rows.push(row(v)),
            "summary" if v.get("interrupted") == Some(&Value::Bool(true)) => {
                out.push_str("interrupted: no result\n");
            }
            "summary" => {
                self.table(out);
                footer(v, out);
            }
            _ => {}
        }
    }
}

/// A change as table cells: kind, component, old, new, note.
fn row(v: &Value) -> [String; 5] {
    let id = field(v, "id");
    let component = match v.get("from").and_then(Value::as_str) {
        Some(from) => format!("{from} -> {id}"),
        None => match v.get("name").and_then(Value::as_str) {
            Some(name) => format!("{name} ({})", field(v, "ecosystem")),
            None => id.to_string(),
        },
    };
    let note = match field(v, "change") {
        "license_changed" => format!("{} -> {}", field(v, "old_license"), field(v, "new_license")),
        "hash_changed" => short_hashes(v.get("old_hashes"), v.get("new_hashes")),
        "source_changed" => format!("{} -> {}", field(v, "old_source"), field(v, "new_source")),
        "supplier_changed" => {
            format!(
                "{} -> {}",
                field(v, "old_supplier"),
                field(v, "new_supplier")
            )
        }
        _ => String::new(),
    };
    let note = match (
        v.get("allowed") == Some(&Value::Bool(true)),
        field(v, "reason"),
    ) {
        (false, _) => note,
        (true, "") => format!("{note} [allowed]").trim().to_string(),
        (true, reason) => format!("{note} [allowed: {reason}]").trim().to_string(),
    };
    // Cells come from the inputs: a hostile SBOM cannot forge lines or
    // drive the terminal.
    [
        field(v, "change").to_string(),
        printable(&component).into_owned(),
        printable(field(v, "old_version")).into_owned(),
        printable(field(v, "new_version")).into_owned(),
        printable(&note).into_owned(),
    ]
}

impl Table {
    fn table(&mut self, out: &mut String) {
        let rows = std::mem::take(&mut self.rows);
        if rows.is_empty() {
            out.push_str("no changes\n");
            return;
        }
        let header = ["CHANGE", "COMPONENT", "OLD", "NEW", "NOTE"].map(String::from);
        let mut widths: Vec<usize> = header.iter().map(String::len).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.chars().count()).min(60);
            }
        }
        for cells in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

/// The summary's lines under the table.
fn footer(summary: &Value, out: &mut String) {
    let figures = summary.get("figures");
    let fig = |k: &str| {
        figures
            .and_then(|f| f.get(k))
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    let format = |k: &str| figures.map(|f| field(f, k)).unwrap_or("").to_string();
    let input = |i: usize| {
        let path = summary.pointer(&format!("/inputs/{i}/path"));
        printable(path.and_then(Value::as_str).unwrap_or("")).into_owned()
    };
    let drift = figures
        .and_then(|f| f.get("drift"))
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    out.push('\n');
    out.push_str(&format!(
        "{} ({}) -> {} ({}): {} -> {} components\n",
        input(0),
        format("format_old"),
        input(1),
        format("format_new"),
        fig("components_old"),
        fig("components_new")
    ));
    out.push_str(&format!(
        "added {}, removed {}, upgraded {}, downgraded {}, license_changed {}, hash_changed {}, source_changed {}, supplier_changed {}, dependency_added {}, dependency_removed {}, allowed {}\n",
        fig("added"), fig("removed"), fig("upgraded"), fig("downgraded"), fig("license_changed"),
        fig("hash_changed"), fig("source_changed"), fig("supplier_changed"), fig("dependency_added"), fig("dependency_removed"), fig("allowed")
    ));
    out.push_str(&format!(
        "drift {:.4}% ({} changed, of {} in the baseline)\n",
        drift * 100.0,
        fig("changed"),
        fig("components_old")
    ));
    for g in gates(summary) {
        out.push_str(&format!("{g}\n"));
    }
    out.push_str(&format!("verdict: {}\n", field(summary, "verdict")));
}

/// `-gone.. +new..` for each algorithm both sides give whose digests differ.
fn short_hashes(o: Option<&Value>, n: Option<&Value>) -> String {
    let (Some(Value::Object(o)), Some(Value::Object(n))) = (o, n) else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (alg, a) in o {
        let (Some(a), Some(b)) = (a.as_str(), n.get(alg).and_then(Value::as_str)) else {
            continue;
        };
        if a != b {
            let cut = |s: &str| s.chars().take(12).collect::<String>();
            let (sa, sb): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
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
    parts.join("; ")
}

/// `--format csv`: a header, then one row per change (no summary).
#[derive(Default)]
struct CsvRows {
    header: bool,
}

/// One CSV row, quoted where a field needs it.
fn csv_row<T: AsRef<[u8]>>(fields: impl IntoIterator<Item = T>) -> String {
    let mut w = csv::WriterBuilder::new()
        .buffer_capacity(1024)
        .from_writer(Vec::new());
    // Writing into a Vec cannot fail.
    let _ = w.write_record(fields);
    String::from_utf8_lossy(&w.into_inner().unwrap_or_default()).into_owned()
}

/// New columns go at the end: scripts may read them by position.
const CSV_COLUMNS: [&str; 17] = [
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
    "old_source",
    "new_source",
];

impl Render for CsvRows {
    fn render(&mut self, v: &Value, out: &mut String) {
        let kind = field(v, "kind");
        let interrupted = v.get("interrupted") == Some(&Value::Bool(true));
        if kind != "change" && (kind != "summary" || interrupted) {
            return;
        }
        if !self.header {
            self.header = true;
            out.push_str(&csv_row(CSV_COLUMNS));
        }
        if kind == "change" {
            let joined = |key: &str| {
                let map = v.get(key).and_then(Value::as_object).into_iter().flatten();
                let pairs: Vec<String> = map
                    .map(|(alg, d)| format!("{alg}:{}", d.as_str().unwrap_or("")))
                    .collect();
                pairs.join(";")
            };
            let allowed = v.get("allowed") == Some(&Value::Bool(true));
            out.push_str(&csv_row(CSV_COLUMNS.map(|c| match c {
                "old_hashes" | "new_hashes" => joined(c),
                "allowed" => allowed.to_string(),
                _ => field(v, c).to_string(),
            })));
        }
    }
}
