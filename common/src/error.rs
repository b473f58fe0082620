//! The one error type of hardgate tools.
//!
//! Every error a user or an input can cause becomes an [`Error`] whose message
//! already names where it happened (`FILE:LINE:COLUMN: what is wrong`), with an
//! optional hint on how to fix it. The runner prints it as
//! `tool: error: MESSAGE` and exits 2. A broken pipe is carried as its own
//! kind so the runner can end quietly (`tool | head` is not an error).

use std::fmt;
use std::io;

/// What kind of failure this is; decides how the runner reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad flags or arguments.
    Usage,
    /// Malformed or hostile input.
    Input,
    /// The operating system refused (open, read, write).
    Io,
    /// Our stdout was closed by the reader (`| head`): not worth a message.
    BrokenPipe,
}

/// An error with a located message and an optional hint.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A malformed-input error with a free-form message.
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Input,
            message: message.into(),
            hint: None,
        }
    }

    /// Bad usage: a flag value that cannot work.
    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Usage,
            message: message.into(),
            hint: None,
        }
    }

    /// Malformed input at `file:line`.
    pub fn at(file: impl fmt::Display, line: u64, message: impl fmt::Display) -> Self {
        Error::new(format!("{file}:{line}: {message}"))
    }

    /// Malformed input at `file:line:column`.
    pub fn at_column(
        file: impl fmt::Display,
        line: u64,
        column: u64,
        message: impl fmt::Display,
    ) -> Self {
        Error::new(format!("{file}:{line}:{column}: {message}"))
    }

    /// An I/O failure on `path` (a file name, or `<stdin>`/`<stdout>`).
    pub fn io(path: impl fmt::Display, err: io::Error) -> Self {
        let kind = if err.kind() == io::ErrorKind::BrokenPipe {
            ErrorKind::BrokenPipe
        } else {
            ErrorKind::Io
        };
        Error {
            kind,
            message: format!("{path}: {}", describe_io(&err)),
            hint: None,
        }
    }

    /// Adds a hint: how to fix it, printed on its own line.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prefixes the message with context (`reading manifest: ...`).
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    pub fn is_broken_pipe(&self) -> bool {
        self.kind == ErrorKind::BrokenPipe
    }
}

/// `io::Error`'s Display adds "(os error 2)"; people want just the reason.
fn describe_io(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        Error::io("I/O", err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn located_messages() {
        assert_eq!(Error::at("a.jsonl", 3, "bad").to_string(), "a.jsonl:3: bad");
        assert_eq!(
            Error::at_column("a.jsonl", 3, 7, "bad").to_string(),
            "a.jsonl:3:7: bad"
        );
    }

    #[test]
    fn io_errors_drop_os_error_numbers_and_spot_broken_pipes() {
        let e = Error::io("x.txt", io::Error::from_raw_os_error(2));
        assert_eq!(e.to_string(), "x.txt: No such file or directory");
        let e = Error::io("<stdout>", io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(e.is_broken_pipe());
    }
}
