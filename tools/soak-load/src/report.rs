//! `report` and `merge`: judge saved windows again, or combine several
//! generators' windows into one exact result.
//!
//! Windows are read strictly (a bad line is an error naming file and line)
//! and checked for consistency before they count (see `consistency.rs` for
//! what is checked, and what an edit can still get past). Both commands read window by window (merge in
//! lockstep over its files), so memory stays flat for any length of run.

use std::collections::BTreeMap;

use common::gate::Gate;
use common::jsonl::JsonlReader;
use common::summary::SummaryBuilder;
use common::{Error, Outcome, Result};
use serde_json::Value;

use crate::cli::ReportArgs;
use crate::config;
use crate::consistency;
use crate::histo::{self, Latency};
use crate::judge::Totals;
use crate::sink::Sink;
use crate::window::{ErrorsByClass, Figures, Memory, TargetWindow, Window};

/// A window read from a file, with its histograms decoded.
pub struct Read {
    pub window: Window,
    pub latency: Latency,
    pub targets: Vec<(String, Latency)>,
}

/// Reads the `window` records of one file in order.
pub struct WindowReader {
    reader: JsonlReader,
    /// The last service pid a window of this file read, and the restarts
    /// counted since.
    last_pid: Option<i32>,
    restarts_since_pid: u64,
    /// The windows since the file's start or its last summary (one run),
    /// to check that summary against.
    run: Totals,
    last_number: u64,
}

impl WindowReader {
    pub fn open(path: &str) -> Result<WindowReader> {
        Ok(WindowReader {
            reader: JsonlReader::open(path)?,
            last_pid: None,
            restarts_since_pid: 0,
            run: Totals::new(),
            last_number: 0,
        })
    }

    pub fn name(&self) -> &str {
        self.reader.name()
    }

    pub fn sha256(&self) -> Option<String> {
        self.reader.sha256()
    }

    /// At the end of the file: windows were read after its last summary
    /// (or it has none), so the run that wrote them never finished it: a
    /// SIGKILL, the OOM killer, a CI timeout. Warned about here.
    pub fn ends_without_summary(&self) -> bool {
        let missing = self.run.windows > 0;
        if missing {
            common::runner::warn(
                "soak-load",
                format!(
                    "{}: the run has no summary (killed before it ended?): its evidence is partial",
                    self.name()
                ),
            );
        }
        missing
    }

    /// The next window; other kinds of records are skipped.
    pub fn next_window(&mut self) -> Result<Option<Read>> {
        self.next_window_or_summary(&mut None)
    }

    /// The next window; a `summary` record met on the way is kept in
    /// `summary` (the last one wins), other kinds are skipped.
    pub fn next_window_or_summary(&mut self, summary: &mut Option<Value>) -> Result<Option<Read>> {
        while let Some((line, value)) = self.reader.next_record::<Value>()? {
            let file = self.reader.name().to_string();
            let at = |msg: String| Error::at(&file, line, msg);
            let kind = value
                .get("kind")
                .and_then(Value::as_str)
                .ok_or_else(|| at("not a soak-load record (no \"kind\")".into()))?;
            if kind == "summary" {
                if self.run.windows > 0 {
                    consistency::summary(&self.run, &value).map_err(&at)?;
                }
                // The next run in the same file (files concatenated).
                self.run = Totals::new();
                self.last_number = 0;
                self.last_pid = None;
                self.restarts_since_pid = 0;
                *summary = Some(value);
                continue;
            }
            if kind != "window" {
                continue;
            }
            let window: Window =
                serde_json::from_value(value).map_err(|e| at(format!("bad window record: {e}")))?;
            let n = window.window;
            if n != self.last_number + 1 {
                return Err(at(format!(
                    "window {n} follows window {}: windows are numbered 1, 2, 3, ... (one missing, or out of order)",
                    self.last_number
                ))
                .with_hint("merge takes one generator's run per file; to judge runs one after another use 'report'"));
            }
            self.last_number = n;
            let whose = format!("window {n}: ");
            let latency = consistency::histogram(&window.figures, &whose).map_err(&at)?;
            let m = &window.memory;
            // A new pid needs a restart counted since the last one was read
            // (a process that ended is counted when it is seen gone).
            self.restarts_since_pid += m.service_restarts.unwrap_or(1);
            if let (Some(pid), Some(last)) = (m.service_pid, self.last_pid) {
                if pid != last && self.restarts_since_pid == 0 {
                    return Err(at(format!(
                        "window {}: the service's pid changed from {last} to {pid} but no restart was counted since (edited or corrupt record)",
                        window.window
                    )));
                }
            }
            if m.service_pid.is_some() {
                self.last_pid = m.service_pid;
                self.restarts_since_pid = 0;
            }
            let mut targets = Vec::with_capacity(window.targets.len());
            for t in &window.targets {
                let whose = format!("window {n}: target '{}': ", t.name);
                let h = consistency::histogram(&t.figures, &whose).map_err(&at)?;
                consistency::derived(&t.figures, &h, window.duration_ms, &whose).map_err(&at)?;
                targets.push((t.name.clone(), h));
            }
            consistency::targets(&window, &latency, &targets).map_err(&at)?;
            consistency::derived(&window.figures, &latency, window.duration_ms, &whose)
                .map_err(&at)?;
            self.run.add(&window, &latency, &targets);
            return Ok(Some(Read {
                window,
                latency,
                targets,
            }));
        }
        Ok(None)
    }
}

