//! Taking a snapshot: walk the sources, hash every file in parallel, store
//! contents not yet in the repository, copy databases consistently, run the
//! backup hook, and write the manifest last.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use common::{Error, Result};
use rayon::prelude::*;

use crate::config::Sources;
use crate::hooks::{self, HookEnv};
use crate::manifest::{
    Changed, Database, Entry, EntryType, Header, Manifest, Root, Skipped, FORMAT,
};
use crate::repo::Repo;
use crate::sqlite;

/// Files up to this size are read once into memory; larger ones are hashed
/// first and copied only when their content is new.
const SMALL_FILE: u64 = 4 << 20;

/// What a backup did.
#[derive(Debug)]
pub struct BackupReport {
    pub manifest: Manifest,
    pub files: u64,
    pub bytes: u64,
    pub new_objects: u64,
    pub new_bytes: u64,
    pub duration_ms: f64,
    pub hook_ms: Option<f64>,
}

struct PendingFile {
    /// The name in the snapshot, as bytes.
    rel: Vec<u8>,
    abs: PathBuf,
    mode: u32,
    mtime_ns: i64,
    /// Size at walk time, for the progress bar only.
    size: u64,
}

/// A snapshot id: the UTC start time to the microsecond (so ids sort in
/// time order), then 8 hex digits to keep ids unique.
fn new_id(now: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_micros(now)
        .to_string()
        .replace(['-', ':', '.'], "");
    let nanos = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!("{nanos}-{}", std::process::id());
    format!(
        "{stamp}-{}",
        &common::digest::sha256_hex(seed.as_bytes())[..8]
    )
}

fn base_name(path: &Path) -> Result<String> {
    let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        Error::usage(format!(
            "{}: cannot name it in a snapshot (no UTF-8 base name)",
            path.display()
        ))
    })?;
    Ok(name.to_string())
}

fn type_name(ft: fs::FileType) -> &'static str {
    if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_char_device() {
        "char_device"
    } else if ft.is_block_device() {
        "block_device"
    } else {
        "unknown"
    }
}

fn mtime_ns(meta: &fs::Metadata) -> i64 {
    meta.mtime()
        .saturating_mul(1_000_000_000)
        .saturating_add(meta.mtime_nsec())
}

/// Walks one source tree into entries, pending files and skipped records.
fn walk(
    name: &str,
    root: &Path,
    entries: &mut Vec<Entry>,
    files: &mut Vec<PendingFile>,
    skipped: &mut Vec<Skipped>,
) -> Result<()> {
    // The name in the snapshot: the root's name, then the relative path's
    // bytes (Linux names need not be UTF-8; see `crate::name`).
    let snapshot_name = |abs: &Path| -> Vec<u8> {
        let rel = abs.strip_prefix(root).unwrap_or(abs).as_os_str().as_bytes();
        let mut out = name.as_bytes().to_vec();
        if !rel.is_empty() {
            out.push(b'/');
            out.extend_from_slice(rel);
        }
        out
    };
    let vanished = |skipped: &mut Vec<Skipped>, abs: &Path, kind: &str| {
        skipped.push(Skipped::new(
            &snapshot_name(abs),
            kind,
            "vanished during backup",
        ));
    };
    for item in walkdir::WalkDir::new(root).follow_links(false) {
        let item = match item {
            Ok(item) => item,
            // A directory below the root removed between being listed and
            // being read (a live session directory): its entry is kept,
            // its contents are gone, and a record says so.
            Err(e)
                if e.depth() > 0
                    && e.io_error()
                        .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound) =>
            {
                if let Some(path) = e.path() {
                    vanished(skipped, path, "dir");
                }
                continue;
            }
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                return Err(match e.into_io_error() {
                    Some(io) => Error::io(path, io),
                    None => Error::new(format!("{path}: filesystem loop")),
                });
            }
        };
        let rel = snapshot_name(item.path());
        let meta = match item.metadata() {
            Ok(meta) => meta,
            Err(e) => {
                let io = e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("metadata"));
                if io.kind() == std::io::ErrorKind::NotFound && item.depth() > 0 {
                    vanished(skipped, item.path(), "unknown");
                    continue;
                }
                return Err(Error::io(item.path().display(), io));
            }
        };
        let ft = meta.file_type();
        let mode = meta.mode() & 0o7777;
        if ft.is_dir() {
            let mut dir = Entry::new(&rel, EntryType::Dir);
            dir.mode = Some(mode);
            entries.push(dir);
        } else if ft.is_file() {
            files.push(PendingFile {
                rel,
                abs: item.path().to_path_buf(),
                mode,
                mtime_ns: mtime_ns(&meta),
                size: meta.len(),
            });
        } else if ft.is_symlink() {
            let target = match fs::read_link(item.path()) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    vanished(skipped, item.path(), "symlink");
                    continue;
                }
                Err(e) => return Err(Error::io(item.path().display(), e)),
            };
            let mut link = Entry::new(&rel, EntryType::Symlink);
            link.set_target(target.as_os_str().as_bytes());
            entries.push(link);
        } else {
            skipped.push(Skipped::new(&rel, type_name(ft), "special file"));
        }
    }
    Ok(())
}

