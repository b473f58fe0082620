//! Validators: the checks that turn a regex candidate into a finding.
//!
//! The regexes are deliberately loose and ASCII-only (fast); precision comes
//! from here: checksums (Luhn, IBAN mod-97), ranges (IPv4 octets, SSN areas),
//! structure (a JWT header that decodes to JSON) and context (the bytes just
//! around the candidate, so `v1.2.3.4` or a digit run inside a longer number
//! are left alone). Each takes the haystack and a candidate span and returns
//! the span to scrub, which may be narrower, or `None`.

use std::net::Ipv6Addr;
use std::ops::Range;

use base64::Engine as _;

fn at(hay: &[u8], i: usize) -> u8 {
    hay.get(i).copied().unwrap_or(b' ')
}

fn before(hay: &[u8], start: usize) -> u8 {
    if start == 0 {
        b' '
    } else {
        at(hay, start - 1)
    }
}

/// True when the candidate touches a longer run of digits or dotted numbers
/// on either side (`12.1.2.3.4`, `x-415-555-2671-9`), so it is a piece of
/// something else.
fn glued_to_number(hay: &[u8], span: &Range<usize>) -> bool {
    let prev = before(hay, span.start);
    let next = at(hay, span.end);
    if prev.is_ascii_alphanumeric() || next.is_ascii_alphanumeric() {
        return true;
    }
    let prev2 = if span.start >= 2 {
        at(hay, span.start - 2)
    } else {
        b' '
    };
    let next2 = at(hay, span.end + 1);
    (matches!(prev, b'.' | b'-') && prev2.is_ascii_digit())
        || (matches!(next, b'.' | b'-') && next2.is_ascii_digit())
}

/// Luhn checksum over ASCII digits.
pub fn luhn(digits: &[u8]) -> bool {
    if digits.len() < 2 {
        return false;
    }
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    // Not `is_multiple_of`: the workspace's rust-version (1.80) predates it.
    #[allow(clippy::manual_is_multiple_of)]
    let ok = sum % 10 == 0;
    ok
}

/// Known card prefixes and their lengths (Visa, Mastercard, Amex, Discover,
/// Diners, JCB, UnionPay, Maestro).
fn card_brand_ok(d: &[u8]) -> bool {
    let n = d.len();
    let p = |k: usize| -> u32 {
        d[..k.min(n)]
            .iter()
            .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'))
    };
    match d[0] {
        b'4' => matches!(n, 13 | 16 | 19),
        b'5' => {
            (51..=55).contains(&p(2)) && n == 16
                || (p(2) == 50 || (56..=58).contains(&p(2))) && (12..=19).contains(&n)
        }
        b'2' => (2221..=2720).contains(&p(4)) && n == 16,
        b'3' => {
            (matches!(p(2), 34 | 37) && n == 15)
                || ((300..=305).contains(&p(3)) || matches!(p(2), 36 | 38 | 39))
                    && (14..=19).contains(&n)
                || (3528..=3589).contains(&p(4)) && (16..=19).contains(&n)
        }
        b'6' => {
            (p(4) == 6011 || p(2) == 65 || (644..=649).contains(&p(3)) || p(2) == 62 || p(2) == 67)
                && (16..=19).contains(&n)
        }
        _ => false,
    }
}

fn card_digits_ok(hay: &[u8], span: &Range<usize>) -> bool {
    let s = &hay[span.clone()];
    let mut sep = None;
    let mut digits = [0u8; 19];
    let mut n = 0;
    for &b in s {
        if b.is_ascii_digit() {
            if n == 19 {
                return false;
            }
            digits[n] = b;
            n += 1;
        } else {
            // Mixed separators (`4111 1111-1111`) are not how cards are written.
            match sep {
                None => sep = Some(b),
                Some(c) if c != b => return false,
                _ => {}
            }
        }
    }
    (13..=19).contains(&n) && card_brand_ok(&digits[..n]) && luhn(&digits[..n])
}

