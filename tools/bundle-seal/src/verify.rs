//! `verify DIR --pub KEY`: check the manifest's signature, then every file
//! against it: `ok`, `modified`, `missing` or `extra`, one record each,
//! then the summary. Any mismatch or a bad signature fails (exit 1).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use common::gate::Gate;
use common::summary::SummaryBuilder;
use common::{Error, Outcome, Result};
use serde::Serialize;

use crate::manifest::{self, Manifest};
use crate::minisign::{PublicKey, SignatureFile};
use crate::seal::{TOOL, VERSION};
use crate::walk::{self, Kind, MANIFEST, SIGNATURE, SUMS};

/// A manifest is small; this bounds what a hostile bundle can make us read.
const MAX_MANIFEST: u64 = 256 << 20;

#[derive(Debug, Serialize)]
struct FileRecord<'a> {
    kind: &'static str,
    path: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_sha256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SignatureRecord {
    kind: &'static str,
    file: &'static str,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    expected_key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    trusted_comment: Option<String>,
    /// Not covered by any signature (minisign's design); shown, not trusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    untrusted_comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug)]
pub struct VerifyConfig<'a> {
    pub dir: &'a Path,
    pub key: &'a PublicKey,
    /// Check only the seal (signature and files), not the release verdict.
    pub integrity_only: bool,
    /// `--release`: the release the bundle must be sealed for.
    pub release: Option<&'a str>,
    /// `--commit`: the commit (or an abbreviation of at least 7 digits).
    pub commit: Option<&'a str>,
    /// `--require-signoff`: roles that must each have an accepted `go`.
    pub require_signoff: &'a [String],
    /// `--trusted-keys`: who may sign decisions.
    pub trusted: Option<&'a crate::decisions::TrustedKeys>,
    pub quiet: bool,
}

fn read_capped(path: &Path, cap: u64) -> Result<Option<Vec<u8>>> {
    let file = match walk::open_regular(path) {
        Ok(f) => f,
        Err(_) if std::fs::symlink_metadata(path).is_err() => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path.display(), e))?;
    if bytes.len() as u64 > cap {
        return Err(Error::new(format!(
            "{}: larger than {cap} bytes",
            path.display()
        )));
    }
    Ok(Some(bytes))
}

/// A sealed bundle's manifest: its bytes (what the signature covers), the
/// parsed manifest and its sha256.
pub fn read_manifest(dir: &Path) -> Result<(Vec<u8>, Manifest, String)> {
    let manifest_path = dir.join(MANIFEST);
    let Some(bytes) = read_capped(&manifest_path, MAX_MANIFEST)? else {
        return Err(Error::new(format!(
            "{}: missing; not a sealed bundle",
            manifest_path.display()
        ))
        .with_hint("seal it first: bundle-seal seal DIR --key KEY"));
    };
    let m = Manifest::parse(&bytes, &manifest_path.display().to_string())?;
    let sha = common::digest::sha256_hex(&bytes);
    Ok((bytes, m, sha))
}

/// Checks the manifest's signature, over exactly the bytes then parsed.
pub fn check_signature(dir: &Path, key: &PublicKey, bytes: &[u8]) -> Result<SignatureRecord> {
    let manifest_name = dir.join(MANIFEST).display().to_string();
    let sig_path = dir.join(SIGNATURE);
    let mut sig_rec = SignatureRecord {
        kind: "signature",
        file: SIGNATURE,
        status: "missing",
        key_id: None,
        expected_key_id: key.key_id.to_string(),
        trusted_comment: None,
        untrusted_comment: None,
        reason: None,
    };
    match read_capped(&sig_path, 64 * 1024)? {
        None => sig_rec.reason = Some(format!("{SIGNATURE} is missing")),
        Some(sig_bytes) => {
            let text = String::from_utf8_lossy(&sig_bytes);
            match SignatureFile::parse(&text, &sig_path.display().to_string()) {
                Err(e) => {
                    sig_rec.status = "bad";
                    sig_rec.reason = Some(e.to_string());
                }
                Ok(sig) => {
                    sig_rec.key_id = Some(sig.key_id.to_string());
                    sig_rec.trusted_comment = Some(sig.trusted_comment.clone());
                    sig_rec.untrusted_comment = Some(sig.untrusted_comment.clone());
                    match sig
                        .verify(key, bytes)
                        .map_err(|e| Error::io(&manifest_name, e))?
                    {
                        Ok(()) => sig_rec.status = "ok",
                        Err(why) => {
                            sig_rec.status = "bad";
                            sig_rec.reason = Some(why.to_string());
                        }
                    }
                }
            }
        }
    }
    Ok(sig_rec)
}

