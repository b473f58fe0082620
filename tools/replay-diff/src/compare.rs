//! Comparing two JSON values path by path.
//!
//! The result is one [`Difference`] per differing path, with its JSON Pointer
//! (RFC 6901). Ignored paths are skipped during the walk (nothing is copied),
//! masks are applied only where two strings differ, and arrays under an
//! `--unordered` pointer are compared as multisets.

use std::collections::HashMap;

use common::pointer::{render, Pattern, Seg};
use serde::Serialize;
use serde_json::Value;

use crate::mask::{self, Mask};

/// How two values may differ and still be the same.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub ignore: Vec<Pattern>,
    pub masks: Vec<Mask>,
    pub float_tolerance: f64,
    pub unordered: Vec<Pattern>,
}

/// What happened at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Same type, different value.
    Changed,
    /// Present in the replay only.
    Added,
    /// Present in the golden run only.
    Removed,
    /// Different JSON types (e.g. number vs string).
    TypeChanged,
}

/// One differing path.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub path: String,
    pub change: Change,
    pub golden: Option<Value>,
    pub replay: Option<Value>,
}

/// Appends the differences between `golden` and `replay` to `out`.
pub fn diff(golden: &Value, replay: &Value, rules: &Rules, out: &mut Vec<Difference>) {
    let mut path = Vec::new();
    walk(golden, replay, rules, &mut path, out);
}

/// True when the two values have no difference under `rules`.
pub fn same(golden: &Value, replay: &Value, rules: &Rules) -> bool {
    let mut out = Vec::new();
    diff(golden, replay, rules, &mut out);
    out.is_empty()
}

fn ignored(rules: &Rules, path: &[Seg<'_>]) -> bool {
    rules.ignore.iter().any(|p| p.matches(path))
}

fn walk<'v>(
    golden: &'v Value,
    replay: &'v Value,
    rules: &Rules,
    path: &mut Vec<Seg<'v>>,
    out: &mut Vec<Difference>,
) {
    if ignored(rules, path) {
        return;
    }
    match (golden, replay) {
        (Value::Object(g), Value::Object(r)) => {
            for (key, gv) in g {
                path.push(Seg::Key(key));
                match r.get(key) {
                    Some(rv) => walk(gv, rv, rules, path, out),
                    None if !ignored(rules, path) => out.push(Difference {
                        path: render(path),
                        change: Change::Removed,
                        golden: Some(gv.clone()),
                        replay: None,
                    }),
                    None => {}
                }
                path.pop();
            }
            for (key, rv) in r {
                if g.contains_key(key) {
                    continue;
                }
                path.push(Seg::Key(key));
                if !ignored(rules, path) {
                    out.push(Difference {
                        path: render(path),
                        change: Change::Added,
                        golden: None,
                        replay: Some(rv.clone()),
                    });
                }
                path.pop();
            }
        }
        (Value::Array(g), Value::Array(r)) => {
            if rules.unordered.iter().any(|p| p.matches(path)) {
                multiset(g, r, rules, path, out);
                return;
            }
            for (i, (gv, rv)) in g.iter().zip(r).enumerate() {
                path.push(Seg::Index(i));
                walk(gv, rv, rules, path, out);
                path.pop();
            }
            let (longer, change) = if g.len() > r.len() {
                (g, Change::Removed)
            } else {
                (r, Change::Added)
            };
            for (i, v) in longer.iter().enumerate().skip(g.len().min(r.len())) {
                path.push(Seg::Index(i));
                if !ignored(rules, path) {
                    let (golden, replay) = match change {
                        Change::Removed => (Some(v.clone()), None),
                        _ => (None, Some(v.clone())),
                    };
                    out.push(Difference {
                        path: render(path),
                        change,
                        golden,
                        replay,
                    });
                }
                path.pop();
            }
        }
        (Value::Number(g), Value::Number(r)) => {
            if g == r {
                return;
            }
            if rules.float_tolerance > 0.0 {
                if let (Some(a), Some(b)) = (g.as_f64(), r.as_f64()) {
                    if (a - b).abs() <= rules.float_tolerance {
                        return;
                    }
                }
            }
            out.push(changed(path, golden, replay, Change::Changed));
        }
        (Value::String(g), Value::String(r)) => {
            if g == r {
                return;
            }
            if !rules.masks.is_empty()
                && mask::apply_all(&rules.masks, g) == mask::apply_all(&rules.masks, r)
            {
                return;
            }
            out.push(changed(path, golden, replay, Change::Changed));
        }
        (Value::Bool(g), Value::Bool(r)) if g == r => {}
        (Value::Null, Value::Null) => {}
        (Value::Bool(_), Value::Bool(_)) => {
            out.push(changed(path, golden, replay, Change::Changed))
        }
        _ => out.push(changed(path, golden, replay, Change::TypeChanged)),
    }
}