/// A card number: 13–19 digits, one kind of separator, a known prefix, Luhn.
/// A run that glues a card to a neighbouring number (`qty 2 4111 1111 ...`) is
/// retried on its separator boundaries.
pub fn card(hay: &[u8], span: Range<usize>) -> Option<Range<usize>> {
    if glued_to_number(hay, &span) {
        return None;
    }
    if card_digits_ok(hay, &span) {
        return Some(span);
    }
    let s = &hay[span.clone()];
    if s.iter().all(u8::is_ascii_digit) {
        return None; // no separator to cut at (an order number, most often)
    }
    let mut cuts = vec![0usize];
    for (i, &b) in s.iter().enumerate() {
        if !b.is_ascii_digit() {
            cuts.push(i);
            cuts.push(i + 1);
        }
    }
    cuts.push(s.len());
    let starts: Vec<usize> = cuts.iter().copied().step_by(2).collect();
    let ends: Vec<usize> = cuts.iter().copied().skip(1).step_by(2).collect();
    for &a in &starts {
        for &b in ends.iter().rev() {
            if b > a {
                let sub = span.start + a..span.start + b;
                if card_digits_ok(hay, &sub) {
                    return Some(sub);
                }
            }
        }
    }
    None
}

/// US SSN `AAA-GG-SSSS`: area not 000, 666 or 9xx; group not 00; serial not 0000.
pub fn ssn(hay: &[u8], span: Range<usize>) -> Option<Range<usize>> {
    if glued_to_number(hay, &span) {
        return None;
    }
    let s = &hay[span.clone()];
    if s.len() != 11 {
        return None;
    }
    let area = &s[0..3];
    let group = &s[4..6];
    let serial = &s[7..11];
    if area == b"000" || area == b"666" || area[0] == b'9' || group == b"00" || serial == b"0000" {
        return None;
    }
    Some(span)
}

/// IBAN lengths by country (ISO 13616 registry).
fn iban_length(cc: &[u8]) -> Option<usize> {
    const TABLE: &[(&[u8; 2], usize)] = &[
        (b"AD", 24),
        (b"AE", 23),
        (b"AL", 28),
        (b"AT", 20),
        (b"AZ", 28),
        (b"BA", 20),
        (b"BE", 16),
        (b"BG", 22),
        (b"BH", 22),
        (b"BR", 29),
        (b"BY", 28),
        (b"CH", 21),
        (b"CR", 22),
        (b"CY", 28),
        (b"CZ", 24),
        (b"DE", 22),
        (b"DK", 18),
        (b"DO", 28),
        (b"EE", 20),
        (b"EG", 29),
        (b"ES", 24),
        (b"FI", 18),
        (b"FO", 18),
        (b"FR", 27),
        (b"GB", 22),
        (b"GE", 22),
        (b"GI", 23),
        (b"GL", 18),
        (b"GR", 27),
        (b"GT", 28),
        (b"HR", 21),
        (b"HU", 28),
        (b"IE", 22),
        (b"IL", 23),
        (b"IQ", 23),
        (b"IS", 26),
        (b"IT", 27),
        (b"JO", 30),
        (b"KW", 30),
        (b"KZ", 20),
        (b"LB", 28),
        (b"LC", 32),
        (b"LI", 21),
        (b"LT", 20),
        (b"LU", 20),
        (b"LV", 21),
        (b"MC", 27),
        (b"MD", 24),
        (b"ME", 22),
        (b"MK", 19),
        (b"MR", 27),
        (b"MT", 31),
        (b"MU", 30),
        (b"NL", 18),
        (b"NO", 15),
        (b"PK", 24),
        (b"PL", 28),
        (b"PS", 29),
        (b"PT", 25),
        (b"QA", 29),
        (b"RO", 24),
        (b"RS", 22),
        (b"SA", 24),
        (b"SC", 31),
        (b"SE", 24),
        (b"SI", 19),
        (b"SK", 24),
        (b"SM", 27),
        (b"ST", 25),
        (b"SV", 28),
        (b"TL", 23),
        (b"TN", 24),
        (b"TR", 26),
        (b"UA", 29),
        (b"VA", 22),
        (b"VG", 24),
        (b"XK", 20),
    ];
    TABLE
        .iter()
        .find(|(c, _)| c.as_slice() == cc)
        .map(|(_, n)| *n)
}

