# shellcheck shell=bash disable=SC2034,SC2154 # sourced: shares variables with the scripts that source it
# The job's own record and the verdict table (sourced by release-gates.sh).

# Each gate's outputs in the evidence: GATE TOOL FILE STATUS-KEY (the key of `status`, the exit
# code of the run that wrote FILE). The table prints them in this order.
gate_outputs=(
  "start-stop cycle-check cycle-check.jsonl start-stop"
  "start-stop cycle-check crash-drill.jsonl crash"
  "soak soak-load race-run.jsonl races"
  "soak soak-load soak-load.jsonl soak"
  "privacy pii-scrub pii-filter.jsonl privacy-filter"
  "privacy pii-scrub pii-scrub.jsonl privacy"
  "dependencies sbom-diff sbom-diff.jsonl dependencies"
  "durability backup-drill backup-drill.jsonl durability"
  "determinism replay-diff replay-diff.jsonl determinism"
)

# write_run_record: evidence/release-gates.jsonl: what ran (profile, service, commit), where the
# dependency baseline came from, the quarantine kept outside the bundle, each gate's exit status,
# and a summary whose gates fail when a gate could not run (a tool that exits 2, or writes no
# summary, must not leave the release to pass on the other gates), when the negative controls did
# not run (a gate never seen failing proves nothing: --no-controls is never a release), and when
# the tree the tools were built from and the service judged had uncommitted changes (the bundle is
# bound to the commit, which is then not what was judged). Sets gate_errors.
write_run_record() {
  local commit dirty=false g tool file key code line has errors=0 unchecked=0 checked changes now
  commit=${head_commit:-unknown}
  # The tree as it was before the build and as it is now; HEAD moved meanwhile counts too.
  changes=$changes_at_start
  now=$(uncommitted_changes)
  [ "$now" -le "$changes" ] || changes=$now
  if [ "$commit" != unknown ] && [ "$(git rev-parse HEAD 2> /dev/null)" != "$commit" ]; then
    echo "release-gates: HEAD moved from $commit during the run" >&2
    changes=$((changes + 1))
  fi
  [ "$changes" -eq 0 ] || dirty=true
  local controls_ran=0
  if [ "$controls" = 1 ] && [ "$(summary_field "$(last_summary "$evidence/controls.jsonl")" tool)" = release-gates ]; then
    controls_ran=1
  fi
  local service=demo-service config_json=null
  if [ -n "$config" ]; then
    service=$svc_name
    config_json=$(printf '{"path":%s,"sha256":"%s"}' "$(json_str "$config")" "$(sha256_of "$config")")
  fi
  printf '{"kind":"run","started_at":"%s","gates":%s,"profile":%s,"cycles":%s,"health_duration":%s,"health_interval":%s,"controls":%s,"service":%s,"config":%s,"build":%s,"commit":%s,"dirty":%s,"hardgate_version":%s}\n' \
    "$started_at" "$(json_str "$selected")" "$(json_str "$profile")" "$CYCLES" \
    "$(json_str "$HEALTH_DURATION")" "$(json_str "$HEALTH_INTERVAL")" \
    "$([ "$controls" = 1 ] && echo true || echo false)" "$(json_str "$service")" "$config_json" \
    "$(json_str "$BUILD")" "$(json_str "$commit")" "$dirty" "$(json_str "$hardgate_version")"
  if [ -n "${want[dependencies]:-}" ]; then baseline_record; fi
  if [ -n "${want[privacy]:-}" ] && [ -z "$config" ]; then
    printf '{"kind":"quarantine","path":%s,"in_bundle":false,"lines":%d,"bytes":%d,"sha256":"%s"}\n' \
      "$(json_str "$quarantine")" "$(wc -l < "$quarantine")" \
      "$(wc -c < "$quarantine")" "$(sha256_of "$quarantine")"
  fi
  if [ -n "${want[privacy]:-}" ]; then
    # Every stored log file must have been read by the check.
    checked=$(summary_figure "$(last_summary "$evidence/pii-scrub.jsonl")" files)
    unchecked=$((logs_stored - ${checked:-0}))
    [ "$unchecked" -ge 0 ] || unchecked=0
    printf '{"kind":"logs","dir":%s,"stored_files":%d,"checked_files":%d}\n' \
      "$(json_str "$logs_dir")" "$logs_stored" "${checked:-0}"
  fi
  for g in "${gate_outputs[@]}"; do
    read -r g tool file key <<< "$g"
    [ -n "${want[$g]:-}" ] || continue
    # A configured service has no log filter stage (its logs are judged as they are stored), and
    # the crash drill and race run are the demo's (they need its --audit and confirmations).
    case $key in privacy-filter | crash | races) [ -z "$config" ] || continue ;; esac
    code=${status[$key]:-none}
    line=$(last_summary "$evidence/$file")
    has=false
    [ -n "$line" ] && [ "$(summary_field "$line" tool)" = "$tool" ] && has=true
    if [ "$has" = false ] || { [ "$code" != 0 ] && [ "$code" != 1 ]; }; then
      errors=$((errors + 1))
      echo "release-gates: $g: $tool $file: exit $code, summary $([ "$has" = true ] && echo present || echo MISSING)" >&2
    fi
    printf '{"kind":"gate_output","gate":%s,"tool":%s,"file":%s,"exit":%s,"summary":%s}\n' \
      "$(json_str "$g")" "$(json_str "$tool")" "$(json_str "$file")" \
      "$([ "$code" = none ] && echo null || echo "$code")" "$has"
  done
  gate_errors=$errors
  local gates verdict=pass
  gates=$(printf '{"name":"gate_errors","op":"<=","limit":0.0,"value":%d.0,"pass":%s}' \
    "$errors" "$([ "$errors" -eq 0 ] && echo true || echo false)")
  if [ -n "${want[privacy]:-}" ]; then
    gates+=$(printf ',{"name":"log_files_unchecked","op":"<=","limit":0.0,"value":%d.0,"pass":%s}' \
      "$unchecked" "$([ "$unchecked" -eq 0 ] && echo true || echo false)")
    [ "$unchecked" -eq 0 ] || verdict=fail
  fi
  gates+=$(printf ',{"name":"controls_run","op":">=","limit":1.0,"value":%d.0,"pass":%s}' \
    "$controls_ran" "$([ "$controls_ran" -eq 1 ] && echo true || echo false)")
  gates+=$(printf ',{"name":"uncommitted_changes","op":"<=","limit":0.0,"value":%d.0,"pass":%s}' \
    "$changes" "$([ "$changes" -eq 0 ] && echo true || echo false)")
  [ "$errors" -eq 0 ] && [ "$controls_ran" -eq 1 ] && [ "$changes" -eq 0 ] || verdict=fail
  printf '{"kind":"summary","tool":"release-gates","version":%s,"verdict":"%s","started_at":"%s","finished_at":"%s","inputs":[],"gates":[%s],"figures":{"gates":%s,"gate_errors":%d,"uncommitted_changes":%d}}\n' \
    "$(json_str "$hardgate_version")" "$verdict" "$started_at" "$(now_rfc3339)" "$gates" \
    "$(json_str "$selected")" "$errors" "$changes"
}

