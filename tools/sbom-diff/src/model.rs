//! The one shape every input format is read into.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use common::{Error, Result};

use crate::hashes::Hashes;
use crate::license::Licenses;
use crate::purl::Purl;

/// The input formats, as `--from`/`--to` name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Detect from the content (the default).
    Auto,
    /// CycloneDX JSON 1.2–1.6 (`bomFormat: CycloneDX`).
    Cyclonedx,
    /// SPDX 2.2/2.3 JSON (`spdxVersion`).
    Spdx,
    /// Cargo.lock (TOML, `[[package]]`).
    CargoLock,
    /// npm package-lock.json v2/v3 (`lockfileVersion` 2 or 3).
    NpmLock,
    /// pip requirements.txt or `pip freeze` output (`name==version`).
    Pip,
}

/// What the parsers may tolerate.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Accept components without a version (compared by presence only).
    pub allow_unversioned: bool,
}

impl Options {
    /// The version a component is compared by: the one `found`; without
    /// one, none under --allow-unversioned, else the format's located error
    /// (`missing`) with the hint that says how to accept such `things`.
    pub fn version(
        &self,
        found: Option<String>,
        things: &str,
        missing: impl FnOnce() -> Error,
    ) -> Result<String> {
        match found {
            Some(v) => Ok(v),
            None if self.allow_unversioned => Ok(String::new()),
            None => Err(missing().with_hint(format!(
                "pass --allow-unversioned to compare such {things} by presence only"
            ))),
        }
    }
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Auto => "auto",
            Kind::Cyclonedx => "cyclonedx",
            Kind::Spdx => "spdx",
            Kind::CargoLock => "cargo-lock",
            Kind::NpmLock => "npm-lock",
            Kind::Pip => "pip",
        }
    }
}

/// One component (package instance) of a bill of materials.
///
/// Kept small: a 1 GB SBOM holds 4 million of these. What can be derived
/// from the identity (type, name for people, the purl with version) is
/// derived when a record needs it, not stored.
#[derive(Clone, Debug)]
pub struct Component {
    /// The identity: normalized purl without version (shared with edges).
    pub id: Arc<str>,
    /// Where `@version` goes in the identity (before qualifiers, subpath).
    version_at: u32,
    pub version: String,
    /// (algorithm, digest) pairs, sorted and unique; algorithms normalized
    /// (`SHA256`, `SHA512`, ...), digests lowercase hex.
    pub hashes: Hashes,
    /// Shared: 4 million components carry a few hundred licence sets.
    pub licenses: Arc<Licenses>,
    /// Shared likewise (see [`Component::shrink`]).
    pub supplier: Option<Arc<str>>,
    /// Where it came from (`registry`, `git+URL`, `file:PATH`, ...: see
    /// [`crate::source`]); None when the input does not say. Shared likewise,
    /// behind a thin pointer: 8 bytes, not 16, in each of millions.
    #[allow(clippy::rc_buffer, reason = "a thin pointer keeps Component small")]
    pub source: Option<Arc<String>>,
}

impl Component {
    pub fn new(purl: &Purl, version: &str) -> Component {
        let id = purl.identity();
        let version_at = u32::try_from(id.len() - purl.tail_len()).unwrap_or(0);
        // An rpm purl's `epoch=1` qualifier belongs to the version it
        // orders: `3.0.9` with epoch 1 is `1:3.0.9`, newer than `3.1.1`.
        let epoch = purl.epoch.as_deref().filter(|e| {
            !e.trim_start_matches('0').is_empty() && !version.is_empty() && !version.contains(':')
        });
        let version = match epoch {
            Some(e) => format!("{e}:{version}"),
            None => version.to_string(),
        };
        let mut c = Component {
            id: Arc::from(id),
            version_at,
            version,
            hashes: Hashes::default(),
            licenses: no_licenses(),
            supplier: None,
            source: purl.source.clone().map(Arc::new),
        };
        if let Some(commit) = &purl.vcs_commit {
            // A git source's commit is its content: compared like a digest.
            c.add_hash("GIT", commit);
        }
        c
    }

