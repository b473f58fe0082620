//! The boundary between the command line and the work (parse, then
//! configure, then run): the flags checked and typed. The work (`lib.rs`,
//! `run_mode`, `align`) takes these, never a clap struct.

use common::cli::Format;
use common::gate::Gate;
use common::pointer::Pattern;
use common::{Error, Result};

use crate::cli::{Cli, Command, CompareArgs};
use crate::compare::Rules;
use crate::report::Tally;

/// What to compare, how, and how to show it.
#[derive(Debug, Clone)]
pub struct Config {
    pub format: Format,
    pub compare: Compare,
    pub mode: Mode,
}

/// Two streams, or a command's runs.
#[derive(Debug, Clone)]
pub enum Mode {
    /// GOLDEN and REPLAY: paths, `.gz`, or `-` for stdin.
    Files { golden: String, replay: String },
    /// `run`: the command's runs, each compared with the first.
    Run(Run),
}

/// `replay-diff run`.
#[derive(Debug, Clone)]
pub struct Run {
    /// At least 2.
    pub times: u32,
    /// Exit codes that are a normal outcome, not a failed run.
    pub allow_exit: Vec<u8>,
    /// The program and its arguments.
    pub command: Vec<String>,
}

/// How records are aligned, normalized and judged: everything one
/// comparison needs, checked.
#[derive(Debug, Clone)]
pub struct Compare {
    pub rules: Rules,
    pub keys: Vec<Pattern>,
    pub skip_invalid: bool,
    /// The `invalid` gate's limit (with `--skip-invalid`).
    pub max_invalid: u64,
    pub max_line: usize,
    pub max_divergences: Option<u64>,
    pub min_determinism: Option<f64>,
    /// The `records` gate's limit: golden records needed for a verdict.
    pub min_records: u64,
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config> {
        // -q is accepted with its one meaning across the tools (no progress
        // or notes on stderr); replay-diff writes neither, so there is
        // nothing for it to silence.
        let format = cli.format.format;
        let (compare, mode) = match cli.command {
            Some(Command::Run(args)) => {
                let compare = Compare::from_args(&args.compare)?;
                if args.times < 2 {
                    return Err(Error::usage(
                        "--times must be at least 2 (runs are compared with the first)",
                    ));
                }
                let run = Run {
                    times: args.times,
                    allow_exit: args.allow_exit,
                    command: args.command,
                };
                (compare, Mode::Run(run))
            }
            None => {
                let (Some(golden), Some(replay)) = (cli.golden, cli.replay) else {
                    return Err(Error::usage("GOLDEN and REPLAY are required"));
                };
                (
                    Compare::from_args(&cli.compare)?,
                    Mode::Files { golden, replay },
                )
            }
        };
        Ok(Config {
            format,
            compare,
            mode,
        })
    }
}

impl Compare {
    pub fn from_args(args: &CompareArgs) -> Result<Compare> {
        for key in &args.key {
            if key.has_wildcard() || key.tokens().is_empty() {
                return Err(Error::usage(format!(
                    "--key {:?}: a key must point at one value (no '*', not the whole record)",
                    key.as_str()
                )));
            }
        }
        // An empty pointer is the whole record: ignoring it ignores every
        // difference (an unset variable in `--ignore "$IGNORE"` made every
        // comparison pass).
        if let Some(p) = args.ignore.iter().find(|p| p.tokens().is_empty()) {
            return Err(Error::usage(format!(
                "--ignore {:?}: the whole record; every difference would be ignored (give a pointer such as /ts)",
                p.as_str()
            )));
        }
        if args.max_line == 0 {
            return Err(Error::usage("--max-line must be at least 1"));
        }
        let mut masks = args.mask.clone();
        masks.sort();
        masks.dedup();
        Ok(Compare {
            rules: Rules {
                ignore: args.ignore.clone(),
                masks,
                float_tolerance: args.float_tolerance,
                unordered: args.unordered.clone(),
            },
            keys: args.key.clone(),
            skip_invalid: args.skip_invalid,
            max_invalid: args.max_invalid.unwrap_or(0),
            max_line: args.max_line,
            max_divergences: args.max_divergences,
            min_determinism: args.min_determinism,
            min_records: args.min_records,
        })
    }
    /// The gates asked for; with none, "no divergence at all" (like diff).
    /// With `--skip-invalid`, always an `invalid` gate too (limit
    /// `--max-invalid`, default 0), so no other setting can pass a run
    /// whose lines could not all be read. Always a `records` gate: the
    /// golden run has at least `--min-records` records (default 1), since
    /// two empty streams agree perfectly and prove nothing.
    /// `golden_records` is the golden run's count (in run mode the first
    /// run's, not the tally's sum over every comparison).
    pub fn gates(&self, tally: &Tally, golden_records: u64) -> Vec<Gate> {
        let mut gates = Vec::new();
        let divergences = tally.divergences() as f64;
        match (self.max_divergences, self.min_determinism) {
            (None, None) => gates.push(Gate::at_most("divergences", 0.0, divergences)),
            (max, min) => {
                if let Some(max) = max {
                    gates.push(Gate::at_most("divergences", max as f64, divergences));
                }
                if let Some(min) = min {
                    gates.push(Gate::at_least("determinism", min, tally.determinism()));
                }
            }
        }
        if self.skip_invalid {
            gates.push(Gate::at_most(
                "invalid",
                self.max_invalid as f64,
                tally.invalid as f64,
            ));
        }
        gates.push(Gate::at_least(
            "records",
            self.min_records as f64,
            golden_records as f64,
        ));
        gates
    }
}
