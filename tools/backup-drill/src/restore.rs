//! Restoring a snapshot into a directory, never writing outside it.
//!
//! The manifest was validated by the parser (canonical relative paths, every
//! entry below a directory entry). Here every path is joined with
//! `safe_path::join`, which refuses to pass through any symlink already in
//! the target (a planted link cannot redirect a write); files are created
//! with `O_EXCL | O_NOFOLLOW`; symlinks whose target leaves the restore
//! directory are refused unless asked for, and are only ever created, never
//! followed; "leaves" is judged by resolving the target through the
//! snapshot's other links, so a chain such as `up -> ..`, `esc -> up/..`
//! is caught. Names are bytes ([`crate::name`]): every path and link
//! target is made from the manifest's bytes, never from its printable form.
//! Directory modes are applied last so read-only directories do not
//! block their own contents.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::safe_path;
use common::{Error, Result};
use rayon::prelude::*;

use crate::manifest::{EntryType, Manifest};
use crate::name;
use crate::repo::Repo;

/// The mode bits a restored file gets: setuid/setgid are not restored from
/// a repository (untrusted input: they would hand its author the restoring
/// user's rights). `verify` names each file that lost them.
pub const MODE_MASK: u32 = 0o1777;
/// A directory gets every bit back: its setgid bit only decides the group
/// of files made in it later (setuid means nothing on a Linux directory).
pub const DIR_MODE_MASK: u32 = 0o7777;

#[derive(Debug)]
pub struct RestoreReport {
    pub files: u64,
    pub bytes: u64,
    pub duration_ms: f64,
}

/// Refuses a target that exists and is not an empty directory (unless
/// `force`); creates a missing one. Returns whether the target is empty.
pub fn prepare_target(to: &Path, force: bool) -> Result<bool> {
    match fs::symlink_metadata(to) {
        Ok(meta) if meta.is_dir() => {
            let mut rd = fs::read_dir(to).map_err(|e| Error::io(to.display(), e))?;
            let empty = rd.next().is_none();
            if !empty && !force {
                return Err(
                    Error::usage(format!("{}: restore target is not empty", to.display()))
                        .with_hint("restore into an empty directory, or pass --force to overwrite"),
                );
            }
            Ok(empty)
        }
        Ok(_) => Err(Error::usage(format!(
            "{}: restore target is not a directory",
            to.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(to).map_err(|e| Error::io(to.display(), e))?;
            Ok(true)
        }
        Err(e) => Err(Error::io(to.display(), e)),
    }
}

/// A name's bytes as a path.
fn as_path(raw: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(raw))
}

/// Joins an untrusted path onto `to`, refusing symlinks on the way
/// (including the last component).
fn join(to: &Path, rel: &[u8]) -> Result<PathBuf> {
    safe_path::join_path(to, as_path(rel))
}

/// Joins an untrusted path onto `to`, refusing symlinks in every component
/// but the last (which the caller deals with without following it).
fn join_parent(to: &Path, rel: &[u8]) -> Result<PathBuf> {
    safe_path::check_relative_path(as_path(rel))?;
    match name::parent(rel) {
        Some(parent) => Ok(join(to, parent)?.join(as_path(&rel[parent.len() + 1..]))),
        None => Ok(to.join(as_path(rel))),
    }
}

/// Where a symlink at `link` with `target` ends up, resolved through the
/// other symlinks of the same snapshot (`links`: path -> target): false when
/// it leaves the restore root. A purely lexical check is not enough: with
/// `up -> ..` and `esc -> up/..`, `esc` looks inside but resolves to the
/// parent of the root. Links the kernel could not resolve either (more than
/// 40 expansions, i.e. a loop) cannot lead anywhere and count as inside.
fn link_resolves_inside(link: &[u8], target: &[u8], links: &HashMap<&[u8], &[u8]>) -> bool {
    const MAX_EXPANSIONS: usize = 40;
    let mut dir: Vec<&[u8]> = parts(link);
    dir.pop();
    let mut pending: VecDeque<&[u8]> = VecDeque::new();
    if target.starts_with(b"/") {
        return false;
    }
    pending.extend(parts(target));
    let mut expansions = 0;
    while let Some(part) = pending.pop_front() {
        match part {
            b"" | b"." => {}
            b".." => {
                if dir.pop().is_none() {
                    return false;
                }
            }
            name => {
                dir.push(name);
                if let Some(next) = links.get(dir.join(&b'/').as_slice()) {
                    expansions += 1;
                    if expansions > MAX_EXPANSIONS {
                        return true;
                    }
                    if next.starts_with(b"/") {
                        return false;
                    }
                    dir.pop();
                    for p in parts(next).into_iter().rev() {
                        pending.push_front(p);
                    }
                }
            }
        }
    }
    true
}

/// The components of a slash-separated path.
fn parts(path: &[u8]) -> Vec<&[u8]> {
    path.split(|&b| b == b'/').collect()
}

/// A temporary directory holding restored files, removed when dropped even
/// if restored directories are read-only (0555 would make a plain removal
/// fail for a non-root user and leave the copy behind).
#[derive(Debug)]
pub struct Scratch(Option<tempfile::TempDir>);

impl Scratch {
    pub fn new(dir: tempfile::TempDir) -> Scratch {
        Scratch(Some(dir))
    }

    pub fn path(&self) -> &Path {
        self.0.as_ref().map_or(Path::new(""), |d| d.path())
    }

    /// Gives up ownership: the directory is no longer removed.
    fn keep(mut self) {
        if let Some(dir) = self.0.take() {
            // The path now names the restored target; only forget it.
            let _ = dir.keep();
        }
    }
}

impl Scratch {
    /// Removes the directory now and says whether that worked.
    pub fn close(mut self) -> io::Result<()> {
        match self.0.take() {
            Some(dir) => remove_scratch(dir),
            None => Ok(()),
        }
    }
}

fn remove_scratch(dir: tempfile::TempDir) -> io::Result<()> {
    for entry in walkdir::WalkDir::new(dir.path())
        .follow_links(false)
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_dir() {
            let _ = fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o700));
        }
    }
    dir.close()
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some(dir) = self.0.take() else { return };
        if let Err(e) = remove_scratch(dir) {
            common::runner::warn(
                crate::TOOL,
                format!("could not remove a temporary restore: {e}"),
            );
        }
    }
}

