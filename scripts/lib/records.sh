# shellcheck shell=bash disable=SC2034,SC2154 # sourced: shares variables with the scripts that source it
# Reading and writing hardgate's JSON Lines records from bash alone (sourced by
# release-gates.sh and e2e.sh). Every tool writes its summary as one line with "kind" first and
# gates as {"name","op","limit","value","pass"} in that order (common/src/summary.rs), which is
# what the patterns below rely on. A record these patterns cannot read counts as "no summary" and
# fails the gate that needed it: the pipeline fails closed, never open.

# json_str STRING: STRING as a JSON string literal.
json_str() {
  local s=$1 out='' c i
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  if [[ $s == *[$'\x01'-$'\x1f']* ]]; then
    for ((i = 0; i < ${#s}; i++)); do
      c=${s:i:1}
      if [[ $c == [$'\x01'-$'\x1f'] ]]; then
        printf -v c '\\u%04x' "'$c"
      fi
      out+=$c
    done
    s=$out
  fi
  printf '"%s"' "$s"
}

# uncommitted_changes: how many tracked files differ from HEAD (staged or not), 0 outside a git
# work tree. --no-optional-locks: a status must not write the index under another git command.
uncommitted_changes() {
  { git --no-optional-locks status --porcelain --untracked-files=no 2> /dev/null || true; } | wc -l
}

# now_rfc3339: the current UTC time as the tools write it (milliseconds, Z).
now_rfc3339() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

# sha256_of FILE: the file's sha256 in hex.
sha256_of() { sha256sum < "$1" | cut -d' ' -f1; }

# last_summary FILE: the last summary record of FILE (a tool's stdout or report), or nothing.
last_summary() {
  [ -f "$1" ] || return 0
  grep '^{"kind":"summary",' "$1" | tail -n 1 || true
}

# summary_field LINE FIELD: a top-level string field of a summary line ("tool", "verdict"); the
# first occurrence is the top-level one, as these come before inputs, gates and figures.
summary_field() {
  printf '%s\n' "$1" | grep -o "\"$2\":\"[^\"]*\"" | head -n 1 | cut -d'"' -f4
}

# summary_figure LINE NAME: a number in the summary's figures (first match), or nothing.
summary_figure() {
  printf '%s\n' "$1" | grep -o "\"figures\":{.*" | grep -o "\"$2\":[-0-9.eE+]*" | head -n 1 | cut -d: -f2
}

# summary_gates LINE: one line per gate of the summary: NAME OP LIMIT VALUE PASS.
summary_gates() {
  printf '%s\n' "$1" | grep -o '"gates":\[[^]]*\]' | head -n 1 |
    grep -o '{"name":"[^"]*","op":"[^"]*","limit":[^,}]*,"value":[^,}]*,"pass":[a-z]*}' |
    sed 's/^{"name":"\([^"]*\)","op":"\([^"]*\)","limit":\([^,}]*\),"value":\([^,}]*\),"pass":\([a-z]*\)}$/\1 \2 \3 \4 \5/' ||
    true
}

# summary_gate LINE NAME: that gate's "NAME OP LIMIT VALUE PASS" line, or nothing.
summary_gate() {
  local name rest
  while read -r name rest; do
    if [ "$name" = "$2" ]; then
      printf '%s %s\n' "$name" "$rest"
      return 0
    fi
  done < <(summary_gates "$1")
}

# num NUMBER: a number as people read it: 0.0 -> 0, 480000.0 -> 480000, 0.0018226002 -> 0.001823
# (four significant digits for fractions); anything that is not a number is printed as it is.
num() {
  awk -v x="$1" 'BEGIN {
    if (x !~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) { printf "%s", x; exit }
    if (x == int(x)) { printf "%d", x; exit }
    s = sprintf("%.4g", x)
    if (s ~ /e/) { s = sprintf("%.6f", x); sub(/0+$/, "", s) }
    printf "%s", s }'
}

# read_kv FILE KEYS...: reads a small "key = value" file ('#' comments, blank lines) into the
# associative array `kv` (and `kv_line`: where each key was set). A key not in KEYS, a line
# without '=' or a key given twice stops the job with FILE:LINE, like the tools' errors. Values are
# taken literally, never evaluated.
declare -A kv=() kv_line=()
read_kv() {
  local file=$1 n=0 line key value k known
  shift
  kv=()
  kv_line=()
  [ -f "$file" ] || { echo "release-gates: error: $file: no such file" >&2; return 2; }
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    if ! [[ $line =~ ^[[:space:]]*([a-z][a-z0-9_]*)[[:space:]]*=[[:space:]]*(.*[^[:space:]])?[[:space:]]*$ ]]; then
      echo "release-gates: error: $file:$n: expected 'key = value', found '$line'" >&2
      return 2
    fi
    key=${BASH_REMATCH[1]}
    value=${BASH_REMATCH[2]}
    known=0
    for k in "$@"; do [ "$k" = "$key" ] && known=1; done
    if [ "$known" = 0 ]; then
      echo "release-gates: error: $file:$n: unknown key '$key' (known: $*)" >&2
      return 2
    fi
    if [ -n "${kv_line[$key]:-}" ]; then
      echo "release-gates: error: $file:$n: '$key' was already set on line ${kv_line[$key]}" >&2
      return 2
    fi
    kv[$key]=$value
    kv_line[$key]=$n
  done < "$file"
}
