//! Names that are not UTF-8 (trial 2, item 2). Linux names are bytes: a
//! Latin-1 tree from an old Samba share or an unzipped Windows archive
//! holds names such as `caf\xe9.txt`. They used to be left out (the drill
//! failed `not_backed_up`, so such a tree could not be drilled at all);
//! now they are stored as bytes (`path_b64`, `target_b64` in the manifest)
//! and restored and verified byte for byte. A manifest's raw names are as
//! untrusted as its paths: the same traversal checks apply to the bytes.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

use crate::util::*;

fn os(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// What a tree holds, by raw relative name: ("file", content) for files,
/// ("dir", "") for directories, ("symlink", target bytes) for links.
fn tree_bytes(root: &Path) -> BTreeMap<Vec<u8>, (&'static str, Vec<u8>)> {
    let mut out = BTreeMap::new();
    for item in walkdir::WalkDir::new(root).min_depth(1) {
        let item = item.unwrap();
        let rel = item.path().strip_prefix(root).unwrap();
        let rel = rel.as_os_str().as_bytes().to_vec();
        let ft = item.file_type();
        let value = if ft.is_symlink() {
            let t = fs::read_link(item.path()).unwrap();
            ("symlink", t.as_os_str().as_bytes().to_vec())
        } else if ft.is_dir() {
            ("dir", Vec::new())
        } else {
            ("file", fs::read(item.path()).unwrap())
        };
        out.insert(rel, value);
    }
    out
}

/// A Latin-1 tree: a file, a directory (with a plain and a Latin-1 file
/// inside), a link with a Latin-1 name, links whose targets are Latin-1,
/// and names that look like our own escapes (a literal `\xe9` and a
/// backslash next to an invalid byte).
fn latin1_tree(root: &Path) -> PathBuf {
    let data = root.join("data");
    write(&data.join("a.txt"), b"plain\n", 0o644);
    write(&data.join(os(b"caf\xe9.txt")), b"cafe latin-1\n", 0o640);
    let dir = data.join(os(b"Kundenvertr\xe4ge"));
    for i in 1..=3 {
        write(
            &dir.join(format!("{i}.pdf")),
            format!("contract {i}\n").as_bytes(),
            0o644,
        );
    }
    write(&dir.join(os(b"M\xfcller.pdf")), b"mueller\n", 0o600);
    // A real UTF-8 name spelled like an escape, and a raw one with a backslash.
    write(&data.join("caf\\xe9.txt"), b"literal backslash\n", 0o644);
    write(&data.join(os(b"x\\\xff")), b"backslash and 0xff\n", 0o644);
    std::os::unix::fs::symlink(os(b"Kundenvertr\xe4ge/1.pdf"), data.join("first")).unwrap();
    std::os::unix::fs::symlink(os(b"caf\xe9.txt"), data.join(os(b"l\xe9"))).unwrap();
    data
}

fn manifest_lines(repo: &Path) -> Vec<Value> {
    let text = fs::read_to_string(only_manifest(repo)).expect("the manifest is UTF-8");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn entry<'a>(lines: &'a [Value], path: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["kind"] == "entry" && l["path"] == path)
        .unwrap_or_else(|| panic!("no entry {path} in {lines:?}"))
}

