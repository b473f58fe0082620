use std::process::ExitCode;

use bundle_seal::cli::Cli;
use clap::Parser;

fn main() -> ExitCode {
    common::runner::run("bundle-seal", || bundle_seal::run(Cli::parse()))
}
