//! Comparing two bills of materials as multisets of versions per identity.
//!
//! For each identity, the old and new instances are paired in three rounds
//! (keep in sync with the long help in cli.rs):
//! 1. the same version (by the ecosystem's rule: PEP 440 `1.0` = `1.0.0`)
//!    pairs with itself, instances with equal digests first;
//! 2. left-over versions of one release line (same major, or same minor
//!    under 0.x) pair newest with newest;
//! 3. whatever is still left pairs newest with newest across lines.
//!
//! A pair with different versions is `upgraded` or `downgraded`; any pair may
//! also be `source_changed` (from a registry, a git repository, a file:
//! see `source`), `license_changed` and `supplier_changed`; a pair with the
//! same version whose digests differ for an algorithm both sides give is
//! `hash_changed`. Unpaired old instances are `removed`, unpaired new ones
//! `added`. An input diffed against itself pairs every instance with itself
//! and shows no change.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;

use crate::model::{Component, Sbom};
use crate::version;

/// The change kinds, as `--fail-on` and records name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A component only the new input has.
    Added,
    /// A component only the old input has.
    Removed,
    /// Paired, with a higher version.
    Upgraded,
    /// Paired, with a lower version.
    Downgraded,
    /// Paired, and the licences differ after normalization.
    LicenseChanged,
    /// Same version, different digest for a common algorithm.
    HashChanged,
    /// Paired, and they came from different places (registry, git, file).
    SourceChanged,
    /// Paired, and both name a supplier, and they differ.
    SupplierChanged,
    /// A dependency edge only the new graph has.
    DependencyAdded,
    /// A dependency edge only the old graph has.
    DependencyRemoved,
}

impl ChangeKind {
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Upgraded => "upgraded",
            ChangeKind::Downgraded => "downgraded",
            ChangeKind::LicenseChanged => "license_changed",
            ChangeKind::HashChanged => "hash_changed",
            ChangeKind::SourceChanged => "source_changed",
            ChangeKind::SupplierChanged => "supplier_changed",
            ChangeKind::DependencyAdded => "dependency_added",
            ChangeKind::DependencyRemoved => "dependency_removed",
        }
    }

    pub const ALL: [ChangeKind; 10] = [
        ChangeKind::Added,
        ChangeKind::Removed,
        ChangeKind::Upgraded,
        ChangeKind::Downgraded,
        ChangeKind::LicenseChanged,
        ChangeKind::HashChanged,
        ChangeKind::SourceChanged,
        ChangeKind::SupplierChanged,
        ChangeKind::DependencyAdded,
        ChangeKind::DependencyRemoved,
    ];
}

/// One difference. `old`/`new` index into the inputs' component lists.
#[derive(Clone, Debug)]
pub struct Change {
    pub kind: ChangeKind,
    pub id: Arc<str>,
    pub old: Option<usize>,
    pub new: Option<usize>,
    /// For dependency edges: the depending component's identity.
    pub from: Option<Arc<str>>,
    /// Set when an `--allow` rule approved this change: its reason.
    pub allowed: Option<String>,
    /// Index of the old↔new pair this change belongs to (for `changed`).
    pub pair: Option<usize>,
}

/// All differences, in output order.
#[derive(Debug, Default)]
pub struct Diff {
    pub changes: Vec<Change>,
    pub pairs: usize,
}