/// IBAN mod-97 over the rearranged, letter-expanded string.
pub fn iban_mod97(chars: &[u8]) -> bool {
    if chars.len() < 5 {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'a'..=b'z' => u32::from(c - b'a') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// IBAN: the country's exact length (spaces allowed every 4) and mod-97.
pub fn iban(hay: &[u8], span: Range<usize>) -> Option<Range<usize>> {
    if before(hay, span.start).is_ascii_alphanumeric() {
        return None;
    }
    let s = &hay[span.clone()];
    let want = iban_length(&s[..2])?;
    let mut chars = Vec::with_capacity(34);
    let mut end = None;
    for (i, &b) in s.iter().enumerate() {
        if b == b' ' {
            continue;
        }
        chars.push(b);
        if chars.len() == want {
            end = Some(i + 1);
            break;
        }
    }
    let end = span.start + end?;
    if at(hay, end).is_ascii_alphanumeric() || !iban_mod97(&chars) {
        return None;
    }
    Some(span.start..end)
}

/// Dotted quad with octets 0–255, no leading zeros, and not in a version
/// context (`v1.2.3.4`, `version 1.2.3.4`, `Chrome/120.0.0.0`, `1.2.3.4-rc1`).
pub fn ipv4(hay: &[u8], span: Range<usize>) -> Option<Range<usize>> {
    if glued_to_number(hay, &span) {
        return None;
    }
    for part in hay[span.clone()].split(|&b| b == b'.') {
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        let v = part.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
        if v > 255 {
            return None;
        }
    }
    if version_context(hay, span.start) || debian_relation(hay, span.start) {
        return None;
    }
    if prerelease_suffix(hay, span.end) {
        return None;
    }
    Some(span)
}

/// `-rc1`, `+git20240101`, `-beta.2`: a version's pre-release or build
/// label right after the dotted quad (`1.2.3.4-rc1`). Only known labels:
/// any other word (`10.0.0.5-admin`, `10.0.0.7+eu`) leaves an address an
/// address.
fn prerelease_suffix(hay: &[u8], end: usize) -> bool {
    const LABELS: [&[u8]; 16] = [
        b"rc",
        b"alpha",
        b"beta",
        b"pre",
        b"dev",
        b"snapshot",
        b"git",
        b"build",
        b"nightly",
        b"ubuntu",
        b"deb",
        b"el",
        b"fc",
        b"dfsg",
        b"post",
        b"b",
    ];
    let next = at(hay, end);
    if next != b'-' && next != b'+' {
        return false;
    }
    let tail = &hay[(end + 1).min(hay.len())..];
    let word = &tail[..tail
        .iter()
        .take(16)
        .take_while(|b| b.is_ascii_alphabetic())
        .count()];
    let rest = at(hay, end + 1 + word.len());
    // The label ends the token or runs into its number (`rc1`, `beta.2`).
    let label_ends = !rest.is_ascii_alphanumeric() || rest.is_ascii_digit();
    label_ends && LABELS.iter().any(|l| l.eq_ignore_ascii_case(word))
}

/// A version in a Debian dependency relation, `(>= 2:1.4.99.1)` or
/// `(<< 0.99.7.1)`: apt's eipp.log lists thousands (issue: 31 four-part
/// versions there were read as addresses). The operator and `(` must be
/// there; an epoch alone (`retry 2:10.0.0.6`) is not enough.
fn debian_relation(hay: &[u8], start: usize) -> bool {
    let left = &hay[start.saturating_sub(16)..start];
    // An epoch: digits and `:`.
    let mut end = left.len();
    if left.last() == Some(&b':') {
        let digits = left[..end - 1]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return false;
        }
        end -= digits + 1;
    }
    let left = &left[..end];
    let left = &left[..left.len() - left.iter().rev().take_while(|&&b| b == b' ').count()];
    [&b"(>="[..], b"(<=", b"(=", b"(<<", b"(>>"]
        .iter()
        .any(|op| left.ends_with(op))
}

/// Looks left of `start` for a version marker: a product token (`name/`), or
/// a word like `version`, `ver`, `release`, `build` before separators.
pub fn version_context(hay: &[u8], start: usize) -> bool {
    let lo = start.saturating_sub(24);
    let left = &hay[lo..start];
    if let Some((&b'/', rest)) = left.split_last() {
        if rest.last().is_some_and(|c| c.is_ascii_alphanumeric()) {
            return true;
        }
    }
    let trimmed_len = left
        .iter()
        .rposition(|c| !matches!(c, b' ' | b'\t' | b':' | b'=' | b'"' | b'\'' | b'\\'))
        .map_or(0, |i| i + 1);
    let word_start = left[..trimmed_len]
        .iter()
        .rposition(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-'))
        .map_or(0, |i| i + 1);
    let word = &left[word_start..trimmed_len];
    if word.is_empty() {
        return false;
    }
    // Compared without allocating: this runs for every dotted quad.
    let ends_with =
        |m: &[u8]| word.len() >= m.len() && word[word.len() - m.len()..].eq_ignore_ascii_case(m);
    const MARKERS: &[&[u8]] = &[
        b"version",
        b"ver",
        b"release",
        b"build",
        b"rev",
        b"revision",
        b"firmware",
        b"fw",
        b"sdk",
        b"v",
    ];
    MARKERS.iter().any(|m| {
        ends_with(m)
            && (word.len() == m.len()
                || !word[word.len() - m.len() - 1].is_ascii_alphabetic()
                || ends_with(b"version"))
    })
}

/// IPv6 in any compressed form, checked by the standard parser, with clean
/// edges so `std::vector` or `a::b` paths are not addresses.
pub fn ipv6(hay: &[u8], span: Range<usize>) -> Option<Range<usize>> {
    let prev = before(hay, span.start);
    let next = at(hay, span.end);
    if prev.is_ascii_alphanumeric() || matches!(prev, b':' | b'.' | b'_') {
        return None;
    }
    // `B2::B2()`, `iarr(::1)`, `a[::2]`, `T<0>::f<int>`: a call, an array
    // section, a slice, a template.
    if next.is_ascii_alphanumeric() || matches!(next, b':' | b'_' | b'(' | b'<') {
        return None;
    }
    let prev2 = if span.start >= 2 {
        at(hay, span.start - 2)
    } else {
        b' '
    };
    if matches!(prev, b'(' | b'[') && (prev2.is_ascii_alphanumeric() || prev2 == b'_') {
        return None;
    }
    let s = &hay[span.clone()];
    let addr_part = match s.iter().position(|&b| b == b'%') {
        Some(i) => &s[..i],
        None => s,
    };
    let text = std::str::from_utf8(addr_part).ok()?;
    let addr: Ipv6Addr = text.parse().ok()?;
    if addr.is_unspecified() {
        return None;
    }
    // Below ::/8 only the loopback and IPv4 forms are in use (`::1`,
    // `::ffff:10.1.2.3`, `::10.1.2.3`); `::128` is an option's value and
    // `>::C12` a C++ scope.
    if addr.segments()[0] == 0
        && !addr.is_loopback()
        && addr.to_ipv4_mapped().is_none()
        && !addr_part.contains(&b'.')
    {
        return None;
    }
    // `ab::cd`-style two-word tokens are far more often code than addresses.
    let hex_digits = addr_part.iter().filter(|b| b.is_ascii_hexdigit()).count();
    let has_digit = addr_part.iter().any(|b| b.is_ascii_digit());
    if hex_digits < 3 && !addr.is_loopback() || !has_digit && hex_digits < 8 {
        return None;
    }
    // An address is written in one case; `A1::a` is C++ (`A1::a`, `B2::B2`).
    let upper = addr_part.iter().any(u8::is_ascii_uppercase);
    let lower = addr_part.iter().any(u8::is_ascii_lowercase);
    if upper && lower {
        return None;
    }
    // `X1::y2`: two short words around `::` are a scope, not `fe80::1`.
    let groups: Vec<&[u8]> = addr_part.split(|&b| b == b':').collect();
    if groups.len() == 3 && groups[1].is_empty() && groups[0].len() < 3 && !groups[0].is_empty() {
        return None;
    }
    Some(span)
}

/// Phone numbers: `+` forms need 8–15 digits (E.164); national forms come
/// from the regex's separators. A digit or dotted number glued on either side
/// means it is part of something else (a timestamp, a version, an id).
pub fn phone(hay: &[u8], span: Range<usize>) -> Option<Range<usize>> {
    let s = &hay[span.clone()];
    let digits = s.iter().filter(|b| b.is_ascii_digit()).count();
    let prev = before(hay, span.start);
    let next = at(hay, span.end);
    if prev.is_ascii_alphanumeric() || next.is_ascii_alphanumeric() || matches!(prev, b'+' | b'_') {
        return None;
    }
    let prev2 = if span.start >= 2 {
        at(hay, span.start - 2)
    } else {
        b' '
    };
    if (matches!(prev, b'.' | b'-' | b'/' | b':') && prev2.is_ascii_digit())
        || (matches!(next, b'.' | b'-' | b'/' | b':') && at(hay, span.end + 1).is_ascii_digit())
    {
        return None;
    }
    let opens = s.iter().filter(|&&b| b == b'(').count();
    let closes = s.iter().filter(|&&b| b == b')').count();
    if opens != closes {
        return None;
    }
    if s.first() == Some(&b'+') {
        if !(8..=15).contains(&digits) {
            return None;
        }
    } else if !(10..=11).contains(&digits) {
        return None;
    }
    Some(span)
}

/// The value of a phone-named field (`"phone":"4155552671"`,
/// `"msisdn":491701234567`, `phone=+49 30 901820`): 7-15 digits, with
/// nothing but a leading `+` and phone punctuation (blanks, `-`, `.`, `/`,
/// balanced parentheses) among them.
pub fn phone_value(v: &[u8]) -> bool {
    let v = v.trim_ascii();
    let body = v.strip_prefix(b"+").unwrap_or(v);
    let digits = body.iter().filter(|b| b.is_ascii_digit()).count();
    let opens = body.iter().filter(|&&b| b == b'(').count();
    let closes = body.iter().filter(|&&b| b == b')').count();
    (7..=15).contains(&digits)
        && opens == closes
        && body
            .first()
            .is_some_and(|b| b.is_ascii_digit() || *b == b'(')
        && body
            .iter()
            .all(|&b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'/' | b'(' | b')'))
}

/// The value of an identity field (`first_name`, `dob`, `passport`): any
/// text but nothing at all, a placeholder, or a word saying there is none.
pub fn identity_value(v: &[u8]) -> bool {
    let v = v.trim_ascii();
    const NONE: &[&[u8]] = &[
        b"n/a", b"na", b"unknown", b"missing", b"empty", b"none", b"?",
    ];
    !is_placeholder(v) && !NONE.iter().any(|w| w.eq_ignore_ascii_case(v))
}

/// File extensions that look like top-level domains in `icon@2x.png`, and
/// systemd unit types (`getty@tty1.service`, `user@1000.slice`).
const NOT_TLDS: &[&[u8]] = &[
    b"png",
    b"jpg",
    b"jpeg",
    b"gif",
    b"svg",
    b"webp",
    b"ico",
    b"css",
    b"js",
    b"json",
    b"html",
    b"htm",
    b"txt",
    b"log",
    b"xml",
    b"map",
    b"woff",
    b"woff2",
    b"ttf",
    b"service",
    b"socket",
    b"target",
    b"timer",
    b"mount",
    b"automount",
    b"path",
    b"slice",
    b"scope",
    b"device",
    b"swap",
];

/// Letters and digits of any script (and combining accents) may be part of
/// an address; punctuation and spaces may not.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || ('\u{300}'..='\u{36F}').contains(&c)
}

