//! `soak-load plot FILE... -o soak.html`: one self-contained HTML page (inline
//! SVG and CSS, no script, nothing fetched) with, per window over time,
//! latency p50/p95/p99, error rate, achieved rate and the service's memory;
//! gate limits as dashed red lines; optionally one line per target. What a
//! person wants to look at after 48 hours, and what goes into the evidence
//! bundle next to the records.
//!
//! Every name shown comes from an input file, so every one is escaped.

use std::fmt::Write as _;

use common::{Error, Outcome, Result};
use serde_json::Value;

use crate::cli::PlotArgs;
use crate::judge::Limits;
use crate::report::WindowReader;

/// Line colours, in order of use (readable on white, distinct in grey too).
const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
];
const LIMIT_COLOR: &str = "#d62728";

/// One line: its label and its points (x seconds, y or a gap).
struct Series {
    label: String,
    color: &'static str,
    width: f64,
    points: Vec<(f64, Option<f64>)>,
}

/// One chart: a y quantity over time, with limit lines.
struct Chart {
    title: &'static str,
    unit: &'static str,
    series: Vec<Series>,
    limits: Vec<(String, f64)>,
}

/// What one input file contributes.
struct Run {
    name: String,
    summary: Option<Value>,
    /// Per window: end time (s), then the figures.
    x: Vec<f64>,
    p50: Vec<Option<f64>>,
    p95: Vec<Option<f64>>,
    p99: Vec<Option<f64>>,
    error_pct: Vec<Option<f64>>,
    rps: Vec<Option<f64>>,
    rss_mb: Vec<Option<f64>>,
    /// Per target: name, p95, error %, rate.
    targets: Vec<TargetLines>,
}

/// One target's values per window: name, p95, error %, rate.
type TargetLines = (String, Column, Column, Column);
type Column = Vec<Option<f64>>;

fn read_run(path: &str) -> Result<Run> {
    let mut reader = WindowReader::open(path)?;
    let mut run = Run {
        name: reader.name().to_string(),
        summary: None,
        x: Vec::new(),
        p50: Vec::new(),
        p95: Vec::new(),
        p99: Vec::new(),
        error_pct: Vec::new(),
        rps: Vec::new(),
        rss_mb: Vec::new(),
        targets: Vec::new(),
    };
    while let Some(read) = reader.next_window_or_summary(&mut run.summary)? {
        let w = &read.window;
        let f = &w.figures;
        let i = run.x.len();
        run.x.push((w.offset_ms + w.duration_ms) / 1000.0);
        run.p50.push(f.p50_ms);
        run.p95.push(f.p95_ms);
        run.p99.push(f.p99_ms);
        run.error_pct.push(f.error_rate.map(|r| r * 100.0));
        run.rps.push(Some(f.achieved_rps));
        run.rss_mb
            .push(w.memory.rss_bytes.map(|b| b as f64 / (1024.0 * 1024.0)));
        for t in &w.targets {
            let k = match run.targets.iter().position(|(n, ..)| *n == t.name) {
                Some(k) => k,
                None => {
                    run.targets
                        .push((t.name.clone(), Vec::new(), Vec::new(), Vec::new()));
                    run.targets.len() - 1
                }
            };
            let entry = &mut run.targets[k];
            // A target first seen late has gaps before it.
            for v in [&mut entry.1, &mut entry.2, &mut entry.3] {
                v.resize(i, None);
            }
            entry.1.push(t.figures.p95_ms);
            entry.2.push(t.figures.error_rate.map(|r| r * 100.0));
            entry.3.push(Some(t.figures.achieved_rps));
        }
    }
    if run.x.is_empty() {
        return Err(Error::new(format!("{}: no window records", run.name))
            .with_hint("plot reads what 'soak-load run' (or merge) wrote"));
    }
    Ok(run)
}

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A "nice" step (1, 2 or 5 × 10^k) giving about `n` ticks over `span`.
fn nice_step(span: f64, n: f64) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / n;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn fmt_time(s: f64) -> String {
    let s = s.max(0.0);
    if s < 120.0 {
        format!("{}s", fmt_num(s))
    } else if s < 7200.0 {
        format!("{}m", fmt_num(s / 60.0))
    } else {
        format!("{}h", fmt_num(s / 3600.0))
    }
}

const W: f64 = 900.0;
const H: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

