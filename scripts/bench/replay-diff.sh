#!/usr/bin/env bash
# Benchmark: replay-diff vs the usual way (jq -S -c 'del(.ts)' on both files, then diff)
# on a generated 1,000,000-line pair (~300 bytes a line, a volatile `ts` on every line,
# 0.1% real divergences). Same input, same run; prints wall times, peak memory, the
# ratio, and checks both found the same number of divergent records.
#
# Usage: scripts/bench/replay-diff.sh [LINES]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${1:-1000000}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$work"' EXIT

need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need bc bc
need jq jq
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

cargo build --release -q -p replay-diff
bin=target/release/replay-diff

echo "generating $lines-line pair in $work ..."
planted=$(python3 scripts/gen-replay-pair.py --lines "$lines" "$work/g.jsonl" "$work/r.jsonl")
ls -l "$work/g.jsonl" "$work/r.jsonl" | awk '{print "  " $5 " bytes  " $9}'
echo "  planted divergences: $planted"

# Warm the page cache so both contenders read from memory.
cat "$work/g.jsonl" "$work/r.jsonl" >/dev/null

t() { /usr/bin/time -f "%e %M" -o "$work/time" "$@"; }

set +e
t "$bin" "$work/g.jsonl" "$work/r.jsonl" --ignore /ts > "$work/rd.out"
set -e
read -r rd_s rd_kb < <(tail -1 "$work/time")
rd_found=$(tail -1 "$work/rd.out" | jq '.figures.divergent')

t jq -S -c 'del(.ts)' "$work/g.jsonl" > "$work/g.norm"; read -r jg_s jg_kb < <(tail -1 "$work/time")
t jq -S -c 'del(.ts)' "$work/r.jsonl" > "$work/r.norm"; read -r jr_s jr_kb < <(tail -1 "$work/time")
set +e
t diff "$work/g.norm" "$work/r.norm" > "$work/diff.out"; read -r d_s d_kb < <(tail -1 "$work/time")
set -e
jq_found=$(grep -c '^<' "$work/diff.out" || true)
jq_s=$(echo "$jg_s + $jr_s + $d_s" | bc -l)
jq_kb=$(printf '%s\n' "$jg_kb" "$jr_kb" "$d_kb" | sort -n | tail -1)

printf '\n%-28s %10s %14s %12s\n' "contender" "wall s" "peak RSS MB" "divergent"
printf '%-28s %10.2f %14.1f %12s\n' "replay-diff --ignore /ts" "$rd_s" "$(echo "$rd_kb/1024" | bc -l)" "$rd_found"
printf '%-28s %10.2f %14.1f %12s\n' "jq -S -c 'del(.ts)' + diff" "$jq_s" "$(echo "$jq_kb/1024" | bc -l)" "$jq_found"
printf '\nratio: replay-diff is %.1fx faster than jq+diff\n' "$(echo "$jq_s / $rd_s" | bc -l)"
if [ "$rd_found" != "$planted" ] || [ "$jq_found" != "$planted" ]; then
  echo "MISMATCH: planted $planted, replay-diff $rd_found, jq+diff $jq_found" >&2
  exit 1
fi
echo "both found exactly the $planted planted divergences"
