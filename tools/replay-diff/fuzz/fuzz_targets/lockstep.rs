//! The raw-text fast path must never call two different values the same:
//! for any two lines the readers accept, `lockstep::same` ⇒ the full
//! comparison finds no divergence. Also checks nothing panics on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay_diff::compare::{same, Rules};
use replay_diff::json::Json;
use replay_diff::{lockstep, raw};

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|b| *b == 0) else { return };
    let (a, b) = (&data[..split], &data[split + 1..]);
    let (Ok(ta), Ok(tb)) = (std::str::from_utf8(a), std::str::from_utf8(b)) else { return };
    // What the readers accept: valid JSON (serde_json), then raw::check.
    let valid = |t: &str| {
        serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok() && raw::check(t).is_ok()
    };
    if !valid(ta) || !valid(tb) {
        return;
    }
    let (Ok(va), Ok(vb)) = (Json::parse(ta), Json::parse(tb)) else {
        panic!("a line the readers accept does not parse: {ta:?} / {tb:?}");
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
