//! JSON Pointers (RFC 6901) and pointer patterns with `*` wildcards.
//!
//! `/items/*/ts` matches `/items/0/ts`, `/items/7/ts` and, for an object,
//! `/items/anykey/ts`. A token `*` is always a wildcard: a member literally
//! named `*` cannot be singled out (documented in the tools' man pages).

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;

/// One step of a concrete path inside a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// One token of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Key(String),
    Any,
}

/// A parsed pointer pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    tokens: Vec<Token>,
}

impl Pattern {
    /// Parses `""` (the whole value) or `/a/b~1c/*`.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        if text.is_empty() {
            return Ok(Pattern {
                text: String::new(),
                tokens: Vec::new(),
            });
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err(format!(
                "'{text}' is not a JSON Pointer: it must start with '/' (example: /items/*/ts)"
            ));
        };
        let mut tokens = Vec::new();
        for raw in rest.split('/') {
            if raw == "*" {
                tokens.push(Token::Any);
            } else {
                tokens.push(Token::Key(unescape(raw).ok_or_else(|| {
                    format!("'{text}': '~' must be followed by 0 or 1 (RFC 6901)")
                })?));
            }
        }
        Ok(Pattern {
            text: text.to_string(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    pub fn has_wildcard(&self) -> bool {
        self.tokens.contains(&Token::Any)
    }

    /// True when `path` is exactly a match.
    pub fn matches(&self, path: &[Seg<'_>]) -> bool {
        path.len() == self.tokens.len() && self.matches_start(path)
    }

    /// True when `path` is a match or lies under one (`/a` covers `/a/b`).
    pub fn covers(&self, path: &[Seg<'_>]) -> bool {
        path.len() >= self.tokens.len() && self.matches_start(path)
    }

    /// True when `path` could still lead to a match (a prefix of one).
    pub fn may_lead_to(&self, path: &[Seg<'_>]) -> bool {
        path.len() <= self.tokens.len()
            && path
                .iter()
                .zip(&self.tokens)
                .all(|(s, t)| token_matches(t, s))
    }

    fn matches_start(&self, path: &[Seg<'_>]) -> bool {
        self.tokens
            .iter()
            .zip(path)
            .all(|(t, s)| token_matches(t, s))
    }

    /// The value at this pointer, when it has no wildcard.
    pub fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        let mut current = value;
        for token in &self.tokens {
            let Token::Key(key) = token else { return None };
            current = match current {
                Value::Object(map) => map.get(key.as_str())?,
                Value::Array(items) => items.get(parse_index(key)?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// Removes every member or element this pattern matches; returns how many.
    pub fn remove_from(&self, value: &mut Value) -> usize {
        match self.tokens.split_last() {
            None => 0,
            Some((last, parents)) => remove_at(value, parents, last),
        }
    }
}

fn remove_at(value: &mut Value, parents: &[Token], last: &Token) -> usize {
    match parents.split_first() {
        Some((head, rest)) => match (head, value) {
            (Token::Any, Value::Object(map)) => {
                map.values_mut().map(|v| remove_at(v, rest, last)).sum()
            }
            (Token::Any, Value::Array(items)) => {
                items.iter_mut().map(|v| remove_at(v, rest, last)).sum()
            }
            (Token::Key(k), Value::Object(map)) => map
                .get_mut(k.as_str())
                .map_or(0, |v| remove_at(v, rest, last)),
            (Token::Key(k), Value::Array(items)) => parse_index(k)
                .and_then(|i| items.get_mut(i))
                .map_or(0, |v| remove_at(v, rest, last)),
            _ => 0,
        },
        None => match (last, value) {
            (Token::Any, Value::Object(map)) => {
                let n = map.len();
                map.clear();
                n
            }
            (Token::Any, Value::Array(items)) => {
                let n = items.len();
                items.clear();
                n
            }
            (Token::Key(k), Value::Object(map)) => {
                usize::from(map.shift_remove(k.as_str()).is_some())
            }
            (Token::Key(k), Value::Array(items)) => match parse_index(k) {
                Some(i) if i < items.len() => {
                    items.remove(i);
                    1
                }
                _ => 0,
            },
            _ => 0,
        },
    }
}

fn token_matches(token: &Token, seg: &Seg<'_>) -> bool {
    match (token, seg) {
        (Token::Any, _) => true,
        (Token::Key(k), Seg::Key(s)) => k == s,
        (Token::Key(k), Seg::Index(i)) => parse_index(k) == Some(*i),
    }
}

/// RFC 6901 array index: digits, no leading zero (except "0").
fn parse_index(token: &str) -> Option<usize> {
    if token.is_empty() || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    if !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

fn unescape(raw: &str) -> Option<String> {
    if !raw.contains('~') {
        return Some(raw.to_string());
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Escapes one reference token: `~` → `~0`, `/` → `~1`.
pub fn escape(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(token)
    }
}

/// Renders a concrete path as a JSON Pointer string.
pub fn render(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        out.push('/');
        match seg {
            Seg::Key(k) => out.push_str(&escape(k)),
            Seg::Index(i) => {
                let _ = write!(out, "{i}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_and_match() {
        let p = Pattern::parse("/items/*/ts").unwrap();
        assert!(p.matches(&[Seg::Key("items"), Seg::Index(3), Seg::Key("ts")]));
        assert!(p.matches(&[Seg::Key("items"), Seg::Key("x"), Seg::Key("ts")]));
        assert!(!p.matches(&[Seg::Key("items"), Seg::Index(3)]));
        assert!(p.may_lead_to(&[Seg::Key("items"), Seg::Index(3)]));
        assert!(p.covers(&[
            Seg::Key("items"),
            Seg::Index(3),
            Seg::Key("ts"),
            Seg::Key("z")
        ]));
        assert!(Pattern::parse("items").is_err());
        assert!(Pattern::parse("/a~2").is_err());
        assert_eq!(
            Pattern::parse("/a~1b~0c").unwrap().tokens(),
            &[Token::Key("a/b~c".into())]
        );
    }

    #[test]
    fn get_and_remove() {
        let mut v = json!({"a":[{"ts":1,"k":2},{"ts":3}],"ts":4});
        assert_eq!(Pattern::parse("/a/1/ts").unwrap().get(&v), Some(&json!(3)));
        assert_eq!(Pattern::parse("/a/01").unwrap().get(&v), None);
        assert_eq!(Pattern::parse("/a/*/ts").unwrap().remove_from(&mut v), 2);
        assert_eq!(v, json!({"a":[{"k":2},{}],"ts":4}));
    }

    #[test]
    fn render_escapes() {
        assert_eq!(
            render(&[Seg::Key("a/b"), Seg::Index(0), Seg::Key("~")]),
            "/a~1b/0/~0"
        );
        assert_eq!(render(&[]), "");
    }
}
