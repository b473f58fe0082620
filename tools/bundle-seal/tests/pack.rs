//! pack/unpack: byte-identical archives, normalized headers, safe extraction
//! (traversal, absolute paths, links, devices refused), verify after unpack.

use std::fs;
use std::io::Read;
use std::process::Command as StdCommand;

use crate::util::*;

fn sealed_and_packed(w: &Work, out: &str) {
    let run = bin()
        .current_dir(w.tmp.path())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["seal", "rc1", "--key", "k.key"])
        .output()
        .unwrap();
    assert_eq!(code(&run), 0, "{}", stderr_text(&run));
    let run = bin()
        .current_dir(w.tmp.path())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["pack", "rc1", "-o", out])
        .output()
        .unwrap();
    assert_eq!(code(&run), 0, "{}", stderr_text(&run));
}

#[test]
fn sealing_and_packing_twice_is_byte_identical() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    // Modes and mtimes on disk must not leak into the archive.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(
        w.path("rc1/security/check.sh"),
        fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    sealed_and_packed(&w, "a.tar");
    fs::set_permissions(w.path("rc1/NOTES.md"), fs::Permissions::from_mode(0o600)).unwrap();
    // Another mtime on disk, set outright (no sleep-and-hope).
    fs::File::options()
        .write(true)
        .open(w.path("rc1/NOTES.md"))
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_234_567_890))
        .unwrap();
    sealed_and_packed(&w, "b.tar");
    let a = fs::read(w.path("a.tar")).unwrap();
    assert_eq!(a, fs::read(w.path("b.tar")).unwrap(), "archives differ");

    let mut ar = tar::Archive::new(&a[..]);
    let mut seen = Vec::new();
    for e in ar.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        seen.push((e.path().unwrap().display().to_string(), h.mode().unwrap()));
        assert_eq!(
            (h.uid().unwrap(), h.gid().unwrap(), h.mtime().unwrap()),
            (0, 0, 1_700_000_000)
        );
        assert_eq!(h.username().unwrap(), Some(""));
    }
    let want: Vec<(String, u32)> = [
        ("MANIFEST.json", 0o644),
        ("MANIFEST.json.minisig", 0o644),
        ("SHA256SUMS", 0o644),
        ("NOTES.md", 0o644),
        ("replay/replay-diff.jsonl", 0o644),
        ("security/check.sh", 0o755),
        ("soak/soak-load.jsonl", 0o644),
    ]
    .iter()
    .map(|(p, m)| (p.to_string(), *m))
    .collect();
    assert_eq!(seen, want);

    // GNU tar reads it, and sha256sum -c passes on what it extracts.
    if common::testkit::require_tool("tar") {
        fs::create_dir(w.path("gnu")).unwrap();
        let st = StdCommand::new("tar")
            .args(["-xf", "a.tar", "-C", "gnu"])
            .current_dir(w.tmp.path())
            .status()
            .unwrap();
        assert!(st.success());
        let st = StdCommand::new("sha256sum")
            .args(["-c", "--quiet", "SHA256SUMS"])
            .current_dir(w.path("gnu"))
            .status()
            .unwrap();
        assert!(st.success());
    }
}

#[test]
fn unpack_extracts_and_verifies() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    sealed_and_packed(&w, "rc1.tar");
    let recs = w.ok(&[
        "unpack",
        "rc1.tar",
        "-C",
        "out",
        "--pub",
        "k.pub",
        "--require-pass",
    ]);
    assert_eq!(recs[0]["status"], "ok");
    assert_eq!(summary(&recs)["figures"]["ok"], 4);
    assert_eq!(
        fs::read(w.path("out/NOTES.md")).unwrap(),
        fs::read(w.path("rc1/NOTES.md")).unwrap()
    );
    assert_eq!(mode(&w.path("out/security/check.sh")), 0o755);
    // Not into a directory that already has files.
    let out = w.run(&["unpack", "rc1.tar", "-C", "out", "--pub", "k.pub"]);
    assert_eq!(code(&out), 2);
    assert!(stderr_text(&out).contains("out: not empty; unpack needs an empty directory"));
    // A wrong key: extracted, but the verification fails.
    w.other_key("other");
    let out = w.run(&["unpack", "rc1.tar", "-C", "out2", "--pub", "other.pub"]);
    assert_eq!(code(&out), 1);
}

