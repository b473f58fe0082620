//! Opening inputs: a path, or `-` for stdin; gzip is detected by its magic
//! bytes (not the file name), so `.gz` files and gzipped pipes both work.
//!
//! The raw bytes are hashed (sha256) as they are read, so a tool can name
//! exactly what it judged in its summary without reading a file twice.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use flate2::bufread::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// How inputs read from stdin are named in messages and summaries.
pub const STDIN_NAME: &str = "<stdin>";

const READ_BUFFER: usize = 256 * 1024;

/// An opened input: a buffered, decompressed byte stream and its name.
pub struct Input {
    name: String,
    path: Option<PathBuf>,
    reader: Box<dyn BufRead + Send>,
    hasher: Arc<Mutex<Sha256>>,
    gzip: bool,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .field("gzip", &self.gzip)
            .finish()
    }
}

impl Input {
    /// Opens `path`, or stdin when it is `-`.
    pub fn open(path: &str) -> Result<Input> {
        Input::open_path(Path::new(path))
    }

    /// Opens `path`, or stdin when it is `-`; for names that need not be
    /// UTF-8 (found in a directory walk), shown lossily in messages.
    pub fn open_path(path: &Path) -> Result<Input> {
        let (name, raw) = open_raw(path)?;
        let path = (path != Path::new("-")).then(|| path.to_path_buf());
        Input::from_reader(&name, path, raw)
    }

    /// Wraps any reader (tests, in-memory data) under `name`.
    pub fn from_reader(
        name: &str,
        path: Option<PathBuf>,
        raw: Box<dyn Read + Send>,
    ) -> Result<Input> {
        let hasher = Arc::new(Mutex::new(Sha256::new()));
        let hashing = HashingRead {
            inner: raw,
            hasher: Arc::clone(&hasher),
        };
        let (reader, gzip) = decode(name, BufReader::with_capacity(READ_BUFFER, hashing))?;
        Ok(Input {
            name: name.to_string(),
            path,
            reader,
            hasher,
            gzip,
        })
    }

    /// The name used in messages: the path as given, or `<stdin>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// The decompressed byte stream.
    pub fn reader(&mut self) -> &mut (dyn BufRead + Send) {
        &mut *self.reader
    }

    /// Takes the stream, keeping a handle to compute the digest later.
    pub fn into_parts(self) -> (String, Box<dyn BufRead + Send>, InputDigest) {
        (
            self.name,
            self.reader,
            InputDigest {
                hasher: self.hasher,
            },
        )
    }

    /// sha256 (hex) of the raw bytes read so far; after reading to the end,
    /// the digest of the whole file as stored (compressed, if it was).
    pub fn sha256(&self) -> String {
        InputDigest {
            hasher: Arc::clone(&self.hasher),
        }
        .sha256()
    }
}

/// Opens `path` (or `-`) like [`Input::open`], gzip decoded, but without
/// hashing: for a filter whose output names no input, where sha256 of every
/// byte is a measurable share of its time.
pub fn open_unhashed(path: &Path) -> Result<(String, Box<dyn BufRead + Send>)> {
    let (name, raw) = open_raw(path)?;
    let (reader, _) = decode(&name, BufReader::with_capacity(READ_BUFFER, raw))?;
    Ok((name, reader))
}

/// The raw bytes of `path`, or stdin for `-`, and the name to show.
fn open_raw(path: &Path) -> Result<(String, Box<dyn Read + Send>)> {
    if path == Path::new("-") {
        return Ok((STDIN_NAME.to_string(), Box::new(io::stdin())));
    }
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| Error::io(&name, e))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(Error::new(format!("{name}: is a directory")));
    }
    Ok((name, Box::new(file)))
}

/// Decodes gzip, told by its magic bytes; says whether it was gzip.
fn decode<R: BufRead + Send + 'static>(
    name: &str,
    mut buffered: R,
) -> Result<(Box<dyn BufRead + Send>, bool)> {
    let head = buffered.fill_buf().map_err(|e| Error::io(name, e))?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        (
            Box::new(BufReader::with_capacity(
                READ_BUFFER,
                MultiGzDecoder::new(buffered),
            )),
            true,
        )
    } else {
        (Box::new(buffered), false)
    })
}

/// A handle that yields the sha256 of an input's raw bytes read so far.
#[derive(Clone)]
pub struct InputDigest {
    hasher: Arc<Mutex<Sha256>>,
}

impl std::fmt::Debug for InputDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InputDigest")
    }
}

impl InputDigest {
    pub fn sha256(&self) -> String {
        let state = match self.hasher.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        hex::encode(state.finalize())
    }
}

struct HashingRead {
    inner: Box<dyn Read + Send>,
    hasher: Arc<Mutex<Sha256>>,
}

impl Read for HashingRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            match self.hasher.lock() {
                Ok(mut h) => h.update(&buf[..n]),
                Err(poisoned) => poisoned.into_inner().update(&buf[..n]),
            }
        }
        Ok(n)
    }
}

/// The file an input path names, as (device, inode), following symlinks:
/// two paths with the same id are one file (the same path twice, a
/// symlink, a hard link). `None` for `-` (stdin) and for a path that cannot
/// be looked at (opening it reports why). Tools refuse to compare or merge
/// a file with itself: it agrees with itself and proves nothing.
pub fn file_id(path: &str) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    if path == "-" {
        return None;
    }
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_detected_by_content_and_hash_covers_raw_bytes() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"a\":1}\n").unwrap();
        let raw = gz.finish().unwrap();
        let expected = hex::encode(Sha256::digest(&raw));
        let mut input =
            Input::from_reader("x.gz", None, Box::new(std::io::Cursor::new(raw))).unwrap();
        assert!(input.is_gzip());
        let mut text = String::new();
        input.reader().read_to_string(&mut text).unwrap();
        assert_eq!(text, "{\"a\":1}\n");
        assert_eq!(input.sha256(), expected);
    }

    #[test]
    fn open_unhashed_decodes_gzip_like_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"line\n").unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let (name, mut reader) = open_unhashed(&path).unwrap();
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!(
            (name.as_str(), text.as_str()),
            (path.to_str().unwrap(), "line\n")
        );
        let err = open_unhashed(dir.path()).err().unwrap();
        assert!(err.to_string().ends_with(": is a directory"), "{err}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = Input::open("/nonexistent/hardgate").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/nonexistent/hardgate: No such file or directory"
        );
    }
}
