//! Package URLs (purl) and the identity of a component.
//!
//! Identity is the normalized purl *without* its version: two components with
//! the same identity are "the same package" and their versions are compared.
//! The rules (keep in sync with the long help in cli.rs and the README):
//! - the scheme (`pkg:`) and the type are case-insensitive (`PKG:NPM/x` is
//!   `pkg:npm/x`); namespace and name are percent-decoded, and a purl whose
//!   decoded bytes are not UTF-8 is refused (`%FF` and `%FE` must not both
//!   become U+FFFD and make two packages one);
//! - `pypi` names are normalized as pip does (PEP 503: lowercase, runs of
//!   `-`, `_`, `.` become one `-`); `npm` scope and name, and `github`,
//!   `bitbucket`, `gitlab`, `hex`, `composer`, `deb`, `apk` and `alpm`
//!   names are lowercased (their registries are case-insensitive); `golang`
//!   paths keep their case (Go module paths are case-sensitive:
//!   `github.com/Sirupsen/logrus` is not `github.com/sirupsen/logrus`);
//! - an npm name with a percent-encoded slash (`%40scope%2Fname`) is split
//!   into scope and name;
//! - qualifier keys are lowercased, qualifiers with empty values are dropped,
//!   the non-identifying ones (`checksum`, `download_url`, `file_name`,
//!   `vcs_url`) are dropped, and the rest are sorted by key;
//! - a `cargo` purl's git `vcs_url` adds its repository (without branch or
//!   commit) as `repository_url`, as Cargo.lock's source does: a git fork
//!   is another package than the crates.io crate;
//! - a subpath keeps its segments without empty, `.` or `..` parts;
//! - the result is written back in canonical form (`@` in an npm scope as
//!   `%40`), so `pkg:npm/%40types/node` and `pkg:NPM/@types/Node` agree.

use std::fmt::Write as _;

use crate::message::shown;

/// A parsed package URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purl {
    pub ty: String,
    pub namespace: Vec<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: Vec<(String, String)>,
    pub subpath: Option<String>,
    /// The commit a `vcs_url` qualifier pins (`git+https://...@<hex>`): not
    /// part of the identity, but content (a digest), so a git dependency
    /// moved to another commit at the same version is `hash_changed`.
    pub vcs_commit: Option<String>,
    /// Where the package came from, for a parsed purl: its `vcs_url`'s
    /// repository (`git+URL`), a `download_url` that is a local `file:`,
    /// else its type's registry (a purl's default `repository_url`; another
    /// registry is part of the identity). None for a purl built from parts:
    /// the lockfile says. See [`crate::source`].
    pub source: Option<String>,
    /// An `rpm` (or `deb`) purl's `epoch` qualifier (the purl spec keeps the
    /// epoch out of the version): part of the version, not of the identity.
    pub epoch: Option<String>,
}

/// Qualifiers that describe where an artifact came from rather than which
/// package it is: they never split an identity.
const NON_IDENTIFYING: &[&str] = &[
    "checksum",
    "checksums",
    "download_url",
    "file_name",
    "vcs_url",
];

