//! Fuzz the snapshot manifest parser: a repository from elsewhere is
//! untrusted, so no input may panic it, and anything it accepts must only
//! name canonical relative paths (as shown and as bytes) and sha256 object
//! names, and must survive a write/parse round trip unchanged.
#![no_main]

use backup_drill::manifest::{self, is_sha256_hex};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = manifest::parse(data, "fuzz") else {
        return;
    };
    for e in &m.entries {
        assert!(
            !e.path.starts_with('/')
                && !e
                    .path
                    .split('/')
                    .any(|c| c == ".." || c == "." || c.is_empty())
        );
        // What restore writes: the name's bytes (raw names included).
        let name = e.name();
        assert!(
            !name.is_empty()
                && !name.contains(&0)
                && !name.starts_with(b"/")
                && !name
                    .split(|&b| b == b'/')
                    .any(|c| c == b".." || c == b"." || c.is_empty())
        );
        if e.path_b64.is_some() {
            assert_eq!(e.path, backup_drill::name::display(&name));
        }
        if let Some(sha) = &e.sha256 {
            assert!(is_sha256_hex(sha));
        }
    }
    for d in &m.databases {
        assert!(is_sha256_hex(&d.sha256));
    }
    let again = m.to_bytes().expect("an accepted manifest re-encodes");
    assert_eq!(
        manifest::parse(&again, "fuzz").expect("re-encoded manifest parses"),
        m
    );
});
