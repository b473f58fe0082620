//! Licence normalization: the same licence written another way is not a change.
//!
//! Each licence a component names becomes a canonical term:
//! - an SPDX id in any letter case becomes its canonical spelling
//!   (`apache-2.0` → `Apache-2.0`); deprecated GNU ids become their
//!   `-only`/`-or-later` form (`GPL-2.0` → `GPL-2.0-only`, `GPL-2.0+` →
//!   `GPL-2.0-or-later`), which SPDX defines as the same licence;
//! - a trove classifier or licence name that maps to exactly one SPDX id
//!   (`License :: OSI Approved :: MIT License`, `Apache License 2.0`) becomes
//!   that id; ambiguous ones (`License :: OSI Approved :: BSD License`,
//!   `Apache Software License`) are kept as written, and dropped when the
//!   component also names a licence by SPDX id (they add nothing to it);
//!   when one side is left with an ambiguous term, the two sides are compared
//!   by licence family (`BSD License` matches `BSD-3-Clause`, not `MIT`);
//! - an SPDX expression is parsed (`WITH` binds tightest, then `AND`, then
//!   `OR`): ids canonicalized, operators in upper case, redundant
//!   parentheses dropped, and at every level the operands of `AND` and `OR`
//!   flattened, de-duplicated and sorted (`MIT OR Apache-2.0` =
//!   `(Apache-2.0 OR MIT)`, `(MIT OR Apache-2.0) AND Unicode-DFS-2016` =
//!   `Unicode-DFS-2016 AND (Apache-2.0 OR MIT)`); a malformed expression is
//!   kept as its tokens;
//! - `NOASSERTION`, `NONE` and empty values mean "no licence information".
//!
//! Two components' licences are compared as expressions when each side has
//! exactly one expression, and otherwise as the set of licences named (so a
//! list `[MIT, Apache-2.0]` equals the expression `MIT OR Apache-2.0`). A side
//! with no licence information is never a change.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

/// A component's licences after normalization.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Licenses {
    /// Canonical terms, in input order, without duplicates.
    pub terms: Vec<Term>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Term {
    /// A single SPDX id or a name (`LicenseRef-x`, an unmapped name).
    Single(String),
    /// An SPDX expression with at least one operator.
    Expression(String),
    /// A classifier or name that maps to no single id.
    Ambiguous(String),
}

impl Licenses {
    /// Adds a licence given by id or name.
    pub fn add_name(&mut self, text: &str) {
        let text = text.trim();
        if is_absent(text) {
            return;
        }
        let term = if let Some(id) = map_name(text) {
            Term::Single(id)
        } else if looks_like_expression(text) {
            normalize_expression(text)
        } else if text.starts_with("License ::") || is_known_ambiguous(text) {
            Term::Ambiguous(text.to_string())
        } else {
            Term::Single(text.to_string())
        };
        self.push(term);
    }

    /// Adds an SPDX expression (which may be a single id).
    pub fn add_expression(&mut self, text: &str) {
        let text = text.trim();
        if is_absent(text) {
            return;
        }
        let term = normalize_expression(text);
        self.push(term);
    }

