use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = common::runner::parse_args::<bundle_seal::cli::Cli>("bundle-seal");
    common::runner::run("bundle-seal", || bundle_seal::run(cli))
}
