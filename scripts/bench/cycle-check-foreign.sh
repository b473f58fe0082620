#!/usr/bin/env bash
# cycle-check's check for leftovers outside the service's tree, on real
# programs nobody here wrote: prints what the README's "Leftovers outside
# the tree" quotes. Not a timing benchmark: a count of true and false
# findings on a shared machine.
#
#   handoff  RUNS runs of the issue's command: a tmux server runs before the
#            start; the service hands it `exec python3 -m http.server 0`
#            and execs redis-server. Expected: every cycle fails with cause
#            foreign_leftover and nothing else (before this check: PASS, 0
#            orphans); prints how many processes were counted (pyenv's shim
#            may be caught mid-way, a subshell forked with the same argv).
#   clean    one run of CLEAN_CYCLES cycles of redis-server alone while the
#            machine does whatever it does (other people's builds, tests and
#            servers): prints the foreign leftovers listed (new listeners of
#            other processes) and how many were counted. Expected: 0 counted.
#
# Usage: scripts/bench/cycle-check-foreign.sh
#   RUNS=10 CLEAN_CYCLES=50 PORT=16390
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-10}
CLEAN_CYCLES=${CLEAN_CYCLES:-50}
PORT=${PORT:-16390}
for tool in tmux python3 redis-server jq; do
  command -v "$tool" >/dev/null || { echo "error: needs $tool" >&2; exit 2; }
done
cargo build -q --release -p cycle-check
BIN=$PWD/target/release/cycle-check
sock=$(mktemp -u "${TMPDIR:-/tmp}/cycle-check-foreign.XXXXXX")
cleanup() { tmux -S "$sock" kill-server 2>/dev/null || true; }
trap cleanup EXIT

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  host: $(uname -srm)  nproc: $(nproc)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tmux $(tmux -V | cut -d' ' -f2), $(python3 --version), $(redis-server --version | cut -d' ' -f3)"

tmux -S "$sock" new-session -d 'sleep 3600'
caught=0 listening=0 counted=0
for _ in $(seq "$RUNS"); do
  out=$("$BIN" --cycles 1 --ready "tcp://127.0.0.1:$PORT" -- sh -c \
    "tmux -S $sock new-window -d \"exec python3 -m http.server 0 --bind 127.0.0.1\"; exec redis-server --port $PORT --save '' --appendonly no" \
    2>/dev/null || true)
  line=$(jq -c 'select(.kind=="cycle") | [.causes, ([.foreign_leftovers[] | select(.counted)] | length), ([.foreign_leftovers[] | select(.counted and (.listening | length) > 0)] | length)]' <<<"$out")
  [ "$(jq -c '.[0]' <<<"$line")" = '["foreign_leftover"]' ] && caught=$((caught + 1))
  counted=$((counted + $(jq -r '.[1]' <<<"$line")))
  listening=$((listening + $(jq -r '.[2]' <<<"$line")))
done
cleanup
echo "handoff: $caught of $RUNS cycles failed with cause foreign_leftover only; $counted processes counted, $listening of them already listening when judged"

out=$("$BIN" --cycles "$CLEAN_CYCLES" --ready "tcp://127.0.0.1:$PORT" -- redis-server --port "$PORT" --save '' --appendonly no 2>/dev/null || true)
jq -r --argjson n "$CLEAN_CYCLES" 'select(.kind=="cycle") | .foreign_leftovers[] | [.counted, .cmdline // "unknown"] | @tsv' <<<"$out" |
  awk -F'\t' -v n="$CLEAN_CYCLES" '{ listed++; if ($1 == "true") counted++; cmds[$2]++ }
    END { printf "clean: %d cycles of redis-server alone: %d foreign leftovers listed (other processes'"'"' new listeners), %d counted\n", n, listed, counted + 0
          for (c in cmds) printf "  listed %3d x  %s\n", cmds[c], substr(c, 1, 100) }'
jq -r 'select(.kind=="summary") | "clean: verdict \(.verdict), failed_cycles \(.figures.failed_cycles), foreign_leftovers \(.figures.foreign_leftovers)"' <<<"$out"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
