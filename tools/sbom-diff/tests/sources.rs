//! Where a package came from is compared (issue: confirmed false passes of
//! a hostile trial): a package-lock entry swapped for a git repository, a
//! local file or another registry at the same version was "no change"
//! (the integrity removed, no digest was left to differ); so were pip's
//! `name @ git+URL` and a CycloneDX purl's `vcs_url`.

use std::path::Path;

use common::testkit::{jsonl, summary};
use serde_json::{json, Value};

use crate::util::{bin, write};

/// Runs `sbom-diff OLD NEW EXTRA...`; (exit code, records, stderr).
fn diff(old: &Path, new: &Path, extra: &[&str]) -> (i32, Vec<Value>, String) {
    let out = bin().arg(old).arg(new).args(extra).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        jsonl(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The change records, without the summary.
fn changes(records: &[Value]) -> Vec<Value> {
    records
        .iter()
        .filter(|r| r["kind"] == "change")
        .cloned()
        .collect()
}

/// (name, value, pass) of each gate.
fn gates(records: &[Value]) -> Vec<(String, f64, bool)> {
    summary(records)["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap().to_string(),
                g["value"].as_f64().unwrap(),
                g["pass"].as_bool().unwrap(),
            )
        })
        .collect()
}

const LODASH_SRI: &str =
    "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==";
const LODASH_SHA512: &str = "bf690311ee7b95e713ba568322e3533f2dd1cb880b189e99d4edef13592b81764daec43e2c54c61d5c558dc5cfb35ecb85b65519e74026ff17675b6f8f916f4a";
const COMMIT: &str = "073f9df1c5c4b2e8a9d0e1f2a3b4c5d6e7f8a9b0";
const COMMIT2: &str = "5d1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c";

/// A package-lock v3 with lodash 4.17.21 as `entry` says.
fn lock(entry: Value) -> String {
    json!({"name": "app", "lockfileVersion": 3, "requires": true, "packages": {
        "": {"name": "app", "version": "1.0.0", "dependencies": {"lodash": "^4.17.21"}},
        "node_modules/lodash": entry
    }})
    .to_string()
}

fn from_registry() -> Value {
    json!({"version": "4.17.21",
           "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz",
           "integrity": LODASH_SRI, "license": "MIT"})
}

/// Regression: lodash from the registry swapped for a git repository at the
/// same version, its integrity dropped (a git dependency has none), was
/// "pass, 0 changes".
#[test]
fn an_npm_package_swapped_for_a_git_repository_at_the_same_version_is_a_source_change() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.json", &lock(from_registry()));
    for (file, resolved, source) in [
        (
            "file.json",
            format!("git+file:///tmp/evil/lodash#{COMMIT}"),
            "git+file:///tmp/evil/lodash",
        ),
        (
            "ssh.json",
            format!("git+ssh://git@github.com/evil/lodash.git#{COMMIT}"),
            "git+ssh://git@github.com/evil/lodash.git",
        ),
    ] {
        let new = write(
            dir.path(),
            file,
            &lock(json!({"version": "4.17.21", "resolved": resolved, "license": "MIT"})),
        );
        let (code, records, err) = diff(&old, &new, &[]);
        assert_eq!(code, 1, "{err}");
        assert_eq!(
            changes(&records),
            vec![
                json!({"kind": "change", "change": "source_changed", "id": "pkg:npm/lodash",
                "name": "lodash", "ecosystem": "npm",
                "old_version": "4.17.21", "new_version": "4.17.21",
                "old_purl": "pkg:npm/lodash@4.17.21", "new_purl": "pkg:npm/lodash@4.17.21",
                "old_license": "MIT", "new_license": "MIT",
                "old_hashes": {"SHA512": LODASH_SHA512}, "new_hashes": {"GIT": COMMIT},
                "old_source": "registry", "new_source": source})
            ]
        );
        let f = &summary(&records)["figures"];
        assert_eq!(
            (&f["source_changed"], &f["changed"], &f["drift"]),
            (&json!(1), &json!(1), &json!(1.0))
        );
        assert_eq!(gates(&records), vec![("changes".into(), 1.0, false)]);
        // The release gate of the README names the kind; so does drift.
        let (code, records, err) = diff(
            &old,
            &new,
            &[
                "--max-drift",
                "0.5%",
                "--fail-on",
                "downgraded,hash_changed,source_changed,license_changed",
            ],
        );
        assert_eq!(code, 1, "{err}");
        assert_eq!(
            gates(&records),
            vec![
                ("drift".into(), 1.0, false),
                ("downgraded".into(), 0.0, true),
                ("license_changed".into(), 0.0, true),
                ("hash_changed".into(), 0.0, true),
                ("source_changed".into(), 1.0, false),
            ]
        );
    }
}

