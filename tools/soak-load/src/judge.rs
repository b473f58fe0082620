//! From windows to a verdict: the run's totals, trends and gates.
//!
//! `run`, `report` and `merge` all fold their windows through [`Totals`], one
//! window at a time, so a saved run re-judged by `report` gives the same
//! figures the run gave, and memory stays flat however many windows there
//! are (trends are kept as running least-squares sums).

use std::collections::BTreeMap;

use common::gate::{Gate, Op};
use serde_json::{json, Map, Value};

use crate::histo::{self, Latency};
use crate::window::{ErrorsByClass, Window};

/// The gate limits asked for (`--max-error-rate` and friends).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    pub max_error_rate: Option<f64>,
    pub max_p95_ms: Option<f64>,
    pub max_p99_ms: Option<f64>,
    pub max_rss_growth: Option<f64>,
    pub max_p95_slope_ms_per_hour: Option<f64>,
    pub min_throughput_rps: Option<f64>,
}

impl Limits {
    /// Fills limits not given with those of `other` (a profile's).
    pub fn or(self, other: Limits) -> Limits {
        Limits {
            max_error_rate: self.max_error_rate.or(other.max_error_rate),
            max_p95_ms: self.max_p95_ms.or(other.max_p95_ms),
            max_p99_ms: self.max_p99_ms.or(other.max_p99_ms),
            max_rss_growth: self.max_rss_growth.or(other.max_rss_growth),
            max_p95_slope_ms_per_hour: self
                .max_p95_slope_ms_per_hour
                .or(other.max_p95_slope_ms_per_hour),
            min_throughput_rps: self.min_throughput_rps.or(other.min_throughput_rps),
        }
    }
}

/// Weighted least squares of y over x, kept as running sums.
#[derive(Clone, Copy, Debug, Default)]
struct Trend {
    n: u64,
    w: f64,
    wx: f64,
    wy: f64,
    wxx: f64,
    wxy: f64,
}

impl Trend {
    fn add(&mut self, x: f64, y: f64, w: f64) {
        self.n += 1;
        self.w += w;
        self.wx += w * x;
        self.wy += w * y;
        self.wxx += w * x * x;
        self.wxy += w * x * y;
    }

    /// Slope (y per unit of x); NaN with fewer than two points or no spread.
    fn slope(&self) -> f64 {
        let den = self.w * self.wxx - self.wx * self.wx;
        if self.n < 2 || den.abs() <= f64::EPSILON * self.w * self.wxx {
            return f64::NAN;
        }
        (self.w * self.wxy - self.wx * self.wy) / den
    }
}

#[derive(Clone, Debug)]
struct TargetTotals {
    requests: u64,
    ok: u64,
    by_class: ErrorsByClass,
    late: u64,
    latency: Latency,
}

/// Everything the summary needs, folded window by window.
#[derive(Clone, Debug)]
pub struct Totals {
    pub windows: u64,
    requests: u64,
    ok: u64,
    by_class: ErrorsByClass,
    late: u64,
    skipped_steps: u64,
    unfinished: u64,
    duration_ms: f64,
    latency: Latency,
    targets: BTreeMap<String, TargetTotals>,
    p95: Trend,
    rss: Trend,
    rss_first: Option<u64>,
    rss_last: Option<u64>,
    rss_max: Option<u64>,
    pub interrupted: bool,
    pub first_started_at: Option<String>,
    pub last_ended_at: Option<String>,
}

impl Default for Totals {
    fn default() -> Self {
        Totals::new()
    }
}

const MS_PER_HOUR: f64 = 3_600_000.0;

impl Totals {
    pub fn new() -> Totals {
        Totals {
            windows: 0,
            requests: 0,
            ok: 0,
            by_class: ErrorsByClass::default(),
            late: 0,
            skipped_steps: 0,
            unfinished: 0,
            duration_ms: 0.0,
            latency: histo::new(),
            targets: BTreeMap::new(),
            p95: Trend::default(),
            rss: Trend::default(),
            rss_first: None,
            rss_last: None,
            rss_max: None,
            interrupted: false,
            first_started_at: None,
            last_ended_at: None,
        }
    }

