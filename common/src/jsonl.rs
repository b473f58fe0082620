//! A streaming JSON Lines reader.
//!
//! One JSON value per line; blank lines are skipped; CRLF and a leading BOM
//! are accepted (see [`crate::lines`]). A malformed line becomes an
//! [`Invalid`] naming `FILE:LINE:COLUMN`; the caller either fails with it
//! (strict, the default everywhere) or records it (`--skip-invalid`).

use std::io::BufRead;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::input::{Input, InputDigest};
use crate::lines::{LineReader, DEFAULT_MAX_LINE};

/// The hint for a strict-mode error in tools that offer `--skip-invalid`.
pub const SKIP_INVALID_HINT: &str =
    "fix the line, or pass --skip-invalid to report bad lines and go on";

/// A line that could not be read as a record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Invalid {
    pub file: String,
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    pub reason: String,
}

impl Invalid {
    /// The strict-mode error for this line (`FILE:LINE:COLUMN: reason`).
    /// Tools that offer `--skip-invalid` add a hint saying so.
    pub fn to_error(&self) -> Error {
        match self.column {
            Some(col) => Error::at_column(&self.file, self.line, col, &self.reason),
            None => Error::at(&self.file, self.line, &self.reason),
        }
    }
}

/// One item read: a record, or a line that was not one.
#[derive(Debug)]
pub enum Item<T = Value> {
    Record { line: u64, value: T },
    Invalid(Invalid),
}

/// Reads JSON values, one per line.
pub struct JsonlReader {
    lines: LineReader<Box<dyn BufRead + Send>>,
    digest: Option<InputDigest>,
}

impl JsonlReader {
    /// Opens a path (or `-`) with the default line limit.
    pub fn open(path: &str) -> Result<Self> {
        Self::open_with_limit(path, DEFAULT_MAX_LINE)
    }

    pub fn open_with_limit(path: &str, max_line: usize) -> Result<Self> {
        Ok(Self::from_input(Input::open(path)?, max_line))
    }

    pub fn from_input(input: Input, max_line: usize) -> Self {
        let (name, reader, digest) = input.into_parts();
        JsonlReader {
            lines: LineReader::new(reader, name, max_line),
            digest: Some(digest),
        }
    }

    /// A reader over any `BufRead` (for tests and in-memory data).
    pub fn from_bufread(reader: Box<dyn BufRead + Send>, name: &str, max_line: usize) -> Self {
        JsonlReader {
            lines: LineReader::new(reader, name, max_line),
            digest: None,
        }
    }

    pub fn name(&self) -> &str {
        self.lines.name()
    }

    /// sha256 of the raw input read so far (the whole file once drained).
    pub fn sha256(&self) -> Option<String> {
        self.digest.as_ref().map(InputDigest::sha256)
    }

    /// The next record or invalid line; `Err` only on I/O failure.
    pub fn next_item<T: DeserializeOwned>(&mut self) -> Result<Option<Item<T>>> {
        loop {
            let name = self.lines.name().to_string();
            let Some(line) = self.lines.next_line()? else {
                return Ok(None);
            };
            if let Some(length) = line.oversized {
                return Ok(Some(Item::Invalid(Invalid {
                    file: name,
                    line: line.number,
                    column: None,
                    reason: format!(
                        "line is {length} bytes, over the limit; refusing to buffer it"
                    ),
                })));
            }
            if line.bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(match serde_json::from_slice::<T>(line.bytes) {
                Ok(value) => Item::Record {
                    line: line.number,
                    value,
                },
                Err(err) => {
                    let mut reason = describe_json_error(&err);
                    if !line.terminated && err.is_eof() {
                        reason = format!("truncated last line: {reason}");
                    }
                    Item::Invalid(Invalid {
                        file: name,
                        line: line.number,
                        column: Some(err.column() as u64),
                        reason,
                    })
                }
            }));
        }
    }

    /// Strict reading: the next record, or an error naming file and line.
    pub fn next_record<T: DeserializeOwned>(&mut self) -> Result<Option<(u64, T)>> {
        match self.next_item()? {
            None => Ok(None),
            Some(Item::Record { line, value }) => Ok(Some((line, value))),
            Some(Item::Invalid(bad)) => Err(bad.to_error()),
        }
    }
}

/// serde_json's message without its " at line 1 column 9" tail (we say where).
pub fn describe_json_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let trimmed = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    format!("invalid JSON: {trimmed}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(data: &'static [u8]) -> JsonlReader {
        JsonlReader::from_bufread(Box::new(data), "t.jsonl", 1024)
    }

    #[test]
    fn reads_records_skipping_blank_lines() {
        let mut r = reader(b"{\"a\":1}\r\n\n  \n[2]\n");
        let (l1, v1): (u64, Value) = r.next_record().unwrap().unwrap();
        let (l2, v2): (u64, Value) = r.next_record().unwrap().unwrap();
        assert_eq!((l1, v1), (1, serde_json::json!({"a":1})));
        assert_eq!((l2, v2), (4, serde_json::json!([2])));
        assert!(r.next_record::<Value>().unwrap().is_none());
    }

    #[test]
    fn malformed_line_names_file_line_column() {
        let mut r = reader(b"{\"a\":1}\n{\"a\":}\n");
        r.next_record::<Value>().unwrap();
        let err = r.next_record::<Value>().unwrap_err();
        assert_eq!(err.to_string(), "t.jsonl:2:6: invalid JSON: expected value");
    }

    #[test]
    fn truncated_last_line_is_said_so() {
        let mut r = reader(b"{\"a\":1}\n{\"a\":");
        r.next_record::<Value>().unwrap();
        let Some(Item::Invalid(bad)) = r.next_item::<Value>().unwrap() else {
            panic!()
        };
        assert!(
            bad.reason.starts_with("truncated last line"),
            "{}",
            bad.reason
        );
    }

    #[test]
    fn invalid_utf8_is_an_invalid_line_not_a_panic() {
        let mut r = reader(b"{\"a\":\"\xff\"}\n");
        let Some(Item::Invalid(bad)) = r.next_item::<Value>().unwrap() else {
            panic!()
        };
        assert_eq!((bad.line, bad.column), (1, Some(7)));
    }
}
