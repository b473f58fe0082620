//! `seal DIR --key KEY`: hash every file (in parallel), gather the gates,
//! decide the release verdict, and write MANIFEST.json, its minisign
//! signature and SHA256SUMS.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::atomic::write_atomic;
use common::gate::Gate;
use common::summary::SummaryBuilder;
use common::{Error, Outcome, Result};

use crate::keys;
use crate::manifest::{self, FileEntry, Manifest, FORMAT, FORMAT_VERSION};
use crate::walk::{self, MANIFEST, SIGNATURE, SUMS};

pub const TOOL: &str = "bundle-seal";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What `seal` needs.
#[derive(Debug)]
pub struct SealConfig {
    pub dir: PathBuf,
    pub key: PathBuf,
    pub passphrase_file: Option<PathBuf>,
    pub quiet: bool,
    /// `--release`: what the bundle is evidence for (validated semver).
    pub release: Option<String>,
    /// `--commit`: the source commit; else read from git when the bundle is
    /// inside a work tree.
    pub commit: Option<String>,
}

/// `--release`: a semantic version (`2.5.0-beta.1`), as written.
pub fn check_release(name: &str) -> Result<String> {
    semver::Version::parse(name).map_err(|e| {
        Error::usage(format!("--release {name}: not a semantic version ({e})"))
            .with_hint("for example 2.5.0, 2.5.0-beta.1 or 2.5.0-rc.2+build.7 (no leading v)")
    })?;
    Ok(name.to_string())
}

/// `--commit`: a full git object id (40 or 64 hex digits), lower-cased.
pub fn check_commit(sha: &str) -> Result<String> {
    let lower = sha.to_ascii_lowercase();
    if !matches!(lower.len(), 40 | 64) || !lower.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::usage(format!(
            "--commit {sha}: not a full commit id (40 or 64 hex digits)"
        ))
        .with_hint("git rev-parse HEAD prints it"));
    }
    Ok(lower)
}

/// HEAD of the git work tree holding `dir`, if there is one and git runs.
/// Hooks and fsmonitor are switched off: the bundle is data, not code.
fn git_head(dir: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "rev-parse",
            "--verify",
            "--quiet",
            "HEAD^{commit}",
        ])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    check_commit(String::from_utf8(out.stdout).ok()?.trim()).ok()
}

/// The time a seal records: `SOURCE_DATE_EPOCH` when set (reproducible
/// builds), else now.
pub fn seal_time() -> Result<SystemTime> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) if !text.trim().is_empty() => {
            let secs: u64 = text.trim().parse().map_err(|_| {
                Error::usage(format!(
                    "SOURCE_DATE_EPOCH={text:?} is not a whole number of seconds"
                ))
            })?;
            Ok(UNIX_EPOCH + Duration::from_secs(secs))
        }
        _ => Ok(SystemTime::now()),
    }
}

/// A bundle is published evidence: a secret key copied into it by mistake
/// would be published with it. Key files are tiny, so only small files are read.
fn refuse_secret_key(e: &walk::Entry) -> Result<()> {
    if e.size > 1024 {
        return Ok(());
    }
    let mut bytes = Vec::new();
    std::io::Read::take(walk::open_regular(&e.path)?, 1025)
        .read_to_end(&mut bytes)
        .map_err(|err| Error::io(e.path.display(), err))?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(());
    };
    if crate::minisign::SecretKeyFile::parse(text, "").is_ok() {
        return Err(Error::new(format!(
            "{}: is a minisign secret key; refusing to seal a secret into the bundle",
            e.path.display()
        ))
        .with_hint("move the key out of the bundle directory"));
    }
    Ok(())
}

