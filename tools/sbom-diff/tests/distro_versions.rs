//! Debian and RPM version order (issue: confirmed false passes of a hostile
//! trial): `pkg:deb` versions went through the generic fallback, so an
//! epoch (`1:3.0.11` > `3.0.15`) and a tilde (`3.0.15-1~deb12u1` <
//! `3.0.15-1`) read backwards and real downgrades passed `--fail-on
//! downgraded`; 59 of 300 random pairs of this machine's installed versions
//! disagreed with `dpkg --compare-versions`.
//!
//! Checked three ways: the binary on the trial's pairs (exact records and
//! gates), the comparator against the real `dpkg --compare-versions` over
//! every installed version of this machine (a sort by our order whose every
//! neighbour pair dpkg confirms agrees with dpkg on all pairs, dpkg's order
//! being a total preorder; plus random pairs asked directly), and committed
//! tables of tricky cases from Debian policy and from rpm's own tests.

use std::cmp::Ordering;
use std::path::Path;
use std::process::Command as Process;

use common::testkit::{jsonl, require_tool, summary};
use sbom_diff::version::compare;
use serde_json::{json, Value};

use crate::util::{bin, changes, t, write};

fn bom(components: &[(&str, &str)]) -> String {
    let list: Vec<Value> = components
        .iter()
        .map(|(purl, version)| {
            let name = purl.rsplit('/').next().unwrap();
            json!({"type": "library", "name": name, "version": version,
                   "purl": format!("{purl}@{}", version.replace(':', "%3A"))})
        })
        .collect();
    json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": list}).to_string()
}

/// Runs `sbom-diff OLD NEW EXTRA...`; (exit code, records, stderr).
fn diff(old: &Path, new: &Path, extra: &[&str]) -> (i32, Vec<Value>, String) {
    let out = bin().arg(old).arg(new).args(extra).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        jsonl(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Regression: the trial's pairs. An epoch outranks everything after it,
/// and `~` sorts before the end of the version (a backport's `~deb12u1`
/// comes before the release it backports).
#[test]
fn a_debian_epoch_or_tilde_downgrade_is_a_downgrade() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(
        dir.path(),
        "old.json",
        &bom(&[
            ("pkg:deb/debian/openssl", "1:3.0.11-1~deb12u2"),
            ("pkg:deb/debian/libssl3", "3.0.15-1"),
            ("pkg:deb/debian/bash", "5.2.15-2+b2"),
        ]),
    );
    let new = write(
        dir.path(),
        "new.json",
        &bom(&[
            ("pkg:deb/debian/openssl", "3.0.15-1~deb12u1"),
            ("pkg:deb/debian/libssl3", "3.0.15-1~deb12u1"),
            ("pkg:deb/debian/bash", "5.2.15-2+b7"),
        ]),
    );
    let (code, records, err) = diff(&old, &new, &["--fail-on", "downgraded"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        changes(&records),
        vec![
            t(
                "upgraded",
                "pkg:deb/debian/bash",
                "5.2.15-2+b2",
                "5.2.15-2+b7"
            ),
            t(
                "downgraded",
                "pkg:deb/debian/libssl3",
                "3.0.15-1",
                "3.0.15-1~deb12u1"
            ),
            t(
                "downgraded",
                "pkg:deb/debian/openssl",
                "1:3.0.11-1~deb12u2",
                "3.0.15-1~deb12u1"
            ),
        ]
    );
    let s = summary(&records);
    assert_eq!(
        s["gates"],
        json!([{"name": "downgraded", "op": "<=", "limit": 0.0, "value": 2.0, "pass": false}])
    );
    // dpkg's equal spellings are one version: no change.
    let a = write(
        dir.path(),
        "a.json",
        &bom(&[("pkg:deb/debian/zlib1g", "1:1.2.13.dfsg-1")]),
    );
    let b = write(
        dir.path(),
        "b.json",
        &bom(&[("pkg:deb/debian/zlib1g", "01:1.2.13.dfsg-1")]),
    );
    let (code, records, err) = diff(&a, &b, &[]);
    assert_eq!((code, changes(&records)), (0, vec![]), "{err}");
}

/// Regression: RPM versions went through the fallback too: an epoch, `~`
/// (pre-release) and `^` (post-release snapshot) read wrongly.
#[test]
fn an_rpm_epoch_tilde_or_caret_downgrade_is_a_downgrade() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(
        dir.path(),
        "old.json",
        &bom(&[
            ("pkg:rpm/fedora/openssl", "1:3.0.9-2.fc39"),
            ("pkg:rpm/fedora/kernel", "6.5.0-1.fc39"),
            ("pkg:rpm/fedora/foo", "1.0^git20240101-1.fc39"),
        ]),
    );
    let new = write(
        dir.path(),
        "new.json",
        &bom(&[
            ("pkg:rpm/fedora/openssl", "3.1.1-4.fc39"),
            ("pkg:rpm/fedora/kernel", "6.5.0~rc7-1.fc39"),
            ("pkg:rpm/fedora/foo", "1.0-1.fc39"),
        ]),
    );
    let (code, records, err) = diff(&old, &new, &["--fail-on", "downgraded"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        changes(&records),
        vec![
            t(
                "downgraded",
                "pkg:rpm/fedora/foo",
                "1.0^git20240101-1.fc39",
                "1.0-1.fc39"
            ),
            t(
                "downgraded",
                "pkg:rpm/fedora/kernel",
                "6.5.0-1.fc39",
                "6.5.0~rc7-1.fc39"
            ),
            t(
                "downgraded",
                "pkg:rpm/fedora/openssl",
                "1:3.0.9-2.fc39",
                "3.1.1-4.fc39"
            ),
        ]
    );
    assert_eq!(summary(&records)["gates"][0]["value"], 3.0);

    // The purl spec keeps an rpm epoch in a qualifier (`?epoch=1`, as syft
    // writes it): part of the version, not another package.
    let doc = |purl: &str, version: &str| {
        json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
            {"type": "library", "name": "openssl", "version": version, "purl": purl}]})
        .to_string()
    };
    let old = write(
        dir.path(),
        "epoch-old.json",
        &doc(
            "pkg:rpm/fedora/openssl@3.0.9-2.fc39?arch=x86_64&epoch=1",
            "3.0.9-2.fc39",
        ),
    );
    let new = write(
        dir.path(),
        "epoch-new.json",
        &doc(
            "pkg:rpm/fedora/openssl@3.1.1-4.fc39?arch=x86_64",
            "3.1.1-4.fc39",
        ),
    );
    let (code, records, err) = diff(&old, &new, &["--fail-on", "downgraded"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        changes(&records),
        vec![t(
            "downgraded",
            "pkg:rpm/fedora/openssl?arch=x86_64",
            "1:3.0.9-2.fc39",
            "3.1.1-4.fc39"
        )]
    );
}

