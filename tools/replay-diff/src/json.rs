//! The JSON value replay-diff compares: numbers kept as written.
//!
//! `serde_json::Value` (without the workspace-wide `arbitrary_precision`
//! feature, which would change every tool) turns numbers into `f64`/`i64`,
//! so different numbers compared equal and `1e999` could not be read. This
//! tree keeps each number's text; [`crate::number`] compares them exactly.
//! Objects keep their members in order, duplicates included, so nothing a
//! line says is lost before it is compared.
//!
//! The parser is fed lines the reader has validated ([`crate::raw::check`]:
//! syntax, nesting depth at most [`MAX_DEPTH`], no lone surrogates), so its
//! recursion is bounded; it still returns errors instead of panicking on
//! anything else.

use std::fmt;

use common::pointer::{Pattern, Token};
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::raw::MAX_DEPTH;

/// A JSON value with numbers as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number's text, exactly as in the input (valid JSON number syntax).
    Number(Box<str>),
    String(String),
    Array(Vec<Json>),
    /// Members in input order; a name may repeat.
    Object(Vec<(String, Json)>),
}

/// Why a text is not one JSON value; `offset` is a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub reason: &'static str,
}

impl Json {
    /// Parses one JSON value (surrounding whitespace allowed).
    pub fn parse(text: &str) -> Result<Json, ParseError> {
        let mut p = Parser {
            s: text.as_bytes(),
            text,
            i: 0,
        };
        let value = p.value(0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(p.error("trailing characters"));
        }
        Ok(value)
    }

    /// The JSON type's name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }

    /// The value at a pointer without wildcards (the last member of a
    /// repeated name, as JSON parsers do).
    pub fn get(&self, pattern: &Pattern) -> Option<&Json> {
        let mut current = self;
        for token in pattern.tokens() {
            let Token::Key(key) = token else { return None };
            current = match current {
                Json::Object(members) => members
                    .iter()
                    .rev()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v)?,
                Json::Array(items) => items.get(array_index(key)?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// A `Json` from a `serde_json::Value` (tests and literals).
    pub fn from_value(value: &serde_json::Value) -> Json {
        use serde_json::Value;
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(n.to_string().into_boxed_str()),
            Value::String(s) => Json::String(s.clone()),
            Value::Array(items) => Json::Array(items.iter().map(Json::from_value).collect()),
            Value::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Json::from_value(v)))
                    .collect(),
            ),
        }
    }
}

/// RFC 6901 array index: digits, no leading zero (except `0` itself).
fn array_index(token: &str) -> Option<usize> {
    if token.is_empty() || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    if !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            // Written back exactly as read: serde_json copies a RawValue verbatim.
            Json::Number(text) => RawValue::from_string(text.to_string())
                .map_err(S::Error::custom)?
                .serialize(serializer),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string(self) {
            Ok(text) => f.write_str(&text),
            Err(_) => Err(fmt::Error),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> ParseError {
        ParseError {
            offset: self.i,
            reason,
        }
    }

    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, ParseError> {
        self.ws();
        match self.s.get(self.i) {
            None => Err(self.error("EOF while parsing a value")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.literal(b"true", Json::Bool(true)),
            Some(b'f') => self.literal(b"false", Json::Bool(false)),
            Some(b'n') => self.literal(b"null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected value")),
        }
    }

    fn literal(&mut self, word: &[u8], value: Json) -> Result<Json, ParseError> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(value)
        } else {
            Err(self.error("expected value"))
        }
    }

    fn number(&mut self) -> Result<Json, ParseError> {
        let start = self.i;
        let end =
            crate::raw::number_end(self.s, start).ok_or_else(|| self.error("invalid number"))?;
        self.i = end;
        Ok(Json::Number(self.text[start..end].into()))
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.i;
        let end = crate::raw::string_end(self.s, start)
            .ok_or_else(|| self.error("EOF while parsing a string"))?;
        self.i = end;
        let inner = &self.text[start + 1..end - 1];
        if !inner.contains('\\') {
            return Ok(inner.to_string());
        }
        crate::raw::unescape(inner).ok_or(ParseError {
            offset: start,
            reason: "invalid escape in string",
        })
    }

    fn array(&mut self, depth: usize) -> Result<Json, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested deeper than 128 levels"));
        }
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested deeper than 128 levels"));
        }
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.error("expected a member name"));
            }
            let key = self.string()?;
            self.ws();
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.error("expected ':'"));
            }
            self.i += 1;
            let value = self.value(depth)?;
            members.push((key, value));
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_as_written() {
        let text = r#"{"a":123456789012345678901234567890,"b":1e999,"c":[1.50,-0]}"#;
        let v = Json::parse(text).unwrap();
        assert_eq!(v.to_string(), text);
    }

    #[test]
    fn strings_escapes_and_duplicates() {
        let v = Json::parse(r#" {"k":"a\"\u00e9\ud83d\ude00","k":2} "#).unwrap();
        assert_eq!(
            v,
            Json::Object(vec![
                ("k".into(), Json::String("a\"é😀".into())),
                ("k".into(), Json::Number("2".into())),
            ])
        );
        assert_eq!(
            v.get(&Pattern::parse("/k").unwrap()),
            Some(&Json::Number("2".into()))
        );
    }

    #[test]
    fn errors_not_panics() {
        for bad in [
            "",
            "[",
            "[1,",
            "{\"a\"}",
            "tru",
            "1 2",
            "\"\\ud800\"",
            "-",
            "[1,]",
        ] {
            assert!(Json::parse(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = Json::parse(&deep).unwrap_err();
        assert_eq!(
            err,
            ParseError {
                offset: 128,
                reason: "nested deeper than 128 levels"
            }
        );
        let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(Json::parse(&ok).is_ok());
    }
}
