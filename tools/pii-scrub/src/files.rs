//! Where each input's scrubbed copy goes (`--in-place`, `--out-dir`), and
//! what `--in-place` refuses to rewrite.

use std::fs;
use std::io::{BufWriter, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use flate2::write::GzEncoder;

use common::atomic::AtomicFile;
use common::{Error, Result};

use crate::walk::{kind, Source};

/// A scrubbed copy being written: atomic, re-compressed when the input was gzip.
pub enum Target {
    Gzip(GzEncoder<BufWriter<AtomicFile>>, String),
    Plain(AtomicFile, String),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Target").field(&self.name()).finish()
    }
}

impl Target {
    /// Where `source`'s copy goes: the file itself (`--in-place`) or its
    /// mirror under `out_dir`. Refuses to write through symlinks.
    pub fn open(source: &Source, out_dir: Option<&Path>, gzip: bool) -> Result<Target> {
        let path = match out_dir {
            None => {
                let p = source.file.clone();
                if fs::symlink_metadata(&p)
                    .map(|m| m.file_type().is_symlink())
                    .unwrap_or(false)
                {
                    return Err(Error::new(format!(
                        "{}: is a symlink: refusing to rewrite it in place",
                        source.path
                    )));
                }
                p
            }
            Some(dir) => {
                let p = common::safe_path::join_path(dir, &source.rel)?;
                if let Some(parent) = p.parent() {
                    fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), e))?;
                }
                p
            }
        };
        let name = path.display().to_string();
        let atomic = AtomicFile::create(&path)?;
        Ok(if gzip {
            Target::Gzip(
                GzEncoder::new(BufWriter::new(atomic), flate2::Compression::default()),
                name,
            )
        } else {
            Target::Plain(atomic, name)
        })
    }

    pub fn name(&self) -> &str {
        match self {
            Target::Gzip(_, n) | Target::Plain(_, n) => n,
        }
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Target::Gzip(w, _) => w,
            Target::Plain(w, _) => w,
        }
    }

    /// Finishes compression, then fsyncs and renames into place.
    pub fn commit(self) -> Result<()> {
        let atomic = match self {
            Target::Gzip(gz, name) => {
                let buf = gz.finish().map_err(|e| Error::io(&name, e))?;
                buf.into_inner()
                    .map_err(|e| Error::io(&name, e.into_error()))?
            }
            Target::Plain(p, _) => p,
        };
        atomic.commit()
    }
}

/// Keeps the original as `path + suffix`: a copy written beside it as a
/// temporary file and renamed over the old backup (issue 14). The rename
/// replaces whatever has that name, a planted symlink included, and never
/// writes through it; on a full disk the old backup stays whole.
pub fn backup(source: &Source, suffix: &str) -> Result<()> {
    let path = &source.path;
    let mut dest = source.file.clone().into_os_string();
    dest.push(suffix);
    let dest_name = format!("{path}{suffix}");
    let mut src = fs::File::open(&source.file).map_err(|e| Error::io(path, e))?;
    let mode = src
        .metadata()
        .map(|m| m.permissions().mode() & 0o7777)
        .map_err(|e| Error::io(path, e))?;
    let mut copy = AtomicFile::create_with_mode(&dest, mode)?;
    std::io::copy(&mut src, &mut copy)
        .map_err(|e| Error::io(&dest_name, e).context("writing backup"))?;
    copy.commit()
}

/// What `--in-place` needs to know about a file before rewriting it, and
/// to tell afterwards whether it changed meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub len: u64,
    pub modified: Option<std::time::SystemTime>,
}

/// Refuses what `--in-place` must not rewrite, before anything is opened
/// (opening a FIFO would block): anything but a regular file, a file found
/// through a symlinked directory (the rename would land outside the tree),
/// and a file with other hard links (they would keep the personal data).
pub fn check_in_place(source: &Source) -> Result<Stamp> {
    let path = source.path.as_str();
    let meta = fs::symlink_metadata(&source.file).map_err(|e| Error::io(path, e))?;
    let ft = meta.file_type();
    if ft.is_symlink() {
        return Err(Error::new(format!(
            "{path}: is a symlink: refusing to rewrite it in place"
        )));
    }
    if let Some(link) = &source.via_link {
        return Err(Error::new(format!(
            "{path}: reached through the symlink {link}: refusing to rewrite it in place"
        ))
        .with_hint("rewrite it where it is: pass the link's target directory"));
    }
    if !ft.is_file() {
        return Err(Error::new(format!(
            "{path}: not a regular file ({}): refusing to rewrite it in place",
            kind(ft)
        )));
    }
    if meta.nlink() > 1 {
        return Err(Error::new(format!(
            "{path}: has {} hard links: rewriting this name would leave the personal data in the others (scrub a copy with --out-dir, or remove the other links first)",
            meta.nlink()
        )));
    }
    Ok(stamp(&meta))
}

fn stamp(meta: &fs::Metadata) -> Stamp {
    Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
    }
}

/// Fails when `path` is not as it was when the scrub began: lines appended
/// meanwhile would be lost by the rename (issue 14). The file is left as it
/// is. (A write between this check and the rename is not detected.)
pub fn unchanged_since(source: &Source, before: Stamp) -> Result<()> {
    let path = &source.path;
    let now = fs::symlink_metadata(&source.file).map_err(|e| Error::io(path, e))?;
    let after = stamp(&now);
    if after == before {
        return Ok(());
    }
    let grown = after.len.saturating_sub(before.len);
    Err(Error::new(format!(
        "{path}: changed while it was being scrubbed ({grown} bytes appended): not replaced; run again when nothing writes to it"
    )))
}
