//! `--requests-log FILE`: one `request` record per request, written by a
//! thread of its own so the load never waits on the disk unless the disk
//! cannot keep up (then the bounded queue slows the senders, which the
//! latency figures will show, rather than memory growing without bound).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use common::{Error, Result};
use serde::Serialize;

use crate::stats::ErrorClass;

/// One request, as the load task reports it.
#[derive(Debug)]
pub struct Entry {
    /// When its latency started (intended send time), after the run's start.
    pub offset: Duration,
    pub stat: usize,
    pub status: Option<u16>,
    pub latency_us: u64,
    pub correlation_id: String,
    pub error: Option<ErrorClass>,
}

pub type Sender = tokio::sync::mpsc::Sender<Entry>;

#[derive(Serialize)]
struct Record<'a> {
    kind: &'static str,
    at: String,
    target: &'a str,
    status: Option<u16>,
    latency_ms: f64,
    #[serde(skip_serializing_if = "str::is_empty")]
    correlation_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
}

/// The writer thread; [`finish`](Self::finish) flushes and reports errors.
pub struct RequestsLog {
    thread: JoinHandle<Result<()>>,
}

const QUEUE: usize = 16 * 1024;

impl RequestsLog {
    /// Creates `path` (truncating it) and starts the writer.
    pub fn start(
        path: &str,
        names: Vec<String>,
        start_wall: SystemTime,
    ) -> Result<(RequestsLog, Sender)> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Entry>(QUEUE);
        let path = path.to_string();
        let thread = std::thread::spawn(move || -> Result<()> {
            let mut out = BufWriter::with_capacity(256 * 1024, file);
            while let Some(e) = rx.blocking_recv() {
                let rec = Record {
                    kind: "request",
                    at: common::clock::rfc3339(start_wall + e.offset),
                    target: names.get(e.stat).map_or("", String::as_str),
                    status: e.status,
                    latency_ms: e.latency_us as f64 / 1000.0,
                    correlation_id: &e.correlation_id,
                    error: e.error.map(ErrorClass::name),
                };
                serde_json::to_writer(&mut out, &rec)
                    .map_err(|err| Error::new(format!("{path}: {err}")))?;
                out.write_all(b"\n").map_err(|err| Error::io(&path, err))?;
            }
            out.flush().map_err(|err| Error::io(&path, err))
        });
        Ok((RequestsLog { thread }, tx))
    }

    /// Waits for the writer (every sender must be dropped first).
    pub fn finish(self) -> Result<()> {
        self.thread
            .join()
            .unwrap_or_else(|_| Err(Error::new("requests log writer failed")))
    }
}
