# shellcheck shell=bash disable=SC2034,SC2154 # sourced: shares variables with the scripts that source it
# The job's own record and the verdict table (sourced by release-gates.sh).

# Each gate's outputs in the evidence: GATE TOOL FILE STATUS-KEY (the key of `status`, the exit
# code of the run that wrote FILE). The table prints them in this order.
gate_outputs=(
  "start-stop cycle-check cycle-check.jsonl start-stop"
  "privacy pii-scrub pii-filter.jsonl privacy-filter"
  "privacy pii-scrub pii-scrub.jsonl privacy"
  "dependencies sbom-diff sbom-diff.jsonl dependencies"
  "durability backup-drill backup-drill.jsonl durability"
  "determinism replay-diff replay-diff.jsonl determinism"
)

# write_run_record: evidence/release-gates.jsonl: what ran (profile, service, commit), where the
# dependency baseline came from, the quarantine kept outside the bundle, each gate's exit status,
# and a summary whose gates fail when a gate could not run: a tool that exits 2, or writes no
# summary, must not leave the release to pass on the other gates. Sets gate_errors.
write_run_record() {
  local commit dirty=false g tool file key code line has errors=0 unchecked=0 checked
  commit=$(git rev-parse HEAD 2> /dev/null || echo unknown)
  if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2> /dev/null)" ]; then
    dirty=true
  fi
  printf '{"kind":"run","started_at":"%s","gates":%s,"controls":%s,"service":%s,"build":%s,"commit":%s,"dirty":%s,"hardgate_version":%s}\n' \
    "$started_at" "$(json_str "$selected")" "$([ "$controls" = 1 ] && echo true || echo false)" \
    "$(json_str "demo-service (testdata/demo-service)")" "$(json_str "$BUILD")" \
    "$(json_str "$commit")" "$dirty" "$(json_str "$hardgate_version")"
  if [ -n "${want[dependencies]:-}" ]; then baseline_record; fi
  if [ -n "${want[privacy]:-}" ]; then
    printf '{"kind":"quarantine","path":%s,"in_bundle":false,"lines":%d,"bytes":%d,"sha256":"%s"}\n' \
      "$(json_str "$quarantine")" "$(wc -l < "$quarantine")" \
      "$(wc -c < "$quarantine")" "$(sha256_of "$quarantine")"
    # Every stored log file must have been read by the check.
    checked=$(summary_figure "$(last_summary "$evidence/pii-scrub.jsonl")" files)
    unchecked=$((logs_stored - ${checked:-0}))
    [ "$unchecked" -ge 0 ] || unchecked=0
    printf '{"kind":"logs","dir":%s,"stored_files":%d,"checked_files":%d}\n' \
      "$(json_str "logs")" "$logs_stored" "${checked:-0}"
  fi
  for g in "${gate_outputs[@]}"; do
    read -r g tool file key <<< "$g"
    [ -n "${want[$g]:-}" ] || continue
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
  [ "$errors" -eq 0 ] || verdict=fail
  printf '{"kind":"summary","tool":"release-gates","version":%s,"verdict":"%s","started_at":"%s","finished_at":"%s","inputs":[],"gates":[%s],"figures":{"gates":%s,"gate_errors":%d}}\n' \
    "$(json_str "$hardgate_version")" "$verdict" "$started_at" "$(now_rfc3339)" "$gates" \
    "$(json_str "$selected")" "$errors"
}