    /// The purl type (`npm`, `pypi`, `cargo`, `generic` without a purl).
    pub fn ty(&self) -> &str {
        self.id
            .strip_prefix("pkg:")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("")
    }

    /// `group/name` for people.
    pub fn name(&self) -> String {
        Purl::parse(&self.id)
            .map(|p| p.display_name())
            .unwrap_or_else(|_| self.id.to_string())
    }

    /// The canonical purl with its version.
    pub fn purl(&self) -> String {
        let at = (self.version_at as usize).min(self.id.len());
        let (head, tail) = self.id.split_at(at);
        let mut out = String::with_capacity(self.id.len() + self.version.len() + 1);
        out.push_str(head);
        out.push('@');
        crate::purl::encode_into(&mut out, &self.version);
        out.push_str(tail);
        out
    }

    /// The licences, to add to while the component is being read.
    pub fn licenses_mut(&mut self) -> &mut Licenses {
        Arc::make_mut(&mut self.licenses)
    }

    /// Shares its licence set, supplier and source with every other
    /// component that has the same (one copy each per parse thread): done once a component
    /// is complete. A 1 GB SBOM's 4 million "MIT" cost one allocation.
    pub fn shrink(&mut self) {
        SHARED.with(|shared| {
            let mut shared = shared.borrow_mut();
            if !self.licenses.is_empty() {
                let key = (*self.licenses).clone();
                let arc = shared
                    .licenses
                    .entry(key)
                    .or_insert_with(|| Arc::clone(&self.licenses));
                self.licenses = Arc::clone(arc);
            }
            if let Some(s) = &self.supplier {
                let arc = shared
                    .suppliers
                    .entry(Arc::clone(s))
                    .or_insert_with(|| Arc::clone(s));
                self.supplier = Some(Arc::clone(arc));
            }
            if let Some(s) = &self.source {
                if let Some(arc) = shared.sources.get(s.as_str()) {
                    self.source = Some(Arc::clone(arc));
                } else {
                    shared.sources.insert(s.to_string(), Arc::clone(s));
                }
            }
        });
    }

    /// Adds a digest; the algorithm name is normalized (`SHA-256` = `sha256`).
    pub fn add_hash(&mut self, alg: &str, hex_digest: &str) {
        let alg: String = alg
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect::<String>()
            .to_ascii_uppercase();
        let digest = hex_digest.trim().to_ascii_lowercase();
        if alg.is_empty() || digest.is_empty() {
            return;
        }
        self.hashes.insert(&alg, &digest);
    }

    /// Sets the supplier, dropping SPDX's `Organization: `/`Person: ` prefix,
    /// a trailing `(email)` contact, and `NOASSERTION`.
    pub fn set_supplier(&mut self, text: &str) {
        let t = text.trim();
        let t = t
            .strip_prefix("Organization:")
            .or_else(|| t.strip_prefix("Person:"))
            .or_else(|| t.strip_prefix("Tool:"))
            .unwrap_or(t)
            .trim();
        // SPDX appends a contact: `Organization: Acme (sec@acme.example)`;
        // CycloneDX keeps it apart, so the name alone is compared.
        let t = match t.rsplit_once('(') {
            Some((name, contact))
                if contact.ends_with(')') && contact.contains('@') && !name.trim().is_empty() =>
            {
                name.trim()
            }
            _ => t,
        };
        if t.is_empty() || t.eq_ignore_ascii_case("NOASSERTION") || t.eq_ignore_ascii_case("NONE") {
            return;
        }
        self.supplier = Some(Arc::from(t));
    }

    /// Sets where it came from, and the commit of a git source as its
    /// `GIT` digest (see [`crate::source`]).
    pub fn set_source(&mut self, (source, commit): (String, Option<String>)) {
        if let Some(commit) = commit {
            self.add_hash("GIT", &commit);
        }
        self.source = Some(Arc::new(source));
    }

