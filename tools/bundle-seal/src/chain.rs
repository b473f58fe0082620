//! The receipt chain: an append-only JSON Lines log where each receipt
//! carries `seq`, `prev` (the previous receipt's hash) and its own `hash`,
//! sha256 over the canonical JSON (RFC 8785 style) of every field except
//! `hash`, `key_id` and `sig`. A receipt may be signed (Ed25519 over a
//! domain tag and its hash). A checkpoint, kept in its own file, signs the
//! head (seq and hash), so cutting receipts off the end is detectable.
//!
//! Appenders hold an exclusive lock on the log (fs4) while they read the
//! head and write, so concurrent appenders serialize instead of forking
//! the chain.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::gate::Gate;
use common::jsonl::{Item, JsonlReader};
use common::lines::DEFAULT_MAX_LINE;
use common::summary::SummaryBuilder;
use common::{Error, Outcome, Result};
use fs4::fs_std::FileExt;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::canonical;
use crate::minisign::{self, PublicKey, SecretKey};
use crate::seal::{TOOL, VERSION};
use crate::strict_json::StrictValue;

/// `prev` of the first receipt.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
pub const RECEIPT_TAG: &[u8] = b"hardgate receipt v1\0";
const CHECKPOINT_TAG: &[u8] = b"hardgate checkpoint v1\0";

/// The default checkpoint file next to a log.
pub fn default_checkpoint(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".checkpoint");
    PathBuf::from(name)
}

/// sha256 (hex) over the canonical form of `entry` without its hash and
/// signature fields.
pub fn entry_hash(entry: &Map<String, Value>) -> String {
    let mut body = entry.clone();
    for k in ["hash", "key_id", "sig"] {
        body.remove(k);
    }
    common::digest::sha256_hex(canonical::to_string(&Value::Object(body)).as_bytes())
}

fn sign_hash(key: &SecretKey, tag: &[u8], hash: &str) -> String {
    let mut msg = tag.to_vec();
    msg.extend_from_slice(hash.as_bytes());
    B64.encode(key.sign_raw(&msg))
}

fn check_sig(key: &PublicKey, tag: &[u8], hash: &str, sig_b64: &str) -> bool {
    let Ok(bytes) = B64.decode(sig_b64) else {
        return false;
    };
    let Ok(sig) = <[u8; 64]>::try_from(bytes.as_slice()) else {
        return false;
    };
    let mut msg = tag.to_vec();
    msg.extend_from_slice(hash.as_bytes());
    minisign::verify_raw(key, &msg, &sig)
}

/// The head of a log: last seq and hash (`0`, GENESIS when empty).
fn read_head(file: &mut File, name: &str) -> Result<(u64, String)> {
    let len = file
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io(name, e))?;
    if len == 0 {
        return Ok((0, GENESIS.to_string()));
    }
    // Read backwards until the last non-blank line is whole. Blank lines
    // (an editor's final newline, CRLF) are skipped, as verify skips them.
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = len;
    let mut last_byte_checked = false;
    let tail = loop {
        let step = (64 * 1024u64).min(pos);
        pos -= step;
        let mut chunk = vec![0u8; step as usize];
        file.seek(SeekFrom::Start(pos))
            .map_err(|e| Error::io(name, e))?;
        file.read_exact(&mut chunk)
            .map_err(|e| Error::io(name, e))?;
        chunk.extend_from_slice(&buf);
        buf = chunk;
        if !last_byte_checked {
            last_byte_checked = true;
            if buf.last() != Some(&b'\n') {
                return Err(Error::new(format!(
                    "{name}: the last line is incomplete (a crash mid-append?)"
                ))
                .with_hint("run 'bundle-seal chain verify' and repair the log before appending"));
            }
        }
        let end = buf
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        let body = &buf[..end];
        if let Some(i) = body.iter().rposition(|&b| b == b'\n') {
            break body[i + 1..].to_vec();
        }
        if pos == 0 {
            if body.is_empty() {
                // Only blank lines: an empty chain.
                return Ok((0, GENESIS.to_string()));
            }
            break body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body).to_vec();
        }
        if body.len() > DEFAULT_MAX_LINE {
            return Err(Error::new(format!(
                "{name}: last line is longer than {DEFAULT_MAX_LINE} bytes"
            )));
        }
    };
    let last: Value = serde_json::from_slice(&tail).map_err(|e| {
        Error::new(format!(
            "{name}: last line: {}",
            common::jsonl::describe_json_error(&e)
        ))
    })?;
    let seq = last.get("seq").and_then(Value::as_u64);
    let hash = last.get("hash").and_then(Value::as_str);
    match (seq, hash) {
        (Some(s), Some(h)) => Ok((s, h.to_string())),
        _ => Err(Error::new(format!(
            "{name}: last line is not a receipt (no seq or hash)"
        ))),
    }
}

