//! Property tests: any generated JSON value diffed against itself has no
//! divergence, and changing one leaf yields exactly one divergence at that
//! leaf's pointer, through both the full comparison and the raw fast path;
//! values survive our parser unchanged; numbers are equal exactly when their
//! decimal values are, however they are written.

use common::pointer::{render, Seg};
use proptest::prelude::*;
use replay_diff::compare::{diff, Change, Rules};
use replay_diff::json::Json;
use replay_diff::{compare_in_memory, lockstep, number};
use serde_json::{Map, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z~/\"\\\\ é\u{1F600}]{0,8}".prop_map(Value::String),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z~/]{1,5}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every leaf's path (as owned segments).
fn leaves(
    v: &Value,
    path: &mut Vec<(Option<String>, usize)>,
    out: &mut Vec<Vec<(Option<String>, usize)>>,
) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, c) in m {
                path.push((Some(k.clone()), 0));
                leaves(c, path, out);
                path.pop();
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, c) in a.iter().enumerate() {
                path.push((None, i));
                leaves(c, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn leaf_mut<'v>(v: &'v mut Value, path: &[(Option<String>, usize)]) -> &'v mut Value {
    path.iter().fold(v, |cur, (k, i)| match k {
        Some(k) => cur.get_mut(k.as_str()).unwrap(),
        None => cur.get_mut(*i).unwrap(),
    })
}

/// A value surely different from `v`.
fn other_than(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(format!("{s}!")),
        Value::Number(n) if n.as_i64() == Some(7) => Value::from(8),
        _ => Value::from(7),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn identical_values_have_no_divergence(v in json()) {
        let compact = serde_json::to_string(&v).unwrap();
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let parsed = Json::parse(&compact).unwrap();
        prop_assert_eq!(parsed.to_string(), compact.clone(), "our parser keeps every value as written");
        prop_assert_eq!(&Json::parse(&pretty).unwrap(), &parsed);
        let mut out = Vec::new();
        diff(&parsed, &parsed, &Rules::default(), &mut out);
        prop_assert!(out.is_empty());
        prop_assert!(lockstep::same(compact.as_bytes(), compact.as_bytes(), &[]));
        prop_assert!(lockstep::same(compact.as_bytes(), pretty.as_bytes(), &[]));
    }

    #[test]
    fn one_changed_leaf_is_one_divergence_at_its_pointer(v in json(), pick in any::<prop::sample::Index>()) {
        let mut all = Vec::new();
        leaves(&v, &mut Vec::new(), &mut all);
        let path = pick.get(&all).clone();
        let mut changed = v.clone();
        let slot = leaf_mut(&mut changed, &path);
        let (old, new) = (slot.clone(), other_than(slot));
        *slot = new.clone();

        let mut out = Vec::new();
        let (jv, jc) = (Json::from_value(&v), Json::from_value(&changed));
        diff(&jv, &jc, &Rules::default(), &mut out);
        prop_assert_eq!(out.len(), 1, "{:?}", out);
        let segs: Vec<Seg<'_>> = path
            .iter()
            .map(|(k, i)| match k { Some(k) => Seg::Key(k.as_str()), None => Seg::Index(*i) })
            .collect();
        prop_assert_eq!(&out[0].path, &render(&segs));
        let same_type = std::mem::discriminant(&old) == std::mem::discriminant(&new);
        prop_assert_eq!(out[0].change, if same_type { Change::Changed } else { Change::TypeChanged });
        prop_assert_eq!(out[0].golden.clone(), Some(Json::from_value(&old)));
        prop_assert_eq!(out[0].replay.clone(), Some(Json::from_value(&new)));

        let a = serde_json::to_string(&v).unwrap();
        let b = serde_json::to_string(&changed).unwrap();
        prop_assert!(!lockstep::same(a.as_bytes(), b.as_bytes(), &[]));
    }
}

