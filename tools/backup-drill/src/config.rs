//! The boundary between the command line and the work (parse, then
//! configure, then run): each subcommand's flags, checked and typed. The
//! work (`lib.rs`'s commands, `drill`, `backup`) takes these, never a clap
//! struct.

use std::path::PathBuf;

use common::cli::Format;
use common::{Error, Result};

use crate::cli::{self, Cli};

/// What to run, and how to show it.
#[derive(Debug)]
pub struct Config {
    pub format: Format,
    /// No progress bars (`-q`).
    pub quiet: bool,
    pub command: Command,
}

#[derive(Debug)]
pub enum Command {
    Drill(Drill),
    Backup {
        repo: PathBuf,
        sources: Sources,
        limits: Limits,
    },
    Restore(Restore),
    Verify(Verify),
    Check {
        repo: PathBuf,
        read_data: bool,
    },
    List {
        repo: PathBuf,
    },
}

/// Limits of the gates on what a snapshot holds.
#[derive(Clone, Debug)]
pub struct Limits {
    pub min_files: u64,
    pub max_not_backed_up: u64,
    pub max_changed: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_cli(cli::ContentGateArgs::default())
    }
}

impl Limits {
    fn from_cli(a: cli::ContentGateArgs) -> Limits {
        Limits {
            min_files: a.min_files,
            max_not_backed_up: a.max_not_backed_up,
            max_changed: a.max_changed,
        }
    }
}

/// What a backup takes in: at least one of them.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub dirs: Vec<PathBuf>,
    pub databases: Vec<PathBuf>,
    pub backup_cmd: Option<String>,
}

#[derive(Debug)]
pub struct Restore {
    pub snapshot: String,
    pub repo: PathBuf,
    pub to: PathBuf,
    pub force: bool,
    pub allow_outside_links: bool,
    pub restore_cmd: Option<String>,
}

#[derive(Debug)]
pub struct Verify {
    pub snapshot: String,
    pub repo: PathBuf,
    pub dir: PathBuf,
    pub verify_cmd: Option<String>,
}

#[derive(Debug, Default)]
pub struct Drill {
    /// None: a temporary repository, removed afterwards.
    pub repo: Option<PathBuf>,
    /// Empty with `no_backup`.
    pub sources: Sources,
    pub no_backup: bool,
    pub limits: Limits,
    pub restore_cmd: Option<String>,
    pub verify_cmd: Option<String>,
    pub max_rto_ms: Option<f64>,
    pub max_rpo_ms: Option<f64>,
    pub read_data: bool,
    pub self_test: bool,
    pub allow_outside_links: bool,
    pub scratch: Option<PathBuf>,
    pub keep: Option<PathBuf>,
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config> {
        let command = match cli.command {
            None => Command::Drill(Drill::from_cli(cli.drill)?),
            Some(cli::Command::Drill(a)) => Command::Drill(Drill::from_cli(a)?),
            Some(cli::Command::Backup(a)) => Command::Backup {
                repo: a.repo,
                sources: Sources::from_cli(a.sources)?,
                limits: Limits::from_cli(a.content),
            },
            Some(cli::Command::Restore(a)) => Command::Restore(Restore {
                snapshot: a.snapshot,
                repo: a.repo,
                to: a.to,
                force: a.force,
                allow_outside_links: a.allow_outside_links,
                restore_cmd: a.restore_cmd,
            }),
            Some(cli::Command::Verify(a)) => Command::Verify(Verify {
                snapshot: a.snapshot,
                repo: a.repo,
                dir: a.dir,
                verify_cmd: a.verify_cmd,
            }),
            Some(cli::Command::Check(a)) => Command::Check {
                repo: a.repo,
                read_data: a.read_data,
            },
            Some(cli::Command::List(a)) => Command::List { repo: a.repo },
        };
        Ok(Config {
            format: cli.format.format,
            quiet: cli.quiet.quiet,
            command,
        })
    }
}

impl Sources {
    fn from_cli(a: cli::SourceArgs) -> Result<Sources> {
        if a.source.is_empty() && a.sqlite.is_empty() && a.backup_cmd.is_none() {
            return Err(Error::usage("nothing to back up")
                .with_hint("give --source DIR, --sqlite FILE or --backup-cmd CMD"));
        }
        Ok(Sources {
            dirs: a.source,
            databases: a.sqlite,
            backup_cmd: a.backup_cmd,
        })
    }
}

impl Drill {
    fn from_cli(a: cli::DrillArgs) -> Result<Drill> {
        Ok(Drill {
            // --no-backup drills what is in --repo: clap refuses sources with it.
            sources: if a.no_backup {
                Sources::default()
            } else {
                Sources::from_cli(a.sources)?
            },
            repo: a.repo,
            no_backup: a.no_backup,
            limits: Limits::from_cli(a.content),
            restore_cmd: a.restore_cmd,
            verify_cmd: a.verify_cmd,
            max_rto_ms: a.max_rto,
            max_rpo_ms: a.max_rpo,
            read_data: a.read_data,
            self_test: a.self_test,
            allow_outside_links: a.allow_outside_links,
            scratch: a.scratch,
            keep: a.keep,
        })
    }
}