/// Adds gates and figures of `totals` to `summary` and writes it.
fn finish(
    mut summary: SummaryBuilder,
    totals: &Totals,
    args: &ReportArgs,
    sink: &mut Sink,
    saved: &[Option<Value>],
    unfinished_runs: bool,
) -> Result<Outcome> {
    let mut limits = config::limits(&args.gates);
    let injections: Option<f64> = saved
        .iter()
        .flatten()
        .filter_map(|s| s["figures"]["chaos_injections"].as_f64())
        .reduce(|a, b| a + b);
    limits.chaos = injections.is_some();
    if limits.max_restarts.is_none() && totals.restarts().is_some() {
        // As in the run: each chaos injection may end the service once.
        limits.max_restarts = injections;
    }
    for gate in totals.gates(&limits) {
        summary.gate(gate);
    }
    // What windows cannot tell (verified writes, chaos outages) is carried
    // from the saved runs' summaries, never dropped.
    for gate in crate::verify::carried_gates(saved) {
        summary.gate(gate);
    }
    if totals.interrupted || unfinished_runs {
        // A saved run stopped early (interrupted, or killed before its
        // summary): its evidence is partial.
        summary.gate(Gate::at_least("run_complete", 1.0, 0.0));
    }
    for (k, v) in totals.figures() {
        summary.figure(&k, v);
    }
    // Whether the memory was the service's is told by the run only (see
    // listening.rs); carried as its gate is.
    let unrelated: Vec<&Value> = saved
        .iter()
        .flatten()
        .filter_map(|s| s["figures"].get("rss_unrelated"))
        .collect();
    if !unrelated.is_empty() {
        let counts: Vec<u64> = unrelated.iter().filter_map(|v| v.as_u64()).collect();
        let value = if counts.is_empty() {
            Value::Null
        } else {
            Value::from(counts.iter().sum::<u64>())
        };
        summary.figure("rss_unrelated", value);
    }
    let mut s = summary.finish(false);
    if let (Some(a), Some(b)) = (&totals.first_started_at, &totals.last_ended_at) {
        s.started_at = a.clone();
        s.finished_at = b.clone();
    }
    sink.summary(&s)?;
    Ok(s.outcome())
}

/// Refuses a run given twice, which would count every request twice: the
/// same file (by name, a hard link or a symlink: one device and inode), or
/// a copy of it (one sha256; two generators never write the same bytes,
/// their times differ). Only regular files are looked at up front (a pipe
/// can be read once).
fn refuse_repeats(paths: &[String]) -> Result<()> {
    if paths.len() < 2 {
        return Ok(());
    }
    let twice = |p: &str, how: &str, first: &str| {
        Err(Error::new(format!(
            "{p}: the same {how} as {first} (a run given twice would be counted twice)"
        )))
    };
    let mut seen: Vec<((u64, u64), &str)> = Vec::new();
    for p in paths {
        // `-` and unreadable paths have no id (opening reports the error).
        let Some(id) = common::input::file_id(p) else {
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(i, _)| *i == id) {
            return twice(p, "file", first);
        }
        seen.push((id, p));
    }
    let mut digests: Vec<(String, &str)> = Vec::new();
    for (_, p) in seen {
        if !std::fs::metadata(p).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let (sha, _) = common::digest::sha256_file(std::path::Path::new(p))?;
        if let Some((_, first)) = digests.iter().find(|(d, _)| *d == sha) {
            return twice(p, "content", first);
        }
        digests.push((sha, p));
    }
    Ok(())
}