#[test]
fn non_utf8_names_are_backed_up_restored_and_verified_byte_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let data = latin1_tree(tmp.path());
    let repo = tmp.path().join("repo");
    let keep = tmp.path().join("restored");

    let (code, records, stderr) = run(&[
        "drill",
        "--repo",
        p(&repo),
        "--source",
        p(&data),
        "--keep",
        p(&keep),
    ]);
    assert_eq!(code, 0, "{stderr} {records:?}");
    assert_eq!(of_kind(&records, "skipped"), Vec::<&Value>::new());
    assert_eq!(of_kind(&records, "mismatch"), Vec::<&Value>::new());
    let s = summary(&records);
    assert_eq!(s["verdict"], "pass");
    let f = &s["figures"];
    // a.txt, caf\xe9.txt, 3 + 1 in the directory, caf\\xe9.txt, x\\\xff.
    assert_eq!(
        (
            f["files"].as_u64(),
            f["not_backed_up"].as_u64(),
            f["mismatches"].as_u64(),
            f["skipped"].as_u64()
        ),
        (Some(8), Some(0), Some(0), Some(0))
    );
    assert_eq!(gate(s, "not_backed_up")["value"], 0.0);
    assert_eq!(gate(s, "mismatches")["value"], 0.0);
    // Every name, content and link target, byte for byte.
    let want = tree_bytes(&data);
    assert_eq!(want.len(), 11);
    assert_eq!(tree_bytes(&keep.join("data")), want);

    // The manifest stays UTF-8 JSON: a raw name is a display form in `path`
    // plus its bytes in `path_b64`; UTF-8 names are written as before.
    let lines = manifest_lines(&repo);
    assert_eq!(lines[0]["format"], "backup-drill/2");
    let cafe = entry(&lines, "data/caf\\xe9.txt");
    assert_eq!(cafe["path_b64"], b64(b"data/caf\xe9.txt"));
    let literal = entry(&lines, "data/caf\\\\xe9.txt");
    assert_eq!(literal["path_b64"], b64(b"data/caf\\xe9.txt"));
    assert_eq!(
        entry(&lines, "data/x\\\\\\xff")["path_b64"],
        b64(b"data/x\\\xff")
    );
    let first = entry(&lines, "data/first");
    assert_eq!(first.get("path_b64"), None);
    assert_eq!(first["target"], "Kundenvertr\\xe4ge/1.pdf");
    assert_eq!(first["target_b64"], b64(b"Kundenvertr\xe4ge/1.pdf"));
    assert_eq!(entry(&lines, "data/a.txt").get("path_b64"), None);

    // The subcommands: restore and verify of the stored snapshot.
    let out = tmp.path().join("out");
    let (code, recs, err) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary(&recs)["figures"]["files"], 8);
    assert_eq!(tree_bytes(&out.join("data")), want);
    let (code, recs, err) = run(&["verify", "latest", "--repo", p(&repo), "--dir", p(&out)]);
    assert_eq!(code, 0, "{err} {recs:?}");
    let f = &summary(&recs)["figures"];
    assert_eq!(
        (f["files"].as_u64(), f["mismatches"].as_u64()),
        (Some(8), Some(0))
    );

    // A restored name one byte off is missing + extra, each record with the
    // bytes, so a real `caf\xe9.txt` and the Latin-1 one stay apart.
    fs::rename(
        out.join(os(b"data/caf\xe9.txt")),
        out.join(os(b"data/caf\xe8.txt")),
    )
    .unwrap();
    fs::remove_file(out.join(os(b"data/l\xe9"))).unwrap();
    std::os::unix::fs::symlink(os(b"caf\xe8.txt"), out.join(os(b"data/l\xe9"))).unwrap();
    let (code, recs, _) = run(&["verify", "latest", "--repo", p(&repo), "--dir", p(&out)]);
    assert_eq!(code, 1);
    let got: Vec<Value> = of_kind(&recs, "mismatch").into_iter().cloned().collect();
    assert_eq!(
        got,
        vec![
            serde_json::json!({"kind":"mismatch","path":"data/caf\\xe8.txt",
                "path_b64":b64(b"data/caf\xe8.txt"),"what":"extra"}),
            serde_json::json!({"kind":"mismatch","path":"data/caf\\xe9.txt",
                "path_b64":b64(b"data/caf\xe9.txt"),"what":"missing","expected":"file"}),
            serde_json::json!({"kind":"mismatch","path":"data/l\\xe9",
                "path_b64":b64(b"data/l\xe9"),"what":"link_target",
                "expected":"caf\\xe9.txt","actual":"caf\\xe8.txt"}),
        ]
    );
    // As text: the escaped names, and never a byte that is not UTF-8.
    let o = bin()
        .args(["verify", "latest", "--repo", p(&repo), "--dir", p(&out)])
        .args(["--format", "text"])
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).expect("text output is UTF-8");
    assert!(
        text.starts_with(
            "mismatch    data/caf\\xe8.txt  extra\n\
             mismatch    data/caf\\xe9.txt  missing  expected file\n\
             mismatch    data/l\\xe9  link_target  expected caf\\xe9.txt  actual caf\\xe8.txt\n"
        ),
        "{text}"
    );
}

#[test]
fn utf8_trees_keep_the_version_1_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(&data.join("Kundenverträge/1.pdf"), b"c\n", 0o644);
    std::os::unix::fs::symlink("Kundenverträge/1.pdf", data.join("l")).unwrap();
    let repo = tmp.path().join("repo");
    let (code, recs, err) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0, "{err} {recs:?}");
    let text = fs::read_to_string(only_manifest(&repo)).unwrap();
    assert!(text.starts_with("{\"kind\":\"snapshot\",\"format\":\"backup-drill/1\""));
    assert!(!text.contains("_b64"), "{text}");
}