# go_no_go_reasons EVIDENCE VERIFY_CODE VERIFY_JSONL: why the sealed bundle is no release, one
# reason a line (nothing: GO). Checked from the verified evidence itself, so a bundle sealed by an
# older job, whose verdict did not yet include the controls and the tree, is judged the same way.
# A sealed fail is never a go here, even when every required role signed an --override (verify
# then passes): the override is a decision to ship a failed release, which this job does not make.
go_no_go_reasons() {
  local ev=$1 vcode=$2 vfile=$3 run ran g tool file key line
  run=$(grep -m1 '^{"kind":"run",' "$ev/release-gates.jsonl" 2> /dev/null || true)
  ran=$(record_str "$run" gates)
  [ "$vcode" -eq 0 ] ||
    echo "the bundle does not verify, or its sealed verdict is fail, or a sign-off is missing (bundle-seal verify exit $vcode: see $vfile)"
  if [ "$vcode" -eq 0 ] && ! grep -q '^{"kind":"summary",.*"release_verdict":"pass"' "$vfile"; then
    echo "the sealed verdict is fail: a signed --override does not make it a release here"
  fi
  [ -n "$run" ] || echo "release-gates.jsonl holds no run record: this is not the main job's bundle"
  [ "$ran" = "${all_gates// /,}" ] || echo "the bundle holds gates '$ran', not every gate (${all_gates// /,})"
  case $run in
    *'"controls":true,'*) ;;
    *) echo "the run skipped its negative controls (--no-controls): a gate never seen failing proves nothing" ;;
  esac
  case $run in
    *'"dirty":false,'*) ;;
    *) echo "the run was made from a tree with uncommitted changes: the bundle's commit is not what was judged" ;;
  esac
  # Every gate's file, with its tool's summary (a gate whose output is gone is not a pass).
  for g in "${gate_outputs[@]}"; do
    read -r g tool file key <<< "$g"
    [[ ,$ran, == *,$g,* ]] || continue
    # A configured service's logs have no filter stage.
    case $key in privacy-filter | crash | races) [[ $run == *'"config":null,'* ]] || continue ;; esac
    line=$(last_summary "$ev/$file")
    [ -n "$line" ] && [ "$(summary_field "$line" tool)" = "$tool" ] ||
      echo "$file ($tool) is missing from the evidence, or holds no $tool summary"
  done
  # Every gate that ran, and the seal, seen failing on its known-bad case.
  if [ -f "$ev/controls.jsonl" ]; then
    line=$(last_summary "$ev/controls.jsonl")
    [ "$(summary_field "$line" tool)" = release-gates ] && [ "$(summary_field "$line" verdict)" = pass ] ||
      echo "controls.jsonl: not every control failed as expected"
    for g in ${ran//,/ } seal; do
      grep -q "^{\"kind\":\"control\",\"gate\":\"$g\",.*\"failed_as_expected\":true" "$ev/controls.jsonl" ||
        echo "no control was seen failing for the $g gate"
    done
  elif [[ $run == *'"controls":true,'* ]]; then
    echo "controls.jsonl is missing from the evidence"
  fi
}

