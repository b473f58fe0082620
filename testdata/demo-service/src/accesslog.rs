//! The JSON Lines access log: one record per request, appended and flushed
//! line by line so a reader (or a crash) never sees half a record.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde_json::{Map, Value};

pub struct AccessLog {
    file: Mutex<File>,
    fake_pii: bool,
    seed: u64,
}

/// What the log says about one request.
pub struct Entry<'a> {
    pub seq: u64,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub latency_ms: f64,
    pub bytes_in: usize,
    pub bytes_out: usize,
    pub correlation_id: &'a str,
    pub remote: &'a str,
}

impl AccessLog {
    pub fn open(path: &Path, fake_pii: bool, seed: u64) -> common::Result<AccessLog> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| common::Error::io(path.display(), e))?;
        Ok(AccessLog {
            file: Mutex::new(file),
            fake_pii,
            seed,
        })
    }

    pub fn write(&self, e: &Entry<'_>) {
        let mut m = Map::new();
        m.insert("ts".into(), Value::from(common::clock::now_rfc3339()));
        m.insert("seq".into(), Value::from(e.seq));
        m.insert("method".into(), Value::from(e.method));
        m.insert("path".into(), Value::from(e.path));
        m.insert("status".into(), Value::from(e.status));
        m.insert("latency_ms".into(), Value::from(e.latency_ms));
        m.insert("bytes_in".into(), Value::from(e.bytes_in));
        m.insert("bytes_out".into(), Value::from(e.bytes_out));
        m.insert("correlation_id".into(), Value::from(e.correlation_id));
        m.insert("remote".into(), Value::from(e.remote));
        if self.fake_pii {
            m.extend(crate::pii::fields(self.seed, e.seq));
        }
        let mut line = Value::Object(m).to_string();
        line.push('\n');
        // One write per line on an O_APPEND file: lines never interleave.
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = file.write_all(line.as_bytes());
    }
}
