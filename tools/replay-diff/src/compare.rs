//! Comparing two JSON values path by path.
//!
//! The result is one [`Difference`] per differing path, with its JSON Pointer
//! (RFC 6901). Ignored paths are skipped during the walk (nothing is copied),
//! masks are applied only where two strings differ, and arrays under an
//! `--unordered` pointer are compared as multisets. Numbers are equal when
//! their exact decimal values are ([`crate::number`]); only
//! `--float-tolerance` loosens that. Members of an object are paired by name;
//! a name repeated within one object pairs in order of appearance.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use common::pointer::{render, Pattern, Seg};
use serde::Serialize;

use crate::json::Json;
use crate::mask::{self, Mask};
use crate::number;

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
    pub golden: Option<Json>,
    pub replay: Option<Json>,
}

/// Appends the differences between `golden` and `replay` to `out`.
pub fn diff(golden: &Json, replay: &Json, rules: &Rules, out: &mut Vec<Difference>) {
    let mut path = Vec::new();
    walk(golden, replay, rules, &mut path, out);
}

/// True when the two values have no difference under `rules`.
pub fn same(golden: &Json, replay: &Json, rules: &Rules) -> bool {
    let mut out = Vec::new();
    diff(golden, replay, rules, &mut out);
    out.is_empty()
}

fn ignored(rules: &Rules, path: &[Seg<'_>]) -> bool {
    rules.ignore.iter().any(|p| p.matches(path))
}

/// Objects with more members than this are paired through a hash map.
const LINEAR_MEMBERS: usize = 32;

fn walk<'v>(
    golden: &'v Json,
    replay: &'v Json,
    rules: &Rules,
    path: &mut Vec<Seg<'v>>,
    out: &mut Vec<Difference>,
) {
    if ignored(rules, path) {
        return;
    }
    match (golden, replay) {
        (Json::Object(g), Json::Object(r)) => object(g, r, rules, path, out),
        (Json::Array(g), Json::Array(r)) => {
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
                    out.push(one_sided(path, v, change));
                }
                path.pop();
            }
        }
        (Json::Number(g), Json::Number(r)) => {
            if number::exact_eq(g, r) || number::within(g, r, rules.float_tolerance) {
                return;
            }
            out.push(changed(path, golden, replay, Change::Changed));
        }
        (Json::String(g), Json::String(r)) => {
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
        (Json::Bool(g), Json::Bool(r)) if g == r => {}
        (Json::Null, Json::Null) => {}
        (Json::Bool(_), Json::Bool(_)) => out.push(changed(path, golden, replay, Change::Changed)),
        _ => out.push(changed(path, golden, replay, Change::TypeChanged)),
    }
}

/// Members paired by name, the n-th golden `k` with the n-th replay `k`:
/// changes in golden order, then replay members nobody paired (`added`).
fn object<'v>(
    g: &'v [(String, Json)],
    r: &'v [(String, Json)],
    rules: &Rules,
    path: &mut Vec<Seg<'v>>,
    out: &mut Vec<Difference>,
) {
    let mut used = vec![false; r.len()];
    // Small objects: scan from the first unpaired member (same order is one
    // step each); large ones: a queue of positions per name.
    let mut first_unused = 0;
    let mut by_name: Option<HashMap<&str, VecDeque<usize>>> =
        (r.len() > LINEAR_MEMBERS).then(|| {
            let mut map: HashMap<&str, VecDeque<usize>> = HashMap::new();
            for (j, (k, _)) in r.iter().enumerate() {
                map.entry(k.as_str()).or_default().push_back(j);
            }
            map
        });
    for (key, gv) in g {
        let partner = match &mut by_name {
            Some(map) => map.get_mut(key.as_str()).and_then(VecDeque::pop_front),
            None => (first_unused..r.len()).find(|&j| !used[j] && r[j].0 == *key),
        };
        path.push(Seg::Key(key));
        match partner {
            Some(j) => {
                used[j] = true;
                while first_unused < r.len() && used[first_unused] {
                    first_unused += 1;
                }
                walk(gv, &r[j].1, rules, path, out);
            }
            None if !ignored(rules, path) => out.push(one_sided(path, gv, Change::Removed)),
            None => {}
        }
        path.pop();
    }
    for ((key, rv), _) in r.iter().zip(&used).filter(|(_, used)| !**used) {
        path.push(Seg::Key(key));
        if !ignored(rules, path) {
            out.push(one_sided(path, rv, Change::Added));
        }
        path.pop();
    }
}

fn one_sided(path: &[Seg<'_>], value: &Json, change: Change) -> Difference {
    let (golden, replay) = match change {
        Change::Removed => (Some(value.clone()), None),
        _ => (None, Some(value.clone())),
    };
    Difference {
        path: render(path),
        change,
        golden,
        replay,
    }
}

fn changed(path: &[Seg<'_>], golden: &Json, replay: &Json, change: Change) -> Difference {
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
    golden: &'v [Json],
    replay: &'v [Json],
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
        out.push(one_sided(path, &golden[i], Change::Removed));
        path.pop();
    }
    for j in extra {
        path.push(Seg::Index(j));
        out.push(one_sided(path, &replay[j], Change::Added));
        path.pop();
    }
}

/// A canonical text form of `value` under `rules`, for multiset matching.
/// Floats within tolerance are not unified here: tolerance applies to
/// positional comparison only (documented).
fn canonical<'v>(value: &'v Json, rules: &Rules, path: &mut Vec<Seg<'v>>) -> String {
    let mut out = String::new();
    write_canonical(value, rules, path, false, &mut out);
    out
}

