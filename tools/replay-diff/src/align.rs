//! Aligning the two streams and comparing aligned records.
//!
//! By position (default): record n with record n, compared in parallel
//! chunks, first by the raw-text fast path (`lockstep`), then, only where
//! that sees a difference, in full. Where the streams stop matching, a
//! bounded look-ahead ([`crate::resync`]) finds where they line up again, so
//! one inserted record is one `extra`, not a divergence on every record
//! after it. Memory stays flat: a chunk and the look-ahead window a side.
//!
//! By key: records are paired by the value at `--key`; records that share a
//! key pair in order of appearance (the n-th golden with the n-th replay),
//! and records without the key pair the same way among themselves. Only
//! records still waiting for a partner are held, so two streams in the same
//! order hold almost nothing.

use std::collections::{HashMap, VecDeque};

use common::jsonl::{Invalid, Item, SKIP_INVALID_HINT};
use common::{interrupt, Error, Result};
use rayon::prelude::*;
use serde_json::value::RawValue;

use crate::compare::{diff, key_text, Difference};
use crate::config::Compare;
use crate::json::Json;
use crate::raw::KeyPath;
use crate::report::{Reporter, Tally};
use crate::resync::{self, Rec};
use crate::source::{Opening, Source};
use crate::{lockstep, number};

