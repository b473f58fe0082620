//! Command-line definition (clap derive). Nothing here can fail beyond clap's
//! own parsing; `lib.rs` turns these into typed work.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  # The durability gate in one command: back up, restore into a fresh temporary
  # place, verify every byte and every table, report RTO/RPO.
  backup-drill --source data/ --sqlite app.db --max-rto 8m --max-rpo 6h

  # Keep snapshots in a repository, then drill the newest one monthly.
  backup-drill backup --repo /srv/backups --source /etc/app --sqlite /var/app/app.db
  backup-drill drill --repo /srv/backups --no-backup --max-rpo 6h --self-test

  # The same drill as readable lines instead of JSON records.
  backup-drill --format text --source data/ --sqlite app.db

  # Restore a snapshot by id (or `latest`) and re-read all stored data.
  backup-drill restore latest --repo /srv/backups --to /tmp/restored
  backup-drill check --repo /srv/backups --read-data --format text

  # Drill Postgres through hooks and still get timing and verification.
  backup-drill --repo r --backup-cmd 'pg_dump app > \"$BACKUP_DRILL_OUT/app.sql\"' \\
      --restore-cmd 'psql scratch < \"$BACKUP_DRILL_IN/app.sql\"' \\
      --verify-cmd 'psql scratch -c \"select count(*) from users\"'

Repository (--repo DIR):
  config.json               format marker
  objects/ab/abcd...        file contents, named by sha256, stored once
  snapshots/ID.jsonl        one manifest per snapshot, written last, atomically
  tmp/                      objects being written (left over after a crash;
                            harmless, counted by `check` as tmp_files)

Restore layout: each --source DIR becomes TARGET/<basename of DIR>/, each
--sqlite FILE becomes TARGET/<basename of FILE>, backup-cmd output TARGET/hook/.

Hook environment (commands run with `sh -c`; their stdout goes to stderr):
  BACKUP_DRILL_REPO       the repository directory
  BACKUP_DRILL_SNAPSHOT   the snapshot id being written / restored / verified
  BACKUP_DRILL_OUT        backup-cmd: an empty directory to write the dump into;
                          its contents are stored in the snapshot as hook/
  BACKUP_DRILL_TARGET     restore-cmd, verify-cmd: the restore target directory
  BACKUP_DRILL_IN         restore-cmd, verify-cmd: TARGET/hook, the restored dump
  A failing backup-cmd aborts the backup (exit 2, no snapshot is written); a
  failing restore-cmd or verify-cmd fails the hook_failures gate (exit 1), and
  a failing verify-cmd is also a `mismatch` with what=verify_cmd.

Records (JSON Lines on stdout):
  step        step (backup|backup_cmd|restore|restore_cmd|verify|verify_cmd|
              check|self_test|cleanup), snapshot, files, bytes, duration_ms,
              result (ok|fail); backup adds new_objects, new_bytes, skipped;
              restore_cmd, verify_cmd and self_test add detail
  skipped     a source entry not backed up: path, type (fifo|socket|char_device|
              block_device|symlink|file|dir|unknown), reason (special file,
              vanished during backup, replaced during backup (a file that
              became a link, FIFO, ... after the walk; never followed))
  changed     a file that changed while it was read, twice: path, reason
              (changed during backup); stored as read
              Names are bytes: one that is not UTF-8 (or holds a backslash)
              is shown in path with \\ doubled and other bytes as \\xNN, and
              its exact bytes are in path_b64 (base64), in every record kind
  mismatch    verification found a difference: path, what (missing|extra|type|
              size|mode|mtime|sha256|link_target|integrity_check|
              foreign_key_check|table_missing|table_extra|rows|table_sha256|
              database_unreadable|verify_cmd), expected, actual (both values;
              mode as 4 octal digits, mtime as RFC 3339 with nanoseconds)
  check_error the repository is damaged: what (missing|size|sha256|unreadable|
              not_a_file|manifest), object, snapshots, detail
  snapshot    (list) id, created_at, files, bytes, sources, databases, hook;
              or id, error for a manifest that cannot be read
  summary     drill figures: snapshot, files, bytes, mismatches, check_errors,
              rto_ms (restore + verify, hooks included), rpo_ms (age of the
              restored snapshot when the restore began; null for a snapshot
              dated in the future, with snapshot_ahead_ms), skipped,
              not_backed_up, changed_during_backup, hook_bytes,
              new_objects, new_bytes, restored_to (--keep), cleanup_ms
              (removing the temporary restore); gates: rto_ms,
              rpo_ms, mismatches, check_errors, hook_failures, self_test,
              and (also for backup) files, not_backed_up,
              changed_during_backup, empty_databases (--sqlite), hook_bytes
              (--backup-cmd).
              backup: snapshot, files, bytes, new_objects, new_bytes, skipped,
              not_backed_up, changed_during_backup, duration_ms. restore: snapshot, files, bytes, duration_ms.
              verify: snapshot, files, bytes, mismatches. check: snapshots,
              objects, bytes, bytes_read, check_errors, unreferenced_objects,
              tmp_files, read_data. list: snapshots, unreadable.
              Interrupted: interrupted: true and an error figure; started_at
              is when the run began.