    /// Adds one window. `latency` and `targets` are its decoded histograms
    /// (the caller decodes, so a bad one is reported with its file and line).
    pub fn add(&mut self, w: &Window, latency: &Latency, targets: &[(String, Latency)]) {
        let f = &w.figures;
        self.windows += 1;
        self.requests += f.requests;
        self.ok += f.ok;
        self.by_class.add(&f.errors_by_class);
        self.late += f.late;
        self.skipped_steps += f.skipped_steps;
        self.unfinished += w.unfinished;
        self.duration_ms += w.duration_ms;
        histo::add(&mut self.latency, latency);
        for (t, (name, h)) in w.targets.iter().zip(targets) {
            let e = self
                .targets
                .entry(name.clone())
                .or_insert_with(|| TargetTotals {
                    requests: 0,
                    ok: 0,
                    by_class: ErrorsByClass::default(),
                    late: 0,
                    latency: histo::new(),
                });
            e.requests += t.figures.requests;
            e.ok += t.figures.ok;
            e.by_class.add(&t.figures.errors_by_class);
            e.late += t.figures.late;
            histo::add(&mut e.latency, h);
        }
        let mid_h = (w.offset_ms + w.duration_ms / 2.0) / MS_PER_HOUR;
        if let Some(p95) = f.p95_ms {
            // Weighted by requests: a short last window with few samples
            // must not swing the trend.
            self.p95.add(mid_h, p95, f.requests as f64);
        }
        if let Some(rss) = w.memory.rss_bytes {
            self.rss.add(mid_h, rss as f64, 1.0);
            self.rss_first.get_or_insert(rss);
            self.rss_last = Some(rss);
            self.rss_max = Some(self.rss_max.map_or(rss, |m| m.max(rss)));
        }
        self.interrupted |= w.interrupted;
        if self.first_started_at.is_none() {
            self.first_started_at = Some(w.started_at.clone());
        }
        self.last_ended_at = Some(w.ended_at.clone());
    }

    pub fn requests(&self) -> u64 {
        self.requests
    }

    fn errors(&self) -> u64 {
        self.by_class.total()
    }

