#!/usr/bin/env bash
# Issue 15's figures, against the demo service (debug build: these are correctness counts and
# recovery times of a restart, not throughput; a release build would only be faster):
#   1. the crash drill (cycle-check --workload --audit, scripts/lib/drills.sh), correct service:
#      recovery_ms per kill, audit findings (must be 0);
#   2. the same with --no-transactions: findings (orphaned sessions) per kill;
#   3. the race run (soak-load --actors 20 --ops 100 --verify): correct service (changed
#      writes must be 0) and --unguarded-decisions (confirmations decided both ways);
#   4. chaos under load: soak-load at 200/s for 5.5 s, kill -9 every 1 s under a restarting
#      supervisor, --verify: recovery_ms and failed requests per outage; lost writes of the
#      correct service (must be 0) and of --write-behind 300ms.
# Each is repeated ROUNDS times (default 3); medians and min-max are printed with the load.
# Usage: scripts/bench/crash-race-chaos.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
cargo build -q -p cycle-check -p soak-load -p demo-service
target=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
BIN=$target/debug
export BIN
work=$(mktemp -d)
sup_pid=
cleanup() {
  [ -z "$sup_pid" ] || { touch "$work/chaos/stop"; kill -9 "$(cat "$work/chaos/pid" 2> /dev/null)" 2> /dev/null || true; wait "$sup_pid" 2> /dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=scripts/lib/demo.sh
source scripts/lib/demo.sh
# shellcheck source=scripts/lib/drills.sh
source scripts/lib/drills.sh

# stats: reads numbers on stdin; prints "median M (min A, max B, n N)".
stats() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "none"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "median %g (min %g, max %g, n %d)\n", m, v[1], v[NR], NR }'
}
gate_value() { tail -n 1 "$1" | jq -r --arg g "$2" '.gates[] | select(.name == $g) | .value'; }
figure() { tail -n 1 "$1" | jq -r --arg f "$2" '.figures[$f]'; }

echo "machine: $(nproc) CPUs, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "build:   debug ($BIN)"
echo

: > "$work/recovery" ; : > "$work/findings_ok" ; : > "$work/findings_notx"
for r in $(seq "$ROUNDS"); do
  crash_drill "$work/crash-$r" 5 > "$work/crash-$r.jsonl" 2> /dev/null || true
  jq -r 'select(.kind == "cycle") | .recovery_ms' "$work/crash-$r.jsonl" >> "$work/recovery"
  figure "$work/crash-$r.jsonl" audit_findings >> "$work/findings_ok"
  crash_drill "$work/notx-$r" 1 --no-transactions > "$work/notx-$r.jsonl" 2> /dev/null || true
  figure "$work/notx-$r.jsonl" audit_findings >> "$work/findings_notx"
done
echo "crash drill, correct service (5 kills a round, 4 users, turns of 50 ms):"
echo "  recovery_ms (SIGKILL -> ready again): $(stats < "$work/recovery")"
echo "  audit findings per round:             $(stats < "$work/findings_ok")"
echo "crash drill, --no-transactions (1 kill a round):"
echo "  orphaned sessions found per kill:     $(stats < "$work/findings_notx")"
echo

: > "$work/race_s"; : > "$work/race_changed"; : > "$work/race_errors"; : > "$work/double"
for r in $(seq "$ROUNDS"); do
  t0=$(date +%s%N)
  race_run "$work/race-$r" 20 100 > "$work/race-$r.jsonl" 2> /dev/null || true
  t1=$(date +%s%N)
  awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f\n", ns / 1e9 }' >> "$work/race_s"
  figure "$work/race-$r.jsonl" changed_writes >> "$work/race_changed"
  figure "$work/race-$r.jsonl" errors >> "$work/race_errors"
  race_run "$work/unguarded-$r" 20 100 --unguarded-decisions > "$work/unguarded-$r.jsonl" 2> /dev/null || true
  # Each double decision is two changed writes (both acknowledgements said decisions 1).
  echo $(( $(figure "$work/unguarded-$r.jsonl" changed_writes) / 2 )) >> "$work/double"
done
echo "race run, 20 actors x 100 ops (12 000 requests, 4 000 writes read back), correct service:"
echo "  wall seconds:                         $(stats < "$work/race_s")"
echo "  errors (409s accepted):               $(stats < "$work/race_errors")"
echo "  changed writes:                       $(stats < "$work/race_changed")"
echo "race run, --unguarded-decisions:"
echo "  confirmations decided both ways (of 2000): $(stats < "$work/double")"
echo

