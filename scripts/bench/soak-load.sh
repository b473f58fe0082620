#!/usr/bin/env bash
# soak-load against its peers, same machine, loopback only (127.0.0.1), every run bounded.
#   closed  closed model, same connection count: soak-load vs wrk, hey, oha; against nginx (one
#           worker, `return 200`) and the demo service (release build); requests/s, ratio to wrk.
#   open    open model rate accuracy: throughput at --rate 1000/s and 5000/s vs the rate asked.
#   stall   honesty: 2000 req/s for 10 s while the demo service stalls 1 s (--stall-every 10s
#           --stall-for 1s): ~10% of requests are delayed by up to 1 s, so p95 ~500 ms and p99
#           ~900 ms; each peer's figures for the same scenario.
#   memory  peak RSS (GNU time) of one closed-model run of REQUESTS requests (default 10 million).
#   plot    a run against the faulty demo service, `soak-load plot`, rendered by headless Chromium;
#           the screenshot is checked (size, not blank, gate lines drawn) and kept as
#           tools/soak-load/soak-plot.png for the README.
# Each measurement is repeated ROUNDS times, interleaved with the peers' (so background load hits
# them alike); the script prints median and spread (min-max) and the load average before/after.
#
# Usage: scripts/bench/soak-load.sh [all|closed|open|stall|memory|plot]...
#        env: ROUNDS (5), SECONDS_PER_RUN (5), CONNECTIONS (64), REQUESTS (10000000)
# Installs its peers if missing (as root): apt wrk, hey, nginx, chromium, time, python3;
# `cargo install oha` into target/bench-tools.
# The measuring runs below ask --max-error-rate 100%: soak-load's default gate (1%) would end
# the script (pipefail) on a few errors; they are measurements, not gates (a run with no
# success still fails, and stops the script, as it should).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECTIONS=("$@"); [ ${#SECTIONS[@]} -eq 0 ] && SECTIONS=(all)
ROUNDS=${ROUNDS:-5}
SECS=${SECONDS_PER_RUN:-5}
CONNS=${CONNECTIONS:-64}
REQUESTS=${REQUESTS:-10000000}
want() { local s; for s in "${SECTIONS[@]}"; do [ "$s" = all ] || [ "$s" = "$1" ] && return 0; done; return 1; }

# --- peers -----------------------------------------------------------------------------------
need=()
for pair in wrk:wrk hey:hey nginx:nginx chromium:chromium python3:python3 /usr/bin/time:time; do
  cmd=${pair%%:*}; pkg=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing: ${need[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "soak-load.sh: missing ${need[*]} (run as root to install them)" >&2; exit 2
  fi
fi
TOOLS="$ROOT/target/bench-tools"
if [ ! -x "$TOOLS/bin/oha" ] && [ -z "${NO_BUILD:-}" ]; then
  echo "installing oha into $TOOLS (cargo install, once; several minutes)" >&2
  cargo install -q oha --locked --root "$TOOLS" || echo "oha could not be installed; its rows are skipped" >&2
fi
OHA="$TOOLS/bin/oha"
HAVE_OHA=; [ -x "$OHA" ] && HAVE_OHA=1
# NO_BUILD=1 uses the release binaries already built (while another cargo command runs).
[ -n "${NO_BUILD:-}" ] || cargo build -q --release -p soak-load -p demo-service
BIN="$ROOT/target/release"
SL="$BIN/soak-load"

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
. scripts/lib/demo.sh

echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) CPUs, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "peers:   $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), hey $(dpkg-query -W -f='${Version}' hey 2>/dev/null), $([ -n "$HAVE_OHA" ] && "$OHA" --version || echo 'oha missing'), $(nginx -v 2>&1 | cut -d' ' -f3)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# median / min / max of numbers on stdin
stats() { sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "n/a"; exit} m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.0f (%.0f-%.0f, n=%d)", m, v[1], v[NR], NR}'; }
statsf() { sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "n/a"; exit} m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3f (%.3f-%.3f, n=%d)", m, v[1], v[NR], NR}'; }
median() { sort -g | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; print m}'; }
fig() { python3 -c 'import json,sys
recs=[json.loads(l) for l in sys.stdin if l.strip()]
s=[r for r in recs if r.get("kind")=="summary"][-1]["figures"]
print(*[s[k] for k in sys.argv[1:]])' "$@"; }

start_nginx() {
  local port; port=$(free_port)
  mkdir -p "$work/nginx/logs"
  cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$port; location / { return 200 "ok\n"; } }
}
EOF
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" > "$work/nginx/out" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  NGINX_URL="http://127.0.0.1:$port/"
}

