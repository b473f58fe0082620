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
pub mod config;
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

use std::path::Path;

use common::output::RecordWriter;
use common::{Outcome, Result};

use crate::cli::Cli;
use crate::config::{Check, Command, Config, SecretKeyFile};

/// Runs one subcommand; records go to stdout.
pub fn run(cli: Cli) -> Result<Outcome> {
    execute(Config::from_cli(cli)?)
}

/// Runs one checked command line.
pub fn execute(cfg: Config) -> Result<Outcome> {
    let mut out = writer(RecordWriter::stdout(), cfg.format);
    let quiet = cfg.quiet;
    // Ctrl-C (or SIGTERM) in any subcommand: stop at the next poll, remove
    // temporary files, write the summary marked interrupted, exit 130/143.
    // Where no flag can be polled (scrypt, a blocked read), the watchdog
    // exits with the same status after its grace; outputs are atomic.
    common::interrupt::install()?;
    match cfg.command {
        Command::Keygen {
            public,
            secret,
            passphrase_file,
            force,
        } => {
            let pass = match &passphrase_file {
                Some(p) => Some(keys::read_passphrase(p)?),
                None => None,
            };
            let Some(rec) = keys::keygen(
                &public,
                &secret,
                pass.as_deref(),
                minisign::Kdf::default(),
                force,
            )?
            else {
                let summary = common::summary::SummaryBuilder::new(seal::TOOL, seal::VERSION);
                return interrupted(summary, &mut out);
            };
            out.write(&rec)?;
            out.flush()?;
            Ok(Outcome::Pass)
        }
        Command::Seal(seal) => seal::seal(&seal, &mut out),
        Command::Verify { dir, check } => verify(&dir, &check, quiet, &mut out),
        Command::Decide(d) => {
            let key = load_secret(&d.key)?;
            let public = match &d.public {
                Some(p) => Some(keys::load_public(p)?),
                None => None,
            };
            decide::decide(
                &decide::DecideConfig {
                    dir: &d.dir,
                    go: d.go,
                    by: &d.by,
                    role: d.role.as_deref(),
                    note: d.note.as_deref(),
                    override_reason: d.override_reason.as_deref(),
                    key: &key,
                    public: public.as_ref(),
                    quiet,
                },
                &mut out,
            )
        }
        Command::Pack { dir, output } => {
            // With the archive on stdout, the records go to stderr.
            let mut out = if pack::is_stdout(&output) {
                writer(RecordWriter::stderr(), cfg.format)
            } else {
                out
            };
            let mut summary = common::summary::SummaryBuilder::new(seal::TOOL, seal::VERSION);
            let Some(packed) = pack::pack(&dir, &output)? else {
                summary.input(&dir.display().to_string(), None);
                return interrupted(summary, &mut out);
            };
            out.write(&packed.archive)?;
            summary.input(
                &dir.display().to_string(),
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
        Command::Unpack {
            archive,
            dir,
            check,
        } => {
            // Load the keys first: a typo should not leave an extracted tree.
            let key = keys::load_public(&check.public)?;
            let trusted = trusted_keys(&check)?;
            pack::unpack(&archive, &dir)?;
            verify_with(&dir, &check, &key, trusted.as_ref(), quiet, &mut out)
        }
        Command::ChainAppend { log, input, key } => {
            let key = key.as_ref().map(load_secret).transpose()?;
            chain::append(&log, &input, key.as_ref(), &mut out)
        }
        Command::ChainCheckpoint {
            log,
            checkpoint,
            key,
        } => chain::checkpoint(&log, &checkpoint, &load_secret(&key)?, &mut out),
        Command::ChainVerify {
            log,
            checkpoint,
            public,
            require_signed,
        } => {
            let key = public.as_deref().map(keys::load_public).transpose()?;
            chain::verify(
                &log,
                checkpoint.as_deref(),
                key.as_ref(),
                require_signed,
                &mut out,
            )
        }
        Command::Sign {
            files,
            key,
            trusted_comment,
        } => {
            let key = load_secret(&key)?;
            for file in &files {
                // Files signed before Ctrl-C keep their signatures (each
                // written atomically); the one being hashed gets none.
                let Some(rec) = sign::sign_file(file, &key, trusted_comment.as_deref())? else {
                    let mut summary =
                        common::summary::SummaryBuilder::new(seal::TOOL, seal::VERSION);
                    summary.input(&file.display().to_string(), None);
                    return interrupted(summary, &mut out);
                };
                out.write(&rec)?;
            }
            out.flush()?;
            Ok(Outcome::Pass)
        }
        Command::VerifyFile { file, sig, public } => {
            let key = keys::load_public(&public)?;
            sign::verify_file(&file, sig.as_deref(), &key, &mut out)
        }
        Command::Timeline(t) => timeline::timeline(&t, &mut out),
    }
}

/// The summary of a subcommand stopped by Ctrl-C or SIGTERM: verdict fail,
/// `interrupted: true`, exit 130/143.
fn interrupted(
    summary: common::summary::SummaryBuilder,
    out: &mut RecordWriter,
) -> Result<Outcome> {
    let s = summary.finish(true);
    out.write(&s)?;
    out.flush()?;
    Ok(s.outcome())
}

/// Records as `--format` asks: JSON Lines, or text as [`text::TEXT`] says.
fn writer(out: RecordWriter, format: common::cli::Format) -> RecordWriter {
    match format {
        common::cli::Format::Jsonl => out,
        common::cli::Format::Text => out.rendered(text::TEXT),
    }
}

fn load_secret(key: &SecretKeyFile) -> Result<minisign::SecretKey> {
    keys::load_secret(&key.path, key.passphrase_file.as_deref())
}

fn trusted_keys(check: &Check) -> Result<Option<decisions::TrustedKeys>> {
    check
        .trusted_keys
        .as_deref()
        .map(decisions::TrustedKeys::load)
        .transpose()
}

fn verify(dir: &Path, check: &Check, quiet: bool, out: &mut RecordWriter) -> Result<Outcome> {
    let key = keys::load_public(&check.public)?;
    let trusted = trusted_keys(check)?;
    verify_with(dir, check, &key, trusted.as_ref(), quiet, out)
}

fn verify_with(
    dir: &Path,
    check: &Check,
    key: &minisign::PublicKey,
    trusted: Option<&decisions::TrustedKeys>,
    quiet: bool,
    out: &mut RecordWriter,
) -> Result<Outcome> {
    verify::verify(
        &verify::VerifyConfig {
            dir,
            key,
            integrity_only: check.integrity_only,
            quiet,
            release: check.release.as_deref(),
            commit: check.commit.as_deref(),
            require_signoff: &check.require_signoff,
            trusted,
        },
        out,
    )
}