/// The files on disk against the manifest.
#[derive(Debug, Default)]
pub struct Comparison {
    pub ok: u64,
    pub modified: u64,
    pub missing: u64,
    pub extra: u64,
    /// One record per file (and SHA256SUMS), sorted by path.
    records: Vec<(String, FileRecordOwned)>,
}

impl Comparison {
    pub fn mismatched(&self) -> u64 {
        self.modified + self.missing + self.extra
    }

    pub fn write(&self, out: &mut common::output::RecordWriter) -> Result<()> {
        for (path, r) in &self.records {
            out.write(&r.record(path))?;
        }
        Ok(())
    }
}

/// Hashes every file and compares it with the manifest: `ok`, `modified`,
/// `missing`, `extra`; also SHA256SUMS. `None` when interrupted.
pub fn compare_files(
    dir: &Path,
    m: &Manifest,
    manifest_sha: &str,
    quiet: bool,
) -> Result<Option<Comparison>> {
    // Disk entries by path; the manifest's files in order.
    let entries = walk::walk(dir)?;
    let on_disk: BTreeMap<&str, &walk::Entry> =
        entries.iter().map(|e| (e.rel.as_str(), e)).collect();
    let to_hash: Vec<&Path> = m
        .files
        .iter()
        .filter_map(|f| {
            on_disk
                .get(f.path.as_str())
                .filter(|e| e.kind == Kind::File)
                .map(|e| e.path.as_path())
        })
        .collect();
    let bar = common::progress::items(Some(to_hash.len() as u64), quiet, "files");
    let mut hashes = walk::hash_all(&to_hash, &bar).into_iter();
    bar.finish_and_clear();
    if common::interrupt::requested() {
        return Ok(None);
    }

    let mut c = Comparison::default();
    for f in &m.files {
        let rec = match on_disk.get(f.path.as_str()) {
            None => {
                c.missing += 1;
                FileRecordOwned::new("missing").expected(f.size, &f.sha256)
            }
            Some(e) if e.kind != Kind::File => {
                c.modified += 1;
                FileRecordOwned::new("modified")
                    .expected(f.size, &f.sha256)
                    .reason(format!("is {} now", e.kind.describe()))
            }
            Some(_) => {
                let (sha, size) = hashes
                    .next()
                    .unwrap_or_else(|| Err(Error::new("internal: hash count")))?;
                if sha == f.sha256 && size == f.size {
                    c.ok += 1;
                    FileRecordOwned::new("ok").actual(size, sha)
                } else {
                    c.modified += 1;
                    FileRecordOwned::new("modified")
                        .actual(size, sha)
                        .expected(f.size, &f.sha256)
                }
            }
        };
        c.records.push((f.path.clone(), rec));
    }
    let listed: std::collections::HashSet<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    for e in &entries {
        if listed.contains(e.rel.as_str()) {
            continue;
        }
        c.extra += 1;
        let mut rec = FileRecordOwned::new("extra");
        if e.kind == Kind::File {
            let (sha, size) = walk::hash_file(&e.path)?;
            rec = rec.actual(size, sha);
        } else {
            rec = rec.reason(format!("is {}", e.kind.describe()));
        }
        c.records.push((e.rel.clone(), rec));
    }
    c.records.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    // SHA256SUMS is derived from the manifest: it must say the same.
    let want_sums = manifest::sha256sums(&m.files, manifest_sha);
    let sums_rec = match read_capped(&dir.join(SUMS), MAX_MANIFEST)? {
        None => {
            c.missing += 1;
            FileRecordOwned::new("missing").reason("SHA256SUMS is missing".into())
        }
        Some(have) if have == want_sums.as_bytes() => FileRecordOwned::new("ok"),
        Some(_) => {
            c.modified += 1;
            FileRecordOwned::new("modified").reason("does not match MANIFEST.json".into())
        }
    };
    c.records.push((SUMS.to_string(), sums_rec));
    Ok(Some(c))
}