impl Purl {
    /// Parses and normalizes `text`. The error says what is wrong.
    pub fn parse(text: &str) -> Result<Purl, String> {
        let trimmed = text.trim();
        let rest = trimmed
            .get(..4)
            .filter(|scheme| scheme.eq_ignore_ascii_case("pkg:"))
            .map(|_| &trimmed[4..])
            .ok_or_else(|| format!("purl {} does not start with 'pkg:'", shown(text)))?;
        let not_utf8 = |_| format!("purl {} is not UTF-8 once percent-decoded", shown(text));
        let rest = rest.trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, s)) => (r, Some(s)),
            None => (rest, None),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (ty, path) = rest
            .split_once('/')
            .ok_or_else(|| format!("purl {} has no name", shown(text)))?;
        let ty = ty.to_ascii_lowercase();
        if ty.is_empty()
            || !ty
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+-".contains(c))
        {
            return Err(format!(
                "purl {} has an invalid type {}",
                shown(text),
                shown(&ty)
            ));
        }
        let path = path.trim_end_matches('/');
        // The version is after the last '@' of the last segment ('@' inside
        // an npm scope is percent-encoded, or appears before a '/').
        let (path, version) = match path.rfind('@') {
            Some(at) if !path[at..].contains('/') => (
                &path[..at],
                Some(decode(&path[at + 1..]).map_err(not_utf8)?),
            ),
            _ => (path, None),
        };
        let mut segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect::<Result<_, _>>()
            .map_err(not_utf8)?;
        let name = segments
            .pop()
            .ok_or_else(|| format!("purl {} has no name", shown(text)))?;
        if name.is_empty() {
            return Err(format!("purl {} has an empty name", shown(text)));
        }
        let mut purl = Purl {
            ty,
            namespace: segments,
            name,
            version: version.filter(|v| !v.is_empty()),
            qualifiers: Vec::new(),
            subpath: None,
            vcs_commit: None,
            source: None,
            epoch: None,
        };
        if let Some(query) = query {
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let v = decode(v).map_err(not_utf8)?;
                let k = k.to_ascii_lowercase();
                if k == "vcs_url" && !v.is_empty() {
                    // `git+URL@COMMIT` (purl spec), or npm's `git+URL#COMMIT`.
                    // Another kind of URL (a project's home) says nothing
                    // of where this artifact came from.
                    let (source, commit) = crate::source::of_url(&v);
                    if source.starts_with("git+") {
                        purl.vcs_commit = commit;
                        purl.source = Some(source);
                    } else {
                        purl.vcs_commit = vcs_commit(&v, '@');
                    }
                } else if k == "download_url" && v.starts_with("file:") {
                    purl.source.get_or_insert_with(|| v.clone());
                }
                if !v.is_empty() {
                    purl.qualifiers.push((k, v));
                }
            }
        }
        if let Some(sub) = subpath {
            let parts: Vec<String> = sub
                .split('/')
                .filter(|s| !s.is_empty() && *s != "." && *s != "..")
                .map(decode)
                .collect::<Result<_, _>>()
                .map_err(not_utf8)?;
            if !parts.is_empty() {
                purl.subpath = Some(parts.join("/"));
            }
        }
        purl.source
            .get_or_insert_with(|| crate::source::REGISTRY.to_string());
        purl.normalize();
        Ok(purl)
    }

    /// A purl built from parts (lockfiles), normalized like a parsed one.
    pub fn new(ty: &str, namespace: Option<&str>, name: &str, version: Option<&str>) -> Purl {
        let mut purl = Purl {
            ty: ty.to_ascii_lowercase(),
            namespace: namespace
                .map(|n| {
                    n.split('/')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            name: name.to_string(),
            version: version.map(str::to_string),
            qualifiers: Vec::new(),
            subpath: None,
            vcs_commit: None,
            source: None,
            epoch: None,
        };
        purl.normalize();
        purl
    }

    fn normalize(&mut self) {
        match self.ty.as_str() {
            "pypi" => self.name = pep503(&self.name),
            "npm" | "github" | "bitbucket" | "gitlab" | "hex" | "composer" | "deb" | "apk"
            | "alpm" => {
                self.name = self.name.to_lowercase();
                for n in &mut self.namespace {
                    *n = n.to_lowercase();
                }
            }
            _ => {}
        }
        if self.ty == "npm" && self.namespace.is_empty() {
            // `pkg:npm/%40scope%2Fname`: the scope's slash percent-encoded
            // into the name, as some generators write it.
            if let Some((scope, name)) = self.name.split_once('/') {
                if scope.starts_with('@') && !name.is_empty() {
                    let (scope, name) = (scope.to_string(), name.to_string());
                    self.namespace = vec![scope];
                    self.name = name;
                }
            }
        }
        if self.ty == "npm" {
            // An npm scope is written with its '@'; some generators omit it.
            if let Some(scope) = self.namespace.first_mut() {
                if !scope.starts_with('@') {
                    scope.insert(0, '@');
                }
            }
        }
        if self.ty == "cargo" && !self.qualifiers.iter().any(|(k, _)| k == "repository_url") {
            // A crate from git is another package than the crates.io one of
            // that name (a fork swapped in): its repository (vcs_url without
            // the commit) is part of the identity, as Cargo.lock has it.
            let repo = self
                .qualifiers
                .iter()
                .find(|(k, _)| k == "vcs_url")
                .and_then(|(_, v)| git_repository(v));
            if let Some(repo) = repo {
                self.qualifiers.push(("repository_url".to_string(), repo));
            }
        }
        // The purl spec gives rpm an epoch qualifier; some tools write one
        // for deb too. Either way it orders the version, it names no package.
        if self.ty == "rpm" || self.ty == "deb" {
            if let Some(i) = self.qualifiers.iter().position(|(k, _)| k == "epoch") {
                self.epoch = Some(self.qualifiers.remove(i).1);
            }
        }
        self.qualifiers
            .retain(|(k, _)| !NON_IDENTIFYING.contains(&k.as_str()));
        self.qualifiers.sort();
        self.qualifiers.dedup_by(|a, b| a.0 == b.0);
    }

    /// The identity: the canonical purl without its version.
    pub fn identity(&self) -> String {
        let mut out = String::with_capacity(16 + self.name.len());
        out.push_str("pkg:");
        out.push_str(&self.ty);
        for segment in &self.namespace {
            out.push('/');
            encode_into(&mut out, segment);
        }
        out.push('/');
        encode_into(&mut out, &self.name);
        self.write_tail(&mut out);
        out
    }

    /// The canonical purl with its version.
    pub fn with_version(&self, version: Option<&str>) -> String {
        let mut out = String::with_capacity(24 + self.name.len());
        out.push_str("pkg:");
        out.push_str(&self.ty);
        for segment in &self.namespace {
            out.push('/');
            encode_into(&mut out, segment);
        }
        out.push('/');
        encode_into(&mut out, &self.name);
        if let Some(v) = version.or(self.version.as_deref()) {
            out.push('@');
            encode_into(&mut out, v);
        }
        self.write_tail(&mut out);
        out
    }

    /// The length of what [`identity`](Self::identity) writes after the
    /// name (qualifiers and subpath): the version goes before it.
    pub fn tail_len(&self) -> usize {
        let mut tail = String::new();
        self.write_tail(&mut tail);
        tail.len()
    }

    fn write_tail(&self, out: &mut String) {
        for (i, (k, v)) in self.qualifiers.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(k);
            out.push('=');
            encode_into(out, v);
        }
        if let Some(sub) = &self.subpath {
            out.push('#');
            out.push_str(sub);
        }
    }

    /// The name shown to people: `group/name` (`@types/node`, `org.x/y`).
    pub fn display_name(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace.join("/"), self.name)
        }
    }
}

