//! Version order, by the ecosystem's own rules where they are known.
//!
//! - `pypi`: PEP 440 (`pep440_rs`), so `1.0 == 1.0.0`, `2.0rc1 < 2.0`,
//!   `1.0.post1 > 1.0`;
//! - `npm`, `cargo`, `golang` (a leading `v` dropped), `gem`, `nuget`,
//!   `hex`, `composer`: SemVer 2.0 precedence (`semver`);
//! - `deb`: dpkg's order (epoch, upstream, revision; `~` first), in `deb`;
//! - `rpm`: rpm's order (epoch, version, release by `rpmvercmp`; `~`
//!   first, `^` after the end), in `rpm`;
//! - everything else: the fallback order, which splits versions into runs of
//!   digits and of other characters, compares digit runs as numbers and
//!   other runs as text, and ranks a longer version (`1.0.1`, `1.0a`) after
//!   its prefix (`1.0`) unless what follows is a pre-release word (alpha,
//!   beta, cr, dev, milestone, pre, preview, rc, snapshot: `1.0.rc1`,
//!   `2.0-SNAPSHOT`, `1.0~rc1` come before `1.0`). Versions the fallback
//!   finds equal but that are spelled differently are ordered as plain text,
//!   so the order is total.
//!
//! The rule is chosen per package: the ecosystem's when every version of
//! that package, old and new, parses under it, else the fallback for all of
//! them (mixing rules inside one sort would make the order inconsistent).

use std::cmp::Ordering;
use std::str::FromStr;

pub mod deb;
pub mod rpm;

/// The rule one group of versions is ordered by. It is chosen once per
/// package, for all its versions together, so the order stays total (a sort
/// must never mix two rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Pep440,
    Semver,
    Deb,
    Rpm,
    Fallback,
}

fn semver_of(v: &str) -> Option<semver::Version> {
    semver::Version::parse(v.strip_prefix('v').unwrap_or(v)).ok()
}

/// The ecosystem's rule if every version parses under it, else the fallback.
pub fn scheme<'a>(ty: &str, versions: impl IntoIterator<Item = &'a str>) -> Scheme {
    match ty {
        "pypi" => {
            if versions
                .into_iter()
                .all(|v| pep440_rs::Version::from_str(v).is_ok())
            {
                Scheme::Pep440
            } else {
                Scheme::Fallback
            }
        }
        "npm" | "cargo" | "golang" | "gem" | "nuget" | "hex" | "composer" => {
            if versions.into_iter().all(|v| semver_of(v).is_some()) {
                Scheme::Semver
            } else {
                Scheme::Fallback
            }
        }
        "deb" => {
            if versions.into_iter().all(deb::valid) {
                Scheme::Deb
            } else {
                Scheme::Fallback
            }
        }
        // Any text is an RPM version.
        "rpm" => Scheme::Rpm,
        _ => Scheme::Fallback,
    }
}

/// Compares two versions under `scheme`.
pub fn compare_in(scheme: Scheme, a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    match scheme {
        Scheme::Pep440 => {
            if let (Ok(x), Ok(y)) = (
                pep440_rs::Version::from_str(a),
                pep440_rs::Version::from_str(b),
            ) {
                return x.cmp(&y);
            }
        }
        Scheme::Semver => {
            if let (Some(x), Some(y)) = (semver_of(a), semver_of(b)) {
                // SemVer ignores build metadata for precedence; keep the order total.
                return x.cmp_precedence(&y).then_with(|| a.cmp(b));
            }
        }
        Scheme::Deb => {
            if let Some(o) = deb::compare(a, b) {
                return o;
            }
        }
        Scheme::Rpm => return rpm::compare(a, b),
        Scheme::Fallback => {}
    }
    fallback(a, b)
}

/// True when two spellings mean the same version under `scheme` (`1.0` and
/// `1.0.0` in PEP 440; `1.01`, `0:1.1` and `1.1-0` for dpkg; `2.0` and `2_0`
/// for rpm).
pub fn same_in(scheme: Scheme, a: &str, b: &str) -> bool {
    a == b
        || (matches!(scheme, Scheme::Pep440 | Scheme::Deb | Scheme::Rpm)
            && compare_in(scheme, a, b) == Ordering::Equal)
}

/// Compares two versions of the same package of purl type `ty`.
pub fn compare(ty: &str, a: &str, b: &str) -> Ordering {
    compare_in(scheme(ty, [a, b]), a, b)
}

