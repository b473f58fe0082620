//! The `--pidfile`: which process it names, and whether that process may be
//! taken for the service's main process.
//!
//! A pidfile left by an earlier run, or one naming a stranger, must never
//! make cycle-check signal or time the wrong process; and a pidfile that is
//! never written is a finding of its own, reported with what was found
//! instead (nothing, garbage, a dead pid, a stranger's pid).

use std::path::Path;
use std::time::SystemTime;

use crate::procfs;

/// What the pidfile says right now.
#[derive(Debug, PartialEq, Eq)]
pub enum Reading {
    /// It names `pid`, a live process that may be the service's main process.
    Main(i32),
    /// Not (yet) usable; the text says why, for the record.
    Unusable(String),
}

/// The pid in a pidfile's text: a number above 1, surrounded by white space.
pub fn parse(text: &str) -> Option<i32> {
    text.trim().parse::<i32>().ok().filter(|p| *p > 1)
}

/// Reads `path` and judges the pid in it. `started`: the process cycle-check
/// started (a foreground service may name itself). `ours`: whether a pid is
/// cycle-check's descendant. `may_be_foreign`: with --start-cmd, a process
/// that is not ours (started by a service manager) is accepted when the file
/// was written during this cycle (after `since`).
pub fn read(
    path: &Path,
    started: i32,
    since: SystemTime,
    may_be_foreign: bool,
    ours: impl Fn(i32) -> bool,
) -> Reading {
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Reading::Unusable("not written".to_string())
        }
        Err(e) => return Reading::Unusable(format!("unreadable ({e})")),
    };
    let text = String::from_utf8_lossy(&text);
    let Some(pid) = parse(&text) else {
        let shown: String = text.trim().chars().take(40).collect();
        return Reading::Unusable(format!("holds {shown:?}, not a pid"));
    };
    if procfs::stat(pid).is_none_or(|p| p.is_zombie()) {
        return Reading::Unusable(format!("names pid {pid}, which is not running"));
    }
    if pid == started || ours(pid) {
        return Reading::Main(pid);
    }
    let fresh = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= since);
    if may_be_foreign && fresh {
        return Reading::Main(pid);
    }
    Reading::Unusable(format!(
        "names pid {pid}, which is not a process of the service{}",
        if may_be_foreign && !fresh {
            " (and was not written during this cycle)"
        } else {
            ""
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_in_pidfiles() {
        assert_eq!(parse("123\n"), Some(123));
        assert_eq!(parse("  77 "), Some(77));
        assert_eq!(parse("1"), None, "init is never a service");
        assert_eq!(parse("0"), None);
        assert_eq!(parse("-5"), None);
        assert_eq!(parse("12 13"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("99999999999"), None);
    }

    #[test]
    fn what_a_pidfile_may_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pid");
        let me = std::process::id() as i32;
        let long_ago = SystemTime::UNIX_EPOCH;
        let never = |_| false;
        assert_eq!(
            read(&path, 5, long_ago, true, never),
            Reading::Unusable("not written".into())
        );
        std::fs::write(&path, "hello").unwrap();
        assert_eq!(
            read(&path, 5, long_ago, true, never),
            Reading::Unusable("holds \"hello\", not a pid".into())
        );
        std::fs::write(&path, format!("{me}\n")).unwrap();
        assert_eq!(read(&path, me, long_ago, false, never), Reading::Main(me));
        assert_eq!(
            read(&path, 5, long_ago, false, |p| p == me),
            Reading::Main(me)
        );
        assert_eq!(
            read(&path, 5, long_ago, false, never),
            Reading::Unusable(format!(
                "names pid {me}, which is not a process of the service"
            ))
        );
        // --start-cmd: a fresh pidfile may name a process that is not ours.
        assert_eq!(read(&path, 5, long_ago, true, never), Reading::Main(me));
        let future = SystemTime::now() + std::time::Duration::from_secs(3600);
        assert_eq!(
            read(&path, 5, future, true, never),
            Reading::Unusable(format!(
                "names pid {me}, which is not a process of the service (and was not written during this cycle)"
            ))
        );
    }
}