/// `chain append LOG`: reads JSON records from `input`, appends a receipt
/// for each, echoing the receipts to `out`.
pub fn append(
    log: &Path,
    input: &str,
    key: Option<&SecretKey>,
    out: &mut common::output::RecordWriter,
) -> Result<Outcome> {
    let mut file = open_log(log)?;
    // Read the input before taking the lock: a slow producer must not
    // block other appenders.
    let mut reader = JsonlReader::open(input)?;
    let mut records = Vec::new();
    // A duplicate key would be dropped by the receipt's canonical form.
    while let Some((_, v)) = crate::strict_json::next_record(
        &mut reader,
        "each input line must be one JSON record; nothing was appended",
    )? {
        if common::interrupt::requested() {
            break;
        }
        records.push(v);
    }
    // Ctrl-C (also one that ended the producer, closing stdin early):
    // append nothing rather than part of the input.
    let written = if common::interrupt::requested() {
        None
    } else {
        append_records(&mut file, log, records, key)?
    };
    let Some(written) = written else {
        let mut summary = SummaryBuilder::new(TOOL, VERSION);
        summary.input(input, None);
        summary.figure("appended", 0);
        let s = summary.finish(true);
        out.write(&s)?;
        out.flush()?;
        return Ok(s.outcome());
    };
    for w in written {
        out.write(&w)?;
    }
    out.flush()?;
    Ok(Outcome::Pass)
}

/// Opens (creating) a log for appending.
pub fn open_log(log: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(log)
        .map_err(|e| Error::io(log.display(), e))
}

/// Appends a receipt for each record to the log opened by [`open_log`],
/// under an exclusive lock; returns `{"kind":"receipt","seq","hash","at"}`
/// for each, or `None` when interrupted (then nothing was appended).
pub fn append_records(
    file: &mut File,
    log: &Path,
    records: Vec<Value>,
    key: Option<&SecretKey>,
) -> Result<Option<Vec<Value>>> {
    let name = log.display().to_string();
    file.lock_exclusive()
        .map_err(|e| Error::io(&name, e).context("locking"))?;
    let result = append_locked(file, &name, records, key);
    let _ = FileExt::unlock(&*file);
    result
}

