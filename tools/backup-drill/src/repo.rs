//! The repository on disk: content-addressed objects and snapshot manifests.
//!
//! Every object is written to `tmp/` and made read-only. Before the manifest
//! is written, [`Repo::publish`] makes all of them durable with one `syncfs`
//! (one journal commit instead of one `fdatasync` per file, which on ext4
//! serialises every file creation behind the previous commit), renames each
//! to `objects/ab/<sha256>`, and makes the renames durable with a second
//! `syncfs`. Only then is the manifest written (temp + fsync + rename). So a
//! crash or `kill -9` at any moment leaves only complete objects under their
//! names and only complete snapshots; the worst left behind is a stray file
//! in `tmp/` and unreferenced objects.
//!
//! Every file and directory below the root is reached through a directory
//! descriptor ([`DirFd`]), never through a path: a repository whose
//! `objects/`, `objects/ab/`, `tmp/` or `snapshots/` is a symlink is refused
//! when opened, and one swapped in later redirects nothing.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use common::{Error, Result};
use rustix::fs::FileType;
use sha2::{Digest, Sha256};

use crate::dirfd::DirFd;
use crate::manifest::{self, Manifest, MAX_MANIFEST_BYTES};

const CONFIG: &str = "config.json";
const CONFIG_BODY: &str = "{\"format\":\"backup-drill-repo\",\"version\":1}\n";
const CHUNK: usize = 1 << 20;

/// An opened repository.
#[derive(Debug)]
pub struct Repo {
    pub root: PathBuf,
    dir: DirFd,
    objects: DirFd,
    /// `tmp/` and `snapshots/`, opened (or created) when first needed: a
    /// repository copied without empty directories may lack them.
    tmp: OnceLock<DirFd>,
    snapshots: OnceLock<DirFd>,
    /// Objects written to `tmp/` and not yet published: sha256 -> name in tmp/.
    staged: Mutex<HashMap<String, String>>,
}

/// A snapshot manifest's file, before it is parsed.
#[derive(Debug, Clone)]
pub struct SnapshotFile {
    pub id: String,
    /// For messages; the file is opened through the `snapshots/` descriptor.
    pub path: PathBuf,
}

/// A file being written in a repository directory under a temporary name;
/// removed when dropped unless [`kept`](TempFile::keep).
struct TempFile<'a> {
    dir: &'a DirFd,
    name: String,
    file: Option<File>,
}

impl<'a> TempFile<'a> {
    /// A new file named `prefix` + a name unique to this process, `mode`.
    fn create(dir: &'a DirFd, prefix: &str, suffix: &str, mode: u32) -> io::Result<TempFile<'a>> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let name = format!("{prefix}{}.{n}{suffix}", std::process::id());
            match dir.create_new(&name, mode) {
                Ok(file) => {
                    return Ok(TempFile {
                        dir,
                        name,
                        file: Some(file),
                    })
                }
                // Left by an earlier process with our pid: try the next name.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn file(&mut self) -> io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("temporary file already closed"))
    }

    fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    /// Closes the file and keeps it: the caller owns the name now.
    fn keep(mut self) -> String {
        self.file = None;
        std::mem::take(&mut self.name)
    }
}

impl Drop for TempFile<'_> {
    fn drop(&mut self) {
        if !self.name.is_empty() {
            let _ = self.dir.remove(&self.name);
        }
    }
}

/// Opens the directory `name` of an existing repository; `None` when absent.
fn existing_sub(dir: &DirFd, name: &str) -> Result<Option<DirFd>> {
    match dir.sub(name) {
        Ok(d) => Ok(Some(d)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(dir.join(name).display(), e)
            .with_hint("a repository from elsewhere is untrusted input; this one is refused")),
    }
}

