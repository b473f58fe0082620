#!/bin/sh
# Regenerates the text-format evidence bundle-seal's tests seal: the real
# `--format text` output of sbom-diff and replay-diff for a failing gate
# (cargo build -p sbom-diff -p replay-diff first). Run from this directory.
set -u
bin=${BIN:-../../../target/debug}
tmp=$(mktemp -d)
printf 'requests==2.31.0\nurllib3==2.0.7\n' > "$tmp/old.txt"
printf 'requests==2.32.0\nurllib3==2.0.7\nidna==3.7\n' > "$tmp/new.txt"
"$bin/sbom-diff" "$tmp/old.txt" "$tmp/new.txt" --fail-on added,upgraded --format text > sbom-diff.txt
printf '{"id":1,"total":10}\n{"id":2,"total":20}\n' > "$tmp/golden.jsonl"
printf '{"id":1,"total":10}\n{"id":2,"total":21}\n' > "$tmp/replay.jsonl"
"$bin/replay-diff" "$tmp/golden.jsonl" "$tmp/replay.jsonl" --format text > replay-diff.txt
# The same tool, passing: nothing to fail.
cp "$tmp/golden.jsonl" "$tmp/again.jsonl"
"$bin/replay-diff" "$tmp/golden.jsonl" "$tmp/again.jsonl" --format text > replay-diff-pass.txt
sed -i "s#$tmp/##g" sbom-diff.txt replay-diff.txt replay-diff-pass.txt
rm -r "$tmp"
