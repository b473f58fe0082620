//! The whole comparison on any two inputs (split at the first NUL byte),
//! by position and by key, strict and lenient: it must never panic or
//! overflow its stack (a line of 100,000 nested `[` once did), and every
//! record read must be accounted for: compared with a partner, or reported
//! missing (golden) or extra (replay).
//!
//! Leak detection is off for this target: each comparison reads its two
//! sides on threads that may still be finishing (detached) when a
//! comparison that stopped early returns, which LeakSanitizer reports as a
//! leak of their thread-local storage.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay_diff::compare_in_memory;

/// Read by LeakSanitizer at start-up (see the module docs).
#[no_mangle]
pub extern "C" fn __lsan_default_options() -> *const std::ffi::c_char {
    c"detect_leaks=0".as_ptr()
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (golden, replay) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    for args in [
        &[][..],
        &["--skip-invalid"][..],
        &["--skip-invalid", "--key", "/id"][..],
        &["--key", "/id", "--key", "/k/0", "--ignore", "/ts"][..],
    ] {
        let Ok(cmp) = compare_in_memory(golden, replay, args) else { continue };
        let t = cmp.tally;
        assert_eq!(t.records_golden, t.compared + t.missing, "{args:?}");
        assert_eq!(t.records_replay, t.compared + t.extra, "{args:?}");
        assert!(t.identical <= t.compared);
    }
});