    fn push(&mut self, term: Term) {
        if !self.terms.contains(&term) {
            self.terms.push(term);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms that carry meaning: ambiguous ones only when nothing else is named.
    fn meaningful(&self) -> Vec<&Term> {
        let precise: Vec<&Term> = self
            .terms
            .iter()
            .filter(|t| !matches!(t, Term::Ambiguous(_)))
            .collect();
        if precise.is_empty() {
            self.terms.iter().collect()
        } else {
            precise
        }
    }

    /// The set of licences named, expressions flattened to their ids.
    fn atoms(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for term in self.meaningful() {
            match term {
                Term::Single(s) | Term::Ambiguous(s) => {
                    out.insert(s.clone());
                }
                Term::Expression(e) => {
                    for token in e.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
                        if !token.is_empty() && !matches!(token, "AND" | "OR" | "WITH") {
                            out.insert(token.to_string());
                        }
                    }
                }
            }
        }
        out
    }

    fn is_ambiguous(&self) -> bool {
        self.meaningful()
            .iter()
            .any(|t| matches!(t, Term::Ambiguous(_)))
    }

    /// True when both sides name licences and they differ after normalization.
    pub fn differs(&self, other: &Licenses) -> bool {
        if self.is_empty() || other.is_empty() || self.terms == other.terms {
            return false;
        }
        let (a, b) = (self.meaningful(), other.meaningful());
        if let ([Term::Expression(x)], [Term::Expression(y)]) = (a.as_slice(), b.as_slice()) {
            return x != y;
        }
        if self.is_ambiguous() || other.is_ambiguous() {
            // "BSD License" cannot be told from BSD-3-Clause: compare families.
            let families = |l: &Licenses| -> BTreeSet<String> {
                l.atoms().iter().map(|a| family(a)).collect()
            };
            return families(self) != families(other);
        }
        self.atoms() != other.atoms()
    }

    /// One line for records: the expression, or the terms joined by ` AND `
    /// is wrong for a list, so lists are joined with `, `.
    pub fn display(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .meaningful()
            .iter()
            .map(|t| match t {
                Term::Single(s) | Term::Expression(s) | Term::Ambiguous(s) => s.clone(),
            })
            .collect();
        Some(parts.join(", "))
    }
}

fn is_absent(text: &str) -> bool {
    text.is_empty()
        || text.eq_ignore_ascii_case("NOASSERTION")
        || text.eq_ignore_ascii_case("NONE")
        || text.eq_ignore_ascii_case("UNKNOWN")
}

/// A licence *name* is read as an expression only when it has an operator
/// and every operand is an SPDX id or `LicenseRef-`: "GNU General Public
/// License v2 or later" is a name, not "GNU OR General OR ...".
fn looks_like_expression(text: &str) -> bool {
    let mut operator = false;
    let mut after_with = false;
    for word in text.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
        if word.is_empty() {
            continue;
        }
        let upper = word.to_ascii_uppercase();
        if matches!(upper.as_str(), "AND" | "OR" | "WITH") {
            operator = true;
            after_with = upper == "WITH";
            continue;
        }
        let is_ref = upper.starts_with("LICENSEREF-") || upper.starts_with("DOCUMENTREF-");
        if !after_with && !is_ref && canonical_id(word).is_none() {
            return false;
        }
        after_with = false;
    }
    operator
}

/// Canonical SPDX id for `text` in any case, or None.
pub fn canonical_id(text: &str) -> Option<String> {
    static LOWER: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    let map = LOWER.get_or_init(|| {
        spdx::identifiers::LICENSES
            .iter()
            .map(|l| (l.name.to_ascii_lowercase(), l.name))
            .collect()
    });
    let (base, plus) = match text.strip_suffix('+') {
        Some(b) => (b, true),
        None => (text, false),
    };
    let id = *map.get(&base.to_ascii_lowercase())?;
    // Deprecated bare GNU ids: `GPL-2.0` means `-only`, `GPL-2.0+` `-or-later`.
    if matches!(
        id,
        "GPL-1.0"
            | "GPL-2.0"
            | "GPL-3.0"
            | "LGPL-2.0"
            | "LGPL-2.1"
            | "LGPL-3.0"
            | "AGPL-1.0"
            | "AGPL-3.0"
            | "GFDL-1.1"
            | "GFDL-1.2"
            | "GFDL-1.3"
    ) {
        let suffix = if plus { "-or-later" } else { "-only" };
        return Some(format!("{id}{suffix}"));
    }
    Some(if plus {
        format!("{id}+")
    } else {
        id.to_string()
    })
}