/// A hidden sibling of the (empty, existing) target to restore into, or
/// `None` when renaming it over the target could not work, would change
/// the target's owner or would surprise: the target is `/`, a mount point
/// or the working directory, its parent is not writable, or its owner
/// differs from ours.
fn staging_for(target: &Path) -> Option<(Scratch, PathBuf, fs::Permissions)> {
    use std::os::unix::fs::MetadataExt;
    let target = fs::canonicalize(target).ok()?;
    // Renaming over the working directory would leave the caller's shell
    // in a deleted directory that looks empty.
    if std::env::current_dir().and_then(fs::canonicalize).ok() == Some(target.clone()) {
        return None;
    }
    let parent = target.parent()?;
    let name = target.file_name()?.to_string_lossy().into_owned();
    let meta = fs::symlink_metadata(&target).ok()?;
    if fs::metadata(parent).ok()?.dev() != meta.dev() {
        return None;
    }
    let dir = tempfile::Builder::new()
        .prefix(&format!(".{name}.restore-"))
        .tempdir_in(parent)
        .ok()?;
    let scratch = Scratch::new(dir);
    let mine = fs::metadata(scratch.path()).ok()?;
    if (mine.uid(), mine.gid()) != (meta.uid(), meta.gid()) {
        return None;
    }
    Some((scratch, target, meta.permissions()))
}

