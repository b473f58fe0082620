//! `pack`/`unpack`: a sealed bundle as one reproducible tar.
//!
//! Packing writes the seal's files first, then every file in sorted order,
//! each with mtime fixed (`SOURCE_DATE_EPOCH`, else 0), uid/gid 0, no owner
//! names and mode 0644 (0755 when executable), so the same tree always
//! gives the same bytes. Every file is checked against the manifest while
//! it is written, so an archive never holds what the seal does not vouch for.
//!
//! Unpacking accepts only regular files (and directories) with clean
//! relative paths, creates each file fresh (`O_EXCL`) in an empty target,
//! and then verifies the result like `verify`.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use common::atomic::AtomicFile;
use common::{Error, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::manifest::Manifest;
use crate::walk::{self, MANIFEST, SEAL_FILES};

#[derive(Debug, Serialize)]
pub struct ArchiveRecord {
    pub kind: &'static str,
    pub path: String,
    pub entries: usize,
    pub bytes: u64,
    pub sha256: String,
    /// `none` or `gzip`.
    pub compression: &'static str,
}

/// What `pack` reports besides the archive: the manifest it packed.
#[derive(Debug)]
pub struct Packed {
    pub archive: ArchiveRecord,
    pub manifest_sha256: String,
    pub release_verdict: common::gate::Verdict,
}

/// The fixed mtime: `SOURCE_DATE_EPOCH` when set, else the epoch.
fn fixed_mtime() -> Result<u64> {
    let at = match std::env::var_os("SOURCE_DATE_EPOCH") {
        Some(_) => crate::seal::seal_time()?,
        None => std::time::UNIX_EPOCH,
    };
    Ok(at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0))
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ctrl-C inside a big file: stop within one block (the watchdog
        // would otherwise force an exit that leaves the temp file behind).
        if common::interrupt::requested() {
            return Err(io::Error::other("interrupted"));
        }
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// A writer that hashes what passes through it (the archive's own digest).
struct HashingWrite<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWrite<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Where the archive goes, by the name given to `-o`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
}

/// `.tar.gz`/`.tgz`/`.gz` are gzip; other compressed names are refused
/// rather than written as a plain tar under a misleading name.
fn compression_for(output: &Path) -> Result<Compression> {
    let name = output.to_string_lossy().to_ascii_lowercase();
    if [".gz", ".tgz"].iter().any(|x| name.ends_with(x)) {
        return Ok(Compression::Gzip);
    }
    let other = [
        ".xz", ".txz", ".zst", ".tzst", ".bz2", ".tbz", ".tbz2", ".zip", ".z", ".lz4", ".lz",
        ".lzma", ".tlz", ".7z",
    ];
    if other.iter().any(|x| name.ends_with(x)) {
        return Err(Error::usage(format!(
            "-o {}: pack writes a tar, or a gzip-compressed tar (.tar.gz, .tgz); not this compression",
            output.display()
        ))
        .with_hint("name it .tar or .tar.gz, or compress it afterwards"));
    }
    Ok(Compression::None)
}

/// The archive's destination: a file replaced atomically, or stdout (`-`).
enum Sink {
    File(AtomicFile),
    Stdout(io::StdoutLock<'static>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Once interrupted, nothing more: the tar and gzip writers finish
        // their streams when dropped, and an end marker after a cut-off
        // file list would make a partial archive on stdout read as whole.
        if common::interrupt::requested() {
            return Err(io::Error::other("interrupted"));
        }
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Stdout(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Stdout(s) => s.flush(),
        }
    }
}

/// Whether `-o` names stdout.
pub fn is_stdout(output: &Path) -> bool {
    output == Path::new("-")
}

/// `None` when interrupted (Ctrl-C, SIGTERM): then no archive was written
/// (`-o FILE`: its temporary file is removed; `-o -`: what reached stdout
/// stops there, without tar's end marker or gzip's trailer).
pub fn pack(dir: &Path, output: &Path) -> Result<Option<Packed>> {
    let compression = compression_for(output)?;
    let to_stdout = is_stdout(output);
    if to_stdout {
        use std::io::IsTerminal;
        if io::stdout().is_terminal() {
            return Err(Error::usage(
                "-o -: stdout is a terminal; refusing to write an archive to it",
            )
            .with_hint("redirect it: bundle-seal pack DIR -o - > rc1.tar"));
        }
    } else {
        refuse_output_inside(dir, output)?;
    }
    let manifest_path = dir.join(MANIFEST);
    let bytes = fs::read(&manifest_path).map_err(|e| {
        Error::io(manifest_path.display(), e)
            .with_hint("seal the bundle first: bundle-seal seal DIR --key KEY")
    })?;
    let m = Manifest::parse(&bytes, &manifest_path.display().to_string())?;
    let entries = walk::walk(dir)?;
    walk::require_regular(&entries)?;
    let listed: std::collections::HashSet<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    if let Some(e) = entries.iter().find(|e| !listed.contains(e.rel.as_str())) {
        return Err(Error::new(format!(
            "{}: not in the manifest; seal again before packing",
            e.path.display()
        )));
    }
    let target = output.display().to_string();
    let sink = if to_stdout {
        Sink::Stdout(io::stdout().lock())
    } else {
        Sink::File(AtomicFile::create(output)?)
    };
    let hashing = HashingWrite {
        inner: sink,
        hasher: Sha256::new(),
        bytes: 0,
    };
    let written = match compression {
        Compression::None => write_tar(hashing, dir, &m, &entries, &target)?,
        Compression::Gzip => {
            // No name and mtime 0 in the gzip header: the same tree gives
            // the same bytes.
            let gz = flate2::GzBuilder::new()
                .mtime(0)
                .write(hashing, flate2::Compression::default());
            match write_tar(gz, dir, &m, &entries, &target)? {
                Some((gz, count)) => Some((gz.finish().map_err(|e| Error::io(&target, e))?, count)),
                None => None,
            }
        }
    };
    // Interrupted: the sink drops uncommitted, removing its temporary file.
    let Some((hashing, count)) = written else {
        return Ok(None);
    };
    if common::interrupt::requested() {
        return Ok(None);
    }
    let sha256 = hex::encode(hashing.hasher.finalize());
    let written = hashing.bytes;
    match hashing.inner {
        Sink::File(f) => f.commit()?,
        Sink::Stdout(mut s) => s.flush().map_err(|e| Error::io("<stdout>", e))?,
    }
    Ok(Some(Packed {
        archive: ArchiveRecord {
            kind: "archive",
            path: target,
            entries: count,
            bytes: written,
            sha256,
            compression: match compression {
                Compression::None => "none",
                Compression::Gzip => "gzip",
            },
        },
        manifest_sha256: common::digest::sha256_hex(&bytes),
        release_verdict: m.verdict,
    }))
}

/// Writes the tar stream: the seal's files, then every listed file, each
/// checked against the manifest as it is written. Returns the writer, or
/// `None` when interrupted.
fn write_tar<W: Write>(
    out: W,
    dir: &Path,
    m: &Manifest,
    entries: &[walk::Entry],
    target: &str,
) -> Result<Option<(W, usize)>> {
    let by_path: HashMap<&str, &walk::Entry> =
        entries.iter().map(|e| (e.rel.as_str(), e)).collect();
    let mtime = fixed_mtime()?;
    let mut tar = tar::Builder::new(out);
    let mut count = 0;
    for name in SEAL_FILES {
        let path = dir.join(name);
        let f = walk::open_regular(&path)?;
        let len = f
            .metadata()
            .map_err(|e| Error::io(path.display(), e))?
            .len();
        append(&mut tar, name, f, len, 0o644, mtime, target)?;
        count += 1;
    }
    // The decisions made on this seal travel with it (each names the
    // manifest's sha256 and is signed; verify judges them).
    let decisions = dir.join(crate::decisions::DECISIONS);
    if std::fs::symlink_metadata(&decisions).is_ok() {
        let f = walk::open_regular(&decisions)?;
        let len = f
            .metadata()
            .map_err(|e| Error::io(decisions.display(), e))?
            .len();
        append(
            &mut tar,
            crate::decisions::DECISIONS,
            f,
            len,
            0o644,
            mtime,
            target,
        )?;
        count += 1;
    }
    for f in &m.files {
        if common::interrupt::requested() {
            return Ok(None);
        }
        let Some(e) = by_path.get(f.path.as_str()) else {
            return Err(Error::new(format!(
                "{}: listed in the manifest but missing",
                dir.join(&f.path).display()
            )));
        };
        let file = walk::open_regular(&e.path)?;
        let meta = file
            .metadata()
            .map_err(|err| Error::io(e.path.display(), err))?;
        if meta.len() != f.size {
            return Err(Error::new(format!(
                "{}: size differs from the manifest; verify the bundle",
                e.path.display()
            )));
        }
        let mode = if meta.permissions().mode() & 0o111 != 0 {
            0o755
        } else {
            0o644
        };
        let mut reader = Hashing {
            inner: file,
            hasher: Sha256::new(),
            bytes: 0,
        };
        if let Err(e) = append(&mut tar, &f.path, &mut reader, f.size, mode, mtime, target) {
            return if common::interrupt::requested() {
                Ok(None)
            } else {
                Err(e)
            };
        }
        if reader.bytes != f.size || hex::encode(reader.hasher.finalize()) != f.sha256 {
            return Err(Error::new(format!(
                "{}: content differs from the manifest; refusing to pack it",
                e.path.display()
            )));
        }
        count += 1;
    }
    let out = tar.into_inner().map_err(|e| Error::io(target, e))?;
    Ok(Some((out, count)))
}

/// An archive written into the bundle would be an unsealed extra file:
/// `verify` would fail and the next `pack` would refuse the tree.
fn refuse_output_inside(dir: &Path, output: &Path) -> Result<()> {
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let (Ok(root), Ok(parent)) = (fs::canonicalize(dir), fs::canonicalize(parent)) else {
        // Either is missing: the walk or the write reports it by name.
        return Ok(());
    };
    if parent.starts_with(&root) {
        return Err(Error::usage(format!(
            "-o {}: inside the bundle {}; the archive would become an unsealed file of it",
            output.display(),
            dir.display()
        ))
        .with_hint("write the archive outside the bundle directory"));
    }
    Ok(())
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    data: impl Read,
    size: u64,
    mode: u32,
    mtime: u64,
    target: &str,
) -> Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    tar.append_data(&mut h, name, data)
        .map_err(|e| Error::io(target, e).context(format!("adding {name}")))
}