#[test]
fn pack_refuses_a_tree_that_differs_from_its_seal() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    let out = w.run(&["pack", "rc1", "-o", "x.tar"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out).contains("rc1/MANIFEST.json"),
        "{}",
        stderr_text(&out)
    );
    w.ok(&["seal", "rc1", "--key", "k.key"]);
    fs::write(
        w.path("rc1/NOTES.md"),
        "Release candidate 1: go/no-go notes.\nAll gates RED!!!\n",
    )
    .unwrap();
    let out = w.run(&["pack", "rc1", "-o", "x.tar"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out)
            .contains("rc1/NOTES.md: content differs from the manifest; refusing to pack it"),
        "{}",
        stderr_text(&out)
    );
    assert!(!w.path("x.tar").exists(), "no half-written archive");
    fs::write(w.path("rc1/extra.txt"), "x").unwrap();
    let out = w.run(&["pack", "rc1", "-o", "x.tar"]);
    assert!(
        stderr_text(&out).contains("rc1/extra.txt: not in the manifest"),
        "{}",
        stderr_text(&out)
    );
}

/// Regression: `pack rc1 -o rc1/rc1.tar` wrote the archive into the bundle,
/// which then failed verify (an extra file) and could not be packed again.
#[test]
fn pack_refuses_to_write_the_archive_inside_the_bundle() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    w.ok(&["seal", "rc1", "--key", "k.key"]);
    for target in ["rc1/rc1.tar", "rc1/soak/rc1.tar", "rc1/../rc1/x.tar"] {
        let out = w.run(&["pack", "rc1", "-o", target]);
        assert_eq!(code(&out), 2, "{target}");
        assert_eq!(
            stderr_text(&out),
            format!(
                "bundle-seal: error: -o {target}: inside the bundle rc1; the archive would \
                 become an unsealed file of it\n\
                 bundle-seal: hint: write the archive outside the bundle directory\n"
            )
        );
    }
    w.ok(&["verify", "rc1", "--pub", "k.pub"]);
    // Next to the bundle is fine, also when named from inside it.
    w.ok(&["pack", "rc1", "-o", "rc1/../rc1.tar"]);
}

/// An archive with one raw entry whose name bytes are written directly
/// (the tar crate refuses to build `..` names itself).
fn hostile_tar(name: &[u8], kind: tar::EntryType, link: Option<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut b = tar::Builder::new(&mut out);
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_entry_type(kind);
        h.set_mode(0o644);
        let data: &[u8] = if kind == tar::EntryType::Regular {
            b"evil\n"
        } else {
            b""
        };
        h.set_size(data.len() as u64);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
        b.finish().unwrap();
    }
    out
}

#[test]
fn unpack_refuses_traversal_absolute_paths_links_and_devices() {
    let w = Work::new();
    let cases: [(&[u8], tar::EntryType, Option<&str>, &str); 6] = [
        (
            b"../evil.txt",
            tar::EntryType::Regular,
            None,
            "contains '..'",
        ),
        (
            b"a/../../evil.txt",
            tar::EntryType::Regular,
            None,
            "contains '..'",
        ),
        (
            b"/tmp/evil.txt",
            tar::EntryType::Regular,
            None,
            "is absolute",
        ),
        (
            b"link",
            tar::EntryType::Symlink,
            Some("/etc/passwd"),
            "is a symlink",
        ),
        (
            b"hard",
            tar::EntryType::Link,
            Some("/etc/passwd"),
            "is a hard link",
        ),
        (b"dev", tar::EntryType::Char, None, "is a character device"),
    ];
    for (i, (name, kind, link, says)) in cases.iter().enumerate() {
        let file = format!("h{i}.tar");
        fs::write(w.path(&file), hostile_tar(name, *kind, *link)).unwrap();
        let dest = format!("d{i}");
        let out = w.run(&["unpack", &file, "-C", &dest, "--pub", "k.pub"]);
        assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(name));
        let err = stderr_text(&out);
        assert!(
            err.contains(says),
            "{}: {err}",
            String::from_utf8_lossy(name)
        );
        assert!(
            !w.path("evil.txt").exists()
                && !w.tmp.path().parent().unwrap().join("evil.txt").exists()
        );
        assert!(!w.path(&dest).exists(), "nothing left behind");
    }
}

