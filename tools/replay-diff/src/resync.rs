//! Finding where two positional streams line up again, like `diff` does,
//! within a bounded look-ahead window so memory stays flat.
//!
//! An alignment *holds* at a point when at least [`ENOUGH`] of the
//! [`AHEAD`] pairs from there on match (pairs past the end of both streams
//! count as matching; past the end of one only, as not). When record n of
//! the golden run and record n of the replay differ and the alignment still
//! holds after them, it is a record changed in place. Otherwise the streams
//! lost step: up to [`WINDOW`] records of each side are read ahead and each
//! is reduced to a fingerprint of its normalized form
//! ([`crate::compare::fingerprint`]). The realignment is a skip of `a`
//! golden and `b` replay records after which the alignment holds again,
//! chosen with the fewest edits (`max(a, b)`), then the most matching pairs
//! ahead, then records changed in place (`a == b`), then the shortest skip.
//! "Most of", not "all of", the pairs ahead: a replay in which every fourth
//! record differs must still realign after an inserted record.
//! `min(a, b)` of the skipped records are compared as pairs (those that
//! differ least, see [`best_shift`]); the rest are `missing` (golden) or
//! `extra` (replay).
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

use crate::align::{Side, State};
use crate::compare::{diff, fingerprint};
use crate::json::Json;

/// Records of each side looked ahead when the streams lose step.
pub const WINDOW: usize = 1024;
/// The small window looked in first.
const NEAR: usize = 16;
/// Bytes of each side the window may hold (it holds at least one record).
pub const WINDOW_BYTES: usize = 32 << 20;
/// Pairs looked at from a point to judge whether an alignment holds there.
pub const AHEAD: usize = 8;
/// Of the [`AHEAD`] pairs, how many must match for the alignment to hold.
pub const ENOUGH: usize = 5;

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

/// True when a differing pair is a record changed in place: the alignment
/// holds on the pairs after it (`after`: identical or not, compared
/// already; `both_end`: no records follow the last of them on either side).
/// Pairs not compared yet count as not matching, so near a chunk's end the
/// search decides.
pub(crate) fn changed_in_place(after: &[bool], both_end: bool) -> bool {
    let seen = after.len().min(AHEAD);
    let matching = after[..seen].iter().filter(|identical| **identical).count();
    let past_both_ends = if both_end { AHEAD - seen } else { 0 };
    matching + past_both_ends >= ENOUGH
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

    /// The first records of `g` and `r` differ and are not a change in
    /// place: decides how the streams line up again (nothing is consumed).
    pub(crate) fn decide(
        &mut self,
        state: &mut State<'_>,
        g: &mut Side,
        r: &mut Side,
    ) -> Result<Decision> {
        // Most realignments are near: look in a small window first, then in
        // the whole one. The best skip within the small one is the best
        // overall, since skips are ranked by size first.
        for window in [NEAR, WINDOW] {
            let want = window + AHEAD;
            if !state.fill(g, want, WINDOW_BYTES)? || !state.fill(r, want, WINDOW_BYTES)? {
                return Ok(Decision::Interrupted);
            }
            // Only the window: the chunk read before may hold more records.
            let fg = fingerprints(state, g, want)?;
            let fr = fingerprints(state, r, want)?;
            let g_ended = g.ended && g.buf.len() <= want;
            let r_ended = r.ended && r.buf.len() <= want;
            match best_realignment(&fg, g_ended, &fr, r_ended, window) {
                Some((a, b)) if a == b => return Ok(Decision::InPlace(a)),
                Some((a, b)) => return Ok(Decision::Skip(a, b)),
                None => {}
            }
        }
        self.in_place = WINDOW;
        Ok(Decision::InPlace(1))
    }
}

/// How the streams line up again after they lost step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// The next n pairs are compared in place (the alignment is unchanged).
    InPlace(usize),
    /// Skip `a` golden and `b` replay records (`a != b`): see [`skip`].
    Skip(usize, usize),
    Interrupted,
}

/// Consumes `a` golden and `b` replay records: `min(a, b)` compared as pairs,
/// the rest reported `missing` or `extra`.
pub(crate) fn skip(
    state: &mut State<'_>,
    g: &mut Side,
    r: &mut Side,
    a: usize,
    b: usize,
) -> Result<()> {
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
    Ok(())
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
    let one = |rec: &mut Rec| match rec.fingerprint {
        Some(fp) => Ok(fp),
        None => {
            let value = crate::align::parse(&name, rec.line, &rec.raw)?;
            let fp = fingerprint(&value, rules);
            rec.fingerprint = Some(fp);
            Ok(fp)
        }
    };
    if n <= NEAR + AHEAD {
        held[..n].iter_mut().map(one).collect()
    } else {
        held[..n].par_iter_mut().map(one).collect()
    }
}

