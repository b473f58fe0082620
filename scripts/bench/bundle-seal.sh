#!/usr/bin/env bash
# Benchmark bundle-seal against the standard tools, on the same inputs, in
# the same run:
#   1. one 1 GiB file: `bundle-seal seal` on one thread against
#      `openssl dgst -sha256` — the like-for-like headline: both hash with the
#      CPU's SHA instructions on one core. Also `sha256sum` (coreutils, no
#      SHA instructions), `minisign -S`/`-V` (BLAKE2b prehash), seal on all
#      cores and verify;
#   2. a tree of 10,000 small files: seal/verify (all cores) against
#      `sha256sum` and `openssl dgst -sha256` over the same files (xargs);
#   3. one 1 GiB text-like file, a JSON Lines log, three times: dense (every
#      line holds an app's own "kind":"summary", a "summary" key, an escaped
#      \"summary\" and backslashes, so every line is parsed: the
#      unfavourable case for the summary search), verdict (the same log
#      with "summary" replaced; every line still says "verdict", so every
#      line is looked at for a text summary) and plain (neither word: only
#      the blocks are searched). seal on one thread against
#      `openssl dgst -sha256`, and the verdict case against the plain one.
# With BASELINE=/path/to/an/older/bundle-seal, seal (1 thread) is also run
# with that binary on every input, in the same run: a before/after.
# Every figure is the median of $RUNS runs with a warm page cache, with the
# spread (min–max) beside it; wall time and CPU time (user + sys, which a
# loaded machine inflates less). The machine's load average is printed
# before each section. Ratios > 1 mean bundle-seal is faster.
#
# What the peers do not do: openssl and sha256sum only hash. seal also walks
# the tree, opens each file with O_NOFOLLOW, searches every block for gate
# summary records (memchr), reads the gate files, signs and writes
# MANIFEST.json and SHA256SUMS; verify also checks the signature.
#
# Usage: scripts/bench/bundle-seal.sh [WORKDIR]   (default: a temp dir)
# Env:   RUNS (default 5), BIG_MB (default 1024), SMALL_FILES (default 10000),
#        TEXT_MB (default 1024), BASELINE (an older binary; default none),
#        SECTIONS (default "big tree text": which sections to run)
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-5}
BIG_MB=${BIG_MB:-1024}
SMALL_FILES=${SMALL_FILES:-10000}
TEXT_MB=${TEXT_MB:-1024}
BASELINE=${BASELINE:-}
SECTIONS=${SECTIONS:-big tree text}
want() { [[ " $SECTIONS " == *" $1 "* ]]; }

need_apt=()
command -v minisign >/dev/null || need_apt+=(minisign)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v sha256sum >/dev/null || need_apt+=(coreutils)
[ -x /usr/bin/time ] || need_apt+=(time)
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

