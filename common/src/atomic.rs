//! Atomic file replacement: write a temporary file in the target's directory,
//! fsync it, rename it over the target, fsync the directory.
//!
//! A crash or `kill -9` at any point leaves either the old file or the new
//! one, never a half-written one. A dropped [`AtomicFile`] that was never
//! committed removes its temporary file.

use std::fs::{self, File, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// A file being written that replaces its target only on [`commit`](Self::commit).
pub struct AtomicFile {
    out: BufWriter<NamedTempFile>,
    target: PathBuf,
}

impl std::fmt::Debug for AtomicFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicFile")
            .field("target", &self.target)
            .finish()
    }
}

impl AtomicFile {
    /// Starts replacing `target`. Keeps the mode of an existing target;
    /// a new file gets 0644.
    pub fn create(target: impl AsRef<Path>) -> Result<Self> {
        let target = target.as_ref();
        let mode = fs::metadata(target)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644);
        Self::create_with_mode(target, mode)
    }

    /// Starts replacing `target` with a file of exactly `mode` (e.g. 0600 for keys).
    pub fn create_with_mode(target: impl AsRef<Path>, mode: u32) -> Result<Self> {
        let target = target.as_ref().to_path_buf();
        let dir = parent_dir(&target);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(|e| Error::io(dir.display(), e).context("creating temporary file"))?;
        tmp.as_file()
            .set_permissions(Permissions::from_mode(mode))
            .map_err(|e| Error::io(tmp.path().display(), e))?;
        Ok(AtomicFile {
            out: BufWriter::with_capacity(128 * 1024, tmp),
            target,
        })
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes, fsyncs and renames over the target, then fsyncs the directory.
    pub fn commit(self) -> Result<()> {
        let target = self.target;
        let tmp = self
            .out
            .into_inner()
            .map_err(|e| Error::io(target.display(), e.into_error()))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(target.display(), e))?;
        tmp.persist(&target)
            .map_err(|e| Error::io(target.display(), e.error))?;
        sync_dir(&parent_dir(&target))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Replaces `target` with `bytes` atomically.
pub fn write_atomic(target: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(target.as_ref())?;
    f.write_all(bytes)
        .map_err(|e| Error::io(target.as_ref().display(), e))?;
    f.commit()
}

/// fsyncs a directory so a rename in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir.display(), e))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_on_commit_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"half").unwrap();
            // dropped without commit
        }
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left behind"
        );
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    #[test]
    fn secret_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let f = AtomicFile::create_with_mode(&path, 0o600).unwrap();
        f.commit().unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