fn render(chart: &Chart, x_max: f64, out: &mut String) {
    let y_data = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1))
        .chain(chart.limits.iter().map(|l| l.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let y_step = nice_step(if y_data > 0.0 { y_data * 1.08 } else { 1.0 }, 5.0);
    let y_max = ((y_data * 1.08) / y_step).ceil().max(1.0) * y_step;
    let x_max = if x_max > 0.0 { x_max } else { 1.0 };
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let sx = |x: f64| LEFT + (x / x_max) * pw;
    let sy = |y: f64| TOP + ph - (y / y_max) * ph;
    let _ = write!(
        out,
        "<section><h2>{} <span class=\"unit\">({})</span></h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{}\">\n",
        esc(chart.title),
        esc(chart.unit),
        esc(chart.title)
    );
    // Grid and y labels.
    let mut y = 0.0;
    while y <= y_max + y_step * 0.01 {
        let py = sy(y);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\"/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            py + 4.0,
            fmt_num(y)
        );
        y += y_step;
    }
    let x_step = nice_step(x_max, 8.0);
    let mut x = 0.0;
    while x <= x_max + x_step * 0.01 {
        let px = sx(x);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{px:.1}\" y1=\"{TOP}\" x2=\"{px:.1}\" y2=\"{:.1}\"/><text class=\"tick\" x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            TOP + ph,
            H - 10.0,
            fmt_time(x)
        );
        x += x_step;
    }
    let _ = writeln!(
        out,
        "<rect class=\"frame\" x=\"{LEFT}\" y=\"{TOP}\" width=\"{pw}\" height=\"{ph}\"/>"
    );
    for (label, value) in &chart.limits {
        let py = sy(*value);
        let _ = writeln!(
            out,
            "<line class=\"limit\" x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"{LIMIT_COLOR}\"><title>{}</title></line><text class=\"limit-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{LIMIT_COLOR}\">{}</text>",
            W - RIGHT,
            esc(label),
            W - RIGHT - 4.0,
            py - 4.0,
            esc(label)
        );
    }
    for s in &chart.series {
        // Gaps (no value) split the line.
        let mut segment = String::new();
        let mut segments = Vec::new();
        for &(x, y) in &s.points {
            match y {
                Some(y) if y.is_finite() => {
                    let _ = write!(segment, "{:.1},{:.1} ", sx(x), sy(y));
                }
                _ => {
                    if !segment.is_empty() {
                        segments.push(std::mem::take(&mut segment));
                    }
                }
            }
        }
        if !segment.is_empty() {
            segments.push(segment);
        }
        for seg in segments {
            let single = seg.split_whitespace().count() == 1;
            if single {
                // One point: a dot, so a one-window run still shows.
                if let Some((px, py)) = seg.trim().split_once(',') {
                    let _ = writeln!(
                        out,
                        "<circle cx=\"{px}\" cy=\"{py}\" r=\"3\" fill=\"{}\"><title>{}</title></circle>",
                        s.color,
                        esc(&s.label)
                    );
                }
            } else {
                let _ = writeln!(
                    out,
                    "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" points=\"{}\"><title>{}</title></polyline>",
                    s.color,
                    s.width,
                    seg.trim_end(),
                    esc(&s.label)
                );
            }
        }
    }
    out.push_str("</svg>\n<div class=\"legend\">");
    for s in &chart.series {
        let _ = write!(
            out,
            "<span><i style=\"background:{}\"></i>{}</span>",
            s.color,
            esc(&s.label)
        );
    }
    for (label, _) in &chart.limits {
        let _ = write!(
            out,
            "<span><i class=\"dash\" style=\"border-color:{LIMIT_COLOR}\"></i>{}</span>",
            esc(label)
        );
    }
    out.push_str("</div></section>\n");
}

/// Limits from a run's summary gates (what it was judged by).
fn limits_of(summary: &Value) -> Limits {
    let mut l = Limits::default();
    for g in summary["gates"].as_array().into_iter().flatten() {
        let limit = g["limit"].as_f64();
        match g["name"].as_str() {
            Some("error_rate") => l.max_error_rate = limit,
            Some("p95_ms") => l.max_p95_ms = limit,
            Some("p99_ms") => l.max_p99_ms = limit,
            Some("rss_growth") => l.max_rss_growth = limit,
            Some("throughput_rps") => l.min_throughput_rps = limit,
            _ => {}
        }
    }
    l
}

