//! RPM version order, as rpm has it (`rpmvercmp`, and `rpm.vercmp` for a
//! whole `[epoch:]version[-release]`).
//!
//! - the epoch (digits before a `:`, 0 when absent) first, then the
//!   version, then the release (after the last `-`), each by `rpmvercmp`;
//!   a missing release sorts before any release (rpm 4.18's `rpm.vercmp`
//!   says `1.0 < 1.0-1`);
//! - `rpmvercmp` skips separators (anything but letters, digits, `~`,
//!   `^`), then compares segments: `~` before everything, even the end
//!   (`1.0~rc1 < 1.0`); `^` after the end but before anything else
//!   (`1.0 < 1.0^git1 < 1.0.1`); a digit run after a letter run; digit runs
//!   by value, letter runs as text; the side with segments left wins.
//!
//! Separators only separate: `2.0` = `2_0`, `10.0001` = `10.1` (rpm's own
//! tests). Checked against rpm's tests/rpmvercmp.at and the real
//! `rpm.vercmp` (tests/distro_versions.rs).

use std::cmp::Ordering;

/// `[epoch:]version[-release]` as rpm splits it: the epoch is the leading
/// digits when a `:` follows them (empty: 0), the release what follows the
/// last `-`.
fn split(evr: &str) -> (&[u8], &str, Option<&str>) {
    let digits = evr.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = match evr.as_bytes().get(digits) {
        Some(b':') => (&evr.as_bytes()[..digits], &evr[digits + 1..]),
        _ => (&b""[..], evr),
    };
    match rest.rsplit_once('-') {
        Some((v, r)) => (epoch, v, Some(r)),
        None => (epoch, rest, None),
    }
}

/// Compares two `[epoch:]version[-release]` strings. Total: any text is an
/// RPM version.
pub fn compare(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (ea, va, ra) = split(a);
    let (eb, vb, rb) = split(b);
    // Epochs as numbers of any length (no epoch is 0).
    let (ea, eb) = (trim_zeros(ea), trim_zeros(eb));
    ea.len()
        .cmp(&eb.len())
        .then_with(|| ea.cmp(eb))
        .then_with(|| rpmvercmp(va, vb))
        .then_with(|| match (ra, rb) {
            (Some(x), Some(y)) => rpmvercmp(x, y),
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
}

/// rpm's `rpmvercmp` on one part (version or release).
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let separator = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    while i < a.len() || j < b.len() {
        while i < a.len() && separator(a[i]) {
            i += 1;
        }
        while j < b.len() && separator(b[j]) {
            j += 1;
        }
        let (p, q) = (a.get(i).copied(), b.get(j).copied());
        // `~` sorts before everything, even the end.
        if p == Some(b'~') || q == Some(b'~') {
            if p != Some(b'~') {
                return Ordering::Greater;
            }
            if q != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // `^` sorts after the end, before anything else.
        if p == Some(b'^') || q == Some(b'^') {
            if p.is_none() {
                return Ordering::Less;
            }
            if q.is_none() {
                return Ordering::Greater;
            }
            if p != Some(b'^') {
                return Ordering::Greater;
            }
            if q != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(p), Some(_)) = (p, q) else {
            break;
        };
        // One segment from each: a digit run, or a letter run, as the first
        // side's starts.
        let numeric = p.is_ascii_digit();
        let (x, y) = (segment(a, i, numeric), segment(b, j, numeric));
        i += x.len();
        j += y.len();
        if y.is_empty() {
            // Different kinds: a number is newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let o = if numeric {
            let (x, y) = (trim_zeros(x), trim_zeros(y));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        } else {
            x.cmp(y)
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    // Every segment equal: whichever has characters left over wins (only
    // separators differed: equal).
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

/// The digit run (or letter run) of `s` at `k`.
fn segment(s: &[u8], k: usize, numeric: bool) -> &[u8] {
    let rest = s.get(k..).unwrap_or(&[]);
    let len = rest
        .iter()
        .take_while(|c| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        })
        .count();
    &rest[..len]
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let zeros = s.iter().take_while(|c| **c == b'0').count();
    &s[zeros..]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn rpmvercmp_cases() {
        assert_eq!(rpmvercmp("1.0~rc1", "1.0"), Less);
        assert_eq!(rpmvercmp("1.0^git1", "1.0"), Greater);
        assert_eq!(rpmvercmp("1.0^git1", "1.01"), Less);
        assert_eq!(rpmvercmp("xyz.4", "8"), Less);
        assert_eq!(rpmvercmp("10.0001", "10.1"), Equal);
        assert_eq!(rpmvercmp("a+", "a_"), Equal);
        assert_eq!(compare("1:1.0-1", "2.0-1"), Greater);
        assert_eq!(compare("1.0", "1.0-1"), Less);
        assert_eq!(compare("0:2.0-1", "2.0-1"), Equal);
    }
}
