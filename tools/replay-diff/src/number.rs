//! JSON numbers compared by their exact decimal value, as written.
//!
//! Going through `f64` calls `123456789012345678901234567890` and `…891`
//! equal and `1e999` an error; a determinism gate can afford neither. Here a
//! number's text is reduced to sign, significant digits and exponent, so
//! `100`, `1e2` and `100.0` are one value (the same decimal number in other
//! notation) while any two different decimals differ, whatever their size.
//! Exponents of any length are handled exactly (no saturation).

use std::fmt::Write as _;

/// True when the two JSON number texts denote the same decimal value.
/// Both must be valid JSON numbers (the readers validate every line).
pub fn exact_eq(a: &str, b: &str) -> bool {
    a == b || canonical(a) == canonical(b)
}

/// A canonical text for the number's exact value: `0`, or
/// `[-]DIGITSeEXP` with no leading or trailing zeros in `DIGITS`
/// (`1e2` → `1e2`, `100.0` → `1e2`, `-0.50` → `-5e-1`). Equal values have
/// equal canonical texts and different values different ones.
pub fn canonical(text: &str) -> String {
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mantissa_end = rest
        .iter()
        .position(|b| matches!(b, b'e' | b'E'))
        .unwrap_or(rest.len());
    let (mantissa, exponent) = rest.split_at(mantissa_end);
    let (int, frac) = match mantissa.iter().position(|b| *b == b'.') {
        Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
        None => (mantissa, &[][..]),
    };
    let all = int.iter().chain(frac).copied().filter(u8::is_ascii_digit);
    let mut digits: Vec<u8> = all.skip_while(|d| *d == b'0').collect();
    let trailing = digits.iter().rev().take_while(|d| **d == b'0').count();
    digits.truncate(digits.len() - trailing);
    if digits.is_empty() {
        return "0".to_string();
    }
    // value = digits × 10^(written exponent − fraction length + trailing zeros)
    let shift = trailing as i128 - frac.len() as i128;
    let exponent = exponent.get(1..).unwrap_or_default();
    let (exp_negative, exp_digits) = match exponent.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, exponent),
    };
    let exp_digits: Vec<u8> = exp_digits
        .iter()
        .copied()
        .skip_while(|d| *d == b'0')
        .collect();
    let mut out = String::with_capacity(digits.len() + exp_digits.len() + 4);
    if negative {
        out.push('-');
    }
    out.extend(digits.iter().map(|d| char::from(*d)));
    out.push('e');
    write_exponent(&mut out, exp_negative, &exp_digits, shift);
    out
}

/// Writes `±exp_digits + shift` exactly. Written exponents that fit in an
/// i128 (36 digits) are added directly; longer ones are at least 10^36 in
/// size, far larger than any shift (bounded by a line's length), so the
/// sum keeps the exponent's sign and only its magnitude changes.
fn write_exponent(out: &mut String, negative: bool, digits: &[u8], shift: i128) {
    if digits.len() <= 36 {
        let mut value: i128 = 0;
        for d in digits {
            value = value * 10 + i128::from(d - b'0');
        }
        if negative {
            value = -value;
        }
        let _ = write!(out, "{}", value + shift);
        return;
    }
    // |result| = |exp| + shift·sign(exp): add or subtract |shift|.
    let grow = (shift >= 0) != negative;
    let magnitude = add_or_sub(digits, shift.unsigned_abs(), grow);
    if negative {
        out.push('-');
    }
    out.extend(magnitude.iter().map(|d| char::from(*d)));
}

/// `digits ± small` in decimal, where `digits` is far larger than `small`.
fn add_or_sub(digits: &[u8], small: u128, add: bool) -> Vec<u8> {
    let mut result: Vec<u8> = digits.iter().rev().map(|d| d - b'0').collect();
    let mut carry: i128 = 0;
    let mut small = small;
    for slot in result.iter_mut() {
        let s = (small % 10) as i128;
        small /= 10;
        let mut v = i128::from(*slot) + carry + if add { s } else { -s };
        carry = 0;
        if v >= 10 {
            v -= 10;
            carry = 1;
        } else if v < 0 {
            v += 10;
            carry = -1;
        }
        *slot = v as u8;
        if small == 0 && carry == 0 {
            break;
        }
    }
    if carry == 1 {
        result.push(1);
    }
    while result.len() > 1 && result.last() == Some(&0) {
        result.pop();
    }
    result.iter().rev().map(|d| d + b'0').collect()
}

/// The number as an `f64` for `--float-tolerance` (±inf when out of range).
pub fn to_f64(text: &str) -> f64 {
    text.parse().unwrap_or(f64::NAN)
}

/// Largest magnitude below which every integer is an exact `f64`: 2^53.
const F64_EXACT: f64 = 9_007_199_254_740_992.0;

