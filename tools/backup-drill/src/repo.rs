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

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use common::atomic::{sync_dir, write_atomic};
use common::{Error, Result};
use sha2::{Digest, Sha256};

use crate::manifest::{self, Manifest, MAX_MANIFEST_BYTES};

const CONFIG: &str = "config.json";
const CONFIG_BODY: &str = "{\"format\":\"backup-drill-repo\",\"version\":1}\n";
const CHUNK: usize = 1 << 20;

/// An opened repository.
#[derive(Debug)]
pub struct Repo {
    pub root: PathBuf,
    /// Objects written to `tmp/` and not yet published, by sha256.
    staged: Mutex<HashMap<String, tempfile::TempPath>>,
}

/// A snapshot manifest's file, before it is parsed.
#[derive(Debug, Clone)]
pub struct SnapshotFile {
    pub id: String,
    pub path: PathBuf,
}

impl Repo {
    /// Opens an existing repository.
    pub fn open(root: &Path) -> Result<Repo> {
        let config = root.join(CONFIG);
        // Small, and read like every other file of a repository that may
        // come from elsewhere.
        let read = |path: &Path| -> io::Result<Vec<u8>> {
            let mut text = Vec::new();
            open_regular(path)?.take(64 * 1024).read_to_end(&mut text)?;
            Ok(text)
        };
        let text = match read(&config) {
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
        // Absolute once, so creating thousands of temporary objects does not
        // resolve the working directory each time.
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        Ok(Repo {
            root,
            staged: Mutex::new(HashMap::new()),
        })
    }

    /// Opens a repository, creating it when `root` is missing or empty.
    pub fn open_or_init(root: &Path) -> Result<Repo> {
        if root.join(CONFIG).exists() {
            return Repo::open(root);
        }
        match fs::read_dir(root) {
            Ok(mut it) => {
                if it.next().is_some() {
                    return Err(Error::usage(format!(
                        "{}: not empty and not a backup-drill repository",
                        root.display()
                    )));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(root).map_err(|e| Error::io(root.display(), e))?
            }
            Err(e) => return Err(Error::io(root.display(), e)),
        }
        for sub in ["objects", "snapshots", "tmp"] {
            let p = root.join(sub);
            fs::create_dir_all(&p).map_err(|e| Error::io(p.display(), e))?;
        }
        // All 256 fan-out directories up front: no creation races later.
        for i in 0..=255u8 {
            let p = root.join("objects").join(format!("{i:02x}"));
            fs::create_dir_all(&p).map_err(|e| Error::io(p.display(), e))?;
        }
        sync_dir(&root.join("objects"))?;
        // The config last: a repository half-made by a crash has no config,
        // is still empty of snapshots, and is simply initialised again.
        write_atomic(root.join(CONFIG), CONFIG_BODY.as_bytes())?;
        Repo::open(root)
    }

    pub fn object_path(&self, sha: &str) -> PathBuf {
        self.root.join("objects").join(&sha[..2]).join(sha)
    }

    pub fn has_object(&self, sha: &str) -> bool {
        fs::symlink_metadata(self.object_path(sha)).is_ok_and(|m| m.is_file())
    }

    /// Present, or already written in this run and waiting for [`publish`](Self::publish).
    fn known(&self, sha: &str) -> bool {
        self.staged.lock().is_ok_and(|s| s.contains_key(sha)) || self.has_object(sha)
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn new_tmp(&self) -> Result<tempfile::NamedTempFile> {
        let dir = self.tmp_dir();
        if !dir.is_dir() {
            fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display(), e))?;
        }
        // Created read-only (the descriptor stays writable): objects are
        // never modified, and this saves an fchmod per object.
        tempfile::Builder::new()
            .prefix("obj.")
            .permissions(fs::Permissions::from_mode(0o444))
            .tempfile_in(&dir)
            .map_err(|e| Error::io(dir.display(), e).context("creating temporary object"))
    }

    /// Stores `bytes` under `sha` (already computed) unless present.
    /// Returns whether it was newly stored.
    pub fn put_bytes(&self, sha: &str, bytes: &[u8]) -> Result<bool> {
        if self.known(sha) {
            return Ok(false);
        }
        let mut tmp = self.new_tmp()?;
        tmp.write_all(bytes)
            .map_err(|e| Error::io(tmp.path().display(), e))?;
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
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; CHUNK];
        let mut size = 0u64;
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(path.display(), e)),
            };
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n])
                .map_err(|e| Error::io(tmp.path().display(), e))?;
            size += n as u64;
        }
        let sha = hex::encode(hasher.finalize());
        if self.known(&sha) {
            return Ok((sha, size, false));
        }
        let new = self.stage(tmp, &sha)?;
        Ok((sha, size, new))
    }

    /// Keeps a finished temporary object for [`publish`](Self::publish).
    /// Returns false when another thread staged the same content first.
    fn stage(&self, tmp: tempfile::NamedTempFile, sha: &str) -> Result<bool> {
        // Close the descriptor (thousands of objects must not exhaust the
        // fd limit); the path is still removed if the backup fails.
        let path = tmp.into_temp_path();
        let mut staged = self
            .staged
            .lock()
            .map_err(|_| Error::new("internal error: staged objects poisoned"))?;
        if staged.contains_key(sha) {
            return Ok(false);
        }
        staged.insert(sha.to_string(), path);
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
        self.syncfs()?;
        for (sha, path) in staged {
            let target = self.object_path(&sha);
            if let Some(dir) = target.parent() {
                if !dir.is_dir() {
                    fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
                }
            }
            path.persist(&target)
                .map_err(|e| Error::io(target.display(), e.error))?;
        }
        self.syncfs()
    }

    /// Flushes the repository's filesystem: data and metadata of everything
    /// written so far is on disk when this returns.
    fn syncfs(&self) -> Result<()> {
        let dir = self.root.join("objects");
        let handle = File::open(&dir).map_err(|e| Error::io(dir.display(), e))?;
        nix::unistd::syncfs(handle.as_raw_fd())
            .map_err(|e| Error::io(dir.display(), std::io::Error::from(e)).context("syncfs"))
    }

    /// Writes a snapshot's manifest atomically; the snapshot exists from here on.
    pub fn write_manifest(&self, m: &Manifest) -> Result<PathBuf> {
        let dir = self.root.join("snapshots");
        if !dir.is_dir() {
            fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display(), e))?;
        }
        let path = dir.join(format!("{}.jsonl", m.header.id));
        write_atomic(&path, &m.to_bytes()?)?;
        Ok(path)
    }

    /// Snapshot files sorted by id (ids start with the UTC time, so oldest first).
    /// Temporary files (`.name.tmp`) of a manifest being written are skipped.
    pub fn snapshot_files(&self) -> Result<Vec<SnapshotFile>> {
        let dir = self.root.join("snapshots");
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(dir.display(), e)),
        };
        let mut out = Vec::new();
        for item in rd {
            let item = item.map_err(|e| Error::io(dir.display(), e))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with('.') {
                continue;
            }
            if let Some(id) = name.strip_suffix(".jsonl") {
                if manifest::is_valid_id(id) {
                    out.push(SnapshotFile {
                        id: id.to_string(),
                        path: item.path(),
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
        let file = open_regular(&snap.path).map_err(|e| Error::io(&name, e))?;
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
        fs::read_dir(self.tmp_dir())
            .map(|rd| rd.count() as u64)
            .unwrap_or(0)
    }
}

/// Opens a file of an untrusted repository for reading: never through a
/// symlink at the last component, never blocking on a FIFO planted there,
/// and only if it is a regular file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags((nix::fcntl::OFlag::O_NOFOLLOW | nix::fcntl::OFlag::O_NONBLOCK).bits())
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
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
