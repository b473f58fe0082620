//! Command-line definition (clap derive). Validation into a typed config
//! happens in `config.rs`; nothing here can fail beyond clap's own parsing.

use clap::{Args, CommandFactory, Parser, Subcommand};
use common::cli::{FormatArg, QuietArg};
use common::pointer::Pattern;

use crate::mask::Mask;

const EXAMPLES: &str = "\
Examples:
  # Did the replay diverge? Ignore the volatile time stamp at top level.
  replay-diff golden.jsonl replay.jsonl --ignore /ts

  # Streams whose order may differ: align records by their event id.
  replay-diff golden.jsonl replay.jsonl --key /event_id --ignore /items/*/ts

  # The determinism gate: at least 98% of records identical, masks for ids.
  replay-diff golden.jsonl.gz replay.jsonl.gz --mask timestamp --mask uuid \\
      --min-determinism 98%

  # Zero divergences across a 50-event replay, read for people (a diff,
  # coloured on a terminal).
  replay-diff golden.jsonl replay.jsonl --max-divergences 0 --min-records 50 \\
      --format text

  # Run a command three times; every run must match the first.
  replay-diff run --times 3 --ignore /duration_ms -- ./run-tests --json

Records (JSON Lines on stdout):
  divergence  golden_line, replay_line, key (keyed mode), path (RFC 6901),
              change (changed|added|removed|type_changed), golden, replay
              (values, numbers as written; absent on the side that lacks
              the path)
  missing     a golden record with no replay counterpart: golden_line, key, golden
  extra       a replay record with no golden counterpart: replay_line, key, replay
  invalid     a bad line under --skip-invalid: file, line, column, reason
  run         (run mode) run, exit_code, signal, records, sha256,
              duration_ms, leftover_processes (killed with the run's
              process group when the command exited)
  summary     figures: records_golden, records_replay, compared, identical,
              divergent, missing, extra, invalid, keyless, divergent_paths,
              divergences, determinism (run mode adds runs, exit_mismatches,
              run_failures); gates: divergences, determinism, invalid (with
              --skip-invalid, always), records (always: golden records >=
              --min-records, default 1), exit_mismatches and run_failures
              (run mode, always)

Alignment:
  by position  record n with record n; where the streams lose step, up to
               1,024 records a side are read ahead to find where they line
               up again (5 of the next 8 records match), so an inserted
               record is one `extra` and a deleted one one `missing`, as
               with diff
  by --key     records with equal keys pair in order of appearance (the
               n-th golden with the n-th replay); records without the key
               pair the same way among themselves (figure keyless)

Definitions:
  compared     pairs of records aligned with each other (by position or key)
  identical    compared pairs with no divergence after --ignore, --mask,
               --float-tolerance and --unordered
  numbers      equal when their exact decimal values are (100 = 1e2 = 100.0;
               any digit of 123456789012345678901234567890 counts);
               --float-tolerance is the only loosening
  determinism  identical / (compared + missing + extra + invalid);
               1.0 when both streams are empty
  divergences  (figure and gate value) divergence records (divergent_paths)
               + missing + extra: every differing path counts once

Exit status: 0 no divergence (or every gate passed), 1 divergences found or a
gate failed, 2 could not compare (unreadable or malformed input), 130
interrupted.";

/// Determinism as a command: diff a replayed JSON Lines run against the golden one.
#[derive(Debug, Parser)]
#[command(
    name = "replay-diff",
    version,
    about = "Diff a replayed JSON Lines run against the golden one, record by record",
    long_about = "Diff a replayed JSON Lines run against the golden one, record by record.\n\n\
        Records are aligned by position (default) or by --key, volatile fields are \
        ignored or masked, and every differing path becomes a `divergence` record. \
        The last record is the summary with the determinism figures and gates.",
    after_long_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    /// The golden run (JSON Lines; a path, `.gz`, or `-` for stdin).
    #[arg(required = true, value_name = "GOLDEN")]
    pub golden: Option<String>,

    /// The replayed run to check (JSON Lines; a path, `.gz`, or `-`).
    #[arg(required = true, value_name = "REPLAY")]
    pub replay: Option<String>,

    #[command(flatten)]
    pub compare: CompareArgs,

    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub format: FormatArg,

    #[command(flatten)]
    pub quiet: QuietArg,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command N times and diff every run's stdout against the first.
    #[command(
        long_about = "Run a command N times, capture each run's stdout as JSON Lines, and \
            diff every later run against the first: \"deterministic across runs\" as one \
            command. Exit statuses must match too: any difference from the first run's \
            fails the `exit_mismatches` gate, and a run that exits non-zero (unless \
            --allow-exit names the code) or is killed by a signal fails the \
            `run_failures` gate. Divergence records carry `run`. Each run is \
            a process group of its own: what the command leaves running in it is killed \
            when it exits (counted in `leftover_processes`), and the whole group on \
            SIGINT/SIGTERM.",
        after_long_help = "Examples:\n  replay-diff run --times 2 -- cargo test -- -Z unstable-options --format json\n  replay-diff run --times 5 --ignore /ts --min-determinism 98% -- ./replay.sh seed=42"
    )]
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// How many times to run the command (at least 2).
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub times: u32,

    /// An exit code (1-255) that is a normal outcome of the command, not a
    /// failed run (repeatable). Without it any run that exits non-zero or is
    /// killed fails the `run_failures` gate; a signal always does.
    /// Example: --allow-exit 1 (a test runner whose tests may fail)
    #[arg(long, value_name = "CODE", value_parser = clap::value_parser!(u8).range(1..))]
    pub allow_exit: Vec<u8>,

    #[command(flatten)]
    pub compare: CompareArgs,

    /// The command and its arguments (after `--`).
    #[arg(required = true, last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// How records are aligned, normalized, judged and printed.
#[derive(Debug, Args, Clone)]
pub struct CompareArgs {
    /// Align records by the value at this JSON Pointer instead of by position
    /// (repeat for a composite key). Example: --key /event_id
    #[arg(long, value_name = "POINTER", value_parser = common::cli::pointer)]
    pub key: Vec<Pattern>,

    /// Ignore the value at this pointer; `*` matches any array index or member.
    /// Example: --ignore /ts --ignore /items/*/ts
    #[arg(long, value_name = "POINTER", value_parser = common::cli::pointer)]
    pub ignore: Vec<Pattern>,

    /// Replace values of a built-in shape inside strings (not numbers) before comparing:
    /// timestamp (RFC 3339), uuid, hex (ids of 8+ hex digits), epoch
    /// (10- or 13-digit Unix times). Example: --mask timestamp --mask uuid
    #[arg(long, value_name = "NAME", value_enum)]
    pub mask: Vec<Mask>,

    /// Treat numbers within this absolute difference as equal (as f64 while
    /// both are below 2^53 in size; larger integers by their exact
    /// difference, so 64-bit ids are never rounded together; larger
    /// non-integers only when equal). Without it numbers must be exactly
    /// equal in value. Example: 1e-9
    #[arg(long, value_name = "X", value_parser = common::cli::number, default_value = "0")]
    pub float_tolerance: f64,

    /// Compare the array at this pointer as a multiset (order ignored).
    /// Elements match after --ignore and --mask, but exactly: --float-tolerance
    /// does not apply inside them. Example: --unordered /tags
    #[arg(long, value_name = "POINTER", value_parser = common::cli::pointer)]
    pub unordered: Vec<Pattern>,

    /// Gate: fail when divergences (differing paths + missing + extra records)
    /// exceed N. Without any gate, any divergence fails (like diff).
    #[arg(long, value_name = "N", value_parser = common::cli::count)]
    pub max_divergences: Option<u64>,

    /// Gate: fail when determinism (identical records / records judged,
    /// defined under --help) is below this percentage. Example:
    /// --min-determinism 98% (the % is required: a bare 0.98 could mean 98%
    /// or 0.98%)
    #[arg(long, value_name = "PERCENT", value_parser = common::cli::fraction)]
    pub min_determinism: Option<f64>,

    /// Gate (always): fail when the golden run has fewer than N records, so
    /// a comparison over nothing cannot pass. 0 accepts empty streams.
    /// Example: --min-records 50 (a 50-event replay)
    #[arg(long, value_name = "N", value_parser = common::cli::count, default_value = "1")]
    pub min_records: u64,

    /// Report malformed lines as `invalid` records and go on, instead of
    /// stopping with exit 2. Each counts against determinism, and the gate
    /// `invalid` (limit --max-invalid, default 0) fails on any.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Gate (with --skip-invalid): fail when more than N lines were invalid.
    #[arg(long, value_name = "N", value_parser = common::cli::count, requires = "skip_invalid")]
    pub max_invalid: Option<u64>,

    /// Refuse lines longer than this many bytes (they count as invalid).
    #[arg(long, value_name = "BYTES", default_value_t = common::lines::DEFAULT_MAX_LINE)]
    pub max_line: usize,
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definition_is_consistent() {
        super::command().debug_assert();
    }
}
