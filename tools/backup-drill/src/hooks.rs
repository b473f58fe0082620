//! Hooks: shell commands that back up, restore or verify systems we cannot
//! copy ourselves (`pg_dump`, restic, a team's script), run with the paths in
//! documented environment variables so the drill still times and judges them.
//!
//! A hook's stdout goes to our stderr: stdout carries only our records.
//!
//! Each hook runs as a process group of its own (common::process_group):
//! what it leaves running in the background is killed when it exits, and
//! on SIGINT/SIGTERM the whole group is killed at once, so no `pg_dump`
//! or restore script outlives an interrupted drill.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::process_group::{Ended, GroupChild};
use common::{Error, Result};

/// The environment a hook sees (unset fields are not exported).
#[derive(Debug, Default, Clone)]
pub struct HookEnv {
    pub repo: PathBuf,
    pub snapshot: String,
    /// backup-cmd: the empty directory to write the dump into.
    pub out: Option<PathBuf>,
    /// restore-cmd, verify-cmd: the restore target.
    pub target: Option<PathBuf>,
    /// restore-cmd, verify-cmd: the restored dump (TARGET/hook).
    pub input: Option<PathBuf>,
}

#[derive(Debug)]
pub struct HookRun {
    pub ok: bool,
    /// `exit status 3`, `killed by signal 9`, ...
    pub status: String,
    pub duration_ms: f64,
}

/// Runs `cmd` with `sh -c` and waits for it.
pub fn run(name: &str, cmd: &str, env: &HookEnv) -> Result<HookRun> {
    let started = Instant::now();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .env("BACKUP_DRILL_REPO", &env.repo)
        .env("BACKUP_DRILL_SNAPSHOT", &env.snapshot);
    for (key, value) in [
        ("BACKUP_DRILL_OUT", &env.out),
        ("BACKUP_DRILL_TARGET", &env.target),
        ("BACKUP_DRILL_IN", &env.input),
    ] {
        match value {
            Some(v) => command.env(key, v),
            None => command.env_remove(key),
        };
    }
    let mut child = GroupChild::spawn(&mut command)
        .map_err(|e| Error::io(format!("{name}: sh -c {cmd:?}"), e))?;
    // The hook's group does not get the terminal's Ctrl-C (it is not the
    // foreground group): on an interrupt we end it. The caller writes the
    // failed step, then sees the interrupt.
    let (status, interrupted) = match child
        .wait_until(None)
        .map_err(|e| Error::io(format!("{name}: sh -c {cmd:?}"), e))?
    {
        Ended::Exited(e) | Ended::TimedOut(e) => (e.status, false),
        Ended::Interrupted(e) => (e.status, true),
    };
    let text = match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "unknown status".to_string(),
    };
    let text = if interrupted {
        format!("interrupted ({text})")
    } else {
        text
    };
    Ok(HookRun {
        ok: status.success(),
        status: text,
        duration_ms: common::clock::ms(started.elapsed()),
    })
}