/// `soak-load report FILE...`
pub fn report(args: &ReportArgs) -> Result<Outcome> {
    refuse_repeats(&args.files)?;
    let mut sink = Sink::stdout(args.format.format);
    let csv = args.format.format == crate::cli::Format::Csv;
    let mut summary = SummaryBuilder::new("soak-load", env!("CARGO_PKG_VERSION"));
    let mut totals = Totals::new();
    let mut summaries = Vec::new();
    let mut unfinished = false;
    for path in &args.files {
        let mut r = WindowReader::open(path)?;
        let mut saved = None;
        while let Some(read) = r.next_window_or_summary(&mut saved)? {
            totals.add(&read.window, &read.latency, &read.targets);
            if csv {
                sink.window(&read.window)?;
            }
        }
        unfinished |= r.ends_without_summary();
        summary.input(r.name(), r.sha256());
        summaries.push(saved);
    }
    if totals.windows == 0 {
        return Err(
            Error::new(format!("{}: no window records", args.files.join(", ")))
                .with_hint("report reads what 'soak-load run' wrote to stdout"),
        );
    }
    finish(summary, &totals, args, &mut sink, &summaries, unfinished)
}

/// Merges windows with the same number (from different generators).
pub fn merge_windows(parts: &[Read]) -> Read {
    let number = parts.first().map_or(0, |p| p.window.window);
    let mut latency = histo::new();
    let mut requests = 0;
    let mut ok = 0;
    let mut by_class = ErrorsByClass::default();
    let mut late = 0;
    let mut skipped = 0;
    let mut in_flight = 0;
    let mut unfinished = 0;
    let mut interrupted = false;
    let mut warmup = false;
    let mut duration_ms: f64 = 0.0;
    let mut offset_ms = f64::INFINITY;
    let mut started_at: Option<&str> = None;
    let mut ended_at: Option<&str> = None;
    let mut memory = Memory::default();
    let mut restarts: Option<u64> = None;
    // Per target, in order of first appearance.
    let mut order: Vec<String> = Vec::new();
    let mut targets: BTreeMap<String, (u64, u64, ErrorsByClass, u64, u64, Latency)> =
        BTreeMap::new();
    for p in parts {
        let w = &p.window;
        let f = &w.figures;
        histo::add(&mut latency, &p.latency);
        requests += f.requests;
        ok += f.ok;
        by_class.add(&f.errors_by_class);
        late += f.late;
        skipped += f.skipped_steps;
        in_flight += w.in_flight;
        unfinished += w.unfinished;
        interrupted |= w.interrupted;
        warmup |= w.warmup;
        duration_ms = duration_ms.max(w.duration_ms);
        offset_ms = offset_ms.min(w.offset_ms);
        // RFC 3339 UTC with fixed precision sorts as text.
        started_at = Some(started_at.map_or(&w.started_at, |s| s.min(&w.started_at)));
        ended_at = Some(ended_at.map_or(&w.ended_at, |e| e.max(&w.ended_at)));
        // Generators watching the same service: the largest reading counts.
        if w.memory.rss_bytes > memory.rss_bytes {
            memory = w.memory;
        }
        // Each generator saw the same restarts.
        restarts = restarts.max(w.memory.service_restarts);
        for (t, (name, h)) in w.targets.iter().zip(&p.targets) {
            let e = targets.entry(name.clone()).or_insert_with(|| {
                order.push(name.clone());
                (0, 0, ErrorsByClass::default(), 0, 0, histo::new())
            });
            e.0 += t.figures.requests;
            e.1 += t.figures.ok;
            e.2.add(&t.figures.errors_by_class);
            e.3 += t.figures.late;
            e.4 += t.figures.skipped_steps;
            histo::add(&mut e.5, h);
        }
    }
    let mut target_windows = Vec::new();
    let mut target_hists = Vec::new();
    for name in order {
        if let Some((req, ok, cls, late, skipped, h)) = targets.remove(&name) {
            target_windows.push(TargetWindow {
                name: name.clone(),
                figures: Figures::from_parts(req, ok, cls, late, skipped, &h, duration_ms),
            });
            target_hists.push((name, h));
        }
    }
    memory.service_restarts = restarts;
    let window = Window {
        kind: "window".into(),
        window: number,
        started_at: started_at.unwrap_or_default().to_string(),
        ended_at: ended_at.unwrap_or_default().to_string(),
        offset_ms: if offset_ms.is_finite() {
            offset_ms
        } else {
            0.0
        },
        duration_ms,
        figures: Figures::from_parts(requests, ok, by_class, late, skipped, &latency, duration_ms),
        in_flight,
        memory,
        interrupted,
        unfinished,
        warmup,
        targets: target_windows,
    };
    Read {
        window,
        latency,
        targets: target_hists,
    }
}