    /// errors / requests; NaN (a failing gate) when nothing was sent.
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            f64::NAN
        } else {
            self.errors() as f64 / self.requests as f64
        }
    }

    pub fn throughput_rps(&self) -> f64 {
        if self.duration_ms > 0.0 {
            self.requests as f64 * 1000.0 / self.duration_ms
        } else {
            f64::NAN
        }
    }

    fn quantile(&self, q: f64) -> f64 {
        histo::quantile_ms(&self.latency, q).unwrap_or(f64::NAN)
    }

    /// (last − first) / first over the windows that have a memory reading.
    pub fn rss_growth(&self) -> f64 {
        match (self.rss_first, self.rss_last) {
            (Some(first), Some(last)) if first > 0 => (last as f64 - first as f64) / first as f64,
            _ => f64::NAN,
        }
    }

    pub fn p95_slope(&self) -> f64 {
        self.p95.slope()
    }

    pub fn rss_slope(&self) -> f64 {
        self.rss.slope()
    }

    /// The gates asked for, evaluated. NaN (no data) never passes.
    pub fn gates(&self, limits: &Limits) -> Vec<Gate> {
        let mut gates = Vec::new();
        let mut push = |name: &str, op: Op, limit: Option<f64>, value: f64| {
            if let Some(limit) = limit {
                gates.push(Gate::check(name, op, limit, value));
            }
        };
        push(
            "error_rate",
            Op::Le,
            limits.max_error_rate,
            self.error_rate(),
        );
        push("p95_ms", Op::Le, limits.max_p95_ms, self.quantile(0.95));
        push("p99_ms", Op::Le, limits.max_p99_ms, self.quantile(0.99));
        push(
            "rss_growth",
            Op::Le,
            limits.max_rss_growth,
            self.rss_growth(),
        );
        push(
            "p95_slope_ms_per_hour",
            Op::Le,
            limits.max_p95_slope_ms_per_hour,
            self.p95_slope(),
        );
        push(
            "throughput_rps",
            Op::Ge,
            limits.min_throughput_rps,
            self.throughput_rps(),
        );
        gates
    }

    /// The summary's figures.
    pub fn figures(&self) -> Map<String, Value> {
        let num = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
        let opt = |x: Option<u64>| x.map_or(Value::Null, |v| json!(v));
        let mut m = Map::new();
        m.insert("windows".into(), json!(self.windows));
        m.insert("requests".into(), json!(self.requests));
        m.insert("ok".into(), json!(self.ok));
        m.insert("errors".into(), json!(self.errors()));
        m.insert("errors_by_class".into(), json!(self.by_class));
        m.insert("error_rate".into(), num(self.error_rate()));
        m.insert("throughput_rps".into(), num(self.throughput_rps()));
        m.insert("duration_ms".into(), num(self.duration_ms));
        for (name, q) in [
            ("p50_ms", 0.5),
            ("p90_ms", 0.9),
            ("p95_ms", 0.95),
            ("p99_ms", 0.99),
            ("p999_ms", 0.999),
        ] {
            m.insert(name.into(), num(self.quantile(q)));
        }
        m.insert(
            "max_ms".into(),
            num(histo::max_ms(&self.latency).unwrap_or(f64::NAN)),
        );
        m.insert("late".into(), json!(self.late));
        m.insert("dropped".into(), json!(self.by_class.dropped));
        m.insert("skipped_steps".into(), json!(self.skipped_steps));
        m.insert("unfinished".into(), json!(self.unfinished));
        m.insert("p95_slope_ms_per_hour".into(), num(self.p95_slope()));
        m.insert("rss_slope_bytes_per_hour".into(), num(self.rss_slope()));
        m.insert("rss_growth".into(), num(self.rss_growth()));
        m.insert("rss_first_bytes".into(), opt(self.rss_first));
        m.insert("rss_last_bytes".into(), opt(self.rss_last));
        m.insert("rss_max_bytes".into(), opt(self.rss_max));
        let mut targets = Map::new();
        for (name, t) in &self.targets {
            let errors = t.by_class.total();
            targets.insert(
                name.clone(),
                json!({
                    "requests": t.requests,
                    "ok": t.ok,
                    "errors": errors,
                    "error_rate": if t.requests > 0 { json!(errors as f64 / t.requests as f64) } else { Value::Null },
                    "late": t.late,
                    "p50_ms": histo::quantile_ms(&t.latency, 0.5),
                    "p95_ms": histo::quantile_ms(&t.latency, 0.95),
                    "p99_ms": histo::quantile_ms(&t.latency, 0.99),
                    "max_ms": histo::max_ms(&t.latency),
                }),
            );
        }
        m.insert("targets".into(), Value::Object(targets));
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_slope() {
        let mut t = Trend::default();
        assert!(t.slope().is_nan());
        t.add(0.0, 10.0, 1.0);
        assert!(t.slope().is_nan(), "one point has no trend");
        t.add(1.0, 12.0, 1.0);
        t.add(2.0, 14.0, 1.0);
        assert!((t.slope() - 2.0).abs() < 1e-12);
        let mut flat = Trend::default();
        flat.add(1.0, 5.0, 1.0);
        flat.add(1.0, 7.0, 1.0);
        assert!(flat.slope().is_nan(), "no spread in x");
        // Weights: a heavy flat pair outweighs a light outlier.
        let mut w = Trend::default();
        w.add(0.0, 10.0, 1000.0);
        w.add(1.0, 10.0, 1000.0);
        w.add(2.0, 100.0, 1.0);
        assert!(w.slope() < 0.3, "{}", w.slope());
    }

    #[test]
    fn no_requests_fail_every_gate_that_needs_them() {
        let t = Totals::new();
        let gates = t.gates(&Limits {
            max_error_rate: Some(0.005),
            max_p95_ms: Some(100.0),
            max_rss_growth: Some(0.1),
            min_throughput_rps: Some(1.0),
            ..Limits::default()
        });
        assert_eq!(gates.len(), 4);
        assert!(gates.iter().all(|g| !g.pass), "{gates:?}");
    }
}
