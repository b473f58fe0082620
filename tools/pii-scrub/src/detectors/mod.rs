//! The combined matcher: every detector's candidate regex in one set, run
//! once per haystack; only the detectors the set reports are then searched
//! for spans, and each candidate is validated before it becomes a [`Hit`].
//!
//! All regexes are compiled ASCII-only over bytes (`unicode(false)`), which is
//! what keeps the lazy DFA fast and lets invalid UTF-8 pass through as bytes.
//! Candidates are short and free of wide counted repetitions (`{0,62}`,
//! `{36,251}`): those multiply the combined DFA's states, and on PII-dense
//! logs building states took most of the time (issue 12). A detector's own
//! regex then runs anchored at the candidate, over a few dozen bytes.

pub mod cmdline;
pub mod keys;
pub mod pairs;
pub mod patterns;
pub mod validate;

use std::ops::Range;

use regex::bytes::Regex;
use regex_automata::meta;
use regex_automata::util::captures::Captures;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, PatternID, PatternSet};

use common::{Error, Result};

/// Index of a type (built-in detector or custom rule) in the [`Types`] table.
pub type TypeId = u16;

/// How a candidate is validated and which part of it is scrubbed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The whole match, as is.
    None,
    /// The first capture group that took part in the match.
    FirstGroup,
    Email,
    Phone,
    Ipv4,
    Ipv6,
    Card,
    Ssn,
    Iban,
    Jwt,
    /// `name=value` where the name says secret: the match starts at the
    /// secret word; [`pairs::secret_pair`] finds the key and the value.
    SecretValue,
    /// `phone=4155552671`, `"msisdn":"4917…"`: as [`Check::SecretValue`]
    /// for a phone-named key; the value must be a number.
    PhoneField,
    /// `first_name=Maria`, `"dob":"1984-03-12"`: as [`Check::SecretValue`]
    /// for an identity-named key.
    IdentityField,
    /// `--password X`: the match starts at the `--`.
    SecretOption,
    /// `mysql -pX`, `sshpass -p X`, `redis-cli -a X`, `curl -u user:X`: the
    /// match starts at the tool's name.
    ToolPassword,
    /// `user:pass` of `scheme://user:pass@`: the match is `scheme://user:`;
    /// [`validate::url_credentials`] finds the last `@` before the host.
    UrlCredentials,
    /// A PEM `BEGIN ... PRIVATE KEY` marker, extended to its `END` marker.
    PrivateKey,
    /// Custom rules: the match (or group) must pass Luhn.
    Luhn,
    /// Custom rules: the match (or group) must pass IBAN mod-97.
    Mod97,
}

impl Check {
    /// The field kind of a key-name driven detector.
    pub fn field(self) -> Option<keys::Field> {
        match self {
            Check::SecretValue => Some(keys::Field::Secret),
            Check::PhoneField => Some(keys::Field::Phone),
            Check::IdentityField => Some(keys::Field::Identity),
            _ => None,
        }
    }

    fn needs_captures(self) -> bool {
        matches!(self, Check::FirstGroup)
    }

    /// Validator names accepted in `--rules` files.
    pub fn from_rule_name(name: &str) -> Option<Check> {
        Some(match name {
            "none" => Check::None,
            "luhn" => Check::Luhn,
            "mod97" | "iban" => Check::Mod97,
            "email" => Check::Email,
            "phone" => Check::Phone,
            "ipv4" => Check::Ipv4,
            "ipv6" => Check::Ipv6,
            "card" => Check::Card,
            "ssn" => Check::Ssn,
            "jwt" => Check::Jwt,
            _ => return None,
        })
    }
}

/// How the combined pass's candidate relates to the detector's own regex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// Both start at the same byte.
    Start,
    /// The candidate starts at an email's `@`: the local part is to the left.
    LocalLeft,
    /// The candidate starts at a URL's `://`: the scheme is to the left.
    SchemeLeft,
    /// The candidate starts at an IPv6 address's `::` or at a colon after
    /// its first group: the address starts at the hex digits to the left.
    HexLeft,
}