fn canonical_exception(text: &str) -> Option<&'static str> {
    spdx::identifiers::EXCEPTIONS
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(text))
        .map(|e| e.name)
}

/// Trove classifiers and common names with exactly one SPDX meaning.
const NAMES: &[(&str, &str)] = &[
    ("License :: OSI Approved :: MIT License", "MIT"),
    (
        "License :: OSI Approved :: MIT No Attribution License (MIT-0)",
        "MIT-0",
    ),
    ("License :: OSI Approved :: ISC License (ISCL)", "ISC"),
    (
        "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)",
        "MPL-2.0",
    ),
    (
        "License :: OSI Approved :: Mozilla Public License 1.1 (MPL 1.1)",
        "MPL-1.1",
    ),
    (
        "License :: OSI Approved :: GNU General Public License v2 (GPLv2)",
        "GPL-2.0-only",
    ),
    (
        "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)",
        "GPL-2.0-or-later",
    ),
    (
        "License :: OSI Approved :: GNU General Public License v3 (GPLv3)",
        "GPL-3.0-only",
    ),
    (
        "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)",
        "GPL-3.0-or-later",
    ),
    (
        "License :: OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)",
        "LGPL-2.0-only",
    ),
    (
        "License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)",
        "LGPL-2.0-or-later",
    ),
    (
        "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)",
        "LGPL-3.0-only",
    ),
    (
        "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)",
        "LGPL-3.0-or-later",
    ),
    (
        "License :: OSI Approved :: GNU Affero General Public License v3",
        "AGPL-3.0-only",
    ),
    (
        "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)",
        "AGPL-3.0-or-later",
    ),
    (
        "License :: OSI Approved :: Python Software Foundation License",
        "PSF-2.0",
    ),
    (
        "License :: OSI Approved :: The Unlicense (Unlicense)",
        "Unlicense",
    ),
    (
        "License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)",
        "BSL-1.0",
    ),
    (
        "License :: OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)",
        "EPL-2.0",
    ),
    (
        "License :: OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)",
        "EUPL-1.2",
    ),
    (
        "License :: OSI Approved :: Universal Permissive License (UPL)",
        "UPL-1.0",
    ),
    ("License :: OSI Approved :: zlib/libpng License", "Zlib"),
    (
        "License :: OSI Approved :: Apache Software License 2.0",
        "Apache-2.0",
    ),
    (
        "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication",
        "CC0-1.0",
    ),
    ("GNU General Public License v2 or later", "GPL-2.0-or-later"),
    ("GNU General Public License v3 or later", "GPL-3.0-or-later"),
    ("GPLv2+", "GPL-2.0-or-later"),
    ("GPLv3+", "GPL-3.0-or-later"),
    ("MIT License", "MIT"),
    ("The MIT License", "MIT"),
    ("The MIT License (MIT)", "MIT"),
    ("Apache License 2.0", "Apache-2.0"),
    ("Apache License, Version 2.0", "Apache-2.0"),
    ("Apache License Version 2.0", "Apache-2.0"),
    ("Apache 2.0", "Apache-2.0"),
    ("Apache-2", "Apache-2.0"),
    ("Apache 2", "Apache-2.0"),
    ("BSD 3-Clause License", "BSD-3-Clause"),
    ("BSD 3-Clause", "BSD-3-Clause"),
    ("New BSD License", "BSD-3-Clause"),
    ("Modified BSD License", "BSD-3-Clause"),
    ("BSD 2-Clause License", "BSD-2-Clause"),
    ("Simplified BSD License", "BSD-2-Clause"),
    ("ISC License", "ISC"),
    ("Mozilla Public License 2.0", "MPL-2.0"),
    ("The Unlicense", "Unlicense"),
];