/// What happened to one file of the walk.
#[derive(Debug, PartialEq)]
enum Stored {
    /// (sha256, size, newly stored, changed while read on both tries)
    Done(String, u64, bool, bool),
    /// Not stored: (type found, reason) for the `skipped` record.
    Skipped(&'static str, &'static str),
}

/// What tells one version of a file from the next without reading it:
/// every write changes the mtime and ctime (to the kernel's clock tick),
/// most change the size.
fn stamp(m: &fs::Metadata) -> [i64; 5] {
    [
        m.len() as i64,
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
    ]
}

/// Stores one file. A file that vanished between the walk and the read (a
/// live session directory does that) or was replaced by something that is
/// not a regular file is skipped, not a failed backup. The file is opened
/// without following a symlink and without blocking on a FIFO swapped in
/// after the walk, and is read through that one descriptor: what is stored
/// is always the regular file that was opened. A file whose size, mtime or
/// ctime (fstat on that descriptor) differ after the read from before it
/// was written meanwhile, so what was read may mix old and new bytes: it is
/// read once more, and if it changed again it is stored as read and marked
/// changed (GNU tar: "file changed as we read it").
fn store_file(repo: &Repo, f: &PendingFile) -> Result<Stored> {
    store_file_with(repo, f, &|| {})
}

/// `store_file`, with `while_reading` called after the first fstat of each
/// try (tests write to the file there, deterministically).
fn store_file_with(repo: &Repo, f: &PendingFile, while_reading: &dyn Fn()) -> Result<Stored> {
    let mut tries = 0;
    // The first try's object, if the second reads the same bytes: it was
    // new in this backup, though the second try finds it stored.
    let mut first: Option<(String, bool)> = None;
    loop {
        tries += 1;
        let file = match open_regular(f)? {
            Ok(file) => file,
            Err(skip) => return Ok(skip),
        };
        let before = file.metadata().map_err(|e| Error::io(f.abs.display(), e))?;
        while_reading();
        let (sha, size, mut new) = read_into(repo, &file, f, before.len())?;
        let after = file.metadata().map_err(|e| Error::io(f.abs.display(), e))?;
        let changed = stamp(&before) != stamp(&after);
        if let Some((first_sha, first_new)) = &first {
            new |= *first_new && *first_sha == sha;
        }
        if !changed || tries == 2 {
            return Ok(Stored::Done(sha, size, new, changed));
        }
        first = Some((sha, new));
    }
}

/// Opens the walked path as a regular file, or says why it is skipped.
fn open_regular(f: &PendingFile) -> Result<std::result::Result<fs::File, Stored>> {
    if common::interrupt::requested() {
        return Err(Error::new("interrupted"));
    }
    let flags = nix::fcntl::OFlag::O_NOFOLLOW | nix::fcntl::OFlag::O_NONBLOCK;
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits())
        .open(&f.abs)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Err(Stored::Skipped("file", "vanished during backup")))
        }
        // O_NOFOLLOW on a symlink.
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => {
            return Ok(Err(Stored::Skipped("symlink", "replaced during backup")))
        }
        Err(e) => return Err(Error::io(f.abs.display(), e)),
    };
    let meta = file.metadata().map_err(|e| Error::io(f.abs.display(), e))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "dir"
        } else {
            type_name(meta.file_type())
        };
        return Ok(Err(Stored::Skipped(kind, "replaced during backup")));
    }
    Ok(Ok(file))
}

