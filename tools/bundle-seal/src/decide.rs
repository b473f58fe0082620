//! `decide BUNDLE --decision go|no-go --by NAME --key KEY`: records a
//! signed release decision in the bundle's decision log (see
//! [`crate::decisions`]), after checking that the bundle is intact (every
//! file as sealed; the signature too with `--pub`), that the decision is
//! newer than the seal, and that a `go` on a failed verdict says why
//! (`--override REASON`).

use std::path::Path;
use std::time::SystemTime;

use common::gate::Verdict;
use common::{Error, Outcome, Result};
use serde_json::Value;

use crate::decisions::{Decision, DECISIONS};
use crate::minisign::{PublicKey, SecretKey};

#[derive(Debug)]
pub struct DecideConfig<'a> {
    pub dir: &'a Path,
    pub go: bool,
    pub by: &'a str,
    pub role: Option<&'a str>,
    pub note: Option<&'a str>,
    pub override_reason: Option<&'a str>,
    pub key: &'a SecretKey,
    /// Check the manifest's signature with this key too.
    pub public: Option<&'a PublicKey>,
    pub quiet: bool,
}

pub fn decide(cfg: &DecideConfig<'_>, out: &mut common::output::RecordWriter) -> Result<Outcome> {
    let name = cfg.dir.display().to_string();
    for (flag, text) in [("--by", Some(cfg.by)), ("--role", cfg.role)] {
        if text.is_some_and(|t| t.trim().is_empty()) {
            return Err(Error::usage(format!("{flag}: empty")));
        }
    }
    if cfg.override_reason.is_some_and(|t| t.trim().is_empty()) {
        return Err(Error::usage(
            "--override: say why (an empty reason is no reason)",
        ));
    }
    let (bytes, m, manifest_sha) = crate::verify::read_manifest(cfg.dir)?;
    if let Some(key) = cfg.public {
        let sig = crate::verify::check_signature(cfg.dir, key, &bytes)?;
        if sig.status != "ok" {
            return Err(Error::new(format!(
                "{name}: the manifest's signature is {} ({}); refusing to record a decision",
                sig.status,
                sig.reason.as_deref().unwrap_or("no reason given")
            )));
        }
    }
    let Some(c) = crate::verify::compare_files(cfg.dir, &m, &manifest_sha, cfg.quiet)? else {
        return Err(Error::new(format!(
            "{name}: interrupted; nothing was recorded"
        )));
    };
    if c.mismatched() > 0 {
        return Err(Error::new(format!(
            "{name}: {} file{} modified, missing or extra since the seal; refusing to record a decision",
            c.mismatched(),
            if c.mismatched() == 1 { "" } else { "s" }
        ))
        .with_hint(format!("see: bundle-seal verify {name} --integrity-only")));
    }
    // A decision is about this seal: it must come after it.
    let now = common::clock::rfc3339(SystemTime::now());
    let parse = |t: &str| crate::timeline::parse_time(&Value::String(t.to_string())).ok();
    match (parse(&now), parse(&m.created_at)) {
        (Some(n), Some(s)) if n > s => {}
        _ => {
            return Err(Error::new(format!(
                "{name}: now ({now}) is not after the seal ({}); a decision must follow the seal",
                m.created_at
            ))
            .with_hint("check the clock, or the SOURCE_DATE_EPOCH the bundle was sealed with"))
        }
    }
    let (derived, _) = m.derived_verdict();
    let verdict = if m.verdict.is_pass() && derived.is_pass() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    if cfg.go && !verdict.is_pass() && cfg.override_reason.is_none() {
        return Err(Error::usage(format!(
            "{name}: the release verdict is fail; refusing to record a go"
        ))
        .with_hint(
            "to ship anyway, say why: --override REASON (it is recorded and shown by every verify)",
        ));
    }
    let decision = Decision {
        kind: "decision".into(),
        decision: if cfg.go { "go" } else { "no-go" }.into(),
        by: cfg.by.to_string(),
        role: cfg.role.map(str::to_string),
        note: cfg.note.map(str::to_string),
        override_reason: cfg.override_reason.map(str::to_string),
        manifest_sha256: manifest_sha.clone(),
        release: m.release.clone(),
        commit: m.commit.clone(),
        verdict,
    };
    let record = serde_json::to_value(&decision)
        .map_err(|e| Error::new(format!("encoding the decision: {e}")))?;
    let log = cfg.dir.join(DECISIONS);
    // The log is created as a regular file (never through a planted link).
    if std::fs::symlink_metadata(&log).is_ok_and(|m| !m.is_file()) {
        return Err(Error::new(format!(
            "{}: not a regular file; refusing to append to it",
            log.display()
        )));
    }
    let mut file = crate::chain::open_log(&log)?;
    let Some(receipts) =
        crate::chain::append_records(&mut file, &log, vec![record.clone()], Some(cfg.key))?
    else {
        return Err(Error::new(format!(
            "{name}: interrupted; nothing was recorded"
        )));
    };
    let receipt = receipts
        .first()
        .ok_or_else(|| Error::new("internal: no receipt written"))?;
    let mut shown = serde_json::Map::new();
    if let Value::Object(fields) = record {
        shown.extend(fields);
    }
    for k in ["seq", "at", "hash"] {
        if let Some(v) = receipt.get(k) {
            shown.insert(k.into(), v.clone());
        }
    }
    shown.insert("key_id".into(), Value::from(cfg.key.key_id.to_string()));
    shown.insert("log".into(), Value::from(log.display().to_string()));
    out.write(&Value::Object(shown))?;
    out.flush()?;
    Ok(Outcome::Pass)
}
