//! The service's own output: read line by line from its stdout and stderr
//! pipes, passed on (to our stderr or --service-log), and matched against
//! the `log:` probes' regexes as it goes by.
//!
//! A --service-log that cannot be written (a full disk) must not stop the
//! check, nor go unnoticed: the first failure is warned about at once and
//! every line that could not be written is counted for the summary.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use regex::Regex;

/// A line longer than this is matched and passed on in pieces, so a service
/// printing without newlines cannot make us buffer without bound.
const MAX_LINE: u64 = 64 * 1024;

pub struct OutputHub {
    sink: Mutex<Box<dyn Write + Send>>,
    /// The --service-log path; `None` when the output goes to our stderr.
    log_path: Option<String>,
    /// Lines that could not be written to the --service-log.
    lost_lines: AtomicU64,
    warned: AtomicBool,
    regexes: Vec<Regex>,
    counts: Vec<AtomicU64>,
    /// Bumped on every matching line, so a `log:` probe can sleep until one comes.
    matched: Mutex<u64>,
    wake: Condvar,
}

impl std::fmt::Debug for OutputHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputHub")
            .field("regexes", &self.regexes)
            .finish()
    }
}

impl OutputHub {
    /// `log_path`: append the service output there; `None`: our stderr.
    pub fn new(log_path: Option<&str>, regexes: Vec<Regex>) -> common::Result<Arc<OutputHub>> {
        let sink: Box<dyn Write + Send> = match log_path {
            Some(path) => Box::new(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| common::Error::io(path, e).context("--service-log"))?,
            ),
            None => Box::new(std::io::stderr()),
        };
        let counts = regexes.iter().map(|_| AtomicU64::new(0)).collect();
        Ok(Arc::new(OutputHub {
            sink: Mutex::new(sink),
            log_path: log_path.map(str::to_string),
            lost_lines: AtomicU64::new(0),
            warned: AtomicBool::new(false),
            regexes,
            counts,
            matched: Mutex::new(0),
            wake: Condvar::new(),
        }))
    }

    /// How many lines so far matched regex `index`.
    pub fn matches(&self, index: usize) -> u64 {
        self.counts
            .get(index)
            .map_or(0, |c| c.load(Ordering::Acquire))
    }

    /// Lines of service output the --service-log could not take.
    pub fn lost_lines(&self) -> u64 {
        self.lost_lines.load(Ordering::Acquire)
    }

    /// The --service-log path, if there is one.
    pub fn log_path(&self) -> Option<&str> {
        self.log_path.as_deref()
    }

    fn line(&self, line: &[u8]) {
        let written = {
            let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
            let mut result = sink.write_all(line);
            if result.is_ok() && !line.ends_with(b"\n") {
                result = sink.write_all(b"\n");
            }
            result.and_then(|()| sink.flush())
        };
        // Our own stderr failing has nowhere to be reported; a log file has.
        if let (Err(e), Some(path)) = (written, &self.log_path) {
            self.lost_lines.fetch_add(1, Ordering::AcqRel);
            if !self.warned.swap(true, Ordering::AcqRel) {
                common::runner::warn(
                    "cycle-check",
                    format!(
                        "--service-log {}; service output is being lost",
                        common::Error::io(path, e)
                    ),
                );
            }
        }
        if self.regexes.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\n', '\r']);
        let mut any = false;
        for (re, count) in self.regexes.iter().zip(&self.counts) {
            if re.is_match(text) {
                count.fetch_add(1, Ordering::Release);
                any = true;
            }
        }
        if any {
            *self.matched.lock().unwrap_or_else(|p| p.into_inner()) += 1;
            self.wake.notify_all();
        }
    }

    /// Sleeps up to `limit`, waking early when a line matches any regex.
    pub fn wait_for_match(&self, limit: std::time::Duration) {
        let guard = self.matched.lock().unwrap_or_else(|p| p.into_inner());
        let seen = *guard;
        let _ = self.wake.wait_timeout_while(guard, limit, |n| *n == seen);
    }

    /// Reads `pipe` until EOF or a read error, line by line.
    fn pump(&self, pipe: impl Read) {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match (&mut reader).take(MAX_LINE).read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => self.line(&line),
            }
        }
    }

    /// Reads `pipe` on a thread until EOF. The thread is detached: a
    /// descendant that keeps the pipe open keeps it alive, and it ends when
    /// that descendant is killed.
    pub fn follow(self: &Arc<Self>, pipe: impl Read + Send + 'static) {
        let hub = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("service-output".into())
            .spawn(move || hub.pump(pipe));
        if let Err(e) = spawned {
            common::runner::warn(
                "cycle-check",
                format!("cannot follow the service output: {e}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_a_full_disk_refuses_are_counted() {
        // /dev/full fails every write with ENOSPC, as a full disk does.
        let hub = OutputHub::new(Some("/dev/full"), vec![Regex::new("^b").unwrap()]).unwrap();
        hub.pump(&b"a\nb\nc"[..]);
        assert_eq!(hub.lost_lines(), 3);
        assert_eq!(hub.matches(0), 1, "matching goes on without the log");
        assert_eq!(hub.log_path(), Some("/dev/full"));
        let to_stderr = OutputHub::new(None, Vec::new()).unwrap();
        to_stderr.line(b"x\n");
        assert_eq!(to_stderr.lost_lines(), 0);
    }

    #[test]
    fn lines_are_counted_per_regex_and_long_lines_are_split() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("svc.log");
        let hub = OutputHub::new(
            Some(log.to_str().unwrap()),
            vec![
                Regex::new("^listening on").unwrap(),
                Regex::new("x{10}").unwrap(),
            ],
        )
        .unwrap();
        let mut data = b"hello\r\nlistening on 1\nlistening on 2\n".to_vec();
        data.extend(vec![b'x'; 10 << 20]);
        data.extend(b"\n\xff\xfe listening on\nlast line without newline");
        hub.line(b"direct\n");
        hub.pump(&data[..]);
        assert_eq!(hub.matches(0), 2);
        assert_eq!(hub.matches(1), 160);
        assert_eq!(hub.matches(7), 0);
        let text = std::fs::read(&log).unwrap();
        assert!(text.starts_with(b"direct\nhello\r\nlistening on 1\n"));
        assert!(text.ends_with(b"last line without newline\n"));
    }
}
