#!/usr/bin/env bash
# soak-load's memory growth of a clean demo service, with and without --warmup: a fresh service's
# allocator and caches grow in its first seconds, which the rss_growth gate would read as a leak
# in a short soak. Each round starts a fresh demo service (debug build), sends 200 requests/s for
# 30 s (the release job's soak targets: chat, tool actions, session churn), a window every 5 s,
# --warmup 10s, and prints rss_growth as soak-load judged it (the first 10 s left out) and as it
# would be over every window (from the same run's window records); then a leaking service
# (--leak-per-request 64KiB) the same way, which must still fail with the warm-up.
# ROUNDS runs each (default 3); medians and min-max are printed with the load.
# Usage: scripts/bench/soak-warmup.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
cargo build -q -p soak-load -p demo-service
target=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
BIN=$target/debug
export BIN
work=$(mktemp -d)
trap 'stop_demo; rm -rf "$work"' EXIT
# shellcheck source=scripts/lib/demo.sh
source scripts/lib/demo.sh

stats() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "none"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "median %g (min %g, max %g, n %d)\n", m, v[1], v[NR], NR }'
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $(date -u +%FT%TZ)"
for kind in clean leak; do
  : > "$work/$kind.warm"
  : > "$work/$kind.all"
  for round in $(seq "$ROUNDS"); do
    flags=()
    [ "$kind" = leak ] && flags=(--leak-per-request 64KiB)
    start_demo "$work/demo.out" --listen 127.0.0.1:0 --db "$work/d-$kind-$round.db" "${flags[@]}"
    soak_targets "http://127.0.0.1:$DEMO_PORT" > "$work/targets.jsonl"
    "$BIN/soak-load" run --targets "$work/targets.jsonl" --rate 200/s --duration 30s --window 5s \
      --warmup 10s --pid "$DEMO_PID" --quiet > "$work/run.jsonl" || true
    stop_demo
    jq -r 'select(.kind == "summary") | .figures.rss_growth' "$work/run.jsonl" >> "$work/$kind.warm"
    jq -rs '[.[] | select(.kind == "window" and .rss_bytes != null) | .rss_bytes] |
      (.[-1] - .[0]) / .[0]' "$work/run.jsonl" >> "$work/$kind.all"
  done
  echo "$kind demo, rss_growth over all windows:      $(stats < "$work/$kind.all")"
  echo "$kind demo, rss_growth with --warmup 10s:     $(stats < "$work/$kind.warm")"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
