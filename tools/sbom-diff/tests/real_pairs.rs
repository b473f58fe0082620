//! The real generator outputs in testdata/sbom-diff (see its README): exact
//! change records and figures for each pair, same-format and cross-format.

use serde_json::{json, Value};

use crate::util::*;

fn path(name: &str) -> String {
    testdata(&format!("sbom-diff/{name}")).display().to_string()
}

/// Runs sbom-diff on two fixtures with extra args; returns (exit code, records).
fn diff(old: &str, new: &str, args: &[&str]) -> (i32, Vec<Value>) {
    let r = sbom_diff(
        [path(old), path(new)]
            .iter()
            .map(String::as_str)
            .chain(args.iter().copied()),
    );
    assert!(r.stderr.is_empty(), "stderr: {}", r.stderr);
    (r.code, r.records())
}

fn figures(records: &[Value]) -> Value {
    let mut f = summary(records)["figures"].clone();
    f.as_object_mut().unwrap().remove("format_old");
    f.as_object_mut().unwrap().remove("format_new");
    f
}

#[allow(clippy::too_many_arguments)]
fn expect_figures(
    old: u64,
    new: u64,
    added: u64,
    removed: u64,
    upgraded: u64,
    downgraded: u64,
    license: u64,
    hash: u64,
    dep_added: u64,
    dep_removed: u64,
    changed: u64,
    unchanged: u64,
    drift: f64,
) -> Value {
    json!({
        "components_old": old, "components_new": new, "added": added, "removed": removed,
        "upgraded": upgraded, "downgraded": downgraded, "license_changed": license,
        "hash_changed": hash, "source_changed": 0, "supplier_changed": 0, "dependency_added": dep_added,
        "dependency_removed": dep_removed, "changed": changed, "unchanged": unchanged,
        "allowed": 0,
        "changes": added + removed + upgraded + downgraded + license + hash + dep_added + dep_removed,
        "drift": drift
    })
}

