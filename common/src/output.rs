//! Writing records: buffered JSON Lines (or, with a renderer, text) to
//! stdout or a file.
//!
//! Stdout is locked and buffered once; each record is one `\n`-terminated
//! line. A closed pipe surfaces as a broken-pipe [`Error`], which the runner
//! turns into a quiet exit, so `tool | head` never prints an error.
//!
//! A tool writes the same records whatever `--format` says: given a
//! [`Render`] ([`RecordWriter::rendered`]), the writer shows each record as
//! text instead of JSON.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::printer::Render;

/// A buffered sink of records: JSON Lines, or text from a [`Render`].
pub struct RecordWriter {
    out: BufWriter<Box<dyn Write>>,
    name: String,
    text: Option<Box<dyn Render>>,
}

impl std::fmt::Debug for RecordWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWriter")
            .field("name", &self.name)
            .field("text", &self.text.is_some())
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
            text: None,
        }
    }

    /// Shows records as text by `render` instead of JSON Lines (for
    /// `--format text`, or any other form a tool renders).
    pub fn rendered(mut self, render: impl Render + 'static) -> Self {
        self.text = Some(Box::new(render));
        self
    }

    /// True when records go out as JSON Lines (no renderer).
    pub fn is_jsonl(&self) -> bool {
        self.text.is_none()
    }

    /// Writes one record: a JSON line, or its rendered text.
    pub fn write<T: Serialize + ?Sized>(&mut self, record: &T) -> Result<()> {
        if self.text.is_some() {
            let bytes = self.encode(record)?;
            return self.write_bytes(&bytes);
        }
        serde_json::to_writer(&mut self.out, record).map_err(|e| self.serde_error(e))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| Error::io(&self.name, e))
    }

    /// A record as the bytes [`RecordWriter::write`] would write (to hold
    /// them, say in an external sort, and write them later with
    /// [`RecordWriter::write_bytes`]).
    pub fn encode<T: Serialize + ?Sized>(&mut self, record: &T) -> Result<Vec<u8>> {
        let cannot = |e: serde_json::Error| Error::new(format!("cannot encode record: {e}"));
        match &mut self.text {
            None => {
                let mut bytes = serde_json::to_vec(record).map_err(cannot)?;
                bytes.push(b'\n');
                Ok(bytes)
            }
            Some(render) => {
                let mut text = String::new();
                if render.wants_json() {
                    let json = serde_json::to_string(record).map_err(cannot)?;
                    render.render_json(&json, &mut text);
                } else {
                    let value = serde_json::to_value(record).map_err(cannot)?;
                    render.render(&value, &mut text);
                }
                Ok(text.into_bytes())
            }
        }
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

    /// A `Write` whose bytes the test can read after the writer is dropped.
    #[derive(Clone, Default)]
    struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_same_records_go_out_as_json_or_as_rendered_text() {
        fn file(v: &serde_json::Value) -> String {
            format!("file {}", crate::printer::str_field(v, "path"))
        }
        fn other(v: &serde_json::Value) -> String {
            crate::printer::json_field(v, "kind")
        }
        let records = [
            serde_json::json!({"kind":"file","path":"a\u{1b}[2J"}),
            serde_json::json!({"kind":"x"}),
        ];
        let run = |text: bool| {
            let sink = Shared::default();
            let mut w = RecordWriter::new(Box::new(sink.clone()), "t");
            if text {
                w = w.rendered(crate::printer::ByKind {
                    kinds: &[("file", file)],
                    other,
                });
            }
            for r in &records {
                w.write(r).unwrap();
            }
            let held = w.encode(&records[1]).unwrap();
            w.write_bytes(&held).unwrap();
            w.flush().unwrap();
            drop(w);
            let bytes = sink.0.borrow().clone();
            String::from_utf8(bytes).unwrap()
        };
        assert_eq!(
            run(false),
            "{\"kind\":\"file\",\"path\":\"a\\u001b[2J\"}\n{\"kind\":\"x\"}\n{\"kind\":\"x\"}\n"
        );
        assert_eq!(run(true), "file a\\u{1b}[2J\n\"x\"\n\"x\"\n");
    }

    #[test]
    fn a_renderer_that_wants_json_gets_numbers_as_written() {
        struct Echo;
        impl Render for Echo {
            fn render(&mut self, _: &serde_json::Value, out: &mut String) {
                out.push_str("a Value\n");
            }
            fn wants_json(&self) -> bool {
                true
            }
            fn render_json(&mut self, json: &str, out: &mut String) {
                out.push_str(json);
                out.push('\n');
            }
        }
        #[derive(Serialize)]
        struct Rec<'a> {
            n: &'a serde_json::value::RawValue,
        }
        let big = serde_json::value::RawValue::from_string("1234567890123456789012.50".into());
        let mut w = RecordWriter::new(Box::new(io::sink()), "t").rendered(Echo);
        let bytes = w.encode(&Rec { n: &big.unwrap() }).unwrap();
        assert_eq!(bytes, b"{\"n\":1234567890123456789012.50}\n");
    }

    #[test]
    fn closed_pipe_is_a_broken_pipe_error() {
        let mut w = RecordWriter::new(Box::new(Closed), "<stdout>");
        let big = "x".repeat(200_000);
        let err = w.write(&big).unwrap_err();
        assert!(err.is_broken_pipe());
    }
}
