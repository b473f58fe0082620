//! `drill`: backup → restore into a fresh place → verify → check → report,
//! with RTO/RPO gates; `--self-test` proves the checker is alive by
//! corrupting one object in a scratch copy of the repository.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use common::gate::Gate;
use common::output::RecordWriter;
use common::summary::SummaryBuilder;
use common::{Error, Outcome, Result};

use crate::config::Drill;
use crate::manifest::Manifest;
use crate::repo::Repo;
use crate::verify::Mismatch;
use crate::{backup, check, restore, verify, Step};

fn tempdir(scratch: Option<&Path>, prefix: &str) -> Result<tempfile::TempDir> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    match scratch {
        Some(dir) => b.tempdir_in(dir).map_err(|e| Error::io(dir.display(), e)),
        None => b.tempdir().map_err(|e| Error::io("temporary directory", e)),
    }
}

fn interrupted() -> Result<()> {
    if common::interrupt::requested() {
        return Err(Error::new("interrupted"));
    }
    Ok(())
}

/// Runs the drill; on an interrupt the caller writes `summary` as it is
/// (inputs, and the snapshot once known), marked interrupted.
pub fn drill(
    args: &Drill,
    quiet: bool,
    out: &mut RecordWriter,
    summary: &mut SummaryBuilder,
) -> Result<Outcome> {
    let scratch = args.scratch.as_deref();
    // Without --repo the drill uses a throw-away repository.
    let temp_repo;
    let repo_dir: PathBuf = match &args.repo {
        Some(dir) => dir.clone(),
        None => {
            temp_repo = tempdir(scratch, "backup-drill-repo.")?;
            temp_repo.path().to_path_buf()
        }
    };
    let repo = if args.no_backup {
        Repo::open(&repo_dir)?
    } else {
        Repo::open_or_init(&repo_dir)?
    };
    // A throw-away repository is gone when the summary is read, and its
    // random name would make two runs' summaries differ: not an input.
    if let Some(dir) = &args.repo {
        summary.input(&dir.display().to_string(), None);
    }
    for p in args.sources.dirs.iter().chain(&args.sources.databases) {
        summary.input(&p.display().to_string(), None);
    }

    let mut new_objects = None;
    let mut new_bytes = None;
    let backup_started = Instant::now();
    let m: Manifest = if args.no_backup {
        repo.resolve("latest")?.1
    } else {
        let r = backup::backup(&repo, &args.sources, quiet)?;
        crate::backup_step(&r, out)?;
        new_objects = Some(r.new_objects);
        new_bytes = Some(r.new_bytes);
        r.manifest
    };
    let id = m.header.id.clone();
    let (files, bytes) = m.totals();
    // Known now, so an interrupted summary names the snapshot (set again,
    // in place, at the end).
    summary
        .figure("snapshot", &id)
        .figure("files", files)
        .figure("bytes", bytes);
    interrupted()?;

    // Restore into a fresh place (or --keep DIR, which must be new or empty).
    // Removed on every way out, read-only restored directories included.
    let mut temp_target = None;
    let target: PathBuf = match &args.keep {
        Some(dir) => {
            restore::prepare_target(dir, false)?;
            dir.clone()
        }
        None => {
            let dir = restore::Scratch::new(tempdir(scratch, "backup-drill-restore.")?);
            let path = dir.path().to_path_buf();
            temp_target = Some(dir);
            path
        }
    };
    // A snapshot made by this drill is aged on the monotonic clock (a wall
    // clock stepped back mid-drill must not matter); a stored one against
    // the wall clock, and one dated after now has no age to judge.
    let (rpo_ms, ahead_ms) = if args.no_backup {
        snapshot_age(m.header.created_unix_ms, SystemTime::now())
    } else {
        (Some(common::clock::ms(backup_started.elapsed())), None)
    };
    if let Some(ahead) = ahead_ms {
        common::runner::warn(
            crate::TOOL,
            format!(
                "snapshot {id} is dated {}, {} in the future of this machine's clock (clock \
                 skew, or an edited manifest): its RPO cannot be judged (rpo_ms null, the rpo_ms gate fails)",
                m.header.created_at,
                humantime::format_duration(std::time::Duration::from_millis(ahead as u64)),
            ),
        );
    }
    let rto_started = Instant::now();
    let r = if args.keep.is_some() {
        restore::restore_staged(&repo, &m, &target, args.allow_outside_links, false)?
    } else {
        restore::restore(&repo, &m, &target, false, args.allow_outside_links, false)?
    };
    let mut step = Step::new("restore", &id, true);
    step.files = r.files;
    step.bytes = r.bytes;
    step.duration_ms = r.duration_ms;
    crate::write_step(out, &step)?;
    let mut hook_failures = 0u64;
    let env = crate::hook_env(&repo_dir, &id, &target);
    if let Some(cmd) = &args.restore_cmd {
        let (ok, _) = crate::run_hook("restore_cmd", cmd, &env, out)?;
        hook_failures += u64::from(!ok);
    }
    interrupted()?;

    let v = verify::verify(&m, &target)?;
    let mut mismatches = v.mismatches.len() as u64;
    for mm in &v.mismatches {
        out.write(mm)?;
    }
    let mut step = Step::new("verify", &id, mismatches == 0);
    step.files = v.files;
    step.bytes = v.bytes;
    step.duration_ms = v.duration_ms;
    crate::write_step(out, &step)?;
    if let Some(cmd) = &args.verify_cmd {
        let (ok, _) = crate::run_hook("verify_cmd", cmd, &env, out)?;
        if !ok {
            hook_failures += 1;
            mismatches += 1;
            out.write(&Mismatch::new("<verify-cmd>", "verify_cmd", None, None))?;
        }
    }
    let rto_ms = common::clock::ms(rto_started.elapsed());
    interrupted()?;

    let c = check::check(&repo, args.read_data, quiet)?;
    crate::check_records(&c, out)?;
    let check_errors = c.errors.len() as u64;

    let mut self_test_ok = None;
    if args.self_test {
        interrupted()?;
        let ok = self_test(&repo, &m, scratch, out)?;
        self_test_ok = Some(ok);
    }

    crate::content_gates(&m, &args.limits, summary);
    if let Some(limit) = args.max_rto_ms {
        summary.gate(Gate::at_most("rto_ms", limit, rto_ms));
    }
    if let Some(limit) = args.max_rpo_ms {
        // NaN (written as null) never passes.
        summary.gate(Gate::at_most("rpo_ms", limit, rpo_ms.unwrap_or(f64::NAN)));
    }
    summary.gate(Gate::at_most("mismatches", 0.0, mismatches as f64));
    summary.gate(Gate::at_most("check_errors", 0.0, check_errors as f64));
    if args.restore_cmd.is_some() || args.verify_cmd.is_some() {
        summary.gate(Gate::at_most("hook_failures", 0.0, hook_failures as f64));
    }
    if let Some(ok) = self_test_ok {
        summary.gate(Gate::at_least("self_test", 1.0, if ok { 1.0 } else { 0.0 }));
    }
    summary
        .figure("snapshot", &id)
        .figure("files", files)
        .figure("bytes", bytes)
        .figure("mismatches", mismatches)
        .figure("check_errors", check_errors)
        .figure("rto_ms", rto_ms)
        .figure("rpo_ms", rpo_ms)
        .figure("skipped", m.skipped.len());
    if let Some(ahead) = ahead_ms {
        summary.figure("snapshot_ahead_ms", ahead);
    }
    if let (Some(o), Some(b)) = (new_objects, new_bytes) {
        summary.figure("new_objects", o).figure("new_bytes", b);
    }
    if let Some(keep) = &args.keep {
        summary.figure("restored_to", keep.display().to_string());
    }
    // Removing the temporary restore is part of what a drill costs (on a
    // big tree, seconds): timed and reported, though not part of the RTO.
    if let Some(dir) = temp_target {
        let started = Instant::now();
        let removed = dir.close();
        let mut step = Step::new("cleanup", &id, removed.is_ok());
        step.files = r.files;
        step.bytes = r.bytes;
        step.duration_ms = common::clock::ms(started.elapsed());
        step.detail = removed
            .err()
            .map(|e| format!("could not remove a temporary restore: {e}"));
        crate::write_step(out, &step)?;
        summary.figure("cleanup_ms", step.duration_ms);
    }
    let s = crate::finish(summary);
    out.write(&s)?;
    out.flush()?;
    Ok(s.outcome())
}

