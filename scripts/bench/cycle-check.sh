#!/usr/bin/env bash
# cycle-check's own cost, measured on a trivial server (the demo service, release build):
#   1. the reference: a tiny harness starts the server 100 times, times start -> "listening"
#      line (the server's own start-to-listen time) and SIGTERM -> exit;
#   2. cycle-check --cycles 100 on the same server, ready by tcp:// and by log:.
# Readiness-detection latency = cycle-check's ready_ms - the server's start-to-listen time
# (goal < 10 ms); per-cycle overhead = cycle-check's wall time per cycle - the reference's
# (goal < 50 ms).
# With BASELINE=/path/to/an/older/cycle-check, that binary's --ready tcp:// cycles run in the
# same rounds too, and the difference is printed: a before/after on one machine state.
# Usage: [BASELINE=BIN] scripts/bench/cycle-check.sh [CYCLES]
set -euo pipefail
cd "$(dirname "$0")/../.."
CYCLES=${1:-100}
BASELINE=${BASELINE:-}

if ! command -v python3 >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null
  else
    echo "cycle-check.sh: python3 is needed for the reference harness" >&2; exit 2
  fi
fi

cargo build -q --release -p cycle-check -p demo-service
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
CC="$target/release/cycle-check"
SERVER="$target/release/demo-service"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
server=("$SERVER" --listen "127.0.0.1:$PORT" --db "$work/bench.db" --workers 1)

echo "machine: $(nproc) CPUs, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "server:  ${server[*]}"
echo

# The machine is shared, so the three measurements are interleaved in rounds
# (background load then hits all of them alike) and pooled.
ROUNDS=5
per=$(( (CYCLES + ROUNDS - 1) / ROUNDS ))
run_cc() { # $1 = readiness probe, $2 = output file (appended), $3 = binary; prints wall ms
  local t0 t1
  t0=$(date +%s%N)
  "${3:-$CC}" --cycles "$per" --ready "$1" --service-log /dev/null -- "${server[@]}" >> "$2"
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
wall_tcp=0; wall_log=0; wall_base=0
[ -z "$BASELINE" ] || echo "baseline: $BASELINE"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$ROUNDS"); do
  # The reference: the server's own start-to-listen and stop times, nothing else watching.
  python3 - "$per" "$work/ref.jsonl" "${server[@]}" <<'PY'
import json, signal, subprocess, sys, time
n, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
with open(out, "a") as f:
    for _ in range(n):
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = p.stdout.readline()
        t1 = time.perf_counter()
        assert line.startswith(b"listening on"), line
        p.send_signal(signal.SIGTERM)
        p.wait()
        t2 = time.perf_counter()
        p.stdout.close()
        f.write(json.dumps({"listen": (t1 - t0) * 1000, "stop": (t2 - t1) * 1000, "cycle": (t2 - t0) * 1000}) + "\n")
PY
  w=$(run_cc "tcp://127.0.0.1:$PORT" "$work/tcp.jsonl"); wall_tcp=$(( wall_tcp + w ))
  wall_log=$(( wall_log + $(run_cc "log:^listening on" "$work/log.jsonl") ))
  if [ -n "$BASELINE" ]; then
    b=$(run_cc "tcp://127.0.0.1:$PORT" "$work/base.jsonl" "$BASELINE"); wall_base=$(( wall_base + b ))
    echo "$w $b" >> "$work/pairs"
  fi
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
CYCLES=$(( per * ROUNDS ))

python3 - "$CYCLES" "$work" "$wall_tcp" "$wall_log" "$wall_base" <<'PY'
import json, math, os, sys
n, work = int(sys.argv[1]), sys.argv[2]
wall_tcp, wall_log, wall_base = map(float, sys.argv[3:6])
rows = [json.loads(l) for l in open(f"{work}/ref.jsonl")]
ref = {k: [r[k] for r in rows] for k in ("listen", "stop", "cycle")}
def pct(v, p):  # nearest rank, as cycle-check's summary computes it
    v = sorted(v); return v[max(0, math.ceil(p * len(v)) - 1)]
def stats(v): return f"p50 {pct(v, .5):7.2f}  p95 {pct(v, .95):7.2f}  max {max(v):7.2f} ms"
ref_cycle = sum(ref["cycle"]) / n
print()
print(f"reference ({n} runs, no supervisor)")
print(f"  start -> listening   {stats(ref['listen'])}")
print(f"  SIGTERM -> exit      {stats(ref['stop'])}")
print(f"  whole cycle          mean {ref_cycle:.2f} ms")
runs = [("tcp", wall_tcp), ("log", wall_log)]
if os.path.exists(f"{work}/base.jsonl"):
    runs.append(("base", wall_base))
for name, wall in runs:
    recs = [json.loads(l) for l in open(f"{work}/{name}.jsonl")]
    cyc = [r for r in recs if r["kind"] == "cycle"]
    sums = [r for r in recs if r["kind"] == "summary"]
    assert all(s["verdict"] == "pass" for s in sums) and len(cyc) == n, sums
    s = sums[-1]
    ready = [r["ready_ms"] for r in cyc]
    stop = [r["stop_ms"] for r in cyc]
    per_cycle = wall / n
    what = "baseline --ready tcp" if name == "base" else f"cycle-check --ready {name}"
    print(f"{what}: ({n} cycles, verdict {s['verdict']})")
    print(f"  ready_ms             {stats(ready)}")
    print(f"  stop_ms              {stats(stop)}")
    print(f"  detection latency    p50 {pct(ready, .5) - pct(ref['listen'], .5):+.2f} ms  "
          f"p95 {pct(ready, .95) - pct(ref['listen'], .95):+.2f} ms  (ready_ms - start-to-listen; goal < 10 ms)")
    print(f"  wall per cycle       {per_cycle:.2f} ms  (reference {ref_cycle:.2f} ms)")
    print(f"  overhead per cycle   {per_cycle - ref_cycle:+.2f} ms  (goal < 50 ms); ratio {per_cycle / ref_cycle:.2f}x")
if wall_base:
    # Per round (the two ran back to back): this build's wall over the baseline's.
    pairs = [tuple(map(float, l.split())) for l in open(f"{work}/pairs")]
    ratios = sorted(a / b for a, b in pairs)
    diffs = sorted((a - b) / (n / len(pairs)) for a, b in pairs)
    print(f"this build vs baseline (tcp), {len(pairs)} rounds: wall ratio median "
          f"{pct(ratios, .5):.3f}x (min {ratios[0]:.3f}, max {ratios[-1]:.3f}); per cycle median "
          f"{pct(diffs, .5):+.2f} ms (min {diffs[0]:+.2f}, max {diffs[-1]:+.2f})")
PY
