//! The `window` record: what happened in one `--window` of the run, for all
//! targets together and per target, with the latency histogram in a
//! mergeable encoding and the service's memory at the window's end.
//!
//! Field names are part of the contract (see the man page); keep in sync
//! with `csv.rs` (columns) and `judge.rs` (what the summary reads back).

use serde::{Deserialize, Serialize};

use crate::histo::{self, Latency};
use crate::stats::{Counts, ErrorClass, Stat};

/// Errors by class, as written in records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorsByClass {
    pub connect: u64,
    pub timeout: u64,
    #[serde(rename = "4xx")]
    pub status_4xx: u64,
    #[serde(rename = "5xx")]
    pub status_5xx: u64,
    pub other: u64,
    pub dropped: u64,
    /// Steps never sent (records written before this class: 0).
    #[serde(default)]
    pub template: u64,
}

impl ErrorsByClass {
    pub fn from_counts(c: &Counts) -> Self {
        ErrorsByClass {
            connect: c.error(ErrorClass::Connect),
            timeout: c.error(ErrorClass::Timeout),
            status_4xx: c.error(ErrorClass::Status4xx),
            status_5xx: c.error(ErrorClass::Status5xx),
            other: c.error(ErrorClass::Other),
            dropped: c.error(ErrorClass::Dropped),
            template: c.error(ErrorClass::Template),
        }
    }

    pub fn total(&self) -> u64 {
        self.connect
            + self.timeout
            + self.status_4xx
            + self.status_5xx
            + self.other
            + self.dropped
            + self.template
    }

    pub fn add(&mut self, o: &ErrorsByClass) {
        self.connect += o.connect;
        self.timeout += o.timeout;
        self.status_4xx += o.status_4xx;
        self.status_5xx += o.status_5xx;
        self.other += o.other;
        self.dropped += o.dropped;
        self.template += o.template;
    }
}

/// The figures of one window, for all targets or one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub requests: u64,
    pub ok: u64,
    pub errors: u64,
    pub errors_by_class: ErrorsByClass,
    /// errors / requests; null when there were no requests.
    pub error_rate: Option<f64>,
    /// requests / window duration.
    pub achieved_rps: f64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub late: u64,
    pub skipped_steps: u64,
    /// The window's latency histogram (µs): base64 of the V2 HDR serialization.
    pub histogram: String,
}

/// Rounds to the nanosecond so figures print short and read back identical.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl Figures {
    /// Figures from counts and a histogram over `duration_ms`.
    pub fn build(counts: &Counts, latency: &Latency, duration_ms: f64) -> Figures {
        let by_class = ErrorsByClass::from_counts(counts);
        Figures::from_parts(
            counts.requests,
            counts.ok,
            by_class,
            counts.late,
            counts.skipped_steps,
            latency,
            duration_ms,
        )
    }

    /// Figures from parts (merging windows rebuilds them this way).
    pub fn from_parts(
        requests: u64,
        ok: u64,
        by_class: ErrorsByClass,
        late: u64,
        skipped_steps: u64,
        latency: &Latency,
        duration_ms: f64,
    ) -> Figures {
        let errors = by_class.total();
        Figures {
            requests,
            ok,
            errors,
            errors_by_class: by_class,
            error_rate: (requests > 0).then(|| errors as f64 / requests as f64),
            achieved_rps: if duration_ms > 0.0 {
                round6(requests as f64 * 1000.0 / duration_ms)
            } else {
                0.0
            },
            p50_ms: histo::quantile_ms(latency, 0.50),
            p90_ms: histo::quantile_ms(latency, 0.90),
            p95_ms: histo::quantile_ms(latency, 0.95),
            p99_ms: histo::quantile_ms(latency, 0.99),
            p999_ms: histo::quantile_ms(latency, 0.999),
            max_ms: histo::max_ms(latency),
            late,
            skipped_steps,
            histogram: histo::encode(latency),
        }
    }

    pub fn of_stat(s: &Stat, duration_ms: f64) -> Figures {
        Figures::build(&s.counts, &s.latency, duration_ms)
    }
}

/// One target's figures in a window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetWindow {
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// The service's memory, read from /proc at the end of a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// Sum of VmRSS over the watched process and its descendants.
    pub rss_bytes: Option<u64>,
    /// How many processes that sum covers.
    pub processes: Option<u64>,
    /// Seconds since the watched process started (a drop means a restart).
    pub service_uptime_s: Option<f64>,
    /// Which process was watched (with --pid-file, it may change).
    pub service_pid: Option<i32>,
    /// Watched processes that ended (crashed, were killed or replaced)
    /// during this window; null when no process is watched.
    pub service_restarts: Option<u64>,
}

/// The `window` record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub kind: String,
    /// 1, 2, 3, ... in order.
    pub window: u64,
    pub started_at: String,
    pub ended_at: String,
    /// Start of the window, in ms after the run started.
    pub offset_ms: f64,
    pub duration_ms: f64,
    #[serde(flatten)]
    pub figures: Figures,
    /// Requests sent but not answered when the window closed.
    pub in_flight: u64,
    #[serde(flatten)]
    pub memory: Memory,
    /// Last window of an interrupted run (SIGINT): the figures are partial.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// Requests still unanswered when the run stopped waiting for them
    /// (not counted as requests or errors).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unfinished: u64,
    /// Ended within --warmup of the start: its memory reading is left out
    /// of the growth figures.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warmup: bool,
    pub targets: Vec<TargetWindow>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Recorder;

    #[test]
    fn window_round_trips_through_json() {
        let mut r = Recorder::new(1);
        r.record(0, 1500, Ok(()), false);
        r.record(0, 2500, Err(ErrorClass::Status5xx), false);
        let f = Figures::of_stat(&r.stats[0], 1000.0);
        assert_eq!(f.error_rate, Some(0.5));
        assert_eq!(f.achieved_rps, 2.0);
        assert_eq!(f.p50_ms, Some(1.5));
        let w = Window {
            kind: "window".into(),
            window: 1,
            started_at: "a".into(),
            ended_at: "b".into(),
            offset_ms: 0.0,
            duration_ms: 1000.0,
            figures: f.clone(),
            in_flight: 0,
            memory: Memory::default(),
            interrupted: false,
            unfinished: 0,
            warmup: false,
            targets: vec![TargetWindow {
                name: "t".into(),
                figures: f,
            }],
        };
        let text = serde_json::to_string(&w).unwrap();
        assert!(text.contains(r#""errors_by_class":{"connect":0,"timeout":0,"4xx":0,"5xx":1,"other":0,"dropped":0,"template":0}"#), "{text}");
        assert!(!text.contains("interrupted"));
        let back: Window = serde_json::from_str(&text).unwrap();
        assert_eq!(back, w);
        let empty = Figures::of_stat(&Stat::new(), 0.0);
        assert_eq!(
            (empty.error_rate, empty.p99_ms, empty.achieved_rps),
            (None, None, 0.0)
        );
    }
}
