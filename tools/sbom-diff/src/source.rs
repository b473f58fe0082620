//! Where a component came from: its ecosystem's registry, another registry,
//! a git repository, a local file or folder, or a tarball URL.
//!
//! A package swapped for a git fork or a local tarball at the same version
//! carries no digest to compare (a git dependency in a package-lock has no
//! `integrity`, and an attacker drops the one a tarball had), so without
//! the source such a swap was no change at all. The source is written as:
//!
//! - `registry`: the ecosystem's default registry (a pin in requirements,
//!   an npm tarball from registry.npmjs.org or with no `resolved`, a purl
//!   without `vcs_url`);
//! - `registry+URL`: another registry (an npm tarball URL of the registry
//!   form `URL/NAME/-/NAME-VERSION.tgz` on another host);
//! - `git+URL`: a git repository, without its commit (the commit is
//!   content: a `GIT` digest, so moving to another commit is `hash_changed`);
//! - `file:PATH`: a local file or folder;
//! - `path`: a local folder a Cargo.lock does not name (a package without
//!   `source`: a path dependency or a `[patch]` to a folder);
//! - a URL: a tarball from anywhere else;
//! - `bundled`: an npm package shipped inside its parent's tarball.
//!
//! Two sources differ when their texts differ, except that two registries
//! whose digests prove the same content (a mirror serving the very tarball
//! the registry has) do not. A side that does not say (a CycloneDX
//! component without a purl) is never a change.

use crate::model::Component;

/// The ecosystem's default registry.
pub const REGISTRY: &str = "registry";

/// A local folder the input does not name (Cargo.lock's sourceless packages).
pub const PATH: &str = "path";

/// npm's public registry under its hosts (yarn's host serves the same);
/// over https only: plain http is another source (a tarball fetched in
/// clear text, whose integrity an attacker on the path drops).
const NPM_REGISTRIES: &[&str] = &[
    "https://registry.npmjs.org",
    "https://registry.yarnpkg.com",
    "https://registry.npmjs.com",
];

/// True for `registry` and `registry+URL`.
fn is_registry(source: &str) -> bool {
    source == REGISTRY || source.starts_with("registry+")
}

/// True when the two components of a pair came from different places.
pub fn differ(x: &Component, y: &Component) -> bool {
    let (Some(a), Some(b)) = (&x.source, &y.source) else {
        return false;
    };
    if a == b {
        return false;
    }
    if is_registry(a.as_str()) && is_registry(b.as_str()) {
        // A mirror: the same tarball from another host is no change, but
        // only when a digest both sides give proves it.
        return !same_content(x, y);
    }
    true
}

/// Some algorithm both sides give, and no algorithm whose digests differ.
fn same_content(x: &Component, y: &Component) -> bool {
    let mut common = false;
    for (alg, _) in x.hashes.iter() {
        let theirs: Vec<String> = y.digests(alg).collect();
        if theirs.is_empty() {
            continue;
        }
        if x.digests(alg).ne(theirs.iter().cloned()) {
            return false;
        }
        common = true;
    }
    common
}

/// The source and commit of a URL a lockfile or a direct reference gives
/// (npm's `resolved`, pip's `name @ URL`).
pub fn of_url(url: &str) -> (String, Option<String>) {
    let url = url.trim();
    let git = url.starts_with("git+") || url.starts_with("git://");
    let shorthand = ["github:", "gitlab:", "bitbucket:"]
        .iter()
        .any(|p| url.starts_with(p));
    if !git && !shorthand {
        return (url.to_string(), None);
    }
    // npm pins the commit in the fragment (`git+ssh://h/r.git#COMMIT`,
    // `github:u/r#COMMIT`); pip after the path (`git+https://h/r.git@COMMIT`,
    // maybe followed by `#egg=NAME`). A tag or branch (`@v1.0`) stays part of
    // the source: it is no commit, and moving it must show.
    let (head, fragment) = url.split_once('#').unwrap_or((url, ""));
    let mut commit = crate::purl::vcs_commit(&format!("#{fragment}"), '#');
    let mut repo = head;
    if let Some((before, rev)) = head.rsplit_once('@') {
        if !rev.contains('/') {
            if let Some(c) = crate::purl::vcs_commit(head, '@') {
                commit.get_or_insert(c);
                repo = before;
            }
        }
    }
    // A branch or rev query (`?branch=main`, cargo's form) is no place.
    let repo = repo.split('?').next().unwrap_or(repo);
    let repo = repo.trim_end_matches('/');
    let source = if url.starts_with("git://") {
        format!("git+{repo}")
    } else {
        repo.to_string()
    };
    (source, commit)
}