/// The non-ASCII character ending at `end`: where it starts and whether it
/// is a letter or digit. A byte that is not UTF-8 (Latin-1 `é`) counts as a
/// letter on its own: more is scrubbed, not less.
pub fn non_ascii_before(hay: &[u8], end: usize) -> (usize, bool) {
    let lo = end.saturating_sub(4);
    let mut s = end - 1;
    while s > lo && (0x80..0xC0).contains(&hay[s]) {
        s -= 1;
    }
    match std::str::from_utf8(&hay[s..end]) {
        Ok(t) => {
            let mut chars = t.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => (s, is_word_char(c)),
                _ => (end - 1, true),
            }
        }
        Err(_) => (end - 1, true),
    }
}

/// An email's end, with non-ASCII punctuation glued to it (`…@x.рф»`,
/// `…@acme.com—`) given back; `None` if no letter TLD is left.
fn email_end(hay: &[u8], span: &Range<usize>) -> Option<usize> {
    let mut end = span.end;
    while end > span.start && hay[end - 1] >= 0x80 {
        let (s, word) = non_ascii_before(hay, end);
        if word {
            break;
        }
        end = s;
    }
    let s = &hay[span.start..end];
    let tld = s.rsplit(|&b| b == b'.').next()?;
    let letters = std::str::from_utf8(tld).ok().map_or(tld.len(), |t| {
        t.chars().filter(|&c| c.is_alphabetic()).count()
    });
    (letters >= 2 && tld.len() < s.len()).then_some(end)
}

