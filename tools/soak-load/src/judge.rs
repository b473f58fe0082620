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
    /// Watched processes that may end during the run; when the service's
    /// process is watched and this is not given, 0.
    pub max_restarts: Option<f64>,
    /// Sequence steps that may go unsent; when not given, 0 (not asked
    /// under chaos, where an outage's failures skip later steps by design).
    pub max_skipped_steps: Option<f64>,
    /// The run injected chaos (--chaos-cmd).
    pub chaos: bool,
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
            max_restarts: self.max_restarts.or(other.max_restarts),
            max_skipped_steps: self.max_skipped_steps.or(other.max_skipped_steps),
            chaos: self.chaos || other.chaos,
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

/// The memory readings of one process, over the consecutive windows it
/// was the one watched: growth is only ever measured within one.
#[derive(Clone, Copy, Debug)]
struct Process {
    pid: Option<i32>,
    first: u64,
    last: u64,
    readings: u64,
    trend: Trend,
}

impl Process {
    /// (last − first) / first; NaN with fewer than two readings.
    fn growth(&self) -> f64 {
        if self.readings < 2 || self.first == 0 {
            f64::NAN
        } else {
            (self.last as f64 - self.first as f64) / self.first as f64
        }
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
    /// The process read last, and the one that grew most (at least two
    /// readings).
    process: Option<Process>,
    grew_most: Option<Process>,
    /// A restart was seen since the last reading: the next one starts a
    /// new process even if the pid is the same.
    restart_pending: bool,
    rss_max: Option<u64>,
    /// Ended processes; None while no window watched one.
    restarts: Option<u64>,
    last_pid: Option<i32>,
    /// Memory readings left out of growth (--warmup).
    warmup_windows: u64,
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

/// The error rate gate's limit when --max-error-rate is not given: the seed
/// load gate (GATES.md: error rate < 1%); the 48 h soak asks 0.5% itself.
pub const DEFAULT_MAX_ERROR_RATE: f64 = 0.01;

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
            process: None,
            grew_most: None,
            restart_pending: false,
            rss_max: None,
            restarts: None,
            last_pid: None,
            warmup_windows: 0,
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
        self.add_memory(w, mid_h);
        self.interrupted |= w.interrupted;
        if self.first_started_at.is_none() {
            self.first_started_at = Some(w.started_at.clone());
        }
        self.last_ended_at = Some(w.ended_at.clone());
    }

    /// The restart this window shows (its own count; for records written
    /// before it had one, a change of pid) and its memory reading, to the
    /// process it belongs to.
    fn add_memory(&mut self, w: &Window, mid_h: f64) {
        let m = &w.memory;
        let pid_changed = m
            .service_pid
            .is_some_and(|p| self.last_pid.is_some_and(|last| last != p));
        let restarts = m.service_restarts.unwrap_or(u64::from(pid_changed));
        if m.service_restarts.is_some() || m.service_pid.is_some() {
            self.restarts = Some(self.restarts.unwrap_or(0) + restarts);
        }
        self.restart_pending |= restarts > 0;
        if m.service_pid.is_some() {
            self.last_pid = m.service_pid;
        }
        let Some(rss) = m.rss_bytes else {
            return;
        };
        self.rss_max = Some(self.rss_max.map_or(rss, |x| x.max(rss)));
        if w.warmup {
            self.warmup_windows += 1;
            return;
        }
        let same = !self.restart_pending && self.process.is_some_and(|p| p.pid == m.service_pid);
        self.restart_pending = false;
        if !same {
            self.end_process();
            self.process = Some(Process {
                pid: m.service_pid,
                first: rss,
                last: rss,
                readings: 0,
                trend: Trend::default(),
            });
        }
        if let Some(p) = &mut self.process {
            p.last = rss;
            p.readings += 1;
            p.trend.add(mid_h, rss as f64, 1.0);
        }
    }

    /// Keeps the process read last if it grew most so far.
    fn end_process(&mut self) {
        self.grew_most = self.judged_process();
    }

