//! soak-load: steady HTTP traffic for hours with honest latency, the
//! service's memory and trends watched, and gates that say pass or fail.
//!
//! `cli` parses and `config` validates; `targets` (with `template`) compiles
//! what to send; `schedule` says when, `load` sends it (through `client`)
//! and counts into `stats`; `session` closes a `window` every --window,
//! reading `memory` from /proc, and folds windows through `judge` into the
//! summary; `report` re-judges and merges saved windows; `sink` writes
//! JSON Lines or CSV; `plot` draws windows as one HTML page; `reqlog` writes the optional per-request log; `histo`
//! holds the mergeable latency histograms. `sequence` runs one sequence
//! (parallel steps, accepted statuses), `actors` the --actors model,
//! `verify` re-reads acknowledged writes at the end, `chaos` injects
//! --chaos-cmd and watches the outages it causes.

pub mod actors;
pub mod chaos;
pub mod cli;
pub mod client;
pub mod config;
pub mod consistency;
pub mod histo;
pub mod http1;
pub mod judge;
pub mod listening;
pub mod load;
pub mod memory;
pub mod plot;
pub mod report;
pub mod reqlog;
pub mod schedule;
pub mod sequence;
pub mod session;
pub mod sink;
pub mod stats;
pub mod targets;
pub mod template;
pub mod verify;
pub mod window;

use common::{Outcome, Result};

use crate::cli::{Cli, Command};
use crate::config::RunConfig;

/// Runs the tool as the command line asks.
pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Run(args) => session::run(RunConfig::from_args(&args)?),
        Command::Report(args) => report::report(&args),
        Command::Merge(args) => report::merge(&args),
        Command::Plot(args) => plot::plot(&args),
    }
}