# chaos: the demo under a supervisor restarting it at once, soak-load killing it every second.
mkdir -p "$work/chaos"
supervise() { # supervise DEMO-FLAGS...: sets sup_pid; the running demo's pid is in $work/chaos/pid
  rm -f "$work/chaos/stop" "$work/chaos/d.db"*
  chaos_port=$(free_port)
  bash -c 'dir=$1; shift; while [ ! -e "$dir/stop" ]; do "$@" > /dev/null 2>&1 & echo $! > "$dir/pid.tmp"; mv "$dir/pid.tmp" "$dir/pid"; wait $!; done' \
    sh "$work/chaos" "$BIN/demo-service" --listen "127.0.0.1:$chaos_port" --db "$work/chaos/d.db" "$@" 2> /dev/null &
  sup_pid=$!
  for _ in $(seq 1 400); do (exec 3<> "/dev/tcp/127.0.0.1/$chaos_port") 2> /dev/null && return 0; sleep 0.025; done
  echo "the supervised demo did not start" >&2
  return 1
}
unsupervise() { touch "$work/chaos/stop"; kill -9 "$(cat "$work/chaos/pid")" 2> /dev/null || true; wait "$sup_pid" 2> /dev/null || true; sup_pid=; }
chaos_load() { # chaos_load OUT
  local u="http://127.0.0.1:$chaos_port"
  printf '%s\n' '{"name":"turn","sequence":[{"name":"start","method":"POST","url":"'"$u"'/session/start","body":{"user":"soak"}},{"name":"chat","method":"POST","url":"'"$u"'/v1/chat","body":{"session_id":"{{steps.start.session_id}}","message":"hi"}},{"name":"stop","method":"POST","url":"'"$u"'/session/stop","body":{"session_id":"{{steps.start.session_id}}"}},{"name":"check","verify":"chat","url":"'"$u"'/memory/{{steps.chat.memory_id}}","expect":{"message":"hi","reply":"{{steps.chat.reply}}"}}]}' \
    > "$work/chaos/targets.jsonl"
  "$BIN/soak-load" run --targets "$work/chaos/targets.jsonl" --rate 200/s --duration 5500ms --window 1s \
    --timeout 5s --verify --chaos-cmd "kill -9 \$(cat $(printf '%q' "$work/chaos/pid"))" --chaos-every 1s --quiet \
    > "$1" 2> /dev/null || true
}
: > "$work/chaos_rec"; : > "$work/chaos_failed"; : > "$work/chaos_lost"; : > "$work/wb_lost"; : > "$work/wb_acked"
for r in $(seq "$ROUNDS"); do
  supervise
  chaos_load "$work/chaos-$r.jsonl"
  unsupervise
  jq -r 'select(.kind == "chaos") | .recovery_ms' "$work/chaos-$r.jsonl" >> "$work/chaos_rec"
  jq -r 'select(.kind == "chaos") | .failed_requests' "$work/chaos-$r.jsonl" >> "$work/chaos_failed"
  figure "$work/chaos-$r.jsonl" lost_writes >> "$work/chaos_lost"
  supervise --write-behind 300ms
  chaos_load "$work/wb-$r.jsonl"
  unsupervise
  figure "$work/wb-$r.jsonl" lost_writes >> "$work/wb_lost"
  figure "$work/wb-$r.jsonl" writes_acknowledged >> "$work/wb_acked"
done
echo "chaos under load (200/s, kill -9 every 1 s, 5 kills a round, restarted at once):"
echo "  recovery_ms (first failure -> first success sent after it): $(stats < "$work/chaos_rec")"
echo "  requests failed per outage:           $(stats < "$work/chaos_failed")"
echo "  lost acknowledged writes per round:   $(stats < "$work/chaos_lost")"
echo "chaos under load, --write-behind 300ms:"
echo "  lost acknowledged writes per round:   $(stats < "$work/wb_lost") (of $(stats < "$work/wb_acked") acknowledged)"
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "peers: wrk, hey, oha, vegeta and k6 count answers, not what became of the data: none reads"
echo "acknowledged writes back or audits state after a kill; Jepsen does, for databases, from a"
echo "Clojure test harness; here it is two flags on the tools a release job already runs."
