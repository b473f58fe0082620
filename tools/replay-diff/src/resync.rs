//! Finding where two positional streams line up again, like `diff` does,
//! within a bounded look-ahead window so memory stays flat.
//!
//! When record n of the golden run and record n of the replay differ, and
//! the next [`CONFIRM`] pairs do not all match (so it is not simply a record
//! that changed in place), up to [`WINDOW`] records of each side are read
//! ahead and each is reduced to a fingerprint of its normalized form
//! ([`crate::compare::fingerprint`]). The realignment is the skip of `a`
//! golden and `b` replay records after which the next [`CONFIRM`] records of
//! both sides match (or both streams end), chosen with the fewest edits
//! (`max(a, b)`), then preferring records changed in place (`a == b`), then
//! the shortest skip. `min(a, b)` of the skipped records are compared as
//! pairs (those that differ least, see [`best_shift`]); the rest are
//! `missing` (golden) or `extra` (replay).
//!
//! Fingerprints only choose the alignment: every pair is still compared in
//! full and every skipped record reported, so a bad choice can cost a clear
//! report but never hide a difference. When nothing lines up within the
//! window, the pair is compared in place and the next [`WINDOW`] pairs too,
//! before another search (this bounds the work on streams that share
//! nothing to one search per window).

use std::collections::HashMap;

use common::Result;
use rayon::prelude::*;
use serde_json::value::RawValue;

use crate::align::{PairResult, Side, State};
use crate::compare::{diff, fingerprint};
use crate::json::Json;

/// Records of each side looked ahead when the streams lose step.
pub const WINDOW: usize = 1024;
/// Bytes of each side the window may hold (it holds at least one record).
pub const WINDOW_BYTES: usize = 32 << 20;
/// Matching records after a realignment point needed to accept it.
pub const CONFIRM: usize = 4;

/// A record read ahead, with its fingerprint once computed.
pub struct Rec {
    pub line: u64,
    pub raw: Box<RawValue>,
    fingerprint: Option<u64>,
}

impl Rec {
    pub fn new(line: u64, raw: Box<RawValue>) -> Rec {
        Rec {
            line,
            raw,
            fingerprint: None,
        }
    }
}

/// The realignment state of one positional comparison.
#[derive(Debug, Default)]
pub struct Resync {
    /// Pairs still to compare in place after a search found nothing.
    in_place: usize,
}

/// True when a differing pair is a record changed in place: the pairs after
/// it (`after`) match, [`CONFIRM`] of them or until both streams end
/// (`both_end`: no records follow the last of `after` on either side).
pub(crate) fn changed_in_place(after: &[PairResult], both_end: bool) -> bool {
    for t in 0..CONFIRM {
        match after.get(t) {
            Some(PairResult::Identical) => {}
            Some(PairResult::Different(_)) => return false,
            None => return both_end,
        }
    }
    true
}

impl Resync {
    pub fn new() -> Resync {
        Resync::default()
    }

    /// Differing pairs are compared in place for now (no search).
    pub fn positional(&self) -> bool {
        self.in_place > 0
    }

    /// One more pair was consumed.
    pub fn paired(&mut self) {
        self.in_place = self.in_place.saturating_sub(1);
    }

    /// The first records of `g` and `r` differ and are not a change in place:
    /// finds where the streams line up again and consumes the records up to
    /// there (pairs, then `missing` or `extra`). False when interrupted.
    pub(crate) fn realign(
        &mut self,
        state: &mut State<'_>,
        g: &mut Side,
        r: &mut Side,
    ) -> Result<bool> {
        let want = WINDOW + CONFIRM + 1;
        if !state.fill(g, want, WINDOW_BYTES)? || !state.fill(r, want, WINDOW_BYTES)? {
            return Ok(false);
        }
        // Only the window: the chunk read before may hold more records.
        let fg = fingerprints(state, g, want)?;
        let fr = fingerprints(state, r, want)?;
        let g_ended = g.ended && g.buf.len() <= want;
        let r_ended = r.ended && r.buf.len() <= want;
        match best_realignment(&fg, g_ended, &fr, r_ended) {
            Some((a, b)) => {
                let shift = best_shift(state, g, r, a, b)?;
                let longer = if a > b { &mut *g } else { &mut *r };
                for _ in 0..shift {
                    state.unmatched_head(longer)?;
                }
                for _ in 0..a.min(b) {
                    state.pair_heads(g, r)?;
                }
                let longer = if a > b { &mut *g } else { &mut *r };
                for _ in shift..a.abs_diff(b) {
                    state.unmatched_head(longer)?;
                }
            }
            None => {
                state.pair_heads(g, r)?;
                self.in_place = WINDOW;
            }
        }
        Ok(true)
    }
}

/// Most pairs tried when choosing which skipped records pair up.
const SHIFT_BUDGET: usize = 256;