#[test]
fn unpack_of_a_truncated_archive_fails_cleanly() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    sealed_and_packed(&w, "rc1.tar");
    let mut bytes = Vec::new();
    fs::File::open(w.path("rc1.tar"))
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    fs::write(w.path("cut.tar"), &bytes[..1500]).unwrap();
    let out = w.run(&["unpack", "cut.tar", "-C", "cut", "--pub", "k.pub"]);
    assert_eq!(code(&out), 2);
    assert!(out.stdout.is_empty());
    assert!(
        stderr_text(&out).starts_with("bundle-seal: error: "),
        "{}",
        stderr_text(&out)
    );
    // The entries before the cut were extracted, then removed again: no
    // half-tree is left behind (it used to keep MANIFEST.json and more).
    assert!(
        !w.path("cut").exists(),
        "the directory unpack created is gone"
    );
    fs::create_dir(w.path("empty")).unwrap();
    let out = w.run(&["unpack", "cut.tar", "-C", "empty", "--pub", "k.pub"]);
    assert_eq!(code(&out), 2);
    assert_eq!(fs::read_dir(w.path("empty")).unwrap().count(), 0);
}

/// An archive refused part-way (a good entry, a directory, then a symlink)
/// leaves the target as it found it.
#[test]
fn unpack_refused_part_way_removes_what_it_extracted() {
    let w = Work::new();
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, "sub/dir/ok.txt", &b"ok"[..]).unwrap();
    let mut l = tar::Header::new_gnu();
    l.set_size(0);
    l.set_entry_type(tar::EntryType::Symlink);
    b.append_link(&mut l, "escape", "/etc").unwrap();
    fs::write(w.path("mixed.tar"), b.into_inner().unwrap()).unwrap();
    let out = w.run(&["unpack", "mixed.tar", "-C", "x", "--pub", "k.pub"]);
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr_text(&out),
        "bundle-seal: error: mixed.tar: entry 2 \"escape\" is a symlink; \
         a bundle archive holds only regular files\n"
    );
    assert!(!w.path("x").exists());
}

fn pack_with_epoch(w: &Work, args: &[&str]) -> std::process::Output {
    bin()
        .current_dir(w.tmp.path())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(args)
        .output()
        .unwrap()
}

/// Regression (issue 13): `pack -o -` wrote a file named `-`, and pack
/// ended without a summary record. Now `-` is stdout (the records then go
/// to stderr, so they never mix with the archive) and a summary ends them.
#[test]
fn pack_to_stdout_and_ends_with_a_summary() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    sealed_and_packed(&w, "a.tar");
    let out = pack_with_epoch(&w, &["pack", "rc1", "-o", "-"]);
    assert_eq!(code(&out), 0, "{}", stderr_text(&out));
    assert!(!w.path("-").exists(), "no file named '-'");
    let tar = fs::read(w.path("a.tar")).unwrap();
    assert!(out.stdout == tar, "stdout is the same archive as -o a.tar");
    let recs = jsonl(&out.stderr);
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!(recs[0]["kind"], "archive");
    assert_eq!(recs[0]["path"], "-");
    assert_eq!(recs[0]["compression"], "none");
    assert_eq!(recs[0]["sha256"], common::digest::sha256_hex(&tar));
    let s = summary(&recs);
    assert_eq!(s["verdict"], "pass");
    assert_eq!(s["gates"], serde_json::json!([]));
    assert_eq!(s["figures"]["entries"], 7);
    assert_eq!(s["figures"]["bytes"], tar.len());
    assert_eq!(s["figures"]["release_verdict"], "pass");

    // To a file: the records on stdout, the summary last.
    let out = pack_with_epoch(&w, &["pack", "rc1", "-o", "b.tar"]);
    let recs = jsonl(&out.stdout);
    assert_eq!(recs[0]["kind"], "archive");
    assert_eq!(
        summary(&recs)["figures"]["sha256"],
        common::digest::sha256_hex(&tar)
    );
    assert!(out.stderr.is_empty());
}