/// Reads an open file into the repository: (sha256, size, newly stored).
fn read_into(
    repo: &Repo,
    file: &fs::File,
    f: &PendingFile,
    size_hint: u64,
) -> Result<(String, u64, bool)> {
    if size_hint <= SMALL_FILE {
        let mut bytes = Vec::with_capacity(size_hint as usize);
        std::io::Read::read_to_end(&mut &*file, &mut bytes)
            .map_err(|e| Error::io(f.abs.display(), e))?;
        let sha = common::digest::sha256_hex(&bytes);
        let new = repo.put_bytes(&sha, &bytes)?;
        return Ok((sha, bytes.len() as u64, new));
    }
    let (sha, size) = common::digest::sha256_reader(Interruptible(file))
        .map_err(|e| Error::io(f.abs.display(), e))?;
    if repo.has_object(&sha) {
        return Ok((sha, size, false));
    }
    // Copy from the same descriptor (the copy is hashed again, so the
    // object's name matches its bytes even if the file changed meanwhile).
    std::io::Seek::rewind(&mut &*file).map_err(|e| Error::io(f.abs.display(), e))?;
    repo.put_open(file, &f.abs)
}

/// A reader that stops at Ctrl-C: hashing a 10 GB file must not keep an
/// interrupt waiting.
struct Interruptible<R>(R);

impl<R: std::io::Read> std::io::Read for Interruptible<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if common::interrupt::requested() {
            return Err(std::io::Error::other("interrupted"));
        }
        self.0.read(buf)
    }
}

