#!/usr/bin/env bash
# Benchmark bundle-seal against the standard tools, on the same inputs, in
# the same run:
#   1. one 1 GB file: `bundle-seal seal`/`verify` vs `openssl dgst -sha256`,
#      `sha256sum`, and `minisign -S`/`-V` (minisign hashes with BLAKE2b);
#   2. a tree of 10,000 small files: `bundle-seal seal`/`verify` (all cores)
#      vs `sha256sum` over the same files (one process).
# Each figure is the best of $RUNS runs with a warm page cache. Ratios > 1
# mean bundle-seal is faster.
#
# Usage: scripts/bench/bundle-seal.sh [WORKDIR]   (default: a temp dir)
# Env:   RUNS (default 3), BIG_MB (default 1024), SMALL_FILES (default 10000)
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-3}
BIG_MB=${BIG_MB:-1024}
SMALL_FILES=${SMALL_FILES:-10000}

need_apt=()
command -v minisign >/dev/null || need_apt+=(minisign)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v sha256sum >/dev/null || need_apt+=(coreutils)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "bench: please install: ${need_apt[*]}" >&2
    exit 2
  fi
fi

cargo build --release -q -p bundle-seal
BIN=$PWD/target/release/bundle-seal

if [ $# -ge 1 ]; then
  WORK=$1 # kept, so inputs are reused between runs
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d /tmp/bundle-seal-bench.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
fi
cd "$WORK"

# Best wall time (seconds) of $RUNS runs of a command.
best() {
  local best_t="" t0 t1 t
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
    t1=$(date +%s.%N)
    t=$(awk "BEGIN { print $t1 - $t0 }")
    if [ -z "$best_t" ] || awk "BEGIN { exit !($t < $best_t) }"; then best_t=$t; fi
  done
  printf '%.3f' "$best_t"
}
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
mbps() { awk "BEGIN { printf \"%.0f\", $BIG_MB / $1 }"; }

# One passing summary per bundle, so a seal's verdict is pass (exit 0).
GATE='{"kind":"summary","tool":"bench","verdict":"pass","gates":[{"name":"g","op":"<=","limit":0,"value":0,"pass":true}]}'

[ -f k.key ] || "$BIN" keygen -p k.pub -s k.key --unencrypted --force >/dev/null

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== sha extensions: $(grep -o -m1 -w sha_ni /proc/cpuinfo || echo none)"

# --- 1. one big file -------------------------------------------------------
mkdir -p big
if [ ! -f big/blob.bin ] || [ "$(stat -c %s big/blob.bin)" != $((BIG_MB * 1024 * 1024)) ]; then
  head -c "$((BIG_MB * 1024 * 1024))" /dev/urandom > big/blob.bin
fi
echo "$GATE" > big/gates.jsonl
cat big/blob.bin > /dev/null # warm the cache

t_openssl=$(best openssl dgst -sha256 big/blob.bin)
t_sha256sum=$(best sha256sum big/blob.bin)
t_seal=$(best "$BIN" seal big --key k.key --quiet)
t_verify=$(best "$BIN" verify big --pub k.pub)
t_ms_sign=$(best minisign -S -s k.key -m big/blob.bin -x blob.minisig)
t_ms_verify=$(best minisign -V -p k.pub -m big/blob.bin -x blob.minisig)
# bundle-seal seal with one worker thread: the single-core comparison.
t_seal_1=$(best env RAYON_NUM_THREADS=1 "$BIN" seal big --key k.key --quiet)

echo
echo "== one ${BIG_MB} MB file (best of $RUNS, warm cache)"
printf '%-34s %8ss  %6s MB/s\n' "openssl dgst -sha256" "$t_openssl" "$(mbps "$t_openssl")"
printf '%-34s %8ss  %6s MB/s\n' "sha256sum" "$t_sha256sum" "$(mbps "$t_sha256sum")"
printf '%-34s %8ss  %6s MB/s\n' "bundle-seal seal (1 thread)" "$t_seal_1" "$(mbps "$t_seal_1")"
printf '%-34s %8ss  %6s MB/s\n' "bundle-seal seal" "$t_seal" "$(mbps "$t_seal")"
printf '%-34s %8ss  %6s MB/s\n' "bundle-seal verify" "$t_verify" "$(mbps "$t_verify")"
printf '%-34s %8ss  %6s MB/s\n' "minisign -S (BLAKE2b prehash)" "$t_ms_sign" "$(mbps "$t_ms_sign")"
printf '%-34s %8ss  %6s MB/s\n' "minisign -V" "$t_ms_verify" "$(mbps "$t_ms_verify")"
echo "ratio seal(1 thread) vs openssl:   $(ratio "$t_openssl" "$t_seal_1")x  (goal >= 0.9x)"
echo "ratio seal vs openssl:             $(ratio "$t_openssl" "$t_seal")x"
echo "ratio verify vs openssl:           $(ratio "$t_openssl" "$t_verify")x"
echo "ratio seal vs sha256sum:           $(ratio "$t_sha256sum" "$t_seal")x"
echo "ratio seal vs minisign -S:         $(ratio "$t_ms_sign" "$t_seal")x"
echo "ratio verify vs minisign -V:       $(ratio "$t_ms_verify" "$t_verify")x"

# --- 2. many small files ---------------------------------------------------
if [ ! -f tree/.complete ] || [ "$(cat tree/.complete)" != "$SMALL_FILES" ]; then
  rm -rf tree && mkdir -p tree
  # Sizes 1..16 KiB in 100 directories, deterministic content.
  python3 - "$SMALL_FILES" <<'PY'
import os, random, sys
n = int(sys.argv[1]); rnd = random.Random(42)
for i in range(n):
    d = f"tree/d{i % 100:03d}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{i:05d}.dat", "wb") as f:
        f.write(rnd.randbytes(rnd.randint(1024, 16384)))
PY
  echo "$SMALL_FILES" > tree/.complete
fi
echo "$GATE" > tree/gates.jsonl
(cd tree && find . -type f -name '*.dat' | sort > ../tree.list)
total_mb=$(du -sm tree | cut -f1)

t_sums_tree=$(best sh -c 'cd tree && xargs -d "\n" sha256sum < ../tree.list')
t_openssl_tree=$(best sh -c 'cd tree && xargs -d "\n" openssl dgst -sha256 < ../tree.list')
t_seal_tree=$(best "$BIN" seal tree --key k.key --quiet)
t_verify_tree=$(best "$BIN" verify tree --pub k.pub)
t_seal_tree_1=$(best env RAYON_NUM_THREADS=1 "$BIN" seal tree --key k.key --quiet)

echo
echo "== $SMALL_FILES small files, ${total_mb} MB (best of $RUNS, warm cache)"
printf '%-34s %8ss\n' "sha256sum (xargs)" "$t_sums_tree"
printf '%-34s %8ss\n' "openssl dgst -sha256 (xargs)" "$t_openssl_tree"
printf '%-34s %8ss\n' "bundle-seal seal (1 thread)" "$t_seal_tree_1"
printf '%-34s %8ss\n' "bundle-seal seal ($(nproc) cores)" "$t_seal_tree"
printf '%-34s %8ss\n' "bundle-seal verify" "$t_verify_tree"
echo "ratio seal vs sha256sum:           $(ratio "$t_sums_tree" "$t_seal_tree")x  (goal > 1x)"
echo "ratio verify vs sha256sum:         $(ratio "$t_sums_tree" "$t_verify_tree")x"
echo "ratio seal vs openssl:             $(ratio "$t_openssl_tree" "$t_seal_tree")x"
