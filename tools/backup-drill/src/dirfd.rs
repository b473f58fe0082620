//! Directories held open as descriptors and walked one name at a time.
//!
//! A repository may come from elsewhere, or sit where another user can
//! write: any of its directories (`objects/`, `objects/ab/`, `tmp/`,
//! `snapshots/`) could be replaced by a symlink leading outside it. A path
//! such as `repo/objects/ab/abcd…` follows every link on the way, so every
//! file of a repository is reached from a directory descriptor instead:
//! each directory is opened with `O_NOFOLLOW | O_DIRECTORY` relative to its
//! parent's descriptor, and each file is opened, created, renamed, linked
//! or removed relative to its own directory's descriptor. A link anywhere
//! below the root is refused with "is a symlink", and a directory swapped
//! after it was opened does not redirect anything: the descriptor still
//! names the directory that was checked.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

/// Why a link inside a repository is refused (the error's text).
pub const LINK_REFUSED: &str =
    "is a symlink: a repository's own files and directories are never followed";

/// An open directory and the path it was reached by (for messages only).
#[derive(Debug)]
pub struct DirFd {
    fd: OwnedFd,
    path: PathBuf,
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

impl DirFd {
    /// Opens the directory a user named. A symlink here is followed: the
    /// user chose it (a repository on another disk, say).
    pub fn open(path: &Path) -> io::Result<DirFd> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty())?;
        Ok(DirFd {
            fd,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `name` in this directory, for messages.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Opens the directory `name` in this one, never through a symlink.
    pub fn sub(&self, name: &str) -> io::Result<DirFd> {
        match rustix::fs::openat(&self.fd, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => Ok(DirFd {
                fd,
                path: self.path.join(name),
            }),
            Err(e) => Err(self.explain(name, e)),
        }
    }

    /// [`sub`](Self::sub), creating the directory (mode 0755) if missing.
    pub fn sub_or_create(&self, name: &str) -> io::Result<DirFd> {
        match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => self.sub(name),
            Err(e) => Err(e.into()),
        }
    }

    /// Opens the file `name` for reading: never through a symlink, never
    /// blocking on a FIFO planted there, and only if it is a regular file.
    pub fn open_regular(&self, name: &str) -> io::Result<File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::empty())
            .map_err(|e| self.explain(name, e))?;
        let file = File::from(fd);
        if !file.metadata()?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Ok(file)
    }

    /// Creates the new file `name` (`O_EXCL`: never an existing file, never
    /// through a link) with `mode`, open for writing.
    pub fn create_new(&self, name: &str, mode: u32) -> io::Result<File> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(mode))?;
        Ok(File::from(fd))
    }

    /// The type and size of `name`, without following a link.
    pub fn stat(&self, name: &str) -> io::Result<(FileType, u64)> {
        let st = rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)?;
        Ok((FileType::from_raw_mode(st.st_mode), st.st_size as u64))
    }

    /// Renames `name` here to `to` in `dir` (replacing it atomically).
    pub fn rename(&self, name: &str, dir: &DirFd, to: &str) -> io::Result<()> {
        rustix::fs::renameat(&self.fd, name, &dir.fd, to).map_err(io::Error::from)
    }

    /// Hard-links `name` here as `to` in `dir` (the link itself, not its target).
    pub fn link(&self, name: &str, dir: &DirFd, to: &str) -> io::Result<()> {
        rustix::fs::linkat(&self.fd, name, &dir.fd, to, AtFlags::empty()).map_err(io::Error::from)
    }

    /// Removes the file (or link) `name`.
    pub fn remove(&self, name: &str) -> io::Result<()> {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()).map_err(io::Error::from)
    }

    /// The names in this directory (`.` and `..` left out).
    pub fn names(&self) -> io::Result<Vec<OsString>> {
        let mut out = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.fd)? {
            let name = entry?.file_name().to_bytes().to_vec();
            if name != b"." && name != b".." {
                out.push(OsString::from_vec(name));
            }
        }
        Ok(out)
    }

    /// Makes this directory's entries (creations, renames) durable.
    pub fn sync(&self) -> io::Result<()> {
        rustix::fs::fsync(&self.fd).map_err(io::Error::from)
    }

    /// Flushes this directory's whole filesystem.
    pub fn syncfs(&self) -> io::Result<()> {
        rustix::fs::syncfs(&self.fd).map_err(io::Error::from)
    }

    /// Turns "too many links" / "not a directory" into what is really there.
    fn explain(&self, name: &str, err: Errno) -> io::Error {
        if err == Errno::LOOP || err == Errno::NOTDIR {
            if let Ok((FileType::Symlink, _)) = self.stat(name) {
                return io::Error::other(LINK_REFUSED);
            }
            if err == Errno::NOTDIR {
                return io::Error::other("not a directory");
            }
        }
        err.into()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn links_below_the_root_are_refused_and_the_root_may_be_one() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        std::fs::create_dir_all(real.join("sub")).unwrap();
        std::fs::write(real.join("sub/f"), b"x").unwrap();
        std::os::unix::fs::symlink("sub", real.join("via")).unwrap();
        std::os::unix::fs::symlink("sub/f", real.join("flink")).unwrap();
        std::os::unix::fs::symlink(&real, tmp.path().join("root-link")).unwrap();
        let root = DirFd::open(&tmp.path().join("root-link")).unwrap();
        let sub = root.sub("sub").unwrap();
        assert_eq!(std::fs::read_to_string(root.join("sub/f")).unwrap(), "x");
        assert!(sub.open_regular("f").is_ok());
        for (what, err) in [
            ("via", root.sub("via").unwrap_err()),
            ("flink", root.open_regular("flink").unwrap_err()),
            ("via", root.sub_or_create("via").unwrap_err()),
        ] {
            assert_eq!(err.to_string(), LINK_REFUSED, "{what}");
        }
        assert_eq!(sub.sub("f").unwrap_err().to_string(), "not a directory");
        assert_eq!(root.names().unwrap().len(), 3);
    }
}