Content gates (drill and backup; drill --no-backup judges the stored snapshot):
  files >= --min-files (1)               an empty source or hook dump fails
  not_backed_up <= --max-not-backed-up (0)  entries left out: files replaced
                                         mid-backup (not FIFOs/sockets/devices,
                                         not files that vanished)
  changed_during_backup <= --max-changed (0)  files written while read twice
  empty_databases <= 0                   a --sqlite database with no table
  hook_bytes >= 1                        a --backup-cmd that wrote nothing

Exit status: 0 every gate passed, 1 a gate failed (mismatch, check error,
RTO/RPO exceeded, a content gate), 2 could not do the job (bad usage, unreadable source,
hostile or unreadable repository), 130 interrupted.";

/// Back up, restore into a clean place, prove nothing was lost, and time it.
#[derive(Debug, Parser)]
#[command(
    name = "backup-drill",
    version,
    about = "Back up, restore into a clean place, prove nothing was lost, and time it",
    long_about = "Back up directory trees and SQLite databases into a content-addressed \
        repository, restore a snapshot into a clean place, verify every file byte for byte \
        and every database table by row count and digest, and report RTO and RPO as gates.\n\n\
        Without a subcommand, runs `drill`.",
    after_long_help = EXAMPLES,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub drill: DrillArgs,

    #[command(flatten)]
    pub format: common::cli::FormatArg,

    #[command(flatten)]
    pub quiet: common::cli::QuietArg,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Take a snapshot of the sources into the repository.
    #[command(
        after_long_help = "Examples:\n  backup-drill backup --repo r --source data/ --sqlite app.db\n  backup-drill backup --repo r --backup-cmd 'pg_dump app > \"$BACKUP_DRILL_OUT/app.sql\"'"
    )]
    Backup(BackupArgs),
    /// Restore a snapshot into a directory (never writes outside it).
    #[command(
        after_long_help = "Examples:\n  backup-drill restore latest --repo r --to /tmp/restored\n  backup-drill restore 20261123T131100Z-1a2b3c4d --repo r --to out --force"
    )]
    Restore(RestoreArgs),
    /// Verify a restored directory against a snapshot's manifest.
    #[command(
        long_about = "Verify a restored directory against a snapshot's manifest: every \
            attribute the snapshot records is compared (type; mode, all 12 bits: setuid, setgid \
            and sticky too; size; content by sha256; a file's mtime to the nanosecond; a link's \
            target), each difference a `mismatch` record with both values. Owners are not \
            recorded, so not compared. A restore does not set a file's setuid/setgid bits, so \
            verify names every such file.",
        after_long_help = "Examples:\n  backup-drill verify latest --repo r --dir /tmp/restored\n  \
            cp -a /srv/data /tmp/copy/ && backup-drill verify latest --repo r --dir /tmp/copy"
    )]
    Verify(VerifyArgs),
    /// Prove the repository is intact: manifests parse, objects exist with
    /// the right size, and (--read-data) still match their sha256.
    #[command(
        after_long_help = "Examples:\n  backup-drill check --repo r\n  backup-drill check --repo r --read-data"
    )]
    Check(CheckArgs),
    /// List the snapshots in the repository, oldest first.
    #[command(after_long_help = "Examples:\n  backup-drill list --repo r")]
    List(ListArgs),
    /// Back up, restore into a fresh temporary place, verify, check, report.
    #[command(
        after_long_help = "Examples:\n  backup-drill drill --source data/ --sqlite app.db --max-rto 8m\n  backup-drill drill --repo r --no-backup --max-rpo 6h --self-test"
    )]
    Drill(DrillArgs),
}

/// What to back up.
#[derive(Debug, Args, Clone, Default)]
pub struct SourceArgs {
    /// A directory tree to back up (repeatable): regular files, modes,
    /// symlinks (kept as links), empty directories, names as bytes (UTF-8
    /// or not); special files are skipped with a `skipped` record.
    #[arg(long, value_name = "DIR")]
    pub source: Vec<PathBuf>,

    /// A SQLite database to back up with SQLite's online backup API
    /// (repeatable); consistent while other processes write.
    #[arg(long, value_name = "FILE")]
    pub sqlite: Vec<PathBuf>,

