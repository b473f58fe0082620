//! Command-line definition (clap derive). The long help carries the identity,
//! pairing and drift rules, since the man page is generated from it.

use clap::{CommandFactory, Parser, ValueEnum};

use crate::diff::ChangeKind;
use crate::model::Kind;

/// `--format`: records for machines, a table for people, CSV for spreadsheets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON record per line, the summary last (the default).
    Jsonl,
    /// A readable table of changes and the summary.
    Text,
    /// One CSV row per change, with a header row (no summary).
    Csv,
}

const LONG_ABOUT: &str = "\
Compare two bills of materials (the last release's and the new build's) and \
report what was added, removed, upgraded, downgraded, relicensed, or changed \
content without changing version. Either side may be CycloneDX JSON \
(1.2-1.6), SPDX JSON (2.2/2.3), a Cargo.lock, a package-lock.json (v2/v3) or \
pip requirements / `pip freeze` output; the format is detected from the \
content (or named with --from/--to), and any pairing works. Other \
lockfiles are refused: yarn.lock, pnpm-lock.yaml, and TOML lockfiles that \
are not a Cargo.lock (a key cargo never writes: PDM's pdm.lock, poetry.lock, \
uv.lock; the hint names their export to requirements). An input that \
lists no component (a Cargo.lock of workspace members only, an SBOM with \
no components) proves nothing and is refused, except a pip list against \
an input that lists something; so are OLD and NEW naming the same file \
(the same device and inode, also through a link). A CycloneDX purl whose \
version contradicts the component's version is refused.