fn append_locked(
    file: &mut File,
    name: &str,
    records: Vec<Value>,
    key: Option<&SecretKey>,
) -> Result<Option<Vec<Value>>> {
    let (mut seq, mut prev) = read_head(file, name)?;
    let mut buf = Vec::new();
    let mut done = Vec::new();
    for record in records {
        seq += 1;
        let mut entry = Map::new();
        entry.insert("kind".into(), Value::from("receipt"));
        entry.insert("seq".into(), Value::from(seq));
        entry.insert("prev".into(), Value::from(prev.clone()));
        let at = common::clock::now_rfc3339();
        entry.insert("at".into(), Value::from(at.clone()));
        entry.insert("record".into(), record);
        let hash = entry_hash(&entry);
        entry.insert("hash".into(), Value::from(hash.clone()));
        if let Some(k) = key {
            entry.insert("key_id".into(), Value::from(k.key_id.to_string()));
            entry.insert("sig".into(), Value::from(sign_hash(k, RECEIPT_TAG, &hash)));
        }
        serde_json::to_writer(&mut buf, &entry)
            .map_err(|e| Error::new(format!("encoding receipt: {e}")))?;
        buf.push(b'\n');
        done.push(serde_json::json!({"kind":"receipt","seq":seq,"hash":hash,"at":at}));
        prev = hash;
    }
    // One write of whole lines, then fsync: a crash leaves at most an
    // incomplete last line, which append and verify both detect. A failed
    // write (a full disk) is cut back to where the log ended, so the chain
    // stays whole and later appends go on from it.
    let len_before = file
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io(name, e))?;
    // In blocks, polling Ctrl-C between them: a big append stops within
    // one block and is cut back whole, before the watchdog's forced exit
    // could leave half a line.
    let mut stopped = false;
    let written = buf
        .chunks(1 << 20)
        .try_for_each(|block| {
            if common::interrupt::requested() {
                stopped = true;
                return Err(std::io::Error::other("interrupted"));
            }
            file.write_all(block)
        })
        .and_then(|()| file.sync_all());
    if stopped {
        file.set_len(len_before)
            .and_then(|()| file.sync_all())
            .map_err(|u| {
                Error::io(name, u).with_hint(
                    "interrupted, and cutting the log back failed: it may end in a partial line; \
                     run 'bundle-seal chain verify' and repair it",
                )
            })?;
        return Ok(None);
    }
    if let Err(e) = written {
        let undone = file.set_len(len_before).and_then(|()| file.sync_all());
        let err = Error::io(name, e);
        return Err(match undone {
            Ok(()) => err.with_hint("nothing was appended; free some space and append again"),
            Err(u) => err.with_hint(format!(
                "the log may end in a partial line (cutting it back failed: {u}); \
                 run 'bundle-seal chain verify' and repair it"
            )),
        });
    }
    Ok(Some(done))
}

#[derive(Debug, Serialize)]
struct Checkpoint {
    kind: &'static str,
    log: String,
    seq: u64,
    hash: String,
    at: String,
    key_id: String,
    sig: String,
}

/// `chain checkpoint LOG --key KEY`: signs the head into `checkpoint`.
pub fn checkpoint(
    log: &Path,
    checkpoint: &Path,
    key: &SecretKey,
    out: &mut common::output::RecordWriter,
) -> Result<Outcome> {
    let name = log.display().to_string();
    let mut file = File::open(log).map_err(|e| Error::io(&name, e))?;
    file.lock_shared()
        .map_err(|e| Error::io(&name, e).context("locking"))?;
    let head = read_head(&mut file, &name);
    let _ = FileExt::unlock(&file);
    let (seq, hash) = head?;
    if seq == 0 {
        return Err(Error::new(format!(
            "{name}: empty log; nothing to checkpoint"
        )));
    }
    let cp = Checkpoint {
        kind: "checkpoint",
        log: log
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        seq,
        hash: hash.clone(),
        at: common::clock::now_rfc3339(),
        key_id: key.key_id.to_string(),
        sig: sign_hash(key, CHECKPOINT_TAG, &format!("{seq}:{hash}")),
    };
    let mut line =
        serde_json::to_vec(&cp).map_err(|e| Error::new(format!("encoding checkpoint: {e}")))?;
    line.push(b'\n');
    common::atomic::write_atomic(checkpoint, &line)?;
    out.write(&cp)?;
    out.flush()?;
    Ok(Outcome::Pass)
}

/// The first problem found in a log.
#[derive(Debug, Serialize)]
struct Break {
    kind: &'static str,
    seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    reason: String,
}