# --- closed model ------------------------------------------------------------------------------
closed_round() { # URL LABEL: one run of each tool, appended to $work/closed-LABEL-TOOL
  local url=$1 label=$2 rps
  rps=$(wrk -t2 -c"$CONNS" -d"${SECS}s" "$url" | awk '/Requests\/sec/ {print $2}')
  echo "$rps" >> "$work/closed-$label-wrk"
  rps=$(hey -c "$CONNS" -z "${SECS}s" "$url" | awk '/Requests\/sec/ {print $2}')
  echo "$rps" >> "$work/closed-$label-hey"
  if [ -n "$HAVE_OHA" ]; then
    rps=$("$OHA" --no-tui --output-format json -c "$CONNS" -z "${SECS}s" "$url" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["requestsPerSec"])')
    echo "$rps" >> "$work/closed-$label-oha"
  fi
  rps=$("$SL" run "$url" --connections "$CONNS" --duration "${SECS}s" --window "${SECS}s" --max-error-rate 100% -q | fig throughput_rps)
  echo "$rps" >> "$work/closed-$label-soak-load"
}

if want closed; then
  start_nginx
  start_demo "$work/demo-closed.out" --listen 127.0.0.1:0 --db "$work/closed.db" --workers 1
  DEMO_URL="http://127.0.0.1:$DEMO_PORT/v1/health"
  echo
  echo "== closed model: $CONNS connections, ${SECS}s per run, $ROUNDS rounds (wrk -t2; hey, oha, soak-load on all CPUs)"
  for _ in $(seq "$ROUNDS"); do
    closed_round "$NGINX_URL" nginx
    closed_round "$DEMO_URL" demo
  done
  for label in nginx demo; do
    wrk_med=$(median < "$work/closed-$label-wrk")
    echo "target: $label"
    for tool in wrk hey oha soak-load; do
      [ -s "$work/closed-$label-$tool" ] || { echo "  $tool: not run"; continue; }
      med=$(median < "$work/closed-$label-$tool")
      printf '  %-10s %s req/s   ratio to wrk %.2fx\n' "$tool" "$(stats < "$work/closed-$label-$tool")" "$(awk -v a="$med" -v b="$wrk_med" 'BEGIN {print a/b}')"
    done
  done
  stop_demo
fi

# --- open model rate accuracy ------------------------------------------------------------------
if want open; then
  [ -n "${NGINX_URL:-}" ] || start_nginx
  echo
  echo "== open model rate accuracy: ${SECS}x4 s per run, $ROUNDS rounds, against nginx"
  for rate in 1000 5000; do
    : > "$work/open-$rate"
    for _ in $(seq "$ROUNDS"); do
      "$SL" run "$NGINX_URL" --rate "$rate/s" --duration "$((SECS * 4))s" --window 1s --max-error-rate 100% -q \
        | fig throughput_rps requests late p99_ms >> "$work/open-$rate"
    done
    echo "rate $rate/s:"
    echo "  achieved req/s     $(cut -d' ' -f1 "$work/open-$rate" | statsf)"
    echo "  error vs asked     $(cut -d' ' -f1 "$work/open-$rate" | awk -v r="$rate" '{printf "%.3f\n", 100*($1-r)/r}' | statsf) %  (goal within 1%)"
    echo "  requests sent      $(cut -d' ' -f2 "$work/open-$rate" | stats)  (the schedule asks $((rate * SECS * 4)))"
    echo "  late sends         $(cut -d' ' -f3 "$work/open-$rate" | stats)"
    echo "  p99 ms             $(cut -d' ' -f4 "$work/open-$rate" | statsf)"
  done
fi