/// Regression: a git dependency moved to another commit at the same version
/// was no change (the commit was not read).
#[test]
fn an_npm_git_dependency_moved_to_another_commit_is_a_hash_change() {
    let dir = tempfile::tempdir().unwrap();
    let git = |commit: &str| {
        lock(json!({"version": "4.17.21",
                    "resolved": format!("git+ssh://git@github.com/lodash/lodash.git#{commit}")}))
    };
    let old = write(dir.path(), "old.json", &git(COMMIT));
    let new = write(dir.path(), "new.json", &git(COMMIT2));
    let (code, records, err) = diff(&old, &new, &["--fail-on", "hash_changed"]);
    assert_eq!(code, 1, "{err}");
    let c = changes(&records);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(
        (&c[0]["change"], &c[0]["old_hashes"], &c[0]["new_hashes"]),
        (
            &json!("hash_changed"),
            &json!({"GIT": COMMIT}),
            &json!({"GIT": COMMIT2})
        )
    );
    assert_eq!(
        (&c[0]["old_source"], &c[0]["new_source"]),
        (
            &json!("git+ssh://git@github.com/lodash/lodash.git"),
            &json!("git+ssh://git@github.com/lodash/lodash.git")
        )
    );
    assert_eq!(gates(&records), vec![("hash_changed".into(), 1.0, false)]);
    // The same lock against itself: nothing.
    let (code, records, err) = diff(&old, &crate::util::copy_in(dir.path(), &old), &[]);
    assert_eq!((code, changes(&records).len()), (0, 0), "{err}");
}

/// Regression: a local `file:` tarball or another registry's tarball at the
/// same version, its integrity removed, was no change; the same tarball
/// from a mirror (equal integrity) is none.
#[test]
fn an_npm_package_from_a_file_or_another_registry_without_integrity_is_a_source_change() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.json", &lock(from_registry()));
    for (resolved, source) in [
        (
            "file:vendor/lodash-4.17.21.tgz",
            "file:vendor/lodash-4.17.21.tgz",
        ),
        (
            "https://npm.evil.example/lodash/-/lodash-4.17.21.tgz",
            "registry+https://npm.evil.example",
        ),
        (
            "https://evil.example/lodash.tgz",
            "https://evil.example/lodash.tgz",
        ),
    ] {
        let new = write(
            dir.path(),
            "new.json",
            &lock(json!({"version": "4.17.21", "resolved": resolved, "license": "MIT"})),
        );
        let (code, records, err) = diff(&old, &new, &["--fail-on", "source_changed"]);
        assert_eq!(code, 1, "{resolved}: {err}");
        let c = changes(&records);
        assert_eq!(c.len(), 1, "{resolved}: {c:?}");
        assert_eq!(
            (&c[0]["change"], &c[0]["old_source"], &c[0]["new_source"]),
            (&json!("source_changed"), &json!("registry"), &json!(source)),
            "{resolved}"
        );
        assert_eq!(gates(&records), vec![("source_changed".into(), 1.0, false)]);
    }
    // A mirror serving the same tarball (same integrity): no change.
    let mirror = write(
        dir.path(),
        "mirror.json",
        &lock(json!({"version": "4.17.21",
            "resolved": "https://npm.corp.example/api/npm/npm-remote/lodash/-/lodash-4.17.21.tgz",
            "integrity": LODASH_SRI, "license": "MIT"})),
    );
    let (code, records, err) = diff(&old, &mirror, &[]);
    assert_eq!((code, changes(&records)), (0, vec![]), "{err}");
    // No `resolved` at all: npm fetches it from the configured registry.
    let bare = write(
        dir.path(),
        "bare.json",
        &lock(json!({"version": "4.17.21", "integrity": LODASH_SRI, "license": "MIT"})),
    );
    let (code, records, err) = diff(&old, &bare, &[]);
    assert_eq!((code, changes(&records)), (0, vec![]), "{err}");
}

