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
struct SignatureRecord {
    kind: &'static str,
    file: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
    expected_key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    trusted_comment: Option<String>,
    /// Not covered by any signature (minisign's design); shown, not trusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    untrusted_comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Debug)]
pub struct VerifyConfig<'a> {
    pub dir: &'a Path,
    pub key: &'a PublicKey,
    /// Check only the seal (signature and files), not the release verdict.
    pub integrity_only: bool,
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

pub fn verify(cfg: &VerifyConfig<'_>, out: &mut crate::text::Out) -> Result<Outcome> {
    let mut summary = SummaryBuilder::new(TOOL, VERSION);
    let manifest_path = cfg.dir.join(MANIFEST);
    let Some(bytes) = read_capped(&manifest_path, MAX_MANIFEST)? else {
        return Err(Error::new(format!(
            "{}: missing; not a sealed bundle",
            manifest_path.display()
        ))
        .with_hint("seal it first: bundle-seal seal DIR --key KEY"));
    };
    let manifest_name = manifest_path.display().to_string();

    // The signature, over exactly the bytes we then parse.
    let sig_path = cfg.dir.join(SIGNATURE);
    let mut sig_rec = SignatureRecord {
        kind: "signature",
        file: SIGNATURE,
        status: "missing",
        key_id: None,
        expected_key_id: cfg.key.key_id.to_string(),
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
                        .verify(cfg.key, &bytes[..])
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
    out.write(&sig_rec)?;
    let m = Manifest::parse(&bytes, &manifest_name)?;
    let manifest_sha = common::digest::sha256_hex(&bytes);

    // Disk entries by path; the manifest's files in order.
    let entries = walk::walk(cfg.dir)?;
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
    let bar = common::progress::items(Some(to_hash.len() as u64), cfg.quiet, "files");
    let mut hashes = walk::hash_all(&to_hash, &bar).into_iter();
    bar.finish_and_clear();
    if common::interrupt::requested() {
        summary.input(&cfg.dir.display().to_string(), Some(manifest_sha));
        summary.figure("files", m.files.len());
        summary.figure("signature", sig_rec.status);
        let s = summary.finish(true);
        out.write(&s)?;
        out.flush()?;
        return Ok(s.outcome());
    }

    let (mut ok, mut modified, mut missing, mut extra) = (0u64, 0u64, 0u64, 0u64);
    let mut records: Vec<(String, FileRecordOwned)> = Vec::new();
    for f in &m.files {
        let rec = match on_disk.get(f.path.as_str()) {
            None => {
                missing += 1;
                FileRecordOwned::new("missing").expected(f.size, &f.sha256)
            }
            Some(e) if e.kind != Kind::File => {
                modified += 1;
                FileRecordOwned::new("modified")
                    .expected(f.size, &f.sha256)
                    .reason(format!("is {} now", e.kind.describe()))
            }
            Some(_) => {
                let (sha, size) = hashes
                    .next()
                    .unwrap_or_else(|| Err(Error::new("internal: hash count")))?;
                if sha == f.sha256 && size == f.size {
                    ok += 1;
                    FileRecordOwned::new("ok").actual(size, sha)
                } else {
                    modified += 1;
                    FileRecordOwned::new("modified")
                        .actual(size, sha)
                        .expected(f.size, &f.sha256)
                }
            }
        };
        records.push((f.path.clone(), rec));
    }
    let listed: std::collections::HashSet<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    for e in &entries {
        if listed.contains(e.rel.as_str()) {
            continue;
        }
        extra += 1;
        let mut rec = FileRecordOwned::new("extra");
        if e.kind == Kind::File {
            let (sha, size) = walk::hash_file(&e.path)?;
            rec = rec.actual(size, sha);
        } else {
            rec = rec.reason(format!("is {}", e.kind.describe()));
        }
        records.push((e.rel.clone(), rec));
    }
    records.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    // SHA256SUMS is derived from the manifest: it must say the same.
    let want_sums = manifest::sha256sums(&m.files, &manifest_sha);
    let sums_rec = match read_capped(&cfg.dir.join(SUMS), MAX_MANIFEST)? {
        None => {
            missing += 1;
            FileRecordOwned::new("missing").reason("SHA256SUMS is missing".into())
        }
        Some(have) if have == want_sums.as_bytes() => FileRecordOwned::new("ok"),
        Some(_) => {
            modified += 1;
            FileRecordOwned::new("modified").reason("does not match MANIFEST.json".into())
        }
    };
    records.push((SUMS.to_string(), sums_rec));
    for (path, r) in &records {
        out.write(&r.record(path))?;
    }

    let mismatched = modified + missing + extra;
    summary.input(&cfg.dir.display().to_string(), Some(manifest_sha.clone()));
    summary.gate(Gate::at_most("mismatched_files", 0.0, mismatched as f64));
    summary.gate(Gate::at_least(
        "signature_valid",
        1.0,
        if sig_rec.status == "ok" { 1.0 } else { 0.0 },
    ));
    // The sealed verdict is re-derived from the manifest's own gates and
    // summaries: a manifest written by hand and signed with `minisign -S`
    // could say "pass" over a failing gate.
    let (derived, derived_reasons) = manifest::verdict(&m.summaries, &m.gates, &m.stray_summaries);
    let verdict_consistent = derived == m.verdict;
    // The release verdict is part of what verify answers: `verify && ship`
    // must not ship a failed release from an intact bundle.
    if !cfg.integrity_only {
        summary.gate(Gate::at_least(
            "release_verdict_pass",
            1.0,
            if m.verdict.is_pass() && derived.is_pass() {
                1.0
            } else {
                0.0
            },
        ));
    }
    summary.figure("files", m.files.len());
    summary.figure("ok", ok);
    summary.figure("modified", modified);
    summary.figure("missing", missing);
    summary.figure("extra", extra);
    summary.figure("signature", sig_rec.status);
    summary.figure("key_id", sig_rec.key_id.clone());
    summary.figure("sealed_at", &m.created_at);
    summary.figure("release_verdict", m.verdict);
    summary.figure("verdict_reasons", &m.verdict_reasons);
    summary.figure("verdict_consistent", verdict_consistent);
    if !verdict_consistent {
        summary.figure("derived_verdict_reasons", &derived_reasons);
    }
    summary.figure("gates", m.gates.len());
    summary.figure("integrity_only", cfg.integrity_only);
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
