//! Debian version order, as dpkg has it (`dpkg --compare-versions`; Debian
//! policy 5.6.12): `[epoch:]upstream[-revision]`.
//!
//! - the epoch (digits before the first `:`, 0 when absent) is compared as
//!   a number first: `1:3.0.11` is newer than `3.0.15`;
//! - then the upstream version, then the revision (after the last `-`;
//!   empty when absent, which equals `0`), each by dpkg's `verrevcmp`:
//!   alternately a run of non-digits, compared character by character
//!   with `~` before everything (even the end of the string), the end
//!   before letters, letters before every other character; then a run of
//!   digits, compared as a number (leading zeros do not count).
//!
//! So `1.0~rc1 < 1.0 < 1.0a < 1.0+dfsg < 1.0.1`, and `3.0.15-1~deb12u1 <
//! 3.0.15-1`. Equal versions may be spelled differently (`1.01` = `1.1`,
//! `0:1.0` = `1.0` = `1.0-0`). The order agrees with the real dpkg on every
//! version installed on the machine the tests run on (tests/distro_versions.rs).

use std::cmp::Ordering;

/// A version split as dpkg's `parseversion` splits it.
struct Parts<'a> {
    epoch: u64,
    upstream: &'a [u8],
    revision: &'a [u8],
}

/// Splits `text`, or None where dpkg refuses it (an error, not a warning):
/// empty, embedded whitespace, an epoch that is not a number or is out of
/// dpkg's range, nothing after the colon, an empty revision or upstream.
/// (A version that does not start with a digit, or has characters policy
/// does not allow, only draws a warning from dpkg, which still orders it.)
fn parse(text: &str) -> Option<Parts<'_>> {
    let text = text.trim_matches([' ', '\t']);
    if text.is_empty() || text.bytes().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let (epoch, rest) = match text.split_once(':') {
        Some((e, rest)) => {
            if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) || rest.is_empty() {
                return None;
            }
            // dpkg refuses an epoch above INT_MAX.
            let n = e.parse::<u64>().ok().filter(|n| *n <= i32::MAX as u64)?;
            (n, rest)
        }
        None => (0, text),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((_, "")) => return None,
        Some((u, r)) => (u, r),
        None => (rest, ""),
    };
    if upstream.is_empty() {
        return None;
    }
    Some(Parts {
        epoch,
        upstream: upstream.as_bytes(),
        revision: revision.as_bytes(),
    })
}

/// True when dpkg would accept `text` as a version.
pub fn valid(text: &str) -> bool {
    parse(text).is_some()
}

/// Compares two versions dpkg accepts; None if either is one it refuses.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (x, y) = (parse(a)?, parse(b)?);
    Some(
        x.epoch
            .cmp(&y.epoch)
            .then_with(|| verrevcmp(x.upstream, y.upstream))
            .then_with(|| verrevcmp(x.revision, y.revision)),
    )
}

/// The weight of one character in a non-digit run; 0 for the end (and for
/// digits, which end the run). dpkg reads bytes as C `char`, signed on the
/// machines it runs on, so a byte of 128 or more weighs `byte - 256 + 256`:
/// after letters, before other ASCII punctuation.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) if c >= 0x80 => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: non-digit runs by [`order`], digit runs by value.
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        // A non-digit run on either side (the end of one weighs 0).
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let (p, q) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if p != q {
                return p.cmp(&q);
            }
            i += 1;
            j += 1;
        }
        // Then a digit run on each: the longer number (without leading
        // zeros) is larger, else the first differing digit decides.
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit(a, i) && digit(b, j) {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if digit(a, i) {
            return Ordering::Greater;
        }
        if digit(b, j) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use Ordering::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn policy_examples() {
        assert_eq!(cmp("1.0~rc1", "1.0"), Less);
        assert_eq!(cmp("1.0~~", "1.0~~a"), Less);
        assert_eq!(cmp("1.0~~a", "1.0~"), Less);
        assert_eq!(cmp("1.0", "1.0a"), Less);
        assert_eq!(cmp("1.0a", "1.0+"), Less);
        assert_eq!(cmp("1:0.1", "2.0"), Greater);
        assert_eq!(cmp("3.0.15-1~deb12u1", "3.0.15-1"), Less);
        assert_eq!(cmp("1.01", "1.1"), Equal);
        assert_eq!(cmp("0:1.0", "1.0-0"), Equal);
        assert_eq!(cmp("1.2.3-a-b", "1.2.3-a"), Greater);
        // Numbers of any length.
        assert_eq!(
            cmp("1.99999999999999999999999", "1.100000000000000000000000"),
            Less
        );
    }

    #[test]
    fn what_dpkg_refuses() {
        for bad in [
            "",
            " ",
            "1 0",
            ":1",
            "a:1",
            "1:",
            "1.0-",
            "-1",
            "99999999999:1",
        ] {
            assert!(!valid(bad), "{bad:?}");
        }
        for warned in ["abc", "1.0_1", "1:2:3", "1--1", "é"] {
            assert!(valid(warned), "{warned:?}");
        }
    }
}