# --- stall honesty -----------------------------------------------------------------------------
# Waits until the demo service's uptime is 4.5 s past a multiple of 10 s, so a 10 s run from now
# covers exactly one whole 1 s stall (at uptime 10k..10k+1 s).
align_stall() {
  local up
  for _ in $(seq 1 400); do
    up=$(http GET "$DEMO_PORT" /v1/health | sed -n 's/.*"uptime_ms":\([0-9]*\).*/\1/p')
    [ -n "$up" ] && [ $(( up % 10000 )) -ge 4400 ] && [ $(( up % 10000 )) -le 4700 ] && return 0
    sleep 0.05
  done
  echo "could not align with the stall schedule" >&2; return 1
}

if want stall; then
  echo
  echo "== stall honesty: 2000 req/s for 10 s, the server stalls once for 1 s (expected: p95 ~500 ms, p99 ~900 ms)"
  start_demo "$work/demo-stall.out" --listen 127.0.0.1:0 --db "$work/stall.db" --stall-every 10s --stall-for 1s
  URL="http://127.0.0.1:$DEMO_PORT/v1/health"
  for tool in soak-load oha-corrected oha hey wrk; do : > "$work/stall-$tool"; done
  for _ in $(seq "$ROUNDS"); do
    align_stall
    "$SL" run "$URL" --rate 2000/s --duration 10s --window 10s --max-in-flight 50 --max-error-rate 100% -q \
      | fig p50_ms p95_ms p99_ms requests >> "$work/stall-soak-load"
    if [ -n "$HAVE_OHA" ]; then
    align_stall
    "$OHA" --no-tui --output-format json -c 50 -q 2000 -z 10s --latency-correction "$URL" \
      | python3 -c 'import json,sys; d=json.load(sys.stdin); p=d["latencyPercentiles"]; print(p["p50"]*1000, p["p95"]*1000, p["p99"]*1000, sum(d["statusCodeDistribution"].values()))' >> "$work/stall-oha-corrected"
    align_stall
    "$OHA" --no-tui --output-format json -c 50 -q 2000 -z 10s "$URL" \
      | python3 -c 'import json,sys; d=json.load(sys.stdin); p=d["latencyPercentiles"]; print(p["p50"]*1000, p["p95"]*1000, p["p99"]*1000, sum(d["statusCodeDistribution"].values()))' >> "$work/stall-oha"
    fi
    align_stall
    # hey: 50 workers x 40 QPS each = 2000/s; its CSV has one line per request.
    hey -c 50 -q 40 -z 10s -o csv "$URL" | python3 -c '
