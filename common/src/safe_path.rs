//! Paths that come from inputs (bundles, backups, manifests) are untrusted.
//!
//! [`check_relative`] refuses empty, absolute and `..` paths; [`join`] also
//! refuses to pass through any symlink under the root, so a link planted in a
//! target directory cannot redirect a write outside it. `join` checks the
//! path when called: a caller racing a concurrent writer in the same tree
//! must open with `O_NOFOLLOW` too (as backup-drill's restore does).

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// Validates a relative path from an untrusted source and normalizes it
/// (drops `.` components). Refuses absolute paths, `..`, NUL and empty paths.
pub fn check_relative(rel: &str) -> Result<PathBuf> {
    check_relative_path(Path::new(rel))
}

/// [`check_relative`] for a path whose name need not be UTF-8.
pub fn check_relative_path(rel: &Path) -> Result<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    if rel.as_os_str().is_empty() {
        return Err(Error::new("empty path"));
    }
    if rel.as_os_str().as_bytes().contains(&0) {
        return Err(Error::new(format!("path {rel:?} contains a NUL byte")));
    }
    let mut out = PathBuf::new();
    for component in rel.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(Error::new(format!(
                    "path {rel:?} contains '..': refusing to leave the root"
                )))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(Error::new(format!(
                    "path {rel:?} is absolute: only relative paths are allowed"
                )))
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(Error::new(format!("path {rel:?} names no file")));
    }
    Ok(out)
}

/// Joins an untrusted relative path onto `root`, refusing `..`, absolute
/// paths, and any existing symlink on the way (including the last part).
pub fn join(root: &Path, rel: &str) -> Result<PathBuf> {
    join_path(root, Path::new(rel))
}

/// [`join`] for a relative path whose name need not be UTF-8 (one found in
/// a directory walk).
pub fn join_path(root: &Path, rel: &Path) -> Result<PathBuf> {
    let clean = check_relative_path(rel)?;
    let mut current = root.to_path_buf();
    for part in clean.components() {
        current.push(part);
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(Error::new(format!(
                    "path {rel:?} passes through symlink {}: refusing to follow it",
                    current.display()
                )))
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(current.display(), e)),
        }
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_traversal_and_absolute_paths() {
        assert_eq!(check_relative("a/./b").unwrap(), PathBuf::from("a/b"));
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a/..", ".", "a\0b"] {
            assert!(check_relative(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn join_refuses_symlinks_on_the_way() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("evil")).unwrap();
        let err = join(root.path(), "evil/x").unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        assert_eq!(join(root.path(), "ok/x").unwrap(), root.path().join("ok/x"));
    }
}
