#!/usr/bin/env bash
# Benchmark: backup-drill's full drill against restic and against tar + sha256sum,
# on two trees, several runs each, contenders interleaved within each run:
#
#   synthetic  a generated ~500 MB tree of mixed file sizes (random bytes)
#   real       this machine's /usr/share/doc and Python standard library
#              (many small text files and symlinks nobody here wrote)
#
#   backup-drill  drill --read-data: backup + restore into a fresh place +
#                 verify (re-hash every restored file) + check --read-data +
#                 removal of the temporary restore (its cleanup step)
#   restic        init + backup + check --read-data + restore. restic also
#                 encrypts (AES-256), compresses (repository v2) and derives
#                 an scrypt key on every call (4 calls here): work
#                 backup-drill does not do. Removing its restore is not timed.
#   tar+hash      tar c | tar x, then sha256sum over both trees and compare
#
# Then the second backup of the unchanged tree for backup-drill and restic.
# Caches are warm for every contender (each tree is read once before timing).
# Prints the median and the spread (min-max) of BENCH_RUNS runs (default 5),
# and the machine's load before and after: the build VM is shared, so single
# runs vary by up to 2x.
#
# Usage: scripts/bench/backup-drill.sh [WORKDIR]
#   BENCH_RUNS=5 BENCH_SIZE_MB=500 BENCH_TREES="synthetic real"
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=${1:-${TMPDIR:-/tmp}/backup-drill-bench}
SIZE_MB=${BENCH_SIZE_MB:-500}
RUNS=${BENCH_RUNS:-5}
TREES=${BENCH_TREES:-synthetic real}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

if ! command -v restic >/dev/null; then
  echo "installing restic (apt)..." >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq restic >/dev/null
  else
    sudo apt-get update -qq >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq restic >/dev/null
  fi
fi

cargo build --release -q -p backup-drill
BD=$PWD/target/release/backup-drill

SYN=$WORK/tree
if [[ " $TREES " == *" synthetic "* ]] &&
   { [ ! -f "$WORK/tree.done" ] || [ "$(cat "$WORK/tree.done")" != "$SIZE_MB" ]; }; then
  rm -rf "$SYN"
  echo "generating a ${SIZE_MB} MB tree of mixed sizes in $SYN ..." >&2
  python3 - "$SYN" "$SIZE_MB" <<'EOF'
import os, random, sys
root, total_mb = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
budget = total_mb << 20
# Roughly: 7% in ~4000 small files (1-16 KB), 45% in medium (64 KB-2 MB),
# the rest in a few large files (16-64 MB); plus empty files and dirs.
plan = [(0.07, 1 << 10, 16 << 10), (0.45, 64 << 10, 2 << 20), (0.48, 16 << 20, 64 << 20)]
n = 0
for share, lo, hi in plan:
    left = int(budget * share)
    while left > 0:
        size = min(rng.randint(lo, hi), left)
        d = os.path.join(root, f"d{n % 37:02d}", f"s{n % 5}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{n:05d}.bin"), "wb") as f:
            f.write(rng.randbytes(size))
        left -= size
        n += 1
for i in range(20):
    os.makedirs(os.path.join(root, "empty", f"e{i}"), exist_ok=True)
    open(os.path.join(root, "empty", f"z{i}"), "wb").close()
print(f"{n} files", file=sys.stderr)
EOF
  echo "$SIZE_MB" > "$WORK/tree.done"
fi
# The system Python's standard library (Debian's python3 package), not a
# pyenv or venv one whose site-packages can be ten times larger.
PY_LIB=$(ls -d /usr/lib/python3.[0-9]* 2>/dev/null | sort -V | tail -1 || true)

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# "median  min-max" of the numbers in file $1 (one a line), with $2 decimals.
stats() {
  sort -g "$1" | awk -v d="${2:-2}" '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%8.*f  %.*f-%.*f", d, m, d, v[1], d, v[NR] }'
}
step_ms() { grep "\"step\":\"$1\"" "$2" | head -1 | sed 's/.*"duration_ms":\([0-9.]*\).*/\1/'; }
new_bytes() { grep '"step":"backup"' "$1" | sed 's/.*"new_bytes":\([0-9]*\).*/\1/'; }