/// Policy 5.6.12 and dpkg's own test cases: (a, b, dpkg's answer).
const DEB_TABLE: &[(&str, &str, Ordering)] = &[
    ("1.0", "1.0", Ordering::Equal),
    ("1.0", "1.0-0", Ordering::Equal),
    ("0:1.0", "1.0", Ordering::Equal),
    ("1.01", "1.1", Ordering::Equal),
    ("1.0~rc1", "1.0", Ordering::Less),
    ("1.0~~", "1.0~~a", Ordering::Less),
    ("1.0~~a", "1.0~", Ordering::Less),
    ("1.0~", "1.0", Ordering::Less),
    ("1.0", "1.0a", Ordering::Less),
    ("1.0a", "1.0+", Ordering::Less),
    ("1.0+", "1.0.1", Ordering::Less),
    ("1.0-1", "1.0-1+deb12u1", Ordering::Less),
    ("1.0-1~bpo12+1", "1.0-1", Ordering::Less),
    ("1:0.1", "2.0", Ordering::Greater),
    ("2:0.1", "1:9.9", Ordering::Greater),
    ("1.2.3-1", "1.2.3-10", Ordering::Less),
    ("1.2.10", "1.2.9", Ordering::Greater),
    ("1.0-1", "1.0.0-1", Ordering::Less),
    ("2.30-1", "2.3-1", Ordering::Greater),
    ("1.0+dfsg-1", "1.0-1", Ordering::Greater),
    ("1.0+dfsg-1", "1.0.1-1", Ordering::Less),
    ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12", Ordering::Less),
    ("1:2.38.1-5+deb12u3", "1:2.38.1-5+b1", Ordering::Greater),
    ("3.0.15-1~deb12u1", "3.0.15-1", Ordering::Less),
    ("1:3.0.11-1~deb12u2", "3.0.15-1~deb12u1", Ordering::Greater),
    ("1.2.3-a-b", "1.2.3-a", Ordering::Greater),
    ("a", "1", Ordering::Greater),
    ("1.0.0", "1.0.0~", Ordering::Greater),
    ("9.6.5+really9.6.4-1", "9.6.5-1", Ordering::Greater),
    ("20230101", "2023.01.01", Ordering::Greater),
];