/// Compares `old` with `new`. At Ctrl-C it stops early (every 4,096
/// components or groups) and returns what it has: the caller checks the
/// interrupt flag and reports an interrupted run, never this partial diff.
pub fn diff(old: &Sbom, new: &Sbom) -> Diff {
    let stop = |i: usize| i % 4096 == 4095 && common::interrupt::requested();
    // Group by identity in a hash map, then visit the groups in identity
    // order: cheaper than a sorted map for 100,000 inserts of long keys.
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(old.components.len());
    let mut groups: Vec<(&str, Vec<usize>, Vec<usize>)> = Vec::new();
    for (side, list) in [(0, &old.components), (1, &new.components)] {
        for (i, c) in list.iter().enumerate() {
            if stop(i) {
                std::mem::forget((index, groups));
                return Diff::default();
            }
            let g = *index.entry(&c.id).or_insert_with(|| {
                groups.push((&c.id, Vec::new(), Vec::new()));
                groups.len() - 1
            });
            if side == 0 {
                groups[g].1.push(i);
            } else {
                groups[g].2.push(i);
            }
        }
    }
    groups.sort_unstable_by(|a, b| a.0.cmp(b.0));
    drop(index);
    let mut out = Diff::default();
    let mut rest = groups.into_iter().enumerate();
    while let Some((k, (_, o, n))) = rest.next() {
        if stop(k) {
            // Freeing the groups left would outlast the interrupt's grace.
            std::mem::forget(rest);
            return out;
        }
        let id = match (o.first(), n.first()) {
            (Some(&i), _) => Arc::clone(&old.components[i].id),
            (None, Some(&i)) => Arc::clone(&new.components[i].id),
            (None, None) => continue,
        };
        compare_group(&id, &old.components, o, &new.components, n, &mut out);
    }
    if let (Some(a), Some(b)) = (&old.edges, &new.edges) {
        for (kind, from_set, other) in [
            (ChangeKind::DependencyRemoved, a, b),
            (ChangeKind::DependencyAdded, b, a),
        ] {
            let mut only: Vec<&(Arc<str>, Arc<str>)> =
                from_set.iter().filter(|e| !other.contains(*e)).collect();
            only.sort_unstable();
            for (from, to) in only {
                out.changes.push(Change {
                    kind,
                    id: Arc::clone(to),
                    old: None,
                    new: None,
                    from: Some(Arc::clone(from)),
                    allowed: None,
                    pair: None,
                });
            }
        }
    }
    out
}

fn order(s: version::Scheme, components: &[Component], a: usize, b: usize) -> Ordering {
    let (x, y) = (&components[a], &components[b]);
    version::compare_in(s, &x.version, &y.version).then_with(|| x.hashes.cmp(&y.hashes))
}

fn compare_group(
    id: &Arc<str>,
    old: &[Component],
    mut o: Vec<usize>,
    new: &[Component],
    mut n: Vec<usize>,
    out: &mut Diff,
) {
    let ty = old
        .get(o.first().copied().unwrap_or(usize::MAX))
        .or_else(|| new.get(n.first().copied().unwrap_or(usize::MAX)))
        .map(Component::ty)
        .unwrap_or("");
    let versions = o
        .iter()
        .map(|&k| old[k].version.as_str())
        .chain(n.iter().map(|&k| new[k].version.as_str()));
    let sc = version::scheme(ty, versions);
    o.sort_by(|&a, &b| order(sc, old, a, b));
    n.sort_by(|&a, &b| order(sc, new, a, b));
    // Round 1: same version (a merge of the two sorted lists).
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let (mut left_o, mut left_n) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < o.len() && j < n.len() {
        let (x, y) = (&old[o[i]], &new[n[j]]);
        if version::same_in(sc, &x.version, &y.version) {
            // The whole block of this version on each side, so that equal
            // digests pair before unequal ones (pairing in sorted order
            // alone made old {a, b} vs new {b, c} two hash changes, not one).
            let (bo, bn) = (i, j);
            while i < o.len() && version::same_in(sc, &x.version, &old[o[i]].version) {
                i += 1;
            }
            while j < n.len() && version::same_in(sc, &y.version, &new[n[j]].version) {
                j += 1;
            }
            pair_same_version(
                old,
                &o[bo..i],
                new,
                &n[bn..j],
                &mut pairs,
                &mut left_o,
                &mut left_n,
            );
        } else if version::compare_in(sc, &x.version, &y.version) == Ordering::Less {
            left_o.push(o[i]);
            i += 1;
        } else {
            left_n.push(n[j]);
            j += 1;
        }
    }
    left_o.extend_from_slice(&o[i..]);
    left_n.extend_from_slice(&n[j..]);
    // Round 2: within a release line, newest with newest.
    if !left_o.is_empty() && !left_n.is_empty() {
        let mut rest_o = Vec::new();
        let mut by_line: BTreeMap<(u64, u64), Vec<usize>> = BTreeMap::new();
        for &k in &left_n {
            by_line
                .entry(version::line(&new[k].version))
                .or_default()
                .push(k);
        }
        for &k in left_o.iter().rev() {
            match by_line
                .get_mut(&version::line(&old[k].version))
                .and_then(Vec::pop)
            {
                Some(m) => pairs.push((k, m)),
                None => rest_o.push(k),
            }
        }
        rest_o.reverse();
        left_o = rest_o;
        left_n = by_line.into_values().flatten().collect();
        left_n.sort_by(|&a, &b| order(sc, new, a, b));
        // Round 3: across lines, newest with newest.
        while let (Some(_), Some(_)) = (left_o.last(), left_n.last()) {
            if let (Some(a), Some(b)) = (left_o.pop(), left_n.pop()) {
                pairs.push((a, b));
            }
        }
    }
    pairs.sort_by(|p, q| order(sc, old, p.0, q.0).then(order(sc, new, p.1, q.1)));
    let mut push = |kind, old_i: Option<usize>, new_i: Option<usize>, pair: Option<usize>| {
        out.changes.push(Change {
            kind,
            id: Arc::clone(id),
            old: old_i,
            new: new_i,
            from: None,
            allowed: None,
            pair,
        });
    };
    for &k in &left_o {
        push(ChangeKind::Removed, Some(k), None, None);
    }
    for (a, b) in pairs {
        let pair = Some(out.pairs);
        out.pairs += 1;
        let (x, y) = (&old[a], &new[b]);
        if !version::same_in(sc, &x.version, &y.version) {
            let kind = if version::compare_in(sc, &x.version, &y.version) == Ordering::Less {
                ChangeKind::Upgraded
            } else {
                ChangeKind::Downgraded
            };
            push(kind, Some(a), Some(b), pair);
        } else if hashes_differ(x, y) {
            push(ChangeKind::HashChanged, Some(a), Some(b), pair);
        }
        if crate::source::differ(x, y) {
            push(ChangeKind::SourceChanged, Some(a), Some(b), pair);
        }
        if x.licenses.differs(&y.licenses) {
            push(ChangeKind::LicenseChanged, Some(a), Some(b), pair);
        }
        if let (Some(s), Some(t)) = (&x.supplier, &y.supplier) {
            if !s.trim().eq_ignore_ascii_case(t.trim()) {
                push(ChangeKind::SupplierChanged, Some(a), Some(b), pair);
            }
        }
    }
    for &k in &left_n {
        push(ChangeKind::Added, None, Some(k), None);
    }
}

