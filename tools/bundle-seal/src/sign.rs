//! `sign` and `verify-file`: minisign signatures over any file (a packed
//! archive, a log), interchangeable with `minisign -S` / `minisign -V`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use common::gate::Gate;
use common::summary::SummaryBuilder;
use common::{Error, Outcome, Result};
use serde::Serialize;

use crate::minisign::{self, PublicKey, SecretKey, SignatureFile};
use crate::seal::{TOOL, VERSION};
use common::output::RecordWriter;

#[derive(Debug, Serialize)]
pub struct SignedRecord {
    pub kind: &'static str,
    pub path: String,
    pub signature: String,
    pub key_id: String,
    pub trusted_comment: String,
}

fn sig_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".minisig");
    PathBuf::from(name)
}

/// Signs `file` into `file.minisig` (replaced atomically).
/// Reads through `R`, failing once Ctrl-C or SIGTERM is requested: a big
/// file's hashing stops within one read.
struct StopOnInterrupt<R>(R);

impl<R: std::io::Read> std::io::Read for StopOnInterrupt<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if common::interrupt::requested() {
            return Err(std::io::Error::other("interrupted"));
        }
        self.0.read(buf)
    }
}

/// `FILE.minisig` for `file`; `None` when interrupted (nothing written).
pub fn sign_file(
    file: &Path,
    key: &SecretKey,
    trusted: Option<&str>,
) -> Result<Option<SignedRecord>> {
    let name = file.display().to_string();
    let base = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let epoch = crate::seal::seal_time()?
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let trusted = match trusted {
        Some(t) => t.to_string(),
        None => format!("timestamp:{epoch}\tfile:{base}\thashed"),
    };
    minisign::check_comment(&trusted)
        .map_err(|m| Error::usage(format!("--trusted-comment: {m}")))?;
    let reader = std::fs::File::open(file).map_err(|e| Error::io(&name, e))?;
    let sig = key.sign(
        StopOnInterrupt(reader),
        "signature from bundle-seal secret key",
        &trusted,
    );
    if common::interrupt::requested() {
        return Ok(None);
    }
    let sig = sig.map_err(|e| Error::io(&name, e))?;
    let out = sig_path(file);
    common::atomic::write_atomic(&out, sig.to_file().as_bytes())?;
    Ok(Some(SignedRecord {
        kind: "signed",
        path: name,
        signature: out.display().to_string(),
        key_id: key.key_id.to_string(),
        trusted_comment: trusted,
    }))
}

#[derive(Debug, Serialize)]
struct SignatureRecord {
    kind: &'static str,
    file: String,
    signature: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
    expected_key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    trusted_comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// Checks `file` against its signature; exit 1 when it does not verify.
pub fn verify_file(
    file: &Path,
    sig: Option<&Path>,
    key: &PublicKey,
    out: &mut RecordWriter,
) -> Result<Outcome> {
    let mut summary = SummaryBuilder::new(TOOL, VERSION);
    let name = file.display().to_string();
    let sig_file = sig.map(Path::to_path_buf).unwrap_or_else(|| sig_path(file));
    let sig_name = sig_file.display().to_string();
    let mut text = String::new();
    std::fs::File::open(&sig_file)
        .and_then(|f| f.take(64 * 1024).read_to_string(&mut text))
        .map_err(|e| Error::io(&sig_name, e))?;
    let parsed = SignatureFile::parse(&text, &sig_name)?;
    let reader = std::fs::File::open(file).map_err(|e| Error::io(&name, e))?;
    let result = parsed
        .verify(key, reader)
        .map_err(|e| Error::io(&name, e))?;
    let rec = SignatureRecord {
        kind: "signature",
        file: name.clone(),
        signature: sig_name,
        status: if result.is_ok() { "ok" } else { "bad" },
        key_id: Some(parsed.key_id.to_string()),
        expected_key_id: key.key_id.to_string(),
        trusted_comment: Some(parsed.trusted_comment.clone()),
        reason: result.as_ref().err().map(ToString::to_string),
    };
    out.write(&rec)?;
    summary.input(&name, None);
    summary.gate(Gate::at_least(
        "signature_valid",
        1.0,
        if result.is_ok() { 1.0 } else { 0.0 },
    ));
    summary.figure("file", &name);
    summary.figure("signature", rec.status);
    let s = summary.finish(false);
    out.write(&s)?;
    out.flush()?;
    Ok(s.outcome())
}
