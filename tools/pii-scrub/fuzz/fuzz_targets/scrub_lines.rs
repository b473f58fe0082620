//! Fuzzes the line scrubber end to end (text lines, JSON lines, PEM state,
//! URL decoding, quarantine): it must never panic, and a JSON object line
//! that was valid JSON must still be valid JSON after scrubbing.
#![no_main]

use std::sync::OnceLock;

use clap::Parser;
use libfuzzer_sys::fuzz_target;
use pii_scrub::cli::Cli;
use pii_scrub::config::Config;
use pii_scrub::process::{self, Event};

static CONFIG: OnceLock<Config> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let cfg = CONFIG.get_or_init(|| {
        Config::from_cli(Cli::parse_from(["pii-scrub", "--max-line", "4096", "--max-findings", "50"]))
            .expect("default configuration")
    });
    let mut out: Vec<u8> = Vec::new();
    let mut quarantined = Vec::new();
    let mut reader = data;
    process::process(&cfg.engine, "fuzz", &mut reader, Some(&mut out), "out", false, &mut |ev| {
        if let Event::Quarantined { line, .. } = ev {
            quarantined.push(line);
        }
        Ok(())
    })
    .unwrap_or_else(|_| panic!("in-memory scrubbing cannot fail"));
    // Single valid JSON object lines stay valid JSON.
    if !data.contains(&b'\n') && !quarantined.contains(&1) {
        if let Ok(serde_json::Value::Object(_)) = serde_json::from_slice::<serde_json::Value>(data) {
            if data.trim_ascii().starts_with(b"{") && data.trim_ascii().ends_with(b"}") {
                serde_json::from_slice::<serde_json::Value>(&out).expect("scrubbed JSON line is still JSON");
            }
        }
    }
});