/// Takes a snapshot of `sources` into `repo`.
pub fn backup(repo: &Repo, sources: &Sources, quiet: bool) -> Result<BackupReport> {
    let started = Instant::now();
    let now = SystemTime::now();
    let id = new_id(now);
    let mut roots: Vec<Root> = Vec::new();
    let mut dir_sources: Vec<(String, PathBuf)> = Vec::new();
    let add_root = |roots: &mut Vec<Root>, name: String, kind: &str, origin: &Path| {
        if roots.iter().any(|r| r.name == name) {
            return Err(
                Error::usage(format!("two sources would both be restored as {name:?}"))
                    .with_hint("give every --source and --sqlite a distinct base name"),
            );
        }
        roots.push(Root {
            name,
            kind: kind.into(),
            origin: origin.display().to_string(),
        });
        Ok(())
    };
    for src in &sources.dirs {
        let canon = fs::canonicalize(src).map_err(|e| Error::io(src.display(), e))?;
        if !canon.is_dir() {
            return Err(
                Error::usage(format!("--source {}: not a directory", src.display()))
                    .with_hint("back up single files by putting them in a directory"),
            );
        }
        // A repository inside a source would back up its own objects as
        // they are being written.
        if fs::canonicalize(&repo.root).is_ok_and(|r| r.starts_with(&canon)) {
            return Err(Error::usage(format!(
                "--source {}: the repository {} lies inside it",
                src.display(),
                repo.root.display()
            ))
            .with_hint("put the repository outside every source"));
        }
        let name = if canon == Path::new("/") {
            "root".to_string()
        } else {
            base_name(&canon)?
        };
        add_root(&mut roots, name.clone(), "dir", &canon)?;
        dir_sources.push((name, canon));
    }
    for db in &sources.databases {
        let canon = fs::canonicalize(db).map_err(|e| Error::io(db.display(), e))?;
        add_root(&mut roots, base_name(&canon)?, "sqlite", &canon)?;
    }

    // The hook writes its dump into a directory inside the repository's
    // tmp/, which we then back up like any source tree.
    let mut hook_ms = None;
    let hook_dir = match &sources.backup_cmd {
        Some(cmd) => {
            add_root(&mut roots, "hook".into(), "hook", Path::new("backup-cmd"))?;
            let tmp = repo.tmp_path()?;
            let dir = tempfile::Builder::new()
                .prefix("hook.")
                .tempdir_in(&tmp)
                .map_err(|e| Error::io(tmp.display(), e))?;
            let env = HookEnv {
                repo: repo.root.clone(),
                snapshot: id.clone(),
                out: Some(dir.path().to_path_buf()),
                ..HookEnv::default()
            };
            let run = hooks::run("backup-cmd", cmd, &env)?;
            hook_ms = Some(run.duration_ms);
            if !run.ok {
                return Err(Error::new(format!("backup-cmd failed: {}", run.status)));
            }
            dir_sources.push(("hook".into(), dir.path().to_path_buf()));
            Some(dir)
        }
        None => None,
    };

    let mut entries = Vec::new();
    let mut pending = Vec::new();
    let mut skipped = Vec::new();
    for (name, root) in &dir_sources {
        walk(name, root, &mut entries, &mut pending, &mut skipped)?;
    }
    let bar = common::progress::bytes(Some(pending.iter().map(|f| f.size).sum()), quiet);
    let stored: Vec<Stored> = pending
        .par_iter()
        .map(|f| {
            let r = store_file(repo, f);
            bar.inc(f.size);
            r
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    drop(hook_dir);

    let mut files = 0u64;
    let mut bytes = 0u64;
    // Two identical new files may both be written (same name, same bytes):
    // count each new object once.
    let mut fresh: BTreeMap<String, u64> = BTreeMap::new();
    let mut changed = Vec::new();
    for (f, stored) in pending.into_iter().zip(stored) {
        let (sha, size, new) = match stored {
            Stored::Done(sha, size, new, was_changed) => {
                if was_changed {
                    changed.push(Changed::new(&f.rel, "changed during backup"));
                }
                (sha, size, new)
            }
            Stored::Skipped(kind, reason) => {
                skipped.push(Skipped::new(&f.rel, kind, reason));
                continue;
            }
        };
        files += 1;
        bytes += size;
        if new {
            fresh.insert(sha.clone(), size);
        }
        let mut file = Entry::new(&f.rel, EntryType::File);
        file.size = Some(size);
        file.mode = Some(f.mode);
        file.sha256 = Some(sha);
        file.mtime_ns = Some(f.mtime_ns);
        entries.push(file);
    }
    // Byte order of the names: the order the parser requires.
    entries.sort_by(|a, b| a.name().cmp(&b.name()));

    let mut databases = Vec::new();
    for db in &sources.databases {
        let canon = fs::canonicalize(db).map_err(|e| Error::io(db.display(), e))?;
        let name = base_name(&canon)?;
        let tmp = repo.tmp_path()?;
        let dir = tempfile::Builder::new()
            .prefix("db.")
            .tempdir_in(&tmp)
            .map_err(|e| Error::io(tmp.display(), e))?;
        let copy = dir.path().join("copy.db");
        sqlite::online_copy(&canon, &copy)?;
        let conn = sqlite::open_immutable(&copy)?;
        let tables = sqlite::tables(&conn, &canon)?;
        drop(conn);
        let (sha, size, new) = repo.put_file(&copy)?;
        let mode = fs::metadata(&canon)
            .map(|m| m.mode() & 0o7777)
            .unwrap_or(0o644);
        files += 1;
        bytes += size;
        if new {
            fresh.insert(sha.clone(), size);
        }
        databases.push(Database {
            path: name,
            size,
            mode,
            sha256: sha,
            tables,
        });
    }
    skipped.sort_by(|a, b| a.name().cmp(&b.name()));
    changed.sort_by(|a, b| a.name().cmp(&b.name()));
    databases.sort_by(|a, b| a.path.cmp(&b.path));

    let mut manifest = Manifest {
        header: Header {
            format: FORMAT.into(),
            id,
            created_at: common::clock::rfc3339(now),
            created_unix_ms: now
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            roots,
        },
        entries,
        databases,
        skipped,
        changed,
    };
    manifest.header.format = manifest.format_needed().into();
    // Objects durable first, then the manifest: a snapshot never names an
    // object a crash could lose.
    repo.publish()?;
    repo.write_manifest(&manifest)?;
    Ok(BackupReport {
        manifest,
        files,
        bytes,
        new_objects: fresh.len() as u64,
        new_bytes: fresh.values().sum(),
        duration_ms: common::clock::ms(started.elapsed()),
        hook_ms,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A file as the walk saw it: a regular file of `size` bytes.
    fn pending(abs: &Path) -> PendingFile {
        PendingFile {
            rel: b"data/f".to_vec(),
            abs: abs.to_path_buf(),
            mode: 0o644,
            mtime_ns: 0,
            size: 3,
        }
    }

    fn setup() -> (tempfile::TempDir, Repo) {
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repo::open_or_init(&tmp.path().join("repo")).unwrap();
        (tmp, repo)
    }

    // Each case is what the walk-then-read race produces, set up without a
    // race: the walk saw a regular file, then this is what is at the path.

    #[test]
    fn a_file_that_vanished_after_the_walk_is_skipped() {
        let (tmp, repo) = setup();
        let f = pending(&tmp.path().join("gone"));
        assert_eq!(
            store_file(&repo, &f).unwrap(),
            Stored::Skipped("file", "vanished during backup")
        );
    }

    #[test]
    fn a_fifo_swapped_in_after_the_walk_is_skipped_without_blocking() {
        let (tmp, repo) = setup();
        let path = tmp.path().join("fifo");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // Without O_NONBLOCK this open would wait forever for a writer.
        assert_eq!(
            store_file(&repo, &pending(&path)).unwrap(),
            Stored::Skipped("fifo", "replaced during backup")
        );
    }

    #[test]
    fn a_symlink_swapped_in_after_the_walk_is_not_followed() {
        let (tmp, repo) = setup();
        let secret = tmp.path().join("secret");
        fs::write(&secret, b"machine secret").unwrap();
        let path = tmp.path().join("link");
        std::os::unix::fs::symlink(&secret, &path).unwrap();
        assert_eq!(
            store_file(&repo, &pending(&path)).unwrap(),
            Stored::Skipped("symlink", "replaced during backup")
        );
        let dir = tmp.path().join("dir");
        fs::create_dir(&dir).unwrap();
        assert_eq!(
            store_file(&repo, &pending(&dir)).unwrap(),
            Stored::Skipped("dir", "replaced during backup")
        );
        repo.publish().unwrap();
        assert_eq!(fs::read_dir(repo.root.join("tmp")).unwrap().count(), 0);
    }

    /// Appends to the file on the first `n` calls (a size change, so the
    /// test does not depend on the mtime clock ticking).
    fn append_on_first(path: &Path, n: usize) -> impl Fn() + '_ {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        move || {
            if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < n {
                let mut f = fs::OpenOptions::new().append(true).open(path).unwrap();
                std::io::Write::write_all(&mut f, b"+").unwrap();
            }
        }
    }

    #[test]
    fn a_file_that_changed_during_the_first_read_is_read_again() {
        let (tmp, repo) = setup();
        let path = tmp.path().join("f");
        fs::write(&path, b"abc").unwrap();
        let got = store_file_with(&repo, &pending(&path), &append_on_first(&path, 1)).unwrap();
        let want = common::digest::sha256_hex(b"abc+");
        assert_eq!(got, Stored::Done(want, 4, true, false));
    }

    #[test]
    fn a_file_that_changed_during_both_reads_is_marked_changed() {
        let (tmp, repo) = setup();
        for (name, len) in [("small", 3usize), ("large", SMALL_FILE as usize + 5)] {
            let path = tmp.path().join(name);
            fs::write(&path, vec![7u8; len]).unwrap();
            let got = store_file_with(&repo, &pending(&path), &append_on_first(&path, 2)).unwrap();
            let Stored::Done(_, _, _, changed) = got else {
                panic!("{name}: {got:?}")
            };
            assert!(changed, "{name}");
        }
    }

    #[test]
    fn small_and_large_files_are_stored_under_their_digest() {
        let (tmp, repo) = setup();
        let small = tmp.path().join("small");
        fs::write(&small, b"abc").unwrap();
        let large = tmp.path().join("large");
        let body: Vec<u8> = (0..(SMALL_FILE + 7)).map(|i| (i % 251) as u8).collect();
        fs::write(&large, &body).unwrap();
        let want_small = common::digest::sha256_hex(b"abc");
        let want_large = common::digest::sha256_hex(&body);
        assert_eq!(
            store_file(&repo, &pending(&small)).unwrap(),
            Stored::Done(want_small.clone(), 3, true, false)
        );
        assert_eq!(
            store_file(&repo, &pending(&large)).unwrap(),
            Stored::Done(want_large.clone(), body.len() as u64, true, false)
        );
        repo.publish().unwrap();
        assert_eq!(fs::read(repo.object_path(&want_small)).unwrap(), b"abc");
        assert_eq!(fs::read(repo.object_path(&want_large)).unwrap(), body);
        // Stored once: a second read finds it.
        assert_eq!(
            store_file(&repo, &pending(&large)).unwrap(),
            Stored::Done(want_large, body.len() as u64, false, false)
        );
    }
}