    /// Shell command that writes a dump into $BACKUP_DRILL_OUT; the dump is
    /// stored in the snapshot as hook/.
    #[arg(long, value_name = "CMD")]
    pub backup_cmd: Option<String>,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The repository directory (created if missing or empty).
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,

    #[command(flatten)]
    pub sources: SourceArgs,

    #[command(flatten)]
    pub content: ContentGateArgs,
}

/// Gates on what the snapshot holds (backup and drill, also --no-backup).
#[derive(Debug, Args, Clone)]
pub struct ContentGateArgs {
    /// Gate: the snapshot must hold at least N files (databases count).
    /// An empty --source, or a backup-cmd that wrote nothing, fails it.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_files: u64,

    /// Gate: at most N source entries may be left out of the snapshot
    /// (`skipped` records other than special files and files that vanished:
    /// a file replaced by a link or directory during the backup; in
    /// snapshots of older builds, names that are not UTF-8).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_not_backed_up: u64,

    /// Gate: at most N files may change while they are read, on both
    /// tries (`changed` records; such a file is stored as read and may mix
    /// old and new bytes).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_changed: u64,
}

impl Default for ContentGateArgs {
    fn default() -> Self {
        ContentGateArgs {
            min_files: 1,
            max_not_backed_up: 0,
            max_changed: 0,
        }
    }
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Snapshot id, a unique prefix of one, or `latest`.
    #[arg(value_name = "SNAPSHOT")]
    pub snapshot: String,

    /// The repository directory.
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,

    /// Where to restore (created if missing; must be empty unless --force).
    /// A new or empty target is filled in a hidden sibling directory and
    /// renamed into place when complete, so a failed restore leaves it
    /// empty; with --force into a non-empty one, files are written in place.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,

    /// Restore into a non-empty directory, replacing files in the way (each
    /// written under a temporary name and renamed over the old one, so a
    /// failure keeps the old file). A symlink in the way is replaced only by
    /// a symlink: a file or directory is never written where a link was
    /// planted (that is an error).
    #[arg(long)]
    pub force: bool,

    /// Also restore symlinks whose target leaves the restore directory
    /// (they are refused by default: the repository is untrusted input).
    #[arg(long)]
    pub allow_outside_links: bool,

    /// Shell command run after the files are restored (see Hook environment).
    #[arg(long, value_name = "CMD")]
    pub restore_cmd: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Snapshot id, a unique prefix of one, or `latest`.
    #[arg(value_name = "SNAPSHOT")]
    pub snapshot: String,

    /// The repository directory.
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,

    /// The restored directory to verify.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,

    /// Shell command that must exit 0 for the restore to count as verified.
    #[arg(long, value_name = "CMD")]
    pub verify_cmd: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The repository directory.
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,

    /// Re-read every stored object and prove it still matches its sha256.
    #[arg(long)]
    pub read_data: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The repository directory.
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,
}

#[derive(Debug, Args, Clone, Default)]
pub struct DrillArgs {
    /// The repository (default: a temporary one, removed afterwards).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    #[command(flatten)]
    pub sources: SourceArgs,

    #[command(flatten)]
    pub content: ContentGateArgs,

    /// Do not back up; drill the newest snapshot already in --repo.
    #[arg(long, requires = "repo", conflicts_with_all = ["source", "sqlite", "backup_cmd"])]
    pub no_backup: bool,

    /// Shell command run after the restore (see Hook environment).
    #[arg(long, value_name = "CMD")]
    pub restore_cmd: Option<String>,

    /// Shell command that must exit 0 for the drill to pass.
    #[arg(long, value_name = "CMD")]
    pub verify_cmd: Option<String>,

    /// Gate: restore + verify must take at most this long. Example: 8m
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration_ms)]
    pub max_rto: Option<f64>,

    /// Gate: the restored snapshot must be at most this old. Example: 6h
    #[arg(long, value_name = "DURATION", value_parser = common::cli::duration_ms)]
    pub max_rpo: Option<f64>,

    /// Re-read every object in the repository in the check step.
    #[arg(long)]
    pub read_data: bool,

    /// Also corrupt one stored object in a scratch copy of the repository
    /// and prove `check` catches it.
    #[arg(long)]
    pub self_test: bool,

    /// Restore symlinks whose target leaves the restore directory.
    #[arg(long)]
    pub allow_outside_links: bool,

    /// Where to make the temporary restore directory (default: $TMPDIR).
    #[arg(long, value_name = "DIR")]
    pub scratch: Option<PathBuf>,

    /// Keep the restored copy in this (new or empty) directory instead of a
    /// temporary one, e.g. to start services on it.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definition_is_consistent() {
        super::command().debug_assert();
    }
}
