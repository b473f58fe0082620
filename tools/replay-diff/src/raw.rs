//! Working on a record's raw text without building a tree: finding where a
//! string, number or value ends, looking up a key by pointer, and the checks
//! serde_json's raw validation does not make (nesting depth, lone
//! surrogates), so that every line the comparison may later parse is known
//! to parse.
//!
//! Every function here takes text that may be anything and never panics:
//! out-of-range reads are `None`.

use common::pointer::Token;
use memchr::{memchr2, memmem};

/// Deepest nesting of arrays and objects a line may have (serde_json's own
/// limit): deeper lines are invalid input, named by file and line.
pub const MAX_DEPTH: usize = 128;

pub fn skip_ws(s: &[u8], mut k: usize) -> usize {
    while k < s.len() && matches!(s[k], b' ' | b'\t' | b'\n' | b'\r') {
        k += 1;
    }
    k
}

/// Index just past the string starting at `start` (which must be `"`).
pub fn string_end(s: &[u8], start: usize) -> Option<usize> {
    if s.get(start) != Some(&b'"') {
        return None;
    }
    let mut k = start + 1;
    loop {
        let rel = memchr2(b'"', b'\\', s.get(k..)?)?;
        k += rel;
        if s[k] == b'\\' {
            k += 2;
        } else {
            return Some(k + 1);
        }
    }
}

/// Index just past a number or literal (up to the next delimiter).
pub fn scalar_end(s: &[u8], start: usize) -> usize {
    let mut k = start;
    while k < s.len() && !matches!(s[k], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
        k += 1;
    }
    k
}

/// Index just past a JSON number starting at `start`, checking its syntax
/// (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`).
pub fn number_end(s: &[u8], start: usize) -> Option<usize> {
    let digits = |mut k: usize| -> Option<usize> {
        let from = k;
        while s.get(k).is_some_and(u8::is_ascii_digit) {
            k += 1;
        }
        (k > from).then_some(k)
    };
    let mut k = start;
    if s.get(k) == Some(&b'-') {
        k += 1;
    }
    k = match s.get(k) {
        Some(b'0') => k + 1,
        Some(b'1'..=b'9') => digits(k)?,
        _ => return None,
    };
    if s.get(k) == Some(&b'.') {
        k = digits(k + 1)?;
    }
    if matches!(s.get(k), Some(b'e' | b'E')) {
        k += 1;
        if matches!(s.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        k = digits(k)?;
    }
    Some(k)
}

/// Index just past the value starting at `start` (after whitespace).
pub fn skip_value(s: &[u8], start: usize) -> Option<usize> {
    let start = skip_ws(s, start);
    match *s.get(start)? {
        b'"' => string_end(s, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut k = start;
            loop {
                match *s.get(k)? {
                    b'"' => {
                        k = string_end(s, k)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(k + 1);
                        }
                    }
                    _ => {}
                }
                k += 1;
            }
        }
        _ => Some(scalar_end(s, start)),
    }
}

/// Decodes a JSON string's contents (between the quotes). `None` for a
/// bad escape or a lone surrogate (which no Rust string can hold).
pub fn unescape(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let first = hex4(&mut chars)?;
                match first {
                    0xD800..=0xDBFF => {
                        if chars.next()? != '\\' || chars.next()? != 'u' {
                            return None;
                        }
                        let second = hex4(&mut chars)?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return None;
                        }
                        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                        char::from_u32(code)?
                    }
                    0xDC00..=0xDFFF => return None,
                    _ => char::from_u32(first)?,
                }
            }
            _ => return None,
        };
        out.push(decoded);
    }
    Some(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut v = 0;
    for _ in 0..4 {
        v = v * 16 + chars.next()?.to_digit(16)?;
    }
    Some(v)
}

/// What serde_json's raw validation lets through but a comparison cannot
/// take: nesting deeper than [`MAX_DEPTH`] and `\u` escapes of lone
/// surrogates. `Err((byte offset, reason))`. The text must already be valid
/// JSON syntax; cheap when there is nothing to find (counts, then scans).
pub fn check(text: &str) -> Result<(), (usize, &'static str)> {
    let s = text.as_bytes();
    let escapes = memmem::find(s, b"\\u").is_some();
    if !escapes && openers(s) <= MAX_DEPTH {
        return Ok(());
    }
    deep_check(text, escapes)
}

