//! What was cycled, for the summary's `inputs`: the program as the user
//! named it (resolved on PATH; often a script or a version-manager shim) and
//! the executables that actually ran as the service, read from
//! `/proc/PID/exe` once the service is up, so a shim, a `#!` script or a
//! start script is traced to the binary behind it.
//!
//! The digest is taken through `/proc/PID/exe` itself, which opens the very
//! file the process runs even if it has been replaced or deleted since.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::config::Start;

/// Where `program` is: as given if it has a slash, else the first match on PATH.
pub fn resolve(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// The program the user named: `-- CMD`'s first word, or the first word of
/// a --start-cmd when it is a plain word (not an assignment, a quote or an
/// expansion) that names a file.
pub fn given(start: &Start) -> Option<PathBuf> {
    let word = match start {
        Start::Exec(argv) => argv.first()?.as_str(),
        Start::Shell(cmd) => {
            let word = cmd.split_whitespace().next()?;
            let plain = word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._+-".contains(c));
            if !plain {
                return None;
            }
            word
        }
    };
    resolve(word)
}

/// The executables seen running as the service, keyed by the file itself
/// (device, inode, modification time), so one binary is hashed once however
/// many cycles run it, and a rebuild between cycles shows up as a second entry.
#[derive(Debug, Default)]
pub struct Executables {
    seen: BTreeMap<FileId, Input>,
}

/// Device, inode, modification time (seconds, nanoseconds).
type FileId = (u64, u64, i64, i64);
/// A path and its sha256 (none when it could not be read).
type Input = (String, Option<String>);

impl Executables {
    /// Notes the executable of `pid` (nothing if it is gone).
    pub fn observe(&mut self, pid: i32) {
        let exe = PathBuf::from(format!("/proc/{pid}/exe"));
        let Ok(meta) = std::fs::metadata(&exe) else {
            return;
        };
        let key = (meta.dev(), meta.ino(), meta.mtime(), meta.mtime_nsec());
        if self.seen.contains_key(&key) {
            return;
        }
        let Ok(path) = std::fs::read_link(&exe) else {
            return;
        };
        let digest = common::digest::sha256_file(&exe).ok().map(|(hex, _)| hex);
        self.seen
            .insert(key, (path.to_string_lossy().into_owned(), digest));
    }

    /// The inputs to record: `given` first (the path as named), then each
    /// executable seen, by path, leaving out the one `given` already is.
    pub fn inputs(&self, given: Option<&Path>) -> Vec<Input> {
        let mut out = Vec::new();
        let given_real = given.and_then(|g| std::fs::canonicalize(g).ok());
        if let Some(g) = given {
            let digest = common::digest::sha256_file(g).ok().map(|(hex, _)| hex);
            out.push((g.to_string_lossy().into_owned(), digest));
        }
        let mut seen: Vec<&Input> = self.seen.values().collect();
        seen.sort();
        for (path, digest) in seen {
            let same_as_given = given_real.as_deref().is_some_and(|g| Path::new(path) == g)
                && out.first().is_some_and(|(_, d)| d == digest);
            if !same_as_given {
                out.push((path.clone(), digest.clone()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_plain_word_of_a_start_cmd() {
        let sh = Start::Shell("sh -c 'x'".into());
        assert!(given(&sh).is_some_and(|p| p.ends_with("sh")));
        for cmd in [
            "FOO=1 sh",
            "'sh' x",
            "$SH x",
            "",
            "  ",
            "no-such-program-here x",
        ] {
            assert_eq!(given(&Start::Shell(cmd.into())), None, "{cmd:?}");
        }
        assert_eq!(given(&Start::Exec(vec![])), None);
        assert_eq!(given(&Start::Exec(vec!["/nonexistent/x".into()])), None);
    }

    #[test]
    fn this_process_is_its_own_executable() {
        let mut exes = Executables::default();
        let me = std::process::id() as i32;
        exes.observe(me);
        exes.observe(me);
        exes.observe(i32::MAX);
        let exe = std::env::current_exe().unwrap();
        let digest = common::digest::sha256_file(&exe).unwrap().0;
        let inputs = exes.inputs(None);
        assert_eq!(
            inputs,
            vec![(exe.to_string_lossy().into_owned(), Some(digest.clone()))]
        );
        // Named by the user as the same file: listed once, as named.
        assert_eq!(exes.inputs(Some(&exe)), inputs);
    }
}
