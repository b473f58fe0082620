use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = common::runner::parse_args::<sbom_diff::cli::Cli>("sbom-diff");
    common::runner::run("sbom-diff", || sbom_diff::run(cli))
}
