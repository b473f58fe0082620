//! A second hostile trial's false passes in what pii-scrub reports (not in
//! what it detects): a dry run that found data and said pass, archives and
//! double compression read as text, a run that read no line, files a
//! `--glob` left out without a word, empty flag values that switch a check
//! off, and personal data in the report's own pointers and file names.

use std::fs;
use std::path::Path;

use common::testkit::{gate, jsonl, of_kind, stderr_text, summary};
use serde_json::{json, Value};

use crate::util::cmd_in as cmd;

fn gate_names(s: &Value) -> Vec<String> {
    s["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect()
}

// ---- 31: --dry-run found an email and its summary said pass -----------------

#[test]
fn dry_run_with_findings_fails_its_summary_not_passes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("dl")).unwrap();
    fs::write(root.join("dl/app.log"), "user john.doe@example.com\n").unwrap();
    let out = cmd(root).args(["--dry-run", "dl/"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    assert_eq!(of_kind(&recs, "finding").len(), 1);
    let s = summary(&recs);
    assert_eq!(s["verdict"], "fail");
    assert_eq!(s["figures"]["findings"], 1);
    assert_eq!(s["figures"]["mode"], "dry_run");
    assert_eq!(
        gate(s, "findings"),
        &json!({"name":"findings","op":"<=","limit":0.0,"value":1.0,"pass":false})
    );
    assert_eq!(
        gate_names(s),
        ["findings", "quarantined", "errors", "files", "lines"]
    );
    // Text for people says the same.
    let out = cmd(root)
        .args(["--dry-run", "--format", "text", "dl/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    // The shared wording of a gate, as every tool prints it.
    assert!(text.contains("gate findings: 1 <= 0: FAIL\n"), "{text}");
    assert!(!text.contains("->"), "{text}");
    assert!(text.ends_with("verdict: fail\n"), "{text}");
    // A clean tree passes with the gate in it.
    fs::write(root.join("dl/app.log"), "user logged in\n").unwrap();
    let out = cmd(root).args(["--dry-run", "dl/"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(s["verdict"], "pass");
    assert_eq!(gate(&s, "findings")["pass"], true);
}

#[test]
fn a_filter_summary_says_it_is_a_filter_and_what_it_replaced() {
    // A filter that replaced what it found did its job (pass), but its
    // summary must not read as "the input is clean".
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let out = cmd(root)
        .args(["--report", "r.jsonl"])
        .write_stdin("user john.doe@example.com\nnothing\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(out.stdout, b"user [REDACTED:email]\nnothing\n");
    let recs = jsonl(&fs::read(root.join("r.jsonl")).unwrap());
    let s = summary(&recs);
    assert_eq!(s["verdict"], "pass");
    assert_eq!(s["figures"]["mode"], "filter");
    assert_eq!(s["figures"]["findings"], 1);
    assert_eq!(s["figures"]["lines_changed"], 1);
    // In text: the verdict line says what passed.
    let out = cmd(root)
        .args(["--format", "text"])
        .write_stdin("user john.doe@example.com\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = stderr_text(&out);
    assert!(
        err.ends_with(
            "verdict: pass (filter: 1 finding replaced in the output; the input still holds it)\n"
        ),
        "{err}"
    );
}

// ---- 27: a check that read no line passed ------------------------------------

#[test]
fn check_of_an_empty_stream_or_empty_files_fails_the_lines_gate() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let lines_gate = |value: f64, limit: f64| json!({"name":"lines","op":">=","limit":limit,"value":value,"pass":value >= limit});
    // `kubectl logs ... | pii-scrub --check -` with kubectl failing.
    for args in [
        &["--check", "-"][..],
        &["--check"][..],
        &["--dry-run", "-"][..],
    ] {
        let out = cmd(root).args(args).write_stdin("").output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            stderr_text(&out)
        );
        let s = summary(&jsonl(&out.stdout)).clone();
        assert_eq!(s["verdict"], "fail", "{args:?}");
        assert_eq!(gate(&s, "files")["pass"], true, "{args:?}");
        assert_eq!(gate(&s, "lines"), &lines_gate(0.0, 1.0), "{args:?}");
    }
    // A tree of empty files.
    fs::create_dir_all(root.join("empty")).unwrap();
    fs::write(root.join("empty/a.log"), "").unwrap();
    fs::write(root.join("empty/b.log"), "").unwrap();
    let out = cmd(root).args(["--check", "empty"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_text(&out));
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(s["figures"]["files"], 2);
    assert_eq!(gate(&s, "lines"), &lines_gate(0.0, 1.0));
    // One line anywhere is enough; --min-lines sets the bar, 0 accepts nothing.
    fs::write(root.join("empty/b.log"), "nothing here\n").unwrap();
    let out = cmd(root).args(["--check", "empty"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(
        gate(summary(&jsonl(&out.stdout)), "lines"),
        &lines_gate(1.0, 1.0)
    );
    let out = cmd(root)
        .args(["--check", "--min-lines", "2", "empty"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        gate(summary(&jsonl(&out.stdout)), "lines"),
        &lines_gate(1.0, 2.0)
    );
    let out = cmd(root)
        .args(["--check", "--min-lines", "0", "-"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(
        gate(summary(&jsonl(&out.stdout)), "lines"),
        &lines_gate(0.0, 0.0)
    );
    // A filter has the gate only when asked for.
    let out = cmd(root)
        .args(["--report", "r.jsonl"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = summary(&jsonl(&fs::read(root.join("r.jsonl")).unwrap())).clone();
    assert!(!gate_names(&s).contains(&"lines".to_string()));
    let out = cmd(root)
        .args(["--report", "r.jsonl", "--min-lines", "1"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

// ---- 26, 35: a tar of rotated .gz logs, and a gzip inside a gzip ------------

fn sh(dir: &Path, script: &str) {
    let st = std::process::Command::new("sh")
        .args(["-ec", script])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(st.success(), "{script}");
}

#[test]
fn tars_and_gzip_inside_gzip_are_refused_not_passed() {
    for tool in ["tar", "gzip"] {
        if !common::testkit::require_tool(tool) {
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    sh(
        root,
        "for i in $(seq 50); do echo \"user john.doe$i@example.com logged in\"; done > z.log
         gzip -k z.log; mkdir z gg
         tar cf z/logs-2026-12.tar z.log.gz
         tar czf z/logs.tgz z.log.gz
         tar cf plain.tar z.log
         echo 'user john.doe@example.com' | gzip -c | gzip -c > gg/app.log.1.gz.gz",
    );
    let cases: &[(&str, &str, &str)] = &[
        (
            "z/logs-2026-12.tar",
            "is a tar archive, not text: not read",
            "read its text with: tar -xOf z/logs-2026-12.tar | pii-scrub --check -",
        ),
        (
            "z/logs.tgz",
            "is a tar archive, not text: not read",
            "read its text with: tar -xOf z/logs.tgz | pii-scrub --check -",
        ),
        (
            "plain.tar",
            "is a tar archive, not text: not read",
            "read its text with: tar -xOf plain.tar | pii-scrub --check -",
        ),
        (
            "gg/app.log.1.gz.gz",
            "is gzip-compressed data inside gzip, not text: not read",
            "decompress it first: gzip -dc gg/app.log.1.gz.gz | pii-scrub --check -",
        ),
    ];
    for (file, what, hint) in cases {
        for mode in ["--check", "--dry-run"] {
            let out = cmd(root).args([mode, file]).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr_text(&out));
            let err = stderr_text(&out);
            assert!(
                err.contains(&format!("pii-scrub: error: {file}: {what}\n")),
                "{err}"
            );
            assert!(err.contains(&format!("pii-scrub: hint: {hint}\n")), "{err}");
            let s = summary(&jsonl(&out.stdout)).clone();
            assert_eq!(s["verdict"], "fail");
            assert_eq!(gate(&s, "errors")["value"], 1.0);
            assert_eq!(s["figures"]["files"], 0);
        }
        // Never rewritten in place, nothing of it passes a filter.
        let before = fs::read(root.join(file)).unwrap();
        let out = cmd(root).args(["--in-place", file]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert_eq!(
            fs::read(root.join(file)).unwrap(),
            before,
            "{file} rewritten"
        );
        let out = cmd(root).arg(file).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty(), "{file}");
        // On stdin too.
        let out = cmd(root)
            .args(["--check", "-"])
            .write_stdin(before)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{file} on stdin");
        assert!(stderr_text(&out).contains(&format!("pii-scrub: error: <stdin>: {what}\n")));
    }
    // The trial's tree: both archives errors, nothing else read.
    let out = cmd(root).args(["--check", "z/"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(s["figures"]["errors"], 2);
    // What the hint says to run finds all 50 addresses.
    let tar = std::process::Command::new("tar")
        .args(["-xOf", "z/logs.tgz"])
        .current_dir(root)
        .output()
        .unwrap();
    let out = cmd(root)
        .args(["--check", "-"])
        .write_stdin(tar.stdout)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_text(&out));
    assert_eq!(summary(&jsonl(&out.stdout))["figures"]["findings"], 50);
}

// ---- 39: files a --glob left out were counted nowhere ------------------------

#[test]
fn files_a_glob_leaves_out_are_counted_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("logs/old")).unwrap();
    fs::write(root.join("logs/app.log"), "ok\n").unwrap();
    fs::write(root.join("logs/app.log.1"), "user john.doe@example.com\n").unwrap();
    fs::write(root.join("logs/app.log.2.gz"), "not really gzip\n").unwrap();
    fs::write(root.join("logs/notes.txt"), "nothing\n").unwrap();
    fs::write(root.join("logs/old/x.log"), "nothing\n").unwrap();
    let out = cmd(root)
        .args(["--check", "logs", "--glob", "*.log"])
        .output()
        .unwrap();
    // Left out on purpose: still a pass, but the evidence says what was not read.
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(s["figures"]["files"], 2);
    assert_eq!(s["figures"]["excluded"], 3);
    assert_eq!(
        stderr_text(&out),
        "pii-scrub: warning: --glob left out 3 file(s) of the trees walked (figure excluded): logs/app.log.1, logs/app.log.2.gz, logs/notes.txt\n\
         pii-scrub: warning: 2 of them are rotated copies of logs that were read (logs/app.log.1, logs/app.log.2.gz): their lines are not checked; widen the glob (e.g. --glob '*.log*') to check them\n"
    );
    // -q means what it means in every tool (no progress): warnings stay.
    let quiet = cmd(root)
        .args(["--check", "-q", "logs", "--glob", "*.log"])
        .output()
        .unwrap();
    assert_eq!(
        (quiet.status.code(), stderr_text(&quiet)),
        (Some(0), stderr_text(&out))
    );
    // --format text names them in the report; --no-warnings (what -q meant
    // in pii-scrub before) silences stderr, not the figure.
    let out = cmd(root)
        .args([
            "--check",
            "--no-warnings",
            "--format",
            "text",
            "logs",
            "--glob",
            "*.log",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr_text(&out), "");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "excluded by --glob (3): logs/app.log.1, logs/app.log.2.gz, logs/notes.txt\n"
        ),
        "{text}"
    );
    // An excluded directory's files are counted too; no glob, nothing excluded.
    let out = cmd(root)
        .args([
            "--check", "logs", "--glob", "!old/", "--glob", "!*.txt", "--glob", "!*.gz",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_text(&out));
    assert_eq!(summary(&jsonl(&out.stdout))["figures"]["excluded"], 3);
    let out = cmd(root).args(["--check", "logs"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_text(&out));
    assert_eq!(summary(&jsonl(&out.stdout))["figures"]["excluded"], 0);
}

// ---- 33: an empty flag value (an unset variable) switched a check off ------

#[test]
fn empty_or_match_everything_flag_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(
        root.join("sk.jsonl"),
        "{\"user\":\"john.doe@example.com\",\"card\":\"4111111111111111\"}\n",
    )
    .unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--allow", ""],
            "pii-scrub: error: --allow '': an empty value matches every value, which switches the check off\n",
        ),
        (
            &["--allow", ".*"],
            "pii-scrub: error: --allow '.*': matches every value, which switches the check off\n",
        ),
        (
            &["--allow", "x?"],
            "pii-scrub: error: --allow 'x?': matches every value, which switches the check off\n",
        ),
        (
            &["--allow-key", ""],
            "pii-scrub: error: --allow-key '': an empty value matches every value, which switches the check off\n",
        ),
        (
            &["--skip-fields", ""],
            "pii-scrub: error: --skip-fields '': an empty value matches every value, which switches the check off\n",
        ),
        (
            &["--skip-fields", "/*"],
            "pii-scrub: error: --skip-fields '/*': matches every value, which switches the check off\n",
        ),
        (
            &["--fields", ""],
            "pii-scrub: error: --fields '': an empty value matches every value, which switches the check off\n",
        ),
        (
            &["--glob", ""],
            "pii-scrub: error: --glob '': an empty value matches every value, which switches the check off\n",
        ),
    ];
    let hint =
        "pii-scrub: hint: an unset variable in a script? give a value, or leave the flag out\n";
    for (flags, want) in cases {
        let out = cmd(root)
            .args(["--check", "sk.jsonl"])
            .args(*flags)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{flags:?}: {}",
            stderr_text(&out)
        );
        assert_eq!(stderr_text(&out), format!("{want}{hint}"), "{flags:?}");
        assert!(out.stdout.is_empty(), "{flags:?}");
    }
    // Values that leave something to check still work.
    let out = cmd(root)
        .args([
            "--check",
            "sk.jsonl",
            "--allow",
            "^$",
            "--skip-fields",
            "/card",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_text(&out));
    assert_eq!(summary(&jsonl(&out.stdout))["figures"]["findings"], 1);
}

// ---- 36: the report wrote personal data in pointers and file names ---------

#[test]
fn the_report_masks_personal_data_in_pointers_and_file_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("pu")).unwrap();
    fs::write(
        root.join("pu/keys.jsonl"),
        "{\"by_user\":{\"maria.schmidt@example.de\":{\"orders\":3}}}\n\
         {\"sessions\":{\"4111111111111111\":{\"visits\":1,\"mail\":\"jo@example.org\"}}}\n",
    )
    .unwrap();
    fs::write(
        root.join("pu/maria.schmidt@example.de.log"),
        "contact maria.schmidt@example.de\n{\"cut\n",
    )
    .unwrap();
    let out = cmd(root).args(["--check", "pu"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_text(&out));
    let report = out.stdout.clone();
    let recs = jsonl(&report);
    let strip = |r: &Value| {
        let mut r = r.clone();
        r.as_object_mut().unwrap().remove("action");
        r
    };
    let findings: Vec<Value> = of_kind(&recs, "finding").into_iter().map(strip).collect();
    assert_eq!(
        findings,
        [
            json!({"kind":"finding","file":"pu/keys.jsonl","line":1,"pointer":"/by_user/m***@example.de","type":"email","start":0,"end":24}),
            json!({"kind":"finding","file":"pu/keys.jsonl","line":2,"pointer":"/sessions/************1111","type":"card","start":0,"end":16}),
            json!({"kind":"finding","file":"pu/keys.jsonl","line":2,"pointer":"/sessions/************1111/mail","type":"email","start":0,"end":14}),
            json!({"kind":"finding","file":"pu/m***@example.de.log","line":1,"type":"email","start":8,"end":32}),
        ]
    );
    assert_eq!(
        of_kind(&recs, "quarantined"),
        [
            &json!({"kind":"quarantined","file":"pu/m***@example.de.log","line":2,"reason":"invalid_json","bytes":5})
        ]
    );
    let s = summary(&recs);
    assert_eq!(
        s["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["path"].clone())
            .collect::<Vec<_>>(),
        [json!("pu/keys.jsonl"), json!("pu/m***@example.de.log")]
    );
    assert_eq!(
        s["figures"]["findings_by_file"],
        json!({"pu/keys.jsonl":3,"pu/m***@example.de.log":1})
    );
    // The report, checked by pii-scrub itself, holds nothing.
    let raw = String::from_utf8(report.clone()).unwrap();
    assert!(
        !raw.contains("maria") && !raw.contains("4111111111111111"),
        "{raw}"
    );
    fs::write(root.join("report.jsonl"), &report).unwrap();
    let out = cmd(root)
        .args(["--check", "report.jsonl"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Nor does the text report, nor a filter's --report.
    let out = cmd(root)
        .args(["--dry-run", "--format", "text", "pu"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains("maria") && !text.contains("4111111111111111"),
        "{text}"
    );
    assert!(
        text.contains("pu/keys.jsonl:2: card at /sessions/************1111 bytes 0..16"),
        "{text}"
    );
    let out = cmd(root)
        .args(["--out-dir", "clean", "--report", "filter.jsonl", "pu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let filter = fs::read_to_string(root.join("filter.jsonl")).unwrap();
    assert!(
        !filter.contains("maria") && !filter.contains("4111111111111111"),
        "{filter}"
    );
}
