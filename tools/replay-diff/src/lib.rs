//! replay-diff: compare a replayed JSON Lines run with the golden one and
//! say exactly where it diverged.
//!
//! `cli` parses, `config` validates, `source` reads each side on its own
//! thread, `align` pairs records (by position, with `resync` after an
//! insertion or deletion, or by key), `lockstep` decides "identical" on raw
//! text, `json`/`number`/`raw` hold values with numbers as written,
//! `compare` diffs two values path by path, `report` writes records and the
//! summary (`text` renders them for `--format text`), and `run_mode` runs a
//! command N times and compares the runs.

pub mod align;
pub mod cli;
pub mod compare;
pub mod config;
pub mod json;
pub mod lockstep;
pub mod mask;
pub mod number;
pub mod raw;
pub mod report;
pub mod resync;
pub mod run_mode;
pub mod source;
pub mod text;

use common::cli::Format;
use common::output::RecordWriter;
use common::summary::SummaryBuilder;
use common::{interrupt, Error, Outcome, Result};

use crate::cli::Cli;
use crate::config::{Compare, Config, Mode};
use crate::report::{Reporter, Tally};
use crate::source::Opening;

/// Runs the tool as the command line asks.
pub fn run(cli: Cli) -> Result<Outcome> {
    interrupt::install()?;
    let config = Config::from_cli(cli)?;
    let out = match config.format {
        Format::Jsonl => RecordWriter::stdout(),
        Format::Text => {
            RecordWriter::stdout().rendered(text::Text::new(common::cli::color_stdout()))
        }
    };
    let mut reporter = Reporter::new(out);
    match &config.mode {
        Mode::Run(run) => run_mode::run(run, &config.compare, &mut reporter),
        Mode::Files { golden, replay } => {
            diff_files(golden, replay, &config.compare, &mut reporter)
        }
    }
}

/// Compares two files (or one file and stdin) and writes the summary.
pub fn diff_files(
    golden: &str,
    replay: &str,
    config: &Compare,
    reporter: &mut Reporter,
) -> Result<Outcome> {
    align::check_inputs(golden, replay)?;
    let mut summary = SummaryBuilder::new("replay-diff", env!("CARGO_PKG_VERSION"));
    let g = Opening::Path(golden.to_string());
    let r = Opening::Path(replay.to_string());
    let (g_name, r_name) = (g.name().to_string(), r.name().to_string());
    let cmp = align::compare(g, r, config, reporter)?;
    summary.input(&g_name, cmp.golden_sha256.clone());
    summary.input(&r_name, cmp.replay_sha256.clone());
    for gate in config.gates(&cmp.tally, cmp.tally.records_golden) {
        summary.gate(gate);
    }
    add_figures(&mut summary, &cmp.tally);
    let summary = summary.finish(cmp.interrupted);
    reporter.summary(&summary)?;
    Ok(summary.outcome())
}

/// The tally's counts and the determinism ratio, as summary figures.
pub(crate) fn add_figures(summary: &mut SummaryBuilder, tally: &Tally) {
    summary
        .figure("records_golden", tally.records_golden)
        .figure("records_replay", tally.records_replay)
        .figure("compared", tally.compared)
        .figure("identical", tally.identical)
        .figure("divergent", tally.divergent)
        .figure("missing", tally.missing)
        .figure("extra", tally.extra)
        .figure("invalid", tally.invalid)
        .figure("keyless", tally.keyless)
        .figure("divergent_paths", tally.divergent_paths)
        .figure("divergences", tally.divergences())
        .figure("determinism", tally.determinism());
}

/// Compares two in-memory inputs with the options `args` would give on the
/// command line, writing records nowhere: for the fuzz target and property
/// tests, which check what the comparison accounts for.
pub fn compare_in_memory(golden: &[u8], replay: &[u8], args: &[&str]) -> Result<align::Comparison> {
    use clap::Parser;
    let argv = ["replay-diff", "golden", "replay"].iter().chain(args);
    let cli = Cli::try_parse_from(argv).map_err(|e| Error::usage(e.to_string()))?;
    let config = Config::from_cli(cli)?.compare;
    let mut reporter = Reporter::new(RecordWriter::new(Box::new(std::io::sink()), "sink"));
    let open = |name: &str, bytes: &[u8]| -> Result<Opening> {
        let reader = std::io::Cursor::new(bytes.to_vec());
        Ok(Opening::Open(common::input::Input::from_reader(
            name,
            None,
            Box::new(reader),
        )?))
    };
    align::compare(
        open("golden", golden)?,
        open("replay", replay)?,
        &config,
        &mut reporter,
    )
}