/// The best `(a, b)` skip (see the module docs), or `None`. `g` and `r` are
/// the fingerprints read ahead; `*_ended` says the stream has nothing more;
/// skips of up to `window` records a side are considered.
pub fn best_realignment(
    g: &[u64],
    g_ended: bool,
    r: &[u64],
    r_ended: bool,
    window: usize,
) -> Option<(usize, usize)> {
    let mut at: HashMap<u64, Vec<usize>> = HashMap::new();
    for (b, fp) in r.iter().enumerate().take(window + 1) {
        at.entry(*fp).or_default().push(b);
    }
    let rank = |(a, b): (usize, usize), matching: usize| {
        (a.max(b), std::cmp::Reverse(matching), a != b, a + b)
    };
    let mut best: Option<((usize, usize), usize)> = None;
    for (a, fp) in g.iter().enumerate().take(window + 1) {
        if best.is_some_and(|((ba, bb), _)| a > ba.max(bb)) {
            break;
        }
        let Some(bs) = at.get(fp) else { continue };
        for &b in bs {
            if (a, b) == (0, 0) {
                continue;
            }
            let matching = matching_ahead(g, g_ended, r, r_ended, a, b);
            if matching < ENOUGH {
                continue;
            }
            if best.is_none_or(|(old, m)| rank((a, b), matching) < rank(old, m)) {
                best = Some(((a, b), matching));
            }
        }
    }
    best.map(|(skip, _)| skip)
}

/// How many of the [`AHEAD`] pairs from `g[a]`, `r[b]` on match. Past the
/// end of both streams a pair counts as matching, past the end of one only
/// as not; beyond what was read ahead (a byte cap), as matching.
fn matching_ahead(g: &[u64], g_ended: bool, r: &[u64], r_ended: bool, a: usize, b: usize) -> usize {
    let mut matching = 0;
    for t in 0..AHEAD {
        matching += match (g.get(a + t), r.get(b + t)) {
            (Some(x), Some(y)) => usize::from(x == y),
            (None, None) if g_ended != r_ended => 0,
            (None, Some(_)) if g_ended => 0,
            (Some(_), None) if r_ended => 0,
            _ => 1,
        };
    }
    matching
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
        let best = |g: &str, r: &str| best_realignment(&fp(g), true, &fp(r), true, WINDOW);
        // Inserted in the replay: one extra.
        assert_eq!(best("BCDEFGHIJ", "XBCDEFGHIJ"), Some((0, 1)));
        // Deleted from the replay: one missing.
        assert_eq!(best("BCDEFGHIJ", "CDEFGHIJ"), Some((1, 0)));
        // Changed in place: a pair.
        assert_eq!(best("BCDEFGHIJ", "XCDEFGHIJ"), Some((1, 1)));
        // Two changed in a row.
        assert_eq!(best("BCDEFGHIJ", "XYDEFGHIJ"), Some((2, 2)));
        // Changed last record, both ending.
        assert_eq!(best("BC", "XC"), Some((1, 1)));
        // Three inserted.
        assert_eq!(best("BCDEFGHIJ", "XYZBCDEFGHIJ"), Some((0, 3)));
        // Nothing in common.
        assert_eq!(best("BCDEFGHIJ", "VWXYZvwxyz"), None);
        // A repetitive stream prefers the change in place to an insertion.
        assert_eq!(best("PPPPPPPPPQ", "XPPPPPPPPQ"), Some((1, 1)));
        // One side ending while the other goes on is no realignment.
        assert_eq!(best("BC", "XCDEFGHIJ"), None);
        // Read-ahead cut short (not ended): what was seen is accepted.
        assert_eq!(
            best_realignment(&fp("BCD"), false, &fp("XBC"), false, WINDOW),
            Some((0, 1))
        );
        // Every fourth record changed, and one inserted: still realigns.
        assert_eq!(best("ABCdEFGhIJKlMNO", "XABCDEFGHIJKLMNO"), Some((0, 1)));
    }

    #[test]
    fn in_place_when_most_pairs_after_match() {
        let (i, d) = (true, false);
        assert!(changed_in_place(&[i, i, i, d, i, i, i, d], false));
        assert!(!changed_in_place(&[d, i, d, i, d, i, d, i], false));
        assert!(changed_in_place(&[], true), "last record, both ending");
        assert!(!changed_in_place(&[i, i], false), "not seen yet: search");
    }
}
