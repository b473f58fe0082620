#!/usr/bin/env bash
# Benchmark: replay-diff vs the usual way (jq -S -c 'del(.ts)' on both files, then diff)
# on a generated 1,000,000-line pair (~300 bytes a line, a volatile `ts` on every line,
# 0.1% real divergences). Same input, same run, RUNS times each; prints the median and
# the spread (min-max) of wall time, CPU time and peak RSS, the machine's load, the
# ratio of medians, and checks every contender found exactly the planted divergences.
#
# Also: keyed mode (--key /event_id) on the same pair, and the peak RSS of positional
# and keyed mode on a pair BIG_LINES long (default 3,500,000 lines, 2 x 1 GB) streamed
# through FIFOs from the generator (nothing written to disk), next to the same on a
# LINES-long stream: memory that does not grow with the input shows as equal figures.
#
# Usage: scripts/bench/replay-diff.sh [LINES] [RUNS]   (defaults 1000000, 3)
# Env:   BENCH_DIR     keep the generated files there (default: a temp dir, removed)
#        BIG_LINES     length of the streamed pair for the memory figures (0: skip)
#        BASELINE_BIN  another replay-diff binary (an older build) to measure alongside
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${1:-1000000}
runs=${2:-3}
big_lines=${BIG_LINES:-3500000}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$work"' EXIT

need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need bc bc
need jq jq
need python3 python3
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

cargo build --release -q -p replay-diff
bin=target/release/replay-diff
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load before: $(load)"
echo "generating $lines-line pair in $work ..."
planted=$(python3 scripts/gen-replay-pair.py --lines "$lines" "$work/g.jsonl" "$work/r.jsonl")
ls -l "$work/g.jsonl" "$work/r.jsonl" | awk '{print "  " $5 " bytes  " $9}'
echo "  planted divergences: $planted"

# Warm the page cache so every contender reads from memory.
cat "$work/g.jsonl" "$work/r.jsonl" >/dev/null

# t NAME CMD...: runs CMD under /usr/bin/time, appends "wall cpu rss_kb" to $work/NAME.
t() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" || [ $? -eq 1 ]
  read -r wall user sys kb < <(tail -1 "$work/time")
  echo "$wall $(echo "$user + $sys" | bc -l) $kb" >> "$work/$name"
}
# stats NAME COLUMN: "median (min-max)" of a column (1 wall, 2 cpu, 3 rss in MB).
stats() {
  awk -v c="$2" '{v = $c; if (c == 3) v = v / 1024; print v}' "$work/$1" | sort -g |
    awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2;
         printf "%.2f (%.2f-%.2f)", m, a[1], a[NR]}'
}
median() { stats "$1" "$2" | cut -d' ' -f1; }

rm -f "$work"/{rd,rdk,jq,old,oldk}
for run in $(seq "$runs"); do
  echo "run $run of $runs (load $(load)) ..."
  t rd "$bin" "$work/g.jsonl" "$work/r.jsonl" --ignore /ts > "$work/rd.out"
  t rdk "$bin" "$work/g.jsonl" "$work/r.jsonl" --ignore /ts --key /event_id > "$work/rdk.out"
  if [ -n "${BASELINE_BIN:-}" ]; then
    t old "$BASELINE_BIN" "$work/g.jsonl" "$work/r.jsonl" --ignore /ts > "$work/old.out"
    t oldk "$BASELINE_BIN" "$work/g.jsonl" "$work/r.jsonl" --ignore /ts --key /event_id > "$work/oldk.out"
  fi
  # The peer: normalize both files (sorted keys, ts deleted), then a line diff.
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S %M" -o "$work/t1" jq -S -c 'del(.ts)' "$work/g.jsonl" > "$work/g.norm"
  /usr/bin/time -f "%U %S %M" -o "$work/t2" jq -S -c 'del(.ts)' "$work/r.jsonl" > "$work/r.norm"
  /usr/bin/time -f "%U %S %M" -o "$work/t3" diff "$work/g.norm" "$work/r.norm" > "$work/diff.out" || true
  end=$(date +%s.%N)
  cat "$work/t1" "$work/t2" "$work/t3" | grep -v '^Command' |
    awk -v w="$(echo "$end - $start" | bc -l)" '{cpu += $1 + $2; if ($3 > kb) kb = $3} END {print w, cpu, kb}' >> "$work/jq"