/// Email: sane local part and domain, a letter TLD that is not a file
/// extension, and not the `user:pass@` of a URL (its own detector).
/// Non-ASCII parts must be letters or digits (UTF-8 local parts, IDNs).
pub fn email(hay: &[u8], span: Range<usize>) -> Option<Range<usize>> {
    let span = span.start..email_end(hay, &span)?;
    let s = &hay[span.clone()];
    // The last `@`: a quoted local part may hold one (`"a@b"@example.com`).
    let at_pos = s.iter().rposition(|&b| b == b'@')?;
    let domain_ok = s[at_pos + 1..].utf8_chunks().all(|chunk| {
        chunk
            .valid()
            .chars()
            .all(|c| c.is_ascii() || is_word_char(c))
    });
    if !domain_ok {
        return None;
    }
    let (local, domain) = (&s[..at_pos], &s[at_pos + 1..]);
    let quoted = local.len() > 2 && local[0] == b'"' && local.ends_with(b"\"");
    if local.is_empty()
        || !quoted
            && (local[0] == b'.' || local.ends_with(b".") || local.windows(2).any(|w| w == b".."))
    {
        return None;
    }
    let tld = domain.rsplit(|&b| b == b'.').next()?;
    if NOT_TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld)) {
        return None;
    }
    if in_url_userinfo(hay, span.start) {
        return None;
    }
    Some(span)
}

