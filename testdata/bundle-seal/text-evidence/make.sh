#!/bin/sh
# Regenerates the text-format evidence bundle-seal's tests seal: the real
# `--format text` output of sbom-diff, replay-diff and cycle-check for a
# failing gate, soak-load's summary on stderr under `--format csv`, and
# sbom-diff's summary as jq digests without `kind` and as YAML (python's
# yq -y) (cargo build -p sbom-diff -p replay-diff -p cycle-check
# -p soak-load first; jq and yq on PATH). Run from this directory.
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
# cycle-check: a service that exits before it is ready, twice; and one
# that passes.
"$bin/cycle-check" --cycles 2 --ready tcp://127.0.0.1:18391 --ready-timeout 2s \
  --format text -- sh -c 'exit 3' > cycle-check.txt 2>/dev/null
"$bin/cycle-check" --cycles 1 --ready 'log:^ready$' --format text \
  -- sh -c 'echo ready; exec sleep 30' > cycle-check-pass.txt 2>/dev/null
# soak-load against a port nothing listens on: every request fails.
"$bin/soak-load" run http://127.0.0.1:18392/ --rate 20/s --duration 1s --format csv \
  > "$tmp/windows.csv" 2> soak-load.txt
# sbom-diff's JSON summary, then what jq and yq make of it.
"$bin/sbom-diff" "$tmp/old.txt" "$tmp/new.txt" --fail-on added,upgraded > "$tmp/sbom.jsonl"
tail -n 1 "$tmp/sbom.jsonl" | jq -c '{verdict, gates}' > digest.json
tail -n 1 "$tmp/sbom.jsonl" | jq -c '{tool, version, verdict, gates}' > results.jsonl
tail -n 1 "$tmp/sbom.jsonl" | jq '{tool, verdict, gates}' > digest-pretty.json
tail -n 1 "$tmp/sbom.jsonl" | yq -y . > sbom-diff.yaml
"$bin/replay-diff" "$tmp/golden.jsonl" "$tmp/again.jsonl" | tail -n 1 \
  | jq -c '{tool, verdict, gates}' > digest-pass.json
sed -i "s#$tmp/##g" sbom-diff.txt replay-diff.txt replay-diff-pass.txt sbom-diff.yaml
rm -r "$tmp"
