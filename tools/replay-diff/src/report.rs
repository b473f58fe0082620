//! Output: the records (JSON Lines) or a readable diff (`--format text`),
//! and the running tally that becomes the summary's figures.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use common::cli::Format;
use common::jsonl::Invalid;
use common::output::RecordWriter;
use common::summary::Summary;
use common::Result;
use serde::Serialize;

use crate::compare::{Change, Difference};
use crate::json::Json;

/// Counts over one comparison (or, in run mode, over all of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub records_golden: u64,
    pub records_replay: u64,
    pub compared: u64,
    pub identical: u64,
    pub divergent: u64,
    pub missing: u64,
    pub extra: u64,
    /// Lines skipped under `--skip-invalid` (either side).
    pub invalid: u64,
    /// Keyed mode: records without the key (paired among themselves).
    pub keyless: u64,
    /// `divergence` records: one per differing path of a compared pair.
    pub divergent_paths: u64,
}

impl Tally {
    /// identical / (compared + missing + extra + invalid); 1 when empty.
    /// A skipped invalid line is a line that did not replay: it counts
    /// against determinism like a record without a partner.
    pub fn determinism(&self) -> f64 {
        let judged = self.compared + self.missing + self.extra + self.invalid;
        if judged == 0 {
            1.0
        } else {
            self.identical as f64 / judged as f64
        }
    }

    /// The `divergences` figure and gate value (one number): differing
    /// paths + missing + extra records.
    pub fn divergences(&self) -> u64 {
        self.divergent_paths + self.missing + self.extra
    }

    pub fn add(&mut self, other: &Tally) {
        self.records_golden += other.records_golden;
        self.records_replay += other.records_replay;
        self.compared += other.compared;
        self.identical += other.identical;
        self.divergent += other.divergent;
        self.missing += other.missing;
        self.extra += other.extra;
        self.invalid += other.invalid;
        self.keyless += other.keyless;
        self.divergent_paths += other.divergent_paths;
    }
}

#[derive(Serialize)]
struct DivergenceRecord<'a> {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<u32>,
    golden_line: u64,
    replay_line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a Json>,
    path: &'a str,
    change: Change,
    #[serde(skip_serializing_if = "Option::is_none")]
    golden: Option<&'a Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay: Option<&'a Json>,
}

#[derive(Serialize)]
struct UnmatchedRecord<'a> {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    golden_line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay_line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    golden: Option<&'a Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay: Option<&'a Json>,
}

#[derive(Serialize)]
struct InvalidRecord<'a> {
    kind: &'static str,
    #[serde(flatten)]
    invalid: &'a Invalid,
}

/// One run of the command in `run` mode.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    pub kind: &'static str,
    pub run: u32,
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    pub records: u64,
    pub sha256: String,
    pub duration_ms: f64,
    /// Processes the command left running in its process group (killed).
    pub leftover_processes: usize,
}

/// Writes records in the chosen format.
pub struct Reporter {
    out: RecordWriter,
    format: Format,
    color: bool,
    run: Option<u32>,
}

fn style(color: AnsiColor) -> Style {
    Style::new().fg_color(Some(color.into()))
}

/// Values in the text format are cut so one line stays readable.
fn short(value: &Json) -> String {
    const MAX: usize = 120;
    let text = value.to_string();
    if text.chars().count() <= MAX {
        return text;
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}…")
}

impl Reporter {
    pub fn new(out: RecordWriter, format: Format, color: bool) -> Self {
        Reporter {
            out,
            format,
            color,
            run: None,
        }
    }

    /// In run mode, records carry the number of the run being compared.
    pub fn set_run(&mut self, run: Option<u32>) {
        self.run = run;
    }

    fn paint(&self, s: Style, text: &str) -> String {
        if self.color {
            format!("{s}{text}{s:#}")
        } else {
            text.to_string()
        }
    }

    fn run_prefix(&self) -> String {
        self.run.map(|r| format!("run {r}: ")).unwrap_or_default()
    }

    /// All differences of one aligned pair.
    pub fn divergences(
        &mut self,
        golden_line: u64,
        replay_line: u64,
        key: Option<&Json>,
        diffs: &[Difference],
    ) -> Result<()> {
        match self.format {
            Format::Jsonl => {
                for d in diffs {
                    self.out.write(&DivergenceRecord {
                        kind: "divergence",
                        run: self.run,
                        golden_line,
                        replay_line,
                        key,
                        path: &d.path,
                        change: d.change,
                        golden: d.golden.as_ref(),
                        replay: d.replay.as_ref(),
                    })?;
                }
                Ok(())
            }
            Format::Text => {
                let key_text = key
                    .map(|k| format!(" key {}", short(k)))
                    .unwrap_or_default();
                let head = format!(
                    "{}@@ golden:{golden_line} replay:{replay_line}{key_text}",
                    self.run_prefix()
                );
                let mut text = self.paint(style(AnsiColor::Cyan), &head);
                text.push('\n');
                for d in diffs {
                    let path = if d.path.is_empty() {
                        "(record)"
                    } else {
                        &d.path
                    };
                    let change = match d.change {
                        Change::Changed => "changed",
                        Change::Added => "added",
                        Change::Removed => "removed",
                        Change::TypeChanged => "type_changed",
                    };
                    let g = d.golden.as_ref().map(short).unwrap_or_default();
                    let r = d.replay.as_ref().map(short).unwrap_or_default();
                    let g = self.paint(style(AnsiColor::Red), &format!("- {g}"));
                    let r = self.paint(style(AnsiColor::Green), &format!("+ {r}"));
                    match d.change {
                        Change::Added => text.push_str(&format!("  {path}  {change}  {r}\n")),
                        Change::Removed => text.push_str(&format!("  {path}  {change}  {g}\n")),
                        _ => text.push_str(&format!("  {path}  {change}  {g}  {r}\n")),
                    }
                }
                self.out.write_bytes(text.as_bytes())
            }
        }
    }