/// True when `pos` lies in the `user:password` of a URL (`a@b` in
/// `amqp://svc:a@b@host`): that is [`url_credentials`]' finding, and its
/// `@host` is not an email's domain.
fn in_url_userinfo(hay: &[u8], pos: usize) -> bool {
    let lo = pos.saturating_sub(256);
    let left = &hay[lo..pos];
    let Some(i) = memchr::memmem::rfind(left, b"://").map(|i| lo + i) else {
        return false;
    };
    if hay[i..pos].iter().any(|b| b.is_ascii_whitespace()) {
        return false;
    }
    let user_end = i
        + 3
        + hay[i + 3..pos]
            .iter()
            .take_while(|b| {
                !matches!(
                    b,
                    b':' | b'/' | b'?' | b'#' | b'@' | b'"' | b'\'' | b'<' | b'>' | b'\\'
                )
            })
            .count();
    if hay.get(user_end) != Some(&b':') {
        return false;
    }
    url_credentials(hay, i..user_end + 1).is_some_and(|r| r.start <= pos && pos < r.end)
}

/// How far past `://` a URL with credentials is read (user, password and
/// host; the same bound as a pair's value, `pairs::LINE_VALUE_MAX`).
const URL_WINDOW: usize = 4096;

/// The `user:password` of `scheme://user:password@host`. `span` is the
/// candidate `scheme://user:`; the userinfo runs to the last `@` that is
/// followed by a host, whatever the password holds (`#`, `?`, `/`, `@`, `%`,
/// quotes): connection strings are logged as typed, not as RFC 3986 would
/// encode them. A `host:port/` is not a password.
pub fn url_credentials(hay: &[u8], span: Range<usize>) -> Option<Range<usize>> {
    let sep = memchr::memmem::find(&hay[span.clone()], b"://")? + span.start;
    let info = sep + 3;
    // The URL ends at whitespace, looked for no further than a bounded
    // window: scanning to the end of the token made a long token of
    // `://x-1.2.3.4-` repeats quadratic (each `://` rescanned the rest).
    let window = &hay[info..hay.len().min(info + URL_WINDOW)];
    let end = info
        + match (
            memchr::memchr3(b' ', b'\t', b'\n', window),
            memchr::memchr2(b'\r', 0x0c, window),
        ) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(window.len()),
        };
    let colon = span.end.checked_sub(1)?;
    if colon < info || colon >= end {
        return None;
    }
    let mut search = end;
    while let Some(at) = memchr::memrchr(b'@', &hay[colon..search]).map(|i| colon + i) {
        search = at;
        if host_follows(hay, at + 1, end) {
            let after = &hay[colon + 1..at];
            let port = after.iter().take_while(|b| b.is_ascii_digit()).count();
            if port > 0 && port <= 5 && matches!(after.get(port), Some(b'/' | b'?' | b'#')) {
                return None;
            }
            return Some(info..at);
        }
    }
    None
}