/// Regression (issue 13): `-o x.tar.gz` wrote an uncompressed tar under a
/// `.gz` name. Now `.gz`/`.tgz` are gzip-compressed (reproducibly), unpack
/// reads them, and other compressed names are refused.
#[test]
fn pack_compresses_tar_gz_and_refuses_other_compressed_names() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    sealed_and_packed(&w, "a.tar");
    for name in ["a.tar.gz", "b.tgz", "C.TAR.GZ"] {
        let out = pack_with_epoch(&w, &["pack", "rc1", "-o", name]);
        assert_eq!(code(&out), 0, "{}", stderr_text(&out));
        let gz = fs::read(w.path(name)).unwrap();
        assert_eq!(&gz[..2], b"\x1f\x8b", "{name} is gzip");
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut tar)
            .unwrap();
        assert!(
            tar == fs::read(w.path("a.tar")).unwrap(),
            "{name}: the same tar inside"
        );
        assert_eq!(jsonl(&out.stdout)[0]["compression"], "gzip");
    }
    assert!(
        fs::read(w.path("a.tar.gz")).unwrap() == fs::read(w.path("b.tgz")).unwrap(),
        "reproducible"
    );
    let recs = w.ok(&["unpack", "a.tar.gz", "-C", "out", "--pub", "k.pub"]);
    assert_eq!(summary(&recs)["figures"]["ok"], 4);

    for name in [
        "x.tar.xz",
        "x.tar.zst",
        "x.tar.bz2",
        "x.zip",
        "x.tar.Z",
        "x.tar.lz4",
    ] {
        let out = w.run(&["pack", "rc1", "-o", name]);
        assert_eq!(code(&out), 2, "{name}");
        assert_eq!(
            stderr_text(&out),
            format!(
                "bundle-seal: error: -o {name}: pack writes a tar, or a gzip-compressed tar \
                 (.tar.gz, .tgz); not this compression\n\
                 bundle-seal: hint: name it .tar or .tar.gz, or compress it afterwards\n"
            )
        );
        assert!(!w.path(name).exists());
    }
}

/// An archive on a terminal is noise that can drive it (escape sequences).
#[test]
fn pack_refuses_to_write_an_archive_to_a_terminal() {
    let w = Work::new();
    w.fixture("rc1", "rc1");
    w.ok(&["seal", "rc1", "--key", "k.key"]);
    // script(1) gives the command a terminal as stdout.
    if !common::testkit::require_tool("script") {
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("bundle-seal");
    let out = StdCommand::new("script")
        .args([
            "-qec",
            &format!("{} pack rc1 -o -", bin.display()),
            "/dev/null",
        ])
        .current_dir(w.tmp.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(
            "bundle-seal: error: -o -: stdout is a terminal; refusing to write an archive to it"
        ),
        "{text}"
    );
}

/// Regression (issue 14, item 9): `unpack` given a FIFO blocked in open()
/// (and a tool blocked there ignored SIGTERM). An archive must be a regular
/// file: anything else is refused before it is opened.
#[test]
fn unpack_refuses_a_fifo_or_directory_archive_up_front() {
    let w = Work::new();
    nix::unistd::mkfifo(
        &w.path("pipe.tar"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let out = bin()
        .current_dir(w.tmp.path())
        .args(["unpack", "pipe.tar", "-C", "out", "--pub", "k.pub"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr_text(&out));
    assert_eq!(
        stderr_text(&out),
        "bundle-seal: error: pipe.tar: is a named pipe (FIFO); unpack reads an archive file\n\
         bundle-seal: hint: save the archive to a file first\n"
    );
    assert!(!w.path("out").exists(), "nothing created");
    fs::create_dir(w.path("dir.tar")).unwrap();
    let out = w.run(&["unpack", "dir.tar", "-C", "out", "--pub", "k.pub"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr_text(&out).starts_with("bundle-seal: error: dir.tar: is a directory;"),
        "{}",
        stderr_text(&out)
    );
}
