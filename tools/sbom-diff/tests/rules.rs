//! Identity, multiset pairing, licences, gates, --allow and output formats,
//! on small inputs written by the tests themselves.

use std::path::Path;

use serde_json::{json, Value};

use crate::util::*;

/// (exit code, stdout, stderr).
fn run(args: &[&std::ffi::OsStr]) -> (i32, Vec<u8>, String) {
    let r = sbom_diff(args);
    (r.code, r.stdout, r.stderr)
}

fn diff(old: &Path, new: &Path, extra: &[&str]) -> (i32, Vec<Value>) {
    let mut args: Vec<&std::ffi::OsStr> = vec![old.as_os_str(), new.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let (code, stdout, stderr) = run(&args);
    assert_eq!(stderr, "", "unexpected stderr");
    (code, jsonl(&stdout))
}

fn kinds(records: &[Value]) -> Vec<(String, String, String, String)> {
    records
        .iter()
        .filter(|r| r["kind"] == "change")
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
            (s("change"), s("id"), s("old_version"), s("new_version"))
        })
        .collect()
}

/// A CycloneDX document from (purl, version, extra fields) triples.
fn cdx(components: &[Value]) -> String {
    json!({"bomFormat":"CycloneDX","specVersion":"1.5",
        "serialNumber": format!("urn:uuid:{}", components.len()),
        "metadata":{"timestamp":"2026-01-01T00:00:00Z","component":{"bom-ref":"app","name":"app","version":"1"}},
        "components": components})
    .to_string()
}

fn comp(purl: &str, version: &str, bom_ref: &str) -> Value {
    json!({"type":"library","bom-ref":bom_ref,"name":purl.rsplit('/').next().unwrap(),"version":version,"purl":format!("{purl}@{version}")})
}