# measure NAME CMD...: runs CMD $RUNS times; sets WALL_<NAME> (median) and
# CPU_<NAME> (median user+sys) and prints one line with the spreads.
measure() {
  local name=$1; shift
  local walls=() cpus=() out
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %U %S' -o time.out "$@" >/dev/null 2>&1 \
      || { echo "bench: failed: $*" >&2; exit 1; }
    out=$(tail -1 time.out)
    walls+=("$(awk '{print $1}' <<<"$out")")
    cpus+=("$(awk '{printf "%.2f", $2 + $3}' <<<"$out")")
  done
  local w c
  w=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f %.3f", a[int((NR+1)/2)], a[1], a[NR]}')
  c=$(printf '%s\n' "${cpus[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.2f %.2f %.2f", a[int((NR+1)/2)], a[1], a[NR]}')
  printf -v "WALL_$name" '%s' "${w%% *}"
  printf -v "CPU_$name" '%s' "${c%% *}"
  read -r wm wlo whi <<<"$w"
  read -r cm clo chi <<<"$c"
  printf '%-36s wall %7ss (%s-%s)   cpu %6ss (%s-%s)\n' "$LABEL" "$wm" "$wlo" "$whi" "$cm" "$clo" "$chi"
}
ratio() { awk "BEGIN { if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"n/a\" }"; }
load() { echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"; }

# One passing summary per bundle, so a seal's verdict is pass (exit 0).
GATE='{"kind":"summary","tool":"bench","verdict":"pass","gates":[{"name":"g","op":"<=","limit":0,"value":0,"pass":true}]}'

[ -f k.key ] || "$BIN" keygen -p k.pub -s k.key --unencrypted --force >/dev/null

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== sha extensions: $(grep -o -m1 -w sha_ni /proc/cpuinfo || echo none)"
echo "== $RUNS runs each; median (min-max)"
[ -z "$BASELINE" ] || echo "== baseline: $BASELINE ($("$BASELINE" --version))"
echo "== this build: $("$BIN" --version)"

# --- 1. one big file -------------------------------------------------------
if want big; then
mkdir -p big
if [ ! -f big/blob.bin ] || [ "$(stat -c %s big/blob.bin)" != $((BIG_MB * 1024 * 1024)) ]; then
  head -c "$((BIG_MB * 1024 * 1024))" /dev/urandom > big/blob.bin
fi
echo "$GATE" > big/gates.jsonl
cat big/blob.bin > /dev/null # warm the cache

echo
echo "== one ${BIG_MB} MiB file, warm cache"
load
LABEL="openssl dgst -sha256" measure openssl openssl dgst -sha256 big/blob.bin
LABEL="bundle-seal seal (1 thread)" measure seal1 env RAYON_NUM_THREADS=1 "$BIN" seal big --key k.key --quiet
[ -z "$BASELINE" ] || LABEL="baseline seal (1 thread)" measure base1 env RAYON_NUM_THREADS=1 "$BASELINE" seal big --key k.key --quiet
LABEL="sha256sum" measure sha256sum sha256sum big/blob.bin
LABEL="bundle-seal seal ($(nproc) cores)" measure seal "$BIN" seal big --key k.key --quiet
LABEL="bundle-seal verify" measure verify "$BIN" verify big --pub k.pub --quiet
LABEL="minisign -S (BLAKE2b prehash)" measure mssign minisign -S -s k.key -m big/blob.bin -x blob.minisig
LABEL="minisign -V" measure msverify minisign -V -p k.pub -m big/blob.bin -x blob.minisig
load
echo "HEADLINE seal (1 thread) vs openssl dgst -sha256: wall $(ratio "$WALL_openssl" "$WALL_seal1")x, cpu $(ratio "$CPU_openssl" "$CPU_seal1")x  (goal >= 0.9x)"
echo "ratio seal vs openssl (wall):        $(ratio "$WALL_openssl" "$WALL_seal")x"
echo "ratio verify vs openssl (wall):      $(ratio "$WALL_openssl" "$WALL_verify")x"
echo "ratio seal vs sha256sum (wall):      $(ratio "$WALL_sha256sum" "$WALL_seal")x  (sha256sum has no SHA instructions)"
echo "ratio seal vs minisign -S (wall):    $(ratio "$WALL_mssign" "$WALL_seal")x"
echo "ratio verify vs minisign -V (wall):  $(ratio "$WALL_msverify" "$WALL_verify")x"
[ -z "$BASELINE" ] || echo "this build vs baseline, seal (1 thread): wall $(ratio "$WALL_base1" "$WALL_seal1")x, cpu $(ratio "$CPU_base1" "$CPU_seal1")x"
fi

# --- 2. many small files ---------------------------------------------------
if want tree; then
if [ ! -f tree/.complete ] || [ "$(cat tree/.complete)" != "$SMALL_FILES" ]; then
  rm -rf tree && mkdir -p tree
  # Sizes 1..16 KiB in 100 directories, deterministic content.
  i=0
  while [ "$i" -lt "$SMALL_FILES" ]; do
    d=tree/d$(printf '%03d' $((i % 100)))
    mkdir -p "$d"
    head -c $((1024 + (i * 7919) % 15361)) /dev/urandom > "$d/f$(printf '%05d' "$i").dat"
    i=$((i + 1))
  done
  echo "$SMALL_FILES" > tree/.complete
fi
echo "$GATE" > tree/gates.jsonl
(cd tree && find . -type f -name '*.dat' | sort > ../tree.list)
total_mb=$(du -sm tree | cut -f1)

echo
echo "== $SMALL_FILES small files, ${total_mb} MB, warm cache"
load
LABEL="sha256sum (xargs)" measure sums_tree sh -c 'cd tree && xargs -d "\n" sha256sum < ../tree.list'
LABEL="openssl dgst -sha256 (xargs)" measure openssl_tree sh -c 'cd tree && xargs -d "\n" openssl dgst -sha256 < ../tree.list'
LABEL="bundle-seal seal (1 thread)" measure seal_tree_1 env RAYON_NUM_THREADS=1 "$BIN" seal tree --key k.key --quiet
[ -z "$BASELINE" ] || LABEL="baseline seal (1 thread)" measure base_tree_1 env RAYON_NUM_THREADS=1 "$BASELINE" seal tree --key k.key --quiet
LABEL="bundle-seal seal ($(nproc) cores)" measure seal_tree "$BIN" seal tree --key k.key --quiet
LABEL="bundle-seal verify" measure verify_tree "$BIN" verify tree --pub k.pub --quiet
load
echo "ratio seal (1 thread) vs openssl (wall): $(ratio "$WALL_openssl_tree" "$WALL_seal_tree_1")x, cpu $(ratio "$CPU_openssl_tree" "$CPU_seal_tree_1")x"
echo "ratio seal vs sha256sum (wall):          $(ratio "$WALL_sums_tree" "$WALL_seal_tree")x  (goal > 1x)"
echo "ratio seal vs openssl (wall):            $(ratio "$WALL_openssl_tree" "$WALL_seal_tree")x"
echo "ratio verify vs sha256sum (wall):        $(ratio "$WALL_sums_tree" "$WALL_verify_tree")x"
[ -z "$BASELINE" ] || echo "this build vs baseline, seal (1 thread): wall $(ratio "$WALL_base_tree_1" "$WALL_seal_tree_1")x, cpu $(ratio "$CPU_base_tree_1" "$CPU_seal_tree_1")x"
fi

# --- 3. a big text-like file: the summary search's cost follows content ----
# One MiB of a deterministic JSON Lines log (about 200 bytes a line),
# repeated. Dense: every line is parsed. Verdict: "summary" replaced by
# "overview", so no line is parsed, but each says verdict and is looked at
# for a text summary. Plain: "verdict" replaced by "outcome" too.
if want text; then
make_log() { # make_log WORD VERDICT: 1 MiB of log lines naming WORD and VERDICT
  awk -v w="$1" -v v="$2" 'BEGIN {
    srand(1); n = 0; i = 0
    while (n < 1048576) {
      l = sprintf("{\"ts\":\"2026-11-23T10:%02d:%02d.%03dZ\",\"level\":\"info\",\"kind\":\"%s\",\"%s\":\"%d requests, %d errors\",\"msg\":\"path C:\\\\build\\\\out\\\\%d \\\"%s\\\": done, %s pending \\u00e9\",\"user\":\"u%d\"}",
        int(i / 60) % 60, i % 60, i % 1000, w, w, int(rand() * 9999), int(rand() * 99), i, w, v, int(rand() * 500))
      print l; n += length(l) + 1; i++
    }
  }'
}
CASES="dense verdict plain"
for case in $CASES; do
  word=summary verdict=verdict
  [ "$case" = dense ] || word=overview
  [ "$case" != plain ] || verdict=outcome
  f=text-$case/log.jsonl.1
  if [ ! -f "$f" ] || [ "$(stat -c %s "$f")" -lt $((TEXT_MB * 1024 * 1024)) ]; then
    mkdir -p "text-$case"
    make_log "$word" "$verdict" > one.mb
    for _ in $(seq "$TEXT_MB"); do cat one.mb; done > "$f"
    rm -f one.mb
  fi
  echo "$GATE" > "text-$case/gates.jsonl"
