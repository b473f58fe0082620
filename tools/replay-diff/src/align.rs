//! Aligning the two streams and comparing aligned records.
//!
//! By position (default): streaming, memory flat; pairs are compared in
//! chunks in parallel, first by the raw-text fast path (`lockstep`), then,
//! only where that sees a difference, by full value comparison. Results are
//! written in input order.
//!
//! By key: each side's unmatched records are held until their partner comes
//! (two streams in the same order hold almost nothing); every key seen is
//! remembered so duplicates can be reported, not merged.

use std::collections::HashMap;

use common::interrupt;
use common::jsonl::{Invalid, Item, SKIP_INVALID_HINT};
use common::{Error, Result};
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::compare::{diff, Difference};
use crate::config::Config;
use crate::lockstep;
use crate::report::{Reporter, Tally};
use crate::source::{Opening, Source};

/// Pairs compared per parallel chunk.
const CHUNK: usize = 4096;
/// How often (in records) the SIGINT flag is polled in keyed mode.
const POLL_EVERY: u64 = 4096;

/// The outcome of comparing two streams.
#[derive(Debug, Default)]
pub struct Comparison {
    pub tally: Tally,
    pub interrupted: bool,
    pub golden_sha256: Option<String>,
    pub replay_sha256: Option<String>,
}

/// Compares `golden` with `replay`, writing records through `reporter`.
pub fn compare(
    golden: Opening,
    replay: Opening,
    config: &Config,
    reporter: &mut Reporter,
) -> Result<Comparison> {
    let mut state = State {
        config,
        reporter,
        tally: Tally::default(),
    };
    if config.keys.is_empty() {
        let mut g = Side::<Box<RawValue>>::start(golden, "golden", config)?;
        let mut r = Side::<Box<RawValue>>::start(replay, "replay", config)?;
        let interrupted = state.by_position(&mut g, &mut r)? || interrupt::requested();
        Ok(state.done(interrupted, &g, &r))
    } else {
        let mut g = Side::<Value>::start(golden, "golden", config)?;
        let mut r = Side::<Value>::start(replay, "replay", config)?;
        let interrupted = state.by_key(&mut g, &mut r)? || interrupt::requested();
        Ok(state.done(interrupted, &g, &r))
    }
}

struct Side<T> {
    source: Source<T>,
    label: &'static str,
}

impl<T: DeserializeOwned + Send + 'static> Side<T> {
    fn start(input: Opening, label: &'static str, config: &Config) -> Result<Self> {
        Ok(Side {
            source: Source::start(input, config.max_line)?,
            label,
        })
    }
}

struct State<'a> {
    config: &'a Config,
    reporter: &'a mut Reporter,
    tally: Tally,
}

struct Pending {
    line: u64,
    key: Value,
    value: Value,
}

enum PairResult {
    Identical,
    Different(Vec<Difference>),
}

fn parse(raw: &RawValue) -> Result<Value> {
    serde_json::from_str(raw.get()).map_err(|e| Error::new(format!("re-reading a record: {e}")))
}

