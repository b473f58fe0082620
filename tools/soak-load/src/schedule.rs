//! When each request should be sent, and which target it goes to.
//!
//! The open model gives request number `i` an intended send time that
//! depends only on `i`, the rate and the ramp, so latency can be measured
//! from it (coordinated omission corrected) and the rate is global, whatever
//! the number of connections. Targets are picked by smooth weighted round
//! robin (nginx's): exact shares, no randomness, a pure function of `i`.

use std::time::Duration;

/// `1000/s`, `50/m`, `2/h`, or a bare number (per second) → requests per second.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (number, per) = match t.split_once('/') {
        Some((n, unit)) => {
            let per = match unit.trim() {
                "s" | "sec" | "second" => 1.0,
                "m" | "min" | "minute" => 60.0,
                "h" | "hour" => 3600.0,
                other => {
                    return Err(format!(
                        "'{text}': unknown unit '/{other}' (use /s, /m or /h; example: 1000/s)"
                    ))
                }
            };
            (n.trim(), per)
        }
        None => (t, 1.0),
    };
    let n: f64 = number
        .replace('_', "")
        .parse()
        .map_err(|_| format!("'{text}' is not a rate (examples: 1000/s, 50/m, 2/h)"))?;
    let rate = n / per;
    if !rate.is_finite() || rate <= 0.0 {
        return Err(format!("'{text}': a rate must be above zero"));
    }
    if rate > 10_000_000.0 {
        return Err(format!("'{text}': at most 10000000/s"));
    }
    Ok(rate)
}

/// Intended send times of the open model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// Requests per second once ramped up.
    pub rate: f64,
    /// Seconds over which the rate grows linearly from 0.
    pub ramp_s: f64,
}

impl Schedule {
    /// Offset of request `i` (0-based) from the start of the run.
    ///
    /// During the ramp the cumulative count is `rate·t²/(2·ramp)`; inverting
    /// it gives `t = sqrt(2·ramp·i/rate)`; after it, one every `1/rate`.
    pub fn offset(&self, i: u64) -> Duration {
        let i = i as f64;
        let ramp_count = self.rate * self.ramp_s / 2.0;
        let secs = if self.ramp_s > 0.0 && i < ramp_count {
            (2.0 * self.ramp_s * i / self.rate).sqrt()
        } else {
            self.ramp_s + (i - ramp_count.min(i)) / self.rate
        };
        Duration::from_secs_f64(secs.max(0.0))
    }
}

/// One period of smooth weighted round robin over `weights`: target `k`
/// appears exactly `weights[k]` times, spread evenly.
pub fn pick_table(weights: &[u32]) -> Vec<u32> {
    let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
    let mut current = vec![0i64; weights.len()];
    let mut table = Vec::with_capacity(total.max(0) as usize);
    for _ in 0..total {
        let mut best = 0;
        for (k, &w) in weights.iter().enumerate() {
            current[k] += i64::from(w);
            if current[k] > current[best] {
                best = k;
            }
        }
        current[best] -= total;
        table.push(best as u32);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("1000/s"), Ok(1000.0));
        assert_eq!(parse_rate("60/m"), Ok(1.0));
        assert_eq!(parse_rate("7200/h"), Ok(2.0));
        assert_eq!(parse_rate("50"), Ok(50.0));
        assert_eq!(parse_rate("1_000/s"), Ok(1000.0));
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("-5/s").is_err());
        assert!(parse_rate("5/d").unwrap_err().contains("unknown unit"));
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("inf").is_err());
    }

    #[test]
    fn steady_schedule_is_one_every_interval() {
        let s = Schedule {
            rate: 1000.0,
            ramp_s: 0.0,
        };
        assert_eq!(s.offset(0), Duration::ZERO);
        assert_eq!(s.offset(1000), Duration::from_secs(1));
        assert_eq!(s.offset(1), Duration::from_millis(1));
    }

    #[test]
    fn ramp_sends_half_as_many_then_continues_at_rate() {
        let s = Schedule {
            rate: 100.0,
            ramp_s: 10.0,
        };
        // 500 requests during the 10 s ramp, then 100/s.
        assert!((s.offset(500).as_secs_f64() - 10.0).abs() < 1e-9);
        assert!((s.offset(600).as_secs_f64() - 11.0).abs() < 1e-9);
        assert!((s.offset(125).as_secs_f64() - 5.0).abs() < 1e-9);
        let mut last = Duration::ZERO;
        for i in 0..700 {
            let t = s.offset(i);
            assert!(t >= last);
            last = t;
        }
    }

    #[test]
    fn weighted_round_robin_is_exact_and_spread() {
        let t = pick_table(&[5, 1, 1]);
        assert_eq!(t, vec![0, 0, 1, 0, 2, 0, 0]);
        assert_eq!(pick_table(&[1]), vec![0]);
        let t = pick_table(&[3, 2]);
        assert_eq!(t.iter().filter(|&&k| k == 0).count(), 3);
        assert_eq!(t.len(), 5);
    }
}
