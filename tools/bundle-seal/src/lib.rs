//! `bundle-seal`: the signed evidence bundle and the release verdict.
//!
//! `seal` hashes a bundle directory, gathers every gate from the tools'
//! summary records, and signs MANIFEST.json with a minisign-compatible key;
//! `verify` checks it; `pack`/`unpack` move it as a reproducible tar; the
//! receipt `chain` is a tamper-evident audit log; `timeline` rebuilds an
//! incident's order of events. Each subcommand lives in its own module.

pub mod canonical;
pub mod chain;
pub mod cli;
pub mod decide;
pub mod decisions;
pub mod external_sort;
pub mod keys;
pub mod manifest;
pub mod minisign;
pub mod pack;
pub mod scan;
pub mod seal;
pub mod sign;
pub mod strict_json;
pub mod text;
pub mod timeline;
pub mod utf16;
pub mod verify;
pub mod walk;

use common::output::RecordWriter;
use common::{Error, Outcome, Result};

use crate::cli::{ChainCommand, Cli, Command};

/// Runs one subcommand; records go to stdout.
pub fn run(cli: Cli) -> Result<Outcome> {
    let mut out = writer(RecordWriter::stdout(), cli.format);
    // Ctrl-C while hashing: stop, write the summary marked interrupted, exit 130.
    if matches!(
        cli.command,
        Command::Seal(_) | Command::Verify(_) | Command::Unpack(_) | Command::Decide(_)
    ) {
        common::interrupt::install()?;
    }
    match cli.command {
        Command::Keygen(a) => {
            let pass = match &a.passphrase_file {
                Some(p) => Some(keys::read_passphrase(p)?),
                None => None,
            };
            let rec = keys::keygen(
                &a.public,
                &a.secret,
                pass.as_deref(),
                minisign::Kdf::default(),
                a.force,
            )?;
            out.write(&rec)?;
            out.flush()?;
            Ok(Outcome::Pass)
        }
        Command::Seal(a) => seal::seal(
            &seal::SealConfig {
                dir: &a.dir,
                key: &a.key,
                passphrase_file: a.passphrase_file.as_deref(),
                quiet: a.quiet,
                release: a.release.as_deref(),
                commit: a.commit.as_deref(),
            },
            &mut out,
        ),
        Command::Verify(a) => {
            let key = keys::load_public(&a.check.public)?;
            let trusted = trusted_keys(&a.check)?;
            verify::verify(
                &check_config(&a.dir, &key, &a.check, trusted.as_ref()),
                &mut out,
            )
        }
        Command::Decide(a) => {
            let key = keys::load_secret(&a.key, a.passphrase_file.as_deref())?;
            let public = match &a.public {
                Some(p) => Some(keys::load_public(p)?),
                None => None,
            };
            decide::decide(
                &decide::DecideConfig {
                    dir: &a.dir,
                    go: a.decision == cli::DecisionArg::Go,
                    by: &a.by,
                    role: a.role.as_deref(),
                    note: a.note.as_deref(),
                    override_reason: a.override_reason.as_deref(),
                    key: &key,
                    public: public.as_ref(),
                    quiet: a.quiet,
                },
                &mut out,
            )
        }
        Command::Pack(a) => {
            // With the archive on stdout, the records go to stderr.
            let mut out = if pack::is_stdout(&a.output) {
                writer(RecordWriter::stderr(), cli.format)
            } else {
                out
            };
            let mut summary = common::summary::SummaryBuilder::new(seal::TOOL, seal::VERSION);
            let packed = pack::pack(&a.dir, &a.output)?;
            out.write(&packed.archive)?;
            summary.input(
                &a.dir.display().to_string(),
                Some(packed.manifest_sha256.clone()),
            );
            summary.figure("path", &packed.archive.path);
            summary.figure("entries", packed.archive.entries);
            summary.figure("bytes", packed.archive.bytes);
            summary.figure("sha256", &packed.archive.sha256);
            summary.figure("compression", packed.archive.compression);
            summary.figure("manifest_sha256", &packed.manifest_sha256);
            summary.figure("release_verdict", packed.release_verdict);
            let s = summary.finish(false);
            out.write(&s)?;
            out.flush()?;
            Ok(s.outcome())
        }
        Command::Unpack(a) => {
            // Load the keys first: a typo should not leave an extracted tree.
            let key = keys::load_public(&a.check.public)?;
            let trusted = trusted_keys(&a.check)?;
            pack::unpack(&a.archive, &a.dir)?;
            verify::verify(
                &check_config(&a.dir, &key, &a.check, trusted.as_ref()),
                &mut out,
            )
        }
        Command::Chain(ChainCommand::Append(a)) => {
            let key = match &a.key {
                Some(k) => Some(keys::load_secret(k, a.passphrase_file.as_deref())?),
                None => None,
            };
            chain::append(&a.log, &a.input, key.as_ref(), &mut out)
        }
        Command::Chain(ChainCommand::Checkpoint(a)) => {
            let key = keys::load_secret(&a.key, a.passphrase_file.as_deref())?;
            let cp = a
                .checkpoint
                .clone()
                .unwrap_or_else(|| chain::default_checkpoint(&a.log));
            chain::checkpoint(&a.log, &cp, &key, &mut out)
        }
        Command::Chain(ChainCommand::Verify(a)) => {
            let key = match &a.public {
                Some(k) => Some(keys::load_public(k)?),
                None => None,
            };
            let cp = match &a.checkpoint {
                Some(p) => Some(p.clone()),
                None => Some(chain::default_checkpoint(&a.log)).filter(|p| p.exists()),
            };
            chain::verify(
                &a.log,
                cp.as_deref(),
                key.as_ref(),
                a.require_signed,
                &mut out,
            )
        }
        Command::Sign(a) => {
            let key = keys::load_secret(&a.key, a.passphrase_file.as_deref())?;
            for file in &a.files {
                let rec = sign::sign_file(file, &key, a.trusted_comment.as_deref())?;
                out.write(&rec)?;
            }
            out.flush()?;
            Ok(Outcome::Pass)
        }
        Command::VerifyFile(a) => {
            let key = keys::load_public(&a.public)?;
            sign::verify_file(&a.file, a.sig.as_deref(), &key, &mut out)
        }
        Command::Timeline(a) => {
            if a.require_sections.iter().any(|s| s.trim().is_empty()) {
                return Err(Error::usage("--require-sections: empty section name"));
            }
            let fields = if a.time_field.is_empty() {
                timeline::DEFAULT_FIELDS
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            } else {
                a.time_field.clone()
            };
            timeline::timeline(
                &timeline::TimelineConfig {
                    dir: &a.dir,
                    fields,
                    require_sections: a.require_sections.clone(),
                    skip_invalid: a.skip_invalid,
                    buffer_size: a.buffer_size,
                    incidents: timeline::IncidentGate::from_cli(
                        a.window,
                        a.max_critical,
                        a.as_of.as_deref(),
                        &a.severity_field,
                    )?,
                },
                &mut out,
            )
        }
    }
}