/// Of the `a` golden and `b` replay records skipped, `min(a, b)` pair up and
/// the rest are unmatched: which ones? The records of the longer run that
/// come first and stay unmatched (`shift`), chosen so the pairs differ in
/// the fewest paths (a deletion followed by a change pairs the changed
/// record with its own original, not with the deleted one). Ties, and runs
/// too long to try every shift, pair from the start.
fn best_shift(state: &State<'_>, g: &Side, r: &Side, a: usize, b: usize) -> Result<usize> {
    let (m, spare) = (a.min(b), a.abs_diff(b));
    if m == 0 || spare == 0 || m * (spare + 1) > SHIFT_BUDGET {
        return Ok(0);
    }
    let rules = &state.config.rules;
    let gv: Vec<Json> = g
        .buf
        .iter()
        .take(a)
        .map(|rec| g.parse(rec.line, &rec.raw))
        .collect::<Result<_>>()?;
    let rv: Vec<Json> = r
        .buf
        .iter()
        .take(b)
        .map(|rec| r.parse(rec.line, &rec.raw))
        .collect::<Result<_>>()?;
    let mut best = (usize::MAX, 0);
    for shift in 0..=spare {
        let mut paths = 0;
        for k in 0..m {
            let (x, y) = if a > b {
                (&gv[shift + k], &rv[k])
            } else {
                (&gv[k], &rv[shift + k])
            };
            let mut out = Vec::new();
            diff(x, y, rules, &mut out);
            paths += out.len();
        }
        if paths < best.0 {
            best = (paths, shift);
        }
    }
    Ok(best.1)
}

/// Fingerprints of the first `n` records `side` holds, computed once per record.
fn fingerprints(state: &State<'_>, side: &mut Side, n: usize) -> Result<Vec<u64>> {
    let rules = &state.config.rules;
    let name = side.name().to_string();
    let held = side.buf.make_contiguous();
    let n = n.min(held.len());
    held[..n]
        .par_iter_mut()
        .map(|rec| match rec.fingerprint {
            Some(fp) => Ok(fp),
            None => {
                let value = crate::align::parse(&name, rec.line, &rec.raw)?;
                let fp = fingerprint(&value, rules);
                rec.fingerprint = Some(fp);
                Ok(fp)
            }
        })
        .collect()
}

/// The best `(a, b)` skip (see the module docs), or `None`. `g` and `r` are
/// the fingerprints read ahead; `*_ended` says the stream has nothing more.
pub fn best_realignment(
    g: &[u64],
    g_ended: bool,
    r: &[u64],
    r_ended: bool,
) -> Option<(usize, usize)> {
    let mut at: HashMap<u64, Vec<usize>> = HashMap::new();
    for (b, fp) in r.iter().enumerate().take(WINDOW + 1) {
        at.entry(*fp).or_default().push(b);
    }
    let score = |(a, b): (usize, usize)| (a.max(b), a != b, a + b);
    let mut best: Option<(usize, usize)> = None;
    for (a, fp) in g.iter().enumerate().take(WINDOW + 1) {
        if best.is_some_and(|(ba, bb)| a > ba.max(bb)) {
            break;
        }
        let Some(bs) = at.get(fp) else { continue };
        for &b in bs {
            if (a, b) == (0, 0) || best.is_some_and(|old| score(old) <= score((a, b))) {
                continue;
            }
            if confirmed(g, g_ended, r, r_ended, a, b) {
                best = Some((a, b));
            }
        }
    }
    best
}

/// Do the records after `g[a]` and `r[b]` match ([`CONFIRM`] of them, or
/// until both streams end)? Beyond what was read ahead (a byte cap), what
/// was seen is accepted; one stream ending before the other is a mismatch.
fn confirmed(g: &[u64], g_ended: bool, r: &[u64], r_ended: bool, a: usize, b: usize) -> bool {
    for t in 1..=CONFIRM {
        match (g.get(a + t), r.get(b + t)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(_), Some(_)) => return false,
            (None, None) => return g_ended == r_ended,
            (None, Some(_)) => return !g_ended,
            (Some(_), None) => return !r_ended,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fingerprints from letters: equal letters are equal records.
    fn fp(s: &str) -> Vec<u64> {
        s.bytes().map(u64::from).collect()
    }

    #[test]
    fn realignments() {
        // Inserted in the replay: one extra.
        assert_eq!(
            best_realignment(&fp("BCDEF"), true, &fp("XBCDEF"), true),
            Some((0, 1))
        );
        // Deleted from the replay: one missing.
        assert_eq!(
            best_realignment(&fp("BCDEF"), true, &fp("CDEF"), true),
            Some((1, 0))
        );
        // Changed in place: a pair.
        assert_eq!(
            best_realignment(&fp("BCDEF"), true, &fp("XCDEF"), true),
            Some((1, 1))
        );
        // Two changed in a row.
        assert_eq!(
            best_realignment(&fp("BCDEFG"), true, &fp("XYDEFG"), true),
            Some((2, 2))
        );
        // Changed last record, both ending.
        assert_eq!(
            best_realignment(&fp("BC"), true, &fp("XC"), true),
            Some((1, 1))
        );
        // Three inserted.
        assert_eq!(
            best_realignment(&fp("BCDEFG"), true, &fp("XYZBCDEFG"), true),
            Some((0, 3))
        );
        // Nothing in common.
        assert_eq!(
            best_realignment(&fp("BCDEF"), true, &fp("VWXYZ"), true),
            None
        );
        // A repetitive stream prefers the change in place to an insertion.
        assert_eq!(
            best_realignment(&fp("PPPPPQ"), true, &fp("XPPPPQ"), true),
            Some((1, 1))
        );
        // One side ending while the other goes on is no realignment.
        assert_eq!(best_realignment(&fp("BC"), true, &fp("XCD"), true), None);
        // Read-ahead cut short (not ended): what was seen is accepted.
        assert_eq!(
            best_realignment(&fp("BCD"), false, &fp("XBC"), false),
            Some((0, 1))
        );
    }
}
