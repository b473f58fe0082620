//! Fuzzes the MANIFEST.json reader and the canonical-JSON writer.
#![no_main]

use bundle_seal::manifest::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::parse(data, "fuzz/MANIFEST.json") {
        let bytes = m.to_bytes().expect("encodes");
        assert_eq!(Manifest::parse(&bytes, "re").expect("re-parses"), m);
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let c = bundle_seal::canonical::to_string(&v);
        let back: serde_json::Value = serde_json::from_str(&c).expect("canonical form is JSON");
        assert_eq!(
            bundle_seal::canonical::to_string(&back),
            c,
            "canonical form is a fixed point"
        );
    }
});
