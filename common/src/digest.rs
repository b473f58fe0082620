//! sha256 of files, readers and bytes, as lowercase hex.
//!
//! sha2 picks the CPU's SHA instructions at run time where they exist, so
//! this runs at the speed of `openssl dgst -sha256`.

use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

const CHUNK: usize = 256 * 1024;

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Hex sha256 and length of everything `reader` yields.
pub fn sha256_reader(mut reader: impl Read) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}

/// Hex sha256 and size of a regular file (a symlink to one is followed).
///
/// Opened non-blocking and checked through the open handle, so a FIFO or a
/// device planted where a file was expected is refused instead of hanging
/// the tool, and there is no window between the check and the read.
pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|e| Error::io(path.display(), e))?;
    let meta = file.metadata().map_err(|e| Error::io(path.display(), e))?;
    if !meta.is_file() {
        return Err(Error::new(format!(
            "{}: not a regular file",
            path.display()
        )));
    }
    sha256_reader(file).map_err(|e| Error::io(path.display(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let (hex, n) = sha256_reader(&b"abc"[..]).unwrap();
        assert_eq!((hex.as_str(), n), (sha256_hex(b"abc").as_str(), 3));
    }

    #[test]
    fn files_are_hashed_and_fifos_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"abc").unwrap();
        assert_eq!(sha256_file(&file).unwrap(), (sha256_hex(b"abc"), 3));
        let fifo = dir.path().join("p");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let err = sha256_file(&fifo).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}: not a regular file", fifo.display())
        );
        assert!(
            sha256_file(dir.path()).is_err(),
            "a directory is not a file"
        );
    }
}