fn points(x: &[f64], y: &[Option<f64>]) -> Vec<(f64, Option<f64>)> {
    x.iter()
        .zip(y.iter().chain(std::iter::repeat(&None)))
        .map(|(a, b)| (*a, *b))
        .collect()
}

/// Builds the page.
fn page(runs: &[Run], limits: Limits, per_target: bool, title: &str) -> String {
    let x_max = runs
        .iter()
        .flat_map(|r| r.x.iter().copied())
        .fold(0.0f64, f64::max);
    let several = runs.len() > 1;
    let label = |run: &Run, what: &str| {
        if several {
            format!("{} {what}", run.name)
        } else {
            what.to_string()
        }
    };
    let mut color = PALETTE.iter().copied().cycle();
    let mut latency = Chart {
        title: "Latency per window",
        unit: "ms, from the intended send time",
        series: Vec::new(),
        limits: Vec::new(),
    };
    let mut errors = Chart {
        title: "Error rate",
        unit: "% of requests",
        series: Vec::new(),
        limits: Vec::new(),
    };
    let mut rate = Chart {
        title: "Achieved rate",
        unit: "requests/s",
        series: Vec::new(),
        limits: Vec::new(),
    };
    let mut memory = Chart {
        title: "Service memory (RSS of the process tree)",
        unit: "MiB",
        series: Vec::new(),
        limits: Vec::new(),
    };
    for run in runs {
        for (what, ys, width) in [
            ("p50", &run.p50, 1.5),
            ("p95", &run.p95, 2.0),
            ("p99", &run.p99, 1.5),
        ] {
            latency.series.push(Series {
                label: label(run, what),
                color: color.next().unwrap_or("#000"),
                width,
                points: points(&run.x, ys),
            });
        }
        let c = color.next().unwrap_or("#000");
        errors.series.push(Series {
            label: label(run, "all"),
            color: c,
            width: 2.0,
            points: points(&run.x, &run.error_pct),
        });
        rate.series.push(Series {
            label: label(run, "all"),
            color: c,
            width: 2.0,
            points: points(&run.x, &run.rps),
        });
        if run.rss_mb.iter().any(Option::is_some) {
            memory.series.push(Series {
                label: label(run, "rss"),
                color: c,
                width: 2.0,
                points: points(&run.x, &run.rss_mb),
            });
            if let (Some(g), Some(first)) =
                (limits.max_rss_growth, run.rss_mb.iter().flatten().next())
            {
                memory.limits.push((
                    format!("rss growth limit +{}%", fmt_num(g * 100.0)),
                    first * (1.0 + g),
                ));
            }
        }
        if per_target && run.targets.len() > 1 {
            for (name, p95, err, rps) in &run.targets {
                let c = color.next().unwrap_or("#000");
                latency.series.push(Series {
                    label: label(run, &format!("{name} p95")),
                    color: c,
                    width: 1.0,
                    points: points(&run.x, p95),
                });
                errors.series.push(Series {
                    label: label(run, name),
                    color: c,
                    width: 1.0,
                    points: points(&run.x, err),
                });
                rate.series.push(Series {
                    label: label(run, name),
                    color: c,
                    width: 1.0,
                    points: points(&run.x, rps),
                });
            }
        }
    }
    if let Some(v) = limits.max_p95_ms {
        latency
            .limits
            .push((format!("p95 limit {} ms", fmt_num(v)), v));
    }
    if let Some(v) = limits.max_p99_ms {
        latency
            .limits
            .push((format!("p99 limit {} ms", fmt_num(v)), v));
    }
    if let Some(v) = limits.max_error_rate {
        errors
            .limits
            .push((format!("limit {}%", fmt_num(v * 100.0)), v * 100.0));
    }
    if let Some(v) = limits.min_throughput_rps {
        rate.limits.push((format!("minimum {}/s", fmt_num(v)), v));
    }
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{CSS}</style></head><body>\n<h1>{}</h1>\n",
        esc(title),
        esc(title)
    );
    for run in runs {
        html.push_str(&summary_block(run));
    }
    for chart in [&latency, &errors, &rate, &memory] {
        if chart.series.is_empty() {
            continue;
        }
        render(chart, x_max, &mut html);
    }
    let _ = write!(
        html,
        "<footer>soak-load {} · x axis: time since the run started, one point per window (at its end)</footer>\n</body></html>\n",
        env!("CARGO_PKG_VERSION")
    );
    html
}