/// How many `[` and `{` bytes `s` holds (an upper bound on its depth).
/// `[` and `{` differ only in bit 5, and per-chunk `u8` sums vectorize.
fn openers(s: &[u8]) -> usize {
    s.chunks(255)
        .map(|chunk| {
            let n: u8 = chunk
                .iter()
                .fold(0u8, |n, &b| n + u8::from((b | 0x20) == b'{'));
            usize::from(n)
        })
        .sum()
}

fn deep_check(text: &str, escapes: bool) -> Result<(), (usize, &'static str)> {
    let s = text.as_bytes();
    let mut depth = 0usize;
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            b'"' => {
                let end = string_end(s, k).ok_or((k, "unterminated string"))?;
                if escapes {
                    let inner = &text[k + 1..end - 1];
                    if inner.contains('\\') && unescape(inner).is_none() {
                        return Err((k, "lone surrogate in a \\u escape"));
                    }
                }
                k = end;
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err((k, "nested deeper than 128 levels"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        k += 1;
    }
    Ok(())
}

/// The raw text of the value at `tokens` (no wildcards) inside `text`, or
/// `None` when there is none. A repeated member name gives its last value,
/// as JSON parsers do. `text` must be valid JSON.
pub fn lookup<'t>(text: &'t str, tokens: &[Token]) -> Option<&'t str> {
    KeyPath::new(tokens)?.lookup(text)
}

/// A pointer looked up in many raw records (`--key`).
pub struct KeyPath {
    steps: Vec<Step>,
}

struct Step {
    name: String,
    /// `"name"` as it appears unescaped, when the name needs no escaping:
    /// if neither it nor any `\` follows the first match, that match is the
    /// last, and the rest of the object need not be walked.
    quoted: Option<memmem::Finder<'static>>,
}

impl KeyPath {
    /// `None` for a pointer with a wildcard.
    pub fn new(tokens: &[Token]) -> Option<KeyPath> {
        let steps = tokens
            .iter()
            .map(|t| match t {
                Token::Key(name) => Some(Step {
                    name: name.clone(),
                    quoted: name
                        .bytes()
                        .all(|b| b >= 0x20 && b != b'"' && b != b'\\')
                        .then(|| {
                            memmem::Finder::new(format!("\"{name}\"").as_bytes()).into_owned()
                        }),
                }),
                Token::Any => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(KeyPath { steps })
    }

    /// The raw text of the value at this pointer in `text`, if any.
    pub fn lookup<'t>(&self, text: &'t str) -> Option<&'t str> {
        let s = text.as_bytes();
        let mut start = skip_ws(s, 0);
        for step in &self.steps {
            start = match s.get(start)? {
                b'{' => member(text, start, step)?,
                b'[' => element(s, start, &step.name)?,
                _ => return None,
            };
        }
        let end = skip_value(s, start)?;
        text.get(start..end)
    }
}

/// Start of the last value named `step.name` in the object at `open`.
fn member(text: &str, open: usize, step: &Step) -> Option<usize> {
    let s = text.as_bytes();
    let mut k = skip_ws(s, open + 1);
    let mut found = None;
    if s.get(k) == Some(&b'}') {
        return None;
    }
    loop {
        let key_start = skip_ws(s, k);
        let end = string_end(s, key_start)?;
        let raw_key = text.get(key_start + 1..end - 1)?;
        let same = if raw_key.contains('\\') {
            unescape(raw_key).is_some_and(|k| k == step.name)
        } else {
            raw_key == step.name
        };
        k = skip_ws(s, end);
        if s.get(k) != Some(&b':') {
            return None;
        }
        let value = skip_ws(s, k + 1);
        if same {
            if found.is_none() {
                let rest = s.get(value..)?;
                if let Some(quoted) = &step.quoted {
                    if memchr::memchr(b'\\', rest).is_none() && quoted.find(rest).is_none() {
                        return Some(value);
                    }
                }
            }
            found = Some(value);
        }
        k = skip_ws(s, skip_value(s, value)?);
        match s.get(k)? {
            b',' => k += 1,
            b'}' => return found,
            _ => return None,
        }
    }
}

