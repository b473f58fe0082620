#!/usr/bin/env bash
# Cross-tool end-to-end check (CI runs it after the tests): the release-gates pipeline on the
# demo service must pass and produce a bundle that standard tools verify; tampering and a failed
# gate must each be caught. Uses the debug build the tests already made.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "e2e: FAIL: $*" >&2; exit 1; }

OUT=$tmp/rg PROFILE=debug CYCLES=3 HEALTH_DURATION=3s HEALTH_INTERVAL=500ms \
  scripts/release-gates.sh 2> "$tmp/rg.log" || { cat "$tmp/rg.log" >&2; fail "release gates did not pass"; }
ev=$tmp/rg/evidence
BIN=target/debug

# Every gate is in the signed manifest, and the verdict is pass.
for tool in cycle-check pii-scrub sbom-diff backup-drill replay-diff; do
  grep -q "\"tool\": *\"$tool\"" "$ev/MANIFEST.json" || fail "$tool summary missing from MANIFEST.json"
done
grep -q '"verdict": *"pass"' "$ev/MANIFEST.json" || fail "sealed verdict is not pass"

# Standard tools verify the bundle.
(cd "$ev" && sha256sum -c --quiet SHA256SUMS) || fail "sha256sum -c SHA256SUMS"
if command -v minisign >/dev/null; then
  minisign -Vq -p "$tmp/rg/demo-release.pub" -m "$ev/MANIFEST.json" || fail "minisign -V rejected our signature"
elif [ -n "${CI:-}" ]; then
  fail "minisign is not installed (CI must install it)"
fi

# Tampering with one evidence byte is caught.
cp -r "$ev" "$tmp/tampered"
sed -i 's/"verdict":"pass"/"verdict":"fail"/' "$tmp/tampered/replay-diff.jsonl"
set +e
"$BIN/bundle-seal" verify "$tmp/tampered" --pub "$tmp/rg/demo-release.pub" > "$tmp/v.jsonl"
code=$?
set -e
[ "$code" -eq 1 ] || fail "tampered bundle: verify exit $code, want 1"
grep -q '"status":"modified"' "$tmp/v.jsonl" || fail "tampered file not reported as modified"

# A failed gate blocks the release: a bundle holding a failing replay-diff summary.
mkdir "$tmp/failing"
set +e
"$BIN/replay-diff" testdata/replay-diff/golden.jsonl testdata/replay-diff/replay-diverged.jsonl \
  --ignore /ts --mask uuid > "$tmp/failing/replay-diff.jsonl"
[ $? -eq 1 ] || fail "replay-diff should find the planted divergences"
"$BIN/bundle-seal" seal "$tmp/failing" --key "$tmp/rg/demo-release.key" > /dev/null
"$BIN/bundle-seal" verify "$tmp/failing" --pub "$tmp/rg/demo-release.pub" --require-pass > /dev/null
code=$?
set -e
[ "$code" -eq 1 ] || fail "failing gate: verify --require-pass exit $code, want 1"

echo "e2e: release gates pass, bundle verified by sha256sum$(command -v minisign >/dev/null && echo ' and minisign'), tampering and failed gates caught"