Identity. A component is identified by its package URL without the version: \
the scheme and type case-insensitive (PKG:NPM/x = pkg:npm/x); namespace \
and name percent-decoded (a purl whose decoded bytes are not UTF-8 is \
refused); PyPI names \
normalized as pip does (PEP 503: lowercase, runs of -, _ and . become one -); \
npm scopes and names, and github, gitlab, bitbucket, deb, apk, alpm, hex \
and composer names, lowercased (golang paths keep their case: Go module \
paths are case-sensitive); an npm scope always carries its @, also when its \
slash is percent-encoded (%40scope%2Fname); qualifier keys lowercased, empty and \
non-identifying qualifiers (checksum, download_url, file_name, vcs_url) \
dropped and the rest sorted; written back in canonical form \
(pkg:npm/%40types/node). A component without a purl is identified as \
pkg:generic/GROUP/NAME. Lockfiles give their ecosystem's purl \
(pkg:cargo/NAME, pkg:npm/SCOPE/NAME, pkg:pypi/NAME). A crate from another \
registry or from git keeps its repository as repository_url (from \
Cargo.lock's source, or a cargo purl's vcs_url without its branch and \
commit), so a crates.io crate swapped for a git fork is removed + added; \
an npm or PyPI package keeps its identity whatever its source (such a swap \
is source_changed, below). \
bom-ref and SPDXID are not identities. CycloneDX components nested in \
components, and the subject's own metadata.component.components, are read \
as components (flattened depth first), except the subject itself under a \
subpath (cargo-cyclonedx's build targets: pkg:cargo/app@0.1.0#src/main.rs). The document's subject (CycloneDX metadata.component, the \
packages an SPDX document DESCRIBES, the package-lock root and workspace \
folders, Cargo.lock packages without a source) is not a component. Local \
packages (Cargo.lock packages without a source: workspace members and path \
dependencies alike; npm links to a folder) become components only where \
the other input has a component of that name (less qualifiers), so a crates.io \
crate replaced by a [patch] to a path is source_changed (registry -> \
path), not a lone removed. In \
dependency edges it is (root), and in a workspace each member is itself \
(pkg:cargo/NAME for each of several Cargo.lock members, pkg:npm/NAME for a \
package-lock workspace folder). Fields \
that change on every generation (serial number, namespace, timestamps, tool \
versions) are never read.

Pairing. Each identity is a multiset of versions: a package present several \
times (nested npm copies, repeated purls) keeps every instance. Old and new \
instances pair first by equal version (ecosystem rule: PEP 440 1.0 = 1.0.0), \
then within a release line (same major; same minor under 0.x) newest with \
newest, then across lines newest with newest. Unpaired old instances are \
`removed`, unpaired new ones `added`. An input diffed against itself shows no \
change.

Version order. PyPI: PEP 440. npm, cargo, golang (leading v dropped), gem, \
nuget, hex, composer: SemVer 2.0 precedence. deb: dpkg's order (epoch \
first, then upstream and revision, each with ~ before everything, even the \
end, letters before other characters, digit runs as numbers: \
1:3.0.11 > 3.0.15, 3.0.15-1~deb12u1 < 3.0.15-1; equal spellings such as \
1.01 and 0:1.1 are one version). rpm: rpm's order (epoch, version, \
release, each by rpmvercmp: ~ before the end, ^ after it, a purl's epoch \
qualifier part of the version; also for deb). Otherwise, or when any version \
of that package does not parse under its ecosystem's rule: the fallback \
splits versions into digit runs (compared as numbers) and other runs \
(compared as text, a number after text), a longer version after its \
prefix unless what follows the prefix is a pre-release word (alpha, beta, \
cr, dev, milestone, pre, preview, rc, snapshot: 1.0.rc1 and 2.0-SNAPSHOT \
come before 1.0 and 2.0; 1.1.1a after 1.1.1); ties are broken by plain text \
order.

Change kinds. added, removed, upgraded, downgraded; license_changed (both \
sides name licences and they differ after normalization: SPDX ids in any \
case, deprecated GNU ids, unambiguous trove classifiers and names such as \
'License :: OSI Approved :: MIT License' map to SPDX ids; an ambiguous \
classifier such as 'License :: OSI Approved :: BSD License' is not a change \
from a licence of its family such as BSD-3-Clause; expressions are compared \
as expressions, with the operands of AND and OR sorted at every level \
(MIT OR Apache-2.0 = Apache-2.0 OR MIT); lists as the set of licences \
named; NOASSERTION means none); hash_changed (same version, and for an algorithm both sides \
give, the digests differ: a supply-chain alarm; the commit of a git source \
counts as a GIT digest: Cargo.lock git+URL#COMMIT, a purl's \
vcs_url=git+URL@COMMIT, a package-lock resolved git+URL#COMMIT, pip's \
name @ git+URL@COMMIT); source_changed (same identity, and it came from \
elsewhere: the registry (registry), another registry (registry+URL: an npm \
tarball URL on another host, unless a digest both sides give is equal: a \
mirror), a git repository (git+URL, without the commit), a local file \
(file:PATH), a local folder a Cargo.lock does not name (path), a \
tarball URL, bundled in its parent; read from a package-lock's resolved \
(an npm registry over plain http is another registry), pip's name @ URL \
(a pin is the registry, or under index options --index-url/-i, \
--extra-index-url, --find-links/-f, --trusted-host, --no-index: \
registry+INDEX followed by the other places), a purl's \
git vcs_url or file: download_url (a purl without them is the registry), \
an SPDX downloadLocation git+URL or file:; a \
side that does not say, such as a component without a purl, is never a \
change; a swap at the same version carries no digest to compare, so this is \
the alarm for it); supplier_changed (both name \
a supplier, and they differ ignoring case); dependency_added and \
dependency_removed (edges between identities, reported only when both \
inputs carry a graph: CycloneDX dependencies, SPDX DEPENDS_ON and \
*_DEPENDENCY_OF, Cargo.lock and package-lock dependencies).

Drift. drift = (added + removed + changed) / components_old, where added \
and removed count unpaired instances, changed counts pairs with at least one \
of upgraded, downgraded, license_changed, hash_changed, source_changed, \
supplier_changed (a \
version bump with a new licence counts once, never as an add plus a remove), \
components_old counts the baseline's instances, changes approved by --allow \
do not count, and dependency edges do not count. drift is capped at 1; with \
an empty baseline it is 0 when nothing was added, else 1.";

const EXAMPLES: &str = "\
Examples:
  # What changed since the last release? (records, summary last)
  sbom-diff release-1.4.cdx.json build.cdx.json

  # The release gate: drift at most 0.5%, no downgrades, no content or
  # source changes (a registry package swapped for a git fork or a file).
  sbom-diff last.cdx.json new.spdx.json --max-drift 0.5% \\
      --fail-on downgraded,hash_changed,source_changed,license_changed

  # Zero undeclared dependencies: the environment matches the frozen pins.
  pip freeze --exclude-editable > installed.txt
  sbom-diff requirements.txt installed.txt --max-added 0 --fail-on added,removed

  # A lockfile against an SBOM, read as a table; approved changes skipped.
  sbom-diff Cargo.lock target/app.cdx.json --allow approved.txt --format text

  # For a spreadsheet.
  sbom-diff old.json new.json --format csv > changes.csv

Allow file (--allow): one rule per line, `#` comments:
  pkg:npm/lodash@4.17.*  change=upgraded  CVE-2021-23337 fix
  pkg:pypi/urllib3       change=downgraded,license_changed  pinned for botocore
  pkg:npm/@types/*       type packages are build-only

Records (JSON Lines on stdout):
  change   change (added|removed|upgraded|downgraded|license_changed|
           hash_changed|source_changed|supplier_changed|dependency_added|
           dependency_removed),
           id (identity), name, ecosystem, old_version, new_version,
           old_purl, new_purl, old_license, new_license, old_hashes,
           new_hashes ({ALGORITHM: hex}; several digests space-separated),
           old_supplier, new_supplier (each only where that side has it),
           old_source, new_source (where it came from: git+URL, file:PATH,
           path, registry+URL, a URL, bundled; the default registry shown only
           on source_changed),
           from (dependency edges: the depending identity, a workspace
           member, or (root)),
           allowed and reason (when an --allow rule approved it)
  summary  figures: format_old, format_new, components_old, components_new,
           added, removed, upgraded, downgraded, license_changed,
           hash_changed, source_changed, supplier_changed, dependency_added,
           dependency_removed, changed, unchanged, allowed, changes, drift;
           gates: drift, added, one per --fail-on kind, or `changes` (<= 0)
           when no gate is asked

Exit status: 0 no change (or every gate passed), 1 changes found or a gate
failed, 2 could not compare (unreadable, malformed or unrecognised input,
bad usage), 130 interrupted (the summary, marked interrupted, is written).";

/// Dependency drift between two SBOMs or lockfiles, as a gate.
#[derive(Debug, Parser)]
#[command(
    name = "sbom-diff",
    version,
    about = "Dependency drift between two SBOMs or lockfiles, as a release gate",
    long_about = LONG_ABOUT,
    after_long_help = EXAMPLES
)]
pub struct Cli {
    /// The baseline (last release): CycloneDX/SPDX JSON, Cargo.lock,
    /// package-lock.json, requirements.txt; a path, `.gz`, or `-`.
    #[arg(value_name = "OLD")]
    pub old: String,

    /// The new build's bill of materials, in any of the same formats.
    #[arg(value_name = "NEW")]
    pub new: String,

    /// Format of OLD instead of detecting it.
    #[arg(long, value_enum, default_value = "auto", value_name = "FORMAT")]
    pub from: Kind,

    /// Format of NEW instead of detecting it.
    #[arg(long, value_enum, default_value = "auto", value_name = "FORMAT")]
    pub to: Kind,

    /// Gate: fail when drift exceeds this percentage. Example: --max-drift
    /// 0.5% (the % is required: a bare 0.5 could mean 50% or 0.5%; only 0
    /// may go without it)
    #[arg(long, value_name = "PERCENT", value_parser = common::cli::fraction)]
    pub max_drift: Option<f64>,

    /// Gate: fail when more than N components were added (0 = no undeclared
    /// dependencies).
    #[arg(long, value_name = "N", value_parser = common::cli::count)]
    pub max_added: Option<u64>,

    /// Gate: fail on any change of these kinds (comma-separated).
    /// Example: --fail-on downgraded,hash_changed,license_changed
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KINDS")]
    pub fail_on: Vec<ChangeKind>,

    /// Approved changes that do not count: lines of `PURL-PATTERN
    /// [change=KINDS] [reason]` (see below).
    #[arg(long, value_name = "FILE")]
    pub allow: Option<String>,

    /// Accept components without a version (compared by presence and
    /// digest) instead of refusing the input.
    #[arg(long)]
    pub allow_unversioned: bool,

    /// Refuse inputs larger than this many bytes (after decompression).
    #[arg(long, value_name = "BYTES", default_value_t = 512 * 1024 * 1024)]
    pub max_input_size: u64,

    #[command(flatten)]
    pub format: common::cli::FormatArg<Format>,

    // Accepted as in every hardgate tool; sbom-diff draws no progress.
    #[command(flatten)]
    pub quiet: common::cli::QuietArg,
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    #[test]
    fn clap_definition_is_consistent() {
        super::command().debug_assert();
    }
}