/// `chain verify LOG`: walks the chain and names the first bad seq.
pub fn verify(
    log: &Path,
    checkpoint_path: Option<&Path>,
    key: Option<&PublicKey>,
    require_signed: bool,
    out: &mut common::output::RecordWriter,
) -> Result<Outcome> {
    let name = log.display().to_string();
    let mut summary = SummaryBuilder::new(TOOL, VERSION);
    // A shared lock: an appender mid-write is waited for, not reported as a
    // truncated last line. Held (by this handle) until the function returns.
    let lock = File::open(log).map_err(|e| Error::io(&name, e))?;
    lock.lock_shared()
        .map_err(|e| Error::io(&name, e).context("locking"))?;
    let mut reader = JsonlReader::open(&name)?;
    let mut expected_seq = 1u64;
    let mut prev = GENESIS.to_string();
    let mut signed = 0u64;
    let mut unsigned = 0u64;
    let mut last_signed: Option<u64> = None;
    let mut brk: Option<Break> = None;
    let mut head_hash = GENESIS.to_string();
    // Duplicate keys are a break: the hash covers only the last of them.
    while let Some(item) = reader.next_item::<StrictValue>()? {
        let (line, value) = match item {
            Item::Record {
                line,
                value: StrictValue(value),
            } => (line, value),
            Item::Invalid(bad) => {
                brk = Some(Break {
                    kind: "chain_break",
                    seq: expected_seq,
                    line: Some(bad.line),
                    reason: bad.reason,
                });
                break;
            }
        };
        let mk = |reason: String| Break {
            kind: "chain_break",
            seq: expected_seq,
            line: Some(line),
            reason,
        };
        let Value::Object(entry) = value else {
            brk = Some(mk("not a JSON object".into()));
            break;
        };
        let seq = entry.get("seq").and_then(Value::as_u64);
        if seq != Some(expected_seq) {
            let found = entry
                .get("seq")
                .map(|v| v.to_string())
                .unwrap_or_else(|| "none".into());
            brk = Some(mk(format!(
                "expected seq {expected_seq}, found {found} (deleted, inserted or reordered)"
            )));
            break;
        }
        if entry.get("prev").and_then(Value::as_str) != Some(prev.as_str()) {
            brk = Some(mk(format!(
                "prev does not match the hash of seq {}",
                expected_seq - 1
            )));
            break;
        }
        let hash = entry_hash(&entry);
        if entry.get("hash").and_then(Value::as_str) != Some(hash.as_str()) {
            brk = Some(mk(
                "hash does not match the receipt's content (edited)".into()
            ));
            break;
        }
        match (entry.get("sig").and_then(Value::as_str), key) {
            (Some(sig), Some(k)) => {
                if !check_sig(k, RECEIPT_TAG, &hash, sig) {
                    brk = Some(mk(format!(
                        "signature does not verify with key {}",
                        k.key_id
                    )));
                    break;
                }
                signed += 1;
                last_signed = Some(expected_seq);
            }
            (Some(_), None) => signed += 1,
            (None, _) => {
                if require_signed {
                    brk = Some(mk("receipt is not signed".into()));
                    break;
                }
                // With a key, an unsigned receipt after a signed one is how
                // an edit hides: strip the signatures from the edited
                // receipt on, re-hash, and the chain links again.
                if let (Some(ls), Some(_)) = (last_signed, key) {
                    brk = Some(mk(format!(
                        "receipt is not signed, but seq {ls} before it was (signatures stripped?)"
                    )));
                    break;
                }
                unsigned += 1;
            }
        }
        prev = hash.clone();
        head_hash = hash;
        expected_seq += 1;
    }
    let entries = expected_seq - 1;
    // Read to the end even after a break, so the summary's sha256 is the whole file's.
    while reader.next_item::<serde::de::IgnoredAny>()?.is_some() {}

    // The checkpoint pins the head: a shorter log or another hash at its
    // seq means receipts were cut off or rewritten.
    let mut checkpoint_seq = None;
    let mut checkpoint_status = "absent";
    if let Some(cp_path) = checkpoint_path {
        let cp_name = cp_path.display().to_string();
        let text = std::fs::read_to_string(cp_path).map_err(|e| Error::io(&cp_name, e))?;
        let cp: Value = serde_json::from_str(text.trim_end())
            .map_err(|e| Error::at(&cp_name, 1, common::jsonl::describe_json_error(&e)))?;
        let cseq = cp.get("seq").and_then(Value::as_u64);
        let chash = cp.get("hash").and_then(Value::as_str);
        let csig = cp.get("sig").and_then(Value::as_str);
        let (Some(cseq), Some(chash), Some(csig)) = (cseq, chash, csig) else {
            return Err(Error::at(&cp_name, 1, "checkpoint needs seq, hash and sig"));
        };
        checkpoint_seq = Some(cseq);
        checkpoint_status = "ok";
        if let Some(k) = key {
            if !check_sig(k, CHECKPOINT_TAG, &format!("{cseq}:{chash}"), csig) {
                checkpoint_status = "bad";
                if brk.is_none() {
                    brk = Some(Break {
                        kind: "chain_break",
                        seq: cseq,
                        line: None,
                        reason: format!(
                            "checkpoint signature does not verify with key {}",
                            k.key_id
                        ),
                    });
                }
            }
        } else {
            checkpoint_status = "unchecked";
        }
        if brk.is_none() {
            if entries < cseq {
                brk = Some(Break {
                    kind: "chain_break",
                    seq: entries + 1,
                    line: None,
                    reason: format!(
                        "log ends at seq {entries} but the checkpoint names seq {cseq} (truncated)"
                    ),
                });
            } else if let Some(h) = hash_at(&name, cseq)? {
                if h != chash {
                    brk = Some(Break {
                        kind: "chain_break",
                        seq: cseq,
                        line: None,
                        reason: "hash differs from the checkpoint's (rewritten)".into(),
                    });
                }
            }
        }
    }
    if let Some(b) = &brk {
        out.write(b)?;
    }
    summary.input(&name, reader.sha256());
    summary.gate(Gate::at_most(
        "chain_breaks",
        0.0,
        if brk.is_some() { 1.0 } else { 0.0 },
    ));
    // With a key, every receipt must be covered by a signature that
    // verified: a signed receipt covers itself and all before it (its hash
    // chains them; an unsigned one after it is already a break), a signed
    // checkpoint covers up to its seq. A log with no signature at all
    // "verified against the release key" before: anyone can write one.
    let unauthenticated = match key {
        None => None,
        Some(_) if signed > 0 => Some(0),
        Some(_) if checkpoint_status == "ok" => {
            Some(entries.saturating_sub(checkpoint_seq.unwrap_or(0)))
        }
        Some(_) => Some(entries),
    };
    if let Some(n) = unauthenticated {
        summary.gate(Gate::at_most("unauthenticated_receipts", 0.0, n as f64));
    }
    summary.figure("receipts", entries);
    summary.figure("unauthenticated_receipts", unauthenticated);
    summary.figure("signed", signed);
    summary.figure("unsigned", unsigned);
    summary.figure("first_bad_seq", brk.as_ref().map(|b| b.seq));
    summary.figure("head_seq", entries);
    summary.figure("head_hash", head_hash);
    summary.figure("checkpoint", checkpoint_status);
    summary.figure("checkpoint_seq", checkpoint_seq);
    let s = summary.finish(false);
    out.write(&s)?;
    out.flush()?;
    Ok(s.outcome())
}

/// The hash of receipt `seq` (the chain up to it was already checked).
fn hash_at(name: &str, seq: u64) -> Result<Option<String>> {
    let mut reader = JsonlReader::open(name)?;
    while let Some((_, v)) = reader.next_record::<Value>()? {
        if v.get("seq").and_then(Value::as_u64) == Some(seq) {
            return Ok(v.get("hash").and_then(Value::as_str).map(str::to_string));
        }
    }
    Ok(None)
}
