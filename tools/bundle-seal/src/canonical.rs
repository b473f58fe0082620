//! Canonical JSON in the style of RFC 8785 (JCS): object members sorted by
//! their UTF-16 code units, no whitespace, strings escaped as ECMAScript's
//! `JSON.stringify` does, numbers in ECMAScript's shortest form. Receipts
//! are hashed over this form, so re-encoding a record (key order, spacing,
//! `1.0` vs `1`) does not change its hash.

use std::fmt::Write as _;

use serde_json::Value;

/// sha256 (hex) of the canonical text: equal for equal values however
/// they were spaced or ordered.
pub fn sha256(value: &Value) -> String {
    common::digest::sha256_hex(to_string(value).as_bytes())
}

/// The canonical text of `value`.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                write_number(out, i as f64, Some(i.to_string()));
            } else if let Some(u) = n.as_u64() {
                write_number(out, u as f64, Some(u.to_string()));
            } else {
                write_number(out, n.as_f64().unwrap_or(f64::NAN), None);
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

/// Integers that an IEEE double holds exactly print as integers; larger ones
/// go through the double, as JCS requires.
fn write_number(out: &mut String, x: f64, exact: Option<String>) {
    if let Some(text) = exact {
        if x.abs() < 9_007_199_254_740_992.0 {
            out.push_str(&text);
            return;
        }
    }
    out.push_str(&es_number(x));
}

/// ECMAScript `Number.prototype.toString` for a finite double.
pub fn es_number(x: f64) -> String {
    if !x.is_finite() {
        // JSON has no NaN/Infinity; serde_json never yields them.
        return "null".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let sci = format!("{:e}", x.abs()); // shortest round-trip digits: "1.2345e-7"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let k = digits.len() as i32;
    let n = exp + 1;
    let mut s = String::new();
    if x < 0.0 {
        s.push('-');
    }
    if k <= n && n <= 21 {
        s.push_str(&digits);
        s.push_str(&"0".repeat((n - k) as usize));
    } else if 0 < n && n <= 21 {
        s.push_str(&digits[..n as usize]);
        s.push('.');
        s.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        s.push_str("0.");
        s.push_str(&"0".repeat((-n) as usize));
        s.push_str(&digits);
    } else {
        s.push_str(&digits[..1]);
        if k > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push('e');
        s.push(if n > 0 { '+' } else { '-' });
        let _ = write!(s, "{}", (n - 1).abs());
    }
    s
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_follow_ecmascript() {
        let cases = [
            (0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (123.456, "123.456"),
            (4.5e-10, "4.5e-10"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (x, want) in cases {
            assert_eq!(es_number(x), want, "{x}");
        }
    }

    #[test]
    fn rfc8785_example_shapes() {
        let v: Value = serde_json::from_str(
            r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],
                "string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#,
        )
        .unwrap();
        assert_eq!(
            to_string(&v),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn keys_sort_by_utf16_and_order_does_not_matter() {
        let a = json!({"b":1,"a":{"y":[1,2],"x":null},"\u{e9}":0,"\u{1f600}":1,"\u{ff61}":2});
        let b: Value = serde_json::from_str(&to_string(&a)).unwrap();
        assert_eq!(to_string(&a), to_string(&b));
        // U+1F600 is a surrogate pair (0xD83D...) and sorts before U+FF61.
        assert!(
            to_string(&a).ends_with(r#""é":0,"😀":1,"｡":2}"#),
            "{}",
            to_string(&a)
        );
    }
}