import sys
v=sorted(float(l.split(",")[0])*1000 for l in sys.stdin if l[:1].isdigit())
q=lambda p: v[max(0,int(-(-p*len(v)//1))-1)]
print(q(.5), q(.95), q(.99), len(v))' >> "$work/stall-hey"
    align_stall
    # wrk has no rate: its closed model with the same 50 connections.
    wrk -t2 -c50 -d10s --latency "$URL" | awk '
      function ms(s) { if (s ~ /us$/) return s/1000; if (s ~ /ms$/) return s+0; if (s ~ /s$/) return s*1000; return s }
      /^ +50%/ {p50=ms($2)} /^ +90%/ {p90=ms($2)} /^ +99%/ {p99=ms($2)} /requests in/ {n=$1}
      END {print p50, "p90=" p90, p99, n}' >> "$work/stall-wrk"
  done
  stop_demo
  printf '  %-24s %-28s %-30s %-30s %s\n' tool "p50 ms" "p95 ms" "p99 ms" requests
  for tool in soak-load oha-corrected oha hey wrk; do
    [ -s "$work/stall-$tool" ] || { echo "  $tool: not run"; continue; }
    printf '  %-24s %-28s %-30s %-30s %s\n' "$tool" \
      "$(cut -d' ' -f1 "$work/stall-$tool" | statsf)" \
      "$(cut -d' ' -f2 "$work/stall-$tool" | sed 's/p90=//' | statsf)" \
      "$(cut -d' ' -f3 "$work/stall-$tool" | statsf)" \
      "$(cut -d' ' -f4 "$work/stall-$tool" | stats)"
  done
  echo "  (soak-load --max-in-flight 50 and oha/hey/wrk -c 50; oha -q 2000, hey -q 40 per worker;"
  echo "   wrk has no rate (closed model) and prints p90 in the p95 column; hey's figures from its CSV)"
fi

# --- memory ------------------------------------------------------------------------------------
if want memory; then
  [ -n "${NGINX_URL:-}" ] || start_nginx
  echo
  echo "== memory: one closed-model run of $REQUESTS requests ($CONNS connections, 60 s windows) against nginx"
  /usr/bin/time -f '%M %e' -o "$work/mem.time" "$SL" run "$NGINX_URL" --connections "$CONNS" \
    --requests "$REQUESTS" --window 60s -q > "$work/mem.jsonl"
  read -r peak_kb secs < "$work/mem.time"
  echo "  requests           $(fig requests ok < "$work/mem.jsonl" | awk '{print $1 " sent, " $2 " ok"}')"
  echo "  wall time          ${secs} s ($(fig throughput_rps < "$work/mem.jsonl" | awk '{printf "%.0f", $1}') req/s)"
  echo "  peak RSS           $((peak_kb / 1024)) MiB ($peak_kb KiB; goal < 64 MiB)"
fi

# --- plot, rendered ----------------------------------------------------------------------------
if want plot; then
  echo
  echo "== plot: a 30 s run against the faulty demo service, rendered by headless Chromium"
  start_demo "$work/demo-plot.out" --listen 127.0.0.1:0 --db "$work/plot.db" \
    --stall-every 6s --stall-for 400ms --leak-per-request 2048 --fail-rate 0.5% --seed 5
  pid=$(sed -n 's/^pid //p' "$work/demo-plot.out")
  base="http://127.0.0.1:$DEMO_PORT"
  cat > "$work/targets.jsonl" <<EOF
{"name":"health","url":"$base/v1/health","weight":4}
{"name":"chat","method":"POST","url":"$base/v1/chat","body":{"message":"hello"},"weight":2}
{"name":"churn","sequence":[{"name":"start","method":"POST","url":"$base/session/start","body":{"user":"soak"}},{"name":"chat","method":"POST","url":"$base/v1/chat","body":{"session_id":"{{steps.start.session_id}}","message":"hi"}},{"name":"stop","method":"POST","url":"$base/session/stop","body":{"session_id":"{{steps.start.session_id}}"}}]}
EOF
  "$SL" run --targets "$work/targets.jsonl" --rate 300/s --duration 30s --window 1s --pid "$pid" \
    --max-error-rate 1% --max-p99 250ms --max-rss-growth 10% -q > "$work/plot-run.jsonl" || true
  stop_demo
  "$SL" plot "$work/plot-run.jsonl" --per-target -o "$work/soak.html" \
    --title "soak-load: demo service stalling 400 ms every 6 s, leaking 2 KB a request, failing 0.5%"
  profile=$(mktemp -d)
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --no-first-run --user-data-dir="$profile" --hide-scrollbars --window-size=960,1500 \
    --screenshot="$work/soak.png" "file://$work/soak.html" > "$work/chromium.log" 2>&1
  rm -rf "$profile"
  python3 - "$work/soak.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
    if kind == b"IHDR": w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT": idat += body
assert depth == 8 and ctype in (2, 6), (depth, ctype)
bpp = 3 if ctype == 2 else 4; raw = zlib.decompress(idat); stride = w * bpp
rows, prev, i = [], bytearray(stride), 0
for _ in range(h):
    f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0; b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line); prev = line
px = [(r[x], r[x + 1], r[x + 2]) for r in rows for x in range(0, stride, bpp)]
ink = sum(1 for p in px if p != (255, 255, 255)) / len(px)
red = sum(1 for (r, g, b) in px if r > 190 and g < 80 and b < 80)
blue = sum(1 for (r, g, b) in px if b > 150 and r < 80)
print(f"  screenshot {w}x{h}: {100 * ink:.1f}% of pixels drawn, {red} gate-line red pixels, {blue} blue line pixels")
assert ink > 0.03 and red > 200 and blue > 200, "the page did not render its charts"
PY
  cp "$work/soak.png" tools/soak-load/soak-plot.png
  echo "  saved tools/soak-load/soak-plot.png ($(stat -c %s tools/soak-load/soak-plot.png) bytes); verdict of the run: $(fig requests error_rate p99_ms rss_growth < "$work/plot-run.jsonl")"
fi

echo
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
