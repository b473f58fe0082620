//! A line reader over bytes that never holds more than a limit in memory.
//!
//! It strips `\n`, a `\r` before it, and a UTF-8 BOM on the first line. A line
//! longer than the limit is not buffered: the reader skips to its end and
//! reports it as oversized, so a 10 GB line cannot exhaust memory. Bytes need
//! not be UTF-8; callers decide what to do with them.

use std::io::BufRead;

use memchr::memchr;

use crate::error::{Error, Result};

/// Default cap on one line: 64 MiB (50 MB log lines exist in the wild).
pub const DEFAULT_MAX_LINE: usize = 64 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One line as read.
#[derive(Debug)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: u64,
    /// The line's bytes without its terminator; empty when `oversized`.
    pub bytes: &'a [u8],
    /// False for a last line with no `\n` (perhaps truncated).
    pub terminated: bool,
    /// Set when the line was longer than the limit; holds its length.
    pub oversized: Option<u64>,
}

/// Reads lines from a `BufRead` with a size limit.
pub struct LineReader<R> {
    inner: R,
    name: String,
    max_line: usize,
    buf: Vec<u8>,
    number: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, name: impl Into<String>, max_line: usize) -> Self {
        LineReader {
            inner,
            name: name.into(),
            max_line,
            buf: Vec::new(),
            number: 0,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next line, or `None` at end of input. Errors only on I/O failure.
    pub fn next_line(&mut self) -> Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut total: u64 = 0;
        let mut oversized = false;
        let mut terminated = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(&self.name, e).context("reading")),
            };
            if available.is_empty() {
                if total == 0 {
                    return Ok(None);
                }
                break;
            }
            let (take, consumed, found) = match memchr(b'\n', available) {
                Some(i) => (i, i + 1, true),
                None => (available.len(), available.len(), false),
            };
            total += take as u64;
            if !oversized {
                if self.buf.len() + take > self.max_line {
                    oversized = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(&available[..take]);
                }
            }
            self.inner.consume(consumed);
            if found {
                terminated = true;
                break;
            }
        }
        self.number += 1;
        if oversized {
            return Ok(Some(Line {
                number: self.number,
                bytes: &[],
                terminated,
                oversized: Some(total),
            }));
        }
        let mut bytes = &self.buf[..];
        if bytes.last() == Some(&b'\r') {
            bytes = &bytes[..bytes.len() - 1];
        }
        if self.number == 1 && bytes.starts_with(BOM) {
            bytes = &bytes[BOM.len()..];
        }
        Ok(Some(Line {
            number: self.number,
            bytes,
            terminated,
            oversized: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8], max: usize) -> Vec<(u64, Vec<u8>, bool, Option<u64>)> {
        let mut r = LineReader::new(data, "t", max);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push((l.number, l.bytes.to_vec(), l.terminated, l.oversized));
        }
        out
    }

    #[test]
    fn strips_crlf_and_bom_and_marks_unterminated() {
        let got = all(b"\xEF\xBB\xBFa\r\n\nb", 100);
        assert_eq!(
            got,
            vec![
                (1, b"a".to_vec(), true, None),
                (2, b"".to_vec(), true, None),
                (3, b"b".to_vec(), false, None)
            ]
        );
    }

    #[test]
    fn oversized_lines_are_skipped_not_buffered() {
        let mut data = vec![b'x'; 1000];
        data.extend_from_slice(b"\nok\n");
        let got = all(&data, 10);
        assert_eq!(
            got,
            vec![
                (1, vec![], true, Some(1000)),
                (2, b"ok".to_vec(), true, None)
            ]
        );
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(all(b"", 10).is_empty());
    }
}