fn changed(path: &[Seg<'_>], golden: &Value, replay: &Value, change: Change) -> Difference {
    Difference {
        path: render(path),
        change,
        golden: Some(golden.clone()),
        replay: Some(replay.clone()),
    }
}

/// Arrays as multisets: elements are matched by their normalized form
/// (ignores and masks applied, keys sorted); unmatched ones are reported at
/// their own index on their own side.
fn multiset<'v>(
    golden: &'v [Value],
    replay: &'v [Value],
    rules: &Rules,
    path: &mut Vec<Seg<'v>>,
    out: &mut Vec<Difference>,
) {
    let mut pool: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, v) in golden.iter().enumerate().rev() {
        path.push(Seg::Index(i));
        pool.entry(canonical(v, rules, path)).or_default().push(i);
        path.pop();
    }
    let mut extra = Vec::new();
    for (j, v) in replay.iter().enumerate() {
        path.push(Seg::Index(j));
        let key = canonical(v, rules, path);
        path.pop();
        match pool.get_mut(&key).and_then(Vec::pop) {
            Some(_) => {}
            None => extra.push(j),
        }
    }
    let mut missing: Vec<usize> = pool.into_values().flatten().collect();
    missing.sort_unstable();
    for i in missing {
        path.push(Seg::Index(i));
        out.push(Difference {
            path: render(path),
            change: Change::Removed,
            golden: Some(golden[i].clone()),
            replay: None,
        });
        path.pop();
    }
    for j in extra {
        path.push(Seg::Index(j));
        out.push(Difference {
            path: render(path),
            change: Change::Added,
            golden: None,
            replay: Some(replay[j].clone()),
        });
        path.pop();
    }
}

/// A canonical text form of `value` under `rules`, for multiset matching.
/// Floats within tolerance are not unified here: tolerance applies to
/// positional comparison only (documented).
fn canonical<'v>(value: &'v Value, rules: &Rules, path: &mut Vec<Seg<'v>>) -> String {
    let mut out = String::new();
    write_canonical(value, rules, path, &mut out);
    out
}

fn write_canonical<'v>(value: &'v Value, rules: &Rules, path: &mut Vec<Seg<'v>>, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for key in keys {
                path.push(Seg::Key(key));
                if !ignored(rules, path) {
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    if let Some(v) = map.get(key) {
                        write_canonical(v, rules, path, out);
                    }
                    out.push(',');
                }
                path.pop();
            }
            out.push('}');
        }
        Value::Array(items) => {
            let unordered = rules.unordered.iter().any(|p| p.matches(path));
            let mut parts: Vec<String> = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                if !ignored(rules, path) {
                    parts.push(canonical(v, rules, path));
                }
                path.pop();
            }
            if unordered {
                parts.sort();
            }
            out.push('[');
            out.push_str(&parts.join(","));
            out.push(']');
        }
        Value::String(s) => {
            let masked = mask::apply_all(&rules.masks, s);
            out.push_str(&Value::String(masked.into_owned()).to_string());
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules() -> Rules {
        Rules::default()
    }

    fn paths(g: Value, r: Value, rules: &Rules) -> Vec<(String, Change)> {
        let mut out = Vec::new();
        diff(&g, &r, rules, &mut out);
        out.into_iter().map(|d| (d.path, d.change)).collect()
    }

    #[test]
    fn every_change_kind() {
        let got = paths(
            json!({"a":1,"b":"x","c":[1,2],"d":true,"e/f":0}),
            json!({"a":2,"b":3,"c":[1],"d":true,"z":null,"e/f":0}),
            &rules(),
        );
        assert_eq!(
            got,
            vec![
                ("/a".into(), Change::Changed),
                ("/b".into(), Change::TypeChanged),
                ("/c/1".into(), Change::Removed),
                ("/z".into(), Change::Added),
            ]
        );
    }

    #[test]
    fn ignore_with_wildcards() {
        let mut r = rules();
        r.ignore = vec![
            Pattern::parse("/items/*/ts").unwrap(),
            Pattern::parse("/ts").unwrap(),
        ];
        let got = paths(
            json!({"ts":1,"items":[{"ts":1,"v":1},{"ts":2,"v":2}]}),
            json!({"ts":9,"items":[{"ts":8,"v":1},{"v":3}]}),
            &r,
        );
        assert_eq!(got, vec![("/items/1/v".into(), Change::Changed)]);
    }

    #[test]
    fn tolerance_masks_and_unordered() {
        let mut r = rules();
        r.float_tolerance = 0.01;
        r.masks = vec![Mask::Uuid];
        r.unordered = vec![Pattern::parse("/tags").unwrap()];
        let got = paths(
            json!({"x":1.0,"id":"req 123e4567-e89b-12d3-a456-426614174000","tags":["a","b","b"]}),
            json!({"x":1.005,"id":"req 00000000-0000-0000-0000-000000000000","tags":["b","a","c"]}),
            &r,
        );
        assert_eq!(
            got,
            vec![
                ("/tags/2".into(), Change::Removed),
                ("/tags/2".into(), Change::Added)
            ]
        );
    }

    #[test]
    fn key_order_is_not_a_difference() {
        assert!(same(&json!({"a":1,"b":2}), &json!({"b":2,"a":1}), &rules()));
        assert!(!same(&json!(1), &json!(1.0), &rules()));
    }
}