/// True when two spellings mean the same version.
pub fn same(ty: &str, a: &str, b: &str) -> bool {
    same_in(scheme(ty, [a, b]), a, b)
}

/// The "release line" a version belongs to, used to pair old and new
/// versions of a package present several times: the first number, or the
/// first two when the first is 0 (`0.4.x` and `0.5.x` are different lines).
pub fn line(version: &str) -> (u64, u64) {
    let mut numbers = version
        .trim_start_matches(['v', 'V'])
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u64>().unwrap_or(u64::MAX));
    let major = numbers.next().unwrap_or(0);
    if major == 0 {
        (0, numbers.next().unwrap_or(0))
    } else {
        (major, 0)
    }
}

/// Words that mark a pre-release in the fallback order (Maven, RubyGems,
/// Debian `~rc1`): `1.0.rc1` and `2.0-SNAPSHOT` come before `1.0` and `2.0`.
const PRE_RELEASE: &[&str] = &[
    "alpha",
    "beta",
    "cr",
    "dev",
    "milestone",
    "pre",
    "preview",
    "rc",
    "snapshot",
];

fn is_pre_release(text: &str) -> bool {
    PRE_RELEASE.iter().any(|w| w.eq_ignore_ascii_case(text))
}

/// The fallback order. Position by position, runs rank: a pre-release word
/// < the end of the version < other text (by text) < a number (by value).
/// So `1.0.rc1 < 1.0 < 1.0a < 1.0.1`: a longer version comes after its
/// prefix unless what follows the prefix is a pre-release word.
fn fallback(a: &str, b: &str) -> Ordering {
    fn rank(run: &Option<Run<'_>>) -> u8 {
        match run {
            Some(Run::Text(t)) if is_pre_release(t) => 0,
            None => 1,
            Some(Run::Text(_)) => 2,
            Some(Run::Num(_)) => 3,
        }
    }
    let mut x = Runs::new(a);
    let mut y = Runs::new(b);
    loop {
        let (p, q) = (x.next(), y.next());
        let o = rank(&p).cmp(&rank(&q)).then_with(|| match (&p, &q) {
            (Some(Run::Num(m)), Some(Run::Num(n))) => {
                let m = m.trim_start_matches('0');
                let n = n.trim_start_matches('0');
                m.len().cmp(&n.len()).then_with(|| m.cmp(n))
            }
            (Some(Run::Text(s)), Some(Run::Text(t))) => s
                .to_ascii_lowercase()
                .cmp(&t.to_ascii_lowercase())
                .then_with(|| s.cmp(t)),
            _ => Ordering::Equal,
        });
        if o != Ordering::Equal {
            return o;
        }
        if p.is_none() && q.is_none() {
            return a.cmp(b);
        }
    }
}

enum Run<'a> {
    Num(&'a str),
    Text(&'a str),
}

/// Splits a version into digit runs and other runs; separators `.`, `-`,
/// `_`, `+` only separate.
struct Runs<'a> {
    rest: &'a str,
}

impl<'a> Runs<'a> {
    fn new(text: &'a str) -> Self {
        Runs { rest: text }
    }
}

