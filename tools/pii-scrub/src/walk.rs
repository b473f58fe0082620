//! Which inputs to read: paths, and directory walks with `ignore`.
//!
//! Walks are sorted by name, so reports come out in the same order on every
//! run; hidden files are included (a leak in `.env.log` is still a leak), and
//! so are files that `.gitignore`/`.ignore` exclude unless `--respect-ignore`
//! asks otherwise: a log directory's own `*.log` rule once hid every log from
//! `--check`, which then passed.
//!
//! Symlinks in trees are followed (k8s' `/var/log/containers/*.log` are
//! links into `/var/log/pods`; skipping them let `--check` pass on a tree of
//! links): a link to a regular file is read, a link to a directory is walked
//! after the tree it is in, and one that cannot be read (dangling, a loop of
//! links, a FIFO or device such as `/dev/stdout`) is an error naming it, as
//! is a FIFO, socket or device in the tree itself. Each file (device and
//! inode) is read once, under its own name when the tree holds it, and each
//! directory walked once; a link to a directory holding it is a loop.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use ignore::overrides::{Override, OverrideBuilder};
use ignore::WalkBuilder;

use common::{Error, Result};

/// One input to scrub.
#[derive(Debug, Clone)]
pub struct Source {
    /// `-` for stdin, else the path as found (lossy UTF-8: for messages
    /// and records).
    pub path: String,
    /// What to open: the path itself, whose name need not be UTF-8.
    pub file: PathBuf,
    /// Its place under `--out-dir`.
    pub rel: PathBuf,
    /// The symlinked directory of a tree it was found through:
    /// `--in-place` never writes there.
    pub via_link: Option<String>,
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Found {
    pub sources: Vec<Source>,
    /// Entries not read because the same file or directory was read under
    /// another name (a link to it, a hard link), or a link loop.
    pub skipped: u64,
    /// Symlinks met in trees (followed, or an error when they could not be).
    pub symlinks: u64,
    /// Regular files the ignore rules hid (counted only with `respect_ignore`).
    pub ignored: u64,
    /// Tree entries `--glob`s left out (a trial's `--glob '*.log'` left
    /// out app.log.1 and app.log.2.gz, and no figure said so).
    pub excluded: Vec<String>,
    pub errors: Vec<Error>,
}

/// A file found, before duplicates are dropped.
struct Candidate {
    source: Source,
    /// Device and inode of a regular file (stdin and FIFOs have none).
    id: Option<(u64, u64)>,
    /// Found through a symlink: another name for it is preferred.
    linked: bool,
    /// What the entry's own symlink says, for messages.
    target: Option<String>,
}

/// Expands the command-line paths into files.
pub fn discover(paths: &[String], globs: &[String], respect_ignore: bool) -> Result<Found> {
    let mut found = Found::default();
    let mut walk = Walk {
        respect_ignore,
        candidates: Vec::new(),
        dirs: HashSet::new(),
        queue: VecDeque::new(),
    };
    for p in paths {
        if p == "-" {
            walk.candidates.push(Candidate {
                source: Source {
                    path: p.clone(),
                    file: PathBuf::from(p),
                    rel: PathBuf::from("stdin"),
                    via_link: None,
                },
                id: None,
                linked: false,
                target: None,
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
            // Named on the command line: read whatever it is (`<(zcat x)` is a pipe).
            let rel = Path::new(p)
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(p));
            walk.candidates.push(Candidate {
                source: Source {
                    path: p.clone(),
                    file: PathBuf::from(p),
                    rel,
                    via_link: None,
                },
                id: meta.is_file().then(|| (meta.dev(), meta.ino())),
                linked: false,
                target: None,
            });
            continue;
        }
        let overrides = overrides(p, globs)?;
        walk.queue.push_back((p.clone(), None));
        while let Some((dir, via_link)) = walk.queue.pop_front() {
            walk.tree(p, &dir, via_link, &overrides, &mut found);
        }
        if !globs.is_empty() {
            walk.excluded(p, &overrides, &mut found);
        }
    }
    // Never our own output: a link to /dev/stdout with stdout sent to a
    // file read back what the run wrote, and a filter fed itself forever.
    let own = own_outputs();
    walk.candidates.retain(|c| {
        let Some((_, which)) = own.iter().find(|(id, _)| c.id == Some(*id)) else {
            return true;
        };
        let via = c
            .target
            .as_ref()
            .map(|t| format!(" symlink to {t}:"))
            .unwrap_or_default();
        found.errors.push(
            Error::new(format!(
                "{}:{via} this run's own {which}: not read",
                c.source.path
            ))
            .with_hint(format!(
                "send the {which} outside the tree, or leave it out with --glob '!NAME'"
            )),
        );
        false
    });
    // Each file once: under a name that is not a link when there is one
    // (`--in-place` rewrites it there), else the first.
    let mut chosen: HashMap<(u64, u64), usize> = HashMap::new();
    for (i, c) in walk.candidates.iter().enumerate() {
        if let Some(id) = c.id {
            let keep = chosen.entry(id).or_insert(i);
            if walk.candidates[*keep].linked && !c.linked {
                *keep = i;
            }
        }
    }
    for (i, c) in walk.candidates.into_iter().enumerate() {
        match c.id {
            Some(id) if chosen.get(&id) != Some(&i) => found.skipped += 1,
            _ => found.sources.push(c.source),
        }
    }
    Ok(found)
}

/// Device and inode of this process's stdout and stderr where they are
/// regular files.
fn own_outputs() -> Vec<((u64, u64), &'static str)> {
    use std::os::fd::AsFd;
    [
        (std::io::stdout().as_fd().try_clone_to_owned(), "stdout"),
        (std::io::stderr().as_fd().try_clone_to_owned(), "stderr"),
    ]
    .into_iter()
    .filter_map(|(fd, which)| Some((fs::File::from(fd.ok()?).metadata().ok()?, which)))
    .filter(|(m, _)| m.is_file())
    .map(|(m, which)| ((m.dev(), m.ino()), which))
    .collect()
}

fn overrides(root: &str, globs: &[String]) -> Result<Override> {
    let mut builder = OverrideBuilder::new(root);
    for g in globs {
        builder
            .add(g)
            .map_err(|e| Error::usage(format!("--glob '{g}': {e}")))?;
    }
    builder
        .build()
        .map_err(|e| Error::usage(format!("--glob: {e}")))
}

/// State shared by the walks of every tree on the command line.
struct Walk {
    respect_ignore: bool,
    candidates: Vec<Candidate>,
    /// Directories walked (device, inode).
    dirs: HashSet<(u64, u64)>,
    /// Linked directories still to walk, and the link they are reached by.
    queue: VecDeque<(String, Option<String>)>,
}

impl Walk {
    /// Counts the entries of the tree `root` that its `--glob`s left out: a
    /// walk without them, less what the walk with them met. Not through
    /// linked directories (each is a tree of its own, walked with the globs).
    fn excluded(&self, root: &str, globs: &Override, found: &mut Found) {
        let met: HashSet<PathBuf> = walker(root, globs.clone(), self.respect_ignore)
            .filter_map(|e| e.ok())
            .filter(|e| e.depth() > 0 && !e.file_type().is_some_and(|t| t.is_dir()))
            .map(|e| e.into_path())
            .collect();
        found.excluded.extend(
            walker(root, Override::empty(), self.respect_ignore)
                .filter_map(|e| e.ok())
                .filter(|e| e.depth() > 0 && !e.file_type().is_some_and(|t| t.is_dir()))
                .filter(|e| !met.contains(e.path()))
                .map(|e| e.path().display().to_string()),
        );
    }

    /// Walks `dir` (the tree `root`, or a linked directory in it).
    fn tree(
        &mut self,
        root: &str,
        dir: &str,
        via_link: Option<String>,
        overrides: &Override,
        found: &mut Found,
    ) {
        match fs::metadata(dir) {
            Ok(m) => {
                if !self.dirs.insert((m.dev(), m.ino())) {
                    // The same directory by another link: its files are read.
                    found.skipped += 1;
                    return;
                }
            }
            Err(e) => {
                found.errors.push(Error::io(dir, e));
                return;
            }
        }
        // With the rules honoured, what they hid is counted, so a summary
        // shows it was not read.
        let hidden_by_rules = if self.respect_ignore {
            walker(dir, overrides.clone(), false)
                .filter_map(|e| e.ok())
                .filter(|e| e.depth() > 0 && !e.file_type().is_some_and(|t| t.is_dir()))
                .count() as u64
        } else {
            0
        };
        let mut seen = 0;
        for entry in walker(dir, overrides.clone(), self.respect_ignore) {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    found.errors.push(Error::new(format!("{dir}: {e}")));
                    continue;
                }
            };
            let Some(ft) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            let name = path.display().to_string();
            if entry.depth() == 0 {
                continue;
            }
            if ft.is_dir() {
                if let Ok(m) = fs::metadata(path) {
                    self.dirs.insert((m.dev(), m.ino()));
                }
                continue;
            }
            seen += 1;
            let rel = path
                .strip_prefix(root)
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let source = |via_link: Option<String>| Source {
                path: name.clone(),
                file: path.to_path_buf(),
                rel,
                via_link,
            };
            if ft.is_symlink() {
                found.symlinks += 1;
                let target = fs::read_link(path)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                match fs::metadata(path) {
                    Err(e) => found.errors.push(Error::io(
                        format!("{name}: symlink to {target}: cannot follow it"),
                        e,
                    )),
                    Ok(m) if m.is_file() => self.candidates.push(Candidate {
                        source: source(via_link.clone()),
                        id: Some((m.dev(), m.ino())),
                        linked: true,
                        target: Some(target),
                    }),
                    Ok(m) if m.is_dir() => {
                        if holds(path) {
                            found.skipped += 1;
                        } else {
                            self.queue
                                .push_back((name.clone(), Some(via_link.clone().unwrap_or(name))));
                        }
                    }
                    Ok(m) => found.errors.push(
                        Error::new(format!(
                            "{name}: symlink to {target}, {}, not a regular file: not read",
                            kind(m.file_type())
                        ))
                        .with_hint(UNREAD_HINT),
                    ),
                }
            } else if ft.is_file() {
                let id = fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()));
                self.candidates.push(Candidate {
                    source: source(via_link.clone()),
                    id,
                    linked: via_link.is_some(),
                    target: None,
                });
            } else {
                found.errors.push(
                    Error::new(format!(
                        "{name}: {}, not a regular file: not read",
                        kind(ft)
                    ))
                    .with_hint(UNREAD_HINT),
                );
            }
        }
        if self.respect_ignore {
            found.ignored += hidden_by_rules.saturating_sub(seen);
        }
    }
}