/// Extracts `archive` into `dest` (absent or empty), refusing anything but
/// regular files and directories with clean relative paths. When it fails
/// part-way, what it extracted is removed again, so a refused or truncated
/// archive leaves no half-tree that could later pass for the bundle.
pub fn unpack(archive: &Path, dest: &Path) -> Result<usize> {
    let file = open_archive(archive)?;
    let created = match fs::read_dir(dest) {
        Ok(mut it) => {
            if it.next().is_some() {
                return Err(Error::usage(format!(
                    "{}: not empty; unpack needs an empty directory",
                    dest.display()
                )));
            }
            false
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dest).map_err(|e| Error::io(dest.display(), e))?;
            true
        }
        Err(e) => return Err(Error::io(dest.display(), e)),
    };
    let result = extract(file, archive, dest);
    if result.is_err() {
        // `dest` was empty or ours, and extraction makes only regular files
        // and directories, so everything in it is ours to remove.
        // (remove_dir_all does not follow symlinks.)
        let _ = if created {
            fs::remove_dir_all(dest)
        } else {
            fs::read_dir(dest).and_then(|it| {
                for child in it {
                    let path = child?.path();
                    if fs::symlink_metadata(&path)?.is_dir() {
                        fs::remove_dir_all(&path)?;
                    } else {
                        fs::remove_file(&path)?;
                    }
                }
                Ok(())
            })
        };
    }
    result
}

