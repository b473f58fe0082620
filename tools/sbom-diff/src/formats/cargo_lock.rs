//! `Cargo.lock` (lockfile versions 1–4), told from other TOML lockfiles by
//! its keys (see [`not_cargo`]).
//!
//! Every `[[package]]` with a `source` is a component (`pkg:cargo/NAME`;
//! a registry other than crates.io, or a git repository, adds
//! `repository_url`); packages without a source are the workspace's own
//! crates or path dependencies (locals: components only where the other
//! input has one of that name, see `model::promote_locals`): a lone one is the document's
//! subject (`(root)` in dependency edges, as a CycloneDX SBOM of that crate
//! has it); in a workspace of several, each member's edges come from the
//! member itself (`pkg:cargo/NAME`), so a dependency moved from one member
//! to another is a change. A package listed twice (same name, version and
//! source) is refused, as cargo refuses it. The
//! `checksum` (in v1, the `[metadata]` table's `checksum NAME VERSION
//! (SOURCE)` entries) is a SHA-256 of the `.crate` file; a git source's commit
//! (`git+URL#COMMIT`) is kept as a `GIT` digest. Dependency edges come from
//! each package's `dependencies` (`"name"`, `"name version"` or
//! `"name version (source)"`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;

use common::{Error, Result};

use crate::message::{shown, utf8};
use crate::model::{root, Component, Options, Sbom};
use crate::purl::Purl;

/// Exactly the keys cargo writes (its `EncodableResolve`): other TOML
/// lockfiles with `[[package]]` tables (PDM's pdm.lock, poetry.lock, uv.lock)
/// have keys a Cargo.lock never has, and are refused rather than read as a
/// Cargo.lock whose packages, having no `source`, would all be workspace
/// members: no component, so any change passed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lock {
    #[serde(default, rename = "version")]
    _version: Option<toml::Value>,
    #[serde(default)]
    package: Vec<Package>,
    /// Lockfile v1 keeps checksums here, as
    /// `"checksum NAME VERSION (SOURCE)" = "HEX"`.
    #[serde(default)]
    metadata: HashMap<String, toml::Value>,
    /// Lockfile v1's root package; `[[patch.unused]]`: patches nothing uses.
    #[serde(default, rename = "root")]
    _root: Option<toml::Value>,
    #[serde(default, rename = "patch")]
    _patch: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Package {
    name: String,
    version: Option<String>,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default, rename = "replace")]
    _replace: Option<toml::Value>,
}