/// One compiled detector.
#[derive(Debug)]
pub struct Detector {
    pub ty: TypeId,
    pub pattern: String,
    /// What the combined pass looks for (often the same as `pattern`).
    pub candidate: String,
    anchor: Anchor,
    /// Run anchored where the candidate says the match begins.
    regex: meta::Regex,
    check: Check,
    /// For custom rules: the capture group to scrub (0 = whole match).
    group: usize,
}

impl Detector {
    pub fn new(
        ty: TypeId,
        pattern: &str,
        candidate: &str,
        anchor: Anchor,
        check: Check,
        group: usize,
    ) -> std::result::Result<Self, String> {
        let regex = meta::Regex::builder()
            .configure(
                meta::Config::new()
                    .utf8_empty(false)
                    .nfa_size_limit(Some(64 << 20)),
            )
            .syntax(ascii_bytes())
            .build(pattern)
            .map_err(|e| e.to_string())?;
        if group >= regex.group_info().group_len(PatternID::ZERO) {
            return Err(format!("group {group} does not exist in the regex"));
        }
        let candidate = if candidate.is_empty() {
            pattern
        } else {
            candidate
        };
        Ok(Detector {
            ty,
            pattern: pattern.to_string(),
            candidate: candidate.to_string(),
            anchor,
            regex,
            check,
            group,
        })
    }
}

/// How far a built-in's captured credential is searched from where its
/// match begins (see `pairs::LINE_VALUE_MAX`, the same bound for pairs).
const FIRST_GROUP_WINDOW: usize = 4096 + 64;

/// A validated finding in a haystack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub ty: TypeId,
}

/// Regexes over bytes, ASCII classes: invalid UTF-8 is matched as bytes.
fn ascii_bytes() -> syntax::Config {
    syntax::Config::new().unicode(false).utf8(false)
}

/// What the caller knows about the haystack.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ctx {
    /// The value of a field named like a version: IPv4-shaped values stay.
    pub version_field: bool,
}

/// What a search saw besides its hits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Found {
    /// A private key starts in the haystack and does not end there.
    pub pem_open: bool,
    /// Some detector's candidate matched (validated or not).
    pub candidates: bool,
    /// A named field's candidate matched (a secret, phone or identity word
    /// before `=`/`:`).
    pub key_candidates: bool,
}

/// Per-thread scratch space, so the fast path allocates nothing.
#[derive(Debug)]
pub struct Scratch {
    /// Where the last `find`'s candidates started, in order.
    pub starts: Vec<usize>,
    first: meta::Cache,
    set: meta::Cache,
    patset: PatternSet,
    /// Per detector: its own regex's cache and captures.
    caches: Vec<meta::Cache>,
    caps: Vec<Captures>,
    /// Secret pairs left alone because `--allow-key` named their key.
    pub allowed_keys: u64,
    /// The last `find` ended at a YAML secret key whose value is on the next
    /// lines: the key's column and the type to report.
    pub open_value: Option<(usize, TypeId)>,
}

/// All detectors, their combined set, and the PEM end marker.
#[derive(Debug)]
pub struct Matcher {
    /// Leftmost-first over all candidates: the scanning pass.
    first: meta::Regex,
    /// All matches at one position: consulted only after a rejection.
    set: meta::Regex,
    detectors: Vec<Detector>,
    pem_end: Regex,
    ipv4: Option<TypeId>,
    /// `--allow-key`: key names (whole, case-insensitive) whose values stay.
    allow_keys: Option<Regex>,
    pool: std::sync::Mutex<Vec<Scratch>>,
}

