#!/usr/bin/env bash
# Benchmark: sbom-diff against a jq script that joins two CycloneDX files by
# purl (without version), on the same pair of 50,000-component documents.
#
# The pair is generated here (seeded, so every run diffs the same bytes):
# npm, pypi and cargo components with versions, SHA-256 hashes, licences and
# a dependency graph; the new file has ~1% upgrades, 0.2% removals, 0.2%
# additions, 10 same-version hash changes, and its components reordered.
# The jq peer does strictly less work (no version order, licence or hash
# comparison, no multisets): it flattens the components, keys them by purl
# without version, and reports added/removed/changed-version.
# Wall time is the best of RUNS runs; memory is the max RSS from /usr/bin/time -v.
#
# Then, at scale: two CycloneDX files of BENCH_BIG_COMPONENTS components
# (default 4,200,000, about 1.2 GB each, generated here as a stream and
# removed afterwards; 0 skips this part) with SHA-256 hashes, a licence and
# a dependency graph: peak RSS against the inputs' size, wall time, and how
# long SIGINT takes to end the run when sent 1 s, 25% and 60% into it.
# Usage: scripts/bench/sbom-diff.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=${1:-${TMPDIR:-/tmp}/sbom-diff-bench}
N=${BENCH_COMPONENTS:-50000}
BIG=${BENCH_BIG_COMPONENTS:-4200000}
RUNS=${BENCH_RUNS:-5}
mkdir -p "$WORK"

install_apt() {
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    sudo apt-get update -qq >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  fi
}
command -v jq >/dev/null || { echo "installing jq (apt)..." >&2; install_apt jq; }
[ -x /usr/bin/time ] || { echo "installing time (apt)..." >&2; install_apt time; }
command -v python3 >/dev/null || { echo "installing python3 (apt)..." >&2; install_apt python3; }

cargo build --release -q -p sbom-diff
SD=$PWD/target/release/sbom-diff

OLD=$WORK/old-$N.cdx.json
NEW=$WORK/new-$N.cdx.json
if [ ! -s "$OLD" ] || [ ! -s "$NEW" ]; then
  echo "generating two $N-component CycloneDX files in $WORK ..." >&2
  python3 - "$N" "$OLD" "$NEW" <<'EOF'
import hashlib, json, random, sys
n, old_path, new_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(7)
licences = ["MIT", "Apache-2.0", "BSD-3-Clause", "ISC", "MIT OR Apache-2.0", "MPL-2.0"]
def comp(i, version, salt=""):
    eco = ("npm", "pypi", "cargo")[i % 3]
    name = f"pkg-{i:06d}"
    if eco == "npm" and i % 10 == 0:
        purl = f"pkg:npm/%40scope{i % 97}/{name}@{version}"
    else:
        purl = f"pkg:{eco}/{name}@{version}"
    lic = licences[i % len(licences)]
    c = {"type": "library", "bom-ref": f"{purl}#{i}", "name": name, "version": version, "purl": purl,
         "hashes": [{"alg": "SHA-256", "content": hashlib.sha256(f"{purl}{salt}".encode()).hexdigest()}],
         "description": f"component {i} of the benchmark"}
    c["licenses"] = [{"expression": lic}] if " " in lic else [{"license": {"id": lic}}]
    return c
def version():
    return f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 50)}"
versions = [version() for _ in range(n)]
old = [comp(i, versions[i]) for i in range(n)]
new = []
for i in range(n):
    r = rng.random()
    if r < 0.002:
        continue  # removed
    if r < 0.012:
        a, b, c = (int(x) for x in versions[i].split("."))
        new.append(comp(i, f"{a}.{b}.{c + 1}"))  # upgraded
    else:
        new.append(comp(i, versions[i]))
for i in range(n, n + n // 500):
    new.append(comp(i, version()))  # added
for k in range(10):
    j = rng.randrange(len(new))
    c = new[j]
    c["hashes"][0]["content"] = hashlib.sha256(f"tampered{k}".encode()).hexdigest()
rng.shuffle(new)
def bom(components, serial, ts):
    # The graph follows the packages (by their number), not list positions,
    # so it is the same graph in both files apart from real changes.
    by_num = {int(c["name"][4:]): c["bom-ref"] for c in components}
    deps = []
    for num, ref in sorted(by_num.items()):
        if num % 2 == 0:
            targets = [by_num[t] for t in ((num * 7 + 1) % n, (num * 13 + 5) % n) if t in by_num]
            deps.append({"ref": ref, "dependsOn": targets})
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": serial, "version": 1,
            "metadata": {"timestamp": ts, "component": {"bom-ref": "app", "name": "app", "version": "1"}},
            "components": components, "dependencies": deps}