done
echo
echo "== one ${TEXT_MB} MiB JSON Lines log, warm cache; a dense line:"
head -1 text-dense/log.jsonl.1
for case in $CASES; do
  f=text-$case/log.jsonl.1
  cat "$f" > /dev/null
  echo "-- $case: of $(wc -l < "$f") lines, $(grep -c summary "$f") mention summary, $(grep -c verdict "$f") verdict"
  load
  LABEL="openssl dgst -sha256 ($case)" measure "openssl_$case" openssl dgst -sha256 "$f"
  LABEL="bundle-seal seal (1 thread, $case)" measure "seal_$case" env RAYON_NUM_THREADS=1 "$BIN" seal "text-$case" --key k.key --quiet
  [ -z "$BASELINE" ] || LABEL="baseline seal (1 thread, $case)" measure "base_$case" env RAYON_NUM_THREADS=1 "$BASELINE" seal "text-$case" --key k.key --quiet
done
load
for case in $CASES; do
  ow=WALL_openssl_$case oc=CPU_openssl_$case sw=WALL_seal_$case sc=CPU_seal_$case
  echo "ratio seal (1 thread) vs openssl, $case: wall $(ratio "${!ow}" "${!sw}")x, cpu $(ratio "${!oc}" "${!sc}")x"
  if [ -n "$BASELINE" ]; then
    bw=WALL_base_$case bc=CPU_base_$case
    echo "this build vs baseline, $case: wall $(ratio "${!bw}" "${!sw}")x, cpu $(ratio "${!bc}" "${!sc}")x"
  fi
done
echo "verdict case vs plain case, seal (1 thread): wall $(ratio "$WALL_seal_plain" "$WALL_seal_verdict")x, cpu $(ratio "$CPU_seal_plain" "$CPU_seal_verdict")x  (goal: near 1x)"
[ -z "$BASELINE" ] || echo "baseline, verdict vs plain: wall $(ratio "$WALL_base_plain" "$WALL_base_verdict")x, cpu $(ratio "$CPU_base_plain" "$CPU_base_verdict")x"
fi

echo
echo "== what the peers do not do: openssl and sha256sum only hash. seal also walks the tree,"
echo "   opens each file with O_NOFOLLOW, searches every block for gate summaries (JSON, text,"
echo "   YAML, jq digests) and looks at the lines they fall in, decodes gzip/UTF-16/tar, reads the"
echo "   gate files, signs and writes MANIFEST.json and SHA256SUMS (fsync); verify checks the"
echo "   signature too. minisign -S/-V hash one file (BLAKE2b) and sign/verify it."