/// `soak-load merge FILE...`
pub fn merge(args: &ReportArgs) -> Result<Outcome> {
    refuse_repeats(&args.files)?;
    let mut sink = Sink::stdout(args.format.format);
    let mut summary = SummaryBuilder::new("soak-load", env!("CARGO_PKG_VERSION"));
    let mut readers = Vec::new();
    for path in &args.files {
        if path == "-" && args.files.iter().filter(|p| *p == "-").count() > 1 {
            return Err(Error::usage("stdin ('-') can be given only once"));
        }
        readers.push(WindowReader::open(path)?);
    }
    // The next unread window of each file.
    let mut heads: Vec<Option<Read>> = Vec::with_capacity(readers.len());
    let mut summaries: Vec<Option<Value>> = vec![None; readers.len()];
    for (r, saved) in readers.iter_mut().zip(summaries.iter_mut()) {
        heads.push(r.next_window_or_summary(saved)?);
    }
    let mut totals = Totals::new();
    while let Some(number) = heads
        .iter()
        .filter_map(|h| h.as_ref().map(|r| r.window.window))
        .min()
    {
        let mut parts = Vec::new();
        for (i, head) in heads.iter_mut().enumerate() {
            if head.as_ref().is_some_and(|r| r.window.window == number) {
                if let Some(read) = head.take() {
                    parts.push(read);
                }
                let next = readers[i].next_window_or_summary(&mut summaries[i])?;
                if let Some(n) = &next {
                    if n.window.window <= number {
                        return Err(Error::new(format!(
                            "{}: window {} comes after window {number}: one run per file, windows in order",
                            readers[i].name(),
                            n.window.window
                        ))
                        .with_hint("merge takes one generator's run per file; to judge runs one after another use 'report'"));
                    }
                }
                *head = next;
            }
        }
        let merged = merge_windows(&parts);
        totals.add(&merged.window, &merged.latency, &merged.targets);
        sink.window(&merged.window)?;
    }
    for r in &readers {
        summary.input(r.name(), r.sha256());
    }
    if totals.windows == 0 {
        return Err(Error::new(format!(
            "{}: no window records",
            args.files.join(", ")
        )));
    }
    // A file's summary comes after its last window: read on to it.
    let mut unfinished = false;
    for (r, saved) in readers.iter_mut().zip(summaries.iter_mut()) {
        while r.next_window_or_summary(saved)?.is_some() {}
        unfinished |= r.ends_without_summary();
    }
    finish(summary, &totals, args, &mut sink, &summaries, unfinished)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{ErrorClass, Recorder};
    use crate::window::Memory;
    use proptest::prelude::*;

    fn window_of(n: u64, samples: &[(u64, bool)], rss: Option<u64>) -> Read {
        let mut r = Recorder::new(1);
        for &(us, ok) in samples {
            r.record(
                0,
                us,
                if ok { Ok(()) } else { Err(ErrorClass::Timeout) },
                false,
            );
        }
        let s = &r.stats[0];
        let f = Figures::of_stat(s, 1000.0);
        Read {
            window: Window {
                kind: "window".into(),
                window: n,
                started_at: "2026-01-01T00:00:00.000Z".into(),
                ended_at: "2026-01-01T00:00:01.000Z".into(),
                offset_ms: 0.0,
                duration_ms: 1000.0,
                figures: f.clone(),
                in_flight: 0,
                memory: Memory {
                    rss_bytes: rss,
                    ..Memory::default()
                },
                interrupted: false,
                unfinished: 0,
                warmup: false,
                targets: vec![TargetWindow {
                    name: "t".into(),
                    figures: f,
                }],
            },
            latency: s.latency.clone(),
            targets: vec![("t".into(), s.latency.clone())],
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn merged_windows_equal_one_window_over_all_samples(
            a in prop::collection::vec((1u64..5_000_000, any::<bool>()), 0..300),
            b in prop::collection::vec((1u64..5_000_000, any::<bool>()), 0..300),
        ) {
            let mut all = a.clone();
            all.extend_from_slice(&b);
            let merged = merge_windows(&[window_of(1, &a, Some(10)), window_of(1, &b, Some(20))]);
            let whole = window_of(1, &all, Some(20));
            prop_assert_eq!(&merged.window.figures, &whole.window.figures);
            prop_assert_eq!(&merged.window.targets, &whole.window.targets);
            prop_assert_eq!(merged.window.memory.rss_bytes, Some(20));
        }
    }
}