/// What the bundle is bound to against what `--release`/`--commit` expect.
#[derive(Debug, Serialize)]
struct BindingRecord {
    kind: &'static str,
    field: &'static str,
    expected: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sealed: Option<String>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

fn binding(
    field: &'static str,
    expected: &str,
    sealed: Option<&str>,
    matches: bool,
) -> BindingRecord {
    let what = if field == "release" {
        "release"
    } else {
        "commit"
    };
    BindingRecord {
        kind: "binding",
        field,
        expected: expected.to_string(),
        sealed: sealed.map(str::to_string),
        status: if matches { "ok" } else { "mismatch" },
        reason: (!matches).then(|| match sealed {
            Some(s) => format!("the bundle is sealed for {what} {s}, not {expected}"),
            None => format!("the bundle is sealed without a {what}, not for {expected}"),
        }),
    }
}

pub fn verify(cfg: &VerifyConfig<'_>, out: &mut common::output::RecordWriter) -> Result<Outcome> {
    let mut summary = SummaryBuilder::new(TOOL, VERSION);
    let (bytes, m, manifest_sha) = read_manifest(cfg.dir)?;
    let sig_rec = check_signature(cfg.dir, cfg.key, &bytes)?;
    out.write(&sig_rec)?;
    let Some(c) = compare_files(cfg.dir, &m, &manifest_sha, cfg.quiet)? else {
        summary.input(&cfg.dir.display().to_string(), Some(manifest_sha));
        summary.figure("files", m.files.len());
        summary.figure("signature", sig_rec.status);
        let s = summary.finish(true);
        out.write(&s)?;
        out.flush()?;
        return Ok(s.outcome());
    };
    c.write(out)?;

    // What the bundle is evidence for: a bundle copied from another
    // release or commit must not verify as this one.
    let mut bindings = Vec::new();
    if let Some(want) = cfg.release {
        bindings.push(binding(
            "release",
            want,
            m.release.as_deref(),
            m.release.as_deref() == Some(want),
        ));
    }
    if let Some(want) = cfg.commit {
        let want = want.to_ascii_lowercase();
        let matches = m
            .commit
            .as_deref()
            .is_some_and(|c| want.len() >= 7 && c.starts_with(&want));
        bindings.push(binding("commit", &want, m.commit.as_deref(), matches));
    }
    for b in &bindings {
        out.write(b)?;
    }

    // The sealed verdict is re-derived from the manifest's own gates and
    // summaries: a manifest written by hand and signed with `minisign -S`
    // could say "pass" over a failing gate.
    let (derived, derived_reasons) = m.derived_verdict();
    let verdict_consistent = derived == m.verdict;
    let verdict_pass = m.verdict.is_pass() && derived.is_pass();

    // The decisions recorded on this bundle (shown whenever there are any).
    let decisions = crate::decisions::read(
        cfg.dir,
        &crate::decisions::Bundle {
            manifest_sha256: &manifest_sha,
            created_at: &m.created_at,
            verdict_pass,
        },
        cfg.trusted,
    )?;
    if let Some(log) = &decisions {
        for r in &log.records {
            out.write(r)?;
        }
    }
    let signoff = (!cfg.require_signoff.is_empty())
        .then(|| crate::decisions::signoff(decisions.as_ref(), cfg.require_signoff));
    // A failed verdict passes the release gate only through the sign-off
    // ceremony: every required role said go, each with an --override.
    let overridden = !verdict_pass
        && signoff.as_ref().is_some_and(|s| {
            s.missing.is_empty()
                && s.no_go.is_empty()
                && !s.counted.is_empty()
                && s.counted.iter().all(|r| r.override_reason.is_some())
        })
        && decisions.as_ref().is_some_and(|l| l.chain_break.is_none());

    summary.input(&cfg.dir.display().to_string(), Some(manifest_sha.clone()));
    summary.gate(Gate::at_most(
        "mismatched_files",
        0.0,
        c.mismatched() as f64,
    ));
    summary.gate(Gate::at_least(
        "signature_valid",
        1.0,
        if sig_rec.status == "ok" { 1.0 } else { 0.0 },
    ));
    // The release verdict is part of what verify answers: `verify && ship`
    // must not ship a failed release from an intact bundle.
    if !cfg.integrity_only {
        summary.gate(Gate::at_least(
            "release_verdict_pass",
            1.0,
            if verdict_pass || overridden { 1.0 } else { 0.0 },
        ));
    }
    for b in &bindings {
        summary.gate(Gate::at_least(
            if b.field == "release" {
                "release_matches"
            } else {
                "commit_matches"
            },
            1.0,
            if b.status == "ok" { 1.0 } else { 0.0 },
        ));
    }
    if let Some(s) = &signoff {
        summary.gate(Gate::at_most(
            "signoffs_missing",
            0.0,
            s.missing.len() as f64,
        ));
        summary.gate(Gate::at_most("no_go", 0.0, s.no_go.len() as f64));
        summary.gate(Gate::at_least(
            "decision_log_intact",
            1.0,
            if decisions.as_ref().is_some_and(|l| l.chain_break.is_some()) {
                0.0
            } else {
                1.0
            },
        ));
    }
    summary.figure("files", m.files.len());
    summary.figure("ok", c.ok);
    summary.figure("modified", c.modified);
    summary.figure("missing", c.missing);
    summary.figure("extra", c.extra);
    summary.figure("signature", sig_rec.status);
    summary.figure("key_id", sig_rec.key_id.clone());
    summary.figure("sealed_at", &m.created_at);
    summary.figure("release", &m.release);
    summary.figure("commit", &m.commit);
    summary.figure("release_verdict", m.verdict);
    summary.figure("verdict_reasons", &m.verdict_reasons);
    summary.figure("verdict_consistent", verdict_consistent);
    if !verdict_consistent {
        summary.figure("derived_verdict_reasons", &derived_reasons);
    }
    summary.figure("gates", m.gates.len());
    summary.figure("integrity_only", cfg.integrity_only);
    if let Some(log) = &decisions {
        summary.figure("decisions", log.records.len());
        summary.figure(
            "decisions_accepted",
            log.records
                .iter()
                .filter(|r| r.status == "accepted")
                .count(),
        );
        if let Some(b) = &log.chain_break {
            summary.figure("decision_log_break", b);
        }
        let overrides: Vec<String> = log
            .records
            .iter()
            .filter(|r| r.decision == "go")
            .filter_map(|r| {
                r.override_reason.as_ref().map(|why| {
                    format!(
                        "{} ({}, {}): {why}",
                        r.by,
                        r.role.as_deref().unwrap_or("no role"),
                        r.status
                    )
                })
            })
            .collect();
        if !overrides.is_empty() {
            summary.figure("overrides", overrides);
        }
    }
    if let Some(s) = &signoff {
        summary.figure("signoff_missing", &s.missing);
        summary.figure("signoff_no_go", &s.no_go);
        summary.figure(
            "signed_off_by",
            s.counted
                .iter()
                .map(|r| format!("{} ({})", r.by, r.role.as_deref().unwrap_or_default()))
                .collect::<Vec<_>>(),
        );
    }
    if overridden {
        summary.figure("release_overridden", true);
    }
    let s = summary.finish(false);
    out.write(&s)?;
    out.flush()?;
    Ok(s.outcome())
}

/// A file record before its path is attached.
#[derive(Debug)]
struct FileRecordOwned {
    status: &'static str,
    size: Option<u64>,
    sha256: Option<String>,
    expected_size: Option<u64>,
    expected_sha256: Option<String>,
    reason: Option<String>,
}

impl FileRecordOwned {
    fn new(status: &'static str) -> Self {
        FileRecordOwned {
            status,
            size: None,
            sha256: None,
            expected_size: None,
            expected_sha256: None,
            reason: None,
        }
    }
    fn actual(mut self, size: u64, sha: String) -> Self {
        self.size = Some(size);
        self.sha256 = Some(sha);
        self
    }
    fn expected(mut self, size: u64, sha: &str) -> Self {
        self.expected_size = Some(size);
        self.expected_sha256 = Some(sha.to_string());
        self
    }
    fn reason(mut self, r: String) -> Self {
        self.reason = Some(r);
        self
    }
    fn record<'a>(&'a self, path: &'a str) -> FileRecord<'a> {
        FileRecord {
            kind: "file",
            path,
            status: self.status,
            size: self.size,
            sha256: self.sha256.clone(),
            expected_size: self.expected_size,
            expected_sha256: self.expected_sha256.as_deref(),
            reason: self.reason.clone(),
        }
    }
}
