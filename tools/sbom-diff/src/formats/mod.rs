//! The input formats, one module each, and which one an input is: judged
//! from its content (not its name), then parsed by that format's module.
//! Each format imports only the model, `purl` and the `message` leaf, never
//! this dispatch, so each reads and tests on its own.
//!
//! JSON documents are told apart by a top-level key: `bomFormat` (CycloneDX),
//! `spdxVersion` (SPDX), `lockfileVersion` (package-lock.json). Text is a
//! Cargo.lock when it has a `[[package]]` table (the Cargo.lock parser then
//! refuses keys cargo never writes: PDM's, poetry's and uv's lockfiles have
//! such tables too), and pip requirements when its
//! first requirement line looks like `name==version` (or `name @ url`).

use serde::de::IgnoredAny;

use common::{Error, Result};

use crate::message::{content_start, json_error, shown_json, strip_bom, utf8};
use crate::model::{Kind, Options, Sbom};

pub mod cargo_lock;
pub mod cyclonedx;
pub mod npm_lock;
pub mod pip;
pub mod spdx;

/// Detects (unless told) and parses; the entry point the fuzz target uses.
pub fn parse_bytes(name: &str, bytes: &[u8], kind: Kind, opts: &Options) -> Result<(Kind, Sbom)> {
    let kind = match kind {
        Kind::Auto => detect(name, bytes)?,
        k => k,
    };
    let mut sbom = match kind {
        Kind::Cyclonedx => cyclonedx::parse(name, bytes, opts)?,
        Kind::Spdx => spdx::parse(name, bytes, opts)?,
        Kind::NpmLock => npm_lock::parse(name, bytes, opts)?,
        Kind::CargoLock => cargo_lock::parse(name, bytes, opts)?,
        Kind::Pip => pip::parse(name, bytes, opts)?,
        Kind::Auto => return Err(Error::new(format!("{name}: format could not be detected"))),
    };
    for c in &mut sbom.components {
        c.shrink();
    }
    sbom.components.shrink_to_fit();
    Ok((kind, sbom))
}

/// What the first telling top-level key said.
type Found = Option<std::result::Result<Kind, String>>;

/// Reads top-level keys until one tells the format, then stops: the rest
/// of a 20 MB document is not read twice (the format's parser reads it, and
/// reports any syntax error there, with its line and column).
struct KeyProbe<'a>(&'a std::cell::RefCell<Found>);

impl<'de> serde::de::Visitor<'de> for KeyProbe<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let found = match key.as_ref() {
                "bomFormat" => match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::String(s) if s == "CycloneDX" => Ok(Kind::Cyclonedx),
                    other => Err(format!(
                        "bomFormat is {}, not \"CycloneDX\"",
                        shown_json(&other)
                    )),
                },
                "spdxVersion" => {
                    map.next_value::<IgnoredAny>()?;
                    Ok(Kind::Spdx)
                }
                "lockfileVersion" => {
                    map.next_value::<IgnoredAny>()?;
                    Ok(Kind::NpmLock)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *self.0.borrow_mut() = Some(found);
            return Ok(());
        }
        Ok(())
    }
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
    let found = std::cell::RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(strip_bom(bytes));
    // Stopping early makes serde_json report the unread rest as an error:
    // only an error before a telling key is one.
    let parsed = serde::Deserializer::deserialize_map(&mut de, KeyProbe(&found));
    match found.into_inner() {
        Some(Ok(kind)) => return Ok(kind),
        Some(Err(message)) => return Err(Error::new(format!("{name}: {message}"))),
        None => {}
    }
    parsed
        .and_then(|()| de.end())
        .map_err(|e| json_error(name, &e))?;
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
    let text = utf8(bytes).map_err(|line| {
        Error::at(name, line, "invalid UTF-8: not an SBOM or lockfile").with_hint(HINT)
    })?;
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
    // Lockfiles that are not read: said plainly, rather than an entry
    // (`lodash@^4.17.21:`) taken for a pip direct reference.
    let lockfile = |line: &str| {
        if line.starts_with("# yarn lockfile v1") || line == "__metadata:" {
            Some("yarn.lock")
        } else if line.starts_with("lockfileVersion:") {
            Some("pnpm-lock.yaml")
        } else {
            None
        }
    };
    if let Some((i, what)) = text
        .lines()
        .take(8)
        .enumerate()
        .find_map(|(i, l)| lockfile(l.trim_end()).map(|w| (i, w)))
    {
        return Err(Error::at(
            name,
            i as u64 + 1,
            format!("{what} input: not a format sbom-diff reads"),
        )
        .with_hint(
            "diff a CycloneDX SBOM of the install instead (cyclonedx-npm, or \
             @cyclonedx/yarn-plugin-cyclonedx for yarn), or a package-lock.json",
        ));
    }
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with('-') {
            continue;
        }
        if pip::looks_like_requirement(l) {
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
