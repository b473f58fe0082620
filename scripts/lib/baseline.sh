# shellcheck shell=bash disable=SC2034,SC2154 # sourced: shares variables with the scripts that source it
# The dependency baseline: the last release's lockfile and the record of where it came from
# (testdata/release-baseline/BASELINE, written by scripts/release-baseline.sh). A baseline whose
# bytes do not match its record is refused: a gate against an unknown baseline proves nothing.

# load_baseline DIR: checks DIR/BASELINE against DIR/Cargo.lock and sets baseline_release,
# baseline_commit, baseline_date, baseline_path, baseline_sha256 and baseline_checked ("git"
# when the commit is in this clone's history and holds exactly these bytes, else "sha256").
load_baseline() {
  local dir=$1 file=$1/BASELINE actual from_git k
  read_kv "$file" release commit commit_date path sha256 || exit 2
  for k in release commit commit_date path sha256; do
    [ -n "${kv[$k]:-}" ] || die "$file: '$k' is missing (scripts/release-baseline.sh writes it)"
  done
  baseline_release=${kv[release]}
  baseline_commit=${kv[commit]}
  baseline_date=${kv[commit_date]}
  baseline_path=${kv[path]}
  baseline_sha256=${kv[sha256]}
  [ -f "$dir/Cargo.lock" ] || die "$dir/Cargo.lock: no such file"
  actual=$(sha256_of "$dir/Cargo.lock")
  [ "$actual" = "$baseline_sha256" ] ||
    die "$file:${kv_line[sha256]}: $dir/Cargo.lock has sha256 $actual, not the recorded $baseline_sha256 (the baseline was edited; cut it again with scripts/release-baseline.sh)"
  baseline_checked=sha256
  if git rev-parse --git-dir > /dev/null 2>&1 && git cat-file -e "$baseline_commit^{commit}" 2> /dev/null; then
    from_git=$(git show "$baseline_commit:$baseline_path" 2> /dev/null | sha256sum | cut -d' ' -f1)
    [ "$from_git" = "$baseline_sha256" ] ||
      die "$file: commit $baseline_commit's $baseline_path has sha256 $from_git, not the recorded $baseline_sha256"
    baseline_checked=git
  fi
}

# baseline_record: the baseline's provenance as one JSON record.
baseline_record() {
  printf '{"kind":"baseline","file":%s,"release":%s,"commit":%s,"commit_date":%s,"path":%s,"sha256":%s,"checked":%s,"allow":%s,"allow_rules":%s}\n' \
    "$(json_str "dependencies/baseline.Cargo.lock")" "$(json_str "$baseline_release")" \
    "$(json_str "$baseline_commit")" "$(json_str "$baseline_date")" "$(json_str "$baseline_path")" \
    "$(json_str "$baseline_sha256")" "$(json_str "$baseline_checked")" \
    "$(json_str "dependencies/allow.txt")" \
    "$(grep -cv '^[[:space:]]*\(#\|$\)' "$BASELINE_DIR/allow.txt" || true)"
}
