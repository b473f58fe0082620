//! The release decision: `decide` appends a signed go/no-go to the
//! bundle's decision log, `DECISIONS.jsonl` at its root, a receipt chain
//! like `chain append` writes (each receipt linked to the previous one by
//! hash and signed by the person deciding). `verify --require-signoff`
//! judges the log against a set of trusted public keys.
//!
//! The log is not in the manifest (it grows after the seal); each decision
//! names the manifest's sha256, so a decision cannot be moved to another
//! bundle, and it must be newer than the seal.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::gate::Verdict;
use common::jsonl::{Item, JsonlReader};
use common::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chain::{entry_hash, GENESIS, RECEIPT_TAG};
use crate::minisign::{self, PublicKey};
use crate::strict_json::StrictValue;

/// The decision log's name at the bundle's root.
pub const DECISIONS: &str = "DECISIONS.jsonl";

/// What a decision receipt's `record` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub kind: String,
    /// `go` or `no-go`.
    pub decision: String,
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why a `go` was given on a failed verdict.
    #[serde(rename = "override", default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    pub manifest_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The verdict the decision was made on (sealed, re-judged).
    pub verdict: Verdict,
}

impl Decision {
    pub fn is_go(&self) -> bool {
        self.decision == "go"
    }
}

/// Public keys trusted to sign decisions: `DIR/*.pub` for any role,
/// `DIR/ROLE/*.pub` for that role only.
#[derive(Debug, Default)]
pub struct TrustedKeys {
    /// key id (as shown) → (key, the role it is limited to, its file).
    keys: HashMap<String, (PublicKey, Option<String>, PathBuf)>,
}

impl TrustedKeys {
    pub fn load(dir: &Path) -> Result<TrustedKeys> {
        let mut t = TrustedKeys::default();
        let name = dir.display().to_string();
        let mut add = |path: PathBuf, role: Option<String>| -> Result<()> {
            let text = path.to_string_lossy().into_owned();
            let key = crate::keys::load_public(&text)?;
            let id = key.key_id.to_string();
            if let Some((_, other_role, other)) = t.keys.get(&id) {
                if *other_role != role {
                    return Err(Error::new(format!(
                        "{text}: key {id} is also {} ({}); a key is trusted for one role or for all",
                        other.display(),
                        other_role.as_deref().unwrap_or("any role")
                    )));
                }
            }
            t.keys.insert(id, (key, role, path));
            Ok(())
        };
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(&name, e))?
            .collect::<std::io::Result<_>>()
            .map_err(|e| Error::io(&name, e))?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let path = e.path();
            let ft = e
                .file_type()
                .map_err(|err| Error::io(path.display(), err))?;
            if ft.is_dir() {
                let role = e.file_name().to_string_lossy().into_owned();
                let mut inner: Vec<PathBuf> = std::fs::read_dir(&path)
                    .map_err(|err| Error::io(path.display(), err))?
                    .filter_map(|x| x.ok().map(|x| x.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "pub"))
                    .collect();
                inner.sort();
                for p in inner {
                    add(p, Some(role.clone()))?;
                }
            } else if path.extension().is_some_and(|x| x == "pub") {
                add(path, None)?;
            }
        }
        if t.keys.is_empty() {
            return Err(Error::usage(format!(
                "--trusted-keys {name}: no *.pub key in it (nor in a ROLE/ folder)"
            )));
        }
        Ok(t)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// One decision as `verify` reports it.
