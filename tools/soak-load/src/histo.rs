//! Latency histograms: HDR histograms of microseconds, and their mergeable
//! text form in records (base64 of the standard V2 serialization, the one
//! HdrHistogram's Java, Go and C libraries read too).
//!
//! Merging histograms is exact at the histogram's resolution (three
//! significant digits), which is why windows carry them: percentiles of many
//! windows or many generators are computed from the merged counts, never by
//! averaging percentiles.

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;

/// Latency unit in histograms.
pub const UNIT_PER_MS: f64 = 1000.0;

/// Three significant digits: 0.1% resolution, wrk2's and HdrHistogram's default.
const SIGFIG: u8 = 3;
/// The range a fresh histogram covers; it grows on demand beyond it.
const INITIAL_HIGHEST_US: u64 = 60_000_000;
/// Refuse encoded histograms claiming more than this (about 35 days in µs):
/// a hostile header must not make us allocate gigabytes.
const MAX_HIGHEST_US: u64 = 1 << 41;
/// Longest base64 text we decode (a dense 3-digit histogram is a few KB).
const MAX_ENCODED_LEN: usize = 4 << 20;

/// A latency histogram in microseconds.
pub type Latency = Histogram<u64>;

/// An empty histogram that grows to any latency recorded into it.
#[allow(
    clippy::expect_used,
    reason = "constant bounds that hdrhistogram accepts"
)]
pub fn new() -> Latency {
    let mut h =
        Histogram::new_with_bounds(1, INITIAL_HIGHEST_US, SIGFIG).expect("valid constant bounds");
    h.auto(true);
    h
}

/// Records one latency, clamped to at least 1 µs (a zero would vanish below
/// the lowest discernible value).
pub fn record(h: &mut Latency, micros: u64) {
    // `record` grows the histogram; only an absurd value fails, and is clamped.
    if h.record(micros.max(1)).is_err() {
        h.saturating_record(micros.max(1));
    }
}

/// Adds `from` into `into`; both auto-resize, so this cannot fail on range.
pub fn add(into: &mut Latency, from: &Latency) {
    if into.add(from).is_err() {
        // Only possible when `into` was not auto-resizing; make it so and retry.
        into.auto(true);
        let _ = into.add(from);
    }
}

/// The value at quantile `q` in milliseconds; `None` when empty.
pub fn quantile_ms(h: &Latency, q: f64) -> Option<f64> {
    if h.is_empty() {
        None
    } else {
        Some(h.value_at_quantile(q) as f64 / UNIT_PER_MS)
    }
}

/// The largest recorded value in milliseconds (at histogram resolution).
pub fn max_ms(h: &Latency) -> Option<f64> {
    if h.is_empty() {
        None
    } else {
        Some(h.max() as f64 / UNIT_PER_MS)
    }
}

/// base64 of the V2 serialized form.
pub fn encode(h: &Latency) -> String {
    let mut bytes = Vec::new();
    // Serializing into a Vec cannot fail for a histogram we built.
    if V2Serializer::new().serialize(h, &mut bytes).is_err() {
        bytes.clear();
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Parses what [`encode`] wrote (or any V2 histogram, plain or deflated).
pub fn decode(text: &str) -> Result<Latency, String> {
    if text.len() > MAX_ENCODED_LEN {
        return Err(format!(
            "histogram is {} bytes of base64, over the {MAX_ENCODED_LEN} limit",
            text.len()
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("histogram is not base64: {e}"))?;
    check_header(&bytes)?;
    let mut h: Latency = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram is not a V2 HDR histogram: {e:?}"))?;
    h.auto(true);
    Ok(h)
}

/// Validates the V2 header before the deserializer allocates from it.
fn check_header(bytes: &[u8]) -> Result<(), String> {
    const V2_COOKIE: u32 = 0x1c84_9313;
    const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;
    let word = |at: usize| -> Option<u32> {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    let cookie = word(0).ok_or("histogram is truncated")?;
    if cookie == V2_COMPRESSED_COOKIE {
        // The deflated form hides its header; the inflated one is checked by
        // the size bound below.
        return Err("deflated histograms are not accepted; use the plain V2 form".into());
    }
    if cookie != V2_COOKIE {
        return Err(format!("histogram has an unknown cookie {cookie:#x}"));
    }
    let sigfig = word(12).ok_or("histogram is truncated")?;
    let highest = bytes
        .get(24..32)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or("histogram is truncated")?;
    if sigfig > 5 {
        return Err(format!(
            "histogram claims {sigfig} significant digits (at most 5)"
        ));
    }
    if highest > MAX_HIGHEST_US {
        return Err(format!(
            "histogram claims a highest value of {highest} µs (at most {MAX_HIGHEST_US})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_and_merge_is_exact() {
        let mut a = new();
        let mut b = new();
        let mut all = new();
        for i in 0..10_000u64 {
            let v = (i * 7919) % 250_000 + 1;
            if i % 3 == 0 {
                record(&mut a, v);
            } else {
                record(&mut b, v);
            }
            record(&mut all, v);
        }
        let a2 = decode(&encode(&a)).unwrap();
        assert_eq!(a2, a);
        let mut merged = decode(&encode(&b)).unwrap();
        add(&mut merged, &a2);
        for q in [0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            assert_eq!(quantile_ms(&merged, q), quantile_ms(&all, q), "q={q}");
        }
        assert_eq!(merged.len(), 10_000);
    }

    #[test]
    fn grows_past_its_initial_range() {
        let mut h = new();
        record(&mut h, 3_600_000_000);
        assert!(max_ms(&h).unwrap() >= 3_600_000.0);
        assert_eq!(decode(&encode(&h)).unwrap().len(), 1);
    }

    #[test]
    fn hostile_input_is_refused_not_allocated() {
        assert!(decode("not base64!").is_err());
        assert!(decode("AAAA").is_err());
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(encode(&new()))
            .unwrap();
        bytes[24..32].copy_from_slice(&u64::MAX.to_be_bytes());
        let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert!(decode(&text).unwrap_err().contains("highest value"));
        let e = encode(&new());
        assert!(decode(&e[..e.len() / 2]).is_err());
    }

    #[test]
    fn empty_histograms_have_no_percentiles() {
        assert_eq!(quantile_ms(&new(), 0.5), None);
        assert_eq!(max_ms(&new()), None);
    }
}
