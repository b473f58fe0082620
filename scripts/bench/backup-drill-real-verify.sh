#!/usr/bin/env bash
# What backup-drill's verify says about real trees nobody here wrote, and
# about copies made by cp: prints the figures the README's "What verify
# compares" quotes. Not a timing benchmark: a check that passes and
# findings are true.
#
# For each tree (default: /etc, and /usr/share/doc with /var/log), copied
# first with `cp -a` into WORKDIR so it holds still:
#   drill       backup + restore + verify + check (--allow-outside-links: /etc
#               has absolute symlinks); prints the verdict and file count
#   cp -a       a copy by cp -a, verified against the snapshot: verdict and
#               the mismatches by kind (expected: none)
#   cp -r       a copy by cp -r (no preserve), verified: mismatches by kind,
#               and every `mode` one with both values
#
# Usage: scripts/bench/backup-drill-real-verify.sh [WORKDIR]
#   TREES="/etc|/usr/share/doc /var/log"   ('|' separates runs)
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=${1:-${TMPDIR:-/tmp}/backup-drill-real-verify}
TREES=${TREES:-"/etc|/usr/share/doc /var/log"}
cargo build -q --release -p backup-drill
BIN=$PWD/target/release/backup-drill
command -v jq >/dev/null || { echo "error: needs jq" >&2; exit 2; }

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  host: $(uname -srm)  uid: $(id -u)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
IFS='|' read -r -a runs <<<"$TREES"
for run in "${runs[@]}"; do
  rm -rf "$WORK" && mkdir -p "$WORK/src" "$WORK/a" "$WORK/r"
  sources=()
  for tree in $run; do
    cp -a "$tree" "$WORK/src/"
    sources+=(--source "$WORK/src/$(basename "$tree")")
  done
  echo
  echo "== $run"
  "$BIN" -q --repo "$WORK/repo" "${sources[@]}" --allow-outside-links |
    jq -r 'select(.kind=="summary") | "drill: \(.verdict)  files=\(.figures.files) bytes=\(.figures.bytes) mismatches=\(.figures.mismatches)"'
  cp -a "$WORK"/src/* "$WORK/a/"
  cp -r "$WORK"/src/* "$WORK/r/"
  for copy in a r; do
    label=$([ "$copy" = a ] && echo "cp -a" || echo "cp -r")
    out=$("$BIN" verify latest --repo "$WORK/repo" --dir "$WORK/$copy" || true)
    verdict=$(jq -r 'select(.kind=="summary") | .verdict' <<<"$out")
    kinds=$(jq -r 'select(.kind=="mismatch") | .what' <<<"$out" | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')
    echo "$label: $verdict  ${kinds:-no mismatches}"
    jq -r 'select(.kind=="mismatch" and .what=="mode") | "  mode \(.path): \(.expected) -> \(.actual)"' <<<"$out"
  done
done
rm -rf "$WORK"
