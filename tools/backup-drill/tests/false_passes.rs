//! False passes found by the second hostile trial (TRIAL2-FINDINGS items 2,
//! 3, 4 and 9): each test failed on the code before its fix. A drill that
//! left data out, backed up nothing, stored a torn file or judged a
//! snapshot from the future must not pass.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::util::*;
use serde_json::Value;

fn skipped(records: &[Value]) -> Vec<(String, String, String)> {
    of_kind(records, "skipped")
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["type"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Item 2: a Latin-1 directory name (`Kundenverträge` written by an old
/// Samba share) lost the whole directory, and the drill passed; then it
/// failed `not_backed_up`, so such a tree could not be drilled at all. Now
/// the names are stored as bytes (tests/names.rs checks them byte for byte).
#[test]
fn non_utf8_names_are_backed_up_not_left_out() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let latin1 = data.join(OsStr::from_bytes(b"Kundenvertr\xe4ge"));
    for i in 1..=3 {
        write(
            &latin1.join(format!("{i}.pdf")),
            format!("c{i}\n").as_bytes(),
            0o644,
        );
    }
    write(&data.join("a.txt"), b"x\n", 0o644);
    write(
        &data.join(OsStr::from_bytes(b"caf\xe9.txt")),
        b"cafe\n",
        0o644,
    );

    let (code, records, stderr) = run(&["--source", p(&data)]);
    assert_eq!(code, 0, "{stderr} {records:?}");
    assert_eq!(skipped(&records), vec![]);
    let s = summary(&records);
    let g = gate(s, "not_backed_up");
    assert_eq!(
        (g["value"].as_f64(), g["pass"].as_bool()),
        (Some(0.0), Some(true))
    );
    assert_eq!(s["verdict"], "pass");
    let f = &s["figures"];
    assert_eq!(
        (f["files"].as_u64(), f["mismatches"].as_u64()),
        (Some(5), Some(0))
    );

    // The `backup` subcommand, and a drill of that snapshot without a new
    // backup, judge it the same way.
    let repo = tmp.path().join("repo");
    let (code, records, _) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0, "{records:?}");
    assert_eq!(summary(&records)["figures"]["files"], 5);
    let (code, records, _) = run(&["drill", "--repo", p(&repo), "--no-backup"]);
    assert_eq!(code, 0, "{records:?}");
    assert_eq!(summary(&records)["figures"]["files"], 5);
    assert_eq!(gate(summary(&records), "not_backed_up")["value"], 0.0);

    // A snapshot of an older build, which left such a directory out, still
    // fails the gate when drilled.
    let plain = tmp.path().join("plain");
    write(&plain.join("a.txt"), b"x\n", 0o644);
    let old = tmp.path().join("old-repo");
    let (code, _, _) = run(&["backup", "--repo", p(&old), "--source", p(&plain)]);
    assert_eq!(code, 0);
    let manifest = only_manifest(&old);
    let text = fs::read_to_string(&manifest).unwrap();
    let body: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains(r#""kind":"end""#))
        .collect();
    let left_out = r#"{"kind":"skipped","path":"plain/Kundenvertr\\xe4ge","type":"dir","reason":"file name is not UTF-8"}"#;
    fs::write(
        &manifest,
        seal(&format!("{}\n{left_out}\n", body.join("\n"))),
    )
    .unwrap();
    let (code, records, err) = run(&["drill", "--repo", p(&old), "--no-backup"]);
    assert_eq!(code, 1, "{err} {records:?}");
    let g = gate(summary(&records), "not_backed_up");
    assert_eq!(
        (g["value"].as_f64(), g["pass"].as_bool()),
        (Some(1.0), Some(false))
    );

    // Special files carry no content: skipped, never counted.
    let fifo_tree = tmp.path().join("fifo-tree");
    write(&fifo_tree.join("a.txt"), b"a", 0o644);
    nix::unistd::mkfifo(
        &fifo_tree.join("pipe"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    let (code, records, _) = run(&["--source", p(&fifo_tree)]);
    assert_eq!(code, 0, "{records:?}");
    assert_eq!(gate(summary(&records), "not_backed_up")["value"], 0.0);
}

/// Item 3: an empty source (a mount that failed) passed with files 0.
#[test]
fn an_empty_source_fails_the_files_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let (code, records, stderr) = run(&["--source", p(&empty)]);
    assert_eq!(code, 1, "{stderr} {records:?}");
    let g = gate(summary(&records), "files");
    assert_eq!(g["op"], ">=");
    assert_eq!(
        (
            g["limit"].as_f64(),
            g["value"].as_f64(),
            g["pass"].as_bool()
        ),
        (Some(1.0), Some(0.0), Some(false))
    );
    let (code, records, _) = run(&[
        "backup",
        "--repo",
        p(&tmp.path().join("r")),
        "--source",
        p(&empty),
    ]);
    assert_eq!(code, 1, "{records:?}");
    assert_eq!(gate(summary(&records), "files")["value"], 0.0);
    // An empty tree on purpose is said so.
    let (code, records, _) = run(&["--source", p(&empty), "--min-files", "0"]);
    assert_eq!(code, 0, "{records:?}");
}

/// Item 3: a 0-byte database file (truncated, never initialised) passed
/// as a database with no tables.
#[test]
fn an_empty_database_fails_the_empty_databases_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(&data.join("a.txt"), b"a", 0o644);
    let zero = tmp.path().join("zero.db");
    fs::write(&zero, b"").unwrap();
    let (code, records, stderr) = run(&["--source", p(&data), "--sqlite", p(&zero)]);
    assert_eq!(code, 1, "{stderr} {records:?}");
    let g = gate(summary(&records), "empty_databases");
    assert_eq!(
        (
            g["limit"].as_f64(),
            g["value"].as_f64(),
            g["pass"].as_bool()
        ),
        (Some(0.0), Some(1.0), Some(false))
    );
    // A real database next to it is not counted.
    let real = tmp.path().join("app.db");
    sample_db(&real, 3);
    let (code, records, _) = run(&["--source", p(&data), "--sqlite", p(&real)]);
    assert_eq!(code, 0, "{records:?}");
    assert_eq!(gate(summary(&records), "empty_databases")["value"], 0.0);
}

/// Item 3: a backup hook whose dump went elsewhere (exit 0, nothing in
/// $BACKUP_DRILL_OUT) passed with files 0, bytes 0.
#[test]
fn a_backup_cmd_that_wrote_nothing_fails_the_hook_output_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere.sql");
    let cmd = format!("echo dump > {}; true", elsewhere.display());
    let repo = tmp.path().join("r2");
    let (code, records, stderr) = run(&["--repo", p(&repo), "--backup-cmd", &cmd]);
    assert_eq!(code, 1, "{stderr} {records:?}");
    let s = summary(&records);
    let g = gate(s, "hook_bytes");
    assert_eq!(
        (
            g["op"].as_str(),
            g["limit"].as_f64(),
            g["value"].as_f64(),
            g["pass"].as_bool()
        ),
        (Some(">="), Some(1.0), Some(0.0), Some(false))
    );
    assert_eq!(gate(s, "files")["pass"], false);
    // An empty file is nothing either.
    let (code, records, _) = run(&["--backup-cmd", ": > \"$BACKUP_DRILL_OUT/app.sql\""]);
    assert_eq!(code, 1, "{records:?}");
    assert_eq!(gate(summary(&records), "hook_bytes")["value"], 0.0);
    // A real dump passes.
    let (code, records, _) = run(&["--backup-cmd", "echo dump > \"$BACKUP_DRILL_OUT/app.sql\""]);
    assert_eq!(code, 0, "{records:?}");
    assert_eq!(gate(summary(&records), "hook_bytes")["value"], 5.0);
}

/// Item 4: a file rewritten while it was read was stored as a torn mix of
/// old and new bytes with no word (GNU tar: "file changed as we read it").
/// A writer thread keeps rewriting the file through the whole backup; both
/// reads see it change, so the file is named and the gate fails.
#[test]
fn a_file_rewritten_while_read_is_named_and_fails_the_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(&data.join("small.txt"), b"s", 0o644);
    let big = data.join("big.bin");
    // Large enough that each read (hash, then copy) takes a while even on
    // a fast machine; the writer never sleeps, so a read cannot miss it.
    write(&big, &vec![0u8; 48 << 20], 0o644);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, started, big) = (stop.clone(), started.clone(), big.clone());
        std::thread::spawn(move || {
            let f = fs::OpenOptions::new().write(true).open(&big).unwrap();
            let mut i: u64 = 1;
            while !stop.load(Ordering::Relaxed) {
                f.write_all_at(b"XXXXXXXXXX", (i * 100_003) % (48 << 20))
                    .unwrap();
                // The size changes too: a write seen only through the mtime
                // needs the kernel's clock to tick within the read, and at a
                // load of 9 a sleeping writer once missed one of the reads.
                f.set_len((48 << 20) + (i % 2)).unwrap();
                started.store(true, Ordering::Relaxed);
                i += 1;
                std::thread::yield_now();
            }
        })
    };
    while !started.load(Ordering::Relaxed) {
        std::thread::yield_now();
    }
    let out = bin()
        .args([
            "backup",
            "--repo",
            p(&tmp.path().join("repo")),
            "--source",
            p(&data),
        ])
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let (code, records, stderr) = decode(out);
    assert_eq!(code, 1, "{stderr} {records:?}");
    let changed = of_kind(&records, "changed");
    assert_eq!(changed.len(), 1, "{records:?}");
    assert_eq!(changed[0]["path"], "data/big.bin");
    assert_eq!(changed[0]["reason"], "changed during backup");
    let g = gate(summary(&records), "changed_during_backup");
    assert_eq!(
        (
            g["limit"].as_f64(),
            g["value"].as_f64(),
            g["pass"].as_bool()
        ),
        (Some(0.0), Some(1.0), Some(false))
    );
    // Still stored (as read, like tar), so nothing else is lost.
    assert_eq!(summary(&records)["figures"]["files"], 2);
}