/// The family of a licence (`Apache-2.0` and `Apache Software License` are
/// both `Apache`), used only when one side is ambiguous.
fn family(atom: &str) -> String {
    let lower = atom.to_ascii_lowercase();
    let id_families: [(&str, &str); 8] = [
        ("apache-", "Apache"),
        ("bsd-", "BSD"),
        ("0bsd", "BSD"),
        ("lgpl-", "LGPL"),
        ("agpl-", "AGPL"),
        ("gpl-", "GPL"),
        ("mpl-", "MPL"),
        ("epl-", "EPL"),
    ];
    if let Some((_, f)) = id_families.iter().find(|(p, _)| lower.starts_with(p)) {
        return (*f).to_string();
    }
    let name = lower.rsplit("::").next().unwrap_or(&lower).trim();
    let word_families: [(&str, &str); 9] = [
        ("lesser general public", "LGPL"),
        ("lgpl", "LGPL"),
        ("affero", "AGPL"),
        ("general public", "GPL"),
        ("gpl", "GPL"),
        ("apache", "Apache"),
        ("bsd", "BSD"),
        ("mozilla", "MPL"),
        ("eclipse", "EPL"),
    ];
    match word_families.iter().find(|(w, _)| name.contains(w)) {
        Some((_, f)) => (*f).to_string(),
        None => atom.to_string(),
    }
}

/// Names that are licences but not one licence; kept as written.
const AMBIGUOUS: &[&str] = &[
    "BSD",
    "BSD License",
    "Apache",
    "Apache Software License",
    "GPL",
    "LGPL",
    "Public Domain",
];

fn is_known_ambiguous(text: &str) -> bool {
    AMBIGUOUS.iter().any(|a| a.eq_ignore_ascii_case(text))
}

/// An id or unambiguous name → its canonical SPDX id.
fn map_name(text: &str) -> Option<String> {
    if let Some(id) = canonical_id(text) {
        return Some(id);
    }
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(text))
        .map(|(_, id)| (*id).to_string())
}