const UNREAD_HINT: &str = "what is written there is not in the tree: check it where it goes (e.g. docker logs NAME 2>&1 | pii-scrub --check -)";

/// True when the directory `link` points to holds the link itself: a loop
/// (`.`, `..`, `/`), whose files are read, or left out on purpose, anyway.
fn holds(link: &Path) -> bool {
    let (Ok(target), Some(Ok(parent))) =
        (fs::canonicalize(link), link.parent().map(fs::canonicalize))
    else {
        return false;
    };
    parent.starts_with(target)
}

/// What a file that is not a regular file or directory is, for messages.
pub fn kind(ft: fs::FileType) -> &'static str {
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() || ft.is_block_device() {
        "a device"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symlink"
    } else {
        "special"
    }
}

/// A sorted walk of `root` that never follows links (they are entries of
/// their own) or enters `.git`; ignore files are honoured only when
/// `respect_ignore` is set. `--glob`s are applied here rather than as the
/// walker's overrides, which judge a link to a directory as a file (a
/// `*.log` glob hid every linked directory).
fn walker(root: &str, globs: Override, respect_ignore: bool) -> ignore::Walk {
    WalkBuilder::new(root)
        .hidden(false)
        .ignore(respect_ignore)
        .git_ignore(respect_ignore)
        .git_global(respect_ignore)
        .git_exclude(respect_ignore)
        .parents(respect_ignore)
        .require_git(false)
        .follow_links(false)
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            let is_dir = e
                .file_type()
                .is_some_and(|t| t.is_dir() || (t.is_symlink() && e.path().is_dir()));
            !globs.matched(e.path(), is_dir).is_ignore()
        })
        .sort_by_file_name(|a, b| a.cmp(b))
        .build()
}
