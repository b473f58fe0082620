//! A deterministic smoke fuzz of the structured-format handling (escapes,
//! YAML next-line values, XML elements and attributes, name/value entries,
//! byte arrays, non-ASCII emails, UTF-16 lines): inputs glued together from
//! fragments that meet those code paths, from a fixed seed. Scrubbing must
//! not panic, a valid JSON object line stays valid JSON, the pair parser's
//! spans lie inside the input, and a scrubbed output scrubs to itself. The
//! libFuzzer target (fuzz/) explores further; this runs in every `cargo test`.
//! Personal values stand apart (a blank before, a line end after): a value
//! glued to another (`bob@acme.com+44 20 7946 0958`, `4111… token: x`) is
//! judged by its neighbours, which scrubbing changes, so a second pass can
//! find more (known, README).

use clap::Parser;
use pii_scrub::cli::Cli;
use pii_scrub::config::Config;
use pii_scrub::detectors::{keys, pairs};
use pii_scrub::process::{self, Event, Failure};

const FRAGMENTS: &[&str] = &[
    "password",
    "Password",
    "token",
    "api_key",
    ":",
    ": ",
    "=",
    "\n",
    "\r\n",
    "  ",
    "    ",
    "- ",
    "|",
    ">-",
    "# c",
    "\"",
    "'",
    "<",
    ">",
    "</",
    "/>",
    "<password>",
    "</password>",
    "<wsse:Password Type=\"x\">",
    "<add key=\"Password\" value=\"",
    "name=",
    "value=",
    "\\x22",
    "\\x0A",
    "\\u0022",
    "\\u00e9",
    "\\ud83d\\ude00",
    "\\",
    "%40",
    " bob@acme.com\n",
    "josé",
    "@exämple.com",
    "«",
    "—",
    " +44 (0)20 7946 0958\n",
    "(0)",
    " 4111111111111111\n",
    " 123-45-6789\n",
    "hunter2",
    "{\"name\":\"password\",\"value\":\"x1\"}",
    "{\"value\":\"x2\",\"name\":\"DB_PASSWORD\"}",
    "[\"Authorization\",\"Basic abc\"]",
    "[108,111,103,64,97,46,99,111]",
    "[1,2,3,4,5,6,7]",
    "{\"",
    "\":",
    ",",
    "[",
    "]",
    "{",
    "}",
    "\0",
    "a\0b\0c\0d\0",
    "\u{ff}",
    " ",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn config(args: &[&str]) -> Config {
    let mut all = vec!["pii-scrub", "--max-line", "4096", "--max-findings", "50"];
    all.extend_from_slice(args);
    Config::from_cli(Cli::parse_from(all)).unwrap()
}

/// Scrubs `data`; the output and the quarantined line numbers, or None
/// when the input was refused (UTF-16 at its start).
fn scrub(cfg: &Config, data: &[u8]) -> Option<(Vec<u8>, Vec<u64>)> {
    let mut out = Vec::new();
    let mut quarantined = Vec::new();
    let mut reader = data;
    let result = process::process(
        &cfg.engine,
        "smoke",
        &mut reader,
        Some(&mut out),
        "out",
        false,
        &mut |ev| {
            if let Event::Quarantined { line, .. } = ev {
                quarantined.push(line);
            }
            Ok(())
        },
    );
    match result {
        Ok(_) => Some((out, quarantined)),
        Err(Failure::Input(_)) => None,
        Err(Failure::Output(e)) => panic!("in-memory output failed: {e}"),
    }
}

#[test]
fn structured_inputs_never_panic_stay_json_and_scrub_to_themselves() {
    let cfg = config(&[]);
    let text_cfg = config(&["--dry-run", "--format", "text", "--on-invalid-json", "text"]);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..5000 {
        let n = 1 + rng.below(14);
        let mut data = String::new();
        if case % 3 == 0 {
            // A JSON object line around the fragments, as a string value.
            let mut inner = String::new();
            for _ in 0..n {
                inner.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
            }
            data = serde_json::json!({ "msg": inner, "k": [1, 2] }).to_string();
        } else {
            for _ in 0..n {
                data.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
            }
        }
        let bytes = data.as_bytes();
        let Some((out, quarantined)) = scrub(&cfg, bytes) else {
            continue;
        };
        let _ = scrub(&text_cfg, bytes);
        if case % 3 == 0 {
            assert!(quarantined.is_empty(), "{data:?}");
            let v: serde_json::Value = serde_json::from_slice(&out)
                .unwrap_or_else(|e| panic!("{data:?} -> {:?}: {e}", String::from_utf8_lossy(&out)));
            assert!(v.is_object());
        }
        if quarantined.is_empty() {
            let (again, _) = scrub(&cfg, &out).unwrap();
            assert!(
                again == out,
                "not idempotent: {data:?} -> {:?} -> {:?}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&again)
            );
        }
        for i in 0..bytes.len() {
            for field in [
                keys::Field::Secret,
                keys::Field::Phone,
                keys::Field::Identity,
            ] {
                if let Some(p) = pairs::named_pair(bytes, i, field) {
                    assert!(p.key.start <= p.key.end && p.key.end <= bytes.len());
                    assert!(p.value.start <= p.value.end && p.value.end <= bytes.len());
                    assert!(p.value.start < p.value.end || p.open.is_some(), "{data:?}");
                }
            }
        }
    }
}
