//! The boundary between the command line and the work (parse, then
//! configure, then run): each subcommand's flags, checked (role names,
//! `--commit`, `--release`, the incident gate) and defaulted (checkpoint
//! paths, time fields) before any key is read or file touched. `lib.rs`
//! runs a `Config`, never a clap struct.

use std::path::PathBuf;

use common::cli::Format;
use common::{Error, Result};

use crate::cli::{self, ChainCommand, Cli};
use crate::seal::SealConfig;
use crate::timeline::{IncidentGate, TimelineConfig};

/// What to run, and how to show it.
#[derive(Debug)]
pub struct Config {
    pub format: Format,
    /// No progress bars (`-q`).
    pub quiet: bool,
    pub command: Command,
}

/// A secret key and, when it is encrypted, the file holding its passphrase.
#[derive(Debug)]
pub struct SecretKeyFile {
    pub path: PathBuf,
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug)]
pub enum Command {
    Keygen {
        public: PathBuf,
        secret: PathBuf,
        /// None: unencrypted (`-W`).
        passphrase_file: Option<PathBuf>,
        force: bool,
    },
    Seal(SealConfig),
    Verify {
        dir: PathBuf,
        check: Check,
    },
    Pack {
        dir: PathBuf,
        output: PathBuf,
    },
    Unpack {
        archive: PathBuf,
        dir: PathBuf,
        check: Check,
    },
    ChainAppend {
        log: PathBuf,
        input: String,
        key: Option<SecretKeyFile>,
    },
    ChainCheckpoint {
        log: PathBuf,
        checkpoint: PathBuf,
        key: SecretKeyFile,
    },
    ChainVerify {
        log: PathBuf,
        /// `--checkpoint`, or LOG.checkpoint when it exists.
        checkpoint: Option<PathBuf>,
        public: Option<String>,
        require_signed: bool,
    },
    Sign {
        files: Vec<PathBuf>,
        key: SecretKeyFile,
        trusted_comment: Option<String>,
    },
    VerifyFile {
        file: PathBuf,
        sig: Option<PathBuf>,
        public: String,
    },
    Decide(Decide),
    Timeline(TimelineConfig),
}

/// What `verify` and `unpack` hold a bundle to.
#[derive(Debug)]
pub struct Check {
    pub public: String,
    pub integrity_only: bool,
    pub release: Option<String>,
    pub commit: Option<String>,
    pub require_signoff: Vec<String>,
    pub trusted_keys: Option<PathBuf>,
}

#[derive(Debug)]
pub struct Decide {
    pub dir: PathBuf,
    pub go: bool,
    pub by: String,
    pub role: Option<String>,
    pub note: Option<String>,
    pub override_reason: Option<String>,
    pub key: SecretKeyFile,
    pub public: Option<String>,
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config> {
        use cli::Command as C;
        let key = |path, passphrase_file| SecretKeyFile {
            path,
            passphrase_file,
        };
        let command = match cli.command {
            C::Keygen(a) => Command::Keygen {
                public: a.public,
                secret: a.secret,
                passphrase_file: a.passphrase_file,
                force: a.force,
            },
            C::Seal(a) => Command::Seal(SealConfig {
                dir: a.dir,
                key: a.key,
                passphrase_file: a.passphrase_file,
                quiet: cli.quiet.quiet,
                release: a.release,
                commit: a.commit,
            }),
            C::Verify(a) => Command::Verify {
                dir: a.dir,
                check: Check::from_cli(a.check)?,
            },
            C::Pack(a) => Command::Pack {
                dir: a.dir,
                output: a.output,
            },
            C::Unpack(a) => Command::Unpack {
                archive: a.archive,
                dir: a.dir,
                check: Check::from_cli(a.check)?,
            },
            C::Chain(ChainCommand::Append(a)) => Command::ChainAppend {
                log: a.log,
                input: a.input,
                key: a.key.map(|k| key(k, a.passphrase_file)),
            },
            C::Chain(ChainCommand::Checkpoint(a)) => Command::ChainCheckpoint {
                checkpoint: a
                    .checkpoint
                    .unwrap_or_else(|| crate::chain::default_checkpoint(&a.log)),
                log: a.log,
                key: key(a.key, a.passphrase_file),
            },
            C::Chain(ChainCommand::Verify(a)) => Command::ChainVerify {
                checkpoint: a.checkpoint.or_else(|| {
                    Some(crate::chain::default_checkpoint(&a.log)).filter(|p| p.exists())
                }),
                log: a.log,
                public: a.public,
                require_signed: a.require_signed,
            },
            C::Sign(a) => Command::Sign {
                files: a.files,
                key: key(a.key, a.passphrase_file),
                trusted_comment: a.trusted_comment,
            },
            C::VerifyFile(a) => Command::VerifyFile {
                file: a.file,
                sig: a.sig,
                public: a.public,
            },
            C::Decide(a) => Command::Decide(Decide {
                dir: a.dir,
                go: a.decision == cli::DecisionArg::Go,
                by: a.by,
                role: a.role,
                note: a.note,
                override_reason: a.override_reason,
                key: key(a.key, a.passphrase_file),
                public: a.public,
            }),
            C::Timeline(a) => Command::Timeline(timeline_config(a)?),
        };
        Ok(Config {
            format: cli.format.format,
            quiet: cli.quiet.quiet,
            command,
        })
    }
}

impl Check {
    fn from_cli(check: cli::CheckArgs) -> Result<Check> {
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
            crate::seal::check_release(r)?;
        }
        Ok(Check {
            public: check.public,
            integrity_only: check.integrity_only,
            release: check.release,
            commit: check.commit,
            require_signoff: check.require_signoff,
            trusted_keys: check.trusted_keys,
        })
    }
}

fn timeline_config(a: cli::TimelineArgs) -> Result<TimelineConfig> {
    if a.require_sections.iter().any(|s| s.trim().is_empty()) {
        return Err(Error::usage("--require-sections: empty section name"));
    }
    let fields = if a.time_field.is_empty() {
        let default = crate::timeline::DEFAULT_FIELDS.iter();
        default.map(|s| s.to_string()).collect()
    } else {
        a.time_field
    };
    let incidents = IncidentGate::from_cli(
        a.window,
        a.max_critical,
        a.as_of.as_deref(),
        &a.severity_field,
    )?;
    Ok(TimelineConfig {
        dir: a.dir,
        fields,
        require_sections: a.require_sections,
        skip_invalid: a.skip_invalid,
        buffer_size: a.buffer_size,
        incidents,
    })
}
