//! Pieces of command-line handling every tool shares: output formats, colour
//! choice, and clap value parsers for human thresholds.

use std::io::IsTerminal;

/// `--format`: JSON Lines for machines (default), text for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON record per line (the default; what other tools read).
    Jsonl,
    /// A readable report for a person at a terminal.
    Text,
}

/// Whether to colour stdout: only on a terminal, and never with `NO_COLOR`.
pub fn color_stdout() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// `0.5%` or `0.005` → 0.005 (for `value_parser`).
pub fn fraction(text: &str) -> Result<f64, String> {
    crate::threshold::fraction(text)
}

/// `100ms`, `8m` → milliseconds (for `value_parser`).
pub fn duration_ms(text: &str) -> Result<f64, String> {
    crate::threshold::duration_ms(text)
}

/// `5s` → `Duration` (for `value_parser`).
pub fn duration(text: &str) -> Result<std::time::Duration, String> {
    crate::threshold::duration(text)
}

/// A whole number (for `value_parser`).
pub fn count(text: &str) -> Result<u64, String> {
    crate::threshold::count(text)
}

/// A non-negative number (for `value_parser`).
pub fn number(text: &str) -> Result<f64, String> {
    crate::threshold::number(text)
}

/// A JSON Pointer pattern (for `value_parser`).
pub fn pointer(text: &str) -> Result<crate::pointer::Pattern, String> {
    crate::pointer::Pattern::parse(text)
}
