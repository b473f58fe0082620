//! The second hostile trial's false passes: a comparison that looked at
//! nothing real (a file against itself, `--ignore ""` from an unset
//! variable) or a tolerance that hid 64-bit ids' changes.

use common::testkit::{gate, summary};

use crate::util::{run, write};

#[test]
fn float_tolerance_no_longer_hides_a_changed_64_bit_id() {
    let dir = tempfile::tempdir().unwrap();
    let g = write(
        dir.path(),
        "g.jsonl",
        "{\"id\":1234567890123456789,\"latency\":0.51}\n",
    );
    let r = write(
        dir.path(),
        "r.jsonl",
        "{\"id\":1234567890123456700,\"latency\":0.5100001}\n",
    );
    let (code, records, stderr) = run(&[&g, &r, "--float-tolerance", "0.001"]);
    assert_eq!(code, 1, "{stderr}");
    let divergences: Vec<_> = records
        .iter()
        .filter(|r| r["kind"] == "divergence")
        .collect();
    assert_eq!(divergences.len(), 1, "{records:?}");
    assert_eq!(divergences[0]["path"], "/id");
    assert_eq!(gate(summary(&records), "divergences")["value"], 1.0);
    // Integers just past 2^53 are told apart too.
    let g = write(dir.path(), "g2.jsonl", "{\"n\":9007199254740993}\n");
    let r = write(dir.path(), "r2.jsonl", "{\"n\":9007199254740992}\n");
    assert_eq!(run(&[&g, &r, "--float-tolerance", "0.5"]).0, 1);
    assert_eq!(run(&[&g, &r, "--float-tolerance", "1"]).0, 0);
}

#[test]
fn a_file_compared_with_itself_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let g = write(dir.path(), "g.jsonl", "{\"a\":1}\n");
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&g, &link).unwrap();
    let hard = dir.path().join("hard.jsonl");
    std::fs::hard_link(&g, &hard).unwrap();
    for other in [g.as_str(), link.to_str().unwrap(), hard.to_str().unwrap()] {
        let (code, records, stderr) = run(&[&g, other]);
        assert_eq!(code, 2, "{other}: {stderr}");
        assert!(records.is_empty());
        assert!(
            stderr.contains("are the same file") && stderr.contains("proves nothing"),
            "{stderr}"
        );
    }
    // A copy with the same bytes is a real comparison, and passes.
    let copy = write(dir.path(), "copy.jsonl", "{\"a\":1}\n");
    assert_eq!(run(&[&g, &copy]).0, 0);
}

#[test]
fn an_empty_ignore_pointer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let g = write(dir.path(), "g.jsonl", "{\"a\":1}\n");
    let r = write(dir.path(), "r.jsonl", "{\"a\":2}\n");
    let (code, _, stderr) = run(&[&g, &r, "--ignore", ""]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--ignore \"\": the whole record"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["run", "--ignore", "", "--", "echo", "{}"]);
    assert_eq!(code, 2, "{stderr}");
}
