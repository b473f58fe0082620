//! Walking a bundle directory: every entry in sorted order, classified, with
//! a UTF-8 relative path. Sealing refuses anything that is not a regular
//! file or a directory; verifying reports such entries instead.
//!
//! Files are opened with `O_NOFOLLOW` and checked with `fstat`, so a file
//! swapped for a symlink between the walk and the read is refused, not
//! followed.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use common::{Error, Result};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// The files a seal writes at the bundle's root; not part of the file list.
pub const MANIFEST: &str = "MANIFEST.json";
pub const SIGNATURE: &str = "MANIFEST.json.minisig";
pub const SUMS: &str = "SHA256SUMS";
pub const SEAL_FILES: [&str; 3] = [MANIFEST, SIGNATURE, SUMS];

/// What an entry on disk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
    Other,
}

impl Kind {
    /// What a directory entry is (a directory is `Other`; callers skip them).
    pub fn of(ft: std::fs::FileType) -> Kind {
        if ft.is_file() {
            Kind::File
        } else if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_fifo() {
            Kind::Fifo
        } else if ft.is_socket() {
            Kind::Socket
        } else if ft.is_char_device() {
            Kind::CharDevice
        } else if ft.is_block_device() {
            Kind::BlockDevice
        } else {
            Kind::Other
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Kind::File => "a regular file",
            Kind::Symlink => "a symlink",
            Kind::Fifo => "a named pipe (FIFO)",
            Kind::Socket => "a socket",
            Kind::CharDevice => "a character device",
            Kind::BlockDevice => "a block device",
            Kind::Other => "not a regular file",
        }
    }
}

/// One non-directory entry found under the root.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Relative path with `/` separators, as written in the manifest.
    pub rel: String,
    pub path: PathBuf,
    pub kind: Kind,
    pub size: u64,
}

/// Every non-directory entry under `root`, sorted by path bytes, leaving out
/// the seal's own files at the root. Non-UTF-8 names are refused (the
/// manifest is JSON).
pub fn walk(root: &Path) -> Result<Vec<Entry>> {
    let meta = std::fs::metadata(root).map_err(|e| Error::io(root.display(), e))?;
    if !meta.is_dir() {
        return Err(Error::usage(format!("{}: not a directory", root.display())));
    }
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name();
    for item in walker {
        let item = item.map_err(|e| {
            let path = e
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| root.display().to_string());
            match e.into_io_error() {
                Some(io) => Error::io(path, io),
                None => Error::new(format!("{path}: filesystem loop")),
            }
        })?;
        if item.depth() == 0 {
            continue;
        }
        let ft = item.file_type();
        if ft.is_dir() {
            continue;
        }
        let rel_path = item
            .path()
            .strip_prefix(root)
            .map_err(|_| Error::new("walk left the root"))?;
        let Some(rel) = rel_path.to_str() else {
            return Err(Error::new(format!(
                "{}: file name is not UTF-8; the manifest can only name UTF-8 paths",
                item.path().display()
            )));
        };
        // The walk cannot yield `..` or absolute names, but the same check
        // guards every path we later join back onto a root.
        common::safe_path::check_relative(rel).map_err(|e| e.context(item.path().display()))?;
        // The seal's files, and the decision log that grows after it.
        if item.depth() == 1 && (SEAL_FILES.contains(&rel) || rel == crate::decisions::DECISIONS) {
            continue;
        }
        let kind = Kind::of(ft);
        let size = if kind == Kind::File {
            item.metadata()
                .map_err(|e| Error::new(format!("{}: {e}", item.path().display())))?
                .len()
        } else {
            0
        };
        out.push(Entry {
            rel: rel.to_string(),
            path: item.path().to_path_buf(),
            kind,
            size,
        });
    }
    out.sort_by(|a, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
    Ok(out)
}

/// Refuses every entry that is not a regular file, naming what it is.
pub fn require_regular(entries: &[Entry]) -> Result<()> {
    for e in entries {
        if e.kind != Kind::File {
            let why = match e.kind {
                Kind::Symlink => " (a link could point outside the bundle)",
                _ => "",
            };
            return Err(Error::new(format!(
                "{}: is {}; a bundle holds only regular files{why}",
                e.path.display(),
                e.kind.describe()
            ))
            .with_hint("remove it or replace it with a copy of the file it stands for"));
        }
    }
    Ok(())
}

/// Opens a regular file without following a symlink at its last component.
pub fn open_regular(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits() | nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(nix::errno::Errno::ELOOP as i32) {
                Error::new(format!(
                    "{}: is a symlink; refusing to follow it",
                    path.display()
                ))
            } else {
                Error::io(path.display(), e)
            }
        })?;
    let meta = file.metadata().map_err(|e| Error::io(path.display(), e))?;
    if !meta.is_file() {
        return Err(Error::new(format!(
            "{}: not a regular file",
            path.display()
        )));
    }
    Ok(file)
}

/// sha256 (hex) and size of a regular file.
pub fn hash_file(path: &Path) -> Result<(String, u64)> {
    hash_file_with(path, &mut vec![0u8; READ_BUF])
}

/// 1 MiB reads: few syscalls on big files, and SHA-NI is never starved.
const READ_BUF: usize = 1 << 20;

fn hash_file_with(path: &Path, buf: &mut [u8]) -> Result<(String, u64)> {
    let mut file = open_regular(path)?;
    let mut h = Sha256::new();
    let mut total = 0u64;
    loop {
        // Checked per block, so Ctrl-C stops a many-gigabyte file promptly.
        if common::interrupt::requested() {
            return Err(Error::new(format!("{}: interrupted", path.display())));
        }
        match file.read(buf) {
            Ok(0) => break,
            Ok(n) => {
                h.update(&buf[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path.display(), e)),
        }
    }
    Ok((hex::encode(h.finalize()), total))
}

/// Hashes many files on all cores, one reused buffer per worker; results
/// come back in input order.
pub fn hash_all(paths: &[&Path], progress: &indicatif::ProgressBar) -> Vec<Result<(String, u64)>> {
    paths
        .par_iter()
        .map_init(
            || vec![0u8; READ_BUF],
            |buf, p| {
                let r = hash_file_with(p, buf);
                progress.inc(1);
                r
            },
        )
        .collect()
}