pub fn seal(cfg: &SealConfig, out: &mut common::output::RecordWriter) -> Result<Outcome> {
    let mut summary = SummaryBuilder::new(TOOL, VERSION);
    let release = cfg.release.as_deref().map(check_release).transpose()?;
    let commit = match cfg.commit.as_deref() {
        Some(c) => Some(check_commit(c)?),
        None => git_head(&cfg.dir),
    };
    // Decisions name the manifest they were made on: a new seal would leave
    // them naming one that is gone.
    let decisions = cfg.dir.join(crate::decisions::DECISIONS);
    if std::fs::symlink_metadata(&decisions).is_ok() {
        return Err(Error::new(format!(
            "{}: the bundle has recorded decisions; sealing again would detach them from the manifest they name",
            decisions.display()
        ))
        .with_hint("seal a fresh copy of the evidence, or move DECISIONS.jsonl away to decide again"));
    }
    // Load the key first: a wrong passphrase should fail before any hashing.
    let key = keys::load_secret(&cfg.key, cfg.passphrase_file.as_deref())?;
    let entries = walk::walk(&cfg.dir)?;
    walk::require_regular(&entries)?;
    for e in &entries {
        manifest::check_name(&e.path, &e.rel)?;
        refuse_secret_key(e)?;
    }
    let bar = common::progress::items(Some(entries.len() as u64), cfg.quiet, "files");
    let paths: Vec<&Path> = entries.iter().map(|e| e.path.as_path()).collect();
    let hashes = crate::scan::hash_and_scan_all(&paths, &bar);
    bar.finish_and_clear();
    if common::interrupt::requested() {
        // Nothing was written: a partial seal would vouch for too little.
        summary.input(&cfg.dir.display().to_string(), None);
        summary.figure("files", entries.len());
        let s = summary.finish(true);
        out.write(&s)?;
        out.flush()?;
        return Ok(s.outcome());
    }
    let mut files = Vec::with_capacity(entries.len());
    let mut scans = Vec::with_capacity(entries.len());
    for (e, h) in entries.iter().zip(hashes) {
        let h = h?;
        if let Some(format) = h.opaque {
            return Err(Error::new(format!(
                "{}: is {}; seal cannot look inside it for gate summaries",
                e.path.display(),
                crate::scan::opaque_phrase(format, false)
            ))
            .with_hint("decompress it, or compress it with gzip, which seal reads"));
        }
        files.push(FileEntry {
            path: e.rel.clone(),
            size: h.size,
            sha256: h.sha256.clone(),
        });
        scans.push(h);
    }
    let gathered = manifest::gather(&cfg.dir, &entries, &files)?;
    let stray_summaries = crate::scan::stray_summaries(&entries, scans, &gathered.canonical)?;
    let (summaries, gates, input_mismatches) = (
        gathered.summaries,
        gathered.gates,
        gathered.input_mismatches,
    );
    let (verdict, verdict_reasons) =
        manifest::verdict(&summaries, &gates, &stray_summaries, &input_mismatches);
    let at = seal_time()?;
    let epoch = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let m = Manifest {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        tool: TOOL.to_string(),
        tool_version: VERSION.to_string(),
        created_at: common::clock::rfc3339(at),
        release: release.clone(),
        commit: commit.clone(),
        verdict,
        verdict_reasons,
        files,
        summaries,
        gates,
        stray_summaries,
        input_mismatches,
    };
    let bytes = m.to_bytes()?;
    // minisign shows the trusted comment: the release is named there too.
    let trusted = format!(
        "timestamp:{epoch}\tfile:{MANIFEST}\tverdict:{}{}\thashed",
        if verdict.is_pass() { "pass" } else { "fail" },
        release
            .as_deref()
            .map(|r| format!("\trelease:{r}"))
            .unwrap_or_default()
    );
    let sig = key
        .sign(
            &bytes[..],
            "signature from bundle-seal secret key",
            &trusted,
        )
        .map_err(|e| Error::io(MANIFEST, e))?;
    let manifest_sha = common::digest::sha256_hex(&bytes);
    write_atomic(cfg.dir.join(MANIFEST), &bytes)?;
    write_atomic(cfg.dir.join(SIGNATURE), sig.to_file().as_bytes())?;
    write_atomic(
        cfg.dir.join(SUMS),
        manifest::sha256sums(&m.files, &manifest_sha).as_bytes(),
    )?;

    let failed_gates = m
        .gates
        .iter()
        .filter(|g| !g.gate.pass || !Gate::check("", g.gate.op, g.gate.limit, g.gate.value).pass)
        .count();
    let failed_summaries = m
        .summaries
        .iter()
        .filter(|s| s.interrupted || !s.verdict.is_pass())
        .count();
    summary.input(&cfg.dir.display().to_string(), Some(manifest_sha.clone()));
    summary.gate(Gate::at_least("gates_present", 1.0, m.gates.len() as f64));
    summary.gate(Gate::at_most("gates_failed", 0.0, failed_gates as f64));
    summary.gate(Gate::at_most(
        "summaries_failed",
        0.0,
        failed_summaries as f64,
    ));
    summary.gate(Gate::at_most(
        "stray_summaries",
        0.0,
        m.stray_summaries.iter().filter(|s| s.fails()).count() as f64,
    ));
    summary.gate(Gate::at_most(
        "input_mismatches",
        0.0,
        m.input_mismatches.len() as f64,
    ));
    summary.figure("files", m.files.len());
    summary.figure("bytes", m.files.iter().map(|f| f.size).sum::<u64>());
    summary.figure("release", &m.release);
    summary.figure("commit", &m.commit);
    summary.figure("summaries", m.summaries.len());
    summary.figure("gates", m.gates.len());
    summary.figure("release_verdict", m.verdict);
    summary.figure("verdict_reasons", &m.verdict_reasons);
    summary.figure("key_id", key.key_id.to_string());
    summary.figure("manifest_sha256", manifest_sha);
    let s = summary.finish(false);
    out.write(&s)?;
    out.flush()?;
    Ok(s.outcome())
}
