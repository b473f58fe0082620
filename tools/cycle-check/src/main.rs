use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    common::runner::run("cycle-check", || {
        cycle_check::run(cycle_check::cli::Cli::parse())
    })
}
