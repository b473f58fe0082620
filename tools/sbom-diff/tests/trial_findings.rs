//! What a trial on real lockfiles and a hostile tester found (issues 13 and
//! 14): workspace members in dependency edges, an empty `pip freeze`, a
//! Cargo.lock listing one package twice, purls whose percent-encoded bytes
//! are not UTF-8, upper-case purl schemes, and the input size checked before
//! anything is read.

use std::path::Path;

use serde_json::{json, Value};

use crate::util::*;

/// Runs sbom-diff on `old new extra...`: (exit code, records, stderr).
fn diff(old: &Path, new: &Path, extra: &[&str]) -> (i32, Vec<Value>, String) {
    let mut args: Vec<&std::ffi::OsStr> = vec![old.as_os_str(), new.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let r = sbom_diff(args);
    (r.code, r.records(), r.stderr)
}

const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// A workspace Cargo.lock: members `app` and `cli` (no source), and the
/// crates.io packages `anyhow` and `serde`.
fn workspace_lock(app_deps: &[&str], cli_deps: &[&str]) -> String {
    let list = |deps: &[&str]| {
        deps.iter()
            .map(|d| format!("\"{d}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "version = 3\n\n\
         [[package]]\nname = \"anyhow\"\nversion = \"1.0.80\"\nsource = \"{CRATES_IO}\"\n\n\
         [[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [{}]\n\n\
         [[package]]\nname = \"cli\"\nversion = \"0.1.0\"\ndependencies = [{}]\n\n\
         [[package]]\nname = \"serde\"\nversion = \"1.0.197\"\nsource = \"{CRATES_IO}\"\n",
        list(app_deps),
        list(cli_deps)
    )
}

/// Regression: every workspace member was `(root)`, so a new dependency of
/// one member read as the workspace's and a dependency moved from one member
/// to another was no change at all.
#[test]
fn a_dependency_edge_from_a_workspace_member_names_the_member() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(
        dir.path(),
        "old.Cargo.lock",
        &workspace_lock(&["serde"], &["anyhow"]),
    );
    let new = write(
        dir.path(),
        "new.Cargo.lock",
        &workspace_lock(&["serde", "anyhow"], &["serde"]),
    );
    let (code, records, err) = diff(&old, &new, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        changes(&records),
        vec![
            t(
                "dependency_removed",
                "pkg:cargo/anyhow",
                "pkg:cargo/cli",
                ""
            ),
            t("dependency_added", "pkg:cargo/anyhow", "pkg:cargo/app", ""),
            t("dependency_added", "pkg:cargo/serde", "pkg:cargo/cli", ""),
        ]
    );

    // npm workspaces: the member folder's dependencies come from the member.
    let npm = |deps: Value| {
        json!({"name": "mono", "lockfileVersion": 3, "requires": true, "packages": {
            "": {"name": "mono", "workspaces": ["packages/a"]},
            "node_modules/a": {"resolved": "packages/a", "link": true},
            "node_modules/is-number": {"version": "7.0.0"},
            "packages/a": {"name": "a", "version": "1.0.0", "dependencies": deps}
        }})
        .to_string()
    };
    let old = write(dir.path(), "old-lock.json", &npm(json!({})));
    let new = write(
        dir.path(),
        "new-lock.json",
        &npm(json!({"is-number": "^7.0.0"})),
    );
    let (code, records, err) = diff(&old, &new, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        changes(&records),
        vec![t("dependency_added", "pkg:npm/is-number", "pkg:npm/a", "")]
    );
}

/// Regression: `pip freeze` in a fresh virtualenv prints nothing, and that
/// was "empty input: no SBOM or lockfile in it" (exit 2).
#[test]
fn an_empty_pip_freeze_is_an_empty_package_list() {
    let dir = tempfile::tempdir().unwrap();
    let pins = write(dir.path(), "requirements.txt", "idna==3.6\n");
    let empty = write(dir.path(), "freeze.txt", "");
    let (code, records, err) = diff(&pins, &empty, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        changes(&records),
        vec![t("removed", "pkg:pypi/idna", "3.6", "")]
    );
    let f = &summary(&records)["figures"];
    assert_eq!(
        (&f["format_new"], &f["components_new"]),
        (&json!("pip"), &json!(0))
    );
    // The fresh venv as the old side: everything is added.
    let (code, records, err) = diff(&empty, &pins, &["--max-added", "0"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        changes(&records),
        vec![t("added", "pkg:pypi/idna", "", "3.6")]
    );
    // Named as pip, an empty input is an empty list whatever the other side.
    let cdx = write(
        dir.path(),
        "bom.json",
        &json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
            {"name": "idna", "version": "3.6", "purl": "pkg:pypi/idna@3.6"}]})
        .to_string(),
    );
    let (code, records, err) = diff(&cdx, &empty, &["--to", "pip"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(summary(&records)["figures"]["components_new"], 0);
    // Unnamed, and nothing says it is pip: still an error (a generator that
    // wrote nothing must not pass as an empty SBOM), with the way out.
    let (code, records, err) = diff(&cdx, &empty, &[]);
    assert_eq!(code, 2, "{records:?}");
    assert!(
        err.starts_with(&format!(
            "sbom-diff: error: {}: empty input: no SBOM or lockfile in it",
            empty.display()
        )) && err.contains("--to pip"),
        "{err}"
    );
    let (code, _, err) = diff(&empty, &empty, &[]);
    assert_eq!(code, 2, "{err}");
}

/// Regression: cargo refuses a lockfile that lists one package (name,
/// version and source) twice; sbom-diff counted two instances.
#[test]
fn a_cargo_lock_listing_a_package_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lock = format!(
        "version = 3\n\n\
         [[package]]\nname = \"serde\"\nversion = \"1.0.197\"\nsource = \"{CRATES_IO}\"\n\n\
         [[package]]\nname = \"itoa\"\nversion = \"1.0.9\"\nsource = \"{CRATES_IO}\"\n\n\
         [[package]]\nname = \"serde\"\nversion = \"1.0.197\"\nsource = \"{CRATES_IO}\"\n"
    );
    let bad = write(dir.path(), "Cargo.lock", &lock);
    let good = write(
        dir.path(),
        "ok.Cargo.lock",
        &format!("version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.197\"\nsource = \"{CRATES_IO}\"\n"),
    );
    let (code, records, err) = diff(&good, &bad, &[]);
    assert_eq!(code, 2, "{records:?}");
    assert_eq!(
        err.lines().next().unwrap(),
        format!(
            "sbom-diff: error: {}:13: package \"serde\" 1.0.197 ({CRATES_IO}) is listed twice \
             (first at line 3): cargo refuses such a lockfile",
            bad.display()
        )
    );
    // The same name and version from two sources are two packages.
    let two_sources = format!(
        "{lock_head}[[package]]\nname = \"serde\"\nversion = \"1.0.197\"\nsource = \"git+https://example.invalid/serde#0123456789abcdef0123456789abcdef01234567\"\n",
        lock_head = std::fs::read_to_string(&good).unwrap() + "\n"
    );
    let fork = write(dir.path(), "fork.Cargo.lock", &two_sources);
    let (code, records, err) = diff(&good, &fork, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(summary(&records)["figures"]["added"], 1);
}

fn cdx(purls: &[&str]) -> String {
    let comps: Vec<Value> = purls
        .iter()
        .map(|p| json!({"type": "library", "name": "x", "purl": p}))
        .collect();
    json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": comps}).to_string()
}

/// Regression: `%FF` and `%FE` both decoded to U+FFFD, so two different
/// packages were one identity and a swap was "no change" (exit 0).
#[test]
fn percent_encoded_bytes_that_are_not_utf8_do_not_collide() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(dir.path(), "old.json", &cdx(&["pkg:npm/evil%FF@1.0.0"]));
    let new = write(dir.path(), "new.json", &cdx(&["pkg:npm/evil%FE@1.0.0"]));
    let (code, records, err) = diff(&old, &new, &[]);
    assert_eq!(code, 2, "{records:?}");
    assert_eq!(
        err.lines().next().unwrap(),
        format!(
            "sbom-diff: error: {}: /components/0/purl: purl \"pkg:npm/evil%FF@1.0.0\" \
             is not UTF-8 once percent-decoded",
            old.display()
        )
    );
    // Encoded UTF-8 is fine, and equal to the same text unencoded.
    let a = write(dir.path(), "a.json", &cdx(&["pkg:npm/caf%C3%A9@1.0.0"]));
    let b = write(dir.path(), "b.json", &cdx(&["pkg:npm/café@1.0.0"]));
    let (code, _, err) = diff(&a, &b, &[]);
    assert_eq!(code, 0, "{err}");
}

/// Regression: `PKG:NPM/...` was refused ("does not start with 'pkg:'"),
/// though the purl spec makes the scheme and the type case-insensitive.
#[test]
fn purl_scheme_and_type_are_case_insensitive() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(
        dir.path(),
        "old.json",
        &cdx(&["PKG:NPM/left-pad@1.3.0", "Pkg:PyPI/Django@5.0"]),
    );
    let new = write(
        dir.path(),
        "new.json",
        &cdx(&["pkg:npm/left-pad@1.3.0", "pkg:pypi/django@5.0.1"]),
    );
    let (code, records, err) = diff(&old, &new, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        changes(&records),
        vec![t("upgraded", "pkg:pypi/django", "5.0", "5.0.1")]
    );
}

/// Regression: at the default limit (512 MiB) a 4 GiB file was read up to
/// the limit before it was refused; the size of a regular file is known
/// before reading, and the message says it.
#[test]
fn an_oversized_file_is_refused_by_its_size_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("huge.cdx.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let small = write(dir.path(), "small.json", &cdx(&[]));
    let started = std::time::Instant::now();
    let (code, records, err) = diff(&small, &big, &[]);
    assert_eq!(code, 2, "{records:?}");
    assert_eq!(
        err.lines().next().unwrap(),
        format!(
            "sbom-diff: error: {}: 4294967296 bytes, larger than --max-input-size \
             (536870912 bytes); refusing to read it",
            big.display()
        )
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
