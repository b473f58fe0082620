//! What every parser shares to read text and to say what is wrong with it:
//! a BOM stripped, UTF-8 checked with the line of the first bad byte, JSON
//! errors located at `FILE:LINE:COLUMN`, and input values quoted and cut
//! short for a message.
//!
//! A leaf: it imports nothing from this crate, so every format (and `purl`)
//! can use it without a loop back to the dispatch in `formats`.

use common::Error;

/// `bytes` without a leading UTF-8 BOM.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// `bytes` without a BOM and leading whitespace: where the content starts.
pub fn content_start(bytes: &[u8]) -> &[u8] {
    let bytes = strip_bom(bytes);
    let skip = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[skip..]
}

/// `bytes` (BOM stripped) as text, or the 1-based line of the first byte
/// that is not UTF-8, for the caller's located error.
pub fn utf8(bytes: &[u8]) -> Result<&str, u64> {
    let bytes = strip_bom(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let lines_before = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        lines_before as u64 + 1
    })
}

/// A serde_json error as `FILE:LINE:COLUMN: invalid JSON: ...`.
pub fn json_error(name: &str, err: &serde_json::Error) -> Error {
    let mut reason = common::jsonl::describe_json_error(err);
    if err.is_eof() {
        reason = format!("truncated: {reason}");
    } else if err.is_data() {
        reason = reason.replacen("invalid JSON: ", "unexpected content: ", 1);
    }
    Error::at_column(name, err.line() as u64, err.column() as u64, reason)
}

/// How much of an input value a message quotes: a hostile 10 MB field
/// cannot flood the terminal.
const MAX: usize = 80;

/// A JSON value for a message: a string quoted as [`shown`], anything else
/// as JSON text cut to 80 characters.
pub fn shown_json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => shown(s),
        other => {
            let text = other.to_string();
            if text.chars().count() <= MAX {
                text
            } else {
                let head: String = text.chars().take(MAX).collect();
                format!("{head}... ({} bytes)", text.len())
            }
        }
    }
}

/// A value quoted for a message (escaped as Rust's `{:?}` does), cut to 80
/// characters.
pub fn shown(text: &str) -> String {
    if text.chars().count() <= MAX {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head:?}... ({} bytes)", text.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_located_by_line_after_the_bom() {
        assert_eq!(utf8(b"\xEF\xBB\xBFa==1\n"), Ok("a==1\n"));
        assert_eq!(utf8(b"a==1\nb==2\nc==\xff\n"), Err(3));
        assert_eq!(utf8(b"\xff"), Err(1));
    }

    #[test]
    fn long_values_are_cut_short() {
        assert_eq!(shown("a\u{1b}b"), r#""a\u{1b}b""#);
        let long = "x".repeat(100);
        assert_eq!(shown(&long), format!("{:?}... (100 bytes)", "x".repeat(80)));
        assert_eq!(content_start(b"\xEF\xBB\xBF \n{}"), b"{}");
    }
}
