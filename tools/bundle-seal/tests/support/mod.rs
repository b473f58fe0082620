//! Shared helpers for bundle-seal's integration tests: a temp dir with the
//! fixtures copied in, keys, running the real binary, and the minisign rule
//! (skip with a notice only when minisign is absent and CI is unset).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output};

#[allow(unused_imports)]
pub use common::testkit::{jsonl, of_kind, stderr_text, summary};
use serde_json::Value;

pub fn bin() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("bundle-seal").unwrap();
    cmd.env_remove("SOURCE_DATE_EPOCH")
        .env_remove("BUNDLE_SEAL_KEY")
        .env_remove("BUNDLE_SEAL_PUB");
    cmd
}

/// Runs the binary in `dir` and returns its output (no status assertion).
pub fn run(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Copies a fixture tree from testdata/bundle-seal into `dest`.
pub fn copy_fixture(name: &str, dest: &Path) {
    copy_tree(&common::testkit::testdata("bundle-seal").join(name), dest);
}

pub fn copy_tree(src: &Path, dest: &Path) {
    fs::create_dir_all(dest).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dest.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// A workspace: temp dir, an unencrypted key pair k.pub/k.key, fixture `rc1`.
pub struct Work {
    pub tmp: tempfile::TempDir,
}

impl Work {
    pub fn new() -> Work {
        let tmp = tempfile::tempdir().unwrap();
        let w = Work { tmp };
        w.ok(&["keygen", "-p", "k.pub", "-s", "k.key", "--unencrypted"]);
        w
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        run(self.tmp.path(), args)
    }

    /// Runs and asserts exit 0; returns the records.
    pub fn ok(&self, args: &[&str]) -> Vec<Value> {
        let out = self.run(args);
        assert_eq!(
            code(&out),
            0,
            "{args:?}: {}\n{}",
            stderr_text(&out),
            String::from_utf8_lossy(&out.stdout)
        );
        jsonl(&out.stdout)
    }

    pub fn fixture(&self, name: &str, as_name: &str) {
        copy_fixture(name, &self.path(as_name));
    }

    /// A second key pair under other names.
    pub fn other_key(&self, stem: &str) {
        self.ok(&[
            "keygen",
            "-p",
            &format!("{stem}.pub"),
            "-s",
            &format!("{stem}.key"),
            "-W",
        ]);
    }

    pub fn key_id(&self, pub_file: &str) -> String {
        let text = fs::read_to_string(self.path(pub_file)).unwrap();
        text.lines()
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    }
}

/// True when `minisign` can be run. Without it, the test is skipped with a
/// printed notice, unless CI is set: then its absence is a failure.
pub fn have_minisign() -> bool {
    let found = StdCommand::new("minisign").arg("-v").output().is_ok();
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("minisign is not installed, and CI is set: the interop tests must run (apt-get install minisign)");
        }
        eprintln!("NOTICE: minisign not found; skipping the minisign interop test (install it: apt-get install minisign)");
    }
    found
}

pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub fn file_records(records: &[Value]) -> Vec<(String, String)> {
    of_kind(records, "file")
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A small tmpfs mounted for a test (a disk that fills up); unmounted on
/// drop. Needs root: otherwise the test is skipped with a notice, unless
/// CI is set, where that is a failure.
pub struct Tmpfs {
    pub dir: tempfile::TempDir,
}

impl Tmpfs {
    pub fn mount(size_kib: u32) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = StdCommand::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_kib}k")])
            .arg("tmpfs")
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                common::testkit::require(
                    &format!(
                        "cannot mount a tmpfs for the full-disk test ({})",
                        why.trim()
                    ),
                    false,
                    "run the tests as root",
                );
                None
            }
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Fills the file system: a filler file as large as it will grow.
    pub fn fill(&self) {
        use std::io::Write;
        let mut f = fs::File::create(self.path("filler")).unwrap();
        let block = vec![0u8; 4096];
        loop {
            if f.write_all(&block).is_err() {
                break;
            }
        }
        // Also the slack of partly used pages.
        while f.write_all(&[0u8]).is_ok() {}
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = StdCommand::new("umount").arg(self.dir.path()).status();
    }
}
