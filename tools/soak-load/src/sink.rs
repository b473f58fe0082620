//! Where records go: JSON Lines on stdout (windows, then the summary), or
//! CSV rows for the windows with the summary as text on stderr.
//!
//! Each window is flushed as soon as it is written, so `tail -f`, a crash
//! or a `kill -9` still leaves every finished window on disk.

use std::io::Write;

use common::output::RecordWriter;
use common::summary::Summary;
use common::{Error, Result};

use crate::cli::Format;
use crate::window::{Figures, Window};

/// Keep in sync with `csv_row`.
const CSV_HEADER: [&str; 33] = [
    "window",
    "started_at",
    "ended_at",
    "offset_ms",
    "duration_ms",
    "target",
    "requests",
    "ok",
    "errors",
    "errors_connect",
    "errors_timeout",
    "errors_4xx",
    "errors_5xx",
    "errors_other",
    "errors_dropped",
    "error_rate",
    "achieved_rps",
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "late",
    "skipped_steps",
    "in_flight",
    "rss_bytes",
    "processes",
    "service_uptime_s",
    "service_pid",
    "service_restarts",
    "errors_template",
    "warmup",
];

pub enum Sink {
    Jsonl(RecordWriter),
    Csv {
        out: Box<csv::Writer<std::io::Stdout>>,
        header: bool,
    },
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn csv_row(w: &Window, target: &str, f: &Figures) -> Vec<String> {
    let e = &f.errors_by_class;
    let total = target.is_empty();
    vec![
        w.window.to_string(),
        w.started_at.clone(),
        w.ended_at.clone(),
        w.offset_ms.to_string(),
        w.duration_ms.to_string(),
        target.to_string(),
        f.requests.to_string(),
        f.ok.to_string(),
        f.errors.to_string(),
        e.connect.to_string(),
        e.timeout.to_string(),
        e.status_4xx.to_string(),
        e.status_5xx.to_string(),
        e.other.to_string(),
        e.dropped.to_string(),
        opt(f.error_rate),
        f.achieved_rps.to_string(),
        opt(f.p50_ms),
        opt(f.p90_ms),
        opt(f.p95_ms),
        opt(f.p99_ms),
        opt(f.p999_ms),
        opt(f.max_ms),
        f.late.to_string(),
        f.skipped_steps.to_string(),
        // Whole-window readings belong to the total row only.
        if total {
            w.in_flight.to_string()
        } else {
            String::new()
        },
        if total {
            opt(w.memory.rss_bytes)
        } else {
            String::new()
        },
        if total {
            opt(w.memory.processes)
        } else {
            String::new()
        },
        if total {
            opt(w.memory.service_uptime_s)
        } else {
            String::new()
        },
        if total {
            opt(w.memory.service_pid)
        } else {
            String::new()
        },
        if total {
            opt(w.memory.service_restarts)
        } else {
            String::new()
        },
        e.template.to_string(),
        w.warmup.to_string(),
    ]
}

impl Sink {
    pub fn stdout(format: Format) -> Sink {
        match format {
            Format::Jsonl => Sink::Jsonl(RecordWriter::stdout()),
            Format::Csv => Sink::Csv {
                out: Box::new(csv::Writer::from_writer(std::io::stdout())),
                header: false,
            },
        }
    }

    pub fn window(&mut self, w: &Window) -> Result<()> {
        match self {
            Sink::Jsonl(out) => {
                out.write(w)?;
                out.flush()
            }
            Sink::Csv { out, header } => {
                if !*header {
                    out.write_record(CSV_HEADER).map_err(csv_error)?;
                    *header = true;
                }
                out.write_record(csv_row(w, "", &w.figures))
                    .map_err(csv_error)?;
                for t in &w.targets {
                    out.write_record(csv_row(w, &t.name, &t.figures))
                        .map_err(csv_error)?;
                }
                out.flush().map_err(|e| Error::io("<stdout>", e))
            }
        }
    }

    /// Any other record (`verify`, `chaos`): a JSON line, or under CSV one
    /// on stderr (the CSV has one shape of row).
    pub fn record(&mut self, r: &impl serde::Serialize) -> Result<()> {
        match self {
            Sink::Jsonl(out) => {
                out.write(r)?;
                out.flush()
            }
            Sink::Csv { .. } => {
                let text = serde_json::to_string(r).map_err(|e| Error::new(e.to_string()))?;
                let _ = writeln!(std::io::stderr().lock(), "soak-load: {text}");
                Ok(())
            }
        }
    }

    pub fn summary(&mut self, s: &Summary) -> Result<()> {
        match self {
            Sink::Jsonl(out) => {
                out.write(s)?;
                out.flush()
            }
            Sink::Csv { out, .. } => {
                out.flush().map_err(|e| Error::io("<stdout>", e))?;
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{}", summary_text(s));
                Ok(())
            }
        }
    }
}

fn csv_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("<stdout>", io),
        other => Error::new(format!("<stdout>: {other:?}")),
    }
}

/// The summary for people (stderr, under `--format csv`).
pub fn summary_text(s: &Summary) -> String {
    let f = &s.figures;
    let show = |k: &str| {
        f.get(k)
            .map(|v| v.to_string())
            .unwrap_or_else(|| "null".into())
    };
    let mut text = format!(
        "soak-load: {}{}: requests {}, errors {}, error_rate {}, throughput_rps {}, p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        s.verdict_word(),
        if s.interrupted { " (interrupted)" } else { "" },
        show("requests"),
        show("errors"),
        show("error_rate"),
        show("throughput_rps"),
        show("p50_ms"),
        show("p95_ms"),
        show("p99_ms"),
        show("max_ms"),
    );
    for g in &s.gates {
        let value = if g.value.is_nan() {
            "null".to_string()
        } else {
            g.value.to_string()
        };
        text.push_str(&format!(
            "\nsoak-load: gate {} {} {} {}: {}",
            g.name,
            value,
            g.op.symbol(),
            g.limit,
            if g.pass { "pass" } else { "FAIL" }
        ));
    }
    text
}

trait VerdictWord {
    fn verdict_word(&self) -> &'static str;
}

impl VerdictWord for Summary {
    fn verdict_word(&self) -> &'static str {
        if self.verdict.is_pass() {
            "pass"
        } else {
            "fail"
        }
    }
}
