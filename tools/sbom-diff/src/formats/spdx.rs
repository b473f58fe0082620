//! SPDX 2.2/2.3 JSON.
//!
//! Packages become components; the purl comes from an `externalRefs` entry of
//! type `purl`, else the identity falls back to `pkg:generic/NAME`. The
//! licence is `licenseConcluded`, or `licenseDeclared` when that says
//! nothing. The packages the document DESCRIBES are its subject, not
//! components (unless it describes every one of several packages, as some
//! generators do).
//! Dependency edges come from `DEPENDS_ON` and the `*_DEPENDENCY_OF`
//! relationships. `documentNamespace`, `creationInfo` and the like change on
//! every generation and are never read.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;

use common::{Error, Result};

use crate::message::{json_error, shown, strip_bom};
use crate::model::{root, Component, Options, Sbom};
use crate::purl::Purl;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Doc {
    spdx_version: Option<String>,
    #[serde(rename = "SPDXID")]
    spdx_id: Option<String>,
    document_describes: Option<Vec<String>>,
    packages: Option<Vec<Package>>,
    relationships: Option<Vec<Relationship>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an SPDX package object")]
struct Package {
    #[serde(rename = "SPDXID")]
    spdx_id: Option<String>,
    name: Option<String>,
    version_info: Option<String>,
    download_location: Option<String>,
    supplier: Option<String>,
    checksums: Option<Vec<Checksum>>,
    license_concluded: Option<String>,
    license_declared: Option<String>,
    external_refs: Option<Vec<ExternalRef>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: Option<String>,
    checksum_value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_type: Option<String>,
    reference_locator: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: Option<String>,
    relationship_type: Option<String>,
    related_spdx_element: Option<String>,
}

pub fn parse(name: &str, bytes: &[u8], opts: &Options) -> Result<Sbom> {
    let doc: Doc = serde_json::from_slice(strip_bom(bytes)).map_err(|e| json_error(name, &e))?;
    match doc.spdx_version.as_deref() {
        Some(v) if v.starts_with("SPDX-2.") => {}
        Some(v) => {
            return Err(Error::new(format!(
                "{name}: /spdxVersion: {} is not SPDX 2.x",
                shown(v)
            ))
            .with_hint("SPDX 2.2 and 2.3 JSON are read"))
        }
        None => return Err(Error::new(format!("{name}: /spdxVersion is missing"))),
    }
    let packages = doc.packages.unwrap_or_default();
    let doc_id = doc
        .spdx_id
        .unwrap_or_else(|| "SPDXRef-DOCUMENT".to_string());
    let relationships = doc.relationships.unwrap_or_default();
    let mut described: HashSet<String> = doc
        .document_describes
        .unwrap_or_default()
        .into_iter()
        .collect();
    for r in &relationships {
        if r.spdx_element_id.as_deref() == Some(doc_id.as_str())
            && r.relationship_type.as_deref() == Some("DESCRIBES")
        {
            if let Some(t) = &r.related_spdx_element {
                described.insert(t.clone());
            }
        }
        if r.related_spdx_element.as_deref() == Some(doc_id.as_str())
            && r.relationship_type.as_deref() == Some("DESCRIBED_BY")
        {
            if let Some(t) = &r.spdx_element_id {
                described.insert(t.clone());
            }
        }
    }
    // A document that "describes" every one of several packages has no
    // separate subject. A lone described package is the subject (npm sbom of
    // a project without dependencies), as CycloneDX's metadata.component is.
    let subject_count = packages
        .iter()
        .filter(|p| p.spdx_id.as_ref().is_some_and(|id| described.contains(id)))
        .count();
    if subject_count == packages.len() && packages.len() > 1 {
        described.clear();
    }
    let mut sbom = Sbom {
        format: "spdx",
        ..Sbom::default()
    };
    let mut ids: HashMap<String, Arc<str>> = HashMap::new();
    ids.insert(doc_id, root());
    for (i, p) in packages.iter().enumerate() {
        if i % 1024 == 1023 && common::interrupt::requested() {
            return Err(Error::new(format!("{name}: interrupted")));
        }
        let pointer = format!("/packages/{i}");
        if let Some(id) = &p.spdx_id {
            if described.contains(id) {
                ids.insert(id.clone(), root());
                continue;
            }
        }
        let c = package(name, &pointer, p, opts)?;
        if let Some(id) = &p.spdx_id {
            ids.entry(id.clone()).or_insert_with(|| c.id.clone());
        }
        sbom.components.push(c);
    }
    let mut edges = HashSet::new();
    let mut graph = false;
    for r in &relationships {
        let (Some(a), Some(t), Some(b)) = (
            &r.spdx_element_id,
            &r.relationship_type,
            &r.related_spdx_element,
        ) else {
            continue;
        };
        let (from, to) = if t == "DEPENDS_ON" {
            (a, b)
        } else if t.ends_with("_DEPENDENCY_OF") || t == "DEPENDENCY_OF" {
            (b, a)
        } else {
            continue;
        };
        graph = true;
        if let (Some(f), Some(t)) = (ids.get(from), ids.get(to)) {
            if f != t {
                edges.insert((f.clone(), t.clone()));
            }
        }
    }
    if graph {
        sbom.edges = Some(edges);
    }
    Ok(sbom)
}

fn package(file: &str, pointer: &str, p: &Package, opts: &Options) -> Result<Component> {
    let label = p.name.as_deref().unwrap_or("");
    let purl_text = p.external_refs.iter().flatten().find_map(|r| {
        (r.reference_type.as_deref() == Some("purl"))
            .then_some(r.reference_locator.as_deref())
            .flatten()
    });
    let purl = match purl_text {
        Some(text) => Purl::parse(text)
            .map_err(|e| Error::new(format!("{file}: {pointer}/externalRefs: {e}")))?,
        None => {
            let Some(n) = p.name.as_deref().filter(|n| !n.trim().is_empty()) else {
                return Err(Error::new(format!(
                    "{file}: {pointer}: package has neither a purl nor a name"
                )));
            };
            Purl::new("generic", None, n, None)
        }
    };
    let version = match p
        .version_info
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "NOASSERTION")
    {
        Some(v) => v.to_string(),
        None => opts.version(purl.version.clone(), "packages", || {
            let what = format!("package {} has no versionInfo", shown(label));
            Error::new(format!("{file}: {pointer}: {what}"))
        })?,
    };
    let mut c = Component::new(&purl, &version);
    // Where it was downloaded from, when the purl does not say (no git
    // vcs_url): a git repository (its commit a GIT digest) or a local file.
    // Registry tarball URLs and NOASSERTION leave the purl's registry.
    let from_purl = c.source.as_deref().map(String::as_str);
    if from_purl.is_none() || from_purl == Some(crate::source::REGISTRY) {
        if let Some(dl) =
            p.download_location.as_deref().map(str::trim).filter(|d| {
                d.starts_with("git+") || d.starts_with("git://") || d.starts_with("file:")
            })
        {
            c.set_source(crate::source::of_url(dl));
        }
    }
    for h in p.checksums.iter().flatten() {
        if let (Some(alg), Some(v)) = (&h.algorithm, &h.checksum_value) {
            c.add_hash(alg, v);
        }
    }
    c.licenses_mut()
        .add_expression(p.license_concluded.as_deref().unwrap_or(""));
    if c.licenses.is_empty() {
        c.licenses_mut()
            .add_expression(p.license_declared.as_deref().unwrap_or(""));
    }
    if let Some(s) = &p.supplier {
        c.set_supplier(s);
    }
    Ok(c)
}
