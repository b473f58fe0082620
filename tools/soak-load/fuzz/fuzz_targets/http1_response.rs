//! soak-load's HTTP/1.1 response reader on arbitrary bytes: it never
//! panics, and the outcome does not depend on how the bytes arrived (all
//! at once, or split at the point the first input byte picks).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use soak_load::http1::{Progress, Response};

/// Feeds `pieces` in turn; the outcome, the status, the kept body and the
/// bytes left after the response.
fn read(pieces: &[&[u8]], head: bool) -> (String, Option<u16>, Vec<u8>, usize) {
    let mut r = Response::new(head, Some(1 << 16));
    let mut buf = BytesMut::new();
    for (i, piece) in pieces.iter().enumerate() {
        buf.extend_from_slice(piece);
        match r.advance(&mut buf) {
            Ok(Progress::Done) => {
                let unfed: usize = pieces[i + 1..].iter().map(|p| p.len()).sum();
                return ("done".into(), r.status, r.body, buf.len() + unfed);
            }
            Ok(Progress::NeedMore) => {}
            Err(e) => return (format!("{e:?}"), r.status, r.body, buf.len()),
        }
    }
    match r.eof() {
        Ok(_) => ("done".into(), r.status, r.body, buf.len()),
        Err(e) => (format!("{e:?}"), r.status, r.body, buf.len()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, wire)) = data.split_first() else {
        return;
    };
    let head = first & 1 == 1;
    let whole = read(&[wire], head);
    let at = usize::from(first >> 1).min(wire.len());
    let split = read(&[&wire[..at], &wire[at..]], head);
    // Errors may differ in wording only where the head was cut: compare
    // what matters to the caller.
    assert_eq!(whole.0 == "done", split.0 == "done", "{whole:?} vs {split:?}");
    if whole.0 == "done" {
        assert_eq!(whole, split);
    }
});