/// A registry package replaced by a symlink to a local folder (`link`) is
/// not silently dropped: it pairs with the registry one as a source change
/// (it was a lone `removed`, which a drift limit absorbs: trial 2, item 14).
#[test]
fn an_npm_package_swapped_for_a_link_is_a_source_change() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.json", &lock(from_registry()));
    let linked = json!({"name": "app", "lockfileVersion": 3, "requires": true, "packages": {
        "": {"name": "app", "version": "1.0.0", "dependencies": {"lodash": "^4.17.21"}},
        "node_modules/lodash": {"resolved": "evil/lodash", "link": true},
        "evil/lodash": {"name": "lodash", "version": "4.17.21"}
    }});
    let new = write(dir.path(), "new.json", &linked.to_string());
    let (code, records, err) = diff(&old, &new, &[]);
    assert_eq!(code, 1, "{err}");
    let c = changes(&records);
    assert_eq!(
        c.iter()
            .map(|r| (r["change"].as_str().unwrap(), r["id"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        vec![
            ("source_changed", "pkg:npm/lodash"),
            ("dependency_removed", "pkg:npm/lodash")
        ],
        "{c:?}"
    );
    assert_eq!(
        (&c[0]["old_source"], &c[0]["new_source"]),
        (&json!("registry"), &json!("file:evil/lodash"))
    );
}

/// Regression: pip's `name @ git+URL@COMMIT` took the whole URL as the
/// version: a pin swapped for a repository read as an up- or downgrade, and
/// a move to another commit likewise, never as what it is.
#[test]
fn a_pip_pin_swapped_for_a_git_repository_is_a_source_change() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.txt", "idna==3.6\nrequests==2.31.0\n");
    let new = write(
        dir.path(),
        "new.txt",
        &format!("idna==3.6\nrequests @ git+https://github.com/evil/requests.git@{COMMIT}\n"),
    );
    let (code, records, err) = diff(&old, &new, &["--fail-on", "source_changed"]);
    assert_eq!(code, 1, "{err}");
    let c = changes(&records);
    let kinds: Vec<&str> = c.iter().map(|r| r["change"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"source_changed"), "{c:?}");
    let s = c.iter().find(|r| r["change"] == "source_changed").unwrap();
    assert_eq!(
        (&s["old_source"], &s["new_source"], &s["new_hashes"]),
        (
            &json!("registry"),
            &json!("git+https://github.com/evil/requests.git"),
            &json!({"GIT": COMMIT})
        )
    );
    assert_eq!(summary(&records)["figures"]["changed"], 1);
    assert_eq!(gates(&records), vec![("source_changed".into(), 1.0, false)]);

    // Another commit of the same repository: a hash change, not a "version".
    let moved = write(
        dir.path(),
        "moved.txt",
        &format!("idna==3.6\nrequests @ git+https://github.com/evil/requests.git@{COMMIT2}\n"),
    );
    let (code, records, err) = diff(&new, &moved, &[]);
    assert_eq!(code, 1, "{err}");
    let c = changes(&records);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(
        (&c[0]["change"], &c[0]["old_version"], &c[0]["new_version"]),
        (
            &json!("hash_changed"),
            &json!("git+https://github.com/evil/requests.git"),
            &json!("git+https://github.com/evil/requests.git")
        )
    );

    // A local file instead of the index.
    let local = write(
        dir.path(),
        "local.txt",
        "idna @ file:///tmp/idna-3.6-py3-none-any.whl\nrequests==2.31.0\n",
    );
    let (code, records, err) = diff(&old, &local, &["--fail-on", "source_changed"]);
    assert_eq!(code, 1, "{err}");
    let s = changes(&records)
        .into_iter()
        .find(|r| r["change"] == "source_changed")
        .unwrap_or_else(|| panic!("no source_changed: {records:?}"));
    assert_eq!(
        (&s["id"], &s["new_source"]),
        (
            &json!("pkg:pypi/idna"),
            &json!("file:///tmp/idna-3.6-py3-none-any.whl")
        )
    );
}

/// Regression: a CycloneDX npm purl gaining a git `vcs_url` at the same
/// version was no change (the old side had only a SHA-512, the new only the
/// commit: no algorithm in common).
#[test]
fn a_cyclonedx_purl_moved_to_a_git_vcs_url_is_a_source_change() {
    let dir = tempfile::tempdir().unwrap();
    let bom = |purl: &str, hashes: Value| {
        json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
            {"type": "library", "name": "lodash", "version": "4.17.21", "purl": purl,
             "hashes": hashes}
        ]})
        .to_string()
    };
    let old = write(
        dir.path(),
        "old.json",
        &bom(
            "pkg:npm/lodash@4.17.21",
            json!([{"alg": "SHA-512", "content": LODASH_SHA512}]),
        ),
    );
    let new = write(
        dir.path(),
        "new.json",
        &bom(
            &format!("pkg:npm/lodash@4.17.21?vcs_url=git%2Bssh://git@github.com/evil/lodash.git@{COMMIT}"),
            json!([]),
        ),
    );
    let (code, records, err) = diff(&old, &new, &["--fail-on", "source_changed"]);
    assert_eq!(code, 1, "{err}");
    let c = changes(&records);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(
        (&c[0]["change"], &c[0]["old_source"], &c[0]["new_source"]),
        (
            &json!("source_changed"),
            &json!("registry"),
            &json!("git+ssh://git@github.com/evil/lodash.git")
        )
    );
    // The package-lock of that swap against this SBOM: the same source.
    let lock_new = write(
        dir.path(),
        "lock.json",
        &lock(json!({"version": "4.17.21",
            "resolved": format!("git+ssh://git@github.com/evil/lodash.git#{COMMIT}")})),
    );
    let (code, records, err) = diff(&lock_new, &new, &[]);
    assert_eq!((code, changes(&records)), (0, vec![]), "{err}");
}