/// (age in ms, None when the snapshot is dated after `now`; ms it is ahead).
fn snapshot_age(created_unix_ms: u64, now: SystemTime) -> (Option<f64>, Option<f64>) {
    let now_ms = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i128)
        .unwrap_or(0);
    let age = now_ms - i128::from(created_unix_ms);
    if age < 0 {
        (None, Some(-age as f64))
    } else {
        (Some(age as f64), None)
    }
}

/// Copies the snapshot into a scratch repository (objects hard-linked, read
/// only), replaces one object with a corrupted copy (one byte flipped, same
/// size, so only re-reading the data can notice), and runs `check
/// --read-data` on it: it must report exactly that object.
fn self_test(
    repo: &Repo,
    m: &Manifest,
    scratch: Option<&Path>,
    out: &mut RecordWriter,
) -> Result<bool> {
    let started = Instant::now();
    let id = &m.header.id;
    let objects = m.objects();
    let mut step = Step::new("self_test", id, false);
    let Some(&(victim, victim_size)) = objects
        .iter()
        .filter(|(_, size)| *size > 0)
        .min_by_key(|(_, s)| *s)
    else {
        step.detail = Some("no non-empty object to corrupt".into());
        crate::write_step(out, &step)?;
        return Ok(false);
    };
    let dir = tempdir(scratch, "backup-drill-selftest.")?;
    let copy = Repo::open_or_init(&dir.path().join("repo"))?;
    copy.write_manifest(m)?;
    for (sha, _) in &objects {
        if *sha != victim {
            copy.link_or_copy_from(repo, sha)?;
        }
    }
    // The victim is a corrupted copy under the original's name.
    let path = repo.object_path(victim);
    let mut bytes = Vec::new();
    repo.open_object(victim)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| Error::io(path.display(), e))?;
    if let Some(b) = bytes.get_mut((victim_size / 2) as usize) {
        *b ^= 0xff;
    }
    copy.put_bytes(victim, &bytes)?;
    copy.publish()?;
    let report = check::check(&copy, true, true)?;
    let caught = report.errors.len() == 1
        && report.errors[0].what == "sha256"
        && report.errors[0].object.as_deref() == Some(victim);
    step.result = if caught { "ok" } else { "fail" };
    step.files = report.objects;
    step.bytes = report.bytes_read;
    step.duration_ms = common::clock::ms(started.elapsed());
    step.detail = Some(if caught {
        format!("check caught the corrupted object {victim}")
    } else {
        format!(
            "check did not catch the corrupted object {victim}: {} errors",
            report.errors.len()
        )
    });
    crate::write_step(out, &step)?;
    Ok(caught)
}
