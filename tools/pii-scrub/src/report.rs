//! The report: `finding` and `quarantined` records, the quarantine file, and
//! the closing summary with its gates. The records are the same in every
//! format; with `--format text` the record writer renders them
//! ([`crate::text`]).
//!
//! A finding names where and what, never the value: the report may travel
//! where the logs may not. File names and pointers are masked ([`crate::names`]).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use common::atomic::AtomicFile;
use common::cli::Format;
use common::gate::Gate;
use common::output::RecordWriter;
use common::summary::SummaryBuilder;
use common::{Error, Result};

use crate::config::{Engine, Mode};
use crate::process::{Event, Stats};

/// Totals across inputs, for the summary.
#[derive(Debug, Default)]
pub struct Totals {
    pub files: u64,
    pub lines: u64,
    pub json_lines: u64,
    pub bytes: u64,
    pub lines_changed: u64,
    pub findings: u64,
    pub allowed: u64,
    pub quarantined: u64,
    pub invalid_json_as_text: u64,
    pub errors: u64,
    /// Tree entries not read because the same file or directory was read
    /// under another name (a link, a hard link), or a link loop.
    pub skipped: u64,
    /// Symlinks met in trees.
    pub symlinks: u64,
    /// Files that ignore files hid from a walk (only with `--respect-ignore`).
    pub ignored: u64,
    /// Files that `--glob`s left out of a walk (named in the text report).
    pub excluded: Vec<String>,
    pub by_type: BTreeMap<String, u64>,
    pub by_file: BTreeMap<String, u64>,
    pub by_reason: BTreeMap<String, u64>,
}

impl Totals {
    pub fn add(&mut self, s: &Stats) {
        self.files += 1;
        self.lines += s.lines;
        self.json_lines += s.json_lines;
        self.bytes += s.bytes;
        self.lines_changed += s.lines_changed;
        self.allowed += s.allowed;
        self.invalid_json_as_text += s.invalid_json_as_text;
    }
}

/// Where report records and quarantined lines go.
pub struct Reporter<'e> {
    engine: &'e Engine,
    out: Option<RecordWriter>,
    quarantine: Option<AtomicFile>,
    quarantine_name: String,
    masker: crate::names::Masker,
    pub totals: Totals,
}

impl std::fmt::Debug for Reporter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("quarantine", &self.quarantine_name)
            .finish()
    }
}

impl<'e> Reporter<'e> {
    /// `excluded`: the files `--glob` left out (the text report names them).
    pub fn new(
        engine: &'e Engine,
        out: Option<RecordWriter>,
        format: Format,
        quarantine: Option<&Path>,
        excluded: &[String],
    ) -> Result<Self> {
        let (quarantine, quarantine_name) = match quarantine {
            // 0600: quarantined lines are exactly the ones holding personal data.
            Some(p) => (
                Some(AtomicFile::create_with_mode(p, 0o600)?),
                p.display().to_string(),
            ),
            None => (None, String::new()),
        };
        let mut masker = crate::names::Masker::default();
        let excluded: Vec<String> = excluded.iter().map(|n| masker.path(engine, n)).collect();
        let out = match format {
            Format::Jsonl => out,
            Format::Text => out.map(|o| {
                o.rendered(crate::text::Text {
                    excluded: excluded.clone(),
                })
            }),
        };
        Ok(Reporter {
            engine,
            out,
            quarantine,
            quarantine_name,
            masker,
            totals: Totals {
                excluded,
                ..Totals::default()
            },
        })
    }

    /// `file` as the report names it: personal data in it masked.
    pub fn shown_file(&mut self, file: &str) -> String {
        self.masker.path(self.engine, file)
    }

    /// True when a summary (naming inputs by sha256) will be written.
    pub fn writes_summary(&self) -> bool {
        self.out.is_some()
    }

    pub fn keeps_raw(&self) -> bool {
        self.quarantine.is_some()
    }

    /// Reports one event from `file`.
    pub fn event(&mut self, raw_file: &str, ev: Event) -> Result<()> {
        // The quarantine file keeps the real name (it holds the raw lines
        // anyway); the report masks it.
        let shown = self.shown_file(raw_file);
        let file = shown.as_str();
        match ev {
            Event::Finding { line, mut finding } => {
                if let Some(p) = finding.pointer.take() {
                    finding.pointer = Some(self.masker.path(self.engine, &p));
                }
                let ty = self.engine.name(finding.ty).to_string();
                let action = self.engine.action(finding.ty).name();
                self.totals.findings += 1;
                *self.totals.by_type.entry(ty.clone()).or_default() += 1;
                *self.totals.by_file.entry(file.to_string()).or_default() += 1;
                let Some(out) = self.out.as_mut() else {
                    return Ok(());
                };
                let mut rec = Map::new();
                rec.insert("kind".into(), json!("finding"));
                rec.insert("file".into(), json!(file));
                rec.insert("line".into(), json!(line));
                if let Some(p) = &finding.pointer {
                    rec.insert("pointer".into(), json!(p));
                }
                rec.insert("type".into(), json!(ty));
                rec.insert("action".into(), json!(action));
                rec.insert("start".into(), json!(finding.start));
                rec.insert("end".into(), json!(finding.end));
                if let Some(s) = &finding.snippet {
                    // Only with `--dry-run --format text`. A JSON snippet
                    // starts with its pointer, which may hold a key that is
                    // personal data.
                    let s = crate::snippet::printable(s);
                    rec.insert("snippet".into(), json!(crate::names::mask(self.engine, &s)));
                }
                out.write(&rec)
            }
            Event::Quarantined {
                line,
                reason,
                bytes,
                raw,
            } => {
                self.totals.quarantined += 1;
                *self
                    .totals
                    .by_reason
                    .entry(reason.name().to_string())
                    .or_default() += 1;
                if let Some(q) = self.quarantine.as_mut() {
                    let mut rec = Map::new();
                    rec.insert("kind".into(), json!("quarantined"));
                    rec.insert("file".into(), json!(raw_file));
                    rec.insert("line".into(), json!(line));
                    rec.insert("reason".into(), json!(reason.name()));
                    rec.insert("bytes".into(), json!(bytes));
                    match raw {
                        Some(raw) => match String::from_utf8(raw) {
                            Ok(s) => rec.insert("record".into(), json!(s)),
                            Err(e) => rec.insert(
                                "record_base64".into(),
                                json!(
                                    base64::engine::general_purpose::STANDARD.encode(e.as_bytes())
                                ),
                            ),
                        },
                        None => rec.insert("record".into(), Value::Null),
                    };
                    let mut line_bytes =
                        serde_json::to_vec(&rec).map_err(|e| Error::new(e.to_string()))?;
                    line_bytes.push(b'\n');
                    q.write_all(&line_bytes)
                        .map_err(|e| Error::io(&self.quarantine_name, e))?;
                }
                let Some(out) = self.out.as_mut() else {
                    return Ok(());
                };
                out.write(&json!({
                    "kind": "quarantined", "file": file, "line": line,
                    "reason": reason.name(), "bytes": bytes,
                }))
            }
        }
    }

