//! Validated settings built from the command line (parse, then configure).

use common::cli::Format;
use common::gate::Gate;
use common::pointer::Pattern;
use common::{Error, Result};

use crate::cli::CompareArgs;
use crate::compare::Rules;
use crate::report::Tally;

/// Everything the comparison needs, checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub rules: Rules,
    pub keys: Vec<Pattern>,
    pub skip_invalid: bool,
    /// The `invalid` gate's limit (with `--skip-invalid`).
    pub max_invalid: u64,
    pub max_line: usize,
    pub format: Format,
    pub max_divergences: Option<u64>,
    pub min_determinism: Option<f64>,
    /// The `records` gate's limit: golden records needed for a verdict.
    pub min_records: u64,
}

impl Config {
    pub fn from_args(args: &CompareArgs) -> Result<Config> {
        for key in &args.key {
            if key.has_wildcard() || key.tokens().is_empty() {
                return Err(Error::usage(format!(
                    "--key {:?}: a key must point at one value (no '*', not the whole record)",
                    key.as_str()
                )));
            }
        }
        if args.max_line == 0 {
            return Err(Error::usage("--max-line must be at least 1"));
        }
        let mut masks = args.mask.clone();
        masks.sort();
        masks.dedup();
        Ok(Config {
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
            format: args.format,
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
