//! The main wrapper: run a tool's `run`, print errors as
//! `tool: error: ...`, and turn the outcome into the exit code of docs/DESIGN.md.
//!
//! 0 pass, 1 gate failed, 2 could not do the job, 130/143 interrupted
//! (SIGINT/SIGTERM). A broken pipe on stdout is not an error: the reader
//! stopped listening (`| head`), so we exit quietly with 141, the status a
//! shell reports for SIGPIPE.

use std::io::Write;
use std::panic;
use std::process::ExitCode;

use crate::error::{Error, ErrorKind};
use crate::printer::printable;

/// How a run that did its job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every gate passed, or none was asked: exit 0.
    Pass,
    /// A gate failed, or differences/findings were found: exit 1.
    Fail,
    /// SIGINT or SIGTERM arrived; the partial summary was written: exit 130
    /// or 143 (128 + the signal).
    Interrupted,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Pass => 0,
            Outcome::Fail => 1,
            Outcome::Interrupted => crate::interrupt::exit_code(),
        }
    }

    /// `Pass` if `ok`, else `Fail`.
    pub fn from_pass(ok: bool) -> Self {
        if ok {
            Outcome::Pass
        } else {
            Outcome::Fail
        }
    }
}

/// Exit status when stdout was closed under us.
pub const BROKEN_PIPE_EXIT: u8 = 141;
/// Exit status for "could not do the job".
pub const ERROR_EXIT: u8 = 2;

/// Runs `body` and maps its result to an exit code, printing any error once.
///
/// A panic is a bug, but the user still gets one line, no backtrace, exit 2.
pub fn run(tool: &'static str, body: impl FnOnce() -> Result<Outcome, Error>) -> ExitCode {
    crate::interrupt::set_tool_name(tool);
    panic::set_hook(Box::new(move |info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()));
        let _ = writeln!(
            std::io::stderr(),
            "{tool}: error: internal error: {}{} (this is a bug; please report it)",
            printable(&what),
            place.unwrap_or_default()
        );
    }));
    let result = panic::catch_unwind(panic::AssertUnwindSafe(body));
    match result {
        Ok(Ok(outcome)) => ExitCode::from(outcome.code()),
        Ok(Err(err)) => ExitCode::from(report(tool, &err)),
        Err(_) => ExitCode::from(ERROR_EXIT),
    }
}

/// Prints `err` the way every tool does and returns the exit code it means.
///
/// Messages name files and quote inputs, which are untrusted: a file named
/// with an escape sequence must not drive the terminal, so the message and
/// hint go out through [`printable`].
pub fn report(tool: &str, err: &Error) -> u8 {
    if err.kind() == ErrorKind::BrokenPipe {
        return BROKEN_PIPE_EXIT;
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{tool}: error: {}", printable(err.message()));
    if let Some(hint) = err.hint() {
        let _ = writeln!(stderr, "{tool}: hint: {}", printable(hint));
    } else if err.kind() == ErrorKind::Usage {
        let _ = writeln!(stderr, "{tool}: hint: see '{tool} --help'");
    }
    ERROR_EXIT
}

/// Parses the command line. `--help` and `--version` print and exit 0 as
/// clap does; a usage error is printed the way every other error is,
/// `tool: error: ...` (clap's usage line and hint kept), and exits 2.
pub fn parse_args<T: clap::Parser>(tool: &str) -> T {
    use clap::error::ErrorKind as Clap;
    match T::try_parse() {
        Ok(parsed) => parsed,
        Err(err) => match err.kind() {
            Clap::DisplayHelp
            | Clap::DisplayVersion
            | Clap::DisplayHelpOnMissingArgumentOrSubcommand => err.exit(),
            _ => {
                let text = err.render().to_string();
                let text = text.strip_prefix("error: ").unwrap_or(&text);
                // clap quotes the arguments, which may be file names from
                // a glob: each line printable, the line breaks kept.
                let text: Vec<_> = text.split('\n').map(printable).collect();
                let _ = write!(std::io::stderr(), "{tool}: error: {}", text.join("\n"));
                std::process::exit(i32::from(ERROR_EXIT))
            }
        },
    }
}

/// Prints a warning (`tool: warning: ...`) on stderr, printable.
pub fn warn(tool: &str, message: impl std::fmt::Display) {
    let message = message.to_string();
    let _ = writeln!(
        std::io::stderr(),
        "{tool}: warning: {}",
        printable(&message)
    );
}
