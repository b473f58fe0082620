//! CycloneDX JSON (spec 1.2–1.6; 1.0/1.1/1.7 documents read the same way).
//!
//! Components are read recursively (nested `components`); the document's
//! subject (`metadata.component`) is not a component but the `(root)` of the
//! dependency graph. `bom-ref` is only used to resolve `dependencies`: it is
//! no identity (generators put the version in it). Everything that changes on
//! every generation (`serialNumber`, `metadata.timestamp`, `metadata.tools`,
//! `version`) is never read.

use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;

use common::{Error, Result};

use crate::model::{Component, Sbom, ROOT};
use crate::parse::{json_error, Options};
use crate::purl::Purl;

#[derive(Deserialize)]
struct Bom {
    #[serde(rename = "specVersion")]
    spec_version: Option<String>,
    metadata: Option<Metadata>,
    #[serde(default)]
    components: Option<Vec<Comp>>,
    dependencies: Option<Vec<Dependency>>,
}

#[derive(Deserialize)]
struct Metadata {
    component: Option<Comp>,
}

#[derive(Deserialize)]
struct Comp {
    #[serde(rename = "bom-ref")]
    bom_ref: Option<String>,
    group: Option<String>,
    name: Option<String>,
    version: Option<String>,
    purl: Option<String>,
    hashes: Option<Vec<Hash>>,
    licenses: Option<Vec<LicenseChoice>>,
    supplier: Option<Entity>,
    components: Option<Vec<Comp>>,
}

#[derive(Deserialize)]
struct Hash {
    alg: Option<String>,
    content: Option<String>,
}

#[derive(Deserialize)]
struct LicenseChoice {
    license: Option<License>,
    expression: Option<String>,
}

#[derive(Deserialize)]
struct License {
    id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Entity {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Dependency {
    #[serde(rename = "ref")]
    reference: Option<String>,
    #[serde(rename = "dependsOn")]
    depends_on: Option<Vec<String>>,
}

pub fn parse(name: &str, bytes: &[u8], opts: &Options) -> Result<Sbom> {
    let bom: Bom = serde_json::from_slice(crate::detect::strip_bom(bytes))
        .map_err(|e| json_error(name, &e))?;
    if let Some(v) = &bom.spec_version {
        if !v.starts_with("1.") {
            return Err(Error::new(format!(
                "{name}: /specVersion: CycloneDX {v:?} is not a 1.x version"
            )));
        }
    }
    let mut sbom = Sbom {
        format: "cyclonedx",
        ..Sbom::default()
    };
    let mut refs: HashMap<String, String> = HashMap::new();
    if let Some(root) = bom.metadata.as_ref().and_then(|m| m.component.as_ref()) {
        if let Some(r) = &root.bom_ref {
            refs.insert(r.clone(), ROOT.to_string());
        }
    }
    let mut stack: Vec<(String, &Comp)> = Vec::new();
    if let Some(list) = &bom.components {
        for (i, c) in list.iter().enumerate().rev() {
            stack.push((format!("/components/{i}"), c));
        }
    }
    // Depth-first, in document order, without recursion (serde already
    // bounded the nesting depth at 128).
    while let Some((pointer, c)) = stack.pop() {
        if let Some(component) = component(name, &pointer, c, opts)? {
            if let Some(r) = &c.bom_ref {
                refs.entry(r.clone())
                    .or_insert_with(|| component.id.clone());
            }
            sbom.components.push(component);
        }
        if let Some(children) = &c.components {
            for (i, child) in children.iter().enumerate().rev() {
                stack.push((format!("{pointer}/components/{i}"), child));
            }
        }
    }
    if let Some(deps) = &bom.dependencies {
        let mut edges = BTreeSet::new();
        for d in deps {
            let Some(from) = d.reference.as_ref().and_then(|r| refs.get(r)) else {
                continue;
            };
            for to in d.depends_on.iter().flatten() {
                if let Some(to) = refs.get(to) {
                    if to != from {
                        edges.insert((from.clone(), to.clone()));
                    }
                }
            }
        }
        sbom.edges = Some(edges);
    }
    Ok(sbom)
}

/// One component, or None for one the options say to skip.
fn component(file: &str, pointer: &str, c: &Comp, opts: &Options) -> Result<Option<Component>> {
    let label = c.name.as_deref().unwrap_or("");
    let purl = match &c.purl {
        Some(text) if !text.trim().is_empty() => {
            Purl::parse(text).map_err(|e| Error::new(format!("{file}: {pointer}/purl: {e}")))?
        }
        _ => {
            let Some(n) = c.name.as_deref().filter(|n| !n.trim().is_empty()) else {
                return Err(Error::new(format!(
                    "{file}: {pointer}: component has neither a purl nor a name"
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
                    "{file}: {pointer}: component {} has no version",
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
    Ok(Some(out))
}
