#!/usr/bin/env bash
# Benchmark: backup-drill's full drill against restic and against tar + sha256sum,
# on the same ~500 MB tree of mixed file sizes, in the same run.
#
#   backup-drill  drill --read-data: backup + restore into a fresh place +
#                 verify (re-hash every restored file) + check --read-data
#   restic        init + backup + check --read-data + restore
#   tar+hash      tar c | tar x, then sha256sum over both trees and compare
#
# Then the second backup of the unchanged tree (time and bytes newly stored)
# for backup-drill and restic. Caches are warm for every contender (the tree
# is read once before timing). Usage: scripts/bench/backup-drill.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=${1:-${TMPDIR:-/tmp}/backup-drill-bench}
SIZE_MB=${BENCH_SIZE_MB:-500}
mkdir -p "$WORK"

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

TREE=$WORK/tree
if [ ! -f "$WORK/tree.done" ] || [ "$(cat "$WORK/tree.done")" != "$SIZE_MB" ]; then
  rm -rf "$TREE"
  echo "generating a ${SIZE_MB} MB tree of mixed sizes in $TREE ..." >&2
  python3 - "$TREE" "$SIZE_MB" <<'EOF'
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
FILES=$(find "$TREE" -type f | wc -l)
BYTES=$(du -sb "$TREE" | cut -f1)
find "$TREE" -type f -print0 | xargs -0 cat > /dev/null  # warm the page cache for everyone

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# --- backup-drill: the whole drill -------------------------------------------
rm -rf "$WORK/bd-repo" "$WORK/bd-scratch"; mkdir -p "$WORK/bd-scratch"
t0=$(now)
"$BD" drill --quiet --repo "$WORK/bd-repo" --source "$TREE" --read-data \
  --scratch "$WORK/bd-scratch" > "$WORK/bd-drill.jsonl"
t1=$(now)
BD_S=$(secs "$t0" "$t1")
grep -q '"verdict":"pass"' "$WORK/bd-drill.jsonl" || { echo "drill failed" >&2; exit 1; }

# Second backup of the unchanged tree.
t0=$(now)
"$BD" backup --quiet --repo "$WORK/bd-repo" --source "$TREE" > "$WORK/bd-second.jsonl"
t1=$(now)
BD2_S=$(secs "$t0" "$t1")
BD_FIRST_NEW=$(grep '"step":"backup"' "$WORK/bd-drill.jsonl" | sed 's/.*"new_bytes":\([0-9]*\).*/\1/')
BD2_NEW=$(grep '"step":"backup"' "$WORK/bd-second.jsonl" | sed 's/.*"new_bytes":\([0-9]*\).*/\1/')
step_ms() { grep "\"step\":\"$1\"" "$WORK/bd-drill.jsonl" | head -1 | sed 's/.*"duration_ms":\([0-9.]*\).*/\1/'; }

# --- restic: init + backup + check --read-data + restore ----------------------
export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$WORK/restic-cache
rm -rf "$WORK/restic-repo" "$WORK/restic-restore" "$RESTIC_CACHE_DIR"
t0=$(now)
restic -q -r "$WORK/restic-repo" init >/dev/null
restic -q -r "$WORK/restic-repo" backup "$TREE" >/dev/null
restic -q -r "$WORK/restic-repo" check --read-data >/dev/null
restic -q -r "$WORK/restic-repo" restore latest --target "$WORK/restic-restore" >/dev/null
t1=$(now)
RESTIC_S=$(secs "$t0" "$t1")
t0=$(now)
restic -q -r "$WORK/restic-repo" backup "$TREE" >/dev/null
t1=$(now)
RESTIC2_S=$(secs "$t0" "$t1")

# --- tar c | tar x, then sha256sum over both trees ----------------------------
rm -rf "$WORK/tar-copy"; mkdir -p "$WORK/tar-copy"
t0=$(now)
tar c -C "$TREE" . | tar x -C "$WORK/tar-copy"
(cd "$TREE" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$WORK/sums-a"
(cd "$WORK/tar-copy" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$WORK/sums-b"
cmp -s "$WORK/sums-a" "$WORK/sums-b"
t1=$(now)
TAR_S=$(secs "$t0" "$t1")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "backup-drill benchmark: $FILES files, $BYTES bytes; $(nproc) cores; $(date -u +%F)"
printf '%-44s %8s s\n' "backup-drill drill --read-data" "$BD_S"
printf '  %-42s %8s ms\n' "backup" "$(step_ms backup)" "restore" "$(step_ms restore)" \
  "verify" "$(step_ms verify)" "check --read-data" "$(step_ms check)"
printf '%-44s %8s s\n' "restic init+backup+check --read-data+restore" "$RESTIC_S"
printf '%-44s %8s s\n' "tar c | tar x + sha256sum both trees" "$TAR_S"
echo "ratio backup-drill / restic:    $(ratio "$BD_S" "$RESTIC_S")  (goal < 1)"
echo "ratio backup-drill / tar+hash:  $(ratio "$BD_S" "$TAR_S")  (goal <= 1.5)"
echo "second backup, unchanged tree: backup-drill ${BD2_S} s, ${BD2_NEW} bytes new" \
  "(first stored ${BD_FIRST_NEW}); restic ${RESTIC2_S} s"
rm -rf "$WORK/bd-scratch" "$WORK/restic-restore" "$WORK/tar-copy"
