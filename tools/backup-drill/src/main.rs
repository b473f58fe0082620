use std::process::ExitCode;

use backup_drill::cli::Cli;
use clap::Parser;

fn main() -> ExitCode {
    common::runner::run("backup-drill", || backup_drill::run(Cli::parse()))
}
