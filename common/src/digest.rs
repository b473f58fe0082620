//! sha256 of files, readers and bytes, as lowercase hex.
//!
//! sha2 picks the CPU's SHA instructions at run time where they exist, so
//! this runs at the speed of `openssl dgst -sha256`.

use std::fs::File;
use std::io::{self, Read};
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

/// Hex sha256 and size of a file.
pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let file = File::open(path).map_err(|e| Error::io(path.display(), e))?;
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
}