/// A hash of the record's normalized form: records the comparison calls
/// identical have equal fingerprints (with `--float-tolerance`, numbers are
/// left out, so the converse is looser still). Used to find where two
/// streams line up again after an insertion or deletion; every pairing it
/// suggests is still compared in full.
pub fn fingerprint(value: &Json, rules: &Rules) -> u64 {
    let mut text = String::new();
    let mut path = Vec::new();
    if !ignored(rules, &path) {
        write_canonical(
            value,
            rules,
            &mut path,
            rules.float_tolerance > 0.0,
            &mut text,
        );
    }
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// The canonical text of a key value (no rules: keys match exactly, numbers
/// by exact value).
pub fn key_text(value: &Json) -> String {
    canonical(value, &Rules::default(), &mut Vec::new())
}

fn write_canonical<'v>(
    value: &'v Json,
    rules: &Rules,
    path: &mut Vec<Seg<'v>>,
    coarse_numbers: bool,
    out: &mut String,
) {
    match value {
        Json::Object(members) => {
            let mut sorted: Vec<&(String, Json)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (key, v) in sorted {
                path.push(Seg::Key(key));
                if !ignored(rules, path) {
                    write_string(key, out);
                    out.push(':');
                    write_canonical(v, rules, path, coarse_numbers, out);
                    out.push(',');
                }
                path.pop();
            }
            out.push('}');
        }
        Json::Array(items) => {
            let unordered = rules.unordered.iter().any(|p| p.matches(path));
            let mut parts: Vec<String> = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                if !ignored(rules, path) {
                    let mut part = String::new();
                    write_canonical(v, rules, path, coarse_numbers, &mut part);
                    parts.push(part);
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
        Json::String(s) => write_string(&mask::apply_all(&rules.masks, s), out),
        Json::Number(_) if coarse_numbers => out.push('N'),
        Json::Number(n) => out.push_str(&number::canonical(n)),
        Json::Bool(true) => out.push_str("true"),
        Json::Bool(false) => out.push_str("false"),
        Json::Null => out.push_str("null"),
    }
}

fn write_string(s: &str, out: &mut String) {
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn rules() -> Rules {
        Rules::default()
    }

    fn j(text: &str) -> Json {
        Json::parse(text).unwrap()
    }

    fn paths(g: Value, r: Value, rules: &Rules) -> Vec<(String, Change)> {
        let mut out = Vec::new();
        diff(
            &Json::from_value(&g),
            &Json::from_value(&r),
            rules,
            &mut out,
        );
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
        assert!(same(
            &j(r#"{"a":1,"b":2}"#),
            &j(r#"{"b":2,"a":1}"#),
            &rules()
        ));
    }

    #[test]
    fn numbers_by_exact_decimal_value() {
        let r = rules();
        assert!(same(&j("100"), &j("1e2"), &r));
        assert!(same(&j("1"), &j("1.0"), &r));
        assert!(!same(
            &j("123456789012345678901234567890"),
            &j("123456789012345678901234567891"),
            &r
        ));
        assert!(!same(
            &j("1.00000000000000001"),
            &j("1.00000000000000002"),
            &r
        ));
        assert!(!same(&j("1e999"), &j("2e999"), &r));
        let mut loose = rules();
        loose.float_tolerance = 1e-9;
        assert!(same(
            &j("1.00000000000000001"),
            &j("1.00000000000000002"),
            &loose
        ));
        assert!(
            !same(&j("1e999"), &j("2e999"), &loose),
            "inf is not within any tolerance"
        );
    }

    #[test]
    fn repeated_member_names_pair_in_order() {
        let mut out = Vec::new();
        diff(&j(r#"{"a":1,"a":2}"#), &j(r#"{"a":2}"#), &rules(), &mut out);
        let got: Vec<(&str, Change)> = out.iter().map(|d| (d.path.as_str(), d.change)).collect();
        assert_eq!(got, [("/a", Change::Changed), ("/a", Change::Removed)]);
        assert!(same(
            &j(r#"{"a":1,"b":0,"a":2}"#),
            &j(r#"{"b":0,"a":1,"a":2}"#),
            &rules()
        ));
    }

    #[test]
    fn large_objects_pair_through_the_map() {
        let members = |skip: usize| -> String {
            let body: Vec<String> = (0..100)
                .filter(|i| *i != skip)
                .map(|i| format!("\"k{i}\":{i}"))
                .collect();
            format!("{{{}}}", body.join(","))
        };
        let mut out = Vec::new();
        diff(&j(&members(1000)), &j(&members(7)), &rules(), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].path.as_str(), out[0].change),
            ("/k7", Change::Removed)
        );
    }

    #[test]
    fn fingerprints_follow_the_rules() {
        let mut r = rules();
        r.ignore = vec![Pattern::parse("/ts").unwrap()];
        assert_eq!(
            fingerprint(&j(r#"{"ts":1,"a":100}"#), &r),
            fingerprint(&j(r#"{"a":1e2,"ts":2}"#), &r)
        );
        assert_ne!(
            fingerprint(&j(r#"{"a":1}"#), &r),
            fingerprint(&j(r#"{"a":2}"#), &r)
        );
        r.float_tolerance = 0.1;
        assert_eq!(
            fingerprint(&j(r#"{"a":1}"#), &r),
            fingerprint(&j(r#"{"a":1.05}"#), &r)
        );
    }
}
