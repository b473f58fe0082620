//! `pii-scrub`: find and neutralize personal data and secrets in logs.
//!
//! `run` validates the flags into a [`config::Config`], finds the inputs
//! ([`walk`]), refuses formats whose text it cannot see ([`opaque`]), scrubs
//! each one line by line ([`process`] → [`scan`] for text, [`json`] for JSON
//! object lines, [`detectors`] to find, [`actions`] to replace) into its
//! output ([`files`]), and reports findings and the summary ([`report`]). One input on
//! stdout is streamed; many files (check, dry run, in place, out dir) are
//! spread over threads with rayon and reported in input order.

pub mod actions;
pub mod cli;
pub mod config;
pub mod detectors;
pub mod escapes;
pub mod files;
pub mod json;
pub mod names;
pub mod opaque;
pub mod process;
pub mod report;
pub mod scan;
pub mod snippet;
pub mod text;
pub mod walk;

use std::io::{BufWriter, Write};
use std::time::Instant;

use rayon::prelude::*;

use common::cli::Format;
use common::input::Input;
use common::output::RecordWriter;
use common::summary::SummaryBuilder;
use common::{Error, Outcome, Result};

use crate::cli::Cli;
use crate::config::{Config, Mode};
use crate::files::Target;
use crate::process::{Event, Failure, Stats};
use crate::report::Reporter;
use crate::walk::Source;

const TOOL: &str = "pii-scrub";

/// What became of one file in the parallel path.
struct FileResult {
    name: String,
    sha256: Option<String>,
    events: Vec<Event>,
    stats: Option<Stats>,
    error: Option<Failure>,
}

