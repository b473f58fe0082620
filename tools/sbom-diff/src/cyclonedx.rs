//! CycloneDX JSON (spec 1.2–1.6; 1.0/1.1/1.7 documents read the same way).
//!
//! Components are read recursively (nested `components`); the document's
//! subject (`metadata.component`) is not a component but the `(root)` of the
//! dependency graph. `bom-ref` is only used to resolve `dependencies`: it is
//! no identity (generators put the version in it). Everything that changes on
//! every generation (`serialNumber`, `metadata.timestamp`, `metadata.tools`,
//! `version`) is never read.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;

use common::{Error, Result};

use crate::model::{root, Component, Sbom};
use crate::parse::{json_error, Options};
use crate::purl::Purl;

// Strings borrow from the input where they can (`Cow`): a 50,000-component
// document would otherwise cost a few hundred thousand allocations.

#[derive(Deserialize)]
#[serde(expecting = "a CycloneDX document object")]
struct Bom<'a> {
    #[serde(rename = "specVersion", borrow)]
    spec_version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    metadata: Option<Metadata<'a>>,
    #[serde(borrow)]
    components: Option<Vec<Comp<'a>>>,
    #[serde(borrow)]
    dependencies: Option<Vec<Dependency<'a>>>,
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(borrow)]
    component: Option<Comp<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a CycloneDX component object")]
struct Comp<'a> {
    #[serde(rename = "bom-ref", borrow)]
    bom_ref: Option<Cow<'a, str>>,
    #[serde(borrow)]
    group: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    purl: Option<Cow<'a, str>>,
    #[serde(borrow)]
    hashes: Option<Vec<Hash<'a>>>,
    #[serde(borrow)]
    licenses: Option<Vec<LicenseChoice<'a>>>,
    #[serde(borrow)]
    supplier: Option<Entity<'a>>,
    #[serde(borrow)]
    components: Option<Vec<Comp<'a>>>,
}

#[derive(Deserialize)]
struct Hash<'a> {
    #[serde(borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct LicenseChoice<'a> {
    #[serde(borrow)]
    license: Option<License<'a>>,
    #[serde(borrow)]
    expression: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct License<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Entity<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Dependency<'a> {
    #[serde(rename = "ref", borrow)]
    reference: Option<Cow<'a, str>>,
    #[serde(rename = "dependsOn", borrow)]
    depends_on: Option<Vec<Cow<'a, str>>>,
}

pub fn parse(name: &str, bytes: &[u8], opts: &Options) -> Result<Sbom> {
    let bom: Bom<'_> = serde_json::from_slice(crate::detect::strip_bom(bytes))
        .map_err(|e| json_error(name, &e))?;
    if let Some(v) = &bom.spec_version {
        if !v.starts_with("1.") {
            return Err(Error::new(format!(
                "{name}: /specVersion: CycloneDX {} is not a 1.x version",
                crate::parse::shown(v)
            )));
        }
    }
    let mut sbom = Sbom {
        format: "cyclonedx",
        ..Sbom::default()
    };
    let root = root();
    let mut refs: HashMap<&str, Arc<str>> = HashMap::new();
    if let Some(r) = bom
        .metadata
        .as_ref()
        .and_then(|m| m.component.as_ref())
        .and_then(|c| c.bom_ref.as_deref())
    {
        refs.insert(r, Arc::clone(&root));
    }
    let mut stack: Vec<(usize, &Comp<'_>, Option<usize>)> = Vec::new();
    // (index among siblings, component, parent's position in `path`) — the
    // JSON pointer is only built when an error needs it.
    if let Some(list) = &bom.components {
        for (i, c) in list.iter().enumerate().rev() {
            stack.push((i, c, None));
        }
    }
    let mut path: Vec<(usize, Option<usize>)> = Vec::new();
    // Depth-first, in document order, without recursion (serde already
    // bounded the nesting depth at 128).
    while let Some((index, c, parent)) = stack.pop() {
        path.push((index, parent));
        let me = path.len() - 1;
        let pointer = || pointer_of(&path, me);
        let component = component(name, &pointer, c, opts)?;
        if let Some(r) = c.bom_ref.as_deref() {
            refs.entry(r).or_insert_with(|| Arc::clone(&component.id));
        }
        sbom.components.push(component);
        if let Some(children) = &c.components {
            for (i, child) in children.iter().enumerate().rev() {
                stack.push((i, child, Some(me)));
            }
        }
    }
    if let Some(deps) = &bom.dependencies {
        let mut edges = HashSet::new();
        for d in deps {
            let Some(from) = d.reference.as_deref().and_then(|r| refs.get(r)) else {
                continue;
            };
            for to in d.depends_on.iter().flatten() {
                if let Some(to) = refs.get(to.as_ref()) {
                    if to != from {
                        edges.insert((Arc::clone(from), Arc::clone(to)));
                    }
                }
            }
        }
        sbom.edges = Some(edges);
    }
    Ok(sbom)
}

/// `/components/3/components/0` for the component at `at` in `path`.
fn pointer_of(path: &[(usize, Option<usize>)], at: usize) -> String {
    let mut parts = Vec::new();
    let mut cur = Some(at);
    while let Some(k) = cur {
        let (index, parent) = path[k];
        parts.push(index);
        cur = parent;
    }
    parts
        .iter()
        .rev()
        .map(|i| format!("/components/{i}"))
        .collect()
}

/// One component, or an error naming its JSON pointer (no purl and no name,
/// a bad purl, no version without --allow-unversioned).
fn component(
    file: &str,
    pointer: &dyn Fn() -> String,
    c: &Comp<'_>,
    opts: &Options,
) -> Result<Component> {
    let label = c.name.as_deref().unwrap_or("");
    let purl = match &c.purl {
        Some(text) if !text.trim().is_empty() => {
            Purl::parse(text).map_err(|e| Error::new(format!("{file}: {}/purl: {e}", pointer())))?
        }
        _ => {
            let Some(n) = c.name.as_deref().filter(|n| !n.trim().is_empty()) else {
                return Err(Error::new(format!(
                    "{file}: {}: component has neither a purl nor a name",
                    pointer()
                )));
            };
            Purl::new(
                "generic",
                c.group.as_deref().filter(|g| !g.is_empty()),
                n,
                None,
            )
        }
    };
    let version = match c
        .version
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(v) => v.to_string(),
        None => match purl.version.clone() {
            Some(v) => v,
            None if opts.allow_unversioned => String::new(),
            None => {
                return Err(Error::new(format!(
                    "{file}: {}: component {} has no version",
                    pointer(),
                    crate::parse::shown(label)
                ))
                .with_hint("pass --allow-unversioned to compare such components by presence only"))
            }
        },
    };
    let mut out = Component::new(&purl, &version);
    for h in c.hashes.iter().flatten() {
        if let (Some(alg), Some(content)) = (&h.alg, &h.content) {
            out.add_hash(alg, content);
        }
    }
    for l in c.licenses.iter().flatten() {
        if let Some(e) = &l.expression {
            out.licenses.add_expression(e);
        }
        if let Some(lic) = &l.license {
            if let Some(id) = &lic.id {
                out.licenses.add_expression(id);
            } else if let Some(n) = &lic.name {
                out.licenses.add_name(n);
            }
        }
    }
    if let Some(s) = c.supplier.as_ref().and_then(|s| s.name.as_deref()) {
        out.set_supplier(s);
    }
    Ok(out)
}