fn summary_block(run: &Run) -> String {
    let mut s = format!("<div class=\"run\"><h3>{}</h3>", esc(&run.name));
    let Some(sum) = &run.summary else {
        s.push_str("<p>no summary record (windows only)</p></div>\n");
        return s;
    };
    let f = &sum["figures"];
    let show = |k: &str| match &f[k] {
        Value::Number(n) => n.as_f64().map_or(n.to_string(), fmt_num),
        Value::Null => "–".to_string(),
        other => esc(&other.to_string()),
    };
    let verdict = sum["verdict"].as_str().unwrap_or("?");
    let interrupted = if sum["interrupted"] == true {
        " (interrupted)"
    } else {
        ""
    };
    let _ = write!(
        s,
        "<p><b class=\"{}\">{}{}</b> · {} requests · error rate {} · p50 {} ms · p95 {} ms · p99 {} ms · max {} ms · {}/s · {} – {}</p>",
        if verdict == "pass" { "pass" } else { "fail" },
        esc(verdict),
        interrupted,
        show("requests"),
        show("error_rate"),
        show("p50_ms"),
        show("p95_ms"),
        show("p99_ms"),
        show("max_ms"),
        show("throughput_rps"),
        esc(sum["started_at"].as_str().unwrap_or("")),
        esc(sum["finished_at"].as_str().unwrap_or(""))
    );
    if let Some(gates) = sum["gates"].as_array().filter(|g| !g.is_empty()) {
        s.push_str("<table><tr><th>gate</th><th>value</th><th></th><th>limit</th><th></th></tr>");
        for g in gates {
            let value = g["value"].as_f64().map_or("null".to_string(), fmt_num);
            let pass = g["pass"] == true;
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                esc(g["name"].as_str().unwrap_or("")),
                esc(&value),
                esc(g["op"].as_str().unwrap_or("")),
                esc(&g["limit"].as_f64().map_or("?".to_string(), fmt_num)),
                if pass { "pass" } else { "fail" },
                if pass { "pass" } else { "FAIL" }
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</div>\n");
    s
}

const CSS: &str = "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:24px;color:#222;max-width:960px}\
h1{font-size:20px;margin:0 0 12px}h2{font-size:15px;margin:18px 0 4px}h3{font-size:14px;margin:8px 0 2px}\
.unit{font-weight:normal;color:#666}svg{display:block;background:#fff}\
.grid{stroke:#e6e6e6;stroke-width:1}.frame{fill:none;stroke:#999;stroke-width:1}\
.tick{font-size:11px;fill:#555}.limit{stroke-width:1.5;stroke-dasharray:6 4}.limit-label{font-size:11px}\
.legend{font-size:12px;color:#333;margin:2px 0 0 64px}.legend span{margin-right:14px;white-space:nowrap}\
.legend i{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:5px}\
.legend i.dash{height:0;border-top:2px dashed;background:none}\
table{border-collapse:collapse;font-size:13px;margin:4px 0}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}\
.pass{color:#2a7d2a;font-weight:bold}.fail{color:#c62828;font-weight:bold}\
footer{margin-top:18px;font-size:12px;color:#777}";

/// `soak-load plot FILE... -o OUT`
pub fn plot(args: &PlotArgs) -> Result<Outcome> {
    let mut runs = Vec::new();
    for path in &args.files {
        runs.push(read_run(path)?);
    }
    // Gate lines: the flags given here, else what the (first) run was judged by.
    let from_file = runs
        .iter()
        .find_map(|r| r.summary.as_ref())
        .map(limits_of)
        .unwrap_or_default();
    let limits = crate::config::limits(&args.gates).or(from_file);
    let title = args
        .title
        .clone()
        .unwrap_or_else(|| format!("soak-load: {}", args.files.join(", ")));
    let html = page(&runs, limits, args.per_target, &title);
    common::atomic::write_atomic(&args.output, html.as_bytes())?;
    Ok(Outcome::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(7.0, 5.0), 2.0);
        assert_eq!(nice_step(0.0, 5.0), 1.0);
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(1500.0), "1500");
        assert_eq!(fmt_num(25000.0), "25k");
        assert_eq!(fmt_time(30.0), "30s");
        assert_eq!(fmt_time(600.0), "10m");
        assert_eq!(fmt_time(7200.0 * 12.0), "24h");
    }

    #[test]
    fn names_are_escaped() {
        assert_eq!(
            esc("<script>\"x\"&'"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;"
        );
        assert_eq!(esc("a\u{1b}[31m"), "a\u{fffd}[31m");
    }
}