/// Regression: an SPDX package's downloadLocation naming a git repository
/// (its purl without vcs_url) was not read: a registry package swapped for
/// a fork at the same version was no change.
#[test]
fn an_spdx_download_location_from_git_is_a_source_change() {
    let dir = tempfile::tempdir().unwrap();
    let doc = |download: &str| {
        json!({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "app",
        "documentDescribes": ["SPDXRef-app"],
        "packages": [
            {"SPDXID": "SPDXRef-app", "name": "app", "versionInfo": "1.0.0",
             "downloadLocation": "NOASSERTION"},
            {"SPDXID": "SPDXRef-lodash", "name": "lodash", "versionInfo": "4.17.21",
             "downloadLocation": download,
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl", "referenceLocator": "pkg:npm/lodash@4.17.21"}]}
        ]})
        .to_string()
    };
    let old = write(dir.path(), "old.spdx.json", &doc("NOASSERTION"));
    let new = write(
        dir.path(),
        "new.spdx.json",
        &doc(&format!(
            "git+ssh://git@github.com/evil/lodash.git#{COMMIT}"
        )),
    );
    let (code, records, err) = diff(&old, &new, &["--fail-on", "source_changed"]);
    assert_eq!(code, 1, "{err}");
    let c = changes(&records);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(
        (
            &c[0]["change"],
            &c[0]["old_source"],
            &c[0]["new_source"],
            &c[0]["new_hashes"]
        ),
        (
            &json!("source_changed"),
            &json!("registry"),
            &json!("git+ssh://git@github.com/evil/lodash.git"),
            &json!({"GIT": COMMIT})
        )
    );
    // A registry tarball URL as downloadLocation is the registry.
    let tarball = write(
        dir.path(),
        "tarball.spdx.json",
        &doc("https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz"),
    );
    let (code, records, err) = diff(&old, &tarball, &[]);
    assert_eq!((code, changes(&records)), (0, vec![]), "{err}");
}
