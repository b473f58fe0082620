//! pip `requirements.txt` (pinned) and `pip freeze` output.
//!
//! Each requirement must pin one version: `name==version` (or `===`), with
//! optional extras, environment markers and `--hash=ALG:HEX` options (pip's
//! hash-checking mode; several hashes per line are the several files of
//! that release). `name @ URL` (a direct reference, as `pip freeze` prints
//! for local or VCS installs) takes the URL as its version and its source
//! (less a git commit, which becomes a `GIT` digest); a pin's source is
//! the registry (see `source`). Continuation
//! lines (`\`) are joined; comments are skipped. The index options
//! (`--index-url`/`-i`, `--extra-index-url`, `--find-links`/`-f`,
//! `--trusted-host`, `--no-index`) are the pins' source (`registry+INDEX`
//! and the other places, unless PyPI alone: `registry`), so a pin moved to
//! another index is `source_changed`; other global options are skipped;
//! `-r`/`-c` includes and `-e` editables are refused, since what they name
//! is not in this file.

use std::sync::OnceLock;

use regex::Regex;

use common::{Error, Result};

use crate::message::{shown, utf8};
use crate::model::{Component, Options, Sbom};
use crate::purl::Purl;

fn requirement_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // name [extras] (== | === | @) rest
        #[allow(clippy::unwrap_used, reason = "a constant pattern, covered by tests")]
        Regex::new(
            r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(===|==|@|~=|>=|<=|!=|>|<)?\s*(.*)$",
        )
        .unwrap()
    })
}

/// True when `line` (trimmed, not a comment) reads as a requirement with a
/// version clause (pinned or not: the parser then says what is wrong).
pub fn looks_like_requirement(line: &str) -> bool {
    requirement_re()
        .captures(line)
        .is_some_and(|c| c.get(3).is_some())
}

