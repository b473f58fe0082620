//! Reading one side of the comparison on its own thread.
//!
//! Parsing is most of the work, so each side is read, validated and parsed in
//! its own thread and handed over in batches through a bounded channel: the
//! two sides parse in parallel and memory stays flat (a few batches a side).
//! Position mode asks for `Box<RawValue>` (validated text, no tree built);
//! keyed mode asks for `Value`.

use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use common::input::{Input, STDIN_NAME};
use common::jsonl::{Item, JsonlReader};
use common::{interrupt, Error, Result};
use serde::de::DeserializeOwned;

const BATCH: usize = 1024;
const BATCHES_IN_FLIGHT: usize = 32;
const POLL: Duration = Duration::from_millis(50);

enum Message<T> {
    Batch(Vec<Item<T>>),
    Failed(Error),
    Done { sha256: String },
}

/// An input about to be read.
pub enum Opening {
    /// A file (or any reader), opened already so that open errors come first.
    Open(Input),
    /// Stdin, opened on the reader thread: opening reads the first bytes (to
    /// detect gzip), which on a silent pipe would block the main thread where
    /// a Ctrl-C could not be noticed.
    Stdin,
}

impl Opening {
    /// `-` is stdin (opened later); any other path is opened now.
    pub fn open(path: &str) -> Result<Opening> {
        if path == "-" {
            Ok(Opening::Stdin)
        } else {
            Ok(Opening::Open(Input::open(path)?))
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Opening::Open(input) => input.name(),
            Opening::Stdin => STDIN_NAME,
        }
    }
}

/// One side being read: items arrive in input order.
pub struct Source<T> {
    name: String,
    rx: Receiver<Message<T>>,
    current: std::vec::IntoIter<Item<T>>,
    sha256: Option<String>,
}

impl<T: DeserializeOwned + Send + 'static> Source<T> {
    /// Opens `path` (a file now, stdin on the reader thread) and starts parsing.
    pub fn open(path: &str, max_line: usize) -> Result<Self> {
        Source::start(Opening::open(path)?, max_line)
    }

    /// Starts parsing an input on a new thread.
    pub fn start(input: Opening, max_line: usize) -> Result<Self> {
        let name = input.name().to_string();
        let (tx, rx) = sync_channel(BATCHES_IN_FLIGHT);
        thread::Builder::new()
            .name(format!("read {name}"))
            .spawn(move || {
                let input = match input {
                    Opening::Open(input) => input,
                    Opening::Stdin => match Input::open("-") {
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
                    match reader.next_item::<T>() {
                        Ok(Some(item)) => {
                            batch.push(item);
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

impl<T> Source<T> {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next item, `None` at the end (or on SIGINT), or the reader's I/O error.
    pub fn next_item(&mut self) -> Result<Option<Item<T>>> {
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
