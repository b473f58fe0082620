#!/usr/bin/env bash
# Peak memory and time of `bundle-seal timeline --skip-invalid` on two large
# JSON Lines files (issue 14 item 12: 2 x 1 GB reached 15.7 GB RSS before
# events were sorted within a bounded buffer), against GNU sort, the
# standard external merge sort, ordering the same lines by their time stamp.
#
# What the peer does not do: sort compares a numeric field of the text; it
# does not parse JSON, understand RFC 3339 times or offsets, report bad
# lines, or write an event record per line with its file and line.
#
# Each figure: median (min-max) of $RUNS runs, and the largest peak RSS
# (/usr/bin/time %M) of any run; the load average before and after.
#
# Usage: scripts/bench/bundle-seal-timeline.sh [WORKDIR]   (default: a temp dir)
# Env:   RUNS (default 3), MB (default 1024: size of each of the two files),
#        BUFFER (default 64M: --buffer-size and sort -S)
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-3}
MB=${MB:-1024}
BUFFER=${BUFFER:-64M}
[ -x /usr/bin/time ] || { echo "bench: please install time (/usr/bin/time)" >&2; exit 2; }

cargo build --release -q -p bundle-seal
BIN=$PWD/target/release/bundle-seal

if [ $# -ge 1 ]; then
  WORK=$1
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d /tmp/bundle-seal-timeline-bench.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
fi
cd "$WORK"
export TMPDIR=$WORK/tmp # the spilled runs
mkdir -p "$TMPDIR" inc

# Two files of shuffled epoch-millisecond times within one day (about
# 190 bytes a line), each ending with one malformed line.
lines=$((MB * 1024 * 1024 / 190))
for f in app proxy; do
  if [ ! -f "inc/$f.jsonl" ] || [ "$(cat "inc/$f.lines" 2>/dev/null)" != "$lines" ]; then
    awk -v n="$lines" -v seed="${#f}" 'BEGIN {
      srand(seed); pad = sprintf("%120s", ""); gsub(/ /, "p", pad)
      for (i = 0; i < n; i++)
        printf "{\"ts\":%.0f,\"level\":\"info\",\"msg\":\"request %d served\",\"pad\":\"%s\"}\n",
          1700000000000 + int(rand() * 86400000), i, pad
      print "{\"ts\":"
    }' > "inc/$f.jsonl"
    echo "$lines" > "inc/$f.lines"
  fi
done
total_mb=$(du -cm inc/*.jsonl | tail -1 | cut -f1)

measure() { # LABEL CMD...: prints median wall, cpu and the largest max RSS
  local label=$1; shift
  local walls=() cpus=() rss=0 out
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %U %S %M' -o time.out "$@" > /dev/null 2> err.out || true
    out=$(tail -1 time.out)
    walls+=("$(awk '{print $1}' <<<"$out")")
    cpus+=("$(awk '{printf "%.2f", $2 + $3}' <<<"$out")")
    rss=$(awk -v a="$rss" '{print ($4 > a ? $4 : a)}' <<<"$out")
  done
  local w c
  w=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.1f s (%.1f-%.1f)", a[int((NR+1)/2)], a[1], a[NR]}')
  c=$(printf '%s\n' "${cpus[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.1f s", a[int((NR+1)/2)]}')
  printf '%-44s wall %-22s cpu %-8s peak RSS %6.0f MiB\n' "$label" "$w" "$c" "$((rss / 1024))"
}

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== input: 2 files, ${total_mb} MB, $((2 * lines)) lines; $RUNS runs each"
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
measure "bundle-seal timeline --skip-invalid" "$BIN" timeline inc --skip-invalid --buffer-size "$BUFFER"
measure "bundle-seal timeline --skip-invalid (1M)" "$BIN" timeline inc --skip-invalid --buffer-size 1M
measure "sort -S $BUFFER -t: -k2,2n (GNU sort)" sort -S "$BUFFER" -s -t: -k2,2n inc/app.jsonl inc/proxy.jsonl
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