    /// A golden record with no counterpart.
    pub fn missing(&mut self, line: u64, key: Option<&Json>, value: &Json) -> Result<()> {
        match self.format {
            Format::Jsonl => self.out.write(&UnmatchedRecord {
                kind: "missing",
                run: self.run,
                golden_line: Some(line),
                replay_line: None,
                key,
                golden: Some(value),
                replay: None,
            }),
            Format::Text => {
                let key_text = key
                    .map(|k| format!(" key {}", short(k)))
                    .unwrap_or_default();
                let text = format!(
                    "{}missing golden:{line}{key_text}  - {}",
                    self.run_prefix(),
                    short(value)
                );
                let line = self.paint(style(AnsiColor::Red), &text);
                self.out.write_bytes(format!("{line}\n").as_bytes())
            }
        }
    }

    /// A replay record with no counterpart.
    pub fn extra(&mut self, line: u64, key: Option<&Json>, value: &Json) -> Result<()> {
        match self.format {
            Format::Jsonl => self.out.write(&UnmatchedRecord {
                kind: "extra",
                run: self.run,
                golden_line: None,
                replay_line: Some(line),
                key,
                golden: None,
                replay: Some(value),
            }),
            Format::Text => {
                let key_text = key
                    .map(|k| format!(" key {}", short(k)))
                    .unwrap_or_default();
                let text = format!(
                    "{}extra replay:{line}{key_text}  + {}",
                    self.run_prefix(),
                    short(value)
                );
                let line = self.paint(style(AnsiColor::Green), &text);
                self.out.write_bytes(format!("{line}\n").as_bytes())
            }
        }
    }

    pub fn invalid(&mut self, bad: &Invalid) -> Result<()> {
        match self.format {
            Format::Jsonl => self.out.write(&InvalidRecord {
                kind: "invalid",
                invalid: bad,
            }),
            Format::Text => {
                let text = format!("invalid {}\n", bad.to_error());
                self.out
                    .write_bytes(self.paint(style(AnsiColor::Yellow), &text).as_bytes())
            }
        }
    }

    pub fn run_record(&mut self, record: &RunRecord) -> Result<()> {
        match self.format {
            Format::Jsonl => self.out.write(record),
            Format::Text => {
                let status = match (record.exit_code, record.signal) {
                    (Some(c), _) => format!("exit {c}"),
                    (None, Some(s)) => format!("signal {s}"),
                    _ => "unknown status".to_string(),
                };
                let leftovers = match record.leftover_processes {
                    0 => String::new(),
                    n => format!(", {n} leftover processes killed"),
                };
                let text = format!(
                    "run {}: {status}, {} records, {:.0} ms, sha256 {}{leftovers}\n",
                    record.run, record.records, record.duration_ms, record.sha256
                );
                self.out.write_bytes(text.as_bytes())
            }
        }
    }

    pub fn summary(&mut self, summary: &Summary, tally: &Tally) -> Result<()> {
        match self.format {
            Format::Jsonl => self.out.write(summary)?,
            Format::Text => {
                let keyless = if tally.keyless > 0 {
                    format!(", {} without the key", tally.keyless)
                } else {
                    String::new()
                };
                let mut text = format!(
                    "{} golden, {} replay: {} compared, {} identical, {} divergent, {} missing, \
                     {} extra, {} invalid{keyless}; {} divergences; determinism {:.2}%\n",
                    tally.records_golden,
                    tally.records_replay,
                    tally.compared,
                    tally.identical,
                    tally.divergent,
                    tally.missing,
                    tally.extra,
                    tally.invalid,
                    tally.divergences(),
                    tally.determinism() * 100.0
                );
                for g in &summary.gates {
                    let verdict = if g.pass { "pass" } else { "FAIL" };
                    text.push_str(&format!(
                        "gate {} {} {} (value {}): {verdict}\n",
                        g.name,
                        g.op.symbol(),
                        g.limit,
                        g.value
                    ));
                }
                if summary.interrupted {
                    text.push_str("interrupted: the comparison is incomplete\n");
                }
                let (s, word) = if summary.verdict.is_pass() {
                    (style(AnsiColor::Green), "verdict: pass")
                } else {
                    (style(AnsiColor::Red), "verdict: fail")
                };
                text.push_str(&self.paint(s.bold(), word));
                text.push('\n');
                self.out.write_bytes(text.as_bytes())?;
            }
        }
        self.out.flush()
    }

    pub fn flush(&mut self) -> Result<()> {
        self.out.flush()
    }

    pub fn raw(&mut self) -> &mut impl Write {
        self.out.raw()
    }
}