pub fn run(cli: Cli) -> Result<Outcome> {
    if cli.list_types {
        let mut out = std::io::stdout().lock();
        // A type found by several detectors is listed once, by the first.
        for b in detectors::patterns::BUILTINS
            .iter()
            .filter(|b| !b.about.is_empty())
        {
            writeln!(out, "{:<16} {}", b.name, b.about).map_err(|e| Error::io("<stdout>", e))?;
        }
        return Ok(Outcome::Pass);
    }
    let cfg = Config::from_cli(cli)?;
    common::interrupt::install()?;
    let started = Instant::now();
    let mut builder = SummaryBuilder::new(TOOL, env!("CARGO_PKG_VERSION"));
    let found = walk::discover(&cfg.paths, &cfg.globs, cfg.respect_ignore)?;
    for e in &found.errors {
        error_line(e);
    }
    if cfg.out_dir.is_some() {
        // Two inputs mirrored to one place would silently overwrite each other.
        let mut seen = std::collections::HashMap::new();
        for src in &found.sources {
            if let Some(first) = seen.insert(src.rel.clone(), &src.path) {
                return Err(Error::usage(format!(
                    "--out-dir: {first} and {} would both be written to {}",
                    src.path,
                    src.rel.display()
                ))
                .with_hint("pass their common parent directory instead"));
            }
        }
    }
    let report_out = match (&cfg.report, cfg.mode) {
        (Some(path), _) => Some(RecordWriter::create(path)?),
        (None, Mode::Filter) if cfg.format == Format::Text => Some(RecordWriter::stderr()),
        (None, Mode::Filter) => None,
        (None, _) => Some(RecordWriter::stdout()),
    };
    let mut rep = Reporter::new(
        &cfg.engine,
        report_out,
        cfg.format,
        cfg.quarantine.as_deref(),
        &found.excluded,
    )?;
    rep.totals.skipped = found.skipped;
    rep.totals.symlinks = found.symlinks;
    rep.totals.ignored = found.ignored;
    if !found.excluded.is_empty() && !cfg.no_warnings {
        warn_excluded(&found.excluded, &found.sources);
    }
    rep.totals.errors = found.errors.len() as u64;
    let streaming = cfg.mode == Mode::Filter && !cfg.in_place && cfg.out_dir.is_none();
    let interrupted = if streaming {
        stream(&cfg, &found.sources, &mut rep, &mut builder)?
    } else {
        parallel(&cfg, &found.sources, &mut rep, &mut builder)?
    };
    let quarantined = rep.totals.quarantined;
    let errors = rep.totals.errors;
    // A dry run is judged like --check: a report of findings never says pass.
    for g in report::gates(
        cfg.mode != Mode::Filter,
        cfg.max_quarantined,
        cfg.min_files,
        cfg.min_lines,
        &rep.totals,
    ) {
        builder.gate(g);
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let summary = rep.finish(builder, cfg.mode, interrupted, elapsed_ms)?;
    if quarantined > 0 && cfg.quarantine.is_none() && cfg.mode == Mode::Filter && !cfg.no_warnings {
        common::runner::warn(
            TOOL,
            format!("{quarantined} line(s) could not be scrubbed safely and were left out; use --quarantine FILE to keep them"),
        );
    }
    if errors > 0 && !interrupted {
        return Err(Error::new(format!(
            "{errors} input(s) could not be processed completely (see above)"
        )));
    }
    Ok(summary.outcome())
}

/// Says which files `--glob`s left out, and which of them are rotated
/// copies (`app.log.1`, `app.log.2.gz`, `app.log-20261206`) of a log that
/// was read: the same data, not checked.
fn warn_excluded(excluded: &[String], sources: &[Source]) {
    let read: std::collections::HashSet<&str> = sources.iter().map(|s| s.path.as_str()).collect();
    let rotated: Vec<String> = excluded
        .iter()
        .filter(|e| {
            let base = e.rfind('/').map_or(0, |i| i + 1);
            e.char_indices()
                .skip(base + 1)
                .any(|(i, c)| matches!(c, '.' | '-' | '_') && read.contains(&e[..i]))
        })
        .cloned()
        .collect();
    common::runner::warn(
        TOOL,
        format!(
            "--glob left out {} file(s) of the trees walked (figure excluded): {}",
            excluded.len(),
            report::shortlist(excluded, 5)
        ),
    );
    if !rotated.is_empty() {
        common::runner::warn(
            TOOL,
            format!(
                "{} of them are rotated copies of logs that were read ({}): their lines are not checked; widen the glob (e.g. --glob '*.log*') to check them",
                rotated.len(),
                report::shortlist(&rotated, 5)
            ),
        );
    }
}

/// `pii-scrub: error: ...` and its hint, the way the runner prints errors
/// (file names are untrusted: control characters are escaped).
fn error_line(e: &Error) {
    let _ = common::runner::report(TOOL, e);
}

/// Filter mode to stdout: inputs one after another, events reported as they come.
fn stream(
    cfg: &Config,
    sources: &[Source],
    rep: &mut Reporter<'_>,
    builder: &mut SummaryBuilder,
) -> Result<bool> {
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::with_capacity(256 * 1024, stdout);
    let keep_raw = rep.keeps_raw();
    let hash = rep.writes_summary();
    for src in sources {
        // Hash only when a summary will name the input.
        let opened = if hash {
            Input::open_path(&src.file).map(|i| {
                let (name, reader, digest) = i.into_parts();
                (name, reader, Some(digest))
            })
        } else {
            common::input::open_unhashed(&src.file).map(|(name, reader)| (name, reader, None))
        };
        let (name, mut raw, digest) = match opened {
            Ok(x) => x,
            Err(e) => {
                error_line(&e);
                rep.totals.errors += 1;
                continue;
            }
        };
        // Nothing of a compressed input reaches stdout.
        let mut reader = match opaque::screen(&name, &mut raw) {
            Ok(r) => r,
            Err(e) => {
                error_line(&e);
                rep.totals.errors += 1;
                builder.input(&rep.shown_file(&name), None);
                continue;
            }
        };
        let result = process::process(
            &cfg.engine,
            &name,
            &mut reader,
            Some(&mut out),
            "<stdout>",
            keep_raw,
            &mut |ev| rep.event(&name, ev),
        );
        match result {
            Ok(stats) => {
                rep.totals.add(&stats);
                builder.input(&rep.shown_file(&name), digest.map(|d| d.sha256()));
                if stats.interrupted {
                    return Ok(true);
                }
            }
            Err(Failure::Output(e)) => return Err(e),
            Err(Failure::Input(e)) => {
                error_line(&e);
                rep.totals.errors += 1;
                builder.input(&rep.shown_file(&name), None);
            }
        }
    }
    out.flush().map_err(|e| Error::io("<stdout>", e))?;
    Ok(false)
}

/// Report-only modes and file outputs: files in parallel, reported in order.
fn parallel(
    cfg: &Config,
    sources: &[Source],
    rep: &mut Reporter<'_>,
    builder: &mut SummaryBuilder,
) -> Result<bool> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .build()
        .map_err(|e| Error::new(format!("cannot start worker threads: {e}")))?;
    let keep_raw = rep.keeps_raw();
    // A bar over files, only for a person at a terminal, and not over a text
    // report that is itself going to stderr.
    let quiet = cfg.quiet
        || (cfg.report.is_none() && cfg.mode == Mode::Filter && cfg.format == Format::Text);
    let bar = common::progress::items(Some(sources.len() as u64), quiet, "files");
    // Batches bound the memory held by finished-but-unreported files.
    for batch in sources.chunks(cfg.threads.max(1) * 4) {
        let results: Vec<FileResult> = pool.install(|| {
            batch
                .par_iter()
                .map(|src| scrub_file(cfg, src, keep_raw))
                .collect()
        });
        for r in results {
            for ev in r.events {
                rep.event(&r.name, ev)?;
            }
            if let Some(stats) = &r.stats {
                rep.totals.add(stats);
            }
            builder.input(&rep.shown_file(&r.name), r.sha256);
            if let Some(f) = r.error {
                bar.suspend(|| error_line(&f.into_error()));
                rep.totals.errors += 1;
            }
            bar.inc(1);
            if r.stats.is_some_and(|s| s.interrupted) {
                bar.finish_and_clear();
                return Ok(true);
            }
        }
        if common::interrupt::requested() {
            bar.finish_and_clear();
            return Ok(true);
        }
    }
    bar.finish_and_clear();
    Ok(false)
}

