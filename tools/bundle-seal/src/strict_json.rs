//! JSON that refuses duplicate object keys.
//!
//! `serde_json::Value` keeps the last of two equal keys without a word, so
//! `{"verdict":"fail",...,"verdict":"pass"}` reads as a pass to us while a
//! reader that keeps the first key sees a fail. Evidence that means two
//! things to two readers must not be sealed or accepted: summary records
//! and receipts are read through [`StrictValue`], which fails on the
//! duplicate (serde_json then names the line and column).

use std::fmt;

use common::jsonl::{Item, JsonlReader};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A `serde_json::Value` whose objects had no duplicate keys, at any depth.
#[derive(Clone, Debug, PartialEq)]
pub struct StrictValue(pub Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

/// The next record of `reader`, strictly: a malformed line or a duplicate
/// key is an error naming file, line and column, with `hint` (the shared
/// reader's hint offers `--skip-invalid`, which these commands do not have).
pub fn next_record(reader: &mut JsonlReader, hint: &str) -> common::Result<Option<(u64, Value)>> {
    match reader.next_item::<StrictValue>()? {
        None => Ok(None),
        Some(Item::Record { line, value }) => Ok(Some((line, value.0))),
        Some(Item::Invalid(bad)) => Err(bad.to_error().with_hint(hint)),
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        StrictValue::deserialize(d).map(|v| v.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // One hash per key (the entry), not two (a lookup, an insert).
            match out.entry(key) {
                serde_json::map::Entry::Occupied(e) => {
                    return Err(de::Error::custom(format_args!(
                        "duplicate key {:?} (readers disagree on which one counts)",
                        e.key()
                    )));
                }
                serde_json::map::Entry::Vacant(e) => {
                    let StrictValue(v) = map.next_value()?;
                    e.insert(v);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_what_value_reads() {
        let text = r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}],"c":18446744073709551615}"#;
        let strict: StrictValue = serde_json::from_str(text).unwrap();
        let plain: Value = serde_json::from_str(text).unwrap();
        assert_eq!(strict.0, plain);
    }

    #[test]
    fn refuses_duplicate_keys_at_any_depth() {
        let err = serde_json::from_str::<StrictValue>(r#"{"v":"fail","v":"pass"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "duplicate key \"v\" (readers disagree on which one counts) at line 1 column 15"
        );
        let err = serde_json::from_str::<StrictValue>(r#"{"g":[{"pass":false,"pass":true}]}"#)
            .unwrap_err();
        assert!(
            err.to_string().starts_with("duplicate key \"pass\""),
            "{err}"
        );
        // Equal keys in different objects are fine.
        serde_json::from_str::<StrictValue>(r#"{"a":{"k":1},"b":{"k":2}}"#).unwrap();
    }
}
