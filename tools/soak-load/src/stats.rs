//! Counting while the load runs: per request kind, the outcome counts and a
//! latency histogram — fixed-size, whatever the number of requests (no
//! per-request storage), and sharded so concurrent requests rarely contend.

use std::sync::{Mutex, MutexGuard};

use crate::histo::{self, Latency};

/// Why a request did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorClass {
    /// The TCP connection (or HTTP handshake) could not be made.
    Connect,
    /// No complete answer within `--timeout`.
    Timeout,
    /// The answer was 4xx.
    Status4xx,
    /// The answer was 5xx.
    Status5xx,
    /// Anything else: reset mid-answer, malformed response, unexpected status.
    Other,
    /// Never sent: when a slot came free it was already older than `--timeout`.
    Dropped,
    /// Never sent: a sequence step whose template needs a value an earlier
    /// answer did not have (that step failed, or answered without it).
    Template,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 7] = [
        ErrorClass::Connect,
        ErrorClass::Timeout,
        ErrorClass::Status4xx,
        ErrorClass::Status5xx,
        ErrorClass::Other,
        ErrorClass::Dropped,
        ErrorClass::Template,
    ];

    /// The name in records (`errors_by_class` keys, the requests log).
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Connect => "connect",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Status4xx => "4xx",
            ErrorClass::Status5xx => "5xx",
            ErrorClass::Other => "other",
            ErrorClass::Dropped => "dropped",
            ErrorClass::Template => "template",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Outcome counts of one request kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub requests: u64,
    pub ok: u64,
    pub errors: [u64; 7],
    /// Sends that started more than [`LATE_AFTER_US`] after their intended time.
    pub late: u64,
    /// Sequence steps not sent because an earlier step's answer lacked a
    /// value they use (each also a request failed with class `template`).
    pub skipped_steps: u64,
}

/// A send that starts later than this after its intended time counts as late.
pub const LATE_AFTER_US: u64 = 10_000;

impl Counts {
    pub fn errors_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    pub fn error(&self, class: ErrorClass) -> u64 {
        self.errors[class.index()]
    }

    pub fn add(&mut self, o: &Counts) {
        self.requests += o.requests;
        self.ok += o.ok;
        for (a, b) in self.errors.iter_mut().zip(o.errors) {
            *a += b;
        }
        self.late += o.late;
        self.skipped_steps += o.skipped_steps;
    }

    pub fn set_error(&mut self, class: ErrorClass, n: u64) {
        self.errors[class.index()] = n;
    }
}

/// Counts and latencies of one request kind.
#[derive(Clone, Debug)]
pub struct Stat {
    pub counts: Counts,
    pub latency: Latency,
}

impl Stat {
    pub fn new() -> Stat {
        Stat {
            counts: Counts::default(),
            latency: histo::new(),
        }
    }

    /// Adds `other` into `self` and clears `other`.
    fn absorb(&mut self, other: &mut Stat) {
        self.counts.add(&other.counts);
        other.counts = Counts::default();
        if !other.latency.is_empty() {
            histo::add(&mut self.latency, &other.latency);
            other.latency.reset();
        }
    }

    pub fn reset(&mut self) {
        self.counts = Counts::default();
        self.latency.reset();
    }
}

impl Default for Stat {
    fn default() -> Self {
        Stat::new()
    }
}

/// One [`Stat`] per request kind (`Plan::stat_names`).
#[derive(Clone, Debug)]
pub struct Recorder {
    pub stats: Vec<Stat>,
}

impl Recorder {
    pub fn new(kinds: usize) -> Recorder {
        Recorder {
            stats: (0..kinds).map(|_| Stat::new()).collect(),
        }
    }

    /// One finished (or dropped) request: every request lands in the
    /// histogram, errors included, so a timeout cannot hide from p99.
    pub fn record(
        &mut self,
        kind: usize,
        latency_us: u64,
        outcome: Result<(), ErrorClass>,
        late: bool,
    ) {
        let Some(s) = self.stats.get_mut(kind) else {
            return;
        };
        s.counts.requests += 1;
        match outcome {
            Ok(()) => s.counts.ok += 1,
            Err(class) => s.counts.errors[class.index()] += 1,
        }
        if late {
            s.counts.late += 1;
        }
        histo::record(&mut s.latency, latency_us);
    }

