//! CycloneDX nested components (issue: confirmed false passes of a hostile
//! trial): the sub-components of the document's subject
//! (`metadata.component.components`) were never read, so changing one from
//! 1.0.0 to 2.0.0 was "pass, 0 changes". Components nested in components
//! (`components[].components`, as cyclonedx-npm writes nested node_modules)
//! are read too, depth first, and both kinds take part in the graph by
//! their bom-refs.

use serde_json::{json, Value};

use crate::util::{changes, copy_in, sbom_diff, summary, t, write};

/// A CycloneDX 1.5 document: the subject `app` with `sub` (at `sub`) as its
/// sub-component, and `lib` with `deep` (at `deep`) nested in it.
fn bom(sub: &str, deep: &str) -> Value {
    json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
    "metadata": {"component": {"type": "application", "bom-ref": "app",
        "name": "app", "version": "1.0.0",
        "components": [
            {"type": "library", "bom-ref": "sub-ref", "name": "sub", "version": sub,
             "purl": format!("pkg:npm/sub@{sub}")}
        ]}},
    "components": [
        {"type": "library", "bom-ref": "lib-ref", "name": "lib", "version": "1.0.0",
         "purl": "pkg:npm/lib@1.0.0",
         "components": [
            {"type": "library", "bom-ref": "deep-ref", "name": "deep", "version": deep,
             "purl": format!("pkg:npm/deep@{deep}")}
         ]}
    ],
    "dependencies": [
        {"ref": "app", "dependsOn": ["sub-ref", "lib-ref"]},
        {"ref": "lib-ref", "dependsOn": ["deep-ref"]}
    ]})
}

/// Regression: a sub-component of `metadata.component` moved from 1.0.0
/// to 2.0.0 and nothing was reported.
#[test]
fn a_changed_sub_component_of_the_subject_is_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.json", &bom("1.0.0", "1.0.0").to_string());
    let new = write(dir.path(), "new.json", &bom("2.0.0", "1.0.0").to_string());
    let out = sbom_diff([old.as_os_str(), new.as_os_str()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let records = out.records();
    assert_eq!(
        changes(&records),
        vec![t("upgraded", "pkg:npm/sub", "1.0.0", "2.0.0")]
    );
    let f = &summary(&records)["figures"];
    assert_eq!(
        (&f["components_old"], &f["components_new"], &f["changed"]),
        (&json!(3), &json!(3), &json!(1))
    );
    // Against itself: nothing; and the graph reaches the sub-component.
    let copy = copy_in(dir.path(), &old);
    let out = sbom_diff([old.as_os_str(), copy.as_os_str()]);
    assert_eq!((out.code, changes(&out.records())), (0, vec![]));
    let mut no_edge = bom("1.0.0", "1.0.0");
    no_edge["dependencies"][0]["dependsOn"] = json!(["lib-ref"]);
    let cut = write(dir.path(), "cut.json", &no_edge.to_string());
    let out = sbom_diff([old.as_os_str(), cut.as_os_str()]);
    assert_eq!(
        changes(&out.records()),
        vec![t("dependency_removed", "pkg:npm/sub", "(root)", "")]
    );
}

/// A component nested in a component (cyclonedx-npm's nested node_modules)
/// is read, depth first.
#[test]
fn a_changed_component_nested_in_a_component_is_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.json", &bom("1.0.0", "1.0.0").to_string());
    let new = write(dir.path(), "new.json", &bom("1.0.0", "2.0.0").to_string());
    let out = sbom_diff([
        old.as_os_str(),
        new.as_os_str(),
        "--fail-on".as_ref(),
        "upgraded".as_ref(),
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        changes(&out.records()),
        vec![t("upgraded", "pkg:npm/deep", "1.0.0", "2.0.0")]
    );
}

/// A malformed sub-component of the subject is named by its JSON pointer.
#[test]
fn a_sub_component_of_the_subject_without_a_version_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = bom("1.0.0", "1.0.0");
    doc["metadata"]["component"]["components"][0]
        .as_object_mut()
        .unwrap()
        .remove("version");
    doc["metadata"]["component"]["components"][0]["purl"] = json!("pkg:npm/sub");
    let bad = write(dir.path(), "bad.json", &doc.to_string());
    let good = write(dir.path(), "good.json", &bom("1.0.0", "1.0.0").to_string());
    let out = sbom_diff([good.as_os_str(), bad.as_os_str()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with(&format!(
            "sbom-diff: error: {}: /metadata/component/components/0: component \"sub\" has no version",
            bad.display()
        )),
        "{}",
        out.stderr
    );
}

/// cargo-cyclonedx lists the crate's own build targets as the subject's
/// sub-components (the crate's purl with a subpath): they are the subject,
/// not dependencies, so a Cargo.lock and its SBOM still agree and a bump of
/// the crate's own version is no change; a real part of the product is one.
#[test]
fn the_subjects_own_build_targets_are_the_subject() {
    let dir = tempfile::tempdir().unwrap();
    let doc = |version: &str, part: &str| {
        json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
            "metadata": {"component": {
                "components": [
                    {"type": "application", "bom-ref": "app bin-target-0", "name": "app",
                     "version": version,
                     "purl": format!("pkg:cargo/app@{version}?download_url=file://.#src/main.rs")},
                    {"type": "library", "bom-ref": "vendored", "name": "zlib", "version": part,
                     "purl": format!("pkg:generic/zlib@{part}")}
                ],
                "type": "application", "bom-ref": "app", "name": "app", "version": version,
                "purl": format!("pkg:cargo/app@{version}?download_url=file://.")}},
            "components": [
                {"type": "library", "bom-ref": "itoa", "name": "itoa", "version": "1.0.9",
                 "purl": "pkg:cargo/itoa@1.0.9"}],
            "dependencies": [{"ref": "app bin-target-0", "dependsOn": ["itoa"]}]})
        .to_string()
    };
    let old = write(dir.path(), "old.json", &doc("0.1.0", "1.3"));
    let new = write(dir.path(), "new.json", &doc("0.2.0", "1.3"));
    let out = sbom_diff([old.as_os_str(), new.as_os_str()]);
    assert_eq!(
        (out.code, changes(&out.records())),
        (0, vec![]),
        "{}",
        out.stderr
    );
    let records = out.records();
    assert_eq!(summary(&records)["figures"]["components_old"], 2);
    let bumped = write(dir.path(), "bumped.json", &doc("0.2.0", "1.3.1"));
    let out = sbom_diff([old.as_os_str(), bumped.as_os_str()]);
    assert_eq!(
        changes(&out.records()),
        vec![t("upgraded", "pkg:generic/zlib", "1.3", "1.3.1")]
    );
    // The target's edge is the subject's: the same graph as a Cargo.lock's.
    let lock = write(
        dir.path(),
        "Cargo.lock",
        "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"itoa\"]\n\n\
         [[package]]\nname = \"itoa\"\nversion = \"1.0.9\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    );
    let out = sbom_diff([lock.as_os_str(), old.as_os_str()]);
    assert_eq!(
        changes(&out.records()),
        vec![t("added", "pkg:generic/zlib", "", "1.3")]
    );
}