json.dump(bom(old, "urn:uuid:00000000-0000-0000-0000-000000000001", "2026-01-01T00:00:00Z"), open(old_path, "w"))
json.dump(bom(new, "urn:uuid:00000000-0000-0000-0000-000000000002", "2026-02-01T00:00:00Z"), open(new_path, "w"))
EOF
fi
ls -l "$OLD" "$NEW" | awk '{print $5, $9}' >&2

# The peer: flatten components, key by purl without version, join.
JQ_PROGRAM='
  def flat: [.components[]? | recurse(.components[]?)];
  def key: .purl | sub("@[^@/?#]*(?=[?#]|$)"; "");
  ($a[0] | flat | map({key: key, value: .version}) | from_entries) as $old
  | ($b[0] | flat | map({key: key, value: .version}) | from_entries) as $new
  | ($old | keys[] | select($new[.] == null) | {change: "removed", id: .}),
    ($new | keys[] | select($old[.] == null) | {change: "added", id: .}),
    ($new | to_entries[] | select($old[.key] != null and $old[.key] != .value)
          | {change: "changed", id: .key, old: $old[.key], new: .value})'

# best-of-RUNS wall time (seconds) and max RSS (KB) of a command
measure() {
  local best="" rss=0 out
  for _ in $(seq "$RUNS"); do
    out=$( { /usr/bin/time -v "$@" >/dev/null; } 2>&1 | awk -F': ' '
      /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; wall = s }
      /Maximum resident set size/ { rss = $2 }
      END { print wall, rss }')
    local wall=${out% *} r=${out#* }
    if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; fi
    [ "$r" -gt "$rss" ] && rss=$r
  done
  echo "$best $rss"
}

echo "sbom-diff records:" >&2
"$SD" "$OLD" "$NEW" --max-drift 2% | tail -1 | python3 -c '
import json, sys
s = json.load(sys.stdin); f = s["figures"]
print("  " + ", ".join(f"{k} {f[k]}" for k in ("components_old", "components_new", "added", "removed", "upgraded", "downgraded", "hash_changed", "license_changed", "dependency_added", "dependency_removed", "drift")), file=sys.stderr)
print("  verdict", s["verdict"], file=sys.stderr)'
echo "jq records: $(jq -n -c --slurpfile a "$OLD" --slurpfile b "$NEW" "$JQ_PROGRAM" | wc -l)" >&2

# sbom-diff exits 1 when it finds changes: that is its answer, not a failure.
read -r SD_WALL SD_RSS < <(measure sh -c "'$SD' '$OLD' '$NEW' >/dev/null; [ \$? -le 1 ]")
read -r JQ_WALL JQ_RSS < <(measure jq -n -c --slurpfile a "$OLD" --slurpfile b "$NEW" "$JQ_PROGRAM")

echo
printf '%-10s %10s %12s\n' tool wall_s max_rss_mb
printf '%-10s %10.3f %12.1f\n' sbom-diff "$SD_WALL" "$(awk "BEGIN{print $SD_RSS/1024}")"
printf '%-10s %10.3f %12.1f\n' jq "$JQ_WALL" "$(awk "BEGIN{print $JQ_RSS/1024}")"
awk "BEGIN{ if ($SD_WALL > 0) printf \"ratio: jq / sbom-diff = %.1fx (wall)\n\", $JQ_WALL / $SD_WALL; else print \"ratio: sbom-diff under the timer resolution\" }"
awk "BEGIN{ exit !($SD_WALL < 1.0) }" && echo "goal (< 1 s for $N components): met" || echo "goal (< 1 s for $N components): NOT met"

[ "$BIG" -gt 0 ] || exit 0
echo
echo "generating two $BIG-component CycloneDX files in $WORK (streamed) ..." >&2
GEN='
import hashlib, random, sys
n, which = int(sys.argv[1]), sys.argv[2]
change, vr, out = random.Random(2), random.Random(1), sys.stdout
out.write("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"serialNumber\":\"urn:uuid:%s\",\"version\":1,"
          "\"metadata\":{\"timestamp\":\"2026-01-01T00:00:00Z\",\"component\":{\"bom-ref\":\"app\",\"name\":\"app\",\"version\":\"1\"}},"
          "\"components\":[" % which)
sep = ""
for i in range(n):
    eco = ("npm", "pypi", "cargo")[i % 3]
    v = "%d.%d.%d" % (vr.randint(0, 9), vr.randint(0, 30), vr.randint(0, 50))
    if which == "new" and change.random() < 0.01:
        a, b, c = v.split("."); v = "%s.%s.%d" % (a, b, int(c) + 1)
    purl = "pkg:%s/pkg-%07d@%s" % (eco, i, v)
    h = hashlib.sha256(purl.encode()).hexdigest()
    out.write(sep + "{\"type\":\"library\",\"bom-ref\":\"c%d\",\"name\":\"pkg-%07d\",\"version\":\"%s\",\"purl\":\"%s\","
              "\"hashes\":[{\"alg\":\"SHA-256\",\"content\":\"%s\"}],\"licenses\":[{\"license\":{\"id\":\"MIT\"}}]}" % (i, i, v, purl, h))
    sep = ","
out.write("],\"dependencies\":[")
sep = ""
for i in range(0, n, 2):
    out.write(sep + "{\"ref\":\"c%d\",\"dependsOn\":[\"c%d\",\"c%d\"]}" % (i, (i * 7 + 1) % n, (i * 13 + 5) % n))
    sep = ","
out.write("]}\n")
'
BOLD=$WORK/big-old.cdx.json
BNEW=$WORK/big-new.cdx.json
python3 -c "$GEN" "$BIG" old > "$BOLD" & python3 -c "$GEN" "$BIG" new > "$BNEW"; wait
IN_BYTES=$(( $(stat -c %s "$BOLD") + $(stat -c %s "$BNEW") ))
cat "$BOLD" "$BNEW" > /dev/null  # warm the page cache
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s.%N)
/usr/bin/time -v "$SD" "$BOLD" "$BNEW" --max-input-size 4294967296 --max-drift 2% > "$WORK/big.jsonl" 2> "$WORK/big.time" || [ $? -le 1 ]
T1=$(date +%s.%N)
BIG_WALL=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')
BIG_RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/big.time")
echo
echo "at scale: 2 x $BIG components, $IN_BYTES bytes of input; load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
tail -1 "$WORK/big.jsonl" | python3 -c '
import json, sys
s = json.load(sys.stdin); f = s["figures"]
print("  " + ", ".join(f"{k} {f[k]}" for k in ("components_old", "components_new", "upgraded", "dependency_added", "drift")), "verdict", s["verdict"])'
awk -v r="$BIG_RSS" -v i="$IN_BYTES" -v w="$BIG_WALL" 'BEGIN {
  printf "  sbom-diff wall %.1f s, peak RSS %.0f MB = %.2f x the inputs (%.0f MB)\n", w, r / 1024, r * 1024 / i, i / 1048576 }'
# SIGINT latency: from the signal to the process gone, at three points.
for frac in 1s 0.25 0.60; do
  "$SD" "$BOLD" "$BNEW" --max-input-size 4294967296 > "$WORK/int.jsonl" 2>/dev/null &
  pid=$!
  case $frac in
    1s) sleep 1 ;;
    *) sleep "$(awk -v w="$BIG_WALL" -v f="$frac" 'BEGIN { printf "%.1f", w * f }')" ;;
  esac
  s0=$(date +%s.%N)
  kill -INT "$pid" 2>/dev/null || true
  code=0; wait "$pid" || code=$?
  s1=$(date +%s.%N)
  printf '  SIGINT at %-4s -> exit %s after %.2f s; last record: %s\n' "$frac" "$code" \
    "$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')" "$(tail -c 120 "$WORK/int.jsonl" | tr -d '\n')"
done
rm -f "$BOLD" "$BNEW" "$WORK/int.jsonl"