    /// The process growth is judged on: the one that grew most among those
    /// read at least twice, the current one included.
    fn judged_process(&self) -> Option<Process> {
        match (self.process, self.grew_most) {
            (Some(p), Some(b)) if p.growth() > b.growth() => Some(p),
            (Some(p), None) if !p.growth().is_nan() => Some(p),
            (_, best) => best,
        }
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

    /// (last − first) / first of one process over the windows it was read
    /// in: the largest such growth of any process read at least twice
    /// (NaN, a failing gate, when none was). Never from one process to
    /// another: a leaking process replaced by a fresh one is not a shrink.
    pub fn rss_growth(&self) -> f64 {
        self.judged_process().map_or(f64::NAN, |p| p.growth())
    }

    /// Watched processes that ended during the run (None: none watched).
    pub fn restarts(&self) -> Option<u64> {
        self.restarts
    }

    pub fn p95_slope(&self) -> f64 {
        self.p95.slope()
    }

    pub fn rss_slope(&self) -> f64 {
        self.judged_process().map_or(f64::NAN, |p| p.trend.slope())
    }

    /// The gates asked for, evaluated. NaN (no data) never passes.
    pub fn gates(&self, limits: &Limits) -> Vec<Gate> {
        let mut gates = Vec::new();
        let mut push = |name: &str, op: Op, limit: Option<f64>, value: f64| {
            if let Some(limit) = limit {
                gates.push(Gate::check(name, op, limit, value));
            }
        };
        // Asked by default (not under chaos, whose outages fail requests by
        // design and are judged by recovery instead): a load test whose
        // requests failed has not passed because no limit was typed.
        let max_error_rate = match limits.max_error_rate {
            Some(l) => Some(l),
            None if limits.chaos => None,
            None => Some(DEFAULT_MAX_ERROR_RATE),
        };
        push("error_rate", Op::Le, max_error_rate, self.error_rate());
        // Always: a run in which no request succeeded never reached the
        // service, whatever error rate was allowed.
        push("ok", Op::Ge, Some(1.0), self.ok as f64);
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
        // Asked by default: a step that could not be built is planned work
        // not done (a 200 without the session id the next steps need).
        let max_skipped = match limits.max_skipped_steps {
            Some(l) => Some(l),
            None if limits.chaos => None,
            None => Some(0.0),
        };
        push(
            "skipped_steps",
            Op::Le,
            max_skipped,
            self.skipped_steps as f64,
        );
        // Asked by default whenever the service's process was watched: a
        // service that crashed and was restarted has not passed a soak.
        let max_restarts = match self.restarts {
            Some(_) => Some(limits.max_restarts.unwrap_or(0.0)),
            None => limits.max_restarts,
        };
        push(
            "service_restarts",
            Op::Le,
            max_restarts,
            self.restarts.map_or(f64::NAN, |r| r as f64),
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
        // First and last reading of the process growth was judged on (or,
        // when none was read twice, of the last one read).
        let judged = self.judged_process().or(self.process);
        m.insert("rss_first_bytes".into(), opt(judged.map(|p| p.first)));
        m.insert("rss_last_bytes".into(), opt(judged.map(|p| p.last)));
        m.insert(
            "rss_growth_service_pid".into(),
            judged.and_then(|p| p.pid).map_or(Value::Null, |p| json!(p)),
        );
        m.insert(
            "rss_growth_windows".into(),
            judged.map_or(Value::Null, |p| json!(p.readings)),
        );
        m.insert("rss_max_bytes".into(), opt(self.rss_max));
        m.insert("rss_warmup_windows".into(), json!(self.warmup_windows));
        m.insert("service_restarts".into(), opt(self.restarts));
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

    fn window(n: u64, pid: Option<i32>, rss: Option<u64>, restarts: Option<u64>) -> Window {
        let empty = crate::stats::Stat::new();
        Window {
            kind: "window".into(),
            window: n,
            started_at: String::new(),
            ended_at: String::new(),
            offset_ms: (n - 1) as f64 * 1000.0,
            duration_ms: 1000.0,
            figures: crate::window::Figures::of_stat(&empty, 1000.0),
            in_flight: 0,
            memory: crate::window::Memory {
                rss_bytes: rss,
                processes: rss.map(|_| 1),
                service_uptime_s: None,
                service_pid: pid,
                service_restarts: restarts,
            },
            interrupted: false,
            unfinished: 0,
            warmup: false,
            targets: vec![],
        }
    }

    fn totals(windows: &[Window]) -> Totals {
        let mut t = Totals::new();
        for w in windows {
            t.add(w, &histo::new(), &[]);
        }
        t
    }

    #[test]
    fn rss_growth_is_never_measured_from_one_process_to_another() {
        // A leaking process (100 -> 150) replaced by a fresh one (60 -> 66):
        // first to last would say -34%; the judged growth is the leak's.
        let t = totals(&[
            window(1, Some(7), Some(100), Some(0)),
            window(2, Some(7), Some(150), Some(0)),
            window(3, None, None, Some(1)), // down at the sample
            window(4, Some(8), Some(60), Some(0)),
            window(5, Some(8), Some(66), Some(0)),
        ]);
        assert_eq!(t.rss_growth(), 0.5);
        assert_eq!(t.restarts(), Some(1));
        let f = t.figures();
        assert_eq!(
            (
                &f["rss_first_bytes"],
                &f["rss_last_bytes"],
                &f["rss_growth_service_pid"]
            ),
            (&json!(100), &json!(150), &json!(7))
        );
        let gates = t.gates(&Limits::default());
        let names: Vec<&str> = gates.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            ["error_rate", "ok", "skipped_steps", "service_restarts"],
            "asked by default"
        );
        assert_eq!(
            (gates[3].value, gates[3].limit, gates[3].pass),
            (1.0, 0.0, false)
        );
        // The same pid again after a restart (reused) is a new process.
        let t = totals(&[
            window(1, Some(7), Some(100), Some(0)),
            window(2, Some(7), Some(90), Some(0)),
            window(3, Some(7), Some(50), Some(1)),
            window(4, Some(7), Some(60), Some(0)),
        ]);
        assert_eq!(t.rss_growth(), 0.2);
        // No process read twice: no growth, and its gate fails.
        let t = totals(&[
            window(1, Some(7), Some(100), Some(0)),
            window(2, Some(8), Some(300), Some(1)),
        ]);
        assert!(t.rss_growth().is_nan());
        let g = t.gates(&Limits {
            max_rss_growth: Some(0.1),
            max_restarts: Some(1.0),
            chaos: true,
            ..Limits::default()
        });
        let passes = |g: &[Gate]| {
            g.iter()
                .filter(|g| g.name != "ok")
                .map(|g| g.pass)
                .collect::<Vec<_>>()
        };
        assert_eq!(passes(&g), [false, true]);
        // Records written before windows counted restarts: a pid change is one.
        let t = totals(&[
            window(1, Some(7), Some(100), None),
            window(2, Some(8), Some(100), None),
            window(3, Some(8), Some(100), None),
        ]);
        assert_eq!(t.restarts(), Some(1));
        // Nothing watched: no restarts gate unless asked (then it fails).
        let t = totals(&[window(1, None, None, None)]);
        assert_eq!(t.restarts(), None);
        let no_chaos = Limits {
            chaos: true,
            ..Limits::default()
        };
        let names: Vec<String> = t.gates(&no_chaos).into_iter().map(|g| g.name).collect();
        assert_eq!(names, ["ok"], "only the always-asked gate");
        let g = t.gates(&Limits {
            max_restarts: Some(0.0),
            ..no_chaos
        });
        assert!(!g[1].pass && g[1].name == "service_restarts");
    }

    #[test]
    fn no_requests_fail_every_gate_that_needs_them() {
        let t = Totals::new();
        let gates = t.gates(&Limits {
            max_error_rate: Some(0.005),
            max_p95_ms: Some(100.0),
            max_rss_growth: Some(0.1),
            min_throughput_rps: Some(1.0),
            max_skipped_steps: Some(0.0),
            ..Limits::default()
        });
        assert_eq!(gates.len(), 6);
        // Nothing skipped passes; every other gate fails.
        let gates: Vec<_> = gates
            .into_iter()
            .filter(|g| g.name != "skipped_steps")
            .collect();
        assert!(gates.iter().all(|g| !g.pass), "{gates:?}");
    }
}
