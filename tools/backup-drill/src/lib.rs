//! backup-drill: back up files and SQLite databases into a content-addressed
//! repository, restore a snapshot into a clean place, prove nothing was lost,
//! and time it (RTO/RPO gates).
//!
//! `run` checks the command line into a `Config` (`config`) and dispatches
//! to one function per subcommand; each writes its records
//! to stdout as its steps finish (flushed, so a pipeline sees progress) and
//! ends with a summary. The summary is started before any work, so one
//! written on an interrupt still says when the run began.

pub mod backup;
pub mod check;
pub mod cli;
pub mod config;
pub mod dirfd;
pub mod hooks;
pub mod manifest;
pub mod name;
pub mod repo;
pub mod restore;
pub mod sqlite;
pub mod text;
pub mod verify;

mod drill;

use std::path::Path;

use common::gate::Gate;
use common::output::RecordWriter;
use common::summary::SummaryBuilder;
use common::{Outcome, Result};
use serde::Serialize;

use crate::cli::Cli;
use crate::config::{Command, Config, Limits, Restore, Sources, Verify};
use crate::hooks::HookEnv;
use crate::repo::Repo;

pub const TOOL: &str = "backup-drill";
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A `step` record.
#[derive(Debug, Default, Serialize)]
pub struct Step {
    pub kind: &'static str,
    pub step: &'static str,
    /// Empty (and left out) for `check`, which covers every snapshot.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub snapshot: String,
    pub files: u64,
    pub bytes: u64,
    pub duration_ms: f64,
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_objects: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Step {
    pub fn new(step: &'static str, snapshot: &str, ok: bool) -> Step {
        Step {
            kind: "step",
            step,
            snapshot: snapshot.to_string(),
            result: if ok { "ok" } else { "fail" },
            ..Step::default()
        }
    }
}

/// How long after SIGINT/SIGTERM the drill may take to clean up and write
/// its summary before the watchdog ends it.
const INTERRUPT_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<Outcome> {
    execute(Config::from_cli(cli)?)
}

/// Runs one checked command line.
pub fn execute(cfg: Config) -> Result<Outcome> {
    // After a signal the drill still removes its scratch repository and
    // restore tree (a full copy of the source) before the summary: bounded,
    // but longer than the default 1 s on a big tree or a loaded machine,
    // where the watchdog cut the summary off (seen in the Ctrl-C test).
    common::interrupt::install_with(INTERRUPT_GRACE, None)?;
    let mut out = match cfg.format {
        common::cli::Format::Jsonl => RecordWriter::stdout(),
        common::cli::Format::Text => RecordWriter::stdout().rendered(text::TEXT),
    };
    let mut summary = SummaryBuilder::new(TOOL, VERSION);
    let s = &mut summary;
    let quiet = cfg.quiet;
    let outcome = match &cfg.command {
        Command::Drill(args) => drill::drill(args, quiet, &mut out, s),
        Command::Backup {
            repo,
            sources,
            limits,
        } => cmd_backup(repo, sources, limits, quiet, &mut out, s),
        Command::Restore(args) => cmd_restore(args, &mut out, s),
        Command::Verify(args) => cmd_verify(args, &mut out, s),
        Command::Check { repo, read_data } => cmd_check(repo, *read_data, quiet, &mut out, s),
        Command::List { repo } => cmd_list(repo, &mut out, s),
    };
    let outcome = match outcome {
        // Interrupted: the summary so far (its start time, inputs and
        // figures already known), marked interrupted.
        Err(e) if common::interrupt::requested() && !e.is_broken_pipe() => {
            summary.figure("error", e.to_string());
            out.write(&summary.finish(true))?;
            Ok(Outcome::Interrupted)
        }
        other => other,
    };
    out.flush()?;
    outcome
}

/// Runs a restore/verify hook and writes its step; true when it passed.
pub(crate) fn run_hook(
    step: &'static str,
    cmd: &str,
    env: &HookEnv,
    out: &mut RecordWriter,
) -> Result<(bool, f64)> {
    let run = hooks::run(step, cmd, env)?;
    let mut rec = Step::new(step, &env.snapshot, run.ok);
    rec.duration_ms = run.duration_ms;
    rec.detail = Some(run.status);
    write_step(out, &rec)?;
    Ok((run.ok, run.duration_ms))
}

/// Writes a step record and flushes it: a step is news the moment it ends.
pub(crate) fn write_step(out: &mut RecordWriter, step: &Step) -> Result<()> {
    out.write(step)?;
    out.flush()
}

/// The finished summary, leaving a fresh builder in its place.
pub(crate) fn finish(summary: &mut SummaryBuilder) -> common::summary::Summary {
    std::mem::replace(summary, SummaryBuilder::new(TOOL, VERSION)).finish(false)
}

pub(crate) fn hook_env(repo: &Path, snapshot: &str, target: &Path) -> HookEnv {
    HookEnv {
        repo: repo.to_path_buf(),
        snapshot: snapshot.to_string(),
        out: None,
        target: Some(target.to_path_buf()),
        input: Some(target.join("hook")),
    }
}

/// Reasons a source entry is skipped that lose nothing: a FIFO, socket or
/// device has no content to keep, and a vanished file no longer exists.
/// Every other reason (a file replaced during the backup; names that are
/// not UTF-8 in snapshots of older builds; any reason added later) is
/// content left out.
const HARMLESS_SKIPS: [&str; 2] = ["special file", "vanished during backup"];

/// The gates on what a snapshot holds, judged from its manifest (so a
/// `drill --no-backup` judges the snapshot it drills the same way), with
/// their figures: at least `min_files` files; no entry left out; no file
/// that changed while read; no database without tables; a backup hook
/// that wrote something.
pub(crate) fn content_gates(m: &manifest::Manifest, limits: &Limits, summary: &mut SummaryBuilder) {
    let (files, _) = m.totals();
    let not_backed_up = m
        .skipped
        .iter()
        .filter(|s| !HARMLESS_SKIPS.contains(&s.reason.as_str()))
        .count();
    summary.gate(Gate::at_least(
        "files",
        limits.min_files as f64,
        files as f64,
    ));
    summary.gate(Gate::at_most(
        "not_backed_up",
        limits.max_not_backed_up as f64,
        not_backed_up as f64,
    ));
    summary.gate(Gate::at_most(
        "changed_during_backup",
        limits.max_changed as f64,
        m.changed.len() as f64,
    ));
    summary
        .figure("not_backed_up", not_backed_up)
        .figure("changed_during_backup", m.changed.len());
    if !m.databases.is_empty() {
        // A 0-byte file copies as a database with no tables: nothing was
        // backed up, whatever its consistency checks say.
        let empty = m.databases.iter().filter(|d| d.tables.is_empty()).count();
        summary.gate(Gate::at_most("empty_databases", 0.0, empty as f64));
    }
    if m.header.roots.iter().any(|r| r.kind == "hook") {
        let hook_bytes: u64 = m
            .entries
            .iter()
            .filter(|e| e.kind == manifest::EntryType::File && e.path.starts_with("hook/"))
            .filter_map(|e| e.size)
            .sum();
        summary.gate(Gate::at_least("hook_bytes", 1.0, hook_bytes as f64));
        summary.figure("hook_bytes", hook_bytes);
    }
}

/// `{"kind": kind, ...fields of value}`.
fn record(kind: &str, value: &impl Serialize) -> Result<serde_json::Value> {
    let mut rec = serde_json::Map::new();
    rec.insert("kind".into(), kind.into());
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(fields)) => rec.extend(fields),
        Ok(_) => {}
        Err(e) => return Err(common::Error::new(format!("cannot encode a record: {e}"))),
    }
    Ok(serde_json::Value::Object(rec))
}