/// `digits` (an integer) written as `digits × 10^shift` in one of several
/// notations that all mean the same decimal value.
fn spellings(negative: bool, digits: &str, shift: i32) -> Vec<String> {
    let sign = if negative { "-" } else { "" };
    let mut out = vec![
        format!("{sign}{digits}e{shift}"),
        format!("{sign}{digits}0E{}", shift - 1),
    ];
    if shift >= 0 {
        out.push(format!("{sign}{digits}{}", "0".repeat(shift as usize)));
        out.push(format!("{sign}{digits}{}.000", "0".repeat(shift as usize)));
    } else {
        let k = (-shift) as usize;
        let padded = format!("{}{digits}", "0".repeat(k + 1));
        let (int, frac) = padded.split_at(padded.len() - k);
        let int = int.trim_start_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        out.push(format!("{sign}{int}.{frac}"));
        out.push(format!("{sign}{int}.{frac}00e+0"));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn numbers_are_equal_exactly_when_their_values_are(
        a in "[1-9][0-9]{0,40}", b in "[1-9][0-9]{0,40}",
        sa in -30i32..30, sb in -30i32..30, na: bool, nb: bool,
    ) {
        // a×10^sa = b×10^sb ⇔ same sign and, trailing zeros moved into the
        // exponent, the same digits and exponent.
        let norm = |d: &str, s: i32| {
            let t = d.trim_end_matches('0');
            (t.to_string(), s + (d.len() - t.len()) as i32)
        };
        let equal = na == nb && norm(&a, sa) == norm(&b, sb);
        for x in spellings(na, &a, sa) {
            for y in spellings(na, &a, sa) {
                prop_assert!(number::exact_eq(&x, &y), "{} vs {}", x, y);
            }
            for y in spellings(nb, &b, sb) {
                prop_assert_eq!(number::exact_eq(&x, &y), equal, "{} vs {}", x, y);
                let (jx, jy) = (Json::parse(&x).unwrap(), Json::parse(&y).unwrap());
                let mut out = Vec::new();
                diff(&jx, &jy, &Rules::default(), &mut out);
                prop_assert_eq!(out.is_empty(), equal);
            }
        }
    }
}

/// What the `compare` fuzz target checks, for one input: no panic, and every
/// record read is compared with a partner or reported missing/extra.
fn accounts_for_every_record(golden: &[u8], replay: &[u8]) -> Result<(), TestCaseError> {
    for args in [
        &[][..],
        &["--skip-invalid"][..],
        &["--skip-invalid", "--key", "/id"][..],
        &["--key", "/id", "--key", "/k/0", "--ignore", "/ts"][..],
    ] {
        let Ok(cmp) = compare_in_memory(golden, replay, args) else {
            continue;
        };
        let t = cmp.tally;
        prop_assert_eq!(t.records_golden, t.compared + t.missing, "{:?}", args);
        prop_assert_eq!(t.records_replay, t.compared + t.extra, "{:?}", args);
        prop_assert!(t.identical <= t.compared);
    }
    Ok(())
}

/// Lines of the kinds that have broken the tool before.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0u8..30, any::<bool>()).prop_map(|(id, ts)| {
            if ts { format!("{{\"id\":{id},\"ts\":{id}}}") } else { format!("{{\"id\":{id},\"k\":[{id}]}}") }
        }),
        1 => Just("{\"v\":\"no key\"}".to_string()),
        1 => Just("not json".to_string()),
        1 => Just("{\"id\":1e999}".to_string()),
        1 => Just("{\"id\":\"\\ud800\"}".to_string()),
        1 => (120usize..140).prop_map(|n| format!("{{\"id\":1,\"d\":{}{}}}", "[".repeat(n), "]".repeat(n))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_two_inputs_are_compared_without_panic_and_fully_accounted_for(
        golden in prop::collection::vec(line(), 0..40),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>(), line()), 0..6),
    ) {
        let mut replay = golden.clone();
        for (at, insert, text) in edits {
            if insert || replay.is_empty() {
                let i = at.index(replay.len() + 1);
                replay.insert(i, text);
            } else {
                let i = at.index(replay.len());
                replay.remove(i);
            }
        }
        let g: String = golden.iter().map(|l| format!("{l}\n")).collect();
        let r: String = replay.iter().map(|l| format!("{l}\n")).collect();
        accounts_for_every_record(g.as_bytes(), r.as_bytes())?;
    }
}

#[test]
fn the_fuzz_seeds_pass_the_fuzz_checks() {
    let dir = common::testkit::workspace_root().join("tools/replay-diff/fuzz/seeds/compare");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
        let replay = data.get(split + 1..).unwrap_or_default();
        accounts_for_every_record(&data[..split], replay).unwrap();
        seen += 1;
    }
    assert!(seen >= 4, "seeds in {}", dir.display());
}