#[test]
fn duplicated_packages_are_a_multiset() {
    let dir = tempfile::tempdir().unwrap();
    // kind-of in four versions, and 6.0.3 a dozen times under different bom-refs.
    let mut old = vec![
        comp("pkg:npm/kind-of", "3.2.2", "a"),
        comp("pkg:npm/kind-of", "4.0.0", "b"),
        comp("pkg:npm/kind-of", "5.1.0", "c"),
    ];
    for i in 0..12 {
        old.push(comp(
            "pkg:npm/kind-of",
            "6.0.3",
            &format!("kind-of@6.0.3|{i}"),
        ));
    }
    let old_path = write(dir.path(), "old.json", &cdx(&old));
    // Against itself, reordered: nothing changes.
    let mut shuffled = old.clone();
    shuffled.reverse();
    let same = write(dir.path(), "same.json", &cdx(&shuffled));
    let (code, records) = diff(&old_path, &same, &[]);
    assert_eq!((code, records.len()), (0, 1), "{records:?}");
    assert_eq!(summary(&records)["figures"]["components_old"], 15);
    // New: 3.2.2 gone, 4.0.0 → 4.0.1, and one of the twelve 6.0.3 copies is
    // now 6.0.2 (paired within the 6.x line: a downgrade, not add + remove).
    let mut new = vec![
        comp("pkg:npm/kind-of", "4.0.1", "b"),
        comp("pkg:npm/kind-of", "5.1.0", "c"),
    ];
    for i in 0..11 {
        new.push(comp("pkg:npm/kind-of", "6.0.3", &format!("x{i}")));
    }
    new.push(comp("pkg:npm/kind-of", "6.0.2", "y"));
    let new_path = write(dir.path(), "new.json", &cdx(&new));
    let (code, records) = diff(&old_path, &new_path, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        kinds(&records),
        vec![
            t("removed", "pkg:npm/kind-of", "3.2.2", ""),
            t("upgraded", "pkg:npm/kind-of", "4.0.0", "4.0.1"),
            t("downgraded", "pkg:npm/kind-of", "6.0.3", "6.0.2"),
        ]
    );
    let f = &summary(&records)["figures"];
    assert_eq!(
        (
            f["removed"].clone(),
            f["upgraded"].clone(),
            f["downgraded"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    // 1 removed + 2 changed pairs, of 15.
    assert_eq!(f["drift"], 0.2);
}

#[test]
fn purl_spellings_of_one_package_are_one_identity() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(
        dir.path(),
        "old.json",
        &cdx(&[
            json!({"name":"Charset_Normalizer","version":"3.3.2","purl":"pkg:PyPI/Charset_Normalizer@3.3.2"}),
            json!({"name":"zope.interface","version":"6.0","purl":"pkg:pypi/zope.interface@6.0"}),
            json!({"name":"node","group":"@types","version":"20.11.0","purl":"pkg:npm/%40types/node@20.11.0"}),
            json!({"name":"commons","version":"1.0","purl":"pkg:maven/org.x/commons@1.0?type=jar&classifier=sources"}),
            json!({"name":"foo","version":"1.0","purl":"pkg:pypi/foo@1.0?vcs_url=git%2Bhttps://x/foo%401"}),
        ]),
    );
    let new = write(
        dir.path(),
        "new.json",
        &cdx(&[
            json!({"name":"charset-normalizer","version":"3.3.2","purl":"pkg:pypi/charset-normalizer@3.3.2"}),
            json!({"name":"zope-interface","version":"6.0.0","purl":"pkg:pypi/Zope_Interface@6.0.0"}),
            json!({"name":"node","version":"20.11.0","purl":"pkg:npm/@Types/Node@20.11.0"}),
            json!({"name":"commons","version":"1.0","purl":"pkg:maven/org.x/commons@1.0?classifier=sources&type=jar"}),
            json!({"name":"foo","version":"1.0","purl":"pkg:pypi/foo@1.0"}),
        ]),
    );
    let (code, records) = diff(&old, &new, &[]);
    // PEP 440: 6.0 and 6.0.0 are one version. foo's vcs_url does not split
    // the identity: foo pairs, and came from git before (source_changed).
    assert_eq!((code, records.len()), (1, 2), "{records:?}");
    assert_eq!(
        (
            &records[0]["change"],
            &records[0]["id"],
            &records[0]["old_source"]
        ),
        (
            &json!("source_changed"),
            &json!("pkg:pypi/foo"),
            &json!("git+https://x/foo@1")
        )
    );
    // A freeze file names the same packages.
    let freeze = write(
        dir.path(),
        "freeze.txt",
        "charset_normalizer==3.3.2\nZope.Interface==6.0\n",
    );
    let (code, records) = diff(&freeze, &new, &["--fail-on", "removed"]);
    assert_eq!(code, 0);
    assert_eq!(
        kinds(&records),
        vec![
            t(
                "added",
                "pkg:maven/org.x/commons?classifier=sources&type=jar",
                "",
                "1.0"
            ),
            t("added", "pkg:npm/%40types/node", "", "20.11.0"),
            t("added", "pkg:pypi/foo", "", "1.0"),
        ]
    );
    // A component without purl: ecosystem-less group/name identity.
    let a = write(
        dir.path(),
        "a.json",
        &cdx(&[json!({"group":"acme","name":"Widget","version":"1"})]),
    );
    let b = write(
        dir.path(),
        "b.json",
        &cdx(&[json!({"group":"acme","name":"Widget","version":"2"})]),
    );
    let (_, records) = diff(&a, &b, &[]);
    assert_eq!(
        kinds(&records),
        vec![t("upgraded", "pkg:generic/acme/Widget", "1", "2")]
    );
}

#[test]
fn licences_in_other_forms_are_not_changes_but_real_changes_are() {
    let dir = tempfile::tempdir().unwrap();
    let lic = |v: Value| json!({"name":"x","version":"1","purl":"pkg:pypi/x@1","licenses":v});
    let cases = [
        (
            json!([{"license":{"name":"License :: OSI Approved :: MIT License"}}]),
            json!([{"license":{"id":"MIT"}}]),
            false,
        ),
        (
            json!([{"license":{"id":"MIT"}},{"license":{"id":"Apache-2.0"}}]),
            json!([{"expression":"Apache-2.0 OR MIT"}]),
            false,
        ),
        (
            json!([{"expression":"(mit OR apache-2.0)"}]),
            json!([{"expression":"Apache-2.0 OR MIT"}]),
            false,
        ),
        (
            json!([{"license":{"name":"License :: OSI Approved :: Apache Software License"}}]),
            json!([{"license":{"id":"Apache-2.0"}}]),
            false,
        ),
        (
            json!([{"license":{"id":"GPL-2.0+"}}]),
            json!([{"expression":"GPL-2.0-or-later"}]),
            false,
        ),
        (
            json!([{"expression":"(MIT OR Apache-2.0) AND Unicode-DFS-2016"}]),
            json!([{"expression":"Unicode-DFS-2016 AND (Apache-2.0 OR MIT)"}]),
            false,
        ),
        (
            json!([{"expression":"Apache-2.0 WITH LLVM-exception OR MIT"}]),
            json!([{"expression":"MIT OR Apache-2.0 WITH LLVM-exception"}]),
            false,
        ),
        (json!([{"license":{"id":"MIT"}}]), json!([]), false),
        (
            json!([{"license":{"id":"MIT"}}]),
            json!([{"license":{"id":"Apache-2.0"}}]),
            true,
        ),
        (
            json!([{"expression":"MIT OR Apache-2.0"}]),
            json!([{"expression":"MIT AND Apache-2.0"}]),
            true,
        ),
        (
            json!([{"license":{"id":"GPL-2.0-only"}}]),
            json!([{"license":{"id":"GPL-3.0-only"}}]),
            true,
        ),
    ];
    for (i, (a, b, changed)) in cases.into_iter().enumerate() {
        let old = write(dir.path(), "o.json", &cdx(&[lic(a.clone())]));
        let new = write(dir.path(), "n.json", &cdx(&[lic(b.clone())]));
        let (code, records) = diff(&old, &new, &[]);
        assert_eq!(
            code,
            i32::from(changed),
            "case {i}: {a} vs {b}: {records:?}"
        );
        if changed {
            assert_eq!(records[0]["change"], "license_changed");
        }
    }
    // SPDX licenseConcluded vs a CycloneDX expression.
    let spdx = write(
        dir.path(),
        "s.json",
        &json!({"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","packages":[
            {"SPDXID":"SPDXRef-x","name":"x","versionInfo":"1","licenseConcluded":"NOASSERTION","licenseDeclared":"BSD-3-Clause",
             "supplier":"Organization: Acme Corp (sec@acme.example)",
             "externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:pypi/x@1"}]}]})
        .to_string(),
    );
    let c = write(
        dir.path(),
        "c.json",
        &cdx(&[
            json!({"name":"x","version":"1","purl":"pkg:pypi/x@1","licenses":[{"expression":"MIT"}],"supplier":{"name":"Other Inc"}}),
        ]),
    );
    let (code, records) = diff(&spdx, &c, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        records[0],
        json!({"kind":"change","change":"license_changed","id":"pkg:pypi/x","name":"x","ecosystem":"pypi",
            "old_version":"1","new_version":"1","old_purl":"pkg:pypi/x@1","new_purl":"pkg:pypi/x@1",
            "old_license":"BSD-3-Clause","new_license":"MIT",
            "old_supplier":"Acme Corp","new_supplier":"Other Inc"})
    );
    assert_eq!(records[1]["change"], "supplier_changed");
}

