//! Reading one side of the comparison on its own thread.
//!
//! Parsing is most of the work, so each side is read, validated and parsed in
//! its own thread and handed over in batches through a bounded channel: the
//! two sides parse in parallel and memory stays flat (a few batches a side).
//! Records stay raw text (`Box<RawValue>`, validated by serde_json, then by
//! [`raw::check`] for what it lets through); trees are built only where the
//! raw texts differ.
//!
//! Inputs are opened on the reader thread too: opening a FIFO with no writer
//! (or sniffing a silent stdin for gzip) blocks, and the main thread must stay
//! free to notice SIGINT/SIGTERM and write the interrupted summary.

use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use common::input::{Input, STDIN_NAME};
use common::jsonl::{Invalid, Item, JsonlReader};
use common::{interrupt, Error, Result};
use serde_json::value::RawValue;

use crate::raw;

/// One record as read: validated JSON text.
pub type RawItem = Item<Box<RawValue>>;

const BATCH: usize = 1024;
const BATCHES_IN_FLIGHT: usize = 32;
const POLL: Duration = Duration::from_millis(50);

enum Message {
    Batch(Vec<RawItem>),
    Failed(Error),
    Done { sha256: String },
}

/// An input about to be read.
pub enum Opening {
    /// An input opened already (run mode's captured outputs).
    Open(Input),
    /// A path, or `-` for stdin, opened on the reader thread.
    Path(String),
}

impl Opening {
    pub fn name(&self) -> &str {
        match self {
            Opening::Open(input) => input.name(),
            Opening::Path(path) if path == "-" => STDIN_NAME,
            Opening::Path(path) => path,
        }
    }
}

/// One side being read: items arrive in input order.
pub struct Source {
    name: String,
    rx: Receiver<Message>,
    current: std::vec::IntoIter<RawItem>,
    sha256: Option<String>,
}

impl Source {
    /// Starts opening and parsing an input on a new thread.
    pub fn start(input: Opening, max_line: usize) -> Result<Self> {
        let name = input.name().to_string();
        let (tx, rx) = sync_channel(BATCHES_IN_FLIGHT);
        thread::Builder::new()
            .name(format!("read {name}"))
            .spawn(move || {
                let input = match input {
                    Opening::Open(input) => input,
                    Opening::Path(path) => match Input::open(&path) {
                        Ok(input) => input,
                        Err(e) => {
                            let _ = tx.send(Message::Failed(e));
                            return;
                        }
                    },
                };
                let mut reader = JsonlReader::from_input(input, max_line);
                let mut batch = Vec::with_capacity(BATCH);
                loop {
                    match reader.next_item::<Box<RawValue>>() {
                        Ok(Some(item)) => {
                            batch.push(checked(item, reader.name()));
                            if batch.len() == BATCH {
                                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                                if tx.send(Message::Batch(full)).is_err() {
                                    return; // the comparison stopped early
                                }
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            let _ = tx.send(Message::Batch(batch));
                            let _ = tx.send(Message::Failed(e));
                            return;
                        }
                    }
                }
                let _ = tx.send(Message::Batch(batch));
                let _ = tx.send(Message::Done {
                    sha256: reader.sha256().unwrap_or_default(),
                });
            })
            .map_err(|e| Error::io("reader thread", e))?;
        Ok(Source {
            name,
            rx,
            current: Vec::new().into_iter(),
            sha256: None,
        })
    }
}

/// A record that serde_json accepted but the comparison could not take
/// (too deep, a lone surrogate) becomes an invalid line, named by file and line.
fn checked(item: RawItem, name: &str) -> RawItem {
    let Item::Record { line, value } = item else {
        return item;
    };
    match raw::check(value.get()) {
        Ok(()) => Item::Record { line, value },
        Err((offset, reason)) => Item::Invalid(Invalid {
            file: name.to_string(),
            line,
            column: Some(offset as u64 + 1),
            reason: format!("invalid JSON: {reason}"),
        }),
    }
}

impl Source {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next item, `None` at the end (or on SIGINT), or the reader's I/O error.
    pub fn next_item(&mut self) -> Result<Option<RawItem>> {
        loop {
            if let Some(item) = self.current.next() {
                return Ok(Some(item));
            }
            if self.sha256.is_some() {
                return Ok(None);
            }
            // Wait in slices so a SIGINT is noticed even while a pipe is silent.
            match self.rx.recv_timeout(POLL) {
                Ok(Message::Batch(batch)) => self.current = batch.into_iter(),
                Ok(Message::Failed(e)) => return Err(e),
                Ok(Message::Done { sha256 }) => self.sha256 = Some(sha256),
                Err(RecvTimeoutError::Timeout) if interrupt::requested() => return Ok(None),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::new(format!("{}: reader stopped", self.name)))
                }
            }
        }
    }

    /// sha256 of the raw input, once it has been read to the end.
    pub fn sha256(&self) -> Option<String> {
        self.sha256.clone()
    }
}