done
rd_found=$(tail -1 "$work/rd.out" | jq '.figures.divergent')
rdk_found=$(tail -1 "$work/rdk.out" | jq '.figures.divergent')
jq_found=$(grep -c '^<' "$work/diff.out" || true)

printf '\n%-36s %22s %22s %22s %10s\n' "contender ($runs runs: median (min-max))" "wall s" "CPU s (user+sys)" "peak RSS MB" "divergent"
row() { printf '%-36s %22s %22s %22s %10s\n' "$1" "$(stats "$2" 1)" "$(stats "$2" 2)" "$(stats "$2" 3)" "$3"; }
row "replay-diff --ignore /ts" rd "$rd_found"
row "replay-diff --ignore /ts --key" rdk "$rdk_found"
if [ -n "${BASELINE_BIN:-}" ]; then
  row "baseline --ignore /ts" old "$(tail -1 "$work/old.out" | jq '.figures.divergent')"
  row "baseline --ignore /ts --key" oldk "$(tail -1 "$work/oldk.out" | jq '.figures.divergent')"
fi
row "jq -S -c 'del(.ts)' x2 + diff" jq "$jq_found"
printf '\nratio of medians: replay-diff is %.1fx faster than jq+diff (wall), %.1fx (CPU)\n' \
  "$(echo "$(median jq 1) / $(median rd 1)" | bc -l)" "$(echo "$(median jq 2) / $(median rd 2)" | bc -l)"
printf 'keyed / positional (medians): %.2fx wall, %.2fx CPU\n' \
  "$(echo "$(median rdk 1) / $(median rd 1)" | bc -l)" "$(echo "$(median rdk 2) / $(median rd 2)" | bc -l)"
echo "load after: $(load)"
echo "what the peer does that we do not: diff realigns after insertions at any distance (LCS;"
echo "  replay-diff within 1,024 records), and jq re-serializes every record with sorted keys."
echo "what we do that the peer does not: per-path divergences, --key alignment, masks, float"
echo "  tolerance, sha256 of both inputs for the summary, and every line validated."
status=0
if [ "$rd_found" != "$planted" ] || [ "$rdk_found" != "$planted" ] || [ "$jq_found" != "$planted" ]; then
  echo "MISMATCH: planted $planted, replay-diff $rd_found, keyed $rdk_found, jq+diff $jq_found" >&2
  status=1
else
  echo "every contender found exactly the $planted planted divergences"
fi

# Memory against input size: the same generator streamed through FIFOs at two lengths.
stream_rss() { # LINES ARGS... -> peak RSS MB of replay-diff alone, and its divergent count
  local n=$1; shift
  rm -f "$work/gf" "$work/rf"
  mkfifo "$work/gf" "$work/rf"
  python3 scripts/gen-replay-pair.py --lines "$n" "$work/gf" "$work/rf" > "$work/gen.out" &
  /usr/bin/time -f "%M" -o "$work/time" "$bin" "$work/gf" "$work/rf" --ignore /ts "$@" > "$work/s.out" || true
  wait
  printf '%.1f MB (%s divergent of %s planted)' "$(echo "$(tail -1 "$work/time") / 1024" | bc -l)" \
    "$(tail -1 "$work/s.out" | jq '.figures.divergent')" "$(cat "$work/gen.out")"
}
if [ "$big_lines" -gt 0 ]; then
  echo
  echo "peak RSS on streamed pairs (generator -> FIFOs -> replay-diff; nothing on disk):"
  for n in "$lines" "$big_lines"; do
    printf '  %9s lines (%5.0f MB a side): positional %s\n' "$n" "$(echo "$n * 295 / 1000000" | bc -l)" "$(stream_rss "$n")"
    printf '  %9s lines (%5.0f MB a side): --key      %s\n' "$n" "$(echo "$n * 295 / 1000000" | bc -l)" "$(stream_rss "$n" --key /event_id)"
  done
fi
exit $status
