# shellcheck shell=bash disable=SC2034,SC2154 # sourced: shares variables with the scripts that source it
# The service under test: the bundled demo (default) or a real service described by a config file
# (--config FILE; see README "Judging a real service"). The gates call these functions, so each
# gate reads the same for both.

# The config file's keys (documented in the README and in testdata/hardgate.conf.example).
config_keys=(name start replay_start ready health stop_signal logs data sqlite traffic replay_ignore soak_targets)

# load_config FILE: reads and checks the config; sets svc_* for a real service.
load_config() {
  local file=$1 k
  read_kv "$file" "${config_keys[@]}" || exit 2
  for k in name start ready logs traffic; do
    [ -n "${kv[$k]:-}" ] || die "$file: '$k' is required (see the README: Judging a real service)"
  done
  svc_name=${kv[name]}
  svc_start=${kv[start]}
  svc_replay_start=${kv[replay_start]:-${kv[start]}}
  svc_ready=${kv[ready]}
  svc_health=${kv[health]:-${kv[ready]}}
  svc_stop_signal=${kv[stop_signal]:-TERM}
  svc_logs=${kv[logs]}
  svc_data=${kv[data]:-}
  svc_sqlite=${kv[sqlite]:-}
  svc_traffic=${kv[traffic]}
  svc_replay_ignore=${kv[replay_ignore]:-}
  svc_soak_targets=${kv[soak_targets]:-}
  # Relative paths in the config are relative to the config file's directory.
  config_dir=$(cd "$(dirname "$file")" && pwd)
  local p list
  svc_logs=$(config_path "$svc_logs")
  list=''
  for p in $svc_data; do list+="${list:+ }$(config_path "$p")"; done
  svc_data=$list
  list=''
  for p in $svc_sqlite; do list+="${list:+ }$(config_path "$p")"; done
  svc_sqlite=$list
  [ -z "$svc_soak_targets" ] || svc_soak_targets=$(config_path "$svc_soak_targets")
  case $svc_ready in
    http://127.0.0.1:* | http://localhost:*) ;;
    *) die "$file:${kv_line[ready]}: ready must be http://127.0.0.1:PORT/PATH (the job probes it from bash)" ;;
  esac
  # The paths may not exist before the service's first start (it creates its database and
  # logs); backup-drill and pii-scrub name any that is still missing when they run.
  [ -n "$svc_data$svc_sqlite" ] || die "$file: set 'data' or 'sqlite' (what the durability gate backs up)"
  if [ -n "${want[soak]:-}" ] && [ -z "$svc_soak_targets" ]; then
    die "$file: set 'soak_targets' (soak-load's targets file) or leave the soak gate out (--only)"
  fi
}

# config_path PATH: PATH, relative to the config file's directory unless absolute.
config_path() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$config_dir" "$1" ;; esac; }

# http_status URL: the HTTP status code of GET URL (127.0.0.1 only), or nothing.
http_status() {
  local rest=${1#http://} hostport path port line
  hostport=${rest%%/*}
  path=/${rest#*/}
  [ "$rest" != "$hostport" ] || path=/
  port=${hostport##*:}
  exec 3<> "/dev/tcp/127.0.0.1/$port" 2> /dev/null || return 0
  printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$hostport" >&3
  IFS= read -r line <&3 || true
  exec 3<&-
  line=${line#HTTP/* }
  printf '%s\n' "${line%% *}"
}

# real_start OUTFILE [COMMAND]: starts the configured service (COMMAND, default `start`) in its
# own session and waits (bounded, 30 s) for its ready URL to answer 2xx/3xx. The command sees
# HARDGATE_STATE, a new empty directory for each start. Sets REAL_PID.
real_start() {
  local out=$1 cmd=${2:-$svc_start} code state rest port
  # Nothing may answer where the service will listen before it starts: the traffic would go to
  # that process and every gate would judge a stranger (seen: another nginx on the example's
  # port; ours failed to bind and the other one answered).
  rest=${svc_ready#http://}
  rest=${rest%%/*}
  port=${rest##*:}
  if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
    echo "release-gates: error: 127.0.0.1:$port already answers before $svc_name is started (another instance?); stop it first" >&2
    return 1
  fi
  state=$(mktemp -d "$work/state.XXXXXX")
  (cd "$config_dir" && HARDGATE_STATE=$state exec setsid sh -c "exec $cmd") > "$out" 2>&1 &
  REAL_PID=$!
  for _ in $(seq 1 600); do
    code=$(http_status "$svc_ready")
    case $code in 2?? | 3??) kill -0 "$REAL_PID" 2> /dev/null && return 0 ;; esac
    kill -0 "$REAL_PID" 2> /dev/null || { echo "$svc_name exited early:" >&2; cat "$out" >&2; return 1; }
    sleep 0.05
  done
  echo "$svc_name was not ready at $svc_ready within 30 s" >&2
  return 1
}

# real_stop: the stop signal to the service's session, then waits for it.
real_stop() {
  [ -n "${REAL_PID:-}" ] || return 0
  kill -s "$svc_stop_signal" -- "-$REAL_PID" 2> /dev/null || kill -s "$svc_stop_signal" "$REAL_PID" 2> /dev/null || true
  wait "$REAL_PID" 2> /dev/null || true
  REAL_PID=
}

# real_traffic: runs the configured traffic command; it prints one JSON line per response.
real_traffic() {
  local rest=${svc_ready#http://}
  (cd "$config_dir" && HARDGATE_URL=http://${rest%%/*} sh -c "$svc_traffic")
}
