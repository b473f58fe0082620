//! `--allow FILE`: approved changes that do not count.
//!
//! One rule per line: `PATTERN [change=KIND[,KIND...]] [REASON...]`; `#`
//! starts a comment line; blank lines are skipped. PATTERN is a purl glob
//! (`*` any text, `?` one character, `[...]` a class) matched against the
//! identity, percent-decoded (`pkg:npm/@types/*`; a PyPI name normalized
//! as identities are, so `pkg:pypi/Foo_Bar` matches), optionally with
//! `@VERSION-GLOB` matched against the new version (the old one for
//! `removed`). Without `change=`, a rule approves every kind of change.

use globset::{GlobBuilder, GlobMatcher};

use common::lines::LineReader;
use common::{Error, Result};

use crate::diff::ChangeKind;
use crate::purl::{decode_lossy, pep503};

#[derive(Debug)]
pub struct Rule {
    pub line: u64,
    id: GlobMatcher,
    version: Option<GlobMatcher>,
    kinds: Vec<ChangeKind>,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Allow {
    pub rules: Vec<Rule>,
}

impl Allow {
    pub fn load(path: &str) -> Result<Allow> {
        let input = common::input::Input::open(path)?;
        let (name, reader, _) = input.into_parts();
        let mut lines = LineReader::new(reader, name.clone(), 64 * 1024);
        let mut rules = Vec::new();
        while let Some(line) = lines.next_line()? {
            if line.oversized.is_some() {
                return Err(Error::at(&name, line.number, "line longer than 64 KiB"));
            }
            let text = std::str::from_utf8(line.bytes)
                .map_err(|_| Error::at(&name, line.number, "invalid UTF-8"))?
                .trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            rules.push(Rule::parse(&name, line.number, text)?);
        }
        Ok(Allow { rules })
    }

    /// The reason of the first rule approving this change, if any.
    pub fn approves(&self, kind: ChangeKind, id: &str, version: Option<&str>) -> Option<&Rule> {
        if self.rules.is_empty() {
            return None;
        }
        let id = decode_lossy(id);
        self.rules.iter().find(|r| {
            (r.kinds.is_empty() || r.kinds.contains(&kind))
                && r.id.is_match(&id)
                && match (&r.version, version) {
                    (None, _) => true,
                    (Some(g), Some(v)) => g.is_match(v),
                    (Some(_), None) => false,
                }
        })
    }
}

impl Rule {
    fn parse(file: &str, line: u64, text: &str) -> Result<Rule> {
        let mut words = text.splitn(2, char::is_whitespace);
        let pattern = words.next().unwrap_or("");
        let mut rest = words.next().unwrap_or("").trim();
        if !pattern.starts_with("pkg:") {
            return Err(Error::at(
                file,
                line,
                format!("pattern {pattern:?} is not a purl pattern (pkg:TYPE/NAME)"),
            )
            .with_hint("example: pkg:npm/lodash@4.17.* change=upgraded security fix"));
        }
        let pattern = decode_lossy(pattern);
        // The version is after the last '@' that follows the last '/'.
        let slash = pattern.rfind('/').unwrap_or(0);
        let (id_pat, ver_pat) = match pattern[slash..].rfind('@') {
            Some(at) => (&pattern[..slash + at], Some(&pattern[slash + at + 1..])),
            None => (pattern.as_str(), None),
        };
        let glob = |p: &str| {
            GlobBuilder::new(p)
                .case_insensitive(true)
                .literal_separator(false)
                .build()
                .map(|g| g.compile_matcher())
                .map_err(|e| Error::at(file, line, format!("bad pattern {p:?}: {}", e.kind())))
        };
        let id = glob(&lower_type(id_pat))?;
        let version = ver_pat.map(glob).transpose()?;
        let mut kinds = Vec::new();
        if let Some(spec) = rest.strip_prefix("change=") {
            let (list, tail) = spec.split_once(char::is_whitespace).unwrap_or((spec, ""));
            for k in list.split(',').filter(|k| !k.is_empty()) {
                let kind = ChangeKind::ALL
                    .into_iter()
                    .find(|c| c.name() == k)
                    .ok_or_else(|| {
                        let names: Vec<&str> = ChangeKind::ALL.iter().map(|c| c.name()).collect();
                        Error::at(
                            file,
                            line,
                            format!("unknown change kind {k:?} (known: {})", names.join(", ")),
                        )
                    })?;
                kinds.push(kind);
            }
            rest = tail.trim();
        }
        Ok(Rule {
            line,
            id,
            version,
            kinds,
            reason: rest.to_string(),
        })
    }
}

/// Lowercases the purl type of a pattern (`pkg:PyPI/x` → `pkg:pypi/x`), and
/// normalizes a PyPI name as identities have it (`pkg:pypi/Foo_Bar*` →
/// `pkg:pypi/foo-bar*`: runs of `-`, `_`, `.` become one `-`).
fn lower_type(pattern: &str) -> String {
    match pattern.get(4..).and_then(|p| p.split_once('/')) {
        Some((ty, rest)) => {
            let ty = ty.to_ascii_lowercase();
            if ty == "pypi" {
                // Only the name: qualifiers (`?...`) and subpaths keep their spelling.
                let end = rest.find(['?', '#']).unwrap_or(rest.len());
                let (name, tail) = rest.split_at(end);
                format!("pkg:pypi/{}{tail}", pep503(name))
            } else {
                format!("pkg:{ty}/{rest}")
            }
        }
        None => pattern.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn pypi_patterns_are_normalized_like_identities() {
        let rule = Rule::parse("a.txt", 1, "pkg:PyPI/Foo_Bar.baz@1.* change=upgraded ok").unwrap();
        let allow = Allow { rules: vec![rule] };
        let hit = allow.approves(ChangeKind::Upgraded, "pkg:pypi/foo-bar-baz", Some("1.2"));
        assert_eq!(hit.map(|r| r.reason.as_str()), Some("ok"));
        assert!(allow
            .approves(ChangeKind::Upgraded, "pkg:pypi/foo-bar-baz", Some("2.0"))
            .is_none());
        let rule = Rule::parse("a.txt", 1, "pkg:pypi/zope_*").unwrap();
        let allow = Allow { rules: vec![rule] };
        assert!(allow
            .approves(ChangeKind::Added, "pkg:pypi/zope-interface", None)
            .is_some());
    }
}