/// Pairs compared per parallel chunk, and the bytes a chunk may hold a side.
const CHUNK: usize = 4096;
const MIN_CHUNK: usize = 64;
const CHUNK_BYTES: usize = 16 << 20;
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
    config: &Compare,
    reporter: &mut Reporter,
) -> Result<Comparison> {
    let mut g = Side::start(golden, Label::Golden, config)?;
    let mut r = Side::start(replay, Label::Replay, config)?;
    let mut state = State {
        config,
        reporter,
        tally: Tally::default(),
    };
    let stopped = if config.keys.is_empty() {
        state.by_position(&mut g, &mut r)?
    } else {
        state.by_key(&mut g, &mut r)?
    };
    Ok(Comparison {
        tally: state.tally,
        interrupted: stopped || interrupt::requested(),
        golden_sha256: g.source.sha256(),
        replay_sha256: r.source.sha256(),
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Label {
    Golden,
    Replay,
}

/// One input: its reader and the records read ahead of the comparison.
pub struct Side {
    source: Source,
    label: Label,
    name: String,
    /// Records read but not yet consumed, in order.
    pub(crate) buf: VecDeque<Rec>,
    buf_bytes: usize,
    /// The source has no more records.
    pub(crate) ended: bool,
}

impl Side {
    fn start(input: Opening, label: Label, config: &Compare) -> Result<Self> {
        let name = input.name().to_string();
        Ok(Side {
            source: Source::start(input, config.max_line)?,
            label,
            name,
            buf: VecDeque::new(),
            buf_bytes: 0,
            ended: false,
        })
    }

    /// Takes the first record read ahead.
    pub(crate) fn pop(&mut self) -> Option<Rec> {
        let rec = self.buf.pop_front()?;
        self.buf_bytes -= rec.raw.get().len();
        Some(rec)
    }

    /// Parses a record of this side, naming file and line if it cannot be.
    pub(crate) fn parse(&self, line: u64, raw: &RawValue) -> Result<Json> {
        parse(&self.name, line, raw)
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

/// Parses a record read as raw text, naming file and line if it cannot be.
pub(crate) fn parse(name: &str, line: u64, raw: &RawValue) -> Result<Json> {
    Json::parse(raw.get()).map_err(|e| {
        Error::at_column(
            name,
            line,
            e.offset as u64 + 1,
            format!("invalid JSON: {}", e.reason),
        )
    })
}

pub(crate) struct State<'a> {
    pub(crate) config: &'a Compare,
    reporter: &'a mut Reporter,
    pub(crate) tally: Tally,
}

/// How one aligned pair compared.
pub(crate) enum PairResult {
    Identical,
    Different(Vec<Difference>),
}

impl PairResult {
    fn is_identical(&self) -> bool {
        matches!(self, PairResult::Identical)
    }
}

/// Compares two records: raw text in lockstep first, the full diff only when
/// that sees a difference.
pub(crate) fn compare_pair(
    config: &Compare,
    (g_name, g_line, g): (&str, u64, &RawValue),
    (r_name, r_line, r): (&str, u64, &RawValue),
) -> Result<PairResult> {
    let rules = &config.rules;
    if lockstep::same(g.get().as_bytes(), r.get().as_bytes(), &rules.ignore) {
        return Ok(PairResult::Identical);
    }
    let mut diffs = Vec::new();
    diff(
        &parse(g_name, g_line, g)?,
        &parse(r_name, r_line, r)?,
        rules,
        &mut diffs,
    );
    Ok(if diffs.is_empty() {
        PairResult::Identical
    } else {
        PairResult::Different(diffs)
    })
}

impl State<'_> {
    /// The next record of one side; invalid lines are reported (lenient) or fatal.
    fn next_record(&mut self, side: &mut Side) -> Result<Option<Rec>> {
        loop {
            match side.source.next_item()? {
                None => return Ok(None),
                Some(Item::Record { line, value }) => {
                    match side.label {
                        Label::Golden => self.tally.records_golden += 1,
                        Label::Replay => self.tally.records_replay += 1,
                    }
                    return Ok(Some(Rec::new(line, value)));
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

    /// Reads ahead until `side` holds `records` records or `bytes` bytes (at
    /// least one record), or its input ends. False when interrupted.
    pub(crate) fn fill(&mut self, side: &mut Side, records: usize, bytes: usize) -> Result<bool> {
        while side.buf.len() < records
            && !side.ended
            && (side.buf.is_empty() || side.buf_bytes < bytes)
        {
            if interrupt::requested() {
                return Ok(false);
            }
            match self.next_record(side)? {
                Some(rec) => {
                    side.buf_bytes += rec.raw.get().len();
                    side.buf.push_back(rec);
                }
                None => side.ended = true,
            }
        }
        Ok(!interrupt::requested())
    }

    pub(crate) fn record_pair(
        &mut self,
        golden_line: u64,
        replay_line: u64,
        key: Option<&Json>,
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
                self.tally.divergent_paths += diffs.len() as u64;
                self.reporter
                    .divergences(golden_line, replay_line, key, &diffs)
            }
        }
    }

    /// Compares the first records of both sides and consumes them.
    pub(crate) fn pair_heads(&mut self, g: &mut Side, r: &mut Side) -> Result<()> {
        let (Some(gr), Some(rr)) = (g.pop(), r.pop()) else {
            return Ok(());
        };
        let result = compare_pair(
            self.config,
            (&g.name, gr.line, &gr.raw),
            (&r.name, rr.line, &rr.raw),
        )?;
        self.record_pair(gr.line, rr.line, None, result)
    }

    /// Consumes the first record of `side` as `missing` (golden) or `extra`.
    pub(crate) fn unmatched_head(&mut self, side: &mut Side) -> Result<()> {
        let Some(rec) = side.pop() else {
            return Ok(());
        };
        let value = side.parse(rec.line, &rec.raw)?;
        self.unmatched(side.label, rec.line, None, &value)
    }

    fn unmatched(
        &mut self,
        label: Label,
        line: u64,
        key: Option<&Json>,
        value: &Json,
    ) -> Result<()> {
        match label {
            Label::Golden => {
                self.tally.missing += 1;
                self.reporter.missing(line, key, value)
            }
            Label::Replay => {
                self.tally.extra += 1;
                self.reporter.extra(line, key, value)
            }
        }
    }

    /// Position mode. True when interrupted.
    fn by_position(&mut self, g: &mut Side, r: &mut Side) -> Result<bool> {
        let mut resync = resync::Resync::new();
        // Pairs compared ahead are wasted when a realignment changes the
        // offset: after one, chunks start small and double back to CHUNK.
        let mut chunk = CHUNK;
        loop {
            if !self.fill(g, chunk, CHUNK_BYTES)? || !self.fill(r, chunk, CHUNK_BYTES)? {
                return Ok(true);
            }
            let n = g.buf.len().min(r.buf.len()).min(chunk);
            if n == 0 {
                // One side (or both) ended: the rest of the other is unmatched.
                for side in [&mut *g, &mut *r] {
                    while !side.buf.is_empty() {
                        if interrupt::requested() {
                            return Ok(true);
                        }
                        self.unmatched_head(side)?;
                        if side.buf.is_empty() && !self.fill(side, CHUNK, CHUNK_BYTES)? {
                            return Ok(true);
                        }
                    }
                }
                return Ok(false);
            }
            let config = self.config;
            let (gb, rb) = (&g.buf, &r.buf);
            let (gn, rn) = (g.name.as_str(), r.name.as_str());
            let results: Vec<Result<PairResult>> = (0..n)
                .into_par_iter()
                .map(|k| {
                    let (a, b) = (&gb[k], &rb[k]);
                    compare_pair(config, (gn, a.line, &a.raw), (rn, b.line, &b.raw))
                })
                .collect();
            let results: Vec<PairResult> = results.into_iter().collect::<Result<_>>()?;
            let identical: Vec<bool> = results.iter().map(PairResult::is_identical).collect();
            let both_end_at_n = g.ended && r.ended && g.buf.len() == n && r.buf.len() == n;
            let mut results = results.into_iter();
            let mut in_place = 0;
            let mut offset_changed = false;
            for k in 0..n {
                if in_place == 0
                    && !identical[k]
                    && !resync.positional()
                    && !resync::changed_in_place(&identical[k + 1..], both_end_at_n)
                {
                    match resync.decide(self, g, r)? {
                        resync::Decision::Interrupted => return Ok(true),
                        resync::Decision::InPlace(m) => in_place = m,
                        resync::Decision::Skip(a, b) => {
                            resync::skip(self, g, r, a, b)?;
                            offset_changed = true;
                            break;
                        }
                    }
                }
                let (Some(result), Some(gr), Some(rr)) = (results.next(), g.pop(), r.pop()) else {
                    break;
                };
                self.record_pair(gr.line, rr.line, None, result)?;
                in_place = in_place.saturating_sub(1);
                resync.paired();
            }
            // A decision to compare in place beyond this chunk goes on there.
            for _ in 0..in_place {
                self.pair_heads(g, r)?;
                resync.paired();
            }
            chunk = if offset_changed {
                MIN_CHUNK
            } else {
                (chunk * 2).min(CHUNK)
            };
        }
    }

    /// Keyed mode. True when interrupted.
    fn by_key(&mut self, g: &mut Side, r: &mut Side) -> Result<bool> {
        let paths: Vec<KeyPath> = self
            .config
            .keys
            .iter()
            .map(|p| KeyPath::new(p.tokens()))
            .collect::<Option<_>>()
            .ok_or_else(|| Error::usage("--key: a key must point at one value (no '*')"))?;
        // Records waiting for a partner, per key; at most one side waits for
        // any one key. Records without the key wait in `keyless`.
        let mut waiting: HashMap<String, (Label, VecDeque<Waiting>)> = HashMap::new();
        let mut keyless: [VecDeque<Waiting>; 2] = [VecDeque::new(), VecDeque::new()];
        let mut batch: Vec<KeyedPair> = Vec::with_capacity(CHUNK);
        let (gn, rn) = (g.name.clone(), r.name.clone());
        let mut done = [false, false];
        let mut n: u64 = 0;
        while !(done[0] && done[1]) {
            for (i, side) in [&mut *g, &mut *r].into_iter().enumerate() {
                if done[i] {
                    continue;
                }
                n += 1;
                if n.is_multiple_of(POLL_EVERY) && interrupt::requested() {
                    return Ok(true);
                }
                let Some(rec) = self.next_record(side)? else {
                    done[i] = true;
                    continue;
                };
                let label = side.label;
                let key = key_of(&paths, rec.raw.get(), &side.name, rec.line)?;
                let this = Waiting {
                    line: rec.line,
                    key: key.as_ref().map(|(_, raw)| raw.clone()),
                    raw: rec.raw,
                };
                let partner = match &key {
                    None => {
                        self.tally.keyless += 1;
                        let other = &mut keyless[1 - i];
                        match other.pop_front() {
                            Some(p) => Some(p),
                            None => {
                                keyless[i].push_back(this);
                                continue;
                            }
                        }
                    }
                    Some((text, _)) => match waiting.get_mut(text) {
                        Some((waiting_side, queue)) if *waiting_side != label => {
                            let p = queue.pop_front();
                            if queue.is_empty() {
                                waiting.remove(text);
                            }
                            p
                        }
                        Some((_, queue)) => {
                            queue.push_back(this);
                            continue;
                        }
                        None => {
                            waiting.insert(text.clone(), (label, VecDeque::from([this])));
                            continue;
                        }
                    },
                };
                let Some(partner) = partner else { continue };
                let (golden, replay) = match label {
                    Label::Golden => (this, partner),
                    Label::Replay => (partner, this),
                };
                batch.push(KeyedPair { golden, replay });
                if batch.len() == CHUNK {
                    self.compare_keyed(&mut batch, &gn, &rn)?;
                }
            }
        }
        self.compare_keyed(&mut batch, &gn, &rn)?;
        if interrupt::requested() {
            // Unmatched records of a cut-short run are not "missing": say interrupted.
            return Ok(true);
        }
        let mut left: Vec<(Label, Waiting)> = Vec::new();
        for (label, queue) in waiting.into_values() {
            left.extend(queue.into_iter().map(|w| (label, w)));
        }
        let [kg, kr] = keyless;
        left.extend(kg.into_iter().map(|w| (Label::Golden, w)));
        left.extend(kr.into_iter().map(|w| (Label::Replay, w)));
        // Missing (golden) first, then extra, each in line order.
        left.sort_by_key(|(label, w)| (*label == Label::Replay, w.line));
        for (label, w) in left {
            let name = if label == Label::Golden { &gn } else { &rn };
            let value = parse(name, w.line, &w.raw)?;
            let key = w.key_value(name)?;
            self.unmatched(label, w.line, key.as_ref(), &value)?;
        }
        Ok(false)
    }

    /// Compares a batch of keyed pairs in parallel and reports them in order.
    fn compare_keyed(
        &mut self,
        batch: &mut Vec<KeyedPair>,
        g_name: &str,
        r_name: &str,
    ) -> Result<()> {
        let config = self.config;
        let results: Vec<Result<PairResult>> = batch
            .par_iter()
            .map(|p| {
                compare_pair(
                    config,
                    (g_name, p.golden.line, &p.golden.raw),
                    (r_name, p.replay.line, &p.replay.raw),
                )
            })
            .collect();
        for (p, result) in batch.drain(..).zip(results) {
            let result = result?;
            // Only a differing pair reports its key (a keyless pair none).
            let key = match result {
                PairResult::Identical => None,
                PairResult::Different(_) => p.golden.key_value(g_name)?,
            };
            self.record_pair(p.golden.line, p.replay.line, key.as_ref(), result)?;
        }
        Ok(())
    }
}

/// A keyed record waiting for its partner.
struct Waiting {
    line: u64,
    /// The key's raw text (a JSON array of the parts for a composite key).
    key: Option<Box<str>>,
    raw: Box<RawValue>,
}

impl Waiting {
    /// The key as a value to report (parsed only when reported).
    fn key_value(&self, name: &str) -> Result<Option<Json>> {
        self.key
            .as_deref()
            .map(|text| {
                Json::parse(text).map_err(|e| {
                    Error::at(
                        name,
                        self.line,
                        format!("invalid JSON in key: {}", e.reason),
                    )
                })
            })
            .transpose()
    }
}

/// A record's key: the canonical text that identifies it (equal for equal
/// values: `100` and `1e2`, `"\u0065"` and `"e"`) and the key's raw text;
/// `None` when the record lacks a key part.
fn key_of(
    paths: &[KeyPath],
    raw: &str,
    name: &str,
    line: u64,
) -> Result<Option<(String, Box<str>)>> {
    let identity = |text: &str| -> Result<String> {
        match text.as_bytes().first() {
            // Strings without escapes are their own canonical form.
            Some(b'"') if !text.contains('\\') => Ok(text.to_string()),
            Some(b'-' | b'0'..=b'9') => Ok(number::canonical(text)),
            _ => Json::parse(text)
                .map(|v| key_text(&v))
                .map_err(|e| Error::at(name, line, format!("invalid JSON in key: {}", e.reason))),
        }
    };
    if let [path] = paths {
        let Some(text) = path.lookup(raw) else {
            return Ok(None);
        };
        return Ok(Some((identity(text)?, text.into())));
    }
    let mut ids = Vec::with_capacity(paths.len());
    let mut texts = Vec::with_capacity(paths.len());
    for path in paths {
        let Some(text) = path.lookup(raw) else {
            return Ok(None);
        };
        ids.push(identity(text)?);
        texts.push(text);
    }
    Ok(Some((
        format!("[{}]", ids.join(",")),
        format!("[{}]", texts.join(",")).into_boxed_str(),
    )))
}

struct KeyedPair {
    golden: Waiting,
    replay: Waiting,
}

/// Refuses reading stdin for both sides.
pub fn check_inputs(golden: &str, replay: &str) -> Result<()> {
    if golden == "-" && replay == "-" {
        return Err(Error::usage("GOLDEN and REPLAY cannot both be '-' (stdin)"));
    }
    // One file under two names (the same path, a link, a Makefile's
    // `$(GOLDEN) $(GOLDEN)`) agrees with itself perfectly: that proves
    // nothing, so it is refused rather than passed. Two files with the same
    // bytes are a real (and passing) comparison.
    let g = common::input::file_id(golden);
    if g.is_some() && g == common::input::file_id(replay) {
        return Err(Error::usage(format!(
            "GOLDEN and REPLAY are the same file ({} and {}): a file compared with itself proves nothing",
            common::printer::printable(golden),
            common::printer::printable(replay)
        )));
    }
    Ok(())
}
