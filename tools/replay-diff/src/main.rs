use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = replay_diff::cli::Cli::parse();
    common::runner::run("replay-diff", || replay_diff::run(cli))
}
