//! Which format an input is, judged from its content (not its name).
//!
//! JSON documents are told apart by a top-level key: `bomFormat` (CycloneDX),
//! `spdxVersion` (SPDX), `lockfileVersion` (package-lock.json). Text is a
//! Cargo.lock when it has a `[[package]]` table, and pip requirements when its
//! first requirement line looks like `name==version` (or `name @ url`).

use serde::Deserialize;

use common::{Error, Result};

use crate::model::Kind;
use crate::parse::json_error;

/// The top-level keys that tell JSON formats apart; everything else is
/// skipped without being built (serde's `IgnoredAny`), so this pass is cheap.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "bomFormat")]
    bom_format: Option<serde_json::Value>,
    #[serde(rename = "spdxVersion")]
    spdx_version: Option<serde_json::Value>,
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<serde_json::Value>,
}

/// Strips a UTF-8 BOM and leading whitespace.
pub fn content_start(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let skip = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[skip..]
}

const HINT: &str = "supported: CycloneDX JSON, SPDX JSON, Cargo.lock, package-lock.json v2/v3, \
    pip requirements/freeze; name the format with --from/--to if detection is wrong";

/// Detects the format of `bytes` (named `name` in errors).
pub fn detect(name: &str, bytes: &[u8]) -> Result<Kind> {
    let start = content_start(bytes);
    let Some(&first) = start.first() else {
        return Err(
            Error::new(format!("{name}: empty input: no SBOM or lockfile in it")).with_hint(HINT),
        );
    };
    match first {
        b'{' => detect_json(name, bytes),
        // A Cargo.lock may begin with its first `[[package]]` table.
        b'[' if !start.starts_with(b"[[") => Err(Error::at(
            name,
            1,
            "JSON array at the top level: not an SBOM or lockfile",
        )
        .with_hint(HINT)),
        b'<' => Err(Error::at(
            name,
            1,
            "XML input: only the JSON forms of CycloneDX and SPDX are read",
        )
        .with_hint("convert it to JSON first (e.g. cyclonedx convert --output-format json)")),
        _ => detect_text(name, bytes),
    }
}

fn detect_json(name: &str, bytes: &[u8]) -> Result<Kind> {
    let probe: Probe =
        serde_json::from_slice(strip_bom(bytes)).map_err(|e| json_error(name, &e))?;
    if let Some(format) = probe.bom_format {
        return match format.as_str() {
            Some("CycloneDX") => Ok(Kind::Cyclonedx),
            _ => Err(Error::new(format!(
                "{name}: bomFormat is {format}, not \"CycloneDX\""
            ))),
        };
    }
    if probe.spdx_version.is_some() {
        return Ok(Kind::Spdx);
    }
    if probe.lockfile_version.is_some() {
        return Ok(Kind::NpmLock);
    }
    Err(Error::new(format!(
        "{name}: JSON, but not an SBOM or lockfile: no bomFormat, spdxVersion or lockfileVersion at the top level"
    ))
    .with_hint(HINT))
}

fn detect_text(name: &str, bytes: &[u8]) -> Result<Kind> {
    if bytes.contains(&0) {
        return Err(Error::new(format!(
            "{name}: binary data (NUL bytes): not an SBOM or lockfile"
        ))
        .with_hint(HINT));
    }
    let text = match std::str::from_utf8(strip_bom(bytes)) {
        Ok(t) => t,
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64
                + 1;
            return Err(
                Error::at(name, line, "invalid UTF-8: not an SBOM or lockfile").with_hint(HINT),
            );
        }
    };
    if text.starts_with("SPDXVersion:") {
        return Err(
            Error::at(name, 1, "SPDX tag-value input: only SPDX JSON is read").with_hint(
                "convert it to JSON first (e.g. pyspdxtools -i doc.spdx -o doc.spdx.json)",
            ),
        );
    }
    if text.lines().any(|l| l.trim() == "[[package]]") {
        return Ok(Kind::CargoLock);
    }
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with('-') {
            continue;
        }
        if crate::pip::looks_like_requirement(l) {
            return Ok(Kind::Pip);
        }
        return Err(Error::at(
            name,
            i as u64 + 1,
            "not a recognised SBOM or lockfile format",
        )
        .with_hint(HINT));
    }
    // Only comments and options: an empty requirements file is a valid, empty SBOM.
    if text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l.starts_with('-')
    }) && text
        .lines()
        .any(|l| l.trim().starts_with('#') || l.trim().starts_with('-'))
    {
        return Ok(Kind::Pip);
    }
    Err(Error::new(format!("{name}: not a recognised SBOM or lockfile format")).with_hint(HINT))
}

pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}