pub fn parse(name: &str, bytes: &[u8], _opts: &Options) -> Result<Sbom> {
    let text = utf8(bytes).map_err(|line| Error::at(name, line, "invalid UTF-8"))?;
    let mut sbom = Sbom {
        format: "pip",
        ..Sbom::default()
    };
    let mut logical = String::new();
    let mut start_line = 0u64;
    let mut indexes = Indexes::default();
    for (i, raw) in text.lines().enumerate() {
        if i % 1024 == 1023 && common::interrupt::requested() {
            return Err(Error::new(format!("{name}: interrupted")));
        }
        let number = i as u64 + 1;
        if logical.is_empty() {
            start_line = number;
        }
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(head) = line.strip_suffix('\\') {
            logical.push_str(head);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let whole = std::mem::take(&mut logical);
        if indexes.take(&whole) {
            continue;
        }
        if let Some(c) = requirement(name, start_line, &whole)? {
            sbom.components.push(c);
        }
    }
    if !logical.is_empty() && !indexes.take(&logical) {
        if let Some(c) = requirement(name, start_line, &logical)? {
            sbom.components.push(c);
        }
    }
    // pip applies its index options to every pin, wherever they stand.
    if let Some(source) = indexes.source() {
        let source = std::sync::Arc::new(source);
        for c in &mut sbom.components {
            if c.source.as_deref().map(String::as_str) == Some(crate::source::REGISTRY) {
                c.source = Some(source.clone());
            }
        }
    }
    Ok(sbom)
}

/// PyPI's index, pip's default (`--index-url` naming it changes nothing).
const PYPI: &[&str] = &["https://pypi.org/simple", "https://pypi.python.org/simple"];

/// The options that say where pip fetches the pins from: moving every pin
/// to another index, or adding one that pip may prefer (dependency
/// confusion through `--extra-index-url`), is a change of their source.
#[derive(Default)]
struct Indexes {
    index: Option<String>,
    no_index: bool,
    extra: Vec<String>,
    find_links: Vec<String>,
    trusted_hosts: Vec<String>,
}

impl Indexes {
    /// Takes the options of `line` (several may share it: `--no-index
    /// --find-links=/wheels`) when it holds one of these; false otherwise
    /// (a requirement, `-r`/`-e`, which are refused later, or other options).
    fn take(&mut self, line: &str) -> bool {
        let body = match line.find(" #").or_else(|| line.find("\t#")) {
            Some(i) => &line[..i],
            None => line,
        };
        let mut words = body.split_whitespace();
        let mut took = false;
        while let Some(word) = words.next() {
            if !word.starts_with('-') {
                return took;
            }
            let (option, inline) = match word.strip_prefix("--") {
                Some(long) => match long.split_once('=') {
                    Some((name, value)) => (&word[..name.len() + 2], Some(value)),
                    None => (word, None),
                },
                None if word.len() > 2 && word.is_char_boundary(2) => {
                    (&word[..2], Some(&word[2..]))
                }
                None => (word, None),
            };
            let slot = match option {
                "--index-url" | "-i" => None,
                "--extra-index-url" => Some(&mut self.extra),
                "--find-links" | "-f" => Some(&mut self.find_links),
                "--trusted-host" => Some(&mut self.trusted_hosts),
                "--no-index" => {
                    self.no_index = true;
                    took = true;
                    continue;
                }
                _ if took => continue,
                _ => return false,
            };
            let value = inline
                .or_else(|| words.next())
                .unwrap_or("")
                .trim_end_matches('/')
                .to_string();
            match slot {
                Some(list) => list.push(value),
                None => self.index = Some(value),
            }
            took = true;
        }
        took
    }

    /// The pins' source: None for PyPI alone (`registry`), else
    /// `registry+INDEX` and each other place pip may fetch from.
    fn source(&self) -> Option<String> {
        let index = match &self.index {
            _ if self.no_index => "(no index)",
            Some(url) if !PYPI.contains(&url.to_ascii_lowercase().as_str()) => url.as_str(),
            _ => PYPI[0],
        };
        let others = [
            ("--extra-index-url", &self.extra),
            ("--find-links", &self.find_links),
            ("--trusted-host", &self.trusted_hosts),
        ];
        if index == PYPI[0] && others.iter().all(|(_, v)| v.is_empty()) {
            return None;
        }
        let mut source = format!("registry+{index}");
        for (flag, values) in others {
            let mut values: Vec<&String> = values.iter().collect();
            values.sort();
            values.dedup();
            for v in values {
                source.push_str(&format!(" {flag} {v}"));
            }
        }
        Some(source)
    }
}

fn requirement(file: &str, line: u64, text: &str) -> Result<Option<Component>> {
    // A comment starts at '#' at the line start or after whitespace.
    let body = match text.find(" #").or_else(|| text.find("\t#")) {
        Some(i) => &text[..i],
        None => text,
    };
    let body = body.trim();
    if body.is_empty() || body.starts_with('#') {
        return Ok(None);
    }
    if body.starts_with('-') {
        let option = body
            .split(|c: char| c.is_whitespace() || c == '=')
            .next()
            .unwrap_or(body);
        return match option {
            "-r" | "--requirement" | "-c" | "--constraint" => Err(Error::at(
                file,
                line,
                format!(
                    "{option} includes another file, which is not read: {}",
                    shown(body)
                ),
            )
            .with_hint(
                "flatten the requirements first (pip-compile, or pip freeze in the environment)",
            )),
            "-e" | "--editable" => Err(Error::at(
                file,
                line,
                format!("editable requirement {} pins no version", shown(body)),
            )
            .with_hint(
                "pip freeze writes one for each editable install (often the project itself): \
                 leave them out with pip freeze --exclude-editable",
            )),
            _ => Ok(None),
        };
    }
    // Split off options (--hash=...) from the requirement itself.
    let mut hashes = Vec::new();
    let mut spec_end = body.len();
    if let Some(i) = body.find(" --").or_else(|| body.find("\t--")) {
        spec_end = i;
        let mut words = body[i..].split_whitespace().peekable();
        while let Some(word) = words.next() {
            let value = if let Some(v) = word.strip_prefix("--hash=") {
                Some(v.to_string())
            } else if word == "--hash" {
                words.next().map(str::to_string)
            } else {
                None
            };
            if let Some(v) = value {
                let Some((alg, hex)) = v.split_once(':') else {
                    return Err(Error::at(
                        file,
                        line,
                        format!("--hash={} is not ALGORITHM:HEX", shown(&v)),
                    ));
                };
                if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(Error::at(
                        file,
                        line,
                        format!("--hash={}: the digest is not hexadecimal", shown(&v)),
                    ));
                }
                hashes.push((alg.to_string(), hex.to_string()));
            }
        }
    }
    let spec = body[..spec_end].trim();
    let (spec, _markers) = match spec.split_once(';') {
        Some((s, m)) => (s.trim(), Some(m.trim())),
        None => (spec, None),
    };
    let Some(caps) = requirement_re().captures(spec) else {
        return Err(Error::at(
            file,
            line,
            format!("not a requirement: {}", shown(spec)),
        ));
    };
    let name = caps.get(1).map(|m| m.as_str()).unwrap_or("");
    let op = caps.get(3).map(|m| m.as_str());
    let rest = caps.get(4).map(|m| m.as_str().trim()).unwrap_or("");
    let version = match op {
        Some("==" | "===") if !rest.is_empty() && !rest.contains([',', '*', ' ']) => {
            rest.to_string()
        }
        Some("@") if !rest.is_empty() => rest.to_string(),
        Some("==" | "===") if rest.contains(',') => {
            return Err(Error::at(
                file,
                line,
                format!(
                    "{} has several version clauses: pin exactly one version",
                    shown(spec)
                ),
            ))
        }
        Some("==" | "===") if rest.contains('*') => {
            return Err(Error::at(
                file,
                line,
                format!(
                    "{} is a wildcard, not a pin: pin exactly one version",
                    shown(spec)
                ),
            ))
        }
        None if rest.is_empty() => {
            return Err(Error::at(
                file,
                line,
                format!("requirement {} has no version", shown(name)),
            )
            .with_hint("pin it (name==version), or diff the output of pip freeze"))
        }
        _ => {
            return Err(Error::at(
                file,
                line,
                format!("requirement {} is not pinned to one version", shown(spec)),
            )
            .with_hint("pin it (name==version), or diff the output of pip freeze"))
        }
    };
    let purl = Purl::new("pypi", None, name, None);
    let (version, source) = if op == Some("@") {
        // A direct reference names no version: the URL stands for it, less
        // a git commit, which is content (a GIT digest), so moving to
        // another commit is hash_changed and not an "upgrade". An archive
        // URL's `#sha256=HEX` is its digest.
        let (source, commit) = crate::source::of_url(&version);
        let (url, fragment) = source.split_once('#').unwrap_or((&source, ""));
        if let Some((alg, hex)) = fragment.split_once('=') {
            let digest = alg.starts_with("sha") || alg == "md5";
            if digest && !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) {
                hashes.push((alg.to_string(), hex.to_string()));
            }
        }
        (url.to_string(), (url.to_string(), commit))
    } else {
        (version, (crate::source::REGISTRY.to_string(), None))
    };
    let mut c = Component::new(&purl, &version);
    c.set_source(source);
    for (alg, hex) in hashes {
        c.add_hash(&alg, &hex);
    }
    Ok(Some(c))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn one(line: &str) -> Result<Option<Component>> {
        requirement("r.txt", 3, line)
    }

    #[test]
    fn pins_extras_markers_hashes() {
        let c = one("Charset_Normalizer[unicode]==3.3.2 ; python_version >= \"3.8\" \\ --hash=sha256:AB --hash sha256:cd # c")
            .unwrap()
            .unwrap();
        assert_eq!(
            (&*c.id, c.version.as_str()),
            ("pkg:pypi/charset-normalizer", "3.3.2")
        );
        assert_eq!(c.hash_map()["SHA256"], "ab cd");
        let c = one("demo @ file:///tmp/demo-1.0-py3-none-any.whl")
            .unwrap()
            .unwrap();
        assert_eq!(c.version, "file:///tmp/demo-1.0-py3-none-any.whl");
        assert!(one("# comment").unwrap().is_none());
        assert!(one("--index-url https://x").unwrap().is_none());
    }

    #[test]
    fn unpinned_is_refused_with_line() {
        for (line, needle) in [
            ("requests>=2", "not pinned"),
            ("requests", "has no version"),
            ("requests==2.*", "wildcard"),
            ("requests==2.0,!=2.1", "several"),
            ("-r base.txt", "includes another file"),
            ("-e .", "editable"),
            ("-e git+https://github.com/x/y.git@abc123#egg=y", "editable"),
            ("requests==1 --hash=sha256", "ALGORITHM:HEX"),
        ] {
            let err = one(line).unwrap_err();
            if line.starts_with("-e") {
                assert!(
                    err.hint().unwrap_or("").contains("--exclude-editable"),
                    "{err:?}"
                );
            }
            let err = err.to_string();
            assert!(
                err.starts_with("r.txt:3: ") && err.contains(needle),
                "{line}: {err}"
            );
        }
    }
}