/// Restores `m` into the new or empty directory `to` (prepared by
/// [`prepare_target`]) so that it appears all at once: everything is
/// restored into a hidden sibling, which is renamed over `to` only when
/// complete. A restore that fails part-way leaves `to` empty and removes
/// the sibling. Where a sibling cannot be used (see [`staging_for`]) the
/// restore happens in place.
pub fn restore_staged(
    repo: &Repo,
    m: &Manifest,
    to: &Path,
    allow_outside_links: bool,
    hash_objects: bool,
) -> Result<RestoreReport> {
    let Some((scratch, target, perms)) = staging_for(to) else {
        return restore(repo, m, to, false, allow_outside_links, hash_objects);
    };
    let report = restore(
        repo,
        m,
        scratch.path(),
        false,
        allow_outside_links,
        hash_objects,
    )?;
    fs::set_permissions(scratch.path(), perms).map_err(|e| Error::io(to.display(), e))?;
    // rename(2) replaces an empty directory atomically, and fails if
    // anything was put into `to` meanwhile (nothing of it is lost).
    fs::rename(scratch.path(), &target).map_err(|e| {
        Error::io(to.display(), e).context("moving the finished restore into place")
    })?;
    scratch.keep();
    Ok(report)
}

/// Clears the way for a non-directory at `path`. Something already there
/// is refused unless `force`; with `force` it is kept (the new file is
/// renamed over it) unless `remove`. A directory in the way is an error.
fn clear(path: &Path, force: bool, remove: bool) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Err(Error::new(format!(
            "{}: a directory is in the way of a restored file",
            path.display()
        ))),
        Ok(_) if force && remove => fs::remove_file(path).map_err(|e| Error::io(path.display(), e)),
        Ok(_) if force => Ok(()),
        Ok(_) => Err(Error::new(format!("{}: already exists", path.display()))
            .with_hint("pass --force to overwrite")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path.display(), e)),
    }
}

/// One regular file (or database) to restore.
struct FileJob<'a> {
    /// The name as bytes, and as shown (for messages).
    rel: Cow<'a, [u8]>,
    shown: &'a str,
    sha: &'a str,
    size: u64,
    mode: u32,
    mtime_ns: Option<i64>,
}

/// Copies `src` to `dst`, returning the sha256 and length of what was copied.
fn copy_hashing(
    src: &mut fs::File,
    dst: &mut fs::File,
    object: &Path,
    path: &Path,
) -> Result<(String, u64)> {
    use sha2::Digest;
    use std::io::{Read, Write};
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut copied = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(object.display(), e)),
        };
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])
            .map_err(|e| Error::io(path.display(), e))?;
        copied += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), copied))
}

/// Where a restored file is written: straight to its name in a clean
/// target, or (with `force`) to a temporary name in the same directory that
/// is renamed over the old file only once complete, so a failure (a full
/// disk, a damaged object) keeps the old file whole.
enum Dest {
    Direct(fs::File),
    Replace(tempfile::NamedTempFile),
}

impl Dest {
    fn open(path: &Path, force: bool) -> Result<Dest> {
        clear(path, force, false)?;
        if force {
            let dir = path.parent().unwrap_or(Path::new("."));
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // tempfile creates with O_EXCL (never through a planted link).
            let tmp = tempfile::Builder::new()
                .prefix(&format!(".{name}."))
                .suffix(".restore-tmp")
                .permissions(fs::Permissions::from_mode(0o600))
                .tempfile_in(dir)
                .map_err(|e| Error::io(path.display(), e))?;
            return Ok(Dest::Replace(tmp));
        }
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(path)
            .map(Dest::Direct)
            .map_err(|e| Error::io(path.display(), e))
    }

    fn file(&mut self) -> &mut fs::File {
        match self {
            Dest::Direct(f) => f,
            Dest::Replace(t) => t.as_file_mut(),
        }
    }

    /// Puts the finished file under its name (durable before the rename,
    /// so a crash leaves the old file or the new one).
    fn finish(self, path: &Path) -> Result<()> {
        match self {
            Dest::Direct(_) => Ok(()),
            Dest::Replace(t) => {
                t.as_file()
                    .sync_data()
                    .map_err(|e| Error::io(path.display(), e))?;
                t.persist(path)
                    .map(drop)
                    .map_err(|e| Error::io(path.display(), e.error))
            }
        }
    }
}

