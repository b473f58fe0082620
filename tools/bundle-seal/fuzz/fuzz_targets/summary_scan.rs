//! Fuzzes the search for summary records in any file (`scan`) and the
//! UTF-16 decoder: any bytes give a list of findings, never a panic; every
//! finding names a line of the input; a failing summary line appended to
//! the input is always found, whatever came before it.
#![no_main]

use std::io::Read;

use bundle_seal::scan::{summaries_in_bytes, Found};
use bundle_seal::utf16::{Endian, Utf16ToUtf8};
use libfuzzer_sys::fuzz_target;

const FAILING: &[u8] = br#"{"kind":"summary","tool":"t","verdict":"fail","gates":[{"name":"g","op":"<=","limit":0,"value":1,"pass":false}]}"#;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count() as u64;
    for f in summaries_in_bytes(data) {
        assert!(f.line() >= 1 && f.line() <= lines, "{f:?} outside {lines} lines");
    }
    // The input, then a newline and a failing summary on a line of its own.
    let mut with = data.to_vec();
    with.push(b'\n');
    with.extend_from_slice(FAILING);
    with.push(b'\n');
    // It fails the release: found as a failing summary, or (read whole as
    // a stream of values) the input around it made something unreadable
    // or a malformed record of ours (which stops the seal).
    let found = summaries_in_bytes(&with);
    assert!(
        found.iter().any(|f| matches!(
            f,
            Found::Unreadable { .. } | Found::Malformed { .. } | Found::Summary { pass: false, .. }
        )),
        "the appended failing summary was not found: {found:?}"
    );
    for endian in [Endian::Little, Endian::Big] {
        let mut out = String::new();
        Utf16ToUtf8::new(data, endian)
            .read_to_string(&mut out)
            .expect("decoded UTF-16 is valid UTF-8");
    }
});