/// A crafted manifest whose raw bytes say something its `path` does not:
/// traversal, absolute, non-canonical, NUL, a second spelling of a UTF-8
/// name, a display form that hides the real name, bad base64, or raw names
/// in a version-1 manifest (which older builds would read without them).
#[test]
fn hostile_raw_names_in_a_manifest_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(&data.join("a.txt"), b"0123456789a\n", 0o644);
    let repo = tmp.path().join("repo");
    let (code, _, err) = run(&["backup", "--repo", p(&repo), "--source", p(&data)]);
    assert_eq!(code, 0, "{err}");
    let lines = manifest_lines(&repo);
    let sha = entry(&lines, "data/a.txt")["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let head_v1 = fs::read_to_string(only_manifest(&repo))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let head = head_v1.replace("backup-drill/1", "backup-drill/2");
    let dir = r#"{"kind":"entry","path":"data","type":"dir","mode":493}"#;
    let file = |path: &str, raw: &[u8]| {
        serde_json::json!({"kind":"entry","path":path,"path_b64":b64(raw),"type":"file",
            "size":12,"mode":420,"sha256":sha})
        .to_string()
    };
    let link = |target: &str, raw: &[u8]| {
        serde_json::json!({"kind":"entry","path":"data/l","type":"symlink",
            "target":target,"target_b64":b64(raw)})
        .to_string()
    };
    // A version-2 manifest: the header, the `data` root, then `entries`.
    let body = |entries: &[String]| format!("{head}\n{dir}\n{}\n", entries.join("\n"));
    let cases: Vec<(String, &str)> = vec![
        (
            body(&[file("x", b"../x")]),
            "path_b64: path \"../x\" contains '..'",
        ),
        (
            body(&[file("x", b"data/\xff/../../x")]),
            "path_b64: path \"data/\\xff/../../x\" contains '..'",
        ),
        (
            body(&[file("x", b"/etc/cron.d/\xff")]),
            "path_b64: path \"/etc/cron.d/\\xff\" is absolute",
        ),
        (
            body(&[file("x", b"data//\xff")]),
            "path_b64: path \"data//\\xff\" is not in canonical form",
        ),
        (
            body(&[file("x", b"data/./\xff")]),
            "path_b64: path \"data/./\\xff\" is not in canonical form",
        ),
        (
            body(&[file("x", b"data/\xff/")]),
            "path_b64: path \"data/\\xff/\" is not in canonical form",
        ),
        (
            body(&[file("x", b"data/\xff\0x")]),
            "path_b64: path \"data/\\xff\\u{0}x\" contains a NUL byte",
        ),
        (
            body(&[file("data/a.txt", b"data/a.txt")]),
            "path_b64 holds a UTF-8 name",
        ),
        (
            body(&[file("data/nice.txt", b"data/evil\xff")]),
            "path \"data/nice.txt\" does not show path_b64 (\"data/evil\\xff\")",
        ),
        (
            body(
                &[file("data/\\xff", b"data/\xff").replace("\"path_b64\":\"", "\"path_b64\":\"*")],
            ),
            "path_b64 is not base64",
        ),
        (body(&[file("\\xff", b"\xff")]), "is not a directory root"),
        (
            body(&[
                file("data/\\xff", b"data/\xff"),
                file("data/\\xff", b"data/\xff"),
            ]),
            "out of order or duplicated",
        ),
        (
            body(&[link("x", b"../..\xff\0")]),
            "target_b64: link target has NUL",
        ),
        (
            body(&[link("ok", b"\xff")]),
            "target \"ok\" does not show target_b64 (\"\\xff\")",
        ),
        (
            format!("{head_v1}\n{dir}\n{}\n", file("data/\\xff", b"data/\xff")),
            "path_b64 needs format backup-drill/2",
        ),
    ];
    let manifest = only_manifest(&repo);
    let name = manifest.display().to_string();
    for (body, why) in cases {
        fs::write(&manifest, seal(&body)).unwrap();
        let out = tmp.path().join("out");
        let (code, recs, err) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]);
        assert_eq!(code, 2, "{why}: {recs:?}");
        // The offending record is the body's last line.
        let line = body.lines().count();
        assert!(
            err.starts_with(&format!("backup-drill: error: {name}:{line}: ")),
            "{why}: {err}"
        );
        assert!(err.contains(why), "expected {why:?} in {err}");
        assert!(
            !out.exists() || fs::read_dir(&out).unwrap().next().is_none(),
            "{why}: wrote into target"
        );
        assert!(!tmp.path().join("x").exists());
    }

    // A well-formed raw link target that leaves the restore directory is
    // refused by restore, as any such link is.
    let escaping = body(&[link("../../\\xff", b"../../\xff")]);
    fs::write(&manifest, seal(&escaping)).unwrap();
    let out = tmp.path().join("out2");
    let (code, _, err) = run(&["restore", "latest", "--repo", p(&repo), "--to", p(&out)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("symlink data/l -> ../../\\xff leaves the restore directory"),
        "{err}"
    );
}
