use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = common::runner::parse_args::<backup_drill::cli::Cli>("backup-drill");
    common::runner::run("backup-drill", || backup_drill::run(cli))
}