fn restore_file(
    repo: &Repo,
    to: &Path,
    job: &FileJob<'_>,
    force: bool,
    hash_objects: bool,
) -> Result<u64> {
    let FileJob {
        ref rel,
        shown: rel_shown,
        sha,
        size,
        mode,
        mtime_ns,
    } = *job;
    let path = join(to, rel)?;
    let object = repo.object_path(sha);
    // An "object" that is a symlink planted in a hostile repository must
    // not make us copy some other file of this machine, nor a FIFO hang us.
    let mut src = repo
        .open_object(sha)
        .map_err(|e| Error::io(object.display(), e).context(format!("restoring {rel_shown}")))?;
    let mut dest = Dest::open(&path, force)?;
    let dst = dest.file();
    let copied = if hash_objects {
        let (have, copied) = copy_hashing(&mut src, dst, &object, &path)?;
        if copied == size && have != sha {
            return Err(Error::new(format!(
                "{}: object hashes to {have}: the repository is damaged (restoring {rel_shown})",
                object.display()
            ))
            .with_hint("run `backup-drill check --repo DIR --read-data`"));
        }
        copied
    } else {
        // In-kernel copy; the caller verifies the restored files.
        io::copy(&mut src, dst).map_err(|e| Error::io(path.display(), e))?
    };
    if copied != size {
        return Err(Error::new(format!(
            "{}: object has {copied} bytes, manifest says {size}: the repository is damaged",
            object.display()
        ))
        .with_hint("run `backup-drill check --repo DIR --read-data`"));
    }
    dst.set_permissions(fs::Permissions::from_mode(mode & MODE_MASK))
        .map_err(|e| Error::io(path.display(), e))?;
    if let Some(at) = mtime_ns.and_then(system_time) {
        dst.set_modified(at)
            .map_err(|e| Error::io(path.display(), e))?;
    }
    dest.finish(&path)?;
    Ok(copied)
}

/// A recorded mtime (ns since 1970, before it when negative) as a time.
pub fn system_time(ns: i64) -> Option<SystemTime> {
    let since = Duration::from_nanos(ns.unsigned_abs());
    if ns >= 0 {
        UNIX_EPOCH.checked_add(since)
    } else {
        UNIX_EPOCH.checked_sub(since)
    }
}

/// Replaces whatever non-directory is at `path` by a symlink: with `force`
/// the link is made under a temporary name and renamed over it.
fn restore_link(path: &Path, target: &Path, force: bool) -> Result<()> {
    clear(path, force, false)?;
    let exists = fs::symlink_metadata(path).is_ok();
    if !exists {
        return std::os::unix::fs::symlink(target, path)
            .map_err(|err| Error::io(path.display(), err));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for n in 0..100u32 {
        let tmp = dir.join(format!(".{name}.{}.{n}.restore-tmp", std::process::id()));
        match std::os::unix::fs::symlink(target, &tmp) {
            Ok(()) => {
                return fs::rename(&tmp, path).map_err(|e| {
                    let _ = fs::remove_file(&tmp);
                    Error::io(path.display(), e)
                })
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(path.display(), e)),
        }
    }
    Err(Error::new(format!(
        "{}: no free temporary name for the link",
        path.display()
    )))
}

/// Restores `m` into `to` (already prepared by [`prepare_target`]). With
/// `hash_objects` every object is hashed as it is copied and one that does
/// not match its name fails the restore (a damaged repository must not give
/// a silently wrong file); without, the caller verifies the restored tree.
pub fn restore(
    repo: &Repo,
    m: &Manifest,
    to: &Path,
    force: bool,
    allow_outside_links: bool,
    hash_objects: bool,
) -> Result<RestoreReport> {
    let started = Instant::now();
    let name = format!("snapshot {}", m.header.id);
    if !allow_outside_links {
        // (name, target) of every link, as bytes.
        let named: Vec<_> = m
            .entries
            .iter()
            .filter(|e| e.kind == EntryType::Symlink)
            .map(|e| (e.name(), e.target_name().unwrap_or_default()))
            .collect();
        let links: HashMap<&[u8], &[u8]> = named
            .iter()
            .map(|(l, t)| (l.as_ref(), t.as_ref()))
            .collect();
        let shown = m.entries.iter().filter(|e| e.kind == EntryType::Symlink);
        for ((link, target), e) in named.iter().zip(shown) {
            if !link_resolves_inside(link, target, &links) {
                let target = e.target.as_deref().unwrap_or("");
                return Err(Error::new(format!(
                    "{name}: symlink {} -> {target} leaves the restore directory; refusing it",
                    e.path
                ))
                .with_hint("pass --allow-outside-links to restore such links (never followed)"));
            }
        }
    }
    // Directories first, in manifest order (parents before children),
    // writable by us while they are filled. Those that were already there
    // get their own mode back if the restore fails.
    // By the entry's index in the manifest.
    let mut existed: HashMap<usize, u32> = HashMap::new();
    let dirs = || {
        m.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == EntryType::Dir)
    };
    for (i, e) in dirs() {
        let path = join(to, &e.name())?;
        let filling = match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                let mode = meta.mode() & 0o7777;
                existed.insert(i, mode);
                mode | 0o700
            }
            Ok(_) => {
                clear(&path, force, true)?;
                fs::create_dir(&path).map_err(|e| Error::io(path.display(), e))?;
                0o700
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&path).map_err(|e| Error::io(path.display(), e))?;
                0o700
            }
            Err(err) => return Err(Error::io(path.display(), err)),
        };
        if existed.get(&i) != Some(&filling) {
            fs::set_permissions(&path, fs::Permissions::from_mode(filling))
                .map_err(|e| Error::io(path.display(), e))?;
        }
    }
    let filled = fill(repo, m, to, force, hash_objects);
    // Deepest first, so a read-only parent does not block its children.
    for (i, e) in dirs().rev() {
        let mode = match (&filled, existed.get(&i)) {
            (Err(_), Some(mode)) => *mode,
            _ => e.mode.unwrap_or(0o700) & DIR_MODE_MASK,
        };
        let set = join(to, &e.name()).and_then(|path| {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                .map_err(|err| Error::io(path.display(), err))
        });
        if filled.is_ok() {
            set?;
        }
    }
    let (files, bytes) = filled?;
    Ok(RestoreReport {
        files,
        bytes,
        duration_ms: common::clock::ms(started.elapsed()),
    })
}

