//! What the gate reads (a hostile trial's false passes): symlinks in log
//! trees (k8s `/var/log/containers`, Docker's `access.log -> /dev/stdout`),
//! nothing to read at all, and compressed logs gzip is not (xz, bzip2, zstd,
//! lz4), made by the real tools.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command as StdCommand, Output, Stdio};
use std::time::{Duration, Instant};

use common::testkit::{gate, jsonl, of_kind, require_tool, stderr_text, summary};
use serde_json::{json, Value};

use crate::util::{bin, cmd_in as cmd};

/// Runs pii-scrub in `dir` with stdin closed, failing the test (not hanging)
/// if it blocks on something it should never open.
fn bounded(dir: &Path, args: &[&str]) -> Output {
    let mut child = StdCommand::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("PII_SCRUB_SALT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("pii-scrub {args:?} blocked");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn figures(recs: &[Value]) -> &Value {
    &summary(recs)["figures"]
}

fn finding_files(recs: &[Value]) -> Vec<String> {
    of_kind(recs, "finding")
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect()
}

// ---- A: symlinks in trees ---------------------------------------------------

#[test]
fn symlinked_logs_in_a_tree_are_read_not_skipped() {
    // The trial: a tree holding only a link to a log passed with 0 files.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("store")).unwrap();
    fs::create_dir_all(root.join("d")).unwrap();
    fs::write(root.join("store/access.log"), "mail bob@example.com\n").unwrap();
    symlink("../store/access.log", root.join("d/access.log")).unwrap();
    let out = cmd(root).args(["--check", "d/"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    assert_eq!(finding_files(&recs), ["d/access.log"]);
    let f = figures(&recs);
    assert_eq!(
        (&f["files"], &f["findings"], &f["symlinks"], &f["skipped"]),
        (&json!(1), &json!(1), &json!(1), &json!(0))
    );
    assert_eq!(gate(summary(&recs), "findings")["pass"], false);

    // Filter modes read it too: --dry-run reports, --out-dir writes a
    // scrubbed copy under the link's name (a regular file, not a link).
    let out = cmd(root).args(["--dry-run", "d"]).output().unwrap();
    assert_eq!(finding_files(&jsonl(&out.stdout)), ["d/access.log"]);
    let out = cmd(root)
        .args(["--out-dir", "clean", "d"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let copy = root.join("clean/access.log");
    assert!(fs::symlink_metadata(&copy).unwrap().file_type().is_file());
    assert_eq!(
        fs::read_to_string(&copy).unwrap(),
        "mail [REDACTED:email]\n"
    );
    // Stdout filter over the tree: the scrubbed text, nothing lost.
    let out = cmd(root).arg("d").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(out.stdout, b"mail [REDACTED:email]\n");
}

#[test]
fn a_kubernetes_style_tree_reads_each_log_once() {
    // /var/log/containers/*.log -> /var/log/pods/<pod>/<container>/0.log,
    // both under the tree walked: each file is read once, under its own
    // name (links that reach a file already read are counted as skipped).
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let log = root.join("log");
    for pod in ["web", "db"] {
        fs::create_dir_all(log.join(format!("pods/{pod}/app"))).unwrap();
        fs::write(
            log.join(format!("pods/{pod}/app/0.log")),
            format!("{pod} user {pod}@acme.com\n"),
        )
        .unwrap();
    }
    fs::create_dir_all(log.join("containers")).unwrap();
    // One relative and one absolute link, as kubelet writes them.
    symlink("../pods/web/app/0.log", log.join("containers/web_app.log")).unwrap();
    symlink(
        log.join("pods/db/app/0.log"),
        log.join("containers/db_app.log"),
    )
    .unwrap();
    // A link to a directory that is also in the tree, and one to its own
    // parent (a loop): neither is walked twice, and the walk ends.
    symlink("pods/web", log.join("current")).unwrap();
    symlink(".", log.join("pods/self")).unwrap();
    let out = bounded(root, &["--check", "log"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    assert_eq!(
        finding_files(&recs),
        ["log/pods/db/app/0.log", "log/pods/web/app/0.log"]
    );
    let f = figures(&recs);
    assert_eq!(
        (
            &f["files"],
            &f["findings"],
            &f["symlinks"],
            &f["skipped"],
            &f["errors"]
        ),
        (&json!(2), &json!(2), &json!(4), &json!(4), &json!(0)),
        "{f}"
    );

    // A link to a directory outside the tree is walked (its logs are
    // the tree's logs), under the link's name.
    let other = root.join("elsewhere/app");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("x.log"), "x carol@acme.com\n").unwrap();
    let tree = root.join("t");
    fs::create_dir_all(&tree).unwrap();
    symlink(root.join("elsewhere"), tree.join("archive")).unwrap();
    let out = bounded(root, &["--check", "t"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    assert_eq!(finding_files(&recs), ["t/archive/app/x.log"]);
    assert_eq!(figures(&recs)["files"], 1);
}

#[test]
fn symlinks_that_cannot_be_read_fail_the_check() {
    // Dangling links, loops, links to a FIFO and to /dev/stdout (Docker's
    // nginx image): nothing behind them was checked, so the gate fails,
    // each one named, and nothing blocks opening a FIFO.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let d = root.join("d");
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("app.log"), "nothing here\n").unwrap();
    symlink("../gone.log", d.join("dangling.log")).unwrap();
    symlink("loop.log", d.join("loop.log")).unwrap();
    let fifo = root.join("pipe");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    symlink(&fifo, d.join("fifo.log")).unwrap();
    symlink("/dev/stdout", d.join("access.log")).unwrap();
    // A FIFO in the tree itself is not a log that was read either.
    nix::unistd::mkfifo(
        &d.join("named.log"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    for mode in ["--check", "--dry-run"] {
        let out = bounded(root, &[mode, "d"]);
        assert_eq!(out.status.code(), Some(2), "{mode}: {}", stderr_text(&out));
        let err = stderr_text(&out);
        for line in [
            "pii-scrub: error: d/access.log: symlink to /dev/stdout, a FIFO, not a regular file: not read",
            "pii-scrub: error: d/dangling.log: symlink to ../gone.log: cannot follow it: No such file or directory",
            "pii-scrub: error: d/fifo.log: symlink to ",
            "pii-scrub: error: d/loop.log: symlink to loop.log: cannot follow it: Too many levels of symbolic links",
            "pii-scrub: error: d/named.log: a FIFO, not a regular file: not read",
        ] {
            assert!(err.contains(line), "{mode}: missing {line:?} in\n{err}");
        }
        assert!(
            err.contains("pipe, a FIFO, not a regular file: not read"),
            "{err}"
        );
        let recs = jsonl(&out.stdout);
        let s = summary(&recs);
        assert_eq!(s["verdict"], "fail", "{mode}");
        assert_eq!(
            gate(s, "errors"),
            &json!({"name":"errors","op":"<=","limit":0.0,"value":5.0,"pass":false}),
            "{mode}"
        );
        assert_eq!(s["figures"]["files"], 1, "{mode}");
    }
}

#[test]
fn a_link_to_this_runs_own_stdout_is_not_read_back() {
    // Docker's nginx image: access.log -> /dev/stdout. With our stdout sent
    // to a file, following the link read the output being written: the
    // filter fed itself (574 MB in 20 s from a 1.7 MB log).
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let d = root.join("d");
    fs::create_dir_all(&d).unwrap();
    let log: String = (0..20_000)
        .map(|i| format!("line {i} user{i}@acme.com did something\n"))
        .collect();
    fs::write(d.join("a.log"), &log).unwrap();
    symlink("/dev/stdout", d.join("access.log")).unwrap();
    for (mode, out_name) in [(None, "out.log"), (Some("--check"), "out.jsonl")] {
        let out_path = root.join(out_name);
        let mut child = StdCommand::new(bin())
            .args(mode)
            .arg("d")
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out_path).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline || fs::metadata(&out_path).unwrap().len() > 50 << 20 {
                let _ = child.kill();
                panic!("{mode:?}: pii-scrub reads its own output");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{mode:?}");
        let err = stderr_text(&out);
        assert!(
            err.contains("pii-scrub: error: d/access.log: symlink to /dev/stdout: this run's own stdout: not read"),
            "{mode:?}: {err}"
        );
        let written = fs::read(&out_path).unwrap();
        if mode.is_none() {
            let clean: String = (0..20_000)
                .map(|i| format!("line {i} [REDACTED:email] did something\n"))
                .collect();
            assert!(
                written == clean.as_bytes(),
                "{} bytes written",
                written.len()
            );
        } else {
            let recs = jsonl(&written);
            let f = figures(&recs);
            assert_eq!(
                (&f["files"], &f["findings"], &f["errors"]),
                (&json!(1), &json!(20_000), &json!(1))
            );
        }
    }
}

#[test]
fn in_place_never_writes_through_a_symlink_in_a_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let store = root.join("store");
    fs::create_dir_all(store.join("sub")).unwrap();
    fs::write(store.join("access.log"), "mail bob@acme.com\n").unwrap();
    fs::write(store.join("sub/x.log"), "mail eve@acme.com\n").unwrap();
    let d = root.join("d");
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("own.log"), "mail ann@acme.com\n").unwrap();
    symlink("../store/access.log", d.join("access.log")).unwrap();
    symlink("../store/sub", d.join("sub")).unwrap();
    let out = cmd(root)
        .args(["--in-place", "--report", "r.jsonl", "d"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_text(&out));
    let err = stderr_text(&out);
    assert!(
        err.contains(
            "pii-scrub: error: d/access.log: is a symlink: refusing to rewrite it in place"
        ),
        "{err}"
    );
    assert!(
        err.contains("pii-scrub: error: d/sub/x.log: reached through the symlink d/sub: refusing to rewrite it in place"),
        "{err}"
    );
    // Nothing behind the links changed; the tree's own file was scrubbed.
    assert_eq!(
        fs::read_to_string(store.join("access.log")).unwrap(),
        "mail bob@acme.com\n"
    );
    assert_eq!(
        fs::read_to_string(store.join("sub/x.log")).unwrap(),
        "mail eve@acme.com\n"
    );
    assert!(fs::symlink_metadata(d.join("access.log"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_to_string(d.join("own.log")).unwrap(),
        "mail [REDACTED:email]\n"
    );
    let recs = jsonl(&fs::read(root.join("r.jsonl")).unwrap());
    assert_eq!(gate(summary(&recs), "errors")["value"], 2.0);

    // A link whose target is also in the tree is not an error: the target
    // is rewritten under its own name, and the link then shows clean text.
    let t = root.join("t");
    fs::create_dir_all(&t).unwrap();
    fs::write(t.join("real.log"), "mail bob@acme.com\n").unwrap();
    symlink("real.log", t.join("a_link.log")).unwrap();
    let out = cmd(root).args(["--in-place", "t"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(
        fs::read_to_string(t.join("a_link.log")).unwrap(),
        "mail [REDACTED:email]\n"
    );
    assert!(fs::symlink_metadata(t.join("a_link.log"))
        .unwrap()
        .file_type()
        .is_symlink());
}

// ---- B: nothing read proves nothing ---------------------------------------

#[test]
fn check_on_an_empty_tree_fails_the_files_gate() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("empty")).unwrap();
    let out = cmd(root).args(["--check", "empty"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(s["verdict"], "fail");
    assert_eq!(
        gate(s, "files"),
        &json!({"name":"files","op":">=","limit":1.0,"value":0.0,"pass":false})
    );
    // Every file filtered away is the same nothing.
    fs::create_dir_all(root.join("logs")).unwrap();
    fs::write(root.join("logs/a.txt"), "x@acme.com\n").unwrap();
    let out = cmd(root)
        .args(["--check", "--glob", "*.log", "logs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(gate(summary(&jsonl(&out.stdout)), "files")["value"], 0.0);
    // --min-files 0 (and --min-lines 0) accept it; a higher bar is a bar.
    let out = cmd(root)
        .args(["--check", "--min-files", "0", "--min-lines", "0", "empty"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(gate(summary(&jsonl(&out.stdout)), "files")["pass"], true);
    fs::write(root.join("logs/b.log"), "nothing\n").unwrap();
    let out = cmd(root)
        .args(["--check", "--min-files", "2", "logs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        gate(summary(&jsonl(&out.stdout)), "files"),
        &json!({"name":"files","op":">=","limit":2.0,"value":2.0,"pass":true})
    );
    // Stdin is one input, even empty (the `lines` gate fails it: trial 2
    // item 27, tests/false_passes.rs).
    for args in [&["--check"][..], &["--check", "-"][..]] {
        let out = cmd(root).args(args).write_stdin("").output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            stderr_text(&out)
        );
        let s = summary(&jsonl(&out.stdout)).clone();
        assert_eq!(gate(&s, "files")["value"], 1.0);
        assert_eq!(gate(&s, "lines")["pass"], false);
    }
    // A dry run is judged like --check (trial 2, item 31).
    let out = cmd(root).args(["--dry-run", "empty"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(gate(summary(&jsonl(&out.stdout)), "files")["value"], 0.0);
    // A filter has the gate only when asked for.
    let out = cmd(root)
        .args(["--out-dir", "out", "--report", "r.jsonl", "empty"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert!(
        summary(&jsonl(&fs::read(root.join("r.jsonl")).unwrap()))["gates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["name"] != "files")
    );
    let out = cmd(root)
        .args([
            "--out-dir",
            "out",
            "--min-files",
            "1",
            "--report",
            "r.jsonl",
            "empty",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

// ---- C: compressed logs that are not gzip -----------------------------------

const LOG: &str = "2026-12-06 login bob@acme.com from 10.1.2.3\n";

/// `(tool, file name, command making it from stdin)` for each format.
const FORMATS: &[(&str, &str, &[&str])] = &[
    ("xz", "a.log.xz", &["xz", "-c"]),
    ("bzip2", "a.log.bz2", &["bzip2", "-c"]),
    ("zstd", "a.log.zst", &["zstd", "-q", "-c"]),
    ("lz4", "a.log.lz4", &["lz4", "-q", "-c"]),
];

fn compress(argv: &[&str], data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = StdCommand::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{argv:?}");
    out.stdout
}

#[test]
fn xz_bzip2_zstd_lz4_logs_are_refused_not_passed_or_corrupted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut made = 0;
    for (tool, name, argv) in FORMATS {
        if !require_tool(tool) {
            continue;
        }
        made += 1;
        let bytes = compress(argv, LOG.as_bytes());
        // Named .log: the content decides, not the name.
        let plain_name = format!("{tool}.log");
        for file in [*name, plain_name.as_str()] {
            fs::write(root.join(file), &bytes).unwrap();
            let out = cmd(root).args(["--check", file]).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr_text(&out));
            let err = stderr_text(&out);
            assert!(
                err.contains(&format!(
                    "pii-scrub: error: {file}: is {tool}-compressed data, not text: not read"
                )),
                "{err}"
            );
            assert!(
                err.contains(&format!(
                    "pii-scrub: hint: decompress it first: {tool} -dc {file} | pii-scrub --check -"
                )),
                "{err}"
            );
            let s = summary(&jsonl(&out.stdout)).clone();
            assert_eq!(s["verdict"], "fail");
            assert_eq!(gate(&s, "errors")["value"], 1.0);

            // --in-place: refused, the file byte for byte as it was, no temp left.
            let out = cmd(root).args(["--in-place", file]).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{file}");
            assert_eq!(
                fs::read(root.join(file)).unwrap(),
                bytes,
                "{file} rewritten"
            );
            // Stdout filter: nothing of it passes through.
            let out = cmd(root).arg(file).output().unwrap();
            assert_eq!(out.status.code(), Some(2));
            assert!(out.stdout.is_empty(), "{file}: {:?}", out.stdout);
        }
        // The real tool still reads what we left.
        let st = StdCommand::new(tool)
            .args(["-t", "-q"])
            .arg(root.join(name))
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "{tool} -t {name} fails after the run");
        // On stdin too.
        let out = cmd(root)
            .args(["--check", "-"])
            .write_stdin(bytes.clone())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{tool} on stdin");
        assert!(stderr_text(&out).contains(&format!(
            "<stdin>: is {tool}-compressed data, not text: not read"
        )));
        // And in a tree, next to a clean log.
        let tree = root.join(format!("tree-{tool}"));
        fs::create_dir_all(&tree).unwrap();
        fs::write(tree.join("clean.log"), "nothing\n").unwrap();
        fs::write(tree.join("old.log.1"), &bytes).unwrap();
        let out = cmd(root)
            .args(["--check", &format!("tree-{tool}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let s = summary(&jsonl(&out.stdout)).clone();
        assert_eq!(
            (&s["figures"]["files"], &s["figures"]["errors"]),
            (&json!(1), &json!(1))
        );
    }
    if made > 0 {
        let left: Vec<_> = fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect();
        assert!(left.is_empty(), "temp files left: {left:?}");
    }
}

#[test]
fn a_magic_split_across_pipe_writes_is_still_seen() {
    // `\xFD7z` in one write, the rest later: the first read held 3 bytes,
    // too few to be xz's header, and the stream was scanned as text.
    use std::io::Write;
    if !require_tool("xz") {
        return;
    }
    let bytes = compress(&["xz", "-c"], LOG.as_bytes());
    for args in [&["--check", "-"][..], &[][..]] {
        let mut child = StdCommand::new(bin())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&bytes[..3]).unwrap();
        stdin.flush().unwrap();
        // Whether or not the reader wakes between the writes, it must refuse.
        std::thread::sleep(Duration::from_millis(300));
        // It may have refused and exited already: a broken pipe is fine.
        let _ = stdin.write_all(&bytes[3..]);
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr_text(&out)
        );
        assert!(
            stderr_text(&out).contains("<stdin>: is xz-compressed data, not text: not read"),
            "{args:?}: {}",
            stderr_text(&out)
        );
        if args.is_empty() {
            assert!(out.stdout.is_empty());
        }
    }
}

#[test]
fn files_whose_names_are_not_utf8_are_read() {
    // A Latin-1 name in a tree (`caf\xe9.log`) was opened by its lossy
    // UTF-8 spelling, `caf\u{fffd}.log`: "No such file", and the log was never read.
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("d")).unwrap();
    let name = root.join("d").join(OsStr::from_bytes(b"caf\xe9.log"));
    fs::write(&name, "mail bob@acme.com\n").unwrap();
    let out = cmd(root).args(["--check", "d"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    assert_eq!(finding_files(&recs), ["d/caf\u{fffd}.log"]);
    assert_eq!(figures(&recs)["errors"], 0);
    let out = cmd(root)
        .args(["--out-dir", "clean", "d"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(
        fs::read_to_string(root.join("clean").join(OsStr::from_bytes(b"caf\xe9.log"))).unwrap(),
        "mail [REDACTED:email]\n"
    );
    let out = cmd(root)
        .args(["--in-place", "--backup-suffix", ".orig", "d"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(
        fs::read_to_string(&name).unwrap(),
        "mail [REDACTED:email]\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("d").join(OsStr::from_bytes(b"caf\xe9.log.orig"))).unwrap(),
        "mail bob@acme.com\n"
    );
}