impl Matcher {
    pub fn new(detectors: Vec<Detector>, allow_keys: Option<Regex>) -> Result<Matcher> {
        let patterns: Vec<&str> = detectors.iter().map(|d| d.candidate.as_str()).collect();
        let set = meta::Regex::builder()
            .configure(
                meta::Config::new()
                    .match_kind(MatchKind::All)
                    .utf8_empty(false)
                    // The combined DFA is big; a small cache thrashes (re-determinizing dominates).
                    .hybrid_cache_capacity(32 << 20),
            )
            .syntax(ascii_bytes())
            .build_many(&patterns)
            .map_err(|e| Error::usage(format!("cannot build the combined matcher: {e}")))?;
        let first = meta::Regex::builder()
            .configure(
                meta::Config::new()
                    .utf8_empty(false)
                    .hybrid_cache_capacity(32 << 20),
            )
            .syntax(ascii_bytes())
            .build_many(&patterns)
            .map_err(|e| Error::usage(format!("cannot build the combined matcher: {e}")))?;
        let pem_end = Regex::new(r"-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----")
            .map_err(|e| Error::new(e.to_string()))?;
        let ipv4 = detectors
            .iter()
            .find(|d| d.check == Check::Ipv4)
            .map(|d| d.ty);
        Ok(Matcher {
            first,
            set,
            detectors,
            pem_end,
            ipv4,
            allow_keys,
            pool: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Scratch space, warm if an earlier input returned some: the lazy DFA
    /// caches it holds take a while to fill, so files should not each start cold.
    pub fn scratch(&self) -> Scratch {
        let pooled = match self.pool.lock() {
            Ok(mut pool) => pool.pop(),
            Err(poisoned) => poisoned.into_inner().pop(),
        };
        pooled.unwrap_or_else(|| self.fresh_scratch())
    }

    /// Gives scratch space back for the next input.
    pub fn recycle(&self, scratch: Scratch) {
        match self.pool.lock() {
            Ok(mut pool) => pool.push(scratch),
            Err(poisoned) => poisoned.into_inner().push(scratch),
        }
    }

    fn fresh_scratch(&self) -> Scratch {
        Scratch {
            starts: Vec::new(),
            first: self.first.create_cache(),
            set: self.set.create_cache(),
            patset: PatternSet::new(self.detectors.len()),
            caches: self
                .detectors
                .iter()
                .map(|d| d.regex.create_cache())
                .collect(),
            caps: self
                .detectors
                .iter()
                .map(|d| d.regex.create_captures())
                .collect(),
            allowed_keys: 0,
            open_value: None,
        }
    }

    /// The type a field kind reports, when a detector of it is selected.
    pub fn field_type(&self, field: keys::Field) -> Option<TypeId> {
        self.detectors
            .iter()
            .find(|d| d.check.field() == Some(field))
            .map(|d| d.ty)
    }

    /// True when `--allow-key` names this key.
    pub fn key_allowed(&self, name: &[u8]) -> bool {
        self.allow_keys.as_ref().is_some_and(|r| r.is_match(name))
    }

    /// Appends validated hits in `hay` to `out` (unsorted, may overlap).
    pub fn find(&self, hay: &[u8], ctx: Ctx, s: &mut Scratch, out: &mut Vec<Hit>) -> Found {
        let mut pem_open = false;
        let mut candidates = false;
        let mut key_candidates = false;
        s.starts.clear();
        s.open_value = None;
        let mut at = 0;
        // One leftmost-first pass over all candidate regexes, like a grep
        // with an alternation; only candidates are validated.
        while at < hay.len() {
            let input = Input::new(hay).range(at..);
            let Some(m) = self.first.search_with(&mut s.first, &input) else {
                break;
            };
            candidates = true;
            let (start, pid) = (m.start(), m.pattern().as_usize());
            s.starts.push(start);
            key_candidates |= self.detectors[pid].check.field().is_some();
            if let Some(end) =
                self.try_at(pid, hay, start, Some(m.end()), ctx, s, out, &mut pem_open)
            {
                // Past the finding: what lies inside it is scrubbed with it
                // (and a match starting inside, like the `@host` of a URL's
                // password, would only stretch the scrubbed span).
                at = m.end().max(end).max(start + 1);
                continue;
            }
            // A rejected candidate may hide another type's candidate at the
            // same start (alternation picks one), or one starting inside it.
            // Leftmost-first picked the first pattern in order that matches
            // here, so only later ones can: none after the last (IPv4, the
            // most frequent look-alike: versions).
            if pid + 1 == self.detectors.len() {
                at = start + 1;
                continue;
            }
            s.patset.clear();
            let anchored = Input::new(hay).range(start..).anchored(Anchored::Yes);
            self.set
                .which_overlapping_matches_with(&mut s.set, &anchored, &mut s.patset);
            for q in pid + 1..self.detectors.len() {
                if s.patset.contains(PatternID::new_unchecked(q)) {
                    key_candidates |= self.detectors[q].check.field().is_some();
                    self.try_at(q, hay, start, None, ctx, s, out, &mut pem_open);
                }
            }
            at = start + 1;
        }
        Found {
            pem_open,
            candidates,
            key_candidates,
        }
    }

    /// Runs detector `i` at `start` (where the combined search saw it
    /// match); validates and records the hit. Returns the finding's end.
    /// `end`: where the combined pass's match ended, when it was this detector's.
    #[allow(clippy::too_many_arguments)]
    fn try_at(
        &self,
        i: usize,
        hay: &[u8],
        start: usize,
        end: Option<usize>,
        ctx: Ctx,
        s: &mut Scratch,
        out: &mut Vec<Hit>,
        pem_open: &mut bool,
    ) -> Option<usize> {
        let d = &self.detectors[i];
        if ctx.version_field && Some(d.ty) == self.ipv4 {
            return None;
        }
        if let Some(field) = d.check.field() {
            let pair = pairs::named_pair(hay, start, field)?;
            if self.key_allowed(&hay[pair.key]) {
                s.allowed_keys += 1;
                return None;
            }
            if let Some(col) = pair.open {
                s.open_value = Some((col, d.ty));
                return Some(pair.value.end);
            }
            out.push(Hit {
                start: pair.value.start,
                end: pair.value.end,
                ty: d.ty,
            });
            return Some(pair.value.end);
        }
        if matches!(d.check, Check::SecretOption | Check::ToolPassword) {
            let value = if d.check == Check::SecretOption {
                cmdline::option_value(hay, start)?
            } else {
                cmdline::tool_password(hay, start)?
            };
            out.push(Hit {
                start: value.start,
                end: value.end,
                ty: d.ty,
            });
            // Not past the value: a tool's options before it (`-h 10.0.0.5`)
            // are scanned as usual.
            return Some(start + 1);
        }
        let begin = match d.anchor {
            Anchor::Start => start,
            Anchor::LocalLeft if quoted_local_start(hay, start).is_some() => {
                quoted_local_start(hay, start).unwrap_or(start)
            }
            Anchor::LocalLeft => {
                let mut b = local_part_start(hay, start);
                b += escape_letters(hay, b, start);
                while b < start && !(hay[b].is_ascii_alphanumeric() || hay[b] >= 0x80) {
                    b += 1;
                }
                if b == start {
                    return None;
                }
                b
            }
            Anchor::HexLeft => {
                let mut b = scan_left(hay, start, 40, |b| b.is_ascii_hexdigit() || b == b':');
                // A lone `:` before the address belongs to what precedes it.
                while b < start && hay[b] == b':' && hay.get(b + 1) != Some(&b':') {
                    b += 1;
                }
                b
            }
            Anchor::SchemeLeft => {
                let mut b = scan_left(hay, start, 21, |b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-')
                });
                while b < start && !hay[b].is_ascii_alphabetic() {
                    b += 1;
                }
                if b == start {
                    return None;
                }
                b
            }
        };
        let captures = d.check.needs_captures() || d.group > 0;
        let span = if let (Anchor::Start, Some(end), false, true) =
            (d.anchor, end, captures, d.candidate == d.pattern)
        {
            // The combined leftmost-first match at `start` is this pattern's
            // own match there: no second search.
            self.validate(d, hay, start..end).map(|(r, open)| {
                *pem_open |= open;
                r
            })
        } else {
            // The detector's own match, anchored where it must begin, has to
            // reach past where the candidate started. A built-in's captured
            // credential is searched in a window (the rest of an
            // `Authorization: Digest …` line: many headers on one long line
            // stay linear).
            let stop = if d.check == Check::FirstGroup {
                hay.len().min(begin + FIRST_GROUP_WINDOW)
            } else {
                hay.len()
            };
            let input = Input::new(hay).range(begin..stop).anchored(Anchored::Yes);
            if captures {
                let caps = &mut s.caps[i];
                d.regex.search_captures_with(&mut s.caches[i], &input, caps);
                match caps.get_match() {
                    Some(m) if m.end() > start => self.validate_captures(d, hay, caps),
                    _ => None,
                }
            } else {
                match d.regex.search_with(&mut s.caches[i], &input) {
                    Some(m) if m.end() > start => {
                        self.validate(d, hay, m.range()).map(|(r, open)| {
                            *pem_open |= open;
                            r
                        })
                    }
                    _ => None,
                }
            }
        };
        match span {
            Some(r) if r.end > r.start => {
                out.push(Hit {
                    start: r.start,
                    end: r.end,
                    ty: d.ty,
                });
                Some(r.end)
            }
            _ => None,
        }
    }

    fn validate_captures(&self, d: &Detector, hay: &[u8], caps: &Captures) -> Option<Range<usize>> {
        match d.check {
            // A credential that is already scrubbed is no finding (the
            // rest of an `Authorization: Digest …` line is taken whole).
            Check::FirstGroup => (1..caps.group_len())
                .find_map(|g| caps.get_group(g))
                .map(|sp| sp.range())
                .filter(|r| !validate::is_placeholder(&hay[r.clone()])),
            _ => {
                let sp = caps.get_group(d.group)?;
                self.validate(d, hay, sp.range()).map(|(r, _)| r)
            }
        }
    }

    fn validate(
        &self,
        d: &Detector,
        hay: &[u8],
        span: Range<usize>,
    ) -> Option<(Range<usize>, bool)> {
        let r = match d.check {
            Check::None
            | Check::FirstGroup
            | Check::SecretValue
            | Check::PhoneField
            | Check::IdentityField
            | Check::SecretOption
            | Check::ToolPassword => Some(span),
            Check::UrlCredentials => validate::url_credentials(hay, span),
            Check::Email => validate::email(hay, span),
            Check::Phone => validate::phone(hay, span),
            Check::Ipv4 => validate::ipv4(hay, span),
            Check::Ipv6 => validate::ipv6(hay, span),
            Check::Card => validate::card(hay, span),
            Check::Ssn => validate::ssn(hay, span),
            Check::Iban => validate::iban(hay, span),
            Check::Jwt => validate::jwt(hay, span),
            Check::Luhn => {
                let digits: Vec<u8> = hay[span.clone()]
                    .iter()
                    .copied()
                    .filter(u8::is_ascii_digit)
                    .collect();
                validate::luhn(&digits).then_some(span)
            }
            Check::Mod97 => {
                let chars: Vec<u8> = hay[span.clone()]
                    .iter()
                    .copied()
                    .filter(|b| *b != b' ')
                    .collect();
                validate::iban_mod97(&chars).then_some(span)
            }
            Check::PrivateKey => {
                // Through the END marker if this haystack has it; otherwise
                // everything to the end (fail closed) and the block stays open.
                return Some(match self.pem_end.find_at(hay, span.end) {
                    Some(m) => (span.start..m.end(), false),
                    None => (span.start..hay.len(), true),
                });
            }
        };
        r.map(|r| (r, false))
    }

    /// The IPv4 type, if selected (version-named fields skip it).
    pub fn ipv4_type(&self) -> Option<TypeId> {
        self.ipv4
    }

    /// True when `line` holds a PEM private-key END marker; returns its end.
    pub fn pem_end(&self, line: &[u8]) -> Option<usize> {
        self.pem_end.find(line).map(|m| m.end())
    }
}

/// Where an email's local part ending at `at` (its `@`) starts: at most 64
/// bytes of ASCII letters, digits and `._%+-`, and non-ASCII letters
/// (`josé.garcía@`; a Latin-1 byte that is not UTF-8 counts as one).
fn local_part_start(hay: &[u8], at: usize) -> usize {
    let lo = at.saturating_sub(64);
    let mut b = at;
    while b > lo {
        let c = hay[b - 1];
        if c < 0x80 {
            if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-') {
                b -= 1;
                continue;
            }
            // Other RFC 5322 characters (`o'brien@`, `x!y#z@`) only between
            // letters or digits: before an address they are delimiters
            // (`'bob@…'`, `$bob@`). `=`, `/`, `?`, `&`, `{`, `}`, `|` always
            // are (`email=bob@…`, `/u/bob@…`, `?to=bob@…`).
            let word = |x: u8| x.is_ascii_alphanumeric() || x >= 0x80;
            if matches!(c, b'\'' | b'!' | b'#' | b'$' | b'*' | b'^' | b'~')
                && b >= 2
                && b - 2 >= lo
                && word(hay[b - 2])
                && b < at
                && word(hay[b])
            {
                b -= 1;
                continue;
            }
            break;
        }
        let (s, word) = validate::non_ascii_before(hay, b);
        if !word || s < lo {
            break;
        }
        b = s;
    }
    b
}

/// `"john doe"@example.com`: a quoted local part ending right before the
/// `@` at `at`, with a boundary before its opening quote; where it starts.
fn quoted_local_start(hay: &[u8], at: usize) -> Option<usize> {
    if at < 3 || hay[at - 1] != b'"' {
        return None;
    }
    let lo = (at - 1).saturating_sub(65);
    let open = memchr::memrchr(b'"', &hay[lo..at - 1])? + lo;
    let inside = &hay[open + 1..at - 1];
    let clean = !inside.is_empty()
        && !inside
            .iter()
            .any(|&b| matches!(b, b'\\' | b'\r' | b'\n' | b'\t'));
    let boundary = open == 0 || matches!(hay[open - 1], b' ' | b'\t' | b'<' | b':' | b'(' | b',');
    (clean && boundary).then_some(open)
}

/// The letters of an escape that a run starting at `b` (right after a `\\`)
/// begins with: `\n`, `\t`, `\r`, `\xXX`, `\uXXXX`. They belong to the
/// escape, not to a word (`\u0022bob@acme.com` is `"bob@acme.com`).
fn escape_letters(hay: &[u8], b: usize, end: usize) -> usize {
    if b == 0 || hay[b - 1] != b'\\' {
        return 0;
    }
    let hex = |n: usize| {
        hay.get(b + 1..b + 1 + n)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    };
    let n = match hay[b] {
        b'n' | b'r' | b't' => 1,
        b'x' if hex(2) => 3,
        b'u' if hex(4) => 5,
        _ => 0,
    };
    n.min(end - b)
}

/// The first index of the run of `ok` bytes (at most `max`) ending at `end`.
fn scan_left(hay: &[u8], end: usize, max: usize, ok: impl Fn(u8) -> bool) -> usize {
    let lo = end.saturating_sub(max);
    let mut i = end;
    while i > lo && ok(hay[i - 1]) {
        i -= 1;
    }
    i
}

/// Sorts hits and merges overlapping ones (fail closed: the union is
/// scrubbed, named by the higher-priority type, i.e. the lower id).
pub fn resolve(hits: &mut Vec<Hit>) {
    if hits.len() < 2 {
        return;
    }
    hits.sort_unstable_by_key(|h| (h.start, h.ty, usize::MAX - h.end));
    let mut w = 0;
    for r in 1..hits.len() {
        let h = hits[r];
        let last = &mut hits[w];
        if h.start < last.end {
            last.end = last.end.max(h.end);
            last.ty = last.ty.min(h.ty);
        } else {
            w += 1;
            hits[w] = h;
        }
    }
    hits.truncate(w + 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps_merge_to_the_higher_priority_type() {
        let mut v = vec![
            Hit {
                start: 5,
                end: 9,
                ty: 3,
            },
            Hit {
                start: 0,
                end: 6,
                ty: 7,
            },
            Hit {
                start: 20,
                end: 22,
                ty: 1,
            },
        ];
        resolve(&mut v);
        assert_eq!(
            v,
            vec![
                Hit {
                    start: 0,
                    end: 9,
                    ty: 3
                },
                Hit {
                    start: 20,
                    end: 22,
                    ty: 1
                }
            ]
        );
    }
}