pub(crate) fn backup_step(r: &backup::BackupReport, out: &mut RecordWriter) -> Result<()> {
    // The manifest's own fields (a raw name's bytes too), kind first.
    for s in &r.manifest.skipped {
        out.write(&record("skipped", s)?)?;
    }
    for c in &r.manifest.changed {
        out.write(&record("changed", c)?)?;
    }
    if let Some(ms) = r.hook_ms {
        let mut hook = Step::new("backup_cmd", &r.manifest.header.id, true);
        hook.duration_ms = ms;
        write_step(out, &hook)?;
    }
    let mut step = Step::new("backup", &r.manifest.header.id, true);
    step.files = r.files;
    step.bytes = r.bytes;
    step.duration_ms = r.duration_ms;
    step.new_objects = Some(r.new_objects);
    step.new_bytes = Some(r.new_bytes);
    step.skipped = Some(r.manifest.skipped.len() as u64);
    write_step(out, &step)
}

fn cmd_backup(
    repo: &Path,
    sources: &Sources,
    limits: &Limits,
    quiet: bool,
    out: &mut RecordWriter,
    summary: &mut SummaryBuilder,
) -> Result<Outcome> {
    summary.input(&repo.display().to_string(), None);
    let repo = Repo::open_or_init(repo)?;
    let report = backup::backup(&repo, sources, quiet)?;
    backup_step(&report, out)?;
    content_gates(&report.manifest, limits, summary);
    summary
        .figure("snapshot", &report.manifest.header.id)
        .figure("files", report.files)
        .figure("bytes", report.bytes)
        .figure("new_objects", report.new_objects)
        .figure("new_bytes", report.new_bytes)
        .figure("skipped", report.manifest.skipped.len())
        .figure("duration_ms", report.duration_ms);
    let s = finish(summary);
    out.write(&s)?;
    Ok(s.outcome())
}