/// A host at `i` (a name, an IPv4 or a bracketed IPv6), then the end of the
/// URL or what may follow a host.
fn host_follows(hay: &[u8], i: usize, end: usize) -> bool {
    let rest = &hay[i..end];
    let n = if rest.first() == Some(&b'[') {
        match rest.iter().position(|&b| b == b']') {
            Some(j) if j > 1 => j + 1,
            _ => return false,
        }
    } else {
        rest.iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            .count()
    };
    if n == 0 || !rest[0].is_ascii_alphanumeric() && rest[0] != b'[' {
        return false;
    }
    match rest.get(n) {
        None => true,
        // `host:5432` or `host:` at the end.
        Some(b':') => matches!(rest.get(n + 1), None | Some(b'0'..=b'9' | b'/')),
        Some(c) => matches!(
            c,
            b'/' | b'?'
                | b'#'
                | b'"'
                | b'\\'
                | b'\''
                | b')'
                | b','
                | b';'
                | b']'
                | b'>'
                | b'}'
                | b'.'
        ),
    }
}

/// JWT: the header decodes (base64url) to a JSON object.
pub fn jwt(hay: &[u8], span: Range<usize>) -> Option<Range<usize>> {
    let s = &hay[span.clone()];
    let dot = s.iter().position(|&b| b == b'.')?;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&s[..dot])
        .ok()?;
    match serde_json::from_slice::<serde_json::Value>(&header) {
        Ok(serde_json::Value::Object(_)) => Some(span),
        _ => None,
    }
}

/// An HTTP authorization scheme whose credential is one word (`Bearer`,
/// `Basic`, `NTLM`, ...). Digest's is a list of parameters.
pub fn is_auth_scheme(v: &[u8]) -> bool {
    const SCHEMES: &[&[u8]] = &[
        b"bearer",
        b"basic",
        b"token",
        b"negotiate",
        b"apikey",
        b"ntlm",
    ];
    SCHEMES.iter().any(|w| w.eq_ignore_ascii_case(v))
}

/// `[REDACTED:secret]`, `[email:k1a2b3c4d:0123…]`, `[FILTERED]`: a
/// placeholder in brackets (letters, digits, `_`, `-`, `:` only).
fn is_bracketed_word(v: &[u8]) -> bool {
    let Some(inner) = v.strip_prefix(b"[") else {
        return false;
    };
    let close = inner.iter().position(|&b| b == b']').unwrap_or(inner.len());
    close > 0
        && inner[..close]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'))
}

