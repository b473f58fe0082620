//! Parsing the thresholds people type on the command line.
//!
//! Humans write `0.5%`, `98%`, `0.005`, `100ms`, `8m`, `48h`; records carry
//! plain numbers (fractions in `[0,1]`, milliseconds). These functions have
//! the `fn(&str) -> Result<T, String>` shape clap's `value_parser` takes.

use std::time::Duration;

/// A fraction: `0.5%` → 0.005, `0.005` → 0.005. Must lie in `[0, 1]`.
pub fn fraction(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (number, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (t, 1.0),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a fraction (examples: 0.5%, 98%, 0.005)"))?;
    let value = value / scale;
    if !value.is_finite() || !(0.0..=1.0).contains(&value) {
        return Err(format!("'{text}' is outside 0..1 (0%..100%)"));
    }
    Ok(value)
}

/// A whole count: `0`, `10`, `1_000`.
pub fn count(text: &str) -> Result<u64, String> {
    text.trim()
        .replace('_', "")
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number (examples: 0, 10, 1000)"))
}

/// A non-negative number: `0.001`, `1e-6`.
pub fn number(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "'{text}' is not a non-negative number (examples: 0.001, 1e-6)"
        )),
    }
}

/// A duration: `100ms`, `5s`, `8m`, `48h`, `1h 30m`. A bare `0` is zero.
pub fn duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(t)
        .map_err(|e| format!("'{text}' is not a duration ({e}; examples: 100ms, 5s, 8m, 48h)"))
}

/// A duration in milliseconds as a float, the unit records carry.
pub fn duration_ms(text: &str) -> Result<f64, String> {
    duration(text).map(|d| d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions() {
        assert_eq!(fraction("0.5%"), Ok(0.005));
        assert_eq!(fraction("98%"), Ok(0.98));
        assert_eq!(fraction("0.005"), Ok(0.005));
        assert_eq!(fraction(" 100% "), Ok(1.0));
        assert!(fraction("101%").is_err());
        assert!(fraction("-1%").is_err());
        assert!(fraction("abc").is_err());
        assert!(fraction("NaN").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms("100ms"), Ok(100.0));
        assert_eq!(duration_ms("8m"), Ok(480_000.0));
        assert_eq!(duration_ms("6h"), Ok(21_600_000.0));
        assert_eq!(duration_ms("0"), Ok(0.0));
        assert!(duration("8 parsecs").is_err());
    }

    #[test]
    fn counts() {
        assert_eq!(count("0"), Ok(0));
        assert_eq!(count("1_000"), Ok(1000));
        assert!(count("-1").is_err());
        assert!(count("1.5").is_err());
    }
}
