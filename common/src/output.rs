//! Writing records: buffered JSON Lines to stdout or a file.
//!
//! Stdout is locked and buffered once; each record is one `\n`-terminated
//! line. A closed pipe surfaces as a broken-pipe [`Error`], which the runner
//! turns into a quiet exit, so `tool | head` never prints an error.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use serde::Serialize;

use crate::error::{Error, Result};

/// A buffered sink of JSON Lines records.
pub struct RecordWriter {
    out: BufWriter<Box<dyn Write>>,
    name: String,
}

impl std::fmt::Debug for RecordWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWriter")
            .field("name", &self.name)
            .finish()
    }
}

impl RecordWriter {
    /// Buffered, locked stdout.
    pub fn stdout() -> Self {
        RecordWriter::new(Box::new(io::stdout().lock()), "<stdout>")
    }

    /// Stderr (for reports when no `--report FILE` is given).
    pub fn stderr() -> Self {
        RecordWriter::new(Box::new(io::stderr()), "<stderr>")
    }

    /// `-` is stdout; anything else is created (truncated) as a file.
    pub fn create(path: &str) -> Result<Self> {
        if path == "-" {
            return Ok(RecordWriter::stdout());
        }
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(RecordWriter::new(Box::new(file), path))
    }

    pub fn new(out: Box<dyn Write>, name: &str) -> Self {
        RecordWriter {
            out: BufWriter::with_capacity(128 * 1024, out),
            name: name.to_string(),
        }
    }

    /// Writes one record as a JSON line.
    pub fn write<T: Serialize + ?Sized>(&mut self, record: &T) -> Result<()> {
        serde_json::to_writer(&mut self.out, record).map_err(|e| self.serde_error(e))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| Error::io(&self.name, e))
    }

    /// Writes raw bytes (text output, filtered data) as they are.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| Error::io(&self.name, e))
    }

    /// Access to the underlying writer for `write!` formatting.
    pub fn raw(&mut self) -> &mut impl Write {
        &mut self.out
    }

    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::io(&self.name, e))
    }

    fn serde_error(&self, err: serde_json::Error) -> Error {
        match err.io_error_kind() {
            Some(kind) => Error::io(&self.name, io::Error::from(kind)),
            None => Error::new(format!("{}: cannot encode record: {err}", self.name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn closed_pipe_is_a_broken_pipe_error() {
        let mut w = RecordWriter::new(Box::new(Closed), "<stdout>");
        let big = "x".repeat(200_000);
        let err = w.write(&big).unwrap_err();
        assert!(err.is_broken_pipe());
    }
}