/// Records as `--format` asks: JSON Lines, or text as [`text::TEXT`] says.
fn writer(out: RecordWriter, format: common::cli::Format) -> RecordWriter {
    match format {
        common::cli::Format::Jsonl => out,
        common::cli::Format::Text => out.rendered(text::TEXT),
    }
}

fn trusted_keys(check: &cli::CheckArgs) -> Result<Option<decisions::TrustedKeys>> {
    if check.require_signoff.iter().any(|r| r.trim().is_empty()) {
        return Err(Error::usage("--require-signoff: empty role name"));
    }
    if let Some(c) = &check.commit {
        if !(7..=64).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::usage(format!(
                "--commit {c}: not a commit id (7 to 64 hex digits)"
            )));
        }
    }
    if let Some(r) = &check.release {
        seal::check_release(r)?;
    }
    check
        .trusted_keys
        .as_deref()
        .map(decisions::TrustedKeys::load)
        .transpose()
}

fn check_config<'a>(
    dir: &'a std::path::Path,
    key: &'a minisign::PublicKey,
    check: &'a cli::CheckArgs,
    trusted: Option<&'a decisions::TrustedKeys>,
) -> verify::VerifyConfig<'a> {
    verify::VerifyConfig {
        dir,
        key,
        integrity_only: check.integrity_only,
        quiet: check.quiet,
        release: check.release.as_deref(),
        commit: check.commit.as_deref(),
        require_signoff: &check.require_signoff,
        trusted,
    }
}
