use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    common::runner::run("sbom-diff", || sbom_diff::run(sbom_diff::cli::Cli::parse()))
}