    /// Sequence steps that could not be built, so were never sent: each is
    /// a planned request that failed (class `template`), with no latency
    /// (nothing was timed), so not in the histogram.
    pub fn skipped(&mut self, kind: usize, steps: u64) {
        if let Some(s) = self.stats.get_mut(kind) {
            s.counts.skipped_steps += steps;
            s.counts.requests += steps;
            s.counts.errors[ErrorClass::Template.index()] += steps;
        }
    }

    /// Moves everything from `other` into `self`.
    pub fn absorb(&mut self, other: &mut Recorder) {
        for (a, b) in self.stats.iter_mut().zip(other.stats.iter_mut()) {
            a.absorb(b);
        }
    }

    /// All kinds together.
    pub fn total(&self) -> Stat {
        let mut t = Stat::new();
        for s in &self.stats {
            t.counts.add(&s.counts);
            histo::add(&mut t.latency, &s.latency);
        }
        t
    }

    pub fn reset(&mut self) {
        self.stats.iter_mut().for_each(Stat::reset);
    }
}

/// Recorders behind locks, picked by request number so that concurrent
/// requests rarely wait for each other.
#[derive(Debug)]
pub struct Shards {
    shards: Vec<Mutex<Recorder>>,
}

/// Enough to keep lock waits rare on a few cores, few enough that the
/// histograms (about 140 KB per kind and shard) stay small.
pub const SHARDS: usize = 4;

impl Shards {
    pub fn new(kinds: usize) -> Shards {
        Shards {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(Recorder::new(kinds)))
                .collect(),
        }
    }

    pub fn lock(&self, key: u64) -> MutexGuard<'_, Recorder> {
        let m = &self.shards[(key % SHARDS as u64) as usize];
        // A panic while recording leaves only counts behind; still usable.
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves every shard's figures into `into` (the window being closed).
    pub fn drain_into(&self, into: &mut Recorder) {
        for k in 0..SHARDS as u64 {
            into.absorb(&mut self.lock(k));
        }
    }

    /// Adds every shard's figures into `into` without clearing them (progress).
    pub fn peek_into(&self, into: &mut Recorder) {
        for k in 0..SHARDS as u64 {
            let g = self.lock(k);
            for (a, b) in into.stats.iter_mut().zip(g.stats.iter()) {
                a.counts.add(&b.counts);
                if !b.latency.is_empty() {
                    histo::add(&mut a.latency, &b.latency);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_absorb_and_total() {
        let shards = Shards::new(2);
        shards.lock(0).record(0, 1000, Ok(()), false);
        shards
            .lock(1)
            .record(0, 2000, Err(ErrorClass::Status5xx), true);
        shards
            .lock(2)
            .record(1, 500_000, Err(ErrorClass::Timeout), false);
        shards.lock(3).skipped(1, 2);
        let mut w = Recorder::new(2);
        shards.drain_into(&mut w);
        assert_eq!(w.stats[0].counts.requests, 2);
        assert_eq!(w.stats[0].counts.ok, 1);
        assert_eq!(w.stats[0].counts.error(ErrorClass::Status5xx), 1);
        assert_eq!(w.stats[0].counts.late, 1);
        assert_eq!(w.stats[1].counts.skipped_steps, 2);
        assert_eq!(w.stats[1].counts.error(ErrorClass::Template), 2);
        let t = w.total();
        assert_eq!(t.counts.requests, 5);
        assert_eq!(t.counts.errors_total(), 4);
        // Steps never sent have no latency.
        assert_eq!(t.latency.len(), 3);
        // Drained shards are empty.
        let mut again = Recorder::new(2);
        shards.drain_into(&mut again);
        assert_eq!(again.total().counts, Counts::default());
    }
}