/// The fan-out directory name of an object (its first two hex digits).
fn fan(sha: &str) -> io::Result<&str> {
    sha.get(..2)
        .filter(|f| f.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an object name"))
}

impl Repo {
    /// Opens an existing repository.
    pub fn open(root: &Path) -> Result<Repo> {
        // Absolute once, so messages name the place whatever the working
        // directory; a link at the root itself is the user's choice.
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        let dir = DirFd::open(&root).map_err(|e| Error::io(root.display(), e))?;
        // Small, and read like every other file of a repository that may
        // come from elsewhere.
        let read = || -> io::Result<Vec<u8>> {
            let mut text = Vec::new();
            dir.open_regular(CONFIG)?
                .take(64 * 1024)
                .read_to_end(&mut text)?;
            Ok(text)
        };
        let config = root.join(CONFIG);
        let text = match read() {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::new(format!(
                    "{}: not a backup-drill repository (no {CONFIG})",
                    root.display()
                ))
                .with_hint("create one with `backup-drill backup --repo DIR ...`"))
            }
            Err(e) => return Err(Error::io(config.display(), e)),
        };
        check_config(&text).map_err(|m| Error::at(config.display(), 1, m))?;
        let objects = existing_sub(&dir, "objects")?.ok_or_else(|| {
            Error::new(format!(
                "{}: not a backup-drill repository (no objects/)",
                root.display()
            ))
        })?;
        // Every fan-out directory, once: a link among them is refused up
        // front with its name, not object by object.
        for name in objects
            .names()
            .map_err(|e| Error::io(objects.path().display(), e))?
        {
            let Some(name) = name.to_str() else { continue };
            if name.len() == 2 {
                if let Ok((FileType::Symlink, _)) = objects.stat(name) {
                    existing_sub(&objects, name)?;
                }
            }
        }
        let repo = Repo {
            root,
            dir,
            objects,
            tmp: OnceLock::new(),
            snapshots: OnceLock::new(),
            staged: Mutex::new(HashMap::new()),
        };
        for (name, slot) in [("tmp", &repo.tmp), ("snapshots", &repo.snapshots)] {
            if let Some(d) = existing_sub(&repo.dir, name)? {
                let _ = slot.set(d);
            }
        }
        Ok(repo)
    }

    /// Opens a repository, creating it when `root` is missing or empty.
    pub fn open_or_init(root: &Path) -> Result<Repo> {
        if root.join(CONFIG).symlink_metadata().is_ok() {
            return Repo::open(root);
        }
        match std::fs::read_dir(root) {
            Ok(mut it) => {
                if it.next().is_some() {
                    return Err(Error::usage(format!(
                        "{}: not empty and not a backup-drill repository",
                        root.display()
                    )));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(root).map_err(|e| Error::io(root.display(), e))?
            }
            Err(e) => return Err(Error::io(root.display(), e)),
        }
        let dir = DirFd::open(root).map_err(|e| Error::io(root.display(), e))?;
        let sub = |parent: &DirFd, name: &str| {
            parent
                .sub_or_create(name)
                .map_err(|e| Error::io(parent.join(name).display(), e))
        };
        let objects = sub(&dir, "objects")?;
        sub(&dir, "snapshots")?;
        sub(&dir, "tmp")?;
        // All 256 fan-out directories up front: no creation races later.
        for i in 0..=255u8 {
            sub(&objects, &format!("{i:02x}"))?;
        }
        objects
            .sync()
            .map_err(|e| Error::io(objects.path().display(), e))?;
        // The config last: a repository half-made by a crash has no config,
        // is still empty of snapshots, and is simply initialised again.
        write_new_atomic(&dir, CONFIG, CONFIG_BODY.as_bytes())?;
        Repo::open(root)
    }

    /// The path of an object, for messages (it is opened through descriptors).
    pub fn object_path(&self, sha: &str) -> PathBuf {
        let fan = sha.get(..2).unwrap_or("");
        self.objects.path().join(fan).join(sha)
    }

    /// Opens a stored object for reading (only a regular file, never a link).
    pub fn open_object(&self, sha: &str) -> io::Result<File> {
        self.objects.sub(fan(sha)?)?.open_regular(sha)
    }

    /// The type and size of a stored object, without following a link.
    pub fn stat_object(&self, sha: &str) -> io::Result<(FileType, u64)> {
        self.objects.sub(fan(sha)?)?.stat(sha)
    }

    pub fn has_object(&self, sha: &str) -> bool {
        self.stat_object(sha)
            .is_ok_and(|(t, _)| t == FileType::RegularFile)
    }

    /// Names of every object file on disk (for counting unreferenced ones).
    pub fn stored_objects(&self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for fan in self.objects.names()? {
            let Some(fan) = fan.to_str() else { continue };
            if fan.len() != 2 {
                continue;
            }
            let Ok(dir) = self.objects.sub(fan) else {
                continue;
            };
            for name in dir.names()? {
                if let Some(name) = name.to_str() {
                    out.push(name.to_string());
                }
            }
        }
        Ok(out)
    }

    /// Present, or already written in this run and waiting for [`publish`](Self::publish).
    fn known(&self, sha: &str) -> bool {
        self.staged.lock().is_ok_and(|s| s.contains_key(sha)) || self.has_object(sha)
    }

    /// `tmp/` (created if missing), never through a link.
    fn tmp_dir(&self) -> Result<&DirFd> {
        cached_sub(&self.dir, "tmp", &self.tmp)
    }

    /// The path of `tmp/`, checked to be a directory of this repository, for
    /// work that needs a path (SQLite's copy, a backup hook's dump).
    pub fn tmp_path(&self) -> Result<PathBuf> {
        Ok(self.tmp_dir()?.path().to_path_buf())
    }

    fn snapshots_dir(&self) -> Result<&DirFd> {
        cached_sub(&self.dir, "snapshots", &self.snapshots)
    }

    fn new_tmp(&self) -> Result<TempFile<'_>> {
        let dir = self.tmp_dir()?;
        // Created read-only (the descriptor stays writable): objects are
        // never modified, and this saves an fchmod per object.
        TempFile::create(dir, "obj.", "", 0o444)
            .map_err(|e| Error::io(dir.path().display(), e).context("creating temporary object"))
    }

    /// Stores `bytes` under `sha` (already computed) unless present.
    /// Returns whether it was newly stored.
    pub fn put_bytes(&self, sha: &str, bytes: &[u8]) -> Result<bool> {
        if self.known(sha) {
            return Ok(false);
        }
        let mut tmp = self.new_tmp()?;
        let path = tmp.path();
        tmp.file()
            .and_then(|f| f.write_all(bytes))
            .map_err(|e| Error::io(path.display(), e))?;
        self.stage(tmp, sha)
    }

    /// Copies a file into a new object while hashing it, so the object's name
    /// is the digest of exactly the bytes stored even if the file changes
    /// under us. Returns (sha256, size, newly stored).
    pub fn put_file(&self, path: &Path) -> Result<(String, u64, bool)> {
        let src = File::open(path).map_err(|e| Error::io(path.display(), e))?;
        self.put_open(&src, path)
    }

    /// [`put_file`](Self::put_file) for a file already open (read from its
    /// current offset); `path` is for error messages.
    pub fn put_open(&self, mut src: &File, path: &Path) -> Result<(String, u64, bool)> {
        let mut tmp = self.new_tmp()?;
        let tmp_path = tmp.path();
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; CHUNK];
        let mut size = 0u64;
        loop {
            // A large copy stops at Ctrl-C (the caller removes the rest).
            if common::interrupt::requested() {
                return Err(Error::new("interrupted"));
            }
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(path.display(), e)),
            };
            hasher.update(&buf[..n]);
            tmp.file()
                .and_then(|f| f.write_all(&buf[..n]))
                .map_err(|e| Error::io(tmp_path.display(), e))?;
            size += n as u64;
        }
        let sha = hex::encode(hasher.finalize());
        if self.known(&sha) {
            return Ok((sha, size, false));
        }
        let new = self.stage(tmp, &sha)?;
        Ok((sha, size, new))
    }

    /// Puts the object `sha` of `from` into this repository: a hard link
    /// where the filesystem allows one, else a copy (staged: call
    /// [`publish`](Self::publish) afterwards).
    pub fn link_or_copy_from(&self, from: &Repo, sha: &str) -> Result<()> {
        let path = from.object_path(sha);
        let linked = (|| -> io::Result<()> {
            let src = from.objects.sub(fan(sha)?)?;
            let dst = self.objects.sub_or_create(fan(sha)?)?;
            src.link(sha, &dst, sha)
        })();
        if linked.is_ok() {
            return Ok(());
        }
        let src = from
            .open_object(sha)
            .map_err(|e| Error::io(path.display(), e))?;
        self.put_open(&src, &path).map(|_| ())
    }

    /// Keeps a finished temporary object for [`publish`](Self::publish).
    /// Returns false when another thread staged the same content first.
    fn stage(&self, tmp: TempFile<'_>, sha: &str) -> Result<bool> {
        let mut staged = self
            .staged
            .lock()
            .map_err(|_| Error::new("internal error: staged objects poisoned"))?;
        if staged.contains_key(sha) {
            return Ok(false);
        }
        // Close the descriptor (thousands of objects must not exhaust the
        // fd limit); the name is removed if the backup fails (Drop).
        staged.insert(sha.to_string(), tmp.keep());
        Ok(true)
    }

    /// Makes every staged object durable and gives it its name. Must run
    /// before the manifest that names them is written.
    pub fn publish(&self) -> Result<()> {
        let staged = match self.staged.lock() {
            Ok(mut s) => std::mem::take(&mut *s),
            Err(_) => return Err(Error::new("internal error: staged objects poisoned")),
        };
        if staged.is_empty() {
            return Ok(());
        }
        let staged: Vec<(String, String)> = staged.into_iter().collect();
        let tmp = self.tmp_dir()?;
        let mut done = 0;
        let result = self.rename_staged(tmp, &staged, &mut done);
        if result.is_err() {
            // Not left behind in tmp/: nothing will ever name them.
            for (_, name) in &staged[done..] {
                let _ = tmp.remove(name);
            }
        }
        result
    }

    fn rename_staged(
        &self,
        tmp: &DirFd,
        staged: &[(String, String)],
        done: &mut usize,
    ) -> Result<()> {
        self.syncfs()?;
        for (sha, name) in staged {
            let target = self.object_path(sha);
            let fan = fan(sha).map_err(|e| Error::io(target.display(), e))?;
            let dir = self
                .objects
                .sub_or_create(fan)
                .map_err(|e| Error::io(self.objects.join(fan).display(), e))?;
            tmp.rename(name, &dir, sha)
                .map_err(|e| Error::io(target.display(), e))?;
            *done += 1;
        }
        self.syncfs()
    }

    /// Flushes the repository's filesystem: data and metadata of everything
    /// written so far is on disk when this returns.
    fn syncfs(&self) -> Result<()> {
        self.objects
            .syncfs()
            .map_err(|e| Error::io(self.objects.path().display(), e).context("syncfs"))
    }

    /// Writes a snapshot's manifest atomically; the snapshot exists from here on.
    pub fn write_manifest(&self, m: &Manifest) -> Result<PathBuf> {
        let dir = self.snapshots_dir()?;
        let name = format!("{}.jsonl", m.header.id);
        write_new_atomic(dir, &name, &m.to_bytes()?)?;
        Ok(dir.join(&name))
    }

    /// Snapshot files sorted by id (ids start with the UTC time, so oldest first).
    /// Temporary files (`.name.tmp`) of a manifest being written are skipped.
    pub fn snapshot_files(&self) -> Result<Vec<SnapshotFile>> {
        let Some(dir) = self.snapshots.get() else {
            return Ok(Vec::new());
        };
        let names = dir
            .names()
            .map_err(|e| Error::io(dir.path().display(), e))?;
        let mut out = Vec::new();
        for name in names {
            let Some(name) = name.to_str() else { continue };
            if name.starts_with('.') {
                continue;
            }
            if let Some(id) = name.strip_suffix(".jsonl") {
                if manifest::is_valid_id(id) {
                    out.push(SnapshotFile {
                        id: id.to_string(),
                        path: dir.join(name),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Reads and validates one manifest (untrusted input).
    pub fn load(&self, snap: &SnapshotFile) -> Result<Manifest> {
        let name = snap.path.display().to_string();
        let dir = self.snapshots_dir()?;
        let file = dir
            .open_regular(&format!("{}.jsonl", snap.id))
            .map_err(|e| Error::io(&name, e))?;
        let meta = file.metadata().map_err(|e| Error::io(&name, e))?;
        if meta.len() > MAX_MANIFEST_BYTES {
            return Err(Error::new(format!(
                "{name}: manifest is {} bytes, over the {MAX_MANIFEST_BYTES}-byte limit",
                meta.len()
            )));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(MAX_MANIFEST_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(&name, e))?;
        let m = manifest::parse(&bytes, &name)?;
        if m.header.id != snap.id {
            return Err(Error::at(
                &name,
                1,
                format!("manifest id {:?} does not match its file name", m.header.id),
            ));
        }
        Ok(m)
    }

    /// Resolves `latest`, an exact id, or a unique id prefix.
    pub fn resolve(&self, spec: &str) -> Result<(SnapshotFile, Manifest)> {
        let files = self.snapshot_files()?;
        let found: Vec<&SnapshotFile> = if spec == "latest" {
            files.last().into_iter().collect()
        } else if let Some(exact) = files.iter().find(|f| f.id == spec) {
            vec![exact]
        } else {
            files.iter().filter(|f| f.id.starts_with(spec)).collect()
        };
        match found.as_slice() {
            [one] => {
                let m = self.load(one)?;
                Ok(((*one).clone(), m))
            }
            [] => Err(
                Error::usage(format!("{}: no snapshot {spec:?}", self.root.display()))
                    .with_hint("see `backup-drill list --repo DIR`"),
            ),
            many => Err(Error::usage(format!(
                "snapshot prefix {spec:?} matches {} snapshots; give more of the id",
                many.len()
            ))),
        }
    }

    /// Names in `tmp/` (left over from interrupted writes).
    pub fn tmp_files(&self) -> u64 {
        self.tmp
            .get()
            .and_then(|d| d.names().ok())
            .map_or(0, |n| n.len() as u64)
    }
}

impl Drop for Repo {
    /// Objects staged by a backup that failed before publishing are removed.
    fn drop(&mut self) {
        let (Some(tmp), Ok(staged)) = (self.tmp.get(), self.staged.get_mut()) else {
            return;
        };
        for name in staged.values() {
            let _ = tmp.remove(name);
        }
    }
}

/// `parent/name` as a directory of the repository, opened (or created) once.
fn cached_sub<'a>(parent: &DirFd, name: &str, slot: &'a OnceLock<DirFd>) -> Result<&'a DirFd> {
    if slot.get().is_none() {
        let d = parent
            .sub_or_create(name)
            .map_err(|e| Error::io(parent.join(name).display(), e))?;
        let _ = slot.set(d);
    }
    slot.get()
        .ok_or_else(|| Error::new(format!("{}: not opened", parent.join(name).display())))
}

/// Writes `name` in `dir` atomically: a temporary file there, fsync,
/// rename over `name`, fsync of the directory. Never through a link.
fn write_new_atomic(dir: &DirFd, name: &str, bytes: &[u8]) -> Result<()> {
    let target = dir.join(name);
    let err = |e| Error::io(target.display(), e);
    let mut tmp = TempFile::create(dir, &format!(".{name}."), ".tmp", 0o644).map_err(err)?;
    tmp.file()
        .and_then(|f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .map_err(err)?;
    let tmp_name = tmp.keep();
    if let Err(e) = dir.rename(&tmp_name, dir, name) {
        let _ = dir.remove(&tmp_name);
        return Err(err(e));
    }
    dir.sync().map_err(err)
}

fn check_config(text: &[u8]) -> std::result::Result<(), String> {
    let v: serde_json::Value =
        serde_json::from_slice(text).map_err(|e| format!("not a repository config: {e}"))?;
    if v["format"] != "backup-drill-repo" {
        return Err("not a backup-drill repository config".into());
    }
    if v["version"] != 1 {
        return Err(format!("unsupported repository version {}", v["version"]));
    }
    Ok(())
}
