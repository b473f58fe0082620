//! Sorting more records than fit in memory, as `sort -S` does: records are
//! kept in one buffer of at most `budget` bytes; when it is full they are
//! sorted and written to an unnamed temporary file (a "run"), and at the
//! end the runs are merged. Memory stays near `budget` plus, while merging,
//! one read buffer and one record per run, whatever the input's size: runs
//! are merged in stages of [`FAN_IN`] (as a log-structured merge does), so
//! at most `FAN_IN` runs per stage stay open, and each record is rewritten
//! once per stage (log base 64 of the run count: 1 up to 4 TiB at 64 MiB).
//!
//! Keys are unique (time, file, line), so the order is total and the same
//! on every run.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use common::{Error, Result};

/// (unix seconds, nanoseconds, file index, line): time order, ties in file
/// then line order.
pub type Key = (i64, u32, u32, u64);

/// Runs merged at once; more are first merged in stages.
pub const FAN_IN: usize = 64;
const READ_BUF: usize = 64 * 1024;
/// Per-record bookkeeping counted against the budget.
const ENTRY: usize = std::mem::size_of::<(Key, usize, usize)>();

pub struct ExternalSort {
    budget: usize,
    arena: Vec<u8>,
    index: Vec<(Key, usize, usize)>,
    /// Runs by stage: `levels[i]` holds runs that are merges of 64^i spills.
    levels: Vec<Vec<File>>,
    /// How many runs were written (for the summary).
    pub spills: u64,
}

impl std::fmt::Debug for ExternalSort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalSort")
            .field("budget", &self.budget)
            .field("levels", &self.levels.len())
            .finish()
    }
}

fn tmp_error(e: std::io::Error) -> Error {
    Error::io("temporary file", e).with_hint(
        "timeline spills sorted runs to $TMPDIR (about the output's size); make room there or point TMPDIR elsewhere",
    )
}

impl ExternalSort {
    pub fn new(budget: usize) -> Self {
        ExternalSort {
            budget,
            arena: Vec::new(),
            index: Vec::new(),
            levels: Vec::new(),
            spills: 0,
        }
    }

    /// Adds one record (its bytes as they will be written).
    pub fn push(&mut self, key: Key, bytes: &[u8]) -> Result<()> {
        let used = self.arena.len() + self.index.len() * ENTRY;
        if !self.index.is_empty() && used + bytes.len() + ENTRY > self.budget {
            self.spill()?;
        }
        if self.arena.capacity() == 0 {
            // Once, so the buffer never doubles past the budget; pages not
            // touched yet cost no memory.
            self.arena.reserve_exact(self.budget);
        }
        self.index.push((key, self.arena.len(), bytes.len()));
        self.arena.extend_from_slice(bytes);
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        self.index.sort_unstable_by_key(|e| e.0);
        let mut w = BufWriter::with_capacity(READ_BUF, tempfile::tempfile().map_err(tmp_error)?);
        for &(key, at, len) in &self.index {
            write_record(&mut w, key, &self.arena[at..at + len]).map_err(tmp_error)?;
        }
        let mut file = w.into_inner().map_err(|e| tmp_error(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(tmp_error)?;
        self.spills += 1;
        self.index.clear();
        self.arena.clear();
        let mut level = 0;
        let mut run = file;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(run);
            if self.levels[level].len() < FAN_IN {
                return Ok(());
            }
            // A full stage becomes one run of the next.
            let runs = std::mem::take(&mut self.levels[level]);
            let mut w =
                BufWriter::with_capacity(READ_BUF, tempfile::tempfile().map_err(tmp_error)?);
            merge(runs, |key, bytes| {
                write_record(&mut w, key, bytes).map_err(tmp_error)
            })?;
            run = w.into_inner().map_err(|e| tmp_error(e.into_error()))?;
            run.seek(SeekFrom::Start(0)).map_err(tmp_error)?;
            level += 1;
        }
    }

    /// Hands every record to `emit` in key order.
    pub fn finish(mut self, mut emit: impl FnMut(Key, &[u8]) -> Result<()>) -> Result<()> {
        if self.levels.is_empty() {
            self.index.sort_unstable_by_key(|e| e.0);
            for &(key, at, len) in &self.index {
                emit(key, &self.arena[at..at + len])?;
            }
            return Ok(());
        }
        if !self.index.is_empty() {
            self.spill()?;
        }
        // The buffer is not needed while merging.
        self.arena = Vec::new();
        self.index = Vec::new();
        let runs = std::mem::take(&mut self.levels)
            .into_iter()
            .flatten()
            .collect();
        merge(runs, emit)
    }
}

fn write_record(w: &mut impl Write, key: Key, bytes: &[u8]) -> std::io::Result<()> {
    w.write_all(&key.0.to_le_bytes())?;
    w.write_all(&key.1.to_le_bytes())?;
    w.write_all(&key.2.to_le_bytes())?;
    w.write_all(&key.3.to_le_bytes())?;
    w.write_all(&(bytes.len() as u64).to_le_bytes())?;
    w.write_all(bytes)
}

/// The next record of a run into `buf`, or `None` at its end.
fn read_record(r: &mut impl Read, buf: &mut Vec<u8>) -> std::io::Result<Option<Key>> {
    let mut head = [0u8; 32];
    match r.read_exact(&mut head[..8]) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut head[8..32])?;
    let word = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&head[at..at + 8]);
        b
    };
    let half = |at: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&head[at..at + 4]);
        b
    };
    let key = (
        i64::from_le_bytes(word(0)),
        u32::from_le_bytes(half(8)),
        u32::from_le_bytes(half(12)),
        u64::from_le_bytes(word(16)),
    );
    let len = usize::try_from(u64::from_le_bytes(word(24)))
        .map_err(|_| std::io::Error::other("record length out of range"))?;
    buf.clear();
    buf.resize(len, 0);
    r.read_exact(buf)?;
    Ok(Some(key))
}

