//! The boundary between the command line and the work (parse, then
//! configure, then run): what `cli.rs` parsed, checked and typed, with the
//! allow rules loaded. Nothing past here sees a clap struct.

use common::gate::Gate;
use common::{Error, Result};

use crate::allow::Allow;
use crate::cli::{Cli, Format};
use crate::diff::{ChangeKind, Figures};
use crate::model::{Kind, Options};

/// One comparison, checked.
#[derive(Debug)]
pub struct Config {
    /// The baseline and the new bill of materials (paths, or `-`), each
    /// with the format it is read as (`Auto`: detected).
    pub old: (String, Kind),
    pub new: (String, Kind),
    pub max_input_size: u64,
    pub parse: Options,
    pub allow: Allow,
    pub max_drift: Option<f64>,
    pub max_added: Option<u64>,
    /// `--fail-on`, sorted and without repeats.
    pub fail_on: Vec<ChangeKind>,
    pub format: Format,
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config> {
        let allow = match &cli.allow {
            Some(path) => Allow::load(path)?,
            None => Allow::default(),
        };
        if cli.old == "-" && cli.new == "-" {
            return Err(Error::usage("OLD and NEW cannot both be stdin ('-')"));
        }
        refuse_same_file(&cli.old, &cli.new)?;
        let mut fail_on = cli.fail_on;
        fail_on.sort();
        fail_on.dedup();
        Ok(Config {
            old: (cli.old, cli.from),
            new: (cli.new, cli.to),
            max_input_size: cli.max_input_size,
            parse: Options {
                allow_unversioned: cli.allow_unversioned,
            },
            allow,
            max_drift: cli.max_drift,
            max_added: cli.max_added,
            fail_on,
            format: cli.format.format,
        })
    }

    /// The gates asked for, judged on `f` (`drift` already rounded); with
    /// none, any counted change fails, as diff(1) does.
    pub fn gates(&self, f: &Figures, drift: f64) -> Vec<Gate> {
        let mut gates = Vec::new();
        if let Some(limit) = self.max_drift {
            gates.push(Gate::at_most("drift", limit, drift));
        }
        if let Some(limit) = self.max_added {
            let added = f.counts["added"] as f64;
            gates.push(Gate::at_most("added", limit as f64, added));
        }
        for k in &self.fail_on {
            gates.push(Gate::at_most(k.name(), 0.0, f.counts[k.name()] as f64));
        }
        if gates.is_empty() {
            gates.push(Gate::at_most("changes", 0.0, f.changes as f64));
        }
        gates
    }
}

/// Comparing a file with itself proves nothing and always passes (a
/// Makefile's `$(BASELINE) $(BASELINE)`): refused when OLD and NEW are the
/// same file (device and inode: also through a symlink or a hard link).
/// Two files with the same bytes are a comparison like any other (no drift).
fn refuse_same_file(old: &str, new: &str) -> Result<()> {
    let a = common::input::file_id(old);
    if a.is_none() || a != common::input::file_id(new) {
        return Ok(());
    }
    let named = if old == new {
        format!("{old} twice")
    } else {
        format!("{old} and {new} are one file (a link)")
    };
    Err(Error::usage(format!(
        "OLD and NEW are the same file ({named}): comparing a file with itself proves nothing"
    ))
    .with_hint("OLD is the baseline (the last release's SBOM or lockfile), NEW this build's"))
}
