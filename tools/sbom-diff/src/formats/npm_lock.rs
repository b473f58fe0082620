//! npm `package-lock.json`, lockfile versions 2 and 3 (the `packages` map).
//!
//! Every `node_modules/...` entry is a component: the same package nested at
//! several paths stays several components (a multiset). The root entry `""`
//! and workspace folders (paths without `node_modules`) are the project
//! itself (not components); the root's dependency edges come from `(root)`,
//! a workspace folder's from the member (`pkg:npm/NAME`), so a dependency
//! of one member is not read as the whole project's. `link` entries point
//! at those folders: local packages (`file:FOLDER`), components only where
//! the other input has a component of that name (see
//! `model::promote_locals`). The name is
//! the entry's `name` (aliases) or the path after its last `node_modules/`.
//! `integrity` (SRI, `sha512-<base64>`) becomes hex digests; `resolved`
//! says where the package came from (the registry, another registry, a git
//! repository whose commit becomes a `GIT` digest, a `file:`, a URL: see
//! `source`), so a registry package swapped for a git fork at the same
//! version is a change. Dependency edges are resolved the way Node does:
//! from a package's folder upward.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use base64::Engine;
use serde::Deserialize;

use common::{Error, Result};

use crate::message::{json_error, shown, shown_json, strip_bom};
use crate::model::{root, Component, Options, Sbom};
use crate::purl::Purl;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lock {
    lockfile_version: Option<serde_json::Value>,
    packages: Option<BTreeMap<String, Entry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a package-lock package object")]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    integrity: Option<String>,
    resolved: Option<String>,
    #[serde(default)]
    in_bundle: bool,
    license: Option<serde_json::Value>,
    #[serde(default)]
    link: bool,
    dependencies: Option<BTreeMap<String, serde_json::Value>>,
    optional_dependencies: Option<BTreeMap<String, serde_json::Value>>,
    peer_dependencies: Option<BTreeMap<String, serde_json::Value>>,
    dev_dependencies: Option<BTreeMap<String, serde_json::Value>>,
}

pub fn parse(name: &str, bytes: &[u8], opts: &Options) -> Result<Sbom> {
    let lock: Lock = serde_json::from_slice(strip_bom(bytes)).map_err(|e| json_error(name, &e))?;
    let version = lock
        .lockfile_version
        .as_ref()
        .and_then(serde_json::Value::as_u64);
    if !matches!(version, Some(2 | 3)) {
        let shown = lock
            .lockfile_version
            .as_ref()
            .map(shown_json)
            .unwrap_or_default();
        return Err(Error::new(format!("{name}: /lockfileVersion: {shown} is not supported (2 and 3 are)"))
            .with_hint("regenerate it with npm 7 or later: npm install --package-lock-only --lockfile-version 3"));
    }
    let Some(packages) = lock.packages else {
        return Err(Error::new(format!(
            "{name}: /packages is missing: not a v2/v3 package-lock.json"
        )));
    };
    let mut sbom = Sbom {
        format: "npm-lock",
        ..Sbom::default()
    };
    // Path → identity, for resolving dependency names.
    let mut at_path: BTreeMap<&str, Arc<str>> = BTreeMap::new();
    for (i, (path, e)) in packages.iter().enumerate() {
        if i % 1024 == 1023 && common::interrupt::requested() {
            return Err(Error::new(format!("{name}: interrupted")));
        }
        let Some(after) = package_name(path) else {
            continue;
        };
        if e.link {
            // A folder installed under this name (a workspace member, or a
            // registry package replaced by `npm link`/`file:` to a folder):
            // local, and a component only where the other input has one.
            if let Some(local) = link(after, e, &packages) {
                sbom.locals.push(local);
            }
            continue;
        }
        let pkg_name = e.name.as_deref().unwrap_or(after);
        let pointer = format!("/packages/{}", path.replace('~', "~0").replace('/', "~1"));
        let (scope, bare) = match pkg_name.split_once('/') {
            Some((s, n)) if s.starts_with('@') => (Some(s), n),
            _ => (None, pkg_name),
        };
        if bare.is_empty() {
            return Err(Error::new(format!("{name}: {pointer}: empty package name")));
        }
        let found = e.version.clone().filter(|v| !v.is_empty());
        let version = opts.version(found, "packages", || {
            let what = format!("package {} has no version", shown(pkg_name));
            Error::new(format!("{name}: {pointer}: {what}"))
        })?;
        let purl = Purl::new("npm", scope, bare, None);
        let mut c = Component::new(&purl, &version);
        c.set_source(crate::source::of_npm(
            e.resolved.as_deref(),
            pkg_name,
            e.in_bundle,
        ));
        if let Some(sri) = &e.integrity {
            add_integrity(&mut c, sri);
        }
        match &e.license {
            Some(serde_json::Value::String(s)) => c.licenses_mut().add_expression(s),
            Some(serde_json::Value::Object(o)) => {
                if let Some(t) = o.get("type").and_then(|t| t.as_str()) {
                    c.licenses_mut().add_name(t);
                }
            }
            _ => {}
        }
        at_path.insert(path.as_str(), c.id.clone());
        sbom.components.push(c);
    }
    let mut edges = HashSet::new();
    for (path, e) in &packages {
        if e.link {
            continue;
        }
        let member = !path.is_empty() && package_name(path).is_none();
        let from = if path.is_empty() {
            root()
        } else if member {
            // A workspace folder: named by its package name (else its folder).
            let folder = path.rsplit('/').next().unwrap_or(path);
            let pkg_name = e.name.as_deref().unwrap_or(folder);
            let (scope, bare) = match pkg_name.split_once('/') {
                Some((s, n)) if s.starts_with('@') => (Some(s), n),
                _ => (None, pkg_name),
            };
            if bare.is_empty() {
                continue;
            }
            Arc::from(Purl::new("npm", scope, bare, None).identity())
        } else {
            match at_path.get(path.as_str()) {
                Some(id) => id.clone(),
                None => continue,
            }
        };
        let names = e
            .dependencies
            .iter()
            .chain(e.optional_dependencies.iter())
            .chain(e.peer_dependencies.iter())
            .chain(if path.is_empty() || member {
                e.dev_dependencies.iter()
            } else {
                None.iter()
            })
            .flat_map(|m| m.keys());
        for dep in names {
            if let Some(to) = resolve(&at_path, path, dep) {
                if *to != from {
                    edges.insert((from.clone(), to.clone()));
                }
            }
        }
    }
    sbom.edges = Some(edges);
    Ok(sbom)
}