fn scrub_file(cfg: &Config, src: &Source, keep_raw: bool) -> FileResult {
    let mut res = FileResult {
        name: src.path.clone(),
        sha256: None,
        events: Vec::new(),
        stats: None,
        error: None,
    };
    // `--in-place` checks the file before opening it (a FIFO would block).
    let stamp = if cfg.in_place {
        match files::check_in_place(src) {
            Ok(s) => Some(s),
            Err(e) => {
                res.error = Some(Failure::Input(e));
                return res;
            }
        }
    } else {
        None
    };
    let mut input = match Input::open_path(&src.file) {
        Ok(i) => i,
        Err(e) => {
            res.error = Some(Failure::Input(e));
            return res;
        }
    };
    // A compressed file is refused before its copy is even opened.
    let name = input.name().to_string();
    let gzip = input.is_gzip();
    let mut reader = match opaque::screen(&name, input.reader()) {
        Ok(r) => r,
        Err(e) => {
            res.error = Some(Failure::Input(e));
            return res;
        }
    };
    let writes = cfg.mode == Mode::Filter;
    let mut target = if writes {
        match Target::open(src, cfg.out_dir.as_deref(), gzip) {
            Ok(t) => Some(t),
            Err(e) => {
                res.error = Some(Failure::Output(e));
                return res;
            }
        }
    } else {
        None
    };
    let out_name = target
        .as_ref()
        .map(|t| t.name().to_string())
        .unwrap_or_default();
    let events = &mut res.events;
    let result = process::process(
        &cfg.engine,
        &src.path,
        &mut reader,
        target.as_mut().map(|t| t.writer()),
        &out_name,
        keep_raw,
        &mut |ev| {
            events.push(ev);
            Ok(())
        },
    );
    drop(reader);
    res.sha256 = Some(input.sha256());
    match result {
        Err(f) => res.error = Some(f),
        Ok(stats) => {
            // An interrupted or failed file is never committed: the original stays whole.
            if let Some(t) = target {
                let untouched = cfg.in_place && stats.lines_changed == 0 && stats.quarantined == 0;
                if !stats.interrupted && !untouched {
                    let unchanged = match stamp {
                        Some(before) => files::unchanged_since(src, before),
                        None => Ok(()),
                    };
                    let committed = unchanged.and_then(|()| match &cfg.backup_suffix {
                        Some(suffix) if cfg.in_place => {
                            files::backup(src, suffix).and_then(|()| t.commit())
                        }
                        _ => t.commit(),
                    });
                    if let Err(e) = committed {
                        res.error = Some(Failure::Output(e));
                    }
                }
            }
            res.stats = Some(stats);
        }
    }
    res
}
