//! The health phase (--health, on the last cycle): the probe asked every
//! interval for the duration, each answer a `health` record.

use std::time::{Duration, Instant};

use super::Runner;
use crate::probe::Probe;
use crate::records::{self, HealthRecord};
use crate::supervise::nap;

impl Runner<'_> {
    /// Probes every interval for the duration; false on Ctrl-C.
    pub(super) fn health_phase(
        &mut self,
        probe: &Probe,
        interval: Duration,
        duration: Duration,
        n: u64,
        main: Option<i32>,
    ) -> common::Result<bool> {
        let start = Instant::now();
        let mut seq = 0u64;
        let mut since = probe.log_count(self.hub);
        loop {
            let due = interval.saturating_mul(seq as u32);
            if due >= duration || seq >= u64::from(u32::MAX) {
                return Ok(true);
            }
            let wait = (start + due).saturating_duration_since(Instant::now());
            if !nap(wait) {
                return Ok(false);
            }
            seq += 1;
            let at = common::clock::now_rfc3339();
            let mut attempts = 0;
            let mut result;
            let mut t;
            loop {
                attempts += 1;
                t = Instant::now();
                result = probe
                    .check(self.hub, since)
                    .and_then(|()| self.answered_by_service(probe, main));
                if result.is_ok() || attempts >= self.config.failure_threshold {
                    break;
                }
                if !nap(Duration::from_millis(100)) {
                    return Ok(false);
                }
            }
            since = probe.log_count(self.hub);
            let ok = result.is_ok();
            self.health.total += 1;
            if ok {
                self.health.ok += 1;
            }
            let record = HealthRecord {
                kind: "health",
                seq,
                cycle: n,
                at,
                ok,
                latency_ms: common::clock::ms(t.elapsed()),
                attempts,
                error: result.err(),
            };
            records::write(self.out, &record)?;
        }
    }
}
