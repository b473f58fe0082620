//! Fuzzes the version orders (Debian, RPM, PEP 440, SemVer, the fallback)
//! with arbitrary text: none may panic, and each must be an order the
//! pairing can sort by: a version equals itself, swapping the sides
//! reverses the answer, and it is transitive on every triple.
//! Run: `cargo +nightly fuzz run version -- -max_total_time=60`.
#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use sbom_diff::version::{compare_in, scheme};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Three versions, split at NUL bytes (seeds: `a\0b\0c`).
    let mut parts = text.splitn(3, '\0');
    let (a, b, c) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    for ty in ["deb", "rpm", "pypi", "npm", "generic"] {
        let s = scheme(ty, [a, b, c]);
        let cmp = |x: &str, y: &str| compare_in(s, x, y);
        for x in [a, b, c] {
            assert_eq!(cmp(x, x), Ordering::Equal, "{ty} {x:?}");
        }
        for (x, y) in [(a, b), (b, c), (a, c)] {
            assert_eq!(cmp(x, y), cmp(y, x).reverse(), "{ty} {x:?} {y:?}");
        }
        for (x, y, z) in [(a, b, c), (a, c, b), (b, a, c), (b, c, a), (c, a, b), (c, b, a)] {
            if cmp(x, y) != Ordering::Greater && cmp(y, z) != Ordering::Greater {
                assert_ne!(cmp(x, z), Ordering::Greater, "{ty} {x:?} <= {y:?} <= {z:?}");
            }
        }
    }
});
