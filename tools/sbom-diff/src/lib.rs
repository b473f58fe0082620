//! sbom-diff: dependency drift between two SBOMs or lockfiles, as a gate.
//!
//! `run` loads both inputs (`load`, then `formats`: detection and one
//! module per format), pairs their components (`diff`), applies `--allow`,
//! evaluates the gates, and writes the changes and the summary (`report`).

pub mod allow;
pub mod cli;
pub mod diff;
pub mod formats;
pub mod hashes;
pub mod license;
pub mod load;
pub mod message;
pub mod model;
pub mod purl;
pub mod report;
pub mod version;

use common::gate::Gate;
use common::summary::SummaryBuilder;
use common::{Error, Outcome, Result};

use crate::cli::Cli;
use crate::diff::ChangeKind;
use crate::load::load;
use crate::model::Options;

/// Runs one comparison as the command line asks.
pub fn run(cli: Cli) -> Result<Outcome> {
    let allow = match &cli.allow {
        Some(path) => allow::Allow::load(path)?,
        None => allow::Allow::default(),
    };
    if cli.old == "-" && cli.new == "-" {
        return Err(Error::usage("OLD and NEW cannot both be stdin ('-')"));
    }
    // Ctrl-C between phases still ends with a summary (interrupted, exit 130).
    common::interrupt::install()?;
    let mut summary = SummaryBuilder::new("sbom-diff", env!("CARGO_PKG_VERSION"));
    let opts = Options {
        allow_unversioned: cli.allow_unversioned,
    };
    // An input cut short by Ctrl-C is named, without a digest of the part read.
    let cut_short = |mut summary: SummaryBuilder, path: &str| {
        summary.input(if path == "-" { "<stdin>" } else { path }, None);
        interrupted(cli.format, summary)
    };
    let old = load(&cli.old, cli.from, cli.max_input_size, &opts);
    let mut old = match old {
        Err(_) if common::interrupt::requested() => return cut_short(summary, &cli.old),
        other => other?,
    };
    summary.input(&old.name, Some(old.sha256.clone()));
    let new = load(&cli.new, cli.to, cli.max_input_size, &opts);
    let mut new = match new {
        Err(_) if common::interrupt::requested() => {
            // Freeing millions of components would outlast the grace the
            // interrupt watchdog gives (1 s): the process ends now anyway.
            std::mem::forget(old);
            return cut_short(summary, &cli.new);
        }
        other => other?,
    };
    summary.input(&new.name, Some(new.sha256.clone()));
    if common::interrupt::requested() {
        std::mem::forget((old, new));
        return interrupted(cli.format, summary);
    }
    load::settle_empty(&mut old, new.kind, "--from")?;
    load::settle_empty(&mut new, old.kind, "--to")?;

    let mut d = diff::diff(&old.sbom, &new.sbom);
    if common::interrupt::requested() {
        std::mem::forget((old, new, d));
        return interrupted(cli.format, summary);
    }
    for c in &mut d.changes {
        let version = match (c.kind, c.old, c.new) {
            (ChangeKind::Removed, Some(i), _) => Some(old.sbom.components[i].version.as_str()),
            (_, _, Some(i)) => Some(new.sbom.components[i].version.as_str()),
            _ => None,
        };
        if let Some(rule) = allow.approves(c.kind, &c.id, version) {
            c.allowed = Some(rule.reason.clone());
        }
    }
    let f = diff::figures(&d, old.sbom.components.len());

    summary
        .figure("format_old", old.sbom.format)
        .figure("format_new", new.sbom.format)
        .figure("components_old", old.sbom.components.len())
        .figure("components_new", new.sbom.components.len());
    for k in ChangeKind::ALL {
        summary.figure(k.name(), f.counts[k.name()]);
    }
    summary
        .figure("changed", f.changed)
        .figure("unchanged", (d.pairs as u64).saturating_sub(f.changed))
        .figure("allowed", f.allowed)
        .figure("changes", f.changes)
        .figure("drift", round(f.drift));

    let mut gated = false;
    if let Some(limit) = cli.max_drift {
        summary.gate(Gate::at_most("drift", limit, round(f.drift)));
        gated = true;
    }
    if let Some(limit) = cli.max_added {
        summary.gate(Gate::at_most(
            "added",
            limit as f64,
            f.counts["added"] as f64,
        ));
        gated = true;
    }
    let mut kinds = cli.fail_on.clone();
    kinds.sort();
    kinds.dedup();
    for k in kinds {
        summary.gate(Gate::at_most(k.name(), 0.0, f.counts[k.name()] as f64));
        gated = true;
    }
    if !gated {
        // Like diff(1): without a gate, any counted change fails.
        summary.gate(Gate::at_most("changes", 0.0, f.changes as f64));
    }
    let summary = summary.finish(false);
    report::write(&mut report::writer(cli.format), &old, &new, &d, &summary)?;
    let outcome = summary.outcome();
    // The process ends here: handing 100,000 small allocations back to the
    // allocator one by one would take longer than the diff. The OS reclaims
    // the memory at exit.
    std::mem::forget((old, new, d));
    Ok(outcome)
}

/// Writes the summary of a run stopped by SIGINT/SIGTERM before its result:
/// the inputs read so far, no figures or gates, `interrupted: true`.
fn interrupted(format: cli::Format, summary: SummaryBuilder) -> Result<Outcome> {
    let summary = summary.finish(true);
    let mut out = report::writer(format);
    out.write(&summary)?;
    out.flush()?;
    Ok(summary.outcome())
}

/// Figures carry 9 decimals so records stay readable and stable.
fn round(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}