/// Opens the archive, refusing anything but a regular file before opening
/// it: opening a FIFO without a writer would block, beyond the reach of
/// Ctrl-C. (`O_NONBLOCK` covers a FIFO swapped in after the check; `fstat`
/// then refuses it.)
fn open_archive(archive: &Path) -> Result<fs::File> {
    let name = archive.display().to_string();
    let refuse = |what: &str| {
        Error::usage(format!("{name}: is {what}; unpack reads an archive file"))
            .with_hint("save the archive to a file first")
    };
    let meta = fs::metadata(archive).map_err(|e| Error::io(&name, e))?;
    if meta.is_dir() {
        return Err(refuse("a directory"));
    }
    if !meta.is_file() {
        return Err(refuse(walk::Kind::of(meta.file_type()).describe()));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(archive)
        .map_err(|e| Error::io(&name, e))?;
    let meta = file.metadata().map_err(|e| Error::io(&name, e))?;
    if !meta.is_file() {
        return Err(refuse(walk::Kind::of(meta.file_type()).describe()));
    }
    Ok(file)
}

fn extract(file: fs::File, archive: &Path, dest: &Path) -> Result<usize> {
    let aname = archive.display().to_string();
    // A gzip-compressed tar (`pack -o x.tar.gz`) is read by its magic bytes.
    let mut buffered = io::BufReader::new(file);
    let gzip = io::BufRead::fill_buf(&mut buffered)
        .map_err(|e| Error::io(&aname, e))?
        .starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip {
        Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let mut ar = tar::Archive::new(reader);
    let mut count = 0;
    for (i, entry) in ar.entries().map_err(|e| Error::io(&aname, e))?.enumerate() {
        let mut entry =
            entry.map_err(|e| Error::io(&aname, e).context(format!("entry {}", i + 1)))?;
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8(raw)
            .map_err(|_| Error::new(format!("{aname}: entry {}: path is not UTF-8", i + 1)))?;
        let kind = entry.header().entry_type();
        let what = match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => None,
            tar::EntryType::Directory => {
                let rel = common::safe_path::check_relative(&name)
                    .map_err(|e| e.context(format!("{aname}: entry {}", i + 1)))?;
                let path = common::safe_path::join(dest, rel.to_str().unwrap_or_default())?;
                fs::create_dir_all(&path).map_err(|e| Error::io(path.display(), e))?;
                continue;
            }
            tar::EntryType::Symlink => Some("a symlink"),
            tar::EntryType::Link => Some("a hard link"),
            tar::EntryType::Char => Some("a character device"),
            tar::EntryType::Block => Some("a block device"),
            tar::EntryType::Fifo => Some("a named pipe (FIFO)"),
            _ => Some("not a regular file"),
        };
        if let Some(what) = what {
            return Err(Error::new(format!(
                "{aname}: entry {} {name:?} is {what}; a bundle archive holds only regular files",
                i + 1
            )));
        }
        let rel = common::safe_path::check_relative(&name)
            .map_err(|e| e.context(format!("{aname}: entry {}", i + 1)))?;
        let rel_str = rel.to_str().unwrap_or_default().to_string();
        let path = common::safe_path::join(dest, &rel_str)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), e))?;
            // Re-check: no directory on the way may be a link.
            common::safe_path::join(dest, &rel_str)?;
        }
        let mode = entry.header().mode().unwrap_or(0o644);
        let mode = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&path)
            .map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    Error::new(format!("{aname}: entry {} {name:?} appears twice", i + 1))
                } else {
                    Error::io(path.display(), e)
                }
            })?;
        io::copy(&mut entry, &mut out).map_err(|e| Error::io(path.display(), e))?;
        out.sync_all().map_err(|e| Error::io(path.display(), e))?;
        count += 1;
    }
    Ok(count)
}
