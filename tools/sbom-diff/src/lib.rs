//! sbom-diff: dependency drift between two SBOMs or lockfiles, as a gate.
//!
//! `run` checks the command line into a `Config` (`config`), loads both
//! inputs (`load`, then `formats`: detection and one module per format),
//! pairs their components (`diff`), applies `--allow`, evaluates the gates,
//! and writes the changes and the summary (`report`).

pub mod allow;
pub mod cli;
pub mod config;
pub mod diff;
pub mod formats;
pub mod hashes;
pub mod license;
pub mod load;
pub mod message;
pub mod model;
pub mod purl;
pub mod report;
pub mod source;
pub mod version;

use common::summary::SummaryBuilder;
use common::{Outcome, Result};

use crate::cli::Cli;
use crate::config::Config;
use crate::diff::ChangeKind;
use crate::load::load;

/// Runs one comparison as the command line asks.
pub fn run(cli: Cli) -> Result<Outcome> {
    compare(&Config::from_cli(cli)?)
}

/// Loads both inputs, diffs them, applies the allow rules, judges the
/// gates and writes the changes and the summary.
pub fn compare(cfg: &Config) -> Result<Outcome> {
    // Ctrl-C between phases still ends with a summary (interrupted, exit 130).
    common::interrupt::install()?;
    let mut summary = SummaryBuilder::new("sbom-diff", env!("CARGO_PKG_VERSION"));
    // An input cut short by Ctrl-C is named, without a digest of the part read.
    let cut_short = |mut summary: SummaryBuilder, path: &str| {
        summary.input(if path == "-" { "<stdin>" } else { path }, None);
        interrupted(cfg.format, summary)
    };
    let ((old_path, old_kind), (new_path, new_kind)) = (&cfg.old, &cfg.new);
    let old = load(old_path, *old_kind, cfg.max_input_size, &cfg.parse);
    let mut old = match old {
        Err(_) if common::interrupt::requested() => return cut_short(summary, old_path),
        other => other?,
    };
    summary.input(&old.name, Some(old.sha256.clone()));
    let new = load(new_path, *new_kind, cfg.max_input_size, &cfg.parse);
    let mut new = match new {
        Err(_) if common::interrupt::requested() => {
            // Freeing millions of components would outlast the grace the
            // interrupt watchdog gives (1 s): the process ends now anyway.
            std::mem::forget(old);
            return cut_short(summary, new_path);
        }
        other => other?,
    };
    summary.input(&new.name, Some(new.sha256.clone()));
    if common::interrupt::requested() {
        std::mem::forget((old, new));
        return interrupted(cfg.format, summary);
    }
    load::settle_empty(&mut old, new.kind, "--from")?;
    load::settle_empty(&mut new, old.kind, "--to")?;
    model::promote_locals(&mut old.sbom, &mut new.sbom);
    load::refuse_empty(&old, &new)?;

    let mut d = diff::diff(&old.sbom, &new.sbom);
    if common::interrupt::requested() {
        std::mem::forget((old, new, d));
        return interrupted(cfg.format, summary);
    }
    for c in &mut d.changes {
        let version = match (c.kind, c.old, c.new) {
            (ChangeKind::Removed, Some(i), _) => Some(old.sbom.components[i].version.as_str()),
            (_, _, Some(i)) => Some(new.sbom.components[i].version.as_str()),
            _ => None,
        };
        if let Some(rule) = cfg.allow.approves(c.kind, &c.id, version) {
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
    for gate in cfg.gates(&f, round(f.drift)) {
        summary.gate(gate);
    }
    let summary = summary.finish(false);
    report::write(&mut report::writer(cfg.format), &old, &new, &d, &summary)?;
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