/// The commit after the last `sep` of a VCS URL (`git+https://h/r@<hex>`
/// in a purl's `vcs_url`, `git+https://h/r?rev=x#<hex>` in a Cargo.lock
/// source), lowercased; None unless it is 7 to 64 hex digits.
pub fn vcs_commit(url: &str, sep: char) -> Option<String> {
    let (_, tail) = url.rsplit_once(sep)?;
    ((7..=64).contains(&tail.len()) && tail.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| tail.to_ascii_lowercase())
}

/// The repository of a git source without branch, rev or commit:
/// `git+https://h/r?branch=main#<hex>` (Cargo.lock) and
/// `git+https://h/r?branch=main@<hex>` (cargo-cyclonedx's vcs_url) are both
/// `git+https://h/r`. None unless it starts with `git+`.
pub fn git_repository(url: &str) -> Option<String> {
    let rest = url.strip_prefix("git+")?;
    let repo = match rest.find(['?', '#']) {
        Some(end) => &rest[..end],
        None if vcs_commit(rest, '@').is_some() => rest.rsplit_once('@').map_or(rest, |(r, _)| r),
        None => rest,
    };
    let repo = repo.trim_end_matches('/');
    (!repo.is_empty()).then(|| format!("git+{repo}"))
}

/// PEP 503 name normalization: lowercase, runs of `-_.` become `-`.
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.trim().chars() {
        if c == '-' || c == '_' || c == '.' {
            dash = true;
        } else {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Percent-decodes (a stray `%` stays as it is); decoded bytes that are
/// not UTF-8 are an error, not U+FFFD (which would make `%FF` and `%FE`
/// one name).
pub fn decode(text: &str) -> Result<String, std::string::FromUtf8Error> {
    if !text.contains('%') {
        return Ok(text.to_string());
    }
    String::from_utf8(decode_bytes(text))
}

/// [`decode`] for matching patterns against identities (which are valid
/// UTF-8 by then): invalid bytes become U+FFFD.
pub fn decode_lossy(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    String::from_utf8_lossy(&decode_bytes(text)).into_owned()
}

fn decode_bytes(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes everything outside the purl spec's unreserved set
/// (letters, digits, `.-_~`, and `:` which the spec leaves as is).
pub(crate) fn encode_into(out: &mut String, text: &str) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b".-_~:+".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn id(text: &str) -> String {
        Purl::parse(text).unwrap().identity()
    }

    #[test]
    fn identities_normalize() {
        assert_eq!(id("pkg:pypi/Jinja2@3.1.4"), "pkg:pypi/jinja2");
        assert_eq!(
            id("pkg:PyPI/charset_normalizer@3.3.2"),
            "pkg:pypi/charset-normalizer"
        );
        assert_eq!(id("pkg:pypi/zope.interface@6"), "pkg:pypi/zope-interface");
        assert_eq!(id("pkg:pypi/Foo__Bar.-baz"), "pkg:pypi/foo-bar-baz");
        assert_eq!(id("pkg:npm/%40types/node@20.11.0"), "pkg:npm/%40types/node");
        assert_eq!(id("pkg:NPM/@Types/Node@20.11.0"), "pkg:npm/%40types/node");
        assert_eq!(id("pkg:npm/types/node@1"), "pkg:npm/%40types/node");
        assert_eq!(id("pkg:npm/%40Types%2Fnode@1"), "pkg:npm/%40types/node");
        assert_eq!(
            id("pkg:golang/github.com/Sirupsen/logrus@v1.0.0"),
            "pkg:golang/github.com/Sirupsen/logrus"
        );
        assert_eq!(
            id("pkg:maven/org.apache/Commons@1.0?type=jar&classifier=sources"),
            "pkg:maven/org.apache/Commons?classifier=sources&type=jar"
        );
        assert_eq!(
            id("pkg:pypi/foo@1.0?vcs_url=git%2Bhttps://x&download_url=y&arch="),
            "pkg:pypi/foo"
        );
        assert_eq!(
            id("pkg:golang/github.com/a/b@v1.2.3#/sub/./dir/"),
            "pkg:golang/github.com/a/b#sub/dir"
        );
        assert_eq!(
            Purl::parse("pkg:cargo/serde@1.0.0")
                .unwrap()
                .version
                .as_deref(),
            Some("1.0.0")
        );
    }

    #[test]
    fn vcs_commits() {
        let p = Purl::parse(
            "pkg:cargo/auditable-extract@0.3.2?vcs_url=git%2Bhttps://github.com/rust-secure-code/cargo-auditable.git@DA85607fb1a09435d77288ccf05a92b2e8ec3f71",
        )
        .unwrap();
        assert_eq!(
            p.identity(),
            "pkg:cargo/auditable-extract?repository_url=git+https:%2F%2Fgithub.com%2Frust-secure-code%2Fcargo-auditable.git"
        );
        assert_eq!(
            git_repository("git+https://github.com/x/y?branch=main#abc1234"),
            Some("git+https://github.com/x/y".into())
        );
        assert_eq!(
            git_repository("git+https://github.com/x/y?branch=main@abc1234"),
            Some("git+https://github.com/x/y".into())
        );
        assert_eq!(git_repository("https://github.com/x/y"), None);
        // Only cargo: a PyPI vcs_url stays non-identifying (pip freeze has none).
        assert_eq!(
            id("pkg:pypi/foo@1?vcs_url=git%2Bhttps://x/foo@abc1234"),
            "pkg:pypi/foo"
        );
        assert_eq!(
            p.vcs_commit.as_deref(),
            Some("da85607fb1a09435d77288ccf05a92b2e8ec3f71")
        );
        assert_eq!(vcs_commit("git+ssh://git@github.com/x/y", '@'), None);
        assert_eq!(
            vcs_commit("git+https://x/y?branch=main#abc1234", '#'),
            Some("abc1234".into())
        );
        assert_eq!(vcs_commit("git+https://x/y#main", '#'), None);
    }

    #[test]
    fn an_epoch_qualifier_is_no_identity() {
        let p = Purl::parse("pkg:rpm/fedora/openssl@3.0.9-2.fc39?epoch=1&arch=x86_64").unwrap();
        assert_eq!(p.identity(), "pkg:rpm/fedora/openssl?arch=x86_64");
        assert_eq!(p.epoch.as_deref(), Some("1"));
        let p = Purl::parse("pkg:deb/debian/openssl@3.0.11-1?epoch=1").unwrap();
        assert_eq!(p.identity(), "pkg:deb/debian/openssl");
        // Other types keep it as they keep every identifying qualifier.
        let p = Purl::parse("pkg:generic/x@1?epoch=1").unwrap();
        assert_eq!(p.identity(), "pkg:generic/x?epoch=1");
    }

    #[test]
    fn bad_purls_are_refused() {
        for bad in ["", "npm/x", "pkg:", "pkg:npm", "pkg:npm/", "pkg:n%pm/x"] {
            assert!(Purl::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn decode_is_total() {
        assert_eq!(decode("%4").unwrap(), "%4");
        assert_eq!(decode("a%").unwrap(), "a%");
        assert_eq!(decode("%zz%41").unwrap(), "%zzA");
        assert_eq!(decode("caf%C3%A9").unwrap(), "café");
        assert!(decode("%ff").is_err() && decode("%fe").is_err());
        assert_eq!(decode_lossy("%ff"), "\u{FFFD}");
    }
}