/// True when `a` and `b` are at most `tolerance` apart, judged without
/// losing a digit that matters: as `f64` only while both are below 2^53 in
/// size (where an `f64` still tells neighbouring integers apart); beyond
/// that, integers by their exact difference (up to 38 digits), and
/// anything else only when exactly equal. 64-bit ids that differ by 89
/// were "within 0.001" as `f64`s.
pub fn within(a: &str, b: &str, tolerance: f64) -> bool {
    if tolerance <= 0.0 || !tolerance.is_finite() {
        return false;
    }
    let (x, y) = (to_f64(a), to_f64(b));
    if !(x.is_finite() && y.is_finite()) {
        return false;
    }
    if x.abs() < F64_EXACT && y.abs() < F64_EXACT {
        return (x - y).abs() <= tolerance;
    }
    match (to_i128(a), to_i128(b)) {
        (Some(i), Some(j)) => i.abs_diff(j) as f64 <= tolerance,
        _ => false,
    }
}

/// The number's exact value when it is an integer of at most 38 digits.
fn to_i128(text: &str) -> Option<i128> {
    let c = canonical(text);
    if c == "0" {
        return Some(0);
    }
    let (mantissa, exponent) = c.split_once('e')?;
    let exponent: u32 = exponent.parse().ok()?;
    let (negative, digits) = match mantissa.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, mantissa),
    };
    if digits.len() + exponent as usize > 38 {
        return None;
    }
    let value = digits
        .parse::<i128>()
        .ok()?
        .checked_mul(10i128.checked_pow(exponent)?)?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        for (text, want) in [
            ("0", "0"),
            ("-0", "0"),
            ("0.000", "0"),
            ("0e-999999999999999999999999999999999999999", "0"),
            ("100", "1e2"),
            ("1e2", "1e2"),
            ("1E+2", "1e2"),
            ("100.00", "1e2"),
            ("0.01e4", "1e2"),
            ("-0.50", "-5e-1"),
            ("123", "123e0"),
            ("1.00000000000000001", "100000000000000001e-17"),
            ("1e999", "1e999"),
            (
                "123456789012345678901234567890",
                "12345678901234567890123456789e1",
            ),
        ] {
            assert_eq!(canonical(text), want, "{text}");
        }
    }

    #[test]
    fn exact_comparison() {
        assert!(exact_eq("100", "1e2"));
        assert!(exact_eq("1", "1.0"));
        assert!(exact_eq("0", "-0.0"));
        assert!(!exact_eq(
            "123456789012345678901234567890",
            "123456789012345678901234567891"
        ));
        assert!(!exact_eq("1.00000000000000001", "1.00000000000000002"));
        assert!(!exact_eq("1e999", "2e999"));
        assert!(!exact_eq("1", "-1"));
        assert!(!exact_eq("1e-7", "1e7"));
    }

    #[test]
    fn exponents_longer_than_any_integer_are_exact() {
        let e40 = "1234567890123456789012345678901234567890";
        let a = format!("1.5e{e40}");
        let b = format!("15e{}", "1234567890123456789012345678901234567889");
        assert!(exact_eq(&a, &b), "{} vs {}", canonical(&a), canonical(&b));
        let c = format!("1.5e{}", "1234567890123456789012345678901234567891");
        assert!(!exact_eq(&a, &c));
        assert_eq!(
            canonical(&format!("-0.001e-{e40}")),
            "-1e-1234567890123456789012345678901234567893"
        );
        // Borrow across many digits: 10^40 − 1 as an exponent, then −1.
        let big = format!("1{}", "0".repeat(40));
        assert_eq!(
            canonical(&format!("0.1e{big}")),
            format!("1e{}", "9".repeat(40))
        );
    }

    #[test]
    fn tolerance_never_hides_a_digit_an_f64_cannot_hold() {
        // The trial's 64-bit ids: 89 apart, equal as f64s.
        assert!(!within("1234567890123456789", "1234567890123456700", 0.001));
        assert!(within("1234567890123456789", "1234567890123456700", 89.0));
        assert!(!within("9007199254740993", "9007199254740992", 0.5));
        assert!(within("9007199254740993", "9007199254740992", 1.0));
        assert!(within(
            "-12345678901234567890",
            "-1234567890123456789e1",
            0.0001
        ));
        // Below 2^53, as before.
        assert!(within("0.51", "0.5100001", 0.001));
        assert!(!within("0.51", "0.52", 0.001));
        // Huge non-integers and integers past 38 digits: exact only.
        assert!(!within("12345678901234567.5", "12345678901234567.4", 0.01));
        assert!(!within(
            "1e40",
            "1.0000000000000000000000000000000000001e40",
            1e30
        ));
        assert!(!within("1e999", "1e999", 1.0), "not finite: exact_eq's job");
        assert!(!within("1", "1", 0.0));
    }

    #[test]
    fn tolerance_view() {
        assert_eq!(to_f64("1e999"), f64::INFINITY);
        assert_eq!(to_f64("-2.5"), -2.5);
    }
}