/// Restores every file and link of `m` into the prepared directories;
/// returns (files, bytes).
fn fill(
    repo: &Repo,
    m: &Manifest,
    to: &Path,
    force: bool,
    hash_objects: bool,
) -> Result<(u64, u64)> {
    let files: Vec<FileJob<'_>> = m
        .entries
        .iter()
        .filter(|e| e.kind == EntryType::File)
        .map(|e| FileJob {
            rel: e.name(),
            shown: &e.path,
            sha: e.sha256.as_deref().unwrap_or(""),
            size: e.size.unwrap_or(0),
            mode: e.mode.unwrap_or(0o600),
            mtime_ns: e.mtime_ns,
        })
        .chain(m.databases.iter().map(|d| FileJob {
            rel: Cow::Borrowed(d.path.as_bytes()),
            shown: &d.path,
            sha: &d.sha256,
            size: d.size,
            mode: d.mode,
            mtime_ns: None,
        }))
        .collect();
    let bytes: Vec<u64> = files
        .par_iter()
        .map(|job| {
            if common::interrupt::requested() {
                return Err(Error::new("interrupted"));
            }
            restore_file(repo, to, job, force, hash_objects)
        })
        .collect::<Result<_>>()?;
    for e in m.entries.iter().filter(|e| e.kind == EntryType::Symlink) {
        // The parent must not pass through a link; the last component may
        // be a link already (a previous restore of the same tree), which
        // --force replaces without following it.
        let path = join_parent(to, &e.name())?;
        let target = e.target_name().unwrap_or_default();
        restore_link(&path, as_path(&target), force)?;
    }
    Ok((files.len() as u64, bytes.iter().sum()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(link: &str, target: &str, links: &[(&str, &str)]) -> bool {
        let map: HashMap<&[u8], &[u8]> = links
            .iter()
            .map(|(l, t)| (l.as_bytes(), t.as_bytes()))
            .collect();
        link_resolves_inside(link.as_bytes(), target.as_bytes(), &map)
    }

    #[test]
    fn links_are_resolved_through_other_links() {
        assert!(inside("data/l", "a.txt", &[]));
        assert!(inside("data/l", "../other/x", &[]));
        assert!(inside("data/l", "..", &[]));
        assert!(!inside("data/l", "../..", &[]));
        assert!(!inside("data/l", "/etc/passwd", &[]));
        // Each looks inside on its own; together they escape.
        let chain = [("data/up", ".."), ("data/esc", "up/..")];
        assert!(inside("data/up", "..", &chain));
        assert!(!inside("data/esc", "up/..", &chain));
        let deep = [("data/a/b", "../.."), ("data/c", "a/b/..")];
        assert!(!inside("data/c", "a/b/..", &deep));
        // Through a link to an absolute path.
        let abs = [("data/abs", "/"), ("data/via", "abs/etc")];
        assert!(!inside("data/via", "abs/etc", &abs));
        // Links into a linked directory stay inside.
        let ok = [("data/d", "sub"), ("data/f", "d/../d/x")];
        assert!(inside("data/f", "d/../d/x", &ok));
        // A loop resolves nowhere, so it cannot leave.
        let lp = [("data/a", "b"), ("data/b", "a")];
        assert!(inside("data/a", "b", &lp));
    }

    /// Random small sets of links, made for real on disk, judged against
    /// the kernel's own resolution (`canonicalize`): whenever the kernel
    /// resolves a link outside the root, the resolver must say so too.
    #[test]
    fn resolver_agrees_with_the_kernel() {
        #![allow(clippy::unwrap_used)]
        const NAMES: [&str; 4] = ["a", "b", "sub", "data"];
        const LINKS: [&str; 3] = ["data/a", "data/b", "data/sub/b"];
        const PARTS: [&str; 6] = ["..", "..", ".", "a", "b", "sub"];
        // Every name a directory, three levels deep, inside and outside the
        // root, so most targets exist and canonicalize can judge them.
        fn tree(dir: &Path, depth: u32) {
            if depth == 0 {
                return;
            }
            for n in NAMES {
                let d = dir.join(n);
                fs::create_dir_all(&d).unwrap();
                tree(&d, depth - 1);
            }
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut judged = 0;
        let mut false_refusals = 0;
        let tmp = tempfile::tempdir().unwrap();
        let outer = tmp.path().join("outer");
        tree(&outer, 4);
        let root = fs::canonicalize(outer.join("data")).unwrap();
        for _ in 0..300 {
            let mut set: Vec<(&str, String)> = Vec::new();
            for link in LINKS {
                if next(3) == 0 {
                    continue;
                }
                let len = 1 + next(4);
                let target: Vec<&str> = (0..len).map(|_| PARTS[next(PARTS.len())]).collect();
                set.push((link, target.join("/")));
            }
            // The directory at a link's place is moved aside (one rename,
            // not a tree to delete and rebuild) and put back afterwards.
            let stash = tmp.path().join("stash");
            fs::create_dir_all(&stash).unwrap();
            for (i, (link, target)) in set.iter().enumerate() {
                let path = root.join(link);
                fs::rename(&path, stash.join(i.to_string())).unwrap();
                std::os::unix::fs::symlink(target, &path).unwrap();
            }
            let map: HashMap<&[u8], &[u8]> = set
                .iter()
                .map(|(l, t)| (l.as_bytes(), t.as_bytes()))
                .collect();
            for (link, target) in &set {
                // Missing paths and loops: the kernel cannot follow them out.
                let Ok(real) = fs::canonicalize(root.join(link)) else {
                    continue;
                };
                judged += 1;
                let kernel_inside = real.starts_with(&root);
                let ours = link_resolves_inside(link.as_bytes(), target.as_bytes(), &map);
                false_refusals += u32::from(kernel_inside && !ours);
                assert!(
                    kernel_inside || !ours,
                    "{link} -> {target} with {set:?}: kernel {real:?}, resolver says inside"
                );
            }
            // Back to plain directories for the next round.
            for (i, (link, _)) in set.iter().enumerate() {
                let path = root.join(link);
                fs::remove_file(&path).unwrap();
                fs::rename(stash.join(i.to_string()), &path).unwrap();
            }
        }
        assert!(judged > 150, "only {judged} links could be judged");
        assert!(
            false_refusals * 10 <= judged,
            "{false_refusals} of {judged} refused though inside"
        );
    }
}