/// Normalizes an SPDX expression (see the module docs). Never fails: an
/// unknown token is kept as written.
fn normalize_expression(text: &str) -> Term {
    let mut tokens: Vec<String> = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<String>| {
        if !word.is_empty() {
            tokens.push(std::mem::take(word));
        }
    };
    for c in text.chars() {
        if c == '(' || c == ')' {
            flush(&mut word, &mut tokens);
            tokens.push(c.to_string());
        } else if c.is_whitespace() {
            flush(&mut word, &mut tokens);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut tokens);
    let mut after_with = false;
    for t in &mut tokens {
        let upper = t.to_ascii_uppercase();
        if matches!(upper.as_str(), "AND" | "OR" | "WITH") {
            after_with = upper == "WITH";
            *t = upper;
        } else if t != "(" && t != ")" {
            let canonical = if after_with {
                canonical_exception(t).map(str::to_string)
            } else {
                canonical_id(t)
            };
            if let Some(c) = canonical {
                *t = c;
            }
            after_with = false;
        }
    }
    if let Some(tree) = Expr::parse(&tokens) {
        return match tree {
            Expr::Leaf(id) => Term::Single(id),
            tree => Term::Expression(tree.render()),
        };
    }
    // Not a well-formed expression (unbalanced parentheses, a missing
    // operand, nesting deeper than MAX_DEPTH): kept as its tokens.
    let mut out = String::new();
    for t in &tokens {
        if t == ")" || out.is_empty() || out.ends_with('(') {
            out.push_str(t);
        } else {
            out.push(' ');
            out.push_str(t);
        }
    }
    Term::Expression(out)
}

/// Parentheses nested deeper than this are not parsed (a hostile licence
/// string must not overflow the stack).
const MAX_DEPTH: usize = 32;

/// An SPDX expression as a tree, for a canonical form: `AND`/`OR` operands
/// flattened (`A OR (B OR C)` = `A OR B OR C`), de-duplicated and sorted, so
/// `(MIT OR Apache-2.0) AND Unicode-DFS-2016` = `Unicode-DFS-2016 AND
/// (Apache-2.0 OR MIT)`. `WITH` binds an exception to its licence (a leaf),
/// `AND` binds tighter than `OR`.
#[derive(Debug, PartialEq, Eq)]
enum Expr {
    Leaf(String),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    /// Parses canonicalized tokens; None unless they form one expression.
    fn parse(tokens: &[String]) -> Option<Expr> {
        let mut at = 0;
        let tree = Self::or(tokens, &mut at, 0)?;
        (at == tokens.len()).then_some(tree)
    }

    fn or(t: &[String], at: &mut usize, depth: usize) -> Option<Expr> {
        let mut parts = vec![Self::and(t, at, depth)?];
        while t.get(*at).map(String::as_str) == Some("OR") {
            *at += 1;
            parts.push(Self::and(t, at, depth)?);
        }
        Some(Self::join(parts, true))
    }

    fn and(t: &[String], at: &mut usize, depth: usize) -> Option<Expr> {
        let mut parts = vec![Self::atom(t, at, depth)?];
        while t.get(*at).map(String::as_str) == Some("AND") {
            *at += 1;
            parts.push(Self::atom(t, at, depth)?);
        }
        Some(Self::join(parts, false))
    }

    fn atom(t: &[String], at: &mut usize, depth: usize) -> Option<Expr> {
        let token = t.get(*at)?.as_str();
        *at += 1;
        if token == "(" {
            if depth >= MAX_DEPTH {
                return None;
            }
            let inner = Self::or(t, at, depth + 1)?;
            if t.get(*at).map(String::as_str) != Some(")") {
                return None;
            }
            *at += 1;
            return Some(inner);
        }
        if matches!(token, ")" | "AND" | "OR" | "WITH") {
            return None;
        }
        if t.get(*at).map(String::as_str) == Some("WITH") {
            let exception = t.get(*at + 1)?;
            if matches!(exception.as_str(), "(" | ")" | "AND" | "OR" | "WITH") {
                return None;
            }
            *at += 2;
            return Some(Expr::Leaf(format!("{token} WITH {exception}")));
        }
        Some(Expr::Leaf(token.to_string()))
    }

    /// One operator's operands, flattened, sorted and de-duplicated.
    fn join(parts: Vec<Expr>, or: bool) -> Expr {
        let mut flat = Vec::new();
        for p in parts {
            match p {
                Expr::Or(inner) if or => flat.extend(inner),
                Expr::And(inner) if !or => flat.extend(inner),
                other => flat.push(other),
            }
        }
        let mut keyed: Vec<(String, Expr)> = flat.into_iter().map(|e| (e.render(), e)).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|a, b| a.0 == b.0);
        let mut flat: Vec<Expr> = keyed.into_iter().map(|(_, e)| e).collect();
        if flat.len() == 1 {
            return flat.remove(0);
        }
        if or {
            Expr::Or(flat)
        } else {
            Expr::And(flat)
        }
    }

    /// The canonical text: compound operands in parentheses.
    fn render(&self) -> String {
        let (parts, op) = match self {
            Expr::Leaf(s) => return s.clone(),
            Expr::And(p) => (p, " AND "),
            Expr::Or(p) => (p, " OR "),
        };
        parts
            .iter()
            .map(|p| match p {
                Expr::Leaf(s) => s.clone(),
                compound => format!("({})", compound.render()),
            })
            .collect::<Vec<_>>()
            .join(op)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Licenses {
        let mut l = Licenses::default();
        for n in list {
            l.add_name(n);
        }
        l
    }

    fn expr(e: &str) -> Licenses {
        let mut l = Licenses::default();
        l.add_expression(e);
        l
    }

    #[test]
    fn same_licence_other_spelling() {
        assert!(!names(&["License :: OSI Approved :: MIT License"]).differs(&names(&["MIT"])));
        assert!(!names(&["mit"]).differs(&expr("MIT")));
        assert!(!names(&["Apache License 2.0"]).differs(&expr("apache-2.0")));
        assert!(!expr("MIT OR Apache-2.0").differs(&expr("(Apache-2.0 or MIT)")));
        assert!(!names(&["MIT", "Apache-2.0"]).differs(&expr("MIT OR Apache-2.0")));
        assert!(!expr("GPL-2.0+").differs(&expr("GPL-2.0-or-later")));
        assert!(
            !names(&["BSD-3-Clause", "License :: OSI Approved :: BSD License"])
                .differs(&names(&["BSD-3-Clause"]))
        );
        assert!(!names(&["MIT"]).differs(&expr("NOASSERTION")));
        // An ambiguous classifier is not a change from a licence of its family.
        assert!(
            !names(&["License :: OSI Approved :: Apache Software License"])
                .differs(&expr("Apache-2.0"))
        );
        assert!(!names(&["License :: OSI Approved :: BSD License"]).differs(&names(&["BSD"])));
    }

    #[test]
    fn nested_expressions_are_canonical() {
        // Operand order at every level, redundant parentheses, WITH operands.
        assert!(!expr("(MIT OR Apache-2.0) AND Unicode-DFS-2016")
            .differs(&expr("Unicode-DFS-2016 AND (Apache-2.0 OR MIT)")));
        assert!(!expr("Apache-2.0 WITH LLVM-exception OR MIT")
            .differs(&expr("MIT OR (Apache-2.0 WITH llvm-exception)")));
        assert!(!expr("MIT OR (Apache-2.0 OR BSD-3-Clause)")
            .differs(&expr("BSD-3-Clause OR Apache-2.0 OR MIT")));
        assert!(!expr("((MIT))").differs(&names(&["MIT"])));
        assert!(expr("(MIT OR Apache-2.0) AND Unicode-DFS-2016")
            .differs(&expr("MIT OR (Apache-2.0 AND Unicode-DFS-2016)")));
        assert_eq!(
            expr("MIT AND Apache-2.0 OR Zlib").display().unwrap(),
            "(Apache-2.0 AND MIT) OR Zlib"
        );
        // Malformed or hostile expressions are kept, never a panic.
        assert_eq!(expr("MIT OR").display().unwrap(), "MIT OR");
        let deep = format!("{}MIT{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(expr(&deep).display().is_some());
    }

    #[test]
    fn names_with_or_are_names() {
        let l = names(&["GNU General Public License v2 or later"]);
        assert_eq!(l.display().unwrap(), "GPL-2.0-or-later");
        let l = names(&["GNU General Public License v4 or later"]);
        assert_eq!(
            l.display().unwrap(),
            "GNU General Public License v4 or later"
        );
        assert_eq!(
            names(&["mit or apache-2.0"]).display().unwrap(),
            "Apache-2.0 OR MIT"
        );
    }

    #[test]
    fn real_changes() {
        assert!(names(&["MIT"]).differs(&names(&["Apache-2.0"])));
        assert!(expr("MIT OR Apache-2.0").differs(&expr("MIT AND Apache-2.0")));
        assert!(names(&["License :: OSI Approved :: BSD License"]).differs(&names(&["MIT"])));
        assert!(
            names(&["License :: OSI Approved :: Apache Software License"])
                .differs(&names(&["GPL-2.0-only"]))
        );
        assert!(expr("GPL-2.0-only").differs(&expr("GPL-2.0-or-later")));
        assert_eq!(
            expr("(mit or apache-2.0) and bsd-3-clause")
                .display()
                .unwrap(),
            "(Apache-2.0 OR MIT) AND BSD-3-Clause"
        );
        assert_eq!(
            expr("GPL-2.0-or-later with classpath-exception-2.0")
                .display()
                .unwrap(),
            "GPL-2.0-or-later WITH Classpath-exception-2.0"
        );
    }
}