    /// Digests as one string per algorithm for records: `{"SHA256":"ab.."}`
    /// (several digests of one algorithm joined by a space).
    pub fn hash_map(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for (alg, digest) in self.hashes.iter() {
            let entry = out.entry(alg.to_string()).or_default();
            if !entry.is_empty() {
                entry.push(' ');
            }
            entry.push_str(&digest);
        }
        out
    }

    /// The digests given for one algorithm.
    pub fn digests<'a>(&'a self, alg: &'a str) -> impl Iterator<Item = String> + 'a {
        self.hashes
            .iter()
            .filter(move |(a, _)| *a == alg)
            .map(|(_, d)| d.into_owned())
    }
}

/// The licence sets, suppliers and sources met so far on this thread.
#[derive(Default)]
struct Shared {
    licenses: HashMap<Licenses, Arc<Licenses>>,
    suppliers: HashMap<Arc<str>, Arc<str>>,
    sources: HashMap<String, Arc<String>>,
}

thread_local! {
    static SHARED: RefCell<Shared> = RefCell::new(Shared::default());
    static NO_LICENSES: Arc<Licenses> = Arc::new(Licenses::default());
}

fn no_licenses() -> Arc<Licenses> {
    NO_LICENSES.with(Arc::clone)
}

/// Dependency edges by identity (`from` → `to`).
pub type Edges = HashSet<(Arc<str>, Arc<str>)>;

/// A parsed bill of materials.
#[derive(Debug, Default)]
pub struct Sbom {
    pub format: &'static str,
    pub components: Vec<Component>,
    /// Dependency edges by identity (`from` → `to`); `(root)` is the
    /// document's subject. `None` when the input carries no graph.
    pub edges: Option<Edges>,
    /// Packages built from a local folder: Cargo.lock packages without a
    /// source (workspace members and path dependencies, which the lockfile
    /// does not tell apart), npm `link`s. Not components, except where the
    /// other input has a component of the same identity: see
    /// [`promote_locals`].
    pub locals: Vec<Component>,
}

/// A local package standing where the other input has a component of its
/// identity (a crates.io crate replaced by `[patch.crates-io] x = { path =
/// .. }`, an npm package replaced by a `link` to a folder) becomes a
/// component of its input, so that it pairs with that one as
/// `source_changed` (the registry → a local path) rather than leaving a
/// lone `removed` that a drift limit absorbs. Returns how many were
/// promoted on each side.
pub fn promote_locals(old: &mut Sbom, new: &mut Sbom) -> (usize, usize) {
    // Matched without qualifiers: a crate from git or another registry
    // (`pkg:cargo/x?repository_url=..`) replaced by a local `pkg:cargo/x`
    // is then `removed` + `added` (another identity), not a lone removal.
    let bare = |id: &str| -> String { id.split('?').next().unwrap_or(id).to_string() };
    let ids = |s: &Sbom| -> HashSet<String> { s.components.iter().map(|c| bare(&c.id)).collect() };
    let (in_old, in_new) = (ids(old), ids(new));
    let promote = |side: &mut Sbom, other: &HashSet<String>| {
        let (hit, keep): (Vec<Component>, Vec<Component>) = std::mem::take(&mut side.locals)
            .into_iter()
            .partition(|c| other.contains(&bare(&c.id)));
        side.locals = keep;
        let n = hit.len();
        side.components.extend(hit);
        n
    };
    (promote(old, &in_new), promote(new, &in_old))
}

/// The pseudo-identity of the document's subject in dependency edges.
pub const ROOT: &str = "(root)";

/// [`ROOT`] as a shared identity.
pub fn root() -> Arc<str> {
    Arc::from(ROOT)
}

#[cfg(test)]
mod tests {
    /// A 1 GB SBOM holds 4 million components: each field costs 4 million
    /// times (the benchmark measures the whole at ~200 bytes a component).
    #[test]
    fn a_component_stays_small() {
        assert!(
            std::mem::size_of::<super::Component>() <= 96,
            "{} bytes",
            std::mem::size_of::<super::Component>()
        );
    }
}