/// Pairs two blocks of instances of one version, each sorted by digests:
/// instances with equal digests first (a sorted merge), then the rest in
/// order; what is left over on either side stays unpaired.
fn pair_same_version(
    old: &[Component],
    o: &[usize],
    new: &[Component],
    n: &[usize],
    pairs: &mut Vec<(usize, usize)>,
    left_o: &mut Vec<usize>,
    left_n: &mut Vec<usize>,
) {
    let (mut rest_o, mut rest_n) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < o.len() && j < n.len() {
        match old[o[i]].hashes.cmp(&new[n[j]].hashes) {
            Ordering::Equal => {
                pairs.push((o[i], n[j]));
                i += 1;
                j += 1;
            }
            Ordering::Less => {
                rest_o.push(o[i]);
                i += 1;
            }
            Ordering::Greater => {
                rest_n.push(n[j]);
                j += 1;
            }
        }
    }
    rest_o.extend_from_slice(&o[i..]);
    rest_n.extend_from_slice(&n[j..]);
    let k = rest_o.len().min(rest_n.len());
    pairs.extend(rest_o[..k].iter().copied().zip(rest_n[..k].iter().copied()));
    left_o.extend_from_slice(&rest_o[k..]);
    left_n.extend_from_slice(&rest_n[k..]);
}

/// Digests differ for some algorithm both sides give.
fn hashes_differ(x: &Component, y: &Component) -> bool {
    if x.hashes.is_empty() || y.hashes.is_empty() || x.hashes == y.hashes {
        return false;
    }
    x.hashes.iter().any(|(alg, _)| {
        let theirs: Vec<String> = y.digests(alg).collect();
        !theirs.is_empty() && x.digests(alg).ne(theirs.iter().cloned())
    })
}

/// The figures of a diff (after `--allow`).
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub counts: BTreeMap<&'static str, u64>,
    /// Pairs with at least one counted change.
    pub changed: u64,
    pub allowed: u64,
    pub changes: u64,
    pub drift: f64,
}