/// Merges sorted runs, handing each record to `emit` in key order.
fn merge(runs: Vec<File>, mut emit: impl FnMut(Key, &[u8]) -> Result<()>) -> Result<()> {
    let mut readers: Vec<BufReader<File>> = runs
        .into_iter()
        .map(|f| BufReader::with_capacity(READ_BUF, f))
        .collect();
    let mut current: Vec<Vec<u8>> = vec![Vec::new(); readers.len()];
    let mut heap = BinaryHeap::with_capacity(readers.len());
    for (i, r) in readers.iter_mut().enumerate() {
        if let Some(key) = read_record(r, &mut current[i]).map_err(tmp_error)? {
            heap.push(Reverse((key, i)));
        }
    }
    while let Some(Reverse((key, i))) = heap.pop() {
        emit(key, &current[i])?;
        if let Some(next) = read_record(&mut readers[i], &mut current[i]).map_err(tmp_error)? {
            heap.push(Reverse((next, i)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sorted(budget: usize, n: u64) -> (Vec<(Key, Vec<u8>)>, u64) {
        let mut s = ExternalSort::new(budget);
        // A deterministic shuffle of times, several records per time.
        let mut x = 12345u64;
        for line in 0..n {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let key = (
                (x >> 40) as i64 % 1000,
                (x % 3) as u32,
                (line % 2) as u32,
                line,
            );
            s.push(key, format!("record {line}\n").as_bytes()).unwrap();
        }
        let spills = s.spills;
        let mut out = Vec::new();
        s.finish(|k, b| {
            out.push((k, b.to_vec()));
            Ok(())
        })
        .unwrap();
        (out, spills)
    }

    #[test]
    fn spilled_and_in_memory_sorts_agree() {
        let (in_memory, spills) = sorted(1 << 30, 20_000);
        assert_eq!(spills, 0);
        assert_eq!(in_memory.len(), 20_000);
        assert!(in_memory.windows(2).all(|w| w[0].0 < w[1].0));
        // A tiny budget: hundreds of runs, merged in stages of FAN_IN.
        let (spilled, spills) = sorted(4096, 20_000);
        assert!(spills > FAN_IN as u64 * 2, "{spills}");
        assert_eq!(spilled, in_memory);
    }
}
