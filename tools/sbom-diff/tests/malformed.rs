//! Malformed, truncated, huge and hostile inputs: a clear error naming the
//! file (and line or JSON pointer), exit 2, nothing on stdout.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::util::*;

fn good() -> PathBuf {
    testdata("sbom-diff/py-a.cdx.json")
}

/// Runs `good NEW extra...`; asserts exit 2 and no stdout; returns stderr.
fn fails(new: &Path, extra: &[&str]) -> String {
    let out = bin().arg(good()).arg(new).args(extra).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("internal error"),
        "{stderr}"
    );
    stderr
}

fn first_line(stderr: &str) -> &str {
    stderr.lines().next().unwrap_or("")
}

#[test]
fn each_bad_input_gets_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: Vec<(&str, &[u8], String)> = vec![
        ("notjson.txt", b"hello world\nthis is not\n", "notjson.txt:1: not a recognised SBOM or lockfile format".into()),
        ("trunc.json", b"{\"bomFormat\":\"CycloneDX\",\n \"components\": [{\"name\":\"a\",\n", "trunc.json:3:0: truncated: invalid JSON: EOF while parsing a value".into()),
        ("syntax.json", b"{\"bomFormat\":\"CycloneDX\",\n \"components\": [}\n", "syntax.json:2:17: invalid JSON: expected value".into()),
        ("plain.json", b"{\"name\":\"x\",\"version\":\"1\"}", "plain.json: JSON, but not an SBOM or lockfile: no bomFormat, spdxVersion or lockfileVersion at the top level".into()),
        ("notobj.json", b"{\"bomFormat\":\"CycloneDX\",\"components\":[1]}", "notobj.json:1:40: unexpected content: invalid type: integer `1`, expected a CycloneDX component object".into()),
        ("arr.json", b"[1,2]", "arr.json:1: JSON array at the top level: not an SBOM or lockfile".into()),
        ("other.json", b"{\"bomFormat\":\"SWID\"}", "other.json: bomFormat is \"SWID\", not \"CycloneDX\"".into()),
        ("nover.json", br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a","version":"1","purl":"pkg:npm/a@1"},{"name":"b","purl":"pkg:npm/b","components":[{"name":"c","purl":"pkg:npm/c"}]}]}"#, "nover.json: /components/1/components/0: component \"c\" has no version".into()),
        ("badtype.json", br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a","version":3}]}"#, "badtype.json:1:82: unexpected content: invalid type: integer `3`, expected a string".into()),
        ("badpurl.json", br#"{"bomFormat":"CycloneDX","components":[{"name":"a","version":"1","purl":"npm/a@1"}]}"#, "badpurl.json: /components/0/purl: purl \"npm/a@1\" does not start with 'pkg:'".into()),
        ("noname.json", br#"{"bomFormat":"CycloneDX","components":[{"version":"1"}]}"#, "noname.json: /components/0: component has neither a purl nor a name".into()),
        ("spdx3.json", br#"{"spdxVersion":"SPDX-3.0","packages":[]}"#, "spdx3.json: /spdxVersion: \"SPDX-3.0\" is not SPDX 2.x".into()),
        ("spdxnover.json", br#"{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-a","name":"a","versionInfo":"NOASSERTION"}]}"#, "spdxnover.json: /packages/0: package \"a\" has no versionInfo".into()),
        ("v1.json", br#"{"lockfileVersion":1,"dependencies":{}}"#, "v1.json: /lockfileVersion: 1 is not supported (2 and 3 are)".into()),
        ("npmnover.json", br#"{"lockfileVersion":3,"packages":{"":{},"node_modules/@s/a":{"resolved":"x"}}}"#, "npmnover.json: /packages/node_modules~1@s~1a: package \"@s/a\" has no version".into()),
        ("Cargo.lock", b"[[package]]\nname = \"a\"\nversion = \"1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"b\"\n", "Cargo.lock:6: package \"b\" has no version".into()),
        ("bad.lock", b"# x\n[[package]]\nname = \"a\nversion = \"1\"\n", "bad.lock:3: invalid Cargo.lock: invalid basic string".into()),
        ("req.txt", b"# pins\nidna==3.6\nrequests>=2.0\n", "req.txt:3: requirement \"requests>=2.0\" is not pinned to one version".into()),
        ("req2.txt", b"idna==3.6\nurllib3\n", "req2.txt:2: requirement \"urllib3\" has no version".into()),
        ("inc.txt", b"-r base.txt\nidna==3.6\n", "inc.txt:1: -r includes another file, which is not read: \"-r base.txt\"".into()),
        ("bin.dat", b"\xff\xfe\x00garbage", "bin.dat: binary data (NUL bytes): not an SBOM or lockfile".into()),
        ("badutf.txt", b"a==1\n\xff\n", "badutf.txt:2: invalid UTF-8: not an SBOM or lockfile".into()),
        ("bomutf.txt", b"\xef\xbb\xbfa==1\n\xff\n", "bomutf.txt:2: invalid UTF-8: not an SBOM or lockfile".into()),
        ("x.xml", b"<?xml version=\"1.0\"?><bom/>", "x.xml:1: XML input: only the JSON forms of CycloneDX and SPDX are read".into()),
        ("tv.spdx", b"SPDXVersion: SPDX-2.3\n", "tv.spdx:1: SPDX tag-value input: only SPDX JSON is read".into()),
        ("yarn.lock", b"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\nlodash@^4.17.21:\n  version \"4.17.21\"\n", "yarn.lock:2: yarn.lock input: not a format sbom-diff reads".into()),
        ("berry.lock", b"# This file is generated by running \"yarn install\"\n\n__metadata:\n  version: 8\n", "berry.lock:3: yarn.lock input: not a format sbom-diff reads".into()),
        ("pnpm-lock.yaml", b"lockfileVersion: '9.0'\n\nimporters:\n", "pnpm-lock.yaml:1: pnpm-lock.yaml input: not a format sbom-diff reads".into()),
        ("empty.txt", b"", "empty.txt: empty input: no SBOM or lockfile in it".into()),
    ];
    for (name, bytes, expected) in cases {
        let p = write(d, name, bytes);
        let stderr = fails(&p, &[]);
        let want = format!(
            "sbom-diff: error: {}",
            expected.replacen(name, &p.display().to_string(), 1)
        );
        assert_eq!(first_line(&stderr), want, "{name}");
    }
}

#[test]
fn format_flags_override_detection_and_report_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    // A requirements file read as CycloneDX is not JSON.
    let req = write(dir.path(), "r.txt", b"idna==3.6\n");
    let stderr = fails(&req, &["--to", "cyclonedx"]);
    assert_eq!(
        first_line(&stderr),
        format!(
            "sbom-diff: error: {}:1:1: invalid JSON: expected value",
            req.display()
        )
    );
    // An SPDX document read as CycloneDX has no components: refused, as
    // any input that lists nothing (it would pass every gate).
    let copy = copy_in(dir.path(), &testdata("sbom-diff/npm-a.spdx.json"));
    let out = bin()
        .arg(testdata("sbom-diff/npm-a.spdx.json"))
        .arg(&copy)
        .args(["--from", "spdx", "--to", "cyclonedx"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        first_line(&String::from_utf8_lossy(&out.stderr)),
        format!(
            "sbom-diff: error: {}: no components (it lists no package): a comparison with it proves nothing",
            copy.display()
        )
    );
}

#[test]
fn missing_versions_can_be_allowed_explicitly() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", br#"{"bomFormat":"CycloneDX","components":[{"name":"os","type":"operating-system"},{"name":"b","version":"1","purl":"pkg:npm/b@1"}]}"#);
    let out = bin()
        .arg(&a)
        .arg(copy_in(dir.path(), &a))
        .arg("--allow-unversioned")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary(&jsonl(&out.stdout))["figures"]["components_old"], 2);
}

#[test]
fn unreadable_paths() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    assert_eq!(
        first_line(&fails(&missing, &[])),
        format!(
            "sbom-diff: error: {}: No such file or directory",
            missing.display()
        )
    );
    assert_eq!(
        first_line(&fails(dir.path(), &[])),
        format!("sbom-diff: error: {}: is a directory", dir.path().display())
    );
    // A symlink to a real file is followed (the user named it); a dangling one is an error.
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(dir.path().join("gone"), &link).unwrap();
    assert_eq!(
        first_line(&fails(&link, &[])),
        format!(
            "sbom-diff: error: {}: No such file or directory",
            link.display()
        )
    );
}

#[test]
fn thirty_megabyte_inputs() {
    let dir = tempfile::tempdir().unwrap();
    // A 30 MB CycloneDX document cut off before its end.
    let mut doc =
        String::from("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"components\":[\n");
    let filler = "x".repeat(30_000);
    let mut i = 0;
    while doc.len() < 30_000_000 {
        doc.push_str(&format!(
            "{{\"name\":\"p{i}\",\"version\":\"1.0.{i}\",\"purl\":\"pkg:npm/p{i}@1.0.{i}\",\"description\":\"{filler}\"}},\n"
        ));
        i += 1;
    }
    let complete = format!("{}]}}\n", doc.trim_end().trim_end_matches(','));
    let cut = write(
        dir.path(),
        "cut.json",
        &complete.as_bytes()[..complete.len() - 40],
    );
    let stderr = fails(&cut, &[]);
    let lines = complete[..complete.len() - 40].matches('\n').count() + 1;
    assert!(
        first_line(&stderr).starts_with(&format!("sbom-diff: error: {}:{lines}:", cut.display())),
        "{stderr}"
    );
    assert!(
        first_line(&stderr).contains("truncated: invalid JSON: EOF while parsing"),
        "{stderr}"
    );
    // The whole document reads fine: 30 MB is not too big by default.
    let whole = write(dir.path(), "whole.json", complete.as_bytes());
    let copy = copy_in(dir.path(), &whole);
    let out = bin().arg(&whole).arg(&copy).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary(&jsonl(&out.stdout))["figures"]["components_old"], i);
    // Over --max-input-size: refused by its size before reading, file named.
    let stderr = fails(&whole, &["--max-input-size", "10000000"]);
    assert_eq!(
        first_line(&stderr),
        format!("sbom-diff: error: {}: {} bytes, larger than --max-input-size (10000000 bytes); refusing to read it", whole.display(), complete.len())
    );
    // Through a pipe the size is not known: refused once over the limit.
    let out = bin()
        .arg(good())
        .arg("-")
        .args(["--max-input-size", "10000000"])
        .write_stdin(complete.as_bytes())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        first_line(&String::from_utf8_lossy(&out.stderr)),
        "sbom-diff: error: <stdin>: larger than --max-input-size (10000000 bytes); refusing to read it"
    );
    // 30 MB of garbage on one line (no newline at all).
    let garbage = write(dir.path(), "garbage.txt", &vec![b'z'; 30_000_000]);
    assert_eq!(
        first_line(&fails(&garbage, &[])),
        format!(
            "sbom-diff: error: {}:1: not a recognised SBOM or lockfile format",
            garbage.display()
        )
    );
}

#[test]
fn ten_megabyte_line_in_requirements() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = std::fs::File::create(dir.path().join("big.txt")).unwrap();
    f.write_all(b"idna==3.6\nrequests==").unwrap();
    f.write_all(&vec![b'9'; 10 * 1024 * 1024]).unwrap();
    f.write_all(b" junk\n").unwrap();
    drop(f);
    let stderr = fails(&dir.path().join("big.txt"), &[]);
    assert!(
        first_line(&stderr).starts_with(&format!(
            "sbom-diff: error: {}:2: requirement \"requests==999",
            dir.path().join("big.txt").display()
        )),
        "{}",
        &stderr[..200.min(stderr.len())]
    );
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = String::from("{\"bomFormat\":\"CycloneDX\",\"components\":[");
    for _ in 0..10_000 {
        doc.push_str("{\"name\":\"a\",\"version\":\"1\",\"components\":[");
    }
    for _ in 0..10_000 {
        doc.push_str("]}");
    }
    doc.push_str("]}");
    let p = write(dir.path(), "deep.json", doc.as_bytes());
    let stderr = fails(&p, &[]);
    assert!(
        first_line(&stderr).contains("recursion limit exceeded"),
        "{stderr}"
    );
}

#[test]
fn huge_values_in_errors_are_cut_short() {
    let dir = tempfile::tempdir().unwrap();
    let big = "x".repeat(5_000_000);
    for (name, doc, want) in [
        (
            "purl.json",
            format!(
                r#"{{"bomFormat":"CycloneDX","components":[{{"name":"a","version":"1","purl":"{big}"}}]}}"#
            ),
            "/components/0/purl: purl \"xxxx",
        ),
        (
            "bf.json",
            format!(r#"{{"bomFormat":"{big}"}}"#),
            "bomFormat is \"xxxx",
        ),
        (
            "sv.json",
            format!(r#"{{"bomFormat":"CycloneDX","specVersion":"{big}"}}"#),
            "/specVersion: CycloneDX \"xxxx",
        ),
        (
            "spdx.json",
            format!(r#"{{"spdxVersion":"{big}"}}"#),
            "/spdxVersion: \"xxxx",
        ),
        (
            "lv.json",
            format!(r#"{{"lockfileVersion":[{big:?}]}}"#),
            "/lockfileVersion: [\"xxxx",
        ),
    ] {
        let p = write(dir.path(), name, doc.as_bytes());
        let stderr = fails(&p, &[]);
        assert!(
            stderr.len() < 1000,
            "{name}: {} bytes of stderr",
            stderr.len()
        );
        assert!(first_line(&stderr).contains(want), "{name}: {stderr}");
        assert!(first_line(&stderr).contains("... ("), "{name}: {stderr}");
    }
}