/// rpm's tests/rpmvercmp.at, plus the caret cases of Fedora's versioning
/// guidelines and EVR (epoch, release) cases: (a, b, rpm's answer).
const RPM_TABLE: &[(&str, &str, Ordering)] = &[
    ("1.0", "1.0", Ordering::Equal),
    ("1.0", "2.0", Ordering::Less),
    ("2.0.1", "2.0", Ordering::Greater),
    ("2.0.1a", "2.0.1", Ordering::Greater),
    ("5.5p1", "5.5p2", Ordering::Less),
    ("5.5p1", "5.5p10", Ordering::Less),
    ("10xyz", "10.1xyz", Ordering::Less),
    ("xyz10", "xyz10.1", Ordering::Less),
    ("xyz.4", "8", Ordering::Less),
    ("xyz.4", "2", Ordering::Less),
    ("5.5p2", "5.6p1", Ordering::Less),
    ("5.6p1", "6.5p1", Ordering::Less),
    ("6.0.rc1", "6.0", Ordering::Greater),
    ("10b2", "10a1", Ordering::Greater),
    ("10a2", "10b2", Ordering::Less),
    ("1.0a", "1.0aa", Ordering::Less),
    ("10.0001", "10.1", Ordering::Equal),
    ("10.0001", "10.0039", Ordering::Less),
    ("4.999.9", "5.0", Ordering::Less),
    ("20101121", "20101122", Ordering::Less),
    ("2_0", "2.0", Ordering::Equal),
    ("a+", "a_", Ordering::Equal),
    ("+a", "_a", Ordering::Equal),
    ("_+", "+_", Ordering::Equal),
    ("1.0~rc1", "1.0", Ordering::Less),
    ("1.0~rc1", "1.0~rc2", Ordering::Less),
    ("1.0~rc1~git123", "1.0~rc1", Ordering::Less),
    ("1.0^", "1.0", Ordering::Greater),
    ("1.0^git1", "1.0", Ordering::Greater),
    ("1.0^git1", "1.0^git2", Ordering::Less),
    ("1.0^git1", "1.01", Ordering::Less),
    ("1.0^20160101", "1.0.1", Ordering::Less),
    ("1.0^20160102", "1.0^20160101^git1", Ordering::Greater),
    ("1.0~rc1^git1", "1.0~rc1", Ordering::Greater),
    ("1.0^git1~pre", "1.0^git1", Ordering::Less),
    ("1:1.0-1", "2.0-1", Ordering::Greater),
    ("0:2.0-1", "2.0-1", Ordering::Equal),
    ("2.0-1.fc39", "2.0-2.fc39", Ordering::Less),
    ("2.0-1.el8_6", "2.0-1.el8", Ordering::Greater),
    ("6.5.0~rc7-1.fc39", "6.5.0-1.fc39", Ordering::Less),
];

#[test]
fn debian_and_rpm_tables() {
    for (ty, table) in [("deb", DEB_TABLE), ("rpm", RPM_TABLE)] {
        for &(a, b, want) in table {
            assert_eq!(compare(ty, a, b), want, "{ty}: {a} vs {b}");
            assert_eq!(compare(ty, b, a), want.reverse(), "{ty}: {b} vs {a}");
        }
    }
}

/// A seeded xorshift: `next(n)` in `0..n`.
fn rng(seed: u64) -> impl FnMut(usize) -> usize {
    let mut x = seed;
    move |n| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    }
}

