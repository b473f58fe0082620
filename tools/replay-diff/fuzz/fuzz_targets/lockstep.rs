//! The raw-text fast path must never call two different values the same:
//! for any two valid JSON texts, `lockstep::same` ⇒ the full comparison finds
//! no divergence. Also checks nothing panics on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay_diff::compare::{same, Rules};
use replay_diff::lockstep;

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|b| *b == 0) else { return };
    let (a, b) = (&data[..split], &data[split + 1..]);
    let (Ok(va), Ok(vb)) = (
        serde_json::from_slice::<serde_json::Value>(a),
        serde_json::from_slice::<serde_json::Value>(b),
    ) else {
        return;
    };
    let ignore = [common::pointer::Pattern::parse("/ts").unwrap()];
    let mut rules = Rules::default();
    if lockstep::same(a, b, &[]) {
        assert!(same(&va, &vb, &rules), "fast path said same: {va} vs {vb}");
    }
    rules.ignore = ignore.to_vec();
    if lockstep::same(a, b, &ignore) {
        assert!(same(&va, &vb, &rules), "fast path (ignoring /ts) said same: {va} vs {vb}");
    }
});
