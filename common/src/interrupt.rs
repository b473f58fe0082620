//! SIGINT and SIGTERM: one signal ends any tool at any point.
//!
//! The first signal sets a flag that tools poll ([`requested`]) so they stop
//! and still write their summary marked `"interrupted": true`, exiting 130
//! (SIGINT) or 143 (SIGTERM) through [`crate::Outcome::Interrupted`].
//!
//! A tool cannot poll while the kernel holds it: `open()` of a FIFO with no
//! writer blocks, and the handlers restart it (SA_RESTART; std retries EINTR
//! too). So a watchdog thread, woken by the signal through a self-pipe, gives
//! the tool [`GRACE`] to finish; if it has not, the watchdog prints
//! `tool: interrupted` and exits at once with the same status. A second
//! signal exits at once. Either forced exit skips buffered output and
//! destructors, as a kill would: records already flushed stay whole, the
//! summary is missing, and files written atomically are never half-written.
//! Child process groups a tool registered with [`kill_on_forced_exit`] are
//! killed first, so a forced exit leaves no command of ours running.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::error::{Error, Result};

/// How long a tool has, after the first signal, to stop on its own.
pub const GRACE: Duration = Duration::from_secs(1);

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
/// The last signal received (0: none).
static SIGNAL: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
static INSTALLED: OnceLock<()> = OnceLock::new();
static TOOL: OnceLock<&'static str> = OnceLock::new();

/// Something to do just before a forced exit, on the watchdog thread: say,
/// kill the process groups the tool started. Keep it short; it must not wait
/// on the main thread (which may be stuck) or take locks it may hold.
pub type BeforeExit = Box<dyn Fn() + Send + Sync + 'static>;

/// Installs the handlers and the watchdog with the default [`GRACE`]
/// (idempotent). Tools poll [`requested`] in their loops.
pub fn install() -> Result<()> {
    install_with(GRACE, None)
}

/// [`install`] with another grace (a tool whose clean-up after a signal is
/// bounded but longer, e.g. stopping a service) and a hook run before a
/// forced exit. Only the first call in a process takes effect.
pub fn install_with(grace: Duration, before_exit: Option<BeforeExit>) -> Result<()> {
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    let (mut wake, wake_writer) = UnixStream::pair().map_err(|e| Error::io("signal handler", e))?;
    let flag = flag();
    let last = Arc::clone(SIGNAL.get_or_init(|| Arc::new(AtomicUsize::new(0))));
    for signal in [SIGINT, SIGTERM] {
        let writer = wake_writer
            .try_clone()
            .map_err(|e| Error::io("signal handler", e))?;
        // Which signal first, then the wake-up: a second signal ends the
        // process as soon as the watchdog wakes, and the exit status must
        // name that signal (waking first exited 130 for a SIGTERM). The
        // flag last.
        signal_hook::flag::register_usize(signal, Arc::clone(&last), signal as usize)
            .and_then(|_| signal_hook::low_level::pipe::register(signal, writer))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&flag)))
            .map_err(|e| Error::io("signal handler", e))?;
    }
    std::thread::Builder::new()
        .name("interrupt-watchdog".into())
        .spawn(move || {
            // Blocks until the first signal; then the grace, cut short by a second one.
            if wait_for_byte(&mut wake, None) {
                wait_for_byte(&mut wake, Some(Instant::now() + grace));
                if let Some(hook) = &before_exit {
                    hook();
                }
                kill_tracked_groups();
                force_exit(exit_code());
            }
        })
        .map_err(|e| Error::io("signal watchdog", e))?;
    let _ = INSTALLED.set(());
    Ok(())
}

/// Process groups to SIGKILL before a forced exit (0: free slot). Atomics,
/// not a lock: the main thread may be stuck anywhere when the watchdog runs.
static GROUPS: [AtomicI32; 64] = [const { AtomicI32::new(0) }; 64];

/// Registers the process group `pgid` (a child spawned with
/// `process_group(0)`: its pid) to be SIGKILLed if the watchdog forces the
/// exit; until the returned guard drops. The tool's own clean-up on the
/// cooperative path is unchanged. At most 64 groups at once; past that the
/// group is not tracked (a tool never runs that many).
pub fn kill_on_forced_exit(pgid: u32) -> Tracked {
    let Ok(pgid) = i32::try_from(pgid) else {
        return Tracked(None);
    };
    if pgid <= 1 {
        return Tracked(None);
    }
    let slot = GROUPS.iter().position(|g| {
        g.compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    });
    Tracked(slot)
}

/// Keeps a process group registered with [`kill_on_forced_exit`].
#[derive(Debug)]
pub struct Tracked(Option<usize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(slot) = self.0 {
            GROUPS[slot].store(0, Ordering::SeqCst);
        }
    }
}

fn kill_tracked_groups() {
    for group in &GROUPS {
        let pgid = group.load(Ordering::SeqCst);
        if pgid > 1 {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Reads one wake-up byte; false if the pipe failed (then nothing is watched).
/// With a deadline, returns when it passes too.
fn wait_for_byte(wake: &mut UnixStream, deadline: Option<Instant>) -> bool {
    let mut byte = [0u8];
    loop {
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || wake.set_read_timeout(Some(left)).is_err() {
                return false;
            }
        }
        match wake.read(&mut byte) {
            Ok(1) => return true,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Ok(_) | Err(_) => return false,
        }
    }
}

/// Prints `tool: interrupted` and ends the process now, without flushing
/// stdout (a half-written record is worse than a missing one).
fn force_exit(code: u8) -> ! {
    let tool = TOOL.get().copied().map_or_else(argv0_name, str::to_string);
    let message = format!("{tool}: interrupted\n");
    // Stderr may be a full pipe nobody reads: write only if it takes the
    // message now, so nothing can stop the exit.
    let stderr = std::io::stderr();
    let mut fds = [nix::poll::PollFd::new(
        std::os::fd::AsFd::as_fd(&stderr),
        nix::poll::PollFlags::POLLOUT,
    )];
    if nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u8)).is_ok_and(|n| n > 0) {
        let _ = nix::unistd::write(&stderr, message.as_bytes());
    }
    signal_hook::low_level::exit(i32::from(code))
}

fn argv0_name() -> String {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "hardgate".to_string())
}

/// Names the tool in the watchdog's message (the runner does this).
pub(crate) fn set_tool_name(tool: &'static str) {
    let _ = TOOL.set(tool);
}

/// True once SIGINT or SIGTERM has arrived.
pub fn requested() -> bool {
    FLAG.get().is_some_and(|f| f.load(Ordering::Relaxed))
}

/// The shared flag, for code that wants to hand it to threads.
pub fn flag() -> Arc<AtomicBool> {
    Arc::clone(FLAG.get_or_init(|| Arc::new(AtomicBool::new(false))))
}

/// The exit status of an interrupted run: 128 + the signal, so 130 for
/// SIGINT (also when no signal was recorded) and 143 for SIGTERM.
pub fn exit_code() -> u8 {
    let signal = SIGNAL.get().map_or(0, |s| s.load(Ordering::Relaxed));
    match u8::try_from(signal) {
        Ok(n) if n > 0 && n < 128 => 128 + n,
        _ => 130,
    }
}