#[test]
fn cyclonedx_py_environments() {
    let (code, records) = diff("py-a.cdx.json", "py-b.cdx.json", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        changes(&records),
        vec![
            t("upgraded", "pkg:pypi/idna", "3.6", "3.7"),
            t("added", "pkg:pypi/jinja2", "", "3.1.4"),
            t("added", "pkg:pypi/markupsafe", "", "2.1.5"),
            t("removed", "pkg:pypi/pyyaml", "6.0.1", ""),
            t("upgraded", "pkg:pypi/requests", "2.31.0", "2.32.3"),
            t("downgraded", "pkg:pypi/urllib3", "2.0.7", "1.26.18"),
            t(
                "dependency_added",
                "pkg:pypi/markupsafe",
                "pkg:pypi/jinja2",
                ""
            ),
        ]
    );
    // One full record: names, purls and licences as normalized.
    assert_eq!(
        records[4],
        json!({"kind":"change","change":"upgraded","id":"pkg:pypi/requests","name":"requests",
            "ecosystem":"pypi","old_version":"2.31.0","new_version":"2.32.3",
            "old_purl":"pkg:pypi/requests@2.31.0","new_purl":"pkg:pypi/requests@2.32.3",
            "old_license":"License :: OSI Approved :: Apache Software License",
            "new_license":"Apache-2.0"})
    );
    // 2 added + 1 removed + 3 changed pairs, of 8 in the baseline.
    assert_eq!(
        figures(&records),
        expect_figures(8, 9, 2, 1, 2, 1, 0, 0, 1, 0, 3, 4, 0.75)
    );
    let s = summary(&records);
    assert_eq!(
        s["gates"],
        json!([{"name":"changes","op":"<=","limit":0.0,"value":7.0,"pass":false}])
    );
    assert_eq!(s["inputs"][0]["path"], path("py-a.cdx.json"));
    assert_eq!(s["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn every_fixture_against_itself_shows_no_change() {
    for f in [
        "py-a.cdx.json",
        "py-b.cdx.json",
        "py-a.cdx-1.2.json",
        "py-b.cdx-1.4.json",
        "py-a.freeze.txt",
        "py-a.requirements.txt",
        "py-a.requirements.cdx.json",
        "npm-a.package-lock.json",
        "npm-a.package-lock-v2.json",
        "npm-b.package-lock.json",
        "npm-a.cdx.json",
        "npm-b.cdx.json",
        "npm-a.spdx.json",
        "npm-b.spdx.json",
        "cargo-a.Cargo.lock",
        "cargo-b.Cargo.lock",
        "cargo-a.cdx.json",
        "cargo-b.cdx.json",
        "npm-c.package-lock.json",
        "npm-d.package-lock.json",
        "npm-c.cdx.json",
        "npm-d.cdx.json",
    ] {
        // A copy: the file itself twice is refused (it proves nothing).
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join(f);
        std::fs::copy(path(f), &copy).unwrap();
        let r = sbom_diff([path(f), copy.display().to_string()]);
        let (code, records) = (r.code, r.records());
        assert_eq!(
            (code, records.len()),
            (0, 1),
            "{f}: {records:?} {}",
            r.stderr
        );
        assert_eq!(summary(&records)["figures"]["drift"], 0.0, "{f}");
        assert_eq!(summary(&records)["figures"]["changes"], 0, "{f}");
    }
}

#[test]
fn the_same_build_in_other_formats_shows_no_change() {
    for (a, b) in [
        // npm's own lockfile, its CycloneDX and its SPDX (graphs included).
        ("npm-a.package-lock.json", "npm-a.cdx.json"),
        ("npm-b.package-lock.json", "npm-b.spdx.json"),
        ("npm-b.cdx.json", "npm-b.spdx.json"),
        ("npm-a.spdx.json", "npm-a.cdx.json"),
        // cyclonedx-npm's nested components (debug's own ms@2.0.0) and a git
        // dependency's vcs_url: the same tree, the same sources.
        ("npm-c.package-lock.json", "npm-c.cdx.json"),
        ("npm-d.package-lock.json", "npm-d.cdx.json"),
        // lockfile v2 and v3 of the same tree.
        ("npm-a.package-lock-v2.json", "npm-a.package-lock.json"),
        // CycloneDX spec 1.2 / 1.4 against 1.6 of the same environment.
        ("py-a.cdx-1.2.json", "py-a.cdx.json"),
        ("py-b.cdx-1.4.json", "py-b.cdx.json"),
        // pip freeze against the CycloneDX of the same virtualenv.
        ("py-b.freeze.txt", "py-b.cdx.json"),
        // Cargo.lock against cargo-cyclonedx's SBOM of the same crate (graph too).
        ("cargo-a.Cargo.lock", "cargo-a.cdx.json"),
        ("cargo-b.cdx.json", "cargo-b.Cargo.lock"),
    ] {
        let (code, records) = diff(a, b, &[]);
        assert_eq!(code, 0, "{a} vs {b}: {records:?}");
        assert_eq!(records.len(), 1, "{a} vs {b}: {records:?}");
    }
    // Pinned requirements with hashes against cyclonedx-py's reading of
    // them: the same pins, but the file lets pip take them from /opt/wheels
    // too (`--find-links`), which the SBOM does not say (it names PyPI) and
    // no digest on its side proves the same files: source_changed each.
    let (code, records) = diff("py-a.requirements.txt", "py-a.requirements.cdx.json", &[]);
    assert_eq!(code, 1);
    let c = changes(&records);
    assert_eq!(c.len(), 6, "{c:?}");
    assert!(
        c.iter().all(|x| x.0 == "source_changed" && x.2 == x.3),
        "{c:?}"
    );
}

#[test]
fn npm_lockfile_against_spdx_of_the_next_build() {
    let (code, records) = diff("npm-a.package-lock.json", "npm-b.spdx.json", &[]);
    assert_eq!(code, 1);
    let got = changes(&records);
    assert_eq!(
        got[..13],
        vec![
            t("added", "pkg:npm/braces", "", "3.0.3"),
            t("added", "pkg:npm/fill-range", "", "7.1.1"),
            t("added", "pkg:npm/is-buffer", "", "1.1.6"),
            t("added", "pkg:npm/is-number", "", "3.0.0"),
            // kind-of 6.0.2 → 6.0.3 pairs within its release line; the nested
            // 3.2.2 copy is new. is-number 7.0.0 stays (paired with itself).
            t("upgraded", "pkg:npm/kind-of", "6.0.2", "6.0.3"),
            t("added", "pkg:npm/kind-of", "", "3.2.2"),
            t("added", "pkg:npm/left-pad", "", "1.3.0"),
            t("upgraded", "pkg:npm/lodash", "4.17.20", "4.17.21"),
            t("added", "pkg:npm/micromatch", "", "4.0.5"),
            t("added", "pkg:npm/picomatch", "", "2.3.2"),
            t("added", "pkg:npm/repeat-string", "", "1.6.1"),
            t("added", "pkg:npm/to-regex-range", "", "2.1.1"),
            t("added", "pkg:npm/to-regex-range", "", "5.0.1"),
        ]
    );
    assert_eq!(
        got[13],
        t("dependency_removed", "pkg:npm/is-number", "(root)", "")
    );
    assert_eq!(got.len(), 25);
    // 11 added + 2 changed, of 5: capped at 1.
    assert_eq!(
        figures(&records),
        expect_figures(5, 16, 11, 0, 2, 0, 0, 0, 11, 1, 2, 3, 1.0)
    );
}

#[test]
fn cargo_lockfiles() {
    let (code, records) = diff(
        "cargo-a.Cargo.lock",
        "cargo-b.Cargo.lock",
        &["--fail-on", "downgraded"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        changes(&records),
        vec![
            t("upgraded", "pkg:cargo/itoa", "1.0.9", "1.0.19"),
            t("downgraded", "pkg:cargo/memchr", "2.7.1", "2.6.4"),
            t("added", "pkg:cargo/ryu", "", "1.0.23"),
            t("removed", "pkg:cargo/smallvec", "1.16.6", ""),
            t("dependency_removed", "pkg:cargo/smallvec", "(root)", ""),
            t("dependency_added", "pkg:cargo/ryu", "(root)", ""),
        ]
    );
    assert_eq!(
        records[1]["old_hashes"],
        json!({"SHA256":"523dc4f511e55ab87b694dc30d0f820d60906ef06413f93d4d7a1385599cc149"})
    );
    assert_eq!(
        figures(&records),
        expect_figures(3, 3, 1, 1, 1, 1, 0, 0, 1, 1, 2, 0, 1.0)
    );
    assert_eq!(
        summary(&records)["gates"],
        json!([{"name":"downgraded","op":"<=","limit":0.0,"value":1.0,"pass":false}])
    );
}

#[test]
fn cargo_lockfile_against_the_next_builds_cyclonedx() {
    let (code, records) = diff(
        "cargo-a.Cargo.lock",
        "cargo-b.cdx.json",
        &["--max-drift", "0.5%"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        changes(&records),
        vec![
            t("upgraded", "pkg:cargo/itoa", "1.0.9", "1.0.19"),
            t("downgraded", "pkg:cargo/memchr", "2.7.1", "2.6.4"),
            t("added", "pkg:cargo/ryu", "", "1.0.23"),
            t("removed", "pkg:cargo/smallvec", "1.16.6", ""),
            t("dependency_removed", "pkg:cargo/smallvec", "(root)", ""),
            t("dependency_added", "pkg:cargo/ryu", "(root)", ""),
        ]
    );
    // The lockfile has no licences, the SBOM has: never a licence change.
    assert_eq!(records[0]["new_license"], "Apache-2.0 OR MIT");
    assert!(records[0].get("old_license").is_none());
    assert_eq!(
        summary(&records)["gates"],
        json!([{"name":"drift","op":"<=","limit":0.005,"value":1.0,"pass":false}])
    );
}

#[test]
fn undeclared_dependencies_pip_freeze_against_frozen_requirements() {
    // pip freeze --all also lists pip and setuptools, which the pins do not.
    // The pins may come from /opt/wheels too (`--find-links`, which
    // pip-compile copied from the machine's pip configuration), a freeze
    // does not say where it installed from, and a freeze has no hashes to
    // prove the same files: each pin's source is a change (trial 2, item 5).
    let (code, records) = diff(
        "py-a.requirements.txt",
        "py-a.freeze.txt",
        &["--max-added", "0"],
    );
    assert_eq!(code, 1);
    let moved = |id: &str, v: &str| t("source_changed", id, v, v);
    assert_eq!(
        changes(&records),
        vec![
            moved("pkg:pypi/certifi", "2023.11.17"),
            moved("pkg:pypi/charset-normalizer", "3.3.2"),
            moved("pkg:pypi/idna", "3.6"),
            t("added", "pkg:pypi/pip", "", "23.2.1"),
            moved("pkg:pypi/pyyaml", "6.0.1"),
            moved("pkg:pypi/requests", "2.31.0"),
            t("added", "pkg:pypi/setuptools", "", "65.5.0"),
            moved("pkg:pypi/urllib3", "2.0.7"),
        ]
    );
    assert_eq!(
        records[0]["old_source"],
        "registry+https://pypi.org/simple --find-links /opt/wheels"
    );
    let mut want = expect_figures(6, 8, 2, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1.0);
    want["source_changed"] = json!(6);
    want["changes"] = json!(8);
    assert_eq!(figures(&records), want);
    assert_eq!(
        summary(&records)["gates"],
        json!([{"name":"added","op":"<=","limit":0.0,"value":2.0,"pass":false}])
    );
}

#[test]
fn hash_changed_same_version_npm_integrity() {
    let (code, records) = diff(
        "npm-b.package-lock.json",
        "npm-b.tampered.package-lock.json",
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        records[0],
        json!({"kind":"change","change":"hash_changed","id":"pkg:npm/lodash","name":"lodash",
            "ecosystem":"npm","old_version":"4.17.21","new_version":"4.17.21",
            "old_purl":"pkg:npm/lodash@4.17.21","new_purl":"pkg:npm/lodash@4.17.21",
            "old_license":"MIT","new_license":"MIT",
            "old_hashes":{"SHA512":"bf690311ee7b95e713ba568322e3533f2dd1cb880b189e99d4edef13592b81764daec43e2c54c61d5c558dc5cfb35ecb85b65519e74026ff17675b6f8f916f4a"},
            "new_hashes":{"SHA512":"5c8e4c3f354d0298c0ca1433a615fc06498ab0a5310f82ddc8adb88997901a29c137dc93413ddb165081cbf695c761eb35ca901ac768b7c821ae3cabbcc0a810"}})
    );
    assert_eq!(
        figures(&records),
        expect_figures(16, 16, 0, 0, 0, 0, 0, 1, 0, 0, 1, 15, 0.0625)
    );
}

#[test]
fn hash_changed_same_version_pip_hash_pins() {
    let (code, records) = diff(
        "py-a.requirements.txt",
        "py-a.requirements.tampered.txt",
        &["--fail-on", "hash_changed", "--max-drift", "20%"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        changes(&records),
        vec![t("hash_changed", "pkg:pypi/idna", "3.6", "3.6")]
    );
    assert_eq!(
        records[0]["new_hashes"]["SHA256"],
        "c05567e9c24a6b9faaa835c4821bad0590fbb9d5779e7caa6e1cc4978e7eb24f \
         d121be3103007b41edf96f8262925f8c7d61894afe9a041843b631f69445bc57"
    );
    let gates = &summary(&records)["gates"];
    assert_eq!(
        gates,
        &json!([
            {"name":"drift","op":"<=","limit":0.2,"value":0.166666667,"pass":true},
            {"name":"hash_changed","op":"<=","limit":0.0,"value":1.0,"pass":false}
        ])
    );
}

/// A real npm tree whose is-number 7.0.0 from the registry became a git
/// repository's at the same version (npm install git+file://...): the
/// lockfiles and cyclonedx-npm's SBOMs of the two installs both show it as
/// source_changed, never as no change; send's bump is an upgrade.
#[test]
fn source_changed_registry_to_git_at_the_same_version_npm() {
    let commit = "0d920ce5d154fb68f8ff33058271a7d2c07c7f1b";
    for (old, new) in [
        ("npm-c.package-lock.json", "npm-d.package-lock.json"),
        ("npm-c.cdx.json", "npm-d.cdx.json"),
        ("npm-c.package-lock.json", "npm-d.cdx.json"),
    ] {
        let (code, records) = diff(
            old,
            new,
            &["--fail-on", "downgraded,hash_changed,source_changed"],
        );
        assert_eq!(code, 1, "{old} {new}: {records:?}");
        assert_eq!(
            changes(&records),
            vec![
                t("source_changed", "pkg:npm/is-number", "7.0.0", "7.0.0"),
                t("upgraded", "pkg:npm/send", "0.18.0", "0.19.0"),
            ],
            "{old} {new}"
        );
        let c = &records[0];
        assert_eq!(
            (&c["old_source"], &c["new_source"], &c["new_hashes"]),
            (
                &json!("registry"),
                &json!("git+file:///tmp/sbomgen/npmsrc/is-number-fork"),
                &json!({"GIT": commit})
            ),
            "{old} {new}"
        );
        let s = summary(&records);
        assert_eq!(
            s["gates"],
            json!([
                {"name": "downgraded", "op": "<=", "limit": 0.0, "value": 0.0, "pass": true},
                {"name": "hash_changed", "op": "<=", "limit": 0.0, "value": 0.0, "pass": true},
                {"name": "source_changed", "op": "<=", "limit": 0.0, "value": 1.0, "pass": false}
            ]),
            "{old} {new}"
        );
        assert_eq!(
            (&s["figures"]["components_old"], &s["figures"]["drift"]),
            (&json!(20), &json!(0.1)),
            "{old} {new}"
        );
    }
}
