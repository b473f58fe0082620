use std::process::ExitCode;

use clap::Parser;
use pii_scrub::cli::Cli;

fn main() -> ExitCode {
    common::runner::run("pii-scrub", || pii_scrub::run(Cli::parse()))
}
