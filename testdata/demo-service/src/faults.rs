//! The process faults: children that a careless service leaves behind.
//!
//! Each is forked from `main` before the tokio runtime starts, so the process
//! has exactly one thread at `fork()` and the child may run ordinary code.
//! Children that must outlive the service detach the way daemons do: a new
//! session (so a signal to the service's process group misses them) and
//! stdio on /dev/null (so they do not hold a supervisor's pipes open).

use std::ffi::CStr;
use std::time::Duration;

use nix::sys::signal::{signal, SigHandler, Signal};
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag};
use nix::unistd::{fork, setsid, ForkResult, Pid};

fn fork_error(what: &str, err: nix::Error) -> common::Error {
    common::Error::io(what, std::io::Error::from(err))
}

/// Forks; in the child runs `child` and exits with `_exit`, never returning.
fn fork_child(what: &str, child: impl FnOnce()) -> common::Result<Pid> {
    // SAFETY: called from `main` before any other thread exists (the tokio
    // runtime is built later), so the child is a full copy of a single-threaded
    // process and may allocate and call libc freely; it leaves through `_exit`
    // so no destructor or atexit handler of the parent runs twice.
    match unsafe { fork() } {
        Ok(ForkResult::Parent { child }) => Ok(child),
        Ok(ForkResult::Child) => {
            child();
            // SAFETY: `_exit` is always safe to call; it never returns.
            unsafe { nix::libc::_exit(0) }
        }
        Err(e) => Err(fork_error(what, e)),
    }
}

/// Detaches the calling child like a daemon and names it for `ps`.
fn detach(name: &CStr) {
    let _ = setsid();
    // The service's own SIGTERM/SIGINT handlers mean nothing here.
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: installing SIG_DFL runs no code of ours in a signal context.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
    let _ = nix::sys::prctl::set_name(name);
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        use std::os::fd::AsRawFd;
        for fd in 0..=2 {
            let _ = nix::unistd::dup2(null.as_raw_fd(), fd);
        }
    }
}

/// A pipe on which a detached child reports its pid once it has detached,
/// so the service announces a fault only when it is fully in place.
fn report_pipe() -> common::Result<(std::fs::File, std::fs::File)> {
    let (reader, writer) = nix::unistd::pipe().map_err(|e| fork_error("pipe", e))?;
    Ok((std::fs::File::from(reader), std::fs::File::from(writer)))
}

/// In the child: detach, then tell the parent our pid.
fn detach_and_report(name: &CStr, writer: &std::fs::File) {
    use std::io::Write;
    detach(name);
    let _ = (&*writer).write_all(&std::process::id().to_le_bytes());
}

/// Reads the pid a child reported (fails if it died first).
fn read_report(reader: std::fs::File, what: &str) -> common::Result<i32> {
    use std::io::Read;
    let mut buf = [0u8; 4];
    let mut reader = reader;
    reader.read_exact(&mut buf).map_err(|e| {
        common::Error::io(format!("{what} pid pipe"), e)
            .context(format!("starting the {what} fault"))
    })?;
    Ok(i32::from_le_bytes(buf))
}

/// Double-forks a grandchild that lives on after the service: the classic
/// orphan. Returns the grandchild's pid (the middle child is reaped here).
pub fn spawn_orphan(lifetime: Duration) -> common::Result<i32> {
    let (reader, writer) = report_pipe()?;
    // The child works on a copy of the parent's memory, so borrowing is enough.
    let middle = fork_child("fork (orphan)", || {
        let _ = fork_child("fork (orphan)", || {
            detach_and_report(c"demo-orphan", &writer);
            std::thread::sleep(lifetime);
        });
    })?;
    drop(writer);
    // The middle child is ours to reap; only the grandchild is meant to leak.
    let _ = waitpid(middle, None);
    read_report(reader, "orphan")
}

/// Forks a child that exits at once and is never waited for.
/// Waits until it has exited without reaping it (WNOWAIT), so the zombie
/// exists before the service says it is listening: a supervisor that
/// looks right after the ready line must find it (under load the child
/// was sometimes still running then, and a check passed).
pub fn spawn_zombie() -> common::Result<i32> {
    let pid = fork_child("fork (zombie)", || {})?;
    loop {
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(fork_error("waitid (zombie)", e)),
            Ok(_) => return Ok(pid.as_raw()),
        }
    }
}

/// Forks a detached child that inherits (and so keeps) the listening socket.
pub fn spawn_port_holder(lifetime: Duration) -> common::Result<i32> {
    let (reader, writer) = report_pipe()?;
    fork_child("fork (port holder)", || {
        detach_and_report(c"demo-portholder", &writer);
        std::thread::sleep(lifetime);
    })?;
    drop(writer);
    read_report(reader, "port holder")
}