#[test]
fn document_fields_that_change_every_generation_are_not_drift() {
    let dir = tempfile::tempdir().unwrap();
    let body = |serial: &str, ts: &str, tool: &str| {
        json!({"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":serial,"version":7,
            "metadata":{"timestamp":ts,"tools":{"components":[{"name":"gen","version":tool}]},
                "component":{"bom-ref":"root@1","name":"app","version":tool}},
            "components":[{"bom-ref":format!("a@1-{tool}"),"name":"a","version":"1","purl":"pkg:npm/a@1"}],
            "dependencies":[{"ref":"root@1","dependsOn":[format!("a@1-{tool}")]}]})
        .to_string()
    };
    let a = write(
        dir.path(),
        "a.json",
        &body("urn:uuid:1", "2026-01-01T00:00:00Z", "1.0"),
    );
    let b = write(
        dir.path(),
        "b.json",
        &body("urn:uuid:2", "2026-06-01T00:00:00Z", "2.0"),
    );
    let (code, records) = diff(&a, &b, &["--max-drift", "0"]);
    assert_eq!((code, records.len()), (0, 1), "{records:?}");
}

#[test]
fn allow_file_approves_changes_which_then_do_not_count() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(
        dir.path(),
        "old.txt",
        "requests==2.31.0\nurllib3==2.0.7\nidna==3.6\n",
    );
    let new = write(
        dir.path(),
        "new.txt",
        "requests==2.32.3\nurllib3==1.26.18\nidna==3.6\nsix==1.16.0\n",
    );
    let allow = write(
        dir.path(),
        "allow.txt",
        "# approved for 1.5\npkg:pypi/urllib3 change=downgraded pinned for botocore\npkg:PyPI/Requests@2.32.*  security fix\npkg:pypi/six@1.15.* wrong version: does not match\n",
    );
    let (code, records) = diff(
        &old,
        &new,
        &[
            "--allow",
            allow.to_str().unwrap(),
            "--max-drift",
            "34%",
            "--max-added",
            "1",
        ],
    );
    assert_eq!(code, 0, "{records:?}");
    assert_eq!(records[0]["change"], "upgraded");
    assert_eq!(
        (records[0]["allowed"].clone(), records[0]["reason"].clone()),
        (json!(true), json!("security fix"))
    );
    assert_eq!(records[1]["change"], "added");
    assert!(records[1].get("allowed").is_none());
    assert_eq!(records[2]["reason"], "pinned for botocore");
    let f = &summary(&records)["figures"];
    assert_eq!(
        (
            f["allowed"].clone(),
            f["added"].clone(),
            f["upgraded"].clone(),
            f["downgraded"].clone()
        ),
        (json!(2), json!(1), json!(0), json!(0))
    );
    // Only six (added, not approved) counts: 1 of 3.
    assert_eq!(f["drift"], 0.333333333);
    // A bad rule names the file and line.
    let bad = write(dir.path(), "bad.txt", "\n# ok\nrequests==1\n");
    let (code, _, stderr) = run(&[
        old.as_os_str(),
        new.as_os_str(),
        "--allow".as_ref(),
        bad.as_os_str(),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(&format!(
            "sbom-diff: error: {}:3: pattern \"requests==1\" is not a purl pattern",
            bad.display()
        )),
        "{stderr}"
    );
    let bad = write(dir.path(), "bad2.txt", "pkg:pypi/x change=bumped\n");
    let (code, _, stderr) = run(&[
        old.as_os_str(),
        new.as_os_str(),
        "--allow".as_ref(),
        bad.as_os_str(),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("bad2.txt:1: unknown change kind \"bumped\""),
        "{stderr}"
    );
}

#[test]
fn gates_pass_and_fail_with_exact_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut old = String::new();
    for i in 0..200 {
        old.push_str(&format!("pkg{i}==1.0\n"));
    }
    let new = old.replace("pkg7==1.0", "pkg7==1.1");
    let (o, n) = (
        write(dir.path(), "o.txt", &old),
        write(dir.path(), "n.txt", &new),
    );
    // 1 of 200 = 0.5%: passes "drift <= 0.5%", fails 0.4%.
    let (code, records) = diff(&o, &n, &["--max-drift", "0.5%"]);
    assert_eq!(code, 0);
    assert_eq!(
        summary(&records)["gates"],
        json!([{"name":"drift","op":"<=","limit":0.005,"value":0.005,"pass":true}])
    );
    let (code, records) = diff(
        &o,
        &n,
        &["--max-drift", "0.4%", "--fail-on", "downgraded,upgraded"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        summary(&records)["gates"],
        json!([
            {"name":"drift","op":"<=","limit":0.004,"value":0.005,"pass":false},
            {"name":"upgraded","op":"<=","limit":0.0,"value":1.0,"pass":false},
            {"name":"downgraded","op":"<=","limit":0.0,"value":0.0,"pass":true}
        ])
    );
    assert_eq!(summary(&records)["verdict"], "fail");
}

#[test]
fn text_and_csv_formats() {
    let dir = tempfile::tempdir().unwrap();
    let o = write(
        dir.path(),
        "o.txt",
        "a==1.0\nb==2.0 --hash=sha256:aa\nc==1\n",
    );
    let n = write(
        dir.path(),
        "n.txt",
        "a==1.1\nb==2.0 --hash=sha256:bb\nd==4\n",
    );
    let (code, stdout, _) = run(&[
        o.as_os_str(),
        n.as_os_str(),
        "--format".as_ref(),
        "csv".as_ref(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        String::from_utf8(stdout).unwrap(),
        "change,id,name,ecosystem,from,old_version,new_version,old_license,new_license,old_hashes,new_hashes,old_supplier,new_supplier,allowed,reason,old_source,new_source\n\
         upgraded,pkg:pypi/a,a,pypi,,1.0,1.1,,,,,,,false,,,\n\
         hash_changed,pkg:pypi/b,b,pypi,,2.0,2.0,,,SHA256:aa,SHA256:bb,,,false,,,\n\
         removed,pkg:pypi/c,c,pypi,,1,,,,,,,,false,,,\n\
         added,pkg:pypi/d,d,pypi,,,4,,,,,,,false,,,\n"
    );
    let (code, stdout, _) = run(&[
        o.as_os_str(),
        n.as_os_str(),
        "--format".as_ref(),
        "text".as_ref(),
    ]);
    assert_eq!(code, 1);
    let text = String::from_utf8(stdout).unwrap();
    let expected_head = "\
CHANGE        COMPONENT  OLD  NEW  NOTE
upgraded      a (pypi)   1.0  1.1
hash_changed  b (pypi)   2.0  2.0  SHA256 -aa.. +bb..
removed       c (pypi)   1
added         d (pypi)        4
";
    assert!(text.starts_with(expected_head), "{text}");
    assert!(text.contains("drift 100.0000% (2 changed, of 3 in the baseline)\ngate changes: 4 <= 0: FAIL\nverdict: fail\n"), "{text}");
}

#[test]
fn stdin_and_gzip_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let o = write(dir.path(), "o.txt", "a==1.0\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, b"a==1.0\n").unwrap();
    let n = dir.path().join("n.txt.gz");
    std::fs::write(&n, gz.finish().unwrap()).unwrap();
    let (code, records) = diff(&o, &n, &[]);
    assert_eq!((code, records.len()), (0, 1));
    let out = bin()
        .arg("-")
        .arg(&o)
        .write_stdin("a==0.9\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let records = jsonl(&out.stdout);
    assert_eq!(records[0]["change"], "upgraded");
    assert_eq!(summary(&records)["inputs"][0]["path"], "<stdin>");
    let (code, _, stderr) = run(&["-".as_ref(), "-".as_ref()]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("sbom-diff: error: OLD and NEW cannot both be stdin"),
        "{stderr}"
    );
}

#[test]
fn closed_stdout_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let mut old = String::new();
    let mut new = String::new();
    for i in 0..50_000 {
        old.push_str(&format!("package-number-{i}==1.0\n"));
        new.push_str(&format!("package-number-{i}==2.0\n"));
    }
    let (o, n) = (
        write(dir.path(), "o.txt", &old),
        write(dir.path(), "n.txt", &new),
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sbom-diff"))
        .arg(&o)
        .arg(&n)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here: like `sbom-diff ... | head -1`.
    assert!(first.contains("\"change\":\"upgraded\""), "{first}");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn help_shows_examples_and_the_rules() {
    let out = bin().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Examples:",
        "--max-drift 0.5%",
        "Identity.",
        "PEP 503",
        "Drift. drift =",
        "Allow file",
    ] {
        assert!(text.contains(needle), "--help lacks {needle:?}");
    }
}

/// SigCgt of a process: the signals it has handlers for.
fn caught_signals(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0)
}

#[test]
fn sigint_while_reading_writes_an_interrupted_summary() {
    use std::io::Write;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let n = write(dir.path(), "n.txt", "a==1.0\n");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sbom-diff"))
        .arg("-")
        .arg(&n)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (bounded) until the SIGINT handler is installed, then interrupt
    // the run while it is blocked reading stdin.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while caught_signals(child.id()) & (1 << (2 - 1)) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "handler never installed"
        );
        std::thread::yield_now();
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"a==0.9\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = jsonl(&out.stdout);
    assert_eq!(records.len(), 1);
    let s = summary(&records);
    assert_eq!(
        (s["interrupted"].clone(), s["verdict"].clone()),
        (json!(true), json!("fail"))
    );
    assert_eq!(s["inputs"][0]["path"], "<stdin>");
}

#[test]
fn git_dependencies_a_moved_commit_is_hash_changed_a_swapped_fork_a_new_package() {
    let dir = tempfile::tempdir().unwrap();
    let lock = |commit: &str| {
        format!(
            "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"foo\"]\n\n\
             [[package]]\nname = \"foo\"\nversion = \"1.0.0\"\n\
             source = \"git+https://github.com/x/foo?branch=main#{commit}\"\n"
        )
    };
    let c1 = "1111111111111111111111111111111111111111";
    let c2 = "2222222222222222222222222222222222222222";
    let a = write(dir.path(), "a.lock", &lock(c1));
    let b = write(dir.path(), "b.lock", &lock(c2));
    let (code, records) = diff(&a, &b, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        records[0],
        json!({"kind":"change","change":"hash_changed",
            "id":"pkg:cargo/foo?repository_url=git+https:%2F%2Fgithub.com%2Fx%2Ffoo","name":"foo",
            "ecosystem":"cargo","old_version":"1.0.0","new_version":"1.0.0",
            "old_purl":"pkg:cargo/foo@1.0.0?repository_url=git+https:%2F%2Fgithub.com%2Fx%2Ffoo",
            "new_purl":"pkg:cargo/foo@1.0.0?repository_url=git+https:%2F%2Fgithub.com%2Fx%2Ffoo",
            "old_hashes":{"GIT":c1},"new_hashes":{"GIT":c2}})
    );
    // cargo-cyclonedx writes the same source as vcs_url=git+URL@COMMIT: the
    // lockfile and its SBOM agree, and the SBOM sees the move too.
    let sbom = |commit: &str| {
        cdx(&[json!({"name":"foo","version":"1.0.0",
            "purl":format!("pkg:cargo/foo@1.0.0?vcs_url=git%2Bhttps://github.com/x/foo%3Fbranch%3Dmain@{commit}")})])
    };
    let s1 = write(dir.path(), "s1.json", &sbom(c1));
    let s2 = write(dir.path(), "s2.json", &sbom(c2));
    let (code, records) = diff(&a, &s1, &[]);
    assert_eq!((code, records.len()), (0, 1), "{records:?}");
    let (code, records) = diff(&a, &s2, &["--fail-on", "hash_changed"]);
    assert_eq!(code, 1);
    assert_eq!(records[0]["change"], "hash_changed");
    // The crates.io crate swapped for a git fork at the same version: another
    // package (removed + added), not silence.
    let registry = lock(c1).replace(
        "source = \"git+https://github.com/x/foo?branch=main#1111111111111111111111111111111111111111\"",
        "source = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"aa\"",
    );
    let r = write(dir.path(), "registry.lock", &registry);
    let (code, records) = diff(&r, &a, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        kinds(&records),
        vec![
            t("removed", "pkg:cargo/foo", "1.0.0", ""),
            t(
                "added",
                "pkg:cargo/foo?repository_url=git+https:%2F%2Fgithub.com%2Fx%2Ffoo",
                "",
                "1.0.0"
            ),
            t("dependency_removed", "pkg:cargo/foo", "", ""),
            t(
                "dependency_added",
                "pkg:cargo/foo?repository_url=git+https:%2F%2Fgithub.com%2Fx%2Ffoo",
                "",
                ""
            ),
        ]
    );
}

#[test]
fn text_format_escapes_control_characters_from_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let doc = |v: &str| cdx(&[json!({"name":"evil\u{1b}[31mRED\nfake line","version":v})]);
    let a = write(dir.path(), "a.json", &doc("1"));
    let b = write(dir.path(), "b.json", &doc("2\u{1b}]0;title\u{7}"));
    let (code, stdout, stderr) = run(&[
        a.as_os_str(),
        b.as_os_str(),
        "--format".as_ref(),
        "text".as_ref(),
    ]);
    assert_eq!((code, stderr.as_str()), (1, ""));
    let text = String::from_utf8(stdout).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    let row = text.lines().nth(1).unwrap();
    assert!(
        row.starts_with(
            "upgraded  evil\\u{1b}[31mRED\\nfake line (generic)  1    2\\u{1b}]0;title\\u{7}"
        ),
        "{row:?}"
    );
}

#[test]
fn cargo_lock_v1_checksums_are_read_from_its_metadata_table() {
    let dir = tempfile::tempdir().unwrap();
    let sum = "c".repeat(64);
    let v1 = format!(
        "[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"itoa 1.0.9 (registry+https://github.com/rust-lang/crates.io-index)\",\n]\n\n\
         [[package]]\nname = \"itoa\"\nversion = \"1.0.9\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
         [metadata]\n\"checksum itoa 1.0.9 (registry+https://github.com/rust-lang/crates.io-index)\" = \"{sum}\"\n"
    );
    let v3 = |digest: &str| {
        format!(
            "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"itoa\"]\n\n\
             [[package]]\nname = \"itoa\"\nversion = \"1.0.9\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{digest}\"\n"
        )
    };
    let a = write(dir.path(), "v1.lock", &v1);
    let same = write(dir.path(), "same.lock", &v3(&sum));
    let (code, records) = diff(&a, &same, &[]);
    assert_eq!((code, records.len()), (0, 1), "{records:?}");
    let other = write(dir.path(), "other.lock", &v3(&"d".repeat(64)));
    let (code, records) = diff(&a, &other, &[]);
    assert_eq!(code, 1);
    assert_eq!(records[0]["change"], "hash_changed");
    assert_eq!(records[0]["old_hashes"], json!({"SHA256": sum}));
}

#[test]
fn an_spdx_supplier_contact_is_not_a_supplier_change() {
    let dir = tempfile::tempdir().unwrap();
    let spdx = write(
        dir.path(),
        "s.json",
        &json!({"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","packages":[
            {"SPDXID":"SPDXRef-x","name":"x","versionInfo":"1","supplier":"Organization: Acme Corp (sec@acme.example)",
             "externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:pypi/x@1"}]}]})
        .to_string(),
    );
    let same = write(
        dir.path(),
        "c.json",
        &cdx(&[
            json!({"name":"x","version":"1","purl":"pkg:pypi/x@1","supplier":{"name":"acme corp"}}),
        ]),
    );
    let (code, records) = diff(&spdx, &same, &[]);
    assert_eq!((code, records.len()), (0, 1), "{records:?}");
}