/// Counts the changes that were not allowed, and the drift.
pub fn figures(d: &Diff, components_old: usize) -> Figures {
    let mut f = Figures::default();
    for k in ChangeKind::ALL {
        f.counts.insert(k.name(), 0);
    }
    let mut changed_pairs = BTreeSet::new();
    for c in &d.changes {
        if c.allowed.is_some() {
            f.allowed += 1;
            continue;
        }
        f.changes += 1;
        *f.counts.entry(c.kind.name()).or_default() += 1;
        if let Some(p) = c.pair {
            changed_pairs.insert(p);
        }
    }
    f.changed = changed_pairs.len() as u64;
    let moved = f.counts["added"] + f.counts["removed"] + f.changed;
    f.drift = if components_old == 0 {
        if moved == 0 {
            0.0
        } else {
            1.0
        }
    } else {
        (moved as f64 / components_old as f64).min(1.0)
    };
    f
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::purl::Purl;
    use proptest::prelude::*;

    fn sbom(items: &[(u8, u8, u8)]) -> Sbom {
        let components = items
            .iter()
            .map(|&(name, major, minor)| {
                let purl = Purl::new(
                    if name % 2 == 0 { "npm" } else { "pypi" },
                    None,
                    &format!("p{}", name % 4),
                    None,
                );
                let mut c = Component::new(&purl, &format!("{}.{}.0", major % 3, minor % 4));
                c.add_hash("SHA256", if minor % 5 == 0 { "aa" } else { "bb" });
                c
            })
            .collect();
        Sbom {
            format: "test",
            components,
            edges: None,
            locals: Vec::new(),
        }
    }

    fn count(d: &Diff, kind: ChangeKind) -> usize {
        d.changes.iter().filter(|c| c.kind == kind).count()
    }

    fn one_version(digests: &[&str]) -> Sbom {
        let purl = Purl::new("npm", None, "x", None);
        let components = digests
            .iter()
            .map(|d| {
                let mut c = Component::new(&purl, "1.0.0");
                c.add_hash("SHA256", d);
                c
            })
            .collect();
        Sbom {
            format: "test",
            components,
            edges: None,
            locals: Vec::new(),
        }
    }

    #[test]
    fn equal_digests_pair_first() {
        // Old {aa, bb}, new {bb, cc}: bb is unchanged, aa became cc. Pairing
        // in sorted order alone reported aa->bb and bb->cc.
        let d = diff(&one_version(&["aa", "bb"]), &one_version(&["bb", "cc"]));
        assert_eq!(count(&d, ChangeKind::HashChanged), 1);
        let c = d
            .changes
            .iter()
            .find(|c| c.kind == ChangeKind::HashChanged)
            .unwrap();
        assert_eq!((c.old, c.new), (Some(0), Some(1)));
        // A copy gone: the one whose digest has no partner is removed.
        let d = diff(
            &one_version(&["aa", "bb", "cc"]),
            &one_version(&["cc", "aa"]),
        );
        assert_eq!(d.changes.len(), 1);
        assert_eq!(
            (d.changes[0].kind, d.changes[0].old),
            (ChangeKind::Removed, Some(1))
        );
    }

    proptest! {
        #[test]
        fn multiset_invariants(a in prop::collection::vec(any::<(u8, u8, u8)>(), 0..24),
                               b in prop::collection::vec(any::<(u8, u8, u8)>(), 0..24)) {
            let (x, y) = (sbom(&a), sbom(&b));
            // Against itself (and a reordering of itself): nothing.
            prop_assert!(diff(&x, &x).changes.is_empty());
            let mut rev = a.clone();
            rev.reverse();
            prop_assert!(diff(&x, &sbom(&rev)).changes.is_empty());
            // Every instance is paired or reported: nothing is lost.
            let ab = diff(&x, &y);
            let ba = diff(&y, &x);
            prop_assert_eq!(x.components.len() - count(&ab, ChangeKind::Removed), ab.pairs);
            prop_assert_eq!(y.components.len() - count(&ab, ChangeKind::Added), ab.pairs);
            // Swapping the sides mirrors the changes.
            prop_assert_eq!(count(&ab, ChangeKind::Added), count(&ba, ChangeKind::Removed));
            prop_assert_eq!(count(&ab, ChangeKind::Upgraded), count(&ba, ChangeKind::Downgraded));
            prop_assert_eq!(count(&ab, ChangeKind::HashChanged), count(&ba, ChangeKind::HashChanged));
        }
    }
}
