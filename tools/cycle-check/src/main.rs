use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = common::runner::parse_args::<cycle_check::cli::Cli>("cycle-check");
    common::runner::run("cycle-check", || cycle_check::run(cli))
}
