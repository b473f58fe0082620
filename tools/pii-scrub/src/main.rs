use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = common::runner::parse_args::<pii_scrub::cli::Cli>("pii-scrub");
    common::runner::run("pii-scrub", || pii_scrub::run(cli))
}
