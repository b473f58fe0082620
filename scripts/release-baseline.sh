#!/usr/bin/env bash
# Cut the dependency baseline when a release is made: the release commit's Cargo.lock becomes
# testdata/release-baseline/Cargo.lock, BASELINE records where it came from (commit, date,
# sha256), and allow.txt (the changes reviewed since the previous baseline) starts empty again.
#
#   scripts/release-baseline.sh --release v1.2.0 v1.2.0     # the tag or commit that shipped
#   scripts/release-baseline.sh --release rc3               # HEAD
#
# It changes files only; review and commit them (git add testdata/release-baseline).
set -euo pipefail
cd "$(dirname "$0")/.."

release=""
while [ $# -gt 0 ]; do
  case $1 in
    --release) release=${2:?--release takes a name}; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "release-baseline: error: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
  esac
done
ref=${1:-HEAD}
[ -n "$release" ] || { echo "release-baseline: error: --release NAME is required (the release this baseline is)" >&2; exit 2; }
case $release in *$'\n'*) echo "release-baseline: error: --release: one line" >&2; exit 2 ;; esac
commit=$(git rev-parse --verify -q "$ref^{commit}") || { echo "release-baseline: error: '$ref' is not a commit" >&2; exit 2; }
date=$(TZ=UTC git show -s --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ "$commit")
dir=testdata/release-baseline
tmp=$(mktemp -d "$dir/.cut.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
git show "$commit:Cargo.lock" > "$tmp/Cargo.lock" ||
  { echo "release-baseline: error: $commit has no Cargo.lock" >&2; exit 2; }
sha=$(sha256sum < "$tmp/Cargo.lock" | cut -d' ' -f1)
{
  sed -n '1,3p' "$dir/BASELINE"
  printf 'release = %s\ncommit = %s\ncommit_date = %s\npath = Cargo.lock\nsha256 = %s\n' \
    "$release" "$commit" "$date" "$sha"
} > "$tmp/BASELINE"
grep '^#' "$dir/allow.txt" > "$tmp/allow.txt" || true
for f in Cargo.lock BASELINE allow.txt; do mv -f "$tmp/$f" "$dir/$f"; done
echo "baseline: $release = $commit ($date), Cargo.lock sha256 $sha; allow.txt emptied" >&2
echo "review and commit: git add $dir && git commit -m 'release baseline: $release'" >&2
