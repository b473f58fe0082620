//! Reading one input: open (path, `-`, gzip), bound its size, detect its
//! format, and hand it to the format's parser.

use std::io::Read;

use common::input::Input;
use common::{Error, Result};

use crate::model::{Kind, Sbom};

/// What the parsers may tolerate.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Accept components without a version (compared by presence only).
    pub allow_unversioned: bool,
}

/// A parsed input with what the summary says about it.
#[derive(Debug)]
pub struct Loaded {
    pub name: String,
    pub sha256: String,
    pub kind: Kind,
    pub sbom: Sbom,
}

/// Opens and parses `path` (or `-`), reading at most `max_bytes`.
pub fn load(path: &str, kind: Kind, max_bytes: u64, opts: &Options) -> Result<Loaded> {
    let input = Input::open(path)?;
    let name = input.name().to_string();
    let (_, reader, digest) = input.into_parts();
    // Sized up front: growing a 20 MB buffer by doubling costs copies and faults.
    let size_hint = if path == "-" {
        0
    } else {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    };
    let mut bytes = Vec::with_capacity(size_hint.min(max_bytes).saturating_add(1) as usize);
    // One byte over the limit tells "too big" from "exactly the limit".
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(&name, e).context("reading"))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Error::new(format!(
            "{name}: larger than --max-input-size ({max_bytes} bytes); refusing to read it"
        ))
        .with_hint("raise --max-input-size if this input is genuine"));
    }
    let (kind, sbom) = parse_bytes(&name, &bytes, kind, opts)?;
    Ok(Loaded {
        name,
        sha256: digest.sha256(),
        kind,
        sbom,
    })
}

/// Detects (unless told) and parses; the entry point the fuzz target uses.
pub fn parse_bytes(name: &str, bytes: &[u8], kind: Kind, opts: &Options) -> Result<(Kind, Sbom)> {
    let kind = match kind {
        Kind::Auto => crate::detect::detect(name, bytes)?,
        k => k,
    };
    let sbom = match kind {
        Kind::Cyclonedx => crate::cyclonedx::parse(name, bytes, opts)?,
        Kind::Spdx => crate::spdx::parse(name, bytes, opts)?,
        Kind::NpmLock => crate::npm_lock::parse(name, bytes, opts)?,
        Kind::CargoLock => crate::cargo_lock::parse(name, bytes, opts)?,
        Kind::Pip => crate::pip::parse(name, bytes, opts)?,
        Kind::Auto => return Err(Error::new(format!("{name}: format could not be detected"))),
    };
    Ok((kind, sbom))
}

/// A serde_json error as `FILE:LINE:COLUMN: invalid JSON: ...`.
pub fn json_error(name: &str, err: &serde_json::Error) -> Error {
    let mut reason = common::jsonl::describe_json_error(err);
    if err.is_eof() {
        reason = format!("truncated: {reason}");
    } else if err.is_data() {
        reason = reason.replacen("invalid JSON: ", "unexpected content: ", 1);
    }
    Error::at_column(name, err.line() as u64, err.column() as u64, reason)
}

/// A JSON value for a message: a string quoted as [`shown`], anything else
/// as JSON text cut to 80 characters.
pub fn shown_json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => shown(s),
        other => {
            let text = other.to_string();
            if text.chars().count() <= 80 {
                text
            } else {
                let head: String = text.chars().take(80).collect();
                format!("{head}... ({} bytes)", text.len())
            }
        }
    }
}

/// A value quoted for a message, cut to 80 characters so a hostile 10 MB
/// field cannot flood the terminal.
pub fn shown(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() <= MAX {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head:?}... ({} bytes)", text.len())
    }
}
