//! The shared JSON Lines reader must never panic, whatever the bytes, and
//! must account for every non-blank line as a record or an invalid line.
#![no_main]

use common::jsonl::{Item, JsonlReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let owned = data.to_vec();
    let mut reader = JsonlReader::from_bufread(Box::new(std::io::Cursor::new(owned)), "fuzz", 256);
    let mut last = 0;
    while let Ok(Some(item)) = reader.next_item::<serde_json::Value>() {
        let line = match item {
            Item::Record { line, .. } => line,
            Item::Invalid(bad) => bad.line,
        };
        assert!(line > last, "line numbers go forward");
        last = line;
    }
});