const CRATES_IO: &[&str] = &[
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

pub fn parse(name: &str, bytes: &[u8], opts: &Options) -> Result<Sbom> {
    let text = utf8(bytes).map_err(|line| Error::at(name, line, "invalid UTF-8 in Cargo.lock"))?;
    let lock: Lock = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u64 + 1);
        let message = e.message().trim().to_string();
        if let Some(e) = not_cargo(name, text, line, &message) {
            return e;
        }
        match line {
            Some(l) => Error::at(name, l, format!("invalid Cargo.lock: {message}")),
            None => Error::new(format!("{name}: invalid Cargo.lock: {message}")),
        }
    })?;
    let mut sbom = Sbom {
        format: "cargo-lock",
        ..Sbom::default()
    };
    // (name, version) → identity, and name → identities, for dependency strings.
    let mut by_name_version: HashMap<(String, String), Arc<str>> = HashMap::new();
    let mut by_name: HashMap<String, Vec<Arc<str>>> = HashMap::new();
    // (name, version, source) → index of its [[package]]: cargo refuses a
    // lockfile that lists one twice, and so do we.
    let mut seen: HashMap<(&str, Option<&str>, Option<&str>), usize> = HashMap::new();
    let members = lock.package.iter().filter(|p| p.source.is_none()).count();
    for (i, p) in lock.package.iter().enumerate() {
        if common::interrupt::requested() {
            return Err(Error::new(format!("{name}: interrupted")));
        }
        let key = (p.name.as_str(), p.version.as_deref(), p.source.as_deref());
        if let Some(first) = seen.insert(key, i) {
            let source = p
                .source
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            return Err(Error::at(
                name,
                table_line(text, i),
                format!(
                    "package {} {}{source} is listed twice (first at line {}): cargo refuses such a lockfile",
                    shown(&p.name),
                    p.version.as_deref().unwrap_or(""),
                    table_line(text, first)
                ),
            ));
        }
        let found = p.version.clone().filter(|v| !v.is_empty());
        let version = opts.version(found, "packages", || {
            let what = format!("package {} has no version", shown(&p.name));
            Error::at(name, table_line(text, i), what)
        })?;
        let Some(source) = &p.source else {
            // A workspace member or a path dependency (`path = ..` or a
            // `[patch]` to a folder): the lockfile does not tell them apart.
            let purl = Purl::new("cargo", None, &p.name, None);
            let mut local = Component::new(&purl, &version);
            local.set_source((crate::source::PATH.to_string(), None));
            let me: Arc<str> = if members == 1 {
                root()
            } else {
                local.id.clone()
            };
            sbom.locals.push(local);
            by_name_version.insert((p.name.clone(), version.clone()), me.clone());
            by_name.entry(p.name.clone()).or_default().push(me);
            continue;
        };
        let mut purl = Purl::new("cargo", None, &p.name, None);
        if source.starts_with("git+") {
            // The repository is part of the identity (a git fork is another
            // package than the crates.io crate), the commit is content:
            // compared as a digest. cargo-cyclonedx's vcs_url gives the same.
            purl.vcs_commit = crate::purl::vcs_commit(source, '#');
            if let Some(repo) = crate::purl::git_repository(source) {
                purl.qualifiers.push(("repository_url".to_string(), repo));
            }
        } else if !CRATES_IO.contains(&source.as_str()) {
            let url = source.split_once('+').map(|(_, u)| u).unwrap_or(source);
            purl.qualifiers
                .push(("repository_url".to_string(), url.to_string()));
        }
        let mut c = Component::new(&purl, &version);
        if !source.starts_with("git+") {
            // The registry itself is part of the identity (`repository_url`).
            c.set_source((crate::source::REGISTRY.to_string(), None));
        }
        let v1_key = format!("checksum {} {} ({source})", p.name, version);
        let v1_sum = lock.metadata.get(&v1_key).and_then(toml::Value::as_str);
        if let Some(sum) = p.checksum.as_deref().or(v1_sum) {
            c.add_hash("SHA256", sum);
        }
        by_name_version.insert((p.name.clone(), version.clone()), c.id.clone());
        by_name
            .entry(p.name.clone())
            .or_default()
            .push(c.id.clone());
        sbom.components.push(c);
    }
    let mut edges = HashSet::new();
    for p in &lock.package {
        let version = p.version.clone().unwrap_or_default();
        let Some(from) = by_name_version.get(&(p.name.clone(), version)) else {
            continue;
        };
        for dep in &p.dependencies {
            let mut parts = dep.split_whitespace();
            let dep_name = parts.next().unwrap_or("");
            let to = match parts.next() {
                Some(v) => by_name_version.get(&(dep_name.to_string(), v.to_string())),
                None => by_name.get(dep_name).and_then(|ids| ids.first()),
            };
            if let Some(to) = to {
                if to != from {
                    edges.insert((from.clone(), to.clone()));
                }
            }
        }
    }
    sbom.edges = Some(edges);
    Ok(sbom)
}

/// The error for a TOML file that is not a Cargo.lock (a key cargo never
/// writes), naming the lockfile it looks like; None for another error.
fn not_cargo(name: &str, text: &str, line: Option<u64>, message: &str) -> Option<Error> {
    let key = message
        .strip_prefix("unknown field `")?
        .split('`')
        .next()
        .unwrap_or("");
    let has = |needle: &str| text.lines().any(|l| l.trim_start().starts_with(needle));
    let (what, hint) = if has("lock_version")
        || has("[[metadata.targets]]")
        || has("requires_python")
    {
        (
            "PDM's pdm.lock",
            "export its pins and diff those: pdm export -f requirements -o requirements.txt",
        )
    } else if has("lock-version") || has("python-versions") || has("[package.extras]") {
        (
            "a poetry.lock",
            "export its pins and diff those: poetry export -f requirements.txt -o requirements.txt \
             (poetry-plugin-export)",
        )
    } else if has("requires-python") || has("sdist") || has("wheels") {
        (
            "a uv.lock",
            "export its pins and diff those: uv export --format requirements-txt -o requirements.txt",
        )
    } else {
        (
            "an unknown TOML lockfile",
            "supported: CycloneDX JSON, SPDX JSON, Cargo.lock, package-lock.json v2/v3, \
             pip requirements/freeze",
        )
    };
    let what = format!(
        "not a Cargo.lock: key {} is one cargo never writes; this looks like {what}, \
         which sbom-diff does not read",
        shown(key)
    );
    Some(
        match line {
            Some(l) => Error::at(name, l, what),
            None => Error::new(format!("{name}: {what}")),
        }
        .with_hint(hint),
    )
}

/// The line of the `index`-th `[[package]]` header (1-based), for messages.
fn table_line(text: &str, index: usize) -> u64 {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "[[package]]")
        .nth(index)
        .map(|(n, _)| n as u64 + 1)
        .unwrap_or(1)
}