/// dpkg's answer for `a` against `b`: `lt`, `eq` or `gt` holds.
fn dpkg(a: &str, b: &str, op: &str) -> bool {
    let out = Process::new("dpkg")
        .args(["--compare-versions", a, op, b])
        .output()
        .unwrap();
    match out.status.code() {
        Some(0) => true,
        Some(1) => false,
        _ => panic!(
            "dpkg --compare-versions {a} {op} {b}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn dpkg_order(a: &str, b: &str) -> Ordering {
    if dpkg(a, b, "lt") {
        Ordering::Less
    } else if dpkg(a, b, "eq") {
        Ordering::Equal
    } else {
        Ordering::Greater
    }
}

/// Every version of every package installed here, distinct, plus the
/// tables' Debian versions (so the cross-check needs a machine with few
/// packages no less).
fn installed_versions() -> Vec<String> {
    let out = Process::new("dpkg-query")
        .args(["-W", "-f", "${Version}\\n"])
        .output()
        .unwrap();
    assert!(out.status.success(), "dpkg-query failed");
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .chain(
            DEB_TABLE
                .iter()
                .flat_map(|(a, b, _)| [a.to_string(), b.to_string()]),
        )
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The comparator agrees with the real `dpkg --compare-versions` on every
/// pair of this machine's installed versions: sorted by our order, each
/// neighbour pair must be what dpkg says (`lt`, or `eq` where we say equal),
/// and dpkg's order is a total preorder, so by transitivity every one of
/// the n(n-1)/2 pairs agrees. 400 random pairs are also asked directly (the
/// trial's own check).
#[test]
fn debian_order_agrees_with_dpkg_on_every_installed_version() {
    if !require_tool("dpkg") {
        return;
    }
    let mut versions = installed_versions();
    assert!(versions.len() > 50, "only {} versions", versions.len());
    versions.sort_by(|a, b| compare("deb", a, b));
    let mut disagree = Vec::new();
    for w in versions.windows(2) {
        let ours = compare("deb", &w[0], &w[1]);
        assert_ne!(ours, Ordering::Greater, "sort is not by our order");
        let theirs = if ours == Ordering::Equal {
            dpkg(&w[0], &w[1], "eq")
        } else {
            dpkg(&w[0], &w[1], "lt")
        };
        if !theirs {
            disagree.push(format!("{} {:?} {} (dpkg: no)", w[0], ours, w[1]));
        }
    }
    // Random pairs, seeded: the trial's own check.
    let mut next = rng(0x9e37_79b9_7f4a_7c15);
    let n = versions.len();
    for _ in 0..400 {
        let (a, b) = (&versions[next(n)], &versions[next(n)]);
        let (ours, theirs) = (compare("deb", a, b), dpkg_order(a, b));
        if ours != theirs {
            disagree.push(format!("{a} vs {b}: ours {ours:?}, dpkg {theirs:?}"));
        }
    }
    eprintln!(
        "debian order: {n} distinct versions, {} neighbour pairs and 400 random pairs \
         checked against dpkg, {} disagreements",
        n - 1,
        disagree.len()
    );
    assert!(disagree.is_empty(), "{disagree:#?}");
}

/// The comparator agrees with the real rpm (`rpm.vercmp`, which compares
/// whole `[epoch:]version[-release]` strings) on the table's versions and on
/// 3,000 seeded random versions built from the pieces that matter (digit
/// runs with leading zeros, letters, `~`, `^`, separators, an epoch, a
/// release), all asked in one rpm process.
#[test]
fn rpm_order_agrees_with_rpm_vercmp() {
    if !require_tool("rpm") {
        return;
    }
    const PIECES: &[&str] = &[
        "0",
        "1",
        "2",
        "9",
        "10",
        "01",
        "007",
        "123456789012345678901",
        "a",
        "b",
        "rc",
        "git",
        "fc39",
        "el8",
        "~",
        "^",
        ".",
        "-",
        "_",
        "+",
    ];
    let mut next = rng(0x2545_f491_4f6c_dd1d);
    let mut versions: Vec<String> = RPM_TABLE
        .iter()
        .flat_map(|(a, b, _)| [a.to_string(), b.to_string()])
        .collect();
    for _ in 0..3000 {
        let mut v = String::new();
        if next(5) == 0 {
            v.push_str(["0:", "1:", "2:", "01:", ":"][next(5)]);
        }
        for _ in 0..1 + next(6) {
            v.push_str(PIECES[next(PIECES.len())]);
        }
        if v.is_empty() || v.ends_with(':') {
            v.push('1');
        }
        versions.push(v);
    }
    let pairs: Vec<(&str, &str)> = (0..6000)
        .map(|_| {
            (
                versions[next(versions.len())].as_str(),
                versions[next(versions.len())].as_str(),
            )
        })
        .chain(RPM_TABLE.iter().map(|(a, b, _)| (*a, *b)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let list: String = pairs.iter().map(|(a, b)| format!("{a}\t{b}\n")).collect();
    let file = write(dir.path(), "pairs.tsv", &list);
    let script = format!(
        "%{{lua: for line in io.lines('{}') do local a, b = line:match('^(.-)\t(.*)$'); \
         io.write(rpm.vercmp(a, b), '\\n') end}}",
        file.display()
    );
    let out = Process::new("rpm")
        .args(["--eval", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rpm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<i32> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(answers.len(), pairs.len());
    let mut disagree = Vec::new();
    for ((a, b), theirs) in pairs.iter().zip(&answers) {
        let ours = compare("rpm", a, b);
        if ours != theirs.cmp(&0) {
            disagree.push(format!("{a} vs {b}: ours {ours:?}, rpm {theirs}"));
        }
    }
    eprintln!(
        "rpm order: {} pairs checked against rpm.vercmp, {} disagreements",
        pairs.len(),
        disagree.len()
    );
    assert!(disagree.is_empty(), "{disagree:#?}");
}