# bench NAME SRC...: RUNS interleaved runs of every contender over SRC...
bench() {
  local name=$1; shift
  local srcs=("$@") src
  local M=$WORK/m.$name
  rm -rf "$M"; mkdir -p "$M"
  local files bytes
  files=$(find "${srcs[@]}" -type f | wc -l)
  bytes=$(find "${srcs[@]}" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  find "${srcs[@]}" -type f -print0 | xargs -0 cat > /dev/null  # warm the page cache
  local load_before; load_before=$(load)
  local bd_args=() rel=()
  for src in "${srcs[@]}"; do bd_args+=(--source "$src"); rel+=("${src#/}"); done
  export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$WORK/restic-cache
  for run in $(seq "$RUNS"); do
    echo "  $name: run $run of $RUNS ..." >&2
    # backup-drill: the whole drill, then a second backup of the same tree.
    rm -rf "$WORK/bd-repo" "$WORK/bd-scratch"; mkdir -p "$WORK/bd-scratch"
    local t0 t1 out=$WORK/bd-drill.jsonl
    t0=$(now)
    # Links to absolute paths (the real tree has them: sitecustomize.py ->
    # /etc/python3.x/...) are restored as links, as restic and tar do.
    "$BD" drill --quiet --repo "$WORK/bd-repo" "${bd_args[@]}" --read-data \
      --allow-outside-links --scratch "$WORK/bd-scratch" > "$out"
    t1=$(now)
    grep -q '"verdict":"pass"' "$out" || { echo "drill failed: $(tail -1 "$out")" >&2; exit 1; }
    secs "$t0" "$t1" >> "$M/bd"
    for s in backup restore verify check cleanup; do step_ms "$s" "$out" >> "$M/bd-$s"; done
    new_bytes "$out" > "$M/bd-first-new"
    t0=$(now)
    "$BD" backup --quiet --repo "$WORK/bd-repo" "${bd_args[@]}" > "$WORK/bd-second.jsonl"
    t1=$(now)
    secs "$t0" "$t1" >> "$M/bd2"
    new_bytes "$WORK/bd-second.jsonl" > "$M/bd2-new"

    # restic: init + backup + check --read-data + restore, then a second backup.
    rm -rf "$WORK/restic-repo" "$WORK/restic-restore" "$RESTIC_CACHE_DIR"
    t0=$(now)
    restic -q -r "$WORK/restic-repo" init >/dev/null
    restic -q -r "$WORK/restic-repo" backup "${srcs[@]}" >/dev/null
    restic -q -r "$WORK/restic-repo" check --read-data >/dev/null
    restic -q -r "$WORK/restic-repo" restore latest --target "$WORK/restic-restore" >/dev/null
    t1=$(now)
    secs "$t0" "$t1" >> "$M/restic"
    t0=$(now)
    restic -q -r "$WORK/restic-repo" backup "${srcs[@]}" >/dev/null
    t1=$(now)
    secs "$t0" "$t1" >> "$M/restic2"
    rm -rf "$WORK/restic-restore"

    # tar c | tar x, then sha256sum over both trees.
    rm -rf "$WORK/tar-copy"; mkdir -p "$WORK/tar-copy"
    t0=$(now)
    tar c -C / "${rel[@]}" | tar x -C "$WORK/tar-copy"
    : > "$WORK/sums-a"; : > "$WORK/sums-b"
    for src in "${srcs[@]}"; do
      (cd "$src" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >> "$WORK/sums-a"
      (cd "$WORK/tar-copy/${src#/}" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >> "$WORK/sums-b"
    done
    cmp -s "$WORK/sums-a" "$WORK/sums-b"
    t1=$(now)
    secs "$t0" "$t1" >> "$M/tar"
    rm -rf "$WORK/tar-copy"
    # This run's ratios (the load changes between runs, less within one).
    awk -v a="$(tail -1 "$M/bd")" -v b="$(tail -1 "$M/restic")" \
      'BEGIN { printf "%.3f\n", a / b }' >> "$M/ratio-restic"
    awk -v a="$(tail -1 "$M/bd")" -v b="$(tail -1 "$M/tar")" \
      'BEGIN { printf "%.3f\n", a / b }' >> "$M/ratio-tar"
  done
  echo
  echo "== $name: ${srcs[*]}"
  echo "   $files files, $bytes bytes; $RUNS runs; $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); $(date -u +%F)"
  echo "   load average before: $load_before; after: $(load)"
  printf '   %-46s %8s  %s\n' "" "median" "min-max"
  printf '   %-46s %s s\n' "backup-drill drill --read-data (total)" "$(stats "$M/bd")"
  for s in backup restore verify check cleanup; do
    printf '   %-46s %s ms\n' "  $s" "$(stats "$M/bd-$s" 0)"
  done
  printf '   %-46s %s s\n' "restic init+backup+check --read-data+restore" "$(stats "$M/restic")"
  printf '   %-46s %s s\n' "tar c | tar x + sha256sum both trees" "$(stats "$M/tar")"
  printf '   %-46s %s   (goal < 1; restic also encrypts, compresses\n' \
    "ratio backup-drill / restic, per run" "$(stats "$M/ratio-restic")"
  printf '   %-46s %s    and derives an scrypt key per call)\n' "" ""
  printf '   %-46s %s   (goal <= 1.5)\n' "ratio backup-drill / tar+hash, per run" "$(stats "$M/ratio-tar")"
  printf '   %-46s %s s (%s bytes new; the first stored %s)\n' \
    "second backup, unchanged: backup-drill" "$(stats "$M/bd2")" "$(cat "$M/bd2-new")" "$(cat "$M/bd-first-new")"
  printf '   %-46s %s s\n' "second backup, unchanged: restic" "$(stats "$M/restic2")"
  rm -rf "$WORK/bd-scratch" "$WORK/bd-repo" "$WORK/restic-repo" "$RESTIC_CACHE_DIR"
}

for t in $TREES; do
  case $t in
    synthetic) bench synthetic "$SYN" ;;
    real)
      real=(/usr/share/doc)
      [ -n "$PY_LIB" ] && [ -d "$PY_LIB" ] && real+=("$PY_LIB")
      bench real "${real[@]}"
      ;;
    *) echo "unknown tree $t (synthetic, real)" >&2; exit 2 ;;
  esac
done
