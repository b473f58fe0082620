//! Regression (issue 14, item 12): `timeline --skip-invalid` on 2 x 1 GB
//! JSON Lines reached 15.7 GB RSS; it held every event in memory. Now the
//! events are sorted within `--buffer-size` and spill to sorted runs, so
//! peak memory does not grow with the input. This file holds one test, so
//! the children's peak RSS that getrusage reports is this run's alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "util.rs"]
mod util;

use std::fs;
use std::io::Write;

use util::*;

/// Two files of interleaved, shuffled times; returns the line count.
fn incident(w: &Work, lines_per_file: u64) -> u64 {
    fs::create_dir(w.path("inc")).unwrap();
    let mut x = 7u64;
    for name in ["app.jsonl", "proxy.jsonl"] {
        let mut f = std::io::BufWriter::new(fs::File::create(w.path("inc").join(name)).unwrap());
        for i in 0..lines_per_file {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let ms = 1_700_000_000_000 + (x >> 33) % 86_400_000;
            writeln!(
                f,
                "{{\"ts\":{ms},\"level\":\"info\",\"msg\":\"request {i} served\",\"pad\":\"{}\"}}",
                "p".repeat(120)
            )
            .unwrap();
        }
        // A malformed line, skipped and reported.
        writeln!(f, "{{\"ts\":").unwrap();
    }
    2 * lines_per_file
}

#[test]
fn timeline_memory_does_not_grow_with_the_input() {
    let w = Work::new();
    let n = incident(&w, 100_000); // 2 x ~19 MB
    let out_path = w.path("timeline.jsonl");
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("bundle-seal"))
        .current_dir(w.tmp.path())
        .args(["timeline", "inc", "--skip-invalid", "--buffer-size", "1M"])
        .stdout(fs::File::create(&out_path).unwrap())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "two invalid lines fail the gate");
    let usage =
        nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
    let peak_mib = usage.max_rss() / 1024; // kilobytes on Linux
    let text = fs::read_to_string(&out_path).unwrap();
    let recs = jsonl(text.as_bytes());
    let events = of_kind(&recs, "event");
    assert_eq!(events.len() as u64, n);
    let keys: Vec<((i64, u32), String, u64)> = events
        .iter()
        .map(|e| {
            (
                bundle_seal::timeline::parse_time(&e["at"]).unwrap(),
                e["source"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        keys.windows(2).all(|p| p[0] <= p[1]),
        "time, then file, then line order"
    );
    let s = summary(&recs);
    assert_eq!(s["figures"]["invalid"], 2);
    assert!(
        s["figures"]["sorted_runs_spilled"].as_u64().unwrap() > 20,
        "{s}"
    );
    // The input is 38 MB; holding it as values took about 8x that (431 MB
    // RSS for 56 MB before this change).
    assert!(peak_mib < 40, "peak RSS {peak_mib} MiB");
}