/// The source and commit of a package-lock entry named `name`: its
/// `resolved` URL, none (npm fetches it from the configured registry), or
/// `bundled` inside its parent.
pub fn of_npm(resolved: Option<&str>, name: &str, bundled: bool) -> (String, Option<String>) {
    let Some(url) = resolved.map(str::trim).filter(|u| !u.is_empty()) else {
        let source = if bundled { "bundled" } else { REGISTRY };
        return (source.to_string(), None);
    };
    if url.starts_with("http://") || url.starts_with("https://") {
        if let Some(base) = npm_registry_base(url, name) {
            if NPM_REGISTRIES.contains(&base.to_ascii_lowercase().as_str()) {
                return (REGISTRY.to_string(), None);
            }
            return (format!("registry+{base}"), None);
        }
    }
    of_url(url)
}

/// The registry a tarball URL of the registry form
/// `BASE/NAME/-/BARE-VERSION.tgz` (`NAME` maybe `@scope/bare` or
/// `@scope%2fbare`) is on, or None for another URL.
fn npm_registry_base<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let (head, file) = url.rsplit_once("/-/")?;
    let bare = name.rsplit('/').next().unwrap_or(name);
    if !file.ends_with(".tgz") || !file.starts_with(&format!("{bare}-")) {
        return None;
    }
    let lower = head.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    let cut = [name.clone(), name.replace('/', "%2f")]
        .iter()
        .find_map(|n| lower.strip_suffix(&format!("/{n}")).map(str::len))?;
    let base = head[..cut].trim_end_matches('/');
    (base.contains("://") && !base.ends_with(':')).then_some(base)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn npm(url: &str, name: &str) -> (String, Option<String>) {
        of_npm(Some(url), name, false)
    }

    #[test]
    fn npm_sources() {
        let c = "073f9df1c5c4b2e8a9d0e1f2a3b4c5d6e7f8a9b0";
        assert_eq!(
            npm(
                "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz",
                "lodash"
            ),
            ("registry".into(), None)
        );
        assert_eq!(
            npm(
                "https://registry.npmjs.org/@types/node/-/node-20.1.0.tgz",
                "@types/node"
            ),
            ("registry".into(), None)
        );
        assert_eq!(
            npm(
                "https://npm.corp.example/api/npm/remote/@types%2fnode/-/node-20.1.0.tgz",
                "@types/node"
            ),
            (
                "registry+https://npm.corp.example/api/npm/remote".into(),
                None
            )
        );
        assert_eq!(
            npm(&format!("git+ssh://git@github.com/x/y.git#{c}"), "y"),
            ("git+ssh://git@github.com/x/y.git".into(), Some(c.into()))
        );
        assert_eq!(
            npm(&format!("github:x/y#{c}"), "y"),
            ("github:x/y".into(), Some(c.into()))
        );
        assert_eq!(
            npm("file:vendor/y-1.0.0.tgz", "y"),
            ("file:vendor/y-1.0.0.tgz".into(), None)
        );
        // Not of the registry form: a tarball from anywhere.
        assert_eq!(
            npm("https://evil.example/y.tgz", "y"),
            ("https://evil.example/y.tgz".into(), None)
        );
        assert_eq!(
            npm("https://evil.example/other/-/y-1.0.0.tgz", "y"),
            ("https://evil.example/other/-/y-1.0.0.tgz".into(), None)
        );
        assert_eq!(of_npm(None, "y", false), ("registry".into(), None));
        assert_eq!(of_npm(None, "y", true), ("bundled".into(), None));
    }

    #[test]
    fn pip_direct_references() {
        let c = "073f9df1c5c4b2e8a9d0e1f2a3b4c5d6e7f8a9b0";
        assert_eq!(
            of_url(&format!("git+https://github.com/x/y.git@{c}")),
            ("git+https://github.com/x/y.git".into(), Some(c.into()))
        );
        assert_eq!(
            of_url(&format!("git+ssh://git@github.com/x/y.git@{c}#egg=y")),
            ("git+ssh://git@github.com/x/y.git".into(), Some(c.into()))
        );
        assert_eq!(
            of_url("git+ssh://git@github.com/x/y.git"),
            ("git+ssh://git@github.com/x/y.git".into(), None)
        );
        assert_eq!(
            of_url("file:///tmp/y-1.0-py3-none-any.whl"),
            ("file:///tmp/y-1.0-py3-none-any.whl".into(), None)
        );
    }
}