#[derive(Clone, Debug, Serialize)]
pub struct DecisionRecord {
    pub kind: &'static str,
    pub seq: u64,
    pub at: String,
    pub decision: String,
    pub by: String,
    pub role: Option<String>,
    pub key_id: Option<String>,
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `accepted` (signed by a trusted key, for this manifest, after the
    /// seal, consistent with the verdict), `rejected`, or `unchecked` (no
    /// `--trusted-keys` given).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The decision log, read and judged.
#[derive(Debug, Default)]
pub struct Log {
    pub records: Vec<DecisionRecord>,
    /// The first break in the log's hash chain (later receipts are ignored).
    pub chain_break: Option<String>,
}

/// What a decision is checked against.
#[derive(Debug)]
pub struct Bundle<'a> {
    pub manifest_sha256: &'a str,
    pub created_at: &'a str,
    /// The verdict is pass, both as sealed and re-judged.
    pub verdict_pass: bool,
}

fn time_of(text: &str) -> Option<(i64, u32)> {
    crate::timeline::parse_time(&Value::String(text.to_string())).ok()
}

/// Reads and judges `dir/DECISIONS.jsonl`; `None` when there is none.
pub fn read(dir: &Path, bundle: &Bundle<'_>, trusted: Option<&TrustedKeys>) -> Result<Option<Log>> {
    let path = dir.join(DECISIONS);
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(None);
    }
    // Refuses a symlink or a FIFO in its place.
    let file = crate::walk::open_regular(&path)?;
    let name = path.display().to_string();
    let input = common::input::Input::from_reader(&name, Some(path.clone()), Box::new(file))?;
    let mut reader = JsonlReader::from_input(input, common::lines::DEFAULT_MAX_LINE);
    let sealed_at = time_of(bundle.created_at);
    let mut log = Log::default();
    let mut prev = GENESIS.to_string();
    let mut expected = 1u64;
    while let Some(item) = reader.next_item::<StrictValue>()? {
        let (line, entry) = match item {
            Item::Record {
                line,
                value: StrictValue(Value::Object(entry)),
            } => (line, entry),
            Item::Record { line, .. } => {
                log.chain_break = Some(format!("{DECISIONS}:{line}: not a JSON object"));
                break;
            }
            Item::Invalid(bad) => {
                log.chain_break = Some(format!("{DECISIONS}:{}: {}", bad.line, bad.reason));
                break;
            }
        };
        let hash = entry_hash(&entry);
        let broken = if entry.get("seq").and_then(Value::as_u64) != Some(expected) {
            Some(format!("expected seq {expected}"))
        } else if entry.get("prev").and_then(Value::as_str) != Some(prev.as_str()) {
            Some(format!(
                "prev does not match the hash of seq {}",
                expected - 1
            ))
        } else if entry.get("hash").and_then(Value::as_str) != Some(hash.as_str()) {
            Some("hash does not match the receipt's content (edited)".into())
        } else {
            None
        };
        if let Some(why) = broken {
            log.chain_break = Some(format!("{DECISIONS}:{line}: {why}"));
            break;
        }
        log.records
            .push(judge(expected, &entry, &hash, bundle, sealed_at, trusted));
        prev = hash;
        expected += 1;
    }
    Ok(Some(log))
}

