# shellcheck shell=bash disable=SC2034,SC2154 # sourced: shares variables with the scripts that source it
# The crash drill and the race run against the demo service, and their negative controls (issue
# 15). Sourced after scripts/lib/demo.sh (free_port, start_demo, stop_demo); the controls also
# need scripts/lib/controls.sh (ctl_run, judge_control) and release-gates.sh's say/die. $BIN is
# the directory of the built tools. Every wait is bounded; nothing started here outlives it.
#
#   crash_drill WORKDIR CYCLES [DEMO FLAGS...] > cycle-check.jsonl
#     cycle-check kills the demo with SIGKILL 2 s into session-churn load (soak-load, 4 users,
#     turns of 50 ms: turns are always in flight), restarts it, and runs its --audit on the
#     database. Gates: audit_findings <= 0, recovery_ms_max <= 2m (and cycle-check's own).
#   race_run WORKDIR ACTORS OPS [DEMO FLAGS...] > soak-load.jsonl
#     soak-load --actors --ops over the race sequence (a session, a chat, a confirmation decided
#     approve and deny at once, the stop), every acknowledged write read back (--verify); the
#     decided action takes 5 ms. Gates: error_rate <= 0 (a refused second decision is a 409
#     the targets accept), lost/changed/unverified writes <= 0.
#   control_crash, control_races: the same with demo-service --no-transactions (must fail
#     audit_findings) and --unguarded-decisions (must fail changed_writes).

# drill_targets BASE_URL: sessions of three chats (start, chat x3, stop).
drill_targets() {
  local u=$1
  printf '%s\n' \
    '{"name":"turns","sequence":[{"name":"start","method":"POST","url":"'"$u"'/session/start","body":{"user":"drill"}},{"name":"chat","method":"POST","url":"'"$u"'/v1/chat","body":{"session_id":"{{steps.start.session_id}}","message":"hi"},"repeat":3},{"name":"stop","method":"POST","url":"'"$u"'/session/stop","body":{"session_id":"{{steps.start.session_id}}"}}]}'
}

# race_targets BASE_URL: the race sequence with its verify steps.
race_targets() {
  local u=$1
  printf '%s' '{"name":"race","sequence":['
  printf '%s' '{"name":"start","method":"POST","url":"'"$u"'/session/start","body":{"user":"racer"}},'
  printf '%s' '{"name":"chat","method":"POST","url":"'"$u"'/v1/chat","body":{"session_id":"{{steps.start.session_id}}","message":"hi"}},'
  printf '%s' '{"name":"ask","method":"POST","url":"'"$u"'/confirmation/request","body":{"session_id":"{{steps.start.session_id}}","action":"delete_file"}},'
  printf '%s' '{"name":"approve","method":"POST","url":"'"$u"'/confirmation/decide","body":{"confirmation_id":"{{steps.ask.confirmation_id}}","decision":"approve"},"accept":[409]},'
  printf '%s' '{"name":"deny","parallel":true,"method":"POST","url":"'"$u"'/confirmation/decide","body":{"confirmation_id":"{{steps.ask.confirmation_id}}","decision":"deny"},"accept":[409]},'
  printf '%s' '{"name":"stop","method":"POST","url":"'"$u"'/session/stop","body":{"session_id":"{{steps.start.session_id}}"}},'
  printf '%s' '{"name":"check_chat","verify":"chat","url":"'"$u"'/memory/{{steps.chat.memory_id}}","expect":{"message":"hi","reply":"{{steps.chat.reply}}","session_id":"{{steps.start.session_id}}"}},'
  printf '%s' '{"name":"check_approve","verify":"approve","url":"'"$u"'/confirmation/{{steps.ask.confirmation_id}}","expect":{"status":"approved","decisions":1}},'
  printf '%s\n' '{"name":"check_deny","verify":"deny","url":"'"$u"'/confirmation/{{steps.ask.confirmation_id}}","expect":{"status":"denied","decisions":1}}]}'
}

crash_drill() {
  local dir=$1 cycles=$2 port q_load q_demo q_targets q_db
  shift 2
  mkdir -p "$dir"
  rm -f "$dir/drill.db" "$dir/drill.db-wal" "$dir/drill.db-shm"
  port=$(free_port)
  drill_targets "http://127.0.0.1:$port" > "$dir/targets.jsonl"
  # The workload and the audit are shell commands for cycle-check: quote every path in them.
  q_load=$(printf '%q' "$BIN/soak-load")
  q_demo=$(printf '%q' "$BIN/demo-service")
  q_targets=$(printf '%q' "$dir/targets.jsonl")
  q_db=$(printf '%q' "$dir/drill.db")
  "$BIN/cycle-check" --cycles "$cycles" --ready "http://127.0.0.1:$port/v1/health" \
    --workload "$q_load run --targets $q_targets --connections 4 --duration 10m --quiet > /dev/null" \
    --kill-after 2s --max-recovery 2m --audit "$q_demo --audit --db $q_db" \
    --service-log "$dir/service.log" \
    -- "$BIN/demo-service" --listen "127.0.0.1:$port" --db "$dir/drill.db" --turn-time 50ms "$@"
}

race_run() {
  local dir=$1 actors=$2 ops=$3 code=0
  shift 3
  mkdir -p "$dir"
  rm -f "$dir/race.db" "$dir/race.db-wal" "$dir/race.db-shm"
  start_demo "$dir/demo.out" --listen 127.0.0.1:0 --db "$dir/race.db" --action-time 5ms "$@" ||
    { echo "the demo service did not start (see $dir/demo.out)" >&2; return 2; }
  race_targets "http://127.0.0.1:$DEMO_PORT" > "$dir/targets.jsonl"
  "$BIN/soak-load" run --targets "$dir/targets.jsonl" --actors "$actors" --ops "$ops" --verify \
    --max-error-rate 0 --window 5s --quiet || code=$?
  stop_demo
  return "$code"
}

control_crash() {
  say "control: crash (demo-service --no-transactions: a kill mid-turn leaves half-written turns)"
  ctl_run crash_drill "$cwork/crash" 1 --no-transactions > "$controls_dir/cycle-check-crash.jsonl"
  judge_control start-stop cycle-check audit_findings "demo-service --no-transactions" \
    cycle-check-crash.jsonl "$ctl_code" crash-drill.jsonl
}

control_races() {
  say "control: races (demo-service --unguarded-decisions: two decisions at once can both win)"
  ctl_run race_run "$cwork/race" 20 10 --unguarded-decisions > "$controls_dir/soak-load-race.jsonl"
  judge_control soak soak-load changed_writes "demo-service --unguarded-decisions" \
    soak-load-race.jsonl "$ctl_code" race-run.jsonl
}
