//! Fuzzes format detection and every parser with arbitrary bytes, and checks
//! the invariant the tool promises: whatever parses, diffed against itself,
//! shows no change. Run: `cargo +nightly fuzz run parse -- -max_total_time=60`
//! (seed corpus: `cp ../../../testdata/sbom-diff/* corpus/parse/`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbom_diff::formats::parse_bytes;
use sbom_diff::model::{Kind, Options};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the format flag, so forced formats get fuzzed too.
    let (kind, body) = match data.split_first() {
        Some((b, rest)) => (
            match b % 8 {
                0 => Kind::Cyclonedx,
                1 => Kind::Spdx,
                2 => Kind::NpmLock,
                3 => Kind::CargoLock,
                4 => Kind::Pip,
                _ => Kind::Auto,
            },
            rest,
        ),
        None => (Kind::Auto, data),
    };
    for opts in [Options { allow_unversioned: false }, Options { allow_unversioned: true }] {
        if let Ok((_, sbom)) = parse_bytes("fuzz", body, kind, &opts) {
            let d = sbom_diff::diff::diff(&sbom, &sbom);
            assert!(d.changes.is_empty(), "an input differs from itself: {:?}", d.changes);
        }
    }
});