fn cmd_restore(
    args: &Restore,
    out: &mut RecordWriter,
    summary: &mut SummaryBuilder,
) -> Result<Outcome> {
    summary.input(&args.repo.display().to_string(), None);
    let repo = Repo::open(&args.repo)?;
    let (_, m) = repo.resolve(&args.snapshot)?;
    let id = m.header.id.clone();
    summary.figure("snapshot", &id);
    let empty = restore::prepare_target(&args.to, args.force)?;
    let r = if empty {
        restore::restore_staged(&repo, &m, &args.to, args.allow_outside_links, true)?
    } else {
        restore::restore(
            &repo,
            &m,
            &args.to,
            args.force,
            args.allow_outside_links,
            true,
        )?
    };
    let mut step = Step::new("restore", &id, true);
    step.files = r.files;
    step.bytes = r.bytes;
    step.duration_ms = r.duration_ms;
    write_step(out, &step)?;
    let mut hook_failures = 0u64;
    if let Some(cmd) = &args.restore_cmd {
        let (ok, _) = run_hook(
            "restore_cmd",
            cmd,
            &hook_env(&args.repo, &id, &args.to),
            out,
        )?;
        hook_failures += u64::from(!ok);
        summary.gate(Gate::at_most("hook_failures", 0.0, hook_failures as f64));
    }
    summary
        .figure("snapshot", &id)
        .figure("files", r.files)
        .figure("bytes", r.bytes)
        .figure("duration_ms", r.duration_ms);
    let s = finish(summary);
    out.write(&s)?;
    Ok(s.outcome())
}

fn cmd_verify(
    args: &Verify,
    out: &mut RecordWriter,
    summary: &mut SummaryBuilder,
) -> Result<Outcome> {
    summary.input(&args.repo.display().to_string(), None);
    let repo = Repo::open(&args.repo)?;
    let (_, m) = repo.resolve(&args.snapshot)?;
    let id = m.header.id.clone();
    let r = verify::verify(&m, &args.dir)?;
    let mut mismatches = r.mismatches.len() as u64;
    for mm in &r.mismatches {
        out.write(mm)?;
    }
    let mut step = Step::new("verify", &id, mismatches == 0);
    step.files = r.files;
    step.bytes = r.bytes;
    step.duration_ms = r.duration_ms;
    write_step(out, &step)?;
    if let Some(cmd) = &args.verify_cmd {
        let (ok, _) = run_hook(
            "verify_cmd",
            cmd,
            &hook_env(&args.repo, &id, &args.dir),
            out,
        )?;
        if !ok {
            mismatches += 1;
            out.write(&verify::Mismatch::new(
                "<verify-cmd>",
                "verify_cmd",
                None,
                None,
            ))?;
        }
    }
    summary.gate(Gate::at_most("mismatches", 0.0, mismatches as f64));
    summary
        .figure("snapshot", &id)
        .figure("files", r.files)
        .figure("bytes", r.bytes)
        .figure("mismatches", mismatches);
    let s = finish(summary);
    out.write(&s)?;
    Ok(s.outcome())
}

pub(crate) fn check_records(r: &check::CheckReport, out: &mut RecordWriter) -> Result<()> {
    for e in &r.errors {
        out.write(e)?;
    }
    let mut step = Step::new("check", "", r.errors.is_empty());
    step.files = r.objects;
    step.bytes = r.bytes_read;
    step.duration_ms = r.duration_ms;
    write_step(out, &step)
}

fn cmd_check(
    repo: &Path,
    read_data: bool,
    quiet: bool,
    out: &mut RecordWriter,
    summary: &mut SummaryBuilder,
) -> Result<Outcome> {
    summary.input(&repo.display().to_string(), None);
    let repo = Repo::open(repo)?;
    let r = check::check(&repo, read_data, quiet)?;
    check_records(&r, out)?;
    summary.gate(Gate::at_most("check_errors", 0.0, r.errors.len() as f64));
    summary
        .figure("snapshots", r.snapshots)
        .figure("objects", r.objects)
        .figure("bytes", r.bytes)
        .figure("bytes_read", r.bytes_read)
        .figure("check_errors", r.errors.len())
        .figure("unreferenced_objects", r.unreferenced_objects)
        .figure("tmp_files", r.tmp_files)
        .figure("read_data", read_data);
    let s = finish(summary);
    out.write(&s)?;
    Ok(s.outcome())
}

fn cmd_list(repo: &Path, out: &mut RecordWriter, summary: &mut SummaryBuilder) -> Result<Outcome> {
    summary.input(&repo.display().to_string(), None);
    let repo = Repo::open(repo)?;
    let files = repo.snapshot_files()?;
    let mut unreadable = 0u64;
    for f in &files {
        match repo.load(f) {
            Ok(m) => {
                let (files, bytes) = m.totals();
                let names = |kind: &str| -> Vec<&str> {
                    m.header
                        .roots
                        .iter()
                        .filter(|r| r.kind == kind)
                        .map(|r| r.name.as_str())
                        .collect()
                };
                out.write(&serde_json::json!({
                    "kind": "snapshot", "id": m.header.id, "created_at": m.header.created_at,
                    "files": files, "bytes": bytes,
                    "sources": names("dir"), "databases": names("sqlite"),
                    "hook": m.header.roots.iter().any(|r| r.kind == "hook"),
                }))?;
            }
            Err(e) => {
                unreadable += 1;
                out.write(&serde_json::json!({
                    "kind": "snapshot", "id": f.id, "error": e.to_string()
                }))?
            }
        }
    }
    // A listing, not a gate: `check` judges damage.
    summary
        .figure("snapshots", files.len())
        .figure("unreadable", unreadable);
    let s = finish(summary);
    out.write(&s)?;
    Ok(s.outcome())
}
