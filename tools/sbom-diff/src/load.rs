//! Reading one input: open (path, `-`, gzip), bound its size (a regular
//! file by its size before anything is read), detect its format, and hand
//! it to the format's parser. Reading polls the interrupt flag, so Ctrl-C
//! acts within a second even on a 1 GB input.

use std::io::Read;

use common::input::Input;
use common::{Error, Result};

use crate::formats::parse_bytes;
use crate::message::content_start;
use crate::model::{Kind, Options, Sbom};

/// A parsed input with what the summary says about it.
#[derive(Debug)]
pub struct Loaded {
    pub name: String,
    pub sha256: String,
    pub kind: Kind,
    pub sbom: Sbom,
}

const SIZE_HINT: &str = "raise --max-input-size if this input is genuine";

/// Opens and parses `path` (or `-`), reading at most `max_bytes`. An empty
/// input under `--from/--to auto` comes back as [`Kind::Auto`] with no
/// components: only the other input can tell whether it is an empty
/// `pip freeze` (see [`settle_empty`]).
pub fn load(path: &str, kind: Kind, max_bytes: u64, opts: &Options) -> Result<Loaded> {
    let input = Input::open(path)?;
    let name = input.name().to_string();
    // A regular file's size is known before reading it: a 4 GB file is
    // refused at once, not after reading the limit's worth of it.
    let size = input
        .path()
        .and_then(|p| std::fs::metadata(p).ok())
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len());
    if let Some(size) = size.filter(|s| *s > max_bytes && !input.is_gzip()) {
        return Err(Error::new(format!(
            "{name}: {size} bytes, larger than --max-input-size ({max_bytes} bytes); refusing to read it"
        ))
        .with_hint(SIZE_HINT));
    }
    let (_, reader, digest) = input.into_parts();
    // Sized up front: growing a 1 GB buffer by doubling costs copies, faults
    // and twice the memory at the moment it grows.
    let size_hint = size.unwrap_or(0);
    let mut bytes = Vec::with_capacity(size_hint.min(max_bytes).saturating_add(1) as usize);
    // One byte over the limit tells "too big" from "exactly the limit".
    read_polling(reader.take(max_bytes.saturating_add(1)), &mut bytes)
        .map_err(|e| Error::io(&name, e).context("reading"))?;
    if common::interrupt::requested() {
        return Err(Error::new(format!("{name}: interrupted")));
    }
    if bytes.len() as u64 > max_bytes {
        return Err(Error::new(format!(
            "{name}: larger than --max-input-size ({max_bytes} bytes); refusing to read it"
        ))
        .with_hint(SIZE_HINT));
    }
    if kind == Kind::Auto && content_start(&bytes).is_empty() {
        return Ok(Loaded {
            name,
            sha256: digest.sha256(),
            kind: Kind::Auto,
            sbom: Sbom {
                format: "pip",
                ..Sbom::default()
            },
        });
    }
    let (kind, sbom) = parse_bytes(&name, &bytes, kind, opts)?;
    Ok(Loaded {
        name,
        sha256: digest.sha256(),
        kind,
        sbom,
    })
}

/// Reads to the end in 8 MiB steps, stopping early at Ctrl-C.
fn read_polling(mut reader: impl Read, bytes: &mut Vec<u8>) -> std::io::Result<()> {
    const STEP: u64 = 8 << 20;
    loop {
        if common::interrupt::requested() {
            return Ok(());
        }
        match (&mut reader).take(STEP).read_to_end(bytes) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// An empty input detected as nothing ([`load`] under `auto`) is an empty
/// package list when the other input is pip requirements or `pip freeze`
/// (a fresh virtualenv freezes to nothing); otherwise it is an error, so a
/// generator that wrote nothing never passes as an empty SBOM. `flag` is
/// the option that would name its format (`--from`, `--to`).
pub fn settle_empty(loaded: &mut Loaded, other: Kind, flag: &str) -> Result<()> {
    if loaded.kind != Kind::Auto {
        return Ok(());
    }
    if other == Kind::Pip {
        loaded.kind = Kind::Pip;
        return Ok(());
    }
    Err(Error::new(format!(
        "{}: empty input: no SBOM or lockfile in it",
        loaded.name
    ))
    .with_hint(format!(
        "if it is `pip freeze` of a fresh virtualenv (an empty package list), say so: {flag} pip"
    )))
}

/// An input that lists no component proves nothing and passes every gate:
/// a lockfile of another tool taken for ours, a generator that found
/// nothing, a Cargo.lock of workspace members only. Refused (exit 2), as an
/// empty input is; except a pip list (a fresh virtualenv freezes to
/// nothing) against another input that lists something, which is then all
/// added or all removed.
pub fn refuse_empty(a: &Loaded, b: &Loaded) -> Result<()> {
    for (x, y) in [(a, b), (b, a)] {
        if !x.sbom.components.is_empty() || (x.kind == Kind::Pip && !y.sbom.components.is_empty()) {
            continue;
        }
        let why = match x.kind {
            Kind::CargoLock => {
                "every package is a workspace member (no `source`), none a dependency"
            }
            Kind::Pip => "no pin, and neither does the other input",
            _ => "it lists no package",
        };
        return Err(Error::new(format!(
            "{}: no components ({why}): a comparison with it proves nothing",
            x.name
        ))
        .with_hint(
            "check that it is the SBOM or lockfile of the build (a generator that found \
             nothing, or another tool's lockfile?); a project without dependencies has no \
             drift to gate",
        ));
    }
    Ok(())
}