/// The local package a `link` entry installed as `installed` stands for:
/// its folder's entry gives the version; its source is `file:FOLDER`.
fn link(installed: &str, e: &Entry, packages: &BTreeMap<String, Entry>) -> Option<Component> {
    let (scope, bare) = match installed.split_once('/') {
        Some((s, n)) if s.starts_with('@') => (Some(s), n),
        _ => (None, installed),
    };
    if bare.is_empty() {
        return None;
    }
    let folder = e.resolved.as_deref().unwrap_or("").trim();
    let version = packages
        .get(folder)
        .and_then(|t| t.version.clone())
        .unwrap_or_default();
    let mut c = Component::new(&Purl::new("npm", scope, bare, None), &version);
    c.set_source((format!("file:{folder}"), None));
    Some(c)
}

/// The package name a `node_modules/...` path installs, or None for the root
/// and workspace folders.
fn package_name(path: &str) -> Option<&str> {
    let i = path.rfind("node_modules/")?;
    let name = &path[i + "node_modules/".len()..];
    (!name.is_empty()).then_some(name)
}

/// Node's lookup: `<dir>/node_modules/<dep>`, then each parent folder's.
fn resolve<'a>(
    at_path: &'a BTreeMap<&str, Arc<str>>,
    from: &str,
    dep: &str,
) -> Option<&'a Arc<str>> {
    let mut dir = from.to_string();
    // Bounded: each round removes at least one path segment.
    for _ in 0..=from.matches('/').count() + 1 {
        let candidate = if dir.is_empty() {
            format!("node_modules/{dep}")
        } else {
            format!("{dir}/node_modules/{dep}")
        };
        if let Some(id) = at_path.get(candidate.as_str()) {
            return Some(id);
        }
        if dir.is_empty() {
            return None;
        }
        // Up one package: strip "/node_modules/<name>" (scoped names have a '/').
        match dir.rfind("node_modules/") {
            Some(0) => dir.clear(),
            Some(i) => dir.truncate(i.saturating_sub(1)),
            None => dir.clear(),
        }
    }
    None
}

/// `sha512-<base64> sha1-<base64>` → hex digests.
pub fn add_integrity(c: &mut Component, sri: &str) {
    for part in sri.split_whitespace() {
        let Some((alg, b64)) = part.split_once('-') else {
            continue;
        };
        let b64 = b64.split('?').next().unwrap_or(b64);
        if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64) {
            c.add_hash(alg, &hex::encode(raw));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn node_resolution() {
        let mut m: BTreeMap<&str, Arc<str>> = BTreeMap::new();
        m.insert("node_modules/a", "A".into());
        m.insert("node_modules/b", "B1".into());
        m.insert("node_modules/a/node_modules/b", "B2".into());
        m.insert("node_modules/@s/c", "C".into());
        assert_eq!(&**resolve(&m, "node_modules/a", "b").unwrap(), "B2");
        assert_eq!(&**resolve(&m, "node_modules/@s/c", "b").unwrap(), "B1");
        assert_eq!(
            &**resolve(&m, "node_modules/a/node_modules/b", "@s/c").unwrap(),
            "C"
        );
        assert_eq!(&**resolve(&m, "", "a").unwrap(), "A");
        assert!(resolve(&m, "node_modules/a", "zzz").is_none());
        assert_eq!(package_name("node_modules/@s/c"), Some("@s/c"));
        assert_eq!(package_name("packages/x"), None);
        assert_eq!(package_name(""), None);
    }
}
