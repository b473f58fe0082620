//! Which inputs to read (paths, directory walks with `ignore`) and where
//! each one's scrubbed copy goes (`--in-place`, `--out-dir`).
//!
//! Walks are sorted by name, so reports come out in the same order on every
//! run; hidden files are included (a leak in `.env.log` is still a leak), and
//! so are files that `.gitignore`/`.ignore` exclude unless `--respect-ignore`
//! asks otherwise: a log directory's own `*.log` rule once hid every log from
//! `--check`, which then passed. Symlinks inside trees are not followed
//! (counted as skipped).

use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;
use flate2::write::GzEncoder;
use ignore::overrides::OverrideBuilder;
use ignore::WalkBuilder;

use common::atomic::AtomicFile;
use common::{Error, Result};

/// One input to scrub.
#[derive(Debug, Clone)]
pub struct Source {
    /// `-` for stdin, else the path as found.
    pub path: String,
    /// Its place under `--out-dir`.
    pub rel: PathBuf,
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Found {
    pub sources: Vec<Source>,
    pub skipped: u64,
    /// Regular files the ignore rules hid (counted only with `respect_ignore`).
    pub ignored: u64,
    pub errors: Vec<Error>,
}

/// Expands the command-line paths into files.
pub fn discover(paths: &[String], globs: &[String], respect_ignore: bool) -> Result<Found> {
    let mut found = Found::default();
    for p in paths {
        if p == "-" {
            found.sources.push(Source {
                path: p.clone(),
                rel: PathBuf::from("stdin"),
            });
            continue;
        }
        let meta = match fs::metadata(p) {
            Ok(m) => m,
            Err(e) => {
                found.errors.push(Error::io(p, e));
                continue;
            }
        };
        if !meta.is_dir() {
            let rel = Path::new(p)
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(p));
            found.sources.push(Source {
                path: p.clone(),
                rel,
            });
            continue;
        }
        let mut overrides = OverrideBuilder::new(p);
        for g in globs {
            overrides
                .add(g)
                .map_err(|e| Error::usage(format!("--glob '{g}': {e}")))?;
        }
        let overrides = overrides
            .build()
            .map_err(|e| Error::usage(format!("--glob: {e}")))?;
        // With the rules honoured, what they hid is counted, so a summary shows
        // it was not read.
        let hidden_by_rules = if respect_ignore {
            walk(p, overrides.clone(), false)
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
                .count() as u64
        } else {
            0
        };
        let before = found.sources.len() as u64;
        let walker = walk(p, overrides, respect_ignore);
        for entry in walker {
            match entry {
                Err(e) => found.errors.push(Error::new(format!("{p}: {e}"))),
                Ok(entry) => {
                    let Some(ft) = entry.file_type() else {
                        continue;
                    };
                    if ft.is_symlink() {
                        found.skipped += 1;
                    } else if ft.is_file() {
                        let rel = entry
                            .path()
                            .strip_prefix(p)
                            .map(Path::to_path_buf)
                            .unwrap_or_default();
                        found.sources.push(Source {
                            path: entry.path().display().to_string(),
                            rel,
                        });
                    }
                }
            }
        }
        if respect_ignore {
            let read = found.sources.len() as u64 - before;
            found.ignored += hidden_by_rules.saturating_sub(read);
        }
    }
    Ok(found)
}

/// A sorted walk of `root` that never follows links or enters `.git`;
/// ignore files are honoured only when `respect_ignore` is set.
fn walk(root: &str, overrides: ignore::overrides::Override, respect_ignore: bool) -> ignore::Walk {
    WalkBuilder::new(root)
        .hidden(false)
        .ignore(respect_ignore)
        .git_ignore(respect_ignore)
        .git_global(respect_ignore)
        .git_exclude(respect_ignore)
        .parents(respect_ignore)
        .require_git(false)
        .follow_links(false)
        .overrides(overrides)
        .filter_entry(|e| e.file_name() != ".git")
        .sort_by_file_name(|a, b| a.cmp(b))
        .build()
}

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
                let p = PathBuf::from(&source.path);
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
                let rel = source.rel.to_string_lossy();
                let p = common::safe_path::join(dir, &rel)?;
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
pub fn backup(path: &str, suffix: &str) -> Result<()> {
    let dest = format!("{path}{suffix}");
    let mut src = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mode = src
        .metadata()
        .map(|m| m.permissions().mode() & 0o7777)
        .map_err(|e| Error::io(path, e))?;
    let mut copy = AtomicFile::create_with_mode(&dest, mode)?;
    std::io::copy(&mut src, &mut copy)
        .map_err(|e| Error::io(&dest, e).context("writing backup"))?;
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
/// (opening a FIFO would block): anything but a regular file, and a file
/// with other hard links (they would keep the personal data).
pub fn check_in_place(path: &str) -> Result<Stamp> {
    let meta = fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    let ft = meta.file_type();
    if ft.is_symlink() {
        return Err(Error::new(format!(
            "{path}: is a symlink: refusing to rewrite it in place"
        )));
    }
    if !ft.is_file() {
        let kind = if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_socket() {
            "a socket"
        } else if ft.is_char_device() || ft.is_block_device() {
            "a device"
        } else if ft.is_dir() {
            "a directory"
        } else {
            "special"
        };
        return Err(Error::new(format!(
            "{path}: not a regular file ({kind}): refusing to rewrite it in place"
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
pub fn unchanged_since(path: &str, before: Stamp) -> Result<()> {
    let now = fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    let after = stamp(&now);
    if after == before {
        return Ok(());
    }
    let grown = after.len.saturating_sub(before.len);
    Err(Error::new(format!(
        "{path}: changed while it was being scrubbed ({grown} bytes appended): not replaced; run again when nothing writes to it"
    )))
}

/// Opens a path (or `-`) like `common::input::Input` (gzip by magic bytes)
/// but without hashing: used when no summary will name the input, since
/// sha256 of every byte is a measurable share of a filter's time.
pub fn open_unhashed(path: &str) -> Result<(String, Box<dyn BufRead + Send>)> {
    let (name, raw): (String, Box<dyn Read + Send>) = if path == "-" {
        (
            common::input::STDIN_NAME.to_string(),
            Box::new(std::io::stdin()),
        )
    } else {
        let file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(Error::new(format!("{path}: is a directory")));
        }
        (path.to_string(), Box::new(file))
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let gzip = buffered
        .fill_buf()
        .map_err(|e| Error::io(&name, e))?
        .starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    };
    Ok((name, reader))
}