#[test]
fn a_lone_described_spdx_package_is_the_subject() {
    // A project without dependencies: SPDX names only the project (and
    // DESCRIBES it), CycloneDX only in metadata.component. No component:
    // refused, since such a comparison proves nothing (trial 2, item 11).
    let dir = tempfile::tempdir().unwrap();
    let spdx = write(
        dir.path(),
        "s.json",
        &json!({"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","documentDescribes":["SPDXRef-app"],
            "packages":[{"SPDXID":"SPDXRef-app","name":"app","versionInfo":"1.0.0",
             "externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/app@1.0.0"}]}]})
        .to_string(),
    );
    let c = write(dir.path(), "c.json", &cdx(&[]));
    let (code, _, err) = run(&[spdx.as_os_str(), c.as_os_str()]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(&format!(
            "sbom-diff: error: {}: no components (it lists no package)",
            spdx.display()
        )),
        "{err}"
    );
    // With a dependency on the other side, the subject is still no component.
    let one = write(
        dir.path(),
        "one.json",
        &cdx(&[json!({"name": "idna", "version": "3.6", "purl": "pkg:pypi/idna@3.6"})]),
    );
    let (code, _, err) = run(&[spdx.as_os_str(), one.as_os_str()]);
    assert_eq!(code, 2, "{err}");
}
