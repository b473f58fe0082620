# shellcheck shell=bash disable=SC2034,SC2154 # sourced: shares variables with the scripts that source it
# Helpers to drive the demo service from bash alone (sourced by release-gates.sh and e2e.sh).
# HTTP goes through bash's /dev/tcp, so nothing beyond bash is needed; traffic goes only to
# 127.0.0.1 and every wait is bounded.

# free_port: a port nobody listens on, below the kernel's range for outgoing connections' source
# ports: a client reconnecting while the service restarts on a port from that range can be given
# the port itself, connect to itself and hold it, so the restart cannot bind (a crash drill flake).
free_port() {
  local port low=32768 high
  read -r low high < /proc/sys/net/ipv4/ip_local_port_range 2> /dev/null || true
  [ "$low" -gt 12000 ] 2> /dev/null || low=32768
  for _ in $(seq 1 200); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# http METHOD PORT PATH [BODY] [CORRELATION_ID]: prints the response body (one JSON line).
http() {
  local method=$1 port=$2 path=$3 body=${4:-} cid=${5:-none}
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nx-correlation-id: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$method" "$path" "$cid" "${#body}" "$body" >&3
  # The body is the last line of the response (after the blank line).
  local line last=""
  while IFS= read -r line <&3 || [ -n "$line" ]; do last=$line; done
  exec 3<&-
  printf '%s\n' "$last"
}

# start_demo OUTFILE ARGS...: starts demo-service in the background; waits (bounded) for its
# "listening on" line; sets DEMO_PID and DEMO_PORT.
start_demo() {
  local out=$1; shift
  "$BIN/demo-service" "$@" > "$out" 2>&1 &
  DEMO_PID=$!
  DEMO_OUT=$out
  for _ in $(seq 1 400); do
    if grep -q '^listening on ' "$out" 2>/dev/null; then
      DEMO_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out" | head -1)
      return 0
    fi
    kill -0 "$DEMO_PID" 2>/dev/null || { echo "demo-service exited early:" >&2; cat "$out" >&2; return 1; }
    sleep 0.025
  done
  echo "demo-service did not start within 10 s" >&2
  return 1
}

stop_demo() {
  [ -n "${DEMO_PID:-}" ] || return 0
  kill -TERM "$DEMO_PID" 2>/dev/null || true
  wait "$DEMO_PID" 2>/dev/null || true
  DEMO_PID=
  # Children a fault made escape (--orphan, --hold-port) are named on the demo's stdout; the job
  # started them, so it ends them (checking the pid still runs demo-service, not a reused pid).
  local pid
  while read -r pid; do
    if grep -q demo-service "/proc/$pid/cmdline" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done < <(sed -n 's/^fault: .*pid \([0-9][0-9]*\).*/\1/p' "$DEMO_OUT" 2>/dev/null)
}

# Every other background process the job starts (log filters) is added here, so the exit trap
# can end it: nothing the job started outlives it.
bg_pids=()
stop_all_background() {
  stop_demo 2>/dev/null || true
  local pid
  for pid in "${bg_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# scripted_traffic PORT: 50 requests in a fixed order (sessions, chats, actions); prints each
# response body as one JSON line, so two runs can be compared with replay-diff.
scripted_traffic() {
  local port=$1 i sid start
  for i in $(seq 1 10); do
    start=$(http POST "$port" /session/start "{\"user\":\"user$i\"}" "evt-$i-start")
    printf '%s\n' "$start"
    sid=$(printf '%s' "$start" | sed -n 's/.*"session_id":"\([^"]*\)".*/\1/p')
    http POST "$port" /v1/chat "{\"session_id\":\"$sid\",\"message\":\"question $i\"}" "evt-$i-chat1"
    http POST "$port" /v1/action "{\"session_id\":\"$sid\",\"action\":\"lookup\",\"args\":{\"n\":$i}}" "evt-$i-action"
    http POST "$port" /v1/chat "{\"session_id\":\"$sid\",\"message\":\"follow-up $i\"}" "evt-$i-chat2"
    http POST "$port" /session/stop "{\"session_id\":\"$sid\"}" "evt-$i-stop"
  done
}

# soak_targets BASE_URL: soak-load's targets for the demo: chat, tool actions and session churn
# (start, three chats in the session, stop), weighted 3:2:1.
soak_targets() {
  local u=$1
  printf '%s\n' \
    '{"name":"chat","method":"POST","url":"'"$u"'/v1/chat","body":{"message":"hello"},"weight":3}' \
    '{"name":"action","method":"POST","url":"'"$u"'/v1/action","body":{"action":"sum","args":[1,2]},"weight":2}' \
    '{"name":"churn","weight":1,"sequence":[{"name":"start","method":"POST","url":"'"$u"'/session/start","body":{"user":"soak"}},{"name":"chat","method":"POST","url":"'"$u"'/v1/chat","body":{"session_id":"{{steps.start.session_id}}","message":"hi"},"repeat":3},{"name":"stop","method":"POST","url":"'"$u"'/session/stop","body":{"session_id":"{{steps.start.session_id}}"}}]}'
}