# record_str LINE FIELD: a string field of a one-line record the job wrote (escapes undone for
# quotes and backslashes), or nothing.
record_str() {
  printf '%s\n' "$1" | sed -n "s/.*\"$2\":\"\\(\\([^\"\\\\]\\|\\\\.\\)*\\)\".*/\\1/p" | head -n 1 |
    sed -e 's/\\"/"/g' -e 's/\\\\/\\/g'
}

# print_verdict_table EVIDENCE VERIFY_JSONL VERIFY_CODE PUB: the table from the sealed evidence
# alone (so `--go-no-go` prints the same table from a bundle made earlier): every check of every
# gate, the control seen failing for it, the release verdict and why, the bundle and its key.
print_verdict_table() {
  local ev=$1 vfile=$2 vcode=$3 pub=$4
  local g tool file key line name op limit value pass result last_g='' shown rec code ran label
  local -A c_text=()
  local total=0 failed=0 have_controls=0
  if [ -f "$ev/controls.jsonl" ]; then
    have_controls=1
    while IFS= read -r rec; do
      tool=$(record_str "$rec" target)
      name=$(record_str "$rec" expect)
      value=$(printf '%s' "$rec" | grep -o '"seen":{[^}]*}' | grep -o '"value":[^,}]*' | cut -d: -f2)
      total=$((total + 1))
      case $rec in
        *'"failed_as_expected":true'*)
          failed=$((failed + 1))
          c_text[$tool/$name]="yes: $(num "${value:-?}") with $(record_str "$rec" case)" ;;
        *) c_text[$tool/$name]="NO: $(record_str "$rec" case): $(record_str "$rec" reason)" ;;
      esac
    done < <(grep '^{"kind":"control",' "$ev/controls.jsonl")
  fi
  ran=$(record_str "$(grep -m1 '^{"kind":"run",' "$ev/release-gates.jsonl" 2> /dev/null)" gates)

  local fmt='%-13s %-33s %10s  %-12s %-6s  %s'
  # row COLUMNS...: one table line, without trailing blanks.
  row() {
    local r
    # shellcheck disable=SC2059
    printf -v r "$fmt" "$@"
    printf '%s\n' "${r%"${r##*[! ]}"}"
  }
  printf '\n'
  row GATE CHECK VALUE LIMIT RESULT "CONTROL SEEN FAILING"
  for g in "${gate_outputs[@]}" "job release-gates release-gates.jsonl -"; do
    read -r g tool file key <<< "$g"
    [ "$g" = job ] || [[ ,$ran, == *,$g,* ]] || continue
    line=$(last_summary "$ev/$file")
    if [ -z "$line" ] && [ ! -e "$ev/$file" ]; then continue; fi
    if [ -z "$line" ]; then
      code=$(grep "^{\"kind\":\"gate_output\",.*\"file\":\"$file\"" "$ev/release-gates.jsonl" 2> /dev/null |
        grep -o '"exit":[0-9a-z]*' | cut -d: -f2)
      row "$g" "$tool" - - ERROR "no summary (exit ${code:-?})"
      last_g=$g
      continue
    fi
    while read -r name op limit value pass; do
      [ -n "$name" ] || continue
      result=pass
      [ "$pass" = true ] || result=FAIL
      shown=$g
      [ "$g" != "$last_g" ] || shown=''
      label=$tool
      # pii-scrub judges twice: the filter's quarantine, then the stored logs.
      # So do cycle-check (the cycles, then the crash drill) and soak-load (the race run, then the soak).
      case $file in
        pii-filter.jsonl) label="pii-scrub filter" ;;
        pii-scrub.jsonl) label="pii-scrub check" ;;
        crash-drill.jsonl) label="cycle-check crash" ;;
        race-run.jsonl) label="soak-load race" ;;
      esac
      row "$shown" "$label $name" "$(num "$value")" "$op $(num "$limit")" "$result" \
        "${c_text[$file/$name]:-}"
      last_g=$g
    done < <(summary_gates "$line")
  done
  # The seal: this bundle verified (signature, every file); its control is a tampered copy.
  shown=seal
  while read -r name op limit value pass; do
    case $name in mismatched_files | signature_valid) ;; *) continue ;; esac
    row "$shown" "bundle-seal $name" "$(num "$value")" "$op $(num "$limit")" \
      "$([ "$pass" = true ] && echo pass || echo FAIL)" "${c_text[verify/$name]:-}"
    shown=''
  done < <(summary_gates "$(last_summary "$vfile")")

  printf '\n'
  # PASS only for a pass verdict: verify also exits 0 for a failed one every signer overrode.
  local overridden=0
  if [ "$vcode" -eq 0 ] && grep -q '"release_verdict":"fail"' "$vfile"; then overridden=1; fi
  if [ "$vcode" -eq 0 ] && [ "$overridden" = 0 ]; then
    printf 'release verdict: PASS'
  elif [ "$overridden" = 1 ]; then
    printf 'release verdict: FAIL, overridden by the sign-off'
  else
    printf 'release verdict: FAIL'
  fi
  if [ "$have_controls" = 1 ]; then
    printf '   (%d of %d controls failed as expected)\n' "$failed" "$total"
  else
    printf '   (controls not run)\n'
  fi
  if [ "$vcode" -ne 0 ] || [ "$overridden" = 1 ]; then
    # Why: the manifest's sealed verdict_reasons, or why verification failed.
    if grep -q '"release_verdict":"fail"' "$vfile"; then
      sed -n '/^  "verdict_reasons": \[/,/^  \]/p' "$ev/MANIFEST.json" |
        sed -n 's/^    "\(.*\)",\{0,1\}$/  - \1/p'
    fi
    # A bundle bound to another release or commit (an old bundle copied into place).
    while IFS= read -r rec; do
      echo "  - $(record_str "$rec" reason)"
    done < <(grep '^{"kind":"binding",.*"status":"mismatch"' "$vfile" || true)
    if ! grep -q '"release_verdict":"fail"' "$vfile" && ! grep -q '^{"kind":"binding",.*"status":"mismatch"' "$vfile"; then
      echo "  - the bundle does not verify (bundle-seal verify exit $vcode): see $vfile"
    fi
  fi
  # Paths as the caller can type them (relative to where the job was started, when inside it).
  local key_b64
  key_b64=$(sed -n 2p "$pub")
  ev=${ev#"$caller"/}
  pub=${pub#"$caller"/}
  printf 'bundle:     %s\n' "$ev"
  printf 'public key: %s (%s)\n' "$key_b64" "$pub"
  printf 'check it:   bundle-seal verify %s --pub %s%s\n' "$ev" "$pub" "${release:+ --release $release}"
}