/// Start of element `index` (an RFC 6901 array index) in the array at `open`.
fn element(s: &[u8], open: usize, index: &str) -> Option<usize> {
    if index.is_empty() || (index.len() > 1 && index.starts_with('0')) {
        return None;
    }
    let want: usize = index.parse().ok()?;
    let mut k = skip_ws(s, open + 1);
    if s.get(k) == Some(&b']') {
        return None;
    }
    for _ in 0..want {
        k = skip_ws(s, skip_value(s, k)?);
        if s.get(k) != Some(&b',') {
            return None;
        }
        k = skip_ws(s, k + 1);
    }
    Some(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::pointer::Pattern;

    fn at<'t>(text: &'t str, pointer: &str) -> Option<&'t str> {
        lookup(text, Pattern::parse(pointer).unwrap().tokens())
    }

    #[test]
    fn lookup_by_pointer() {
        let t = r#" {"a":{"b":[10, {"c":"x"}]}, "id" : 7 ,"e\u0073c":1e999, "id":8} "#;
        assert_eq!(at(t, "/a/b/1/c"), Some(r#""x""#));
        assert_eq!(at(t, "/a/b/0"), Some("10"));
        assert_eq!(at(t, "/id"), Some("8"), "last of a repeated name");
        assert_eq!(at(t, "/esc"), Some("1e999"));
        assert_eq!(at(t, "/a/b/2"), None);
        assert_eq!(at(t, "/a/b/01"), None);
        assert_eq!(at(t, "/nope"), None);
        assert_eq!(at(t, "/id/x"), None);
        assert_eq!(at("{}", "/a"), None);
        assert_eq!(
            at(r#"{"id":1,"x":{"id":2}}"#, "/id"),
            Some("1"),
            "a nested name is not a repeat"
        );
        assert_eq!(
            at(r#"{"id":1,"\u0069d":2}"#, "/id"),
            Some("2"),
            "an escaped repeat counts"
        );
        assert_eq!(at(r#"{"a\"b":1}"#, "/a\"b"), Some("1"));
        assert_eq!(at("[]", "/0"), None);
    }

    #[test]
    fn numbers() {
        for ok in [
            "0",
            "-0",
            "1.5e-3",
            "10E+2",
            "123456789012345678901234567890",
        ] {
            assert_eq!(number_end(ok.as_bytes(), 0), Some(ok.len()), "{ok}");
        }
        for bad in ["-", "01x", "1.", "1e", ".5"] {
            let end = number_end(bad.as_bytes(), 0);
            assert_ne!(end, Some(bad.len()), "{bad}");
        }
    }

    #[test]
    fn openers_are_counted_exactly() {
        let text: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let naive = text.iter().filter(|&&b| b == b'[' || b == b'{').count();
        assert_eq!(openers(&text), naive);
        assert_eq!(
            openers(&[b'['; 1000]),
            1000,
            "more than a u8 per chunk never overflows"
        );
    }

    #[test]
    fn checks_depth_and_surrogates() {
        assert_eq!(check(&"[".repeat(128).to_string()), Ok(()));
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(check(&deep), Err((128, "nested deeper than 128 levels")));
        let strings = format!("[\"{}\"]", "[".repeat(500));
        assert_eq!(
            check(&strings),
            Ok(()),
            "brackets inside strings do not nest"
        );
        assert_eq!(check(r#"["\ud83d\ude00"]"#), Ok(()));
        assert_eq!(
            check(r#"["ok","\ud800x"]"#),
            Err((6, "lone surrogate in a \\u escape"))
        );
        assert_eq!(
            check(r#"{"\udc00":1}"#),
            Err((1, "lone surrogate in a \\u escape"))
        );
    }

    #[test]
    fn unescaping() {
        assert_eq!(
            unescape(r#"a\"\\\/\b\f\n\r\t\u00e9"#).unwrap(),
            "a\"\\/\u{8}\u{c}\n\r\té"
        );
        assert_eq!(unescape(r"\ud83d\ude00").unwrap(), "😀");
        assert_eq!(unescape(r"\ud83d"), None);
        assert_eq!(unescape(r"\x"), None);
    }
}