/// Values that are already scrubbed or say nothing (`***`, `null`, our own
/// `[REDACTED:...]` and `[type:key:hash]` tokens), so scrubbing is idempotent.
pub fn is_placeholder(v: &[u8]) -> bool {
    if v.is_empty()
        || v.iter()
            .all(|&b| b == b'*' || b == b'x' || b == b'X' || b == b'.')
    {
        return true;
    }
    // Our own output: `[REDACTED:...]`, `[type:key:hash]`, masks with `****`;
    // and other tools' (`[FILTERED]`, `<hidden>`). A JSON array is a value.
    if is_bracketed_word(v)
        || v.starts_with(b"\\\"[")
        || v.starts_with(b"<")
        || memchr::memmem::find(v, b"****").is_some()
    {
        return true;
    }
    const WORDS: &[&[u8]] = &[
        b"null",
        b"none",
        b"nil",
        b"true",
        b"false",
        b"redacted",
        b"-",
        b"undefined",
        b"hidden",
        b"masked",
    ];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(s: &str) -> Range<usize> {
        0..s.len()
    }

    #[test]
    fn luhn_and_cards() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert!(card(b"4111 1111 1111 1111", whole("4111 1111 1111 1111")).is_some());
        assert!(card(b"378282246310005", whole("378282246310005")).is_some());
        assert!(card(b"4111-1111 1111-1111", whole("4111-1111 1111-1111")).is_none());
        let s = b"qty 2 4111 1111 1111 1111";
        assert_eq!(card(s, 4..s.len()), Some(6..s.len()));
        assert!(
            card(b"1234567812345670", whole("1234567812345670")).is_none(),
            "no brand"
        );
    }

    #[test]
    fn ibans() {
        assert!(iban_mod97(b"DE89370400440532013000"));
        assert!(!iban_mod97(b"DE89370400440532013001"));
        let s = b"DE89 3704 0044 0532 0130 00";
        assert_eq!(
            iban(s, whole("DE89 3704 0044 0532 0130 00")),
            Some(0..s.len())
        );
        assert_eq!(iban(b"GB82WEST12345698765432", 0..22), Some(0..22));
    }

    #[test]
    fn ssns() {
        assert!(ssn(b"123-45-6789", 0..11).is_some());
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "123-00-4567",
            "123-45-0000",
        ] {
            assert!(ssn(bad.as_bytes(), 0..11).is_none(), "{bad}");
        }
    }

    #[test]
    fn ipv4_versions_are_not_addresses() {
        assert!(ipv4(b"10.0.0.1", 0..8).is_some());
        assert!(ipv4(b"256.1.1.1", 0..9).is_none());
        assert!(ipv4(b"01.1.1.1", 0..8).is_none());
        let s = b"version 1.2.3.4";
        assert!(ipv4(s, 8..15).is_none());
        let s = b"Chrome/120.0.0.0 Safari";
        assert!(ipv4(s, 7..16).is_none());
        let s = b"from 1.2.3.4-rc1";
        assert!(ipv4(s, 5..12).is_none());
        for v in [
            "1.2.3.4-beta.2 x",
            "1.2.3.4+git20240101 x",
            "1.2.3.4-SNAPSHOT x",
        ] {
            assert!(ipv4(v.as_bytes(), 0..7).is_none(), "{v}");
        }
        // Any other word after the address leaves it an address (it was
        // skipped as a version before).
        for a in ["10.0.0.5-admin", "10.0.0.5+eu", "10.0.0.5-rcx"] {
            assert!(ipv4(a.as_bytes(), 0..8).is_some(), "{a}");
        }
        let s = b"1.2.3.4.5";
        assert!(ipv4(s, 0..7).is_none());
        let s = b"client=1.2.3.4 ok";
        assert!(ipv4(s, 7..14).is_some());
    }

    #[test]
    fn ipv6_forms() {
        for ok in [
            "2001:db8::1",
            "::1",
            "fe80::1%eth0",
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            "::ffff:192.0.2.1",
        ] {
            assert!(ipv6(ok.as_bytes(), whole(ok)).is_some(), "{ok}");
        }
        let s = b"std::vector";
        assert!(ipv6(s, 2..5).is_none());
        for code in [
            "'A1::a' declared",
            "B2::B2()",
            "iarr(::1)",
            "x[::2]",
            "C1::c2a",
            "dim=::128 ",
            "C12>::C12'",
            "T<0>::f16<S",
        ] {
            // The candidate: the `::` and the hex digits around it.
            let b = code.as_bytes();
            let dc = code.find("::").unwrap();
            let start = dc
                - b[..dc]
                    .iter()
                    .rev()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
            let end = dc
                + 2
                + b[dc + 2..]
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
            assert!(ipv6(b, start..end).is_none(), "{code}");
        }
        let s = b"listen [::1]:8080";
        assert!(ipv6(s, 8..11).is_some());
        assert!(ipv6(b"::", 0..2).is_none());
    }

    #[test]
    fn url_userinfo_runs_to_the_last_at_before_a_host() {
        fn creds(s: &str) -> Option<&str> {
            let info = s.find("://").unwrap() + 3;
            let colon = info + s[info..].find(':').unwrap();
            url_credentials(s.as_bytes(), 0..colon + 1).map(|r| &s[r])
        }
        assert_eq!(creds("redis://u:p@ss#1@[::1]:6379/0"), Some("u:p@ss#1"));
        assert_eq!(creds("pg://u:a/b?c@10.0.0.1"), Some("u:a/b?c"));
        assert_eq!(
            creds("https://host:8443/x?m=a@b.com"),
            None,
            "a port, then a path"
        );
        assert_eq!(creds("https://u:p@"), None, "no host");
        assert_eq!(creds("https://u:p@-bad"), None);
    }

    #[test]
    fn jwt_header_must_be_json() {
        let good = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_sig_sig";
        assert!(jwt(good.as_bytes(), whole(good)).is_some());
        let bad = "eyJub3Rqc29u.eyJzdWIiOiIxIn0.sig_sig_sig";
        assert!(jwt(bad.as_bytes(), whole(bad)).is_none());
    }
}