impl State<'_> {
    fn done<A, B>(self, interrupted: bool, g: &Side<A>, r: &Side<B>) -> Comparison {
        Comparison {
            tally: self.tally,
            interrupted,
            golden_sha256: g.source.sha256(),
            replay_sha256: r.source.sha256(),
        }
    }

    /// The next record of one side; invalid lines are reported (lenient) or fatal.
    fn next_record<T>(&mut self, side: &mut Side<T>) -> Result<Option<(u64, T)>> {
        loop {
            match side.source.next_item()? {
                None => return Ok(None),
                Some(Item::Record { line, value }) => {
                    if side.label == "golden" {
                        self.tally.records_golden += 1;
                    } else {
                        self.tally.records_replay += 1;
                    }
                    return Ok(Some((line, value)));
                }
                Some(Item::Invalid(bad)) => self.invalid(bad)?,
            }
        }
    }

    fn invalid(&mut self, bad: Invalid) -> Result<()> {
        if !self.config.skip_invalid {
            return Err(bad.to_error().with_hint(SKIP_INVALID_HINT));
        }
        self.tally.invalid += 1;
        self.reporter.invalid(&bad)
    }

    fn record_pair(
        &mut self,
        golden_line: u64,
        replay_line: u64,
        key: Option<&Value>,
        result: PairResult,
    ) -> Result<()> {
        self.tally.compared += 1;
        match result {
            PairResult::Identical => {
                self.tally.identical += 1;
                Ok(())
            }
            PairResult::Different(diffs) => {
                self.tally.divergent += 1;
                self.tally.divergences += diffs.len() as u64;
                self.reporter
                    .divergences(golden_line, replay_line, key, &diffs)
            }
        }
    }

    fn by_position(
        &mut self,
        golden: &mut Side<Box<RawValue>>,
        replay: &mut Side<Box<RawValue>>,
    ) -> Result<bool> {
        let rules = &self.config.rules;
        let mut pairs: Vec<(u64, Box<RawValue>, u64, Box<RawValue>)> = Vec::with_capacity(CHUNK);
        loop {
            if interrupt::requested() {
                return Ok(true);
            }
            pairs.clear();
            let mut tail = None;
            while pairs.len() < CHUNK {
                let g = self.next_record(golden)?;
                let r = self.next_record(replay)?;
                match (g, r) {
                    (Some((gl, g)), Some((rl, r))) => pairs.push((gl, g, rl, r)),
                    (None, None) => break,
                    (g, r) => {
                        tail = Some((g, r));
                        break;
                    }
                }
            }
            let results: Vec<Result<PairResult>> = pairs
                .par_iter()
                .map(|(_, g, _, r)| {
                    if lockstep::same(g.get().as_bytes(), r.get().as_bytes(), &rules.ignore) {
                        return Ok(PairResult::Identical);
                    }
                    let mut diffs = Vec::new();
                    diff(&parse(g)?, &parse(r)?, rules, &mut diffs);
                    Ok(if diffs.is_empty() {
                        PairResult::Identical
                    } else {
                        PairResult::Different(diffs)
                    })
                })
                .collect();
            for ((gl, _, rl, _), result) in pairs.iter().zip(results) {
                self.record_pair(*gl, *rl, None, result?)?;
            }
            match tail {
                Some((Some((line, g)), None)) => return self.rest_unmatched(golden, line, g),
                Some((None, Some((line, r)))) => return self.rest_unmatched(replay, line, r),
                _ if pairs.len() < CHUNK => return Ok(false),
                _ => {}
            }
        }
    }

    /// One side ended first: every remaining record of the other side is
    /// `missing` (golden left over) or `extra` (replay left over).
    fn rest_unmatched(
        &mut self,
        side: &mut Side<Box<RawValue>>,
        line: u64,
        first: Box<RawValue>,
    ) -> Result<bool> {
        let mut next = Some((line, first));
        while let Some((line, raw)) = next {
            if interrupt::requested() {
                return Ok(true);
            }
            let value = parse(&raw)?;
            if side.label == "golden" {
                self.tally.missing += 1;
                self.reporter.missing(line, None, &value)?;
            } else {
                self.tally.extra += 1;
                self.reporter.extra(line, None, &value)?;
            }
            next = self.next_record(side)?;
        }
        Ok(false)
    }

    /// The record's key, or `None` (reported or fatal) when it lacks one.
    fn key_of(&mut self, name: &str, line: u64, value: &Value) -> Result<Option<Value>> {
        let mut parts = Vec::with_capacity(self.config.keys.len());
        for pattern in &self.config.keys {
            match pattern.get(value) {
                Some(v) => parts.push(v.clone()),
                None => {
                    self.invalid(Invalid {
                        file: name.to_string(),
                        line,
                        column: None,
                        reason: format!("record has no value at key {}", pattern.as_str()),
                    })?;
                    return Ok(None);
                }
            }
        }
        Ok(Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Value::Array(parts)
        }))
    }

    fn by_key(&mut self, golden: &mut Side<Value>, replay: &mut Side<Value>) -> Result<bool> {
        // Unmatched records of each side, and the first line of every key seen.
        let mut pending: [HashMap<String, Pending>; 2] = [HashMap::new(), HashMap::new()];
        let mut seen: [HashMap<String, u64>; 2] = [HashMap::new(), HashMap::new()];
        let mut done = [false, false];
        let mut n: u64 = 0;
        while !(done[0] && done[1]) {
            for (i, side) in [&mut *golden, &mut *replay].into_iter().enumerate() {
                if done[i] {
                    continue;
                }
                n += 1;
                if n.is_multiple_of(POLL_EVERY) && interrupt::requested() {
                    return Ok(true);
                }
                let Some((line, value)) = self.next_record(side)? else {
                    done[i] = true;
                    continue;
                };
                let name = side.source.name().to_string();
                let Some(key) = self.key_of(&name, line, &value)? else {
                    continue;
                };
                let text = key.to_string();
                if let Some(&first) = seen[i].get(&text) {
                    self.tally.duplicate_keys += 1;
                    self.reporter.duplicate(side.label, line, first, &key)?;
                    continue;
                }
                seen[i].insert(text.clone(), line);
                let Some(other) = pending[1 - i].remove(&text) else {
                    pending[i].insert(text, Pending { line, key, value });
                    continue;
                };
                let ((gl, g), (rl, r)) = if i == 0 {
                    ((line, &value), (other.line, &other.value))
                } else {
                    ((other.line, &other.value), (line, &value))
                };
                let mut diffs = Vec::new();
                diff(g, r, &self.config.rules, &mut diffs);
                let result = if diffs.is_empty() {
                    PairResult::Identical
                } else {
                    PairResult::Different(diffs)
                };
                self.record_pair(gl, rl, Some(&key), result)?;
            }
        }
        if interrupt::requested() {
            // Unmatched records of a cut-short run are not "missing": say interrupted.
            return Ok(true);
        }
        let [golden_left, replay_left] = pending;
        let mut missing: Vec<Pending> = golden_left.into_values().collect();
        missing.sort_by_key(|p| p.line);
        for p in missing {
            self.tally.missing += 1;
            self.reporter.missing(p.line, Some(&p.key), &p.value)?;
        }
        let mut extra: Vec<Pending> = replay_left.into_values().collect();
        extra.sort_by_key(|p| p.line);
        for p in extra {
            self.tally.extra += 1;
            self.reporter.extra(p.line, Some(&p.key), &p.value)?;
        }
        Ok(false)
    }
}

/// Refuses reading stdin for both sides.
pub fn check_inputs(golden: &str, replay: &str) -> Result<()> {
    if golden == "-" && replay == "-" {
        return Err(Error::usage("GOLDEN and REPLAY cannot both be '-' (stdin)"));
    }
    Ok(())
}