/// Item 9: `drill --no-backup --max-rpo 6h` passed a snapshot dated a year
/// in the future (rpo_ms clamped to 0).
#[test]
fn a_snapshot_from_the_future_fails_the_rpo_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(&data.join("a.txt"), b"a", 0o644);
    let repo = tmp.path().join("repo");
    let (code, records, _) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0, "{records:?}");
    let manifest: PathBuf = only_manifest(&repo);
    let text = fs::read_to_string(&manifest).unwrap();
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.pop(); // the end record, re-made by seal()
    let year_ms = 365 * 24 * 3600 * 1000u64;
    let created = lines[0]["created_unix_ms"].as_u64().unwrap() + year_ms;
    lines[0]["created_unix_ms"] = created.into();
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    fs::set_permissions(
        &manifest,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    fs::write(&manifest, seal(&body)).unwrap();

    let (code, records, stderr) = run(&[
        "drill",
        "--repo",
        p(&repo),
        "--no-backup",
        "--max-rpo",
        "6h",
    ]);
    assert_eq!(code, 1, "{stderr} {records:?}");
    let s = summary(&records);
    let g = gate(s, "rpo_ms");
    assert_eq!(
        (g["value"].is_null(), g["pass"].as_bool()),
        (true, Some(false)),
        "{g}"
    );
    assert!(s["figures"]["rpo_ms"].is_null(), "{s}");
    let ahead = s["figures"]["snapshot_ahead_ms"].as_f64().unwrap();
    assert!(
        ahead > (year_ms - 3_600_000) as f64 && ahead <= year_ms as f64,
        "{ahead}"
    );
    assert!(stderr.contains("in the future"), "{stderr}");
    // Without --max-rpo there is no RPO gate, but the figure is still null
    // and the warning still given.
    let (_, records, stderr) = run(&["drill", "--repo", p(&repo), "--no-backup"]);
    assert!(summary(&records)["figures"]["rpo_ms"].is_null());
    assert!(stderr.contains("in the future"), "{stderr}");
}
