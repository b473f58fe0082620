use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = common::runner::parse_args::<replay_diff::cli::Cli>("replay-diff");
    common::runner::run("replay-diff", || replay_diff::run(cli))
}
