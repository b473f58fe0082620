//! Pieces of command-line handling every tool shares: the flags with one
//! meaning in every tool (`--format`, `-q/--quiet`: argument groups a tool
//! takes in with `#[command(flatten)]`), colour choice, and clap value
//! parsers for human thresholds.

use std::io::IsTerminal;

/// `--format`: JSON Lines for machines (default), text for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON record per line (the default; what other tools read).
    Jsonl,
    /// A readable report for a person at a terminal.
    Text,
}

/// `--format`, one flag in every tool: JSON Lines records (the default,
/// what other tools and scripts read) or a form for people. `F` is the
/// tool's choice of forms: [`Format`] (jsonl, text) unless it offers more
/// (sbom-diff's csv); every choice has `jsonl`.
#[derive(Clone, Debug, clap::Args)]
pub struct FormatArg<F = Format>
where
    F: clap::ValueEnum + Clone + Send + Sync + 'static,
{
    /// Output: jsonl (JSON Lines records, the summary last: what other
    /// tools read) or a form for people.
    #[arg(long, value_enum, default_value = "jsonl", global = true)]
    pub format: F,
}

/// `-q/--quiet`, one meaning in every tool: no progress bars and no
/// notes on stderr. Errors and warnings are still printed, and the records
/// on stdout are the same: quiet changes what a person sees, never what a
/// pipeline gets or whether something went wrong.
#[derive(Clone, Copy, Debug, Default, clap::Args)]
pub struct QuietArg {
    /// No progress bars or notes on stderr (errors and warnings are still
    /// printed; the records are the same).
    #[arg(short, long, global = true)]
    pub quiet: bool,
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