# print_verdict_table: every check of every gate as sealed, the control seen failing for it, the
# release verdict, the bundle and its public key (on stdout: it is the job's result).
print_verdict_table() {
  local g tool file key line name op limit value pass result ctl last_g='' shown
  local fmt='%-13s %-33s %10s  %-12s %-6s  %s\n'
  printf '\n'
  # shellcheck disable=SC2059
  printf "$fmt" GATE CHECK VALUE LIMIT RESULT "CONTROL SEEN FAILING"
  for g in "${gate_outputs[@]}" "job release-gates release-gates.jsonl -"; do
    read -r g tool file key <<< "$g"
    [ "$g" = job ] || [ -n "${want[$g]:-}" ] || continue
    line=$(last_summary "$evidence/$file")
    if [ -z "$line" ]; then
      # shellcheck disable=SC2059
      printf "$fmt" "$g" "$tool" - - ERROR "no summary (exit ${status[$key]:-?})"
      last_g=$g
      continue
    fi
    while read -r name op limit value pass; do
      [ -n "$name" ] || continue
      result=pass
      [ "$pass" = true ] || result=FAIL
      ctl=''
      if [ "$controls" = 1 ] && [ -n "${ctl_ok[$tool/$name]:-}" ]; then
        if [ "${ctl_ok[$tool/$name]}" = true ]; then
          ctl="yes: ${ctl_seen[$tool/$name]} with ${ctl_case[$tool/$name]}"
        else
          ctl="NO: ${ctl_case[$tool/$name]}: ${ctl_seen[$tool/$name]}"
        fi
      fi
      shown=$g
      [ "$g" != "$last_g" ] || shown=''
      # shellcheck disable=SC2059
      printf "$fmt" "$shown" "$tool $name" "$(num "$value")" "$op $(num "$limit")" "$result" "$ctl"
      last_g=$g
    done < <(summary_gates "$line")
  done
  # The seal: this bundle verified (signature, every file); its control is a tampered copy.
  line=$(last_summary "$OUT/verify.jsonl")
  shown=seal
  while read -r name op limit value pass; do
    case $name in mismatched_files | signature_valid) ;; *) continue ;; esac
    ctl=''
    if [ "$name" = mismatched_files ] && [ -n "${ctl_ok[bundle-seal/mismatched_files]:-}" ]; then
      if [ "${ctl_ok[bundle-seal/mismatched_files]}" = true ]; then
        ctl="yes: ${ctl_seen[bundle-seal/mismatched_files]} with ${ctl_case[bundle-seal/mismatched_files]}"
      else
        ctl="NO: ${ctl_case[bundle-seal/mismatched_files]}: ${ctl_seen[bundle-seal/mismatched_files]}"
      fi
    fi
    # shellcheck disable=SC2059
    printf "$fmt" "$shown" "bundle-seal $name" "$(num "$value")" "$op $(num "$limit")" \
      "$([ "$pass" = true ] && echo pass || echo FAIL)" "$ctl"
    shown=''
  done < <(summary_gates "$line")

  local total=0 failed=0 k
  for k in "${!ctl_ok[@]}"; do
    total=$((total + 1))
    [ "${ctl_ok[$k]}" = true ] && failed=$((failed + 1))
  done
  printf '\n'
  local verdict
  verdict=$(grep -o '"release_verdict":"[a-z]*"' "$OUT/verify.jsonl" | head -n 1 | cut -d'"' -f4)
  if [ "$verify_code" -eq 0 ]; then
    printf 'release verdict: PASS'
  else
    printf 'release verdict: FAIL'
  fi
  if [ "$controls" = 1 ]; then
    printf '   (%d of %d controls failed as expected)\n' "$failed" "$total"
  else
    printf '   (controls not run: --no-controls)\n'
  fi
  if [ "$verify_code" -ne 0 ]; then
    # Why, as sealed (the manifest's verdict_reasons), or why verification failed.
    if [ "$verdict" = fail ]; then
      sed -n '/^  "verdict_reasons": \[/,/^  \]/p' "$evidence/MANIFEST.json" |
        sed -n 's/^    "\(.*\)",\{0,1\}$/  - \1/p'
    else
      echo "  - bundle-seal verify failed (exit $verify_code): see $OUT/verify.jsonl"
    fi
  fi
  printf 'bundle:     %s\n' "$evidence"
  printf 'public key: %s (%s)\n' "$(sed -n 2p "$PUB")" "$PUB"
  printf 'check it:   bundle-seal verify %s --pub %s --require-pass\n' "$evidence" "$PUB"
}
