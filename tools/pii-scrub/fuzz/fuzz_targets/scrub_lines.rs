//! Fuzzes the line scrubber end to end (text lines, JSON lines, PEM state,
//! URL decoding, quarantine): it must never panic, and a JSON object line
//! that was valid JSON must still be valid JSON after scrubbing. A second
//! engine scrubs unparsable JSON-looking lines as text and builds masked
//! snippets (`--dry-run --format text`); the key-value pair parser and the
//! URL userinfo parser are also run at every position, and their spans must
//! lie inside the input.
#![no_main]

use std::sync::OnceLock;

use clap::Parser;
use libfuzzer_sys::fuzz_target;
use pii_scrub::cli::Cli;
use pii_scrub::config::Config;
use pii_scrub::detectors::{cmdline, keys, pairs, validate};
use pii_scrub::process::{self, Event, Failure};

static CONFIG: OnceLock<Config> = OnceLock::new();
static TEXT_CONFIG: OnceLock<Config> = OnceLock::new();

fn config(args: &[&str]) -> Config {
    let mut all = vec!["pii-scrub", "--max-line", "4096", "--max-findings", "50"];
    all.extend_from_slice(args);
    Config::from_cli(Cli::parse_from(all)).expect("fuzz configuration")
}

fuzz_target!(|data: &[u8]| {
    let cfg = CONFIG.get_or_init(|| config(&[]));
    let mut out: Vec<u8> = Vec::new();
    let mut quarantined = Vec::new();
    let mut reader = data;
    let result = process::process(&cfg.engine, "fuzz", &mut reader, Some(&mut out), "out", false, &mut |ev| {
        if let Event::Quarantined { line, .. } = ev {
            quarantined.push(line);
        }
        Ok(())
    });
    // The input may be refused (UTF-16); writing to memory cannot fail.
    let refused = match result {
        Ok(_) => false,
        Err(Failure::Input(_)) => {
            assert!(out.is_empty(), "a refused input wrote nothing");
            true
        }
        Err(Failure::Output(e)) => panic!("in-memory scrubbing cannot fail: {e}"),
    };
    // Single valid JSON object lines stay valid JSON.
    if !refused && !data.contains(&b'\n') && !quarantined.contains(&1) {
        if let Ok(serde_json::Value::Object(_)) = serde_json::from_slice::<serde_json::Value>(data) {
            if data.trim_ascii().starts_with(b"{") && data.trim_ascii().ends_with(b"}") {
                serde_json::from_slice::<serde_json::Value>(&out).expect("scrubbed JSON line is still JSON");
            }
        }
    }

    // Invalid JSON as text, snippets, --allow-key: never a panic.
    let text_cfg = TEXT_CONFIG.get_or_init(|| {
        config(&["--dry-run", "--format", "text", "--on-invalid-json", "text", "--allow-key", "session"])
    });
    let mut reader = data;
    let result = process::process(&text_cfg.engine, "fuzz", &mut reader, None, "out", false, &mut |ev| {
        if let Event::Finding { finding, .. } = ev {
            assert!(finding.start <= finding.end);
            assert!(finding.snippet.is_some(), "dry-run text findings carry a snippet");
        }
        Ok(())
    });
    assert!(!matches!(result, Err(Failure::Output(_))), "no output to fail");

    // The parsers on their own, at every position.
    for i in 0..data.len().min(512) {
        for field in [keys::Field::Secret, keys::Field::Phone, keys::Field::Identity] {
            if let Some(p) = pairs::named_pair(data, i, field) {
                assert!(p.key.start <= p.key.end && p.key.end <= data.len());
                // An open YAML value (on the next lines) is empty here.
                assert!(p.value.start < p.value.end || p.open.is_some());
                assert!(p.value.start <= p.value.end && p.value.end <= data.len());
            }
        }
        if data[i..].starts_with(b"--") {
            if let Some(r) = cmdline::option_value(data, i) {
                assert!(r.start < r.end && r.end <= data.len());
            }
        }
        if let Some(r) = cmdline::tool_password(data, i) {
            assert!(r.start < r.end && r.end <= data.len());
        }
        if data[i..].starts_with(b"://") {
            if let Some(colon) = data[i + 3..].iter().position(|&b| b == b':') {
                if let Some(r) = validate::url_credentials(data, 0..i + 3 + colon + 1) {
                    assert!(r.start <= r.end && r.end <= data.len());
                }
            }
        }
    }
});
