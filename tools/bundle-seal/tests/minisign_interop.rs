//! Interop with the reference `minisign` binary, both ways: it verifies our
//! signatures and signs with our keys; we verify its signatures (prehashed
//! and legacy) and decrypt its encrypted keys. Skipped with a notice only
//! when minisign is absent and CI is unset; with CI set, its absence fails.

use std::fs;
use std::io::Write;
use std::process::{Command as StdCommand, Stdio};

use crate::util::*;

fn minisign(w: &Work, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = StdCommand::new("minisign")
        .args(args)
        .current_dir(w.tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn assert_ok(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn minisign_verifies_our_seal_and_signs_with_our_key() {
    if !have_minisign() {
        return;
    }
    let w = Work::new();
    w.fixture("rc1", "rc1");
    w.ok(&["seal", "rc1", "--key", "k.key"]);
    let out = minisign(&w, &["-V", "-p", "k.pub", "-m", "rc1/MANIFEST.json"], None);
    assert_ok(&out, "minisign -V on our seal");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("Signature and comment signature verified"),
        "{said}"
    );
    assert!(
        said.contains("file:MANIFEST.json\tverdict:pass\thashed"),
        "{said}"
    );
    // -H: minisign insists on the prehashed form, which is what we write.
    assert_ok(
        &minisign(
            &w,
            &["-V", "-H", "-p", "k.pub", "-m", "rc1/MANIFEST.json"],
            None,
        ),
        "minisign -V -H",
    );

    // A one-byte change: minisign rejects it as well.
    let text = fs::read_to_string(w.path("rc1/MANIFEST.json")).unwrap();
    fs::write(
        w.path("rc1/MANIFEST.json"),
        text.replacen("pass", "Pass", 1),
    )
    .unwrap();
    let out = minisign(&w, &["-V", "-p", "k.pub", "-m", "rc1/MANIFEST.json"], None);
    assert!(
        !out.status.success(),
        "minisign accepted a changed manifest"
    );

    // minisign signs with the secret key file we wrote.
    fs::write(w.path("note.txt"), "signed by minisign with our key\n").unwrap();
    assert_ok(
        &minisign(&w, &["-S", "-s", "k.key", "-m", "note.txt"], None),
        "minisign -S with our key",
    );
    assert_ok(
        &minisign(&w, &["-V", "-p", "k.pub", "-m", "note.txt"], None),
        "minisign -V",
    );
}

#[test]
fn we_accept_signatures_made_by_minisign() {
    if !have_minisign() {
        return;
    }
    let w = Work::new();
    assert_ok(
        &minisign(&w, &["-G", "-W", "-p", "m.pub", "-s", "m.key"], None),
        "minisign -G -W",
    );
    // Our seal, re-signed by minisign with its own key, prehashed ...
    w.fixture("rc1", "rc1");
    w.ok(&["seal", "rc1", "--key", "k.key"]);
    fs::remove_file(w.path("rc1/MANIFEST.json.minisig")).unwrap();
    assert_ok(
        &minisign(
            &w,
            &[
                "-S",
                "-s",
                "m.key",
                "-m",
                "rc1/MANIFEST.json",
                "-t",
                "release rc1",
            ],
            None,
        ),
        "minisign -S",
    );
    let recs = w.ok(&["verify", "rc1", "--pub", "m.pub"]);
    assert_eq!(recs[0]["status"], "ok");
    assert_eq!(recs[0]["trusted_comment"], "release rc1");
    assert_eq!(recs[0]["key_id"], w.key_id("m.pub"));
    // ... is not accepted under our own key,
    let out = w.run(&["verify", "rc1", "--pub", "k.pub"]);
    assert_eq!(code(&out), 1);
    // ... and the legacy (-l) form verifies too.
    fs::remove_file(w.path("rc1/MANIFEST.json.minisig")).unwrap();
    assert_ok(
        &minisign(
            &w,
            &["-S", "-l", "-s", "m.key", "-m", "rc1/MANIFEST.json"],
            None,
        ),
        "minisign -S -l",
    );
    let sig = fs::read_to_string(w.path("rc1/MANIFEST.json.minisig")).unwrap();
    assert!(
        sig.lines().nth(1).unwrap().starts_with("RW"),
        "legacy signatures start with 'Ed' = RW..: {sig}"
    );
    w.ok(&["verify", "rc1", "--pub", "m.pub"]);

    // A minisign key seals a bundle directly.
    fs::remove_dir_all(w.path("rc1")).unwrap();
    w.fixture("rc1", "rc1");
    w.ok(&["seal", "rc1", "--key", "m.key"]);
    w.ok(&["verify", "rc1", "--pub", "m.pub"]);
    assert_ok(
        &minisign(&w, &["-V", "-p", "m.pub", "-m", "rc1/MANIFEST.json"], None),
        "minisign -V",
    );
}

#[test]
fn encrypted_keys_interoperate_both_ways() {
    if !have_minisign() {
        return;
    }
    let w = Work::new();
    w.fixture("rc1", "rc1");
    // minisign's encrypted key (scrypt, its default cost) unlocks with us ...
    assert_ok(
        &minisign(
            &w,
            &["-G", "-p", "m.pub", "-s", "m.key"],
            Some("s3cret\ns3cret\n"),
        ),
        "minisign -G",
    );
    fs::write(w.path("pass.txt"), "s3cret\n").unwrap();
    w.ok(&[
        "seal",
        "rc1",
        "--key",
        "m.key",
        "--passphrase-file",
        "pass.txt",
    ]);
    assert_ok(
        &minisign(&w, &["-V", "-p", "m.pub", "-m", "rc1/MANIFEST.json"], None),
        "minisign -V",
    );
    // ... and the one we encrypt unlocks with minisign.
    let rec = w.ok(&[
        "keygen",
        "-p",
        "e.pub",
        "-s",
        "e.key",
        "--passphrase-file",
        "pass.txt",
    ]);
    assert_eq!(rec[0]["encrypted"], true);
    assert_eq!(mode(&w.path("e.key")), 0o600);
    assert!(fs::read_to_string(w.path("e.key"))
        .unwrap()
        .starts_with("untrusted comment: minisign encrypted secret key\n"));
    fs::write(w.path("note.txt"), "x\n").unwrap();
    assert_ok(
        &minisign(
            &w,
            &["-S", "-s", "e.key", "-m", "note.txt"],
            Some("s3cret\n"),
        ),
        "minisign -S with our encrypted key",
    );
    assert_ok(
        &minisign(&w, &["-V", "-p", "e.pub", "-m", "note.txt"], None),
        "minisign -V",
    );
}

#[test]
fn sign_and_verify_file_interoperate_with_minisign() {
    let w = Work::new();
    fs::write(w.path("rc1.tar"), b"pretend archive\n").unwrap();
    let recs = w.ok(&["sign", "rc1.tar", "--key", "k.key", "-t", "release rc1"]);
    assert_eq!(recs[0]["kind"], "signed");
    assert_eq!(recs[0]["signature"], "rc1.tar.minisig");
    assert_eq!(recs[0]["trusted_comment"], "release rc1");
    let recs = w.ok(&["verify-file", "rc1.tar", "--pub", "k.pub"]);
    assert_eq!(recs[0]["status"], "ok");
    assert_eq!(summary(&recs)["verdict"], "pass");
    // A multi-line trusted comment cannot be signed.
    let out = w.run(&["sign", "rc1.tar", "--key", "k.key", "-t", "a\nb"]);
    assert_eq!(code(&out), 2);
    assert!(stderr_text(&out).contains("--trusted-comment: a comment must be one line"));
    // Changed content: exit 1, named.
    fs::write(w.path("rc1.tar"), b"pretend archivE\n").unwrap();
    let out = w.run(&["verify-file", "rc1.tar", "--pub", "k.pub"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        jsonl(&out.stdout)[0]["reason"],
        "signature does not match the file"
    );
    fs::write(w.path("rc1.tar"), b"pretend archive\n").unwrap();

    if !have_minisign() {
        return;
    }
    assert_ok(
        &minisign(&w, &["-V", "-p", "k.pub", "-m", "rc1.tar"], None),
        "minisign -V on our sign",
    );
    assert_ok(
        &minisign(&w, &["-G", "-W", "-p", "m.pub", "-s", "m.key"], None),
        "minisign -G -W",
    );
    assert_ok(
        &minisign(
            &w,
            &["-S", "-s", "m.key", "-m", "rc1.tar", "-x", "m.sig"],
            None,
        ),
        "minisign -S",
    );
    let recs = w.ok(&["verify-file", "rc1.tar", "--pub", "m.pub", "-x", "m.sig"]);
    assert_eq!(recs[0]["status"], "ok");
}