impl<'a> Iterator for Runs<'a> {
    type Item = Run<'a>;
    fn next(&mut self) -> Option<Run<'a>> {
        self.rest = self.rest.trim_start_matches(['.', '-', '_', '+', '~']);
        let first = self.rest.chars().next()?;
        let digit = first.is_ascii_digit();
        let end = self
            .rest
            .find(|c: char| c.is_ascii_digit() != digit || ".-_+~".contains(c))
            .unwrap_or(self.rest.len());
        let (run, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(if digit { Run::Num(run) } else { Run::Text(run) })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn pep440() {
        assert_eq!(compare("pypi", "2.31.0", "2.32.3"), Less);
        assert_eq!(compare("pypi", "1.26.18", "2.0.7"), Less);
        assert_eq!(compare("pypi", "2.0rc1", "2.0"), Less);
        assert_eq!(compare("pypi", "1.0.post1", "1.0"), Greater);
        assert_eq!(compare("pypi", "1.0", "1.0.0"), Equal);
        assert!(same("pypi", "1.0", "1.0.0"));
        assert!(!same("npm", "1.0", "1.0.0"));
    }

    #[test]
    fn semver_and_fallback() {
        assert_eq!(compare("npm", "6.0.2", "6.0.10"), Less);
        assert_eq!(compare("npm", "1.0.0-beta.2", "1.0.0"), Less);
        assert_eq!(compare("cargo", "0.4.20", "0.4.3"), Greater);
        assert_eq!(compare("golang", "v1.10.0", "v1.9.9"), Greater);
        assert_eq!(compare("deb", "1.2.10-1", "1.2.9-3"), Greater);
        assert_eq!(
            compare("deb", "1:3.0.11-1~deb12u2", "3.0.15-1~deb12u1"),
            Greater
        );
        assert_eq!(compare("generic", "1.0", "1.0.1"), Less);
        assert_eq!(compare("generic", "1.0a", "1.0"), Greater);
        assert_eq!(compare("generic", "01", "1"), "01".cmp("1"));
        assert_eq!(compare("generic", "r10", "r9"), Greater);
        // Pre-release words come before the release they lead to.
        assert_eq!(compare("gem", "7.1.0.rc1", "7.1.0"), Less);
        assert_eq!(compare("maven", "2.0-SNAPSHOT", "2.0"), Less);
        assert_eq!(compare("maven", "2.0-beta-1", "2.0-rc-1"), Less);
        assert_eq!(compare("deb", "1.0~rc1-1", "1.0-1"), Less);
        assert_eq!(compare("generic", "1.1.1a", "1.1.1"), Greater);
        // A total order: sorting agrees with every pairwise comparison.
        let mut v = vec![
            "1.0",
            "1.0a",
            "1.0.rc1",
            "1.0.1",
            "1.0-SNAPSHOT",
            "1.0rc2",
            "0.9",
            "1.0.0",
            "1.0b",
        ];
        v.sort_by(|a, b| fallback(a, b));
        for (i, a) in v.iter().enumerate() {
            for b in &v[i + 1..] {
                assert_eq!(fallback(a, b), Less, "{a} {b}");
                assert_eq!(fallback(b, a), Greater, "{b} {a}");
            }
        }
        assert_eq!(
            v,
            [
                "0.9",
                "1.0.rc1",
                "1.0rc2",
                "1.0-SNAPSHOT",
                "1.0",
                "1.0a",
                "1.0b",
                "1.0.0",
                "1.0.1"
            ]
        );
    }

    #[test]
    fn one_rule_per_package() {
        assert_eq!(scheme("pypi", ["1.0", "2.0rc1"]), Scheme::Pep440);
        assert_eq!(scheme("pypi", ["1.0", "not a version"]), Scheme::Fallback);
        assert_eq!(scheme("npm", ["1.0.0", "v2.0.0"]), Scheme::Semver);
        assert_eq!(scheme("npm", ["1.0.0", "1.0"]), Scheme::Fallback);
        assert_eq!(scheme("deb", ["1.0", "1:2.0-1~bpo1"]), Scheme::Deb);
        assert_eq!(scheme("deb", ["1.0", "1.0-"]), Scheme::Fallback);
        assert_eq!(scheme("rpm", ["anything at all"]), Scheme::Rpm);
        assert_eq!(scheme("generic", ["1.0"]), Scheme::Fallback);
        // "1.0" is no SemVer, so the whole package falls back: one total order.
        let mut v = vec!["1.0.0", "1.0", "1.0.0-rc1", "0.9", "1.0.0+b", "10"];
        let sc = scheme("npm", v.iter().copied());
        v.sort_by(|a, b| compare_in(sc, a, b));
        assert_eq!(v, ["0.9", "1.0", "1.0.0-rc1", "1.0.0", "1.0.0+b", "10"]);
    }

    proptest::proptest! {
        #[test]
        fn fallback_is_a_total_order(a in "[0-9a-z.~-]{0,8}", b in "(rc|beta|a|[0-9.~-]){0,6}", c in "[0-9rcab.-]{0,8}") {
            proptest::prop_assert_eq!(fallback(&a, &b), fallback(&b, &a).reverse());
            if fallback(&a, &b) != Greater && fallback(&b, &c) != Greater {
                proptest::prop_assert_ne!(fallback(&a, &c), Greater, "{} {} {}", a, b, c);
            }
        }
    }

    #[test]
    fn release_lines() {
        assert_eq!(line("6.0.3"), (6, 0));
        assert_eq!(line("0.4.1"), (0, 4));
        assert_eq!(line("v2"), (2, 0));
        assert_eq!(line("abc"), (0, 0));
    }
}
