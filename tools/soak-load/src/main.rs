use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = common::runner::parse_args::<soak_load::cli::Cli>("soak-load");
    common::runner::run("soak-load", || soak_load::run(cli))
}