fn judge(
    seq: u64,
    entry: &serde_json::Map<String, Value>,
    hash: &str,
    bundle: &Bundle<'_>,
    sealed_at: Option<(i64, u32)>,
    trusted: Option<&TrustedKeys>,
) -> DecisionRecord {
    let at = entry
        .get("at")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let key_id = entry
        .get("key_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    let parsed = entry
        .get("record")
        .cloned()
        .map(serde_json::from_value::<Decision>);
    let mut rec = DecisionRecord {
        kind: "decision",
        seq,
        at: at.clone(),
        decision: String::new(),
        by: String::new(),
        role: None,
        key_id: key_id.clone(),
        override_reason: None,
        note: None,
        status: "rejected",
        reason: None,
    };
    let d = match parsed {
        Some(Ok(d)) if d.kind == "decision" => d,
        Some(Ok(_)) | None => {
            rec.reason = Some("not a decision record".into());
            return rec;
        }
        Some(Err(e)) => {
            rec.reason = Some(format!("decision record: {e}"));
            return rec;
        }
    };
    rec.decision = d.decision.clone();
    rec.by = d.by.clone();
    rec.role = d.role.clone();
    rec.override_reason = d.override_reason.clone();
    rec.note = d.note.clone();
    let reject = |mut rec: DecisionRecord, why: String| {
        rec.status = "rejected";
        rec.reason = Some(why);
        rec
    };
    if d.decision != "go" && d.decision != "no-go" {
        return reject(
            rec,
            format!("decision {:?} is neither go nor no-go", d.decision),
        );
    }
    if d.manifest_sha256 != bundle.manifest_sha256 {
        return reject(
            rec,
            format!(
                "made for another manifest (sha256 {}), not this one",
                d.manifest_sha256
            ),
        );
    }
    match (time_of(&at), sealed_at) {
        (Some(t), Some(s)) if t > s => {}
        (Some(_), Some(_)) => {
            return reject(
                rec,
                format!("made at {at}, not after the seal ({})", bundle.created_at),
            )
        }
        _ => {
            return reject(
                rec,
                format!("time {at:?} cannot be compared with the seal's"),
            )
        }
    }
    if d.is_go() && !bundle.verdict_pass && d.override_reason.is_none() {
        return reject(
            rec,
            "a go on a failed release verdict without --override".into(),
        );
    }
    let Some(trusted) = trusted else {
        rec.status = "unchecked";
        rec.reason = Some("no --trusted-keys given: the signature was not checked".into());
        return rec;
    };
    let (Some(id), Some(sig)) = (key_id, entry.get("sig").and_then(Value::as_str)) else {
        return reject(rec, "not signed".into());
    };
    let Some((key, only_role, _)) = trusted.keys.get(&id) else {
        return reject(
            rec,
            format!("signed by key {id}, which is not in --trusted-keys"),
        );
    };
    let verified = B64
        .decode(sig)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok())
        .is_some_and(|sig| {
            let mut msg = RECEIPT_TAG.to_vec();
            msg.extend_from_slice(hash.as_bytes());
            minisign::verify_raw(key, &msg, &sig)
        });
    if !verified {
        return reject(rec, format!("signature does not verify with key {id}"));
    }
    if let Some(only) = only_role {
        if d.role.as_deref() != Some(only.as_str()) {
            return reject(
                rec,
                format!(
                    "key {id} is trusted for role {only} only, not {}",
                    d.role.as_deref().unwrap_or("(no role)")
                ),
            );
        }
    }
    rec.status = "accepted";
    rec
}

/// Whether the required roles signed off, and what stands in the way.
#[derive(Debug, Default)]
pub struct Signoff {
    /// Roles without a standing `go` (missing, no-go, or a key that already
    /// signed off another role), each with why.
    pub missing: Vec<String>,
    /// Roles whose latest accepted decision is `no-go`.
    pub no_go: Vec<String>,
    /// The accepted `go` decisions that satisfy the roles.
    pub counted: Vec<DecisionRecord>,
}

/// Judges `--require-signoff`: each role's latest accepted decision must be
/// `go`, from a key no other required role used; any role's latest accepted
/// `no-go` stands until that role says `go` again.
pub fn signoff(log: Option<&Log>, roles: &[String]) -> Signoff {
    let mut latest: HashMap<&str, &DecisionRecord> = HashMap::new();
    for r in log
        .map(|l| l.records.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|r| r.status == "accepted")
    {
        if let Some(role) = r.role.as_deref() {
            latest.insert(role, r);
        }
    }
    let mut out = Signoff::default();
    let mut used: HashMap<&str, &str> = HashMap::new();
    for role in roles {
        match latest.get(role.as_str()) {
            None => out.missing.push(format!("{role}: no accepted go")),
            Some(r) if !r.decision.eq("go") => {
                out.missing.push(format!("{role}: {} said no-go", r.by));
            }
            Some(r) => {
                let key = r.key_id.as_deref().unwrap_or_default();
                if let Some(other) = used.get(key) {
                    out.missing.push(format!(
                        "{role}: signed with key {key}, which already signed off {other}"
                    ));
                } else {
                    used.insert(key, role.as_str());
                    out.counted.push((*r).clone());
                }
            }
        }
    }
    let mut vetoed: Vec<String> = latest
        .iter()
        .filter(|(_, r)| r.decision == "no-go")
        .map(|(role, r)| format!("{role}: {} said no-go", r.by))
        .collect();
    vetoed.sort();
    out.no_go = vetoed;
    out
}
