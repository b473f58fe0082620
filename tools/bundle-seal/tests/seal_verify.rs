//! seal and verify, end to end through the real binary: round trip, every
//! single-byte change, renames/deletes/additions/swaps, wrong and forged
//! keys, the release verdict, and hostile inputs.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command as StdCommand;

use crate::util::*;
use serde_json::{json, Value};

fn sealed() -> Work {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    w.ok(&["seal", "rc1", "--key", "k.key"]);
    w
}

#[test]
fn round_trip_records_and_standard_tools() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    let seal = w.ok(&["seal", "rc1", "--key", "k.key"]);
    let s = summary(&seal);
    assert_eq!(s["verdict"], "pass");
    assert_eq!(s["figures"]["files"], 4);
    assert_eq!(s["figures"]["bytes"], 54 + 326 + 24 + 511);
    assert_eq!(s["figures"]["summaries"], 2);
    assert_eq!(s["figures"]["gates"], 3);
    assert_eq!(s["figures"]["release_verdict"], "pass");
    assert_eq!(s["figures"]["key_id"], w.key_id("k.pub"));

    let m: Value = serde_json::from_slice(&fs::read(w.path("rc1/MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(m["format"], "hardgate-bundle");
    assert_eq!(m["format_version"], 1);
    assert_eq!(m["tool"], "bundle-seal");
    assert_eq!(m["verdict"], "pass");
    let paths: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "NOTES.md",
            "replay/replay-diff.jsonl",
            "security/check.sh",
            "soak/soak-load.jsonl"
        ]
    );
    assert_eq!(
        m["files"][0],
        json!({"path":"NOTES.md","size":54,
               "sha256":common::digest::sha256_hex(b"Release candidate 1: go/no-go notes.\nAll gates green.\n")})
    );
    assert_eq!(
        m["gates"][0],
        json!({"source":"replay/replay-diff.jsonl","line":1,"tool":"replay-diff",
               "name":"determinism","op":">=","limit":0.98,"value":1.0,"pass":true})
    );
    assert_eq!(m["gates"][2]["name"], "p95_ms");
    assert_eq!(
        m["summaries"][1],
        json!({"source":"soak/soak-load.jsonl","line":3,"tool":"soak-load",
        "verdict":"pass","interrupted":false,"gates":2})
    );

    let v = w.ok(&["verify", "rc1", "--pub", "k.pub", "--require-pass"]);
    assert_eq!(v[0]["kind"], "signature");
    assert_eq!(v[0]["status"], "ok");
    assert_eq!(v[0]["key_id"], w.key_id("k.pub"));
    assert_eq!(
        file_records(&v),
        pairs(&[
            ("NOTES.md", "ok"),
            ("replay/replay-diff.jsonl", "ok"),
            ("security/check.sh", "ok"),
            ("soak/soak-load.jsonl", "ok"),
            ("SHA256SUMS", "ok")
        ])
    );
    let s = summary(&v);
    assert_eq!(s["verdict"], "pass");
    assert_eq!(s["figures"]["ok"], 4);
    assert_eq!(s["gates"].as_array().unwrap().len(), 3);

    // The public key also works as minisign's bare base64 form.
    let b64 = fs::read_to_string(w.path("k.pub"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    w.ok(&["verify", "rc1", "--pub", &b64]);

    // sha256sum -c accepts SHA256SUMS as it is.
    let out = StdCommand::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(w.path("rc1"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).matches(": OK").count(),
        5
    );
}

#[test]
fn every_single_byte_change_of_every_file_is_detected() {
    let w = sealed();
    let root = w.path("rc1");
    let key = bundle_seal::keys::load_public(w.path("k.pub").to_str().unwrap()).unwrap();
    let check = || -> bool {
        let mut sink = common::output::RecordWriter::new(Box::new(std::io::sink()), "sink");
        let cfg = bundle_seal::verify::VerifyConfig {
            dir: &root,
            key: &key,
            integrity_only: true,
            quiet: true,
            release: None,
            commit: None,
            require_signoff: &[],
            trusted: None,
        };
        matches!(
            bundle_seal::verify::verify(&cfg, &mut sink),
            Ok(common::Outcome::Pass)
        )
    };
    assert!(check(), "the untouched bundle must verify");
    let mut files = vec!["MANIFEST.json", "MANIFEST.json.minisig", "SHA256SUMS"];
    files.extend([
        "NOTES.md",
        "replay/replay-diff.jsonl",
        "security/check.sh",
        "soak/soak-load.jsonl",
    ]);
    let mut changes = 0;
    for rel in files {
        let path = root.join(rel);
        let original = fs::read(&path).unwrap();
        // The untrusted comment of a minisig is, by minisign's design, not
        // signed; it is the one part a change can go unnoticed in.
        let unsigned = if rel == "MANIFEST.json.minisig" {
            let start = "untrusted comment: ".len();
            start..original.iter().position(|&b| b == b'\n').unwrap()
        } else {
            0..0
        };
        for i in 0..original.len() {
            let mut changed = original.clone();
            changed[i] ^= 0x01;
            fs::write(&path, &changed).unwrap();
            let passed = check();
            assert_eq!(
                passed,
                unsigned.contains(&i),
                "{rel}: byte {i} changed; verify passed: {passed}"
            );
            changes += 1;
        }
        fs::write(&path, &original).unwrap();
        // Truncation and an appended byte too.
        fs::write(&path, &original[..original.len() - 1]).unwrap();
        assert!(!check(), "{rel}: truncated by one byte");
        let mut longer = original.clone();
        longer.push(b'x');
        fs::write(&path, &longer).unwrap();
        assert!(!check(), "{rel}: one byte appended");
        fs::write(&path, &original).unwrap();
    }
    assert!(changes > 3000, "{changes}");
    assert!(check());
}

#[test]
fn byte_change_through_the_binary_names_the_file() {
    let w = sealed();
    let mut bytes = fs::read(w.path("rc1/NOTES.md")).unwrap();
    bytes[0] ^= 0x20;
    fs::write(w.path("rc1/NOTES.md"), &bytes).unwrap();
    let out = w.run(&["verify", "rc1", "--pub", "k.pub"]);
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    let f = of_kind(&recs, "file")[0];
    assert_eq!(f["path"], "NOTES.md");
    assert_eq!(f["status"], "modified");
    assert_eq!(f["size"], 54);
    assert_eq!(f["expected_size"], 54);
    assert_eq!(f["sha256"], common::digest::sha256_hex(&bytes));
    let s = summary(&recs);
    assert_eq!(s["verdict"], "fail");
    assert_eq!(s["figures"]["modified"], 1);
    assert_eq!(crate::util::code(&out), 1);
}

#[test]
fn renamed_deleted_added_and_swapped_files_are_detected() {
    // Rename.
    let w = sealed();
    fs::rename(w.path("rc1/NOTES.md"), w.path("rc1/NOTES.txt")).unwrap();
    let out = w.run(&["verify", "rc1", "--pub", "k.pub"]);
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    assert_eq!(
        file_records(&recs),
        pairs(&[
            ("NOTES.md", "missing"),
            ("NOTES.txt", "extra"),
            ("replay/replay-diff.jsonl", "ok"),
            ("security/check.sh", "ok"),
            ("soak/soak-load.jsonl", "ok"),
            ("SHA256SUMS", "ok")
        ])
    );
    assert_eq!(
        summary(&recs)["gates"][0],
        json!({"name":"mismatched_files","op":"<=","limit":0.0,"value":2.0,"pass":false})
    );

    // Delete.
    let w = sealed();
    fs::remove_file(w.path("rc1/security/check.sh")).unwrap();
    let recs = jsonl(&w.run(&["verify", "rc1", "--pub", "k.pub"]).stdout);
    let f = of_kind(&recs, "file")
        .into_iter()
        .find(|r| r["path"] == "security/check.sh")
        .unwrap()
        .clone();
    assert_eq!(f["status"], "missing");
    assert_eq!(f["expected_size"], 24);
    assert_eq!(summary(&recs)["figures"]["missing"], 1);

    // Add (also inside a new directory).
    let w = sealed();
    fs::create_dir(w.path("rc1/late")).unwrap();
    fs::write(w.path("rc1/late/extra.log"), "sneaked in\n").unwrap();
    let out = w.run(&["verify", "rc1", "--pub", "k.pub"]);
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    let f = of_kind(&recs, "file")
        .into_iter()
        .find(|r| r["path"] == "late/extra.log")
        .unwrap()
        .clone();
    assert_eq!(f["status"], "extra");
    assert_eq!(f["sha256"], common::digest::sha256_hex(b"sneaked in\n"));

    // Swap the contents of two files.
    let w = sealed();
    let a = fs::read(w.path("rc1/soak/soak-load.jsonl")).unwrap();
    let b = fs::read(w.path("rc1/replay/replay-diff.jsonl")).unwrap();
    fs::write(w.path("rc1/soak/soak-load.jsonl"), &b).unwrap();
    fs::write(w.path("rc1/replay/replay-diff.jsonl"), &a).unwrap();
    let recs = jsonl(&w.run(&["verify", "rc1", "--pub", "k.pub"]).stdout);
    assert_eq!(
        file_records(&recs),
        pairs(&[
            ("NOTES.md", "ok"),
            ("replay/replay-diff.jsonl", "modified"),
            ("security/check.sh", "ok"),
            ("soak/soak-load.jsonl", "modified"),
            ("SHA256SUMS", "ok")
        ])
    );

    // A file replaced by a symlink to identical content elsewhere.
    let w = sealed();
    fs::copy(w.path("rc1/NOTES.md"), w.path("notes-copy")).unwrap();
    fs::remove_file(w.path("rc1/NOTES.md")).unwrap();
    std::os::unix::fs::symlink(w.path("notes-copy"), w.path("rc1/NOTES.md")).unwrap();
    let recs = jsonl(&w.run(&["verify", "rc1", "--pub", "k.pub"]).stdout);
    let f = of_kind(&recs, "file")[0].clone();
    assert_eq!(
        (f["path"].as_str(), f["status"].as_str()),
        (Some("NOTES.md"), Some("modified"))
    );
    assert_eq!(f["reason"], "is a symlink now");
}

#[test]
fn wrong_key_is_rejected() {
    let w = sealed();
    w.other_key("other");
    let out = w.run(&["verify", "rc1", "--pub", "other.pub"]);
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    assert_eq!(recs[0]["status"], "bad");
    assert_eq!(
        recs[0]["reason"],
        format!(
            "signed by key {}, not by the given key {}",
            w.key_id("k.pub"),
            w.key_id("other.pub")
        )
    );
    assert_eq!(
        summary(&recs)["gates"][1],
        json!({"name":"signature_valid","op":">=","limit":1.0,"value":0.0,"pass":false})
    );
}

#[test]
fn a_manifest_edited_and_resigned_with_another_key_is_rejected() {
    let w = Work::new();
    w.fixture("rc-fail", "rc");
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 1, "a failing verdict makes seal exit 1");
    // The forger flips the verdict and re-signs with their own key ...
    let text = fs::read_to_string(w.path("rc/MANIFEST.json")).unwrap();
    let forged = text.replacen("\"verdict\": \"fail\"", "\"verdict\": \"pass\"", 1);
    assert_ne!(forged, text);
    fs::write(w.path("rc/MANIFEST.json"), &forged).unwrap();
    w.other_key("forger");
    let sig = bundle_seal::keys::load_secret(&w.path("forger.key"), None).unwrap();
    let resigned = sig
        .sign(
            forged.as_bytes(),
            "signature",
            "timestamp:0\tfile:MANIFEST.json\thashed",
        )
        .unwrap();
    fs::write(w.path("rc/MANIFEST.json.minisig"), resigned.to_file()).unwrap();
    let out = w.run(&["verify", "rc", "--pub", "k.pub"]);
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    assert_eq!(recs[0]["status"], "bad");
    assert!(
        recs[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("signed by key "),
        "{}",
        recs[0]
    );
    // ... SHA256SUMS still names the old manifest, so it is flagged as well.
    let sums = of_kind(&recs, "file")
        .into_iter()
        .find(|r| r["path"] == "SHA256SUMS")
        .unwrap()
        .clone();
    assert_eq!(sums["status"], "modified");

    // ... or claims our key id in the forged signature: the math still fails.
    let mut spoofed = resigned.clone();
    spoofed.key_id = bundle_seal::keys::load_public(w.path("k.pub").to_str().unwrap())
        .unwrap()
        .key_id;
    fs::write(w.path("rc/MANIFEST.json.minisig"), spoofed.to_file()).unwrap();
    let recs = jsonl(&w.run(&["verify", "rc", "--pub", "k.pub"]).stdout);
    assert_eq!(recs[0]["status"], "bad");
    assert_eq!(recs[0]["reason"], "signature does not match the file");
}

#[test]
fn release_verdict_and_require_pass() {
    let w = Work::new();
    w.fixture("rc-fail", "rc");
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 1);
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(s["figures"]["release_verdict"], "fail");
    assert_eq!(
        s["figures"]["verdict_reasons"],
        json!([
            "sbom-diff.jsonl:2 sbom-diff gate drift failed (0.012 <= 0.005)",
            "sbom-diff.jsonl:2 sbom-diff verdict is fail"
        ])
    );
    // Intact and signed: the seal alone verifies; the release gate (the
    // default, also spelled --require-pass) does not.
    w.ok(&["verify", "rc", "--pub", "k.pub", "--integrity-only"]);
    assert_eq!(code(&w.run(&["verify", "rc", "--pub", "k.pub"])), 1);
    let out = w.run(&["verify", "rc", "--pub", "k.pub", "--require-pass"]);
    assert_eq!(code(&out), 1);
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(
        s["gates"][2],
        json!({"name":"release_verdict_pass","op":">=","limit":1.0,"value":0.0,"pass":false})
    );
}

#[test]
fn no_gates_means_fail_and_contradicted_gates_fail() {
    let w = Work::new();
    fs::create_dir(w.path("empty")).unwrap();
    fs::write(w.path("empty/readme.txt"), "no evidence\n").unwrap();
    let out = w.run(&["seal", "empty", "--key", "k.key"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        summary(&jsonl(&out.stdout))["figures"]["verdict_reasons"],
        json!(["no gate found in any summary record"])
    );

    fs::create_dir(w.path("liar")).unwrap();
    fs::write(
        w.path("liar/x.jsonl"),
        r#"{"kind":"summary","tool":"soak-load","verdict":"pass","gates":[{"name":"error_rate","op":"<","limit":0.005,"value":0.2,"pass":true}]}"#,
    )
    .unwrap();
    let out = w.run(&["seal", "liar", "--key", "k.key"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        summary(&jsonl(&out.stdout))["figures"]["verdict_reasons"],
        json!(["x.jsonl:1 soak-load gate error_rate claims pass but 0.2 < 0.005 does not hold"])
    );

    fs::create_dir(w.path("interrupted")).unwrap();
    fs::write(
        w.path("interrupted/x.jsonl"),
        r#"{"kind":"summary","tool":"soak-load","verdict":"pass","interrupted":true,"gates":[{"name":"e","op":"<","limit":1,"value":0,"pass":true}]}"#,
    )
    .unwrap();
    let out = w.run(&["seal", "interrupted", "--key", "k.key"]);
    assert_eq!(code(&out), 1);
}

#[test]
fn symlinks_devices_sockets_and_fifos_are_refused_by_name() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    std::os::unix::fs::symlink("/etc/passwd", w.path("rc1/passwd")).unwrap();
    let out = w.run(&["seal", "rc1", "--key", "k.key"]);
    assert_eq!(code(&out), 2);
    let err = stderr_text(&out);
    assert!(
        err.starts_with("bundle-seal: error: rc1/passwd: is a symlink; a bundle holds only regular files (a link could point outside the bundle)\n"),
        "{err}"
    );
    assert!(
        !w.path("rc1/MANIFEST.json").exists(),
        "nothing written on refusal"
    );
    fs::remove_file(w.path("rc1/passwd")).unwrap();

    // A symlinked directory is refused too, not walked into.
    std::os::unix::fs::symlink("/etc", w.path("rc1/etc")).unwrap();
    let err = stderr_text(&w.run(&["seal", "rc1", "--key", "k.key"]));
    assert!(err.contains("rc1/etc: is a symlink"), "{err}");
    fs::remove_file(w.path("rc1/etc")).unwrap();

    nix::unistd::mkfifo(
        &w.path("rc1/pipe"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    let err = stderr_text(&w.run(&["seal", "rc1", "--key", "k.key"]));
    assert!(err.contains("rc1/pipe: is a named pipe (FIFO)"), "{err}");
    fs::remove_file(w.path("rc1/pipe")).unwrap();

    let _sock = std::os::unix::net::UnixListener::bind(w.path("rc1/sock")).unwrap();
    let err = stderr_text(&w.run(&["seal", "rc1", "--key", "k.key"]));
    assert!(err.contains("rc1/sock: is a socket"), "{err}");
    fs::remove_file(w.path("rc1/sock")).unwrap();

    // /dev/null as a device node cannot be created without privileges we may
    // lack, so the device case is checked where one can be made.
    if common::testkit::require(
        "mknod of a character device failed",
        nix::sys::stat::mknod(
            &w.path("rc1/null"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o644),
            nix::sys::stat::makedev(1, 3),
        )
        .is_ok(),
        "run the tests as root",
    ) {
        let err = stderr_text(&w.run(&["seal", "rc1", "--key", "k.key"]));
        assert!(err.contains("rc1/null: is a character device"), "{err}");
        fs::remove_file(w.path("rc1/null")).unwrap();
    }
    w.ok(&["seal", "rc1", "--key", "k.key"]);
}

#[test]
fn hostile_manifest_paths_are_refused() {
    for (bad, says) in [
        ("../../etc/passwd", "contains '..'"),
        ("/etc/passwd", "is absolute"),
        ("a/../../x", "contains '..'"),
    ] {
        let w = sealed();
        let text = fs::read_to_string(w.path("rc1/MANIFEST.json")).unwrap();
        fs::write(
            w.path("rc1/MANIFEST.json"),
            text.replacen("\"NOTES.md\"", &format!("{bad:?}"), 1),
        )
        .unwrap();
        let out = w.run(&["verify", "rc1", "--pub", "k.pub"]);
        assert_eq!(code(&out), 2, "{bad}");
        let err = stderr_text(&out);
        assert!(
            err.contains("rc1/MANIFEST.json: files[0]: path") && err.contains(says),
            "{bad}: {err}"
        );
    }
}

#[test]
fn secret_keys_are_private() {
    let w = Work::new();
    assert_eq!(mode(&w.path("k.key")), 0o600);
    assert_eq!(mode(&w.path("k.pub")), 0o644);
    w.fixture("rc1", "rc1");
    fs::set_permissions(w.path("k.key"), fs::Permissions::from_mode(0o640)).unwrap();
    let out = w.run(&["seal", "rc1", "--key", "k.key"]);
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr_text(&out),
        "bundle-seal: error: k.key: secret key is accessible by group or others (mode 0640); refusing to use it\n\
         bundle-seal: hint: chmod 600 k.key\n"
    );
    // A secret key inside the bundle is never sealed (it would be published).
    fs::set_permissions(w.path("k.key"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::copy(w.path("k.key"), w.path("rc1/release.key")).unwrap();
    let out = w.run(&["seal", "rc1", "--key", "k.key"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out).starts_with("bundle-seal: error: rc1/release.key: is a minisign secret key; refusing to seal a secret into the bundle\n"),
        "{}",
        stderr_text(&out)
    );
    fs::remove_file(w.path("rc1/release.key")).unwrap();
    // keygen does not overwrite.
    let out = w.run(&["keygen", "-p", "k.pub", "-s", "k.key", "-W"]);
    assert_eq!(code(&out), 2);
    assert!(stderr_text(&out).contains("k.pub: already exists; refusing to overwrite a key"));
}

#[test]
fn malformed_evidence_stops_the_seal_naming_file_and_line() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    fs::write(
        w.path("rc1/soak/broken.jsonl"),
        "{\"kind\":\"window\"}\n{\"kind\":\"summ\n",
    )
    .unwrap();
    let out = w.run(&["seal", "rc1", "--key", "k.key"]);
    assert_eq!(code(&out), 2);
    let err = stderr_text(&out);
    assert!(
        err.starts_with("bundle-seal: error: rc1/soak/broken.jsonl:2:"),
        "{err}"
    );

    fs::write(
        w.path("rc1/soak/broken.jsonl"),
        "{\"kind\":\"summary\",\"tool\":\"x\",\"verdict\":\"pass\"}\n",
    )
    .unwrap();
    let err = stderr_text(&w.run(&["seal", "rc1", "--key", "k.key"]));
    assert!(
        err.contains("rc1/soak/broken.jsonl:1: summary record: missing field `gates`"),
        "{err}"
    );
}

#[test]
fn huge_lines_odd_names_and_non_utf8_names() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    // A 10 MB line before a summary: read, not choked on.
    let big = format!(
        "{{\"kind\":\"blob\",\"data\":\"{}\"}}\n",
        "x".repeat(10 << 20)
    );
    let summary_line = r#"{"kind":"summary","tool":"big","verdict":"pass","gates":[{"name":"g","op":"<=","limit":1,"value":0,"pass":true}]}"#;
    fs::write(w.path("rc1/big.jsonl"), format!("{big}{summary_line}\n")).unwrap();
    // Names sha256sum must escape.
    fs::write(w.path("rc1/back\\slash.txt"), "b").unwrap();
    fs::write(w.path("rc1/new\nline.txt"), "n").unwrap();
    let s = summary(&w.ok(&["seal", "rc1", "--key", "k.key"])).clone();
    assert_eq!(s["figures"]["gates"], 4);
    let out = StdCommand::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(w.path("rc1"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    w.ok(&["verify", "rc1", "--pub", "k.pub"]);

    // A carriage return cannot be carried by SHA256SUMS: refused by name.
    fs::write(w.path("rc1/cr\r.txt"), "c").unwrap();
    let out = w.run(&["seal", "rc1", "--key", "k.key"]);
    assert_eq!(code(&out), 2);
    assert!(stderr_text(&out).contains("file name contains a carriage return"));
    fs::remove_file(w.path("rc1/cr\r.txt")).unwrap();

    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff.txt");
    fs::write(w.path("rc1").join(name), "x").unwrap();
    let out = w.run(&["seal", "rc1", "--key", "k.key"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out).contains("file name is not UTF-8"),
        "{}",
        stderr_text(&out)
    );
}

#[test]
fn encrypted_keys_need_the_right_passphrase() {
    let w = Work::new();
    fs::write(w.path("pass.txt"), "correct horse\n").unwrap();
    fs::write(w.path("wrong.txt"), "battery staple\n").unwrap();
    // A real encrypted key in minisign's layout, at libsodium's cheaper
    // "interactive" scrypt cost so the test stays fast (keygen's default
    // cost is exercised by the minisign interop test).
    let sk = bundle_seal::minisign::SecretKey::generate();
    let kdf = bundle_seal::minisign::Kdf {
        opslimit: 524_288,
        memlimit: 16_777_216,
    };
    let text = sk.to_file(Some(b"correct horse"), kdf).unwrap();
    assert!(text.starts_with("untrusted comment: minisign encrypted secret key\n"));
    fs::write(w.path("e.key"), text).unwrap();
    fs::set_permissions(w.path("e.key"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(w.path("e.pub"), sk.public().to_file()).unwrap();
    w.fixture("rc1", "rc1");
    let out = w.run(&["seal", "rc1", "--key", "e.key"]);
    assert_eq!(code(&out), 2);
    assert!(stderr_text(&out)
        .contains("e.key: the secret key is encrypted and no passphrase was given"));
    let out = w.run(&[
        "seal",
        "rc1",
        "--key",
        "e.key",
        "--passphrase-file",
        "wrong.txt",
    ]);
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr_text(&out),
        "bundle-seal: error: e.key: wrong passphrase (the key's checksum does not match)\n"
    );
    let out = bin()
        .current_dir(w.tmp.path())
        .args(["seal", "rc1", "--key", "e.key", "--passphrase-file", "-"])
        .write_stdin("correct horse\n")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    w.ok(&["verify", "rc1", "--pub", "e.pub"]);
}

#[test]
fn missing_manifest_and_missing_signature() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    let out = w.run(&["verify", "rc1", "--pub", "k.pub"]);
    assert_eq!(code(&out), 2);
    assert!(stderr_text(&out)
        .starts_with("bundle-seal: error: rc1/MANIFEST.json: missing; not a sealed bundle"));
    w.ok(&["seal", "rc1", "--key", "k.key"]);
    fs::remove_file(w.path("rc1/MANIFEST.json.minisig")).unwrap();
    let out = w.run(&["verify", "rc1", "--pub", "k.pub"]);
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    assert_eq!(recs[0]["status"], "missing");
    assert_eq!(summary(&recs)["figures"]["signature"], "missing");
}

#[test]
fn sealing_is_reproducible_with_source_date_epoch() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    let seal = |w: &Work| {
        let out = bin()
            .current_dir(w.tmp.path())
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(["seal", "rc1", "--key", "k.key"])
            .output()
            .unwrap();
        assert_eq!(code(&out), 0);
        (
            fs::read(w.path("rc1/MANIFEST.json")).unwrap(),
            fs::read(w.path("rc1/MANIFEST.json.minisig")).unwrap(),
        )
    };
    let first = seal(&w);
    let second = seal(&w);
    assert_eq!(first, second);
    let m: Value = serde_json::from_slice(&first.0).unwrap();
    assert_eq!(m["created_at"], "2023-11-14T22:13:20.000Z");
    assert!(String::from_utf8_lossy(&first.1).contains(
        "trusted comment: timestamp:1700000000\tfile:MANIFEST.json\tverdict:pass\thashed"
    ));
}

#[test]
fn text_format_for_people() {
    let w = sealed();
    fs::write(w.path("rc1/extra.txt"), "x").unwrap();
    let out = w.run(&["verify", "rc1", "--pub", "k.pub", "--format", "text"]);
    assert_eq!(code(&out), 1);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "ok       MANIFEST.json.minisig  key {}  timestamp:",
            w.key_id("k.pub")
        )),
        "{text}"
    );
    assert_eq!(
        lines[1..8],
        [
            "ok       NOTES.md",
            "extra    extra.txt",
            "ok       replay/replay-diff.jsonl",
            "ok       security/check.sh",
            "ok       soak/soak-load.jsonl",
            "ok       SHA256SUMS",
            "bundle-seal: FAIL",
        ]
    );
    assert_eq!(
        lines[8..11],
        [
            "  seal     BROKEN: signature ok, 4 files ok, 0 modified, 0 missing, 1 extra",
            "  release  pass",
            "  gate mismatched_files: 1 <= 0: FAIL",
        ]
    );
}

/// Regression: a summary record with a key twice (`"verdict":"fail"` then
/// `"verdict":"pass"`, a failing `gates` array then a passing one) was read
/// as its last keys and sealed as a release pass. Now the seal refuses it.
#[test]
fn summary_with_duplicate_keys_is_refused_not_sealed_as_pass() {
    let w = Work::new();
    fs::create_dir_all(w.path("dup/deep")).unwrap();
    fs::write(
        w.path("dup/deep/soak.jsonl"),
        concat!(
            r#"{"kind":"summary","tool":"soak-load","version":"1","verdict":"fail","verdict":"pass","#,
            r#""gates":[{"name":"g","op":"<=","limit":0,"value":5,"pass":false}],"#,
            r#""gates":[{"name":"g","op":"<=","limit":0,"value":0,"pass":true}]}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = w.run(&["seal", "dup", "--key", "k.key"]);
    assert_eq!(code(&out), 2, "{}", stderr_text(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(
        stderr_text(&out),
        "bundle-seal: error: dup/deep/soak.jsonl:1:77: invalid JSON: duplicate key \"verdict\" \
         (readers disagree on which one counts)\n\
         bundle-seal: hint: every line of a bundle's .jsonl files must be one JSON record; \
         fix or remove the file\n"
    );
    assert!(!w.path("dup/MANIFEST.json").exists());
}

/// A manifest edited by hand to say "pass" over a failing gate, and signed
/// with the release key by a plain minisign-style signer (`bundle-seal sign`
/// here), has a valid signature; --require-pass must still fail, because the
/// manifest's own gates contradict its verdict.
#[test]
fn require_pass_rejudges_a_hand_signed_manifest_that_lies_about_its_verdict() {
    let w = Work::new();
    w.fixture("rc-fail", "rc");
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let path = w.path("rc/MANIFEST.json");
    let mut m: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(m["verdict"], "fail");
    m["verdict"] = json!("pass");
    m["verdict_reasons"] = json!([]);
    let mut bytes = serde_json::to_vec_pretty(&m).unwrap();
    bytes.push(b'\n');
    fs::write(&path, &bytes).unwrap();
    // SHA256SUMS names the manifest's hash; keep it in step, as a forger would.
    let sums = fs::read_to_string(w.path("rc/SHA256SUMS")).unwrap();
    let mut lines: Vec<String> = sums.lines().map(str::to_string).collect();
    let last = lines.len() - 1;
    lines[last] = format!("{}  MANIFEST.json", common::digest::sha256_hex(&bytes));
    fs::write(w.path("rc/SHA256SUMS"), lines.join("\n") + "\n").unwrap();
    w.ok(&["sign", "rc/MANIFEST.json", "--key", "k.key"]);

    let v = w.ok(&["verify", "rc", "--pub", "k.pub", "--integrity-only"]);
    assert_eq!(v[0]["status"], "ok");
    let s = summary(&v);
    assert_eq!(s["figures"]["release_verdict"], "pass");
    assert_eq!(s["figures"]["verdict_consistent"], false);
    assert!(!s["figures"]["derived_verdict_reasons"]
        .as_array()
        .unwrap()
        .is_empty());

    let out = w.run(&["verify", "rc", "--pub", "k.pub", "--require-pass"]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(
        s["gates"][2],
        json!({"name":"release_verdict_pass","op":">=","limit":1.0,"value":0.0,"pass":false})
    );
}

/// Regression: a failing tool's summary saved as `.json` or `.log` (or
/// pretty-printed) was not read, and the bundle sealed as a release pass.
/// Now each such record fails the verdict and names file and line; an
/// upper-case `.JSONL` is read for gates like any other.
#[test]
fn a_summary_in_a_file_not_read_for_gates_fails_the_verdict() {
    let failing = r#"{"kind":"summary","tool":"soak-load","version":"1","verdict":"fail","gates":[{"name":"error_rate","op":"<=","limit":0.005,"value":0.02,"pass":false}]}"#;
    let w = Work::new();
    w.fixture("rc1", "rc");
    fs::create_dir_all(w.path("rc/nested/deeper")).unwrap();
    fs::write(
        w.path("rc/nested/deeper/soak.log"),
        format!("starting\n{failing}\n"),
    )
    .unwrap();
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(failing).unwrap()).unwrap();
    fs::write(w.path("rc/pretty.json"), pretty).unwrap();
    // Mentions "summary" but is no record: not flagged.
    fs::write(w.path("rc/notes.txt"), "the \"summary\" is below\n").unwrap();
    fs::write(w.path("rc/UPPER.JSONL"), format!("{failing}\n")).unwrap();

    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(
        s["gates"][3],
        json!({"name":"stray_summaries","op":"<=","limit":0.0,"value":2.0,"pass":false})
    );
    assert_eq!(s["figures"]["summaries"], 3);
    assert_eq!(
        s["figures"]["verdict_reasons"],
        json!([
            "nested/deeper/soak.log:2 holds a failing soak-load summary in a file not read for \
             gates (only *.jsonl, *.jsonl.gz, *.ndjson and *.ndjson.gz are)",
            "pretty.json:1 holds a failing soak-load summary in a file not read for gates \
             (only *.jsonl, *.jsonl.gz, *.ndjson and *.ndjson.gz are)",
            "UPPER.JSONL:1 soak-load gate error_rate failed (0.02 <= 0.005)",
            "UPPER.JSONL:1 soak-load verdict is fail"
        ])
    );
    let m: Value = serde_json::from_slice(&fs::read(w.path("rc/MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(
        m["stray_summaries"],
        json!([
            {"source":"nested/deeper/soak.log","line":2,"tool":"soak-load","verdict":"fail",
             "copy_of":"UPPER.JSONL:1"},
            {"source":"pretty.json","line":1,"tool":"soak-load","verdict":"fail",
             "copy_of":"UPPER.JSONL:1"}
        ])
    );
    // verify re-judges to the same verdict: consistent, and --require-pass fails.
    let out = w.run(&["verify", "rc", "--pub", "k.pub", "--require-pass"]);
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    let s = summary(&recs);
    assert_eq!(s["figures"]["verdict_consistent"], true);
    assert_eq!(s["figures"]["ok"], 8);
}

/// DESIGN: a closed stdout (`| head`) ends the tool quietly with 0 or 141.
/// The read end is closed before the tool writes, so its first write fails.
#[test]
fn a_closed_stdout_ends_quietly() {
    let w = Work::new();
    fs::create_dir(w.path("many")).unwrap();
    for i in 0..2000 {
        fs::write(w.path(&format!("many/f{i:04}.txt")), format!("{i}\n")).unwrap();
    }
    // No gates: sealed, verdict fail (exit 1); verify does not need a pass.
    assert_eq!(code(&w.run(&["seal", "many", "--key", "k.key"])), 1);
    for format in ["jsonl", "text"] {
        let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("bundle-seal"))
            .args(["verify", "many", "--pub", "k.pub", "--format", format])
            .current_dir(w.tmp.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0) | Some(141)),
            "{format}: {:?}",
            out.status
        );
        assert_eq!(stderr_text(&out), "", "{format}");
    }
}

/// DESIGN: `--help` shows examples, for every subcommand (chain's three had none).
#[test]
fn every_subcommand_help_shows_examples() {
    let w = Work::new();
    for cmd in [
        &["keygen"][..],
        &["seal"],
        &["verify"],
        &["pack"],
        &["unpack"],
        &["chain", "append"],
        &["chain", "checkpoint"],
        &["chain", "verify"],
        &["timeline"],
        &["sign"],
        &["verify-file"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let out = w.run(&args);
        assert_eq!(code(&out), 0, "{cmd:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("\nExamples:\n  ") && text.contains(&format!("bundle-seal {}", cmd[0])),
            "{cmd:?}: {text}"
        );
    }
}

/// SHA256SUMS is unsigned: a file edited together with its SHA256SUMS line
/// passes `sha256sum -c` (the README says so), while verify names both.
#[test]
fn sha256sums_edited_to_match_a_modified_file_fools_sha256sum_not_verify() {
    let w = sealed();
    fs::write(w.path("rc1/NOTES.md"), "All gates green. Ship it.\n").unwrap();
    let new_sha = common::digest::sha256_hex(b"All gates green. Ship it.\n");
    let sums = fs::read_to_string(w.path("rc1/SHA256SUMS")).unwrap();
    let edited: String = sums
        .lines()
        .map(|l| {
            if l.ends_with("  NOTES.md") {
                format!("{new_sha}  NOTES.md\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert_ne!(edited, sums);
    fs::write(w.path("rc1/SHA256SUMS"), edited).unwrap();
    let st = StdCommand::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(w.path("rc1"))
        .status()
        .unwrap();
    assert!(st.success(), "sha256sum -c alone is fooled");

    let out = w.run(&["verify", "rc1", "--pub", "k.pub"]);
    assert_eq!(code(&out), 1);
    let recs = jsonl(&out.stdout);
    let bad: Vec<(String, String)> = of_kind(&recs, "file")
        .iter()
        .filter(|r| r["status"] != "ok")
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        bad,
        [
            ("NOTES.md".to_string(), "modified".to_string()),
            ("SHA256SUMS".to_string(), "modified".to_string())
        ]
    );
}

const FAILING_SBOM: &str = r#"{"kind":"summary","tool":"sbom-diff","version":"0.1.0","verdict":"fail","inputs":[],"gates":[{"name":"drift","op":"<=","limit":0.005,"value":0.012,"pass":false}],"figures":{}}"#;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xfe];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

fn tar_gz(name: &str, content: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, name, content).unwrap();
    gzip(&b.into_inner().unwrap())
}

/// Regression (issue 13): a failing gate's summary in a file not named
/// `*.jsonl` was sealed as a release pass, and `verify --require-pass`
/// passed it. A Makefile's `cmd > $@.tmp && mv $@.tmp $@` leaves
/// `sbom.jsonl.tmp` behind exactly when the gate fails. Every file is now
/// searched, whatever its name, decompressed by content.
#[test]
fn a_failing_summary_under_any_file_name_fails_the_release() {
    let line = format!("{FAILING_SBOM}\n");
    let cases: Vec<(&str, Vec<u8>, u64)> = vec![
        ("sbom.jsonl.tmp", line.clone().into_bytes(), 1),
        (
            "sbom.jsonl.bak",
            format!("{{\"kind\":\"change\"}}\n{line}").into_bytes(),
            2,
        ),
        ("sbom.jsonl.1", line.clone().into_bytes(), 1),
        ("sbom.csv", line.clone().into_bytes(), 1),
        ("sbom.yaml", line.clone().into_bytes(), 1),
        ("sbom.jsonl ", line.clone().into_bytes(), 1),
        ("sbom", line.clone().into_bytes(), 1),
        // logrotate's compressed generation: gzip without a .gz name.
        ("sbom.jsonl.2", gzip(line.as_bytes()), 1),
        // Windows PowerShell 5's `>` writes UTF-16LE with a BOM.
        ("sbom.out", utf16le_with_bom(&line), 1),
        // A CI log that prefixes every line with a time stamp.
        (
            "ci.log",
            format!("2026-11-23T10:00:00Z sbom | {line}").into_bytes(),
            1,
        ),
        // The evidence folder archived into the bundle.
        (
            "old-evidence.tar.gz",
            tar_gz("sbom.jsonl", line.as_bytes()),
            1,
        ),
    ];
    for (name, bytes, at_line) in cases {
        let w = Work::new();
        w.fixture("rc1", "rc");
        fs::write(w.path("rc").join(name), &bytes).unwrap();
        let out = w.run(&["seal", "rc", "--key", "k.key"]);
        assert_eq!(code(&out), 1, "{name:?}: {}", stderr_text(&out));
        let s = summary(&jsonl(&out.stdout)).clone();
        assert_eq!(s["figures"]["release_verdict"], "fail", "{name:?}");
        // A tar's member is named: `archive(member)`, as make names one.
        let source = if name.ends_with(".tar.gz") {
            format!("{name}(sbom.jsonl)")
        } else {
            name.to_string()
        };
        assert_eq!(
            s["figures"]["verdict_reasons"],
            json!([format!(
                "{source}:{at_line} holds a failing sbom-diff summary in a file not read for \
                 gates (only *.jsonl, *.jsonl.gz, *.ndjson and *.ndjson.gz are)"
            )]),
            "{name:?}"
        );
        let out = w.run(&["verify", "rc", "--pub", "k.pub", "--require-pass"]);
        assert_eq!(code(&out), 1, "{name:?}");
    }

    // `.ndjson.gz` is a gate file like `.jsonl.gz`: its gates are read.
    let w = Work::new();
    w.fixture("rc1", "rc");
    fs::write(w.path("rc/sbom.ndjson.gz"), gzip(line.as_bytes())).unwrap();
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    assert_eq!(
        summary(&jsonl(&out.stdout))["figures"]["verdict_reasons"],
        json!([
            "sbom.ndjson.gz:1 sbom-diff gate drift failed (0.012 <= 0.005)",
            "sbom.ndjson.gz:1 sbom-diff verdict is fail"
        ])
    );
}

/// A CI log that echoed the gates' summaries (`tool | tee`), with time
/// stamps in front, holds exact copies of passing gate records: listed, not
/// failed; so does an audit receipt that quotes one. A passing summary that
/// is no copy (a stale `.bak`), a summary that cannot be read, or one
/// pretty-printed in a log, fails (a failing one quoted in a receipt too:
/// see regression_a_failing_summary_in_a_log_wrapper_fails_the_release).
#[test]
fn copies_quotations_stale_and_unreadable_summaries_outside_gate_files() {
    let w = Work::new();
    w.fixture("rc1", "rc");
    let soak = fs::read_to_string(w.path("rc/soak/soak-load.jsonl")).unwrap();
    let soak_summary = soak.lines().nth(2).unwrap();
    // Re-spaced and re-ordered: still the same record.
    let respaced: Value = serde_json::from_str(soak_summary).unwrap();
    let respaced = serde_json::to_string_pretty(&respaced)
        .unwrap()
        .replace('\n', " ");
    fs::write(
        w.path("rc/ci.log"),
        format!("10:00:01 starting soak\n10:00:02 {soak_summary}\n10:00:03 {respaced}\n"),
    )
    .unwrap();
    let receipt = format!(r#"{{"kind":"receipt","seq":1,"record":{soak_summary}}}"#);
    fs::write(w.path("rc/audit.log"), format!("{receipt}\n")).unwrap();
    let s = summary(&w.ok(&["seal", "rc", "--key", "k.key"])).clone();
    assert_eq!(s["figures"]["release_verdict"], "pass");
    let m: Value = serde_json::from_slice(&fs::read(w.path("rc/MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(
        m["stray_summaries"],
        json!([
            {"source":"audit.log","line":1,"tool":"soak-load","verdict":"pass",
             "copy_of":"soak/soak-load.jsonl:3","quoted":true},
            {"source":"ci.log","line":2,"tool":"soak-load","verdict":"pass","copy_of":"soak/soak-load.jsonl:3"},
            {"source":"ci.log","line":3,"tool":"soak-load","verdict":"pass","copy_of":"soak/soak-load.jsonl:3"}
        ])
    );
    w.ok(&["verify", "rc", "--pub", "k.pub", "--require-pass"]);

    // The same record from another run (another finish time) is no copy.
    let stale = soak_summary.replace("2026-11-22T10:00:00.000Z", "2026-11-01T10:00:00.000Z");
    fs::write(w.path("rc/soak/soak-load.jsonl.bak"), format!("{stale}\n")).unwrap();
    // Pretty-printed inside a log: no line holds the whole record.
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(FAILING_SBOM).unwrap())
            .unwrap();
    fs::write(
        w.path("rc/gate.log"),
        format!("sbom-diff said:\n{pretty}\n"),
    )
    .unwrap();
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let s = summary(&jsonl(&out.stdout)).clone();
    assert_eq!(
        s["figures"]["verdict_reasons"],
        json!([
            "gate.log:3 looks like a summary record but cannot be read (\"kind\":\"summary\" \
             outside any JSON value on its line); a failing gate could hide there",
            "gate.log:6 looks like a summary record but cannot be read (a \"verdict\" of pass or \
             fail outside any JSON value on its line); a failing gate could hide there",
            "soak/soak-load.jsonl.bak:1 holds a passing soak-load summary that is no copy of one \
             in a gate file (a stale or misplaced result?); move it into a .jsonl file or remove it"
        ])
    );
    assert_eq!(
        s["gates"][3],
        json!({"name":"stray_summaries","op":"<=","limit":0.0,"value":3.0,"pass":false})
    );
}

/// Compressors seal cannot look into are refused by name: a gate's output
/// compressed with xz would otherwise pass unseen.
#[test]
fn files_compressed_in_formats_seal_cannot_read_are_refused() {
    let w = Work::new();
    w.fixture("rc1", "rc");
    fs::write(
        w.path("rc/gates.jsonl.xz"),
        b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46",
    )
    .unwrap();
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr_text(&out),
        "bundle-seal: error: rc/gates.jsonl.xz: is xz-compressed; seal cannot look inside it \
         for gate summaries\nbundle-seal: hint: decompress it, or compress it with gzip, which \
         seal reads\n"
    );
    assert!(!w.path("rc/MANIFEST.json").exists());
    // A corrupt gzip file cannot be searched either: refused, not passed.
    fs::write(w.path("rc/gates.jsonl.xz"), b"\x1f\x8b\x08\x00garbage").unwrap();
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 2, "{}", stderr_text(&out));
    assert!(
        stderr_text(&out).starts_with("bundle-seal: error: rc/gates.jsonl.xz: "),
        "{}",
        stderr_text(&out)
    );
}

/// Regression (issue 13): `verify --format text` printed `bundle-seal: PASS`
/// for an intact bundle whose sealed release verdict is fail, and exited 0.
/// Now a person sees both (the seal is intact, the release failed) and
/// verify exits 1 unless `--integrity-only` asks about the seal alone.
#[test]
fn text_verify_of_an_intact_bundle_with_a_failed_release_says_both() {
    let w = Work::new();
    w.fixture("rc-fail", "rc");
    assert_eq!(code(&w.run(&["seal", "rc", "--key", "k.key"])), 1);
    let out = w.run(&["verify", "rc", "--pub", "k.pub", "--format", "text"]);
    assert_eq!(code(&out), 1, "{}", stderr_text(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[1..10],
        [
            "ok       sbom-diff.jsonl",
            "ok       SHA256SUMS",
            "bundle-seal: FAIL",
            "  seal     intact: signature ok, 1 file ok",
            "  release  FAILED",
            "    sbom-diff.jsonl:2 sbom-diff gate drift failed (0.012 <= 0.005)",
            "    sbom-diff.jsonl:2 sbom-diff verdict is fail",
            "  gate mismatched_files: 0 <= 0: pass",
            "  gate signature_valid: 1 >= 1: pass",
        ],
        "{text}"
    );
    assert_eq!(lines[10], "  gate release_verdict_pass: 0 >= 1: FAIL");
    assert!(!text.contains("verdict_reasons"), "{text}");

    // The seal alone: exit 0, and still no doubt about the release.
    let out = w.run(&[
        "verify",
        "rc",
        "--pub",
        "k.pub",
        "--format",
        "text",
        "--integrity-only",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[3..6],
        [
            "bundle-seal: PASS (the seal only: --integrity-only)",
            "  seal     intact: signature ok, 1 file ok",
            "  release  FAILED",
        ],
        "{text}"
    );
    // JSON: the release gate is there by default, absent with --integrity-only.
    let recs = jsonl(&w.run(&["verify", "rc", "--pub", "k.pub"]).stdout);
    assert_eq!(summary(&recs)["gates"][2]["name"], "release_verdict_pass");
    let recs = jsonl(
        &w.run(&["verify", "rc", "--pub", "k.pub", "--integrity-only"])
            .stdout,
    );
    assert_eq!(summary(&recs)["gates"].as_array().unwrap().len(), 2);
    assert_eq!(summary(&recs)["figures"]["release_verdict"], "fail");
}

/// Issue 16 asked whether a file name with escape sequences can drive the
/// terminal through `--format text`: it could (the name went out raw).
/// Control characters are now shown escaped, as `\u{1b}`.
#[test]
fn escape_sequences_in_names_cannot_drive_the_terminal() {
    let w = sealed();
    let evil = "evil\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\u{202e}txt.sh";
    fs::write(w.path("rc1").join(evil), "x").unwrap();
    let out = w.run(&["verify", "rc1", "--pub", "k.pub", "--format", "text"]);
    assert_eq!(code(&out), 1);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(
        text.contains("extra    evil\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{9b}31m\\u{202e}txt.sh"),
        "{text}"
    );
    // The timeline too: the source name and the record.
    fs::create_dir(w.path("inc")).unwrap();
    fs::write(
        w.path("inc").join("a\u{1b}[31m.jsonl"),
        "{\"ts\":\"2026-11-23T10:00:00Z\",\"msg\":\"\\u001b[2J \u{202e}\"}\n",
    )
    .unwrap();
    let out = w.run(&["timeline", "inc", "--format", "text"]);
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(
        text.starts_with(
            "2026-11-23T10:00:00Z  a\\u{1b}[31m.jsonl:1  \
             {\"ts\":\"2026-11-23T10:00:00Z\",\"msg\":\"\\u001b[2J \\u{202e}\"}\n"
        ),
        "{text}"
    );
}

/// Issue 16: an error naming a hostile file went to stderr raw, so a
/// symlink named `x\e]0;pwned\a\e[2J` retitled the terminal and cleared
/// the screen of whoever ran `seal`. Every error message is now printed
/// through `printable()`.
#[test]
fn error_naming_a_symlink_with_escape_sequences_cannot_drive_the_terminal() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    let evil = "x\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}";
    std::os::unix::fs::symlink("/etc/passwd", w.path("rc1").join(evil)).unwrap();
    let out = w.run(&["seal", "rc1", "--key", "k.key"]);
    assert_eq!(code(&out), 2);
    let err = stderr_text(&out);
    assert!(
        !err.chars().any(|c| c.is_control() && c != '\n') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    assert!(
        err.starts_with(
            "bundle-seal: error: rc1/x\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{202e}: is a symlink; "
        ),
        "{err}"
    );
}

// --- Issue 18 item 10: summaries of ours anywhere, however wrapped --------

/// A crashed gate's summary: ours (kind summary, a verdict), but no gates.
const CRASHED_PII: &str =
    r#"{"kind":"summary","tool":"pii-scrub","verdict":"fail","error":"crashed"}"#;
/// Gates as an object instead of an array.
const GATES_OBJECT_PII: &str =
    r#"{"kind":"summary","tool":"pii-scrub","verdict":"fail","gates":{"findings":{"value":3}}}"#;

const MALFORMED_HINT: &str = "bundle-seal: hint: a summary record needs tool, verdict and a \
     gates array; a gate whose output cannot be judged must not be sealed: run it again, or \
     remove the file\n";

/// Regression (issue 18 item 10): `{"kind":"summary","verdict":"fail"}`
/// without a gates array (a crashed tool), or with gates as an object, was
/// ignored in `pii.jsonl.tmp` and `pii.log` (seal and verify exit 0, release
/// pass) while the same line in `pii.jsonl` stopped the seal. Now every file
/// name takes the same path: the seal stops, naming file and line.
#[test]
fn regression_a_malformed_summary_stops_the_seal_under_every_file_name() {
    for (record, why) in [
        (CRASHED_PII, "missing field `gates`"),
        (GATES_OBJECT_PII, "invalid type: map, expected a sequence"),
        (
            r#"{"kind":"summary","tool":"x","gates":[]}"#,
            "missing field `verdict`",
        ),
    ] {
        for name in ["pii.jsonl.tmp", "pii.log", "pii.jsonl", "pii.jsonl.2"] {
            let w = Work::new();
            w.fixture("rc1", "rc");
            fs::write(w.path("rc").join(name), format!("{record}\n")).unwrap();
            let out = w.run(&["seal", "rc", "--key", "k.key"]);
            assert_eq!(code(&out), 2, "{name}: {}", stderr_text(&out));
            assert_eq!(
                stderr_text(&out),
                format!("bundle-seal: error: rc/{name}:1: summary record: {why}\n{MALFORMED_HINT}"),
                "{name}"
            );
            assert!(out.stdout.is_empty(), "{name}");
            assert!(!w.path("rc/MANIFEST.json").exists(), "{name}");
        }
    }
    // gzip-compressed, or quoted in a Docker log line: the same.
    let w = Work::new();
    w.fixture("rc1", "rc");
    fs::write(
        w.path("rc/pii.log.2"),
        gzip(format!("x\n{CRASHED_PII}\n").as_bytes()),
    )
    .unwrap();
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(
        stderr_text(&out),
        format!(
            "bundle-seal: error: rc/pii.log.2:2: summary record: missing field `gates`\n{MALFORMED_HINT}"
        )
    );
    let w = Work::new();
    w.fixture("rc1", "rc");
    fs::write(
        w.path("rc/app.jsonl"),
        format!("{}\n", docker_line(GATES_OBJECT_PII)),
    )
    .unwrap();
    let out = w.run(&["seal", "rc", "--key", "k.key"]);
    assert_eq!(code(&out), 2, "{}", stderr_text(&out));
    assert_eq!(
        stderr_text(&out),
        format!(
            "bundle-seal: error: rc/app.jsonl:1: summary record quoted inside another record: \
             invalid type: map, expected a sequence\n{MALFORMED_HINT}"
        )
    );
    // An app's own kind:summary (no verdict, no gates) outside the gate
    // files is not ours: sealed as before.
    let w = Work::new();
    w.fixture("rc1", "rc");
    fs::write(
        w.path("rc/app.log"),
        "{\"kind\":\"summary\",\"text\":\"daily\"}\n",
    )
    .unwrap();
    let s = summary(&w.ok(&["seal", "rc", "--key", "k.key"])).clone();
    assert_eq!(s["figures"]["release_verdict"], "pass");
}

/// `line` as Docker's json-file log driver stores it.
fn docker_line(line: &str) -> String {
    json!({"log": format!("{line}\n"), "stream": "stdout", "time": "2026-12-06T08:00:00.123456789Z"})
        .to_string()
}

/// Regression (issue 18 item 10): a failing summary quoted by a log
/// wrapper (Docker's json-file driver: `{"log":"{\"kind\":\"summary\",...}\n"}`)
/// was never looked at (the raw bytes hold `\"summary\"`), so the release
/// passed. A summary of ours inside another record, or JSON-escaped inside
/// a string at any depth, now counts like any other: failing, it fails the
/// release, in a gate file too; a passing exact copy of a gate file's
/// summary (a CI log that echoed it) is listed and passes.
#[test]
fn regression_a_failing_summary_in_a_log_wrapper_fails_the_release() {
    let docker = docker_line(FAILING_SBOM);
    // fluentd forwarding the Docker line: escaped twice.
    let forwarded = json!({"message": docker, "tag": "docker.app"}).to_string();
    // logfmt (Go's %q quoting).
    let logfmt = format!(
        "level=info msg={}",
        serde_json::to_string(FAILING_SBOM).unwrap()
    );
    // Kubernetes' CRI log format: a prefix before the record.
    let cri = format!("2026-12-06T08:00:00.123456789Z stdout F {FAILING_SBOM}");
    // An audit receipt holding the record as an object.
    let receipt = format!(r#"{{"kind":"receipt","seq":1,"record":{FAILING_SBOM}}}"#);
    let reason =
        |at: &str| format!("{at} holds a failing sbom-diff summary, quoted inside another record");
    let cases: Vec<(&str, String, String)> = vec![
        (
            "container-json.log",
            docker.clone(),
            reason("container-json.log:1"),
        ),
        ("app.jsonl", docker.clone(), reason("app.jsonl:1")),
        ("fluentd.log", forwarded.clone(), reason("fluentd.log:1")),
        ("fluentd.ndjson", forwarded, reason("fluentd.ndjson:1")),
        ("app.log", logfmt, reason("app.log:1")),
        (
            "pod.log",
            cri,
            "pod.log:1 holds a failing sbom-diff summary in a file not read for gates \
             (only *.jsonl, *.jsonl.gz, *.ndjson and *.ndjson.gz are)"
                .to_string(),
        ),
        ("audit.log", receipt.clone(), reason("audit.log:1")),
        ("audit.jsonl", receipt, reason("audit.jsonl:1")),
    ];
    for (name, line, why) in cases {
        let w = Work::new();
        w.fixture("rc1", "rc");
        fs::write(w.path("rc").join(name), format!("{line}\n")).unwrap();
        let out = w.run(&["seal", "rc", "--key", "k.key"]);
        assert_eq!(code(&out), 1, "{name}: {}", stderr_text(&out));
        let s = summary(&jsonl(&out.stdout)).clone();
        assert_eq!(s["figures"]["release_verdict"], "fail", "{name}");
        assert_eq!(s["figures"]["verdict_reasons"], json!([why]), "{name}");
        assert_eq!(
            s["gates"][3],
            json!({"name":"stray_summaries","op":"<=","limit":0.0,"value":1.0,"pass":false}),
            "{name}"
        );
        let out = w.run(&["verify", "rc", "--pub", "k.pub"]);
        assert_eq!(code(&out), 1, "{name}");
        assert_eq!(
            summary(&jsonl(&out.stdout))["figures"]["verdict_consistent"],
            true
        );
    }

    // The gate's own passing summary, echoed through Docker's log: a copy.
    let w = Work::new();
    w.fixture("rc1", "rc");
    let soak = fs::read_to_string(w.path("rc/soak/soak-load.jsonl")).unwrap();
    let soak_summary = soak.lines().nth(2).unwrap();
    fs::write(
        w.path("rc/ci-json.log"),
        format!("{}\n", docker_line(soak_summary)),
    )
    .unwrap();
    let s = summary(&w.ok(&["seal", "rc", "--key", "k.key"])).clone();
    assert_eq!(s["figures"]["release_verdict"], "pass");
    let m: Value = serde_json::from_slice(&fs::read(w.path("rc/MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(
        m["stray_summaries"],
        json!([{"source":"ci-json.log","line":1,"tool":"soak-load","verdict":"pass",
                "copy_of":"soak/soak-load.jsonl:3","quoted":true}])
    );
    w.ok(&["verify", "rc", "--pub", "k.pub"]);
}

/// Regression (issue 18 item 10, "however wrapped"): a failing summary
/// HTML/XML-escaped (a JUnit report's attribute, an HTML page), CSV-quoted
/// (`""kind""`) or written as Python's repr was not looked at: its raw bytes
/// hold neither `"summary"` nor `\"summary\"`. Now the first two are decoded
/// and judged like any quoted summary; what no decoding reads (Python's
/// repr) is unreadable and fails the release.
#[test]
fn regression_a_summary_escaped_for_xml_csv_or_python_is_not_ignored() {
    let html = FAILING_SBOM.replace('"', "&quot;");
    let csv = format!("sbom,\"{}\"", FAILING_SBOM.replace('"', "\"\""));
    let junit = format!(r#"<testcase name="sbom" message="{html}"/>"#);
    let numeric = FAILING_SBOM.replace('"', "&#34;");
    let quoted =
        |at: &str| format!("{at} holds a failing sbom-diff summary, quoted inside another record");
    let unreadable = |at: &str| {
        format!(
            "{at} looks like a summary record but cannot be read (\"kind\":\"summary\" outside \
             any JSON value on its line); a failing gate could hide there"
        )
    };
    let cases: Vec<(&str, String, String)> = vec![
        ("junit.xml", junit, quoted("junit.xml:1")),
        (
            "report.html",
            format!("<pre>{numeric}</pre>"),
            quoted("report.html:1"),
        ),
        ("gates.csv", csv, quoted("gates.csv:1")),
        (
            "gate.py.log",
            "INFO result {'kind': 'summary', 'tool': 'sbom-diff', 'verdict': 'fail'}".into(),
            unreadable("gate.py.log:1"),
        ),
    ];
    for (name, line, why) in cases {
        let w = Work::new();
        w.fixture("rc1", "rc");
        fs::write(w.path("rc").join(name), format!("{line}\n")).unwrap();
        let out = w.run(&["seal", "rc", "--key", "k.key"]);
        assert_eq!(code(&out), 1, "{name}: {}", stderr_text(&out));
        let s = summary(&jsonl(&out.stdout)).clone();
        assert_eq!(s["figures"]["verdict_reasons"], json!([why]), "{name}");
    }
    // The gate's own passing summary in an XML report: a copy, passes.
    let w = Work::new();
    w.fixture("rc1", "rc");
    let soak = fs::read_to_string(w.path("rc/soak/soak-load.jsonl")).unwrap();
    let soak_summary = soak.lines().nth(2).unwrap().replace('"', "&quot;");
    fs::write(
        w.path("rc/junit.xml"),
        format!("<testsuite>\n<system-out>{soak_summary}</system-out>\n</testsuite>\n"),
    )
    .unwrap();
    let s = summary(&w.ok(&["seal", "rc", "--key", "k.key"])).clone();
    assert_eq!(s["figures"]["release_verdict"], "pass");
    // The words alone, in prose or an app's own YAML, are no summary.
    let w = Work::new();
    w.fixture("rc1", "rc");
    fs::write(
        w.path("rc/notes.md"),
        "The summary's verdict: see below. kind: summary\n",
    )
    .unwrap();
    let s = summary(&w.ok(&["seal", "rc", "--key", "k.key"])).clone();
    assert_eq!(s["figures"]["release_verdict"], "pass");
}