    /// Commits the quarantine file, writes the summary, returns it.
    pub fn finish(
        mut self,
        mut builder: SummaryBuilder,
        mode: Mode,
        interrupted: bool,
        elapsed_ms: f64,
    ) -> Result<common::summary::Summary> {
        if let Some(q) = self.quarantine.take() {
            q.commit()?;
        }
        let t = &self.totals;
        let mb_s = if elapsed_ms > 0.0 {
            t.bytes as f64 / 1e6 / (elapsed_ms / 1e3)
        } else {
            0.0
        };
        builder
            .figure("mode", mode.name())
            .figure("files", t.files)
            .figure("lines", t.lines)
            .figure("json_lines", t.json_lines)
            .figure("bytes", t.bytes)
            .figure("lines_changed", t.lines_changed)
            .figure("findings", t.findings)
            .figure("findings_by_type", &t.by_type)
            .figure("findings_by_file", &t.by_file)
            .figure("allowed", t.allowed)
            .figure("quarantined", t.quarantined)
            .figure("quarantined_by_reason", &t.by_reason)
            .figure("invalid_json_as_text", t.invalid_json_as_text)
            .figure("errors", t.errors)
            .figure("skipped", t.skipped)
            .figure("symlinks", t.symlinks)
            .figure("ignored", t.ignored)
            .figure("excluded", t.excluded.len())
            .figure("elapsed_ms", (elapsed_ms * 1000.0).round() / 1000.0)
            .figure("throughput_mb_s", (mb_s * 100.0).round() / 100.0);
        if let Some(h) = &self.engine.hasher {
            builder.figure("key_id", h.key_id());
        }
        let summary = builder.finish(interrupted);
        if let Some(out) = self.out.as_mut() {
            out.write(&summary)?;
            out.flush()?;
        }
        Ok(summary)
    }
}

/// The first `n` of `names`, comma-separated, and how many more.
pub fn shortlist(names: &[String], n: usize) -> String {
    let mut s = names.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > n {
        s.push_str(&format!(" and {} more", names.len() - n));
    }
    s
}

/// The gates this run asks for (`check`: `--check` or `--dry-run`, both
/// report-only runs whose summary judges the input). `--check` is the "zero unsanitized
/// fields" gate, so what it could not check fails it (issue 13): a
/// quarantined line (`quarantined <= --max-quarantined`, default 0) and an
/// input that could not be read (`errors <= 0`; its findings are unknown, so
/// the findings gate has no value and fails). Nothing read proves nothing:
/// `files >= --min-files` (default 1; a trial's empty tree passed), and
/// `lines >= --min-lines` (default 1: an empty stdin from a producer that
/// failed, or a tree of empty files, passed a second trial). In every
/// mode a summary written after an error carries the failing `errors` gate:
/// it never says pass.
pub fn gates(
    check: bool,
    max_quarantined: Option<u64>,
    min_files: Option<u64>,
    min_lines: Option<u64>,
    totals: &Totals,
) -> Vec<Gate> {
    let mut g = Vec::new();
    if check {
        let findings = if totals.errors > 0 {
            f64::NAN
        } else {
            totals.findings as f64
        };
        g.push(Gate::at_most("findings", 0.0, findings));
    }
    if check || max_quarantined.is_some() {
        g.push(Gate::at_most(
            "quarantined",
            max_quarantined.unwrap_or(0) as f64,
            totals.quarantined as f64,
        ));
    }
    if check || totals.errors > 0 {
        g.push(Gate::at_most("errors", 0.0, totals.errors as f64));
    }
    if check || min_files.is_some() {
        g.push(Gate::at_least(
            "files",
            min_files.unwrap_or(1) as f64,
            totals.files as f64,
        ));
    }
    if check || min_lines.is_some() {
        g.push(Gate::at_least(
            "lines",
            min_lines.unwrap_or(1) as f64,
            totals.lines as f64,
        ));
    }
    g
}
